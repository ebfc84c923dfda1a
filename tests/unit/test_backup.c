/* test_backup.c: the backup probe against real files in a temp folder whose
 * mtimes are set with utimensat(): fresh, stale, too small, nothing
 * matching, stamp files, the newest of many, unreadable and non-folder
 * paths, bracket globs, folder globs, clock skew, and config validation. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "testutil.h"
#include "util.h"

#define HOUR 3600.0

static char dir[512];

static void setup_dir(void)
{
	hr_strlcpy(dir, tmpdir_new("backup"), sizeof(dir));
}

/* Makes DIR/rel with size bytes and an mtime age seconds ago (negative:
 * in the future). */
static void mkfile(const char *rel, size_t size, double age)
{
	char full[1024], *data = calloc(1, size + 1);
	struct timespec ts[2];

	CU_ASSERT_FATAL(data != NULL);
	memset(data, 'x', size);
	CU_ASSERT_FATAL(write_file(dir, rel, data, size) == 0);
	free(data);
	snprintf(full, sizeof(full), "%s%s", dir, rel);
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(time(NULL) - age);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, full, ts, 0) == 0);
}

/* Runs the probe with {"b": {ITEM}} where each "%s" in ITEM stands for the
 * temp folder, and returns the one sample (copied into *out). */
static int run_one(const char *item, struct hr_sample *out)
{
	struct hr_recsink rec;
	char cfg[2048];
	const struct hr_sample *s;
	const char *p;
	size_t o;
	int rc;

	o = hr_strlcpy(cfg, "{\"b\": {", sizeof(cfg));
	for (p = item; *p != '\0' && o + strlen(dir) + 3 < sizeof(cfg); p++) {
		if (p[0] == '%' && p[1] == 's') {
			o += hr_strlcpy(cfg + o, dir, sizeof(cfg) - o);
			p++;
		} else {
			cfg[o++] = *p;
		}
	}
	hr_strlcpy(cfg + o, "}}", sizeof(cfg) - o);
	hr_recsink_init(&rec);
	rc = run_probe(&probe_backup, "/", cfg, &rec);
	CU_ASSERT(rc == 0);
	CU_ASSERT(rec.count == 1);
	s = hr_recsink_find(&rec, "backup", "b");
	CU_ASSERT_FATAL(s != NULL);
	*out = *s;
	hr_recsink_free(&rec);
	return rc;
}

static const char *label(const struct hr_sample *s, const char *name)
{
	const char *v = hr_sample_get_label(s, name);

	return v ? v : "";
}

static void test_fresh(void)
{
	struct hr_sample s;

	setup_dir();
	mkfile("/nightly-1.tar.zst", 1234, 2 * HOUR);
	run_one("\"path\": \"%s/*.tar.zst\", \"max_age\": \"26h\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "age_s"), 2 * HOUR, 5);
	ASSERT_VAL(&s, "size_bytes", 1234);
	CU_ASSERT(strstr(label(&s, "file"), "/nightly-1.tar.zst") != NULL);
	CU_ASSERT(hr_sample_get_label(&s, "error") == NULL);
	rm_rf(dir);
}

/* The case the probe exists for: the daily backup stopped a day ago. */
static void test_stale(void)
{
	struct hr_sample s;

	setup_dir();
	mkfile("/nightly.tar.zst", 5000, 27 * HOUR);
	run_one("\"path\": \"%s/*.tar.zst\"", &s); /* default max_age 26 h */
	ASSERT_VAL(&s, "ok", 0);
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "age_s"), 27 * HOUR, 5);
	ASSERT_VAL(&s, "size_bytes", 5000);
	CU_ASSERT(strstr(label(&s, "error"), "max_age") != NULL);
	/* with a looser bound the same file is fine */
	run_one("\"path\": \"%s/*.tar.zst\", \"max_age\": \"2d\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	run_one("\"path\": \"%s/*.tar.zst\", \"max_age\": 100000", &s);
	ASSERT_VAL(&s, "ok", 1);
	rm_rf(dir);
}

