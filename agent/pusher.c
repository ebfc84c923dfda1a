/* pusher.c: spools every batch and ships the spool to the centrals with
 * libcurl's multi interface on a thread of its own (see pusher.h). The
 * thread loops: start a request for every central that is neither busy nor
 * backing off and has records pending, let curl work, handle the answers,
 * then sleep in curl_multi_poll() until a socket is ready, a backoff ends,
 * or pusher_submit() wakes it with curl_multi_wakeup(). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "log.h"
#include "pusher.h"
#include "util.h"
#include "wire.h"

#define RESP_MAX 2048          /* bytes of a central's answer kept */
#define SYNC_EVERY 1.0         /* seconds between the thread's spool_sync() */

struct central {
	size_t idx;                /* its spool cursor */
	char *url, *ca, *cert, *key;
	struct curl_slist *headers;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	char resp[RESP_MAX];
	size_t resp_len;
	int busy;                  /* a request is in flight */
	atomic_int idle;           /* the last peek found nothing; submit clears it */
	char *body;                /* the request in flight */
	uint64_t sent_seq;
	size_t sent_records, sent_samples;
	uint64_t isolate_until;    /* send single records up to this seq */
	double next_try;           /* monotonic time of the next attempt */
	struct hr_complain fail_c, auth_c;
	/* under the pusher's lock: read by pusher_central_stats() */
	uint64_t acked, requests, failures, skipped;
};

struct pusher {
	pthread_mutex_t lock;      /* the spool, the stats and the counters above */
	struct spool *sp;
	struct hr_agent_stats *stats;
	struct central *c;
	size_t nc;
	CURLM *multi;
	pthread_t thread;
	int started;
	atomic_int stop;
	double stop_deadline;      /* set before stop, read by the thread after */
	double backoff_base, backoff_max, timeout;
	size_t max_request;
	uint64_t rng;
	struct hr_complain append_c, drop_c;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void pusher_cursor_name(const char *url, char *out, size_t n)
{
	uint64_t h = 14695981039346656037ull;   /* FNV-1a, 64 bits */
	const unsigned char *s;

