/* analyzer.c: samples to observations (see analyzer.h). One hash table of
 * instances (host, probe, instance); each holds the counters of its last
 * sample (for rates) and the series of the rules that match it, so that a
 * sample costs one lookup and no glob matching: the rules are matched again
 * only when the instance's labels change. State is saved as one row per
 * series, a small versioned header with a checksum in front of the
 * detector's own bytes; the header carries a fingerprint of the rule's
 * parameters, so that a changed rule starts its series afresh. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "analyzer.h"
#include "log.h"
#include "schema.h"
#include "util.h"

#define FORECAST_EVERY 3600.0 /* the forecasts' cadence, in sample time */
#define SAVE_EVERY 60.0       /* at most one save a minute */
#define RESIZE_FRAC 0.05      /* a capacity change past this is a resize */
#define FORGET_AFTER (7 * 86400.0) /* an instance silent this long leaves
				    * memory (its saved state stays) ... */
#define PRUNE_AFTER (30 * 86400.0) /* ... and a saved row not written for
				    * this long leaves the database */
#define STATE_MAGIC 0x53414e48u /* "HNAS" */
#define STATE_VERSION 1u
#define STATE_HEAD 64         /* bytes of the header before the payload */

enum { KIND_RATES = 100 }; /* a row of an instance's counters, not a rule's */

struct series {
	const struct rule *r;
	struct inst *in;
	struct rule_state st;
	struct spike *sp;
	struct forecast *fc;
	double step;      /* the spike detector's */
	double cap;       /* the forecaster's capacity */
	double next_eval; /* the next forecast evaluation (0: none yet) */
	struct forecast_result last; /* the last evaluation's, for the dashboards */
	double last_at;   /* its time (0: none since start) */
	int active;       /* the last observation emitted was active */
	int fresh;        /* nothing emitted since start */
	int matched;      /* the rule takes the instance's current labels */
	int dirty;        /* changed since the last save */
};

struct counter {
	char name[HR_NAME_MAX];
	double v;
};

struct inst {
	struct inst *next; /* hash chain */
	uint64_t h;
	const char *host, *probe, *instance; /* in key, NUL-separated */
	char *key;        /* host\0probe\0instance\0 */
	size_t keylen;
	double t;         /* the last sample's time (0: none) */
	double arrived;   /* the tick's clock when that sample came (its own
			   * time before the first tick) */
	uint64_t labels_sig;
	int matched_once;
	size_t ncnt;
	struct counter *cnt; /* the last sample's counters */
	size_t nser, capser;
	struct series **ser;
	int dirty;        /* counters changed since the last save */
	size_t nkind;     /* the last sample's value names and whether each is */
	struct kind_memo { /* a counter: schema.h's answer, asked once */
		char name[HR_NAME_MAX];
		int counter;
	} *kind;
};

/* The observations of one call, emitted once the lock is released. Most
 * calls have none or one: those stay on the stack. */
#define OBS_LOCAL 2
struct obsbuf {
	struct alert_obs *v;
	size_t n, cap;
	struct alert_obs local[OBS_LOCAL];
};
#define OBSBUF_INIT(ob) do { (ob).v = (ob).local; (ob).n = 0; (ob).cap = OBS_LOCAL; } while (0)

struct analyzer {
	pthread_mutex_t lock;   /* the tables and the series */
	pthread_mutex_t dblock; /* the database connection */
	const struct rules *rs;
	analyzer_emit_fn emit;
	void *ctx;
	sqlite3 *db;
	sqlite3_stmt *get, *put;
	struct inst **tab;
	size_t tabsize, ninst, nseries;
	double last_save;  /* the tick's now at the last save */
	double last_forget; /* the tick's now at the last look for silent ones */
	double last_prune;
	double last_t;     /* the latest sample or tick time seen */
	double tick_now;   /* the last tick's now: the clock samples arrive by */
	int resave_all;    /* a save failed: write everything next time */
	struct analyzer_stats stats;
};

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

#define FNV0 14695981039346656037ull

static uint64_t fnv_str(uint64_t h, const char *s)
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
	h = fnv_str(h, r->value);
	h = fnv_str(h, r->divisor);
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
		h = fnv_str(h, r->forecast.capacity_value);
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

static int db_open(struct analyzer *an, const char *path, struct hr_err *err)
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

/* --- the instance table --------------------------------------------------- */

