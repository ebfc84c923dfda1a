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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ingest.h"
#include "log.h"
#include "registry.h"
#include "rrdcached.h"
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
	char *rrdcached;        /* NULL: librrd files under DATA/rrd */
	struct hr_complain stale_fail;
	int client_cert; /* tls.client_ca: set before the daemon starts */
	struct ingest_observer obs;
	time_t since;
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
	free(in->rrdcached);
	free(in->hosts);
	pthread_rwlock_destroy(&in->hosts_lock);
	pthread_mutex_destroy(&in->slots_lock);
	pthread_mutex_destroy(&in->reg_lock);
	free(in);
}

int ingest_set_rrdcached(struct ingest *in, const char *daemon, struct hr_err *err)
{
	struct rrdcached *probe;
	char *copy;

	/* Parsed now, so that a bad address stops the start and is not a 503
	 * at every batch. */
	probe = rrdcached_new(daemon, err);
	if (probe == NULL)
		return -1;
	rrdcached_destroy(probe);
	copy = strdup(daemon);
	if (copy == NULL)
		return hr_err_set(err, "ingest: out of memory");
	free(in->rrdcached);
	in->rrdcached = copy;
	return 0;
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

void ingest_require_client_cert(struct ingest *in, int on)
{
	in->client_cert = on;
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
		/* With rrdcached no store makes DATA: the registry makes it (its
		 * parent must exist). */
		if (snprintf(file, sizeof(file), "%s/headroom.db", in->data_dir) >= (int)sizeof(file))
			hr_err_set(err, "registry: data_dir too long");
		else if (mkdir(in->data_dir, 0755) < 0 && errno != EEXIST)
			hr_err_errno(err, errno, "registry: cannot create %s", in->data_dir);
		else
			in->reg = registry_open(file, err);
	}
	r = in->reg;
	pthread_mutex_unlock(&in->reg_lock);
	return r;
}

/* Why a batch is checked in full before anything is written: librrd
 * cannot take back an update, so a batch refused half-way would leave half
 * of it stored and the agent, told 400, would drop the rest. Every sample
 * with values must be after its archive's last update and after the
 * batch's earlier samples for the same archive; otherwise the batch gets a
 * 400 that names the sample, and nothing is written.
 *
 * One exception makes resends work. A batch is written archive by archive
 * and committed (seq, labels) last; a central killed in between, or a store
 * that failed half-way (503), leaves archives that already hold some of the
 * batch while the agent still has all of it and sends it again, possibly
 * merged with the batches it spooled meanwhile under another, higher seq.
 * So before the first write the host's "storing" intent (seq and latest
 * sample time) is put in the registry, and the commit clears it. At the
 * next batch a left-over intent means "partly written, never committed":
 * a sample at or before both its archive's last update and the intent's
 * time is one the failed try wrote, skipped as a duplicate rather than
 * refused. Times, not seqs, decide, so the rule holds for a merged resend.
 * A sample older than that time that was never sent before would be
 * skipped too: the price of not keeping every written time. */

/* A sample with values and its place in the document. */
struct sample_ref {
	const struct hr_sample *s;
	size_t i;
};

/* By archive (probe, instance), then by place: each archive's samples in
 * document order. */
static int ref_cmp(const void *pa, const void *pb)
{
	const struct sample_ref *a = pa, *b = pb;
	int c = strncmp(a->s->probe, b->s->probe, sizeof(a->s->probe));

	if (c == 0)
		c = strncmp(a->s->instance, b->s->instance, sizeof(a->s->instance));
	if (c == 0)
		c = a->i < b->i ? -1 : a->i > b->i;
	return c;
}

static int ref_same_file(const struct sample_ref *a, const struct sample_ref *b)
{
	return strncmp(a->s->probe, b->s->probe, sizeof(a->s->probe)) == 0 &&
	       strncmp(a->s->instance, b->s->instance, sizeof(a->s->instance)) == 0;
}

/* The check above. recovering: the host has a left-over intent of time
 * intent_t. Sets skip[i] for the duplicates. 0 (go on), 1 (a 400 is in
 * out), -1 (err filled: the store failed). */
struct run_key {
	const struct hr_sample *s;
	unsigned step;
	size_t idx;
};

/* Orders a batch's samples by file and step, keeping the document's order
 * (time order, check_batch() saw to it) within a file. */
