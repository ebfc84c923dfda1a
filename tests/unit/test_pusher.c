/* test_pusher.c: the agent's pusher against real HTTP servers (libmicrohttpd
 * on loopback ports, in this process) that answer as a central would, or as
 * scripted: 503, 401, a 400 for one poisoned record. Each batch carries one
 * sample whose value "id" numbers it, so that what a server stored can be
 * checked for order, gaps and duplicates. Checks: delivery in order,
 * coalescing of a backlog, isolation of a bad record, a backoff that does
 * not spin (requests counted, never timed), two centrals with independent
 * cursors, acknowledgements that survive a restart, the seq of a new spool. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "log.h"
#include "pusher.h"
#include "testutil.h"
#include "util.h"

#define TOKEN "t0ken"
#define MAX_IDS 4096

enum mode { MODE_OK, MODE_503, MODE_401 };

/* A central in miniature: Bearer token, {"acked": SEQ}, a seq at or below
 * the last acknowledged one acknowledged again and not stored; 400 for a
 * document holding a sample with value "bad". */
struct srv {
	struct MHD_Daemon *d;
	unsigned port;
	char url[64];
	pthread_mutex_t lock;
	enum mode mode;
	uint64_t last_acked;
	size_t requests, ok_requests, bad_requests;
	size_t max_samples;          /* most samples in one accepted request */
	double ids[MAX_IDS];         /* stored ids, in the order stored */
	size_t nids;
};

struct upload {
	char *buf;
	size_t len;
};

/* Answers a complete request body: status, and the answer in out. */
static unsigned decide(struct srv *s, const char *auth, const char *body, size_t len,
		       char *out, size_t n)
{
	cJSON *doc, *arr, *it;
	uint64_t seq;
	size_t k = 0;

	s->requests++;
	if (auth == NULL || strcmp(auth, "Bearer " TOKEN) != 0 || s->mode == MODE_401) {
		snprintf(out, n, "{\"error\": \"unknown token\"}");
		return 401;
	}
	if (s->mode == MODE_503) {
		snprintf(out, n, "{\"error\": \"storage unavailable, retry later\"}");
		return 503;
	}
	doc = cJSON_ParseWithLength(body, len);
	arr = cJSON_GetObjectItemCaseSensitive(doc, "samples");
	it = cJSON_GetObjectItemCaseSensitive(doc, "seq");
	if (!cJSON_IsArray(arr) || !cJSON_IsNumber(it)) {
		cJSON_Delete(doc);
		snprintf(out, n, "{\"error\": \"(top): not a sample document\"}");
		return 400;
	}
	seq = (uint64_t)it->valuedouble;
	cJSON_ArrayForEach(it, arr) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "values");

		if (cJSON_GetObjectItemCaseSensitive(v, "bad") != NULL) {
			s->bad_requests++;
			snprintf(out, n, "{\"error\": \"samples[%zu].values.bad: refused\"}", k);
			cJSON_Delete(doc);
			return 400;
		}
		k++;
	}
	if (seq > s->last_acked) {
		cJSON_ArrayForEach(it, arr) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "values");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");

			if (s->nids < MAX_IDS)
				s->ids[s->nids++] = cJSON_IsNumber(id) ? id->valuedouble : -1;
		}
		s->last_acked = seq;
	}
	s->ok_requests++;
	if (k > s->max_samples)
		s->max_samples = k;
	cJSON_Delete(doc);
	snprintf(out, n, "{\"acked\": %llu}", (unsigned long long)seq);
	return 200;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *size, void **con_cls)
{
	struct srv *s = cls;
	struct upload *u = *con_cls;
	struct MHD_Response *resp;
	enum MHD_Result r;
	char out[256];
	unsigned status;

	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		*con_cls = u;
		return u != NULL ? MHD_YES : MHD_NO;
	}
	if (*size > 0) {
		char *nb = realloc(u->buf, u->len + *size);

		if (nb == NULL)
			return MHD_NO;
		memcpy(nb + u->len, data, *size);
		u->buf = nb;
		u->len += *size;
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->lock);
	status = decide(s, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
			u->buf, u->len, out, sizeof(out));
	pthread_mutex_unlock(&s->lock);
	resp = MHD_create_response_from_buffer(strlen(out), out, MHD_RESPMEM_MUST_COPY);
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	if (u != NULL) {
		free(u->buf);
		free(u);
	}
	*con_cls = NULL;
}