static uint64_t inst_hash(const char *host, const char *probe, const char *instance)
{
	return fnv_str(fnv_str(fnv_str(FNV0, host), probe), instance);
}

static struct inst *inst_find(struct analyzer *an, uint64_t h, const char *host,
			      const char *probe, const char *instance)
{
	struct inst *in;

	for (in = an->tab[h & (an->tabsize - 1)]; in != NULL; in = in->next)
		if (in->h == h && strcmp(in->host, host) == 0 && strcmp(in->probe, probe) == 0 &&
		    strcmp(in->instance, instance) == 0)
			return in;
	return NULL;
}

static void table_grow(struct analyzer *an)
{
	size_t n = an->tabsize * 2, i;
	struct inst **t = calloc(n, sizeof(*t));

	if (t == NULL)
		return; /* longer chains, still correct */
	for (i = 0; i < an->tabsize; i++) {
		struct inst *in = an->tab[i], *next;

		for (; in != NULL; in = next) {
			next = in->next;
			in->next = t[in->h & (n - 1)];
			t[in->h & (n - 1)] = in;
		}
	}
	free(an->tab);
	an->tab = t;
	an->tabsize = n;
}

/* Restores an instance's counters from its saved row, if any. */
static void inst_load(struct analyzer *an, struct inst *in)
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

static struct inst *inst_get(struct analyzer *an, uint64_t h, const char *host,
			     const char *probe, const char *instance)
{
	struct inst *in = inst_find(an, h, host, probe, instance);
	size_t lh, lp, li;

	if (in != NULL)
		return in;
	lh = strlen(host);
	lp = strlen(probe);
	li = strlen(instance);
	in = calloc(1, sizeof(*in));
	if (in == NULL || (in->key = malloc(lh + lp + li + 3)) == NULL) {
		free(in);
		return NULL;
	}
	memcpy(in->key, host, lh + 1);
	memcpy(in->key + lh + 1, probe, lp + 1);
	memcpy(in->key + lh + lp + 2, instance, li + 1);
	in->host = in->key;
	in->probe = in->key + lh + 1;
	in->instance = in->key + lh + lp + 2;
	in->keylen = lh + lp + li + 3;
	in->h = h;
	inst_load(an, in);
	in->dirty = 0;
	in->next = an->tab[h & (an->tabsize - 1)];
	an->tab[h & (an->tabsize - 1)] = in;
	if (++an->ninst > an->tabsize)
		table_grow(an);
	return in;
}

/* --- series --------------------------------------------------------------- */

static void series_free(struct series *se)
{
	if (se == NULL)
		return;
	spike_free(se->sp);
	forecast_free(se->fc);
	free(se);
}

/* Restores a series' state from its saved row: a damaged row is dropped,
 * one of a changed rule restarts the series; both with one log line. */
static void series_load(struct analyzer *an, struct series *se, double step)
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

