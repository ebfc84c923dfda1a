/* alerts.c: the alert lifecycle (alerts.h): open/close, observe, tick and
 * the state machine. Memory holds what the hot path needs: a hash of keys
 * (flap counters, the open alert) and a list of "live" alerts (open, or ended
 * but not yet notified), kept row for row in SQLite (alerts_store.c). Every
 * transition is one transaction: row, due mark, flap counters, audit, outbox. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts_int.h"
#include "cfg.h"
#include "log.h"
#include "util.h"

#define WRITE_EVERY 60.0   /* value/summary changes reach the row this often */

/* Events gathered under the lock, handed to the hook after it. */
struct qev {
	long long id;
	char rule[ALERT_RULE_MAX], host[HR_HOST_MAX], instance[HR_INSTANCE_MAX];
	char summary[ALERT_SUMMARY_MAX];
	enum astate state;
	enum alert_severity sev;
	double t, value, eta, eta_early, eta_late;
};
struct evq {
	struct qev *v;
	size_t n, cap;
};

const char *const alerts_state_names[] = {"pending", "firing", "resolved", "cleared"};

/* --- small helpers -------------------------------------------------------- */

static uint64_t fnv(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static unsigned bucket(const char *s)
{
	return (unsigned)(fnv(s, 14695981039346656037ULL) % BUCKETS);
}

void alerts_fingerprint(const char *rule, const char *host, const char *instance, char out[17])
{
	uint64_t h = 14695981039346656037ULL;

	/* A separator byte between the parts, so that "a"+"bc" != "ab"+"c". */
	h = fnv(rule, h);
	h = (h ^ 0x1f) * 1099511628211ULL;
	h = fnv(host, h);
	h = (h ^ 0x1f) * 1099511628211ULL;
	h = fnv(instance, h);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void alerts_make_key(char *key, const char *rule, const char *host, const char *instance)
{
	snprintf(key, KEY_MAX, "%s\x1f%s\x1f%s", rule, host, instance);
}

/* --- params --------------------------------------------------------------- */

void alerts_params_default(struct alerts_params *p)
{
	memset(p, 0, sizeof(*p));
	p->group_wait = 2;
	p->repeat_interval = 4 * 3600;
	p->flap_window = 3600;
	p->flap_changes = 6;
	p->resolve_hold = 0;
	p->outage_fraction = 0.5;
	p->outage_min_hosts = 3;
	p->outage_window = 120;
	p->external_url = NULL;
}

int alerts_params_parse(const cJSON *obj, const char *path, struct alerts_params *p,
			struct hr_errs *errs)
{
	static const char *const keys[] = {
		"group_wait", "repeat_interval", "flap_window", "flap_changes", "resolve_hold",
		"outage_fraction", "outage_min_hosts", "outage_window", "external_url", NULL
	};
	size_t before = errs->count + errs->dropped;
	double d;

	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, path, "expected an object");
		return -1;
	}
	hr_cfg_check_keys(obj, path, keys, errs);
	hr_cfg_duration(obj, "group_wait", path, 0, 3600, &p->group_wait, errs);
	hr_cfg_duration(obj, "repeat_interval", path, 60, 30 * 86400, &p->repeat_interval, errs);
	hr_cfg_duration(obj, "flap_window", path, 60, 7 * 86400, &p->flap_window, errs);
	hr_cfg_duration(obj, "resolve_hold", path, 0, 86400, &p->resolve_hold, errs);
	hr_cfg_duration(obj, "outage_window", path, 1, 3600, &p->outage_window, errs);
	if (hr_cfg_number(obj, "flap_changes", path, 2, FLAP_MAX, &d, errs) == 1)
		p->flap_changes = (int)d;
	if (hr_cfg_number(obj, "outage_min_hosts", path, 1, 1e6, &d, errs) == 1)
		p->outage_min_hosts = (int)d;
	if (hr_cfg_number(obj, "outage_fraction", path, 0, 1, &d, errs) == 1) {
		if (d <= 0) {
			char where[256];

			hr_cfg_path(where, sizeof(where), path, "outage_fraction");
			hr_errs_add(errs, where, "must be above 0");
		} else {
			p->outage_fraction = d;
		}
	}
	hr_cfg_string(obj, "external_url", path, &p->external_url, errs);
	return errs->count + errs->dropped > before ? -1 : 0;
}

