/* disk.c: the disk probe. Reads /proc/diskstats (format: Documentation/
 * admin-guide/iostats.rst) and reports per whole disk the bytes and I/Os
 * read and written and the time spent doing I/O, all counters. Partitions,
 * loop and ram devices are left out unless the config asks for them. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "disk.h"
#include "log.h"
#include "sample.h"
#include "util.h"

/* iostats.rst: "sectors" in /proc/diskstats are always 512 bytes, whatever
 * the device's logical block size. */
#define DISK_SECTOR 512.0

struct disk_state {
	const char *root;
	char **devices;         /* include globs (NULL: every device) */
	char **exclude;         /* exclude globs (NULL: none) */
	int partitions;         /* report partitions too */
	struct hr_complain c_read;  /* /proc/diskstats missing or unreadable */
	struct hr_complain c_parse; /* lines skipped */
};


void disk_stats_init(struct disk_stats *s)
{
	memset(s, 0, sizeof(*s));
}

void disk_stats_free(struct disk_stats *s)
{
	if (s == NULL)
		return;
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* A device name is used as a path component under /sys/block and as an RRD
 * file name part: it must be a plain, printable file name. The kernel
 * already turns '/' into '!' (cciss!c0d0). */
static int disk_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= DISK_NAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '/')
			return 0;
	}
	return 1;
}

static int disk_parse_uint(const char *s, size_t len, unsigned *out)
{
	uint64_t v;

	if (hr_parse_u64(s, len, &v) < 0 || v > 0xffffffffu)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Parses one line into *d; 0 when understood, -1 otherwise. */
static int disk_parse_line(const char *line, size_t len, struct disk_stat *d)
{
	struct hr_fields it;
	const char *f[20];
	size_t fl[20], n = 0, i;
	uint64_t v[11];
	const char *dummy;
	size_t dummylen;

	hr_fields_init(&it, line, len);
	while (n < 20 && hr_fields_next(&it, &f[n], &fl[n]))
		n++;
	/* More than 20 fields: a future kernel may append more; the first 14
	 * still mean what iostats.rst says. */
	if (n == 20)
		while (hr_fields_next(&it, &dummy, &dummylen))
			n++;
	if (n != 7 && n < 14)
		return -1;
	memset(d, 0, sizeof(*d));
	if (disk_parse_uint(f[0], fl[0], &d->major) < 0 ||
	    disk_parse_uint(f[1], fl[1], &d->minor) < 0 || !disk_name_ok(f[2], fl[2]))
		return -1;
	memcpy(d->name, f[2], fl[2]);
	d->name[fl[2]] = '\0';
	if (n == 7) {
		/* iostats.rst, "Disks vs Partitions": 2.6 kernels before
		 * 2.6.25 gave partitions only reads, sectors read, writes and
		 * sectors written. */
		for (i = 0; i < 4; i++)
			if (hr_parse_u64(f[3 + i], fl[3 + i], &v[i]) < 0)
				return -1;
		d->reads = v[0];
		d->sectors_read = v[1];
		d->writes = v[2];
		d->sectors_written = v[3];
		return 0;
	}
	for (i = 0; i < 11; i++)
		if (hr_parse_u64(f[3 + i], fl[3 + i], &v[i]) < 0)
			return -1;
	d->reads = v[0];
	d->sectors_read = v[2];
	d->writes = v[4];
	d->sectors_written = v[6];
	d->io_ms = v[9];
	d->has_io_ms = 1;
	return 0;
}

int disk_parse_diskstats(const char *buf, size_t len, struct disk_stats *out, struct hr_err *err)
{
	struct hr_lines it;
	struct disk_stat d;
	const char *line;
	size_t llen;

	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		struct hr_fields fi;
		const char *f;
		size_t fl;

		hr_fields_init(&fi, line, llen);
		if (!hr_fields_next(&fi, &f, &fl))
			continue; /* blank line */
		if (disk_parse_line(line, llen, &d) < 0) {
			if (out->skipped++ == 0)
				out->first_bad = it.lineno;
			continue;
		}
		if (out->count == out->cap) {
			size_t ncap = out->cap ? out->cap * 2 : 64;
			struct disk_stat *n = realloc(out->items, ncap * sizeof(*n));

			if (n == NULL)
				return hr_err_errno(err, ENOMEM, "diskstats");
			out->items = n;
			out->cap = ncap;
		}
		out->items[out->count++] = d;
	}
	return 0;
}

static int disk_is_virtual(const char *name)
{
	return strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0;
}