static struct srv *srv_start(enum mode m)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	CU_ASSERT_FATAL(s != NULL);
	pthread_mutex_init(&s->lock, NULL);
	s->mode = m;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	CU_ASSERT_FATAL(s->d != NULL);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info->port;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/api/v1/samples", s->port);
	return s;
}

static void srv_stop(struct srv *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void srv_mode(struct srv *s, enum mode m)
{
	pthread_mutex_lock(&s->lock);
	s->mode = m;
	pthread_mutex_unlock(&s->lock);
}

static size_t srv_get(struct srv *s, size_t *field)
{
	size_t v;

	pthread_mutex_lock(&s->lock);
	v = *field;
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* Do the server's stored ids read 1..n in order, leaving out skip (0: none)? */
static int srv_ids_are(struct srv *s, int n, int skip)
{
	size_t k = 0;
	int i, ok = 1;

	pthread_mutex_lock(&s->lock);
	for (i = 1; i <= n; i++) {
		if (i == skip)
			continue;
		if (k >= s->nids || s->ids[k] != i)
			ok = 0;
		k++;
	}
	if (k != s->nids)
		ok = 0;
	if (!ok) {
		printf("\nstored ids:");
		for (k = 0; k < s->nids; k++)
			printf(" %.0f", s->ids[k]);
		printf("\n");
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static struct pusher *push_new(const char *dir, struct srv **srvs, size_t n,
			       struct hr_agent_stats *stats, double backoff_max)
{
	struct agent_central cs[4];
	struct pusher_opts o;
	struct pusher *p;
	struct hr_err err;
	size_t i;

	memset(cs, 0, sizeof(cs));
	for (i = 0; i < n; i++) {
		cs[i].url = srvs[i]->url;
		cs[i].token = TOKEN;
	}
	memset(&o, 0, sizeof(o));
	o.spool_dir = dir;
	o.centrals = cs;
	o.ncentrals = n;
	o.fsync = SPOOL_FSYNC_NEVER;
	o.backoff_base = 0.02;
	o.backoff_max = backoff_max;
	o.timeout = 20;
	p = pusher_new(&o, stats, &err);
	if (p == NULL)
		printf("\npusher_new: %s\n", err.msg);
	CU_ASSERT_FATAL(p != NULL);
	return p;
}

/* Submits batch number id: one sample, value "id" (and "bad" when bad). */
static uint64_t submit(struct pusher *p, int id, int bad)
{
	struct hr_sample s;
	struct hr_err err;
	uint64_t seq = 0;

	hr_sample_init(&s, "load", "");
	s.t = 1700000000 + id;
	hr_sample_set(&s, "id", id);
	if (bad)
		hr_sample_set(&s, "bad", 1);
	if (pusher_submit(p, "web1", 10, &s, 1, &seq, &err) < 0)
		printf("\npusher_submit: %s\n", err.msg);
	CU_ASSERT(seq > 0);
	return seq;
}

/* Waits until central i has acknowledged seq: a bound for broken runs. */
static int wait_acked(struct pusher *p, size_t i, uint64_t seq)
{
	struct pusher_central_stats st;
	int n;

	for (n = 0; n < 3000; n++) {
		pusher_central_stats(p, i, &st);
		if (st.acked >= seq)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_order_and_coalescing(void)
{
	const char *dir = tmpdir_new("push");
	struct srv *s = srv_start(MODE_503);
	struct hr_agent_stats stats;
	struct pusher *p;
	uint64_t first = 0, last = 0;
	time_t before = time(NULL);
	int i;

	memset(&stats, 0, sizeof(stats));
	p = push_new(dir, &s, 1, &stats, 0.05);
	CU_ASSERT(atomic_load(&stats.pushing) == 1);
	for (i = 1; i <= 40; i++) {
		last = submit(p, i, 0);
		if (i == 1)
			first = last;
		else
			CU_ASSERT(last == first + (uint64_t)i - 1);
	}
	/* A new spool starts at unix time * 1000, not at 1. */
	CU_ASSERT(first >= (uint64_t)before * 1000 && first <= (uint64_t)time(NULL) * 1000);
	CU_ASSERT(atomic_load(&stats.batches_spooled) == 40);
	CU_ASSERT(atomic_load(&stats.spool_bytes) > 0);
	srv_mode(s, MODE_OK);
	CU_ASSERT_FATAL(wait_acked(p, 0, last));
	CU_ASSERT(srv_ids_are(s, 40, 0));
	/* The backlog went in few requests: merged, not one per batch. */
	CU_ASSERT(srv_get(s, &s->ok_requests) <= 2);
	CU_ASSERT(srv_get(s, &s->max_samples) >= 20);
	CU_ASSERT(atomic_load(&stats.batches_spooled) == 0);
	/* Live batches after the replay: one request each, still in order. */
	for (i = 41; i <= 45; i++) {
		last = submit(p, i, 0);
		CU_ASSERT_FATAL(wait_acked(p, 0, last));
	}
	CU_ASSERT(srv_ids_are(s, 45, 0));
	pusher_destroy(p, 2);
	CU_ASSERT(atomic_load(&stats.pushing) == 0);
	srv_stop(s);
	rm_rf(dir);
}

static void test_bad_record_isolated(void)
{
	const char *dir = tmpdir_new("push");
	struct srv *s = srv_start(MODE_503);
	struct hr_agent_stats stats;
	struct pusher_central_stats cs;
	struct pusher *p;
	uint64_t last = 0;
	int i;

	memset(&stats, 0, sizeof(stats));
	p = push_new(dir, &s, 1, &stats, 0.05);
	for (i = 1; i <= 10; i++)
		last = submit(p, i, i == 5);
	srv_mode(s, MODE_OK);
	CU_ASSERT_FATAL(wait_acked(p, 0, last));
	/* Everything but the bad batch, in order; the bad one refused and
	 * skipped, its one sample counted as dropped. */
	CU_ASSERT(srv_ids_are(s, 10, 5));
	pusher_central_stats(p, 0, &cs);
	CU_ASSERT(cs.skipped == 1);
	CU_ASSERT(atomic_load(&stats.dropped_samples) == 1);
	/* the merged request, then the single bad one */
	CU_ASSERT(srv_get(s, &s->bad_requests) == 2);
	/* The queue moves on after it. */
	last = submit(p, 11, 0);
	CU_ASSERT_FATAL(wait_acked(p, 0, last));
	CU_ASSERT(srv_ids_are(s, 11, 5));
	pusher_destroy(p, 2);
	srv_stop(s);
	rm_rf(dir);
}

static void test_backoff_does_not_spin(void)
{
	const char *dir = tmpdir_new("push");
	struct srv *s = srv_start(MODE_503);
	struct pusher_central_stats cs;
	struct pusher *p;
	uint64_t last;
	size_t n503, n401;

	p = push_new(dir, &s, 1, NULL, 0.2);
	last = submit(p, 1, 0);
	sleep(2);
	/* Without a backoff this would be thousands of requests; with base
	 * 20 ms, a 200 ms cap and full jitter it is about twenty. Only the
	 * count is asserted, never the time. */
	n503 = srv_get(s, &s->requests);
	CU_ASSERT(n503 >= 2);
	CU_ASSERT(n503 <= 100);
	pusher_central_stats(p, 0, &cs);
	CU_ASSERT(cs.acked < last);
	CU_ASSERT(cs.failures >= 2);

	/* 401: retried only at the longest backoff (200 ms), data kept. */
	srv_mode(s, MODE_401);
	sleep(2);
	n401 = srv_get(s, &s->requests) - n503;
	CU_ASSERT(n401 >= 1);
	CU_ASSERT(n401 <= 14);
	pusher_central_stats(p, 0, &cs);
	CU_ASSERT(cs.acked < last);

	srv_mode(s, MODE_OK);
	CU_ASSERT_FATAL(wait_acked(p, 0, last));
	CU_ASSERT(srv_ids_are(s, 1, 0));
	pusher_central_stats(p, 0, &cs);
	CU_ASSERT(cs.failures == 0);
	pusher_destroy(p, 2);
	srv_stop(s);
	rm_rf(dir);
}

static void test_two_centrals(void)
{
	const char *dir = tmpdir_new("push");
	struct srv *s[2];
	struct spool_stats st;
	struct pusher_central_stats cs;
	struct pusher *p;
	uint64_t last = 0;
	int i;

	s[0] = srv_start(MODE_OK);
	s[1] = srv_start(MODE_503);
	p = push_new(dir, s, 2, NULL, 0.05);
	for (i = 1; i <= 8; i++) {
		last = submit(p, i, 0);
		/* the live central is not held back by the one that is down */
		CU_ASSERT_FATAL(wait_acked(p, 0, last));
	}
	CU_ASSERT(srv_ids_are(s[0], 8, 0));
	pusher_central_stats(p, 1, &cs);
	CU_ASSERT(cs.acked == 0);
	pusher_spool_stats(p, &st);
	CU_ASSERT(st.records == 8);   /* kept: central 2 has none of them */
	CU_ASSERT(st.cursor[0].lag_records == 0);
	CU_ASSERT(st.cursor[1].lag_records == 8);

	srv_mode(s[1], MODE_OK);
	CU_ASSERT_FATAL(wait_acked(p, 1, last));
	CU_ASSERT(srv_ids_are(s[1], 8, 0));
	pusher_spool_stats(p, &st);
	CU_ASSERT(st.cursor[1].lag_records == 0);
	CU_ASSERT(st.records == 0);   /* every central has them: deleted */
	pusher_destroy(p, 2);
	srv_stop(s[0]);
	srv_stop(s[1]);
	rm_rf(dir);
}

static void test_acks_persist(void)
{
	const char *dir = tmpdir_new("push");
	struct srv *s[2];
	struct spool_opts so;
	struct spool_stats st;
	struct spool *sp;
	struct hr_err err;
	struct pusher *p;
	char n0[24], n1[24];
	uint64_t last = 0, next;
	int i;

	s[0] = srv_start(MODE_OK);
	s[1] = srv_start(MODE_503);
	p = push_new(dir, s, 2, NULL, 0.05);
	for (i = 1; i <= 5; i++)
		last = submit(p, i, 0);
	CU_ASSERT_FATAL(wait_acked(p, 0, last));
	pusher_destroy(p, 2);

	/* The spool as the next agent start sees it. */
	pusher_cursor_name(s[0]->url, n0, sizeof(n0));
	pusher_cursor_name(s[1]->url, n1, sizeof(n1));
	CU_ASSERT(strncmp(n0, "c-", 2) == 0 && strlen(n0) == 18);
	CU_ASSERT(strcmp(n0, n1) != 0);
	memset(&so, 0, sizeof(so));
	so.ncursors = 2;
	so.cursor_names[0] = n0;
	so.cursor_names[1] = n1;
	so.fsync = SPOOL_FSYNC_NEVER;
	sp = spool_open(dir, &so, &err);
	CU_ASSERT_FATAL(sp != NULL);
	spool_stats(sp, &st);
	CU_ASSERT(st.cursor[0].acked == last);
	CU_ASSERT(st.cursor[1].acked == 0);
	CU_ASSERT(st.cursor[1].lag_records == 5);
	CU_ASSERT(spool_last_seq(sp) == last);
	spool_close(sp);

	/* A restarted pusher, centrals listed the other way round: each
	 * keeps its cursor, and the seq goes on from the last one. */
	{
		struct srv *rev[2] = { s[1], s[0] };

		srv_mode(s[1], MODE_OK);
		p = push_new(dir, rev, 2, NULL, 0.05);
		next = submit(p, 6, 0);
		CU_ASSERT(next == last + 1);
		CU_ASSERT_FATAL(wait_acked(p, 0, next));
		CU_ASSERT_FATAL(wait_acked(p, 1, next));
		CU_ASSERT(srv_ids_are(s[0], 6, 0));
		CU_ASSERT(srv_ids_are(s[1], 6, 0));
		pusher_destroy(p, 2);
	}
	srv_stop(s[0]);
	srv_stop(s[1]);
	rm_rf(dir);
}

/* The max_bytes bound: dropped records are counted in samples. */
static void test_full_spool_counts_samples(void)
{
	const char *dir = tmpdir_new("push");
	struct srv *s = srv_start(MODE_503);
	struct hr_agent_stats stats;
	struct agent_central c = { .url = s->url, .token = TOKEN };
	struct hr_sample smp[3];
	struct pusher_opts o;
	struct spool_stats st;
	struct hr_err err;
	struct pusher *p;
	int i, k;

	memset(&stats, 0, sizeof(stats));
	memset(&o, 0, sizeof(o));
	o.spool_dir = dir;
	o.centrals = &c;
	o.ncentrals = 1;
	o.fsync = SPOOL_FSYNC_NEVER;
	o.spool_max_bytes = 64 << 10;
	o.segment_bytes = 8 << 10;
	o.backoff_base = 0.05;
	o.backoff_max = 0.2;
	p = pusher_new(&o, &stats, &err);
	CU_ASSERT_FATAL(p != NULL);
	for (i = 0; i < 200; i++) {
		for (k = 0; k < 3; k++) {
			hr_sample_init(&smp[k], "load", "");
			smp[k].t = 1700000000 + i;
			hr_sample_set(&smp[k], "id", i * 3 + k);
		}
		CU_ASSERT(pusher_submit(p, "web1", 10, smp, 3, NULL, &err) == 0);
	}
	pusher_spool_stats(p, &st);
	CU_ASSERT(st.dropped_records > 0);
	CU_ASSERT(st.bytes <= o.spool_max_bytes);
	/* three samples in every record dropped */
	CU_ASSERT(atomic_load(&stats.dropped_samples) == 3 * st.dropped_records);
	CU_ASSERT(atomic_load(&stats.batches_spooled) == st.records);

	/* A batch the spool cannot take (here: larger than the whole bound)
	 * is refused with a reason, nothing of it is kept, and the seq does
	 * not move: the caller logs and counts it. */
	{
		size_t nbig = 1000;
		struct hr_sample *big = calloc(nbig, sizeof(*big));
		struct spool_stats st2;

		CU_ASSERT_FATAL(big != NULL);
		for (i = 0; i < (int)nbig; i++) {
			hr_sample_init(&big[i], "load", "");
			big[i].t = 1700001000;
			hr_sample_set(&big[i], "id", i);
		}
		CU_ASSERT(pusher_submit(p, "web1", 10, big, nbig, NULL, &err) == -1);
		CU_ASSERT(strstr(err.msg, "spool") != NULL);
		pusher_spool_stats(p, &st2);
		CU_ASSERT(st2.last_seq == st.last_seq);
		CU_ASSERT(st2.records == st.records);
		free(big);
	}
	pusher_destroy(p, 0);
	srv_stop(s);
	rm_rf(dir);
}

int main(void)
{
	CU_TestInfo tests[] = {
		{ "order, coalescing, seq of a new spool", test_order_and_coalescing },
		{ "a bad record is isolated and skipped", test_bad_record_isolated },
		{ "backoff does not spin; 401 keeps the data", test_backoff_does_not_spin },
		{ "two centrals, independent cursors", test_two_centrals },
		{ "acknowledgements persist across restarts", test_acks_persist },
		{ "a full spool counts dropped samples", test_full_spool_counts_samples },
		CU_TEST_INFO_NULL,
	};

	hr_log_init("test_pusher", 0, HR_LOG_ERR);
	return run_suite("pusher", tests);
}
