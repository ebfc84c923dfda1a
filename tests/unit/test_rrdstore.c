/* test_rrdstore.c: the RRD writer against real librrd files, golden style:
 * values written are fetched back with rrd_fetch_r and compared exactly, and
 * the file layout read with rrd_info_r is compared with the contract's table
 * (steps 10 and 60, with and without MIN). Run with TZ=UTC LC_NUMERIC=C. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "rrdstore.h"
#include "schema.h"
#include "testutil.h"

/* 2023-11-15 00:00:00 UTC: a multiple of every archive's resolution. */
#define T0 ((time_t)1700006400)

/* --- helpers -------------------------------------------------------------- */

static struct rrdstore *store_at(const char *dir)
{
	struct hr_err err = { { 0 } };
	struct rrdstore *st = rrdstore_new(dir, &err);

	if (st == NULL)
		fprintf(stderr, "rrdstore_new: %s\n", err.msg);
	return st;
}

/* Writes probe/instance at time t with nv name/value pairs; returns the
 * write's result and prints its error. */
static int put(struct rrdstore *st, const char *probe, const char *instance, time_t t,
	       unsigned step, size_t nv, const char *const *names, const double *vals)
{
	struct hr_sample s;
	struct hr_err err = { { 0 } };
	size_t i;
	int rc;

	hr_sample_init(&s, probe, instance);
	s.t = t;
	for (i = 0; i < nv; i++)
		hr_sample_set(&s, names[i], vals[i]);
	rc = rrdstore_write(st, &s, step, &err);
	if (rc < 0)
		fprintf(stderr, "rrdstore_write: %s\n", err.msg);
	return rc;
}

static const char *path_of(struct rrdstore *st, const char *probe, const char *instance)
{
	static char buf[PATH_MAX];
	struct hr_err err = { { 0 } };

	if (rrdstore_path(st, buf, sizeof(buf), probe, instance, &err) < 0)
		return "";
	return buf;
}

/* The consolidated value of DS `ds` for the row ending at time t, fetched
 * with rrd_fetch_r at resolution res; -1000 when the fetch fails or the DS or
 * row is not there (NaN means unknown). */
static double fetch(const char *path, const char *cf, unsigned long res, time_t t,
		    const char *ds)
{
	time_t start = t - (time_t)res, end = t;
	unsigned long step = res, cnt = 0, i, row;
	char **names = NULL;
	rrd_value_t *data = NULL;
	double v = -1000;

	rrd_clear_error();
	if (rrd_fetch_r(path, cf, &start, &end, &step, &cnt, &names, &data) != 0) {
		fprintf(stderr, "rrd_fetch_r %s: %s\n", path, rrd_get_error());
		rrd_clear_error();
		return v;
	}
	/* Rows are the intervals (start + k*step, start + (k+1)*step]. */
	if (step == res && t > start && (t - start) % (time_t)step == 0) {
		row = (unsigned long)((t - start) / (time_t)step) - 1;
		for (i = 0; i < cnt; i++)
			if (strcmp(names[i], ds) == 0 && row < (unsigned long)((end - start) / (time_t)step))
				v = data[row * cnt + i];
	}
	for (i = 0; i < cnt; i++)
		free(names[i]);
	free(names);
	free(data);
	return v;
}

/* rrd_info_r of a file, looked up by key. */
static rrd_info_t *info_of(const char *path)
{
	rrd_info_t *info;

	rrd_clear_error();
	info = rrd_info_r(path);
	if (info == NULL) {
		fprintf(stderr, "rrd_info_r %s: %s\n", path, rrd_get_error());
		rrd_clear_error();
	}
	return info;
}

static const rrd_info_t *info_get(const rrd_info_t *info, const char *key)
{
	for (; info != NULL; info = info->next)
		if (strcmp(info->key, key) == 0)
			return info;
	return NULL;
}

static unsigned long info_cnt(const rrd_info_t *info, const char *key)
{
	const rrd_info_t *i = info_get(info, key);

	return i != NULL && i->type == RD_I_CNT ? i->value.u_cnt : (unsigned long)-1;
}

static const char *info_str(const rrd_info_t *info, const char *key)
{
	const rrd_info_t *i = info_get(info, key);

	return i != NULL && i->type == RD_I_STR ? i->value.u_str : "(none)";
}

static double info_val(const rrd_info_t *info, const char *key)
{
	const rrd_info_t *i = info_get(info, key);

	return i != NULL && i->type == RD_I_VAL ? i->value.u_val : -1000;
}

/* Names in a folder (without . and ..), joined by ' ' in sorted order. */
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *ls(const char *dir)
{
	static char out[8192];
	char *names[64];
	size_t n = 0, i, len = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	out[0] = '\0';
	if (d == NULL)
		return "(cannot open)";
	while ((de = readdir(d)) != NULL && n < 64)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmpstr);
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	return out;
}