	for (s = (const unsigned char *)url; *s != '\0'; s++) {
		h ^= *s;
		h *= 1099511628211ull;
	}
	snprintf(out, n, "c-%016" PRIx64, h);
}

/* xorshift64*: the jitter needs spread, not secrecy. */
static double rnd01(struct pusher *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (double)((p->rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* The number of samples in a sample document, 0 when it does not parse. */
static size_t doc_samples(const void *data, size_t len)
{
	cJSON *doc = cJSON_ParseWithLength(data, len);
	size_t n = 0;

	if (doc != NULL) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "samples");

		if (cJSON_IsArray(a))
			n = (size_t)cJSON_GetArraySize(a);
		cJSON_Delete(doc);
	}
	return n;
}

/* Under the lock: the agent probe's view of the spool. */
static void update_stats(struct pusher *p)
{
	struct spool_stats st;
	uint64_t lag = 0;
	size_t i;

	if (p->stats == NULL)
		return;
	spool_stats(p->sp, &st);
	for (i = 0; i < st.ncursors; i++)
		if (st.cursor[i].lag_records > lag)
			lag = st.cursor[i].lag_records;
	atomic_store(&p->stats->batches_spooled, lag);
	atomic_store(&p->stats->spool_bytes, st.bytes);
}

/* spool_opts.on_drop: the max_bytes bound deleted an unacknowledged record. */
static void on_drop(void *ctx, uint64_t seq, const void *data, size_t len)
{
	struct pusher *p = ctx;
	size_t n = data != NULL ? doc_samples(data, len) : 0;

	if (p->stats != NULL)
		atomic_fetch_add(&p->stats->dropped_samples, n);
	if (data == NULL)
		hr_log_warnx("spool: record %" PRIu64 " dropped unread: its samples are not counted", seq);
}

/* --- building a request ------------------------------------------------- */

/* Merges b's records into one document: the first record's host, agent and
 * interval, the newest merged record's seq, every sample in record order (a
 * sample of a record whose interval differs from the first's gets that
 * interval as its "step"). Stops before a record that does not parse, and
 * sends a first record that does not parse as it is (the central refuses
 * it with 400 and it is skipped). Returns the records used (>= 1), 0 when
 * out of memory. */
static size_t merge(const struct spool_batch *b, char **out, uint64_t *seq, size_t *samples)
{
	cJSON *doc = NULL, *arr, *iv0, *sq;
	size_t i = 1;

	*out = NULL;
	if (b->n > 1)
		doc = cJSON_ParseWithLength((const char *)b->recs[0].data, b->recs[0].len);
	arr = cJSON_GetObjectItemCaseSensitive(doc, "samples");
	iv0 = cJSON_GetObjectItemCaseSensitive(doc, "interval");
	if (doc == NULL || !cJSON_IsArray(arr) || !cJSON_IsNumber(iv0)) {
		cJSON_Delete(doc);
		*out = malloc(b->recs[0].len + 1);
		if (*out == NULL)
			return 0;
		memcpy(*out, b->recs[0].data, b->recs[0].len);
		(*out)[b->recs[0].len] = '\0';
		*seq = b->recs[0].seq;
		*samples = doc_samples(b->recs[0].data, b->recs[0].len);
		return 1;
	}
	for (; i < b->n; i++) {
		cJSON *d = cJSON_ParseWithLength((const char *)b->recs[i].data, b->recs[i].len);
		cJSON *a = cJSON_GetObjectItemCaseSensitive(d, "samples");
		cJSON *iv = cJSON_GetObjectItemCaseSensitive(d, "interval");
		cJSON *s;

		if (!cJSON_IsArray(a) || !cJSON_IsNumber(iv)) {
			cJSON_Delete(d);
			break;
		}
		while ((s = a->child) != NULL) {
			cJSON_DetachItemViaPointer(a, s);
			if (iv->valuedouble != iv0->valuedouble &&
			    cJSON_GetObjectItemCaseSensitive(s, "step") == NULL)
				cJSON_AddNumberToObject(s, "step", iv->valuedouble);
			cJSON_AddItemToArray(arr, s);
		}
		cJSON_Delete(d);
	}
	*seq = b->recs[i - 1].seq;
	*samples = (size_t)cJSON_GetArraySize(arr);
	sq = cJSON_CreateNumber((double)*seq);
	if (sq == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(doc, "seq", sq)) {
		cJSON_Delete(sq);
		cJSON_Delete(doc);
		return 0;
	}
	*out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return *out != NULL ? i : 0;
}

/* --- one central --------------------------------------------------------- */

static void backoff(struct pusher *p, struct central *c, double now, const char *why)
{
	double ceiling;

	pthread_mutex_lock(&p->lock);
	c->failures++;
	pthread_mutex_unlock(&p->lock);
	ceiling = p->backoff_base * pow(2.0, (double)(c->failures - 1));
	if (ceiling > p->backoff_max)
		ceiling = p->backoff_max;
	c->next_try = now + rnd01(p) * ceiling;
	hr_complain(&c->fail_c, "push %s: %s (data kept in the spool, retrying with backoff)",
		    c->url, why);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct central *c = ud;
	size_t n = size * nmemb, room = sizeof(c->resp) - 1 - c->resp_len;

	/* The answer is a short JSON object; the rest is read and dropped. */
	memcpy(c->resp + c->resp_len, ptr, n < room ? n : room);
	c->resp_len += n < room ? n : room;
	c->resp[c->resp_len] = '\0';
	return n;
}

/* curl's message without its " after N ms" (or "milliseconds"), which
 * differs on every attempt and would defeat logging a failure once. */
static void curl_why(const struct central *c, CURLcode rc, char *out, size_t n)
{
	const char *m = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
	size_t k = 0;

	while (*m != '\0' && k + 1 < n) {
		if (strncmp(m, " after ", 7) == 0 && m[7] >= '0' && m[7] <= '9') {
			const char *e = m + 7;

			while (*e >= '0' && *e <= '9')
				e++;
			if (strncmp(e, " milliseconds", 13) == 0) {
				m = e + 13;
				continue;
			}
			if (strncmp(e, " ms", 3) == 0) {
				m = e + 3;
				continue;
			}
		}
		out[k++] = *m++;
	}
	out[k] = '\0';
}

static void start(struct pusher *p, struct central *c)
{
	struct spool_batch b;
	struct hr_err err;
	char why[HR_ERR_MAX + 32];
	int one = c->isolate_until > c->acked;
	int n;

	pthread_mutex_lock(&p->lock);
	n = spool_peek(p->sp, c->idx, p->max_request, one ? 1 : PUSHER_RECORDS_MAX, &b, &err);
	if (n == 0)
		atomic_store(&c->idle, 1);
	pthread_mutex_unlock(&p->lock);
	if (n <= 0) {
		spool_batch_free(&b);
		if (n < 0) {
			snprintf(why, sizeof(why), "%s", err.msg);
			backoff(p, c, hr_now_mono(), why);
		}
		return;
	}
	c->sent_records = merge(&b, &c->body, &c->sent_seq, &c->sent_samples);
	spool_batch_free(&b);
	if (c->sent_records == 0) {
		backoff(p, c, hr_now_mono(), "out of memory for a request");
		return;
	}
	c->resp_len = 0;
	c->resp[0] = '\0';
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->body));
	if (curl_multi_add_handle(p->multi, c->easy) != CURLM_OK) {
		free(c->body);
		c->body = NULL;
		backoff(p, c, hr_now_mono(), "cannot start a request");
		return;
	}
	c->busy = 1;
}