static int run_cmp(const void *a, const void *b)
{
	const struct run_key *x = a, *y = b;
	int c = strcmp(x->s->probe, y->s->probe);

	if (c == 0)
		c = strcmp(x->s->instance, y->s->instance);
	if (c == 0)
		c = (x->step > y->step) - (x->step < y->step);
	if (c == 0)
		c = (x->idx > y->idx) - (x->idx < y->idx);
	return c;
}

/* Writes the samples of b not marked in skip, each file's run of samples
 * with one update (rrdstore_write_run): a replayed or backfilled batch
 * brings many intervals per file. 0, or -1 with err filled. */
static int write_runs(struct rrdstore *st, const struct hr_batch *b, const unsigned char *skip,
		      struct hr_err *err)
{
	struct run_key *keys = malloc((b->n + 1) * sizeof(*keys));
	const struct hr_sample **run = malloc((b->n + 1) * sizeof(*run));
	size_t i, j, k, n = 0;
	int rc = 0;

	if (keys == NULL || run == NULL) {
		free(keys);
		free(run);
		return hr_err_set(err, "out of memory");
	}
	for (i = 0; i < b->n; i++) {
		if (skip[i])
			continue;
		keys[n].s = &b->samples[i];
		keys[n].step = b->samples[i].step ? b->samples[i].step : b->interval;
		keys[n].idx = i;
		n++;
	}
	qsort(keys, n, sizeof(*keys), run_cmp);
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i + 1; j < n; j++)
			if (strcmp(keys[j].s->probe, keys[i].s->probe) != 0 ||
			    strcmp(keys[j].s->instance, keys[i].s->instance) != 0 ||
			    keys[j].step != keys[i].step)
				break;
		for (k = i; k < j; k++)
			run[k - i] = keys[k].s;
		if (rrdstore_write_run(st, run, j - i, keys[i].step, err) < 0)
			rc = -1;
	}
	free(keys);
	free(run);
	return rc;
}

static int check_batch(struct rrdstore *st, const struct hr_batch *b, int recovering,
		       time_t intent_t, unsigned char *skip, struct ingest_reply *out,
		       struct hr_err *err)
{
	struct sample_ref *refs;
	char name[PATH_MAX];
	time_t last = 0, dup_until = 0;
	size_t i, k, n = 0;
	int rc = 0;

	refs = calloc(b->n + 1, sizeof(*refs));
	if (refs == NULL)
		return hr_err_set(err, "out of memory");
	for (i = 0; i < b->n; i++)
		if (b->samples[i].nvalues > 0) /* labels only: nothing for RRD */
			refs[n++] = (struct sample_ref){ &b->samples[i], i };
	qsort(refs, n, sizeof(*refs), ref_cmp);
	for (k = 0; k < n && rc == 0; k++) {
		const struct hr_sample *s = refs[k].s;

		if (k == 0 || !ref_same_file(&refs[k - 1], &refs[k])) {
			/* A name no archive can have is the document's fault. */
			if (rrdstore_filename(name, sizeof(name), s->probe, s->instance, err) < 0) {
				reply_error(out, 400, "samples[%zu]: %s", refs[k].i, err->msg);
				rc = 1;
				break;
			}
			if (rrdstore_last(st, s, &last, err) < 0) {
				rc = -1;
				break;
			}
			dup_until = recovering ? (last < intent_t ? last : intent_t) : 0;
		} else if (s->t <= refs[k - 1].s->t) {
			reply_error(out, 400, "samples[%zu]: t %lld is not after samples[%zu]'s t %lld of the same probe and instance",
				    refs[k].i, (long long)s->t, refs[k - 1].i,
				    (long long)refs[k - 1].s->t);
			rc = 1;
			break;
		}
		if (s->t > last)
			continue;
		if (s->t <= dup_until) {
			skip[refs[k].i] = 1;
			continue;
		}
		reply_error(out, 400, "samples[%zu]: t %lld is not after the archive's last update %lld (%s \"%s\")",
			    refs[k].i, (long long)s->t, (long long)last, s->probe, s->instance);
		rc = 1;
	}
	free(refs);
	return rc;
}

/* The stored batch to the observer, all of it: the samples a half-done
 * try stored may not have been observed before the crash, and the
 * analyzer ignores what is not newer than what it saw. */
static void observe_batch(struct ingest *in, const struct hr_batch *b)
{
	size_t i;

	if (in->obs.observe == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		const struct hr_sample *s = &b->samples[i];

		if (s->nvalues == 0)
			continue;
		in->obs.observe(in->obs.ctx, b->host, s, s->step != 0 ? s->step : b->interval);
	}
}

