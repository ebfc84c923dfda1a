/* test_store.c: the central's storing rules, driven through ingest_handle():
 * a sample at or before its archive's last update, or out of order within
 * its batch, refuses the whole batch (400) with nothing written; a batch
 * left half-stored (storing intent in the registry) is taken back when
 * resent, even merged under another seq; hosts go stale after five
 * intervals without data and fresh again with the next batch (fake clock).
 * And the undo journal that keeps an update cut short by a kill from
 * shifting an archive's rows (rrdstore_set_journal). */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <rrd.h>
#include <sqlite3.h>

#include "crc32c.h"
#include "ingest.h"
#include "registry.h"
#include "rrdstore.h"
#include "testutil.h"

#define T0 1764316800

static char top[PATH_MAX], data[PATH_MAX + 32];

/* An ingest on DATA as it is (a restarted central) knowing web1. */
static struct ingest *reopen(void)
{
	struct central_host h;
	struct hr_err err;
	struct ingest *in;

	in = ingest_new(data, 4u << 20, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "web1");
	gnutls_hash_fast(GNUTLS_DIG_SHA256, "tok", 3, h.token_sha256);
	CU_ASSERT_EQUAL(ingest_set_hosts(in, &h, 1, &err), 0);
	return in;
}

static struct ingest *setup(void)
{
	snprintf(top, sizeof(top), "%s", tmpdir_new("store"));
	snprintf(data, sizeof(data), "%s/data", top);
	return reopen();
}

static void teardown(struct ingest *in)
{
	ingest_destroy(in);
	rm_rf(top);
}

/* A document of web1 with interval 10 and the given samples, each "T:PROBE:
 * INSTANCE:VALUE" (load1 for load, degraded for md). */
static void doc(char *dst, size_t n, int seq, const char *const *samples, size_t ns)
{
	size_t i, len;

	len = (size_t)snprintf(dst, n, "{\"host\": \"web1\", \"seq\": %d, \"interval\": 10,"
			       " \"samples\": [", seq);
	for (i = 0; i < ns; i++) {
		long t;
		char probe[16], inst[32];
		double v;

		CU_ASSERT_EQUAL_FATAL(sscanf(samples[i], "%ld:%15[^:]:%31[^:]:%lf", &t, probe, inst, &v), 4);
		if (strcmp(inst, "-") == 0)
			inst[0] = '\0';
		len += (size_t)snprintf(dst + len, n - len,
					"%s{\"t\": %ld, \"probe\": \"%s\", \"instance\": \"%s\","
					" \"values\": {\"%s\": %g}}", i ? ", " : "", t, probe, inst,
					strcmp(probe, "load") == 0 ? "load1" : "degraded", v);
	}
	snprintf(dst + len, n - len, "]}");
}

static unsigned post(struct ingest *in, int seq, const char *const *samples, size_t ns,
		     struct ingest_reply *r)
{
	char body[8192];

	doc(body, sizeof(body), seq, samples, ns);
	ingest_handle(in, "tok", body, strlen(body), T0 + 600, r);
	if (r->status != 200)
		fprintf(stderr, "  seq %d: %u %s\n", seq, r->status, r->body);
	return r->status;
}

static time_t last_of(const char *file)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/rrd/web1/%s", data, file);
	if (access(p, F_OK) != 0)
		return 0;
	return rrd_last_r(p);
}

/* One value of a DS at its last update, or NAN. */
static double value_of(const char *file, const char *ds)
{
	char p[PATH_MAX * 2], **names = NULL, **vals = NULL;
	unsigned long cnt = 0, i;
	time_t last;
	double v = NAN;

	snprintf(p, sizeof(p), "%s/rrd/web1/%s", data, file);
	if (rrd_lastupdate_r(p, &last, &cnt, &names, &vals) != 0)
		return NAN;
	for (i = 0; i < cnt; i++) {
		if (strcmp(names[i], ds) == 0 && strcmp(vals[i], "U") != 0)
			v = strtod(vals[i], NULL);
		free(names[i]);
		free(vals[i]);
	}
	free(names);
	free(vals);
	return v;
}