/* --- memory: keys, hosts, live list --------------------------------------- */

static struct track *track_find(struct alerts *a, const char *key)
{
	struct track *t;

	for (t = a->tracks[bucket(key)]; t != NULL; t = t->hnext)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

struct track *alerts_track_get(struct alerts *a, const char *key)
{
	struct track *t = track_find(a, key);
	unsigned b;

	if (t != NULL)
		return t;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	hr_strlcpy(t->key, key, sizeof(t->key));
	b = bucket(key);
	t->hnext = a->tracks[b];
	a->tracks[b] = t;
	return t;
}

struct hostent *alerts_host_get(struct alerts *a, const char *name)
{
	unsigned b = bucket(name);
	struct hostent *h;

	for (h = a->hosts[b]; h != NULL; h = h->hnext)
		if (strcmp(h->name, name) == 0)
			return h;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	hr_strlcpy(h->name, name, sizeof(h->name));
	h->hnext = a->hosts[b];
	a->hosts[b] = h;
	return h;
}

int alerts_is_stale_rule(const struct alert *al)
{
	return strcmp(al->rule, ALERTS_STALE_RULE) == 0;
}

int alerts_is_outage(const struct alert *al)
{
	return strcmp(al->rule, ALERTS_OUTAGE_RULE) == 0;
}

void alerts_live_add(struct alerts *a, struct alert *al)
{
	al->next = NULL;
	if (a->live_tail != NULL)
		a->live_tail->next = al;
	else
		a->live = al;
	a->live_tail = al;
	if (al->he->nlive++ == 0 && !alerts_is_outage(al))
		a->nhosts_live++;
}

void alerts_live_remove(struct alerts *a, struct alert *al)
{
	struct alert **pp, *prev = NULL;

	for (pp = &a->live; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp == al) {
			*pp = al->next;
			if (a->live_tail == al)
				a->live_tail = prev;
			break;
		}
	}
	if (--al->he->nlive == 0 && !alerts_is_outage(al))
		a->nhosts_live--;
	if (al->tr->open == al)
		al->tr->open = NULL;
	free(al);
}

void alerts_stale_count(struct alert *al, int delta)
{
	if (alerts_is_stale_rule(al))
		al->he->stale += delta;
}

struct alert *alerts_outage_alert(struct alerts *a)
{
	char key[KEY_MAX];
	struct track *t;

	alerts_make_key(key, ALERTS_OUTAGE_RULE, ALERTS_CENTRAL_HOST, "");
	t = track_find(a, key);
	return t != NULL && t->open != NULL && t->open->state == ST_FIRING ? t->open : NULL;
}

/* --- events --------------------------------------------------------------- */

static void ev_add(struct evq *q, const struct alert *al, double t)
{
	struct qev *e;

	if (q == NULL)
		return;
	if (q->n == q->cap) {
		size_t cap = q->cap != 0 ? 2 * q->cap : 8;
		struct qev *v = realloc(q->v, cap * sizeof(*v));

		if (v == NULL)
			return; /* the hook misses one event; the record has it */
		q->v = v;
		q->cap = cap;
	}
	e = &q->v[q->n++];
	e->id = al->id;
	hr_strlcpy(e->rule, al->rule, sizeof(e->rule));
	hr_strlcpy(e->host, al->host, sizeof(e->host));
	hr_strlcpy(e->instance, al->instance, sizeof(e->instance));
	hr_strlcpy(e->summary, al->summary, sizeof(e->summary));
	e->state = al->state;
	e->sev = al->sev;
	e->t = t;
	e->value = al->value;
	e->eta = al->eta;
	e->eta_early = al->eta_early;
	e->eta_late = al->eta_late;
}

static void ev_flush(struct alerts *a, struct evq *q)
{
	void (*fn)(void *, const struct alert_event *);
	void *ctx;
	size_t i;

	pthread_mutex_lock(&a->mu);
	fn = a->hook;
	ctx = a->hook_ctx;
	pthread_mutex_unlock(&a->mu);
	for (i = 0; fn != NULL && i < q->n; i++) {
		struct qev *e = &q->v[i];
		struct alert_event ev = {
			.id = e->id, .rule = e->rule, .host = e->host, .instance = e->instance,
			.state = alerts_state_names[e->state], .severity = e->sev, .t = e->t,
			.value = e->value, .eta = e->eta, .eta_early = e->eta_early,
			.eta_late = e->eta_late, .summary = e->summary,
		};

		fn(ctx, &ev);
	}
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}

