/* series.c: see series.h. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "series.h"
#include "util.h"

#define SERIES_FILE_MAX (512u << 20)

int series_push(struct series *s, double t, double v, struct hr_err *err)
{
	if (!isfinite(t) || !isfinite(v))
		return hr_err_set(err, "not a finite number");
	if (s->n > 0 && t <= s->t[s->n - 1])
		return hr_err_set(err, "time %.0f is not after the previous row's %.0f", t,
				  s->t[s->n - 1]);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *nt = realloc(s->t, cap * sizeof(*nt));

		if (nt == NULL)
			return hr_err_set(err, "out of memory");
		s->t = nt;
		nt = realloc(s->v, cap * sizeof(*nt));
		if (nt == NULL)
			return hr_err_set(err, "out of memory");
		s->v = nt;
		s->cap = cap;
	}
	s->t[s->n] = t;
	s->v[s->n] = v;
	s->n++;
	return 0;
}

void series_free(struct series *s)
{
	free(s->t);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Digits [p, p+n) into *out; -1 unless all are digits. */
static int digits(const char *p, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int series_parse_time(const char *str, size_t len, double *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	int y, mo, d, h, mi, sec;
	double frac = 0;

	while (len > 0 && (str[len - 1] == ' ' || str[len - 1] == '\r'))
		len--;
	while (len > 0 && *str == ' ')
		str++, len--;
	if (len >= 19 && str[4] == '-' && str[7] == '-' && (str[10] == ' ' || str[10] == 'T') &&
	    str[13] == ':' && str[16] == ':') {
		if (digits(str, 4, &y) || digits(str + 5, 2, &mo) || digits(str + 8, 2, &d) ||
		    digits(str + 11, 2, &h) || digits(str + 14, 2, &mi) ||
		    digits(str + 17, 2, &sec))
			return -1;
		if (len > 19) {
			size_t i;
			double scale = 0.1;

			if (str[19] != '.' || len == 20)
				return -1;
			for (i = 20; i < len; i++, scale /= 10) {
				if (str[i] < '0' || str[i] > '9')
					return -1;
				frac += (str[i] - '0') * scale;
			}
		}
		if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
			return -1;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		*t = (double)timegm(&tm) + frac;
		return 0;
	}
	return hr_parse_double(str, len, t) == 0 && isfinite(*t) ? 0 : -1;
}

int series_parse_csv(const char *text, size_t len, struct series *s, struct hr_err *err)
{
	struct hr_lines it;
	const char *line;
	size_t ll, lineno = 0;
	struct hr_err e;

	series_free(s);
	hr_lines_init(&it, text, len);
	while (hr_lines_next(&it, &line, &ll)) {
		const char *comma;
		const char *vs;
		size_t vl;
		double t, v;

		lineno++;
		while (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			continue;
		comma = memchr(line, ',', ll);
		if (comma == NULL || memchr(comma + 1, ',', ll - (size_t)(comma + 1 - line)) != NULL) {
			hr_err_set(err, "line %zu: expected \"timestamp,value\"", lineno);
			goto fail;
		}
		vs = comma + 1;
		vl = ll - (size_t)(vs - line);
		while (vl > 0 && *vs == ' ')
			vs++, vl--;
		if (series_parse_time(line, (size_t)(comma - line), &t) < 0) {
			if (s->n == 0 && lineno == 1)
				continue; /* a header row */
			hr_err_set(err, "line %zu: unreadable timestamp \"%.*s\"", lineno,
				   (int)(comma - line > 40 ? 40 : comma - line), line);
			goto fail;
		}
		if (vl == 0 || (vl == 3 && strncasecmp(vs, "nan", 3) == 0))
			continue;
		if (hr_parse_double(vs, vl, &v) < 0 || !isfinite(v)) {
			hr_err_set(err, "line %zu: unreadable value \"%.*s\"", lineno,
				   (int)(vl > 40 ? 40 : vl), vs);
			goto fail;
		}
		if (series_push(s, t, v, &e) < 0) {
			hr_err_set(err, "line %zu: %s", lineno, e.msg);
			goto fail;
		}
	}
	return 0;
fail:
	series_free(s);
	return -1;
}

int series_load_csv(const char *path, struct series *s, struct hr_err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	struct hr_err e;
	int rc;

	if (f == NULL)
		return hr_err_set(err, "%s: %s", path, strerror(errno));
	for (;;) {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 1u << 16;
			if (cap > SERIES_FILE_MAX || (nb = realloc(buf, cap)) == NULL) {
				fclose(f);
				free(buf);
				return hr_err_set(err, "%s: too large or out of memory", path);
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	rc = ferror(f);
	fclose(f);
	if (rc) {
		free(buf);
		return hr_err_set(err, "%s: read error", path);
	}
	rc = series_parse_csv(buf, len, s, &e);
	free(buf);
	if (rc < 0)
		return hr_err_set(err, "%s: %s", path, e.msg);
	return 0;
}