static int file_bytes(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	if (f == NULL)
		return -1;
	got = fread(buf, 1, n, f);
	fclose(f);
	return (int)got;
}

/* --- values back ---------------------------------------------------------- */

static void test_gauge_roundtrip(void)
{
	static const char *const names[] = { "load1", "load5", "ncpu" };
	static const double vals[][3] = {
		{ 0.25, 1.5, 8 }, { 3.75, 0, 8 }, { 1e9, -2.5, 8 },
		{ 12345.0625, 7, 16 }, { 0.125, 1099511627776.0, 16 }, { 2, 3, 4 },
	};
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	size_t i, k;

	CU_ASSERT_FATAL(st != NULL);
	for (i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(put(st, "load", "", T0 + 10 * (time_t)i, 10, 3, names, vals[i]), 0);
	CU_ASSERT_STRING_EQUAL(ls(dir), "load.rrd");
	for (i = 0; i < 6; i++)
		for (k = 0; k < 3; k++)
			CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10,
					      T0 + 10 * (time_t)i, names[k]), vals[i][k]);
	/* Nothing after the last sample. */
	CU_ASSERT(isnan(fetch(path_of(st, "load", ""), "AVERAGE", 10, T0 + 60, "load1")));
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_fractional_counter(void)
{
	static const char *const names[] = { "user" };
	/* CPU time in seconds: 0.25 s of CPU per 10 s is a rate of 0.025. */
	static const double vals[][1] = { { 3018.54 }, { 3018.79 }, { 3019.04 }, { 3019.29 } };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	size_t i;

	CU_ASSERT_FATAL(st != NULL);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(put(st, "cpu", "", T0 + 10 * (time_t)i, 10, 1, names, vals[i]), 0);
	for (i = 1; i < 4; i++)
		CU_ASSERT_DOUBLE_EQUAL(fetch(path_of(st, "cpu", ""), "AVERAGE", 10,
					     T0 + 10 * (time_t)i, "user"), 0.025, 1e-9);
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_counter_rate(void)
{
	static const char *const names[] = { "read_bytes", "reads" };
	/* 50 bytes/s and 2 reads/s, then the counter restarts (reboot). */
	static const double vals[][2] = {
		{ 1000, 10 }, { 1500, 30 }, { 2000, 50 }, { 2500, 70 }, { 100, 90 }, { 600, 110 },
	};
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	const char *p;
	size_t i;

	CU_ASSERT_FATAL(st != NULL);
	for (i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(put(st, "disk", "sda", T0 + 10 * (time_t)i, 10, 2, names, vals[i]), 0);
	p = path_of(st, "disk", "sda");
	CU_ASSERT(isnan(fetch(p, "AVERAGE", 10, T0, "read_bytes"))); /* no rate yet */
	for (i = 1; i < 4; i++) {
		CU_ASSERT_DOUBLE_EQUAL(fetch(p, "AVERAGE", 10, T0 + 10 * (time_t)i, "read_bytes"), 50, 1e-9);
		CU_ASSERT_DOUBLE_EQUAL(fetch(p, "AVERAGE", 10, T0 + 10 * (time_t)i, "reads"), 2, 1e-9);
	}
	/* A counter going back is unknown (DDERIVE, min 0), not a negative rate. */
	CU_ASSERT(isnan(fetch(p, "AVERAGE", 10, T0 + 40, "read_bytes")));
	CU_ASSERT_DOUBLE_EQUAL(fetch(p, "AVERAGE", 10, T0 + 50, "read_bytes"), 50, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(fetch(p, "AVERAGE", 10, T0 + 40, "reads"), 2, 1e-9);
	rrdstore_destroy(st);
	rm_rf(dir);
}

/* --- layout --------------------------------------------------------------- */

struct rra_want {
	const char *cf;
	unsigned long pdp;
	unsigned long rows;
};

static const struct layout_case {
	const char *probe;
	const char *value;    /* one value of the probe */
	const char *type;     /* its DS type */
	unsigned step;
	size_t nrra;
	struct rra_want rra[16];
	size_t bytes_per_ds;
} layouts[] = {
	{ "load", "load1", "GAUGE", 10, 9, {
		{ "AVERAGE", 1, 17280 },
		{ "AVERAGE", 6, 20160 }, { "MAX", 6, 20160 },
		{ "AVERAGE", 30, 26784 }, { "MAX", 30, 26784 },
		{ "AVERAGE", 360, 17568 }, { "MAX", 360, 17568 },
		{ "AVERAGE", 8640, 3660 }, { "MAX", 8640, 3660 } }, 1228992 },
	{ "fs", "used", "GAUGE", 10, 13, {
		{ "AVERAGE", 1, 17280 },
		{ "AVERAGE", 6, 20160 }, { "MAX", 6, 20160 }, { "MIN", 6, 20160 },
		{ "AVERAGE", 30, 26784 }, { "MAX", 30, 26784 }, { "MIN", 30, 26784 },
		{ "AVERAGE", 360, 17568 }, { "MAX", 360, 17568 }, { "MIN", 360, 17568 },
		{ "AVERAGE", 8640, 3660 }, { "MAX", 8640, 3660 }, { "MIN", 8640, 3660 } }, 1774368 },
	/* At 60 s the "1 min" archive is the native one: 2 weeks of it. */
	{ "disk", "reads", "DDERIVE", 60, 7, {
		{ "AVERAGE", 1, 20160 },
		{ "AVERAGE", 5, 26784 }, { "MAX", 5, 26784 },
		{ "AVERAGE", 60, 17568 }, { "MAX", 60, 17568 },
		{ "AVERAGE", 1440, 3660 }, { "MAX", 1440, 3660 } }, 929472 },
	{ "mem", "available", "GAUGE", 60, 10, {
		{ "AVERAGE", 1, 20160 },
		{ "AVERAGE", 5, 26784 }, { "MAX", 5, 26784 }, { "MIN", 5, 26784 },
		{ "AVERAGE", 60, 17568 }, { "MAX", 60, 17568 }, { "MIN", 60, 17568 },
		{ "AVERAGE", 1440, 3660 }, { "MAX", 1440, 3660 }, { "MIN", 1440, 3660 } }, 1313568 },
};

static void test_layout(void)
{
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	size_t c, i;
	char key[64];

	CU_ASSERT_FATAL(st != NULL);
	for (c = 0; c < sizeof(layouts) / sizeof(layouts[0]); c++) {
		const struct layout_case *lc = &layouts[c];
		const char *names[] = { lc->value };
		double v = 1;
		rrd_info_t *info;
		size_t rows = 0;

		CU_ASSERT_EQUAL_FATAL(put(st, lc->probe, "x", T0, lc->step, 1, names, &v), 0);
		info = info_of(path_of(st, lc->probe, "x"));
		CU_ASSERT_FATAL(info != NULL);
		CU_ASSERT_EQUAL(info_cnt(info, "step"), lc->step);
		CU_ASSERT_EQUAL(info_cnt(info, "last_update"), (unsigned long)T0);
		snprintf(key, sizeof(key), "ds[%s].type", lc->value);
		CU_ASSERT_STRING_EQUAL(info_str(info, key), lc->type);
		snprintf(key, sizeof(key), "ds[%s].minimal_heartbeat", lc->value);
		CU_ASSERT_EQUAL(info_cnt(info, key), 2UL * lc->step);
		snprintf(key, sizeof(key), "ds[%s].min", lc->value);
		if (strcmp(lc->type, "DDERIVE") == 0) {
			CU_ASSERT_EQUAL(info_val(info, key), 0);
		} else {
			CU_ASSERT(isnan(info_val(info, key)));
		}
		snprintf(key, sizeof(key), "ds[%s].max", lc->value);
		CU_ASSERT(isnan(info_val(info, key)));
		for (i = 0; i < lc->nrra; i++) {
			snprintf(key, sizeof(key), "rra[%zu].cf", i);
			CU_ASSERT_STRING_EQUAL(info_str(info, key), lc->rra[i].cf);
			snprintf(key, sizeof(key), "rra[%zu].pdp_per_row", i);
			CU_ASSERT_EQUAL(info_cnt(info, key), lc->rra[i].pdp);
			snprintf(key, sizeof(key), "rra[%zu].rows", i);
			CU_ASSERT_EQUAL(info_cnt(info, key), lc->rra[i].rows);
			snprintf(key, sizeof(key), "rra[%zu].xff", i);
			CU_ASSERT_EQUAL(info_val(info, key), 0.5);
			rows += lc->rra[i].rows;
		}
		snprintf(key, sizeof(key), "rra[%zu].cf", lc->nrra);
		CU_ASSERT_PTR_NULL(info_get(info, key)); /* no other archive */
		/* The README's figure is the file's rows times 8 bytes. */
		CU_ASSERT_EQUAL(rows * 8, lc->bytes_per_ds);
		CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(lc->step, hr_schema_keep_min(lc->probe)),
				lc->bytes_per_ds);
		rrd_info_free(info);
	}
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_bytes_per_ds(void)
{
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(10, 0), 1228992);
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(10, 1), 1774368);
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(60, 0), 929472);
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(60, 1), 1313568);
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(0, 0), 0);
	/* 7 s: 1 min is 9 steps (63 s), rows rounded up; 2 days at 7 s. */
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(7, 0),
			8 * (24686 + 2 * (19200 + 26696 + 17578 + 3660)));
	/* 300 s: native holds the 5 min archive's 3 months; "1 min" folds in. */
	CU_ASSERT_EQUAL(rrdstore_bytes_per_ds(300, 0), 8 * (26784 + 2 * (17568 + 3660)));
}