/* 1: whole disk, 0: partition (or another non-disk entry), by sysfs. */
static int disk_is_whole(const struct disk_state *st, int have_sys_block, const char *name)
{
	char rel[64 + DISK_NAME_MAX], full[4096];
	struct stat sb;

	if (!have_sys_block)
		return 1;
	memcpy(rel, "/sys/block/", sizeof("/sys/block/"));
	hr_strlcpy(rel + strlen(rel), name, DISK_NAME_MAX);
	if (hr_path(full, sizeof(full), st->root, rel, NULL) < 0)
		return 0;
	return stat(full, &sb) == 0;
}

static int disk_wanted(const struct disk_state *st, int have_sys_block, const char *name)
{
	if (st->devices != NULL) {
		/* Naming a loop or ram device explicitly brings it in. */
		if (!hr_glob_any(st->devices, name))
			return 0;
	} else if (disk_is_virtual(name)) {
		return 0;
	}
	if (hr_glob_any(st->exclude, name))
		return 0;
	if (!st->partitions && !disk_is_whole(st, have_sys_block, name))
		return 0;
	return 1;
}

static void disk_put(struct hr_sink *sink, const struct disk_stat *d)
{
	struct hr_sample s;

	hr_sample_init(&s, "disk", d->name);
	hr_sample_set(&s, "read_bytes", (double)d->sectors_read * DISK_SECTOR);
	hr_sample_set(&s, "write_bytes", (double)d->sectors_written * DISK_SECTOR);
	hr_sample_set(&s, "reads", (double)d->reads);
	hr_sample_set(&s, "writes", (double)d->writes);
	if (d->has_io_ms)
		hr_sample_set(&s, "io_ms", (double)d->io_ms);
	hr_sink_put(sink, &s);
}

static int disk_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct disk_state *st = state;
	struct disk_stats ds;
	struct hr_err rerr = { { 0 } };
	char full[4096];
	struct stat sb;
	char *buf = NULL;
	size_t len, i;
	int have_sys_block, rc = -1;

	disk_stats_init(&ds);
	if (hr_read_file(st->root, "/proc/diskstats", &buf, &len, HR_FILE_CAP, &rerr) < 0) {
		hr_complain(&st->c_read, "probe disk: %s", rerr.msg);
		hr_err_set(err, "%s", rerr.msg);
		goto out;
	}
	hr_complain_clear(&st->c_read, "probe disk: /proc/diskstats: readable again");
	if (disk_parse_diskstats(buf, len, &ds, &rerr) < 0)
		hr_complain(&st->c_read, "probe disk: /proc/diskstats: %s", rerr.msg);
	if (ds.skipped > 0)
		hr_complain(&st->c_parse,
			    "probe disk: /proc/diskstats: line %u: cannot parse, skipped (%u lines skipped)",
			    ds.first_bad, ds.skipped);
	else
		hr_complain_clear(&st->c_parse, "probe disk: /proc/diskstats: every line parses again");
	/* Without /sys/block (a container without sysfs, a capture of /proc
	 * only) there is no telling disks from partitions: keep them all. */
	have_sys_block = hr_path(full, sizeof(full), st->root, "/sys/block", NULL) == 0 &&
			 stat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
	for (i = 0; i < ds.count; i++)
		if (disk_wanted(st, have_sys_block, ds.items[i].name))
			disk_put(sink, &ds.items[i]);
	rc = 0;
out:
	free(buf);
	disk_stats_free(&ds);
	return rc;
}

static void disk_teardown(void *state)
{
	struct disk_state *st = state;

	if (st == NULL)
		return;
	hr_strv_free(st->devices);
	hr_strv_free(st->exclude);
	free(st);
}

static int disk_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		      void **state, struct hr_errs *errs)
{
	static const char *const allowed[] = { "devices", "exclude", "partitions", "interval", NULL };
	struct disk_state *st;
	int bad = 0;

	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	/* The getters find nothing in NULL or true: defaults. */
	if (hr_cfg_object(cfg, path, allowed, errs) < 0) {
		if (!cJSON_IsObject(cfg)) {
			disk_teardown(st);
			return -1;
		}
		bad = 1;
	}
	if (hr_cfg_strv(cfg, "devices", path, &st->devices, errs) < 0)
		bad = 1;
	if (hr_cfg_strv(cfg, "exclude", path, &st->exclude, errs) < 0)
		bad = 1;
	if (hr_cfg_bool(cfg, "partitions", path, &st->partitions, errs) < 0)
		bad = 1;
	if (bad) {
		disk_teardown(st);
		return -1;
	}
	*state = st;
	return 0;
}

const struct probe probe_disk = {
	.name = "disk",
	.core = 1,
	.setup = disk_setup,
	.read = disk_read,
	.teardown = disk_teardown,
};