static long long db_int(const char *sql)
{
	char p[PATH_MAX * 2];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	snprintf(p, sizeof(p), "%s/headroom.db", data);
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#define LAST_SEQ "SELECT last_seq FROM hosts WHERE name = 'web1'"
#define INTENTS "SELECT count(*) FROM storing"

/* Any sample at or before its archive's last update refuses the batch:
 * the message names it, and neither the archives nor the seq move, not
 * even for the samples of the batch that were new. */
static void test_last_update(void)
{
	struct ingest *in = setup();
	struct ingest_reply r;
	static const char *const first[] = { "1764316800:load:-:1", "1764316800:md:md0:0" };
	static const char *const same[] = { "1764316810:load:-:2", "1764316800:md:md0:1" };
	static const char *const older[] = { "1764316810:load:-:2", "1764316790:md:md0:1" };
	static const char *const next[] = { "1764316810:load:-:2", "1764316810:md:md0:1" };

	CU_ASSERT_EQUAL_FATAL(post(in, 1, first, 2, &r), 200);
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0);
	CU_ASSERT_EQUAL(post(in, 2, same, 2, &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "samples[1]: t 1764316800 is not after the archive's last update 1764316800 (md \\\"md0\\\")"));
	CU_ASSERT_EQUAL(post(in, 2, older, 2, &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "samples[1]: t 1764316790 is not after the archive's last update 1764316800"));
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0);
	CU_ASSERT_EQUAL(last_of("md-md0.rrd"), T0);
	CU_ASSERT_EQUAL(db_int(LAST_SEQ), 1);
	CU_ASSERT_EQUAL(db_int(INTENTS), 0);
	/* The sender fixes it: the next batch is taken as usual. */
	CU_ASSERT_EQUAL(post(in, 2, next, 2, &r), 200);
	CU_ASSERT_EQUAL(last_of("md-md0.rrd"), T0 + 10);
	CU_ASSERT_EQUAL(db_int(LAST_SEQ), 2);
	teardown(in);
}

/* Within a batch each archive's samples must go forward in time; other
 * archives' samples may interleave. Refused before any file exists. */
static void test_batch_order(void)
{
	struct ingest *in = setup();
	struct ingest_reply r;
	static const char *const back[] = { "1764316820:load:-:1", "1764316800:md:md0:0",
					    "1764316810:load:-:2" };
	static const char *const twice[] = { "1764316800:md:md0:0", "1764316800:md:md0:1" };
	static const char *const good[] = { "1764316810:md:md0:0", "1764316800:load:-:1",
					    "1764316820:md:md0:1", "1764316810:load:-:2" };

	CU_ASSERT_EQUAL(post(in, 1, back, 3, &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "samples[2]: t 1764316810 is not after samples[0]'s t 1764316820"));
	CU_ASSERT_EQUAL(post(in, 1, twice, 2, &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "samples[1]: t 1764316800 is not after samples[0]'s"));
	CU_ASSERT_EQUAL(last_of("load.rrd"), 0);
	CU_ASSERT_EQUAL(last_of("md-md0.rrd"), 0);
	CU_ASSERT_EQUAL(db_int(LAST_SEQ), -1);
	CU_ASSERT_EQUAL(post(in, 1, good, 4, &r), 200);
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0 + 10);
	CU_ASSERT_EQUAL(last_of("md-md0.rrd"), T0 + 20);
	teardown(in);
}

/* A batch that fails half-way leaves its intent: the resend, merged with
 * the next batch under a higher seq, is stored, the part written by the
 * failed try skipped. The failure is real: the batch's second archive was
 * replaced behind the store's back by a file librrd cannot update. */