/* The host's undo journal, DATA/journal/HOST.undo (outside DATA/rrd, which
 * holds archives only), set before the store's first write: an update the
 * last run was killed in is rolled back here, so that the archive's last
 * update is again before the batch it belonged to, whose resend (the
 * intent below) writes it again. */
static int store_journal(struct ingest *in, struct host_slot *slot, const char *host,
			 struct hr_err *err)
{
	char path[PATH_MAX];
	struct hr_err note;

	if (snprintf(path, sizeof(path), "%s/journal/%s.undo", in->data_dir, host) >=
	    (int)sizeof(path))
		return hr_err_set(err, "%s/journal/%s.undo: path too long", in->data_dir, host);
	if (rrdstore_set_journal(slot->store, path, &note, err) < 0)
		return -1;
	if (note.msg[0] != '\0')
		hr_log_warnx("ingest: %s: %s", host, note.msg);
	return 0;
}

/* Stores a validated batch under the host's lock. 200, 400 or 503 into
 * out. */
static void store_batch(struct ingest *in, const struct hr_batch *b, time_t now,
			struct ingest_reply *out)
{
	struct host_slot *slot = slot_get(in, b->host);
	struct registry *reg;
	struct hr_err err;
	char dir[PATH_MAX];
	unsigned char *skip = NULL;
	uint64_t last, iseq;
	time_t it, tmax = 0;
	size_t i, nskip = 0;
	int known, recovering, was_stale, rc;

	if (slot == NULL) {
		reply_error(out, 503, "out of memory");
		return;
	}
	pthread_mutex_lock(&slot->lock);
	/* The store first: it creates DATA/rrd/HOST and so DATA itself, where
	 * the registry's file goes. Through rrdcached the files are
	 * HOST/PROBE-INSTANCE.rrd in the daemon's base folder. */
	if (slot->store == NULL) {
		if (in->rrdcached != NULL) {
			slot->store = rrdstore_new_rrdcached(in->rrdcached, b->host, &err);
		} else {
			if (snprintf(dir, sizeof(dir), "%s/rrd/%s", in->data_dir, b->host) >= (int)sizeof(dir)) {
				hr_err_set(&err, "%s/rrd/%s: path too long", in->data_dir, b->host);
				goto fail;
			}
			slot->store = rrdstore_new(dir, &err);
			if (slot->store != NULL && store_journal(in, slot, b->host, &err) < 0) {
				rrdstore_destroy(slot->store);
				slot->store = NULL;
			}
		}
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
	recovering = registry_intent(reg, b->host, &iseq, &it, &err);
	if (recovering < 0)
		goto fail;
	skip = calloc(b->n + 1, 1);
	if (skip == NULL) {
		hr_err_set(&err, "out of memory");
		goto fail;
	}
	rc = check_batch(slot->store, b, recovering, it, skip, out, &err);
	if (rc < 0)
		goto fail;
	if (rc > 0)
		goto out; /* 400, nothing written */
	for (i = 0; i < b->n; i++) {
		if (skip[i])
			nskip++;
		else if (b->samples[i].nvalues > 0 && b->samples[i].t > tmax)
			tmax = b->samples[i].t;
	}
	if (recovering)
		hr_log_info("ingest: %s: seq %" PRIu64 " was left half-stored; seq %" PRIu64 ": %zu samples already in the archives skipped",
			    b->host, iseq, b->seq, nskip);
	/* The intent keeps the later time of a left-over one: should this try
	 * fail too, what either try wrote counts as written. */
	if (recovering && it > tmax)
		tmax = it;
	if (tmax > 0 && registry_intent_set(reg, b->host, b->seq, tmax, &err) < 0)
		goto fail;
	/* 1 (at or before the last update) cannot happen after the check:
	 * this host's lock is held since. */
	if (write_runs(slot->store, b, skip, &err) < 0)
		goto fail;
	if (registry_commit_ex(reg, b, now, &was_stale, &err) < 0)
		goto fail;
	if (was_stale) {
		hr_log_info("host %s reports again", b->host);
		if (in->obs.stale != NULL)
			in->obs.stale(in->obs.ctx, b->host, 0, now);
	}
	observe_batch(in, b);
	hr_complain_clear(&slot->fail, "ingest: %s: storing again", b->host);
	reply_acked(out, b->seq);
	goto out;
fail:
	hr_complain(&slot->fail, "ingest: %s: %s", b->host, err.msg);
	reply_error(out, 503, "storage unavailable, retry later");
out:
	pthread_mutex_unlock(&slot->lock);
	free(skip);
}

struct stale_ctx {
	struct ingest *in;
	time_t now;
	char (*names)[HR_HOST_MAX]; /* the hosts marked, for the observer */
	size_t n, cap;
	int oom;
};

/* Runs inside the registry's transaction: logs, and keeps the name for
 * the observer, which is told after the commit (it writes to the same
 * database through another connection: called here, it would wait for
 * this very transaction). */
static int log_stale(void *arg, const struct registry_host *h)
{
	struct stale_ctx *sc = arg;
	time_t from = h->last_seen > sc->in->since ? h->last_seen : sc->in->since;

	hr_log_warnx("host %s is stale: no data for %lld s", h->name,
		     (long long)(sc->now - from));
	if (sc->in->obs.stale == NULL)
		return 0;
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 16;
		char (*v)[HR_HOST_MAX] = realloc(sc->names, cap * sizeof(*v));

		if (v == NULL) {
			sc->oom = 1;
			return 0;
		}
		sc->names = v;
		sc->cap = cap;
	}
	hr_strlcpy(sc->names[sc->n++], h->name, HR_HOST_MAX);
	return 0;
}

