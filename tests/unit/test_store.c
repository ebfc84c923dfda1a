/* test_store.c: the central's storing rules, driven through ingest_handle():
 * a sample at or before its archive's last update, or out of order within
 * its batch, refuses the whole batch (400) with nothing written; a batch
 * left half-stored (storing intent in the registry) is taken back when
 * resent, even merged under another seq; hosts go stale after five
 * intervals without data and fresh again with the next batch (fake clock). */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <rrd.h>
#include <sqlite3.h>

#include "ingest.h"
#include "registry.h"
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

static CU_TestInfo tests[] = {
	{ "at or before the last update: 400, nothing written", test_last_update },
	{ "order within a batch", test_batch_order },
	{ "half-stored batch resent under a merged seq", test_half_stored },
	{ "crash between writes and commit", test_crash_intent },
	{ "stale hosts, fake clock", test_stale },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("store", tests);
}
