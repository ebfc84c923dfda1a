/* util.c: bounded parsing helpers (see util.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

size_t hr_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n > 0) {
		size_t c = len < n - 1 ? len : n - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return len;
}

int hr_path(char *dst, size_t n, const char *root, const char *path, struct hr_err *err)
{
	size_t rl;

	if (root == NULL || root[0] == '\0' || strcmp(root, "/") == 0)
		root = "";
	rl = strlen(root);
	/* "ROOT/" + "/proc" would give a double slash; harmless, but tidy it. */
	if (rl > 0 && root[rl - 1] == '/' && path[0] == '/')
		rl--;
	if (rl + strlen(path) + 1 > n)
		return hr_err_set(err, "path too long: %s%s", root, path);
	memcpy(dst, root, rl);
	strcpy(dst + rl, path); /* length checked above */
	return 0;
}

int hr_read_file(const char *root, const char *path, char **out, size_t *len,
		 size_t cap, struct hr_err *err)
{
	char full[4096];
	char *buf = NULL;
	size_t used = 0, size = 0;
	int fd = -1, rc = -1;

	if (hr_path(full, sizeof(full), root, path, err) < 0)
		return -1;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hr_err_errno(err, errno, "%s", full);
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (used + 1 >= size) {
			size_t nsize = size ? size * 2 : 4096;
			char *n;

			if (nsize > cap + 1)
				nsize = cap + 1;
			if (used + 1 >= nsize) {
				hr_err_set(err, "%s: larger than %zu bytes", full, cap);
				goto out;
			}
			n = realloc(buf, nsize);
			if (n == NULL) {
				hr_err_errno(err, ENOMEM, "%s", full);
				goto out;
			}
			buf = n;
			size = nsize;
		}
		r = read(fd, buf + used, size - used - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			hr_err_errno(err, errno, "%s: read", full);
			goto out;
		}
		if (r == 0)
			break;
		used += (size_t)r;
	}
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL) {
			hr_err_errno(err, ENOMEM, "%s", full);
			goto out;
		}
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int hr_read_attr(const char *root, const char *path, char *buf, size_t n, struct hr_err *err)
{
	char full[4096];
	size_t used = 0;
	int fd;

	if (hr_path(full, sizeof(full), root, path, err) < 0)
		return -1;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hr_err_errno(err, errno, "%s", full);
	for (;;) {
		ssize_t r = read(fd, buf + used, n - used - 1);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return hr_err_errno(err, e, "%s: read", full);
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (used + 1 >= n) {
			char c;
			/* Full buffer: it fits only if nothing follows. */
			if (read(fd, &c, 1) > 0) {
				close(fd);
				return hr_err_set(err, "%s: longer than %zu bytes", full, n - 1);
			}
			break;
		}
	}
	close(fd);
	buf[used] = '\0';
	while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' ' ||
			    buf[used - 1] == '\t' || buf[used - 1] == '\r'))
		buf[--used] = '\0';
	return 0;
}

int hr_read_netattr(const char *root, const char *dir, const char *attr, char *buf, size_t n,
		    struct hr_err *err)
{
	char rel[512];

	if ((size_t)snprintf(rel, sizeof(rel), "/sys/class/net/%s/%s", dir, attr) >= sizeof(rel))
		return hr_err_set(err, "/sys/class/net/%s/%s: path too long", dir, attr);
	return hr_read_attr(root, rel, buf, n, err);
}

void hr_lines_init(struct hr_lines *it, const char *buf, size_t len)
{
	it->p = buf;
	it->end = buf + len;
	it->lineno = 0;
}

int hr_lines_next(struct hr_lines *it, const char **line, size_t *len)
{
	const char *nl;

	if (it->p >= it->end)
		return 0;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	*line = it->p;
	if (nl == NULL) {
		*len = (size_t)(it->end - it->p);
		it->p = it->end;
	} else {
		*len = (size_t)(nl - it->p);
		it->p = nl + 1;
	}
	it->lineno++;
	return 1;
}

void hr_fields_init(struct hr_fields *it, const char *s, size_t len)
{
	it->p = s;
	it->end = s + len;
}

int hr_fields_next(struct hr_fields *it, const char **f, size_t *flen)
{
	const char *p = it->p;

	while (p < it->end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= it->end) {
		it->p = p;
		return 0;
	}
	*f = p;
	while (p < it->end && *p != ' ' && *p != '\t')
		p++;
	*flen = (size_t)(p - *f);
	it->p = p;
	return 1;
}

/* Copies a field into a NUL-terminated scratch buffer for strto*(). */
static int field_copy(char *dst, size_t n, const char *s, size_t len)
{
	if (len == 0 || len >= n || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int hr_parse_u64(const char *s, size_t len, uint64_t *out)
{
	char tmp[32], *end;
	unsigned long long v;

	if (field_copy(tmp, sizeof(tmp), s, len) < 0 || tmp[0] < '0' || tmp[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(tmp, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int hr_parse_i64(const char *s, size_t len, int64_t *out)
{
	char tmp[32], *end;
	long long v;

	if (field_copy(tmp, sizeof(tmp), s, len) < 0)
		return -1;
	if (!((tmp[0] >= '0' && tmp[0] <= '9') || tmp[0] == '-'))
		return -1;
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0' || end == tmp)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int hr_parse_double(const char *s, size_t len, double *out)
{
	char tmp[64], *end;
	double v;

	if (field_copy(tmp, sizeof(tmp), s, len) < 0)
		return -1;
	/* strtod would also take "nan", "inf" and hex floats: outside input
	 * never means those. */
	if (!((tmp[0] >= '0' && tmp[0] <= '9') || tmp[0] == '-' || tmp[0] == '+' || tmp[0] == '.'))
		return -1;
	if (strpbrk(tmp, "xXnNiI") != NULL)
		return -1;
	errno = 0;
	v = strtod(tmp, &end);
	if (errno == ERANGE || *end != '\0' || end == tmp || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int hr_field_eq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

void hr_printable(char *dst, size_t n, const char *s, size_t len)
{
	size_t i;

	if (len > n - 1)
		len = n - 1;
	for (i = 0; i < len; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[len] = '\0';
}

void hr_hex(char *dst, const unsigned char *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

int hr_glob_any(char *const *globs, const char *s)
{
	size_t i;

	for (i = 0; globs != NULL && globs[i] != NULL; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return 1;
	return 0;
}

int hr_ifname_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0 || len >= max)
		return 0;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '/' || c == ':')
			return 0;
	}
	return 1;
}

int hr_parse_duration(const char *s, double *seconds)
{
	size_t len = strlen(s);
	double mult = 1, v;

	if (len == 0)
		return -1;
	switch (s[len - 1]) {
	case 's': mult = 1; len--; break;
	case 'm': mult = 60; len--; break;
	case 'h': mult = 3600; len--; break;
	case 'd': mult = 86400; len--; break;
	case 'w': mult = 7 * 86400; len--; break;
	default: break;
	}
	if (hr_parse_double(s, len, &v) < 0 || v < 0)
		return -1;
	*seconds = v * mult;
	return 0;
}

double hr_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double hr_now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