/* --- transitions ------------------------------------------------------------ */

/* Counts a change (to firing or resolved) of al's key; starts flapping. */
static int flap_count(struct alerts *a, struct alert *al, double t, struct hr_err *err)
{
	struct track *tr = al->tr;
	int i, keep = 0;

	for (i = 0; i < tr->nch; i++)
		if (tr->changes[i] > t - a->p.flap_window)
			tr->changes[keep++] = tr->changes[i];
	tr->nch = keep;
	if (tr->nch == FLAP_MAX) {
		memmove(tr->changes, tr->changes + 1, (FLAP_MAX - 1) * sizeof(double));
		tr->nch--;
	}
	tr->changes[tr->nch++] = t;
	tr->last_change = t;
	if (!tr->flapping && tr->nch >= a->p.flap_changes) {
		char detail[64];

		tr->flapping = 1;
		al->flap_note = 1;
		snprintf(detail, sizeof(detail), "%d changes within %.0f s", tr->nch,
			 a->p.flap_window);
		if (alerts_audit_alert(a, al, t, "flapping", detail, err) < 0)
			return -1;
	}
	return alerts_save_track(a, tr, err);
}

static void mark_due(struct alert *al, double t)
{
	if (al->due <= 0)
		al->due = t > 0 ? t : 1;
}

static int set_state(struct alerts *a, struct alert *al, enum astate s, double t,
		     struct evq *q, struct hr_err *err)
{
	char detail[ALERT_SUMMARY_MAX + 32];
	enum astate was = al->state;

	al->state = s;
	if (s == ST_FIRING) {
		al->fired = t;
		alerts_stale_count(al, +1);
	} else if (s == ST_RESOLVED || s == ST_CLEARED) {
		al->ended = t;
		if (was == ST_FIRING)
			alerts_stale_count(al, -1);
		if (al->tr->open == al)
			al->tr->open = NULL;
	}
	mark_due(al, t);
	snprintf(detail, sizeof(detail), "%s %s: %s", s == ST_CLEARED ? "pending" :
		 alert_severity_name(al->sev), s == ST_CLEARED ? "cleared" : alerts_state_names[s],
		 al->summary);
	if (alerts_audit_alert(a, al, t,
			       s == ST_CLEARED ? "pending cleared" : alerts_state_names[s],
			       detail, err) < 0)
		return -1;
	if ((s == ST_FIRING || s == ST_RESOLVED) && flap_count(a, al, t, err) < 0)
		return -1;
	ev_add(q, al, t);
	return alerts_save_alert(a, al, 1, err);
}

static void copy_obs(struct alert *al, const struct alert_obs *o)
{
	size_t i;

	al->value = o->value;
	al->eta = o->eta;
	al->eta_early = o->eta_early;
	al->eta_late = o->eta_late;
	hr_strlcpy(al->summary, o->summary, sizeof(al->summary));
	hr_strlcpy(al->route, o->route, sizeof(al->route));
	al->nlabels = o->nlabels < ALERT_LABELS ? o->nlabels : ALERT_LABELS;
	for (i = 0; i < al->nlabels; i++)
		al->labels[i] = o->labels[i];
}

static struct alert *alert_new(struct alerts *a, struct track *tr, const struct alert_obs *o)
{
	struct alert *al = calloc(1, sizeof(*al));

	if (al == NULL)
		return NULL;
	al->he = alerts_host_get(a, o->host);
	if (al->he == NULL) {
		free(al);
		return NULL;
	}
	al->tr = tr;
	hr_strlcpy(al->rule, o->rule, sizeof(al->rule));
	hr_strlcpy(al->host, o->host, sizeof(al->host));
	hr_strlcpy(al->probe, o->probe, sizeof(al->probe));
	hr_strlcpy(al->instance, o->instance, sizeof(al->instance));
	copy_obs(al, o);
	al->sev = o->severity;
	al->event = o->event;
	al->for_s = o->for_s > 0 ? o->for_s : 0;
	al->started = o->t;
	al->fired = al->ended = NAN;
	al->inactive_since = NAN;
	al->last_sent = NAN;
	al->state = ST_PENDING;
	return al;
}