/* --- the file changes ----------------------------------------------------- */

static void test_new_value_adds_ds(void)
{
	static const char *const one[] = { "load1" };
	static const char *const two[] = { "load1", "load5" };
	static const char *const three[] = { "load1", "load5", "load15" };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	double v[3];
	rrd_info_t *info;
	const char *p;
	size_t i;

	CU_ASSERT_FATAL(st != NULL);
	for (i = 0; i < 4; i++) {
		v[0] = 1 + (double)i;
		CU_ASSERT_EQUAL(put(st, "load", "", T0 + 10 * (time_t)i, 10, 1, one, v), 0);
	}
	/* load5 appears in the running store: the file gets its DS. */
	v[0] = 5;
	v[1] = 50;
	CU_ASSERT_EQUAL(put(st, "load", "", T0 + 40, 10, 2, two, v), 0);
	v[0] = 6;
	v[1] = 60;
	CU_ASSERT_EQUAL(put(st, "load", "", T0 + 50, 10, 2, two, v), 0);
	rrdstore_destroy(st);

	/* load15 appears after a restart (nothing cached). */
	st = store_at(dir);
	CU_ASSERT_FATAL(st != NULL);
	v[0] = 7;
	v[1] = 70;
	v[2] = 700;
	CU_ASSERT_EQUAL(put(st, "load", "", T0 + 60, 10, 3, three, v), 0);

	p = path_of(st, "load", "");
	for (i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 10 * (time_t)i, "load1"), 1 + (double)i);
	CU_ASSERT(isnan(fetch(p, "AVERAGE", 10, T0 + 30, "load5")));
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 40, "load5"), 50);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 60, "load5"), 70);
	CU_ASSERT(isnan(fetch(p, "AVERAGE", 10, T0 + 50, "load15")));
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 60, "load15"), 700);

	info = info_of(p);
	CU_ASSERT_FATAL(info != NULL);
	CU_ASSERT_STRING_EQUAL(info_str(info, "ds[load5].type"), "GAUGE");
	CU_ASSERT_EQUAL(info_cnt(info, "ds[load15].minimal_heartbeat"), 20);
	CU_ASSERT_EQUAL(info_cnt(info, "ds[load1].index"), 0);
	CU_ASSERT_EQUAL(info_cnt(info, "ds[load15].index"), 2);
	CU_ASSERT_EQUAL(info_cnt(info, "rra[8].rows"), 3660); /* archives kept */
	rrd_info_free(info);
	/* No temporary left behind. */
	CU_ASSERT_STRING_EQUAL(ls(dir), "load.rrd");
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_counter_survives_new_ds(void)
{
	static const char *const one[] = { "rx_bytes" };
	static const char *const two[] = { "rx_bytes", "up" };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	double v[2] = { 1000, 1 };
	const char *p;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(put(st, "net", "eth0", T0, 10, 1, one, v), 0);
	v[0] = 2000;
	CU_ASSERT_EQUAL(put(st, "net", "eth0", T0 + 10, 10, 1, one, v), 0);
	v[0] = 3000;
	CU_ASSERT_EQUAL(put(st, "net", "eth0", T0 + 20, 10, 2, two, v), 0);
	p = path_of(st, "net", "eth0");
	CU_ASSERT_STRING_EQUAL(ls(dir), "net-eth0.rrd");
	/* The counter's last reading went along: the rate goes on. */
	CU_ASSERT_DOUBLE_EQUAL(fetch(p, "AVERAGE", 10, T0 + 10, "rx_bytes"), 100, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(fetch(p, "AVERAGE", 10, T0 + 20, "rx_bytes"), 100, 1e-9);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 20, "up"), 1);
	rrdstore_destroy(st);
	rm_rf(dir);
}

