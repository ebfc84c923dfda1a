/* analyzer_state.c: the analyzer's saved state: one row per series (and
 * one per instance's counters) in the SQLite table analyzer_state, a small
 * versioned header with the rule's fingerprint and a checksum in front of the
 * detector's own bytes; loading, saving and pruning those rows. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "analyzer.h"
#include "analyzer_int.h"
#include "log.h"
#include "util.h"

#define PRUNE_AFTER (30 * 86400.0) /* a saved row not written for this
				    * long leaves the database */
#define STATE_MAGIC 0x53414e48u /* "HNAS" */
#define STATE_VERSION 1u
#define STATE_HEAD 64         /* bytes of the header before the payload */

enum { KIND_RATES = 100 }; /* a row of an instance's counters, not a rule's */

/* --- keys, hashes and the state format ------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint64_t analyzer_fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

static uint64_t fnv_dbl(uint64_t h, double v)
{
	if (isnan(v))
		v = NAN; /* one NaN pattern, whatever made it */
	return fnv(h, &v, sizeof(v));
}

static uint64_t fnv_int(uint64_t h, long v)
{
	return fnv(h, &v, sizeof(v));
}

/* What a series' state depends on: a rule whose fingerprint differs is
 * another rule for the state, which then starts again. Field by field, as
 * padding bytes are not the rule's. */
static uint64_t rule_fingerprint(const struct rule *r)
{
	const struct spike_params *sp = &r->spike;
	const struct forecast_params *fp = &r->forecast.p;
	uint64_t h = FNV0;

	h = fnv_int(h, r->detector);
	h = analyzer_fnv_str(h, r->value);
	h = analyzer_fnv_str(h, r->divisor);
	h = fnv_dbl(h, r->scale);
	switch (r->detector) {
	case RULE_THRESHOLD:
		h = fnv_int(h, r->threshold.op);
		h = fnv_dbl(h, r->threshold.warning);
		h = fnv_dbl(h, r->threshold.critical);
		h = fnv_dbl(h, r->threshold.clear_warning);
		h = fnv_dbl(h, r->threshold.clear_critical);
		break;
	case RULE_CHANGE:
		h = fnv_int(h, r->change.kind);
		h = fnv_dbl(h, r->change.min_delta);
		h = fnv_dbl(h, r->change.reset);
		break;
	case RULE_SPIKE:
		h = fnv_dbl(h, sp->roll_window);
		h = fnv_dbl(h, sp->warmup);
		h = fnv_dbl(h, sp->refractory);
		h = fnv_dbl(h, sp->resolve_after);
		h = fnv_dbl(h, sp->gap_reset);
		h = fnv_dbl(h, sp->long_span);
		h = fnv_int(h, sp->short_n);
		h = fnv_int(h, sp->season_days);
		h = fnv_int(h, sp->weekly);
		h = fnv_dbl(h, sp->z_min);
		h = fnv_dbl(h, sp->z_clip);
		h = fnv_dbl(h, sp->tail);
		h = fnv_dbl(h, sp->quantum_mult);
		h = fnv_dbl(h, sp->rel_floor);
		h = fnv_int(h, sp->dir);
		break;
	case RULE_FORECAST:
		h = fnv_dbl(h, fp->capacity);
		h = fnv_dbl(h, fp->warn_horizon);
		h = fnv_dbl(h, fp->crit_horizon);
		h = fnv_dbl(h, fp->bucket);
		h = fnv_int(h, fp->max_buckets);
		h = fnv_dbl(h, fp->confidence);
		h = fnv_dbl(h, fp->min_history);
		h = fnv_dbl(h, fp->drop_frac);
		h = fnv_dbl(h, fp->drop_sigmas);
		h = fnv_int(h, fp->hold);
		h = fnv_dbl(h, fp->resolve_factor);
		h = analyzer_fnv_str(h, r->forecast.capacity_value);
		break;
	default:
		break;
	}
	return h;
}

/* The database key of a series: RULE \t HOST \t PROBE \t INSTANCE (rule ""
 * for an instance's counters). Instances hold no control bytes (sample.h),
 * host and rule names no tabs. */