static struct series *series_get(struct analyzer *an, struct inst *in, const struct rule *r,
				 double step)
{
	struct series *se, **v;
	size_t i;

	for (i = 0; i < in->nser; i++)
		if (in->ser[i]->r == r)
			return in->ser[i];
	if (in->nser == in->capser) {
		size_t cap = in->capser ? in->capser * 2 : 4;

		v = realloc(in->ser, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		in->ser = v;
		in->capser = cap;
	}
	se = calloc(1, sizeof(*se));
	if (se == NULL)
		return NULL;
	se->r = r;
	se->in = in;
	se->fresh = 1;
	se->step = step;
	series_load(an, se, step);
	in->ser[in->nser++] = se;
	an->nseries++;
	return se;
}

/* Which rules take this instance, for its labels now. */
static void inst_match(struct analyzer *an, struct inst *in, const struct hr_sample *s,
		       double step)
{
	size_t i, j, n = rules_count(an->rs);

	for (j = 0; j < in->nser; j++)
		in->ser[j]->matched = 0;
	for (i = 0; i < n; i++) {
		const struct rule *r = rules_get(an->rs, i);
		struct series *se;

		if (r->detector == RULE_STALE || !rule_matches(r, in->host, s))
			continue;
		se = series_get(an, in, r, step);
		if (se == NULL) {
			hr_log_warnx("analyzer: %s %s/%s/%s: no memory for the series' state",
				     r->name, in->host, in->probe, in->instance);
			continue;
		}
		se->matched = 1;
	}
}

static uint64_t labels_sig(const struct hr_sample *s)
{
	uint64_t h = FNV0;
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		h = fnv_str(fnv_str(h, s->labels[i].name), s->labels[i].value);
	return h;
}

/* --- derivation ----------------------------------------------------------- */

static const struct counter *counter_find(const struct inst *in, size_t hint, const char *name)
{
	size_t i;

	if (hint < in->ncnt && strcmp(in->cnt[hint].name, name) == 0)
		return &in->cnt[hint];
	for (i = 0; i < in->ncnt; i++)
		if (strcmp(in->cnt[i].name, name) == 0)
			return &in->cnt[i];
	return NULL;
}

/* Is value i of s a counter? Instances keep their value names from one
 * sample to the next, so the answer is remembered by position. */
static int is_counter(struct inst *in, const struct hr_sample *s, size_t i)
{
	const char *name = s->values[i].name;
	size_t j;

	if (i < in->nkind && strcmp(in->kind[i].name, name) == 0)
		return in->kind[i].counter;
	if (in->nkind != s->nvalues) {
		struct kind_memo *k = realloc(in->kind, s->nvalues * sizeof(*k));

		if (k == NULL)
			return hr_schema_kind(s->probe, name) == HR_COUNTER;
		in->kind = k;
		in->nkind = s->nvalues;
	}
	for (j = 0; j < s->nvalues; j++) {
		hr_strlcpy(in->kind[j].name, s->values[j].name, sizeof(in->kind[j].name));
		in->kind[j].counter = hr_schema_kind(s->probe, s->values[j].name) == HR_COUNTER;
	}
	return in->kind[i].counter;
}

static int is_cpu_idle(const char *name)
{
	return strcmp(name, "idle") == 0 || strcmp(name, "iowait") == 0;
}

/* Builds the sample the rules see into d (see analyzer.h) and remembers
 * s's counters in in. Returns d, or s itself when it has no counters. */
static const struct hr_sample *derive(struct inst *in, const struct hr_sample *s, double step,
				      struct hr_sample *d)
{
	struct counter cur[HR_SAMPLE_VALUES];
	double dt = (double)s->t - in->t, idle = 0, total = 0;
	int have_prev = in->t > 0 && dt > 0 && dt <= 2 * step, cpu_ok = 1;
	int is_cpu = strcmp(s->probe, "cpu") == 0, is_disk = strcmp(s->probe, "disk") == 0;
	size_t i, nc = 0, ncpu = 0;

	for (i = 0; i < s->nvalues; i++)
		if (is_counter(in, s, i))
			break;
	if (i == s->nvalues) {
		if (in->ncnt > 0) {
			free(in->cnt);
			in->cnt = NULL;
			in->ncnt = 0;
		}
		in->t = (double)s->t;
		return s;
	}
	*d = *s;
	d->nvalues = 0;
	for (i = 0; i < s->nvalues; i++) {
		const struct hr_value *v = &s->values[i];
		const struct counter *prev;
		double rate;

		if (!is_counter(in, s, i)) {
			d->values[d->nvalues++] = *v;
			continue;
		}
		/* Zeroed past the name and in the padding: the bytes are
		 * saved as they are. */
		memset(&cur[nc], 0, sizeof(cur[nc]));
		hr_strlcpy(cur[nc].name, v->name, sizeof(cur[nc].name));
		cur[nc].v = v->v;
		prev = have_prev ? counter_find(in, nc, v->name) : NULL;
		nc++;
		if (prev == NULL || v->v < prev->v) {
			if (is_cpu)
				cpu_ok = 0;
			continue;
		}
		rate = (v->v - prev->v) / dt;
		d->values[d->nvalues].v = rate;
		memcpy(d->values[d->nvalues].name, v->name, sizeof(v->name));
		d->nvalues++;
		if (is_cpu) {
			total += rate;
			ncpu++;
			if (is_cpu_idle(v->name))
				idle += rate;
		}
		if (is_disk && strcmp(v->name, "io_ms") == 0)
			hr_sample_set(d, "util", rate / 10 > 100 ? 100 : rate / 10);
	}
	if (is_cpu && cpu_ok && ncpu > 0 && total > 0)
		hr_sample_set(d, "busy", 100 * (1 - idle / total));
	if (nc != in->ncnt) {
		struct counter *c = realloc(in->cnt, nc * sizeof(*c));

		if (c == NULL) { /* no rates next time, rather than wrong ones */
			in->t = 0;
			return d;
		}
		in->cnt = c;
		in->ncnt = nc;
	}
	memcpy(in->cnt, cur, nc * sizeof(*cur));
	in->t = (double)s->t;
	in->dirty = 1;
	return d;
}

/* --- judging -------------------------------------------------------------- */

static struct alert_obs *obs_push(struct obsbuf *ob)
{
	if (ob->n == ob->cap) {
		size_t cap = ob->cap * 2;
		struct alert_obs *v;

		if (ob->v == ob->local) {
			v = malloc(cap * sizeof(*v));
			if (v != NULL)
				memcpy(v, ob->local, sizeof(ob->local));
		} else {
			v = realloc(ob->v, cap * sizeof(*v));
		}
		if (v == NULL)
			return NULL;
		ob->v = v;
		ob->cap = cap;
	}
	return &ob->v[ob->n++];
}

static int label_reserved(const char *name)
{
	static const char *const reserved[] = { "alertname", "host", "probe", "instance",
						"severity" };
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(reserved[i], name) == 0)
			return 1;
	return 0;
}