/* A file at its cap of 256 DS takes no more: the write names the value it
 * skipped and still stores the others. (A day's step keeps the file small:
 * every archive folds into one of 3660 rows.) */
static void test_ds_cap(void)
{
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	struct hr_err err = { { 0 } };
	struct hr_sample s;
	char name[HR_NAME_MAX];
	const char *p;
	rrd_info_t *info;
	int r, i;

	CU_ASSERT_FATAL(st != NULL);
	for (r = 0; r < 8; r++) {
		hr_sample_init(&s, "exec", "many");
		s.t = T0 + 86400 * (time_t)r;
		for (i = 0; i < 32; i++) {
			snprintf(name, sizeof(name), "v%d", r * 32 + i);
			hr_sample_set(&s, name, r * 32 + i);
		}
		CU_ASSERT_EQUAL(rrdstore_write(st, &s, 86400, &err), 0);
	}
	hr_sample_init(&s, "exec", "many");
	s.t = T0 + 86400 * 8;
	hr_sample_set(&s, "v0", 42);
	hr_sample_set(&s, "one_too_many", 1);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 86400, &err), -1);
	CU_ASSERT(strstr(err.msg, "one_too_many") != NULL);
	CU_ASSERT(strstr(err.msg, "other values were written") != NULL);
	p = path_of(st, "exec", "many");
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 86400, T0 + 86400 * 8, "v0"), 42);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 86400, T0 + 86400 * 7, "v255"), 255);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 86400, T0, "v31"), 31);
	info = info_of(p);
	CU_ASSERT_FATAL(info != NULL);
	CU_ASSERT_EQUAL(info_cnt(info, "rra[0].rows"), 3660);
	CU_ASSERT_PTR_NULL(info_get(info, "rra[1].cf"));
	CU_ASSERT_PTR_NOT_NULL(info_get(info, "ds[v255].type"));
	CU_ASSERT_PTR_NULL(info_get(info, "ds[one_too_many].type"));
	rrd_info_free(info);
	/* It was written: the same sample again is a duplicate. */
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 86400, &err), 1);
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_duplicate_and_old(void)
{
	static const char *const names[] = { "used" };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	double v = 100;
	const char *p;
	char before[4096], after[4096];
	int nb, na;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0, 10, 1, names, &v), 0);
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0 + 10, 10, 1, names, &v), 0);
	p = path_of(st, "fs", "/");
	nb = file_bytes(p, before, sizeof(before));
	v = 999;
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0 + 10, 10, 1, names, &v), 1);
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0 + 5, 10, 1, names, &v), 1);
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0 - 3600, 10, 1, names, &v), 1);
	rrdstore_destroy(st);
	/* After a restart too: the last update is read from the file. */
	st = store_at(dir);
	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0 + 10, 10, 1, names, &v), 1);
	na = file_bytes(p, after, sizeof(after));
	CU_ASSERT(nb > 0 && na == nb && memcmp(before, after, (size_t)nb) == 0);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 10, "used"), 100);
	v = 200;
	CU_ASSERT_EQUAL(put(st, "fs", "/", T0 + 20, 10, 1, names, &v), 0);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 20, "used"), 200);
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_unknown_stays_nan(void)
{
	static const char *const both[] = { "total", "available" };
	static const char *const one[] = { "total" };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	struct hr_sample s;
	struct hr_err err = { { 0 } };
	double v[2] = { 8e9, 4e9 };
	const char *p;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(put(st, "mem", "", T0, 10, 2, both, v), 0);
	CU_ASSERT_EQUAL(put(st, "mem", "", T0 + 10, 10, 1, one, v), 0); /* available left out */
	/* A non-finite value (only a hand-made sample can hold one) is unknown. */
	hr_sample_init(&s, "mem", "");
	s.t = T0 + 20;
	hr_sample_set(&s, "total", 8e9);
	hr_sample_set(&s, "available", 1);
	s.values[1].v = INFINITY;
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 0);
	CU_ASSERT_EQUAL(put(st, "mem", "", T0 + 30, 10, 2, both, v), 0);
	p = path_of(st, "mem", "");
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0, "available"), 4e9);
	CU_ASSERT(isnan(fetch(p, "AVERAGE", 10, T0 + 10, "available")));
	CU_ASSERT(isnan(fetch(p, "AVERAGE", 10, T0 + 20, "available")));
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 30, "available"), 4e9);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 10, "total"), 8e9);
	CU_ASSERT_EQUAL(fetch(p, "AVERAGE", 10, T0 + 20, "total"), 8e9);
	rrdstore_destroy(st);
	rm_rf(dir);
}