static void test_half_stored(void)
{
	struct ingest *in = setup();
	struct ingest_reply r;
	char md[PATH_MAX * 2];
	static const char *const first[] = { "1764316800:load:-:1", "1764316800:md:md1:0" };
	static const char *const b2[] = { "1764316810:load:-:2", "1764316810:md:md1:1" };
	static const char *const merged[] = { "1764316810:load:-:2", "1764316810:md:md1:1",
					      "1764316820:load:-:3", "1764316820:md:md1:0" };

	CU_ASSERT_EQUAL_FATAL(post(in, 1, first, 2, &r), 200);
	snprintf(md, sizeof(md), "%s/rrd/web1/md-md1.rrd", data);
	CU_ASSERT_EQUAL_FATAL(unlink(md), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(data, "/rrd/web1/md-md1.rrd", "not an RRD file", 15), 0);
	CU_ASSERT_EQUAL(post(in, 2, b2, 2, &r), 503);
	/* load got its sample, md none, seq 2 not committed: intent left. */
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0 + 10);
	CU_ASSERT_EQUAL(db_int(LAST_SEQ), 1);
	CU_ASSERT_EQUAL(db_int("SELECT seq FROM storing WHERE host = 'web1'"), 2);
	CU_ASSERT_EQUAL(db_int("SELECT t FROM storing WHERE host = 'web1'"), T0 + 10);
	/* The operator removes the broken file: the resend makes it anew. */
	CU_ASSERT_EQUAL(unlink(md), 0);
	/* The agent merged seq 2 and 3 into one document of seq 3. */
	CU_ASSERT_EQUAL(post(in, 3, merged, 4, &r), 200);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"acked\": 3}");
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0 + 20);
	CU_ASSERT_EQUAL(last_of("md-md1.rrd"), T0 + 20);
	CU_ASSERT_DOUBLE_EQUAL(value_of("load.rrd", "load1"), 3, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(value_of("md-md1.rrd", "degraded"), 0, 1e-9);
	CU_ASSERT_EQUAL(db_int(LAST_SEQ), 3);
	CU_ASSERT_EQUAL(db_int(INTENTS), 0);
	/* With the intent gone, old samples are refused again. */
	CU_ASSERT_EQUAL(post(in, 4, merged, 4, &r), 400);
	teardown(in);
}

/* A central killed between the RRD writes and the commit: the archives
 * hold the batch, the registry has its intent and the older seq. Made by
 * hand here (a second ingest on the same folder, as after a restart, with
 * the intent put through the registry's own call). */