/* Acknowledges everything up to seq for c. 0, or -1 (logged). */
static int ack(struct pusher *p, struct central *c, uint64_t seq)
{
	struct hr_err err;
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = spool_ack(p->sp, c->idx, seq, &err);
	if (rc == 0 && seq > c->acked)
		c->acked = seq;
	/* An answer that moves the cursor (stored, or a record skipped) means
	 * the central is reachable: the backoff starts over. Under the same
	 * lock as the cursor, so that no reader sees one without the other. */
	if (rc == 0)
		c->failures = 0;
	update_stats(p);
	pthread_mutex_unlock(&p->lock);
	if (rc < 0)
		hr_log_err("push %s: %s", c->url, err.msg);
	return rc;
}

/* The central's answer: "acked" (0 when absent) and "error" into msg. */
static uint64_t parse_answer(const struct central *c, char *msg, size_t n)
{
	cJSON *doc = cJSON_ParseWithLength(c->resp, c->resp_len);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "acked");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	uint64_t acked = 0;

	msg[0] = '\0';
	if (cJSON_IsNumber(a) && a->valuedouble >= 1 && a->valuedouble <= 9007199254740992.0)
		acked = (uint64_t)a->valuedouble;
	if (cJSON_IsString(e))
		hr_printable(msg, n, e->valuestring, strlen(e->valuestring));
	else if (doc == NULL)
		hr_printable(msg, n, c->resp, c->resp_len);
	cJSON_Delete(doc);
	return acked;
}

