/* ingest.c: POST /api/v1/samples (see ingest.h). The order of the checks is
 * the order of what a request proves: a known token (401), a body within
 * the limit (413), a valid document (400), a document of the token's own
 * host (403); only then does anything touch the disk. Per host one mutex
 * covers "resend?", the RRD writes and the registry commit, so that two
 * copies of a batch arriving at once are stored once. */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ingest.h"
#include "log.h"
#include "registry.h"
#include "rrdstore.h"
#include "util.h"
#include "wire.h"

/* One host's store, opened at its first batch. rrdstore is for one thread
 * at a time, hence the mutex. Slots live until ingest_destroy(). */
struct host_slot {
	struct host_slot *next;
	char name[HR_HOST_MAX];
	pthread_mutex_t lock;
	struct rrdstore *store;
	struct hr_complain fail;
};

struct ingest {
	char data_dir[PATH_MAX];
	size_t max_body;
	pthread_rwlock_t hosts_lock;
	struct central_host *hosts;
	size_t nhosts;
	pthread_mutex_t slots_lock;
	struct host_slot *slots;
	pthread_mutex_t reg_lock;
	struct registry *reg;
};

/* One request being received (con_cls). */
struct req {
	char token[INGEST_TOKEN_MAX + 1];
	int has_token;
	int over;      /* passed max_body: the rest is discarded */
	char *buf;
	size_t len, cap;
};

struct ingest *ingest_new(const char *data_dir, size_t max_body, struct hr_err *err)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (in == NULL) {
		hr_err_set(err, "ingest: out of memory");
		return NULL;
	}
	if (hr_strlcpy(in->data_dir, data_dir, sizeof(in->data_dir)) >= sizeof(in->data_dir)) {
		hr_err_set(err, "ingest: data_dir too long");
		free(in);
		return NULL;
	}
	in->max_body = max_body;
	pthread_rwlock_init(&in->hosts_lock, NULL);
	pthread_mutex_init(&in->slots_lock, NULL);
	pthread_mutex_init(&in->reg_lock, NULL);
	return in;
}

void ingest_destroy(struct ingest *in)
{
	struct host_slot *s, *next;

	if (in == NULL)
		return;
	for (s = in->slots; s != NULL; s = next) {
		next = s->next;
		rrdstore_destroy(s->store);
		pthread_mutex_destroy(&s->lock);
		free(s);
	}
	registry_close(in->reg);
	free(in->hosts);
	pthread_rwlock_destroy(&in->hosts_lock);
	pthread_mutex_destroy(&in->slots_lock);
	pthread_mutex_destroy(&in->reg_lock);
	free(in);
}

int ingest_set_hosts(struct ingest *in, const struct central_host *hosts, size_t n,
		     struct hr_err *err)
{
	struct central_host *copy = calloc(n + 1, sizeof(*copy));
	struct central_host *old;

	if (copy == NULL)
		return hr_err_set(err, "ingest: out of memory");
	if (n > 0)
		memcpy(copy, hosts, n * sizeof(*copy));
	pthread_rwlock_wrlock(&in->hosts_lock);
	old = in->hosts;
	in->hosts = copy;
	in->nhosts = n;
	pthread_rwlock_unlock(&in->hosts_lock);
	free(old);
	return 0;
}

size_t ingest_max_body(const struct ingest *in)
{
	return in->max_body;
}

int ingest_auth(struct ingest *in, const char *token, char *host, size_t n)
{
	unsigned char sum[32];
	size_t i, j, tlen;
	long found = -1;

	if (token == NULL || (tlen = strlen(token)) == 0 || tlen > INGEST_TOKEN_MAX)
		return -1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, tlen, sum) < 0)
		return -1;
	pthread_rwlock_rdlock(&in->hosts_lock);
	/* Every host is compared in full, without an early exit, so that the
	 * time taken says nothing about which bytes matched. */
	for (i = 0; i < in->nhosts; i++) {
		unsigned char diff = 0;

		for (j = 0; j < sizeof(sum); j++)
			diff |= (unsigned char)(sum[j] ^ in->hosts[i].token_sha256[j]);
		if (diff == 0 && found < 0)
			found = (long)i;
	}
	if (found >= 0)
		hr_strlcpy(host, in->hosts[found].name, n);
	pthread_rwlock_unlock(&in->hosts_lock);
	return found >= 0 ? 0 : -1;
}

