/* analyzer.c: samples to observations (see analyzer.h): each instance's
 * series, matched to the rules only when its labels change and judged per
 * detector (threshold, change, spike, forecast); the tick; the analyzer's
 * life. The saved state is analyzer_state.c's, the instance table and the
 * derived values (rates, cpu busy, disk util) analyzer_derive.c's. */
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

#define FORECAST_EVERY 3600.0 /* the forecasts' cadence, in sample time */
#define SAVE_EVERY 60.0       /* at most one save a minute */
#define RESIZE_FRAC 0.05      /* a capacity change past this is a resize */
#define FORGET_AFTER (7 * 86400.0) /* an instance silent this long leaves
				    * memory (its saved state stays) */

/* The observations of one call, emitted once the lock is released. Most
 * calls have none or one: those stay on the stack. */
#define OBS_LOCAL 2
struct obsbuf {
	struct alert_obs *v;
	size_t n, cap;
	struct alert_obs local[OBS_LOCAL];
};
#define OBSBUF_INIT(ob) do { (ob).v = (ob).local; (ob).n = 0; (ob).cap = OBS_LOCAL; } while (0)

/* --- series --------------------------------------------------------------- */

static void series_free(struct series *se)
{
	if (se == NULL)
		return;
	spike_free(se->sp);
	forecast_free(se->fc);
	free(se);
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
	analyzer_series_load(an, se, step);
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
	if (rule_op_holds(r->threshold.op, v, r->threshold.critical) ||
	    rule_op_holds(r->threshold.op, v, r->threshold.warning))
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
	h = analyzer_inst_hash(host, s->probe, s->instance);
	sig = analyzer_labels_sig(s);
	pthread_mutex_lock(&an->lock);
	in = analyzer_inst_get(an, h, host, s->probe, s->instance);
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
	d = analyzer_derive(in, s, st, &dbuf);
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
	if (save && analyzer_save_now(an, now, &err) < 0) {
		hr_log_warnx("%s (retried at the next tick)", err.msg);
		rc = -1;
	}
	if (prune)
		analyzer_prune_rows(an, now);
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
	if (db_path != NULL && analyzer_db_open(an, db_path, err) < 0) {
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