static char *state_key(const char *rule, const struct inst *in)
{
	size_t n = strlen(rule) + in->keylen + 2;
	char *k = malloc(n);

	if (k != NULL)
		snprintf(k, n, "%s\t%s\t%s\t%s", rule, in->host, in->probe, in->instance);
	return k;
}

/* The header, in the machine's byte order (the file stays on the central):
 *   0 magic, 4 version, 8 kind, 12 active, 16 fingerprint, 24 next_eval,
 *   32 cap, 40 step, 48 payload length, 56 checksum (FNV-1a of the header
 *   before it and of the payload). */
struct state_head {
	uint32_t kind;
	int32_t active;
	uint64_t fp;
	double next_eval, cap, step;
};

static uint8_t *state_wrap(const struct state_head *sh, const uint8_t *payload, size_t plen,
			   size_t *len)
{
	uint8_t *b = malloc(STATE_HEAD + plen);
	uint32_t u;
	uint64_t q, sum;

	if (b == NULL)
		return NULL;
	u = STATE_MAGIC;
	memcpy(b, &u, 4);
	u = STATE_VERSION;
	memcpy(b + 4, &u, 4);
	memcpy(b + 8, &sh->kind, 4);
	memcpy(b + 12, &sh->active, 4);
	memcpy(b + 16, &sh->fp, 8);
	memcpy(b + 24, &sh->next_eval, 8);
	memcpy(b + 32, &sh->cap, 8);
	memcpy(b + 40, &sh->step, 8);
	q = plen;
	memcpy(b + 48, &q, 8);
	if (plen > 0)
		memcpy(b + STATE_HEAD, payload, plen);
	sum = fnv(fnv(FNV0, b, 56), b + STATE_HEAD, plen);
	memcpy(b + 56, &sum, 8);
	*len = STATE_HEAD + plen;
	return b;
}

/* Checks a saved row's header: 0 with *sh and the payload, or -1 with err. */
static int state_unwrap(const uint8_t *b, size_t len, struct state_head *sh,
			const uint8_t **payload, size_t *plen, struct hr_err *err)
{
	uint32_t u;
	uint64_t q, sum;

	if (len < STATE_HEAD)
		return hr_err_set(err, "truncated (%zu bytes)", len);
	memcpy(&u, b, 4);
	if (u != STATE_MAGIC)
		return hr_err_set(err, "not an analyzer state");
	memcpy(&u, b + 4, 4);
	if (u != STATE_VERSION)
		return hr_err_set(err, "version %u, this analyzer reads %u", (unsigned)u, STATE_VERSION);
	memcpy(&q, b + 48, 8);
	if (q != len - STATE_HEAD)
		return hr_err_set(err, "truncated (%zu of %llu payload bytes)", len - STATE_HEAD,
				  (unsigned long long)q);
	memcpy(&sum, b + 56, 8);
	if (sum != fnv(fnv(FNV0, b, 56), b + STATE_HEAD, len - STATE_HEAD))
		return hr_err_set(err, "checksum mismatch");
	memcpy(&sh->kind, b + 8, 4);
	memcpy(&sh->active, b + 12, 4);
	memcpy(&sh->fp, b + 16, 8);
	memcpy(&sh->next_eval, b + 24, 8);
	memcpy(&sh->cap, b + 32, 8);
	memcpy(&sh->step, b + 40, 8);
	*payload = b + STATE_HEAD;
	*plen = len - STATE_HEAD;
	return 0;
}

static const char *kind_name(int kind)
{
	switch (kind) {
	case RULE_THRESHOLD: return "threshold";
	case RULE_CHANGE: return "change";
	case RULE_SPIKE: return "spike";
	case RULE_FORECAST: return "forecast";
	case KIND_RATES: return "rates";
	default: return "other";
	}
}