/* --- names ---------------------------------------------------------------- */

static const struct {
	const char *probe;
	const char *instance;
	const char *file;
} names_ok[] = {
	{ "load", "", "load.rrd" },
	{ "load", NULL, "load.rrd" },
	{ "fs", "/", "fs-%2F.rrd" },
	{ "fs", "/var", "fs-%2Fvar.rrd" },
	{ "fs", "/srv/data-1_x.y", "fs-%2Fsrv%2Fdata-1_x.y.rrd" },
	{ "disk", "sda", "disk-sda.rrd" },
	{ "disk", "nvme0n1p1", "disk-nvme0n1p1.rrd" },
	{ "ups", "myups@127.0.0.1:3493", "ups-myups%40127.0.0.1%3A3493.rrd" },
	{ "fs", "../../etc/passwd", "fs-%2E.%2F..%2Fetc%2Fpasswd.rrd" },
	{ "fs", "..", "fs-%2E..rrd" },
	{ "fs", ".", "fs-%2E.rrd" },
	{ "fs", ".hidden", "fs-%2Ehidden.rrd" },
	{ "fs", "a/b", "fs-a%2Fb.rrd" },
	{ "fs", "%", "fs-%25.rrd" },
	{ "fs", "%2F", "fs-%252F.rrd" },
	{ "fs", "a b\tc", "fs-a%20b%09c.rrd" },
	{ "fs", "\xc3\xa9t\xc3\xa9\xff\x01", "fs-%C3%A9t%C3%A9%FF%01.rrd" },
	{ "exec", "x\\y\"z*?", "exec-x%5Cy%22z%2A%3F.rrd" },
};