static void finish(struct pusher *p, struct central *c, CURLcode rc)
{
	double now = hr_now_mono();
	char msg[256], why[HR_ERR_MAX];
	curl_off_t us = 0;
	uint64_t acked;
	long status = 0;

	curl_multi_remove_handle(p->multi, c->easy);
	c->busy = 0;
	pthread_mutex_lock(&p->lock);
	c->requests++;
	pthread_mutex_unlock(&p->lock);
	if (rc != CURLE_OK) {
		curl_why(c, rc, why, sizeof(why));
		backoff(p, c, now, why);
		goto out;
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	acked = parse_answer(c, msg, sizeof(msg));
	if (status == 200 && acked == c->sent_seq) {
		if (ack(p, c, acked) < 0) {
			backoff(p, c, now, "cannot record the acknowledgement");
			goto out;
		}
		curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &us);
		hr_log_debug("push %s: seq %" PRIu64 " acked: %zu records, %zu samples, %zu bytes, "
			     "%.1f ms", c->url, acked, c->sent_records, c->sent_samples,
			     strlen(c->body), (double)us / 1000.0);
		if (p->stats != NULL)
			atomic_store(&p->stats->push_latency_us, (unsigned long long)us);
		c->next_try = 0;
		hr_complain_clear(&c->fail_c, "push %s: delivering again", c->url);
		hr_complain_clear(&c->auth_c, "push %s: the token is accepted again", c->url);
	} else if (status == 200) {
		snprintf(why, sizeof(why), "answered 200 with acked %" PRIu64 " for seq %" PRIu64,
			 acked, c->sent_seq);
		backoff(p, c, now, why);
	} else if ((status == 400 || status == 413) && c->sent_records > 1) {
		hr_log_warnx("push %s: %zu merged records up to seq %" PRIu64 " refused (%ld: %s); "
			     "resending them one by one", c->url, c->sent_records, c->sent_seq,
			     status, msg);
		c->isolate_until = c->sent_seq;
		c->next_try = 0;
	} else if (status == 400 || status == 413) {
		size_t n = c->sent_samples;

		hr_log_err("push %s: record seq %" PRIu64 " refused (%ld: %s); skipping it, "
			   "%zu samples dropped", c->url, c->sent_seq, status, msg, n);
		if (p->stats != NULL)
			atomic_fetch_add(&p->stats->dropped_samples, n);
		if (ack(p, c, c->sent_seq) < 0) {
			backoff(p, c, now, "cannot record the skip");
			goto out;
		}
		pthread_mutex_lock(&p->lock);
		c->skipped++;
		pthread_mutex_unlock(&p->lock);
		c->next_try = 0;
	} else if (status == 401 || status == 403) {
		/* Retrying soon cannot help: someone has to fix a config. */
		hr_complain(&c->auth_c, "push %s: %ld %s: the central refuses this agent's "
			    "credentials; check \"token\" (and \"cert\", \"key\") here and the "
			    "host's entry there (data kept in the spool, retrying every %.0f s)",
			    c->url, status, msg, p->backoff_max);
		pthread_mutex_lock(&p->lock);
		c->failures++;
		pthread_mutex_unlock(&p->lock);
		c->next_try = now + p->backoff_max;
	} else {
		snprintf(why, sizeof(why), "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
		backoff(p, c, now, why);
	}
out:
	free(c->body);
	c->body = NULL;
}

/* --- the thread ---------------------------------------------------------- */

static void *push_main(void *arg)
{
	struct pusher *p = arg;
	double synced = hr_now_mono();
	size_t i;

	for (;;) {
		double now = hr_now_mono();
		int stopping = atomic_load(&p->stop), busy = 0, still;
		long wait_ms = 1000, t = -1;
		CURLMsg *m;

		for (i = 0; i < p->nc; i++) {
			struct central *c = &p->c[i];

			if (!stopping && !c->busy && !atomic_load(&c->idle) && now >= c->next_try)
				start(p, c);
		}
		curl_multi_perform(p->multi, &still);
		while ((m = curl_multi_info_read(p->multi, &still)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < p->nc; i++)
				if (p->c[i].easy == m->easy_handle) {
					finish(p, &p->c[i], m->data.result);
					break;
				}
		}
		now = hr_now_mono();
		for (i = 0; i < p->nc; i++) {
			struct central *c = &p->c[i];
			long ms;

			busy |= c->busy;
			if (c->busy || atomic_load(&c->idle))
				continue;
			ms = c->next_try <= now ? 0 : (long)ceil((c->next_try - now) * 1000.0);
			if (ms < wait_ms)
				wait_ms = ms;
		}
		if (stopping) {
			if (!busy || now >= p->stop_deadline)
				break;
			wait_ms = 50;
		}
		if (now - synced >= SYNC_EVERY) {
			struct hr_err err;

			pthread_mutex_lock(&p->lock);
			if (spool_sync(p->sp, &err) < 0)
				hr_log_warnx("%s", err.msg);
			pthread_mutex_unlock(&p->lock);
			synced = now;
		}
		if (curl_multi_timeout(p->multi, &t) == CURLM_OK && t >= 0 && t < wait_ms)
			wait_ms = t;
		if (wait_ms > 0)
			curl_multi_poll(p->multi, NULL, 0, (int)wait_ms, NULL);
	}
	for (i = 0; i < p->nc; i++)
		if (p->c[i].busy) {
			hr_log_warnx("push %s: stopping with a request in flight (its records stay "
				     "spooled)", p->c[i].url);
			curl_multi_remove_handle(p->multi, p->c[i].easy);
			p->c[i].busy = 0;
			free(p->c[i].body);
			p->c[i].body = NULL;
		}
	return NULL;
}

/* --- set-up -------------------------------------------------------------- */

#define PUSHER_INGEST_PATH "/api/v1/samples"

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* The URL to post to: the configured one, or, when it names only the
 * central ("https://central.example:8443", DESIGN.md's form, or with a bare
 * "/"), that central's ingest path. NULL when out of memory. */
static char *post_url(const char *url)
{
	size_t n = strlen(url);
	const char *rest = strstr(url, "://");
	char *out;

	rest = rest != NULL ? rest + 3 : url;
	if (strchr(rest, '/') != NULL && strcmp(strchr(rest, '/'), "/") != 0)
		return strdup(url);
	if (n > 0 && url[n - 1] == '/')
		n--;
	out = malloc(n + sizeof(PUSHER_INGEST_PATH));
	if (out != NULL) {
		memcpy(out, url, n);
		memcpy(out + n, PUSHER_INGEST_PATH, sizeof(PUSHER_INGEST_PATH));
	}
	return out;
}

static int central_init(struct pusher *p, struct central *c, const struct agent_central *ac,
			struct hr_err *err)
{
	char *auth;
	size_t alen;
	long tmo = (long)ceil(p->timeout * 1000.0);

	c->url = post_url(ac->url);
	c->ca = dup_or_null(ac->ca);
	c->cert = dup_or_null(ac->cert);
	c->key = dup_or_null(ac->key);
	if (c->url == NULL || (ac->ca && !c->ca) || (ac->cert && !c->cert) || (ac->key && !c->key))
		return hr_err_set(err, "out of memory");
	alen = strlen(ac->token) + 32;
	auth = malloc(alen);
	if (auth == NULL)
		return hr_err_set(err, "out of memory");
	snprintf(auth, alen, "Authorization: Bearer %s", ac->token);
	c->headers = curl_slist_append(NULL, auth);
	free(auth);
	if (c->headers == NULL ||
	    curl_slist_append(c->headers, "Content-Type: application/json") == NULL ||
	    /* no 100-continue round trip before large bodies */
	    curl_slist_append(c->headers, "Expect:") == NULL)
		return hr_err_set(err, "out of memory");
	c->easy = curl_easy_init();
	if (c->easy == NULL)
		return hr_err_set(err, "push %s: cannot set up libcurl", c->url);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, tmo);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 tmo < (long)(PUSHER_CONNECT_TIMEOUT * 1000) ? tmo
				 : (long)(PUSHER_CONNECT_TIMEOUT * 1000));
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "headroom-agent/" PACKAGE_VERSION);
	if (c->ca != NULL)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, c->ca);
	if (c->cert != NULL) {
		curl_easy_setopt(c->easy, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(c->easy, CURLOPT_SSLKEY, c->key);
	}
	if (strncmp(c->url, "http://", 7) == 0)
		hr_log_warnx("push %s: plain http: the token and the samples cross the network "
			     "unencrypted; use https:// outside a test", c->url);
	return 0;
}