/* --- the database --------------------------------------------------------- */

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS analyzer_state ("
	" key TEXT PRIMARY KEY, rule TEXT NOT NULL, kind TEXT NOT NULL,"
	" blob BLOB NOT NULL, updated REAL NOT NULL);";

int analyzer_db_open(struct analyzer *an, const char *path, struct hr_err *err)
{
	if (sqlite3_open_v2(path, &an->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		hr_err_set(err, "analyzer: %s: %s", path,
			   an->db != NULL ? sqlite3_errmsg(an->db) : "cannot open");
		return -1;
	}
	sqlite3_busy_timeout(an->db, 5000);
	if (sqlite3_exec(an->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(an->db, "SELECT blob FROM analyzer_state WHERE key = ?",
			       -1, &an->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(an->db, "INSERT OR REPLACE INTO analyzer_state"
			       " (key, rule, kind, blob, updated) VALUES (?, ?, ?, ?, ?)",
			       -1, &an->put, NULL) != SQLITE_OK)
		return hr_err_set(err, "analyzer: %s: %s", path, sqlite3_errmsg(an->db));
	return 0;
}

/* The saved bytes of KEY into a new buffer (*b, caller frees): 1 found, 0
 * not, -1 database failure (logged). */
static int db_get(struct analyzer *an, const char *key, uint8_t **b, size_t *len)
{
	int rc, found = 0;

	*b = NULL;
	if (an->db == NULL)
		return 0;
	pthread_mutex_lock(&an->dblock);
	sqlite3_bind_text(an->get, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(an->get);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(an->get, 0);
		int n = sqlite3_column_bytes(an->get, 0);

		*len = n > 0 ? (size_t)n : 0;
		*b = malloc(*len + 1);
		if (*b != NULL) {
			if (n > 0)
				memcpy(*b, p, (size_t)n);
			found = 1;
		}
	} else if (rc != SQLITE_DONE) {
		hr_log_warnx("analyzer: reading saved state: %s", sqlite3_errmsg(an->db));
		found = -1;
	}
	sqlite3_reset(an->get);
	sqlite3_clear_bindings(an->get);
	pthread_mutex_unlock(&an->dblock);
	return found;
}

/* Restores an instance's counters from its saved row, if any. */
void analyzer_inst_load(struct analyzer *an, struct inst *in)
{
	struct state_head sh;
	struct hr_err err;
	const uint8_t *p;
	uint8_t *b;
	size_t len, plen, n, i;
	char *key = state_key("", in);

	if (key == NULL || db_get(an, key, &b, &len) != 1) {
		free(key);
		return;
	}
	if (state_unwrap(b, len, &sh, &p, &plen, &err) < 0)
		goto dropped;
	if (sh.kind != KIND_RATES || plen % sizeof(struct counter) != 0 ||
	    plen / sizeof(struct counter) > HR_SAMPLE_VALUES) {
		hr_err_set(&err, "not a row of counters");
		goto dropped;
	}
	n = plen / sizeof(struct counter);
	in->cnt = n > 0 ? malloc(plen) : NULL;
	if (n > 0 && in->cnt == NULL)
		goto out; /* no rates for one more sample */
	if (n > 0)
		memcpy(in->cnt, p, plen);
	in->ncnt = n;
	in->t = sh.next_eval; /* the last sample's time */
	for (i = 0; i < n; i++)
		in->cnt[i].name[HR_NAME_MAX - 1] = '\0';
	an->stats.loaded++;
	goto out;
dropped:
	hr_log_warnx("analyzer: %s/%s/%s: saved counters dropped: %s", in->host, in->probe,
		     in->instance, err.msg);
	an->stats.dropped++;
out:
	free(b);
	free(key);
}

/* Restores a series' state from its saved row: a damaged row is dropped,
 * one of a changed rule restarts the series; both with one log line. */
void analyzer_series_load(struct analyzer *an, struct series *se, double step)
{
	const struct rule *r = se->r;
	struct state_head sh;
	struct hr_err err = { { 0 } };
	const uint8_t *p;
	uint8_t *b;
	size_t len, plen;
	char *key = state_key(r->name, se->in);
	int ok = 0;

	if (key == NULL || db_get(an, key, &b, &len) != 1) {
		free(key);
		return;
	}
	if (state_unwrap(b, len, &sh, &p, &plen, &err) < 0)
		goto dropped;
	if (sh.kind != (uint32_t)r->detector || sh.fp != rule_fingerprint(r) ||
	    (r->detector == RULE_SPIKE && sh.step != step)) {
		hr_log_info("analyzer: %s %s/%s/%s: the rule changed since its state was saved:"
			    " it starts again", r->name, se->in->host, se->in->probe,
			    se->in->instance);
		an->stats.restarted++;
		goto out;
	}
	switch (r->detector) {
	case RULE_THRESHOLD:
	case RULE_CHANGE: {
		uint32_t v, sz;

		if (plen != 8 + sizeof(se->st)) {
			hr_err_set(&err, "rule state of %zu bytes", plen);
			goto dropped;
		}
		memcpy(&v, p, 4);
		memcpy(&sz, p + 4, 4);
		if (v != RULE_STATE_VERSION || sz != sizeof(se->st)) {
			hr_err_set(&err, "rule state version %u, this analyzer reads %u",
				   (unsigned)v, RULE_STATE_VERSION);
			goto dropped;
		}
		memcpy(&se->st, p + 8, sizeof(se->st));
		ok = 1;
		break;
	}
	case RULE_SPIKE:
		se->sp = spike_load(p, plen, &err);
		ok = se->sp != NULL;
		se->step = sh.step;
		break;
	case RULE_FORECAST:
		if (plen == 0) { /* no capacity seen yet */
			ok = 1;
			break;
		}
		se->fc = forecast_load(p, plen, &err);
		ok = se->fc != NULL;
		se->cap = sh.cap;
		break;
	default:
		break;
	}
	if (!ok)
		goto dropped;
	se->next_eval = sh.next_eval;
	se->active = sh.active;
	an->stats.loaded++;
	goto out;
dropped:
	hr_log_warnx("analyzer: %s %s/%s/%s: saved state dropped, the series starts afresh: %s",
		     r->name, se->in->host, se->in->probe, se->in->instance, err.msg);
	an->stats.dropped++;
out:
	free(b);
	free(key);
}

/* --- saving --------------------------------------------------------------- */

struct saved {
	char *key;
	const char *rule; /* the rule's name (rules outlive the analyzer) */
	int kind;
	uint8_t *blob;
	size_t len;
};

struct savelist {
	struct saved *v;
	size_t n, cap;
};

static int save_push(struct savelist *sl, char *key, const char *rule, int kind, uint8_t *blob,
		     size_t len)
{
	if (key == NULL || blob == NULL)
		goto fail;
	if (sl->n == sl->cap) {
		size_t cap = sl->cap ? sl->cap * 2 : 64;
		struct saved *v = realloc(sl->v, cap * sizeof(*v));

		if (v == NULL)
			goto fail;
		sl->v = v;
		sl->cap = cap;
	}
	sl->v[sl->n++] = (struct saved){ key, rule, kind, blob, len };
	return 0;
fail:
	free(key);
	free(blob);
	return -1;
}

/* One series' row into sl. */
static int series_serialise(struct series *se, struct savelist *sl)
{
	struct state_head sh = { (uint32_t)se->r->detector, se->active, rule_fingerprint(se->r),
				 se->next_eval, se->cap, se->step };
	uint8_t *payload = NULL, *b;
	uint8_t rs[8 + sizeof(struct rule_state)];
	size_t plen = 0, len;
	struct hr_err err;
	uint32_t u;

	switch (se->r->detector) {
	case RULE_THRESHOLD:
	case RULE_CHANGE:
		u = RULE_STATE_VERSION;
		memcpy(rs, &u, 4);
		u = sizeof(struct rule_state);
		memcpy(rs + 4, &u, 4);
		memcpy(rs + 8, &se->st, sizeof(se->st));
		b = state_wrap(&sh, rs, sizeof(rs), &len);
		break;
	case RULE_SPIKE:
		if (se->sp == NULL || spike_save(se->sp, &payload, &plen, &err) < 0)
			return -1;
		b = state_wrap(&sh, payload, plen, &len);
		break;
	case RULE_FORECAST:
		if (se->fc != NULL && forecast_save(se->fc, &payload, &plen, &err) < 0)
			return -1;
		b = state_wrap(&sh, payload, plen, &len);
		break;
	default:
		return 0;
	}
	free(payload);
	return save_push(sl, state_key(se->r->name, se->in), se->r->name, se->r->detector, b, len);
}

static int inst_serialise(struct inst *in, struct savelist *sl)
{
	struct state_head sh = { KIND_RATES, 0, 0, in->t, 0, 0 };
	size_t len;
	uint8_t *b = state_wrap(&sh, (const uint8_t *)in->cnt, in->ncnt * sizeof(*in->cnt), &len);

	return save_push(sl, state_key("", in), "", KIND_RATES, b, len);
}

/* Collects the rows that changed (all when ALL), under the lock. */
static void collect_dirty(struct analyzer *an, struct savelist *sl, int all)
{
	size_t i, j;

	for (i = 0; i < an->tabsize; i++) {
		struct inst *in;

		for (in = an->tab[i]; in != NULL; in = in->next) {
			if ((in->dirty || all) && in->ncnt > 0 && inst_serialise(in, sl) == 0)
				in->dirty = 0;
			for (j = 0; j < in->nser; j++) {
				struct series *se = in->ser[j];

				if ((se->dirty || all) && series_serialise(se, sl) == 0)
					se->dirty = 0;
			}
		}
	}
}

/* Writes sl in one transaction; frees its rows. */
static int write_rows(struct analyzer *an, struct savelist *sl, double now, struct hr_err *err)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&an->dblock);
	if (sqlite3_exec(an->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = hr_err_set(err, "analyzer: saving state: %s", sqlite3_errmsg(an->db));
		goto out;
	}
	for (i = 0; i < sl->n && rc == 0; i++) {
		struct saved *sv = &sl->v[i];

		sqlite3_bind_text(an->put, 1, sv->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(an->put, 2, sv->rule, -1, SQLITE_STATIC);
		sqlite3_bind_text(an->put, 3, kind_name(sv->kind), -1, SQLITE_STATIC);
		sqlite3_bind_blob(an->put, 4, sv->blob, (int)sv->len, SQLITE_STATIC);
		sqlite3_bind_double(an->put, 5, now);
		if (sqlite3_step(an->put) != SQLITE_DONE)
			rc = hr_err_set(err, "analyzer: saving state: %s", sqlite3_errmsg(an->db));
		sqlite3_reset(an->put);
		sqlite3_clear_bindings(an->put);
	}
	if (rc == 0 && sqlite3_exec(an->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = hr_err_set(err, "analyzer: saving state: %s", sqlite3_errmsg(an->db));
	if (rc < 0)
		sqlite3_exec(an->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&an->dblock);
	for (i = 0; i < sl->n; i++) {
		free(sl->v[i].key);
		free(sl->v[i].blob);
	}
	free(sl->v);
	return rc;
}

/* Serialises under the lock, writes without it, so that ingest waits for
 * the copying only, not for the disk. */
int analyzer_save_now(struct analyzer *an, double now, struct hr_err *err)
{
	struct savelist sl = { NULL, 0, 0 };
	int all, rc;

	if (an->db == NULL)
		return 0;
	pthread_mutex_lock(&an->lock);
	all = an->resave_all;
	an->resave_all = 0;
	collect_dirty(an, &sl, all);
	pthread_mutex_unlock(&an->lock);
	if (sl.n == 0) {
		free(sl.v);
		return 0;
	}
	rc = write_rows(an, &sl, now, err);
	if (rc < 0) {
		pthread_mutex_lock(&an->lock);
		an->resave_all = 1;
		pthread_mutex_unlock(&an->lock);
	}
	return rc;
}

int analyzer_save(struct analyzer *an, struct hr_err *err)
{
	double now;

	pthread_mutex_lock(&an->lock);
	now = an->last_t;
	pthread_mutex_unlock(&an->lock);
	return analyzer_save_now(an, now, err);
}

/* Deletes the saved rows not written for PRUNE_AFTER. */
void analyzer_prune_rows(struct analyzer *an, double now)
{
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&an->dblock);
	if (sqlite3_prepare_v2(an->db, "DELETE FROM analyzer_state WHERE updated < ?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_double(st, 1, now - PRUNE_AFTER);
		if (sqlite3_step(st) != SQLITE_DONE)
			hr_log_warnx("analyzer: pruning saved state: %s", sqlite3_errmsg(an->db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&an->dblock);
}