static void test_filename(void)
{
	struct hr_err err = { { 0 } };
	char name[512], back[512];
	size_t i, plen;

	for (i = 0; i < sizeof(names_ok) / sizeof(names_ok[0]); i++) {
		const char *inst = names_ok[i].instance ? names_ok[i].instance : "";

		CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), names_ok[i].probe,
						  names_ok[i].instance, &err), 0);
		CU_ASSERT_STRING_EQUAL(name, names_ok[i].file);
		CU_ASSERT_PTR_NULL(strchr(name, '/'));
		CU_ASSERT(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
		/* Round trip: strip "PROBE-" and ".rrd", unescape. */
		plen = strlen(names_ok[i].probe);
		if (inst[0] == '\0')
			continue;
		CU_ASSERT_EQUAL(name[plen], '-');
		name[strlen(name) - 4] = '\0';
		CU_ASSERT(name[plen + 1] != '.');
		CU_ASSERT_EQUAL(rrdstore_unescape(back, sizeof(back), name + plen + 1), 0);
		CU_ASSERT_STRING_EQUAL(back, inst);
	}
}

static void test_filename_refused(void)
{
	struct hr_err err = { { 0 } };
	char name[512], big[HR_INSTANCE_MAX];
	size_t i;

	/* The probe name is part of the file name: no '/', no '-', not empty. */
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "a/b", "x", &err), -1);
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "..", "", &err), -1);
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "", "x", &err), -1);
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "a-b", "x", &err), -1);
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "fs", "x", &err), 0);
	CU_ASSERT_EQUAL(rrdstore_filename(name, 9, "fs", "x", &err), 0); /* "fs-x.rrd" */
	CU_ASSERT_EQUAL(rrdstore_filename(name, 8, "fs", "x", &err), -1);
	CU_ASSERT(strstr(err.msg, "does not fit") != NULL);

	/* Longest instance that fits: 240 bytes in all. */
	memset(big, 'a', sizeof(big));
	big[240 - 7] = '\0';
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "fs", big, &err), 0);
	CU_ASSERT_EQUAL(strlen(name), 240);
	big[240 - 7] = 'a';
	big[240 - 6] = '\0';
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "fs", big, &err), -1);
	CU_ASSERT(strstr(err.msg, "too long") != NULL);
	/* 255 slashes would escape to 765 bytes. */
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = '/';
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(rrdstore_filename(name, sizeof(name), "fs", big, &err), -1);
}