/* The parts every observation of a spike or forecast rule carries. */
static void obs_fill(struct alert_obs *o, const struct series *se, const struct hr_sample *s,
		     double t, double value)
{
	const struct rule *r = se->r;
	size_t i;

	alert_obs_init(o, r->name, se->in->host, se->in->probe, se->in->instance);
	o->t = t;
	o->value = value;
	o->severity = r->severity;
	o->for_s = r->for_s;
	hr_strlcpy(o->route, r->route, sizeof(o->route));
	rule_summary(r, se->in->host, se->in->instance, value, o->summary, sizeof(o->summary));
	for (i = 0; i < r->nlabels; i++)
		alert_obs_label(o, r->labels[i].name, r->labels[i].value);
	/* The sample's labels after the rule's, never replacing them nor
	 * the alert's own (as rule_judge does). */
	for (i = 0; s != NULL && i < s->nlabels; i++)
		if (alert_obs_get_label(o, s->labels[i].name) == NULL && !label_reserved(s->labels[i].name))
			alert_obs_label(o, s->labels[i].name, s->labels[i].value);
}

static void forecast_emit(struct series *se, const struct hr_sample *s, double now,
			  const struct forecast_result *res, struct obsbuf *ob)
{
	int active = res->state != FORECAST_NONE;
	struct alert_obs *o;

	if (!active && !se->active && !se->fresh)
		return;
	o = obs_push(ob);
	if (o == NULL)
		return;
	obs_fill(o, se, s, now, res->value);
	o->active = active;
	if (active)
		o->severity = res->state == FORECAST_CRITICAL ? ALERT_CRITICAL : ALERT_WARNING;
	o->eta = res->eta;
	o->eta_early = res->eta_early;
	o->eta_late = res->eta_late;
	se->active = active;
	se->fresh = 0;
}

static void forecast_evaluate(struct series *se, const struct hr_sample *s, double at,
			      struct obsbuf *ob)
{
	struct forecast_result res;

	se->next_eval = at + FORECAST_EVERY;
	se->dirty = 1;
	if (se->fc == NULL || forecast_eval(se->fc, at, &res) < 0)
		return;
	se->last = res;
	se->last_at = at;
	forecast_emit(se, s, at, &res, ob);
}

/* (Re)makes the forecaster for capacity cap; NULL on bad parameters. */
static int forecast_start(struct series *se, double cap)
{
	struct forecast_params p = se->r->forecast.p;
	struct hr_err err;

	forecast_free(se->fc);
	p.capacity = cap;
	se->fc = forecast_new(&p, &err);
	se->cap = cap;
	if (se->fc == NULL) {
		hr_log_warnx("analyzer: %s %s/%s/%s: %s", se->r->name, se->in->host,
			     se->in->probe, se->in->instance, err.msg);
		return -1;
	}
	return 0;
}

static void judge_forecast(struct series *se, const struct hr_sample *d, double t,
			   struct obsbuf *ob)
{
	const struct rule *r = se->r;
	double v, cap = r->forecast.p.capacity;