static void test_crash_intent(void)
{
	struct ingest *in = setup();
	struct ingest_reply r;
	struct registry *reg;
	struct hr_err err;
	char db[PATH_MAX * 2];
	static const char *const first[] = { "1764316800:load:-:1", "1764316800:md:md0:0" };
	static const char *const crashed[] = { "1764316810:load:-:5", "1764316810:md:md0:1" };
	static const char *const resend[] = { "1764316810:load:-:5", "1764316810:md:md0:1",
					      "1764316820:load:-:6" };

	CU_ASSERT_EQUAL_FATAL(post(in, 1, first, 2, &r), 200);
	CU_ASSERT_EQUAL_FATAL(post(in, 2, crashed, 2, &r), 200);
	ingest_destroy(in);
	/* Undo the commit of seq 2, keep its archives: the crash. */
	snprintf(db, sizeof(db), "%s/headroom.db", data);
	reg = registry_open(db, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
	{
		sqlite3 *h = NULL;

		CU_ASSERT_EQUAL(sqlite3_open(db, &h), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_exec(h, "UPDATE hosts SET last_seq = 1", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	/* Without the intent the resend is refused ... */
	in = reopen();
	CU_ASSERT_EQUAL(post(in, 3, resend, 3, &r), 400);
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0 + 10);
	/* ... with it, taken, the crashed part skipped. */
	CU_ASSERT_EQUAL(registry_intent_set(reg, "web1", 2, T0 + 10, &err), 0);
	registry_close(reg);
	CU_ASSERT_EQUAL(post(in, 3, resend, 3, &r), 200);
	CU_ASSERT_EQUAL(last_of("load.rrd"), T0 + 20);
	CU_ASSERT_EQUAL(last_of("md-md0.rrd"), T0 + 10);
	CU_ASSERT_EQUAL(db_int(LAST_SEQ), 3);
	CU_ASSERT_EQUAL(db_int(INTENTS), 0);
	teardown(in);
}

struct seen {
	int n, stale;
	time_t last_seen, stale_since;
	unsigned interval;
	long long last_seq;
};

static int seen_host(void *arg, const struct registry_host *h)
{
	struct seen *s = arg;

	if (strcmp(h->name, "web1") == 0) {
		s->stale = h->stale;
		s->last_seen = h->last_seen;
		s->stale_since = h->stale_since;
		s->interval = h->interval;
		s->last_seq = (long long)h->last_seq;
	}
	s->n++;
	return 0;
}

static struct seen host_state(void)
{
	struct seen s = { 0, -1, 0, 0, 0, -1 };
	struct registry *reg;
	struct hr_err err;
	char db[PATH_MAX * 2];

	snprintf(db, sizeof(db), "%s/headroom.db", data);
	reg = registry_open(db, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
	CU_ASSERT_EQUAL(registry_hosts(reg, seen_host, &s, &err), 0);
	registry_close(reg);
	return s;
}

/* Stale after 5 intervals (10 s here) without a batch, marked once; fresh
 * with the next batch. The clock is the test's. */
static void test_stale(void)
{
	struct ingest *in = setup();
	struct ingest_reply r;
	struct seen s;
	static const char *const one[] = { "1764316800:load:-:1" };
	static const char *const two[] = { "1764316810:load:-:1" };
	const time_t seen = T0 + 600; /* post()'s clock */

	CU_ASSERT_EQUAL(ingest_check_stale(in, seen), 0); /* no hosts yet */
	CU_ASSERT_EQUAL_FATAL(post(in, 1, one, 1, &r), 200);
	s = host_state();
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.stale, 0);
	CU_ASSERT_EQUAL(s.last_seen, seen);
	CU_ASSERT_EQUAL(s.interval, 10);
	CU_ASSERT_EQUAL(s.last_seq, 1);
	CU_ASSERT_EQUAL(ingest_check_stale(in, seen + 49), 0);
	CU_ASSERT_EQUAL(host_state().stale, 0);
	CU_ASSERT_EQUAL(ingest_check_stale(in, seen + 50), 0);
	s = host_state();
	CU_ASSERT_EQUAL(s.stale, 1);
	CU_ASSERT_EQUAL(s.stale_since, seen + 50);
	/* Marked once: a later look leaves the mark (and logs nothing). */
	CU_ASSERT_EQUAL(ingest_check_stale(in, seen + 500), 0);
	CU_ASSERT_EQUAL(host_state().stale_since, seen + 50);
	CU_ASSERT_EQUAL(post(in, 2, two, 1, &r), 200);
	s = host_state();
	CU_ASSERT_EQUAL(s.stale, 0);
	CU_ASSERT_EQUAL(s.stale_since, 0);
	CU_ASSERT_EQUAL(s.last_seq, 2);
	teardown(in);
}

/* --- the undo journal (rrdstore_set_journal) ------------------------------
 * Folder TOP/j: the archives in TOP/j/rrd, the journal in
 * TOP/j/journal/x.undo. A kill in an update is made by hand: the record an
 * update writes, then (part of) the update's writes, then a new store. */

static char jrrd[PATH_MAX + 64], jfile[PATH_MAX + 64];

static void jsetup(void)
{
	char p[PATH_MAX + 64];

	snprintf(top, sizeof(top), "%s", tmpdir_new("undo"));
	snprintf(p, sizeof(p), "%s/j", top);
	CU_ASSERT_EQUAL(mkdir(p, 0755), 0);
	snprintf(jrrd, sizeof(jrrd), "%s/j/rrd", top);
	snprintf(jfile, sizeof(jfile), "%s/j/journal/x.undo", top);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat sb;
	unsigned char *buf;
	FILE *f = fopen(path, "rb");

	*len = 0;
	if (f == NULL || fstat(fileno(f), &sb) < 0) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf != NULL && fread(buf, 1, (size_t)sb.st_size, f) == (size_t)sb.st_size)
		*len = (size_t)sb.st_size;
	fclose(f);
	return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Is the file at path byte for byte buf? */
static int same_bytes(const char *path, const unsigned char *buf, size_t len)
{
	size_t n;
	unsigned char *now = slurp(path, &n);
	int same = now != NULL && n == len && memcmp(now, buf, len) == 0;

	free(now);
	return same;
}

static struct hr_sample load_at(time_t t, double v)
{
	struct hr_sample s;

	memset(&s, 0, sizeof(s));
	s.t = t;
	snprintf(s.probe, sizeof(s.probe), "load");
	s.nvalues = 1;
	snprintf(s.values[0].name, sizeof(s.values[0].name), "load1");
	s.values[0].v = v;
	return s;
}

/* Samples t = from, from+10, ... to, value (t - T0) / 10, in runs of 25 (a
 * batch's update). 0, or -1. */
static int write_load(struct rrdstore *st, time_t from, time_t to)
{
	struct hr_sample s[25];
	const struct hr_sample *run[25];
	struct hr_err err;
	size_t n = 0;
	time_t t;

	for (t = from; t <= to; t += 10) {
		s[n] = load_at(t, (double)(t - T0) / 10);
		run[n] = &s[n];
		if (++n == 25 || t + 10 > to) {
			if (rrdstore_write_run(st, run, n, 10, &err) < 0) {
				fprintf(stderr, "  %s\n", err.msg);
				return -1;
			}
			n = 0;
		}
	}
	return 0;
}

/* The record an update of DIR/NAME up to tmax would write, into the
 * journal file. */
static void journal_record(const char *name, time_t tmax, unsigned char **rec, size_t *len)
{
	char p[PATH_MAX * 2];
	struct hr_err err;
	size_t cap = 0;
	int fd;

	*rec = NULL;
	snprintf(p, sizeof(p), "%s/%s", jrrd, name);
	fd = open(p, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(rrdstore_undo_build(fd, name, tmax, rec, &cap, len, &err), 0);
	close(fd);
}

static void journal_put(const unsigned char *rec, size_t len)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/j/journal", top);
	mkdir(p, 0700);
	spit(jfile, rec, len);
}

/* A new store on TOP/j/rrd given the journal: set_journal's result, its
 * note into note. */
static int reopen_journal(char *note, size_t n)
{
	struct rrdstore *st;
	struct hr_err err, nt;
	int rc;

	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	rc = rrdstore_set_journal(st, jfile, &nt, &err);
	if (rc < 0)
		fprintf(stderr, "  %s\n", err.msg);
	snprintf(note, n, "%s", rc > 0 ? nt.msg : "");
	rrdstore_destroy(st);
	return rc;
}

/* The update that was killed, written by librrd itself: the whole of it,
 * then the header of before put back (the kill before the live header). */
static void update_half(const char *path, const unsigned char *pre, size_t hdrlen,
			time_t from, time_t to)
{
	char lines[64][48];
	const char *argv[64];
	int n = 0, fd;
	time_t t;

	for (t = from; t <= to && n < 64; t += 10, n++) {
		snprintf(lines[n], sizeof(lines[n]), "%lld:%lld", (long long)t,
			 (long long)(t - T0) / 10 + 1000);
		argv[n] = lines[n];
	}
	rrd_clear_error();
	CU_ASSERT_EQUAL_FATAL(rrd_updatex_r(path, NULL, 0, n, argv), 0);
	fd = open(path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, pre, hdrlen, 0), (ssize_t)hdrlen);
	close(fd);
}

static size_t rec_hdrlen(const unsigned char *rec, size_t len)
{
	struct rrdstore_undo u;
	struct hr_err err;

	CU_ASSERT_EQUAL_FATAL(rrdstore_undo_parse(rec, len, &u, &err), 1);
	return (size_t)u.hdrlen;
}

/* Killed in an update of 40 intervals: the file comes back byte for byte,
 * the record goes, and the resend then stores each value at its own time. */
static void test_undo_restore(void)
{
	struct rrdstore *st;
	struct hr_err err;
	char p[PATH_MAX * 2], note[HR_ERR_MAX];
	unsigned char *pre, *rec;
	size_t prelen, reclen;

	jsetup();
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0, T0 + 200), 0);
	rrdstore_destroy(st);
	snprintf(p, sizeof(p), "%s/load.rrd", jrrd);
	pre = slurp(p, &prelen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
	journal_record("load.rrd", T0 + 600, &rec, &reclen);
	journal_put(rec, reclen);
	update_half(p, pre, rec_hdrlen(rec, reclen), T0 + 210, T0 + 600);
	CU_ASSERT_FALSE(same_bytes(p, pre, prelen));

	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "rolled back an interrupted update of "));
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "load.rrd"));
	CU_ASSERT(same_bytes(p, pre, prelen));
	/* Cleared: a second start finds nothing. */
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 0);
	CU_ASSERT_EQUAL(rrd_last_r(p), T0 + 200);
	free(pre);
	free(rec);
	rm_rf(top);
}