static void test_unescape_malformed(void)
{
	static const char *const bad[] = {
		"%", "%4", "%zz", "%2f", "%00", "a/b", ".x", "%61", "%2E%2E%2F%2", "a%",
		"%2D", "a\xc3\xa9", "a b",
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(rrdstore_unescape(out, sizeof(out), bad[i]), -1);
	CU_ASSERT_EQUAL(rrdstore_unescape(out, sizeof(out), "%2E."), 0);
	CU_ASSERT_STRING_EQUAL(out, "..");
	CU_ASSERT_EQUAL(rrdstore_unescape(out, sizeof(out), "x.%2F"), 0);
	CU_ASSERT_STRING_EQUAL(out, "x./");
	CU_ASSERT_EQUAL(rrdstore_unescape(out, 4, "%2Fab"), 0);
	CU_ASSERT_STRING_EQUAL(out, "/ab");
	CU_ASSERT_EQUAL(rrdstore_unescape(out, 3, "%2Fab"), -1);
	CU_ASSERT_EQUAL(rrdstore_unescape(out, 0, ""), -1);
}

/* Hostile instances written for real: every file lands in the store's
 * folder, nothing above it changes. */
static void test_hostile_write(void)
{
	static const char *const inst[] = {
		"../../etc/passwd", "..", ".", "", "a/b", "/", "%", "\xc3\xa9\xff", "../x",
	};
	static const char *const names[] = { "used" };
	char dir[PATH_MAX];
	const char *top = tmpdir_new("rrd");
	struct rrdstore *st;
	double v = 1;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/rrd/web1", top);
	st = store_at(dir);
	CU_ASSERT_FATAL(st != NULL);
	for (i = 0; i < sizeof(inst) / sizeof(inst[0]); i++)
		CU_ASSERT_EQUAL(put(st, "fs", inst[i], T0, 10, 1, names, &v), 0);
	CU_ASSERT_STRING_EQUAL(ls(top), "rrd");
	snprintf(dir, sizeof(dir), "%s/rrd", top);
	CU_ASSERT_STRING_EQUAL(ls(dir), "web1");
	snprintf(dir, sizeof(dir), "%s/rrd/web1", top);
	CU_ASSERT_STRING_EQUAL(ls(dir), "fs-%25.rrd fs-%2E.%2F..%2Fetc%2Fpasswd.rrd "
			       "fs-%2E.%2Fx.rrd fs-%2E..rrd fs-%2E.rrd fs-%2F.rrd "
			       "fs-%C3%A9%FF.rrd fs-a%2Fb.rrd fs.rrd");
	rrdstore_destroy(st);
	rm_rf(top);
}

/* --- folders, crashes, bad input ------------------------------------------ */

static void test_folder(void)
{
	static const char *const names[] = { "load1" };
	const char *top = tmpdir_new("rrd");
	char dir[PATH_MAX], blocker[PATH_MAX];
	struct hr_err err = { { 0 } };
	struct rrdstore *st;
	struct stat sb;
	double v = 1;

	/* mkdir -p, 0755. */
	snprintf(dir, sizeof(dir), "%s/a/b/c", top);
	st = store_at(dir);
	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 07777) == 0755);

	/* The folder vanishes and a file takes the place of one of its parents:
	 * the write fails and says which folder. */
	snprintf(blocker, sizeof(blocker), "%s/a", top);
	rm_rf(blocker);
	CU_ASSERT_EQUAL(write_file(top, "/a", "x", 1), 0);
	{
		struct hr_sample s;

		hr_sample_init(&s, "load", "");
		s.t = T0;
		hr_sample_set(&s, names[0], v);
		CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
		CU_ASSERT(strstr(err.msg, "cannot create folder") != NULL);
		CU_ASSERT(strstr(err.msg, blocker) != NULL);
		CU_ASSERT(strstr(err.msg, "Not a directory") != NULL);
	}
	/* Once the folder can be made again, the write recreates it. */
	unlink(blocker);
	CU_ASSERT_EQUAL(put(st, "load", "", T0, 10, 1, names, &v), 0);
	CU_ASSERT_STRING_EQUAL(ls(dir), "load.rrd");
	rrdstore_destroy(st);

	/* A store whose folder cannot be created is not made. */
	CU_ASSERT_EQUAL(write_file(top, "/f", "x", 1), 0);
	snprintf(dir, sizeof(dir), "%s/f/sub", top);
	err.msg[0] = '\0';
	CU_ASSERT_PTR_NULL(rrdstore_new(dir, &err));
	CU_ASSERT(strstr(err.msg, "cannot create folder") != NULL);
	snprintf(dir, sizeof(dir), "%s/f", top);
	CU_ASSERT_PTR_NULL(rrdstore_new(dir, &err));
	CU_ASSERT(strstr(err.msg, "Not a directory") != NULL);
	CU_ASSERT_PTR_NULL(rrdstore_new("", &err));
	rrdstore_destroy(NULL);
	rm_rf(top);
}

static void test_crash_leftovers(void)
{
	static const char *const names[] = { "load1" };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	char garbage[64] = "RRD\0half a file", buf[64];
	double v = 3;
	struct hr_err err = { { 0 } };
	struct hr_sample s;
	const char *p;

	CU_ASSERT_FATAL(st != NULL);
	/* A temporary left by a crash while creating is not an archive: the
	 * next write creates the file anew. */
	CU_ASSERT_EQUAL(write_file(dir, "/load.rrd.tmp", garbage, sizeof(garbage)), 0);
	CU_ASSERT_EQUAL(put(st, "load", "", T0, 10, 1, names, &v), 0);
	CU_ASSERT_STRING_EQUAL(ls(dir), "load.rrd");
	CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, T0, "load1"), 3);

	/* A broken file under an archive's name is an error and is left as it
	 * is: it may be someone's data. */
	CU_ASSERT_EQUAL(write_file(dir, "/cpu.rrd", garbage, sizeof(garbage)), 0);
	hr_sample_init(&s, "cpu", "");
	s.t = T0;
	hr_sample_set(&s, "user", 1);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	p = path_of(st, "cpu", "");
	CU_ASSERT(strstr(err.msg, p) != NULL);
	CU_ASSERT_EQUAL(file_bytes(p, buf, sizeof(buf)), (int)sizeof(garbage));
	CU_ASSERT(memcmp(buf, garbage, sizeof(garbage)) == 0);
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_file_removed_behind_our_back(void)
{
	static const char *const names[] = { "load1" };
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	double v = 1;

	CU_ASSERT_FATAL(st != NULL);
	CU_ASSERT_EQUAL(put(st, "load", "", T0, 10, 1, names, &v), 0);
	unlink(path_of(st, "load", ""));
	/* The cached file is gone: one failed write, then a new file. */
	CU_ASSERT_EQUAL(put(st, "load", "", T0 + 10, 10, 1, names, &v), -1);
	v = 2;
	CU_ASSERT_EQUAL(put(st, "load", "", T0 + 20, 10, 1, names, &v), 0);
	CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, T0 + 20, "load1"), 2);
	rrdstore_destroy(st);
	rm_rf(dir);
}