/* Flushes host now when there is no group wait, inside the transaction. */
static int maybe_flush(struct alerts *a, struct alert *al, double t, struct hr_err *err)
{
	if (a->p.group_wait > 0)
		return 0;
	return alerts_flush_host(a, al->he, t, err);
}

/* Begins the transaction at the first write, so that a sample that
 * changes nothing costs no lock on the database. */
static int tx_begin(struct alerts *a, int *wrote, struct hr_err *err)
{
	if (*wrote)
		return 0;
	if (alerts_db_begin(a, err) < 0)
		return -1;
	*wrote = 1;
	return 0;
}

static int observe_locked(struct alerts *a, const struct alert_obs *o, struct evq *q,
			  int *wrote, struct hr_err *err)
{
	char key[KEY_MAX];
	struct track *tr;
	struct alert *al;

	alerts_make_key(key, o->rule, o->host, o->instance);
	tr = track_find(a, key);
	al = tr != NULL ? tr->open : NULL;
	if (!o->active) {
		if (al == NULL)
			return 0; /* the common case: nothing open, nothing to do */
		if (al->state == ST_PENDING) {
			if (tx_begin(a, wrote, err) < 0)
				return -1;
			return set_state(a, al, ST_CLEARED, o->t, q, err) < 0 ? -1 :
			       maybe_flush(a, al, o->t, err);
		}
		if (a->p.resolve_hold > 0 && !al->event) {
			if (isnan(al->inactive_since))
				al->inactive_since = o->t;
			if (o->t - al->inactive_since < a->p.resolve_hold)
				return 0;
		}
		if (tx_begin(a, wrote, err) < 0)
			return -1;
		{
			/* The summary stays what fired (as Alertmanager keeps
			 * annotations): the inactive sample's text may describe
			 * nothing ("resync running, -1% done"). */
			char summary[sizeof(al->summary)];

			hr_strlcpy(summary, al->summary, sizeof(summary));
			copy_obs(al, o);
			hr_strlcpy(al->summary, summary, sizeof(al->summary));
		}
		return set_state(a, al, ST_RESOLVED, o->t, q, err) < 0 ? -1 :
		       maybe_flush(a, al, o->t, err);
	}
	if (al == NULL) {
		if (tr == NULL && (tr = alerts_track_get(a, key)) == NULL)
			return hr_err_set(err, "alerts: out of memory");
		al = alert_new(a, tr, o);
		if (al == NULL)
			return hr_err_set(err, "alerts: out of memory");
		if (tx_begin(a, wrote, err) < 0 || alerts_save_alert(a, al, 1, err) < 0) {
			free(al);
			return -1;
		}
		tr->open = al;
		alerts_live_add(a, al);
		if (!o->event && al->for_s > 0) {
			ev_add(q, al, o->t);
			return alerts_audit_alert(a, al, o->t, "pending", al->summary, err);
		}
		return set_state(a, al, ST_FIRING, o->t, q, err) < 0 ? -1 :
		       maybe_flush(a, al, o->t, err);
	}
	al->inactive_since = NAN;
	if (al->state == ST_PENDING) {
		copy_obs(al, o);
		al->sev = o->severity;
		al->dirty = 1;
		if (o->t - al->started < al->for_s)
			return 0;
		if (tx_begin(a, wrote, err) < 0)
			return -1;
		return set_state(a, al, ST_FIRING, o->t, q, err) < 0 ? -1 :
		       maybe_flush(a, al, o->t, err);
	}
	/* Firing: keep the evidence fresh; a new severity is news. */
	if (strcmp(al->summary, o->summary) != 0 || al->value != o->value)
		al->dirty = 1;
	copy_obs(al, o);
	if (o->severity != al->sev) {
		char detail[64];

		snprintf(detail, sizeof(detail), "%s -> %s", alert_severity_name(al->sev),
			 alert_severity_name(o->severity));
		al->sev = o->severity;
		if (tx_begin(a, wrote, err) < 0)
			return -1;
		mark_due(al, o->t);
		if (alerts_audit_alert(a, al, o->t, "severity", detail, err) < 0)
			return -1;
		ev_add(q, al, o->t);
		if (alerts_save_alert(a, al, 1, err) < 0)
			return -1;
		return maybe_flush(a, al, o->t, err);
	}
	return 0;
}

/* --- public: observe ---------------------------------------------------------- */