/* An RRA near its end: the rows the update writes wrap to row 0, and come
 * back too. Two archives of 10 rows, one step and three steps a row. */
static void test_undo_wrap(void)
{
	const char *spec[] = { "DS:load1:GAUGE:20:U:U", "RRA:AVERAGE:0.5:1:10",
			       "RRA:MAX:0.5:3:10" };
	char p[PATH_MAX * 2], note[HR_ERR_MAX];
	const char *one[1];
	char line[48];
	unsigned char *pre, *rec;
	size_t prelen, reclen;
	struct rrdstore_undo u;
	struct hr_err err;
	time_t t;

	jsetup();
	CU_ASSERT_EQUAL_FATAL(mkdir(jrrd, 0755), 0);
	snprintf(p, sizeof(p), "%s/load.rrd", jrrd);
	CU_ASSERT_EQUAL_FATAL(rrd_create_r2(p, 10, T0, 0, NULL, NULL, 3, spec), 0);
	/* librrd starts each RRA at a random row: step until the first one's
	 * current row is 7 of 10 (rra_ptr[0], 16 bytes before the header's
	 * end), so that the next 6 rows are 8, 9, 0, 1, 2, 3. */
	for (t = T0 + 10;; t += 10) {
		unsigned long cur;

		journal_record("load.rrd", t - 10, &rec, &reclen);
		CU_ASSERT_EQUAL_FATAL(rrdstore_undo_parse(rec, reclen, &u, &err), 1);
		memcpy(&cur, u.hdr + u.hdrlen - 2 * sizeof(cur), sizeof(cur));
		free(rec);
		if (cur == 7)
			break;
		CU_ASSERT_FATAL(t < T0 + 200);
		snprintf(line, sizeof(line), "%lld:%lld", (long long)t, (long long)(t - T0));
		one[0] = line;
		CU_ASSERT_EQUAL_FATAL(rrd_updatex_r(p, NULL, 0, 1, one), 0);
	}
	pre = slurp(p, &prelen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
	journal_record("load.rrd", t + 50, &rec, &reclen);
	CU_ASSERT_EQUAL_FATAL(rrdstore_undo_parse(rec, reclen, &u, &err), 1);
	CU_ASSERT(u.nseg > 2); /* the first RRA in two pieces */
	journal_put(rec, reclen);
	update_half(p, pre, (size_t)u.hdrlen, t, t + 50);
	CU_ASSERT_FALSE(same_bytes(p, pre, prelen));
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 1);
	CU_ASSERT(same_bytes(p, pre, prelen));
	free(pre);
	free(rec);
	rm_rf(top);
}