static void reply_error(struct ingest_reply *out, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_error(struct ingest_reply *out, unsigned status, const char *fmt, ...)
{
	char msg[HR_ERR_MAX];
	cJSON *o;
	char *txt = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out->status = status;
	o = cJSON_CreateObject();
	if (o != NULL && cJSON_AddStringToObject(o, "error", msg) != NULL)
		txt = cJSON_PrintUnformatted(o);
	if (txt == NULL || hr_strlcpy(out->body, txt, sizeof(out->body)) >= sizeof(out->body))
		hr_strlcpy(out->body, "{\"error\": \"(message lost)\"}", sizeof(out->body));
	cJSON_free(txt);
	cJSON_Delete(o);
}

static void reply_acked(struct ingest_reply *out, uint64_t seq)
{
	out->status = 200;
	snprintf(out->body, sizeof(out->body), "{\"acked\": %" PRIu64 "}", seq);
}

static struct host_slot *slot_get(struct ingest *in, const char *host)
{
	struct host_slot *s;

	pthread_mutex_lock(&in->slots_lock);
	for (s = in->slots; s != NULL; s = s->next)
		if (strcmp(s->name, host) == 0)
			goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out;
	hr_strlcpy(s->name, host, sizeof(s->name));
	pthread_mutex_init(&s->lock, NULL);
	s->next = in->slots;
	in->slots = s;
out:
	pthread_mutex_unlock(&in->slots_lock);
	return s;
}

static struct registry *registry_get(struct ingest *in, struct hr_err *err)
{
	struct registry *r;
	char file[PATH_MAX];

	pthread_mutex_lock(&in->reg_lock);
	if (in->reg == NULL) {
		if (snprintf(file, sizeof(file), "%s/headroom.db", in->data_dir) >= (int)sizeof(file))
			hr_err_set(err, "registry: data_dir too long");
		else
			in->reg = registry_open(file, err);
	}
	r = in->reg;
	pthread_mutex_unlock(&in->reg_lock);
	return r;
}

/* Stores a validated batch under the host's lock. 200 or 503 into out. */
static void store_batch(struct ingest *in, const struct hr_batch *b, time_t now,
			struct ingest_reply *out)
{
	struct host_slot *slot = slot_get(in, b->host);
	struct registry *reg;
	struct hr_err err;
	char dir[PATH_MAX];
	uint64_t last;
	size_t i;
	int known;

	if (slot == NULL) {
		reply_error(out, 503, "out of memory");
		return;
	}
	pthread_mutex_lock(&slot->lock);
	/* The store first: it creates DATA/rrd/HOST and so DATA itself, where
	 * the registry's file goes. */
	if (slot->store == NULL) {
		if (snprintf(dir, sizeof(dir), "%s/rrd/%s", in->data_dir, b->host) >= (int)sizeof(dir)) {
			hr_err_set(&err, "%s/rrd/%s: path too long", in->data_dir, b->host);
			goto fail;
		}
		slot->store = rrdstore_new(dir, &err);
		if (slot->store == NULL)
			goto fail;
	}
	reg = registry_get(in, &err);
	if (reg == NULL)
		goto fail;
	known = registry_last_seq(reg, b->host, &last, &err);
	if (known < 0)
		goto fail;
	if (known && b->seq <= last) {
		hr_log_debug("ingest: %s: seq %" PRIu64 " already stored (last %" PRIu64 ")",
			     b->host, b->seq, last);
		reply_acked(out, b->seq);
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		const struct hr_sample *s = &b->samples[i];
		unsigned step = s->step ? s->step : b->interval;

		/* 1: at or before the archive's last update, i.e. stored by an
		 * earlier try of this batch that failed before its commit. */
		if (rrdstore_write(slot->store, s, step, &err) < 0)
			goto fail;
	}
	if (registry_commit(reg, b, now, &err) < 0)
		goto fail;
	hr_complain_clear(&slot->fail, "ingest: %s: storing again", b->host);
	reply_acked(out, b->seq);
	goto out;
fail:
	hr_complain(&slot->fail, "ingest: %s: %s", b->host, err.msg);
	reply_error(out, 503, "storage unavailable, retry later");
out:
	pthread_mutex_unlock(&slot->lock);
}

void ingest_handle(struct ingest *in, const char *token, const char *body, size_t len,
		   time_t now, struct ingest_reply *out)
{
	char host[HR_HOST_MAX];
	struct hr_batch b;
	struct hr_err err;
	size_t i;

	memset(&b, 0, sizeof(b));
	if (ingest_auth(in, token, host, sizeof(host)) < 0) {
		reply_error(out, 401, token && token[0] ? "unknown token" : "missing \"Authorization: Bearer TOKEN\"");
		return;
	}
	if (len > in->max_body) {
		reply_error(out, 413, "body over %zu bytes", in->max_body);
		return;
	}
	if (hr_wire_decode(body, len, NULL, now, &b, &err) < 0) {
		reply_error(out, 400, "%s", err.msg);
		return;
	}
	if (strcmp(b.host, host) != 0) {
		hr_log_warnx("ingest: the token of %s sent a document of host %s: refused",
			     host, b.host);
		reply_error(out, 403, "host: this token is %s's, not %s's", host, b.host);
		goto out;
	}
	/* The archives' step comes from the sample or the document; a file
	 * cannot be created without one, so refuse before writing anything. */
	for (i = 0; i < b.n; i++) {
		if (b.samples[i].step == 0 && b.interval == 0) {
			reply_error(out, 400, "samples[%zu]: no \"step\", and the document has no \"interval\"", i);
			goto out;
		}
	}
	store_batch(in, &b, now, out);
out:
	hr_batch_free(&b);
}

/* HTTP ---------------------------------------------------------------- */

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result queue_reply(struct MHD_Connection *conn, const struct ingest_reply *rep)
{
	return queue(conn, rep->status, rep->body);
}

static enum MHD_Result queue_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	struct ingest_reply rep;

	reply_error(&rep, status, "%s", msg);
	return queue_reply(conn, &rep);
}