	if (rule_value(r, d, &v) < 0)
		return;
	if (!(cap > 0)) {
		const struct hr_value *c = hr_sample_get(d, r->forecast.capacity_value);

		if (c == NULL || !(c->v > 0) || !isfinite(c->v))
			return;
		cap = c->v;
	}
	if (se->fc != NULL && fabs(cap - se->cap) > RESIZE_FRAC * se->cap) {
		hr_log_info("analyzer: %s %s/%s/%s: capacity changed from %.17g to %.17g (a resize):"
			    " the forecast starts again", r->name, se->in->host, se->in->probe,
			    se->in->instance, se->cap, cap);
		forecast_free(se->fc);
		se->fc = NULL;
	}
	if (se->fc == NULL && forecast_start(se, cap) < 0)
		return;
	if (se->next_eval == 0)
		se->next_eval = ceil(t / FORECAST_EVERY) * FORECAST_EVERY;
	if (se->next_eval < t)
		/* The last hour mark before t, judged on what came before t,
		 * as `headroom backtest --detector forecast` does. */
		forecast_evaluate(se, d, ceil(t / FORECAST_EVERY) * FORECAST_EVERY - FORECAST_EVERY,
				  ob);
	if (forecast_add(se->fc, t, v) == 0)
		se->dirty = 1;
}

static void judge_spike(struct series *se, const struct hr_sample *d,
			double t, double step, struct obsbuf *ob)
{
	struct spike_event ev;
	struct alert_obs *o;
	struct hr_err err;
	double v;
	int rc;

	if (rule_value(se->r, d, &v) < 0)
		return;
	if (se->sp == NULL) {
		se->sp = spike_new(&se->r->spike, step, &err);
		se->step = step;
		if (se->sp == NULL) {
			hr_log_warnx("analyzer: %s %s/%s/%s: %s", se->r->name, se->in->host,
				     se->in->probe, se->in->instance, err.msg);
			return;
		}
	}
	rc = spike_update(se->sp, t, v, &ev);
	if (rc < 0)
		return;
	se->dirty = 1;
	if (rc == 0 || ev.kind == SPIKE_NONE)
		return;
	o = obs_push(ob);
	if (o == NULL)
		return;
	obs_fill(o, se, d, ev.t, ev.value);
	o->event = 1;
	o->active = ev.kind == SPIKE_FIRING;
	se->active = o->active;
	se->fresh = 0;
}

static int level_holds(enum rule_op op, double v, double level)
{
	if (isnan(level))
		return 0;
	switch (op) {
	case RULE_GT: return v > level;
	case RULE_GE: return v >= level;
	case RULE_LT: return v < level;
	case RULE_LE: return v <= level;
	case RULE_EQ: return v == level;
	case RULE_NE: return v != level;
	}
	return 0;
}

/* A sample without the rule's value, and a threshold that is clear and
 * stays clear, the common cases, are judged here without rule_judge's
 * observation (a 3 KB fill and a formatted summary per sample, most of the
 * analyzer's own cost): the state moves as rule_judge moves it (rules.h:
 * seen, low, high, prev; level and since do not change), and nothing is
 * emitted. 1 when done, 0 when rule_judge must judge.
 * tests/unit/test_analyzer checks that the states agree. */
static int threshold_quiet(struct series *se, const struct hr_sample *d)
{
	const struct rule *r = se->r;
	struct rule_state *st = &se->st;
	double v;

	if (rule_value(r, d, &v) < 0)
		return 1; /* rule_judge: 0, state unchanged (either detector) */
	if (r->detector != RULE_THRESHOLD || st->level != 0 || st->seen == 0 || se->active ||
	    se->fresh)
		return 0;
	if (level_holds(r->threshold.op, v, r->threshold.critical) ||
	    level_holds(r->threshold.op, v, r->threshold.warning))
		return 0;
	if (v < st->low)
		st->low = v;
	if (v > st->high)
		st->high = v;
	st->prev = v;
	st->seen++;
	se->dirty = 1;
	return 1;
}

static void judge_state(struct series *se, const struct hr_sample *d, struct obsbuf *ob)
{
	struct alert_obs *o, lost;

	if (threshold_quiet(se, d))
		return;
	/* Judged straight into the buffer, taken back when nothing is said. */
	o = obs_push(ob);
	if (o == NULL) { /* no memory: the state still moves */
		rule_judge(se->r, &se->st, se->in->host, d, &lost);
		se->dirty = 1;
		return;
	}
	if (rule_judge(se->r, &se->st, se->in->host, d, o) != 1) {
		ob->n--;
		return;
	}
	se->dirty = 1;
	if (!o->active && !se->active && !se->fresh) {
		ob->n--;
		return;
	}
	se->active = o->active;
	se->fresh = 0;
}