static void test_too_small(void)
{
	struct hr_sample s;

	setup_dir();
	mkfile("/empty.tar", 0, 60);
	run_one("\"path\": \"%s/*.tar\"", &s); /* default min_size 1 byte */
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_VAL(&s, "size_bytes", 0);
	CU_ASSERT(strstr(label(&s, "error"), "min_size") != NULL);
	mkfile("/empty.tar", 100, 60);
	run_one("\"path\": \"%s/*.tar\", \"min_size\": 1000", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_VAL(&s, "size_bytes", 100);
	run_one("\"path\": \"%s/*.tar\", \"min_size\": 100", &s);
	ASSERT_VAL(&s, "ok", 1);
	rm_rf(dir);
}

/* Nothing matches: ok 0 and no invented age or size. */
static void test_no_match(void)
{
	struct hr_sample s;
	char want[600];

	setup_dir();
	mkfile("/other.txt", 10, 0);
	run_one("\"path\": \"%s/*.tar.zst\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_NO_VAL(&s, "age_s");
	ASSERT_NO_VAL(&s, "size_bytes");
	CU_ASSERT(hr_sample_get_label(&s, "file") == NULL);
	snprintf(want, sizeof(want), "no file matches %s/*.tar.zst", dir);
	CU_ASSERT_STRING_EQUAL(label(&s, "error"), want);
	/* the folder itself is gone: the reason is given */
	run_one("\"path\": \"%s/gone/*.tar\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_NO_VAL(&s, "age_s");
	CU_ASSERT(strstr(label(&s, "error"), "No such file or directory") != NULL);
	rm_rf(dir);
}

static void test_stamp(void)
{
	struct hr_sample s;

	setup_dir();
	mkfile("/last-good", 0, 3 * HOUR); /* touch(1)ed: empty is fine */
	run_one("\"stamp\": \"%s/last-good\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "age_s"), 3 * HOUR, 5);
	ASSERT_VAL(&s, "size_bytes", 0);
	run_one("\"stamp\": \"%s/last-good\", \"max_age\": \"2h\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	/* min_size applies to a stamp only when asked for */
	run_one("\"stamp\": \"%s/last-good\", \"min_size\": 1", &s);
	ASSERT_VAL(&s, "ok", 0);
	run_one("\"stamp\": \"%s/missing\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_NO_VAL(&s, "age_s");
	CU_ASSERT(strstr(label(&s, "error"), "No such file or directory") != NULL);
	/* a folder is no stamp */
	run_one("\"stamp\": \"%s\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	CU_ASSERT(strstr(label(&s, "error"), "not a regular file") != NULL);
	rm_rf(dir);
}

/* The newest by mtime wins, whatever the names or the order glob gives. */
static void test_newest_of_many(void)
{
	struct hr_sample s;
	char name[64];
	int i;

	setup_dir();
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/db-%02d.sql.gz", i);
		/* db-17 is the newest, though not last by name */
		mkfile(name, (size_t)(100 + i), i == 17 ? 600 : (40 - i) * HOUR);
	}
	mkfile("/db-99.sql.gz.partial", 1, 0); /* does not match */
	run_one("\"path\": \"%s/db-*.sql.gz\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	ASSERT_VAL(&s, "size_bytes", 117);
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "age_s"), 600, 5);
	CU_ASSERT(strstr(label(&s, "file"), "/db-17.sql.gz") != NULL);
	rm_rf(dir);
}

static void test_brackets(void)
{
	struct hr_sample s;

	setup_dir();
	mkfile("/full-1.tar", 10, 5 * HOUR);
	mkfile("/full-2.tar", 20, 1 * HOUR);
	mkfile("/full-x.tar", 30, 60);
	run_one("\"path\": \"%s/full-[0-9].tar\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	ASSERT_VAL(&s, "size_bytes", 20);
	CU_ASSERT(strstr(label(&s, "file"), "/full-2.tar") != NULL);
	/* a match in a bracketed folder, with the folder part in brackets */
	mkfile("/host[a]/x.tar", 7, 60);
	run_one("\"path\": \"%s/host[[]a]/*.tar\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	ASSERT_VAL(&s, "size_bytes", 7);
	rm_rf(dir);
}

/* Folders count only for a pattern ending in '/', by their mtime. */
static void test_folders(void)
{
	struct hr_sample s;
	char full[1024];
	struct timespec ts[2];

	setup_dir();
	mkfile("/daily.0/data", 10, 0);
	mkfile("/daily.1/data", 10, 0);
	snprintf(full, sizeof(full), "%s/daily.0", dir);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 4 * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, full, ts, 0) == 0);
	snprintf(full, sizeof(full), "%s/daily.1", dir);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 28 * 3600;
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, full, ts, 0) == 0);
	run_one("\"path\": \"%s/daily.*/\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "age_s"), 4 * HOUR, 5);
	ASSERT_NO_VAL(&s, "size_bytes"); /* a folder's size is no backup's size */
	CU_ASSERT(strstr(label(&s, "file"), "/daily.0") != NULL);
	/* without the slash folders do not count */
	run_one("\"path\": \"%s/daily.*\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_NO_VAL(&s, "age_s");
	rm_rf(dir);
}

/* A path through a regular file, and (when not root, who reads anything)
 * an unreadable folder: ok 0 with the reason. */
static void test_unreadable(void)
{
	struct hr_sample s;
	char full[1024];

	setup_dir();
	mkfile("/plain", 10, 0);
	run_one("\"path\": \"%s/plain/*.tar\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_NO_VAL(&s, "age_s");
	CU_ASSERT(strstr(label(&s, "error"), "not a folder") != NULL);
	if (geteuid() != 0) {
		mkfile("/locked/a.tar", 10, 0);
		snprintf(full, sizeof(full), "%s/locked", dir);
		CU_ASSERT_FATAL(chmod(full, 0300) == 0);
		run_one("\"path\": \"%s/locked/*.tar\"", &s);
		ASSERT_VAL(&s, "ok", 0);
		ASSERT_NO_VAL(&s, "age_s");
		CU_ASSERT(strstr(label(&s, "error"), "Permission denied") != NULL);
		/* one unreadable folder among several: still not ok */
		mkfile("/open/a.tar", 10, 0);
		run_one("\"path\": \"%s/*/*.tar\"", &s);
		ASSERT_VAL(&s, "ok", 0);
		CU_ASSERT(strstr(label(&s, "error"), "Permission denied") != NULL);
		chmod(full, 0700);
	}
	rm_rf(dir);
}

/* A newest file from the future: a little skew is forgiven (age 0), a lot
 * is a problem that would otherwise hide a stopped backup forever. */
static void test_clock_skew(void)
{
	struct hr_sample s;

	setup_dir();
	mkfile("/a.tar", 10, -60);
	run_one("\"path\": \"%s/*.tar\"", &s);
	ASSERT_VAL(&s, "ok", 1);
	ASSERT_VAL(&s, "age_s", 0);
	mkfile("/a.tar", 10, -3 * 86400);
	run_one("\"path\": \"%s/*.tar\"", &s);
	ASSERT_VAL(&s, "ok", 0);
	ASSERT_VAL(&s, "age_s", 0);
	CU_ASSERT(strstr(label(&s, "error"), "future") != NULL);
	rm_rf(dir);
}

/* The pure verdict, table-driven. */
static void test_verdict(void)
{
	static const struct {
		int have, is_dir;
		double age, size, max_age, min_size;
		const char *error;
		double ok;
		const char *why; /* substring of the error label, or NULL: none */
	} cases[] = {
		{ 1, 0, 100, 10, 3600, 1, "", 1, NULL },
		{ 1, 0, 3600, 10, 3600, 1, "", 1, NULL },  /* the bound itself is fine */
		{ 1, 0, 3601, 10, 3600, 1, "", 0, "over max_age" },
		{ 1, 0, 100, 0, 3600, 1, "", 0, "0 bytes, under min_size 1" },
		{ 1, 1, 100, 0, 3600, 1, "", 1, NULL },    /* folders: no size check */
		{ 1, 0, 100, 10, 3600, 1, "cannot read /x: Permission denied", 0, "Permission" },
		{ 0, 0, 0, 0, 3600, 1, "no file matches /x/*", 0, "no file matches" },
		{ 0, 0, 0, 0, 3600, 1, "", 0, "nothing found" },
		{ 1, 0, -299, 10, 3600, 1, "", 1, NULL },
		{ 1, 0, -301, 10, 3600, 1, "", 0, "future" },
		{ 1, 0, 30 * 3600, 10, 26 * 3600, 1, "", 0, "30.0h old, over max_age 26.0h" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct backup_found f;
		struct hr_sample s;
		const char *e;

		memset(&f, 0, sizeof(f));
		f.have = cases[i].have;
		f.is_dir = cases[i].is_dir;
		f.mtime = 1e9 - cases[i].age;
		f.size = cases[i].size;
		hr_strlcpy(f.path, "/srv/backup/x.tar", sizeof(f.path));
		hr_strlcpy(f.error, cases[i].error, sizeof(f.error));
		hr_sample_init(&s, "backup", "t");
		backup_verdict(&f, 1e9, cases[i].max_age, cases[i].min_size, &s);
		ASSERT_VAL(&s, "ok", cases[i].ok);
		e = hr_sample_get_label(&s, "error");
		if (cases[i].why == NULL) {
			CU_ASSERT(e == NULL);
		} else {
			CU_ASSERT(e != NULL && strstr(e, cases[i].why) != NULL);
			if (e == NULL || strstr(e, cases[i].why) == NULL)
				fprintf(stderr, "case %zu: error label \"%s\"\n", i, e ? e : "(none)");
		}
		if (cases[i].have) {
			ASSERT_VAL(&s, "age_s", cases[i].age > 0 ? cases[i].age : 0);
			if (cases[i].is_dir)
				ASSERT_NO_VAL(&s, "size_bytes");
			else
				ASSERT_VAL(&s, "size_bytes", cases[i].size);
		} else {
			ASSERT_NO_VAL(&s, "age_s");
			ASSERT_NO_VAL(&s, "size_bytes");
		}
	}
}

/* A long path keeps its file name in the label; odd bytes become '?'. */
static void test_label_cut(void)
{
	struct backup_found f;
	struct hr_sample s;
	const char *l;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.have = 1;
	f.mtime = 1e9;
	f.size = 10;
	f.path[0] = '/';
	for (i = 1; i < 300; i++)
		f.path[i] = 'd';
	hr_strlcpy(f.path + 300, "/backup-\x01\xc3.tar", sizeof(f.path) - 300);
	hr_sample_init(&s, "backup", "t");
	backup_verdict(&f, 1e9, 3600, 1, &s);
	l = hr_sample_get_label(&s, "file");
	CU_ASSERT_FATAL(l != NULL);
	CU_ASSERT(strncmp(l, "...", 3) == 0);
	CU_ASSERT(strlen(l) == HR_LABEL_VALUE_MAX - 1);
	CU_ASSERT(strcmp(l + strlen(l) - 15, "/backup-??.tar") == 0 ||
		  strstr(l, "/backup-??.tar") != NULL);
}

static void test_several_backups(void)
{
	struct hr_recsink rec;
	char cfg[2048];

	setup_dir();
	mkfile("/a/x.tar", 10, HOUR);
	mkfile("/b/x.tar", 10, 50 * HOUR);
	snprintf(cfg, sizeof(cfg),
		 "{\"interval\": 300, \"alpha\": {\"path\": \"%s/a/*.tar\"},"
		 " \"beta\": {\"path\": \"%s/b/*.tar\"}, \"gamma\": {\"path\": \"%s/c/*.tar\"}}",
		 dir, dir, dir);
	hr_recsink_init(&rec);
	CU_ASSERT(run_probe(&probe_backup, "/", cfg, &rec) == 0);
	CU_ASSERT(rec.count == 3);
	ASSERT_VAL(hr_recsink_find(&rec, "backup", "alpha"), "ok", 1);
	ASSERT_VAL(hr_recsink_find(&rec, "backup", "beta"), "ok", 0);
	ASSERT_VAL(hr_recsink_find(&rec, "backup", "gamma"), "ok", 0);
	CU_ASSERT(hr_recsink_find(&rec, "backup", "interval") == NULL);
	hr_recsink_free(&rec);
	rm_rf(dir);
}

/* Every bad config is refused, each problem with its JSON path. */
static void test_config(void)
{
	static const struct {
		const char *json;
		const char *want; /* substring of one error */
	} cases[] = {
		{ NULL, "probes.backup: no backups configured" },
		{ "{}", "probes.backup: no backups configured" },
		{ "{\"interval\": 60}", "probes.backup: no backups configured" },
		{ "{\"n\": 5}", "probes.backup.n: expected an object" },
		{ "{\"n\": {}}", "probes.backup.n: missing \"path\"" },
		{ "{\"n\": {\"path\": \"/a/*\", \"stamp\": \"/b\"}}", "probes.backup.n: give either" },
		{ "{\"n\": {\"path\": \"srv/*.tar\"}}", "probes.backup.n.path: must be an absolute path" },
		{ "{\"n\": {\"stamp\": \"ok\"}}", "probes.backup.n.stamp: must be an absolute path" },
		{ "{\"n\": {\"path\": 7}}", "probes.backup.n.path: expected a string" },
		{ "{\"n\": {\"path\": \"\"}}", "probes.backup.n.path: must not be empty" },
		{ "{\"n\": {\"path\": \"/a\", \"max_age\": \"soon\"}}", "probes.backup.n.max_age: expected a duration" },
		{ "{\"n\": {\"path\": \"/a\", \"max_age\": 0}}", "probes.backup.n.max_age: duration 0s is out of range" },
		{ "{\"n\": {\"path\": \"/a\", \"min_size\": -1}}", "probes.backup.n.min_size: -1 is out of range" },
		{ "{\"n\": {\"path\": \"/a\", \"min_size\": \"1k\"}}", "probes.backup.n.min_size: expected a number" },
		{ "{\"n\": {\"path\": \"/a\", \"maxage\": \"1h\"}}", "probes.backup.n.maxage: unknown key" },
		{ "{\"n\": {\"path\": \"/a\"}, \"n\": {\"path\": \"/b\"}}", "probes.backup.n: duplicate key" },
		{ "{\"\": {\"path\": \"/a\"}}", "probes.backup.: a backup needs a non-empty name" },
		/* one good and one bad: still refused, the bad one named */
		{ "{\"good\": {\"path\": \"/a\"}, \"bad\": {\"path\": \"rel\"}}", "probes.backup.bad.path" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT(probe_setup_refuses(&probe_backup, "probes.backup", cases[i].json, cases[i].want));
}

/* A backup that keeps failing is logged once, not every interval. */
static void test_logged_once(void)
{
	struct probe_env env = { .root = "/" };
	struct hr_recsink rec;
	struct hr_errs errs;
	struct hr_err err;
	char cfg_s[1024], path[] = "/tmp/hr-backup-log-XXXXXX", line[1024];
	void *state = NULL;
	cJSON *cfg;
	int fd, saved, i, n = 0;
	FILE *f;

	setup_dir();
	snprintf(cfg_s, sizeof(cfg_s), "{\"b\": {\"path\": \"%s/*.tar\"}}", dir);
	cfg = cJSON_Parse(cfg_s);
	hr_errs_init(&errs);
	hr_recsink_init(&rec);
	CU_ASSERT_FATAL(probe_backup.setup(&env, cfg, "probes.backup", &state, &errs) == 0);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < 5; i++)
		probe_backup.read(state, &rec.sink, &err);
	mkfile("/x.tar", 10, 0);
	probe_backup.read(state, &rec.sink, &err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	probe_backup.teardown(state);
	CU_ASSERT(rec.count == 6);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "probe backup: b: no file matches") != NULL)
			n++;
	fclose(f);
	unlink(path);
	CU_ASSERT(n == 1);
	hr_recsink_free(&rec);
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "fresh file is ok", test_fresh },
	{ "stale backup (27 h) is not ok", test_stale },
	{ "too small is not ok", test_too_small },
	{ "nothing matches: ok 0, no age or size", test_no_match },
	{ "stamp file", test_stamp },
	{ "newest of many wins", test_newest_of_many },
	{ "glob with brackets", test_brackets },
	{ "folder globs", test_folders },
	{ "unreadable and non-folder paths", test_unreadable },
	{ "clock skew", test_clock_skew },
	{ "verdict table", test_verdict },
	{ "long and odd file names in labels", test_label_cut },
	{ "several backups, interval key skipped", test_several_backups },
	{ "config validation", test_config },
	{ "a failure is logged once", test_logged_once },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("backup", tests);
}