int alerts_observe(struct alerts *a, const struct alert_obs *o, struct hr_err *err)
{
	struct evq q = {0};
	int wrote = 0, rc, send;

	pthread_mutex_lock(&a->mu);
	rc = observe_locked(a, o, &q, &wrote, err);
	if (wrote)
		rc = alerts_db_end(a, rc, err);
	send = a->outbox_n > 0 && !a->send_hold;
	pthread_mutex_unlock(&a->mu);
	if (q.n > 0)
		ev_flush(a, &q);
	if (send)
		alerts_deliver(a, 0);
	return rc;
}

/* --- public: tick ---------------------------------------------------------------- */

/* The ingest-outage rule (alerts.h): fires or resolves the outage alert. */
static int outage_check(struct alerts *a, double now, struct evq *q, struct hr_err *err)
{
	struct alert *out = alerts_outage_alert(a), *al;
	double newest = -INFINITY;
	int stale = 0, cluster = 0, known;

	for (al = a->live; al != NULL; al = al->next) {
		if (!alerts_is_stale_rule(al) || al->state != ST_FIRING)
			continue;
		stale++;
		if (al->fired > newest)
			newest = al->fired;
	}
	if (out != NULL) {
		if (stale >= a->p.outage_min_hosts)
			return 0;
		return set_state(a, out, ST_RESOLVED, now, q, err);
	}
	for (al = a->live; al != NULL; al = al->next)
		if (alerts_is_stale_rule(al) && al->state == ST_FIRING &&
		    al->fired >= newest - a->p.outage_window)
			cluster++;
	known = a->nhosts_live > a->host_count ? a->nhosts_live : a->host_count;
	if (cluster < a->p.outage_min_hosts || cluster < a->p.outage_fraction * known)
		return 0;
	{
		struct alert_obs o;
		char key[KEY_MAX];
		struct track *tr;

		alert_obs_init(&o, ALERTS_OUTAGE_RULE, ALERTS_CENTRAL_HOST, "central", "");
		o.active = 1;
		o.severity = ALERT_CRITICAL;
		o.t = now;
		o.value = cluster;
		snprintf(o.summary, sizeof(o.summary),
			 "%d of %d hosts went stale within %.0f s: the central's ingest is out,"
			 " not the hosts", cluster, known, a->p.outage_window);
		alerts_make_key(key, o.rule, o.host, o.instance);
		tr = alerts_track_get(a, key);
		if (tr == NULL || (al = alert_new(a, tr, &o)) == NULL)
			return hr_err_set(err, "alerts: out of memory");
		if (alerts_save_alert(a, al, 1, err) < 0) {
			free(al);
			return -1;
		}
		tr->open = al;
		alerts_live_add(a, al);
		return set_state(a, al, ST_FIRING, now, q, err);
	}
}