static void test_bad_input(void)
{
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	struct hr_err err = { { 0 } };
	struct hr_sample s;

	CU_ASSERT_FATAL(st != NULL);
	hr_sample_init(&s, "load", "");
	s.t = T0;
	hr_sample_set(&s, "load1", 1);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 0, &err), -1);
	CU_ASSERT(strstr(err.msg, "step") != NULL);
	s.t = 0;
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	CU_ASSERT(strstr(err.msg, "time") != NULL);
	/* A name that would break the DS spec or template. */
	s.t = T0;
	memcpy(s.values[0].name, "a:b", 4);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	CU_ASSERT(strstr(err.msg, "a:b") != NULL);
	/* Unterminated instance from a hand-made sample. */
	hr_sample_init(&s, "load", "");
	s.t = T0;
	hr_sample_set(&s, "load1", 1);
	memset(s.instance, 'x', sizeof(s.instance));
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	/* A probe name that would leave the folder. */
	hr_sample_init(&s, "../x", "");
	s.t = T0;
	hr_sample_set(&s, "load1", 1);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	/* Labels only: nothing to store, no file. */
	hr_sample_init(&s, "md", "md0");
	s.t = T0;
	hr_sample_label(&s, "state", "clean");
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 0);
	CU_ASSERT_STRING_EQUAL(ls(dir), "");
	rrdstore_destroy(st);
	rm_rf(dir);
}

/* A run of samples goes in as one update and reads back exactly as
 * sample-by-sample writes would: the first creates the file, a value that
 * appears mid-run adds its DS (and splits the run), an old sample is
 * skipped (1) without stopping the others, and a missing value is U. (The
 * missing value comes after the new DS: librrd's create from a source
 * fills unknown rows from coarser archives.) */
static void test_write_run(void)
{
	const char *dir = tmpdir_new("rrd");
	struct rrdstore *st = store_at(dir);
	struct hr_sample s[12];
	const struct hr_sample *p[12];
	struct hr_err err = { { 0 } };
	size_t i;

	CU_ASSERT_FATAL(st != NULL);
	for (i = 0; i < 12; i++) {
		hr_sample_init(&s[i], "load", "");
		s[i].t = T0 + 10 * (time_t)(i + 1);
		hr_sample_set(&s[i], "load1", 0.5 * (double)i);
		if (i != 9)
			hr_sample_set(&s[i], "load5", 100.0 + (double)i);
		if (i >= 7)
			hr_sample_set(&s[i], "ncpu", 4);
		p[i] = &s[i];
	}
	CU_ASSERT_EQUAL(rrdstore_write_run(st, p, 12, 10, &err), 0);
	for (i = 0; i < 12; i++) {
		CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, s[i].t, "load1"),
				0.5 * (double)i);
		if (i == 9) {
			CU_ASSERT(isnan(fetch(path_of(st, "load", ""), "AVERAGE", 10, s[i].t, "load5")));
		} else {
			CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, s[i].t, "load5"),
					100.0 + (double)i);
		}
		if (i >= 7) {
			CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, s[i].t, "ncpu"), 4);
		}
	}
	/* Again with two new samples behind the old ones: the old are
	 * skipped, the new written. */
	s[0].t = T0 + 130;
	s[1].t = T0 + 140;
	hr_sample_set(&s[0], "load1", 42);
	hr_sample_set(&s[1], "load1", 43);
	p[10] = &s[0];
	p[11] = &s[1];
	CU_ASSERT_EQUAL(rrdstore_write_run(st, p + 8, 4, 10, &err), 1);
	CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, T0 + 130, "load1"), 42);
	CU_ASSERT_EQUAL(fetch(path_of(st, "load", ""), "AVERAGE", 10, T0 + 140, "load1"), 43);
	rrdstore_destroy(st);
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "gauge values fetch back exactly", test_gauge_roundtrip },
	{ "counter fetches back as a rate", test_counter_rate },
	{ "fractional counter (CPU seconds)", test_fractional_counter },
	{ "file layout per step and probe", test_layout },
	{ "bytes per DS", test_bytes_per_ds },
	{ "new value adds a DS, keeps data", test_new_value_adds_ds },
	{ "counter state survives a new DS", test_counter_survives_new_ds },
	{ "a file full of DS names the value", test_ds_cap },
	{ "duplicate and old samples skipped", test_duplicate_and_old },
	{ "missing values stay unknown", test_unknown_stays_nan },
	{ "file names", test_filename },
	{ "file names refused", test_filename_refused },
	{ "unescape malformed", test_unescape_malformed },
	{ "hostile instances stay in the folder", test_hostile_write },
	{ "folder creation and failure", test_folder },
	{ "crash leftovers", test_crash_leftovers },
	{ "file removed behind our back", test_file_removed_behind_our_back },
	{ "bad input", test_bad_input },
	{ "a run of samples in one update", test_write_run },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("rrdstore", tests);
}