/* The token of "Authorization: Bearer TOKEN" (RFC 6750 section 2.1) into
 * dst; 0, or -1 when there is none or it is too long. */
static int bearer_token(struct MHD_Connection *conn, char *dst, size_t n)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return -1;
	a += 7;
	while (*a == ' ')
		a++;
	if (*a == '\0' || hr_strlcpy(dst, a, n) >= n)
		return -1;
	return 0;
}

enum MHD_Result ingest_mhd_access(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct ingest *in = cls;
	struct req *rq = *con_cls;
	struct ingest_reply rep;

	(void)version;
	if (rq == NULL) {
		/* Headers only: everything that can be refused without the
		 * body is refused now, before a byte of it is buffered. */
		char host[HR_HOST_MAX];
		const char *cl;
		uint64_t clen;

		if (strcmp(url, INGEST_PATH) != 0)
			return queue_error(conn, 404, "not found");
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return queue_error(conn, 405, "method not allowed: use POST");
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		rq->has_token = bearer_token(conn, rq->token, sizeof(rq->token)) == 0;
		if (ingest_auth(in, rq->has_token ? rq->token : NULL, host, sizeof(host)) < 0)
			return queue_error(conn, 401, rq->has_token ? "unknown token" :
					   "missing \"Authorization: Bearer TOKEN\"");
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && hr_parse_u64(cl, strlen(cl), &clen) == 0 && clen > in->max_body) {
			rq->over = 1;
			reply_error(&rep, 413, "body over %zu bytes", in->max_body);
			return queue_reply(conn, &rep);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t add = *upload_data_size;

		*upload_data_size = 0;
		if (rq->over)
			return MHD_YES;
		if (add > in->max_body - rq->len) {
			/* Chunked: the limit is passed while receiving. Drop
			 * what came so far and the rest as it comes. */
			rq->over = 1;
			free(rq->buf);
			rq->buf = NULL;
			rq->len = rq->cap = 0;
			return MHD_YES;
		}
		if (rq->len + add > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 65536;
			char *nb;

			while (cap < rq->len + add)
				cap *= 2;
			if (cap > in->max_body)
				cap = in->max_body;
			nb = realloc(rq->buf, cap);
			if (nb == NULL)
				return MHD_NO;
			rq->buf = nb;
			rq->cap = cap;
		}
		memcpy(rq->buf + rq->len, upload_data, add);
		rq->len += add;
		return MHD_YES;
	}
	if (rq->over) {
		reply_error(&rep, 413, "body over %zu bytes", in->max_body);
		return queue_reply(conn, &rep);
	}
	ingest_handle(in, rq->has_token ? rq->token : NULL, rq->buf ? rq->buf : "", rq->len,
		      time(NULL), &rep);
	if (rep.status != 200)
		hr_log_info("ingest: answered %u: %s", rep.status, rep.body);
	return queue_reply(conn, &rep);
}

void ingest_mhd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq != NULL) {
		free(rq->buf);
		free(rq);
		*con_cls = NULL;
	}
}