static int tick_locked(struct alerts *a, double now, struct evq *q, struct hr_err *err)
{
	struct hostent **flush = NULL;
	size_t nflush = 0, capflush = 0, i;
	struct alert *al, *b;

	for (al = a->live; al != NULL; al = al->next) {
		if (al->state == ST_PENDING && now - al->started >= al->for_s) {
			if (set_state(a, al, ST_FIRING, now, q, err) < 0)
				return -1;
		} else if (al->state == ST_FIRING && !isnan(al->inactive_since) &&
			   now - al->inactive_since >= a->p.resolve_hold) {
			if (set_state(a, al, ST_RESOLVED, now, q, err) < 0)
				return -1;
		}
	}
	for (al = a->live; al != NULL; al = al->next) {
		struct track *tr = al->tr;

		if (!tr->flapping || now - tr->last_change < a->p.flap_window)
			continue;
		tr->flapping = 0;
		tr->nch = 0;
		if (alerts_save_track(a, tr, err) < 0 ||
		    alerts_audit_alert(a, al, now, "flapping ended", NULL, err) < 0)
			return -1;
		for (b = a->live; b != NULL; b = b->next)
			if (b->tr == tr)
				mark_due(b, now);
	}
	if (alerts_silences_expire_due(a, now, err) < 0 || outage_check(a, now, q, err) < 0)
		return -1;
	for (al = a->live; al != NULL; al = al->next) {
		if (al->state != ST_FIRING || al->due > 0 || al->tr->flapping ||
		    alerts_suppressed(a, al, now) != NULL)
			continue;
		if (al->sent != SENT_FIRING || al->sent_sev != al->sev)
			mark_due(al, now); /* a silence or inhibition ended */
		else if (al->acked_by[0] == '\0' && now - al->last_sent >= a->p.repeat_interval)
			mark_due(al, now - a->p.group_wait); /* a repeat waits for nothing */
	}
	for (al = a->live; al != NULL; al = al->next) {
		if (al->dirty && !(now - al->written < WRITE_EVERY)) {
			al->written = now;
			if (alerts_save_alert(a, al, 1, err) < 0)
				return -1;
		}
	}
	/* The hosts whose group waited long enough; flushing changes the
	 * list, so they are gathered first. */
	for (al = a->live; al != NULL; al = al->next)
		al->he->flush = 0;
	for (al = a->live; al != NULL; al = al->next) {
		if (al->due <= 0 || al->due + a->p.group_wait > now || alerts_held(a, al, now) ||
		    al->he->flush)
			continue;
		al->he->flush = 1;
		if (nflush == capflush) {
			struct hostent **v;

			capflush = capflush != 0 ? 2 * capflush : 16;
			v = realloc(flush, capflush * sizeof(*v));
			if (v == NULL) {
				free(flush);
				return hr_err_set(err, "alerts: out of memory");
			}
			flush = v;
		}
		flush[nflush++] = al->he;
	}
	for (i = 0; i < nflush; i++) {
		if (alerts_flush_host(a, flush[i], now, err) < 0) {
			free(flush);
			return -1;
		}
	}
	free(flush);
	if (now - a->last_prune >= 60) {
		a->last_prune = now;
		if (alerts_track_free_unused(a, now, err) < 0)
			return -1;
	}
	return 0;
}

int alerts_tick(struct alerts *a, double now, struct hr_err *err)
{
	struct evq q = {0};
	int rc;

	pthread_mutex_lock(&a->mu);
	rc = alerts_reload_if_changed(a, err);
	if (rc == 0 && (rc = alerts_db_begin(a, err)) == 0)
		rc = alerts_db_end(a, tick_locked(a, now, &q, err), err);
	a->send_hold = 0;
	pthread_mutex_unlock(&a->mu);
	ev_flush(a, &q);
	alerts_deliver(a, 1);
	return rc;
}

/* --- open and close ------------------------------------------------------------- */

struct alerts *alerts_open(const char *db_path, const struct alerts_params *p,
			   const struct alerts_notifier *n, struct hr_err *err)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		hr_err_set(err, "alerts: out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->send_mu, NULL);
	a->p = *p;
	if (a->p.flap_changes > FLAP_MAX)
		a->p.flap_changes = FLAP_MAX;
	if (n != NULL && n->send != NULL) {
		a->n = *n;
		a->has_notifier = 1;
	}
	a->data_version = -1;
	if (alerts_db_open(a, db_path, err) < 0)
		goto fail;
	return a;
fail:
	alerts_close(a);
	return NULL;
}

void alerts_close(struct alerts *a)
{
	struct alert *al, *next;
	struct hostent *h, *hn;
	struct track *t, *tn;
	unsigned b;

	if (a == NULL)
		return;
	for (al = a->live; al != NULL; al = next) {
		struct hr_err err;

		next = al->next;
		if (al->dirty && a->db != NULL && alerts_save_alert(a, al, 1, &err) < 0)
			hr_log_warnx("%s", err.msg);
		free(al);
	}
	for (b = 0; b < BUCKETS; b++) {
		for (t = a->tracks[b]; t != NULL; t = tn) {
			tn = t->hnext;
			free(t);
		}
		for (h = a->hosts[b]; h != NULL; h = hn) {
			hn = h->hnext;
			free(h);
		}
	}
	free(a->sil);
	sqlite3_finalize(a->save);
	sqlite3_close(a->db);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->send_mu);
	free(a);
}

void alerts_set_host_count(struct alerts *a, int n)
{
	pthread_mutex_lock(&a->mu);
	a->host_count = n;
	pthread_mutex_unlock(&a->mu);
}

void alerts_set_event_hook(struct alerts *a, void (*fn)(void *ctx, const struct alert_event *ev),
			   void *ctx)
{
	pthread_mutex_lock(&a->mu);
	a->hook = fn;
	a->hook_ctx = ctx;
	pthread_mutex_unlock(&a->mu);
}