/* A record cut short or with a bad checksum was being written when the
 * process died, before the archive was touched: discarded, the archive
 * left as it is. */
static void test_undo_torn(void)
{
	struct rrdstore *st;
	struct hr_err err;
	char p[PATH_MAX * 2], note[HR_ERR_MAX];
	unsigned char *pre, *rec;
	size_t prelen, reclen;

	jsetup();
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0, T0 + 100), 0);
	rrdstore_destroy(st);
	snprintf(p, sizeof(p), "%s/load.rrd", jrrd);
	journal_record("load.rrd", T0 + 200, &rec, &reclen);
	/* The archive is changed (it must not be rolled back to rec). */
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0 + 110, T0 + 200), 0);
	rrdstore_destroy(st);
	pre = slurp(p, &prelen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pre);

	rec[reclen - 3] ^= 0x40;
	journal_put(rec, reclen);
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "discarded"));
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "checksum"));
	CU_ASSERT(same_bytes(p, pre, prelen));
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 0);

	rec[reclen - 3] ^= 0x40;
	journal_put(rec, reclen / 2);
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "written only in part"));
	CU_ASSERT(same_bytes(p, pre, prelen));
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 0);
	free(pre);
	free(rec);
	rm_rf(top);
}

/* A whole record (good checksum) naming a file outside the store's folder
 * is refused: neither that file nor the archives are written. */