static void emit_all(struct analyzer *an, struct obsbuf *ob)
{
	size_t i;

	for (i = 0; i < ob->n; i++)
		an->emit(an->ctx, &ob->v[i]);
	if (ob->v != ob->local)
		free(ob->v);
	OBSBUF_INIT(*ob);
}

int analyzer_observe(struct analyzer *an, const char *host, const struct hr_sample *s,
		     unsigned step)
{
	struct obsbuf ob;
	struct hr_sample dbuf;
	const struct hr_sample *d;
	struct inst *in;
	uint64_t h, sig;
	double t = (double)s->t, st = step ? step : s->step ? s->step : 60;
	size_t i;

	if (s->t <= 0 || host == NULL || host[0] == '\0')
		return -1;
	OBSBUF_INIT(ob);
	h = inst_hash(host, s->probe, s->instance);
	sig = labels_sig(s);
	pthread_mutex_lock(&an->lock);
	in = inst_get(an, h, host, s->probe, s->instance);
	if (in == NULL) {
		pthread_mutex_unlock(&an->lock);
		hr_log_warnx("analyzer: %s/%s/%s: no memory for the series", host, s->probe,
			     s->instance);
		return 0;
	}
	if (t <= in->t) { /* a duplicate or late sample: the detectors saw later */
		pthread_mutex_unlock(&an->lock);
		return 0;
	}
	if (!in->matched_once || sig != in->labels_sig) {
		inst_match(an, in, s, st);
		in->labels_sig = sig;
		in->matched_once = 1;
	}
	if (t > an->last_t)
		an->last_t = t;
	/* A backfill (an agent's spool, the demo) sends old samples now: the
	 * tick must not take its series for stopped ones. */
	in->arrived = an->tick_now > 0 ? an->tick_now : t;
	d = derive(in, s, st, &dbuf);
	for (i = 0; i < in->nser; i++) {
		struct series *se = in->ser[i];

		if (!se->matched)
			continue;
		switch (se->r->detector) {
		case RULE_THRESHOLD:
		case RULE_CHANGE:
			judge_state(se, d, &ob);
			break;
		case RULE_SPIKE:
			judge_spike(se, d, t, st, &ob);
			break;
		case RULE_FORECAST:
			judge_forecast(se, d, t, &ob);
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&an->lock);
	emit_all(an, &ob);
	return 0;
}

int analyzer_host_stale(struct analyzer *an, const char *host, int stale, double now)
{
	struct obsbuf ob;
	size_t i, j, n = rules_count(an->rs);
	int count;

	OBSBUF_INIT(ob);
	for (i = 0; i < n; i++) {
		const struct rule *r = rules_get(an->rs, i);
		struct alert_obs *o;

		if (r->detector != RULE_STALE || !rule_matches(r, host, NULL))
			continue;
		o = obs_push(&ob);
		if (o == NULL)
			break;
		alert_obs_init(o, r->name, host, "", "");
		o->t = now;
		o->active = stale != 0;
		o->severity = r->severity;
		o->for_s = r->for_s;
		hr_strlcpy(o->route, r->route, sizeof(o->route));
		rule_summary(r, host, "", NAN, o->summary, sizeof(o->summary));
		for (j = 0; j < r->nlabels; j++)
			alert_obs_label(o, r->labels[j].name, r->labels[j].value);
	}
	count = (int)ob.n;
	emit_all(an, &ob);
	return count;
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
static int save_now(struct analyzer *an, double now, struct hr_err *err)
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
	return save_now(an, now, err);
}

static void inst_free(struct inst *in)
{
	size_t j;

	for (j = 0; j < in->nser; j++)
		series_free(in->ser[j]);
	free(in->ser);
	free(in->cnt);
	free(in->kind);
	free(in->key);
	free(in);
}

/* Frees the instances silent for FORGET_AFTER whose state is saved (all of
 * them without a database), so that churning instances (a container's
 * interfaces, a removed disk) do not hold memory for ever; one that comes
 * back reloads its state. Under the lock. */
static void forget_silent(struct analyzer *an, double now)
{
	size_t i, j, gone = 0;

	for (i = 0; i < an->tabsize; i++) {
		struct inst **pp = &an->tab[i];

		while (*pp != NULL) {
			struct inst *in = *pp;
			int dirty = in->dirty && an->db != NULL;
			/* A backfill's old samples arrive now: silence is
			 * counted from the later of the two. */
			double seen = in->arrived > in->t ? in->arrived : in->t;

			for (j = 0; j < in->nser && !dirty; j++)
				dirty = in->ser[j]->dirty && an->db != NULL;

			if (in->t == 0 || now - seen <= FORGET_AFTER || dirty || an->resave_all) {
				pp = &in->next;
				continue;
			}
			*pp = in->next;
			an->nseries -= in->nser;
			an->ninst--;
			gone++;
			inst_free(in);
		}
	}
	if (gone > 0)
		hr_log_info("analyzer: %zu instances silent for %.0f days left memory", gone,
			    FORGET_AFTER / 86400);
}

/* Deletes the saved rows not written for PRUNE_AFTER. */
static void prune_rows(struct analyzer *an, double now)
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

int analyzer_tick(struct analyzer *an, double now)
{
	struct obsbuf ob;
	struct hr_err err;
	size_t i, j;
	int save, prune, rc = 0;

	OBSBUF_INIT(ob);
	pthread_mutex_lock(&an->lock);
	an->tick_now = now;
	/* Before the evaluations below, which change the state of silent
	 * series that the last save wrote. */
	if (now - an->last_forget >= FORECAST_EVERY) {
		if (an->last_forget > 0)
			forget_silent(an, now);
		an->last_forget = now;
	}
	/* Series whose samples stopped: their hour passed long ago. Samples
	 * that arrive after this evaluation and are older than it are not
	 * taken by the forecaster. */
	for (i = 0; i < an->tabsize; i++) {
		struct inst *in;

		for (in = an->tab[i]; in != NULL; in = in->next)
			for (j = 0; j < in->nser; j++) {
				struct series *se = in->ser[j];

				if (se->r->detector != RULE_FORECAST || se->fc == NULL ||
				    se->next_eval == 0 || se->next_eval + FORECAST_EVERY > now ||
				    in->arrived + FORECAST_EVERY > now)
					continue;
				forecast_evaluate(se, NULL,
						  floor((now - FORECAST_EVERY) / FORECAST_EVERY) *
							  FORECAST_EVERY, &ob);
			}
	}
	if (now > an->last_t)
		an->last_t = now;
	save = an->db != NULL && now - an->last_save >= SAVE_EVERY;
	if (save)
		an->last_save = now;
	prune = an->db != NULL && now - an->last_prune >= 86400;
	if (prune)
		an->last_prune = now;
	pthread_mutex_unlock(&an->lock);
	emit_all(an, &ob);
	if (save && save_now(an, now, &err) < 0) {
		hr_log_warnx("%s (retried at the next tick)", err.msg);
		rc = -1;
	}
	if (prune)
		prune_rows(an, now);
	return rc;
}

/* --- life ----------------------------------------------------------------- */

struct analyzer *analyzer_new(const struct rules *rs, const char *db_path,
			      analyzer_emit_fn emit, void *ctx, struct hr_err *err)
{
	struct analyzer *an = calloc(1, sizeof(*an));

	if (an == NULL) {
		hr_err_set(err, "analyzer: no memory");
		return NULL;
	}
	an->rs = rs;
	an->emit = emit;
	an->ctx = ctx;
	an->tabsize = 1024;
	an->tab = calloc(an->tabsize, sizeof(*an->tab));
	if (an->tab == NULL) {
		free(an);
		hr_err_set(err, "analyzer: no memory");
		return NULL;
	}
	pthread_mutex_init(&an->lock, NULL);
	pthread_mutex_init(&an->dblock, NULL);
	if (db_path != NULL && db_open(an, db_path, err) < 0) {
		analyzer_free(an);
		return NULL;
	}
	return an;
}

void analyzer_get_stats(struct analyzer *an, struct analyzer_stats *st)
{
	size_t i, j;

	pthread_mutex_lock(&an->lock);
	*st = an->stats;
	st->series = an->nseries;
	st->instances = an->ninst;
	st->bytes = sizeof(*an) + an->tabsize * sizeof(*an->tab);
	for (i = 0; i < an->tabsize; i++) {
		const struct inst *in;

		for (in = an->tab[i]; in != NULL; in = in->next) {
			st->bytes += sizeof(*in) + in->keylen + in->ncnt * sizeof(*in->cnt) +
				     in->nkind * sizeof(*in->kind) +
				     in->capser * sizeof(*in->ser);
			for (j = 0; j < in->nser; j++) {
				const struct series *se = in->ser[j];

				st->bytes += sizeof(*se);
				if (se->sp != NULL)
					st->bytes += spike_state_bytes(se->sp);
				if (se->fc != NULL)
					st->bytes += forecast_state_bytes(se->fc);
			}
		}
	}
	pthread_mutex_unlock(&an->lock);
}

/* The forecast a series would show now when none was evaluated since start
 * (restored state): evaluated on a copy, so that the hold is not advanced. */
static int forecast_peek(struct series *se)
{
	struct forecast_result res;
	struct forecast *copy;
	struct hr_err err;
	uint8_t *buf = NULL;
	size_t len;

	if (se->fc == NULL || se->in->t <= 0 || forecast_save(se->fc, &buf, &len, &err) < 0)
		return -1;
	copy = forecast_load(buf, len, &err);
	free(buf);
	if (copy == NULL)
		return -1;
	if (forecast_eval(copy, se->in->t, &res) == 0) {
		se->last = res;
		se->last_at = se->in->t;
	}
	forecast_free(copy);
	return se->last_at > 0 ? 0 : -1;
}

struct fc_copy {
	struct analyzer_forecast f;
	char *key; /* rule\0host\0probe\0instance\0 */
};

int analyzer_forecasts(struct analyzer *an,
		       int (*fn)(void *arg, const struct analyzer_forecast *f), void *arg)
{
	struct fc_copy *v = NULL, *nv;
	size_t n = 0, cap = 0, i, j;
	int rc = 0;

	pthread_mutex_lock(&an->lock);
	for (i = 0; i < an->tabsize && rc == 0; i++) {
		struct inst *in;

		for (in = an->tab[i]; in != NULL && rc == 0; in = in->next) {
			for (j = 0; j < in->nser; j++) {
				struct series *se = in->ser[j];
				struct fc_copy *c;
				size_t rl;

				if (se->r->detector != RULE_FORECAST || se->fc == NULL || !se->matched)
					continue;
				if (se->last_at == 0 && forecast_peek(se) < 0)
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 64;
					nv = realloc(v, cap * sizeof(*v));
					if (nv == NULL) {
						rc = -1;
						break;
					}
					v = nv;
				}
				c = &v[n];
				rl = strlen(se->r->name) + 1;
				c->key = malloc(rl + in->keylen);
				if (c->key == NULL) {
					rc = -1;
					break;
				}
				memcpy(c->key, se->r->name, rl);
				memcpy(c->key + rl, in->key, in->keylen);
				memset(&c->f, 0, sizeof(c->f));
				c->f.capacity = se->cap;
				c->f.at = se->last_at;
				c->f.valid = se->last.valid;
				c->f.state = (int)se->last.state;
				c->f.value = se->last.value;
				c->f.eta = se->last.eta;
				c->f.eta_early = se->last.eta_early;
				c->f.eta_late = se->last.eta_late;
				c->f.slope = se->last.slope;
				c->f.slope_lo = se->last.slope_lo;
				c->f.slope_hi = se->last.slope_hi;
				c->f.segment_start = se->last.segment_start;
				c->f.sawtooth = se->last.sawtooth;
				n++;
			}
		}
	}
	pthread_mutex_unlock(&an->lock);
	for (i = 0; i < n; i++) {
		struct analyzer_forecast *f = &v[i].f;

		f->rule = v[i].key;
		f->host = f->rule + strlen(f->rule) + 1;
		f->probe = f->host + strlen(f->host) + 1;
		f->instance = f->probe + strlen(f->probe) + 1;
		if (rc == 0 && fn(arg, f) != 0)
			rc = 1;
	}
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	if (rc < 0)
		return -1;
	return (int)n;
}

void analyzer_free(struct analyzer *an)
{
	size_t i;

	if (an == NULL)
		return;
	for (i = 0; i < an->tabsize; i++) {
		struct inst *in = an->tab[i], *next;

		for (; in != NULL; in = next) {
			next = in->next;
			inst_free(in);
		}
	}
	free(an->tab);
	sqlite3_finalize(an->get);
	sqlite3_finalize(an->put);
	if (an->db != NULL)
		sqlite3_close(an->db);
	pthread_mutex_destroy(&an->lock);
	pthread_mutex_destroy(&an->dblock);
	free(an);
}