static void central_free(struct central *c)
{
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->body);
	free(c->url);
	free(c->ca);
	free(c->cert);
	free(c->key);
}

struct pusher *pusher_new(const struct pusher_opts *o, struct hr_agent_stats *stats,
			  struct hr_err *err)
{
	char names[SPOOL_MAX_CURSORS][24];
	struct spool_opts so;
	struct spool_stats st;
	struct pusher *p;
	size_t i;

	if (o->ncentrals < 1 || o->ncentrals > SPOOL_MAX_CURSORS) {
		hr_err_set(err, "push: %zu centrals (1 to %d)", o->ncentrals, SPOOL_MAX_CURSORS);
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		hr_err_set(err, "push: libcurl: %s", curl_easy_strerror(curl_init_rc));
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->c = calloc(o->ncentrals, sizeof(*p->c))) == NULL) {
		free(p);
		hr_err_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->nc = o->ncentrals;
	p->stats = stats;
	p->backoff_base = o->backoff_base > 0 ? o->backoff_base : PUSHER_BACKOFF_BASE;
	p->backoff_max = o->backoff_max > 0 ? o->backoff_max : PUSHER_BACKOFF_MAX;
	p->timeout = o->timeout > 0 ? o->timeout : PUSHER_TIMEOUT;
	p->max_request = o->max_request_bytes ? o->max_request_bytes : PUSHER_REQUEST_MAX;
	if (getrandom(&p->rng, sizeof(p->rng), GRND_NONBLOCK) != sizeof(p->rng))
		p->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)p;
	p->rng |= 1;

	memset(&so, 0, sizeof(so));
	so.max_bytes = o->spool_max_bytes;
	so.segment_bytes = o->segment_bytes;
	so.fsync = o->fsync;
	so.ncursors = o->ncentrals;
	so.on_drop = on_drop;
	so.drop_ctx = p;
	for (i = 0; i < o->ncentrals; i++) {
		pusher_cursor_name(o->centrals[i].url, names[i], sizeof(names[i]));
		so.cursor_names[i] = names[i];
	}
	p->sp = spool_open(o->spool_dir, &so, err);
	if (p->sp == NULL)
		goto fail;
	spool_stats(p->sp, &st);
	p->multi = curl_multi_init();
	if (p->multi == NULL) {
		hr_err_set(err, "push: cannot set up libcurl");
		goto fail;
	}
	for (i = 0; i < p->nc; i++) {
		p->c[i].idx = i;
		p->c[i].acked = st.cursor[i].acked;
		if (central_init(p, &p->c[i], &o->centrals[i], err) < 0)
			goto fail;
	}
	update_stats(p);
	if (stats != NULL)
		atomic_store(&stats->pushing, 1);
	if (pthread_create(&p->thread, NULL, push_main, p) != 0) {
		hr_err_set(err, "push: cannot start the thread");
		goto fail;
	}
	p->started = 1;
	return p;