static void test_undo_outside(void)
{
	struct rrdstore *st;
	struct hr_err err;
	char p[PATH_MAX * 2], victim[PATH_MAX * 2], note[HR_ERR_MAX];
	unsigned char *pre, *rec, *vic;
	size_t prelen, reclen, viclen;
	uint32_t crc;

	jsetup();
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0, T0 + 100), 0);
	rrdstore_destroy(st);
	snprintf(p, sizeof(p), "%s/load.rrd", jrrd);
	journal_record("load.rrd", T0 + 200, &rec, &reclen);
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0 + 110, T0 + 200), 0);
	rrdstore_destroy(st);
	pre = slurp(p, &prelen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pre);
	/* TOP/j/x.rrd, a copy of the archive, named "../x.rrd" (as long as
	 * "load.rrd") in the record, its checksum made right again. */
	snprintf(victim, sizeof(victim), "%s/j/x.rrd", top);
	spit(victim, pre, prelen);
	CU_ASSERT_EQUAL_FATAL(memcmp(rec + 48, "load.rrd", 8), 0);
	memcpy(rec + 48, "../x.rrd", 8);
	memset(rec + 8, 0, 4);
	crc = hr_crc32c(0, rec, reclen);
	memcpy(rec + 8, &crc, 4);
	journal_put(rec, reclen);
	CU_ASSERT_EQUAL(reopen_journal(note, sizeof(note)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(note, "not a file of the store's folder: refused"));
	CU_ASSERT(same_bytes(victim, pre, prelen));
	CU_ASSERT(same_bytes(p, pre, prelen));
	vic = slurp(victim, &viclen);
	CU_ASSERT_EQUAL(viclen, prelen);
	free(vic);
	free(pre);
	free(rec);
	rm_rf(top);
}

/* An archive whose header and rows do not add up to its size is not
 * updated without a record: the write fails and says so. */
static void test_undo_layout(void)
{
	struct rrdstore *st;
	struct hr_sample s;
	struct hr_err err, note;
	char p[PATH_MAX * 2];
	FILE *f;

	jsetup();
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0, T0 + 100), 0);
	rrdstore_destroy(st);
	snprintf(p, sizeof(p), "%s/load.rrd", jrrd);
	f = fopen(p, "ab");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite("12345678", 1, 8, f);
	fclose(f);
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(rrdstore_set_journal(st, jfile, &note, &err), 0);
	s = load_at(T0 + 110, 11);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "do not add up to its size"));
	rrdstore_destroy(st);
	CU_ASSERT_EQUAL(rrd_last_r(p), T0 + 100);
	rm_rf(top);
}

/* A writer killed (SIGKILL) at any moment of a loop of updates, again and
 * again, each restart given the journal and resuming after the archive's
 * last update as a resend does: every stored time holds its own value. */
