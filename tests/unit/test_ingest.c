/* test_ingest.c: the ingest decision without HTTP: ingest_handle() with a
 * token and a body, checked for its status and answer, for what lands in
 * DATA/rrd/HOST and DATA/headroom.db, and for nothing at all on a 4xx. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <rrd.h>
#include <sqlite3.h>

#include "ingest.h"
#include "testutil.h"

#define T0 1764316800

static char top[PATH_MAX], data[PATH_MAX + 32];

static void host_add(struct central_host *h, const char *name, const char *token)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), h->token_sha256);
}

/* A fresh ingest on TOP/data (not created yet) knowing web1 and web2. */
static struct ingest *setup(size_t max_body)
{
	struct central_host hosts[2];
	struct hr_err err;
	struct ingest *in;

	snprintf(top, sizeof(top), "%s", tmpdir_new("ingest"));
	snprintf(data, sizeof(data), "%s/data", top);
	in = ingest_new(data, max_body, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	host_add(&hosts[0], "web1", "tok-web1");
	host_add(&hosts[1], "web2", "tok-web2");
	CU_ASSERT_EQUAL(ingest_set_hosts(in, hosts, 2, &err), 0);
	return in;
}

static void teardown(struct ingest *in)
{
	ingest_destroy(in);
	rm_rf(top);
}

static void doc(char *dst, size_t n, const char *host, int seq, long t, double load1)
{
	snprintf(dst, n,
		 "{\"host\": \"%s\", \"agent\": \"headroom-agent/0.1\", \"seq\": %d, \"interval\": 10,"
		 " \"samples\": [{\"t\": %ld, \"probe\": \"load\", \"instance\": \"\","
		 " \"values\": {\"load1\": %g, \"load5\": 0.5}},"
		 " {\"t\": %ld, \"probe\": \"md\", \"instance\": \"md0\","
		 " \"values\": {\"degraded\": 0, \"disks\": 2}, \"labels\": {\"level\": \"raid1\", \"state\": \"clean\"}}]}",
		 host, seq, t, load1, t);
}

static unsigned post(struct ingest *in, const char *token, const char *body, struct ingest_reply *r)
{
	ingest_handle(in, token, body, strlen(body), T0 + 60, r);
	return r->status;
}

static int exists(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", data, rel);
	return access(p, F_OK) == 0;
}

static time_t rrd_last_of(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", data, rel);
	return rrd_last_r(p);
}

/* One integer from the registry, or -1. */
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

static void test_store_and_resend(void)
{
	struct ingest *in = setup(4u << 20);
	struct ingest_reply r;
	char body[2048];

	doc(body, sizeof(body), "web1", 1, T0, 0.25);
	CU_ASSERT_EQUAL(post(in, "tok-web1", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"acked\": 1}");
	CU_ASSERT(exists("rrd/web1/load.rrd"));
	CU_ASSERT(exists("rrd/web1/md-md0.rrd"));
	CU_ASSERT_EQUAL(rrd_last_of("rrd/web1/load.rrd"), T0);
	CU_ASSERT_EQUAL(db_int("SELECT last_seq FROM hosts WHERE name = 'web1'"), 1);
	CU_ASSERT_EQUAL(db_int("SELECT interval FROM hosts WHERE name = 'web1'"), 10);
	CU_ASSERT_EQUAL(db_int("SELECT last_seen FROM hosts WHERE name = 'web1'"), T0 + 60);
	CU_ASSERT_EQUAL(db_int("SELECT count(*) FROM labels WHERE host = 'web1' AND probe = 'md'"
			       " AND instance = 'md0' AND name = 'level' AND value = 'raid1'"), 1);

	/* The same seq again, even with other content: acknowledged, not
	 * written (the archive's last update stays). */
	doc(body, sizeof(body), "web1", 1, T0 + 10, 9.0);
	CU_ASSERT_EQUAL(post(in, "tok-web1", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"acked\": 1}");
	CU_ASSERT_EQUAL(rrd_last_of("rrd/web1/load.rrd"), T0);
	CU_ASSERT_EQUAL(db_int("SELECT last_seq FROM hosts WHERE name = 'web1'"), 1);

	/* The next seq is stored, and labels follow the latest sample. */
	doc(body, sizeof(body), "web1", 2, T0 + 10, 0.5);
	char *p = strstr(body, "clean");
	memcpy(p, "dirty", 5);
	CU_ASSERT_EQUAL(post(in, "tok-web1", body, &r), 200);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"acked\": 2}");
	CU_ASSERT_EQUAL(rrd_last_of("rrd/web1/load.rrd"), T0 + 10);
	CU_ASSERT_EQUAL(db_int("SELECT last_seq FROM hosts WHERE name = 'web1'"), 2);
	CU_ASSERT_EQUAL(db_int("SELECT count(*) FROM labels WHERE value = 'dirty'"), 1);
	CU_ASSERT_EQUAL(db_int("SELECT count(*) FROM labels WHERE value = 'clean'"), 0);

	/* A new seq whose samples the archive already has, with no batch
	 * left half-stored (test_store.c has that case): refused, 400. */
	doc(body, sizeof(body), "web1", 3, T0 + 10, 0.5);
	CU_ASSERT_EQUAL(post(in, "tok-web1", body, &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "is not after the archive's last update"));
	CU_ASSERT_EQUAL(db_int("SELECT last_seq FROM hosts WHERE name = 'web1'"), 2);

	/* An older seq after a newer one is a resend too. */
	doc(body, sizeof(body), "web1", 2, T0 + 20, 0.5);
	CU_ASSERT_EQUAL(post(in, "tok-web1", body, &r), 200);
	CU_ASSERT_EQUAL(rrd_last_of("rrd/web1/load.rrd"), T0 + 10);
	teardown(in);
}

static void test_wal(void)
{
	struct ingest *in = setup(4u << 20);
	struct ingest_reply r;
	char body[2048], p[PATH_MAX * 2];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	doc(body, sizeof(body), "web2", 7, T0, 1);
	CU_ASSERT_EQUAL_FATAL(post(in, "tok-web2", body, &r), 200);
	snprintf(p, sizeof(p), "%s/headroom.db", data);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	teardown(in);
}

/* Each refusal: status, a message naming the problem, and no DATA at all. */
static void test_refusals(void)
{
	struct { const char *token; const char *body; unsigned status; const char *msg; } cases[] = {
		{ NULL, "@good", 401, "missing \\\"Authorization: Bearer TOKEN\\\"" },
		{ "", "@good", 401, "missing" },
		{ "tok-nobody", "@good", 401, "unknown token" },
		{ "tok-web1x", "@good", 401, "unknown token" },
		{ "tok-web2", "@good", 403, "host: this token is web2's, not web1's" },
		{ "tok-web1", "{\"host\": \"web1\"", 400, "(top): not valid JSON" },
		{ "tok-web1", "@big", 413, "body over 1024 bytes" },
		{ "tok-web1", "{\"host\": \"../etc\", \"seq\": 1, \"interval\": 10, \"samples\": []}",
		  400, "host: " },
		{ "tok-web1", "{\"host\": \"web1\", \"seq\": 1, \"interval\": 10, \"samples\":"
		  " [{\"t\": 1764316800, \"probe\": \"load\", \"instance\": \"\", \"values\": {\"load1\": 1e999}}]}",
		  400, "samples[0].values.load1: " },
		{ "tok-web1", "{\"host\": \"web1\", \"seq\": 1, \"interval\": 10, \"samples\":"
		  " [{\"t\": 1764316800, \"probe\": \"load\", \"instance\": \"\", \"values\": {\"load1\": \"1\"}}]}",
		  400, "samples[0].values.load1: " },
		{ "tok-web1", "{\"host\": \"web1\", \"seq\": 1, \"interval\": 10, \"samples\":"
		  " [{\"t\": 1864316800, \"probe\": \"load\", \"instance\": \"\", \"values\": {\"load1\": 1}}]}",
		  400, "samples[0].t: " },
		{ "tok-web1", "{\"host\": \"web1\", \"seq\": 1, \"samples\":"
		  " [{\"t\": 1764316800, \"probe\": \"load\", \"instance\": \"\", \"values\": {\"load1\": 1}}]}",
		  400, "samples[0]: no \\\"step\\\", and the document has no \\\"interval\\\"" },
		{ "tok-web1", "{\"host\": \"web1\", \"seq\": 1, \"interval\": 10, \"samples\":"
		  " [{\"t\": 1764316800, \"probe\": \"fs\", \"instance\": \"../../etc\", \"values\": {\"size\": 1}},"
		  "  {\"t\": 1764316800, \"probe\": \"load\", \"instance\": \"\", \"values\": {\"load1\": []}}]}",
		  400, "samples[1].values.load1: " },
	};
	char good[2048], big[2048];
	size_t i;

	doc(good, sizeof(good), "web1", 1, T0, 1);
	/* The good document with trailing white space past 1024 bytes. */
	memset(big, ' ', 1100);
	big[1100] = '\0';
	memcpy(big, good, strlen(good));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ingest *in = setup(1024);
		struct ingest_reply r;
		const char *body = cases[i].body;

		if (strcmp(body, "@good") == 0)
			body = good;
		else if (strcmp(body, "@big") == 0)
			body = big;
		CU_ASSERT_EQUAL(post(in, cases[i].token, body, &r), cases[i].status);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, cases[i].msg));
		CU_ASSERT_EQUAL(strncmp(r.body, "{\"error\":", 9), 0);
		if (r.status != cases[i].status || strstr(r.body, cases[i].msg) == NULL)
			fprintf(stderr, "  case %zu: %u %s\n", i, r.status, r.body);
		CU_ASSERT(!exists("")); /* nothing written: not even DATA */
		teardown(in);
	}
}