fail:
	pusher_destroy(p, 0);
	return NULL;
}

int pusher_submit(struct pusher *p, const char *host, unsigned interval,
		  const struct hr_sample *samples, size_t n, uint64_t *seq, struct hr_err *err)
{
	uint64_t s;
	char *doc;
	size_t i;
	int rc;

	/* Only this thread appends, so the seq cannot move under us. */
	pthread_mutex_lock(&p->lock);
	s = spool_last_seq(p->sp) + 1;
	pthread_mutex_unlock(&p->lock);
	if (s == 1)
		s = (uint64_t)time(NULL) * 1000;
	doc = hr_wire_encode(host, s, interval, samples, n, 0, err);
	if (doc == NULL)
		return -1;
	pthread_mutex_lock(&p->lock);
	rc = spool_append(p->sp, s, doc, strlen(doc), err);
	if (rc == 0)
		for (i = 0; i < p->nc; i++)
			atomic_store(&p->c[i].idle, 0);
	update_stats(p);
	pthread_mutex_unlock(&p->lock);
	free(doc);
	if (rc < 0)
		return -1;
	if (seq != NULL)
		*seq = s;
	curl_multi_wakeup(p->multi);
	return 0;
}

int pusher_central_stats(struct pusher *p, size_t i, struct pusher_central_stats *st)
{
	if (i >= p->nc)
		return -1;
	pthread_mutex_lock(&p->lock);
	st->acked = p->c[i].acked;
	st->requests = p->c[i].requests;
	st->failures = p->c[i].failures;
	st->skipped = p->c[i].skipped;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void pusher_spool_stats(struct pusher *p, struct spool_stats *st)
{
	pthread_mutex_lock(&p->lock);
	spool_stats(p->sp, st);
	pthread_mutex_unlock(&p->lock);
}

void pusher_destroy(struct pusher *p, double grace)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->started) {
		p->stop_deadline = hr_now_mono() + grace;
		atomic_store(&p->stop, 1);
		curl_multi_wakeup(p->multi);
		pthread_join(p->thread, NULL);
	}
	for (i = 0; i < p->nc; i++)
		central_free(&p->c[i]);
	if (p->multi != NULL)
		curl_multi_cleanup(p->multi);
	spool_close(p->sp);
	if (p->stats != NULL)
		atomic_store(&p->stats->pushing, 0);
	pthread_mutex_destroy(&p->lock);
	free(p->c);
	free(p);
}