static void test_undo_kill(void)
{
	struct rrdstore *st;
	struct hr_sample s = load_at(T0, 0);
	struct hr_err err, note;
	char p[PATH_MAX * 2];
	time_t last = 0, start, end;
	unsigned long step = 10, cnt = 0, i;
	char **names = NULL;
	rrd_value_t *vals = NULL;
	int round, rolled = 0, bad = 0, known = 0, expect = 0, status;
	pid_t pid;

	jsetup();
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(write_load(st, T0, T0), 0);
	rrdstore_destroy(st);
	for (round = 0; round < 40; round++) {
		st = rrdstore_new(jrrd, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(st);
		status = rrdstore_set_journal(st, jfile, &note, &err);
		CU_ASSERT_FATAL(status >= 0);
		if (status == 1 && strstr(note.msg, "rolled back") != NULL)
			rolled++;
		CU_ASSERT_EQUAL_FATAL(rrdstore_last(st, &s, &last, &err), 0);
		fflush(NULL);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0)
			_exit(write_load(st, last + 10, last + 10 * 25 * 400) < 0 ? 1 : 0);
		rrdstore_destroy(st);
		/* Spread the kills over the updates' phases. */
		usleep((useconds_t)(500 + (round * 7919) % 20000));
		kill(pid, SIGKILL);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
	}
	st = rrdstore_new(jrrd, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	status = rrdstore_set_journal(st, jfile, &note, &err);
	if (status == 1 && strstr(note.msg, "rolled back") != NULL)
		rolled++;
	CU_ASSERT_EQUAL_FATAL(rrdstore_last(st, &s, &last, &err), 0);
	rrdstore_destroy(st);
	fprintf(stderr, "  40 kills: %d updates rolled back, archive up to +%lld s\n", rolled,
		(long long)(last - T0));

	snprintf(p, sizeof(p), "%s/load.rrd", jrrd);
	start = T0;
	end = last;
	rrd_clear_error();
	CU_ASSERT_EQUAL_FATAL(rrd_fetch_r(p, "AVERAGE", &start, &end, &step, &cnt, &names, &vals), 0);
	CU_ASSERT_EQUAL(cnt, 1);
	/* librrd answers from the finest archive that covers the range: a
	 * row of step s ending at ts averages the values of (ts - s, ts],
	 * (ts - T0) / 10 - (s / 10 - 1) / 2; a shifted row is a whole step
	 * off. Every row is known: a rolled-back update was written again. */
	for (i = 0; start + (time_t)((i + 1) * step) <= end; i++) {
		time_t ts = start + (time_t)((i + 1) * step);
		double want = (double)(ts - T0) / 10 - ((double)step / 10 - 1) / 2;

		if (ts - (time_t)step < T0 || ts > last)
			continue;
		expect++;
		if (isnan(vals[i]))
			continue;
		known++;
		if (fabs(vals[i] - want) > 1e-9 * want && bad++ < 3)
			fprintf(stderr, "  t +%lld holds %g, not %g (step %lu)\n",
				(long long)(ts - T0), vals[i], want, step);
	}
	CU_ASSERT(expect > 100);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(known, expect);
	for (i = 0; i < cnt; i++)
		free(names[i]);
	free(names);
	free(vals);
	rm_rf(top);
}

static CU_TestInfo tests[] = {
	{ "at or before the last update: 400, nothing written", test_last_update },
	{ "order within a batch", test_batch_order },
	{ "half-stored batch resent under a merged seq", test_half_stored },
	{ "crash between writes and commit", test_crash_intent },
	{ "stale hosts, fake clock", test_stale },
	{ "undo: an interrupted update rolled back byte for byte", test_undo_restore },
	{ "undo: rows that wrap to the start of an RRA", test_undo_wrap },
	{ "undo: a torn record discarded, the archive untouched", test_undo_torn },
	{ "undo: a record naming a file outside refused", test_undo_outside },
	{ "undo: an archive of another layout not updated", test_undo_layout },
	{ "undo: writer killed again and again, no shifted row", test_undo_kill },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("store", tests);
}