/* A data_dir that cannot be created: 503, so the agent keeps the batch;
 * once it works, the same batch is stored. */
static void test_storage_failure(void)
{
	struct central_host h;
	struct ingest_reply r;
	struct hr_err err;
	struct ingest *in;
	char body[2048], dir[PATH_MAX + 32];

	snprintf(top, sizeof(top), "%s", tmpdir_new("ingest503"));
	write_file(top, "/file", "x", 1);
	snprintf(dir, sizeof(dir), "%s/file/data", top);
	in = ingest_new(dir, 4u << 20, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	host_add(&h, "web1", "tok-web1");
	ingest_set_hosts(in, &h, 1, &err);
	doc(body, sizeof(body), "web1", 1, T0, 1);
	ingest_handle(in, "tok-web1", body, strlen(body), T0 + 60, &r);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "retry later"));
	/* The file goes, the folder can be made: the resend is stored. */
	snprintf(dir, sizeof(dir), "%s/file", top);
	CU_ASSERT_EQUAL(unlink(dir), 0);
	ingest_handle(in, "tok-web1", body, strlen(body), T0 + 60, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	snprintf(data, sizeof(data), "%s/file/data", top);
	CU_ASSERT(exists("rrd/web1/load.rrd"));
	ingest_destroy(in);
	rm_rf(top);
}