void ingest_set_observer(struct ingest *in, const struct ingest_observer *obs)
{
	in->obs = *obs;
}

void ingest_set_since(struct ingest *in, time_t since)
{
	in->since = since;
}

int ingest_check_stale(struct ingest *in, time_t now)
{
	struct registry *reg;
	struct hr_err err;
	struct stale_ctx sc;
	size_t i;
	int rc = 0;

	memset(&sc, 0, sizeof(sc));
	sc.in = in;
	sc.now = now;
	reg = registry_get(in, &err);
	if (reg == NULL || registry_mark_stale(reg, now, in->since, INGEST_STALE_INTERVALS,
					       log_stale, &sc, &err) < 0) {
		hr_complain(&in->stale_fail, "ingest: stale hosts: %s", err.msg);
		rc = -1;
	} else {
		hr_complain_clear(&in->stale_fail, "ingest: stale hosts: checking again");
	}
	for (i = 0; rc == 0 && i < sc.n; i++) /* marked: committed */
		in->obs.stale(in->obs.ctx, sc.names[i], 1, now);
	if (sc.oom)
		hr_log_err("ingest: stale hosts: out of memory: the alerting missed some");
	free(sc.names);
	return rc;
}


/* Everything after the token: size, document, host binding, store. host is
 * the host the document must be of: the token's, or the pull entry's.
 * pull_interval is 0 for a pushed document; for a pulled one it replaces
 * the document's interval (the remote agent's own schedule) as the step of
 * its samples, since they arrive once per pull. */