static void test_auth_and_reload(void)
{
	struct ingest *in = setup(4u << 20);
	struct central_host h;
	struct ingest_reply r;
	struct hr_err err;
	char host[HR_HOST_MAX], body[2048];

	CU_ASSERT_EQUAL(ingest_auth(in, "tok-web2", host, sizeof(host)), 0);
	CU_ASSERT_STRING_EQUAL(host, "web2");
	CU_ASSERT_EQUAL(ingest_auth(in, "tok-web", host, sizeof(host)), -1);
	CU_ASSERT_EQUAL(ingest_auth(in, NULL, host, sizeof(host)), -1);
	CU_ASSERT_EQUAL(ingest_max_body(in), 4u << 20);
	/* A reload that drops web1 (SIGHUP) revokes its token. */
	host_add(&h, "web2", "tok-web2");
	CU_ASSERT_EQUAL(ingest_set_hosts(in, &h, 1, &err), 0);
	doc(body, sizeof(body), "web1", 1, T0, 1);
	CU_ASSERT_EQUAL(post(in, "tok-web1", body, &r), 401);
	CU_ASSERT_EQUAL(ingest_auth(in, "tok-web2", host, sizeof(host)), 0);
	teardown(in);
}

static CU_TestInfo tests[] = {
	{ "store, resend, next seq, labels", test_store_and_resend },
	{ "registry in WAL mode", test_wal },
	{ "4xx: status, message, nothing written", test_refusals },
	{ "503 when storage fails, then stored", test_storage_failure },
	{ "tokens and reload", test_auth_and_reload },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("ingest", tests);
}