static void ingest_doc(struct ingest *in, const char *host, unsigned pull_interval,
		       const char *body, size_t len, time_t now, struct ingest_reply *out)
{
	struct hr_batch b;
	struct hr_err err;
	size_t i;

	memset(&b, 0, sizeof(b));
	if (len > in->max_body) {
		reply_error(out, 413, "body over %zu bytes", in->max_body);
		return;
	}
	if (hr_wire_decode(body, len, NULL, now, &b, &err) < 0) {
		reply_error(out, 400, "%s", err.msg);
		return;
	}
	if (strcmp(b.host, host) != 0) {
		if (pull_interval > 0) {
			/* The puller logs it, once per host. */
			reply_error(out, 403, "host: pulled as %s, but the document is %s's", host, b.host);
			goto out;
		}
		hr_log_warnx("ingest: the token of %s sent a document of host %s: refused",
			     host, b.host);
		reply_error(out, 403, "host: this token is %s's, not %s's", host, b.host);
		goto out;
	}
	if (pull_interval > 0) {
		b.interval = pull_interval;
		for (i = 0; i < b.n; i++)
			if (b.samples[i].step != 0 && b.samples[i].step < pull_interval)
				b.samples[i].step = pull_interval;
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

void ingest_handle(struct ingest *in, const char *token, const char *body, size_t len,
		   time_t now, struct ingest_reply *out)
{
	char host[HR_HOST_MAX];

	if (ingest_auth(in, token, host, sizeof(host)) < 0) {
		reply_error(out, 401, token && token[0] ? "unknown token" : "missing \"Authorization: Bearer TOKEN\"");
		return;
	}
	ingest_doc(in, host, 0, body, len, now, out);
}

void ingest_handle_pulled(struct ingest *in, const char *host, unsigned interval,
			  const char *body, size_t len, time_t now, struct ingest_reply *out)
{
	ingest_doc(in, host, interval > 0 ? interval : 1, body, len, now, out);
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

/* The client's certificate (RFC 8446 section 4.4.2) into *crt, verified
 * against the trust libmicrohttpd holds (tls.client_ca): chain, signature,
 * validity period and, when the certificate lists key purposes, clientAuth.
 * 0 (caller frees *crt with gnutls_x509_crt_deinit), or -1 with why in msg. */
static int peer_cert(struct MHD_Connection *conn, gnutls_x509_crt_t *crt, char *msg, size_t n)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *chain;
	gnutls_typed_vdata_st purpose;
	gnutls_datum_t txt;
	gnutls_session_t s;
	unsigned int nchain = 0, status = 0;
	int r;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL) {
		snprintf(msg, n, "client certificate required: connect with TLS");
		return -1;
	}
	s = ci->tls_session;
	chain = gnutls_certificate_get_peers(s, &nchain);
	if (chain == NULL || nchain == 0) {
		snprintf(msg, n, "client certificate required: none was sent");
		return -1;
	}
	/* verify_peers3() would check for the server purpose; a client's
	 * certificate is checked for clientAuth. */
	memset(&purpose, 0, sizeof(purpose));
	purpose.type = GNUTLS_DT_KEY_PURPOSE_OID;
	purpose.data = (void *)GNUTLS_KP_TLS_WWW_CLIENT;
	r = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
	if (r < 0) {
		snprintf(msg, n, "client certificate not verified: %s", gnutls_strerror(r));
		return -1;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
								   &txt, 0) == 0) {
			snprintf(msg, n, "client certificate not accepted: %s", (const char *)txt.data);
			gnutls_free(txt.data);
		} else {
			snprintf(msg, n, "client certificate not accepted");
		}
		return -1;
	}
	if (gnutls_x509_crt_init(crt) < 0) {
		snprintf(msg, n, "client certificate: out of memory");
		return -1;
	}
	r = gnutls_x509_crt_import(*crt, &chain[0], GNUTLS_X509_FMT_DER);
	if (r < 0) {
		gnutls_x509_crt_deinit(*crt);
		snprintf(msg, n, "client certificate: %s", gnutls_strerror(r));
		return -1;
	}
	return 0;
}

/* Does crt name host? Its DNS subjectAltNames, or when it has none its
 * subject CN (RFC 6125 section 6.4.4), compared byte for byte and in full
 * length, so that "web1\0x" or "WEB1" is not web1; no wildcards: a host's
 * certificate is that host's. */
static int cert_names_host(gnutls_x509_crt_t crt, const char *host)
{
	char name[1024];
	size_t len, hlen = strlen(host);
	unsigned int i;
	int type, dns = 0;

	for (i = 0;; i++) {
		len = sizeof(name);
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &len, NULL);
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			/* Of unknown type and longer than any host name: taken
			 * as a DNS name that is not this host (no CN fallback). */
			dns = 1;
			continue;
		}
		if (type < 0)
			break;
		if (type != GNUTLS_SAN_DNSNAME)
			continue;
		dns = 1;
		if (len == hlen && memcmp(name, host, hlen) == 0)
			return 1;
	}
	if (dns)
		return 0;
	len = sizeof(name);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &len) < 0)
		return 0;
	return len == hlen && strlen(name) == hlen && memcmp(name, host, hlen) == 0;
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
		char host[HR_HOST_MAX], msg[HR_ERR_MAX];
		gnutls_x509_crt_t crt = NULL;
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
		/* The certificate first: without one that verifies, nothing
		 * is said about tokens. */
		if (in->client_cert && peer_cert(conn, &crt, msg, sizeof(msg)) < 0) {
			hr_log_info("ingest: answered 401: %s", msg);
			return queue_error(conn, 401, msg);
		}
		rq->has_token = bearer_token(conn, rq->token, sizeof(rq->token)) == 0;
		if (ingest_auth(in, rq->has_token ? rq->token : NULL, host, sizeof(host)) < 0) {
			if (in->client_cert)
				gnutls_x509_crt_deinit(crt);
			return queue_error(conn, 401, rq->has_token ? "unknown token" :
					   "missing \"Authorization: Bearer TOKEN\"");
		}
		if (in->client_cert) {
			int named = cert_names_host(crt, host);

			gnutls_x509_crt_deinit(crt);
			if (!named) {
				hr_log_warnx("ingest: the token of %s came with a client "
					     "certificate of another host: refused", host);
				reply_error(&rep, 403, "client certificate: neither a DNS "
					    "subjectAltName nor the CN is %s, the token's host", host);
				return queue_reply(conn, &rep);
			}
		}
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
