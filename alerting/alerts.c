/* alerts.c: the alert lifecycle (alerts.h). Memory holds what the hot path
 * needs: a hash of keys (flap counters, the open alert) and a list of "live"
 * alerts (open, or ended but not yet notified); SQLite holds the same, row
 * for row, so that alerts_open can rebuild it. Every transition is one
 * transaction: the alert's row, its due mark, the key's flap counters and
 * the audit row, and (group_wait 0) the outbox row. */
#include "config.h"

#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "alerts.h"
#include "audit.h"
#include "cfg.h"
#include "log.h"
#include "util.h"

#define KEY_MAX (ALERT_RULE_MAX + HR_HOST_MAX + HR_INSTANCE_MAX + 2)
#define BUCKETS 4096
#define FLAP_MAX 64        /* flap_changes at most */
#define WRITE_EVERY 60.0   /* value/summary changes reach the row this often */
#define SILENCE_MATCHERS 16
#define WHO_MAX 64

enum astate { ST_PENDING, ST_FIRING, ST_RESOLVED, ST_CLEARED };
static const char *const state_names[] = {"pending", "firing", "resolved", "cleared"};
/* What the receivers were last told about an alert. */
enum sent { SENT_NONE, SENT_FIRING, SENT_RESOLVED };

struct track;
struct hostent;

struct alert {
	long long id;
	struct track *tr;
	struct hostent *he;
	char rule[ALERT_RULE_MAX], host[HR_HOST_MAX], probe[HR_PROBE_MAX];
	char instance[HR_INSTANCE_MAX], route[ALERT_ROUTE_MAX], summary[ALERT_SUMMARY_MAX];
	size_t nlabels;
	struct alert_label labels[ALERT_LABELS];
	enum astate state;
	enum alert_severity sev, sent_sev;
	int event, sent, flap_note, dirty;
	double for_s, started, fired, ended;
	double value, eta, eta_early, eta_late;
	double inactive_since;     /* resolve_hold: NAN while active */
	double due;                /* 0, or when a change made it need a look */
	double last_sent, written;
	char acked_by[WHO_MAX];    /* "" not acked */
	double acked_at;
	struct alert *next;        /* the live list, in creation order */
};

/* One dedupe key: its flap counters and its open alert. */
struct track {
	char key[KEY_MAX];
	double changes[FLAP_MAX];  /* times of recent changes, oldest first */
	int nch, flapping;
	double last_change;
	struct alert *open;
	struct track *hnext;
};

struct hostent {
	char name[HR_HOST_MAX];
	int nlive, stale;          /* live alerts; firing host_stale alerts */
	int flush;                 /* tick: its group is due */
	struct hostent *hnext;
};

struct matcher {
	char name[ALERT_LABEL_NAME_MAX];
	char glob[ALERT_LABEL_VALUE_MAX];
};

struct silence {
	long long id;
	double starts, ends;
	size_t nm;
	struct matcher m[SILENCE_MATCHERS];
};

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

struct alerts {
	pthread_mutex_t mu;
	pthread_mutex_t send_mu;   /* one deliverer at a time keeps host order */
	sqlite3 *db;
	sqlite3_stmt *save;        /* save_alert's, prepared on first use */
	struct alerts_params p;
	struct alerts_notifier n;
	int has_notifier;
	void (*hook)(void *, const struct alert_event *);
	void *hook_ctx;
	struct track *tracks[BUCKETS];
	struct hostent *hosts[BUCKETS];
	int nhosts_live, host_count;
	struct alert *live, *live_tail;
	struct silence *sil;
	size_t nsil;
	long long data_version;
	long long outbox_n;        /* rows waiting, roughly: a hint only */
	int send_hold;             /* a send failed: wait for the next tick */
	int send_failing;          /* logged once */
	double last_prune;
};

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

static void make_key(char *key, const char *rule, const char *host, const char *instance)
{
	snprintf(key, KEY_MAX, "%s\x1f%s\x1f%s", rule, host, instance);
}

static void rfc3339(char *dst, size_t n, double t)
{
	struct tm tm;
	time_t s;

	if (!isfinite(t) || t <= 0) {
		hr_strlcpy(dst, "0001-01-01T00:00:00Z", n);
		return;
	}
	s = (time_t)t;
	gmtime_r(&s, &tm);
	strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void bind_num(sqlite3_stmt *st, int i, double v)
{
	/* SQLite turns NaN into NULL anyway; say so explicitly. */
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

static double col_num(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

static int db_exec(struct alerts *a, const char *sql, struct hr_err *err)
{
	if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s: %s", sql, sqlite3_errmsg(a->db));
	return 0;
}

static int db_begin(struct alerts *a, struct hr_err *err)
{
	return db_exec(a, "BEGIN IMMEDIATE", err);
}

static int db_end(struct alerts *a, int ok, struct hr_err *err)
{
	if (ok == 0)
		return db_exec(a, "COMMIT", err);
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void alert_subject(char *dst, size_t n, const struct alert *al)
{
	snprintf(dst, n, "alert %lld %s/%s%s%s", al->id, al->rule, al->host,
		 al->instance[0] != '\0' ? "/" : "", al->instance);
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

static struct track *track_get(struct alerts *a, const char *key)
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

static struct hostent *host_get(struct alerts *a, const char *name)
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

static int is_stale_rule(const struct alert *al)
{
	return strcmp(al->rule, ALERTS_STALE_RULE) == 0;
}

static int is_outage(const struct alert *al)
{
	return strcmp(al->rule, ALERTS_OUTAGE_RULE) == 0;
}

static void live_add(struct alerts *a, struct alert *al)
{
	al->next = NULL;
	if (a->live_tail != NULL)
		a->live_tail->next = al;
	else
		a->live = al;
	a->live_tail = al;
	if (al->he->nlive++ == 0 && !is_outage(al))
		a->nhosts_live++;
}

static void live_remove(struct alerts *a, struct alert *al)
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
	if (--al->he->nlive == 0 && !is_outage(al))
		a->nhosts_live--;
	if (al->tr->open == al)
		al->tr->open = NULL;
	free(al);
}

static void stale_count(struct alert *al, int delta)
{
	if (is_stale_rule(al))
		al->he->stale += delta;
}

static struct alert *outage_alert(struct alerts *a)
{
	char key[KEY_MAX];
	struct track *t;

	make_key(key, ALERTS_OUTAGE_RULE, ALERTS_CENTRAL_HOST, "");
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
			.state = state_names[e->state], .severity = e->sev, .t = e->t,
			.value = e->value, .eta = e->eta, .eta_early = e->eta_early,
			.eta_late = e->eta_late, .summary = e->summary,
		};

		fn(ctx, &ev);
	}
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}

/* --- rows ------------------------------------------------------------------ */

static char *labels_json(const struct alert *al)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < al->nlabels; i++)
		cJSON_AddStringToObject(o, al->labels[i].name, al->labels[i].value);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void labels_parse(struct alert *al, const char *text)
{
	cJSON *o = cJSON_Parse(text), *it;

	al->nlabels = 0;
	cJSON_ArrayForEach(it, o) {
		if (al->nlabels == ALERT_LABELS)
			break;
		if (!cJSON_IsString(it))
			continue;
		hr_strlcpy(al->labels[al->nlabels].name, it->string, ALERT_LABEL_NAME_MAX);
		hr_strlcpy(al->labels[al->nlabels].value, it->valuestring, ALERT_LABEL_VALUE_MAX);
		al->nlabels++;
	}
	cJSON_Delete(o);
}

/* Writes the alert's row (a new row when id is 0), all but the ack, which
 * only alerts_ack writes (another process may have set it). */
static int save_alert(struct alerts *a, struct alert *al, int live, struct hr_err *err)
{
	static const char sql[] =
		"INSERT INTO alert_alerts (id, key, rule, host, probe, instance, route, labels,"
		" state, severity, event, for_s, started, fired, ended, value, eta, eta_early,"
		" eta_late, summary, sent, sent_sev, last_sent, due, flap_note, live)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		" ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
		" ON CONFLICT (id) DO UPDATE SET state = ?9, severity = ?10, fired = ?14,"
		" ended = ?15, value = ?16, eta = ?17, eta_early = ?18, eta_late = ?19,"
		" summary = ?20, sent = ?21, sent_sev = ?22, last_sent = ?23, due = ?24,"
		" flap_note = ?25, live = ?26, labels = ?8, route = ?7";
	sqlite3_stmt *st;
	char key[KEY_MAX];
	char *labels = labels_json(al);
	int rc;

	if (labels == NULL)
		return hr_err_set(err, "alerts: out of memory");
	if (a->save == NULL &&
	    sqlite3_prepare_v2(a->db, sql, -1, &a->save, NULL) != SQLITE_OK) {
		free(labels);
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	}
	st = a->save;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	make_key(key, al->rule, al->host, al->instance);
	if (al->id > 0)
		sqlite3_bind_int64(st, 1, al->id);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, al->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, al->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, al->probe, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, al->instance, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, al->route, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, labels, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, state_names[al->state], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, (int)al->sev);
	sqlite3_bind_int(st, 11, al->event);
	bind_num(st, 12, al->for_s);
	bind_num(st, 13, al->started);
	bind_num(st, 14, al->fired);
	bind_num(st, 15, al->ended);
	bind_num(st, 16, al->value);
	bind_num(st, 17, al->eta);
	bind_num(st, 18, al->eta_early);
	bind_num(st, 19, al->eta_late);
	sqlite3_bind_text(st, 20, al->summary, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 21, al->sent);
	sqlite3_bind_int(st, 22, (int)al->sent_sev);
	bind_num(st, 23, al->last_sent);
	bind_num(st, 24, al->due);
	sqlite3_bind_int(st, 25, al->flap_note);
	sqlite3_bind_int(st, 26, live);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	free(labels);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "alerts: saving an alert: %s", sqlite3_errmsg(a->db));
	if (al->id <= 0)
		al->id = sqlite3_last_insert_rowid(a->db);
	al->dirty = 0;
	return 0;
}

static int save_track(struct alerts *a, const struct track *t, struct hr_err *err)
{
	char changes[FLAP_MAX * 24], *p = changes;
	sqlite3_stmt *st = NULL;
	int i, rc;

	changes[0] = '\0';
	for (i = 0; i < t->nch; i++)
		p += snprintf(p, sizeof(changes) - (size_t)(p - changes), "%s%.3f",
			      i > 0 ? " " : "", t->changes[i]);
	if (sqlite3_prepare_v2(a->db, "INSERT OR REPLACE INTO alert_keys (key, changes, flapping,"
			       " last_change) VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	sqlite3_bind_text(st, 1, t->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, changes, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, t->flapping);
	sqlite3_bind_double(st, 4, t->last_change);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "alerts: saving a key: %s", sqlite3_errmsg(a->db));
	return 0;
}

static int audit_alert(struct alerts *a, const struct alert *al, double t, const char *action,
		       const char *detail, struct hr_err *err)
{
	char subject[KEY_MAX + 40];

	alert_subject(subject, sizeof(subject), al);
	return audit_log(a->db, t, AUDIT_SYSTEM, action, subject, detail, err);
}

/* --- suppression ------------------------------------------------------------ */

static const char *alert_label(const struct alert *al, const char *name)
{
	size_t i;

	if (strcmp(name, "alertname") == 0)
		return al->rule;
	if (strcmp(name, "host") == 0)
		return al->host;
	if (strcmp(name, "probe") == 0)
		return al->probe;
	if (strcmp(name, "instance") == 0)
		return al->instance;
	if (strcmp(name, "severity") == 0)
		return alert_severity_name(al->sev);
	for (i = 0; i < al->nlabels; i++)
		if (strcmp(al->labels[i].name, name) == 0)
			return al->labels[i].value;
	return NULL;
}

static int silenced(const struct alerts *a, const struct alert *al, double now)
{
	size_t i, j;

	for (i = 0; i < a->nsil; i++) {
		const struct silence *s = &a->sil[i];

		if (now < s->starts || now >= s->ends)
			continue;
		for (j = 0; j < s->nm; j++) {
			const char *v = alert_label(al, s->m[j].name);

			/* An absent label is "", so "probe=" style matchers
			 * and "*" still work on it. */
			if (fnmatch(s->m[j].glob, v != NULL ? v : "", 0) != 0)
				break;
		}
		if (j == s->nm)
			return 1;
	}
	return 0;
}

/* Why al is not notified now, or NULL. Flapping is handled by the caller. */
static const char *suppressed(const struct alerts *a, const struct alert *al, double now)
{
	if (strcmp(al->route, "none") == 0)
		return "route none";
	if (is_stale_rule(al) && outage_alert((struct alerts *)a) != NULL)
		return "inhibited";
	if (!is_stale_rule(al) && !is_outage(al) && al->he->stale > 0)
		return "inhibited";
	if (silenced(a, al, now))
		return "silenced";
	return NULL;
}

/* A host_stale alert waits outage_window before its first notification,
 * to see whether the other hosts go stale with it (an ingest outage). */
static int held(const struct alerts *a, const struct alert *al, double now)
{
	return is_stale_rule(al) && al->state == ST_FIRING && al->sent != SENT_FIRING &&
	       now < al->fired + a->p.outage_window;
}

/* --- notifications ---------------------------------------------------------- */

static void add_alert_json(const struct alerts *a, cJSON *arr, const struct alert *al)
{
	cJSON *o = cJSON_CreateObject(), *lab, *ann;
	char buf[64], fp[17];
	size_t i;

	if (o == NULL)
		return;
	cJSON_AddItemToArray(arr, o);
	cJSON_AddStringToObject(o, "status", al->state == ST_FIRING ? "firing" : "resolved");
	lab = cJSON_AddObjectToObject(o, "labels");
	cJSON_AddStringToObject(lab, "alertname", al->rule);
	cJSON_AddStringToObject(lab, "host", al->host);
	cJSON_AddStringToObject(lab, "probe", al->probe);
	cJSON_AddStringToObject(lab, "instance", al->instance);
	cJSON_AddStringToObject(lab, "severity", alert_severity_name(al->sev));
	for (i = 0; i < al->nlabels; i++)
		if (!cJSON_HasObjectItem(lab, al->labels[i].name))
			cJSON_AddStringToObject(lab, al->labels[i].name, al->labels[i].value);
	ann = cJSON_AddObjectToObject(o, "annotations");
	cJSON_AddStringToObject(ann, "summary", al->summary);
	if (isfinite(al->value)) {
		snprintf(buf, sizeof(buf), "%.6g", al->value);
		cJSON_AddStringToObject(ann, "value", buf);
	}
	if (isfinite(al->eta)) {
		rfc3339(buf, sizeof(buf), al->eta);
		cJSON_AddStringToObject(ann, "eta", buf);
	}
	if (isfinite(al->eta_early)) {
		rfc3339(buf, sizeof(buf), al->eta_early);
		cJSON_AddStringToObject(ann, "eta_early", buf);
	}
	if (isfinite(al->eta_late)) {
		rfc3339(buf, sizeof(buf), al->eta_late);
		cJSON_AddStringToObject(ann, "eta_late", buf);
	}
	if (al->flap_note)
		cJSON_AddStringToObject(ann, "flapping", "true");
	rfc3339(buf, sizeof(buf), isfinite(al->fired) ? al->fired : al->started);
	cJSON_AddStringToObject(o, "startsAt", buf);
	rfc3339(buf, sizeof(buf), al->state == ST_FIRING ? NAN : al->ended);
	cJSON_AddStringToObject(o, "endsAt", buf);
	if (a->p.external_url != NULL && a->p.external_url[0] != '\0') {
		char url[512];

		snprintf(url, sizeof(url), "%s/alerts#%lld", a->p.external_url, al->id);
		cJSON_AddStringToObject(o, "generatorURL", url);
	} else {
		cJSON_AddStringToObject(o, "generatorURL", "");
	}
	alerts_fingerprint(al->rule, al->host, al->instance, fp);
	cJSON_AddStringToObject(o, "fingerprint", fp);
}

/* The members (name: string) that every element's obj[field] shares. */
static cJSON *common(cJSON *alerts, const char *field)
{
	cJSON *first = cJSON_GetObjectItem(cJSON_GetArrayItem(alerts, 0), field);
	cJSON *out = cJSON_CreateObject(), *it, *al;

	cJSON_ArrayForEach(it, first) {
		int all = 1;

		cJSON_ArrayForEach(al, alerts) {
			cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(al, field), it->string);

			if (!cJSON_IsString(v) || strcmp(v->valuestring, it->valuestring) != 0) {
				all = 0;
				break;
			}
		}
		if (all)
			cJSON_AddStringToObject(out, it->string, it->valuestring);
	}
	return out;
}

/* One group's payload (contract: Alertmanager webhook, version 4). */
static char *payload(const struct alerts *a, const char *host, struct alert **v, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *gl;
	char gk[HR_HOST_MAX + 32], *s;
	int firing = 0;
	size_t i;

	if (doc == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		firing |= v[i]->state == ST_FIRING;
	snprintf(gk, sizeof(gk), "{}:{host=\"%s\"}", host);
	cJSON_AddStringToObject(doc, "version", "4");
	cJSON_AddStringToObject(doc, "groupKey", gk);
	cJSON_AddNumberToObject(doc, "truncatedAlerts", 0);
	cJSON_AddStringToObject(doc, "status", firing ? "firing" : "resolved");
	cJSON_AddStringToObject(doc, "receiver", "");
	gl = cJSON_AddObjectToObject(doc, "groupLabels");
	cJSON_AddStringToObject(gl, "host", host);
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		add_alert_json(a, arr, v[i]);
	cJSON_AddItemToObject(doc, "commonLabels", common(arr, "labels"));
	cJSON_AddItemToObject(doc, "commonAnnotations", common(arr, "annotations"));
	cJSON_AddStringToObject(doc, "externalURL",
				a->p.external_url != NULL ? a->p.external_url : "");
	cJSON_AddItemToObject(doc, "alerts", arr);
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return s;
}

static int outbox_put(struct alerts *a, double now, const char *host, const char *route,
		      enum alert_severity sev, const char *text, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, "INSERT INTO alert_outbox (t, host, route, severity, payload)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	sqlite3_bind_double(st, 1, now);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, route, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)sev);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "alerts: outbox: %s", sqlite3_errmsg(a->db));
	a->outbox_n++;
	return 0;
}

/* Does al go out in this flush? Also says whether it leaves the live list. */
static int want_send(const struct alerts *a, struct alert *al, double now, int *drop)
{
	const char *sup = suppressed(a, al, now);

	*drop = 0;
	if (al->state == ST_PENDING)
		return 0;
	if (al->state == ST_CLEARED) {
		*drop = 1;
		return 0;
	}
	if (al->state == ST_RESOLVED) {
		if (al->sent != SENT_FIRING || strcmp(al->route, "none") == 0) {
			*drop = 1;
			return 0;
		}
		if (al->tr->flapping && !al->flap_note)
			return 0; /* kept: sent when the flapping ends */
		*drop = 1;
		return 1;
	}
	if (al->tr->flapping)
		return al->flap_note;
	if (sup != NULL)
		return 0;
	return al->sent != SENT_FIRING || al->sent_sev != al->sev ||
	       (al->acked_by[0] == '\0' && now - al->last_sent >= a->p.repeat_interval);
}

/* Sends (to the outbox) what host's due alerts need, one payload per
 * route, and clears their marks; part of the caller's transaction. */
static int flush_host(struct alerts *a, struct hostent *he, double now, struct hr_err *err)
{
	struct alert **send = NULL, **drop = NULL, *al;
	size_t nsend = 0, ndrop = 0, cap = 0, i, j;
	int rc = -1;

	for (al = a->live; al != NULL; al = al->next)
		if (al->he == he)
			cap++;
	send = calloc(cap + 1, sizeof(*send));
	drop = calloc(cap + 1, sizeof(*drop));
	if (send == NULL || drop == NULL) {
		hr_err_set(err, "alerts: out of memory");
		goto out;
	}
	for (al = a->live; al != NULL; al = al->next) {
		int d;

		if (al->he != he || al->due <= 0 || held(a, al, now))
			continue;
		if (want_send(a, al, now, &d))
			send[nsend++] = al;
		else if (!d && (al->due = 0, save_alert(a, al, 1, err) < 0))
			goto out;
		if (d)
			drop[ndrop++] = al;
	}
	/* One payload per route, alerts in creation order. */
	for (i = 0; i < nsend; i++) {
		struct alert **grp = NULL;
		enum alert_severity sev = ALERT_INFO;
		size_t ng = 0;
		char *text;

		if (send[i] == NULL)
			continue;
		grp = calloc(nsend, sizeof(*grp));
		if (grp == NULL) {
			hr_err_set(err, "alerts: out of memory");
			goto out;
		}
		for (j = i; j < nsend; j++) {
			if (send[j] == NULL || strcmp(send[j]->route, send[i]->route) != 0)
				continue;
			grp[ng++] = send[j];
			if (send[j]->sev > sev)
				sev = send[j]->sev;
		}
		text = payload(a, he->name, grp, ng);
		if (text == NULL || (a->has_notifier &&
				     outbox_put(a, now, he->name, send[i]->route, sev, text, err) < 0)) {
			if (text == NULL)
				hr_err_set(err, "alerts: out of memory");
			free(text);
			free(grp);
			goto out;
		}
		free(text);
		for (j = 0; j < ng; j++) {
			struct alert *g = grp[j];

			g->sent = g->state == ST_FIRING ? SENT_FIRING : SENT_RESOLVED;
			g->sent_sev = g->sev;
			g->last_sent = now;
			g->flap_note = 0;
			g->due = 0;
			if (save_alert(a, g, g->state == ST_FIRING || g->state == ST_PENDING, err) < 0) {
				free(grp);
				goto out;
			}
		}
		for (j = i; j < nsend; j++)
			for (size_t k = 0; k < ng; k++)
				if (send[j] == grp[k])
					send[j] = NULL;
		free(grp);
	}
	for (i = 0; i < ndrop; i++) {
		al = drop[i];
		if (al->sent != SENT_RESOLVED || al->state != ST_RESOLVED) {
			al->due = 0;
			if (save_alert(a, al, 0, err) < 0)
				goto out;
		}
		live_remove(a, al);
	}
	rc = 0;
out:
	free(send);
	free(drop);
	return rc;
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
		if (audit_alert(a, al, t, "flapping", detail, err) < 0)
			return -1;
	}
	return save_track(a, tr, err);
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
		stale_count(al, +1);
	} else if (s == ST_RESOLVED || s == ST_CLEARED) {
		al->ended = t;
		if (was == ST_FIRING)
			stale_count(al, -1);
		if (al->tr->open == al)
			al->tr->open = NULL;
	}
	mark_due(al, t);
	snprintf(detail, sizeof(detail), "%s %s: %s", s == ST_CLEARED ? "pending" :
		 alert_severity_name(al->sev), s == ST_CLEARED ? "cleared" : state_names[s],
		 al->summary);
	if (audit_alert(a, al, t, s == ST_CLEARED ? "pending cleared" : state_names[s],
			detail, err) < 0)
		return -1;
	if ((s == ST_FIRING || s == ST_RESOLVED) && flap_count(a, al, t, err) < 0)
		return -1;
	ev_add(q, al, t);
	return save_alert(a, al, 1, err);
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
	al->he = host_get(a, o->host);
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
	return flush_host(a, al->he, t, err);
}

/* Begins the transaction at the first write, so that a sample that
 * changes nothing costs no lock on the database. */
static int tx_begin(struct alerts *a, int *wrote, struct hr_err *err)
{
	if (*wrote)
		return 0;
	if (db_begin(a, err) < 0)
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

	make_key(key, o->rule, o->host, o->instance);
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
		copy_obs(al, o);
		return set_state(a, al, ST_RESOLVED, o->t, q, err) < 0 ? -1 :
		       maybe_flush(a, al, o->t, err);
	}
	if (al == NULL) {
		if (tr == NULL && (tr = track_get(a, key)) == NULL)
			return hr_err_set(err, "alerts: out of memory");
		al = alert_new(a, tr, o);
		if (al == NULL)
			return hr_err_set(err, "alerts: out of memory");
		if (tx_begin(a, wrote, err) < 0)
		return -1;
		if (save_alert(a, al, 1, err) < 0) {
			free(al);
			return -1;
		}
		tr->open = al;
		live_add(a, al);
		if (!o->event && al->for_s > 0) {
			ev_add(q, al, o->t);
			return audit_alert(a, al, o->t, "pending", al->summary, err);
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
		if (audit_alert(a, al, o->t, "severity", detail, err) < 0)
			return -1;
		ev_add(q, al, o->t);
		if (save_alert(a, al, 1, err) < 0)
			return -1;
		return maybe_flush(a, al, o->t, err);
	}
	return 0;
}

/* --- outbox delivery ---------------------------------------------------------- */

static void deliver(struct alerts *a, int from_tick)
{
	char failed[16][HR_HOST_MAX];
	size_t nfailed = 0, i;
	long long last = 0;

	if (!a->has_notifier || pthread_mutex_trylock(&a->send_mu) != 0)
		return;
	for (;;) {
		sqlite3_stmt *st = NULL;
		char host[HR_HOST_MAX], route[ALERT_ROUTE_MAX], *text = NULL;
		enum alert_severity sev = ALERT_WARNING;
		struct hr_err err;
		long long id = 0;
		int skip = 0, rc;

		pthread_mutex_lock(&a->mu);
		if ((!from_tick && a->send_hold) || a->outbox_n <= 0) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		if (sqlite3_prepare_v2(a->db, "SELECT id, host, route, severity, payload FROM"
				       " alert_outbox WHERE id > ? ORDER BY id LIMIT 1", -1,
				       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, last);
			if (sqlite3_step(st) == SQLITE_ROW) {
				id = sqlite3_column_int64(st, 0);
				hr_strlcpy(host, col_text(st, 1), sizeof(host));
				hr_strlcpy(route, col_text(st, 2), sizeof(route));
				sev = (enum alert_severity)sqlite3_column_int(st, 3);
				text = strdup(col_text(st, 4));
			}
		}
		sqlite3_finalize(st);
		if (id == 0 && nfailed == 0)
			a->outbox_n = 0; /* the hint was off: nothing is left */
		pthread_mutex_unlock(&a->mu);
		if (id == 0)
			break;
		last = id;
		if (text == NULL)
			break;
		/* A host whose earlier row failed waits: its order is kept. */
		for (i = 0; i < nfailed; i++)
			if (strcmp(failed[i], host) == 0)
				skip = 1;
		if (skip) {
			free(text);
			continue;
		}
		err.msg[0] = '\0';
		rc = a->n.send(a->n.ctx, route, sev, text, &err);
		free(text);
		pthread_mutex_lock(&a->mu);
		if (rc == 0) {
			if (sqlite3_prepare_v2(a->db, "DELETE FROM alert_outbox WHERE id = ?", -1,
					       &st, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, id);
				sqlite3_step(st);
			}
			sqlite3_finalize(st);
			a->outbox_n--;
			if (a->send_failing) {
				a->send_failing = 0;
				hr_log_info("alerts: notifications are delivered again");
			}
		} else {
			a->send_hold = 1;
			if (!a->send_failing) {
				a->send_failing = 1;
				hr_log_warnx("alerts: notifier: %s (retried every tick)", err.msg);
			}
			if (nfailed < sizeof(failed) / sizeof(failed[0]))
				hr_strlcpy(failed[nfailed++], host, HR_HOST_MAX);
			else
				last = LLONG_MAX; /* too many failing: stop this pass */
		}
		pthread_mutex_unlock(&a->mu);
		if (last == LLONG_MAX)
			break;
	}
	pthread_mutex_unlock(&a->send_mu);
}

/* --- public: observe ---------------------------------------------------------- */

int alerts_observe(struct alerts *a, const struct alert_obs *o, struct hr_err *err)
{
	struct evq q = {0};
	int wrote = 0, rc, send;

	pthread_mutex_lock(&a->mu);
	rc = observe_locked(a, o, &q, &wrote, err);
	if (wrote)
		rc = db_end(a, rc, err);
	send = a->outbox_n > 0 && !a->send_hold;
	pthread_mutex_unlock(&a->mu);
	if (q.n > 0)
		ev_flush(a, &q);
	if (send)
		deliver(a, 0);
	return rc;
}

/* --- public: tick ---------------------------------------------------------------- */

static const char *status_of(const struct alerts *a, const struct alert *al, double now)
{
	const char *sup;

	if (al->state != ST_PENDING && al->state != ST_FIRING)
		return state_names[al->state];
	if (al->tr->flapping)
		return "flapping";
	sup = suppressed(a, al, now);
	if (sup != NULL && strcmp(sup, "route none") != 0)
		return sup;
	if (al->acked_by[0] != '\0')
		return "acked";
	return state_names[al->state];
}

/* The ingest-outage rule (alerts.h): fires or resolves the outage alert. */
static int outage_check(struct alerts *a, double now, struct evq *q, struct hr_err *err)
{
	struct alert *out = outage_alert(a), *al;
	double newest = -INFINITY;
	int stale = 0, cluster = 0, known;

	for (al = a->live; al != NULL; al = al->next) {
		if (!is_stale_rule(al) || al->state != ST_FIRING)
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
		if (is_stale_rule(al) && al->state == ST_FIRING &&
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
		make_key(key, o.rule, o.host, o.instance);
		tr = track_get(a, key);
		if (tr == NULL || (al = alert_new(a, tr, &o)) == NULL)
			return hr_err_set(err, "alerts: out of memory");
		if (save_alert(a, al, 1, err) < 0) {
			free(al);
			return -1;
		}
		tr->open = al;
		live_add(a, al);
		return set_state(a, al, ST_FIRING, now, q, err);
	}
}

static int silences_expire(struct alerts *a, double now, struct hr_err *err)
{
	size_t i = 0;

	while (i < a->nsil) {
		struct silence *s = &a->sil[i];
		sqlite3_stmt *st = NULL;
		int changed;

		if (s->ends > now) {
			i++;
			continue;
		}
		if (sqlite3_prepare_v2(a->db, "UPDATE silence SET expired_by = ?, expired_at = ends"
				       " WHERE id = ? AND expired_by IS NULL", -1, &st,
				       NULL) != SQLITE_OK)
			return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
		sqlite3_bind_text(st, 1, AUDIT_SYSTEM, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, s->id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
		}
		sqlite3_finalize(st);
		changed = sqlite3_changes(a->db);
		if (changed > 0) {
			char subject[48];

			snprintf(subject, sizeof(subject), "silence %lld", s->id);
			if (audit_log(a->db, s->ends, AUDIT_SYSTEM, "silence expired", subject,
				      NULL, err) < 0)
				return -1;
		}
		a->sil[i] = a->sil[--a->nsil];
	}
	return 0;
}

static int parse_matchers(const char *text, struct silence *s, struct hr_err *err);

/* Reads the silences not ended and the acks again: another process (the
 * CLI, the dashboards) may have changed them. */
static int reload(struct alerts *a, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	struct silence *v = NULL;
	size_t n = 0, cap = 0;
	struct alert *al;
	int rc;

	if (sqlite3_prepare_v2(a->db, "SELECT id, matchers, starts, ends FROM silence"
			       " WHERE expired_by IS NULL", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hr_err perr;

		if (n == cap) {
			struct silence *nv;

			cap = cap != 0 ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].starts = sqlite3_column_double(st, 2);
		v[n].ends = sqlite3_column_double(st, 3);
		if (parse_matchers(col_text(st, 1), &v[n], &perr) == 0)
			n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return hr_err_set(err, "alerts: reading silences: %s", sqlite3_errmsg(a->db));
	}
	free(a->sil);
	a->sil = v;
	a->nsil = n;
	if (sqlite3_prepare_v2(a->db, "SELECT id, acked_by, acked_at FROM alert_alerts"
			       " WHERE live = 1", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);

		for (al = a->live; al != NULL; al = al->next) {
			if (al->id != id)
				continue;
			hr_strlcpy(al->acked_by, col_text(st, 1), sizeof(al->acked_by));
			al->acked_at = col_num(st, 2);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int reload_if_changed(struct alerts *a, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	/* data_version changes when another connection commits. */
	if (sqlite3_prepare_v2(a->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (v == a->data_version)
		return 0;
	a->data_version = v;
	return reload(a, err);
}

/* Forgets keys with nothing open and no recent change, in memory and in
 * alert_keys, so that neither grows with every key that ever alerted. */
static int track_free_unused(struct alerts *a, double now, struct hr_err *err)
{
	sqlite3_stmt *del = NULL;
	unsigned b;

	if (sqlite3_prepare_v2(a->db, "DELETE FROM alert_keys WHERE key = ?", -1, &del,
			       NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));

	for (b = 0; b < BUCKETS; b++) {
		struct track **pp = &a->tracks[b];

		while (*pp != NULL) {
			struct track *t = *pp;
			struct alert *al;
			int used = t->open != NULL || t->flapping ||
				   (t->nch > 0 && t->changes[t->nch - 1] > now - a->p.flap_window);

			for (al = a->live; !used && al != NULL; al = al->next)
				used = al->tr == t;
			if (used) {
				pp = &t->hnext;
				continue;
			}
			sqlite3_reset(del);
			sqlite3_bind_text(del, 1, t->key, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(del) != SQLITE_DONE) {
				hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
				sqlite3_finalize(del);
				return -1;
			}
			*pp = t->hnext;
			free(t);
		}
	}
	sqlite3_finalize(del);
	return 0;
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
		if (save_track(a, tr, err) < 0 ||
		    audit_alert(a, al, now, "flapping ended", NULL, err) < 0)
			return -1;
		for (b = a->live; b != NULL; b = b->next)
			if (b->tr == tr)
				mark_due(b, now);
	}
	if (silences_expire(a, now, err) < 0 || outage_check(a, now, q, err) < 0)
		return -1;
	for (al = a->live; al != NULL; al = al->next) {
		if (al->state != ST_FIRING || al->due > 0 || al->tr->flapping ||
		    suppressed(a, al, now) != NULL)
			continue;
		if (al->sent != SENT_FIRING || al->sent_sev != al->sev)
			mark_due(al, now); /* a silence or inhibition ended */
		else if (al->acked_by[0] == '\0' && now - al->last_sent >= a->p.repeat_interval)
			mark_due(al, now - a->p.group_wait); /* a repeat waits for nothing */
	}
	for (al = a->live; al != NULL; al = al->next) {
		if (al->dirty && !(now - al->written < WRITE_EVERY)) {
			al->written = now;
			if (save_alert(a, al, 1, err) < 0)
				return -1;
		}
	}
	/* The hosts whose group waited long enough; flushing changes the
	 * list, so they are gathered first. */
	for (al = a->live; al != NULL; al = al->next)
		al->he->flush = 0;
	for (al = a->live; al != NULL; al = al->next) {
		if (al->due <= 0 || al->due + a->p.group_wait > now || held(a, al, now) ||
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
		if (flush_host(a, flush[i], now, err) < 0) {
			free(flush);
			return -1;
		}
	}
	free(flush);
	if (now - a->last_prune >= 60) {
		a->last_prune = now;
		if (track_free_unused(a, now, err) < 0)
			return -1;
	}
	return 0;
}

int alerts_tick(struct alerts *a, double now, struct hr_err *err)
{
	struct evq q = {0};
	int rc;

	pthread_mutex_lock(&a->mu);
	rc = reload_if_changed(a, err);
	if (rc == 0 && (rc = db_begin(a, err)) == 0)
		rc = db_end(a, tick_locked(a, now, &q, err), err);
	a->send_hold = 0;
	pthread_mutex_unlock(&a->mu);
	ev_flush(a, &q);
	deliver(a, 1);
	return rc;
}

/* --- open and close ------------------------------------------------------------- */

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	/* WAL with NORMAL: a power cut may lose the last commits, never
	 * corrupt; the outbox is at-least-once either way. */
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS alert_alerts ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, rule TEXT NOT NULL,"
	" host TEXT NOT NULL, probe TEXT NOT NULL, instance TEXT NOT NULL,"
	" route TEXT NOT NULL, labels TEXT NOT NULL, state TEXT NOT NULL,"
	" severity INTEGER NOT NULL, event INTEGER NOT NULL, for_s REAL, started REAL,"
	" fired REAL, ended REAL, value REAL, eta REAL, eta_early REAL, eta_late REAL,"
	" summary TEXT NOT NULL, sent INTEGER NOT NULL, sent_sev INTEGER NOT NULL,"
	" last_sent REAL, due REAL, flap_note INTEGER NOT NULL, live INTEGER NOT NULL,"
	" acked_by TEXT, acked_at REAL, ack_comment TEXT);"
	"CREATE INDEX IF NOT EXISTS alert_alerts_live ON alert_alerts (live);"
	"CREATE TABLE IF NOT EXISTS alert_keys ("
	" key TEXT PRIMARY KEY, changes TEXT NOT NULL, flapping INTEGER NOT NULL,"
	" last_change REAL);"
	"CREATE TABLE IF NOT EXISTS alert_outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, t REAL NOT NULL, host TEXT NOT NULL,"
	" route TEXT NOT NULL, severity INTEGER NOT NULL, payload TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS silence ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, matchers TEXT NOT NULL, starts REAL NOT NULL,"
	" ends REAL NOT NULL, created REAL NOT NULL, created_by TEXT NOT NULL, comment TEXT,"
	" expired_by TEXT, expired_at REAL);";

static int load(struct alerts *a, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, "SELECT key, changes, flapping, last_change FROM alert_keys",
			       -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct track *t = track_get(a, col_text(st, 0));
		const char *p = col_text(st, 1);
		char *end;

		if (t == NULL) {
			sqlite3_finalize(st);
			return hr_err_set(err, "alerts: out of memory");
		}
		t->nch = 0;
		while (*p != '\0' && t->nch < FLAP_MAX) {
			double v = strtod(p, &end);

			if (end == p)
				break;
			t->changes[t->nch++] = v;
			p = end;
		}
		t->flapping = sqlite3_column_int(st, 2);
		t->last_change = sqlite3_column_double(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "alerts: reading alert_keys: %s", sqlite3_errmsg(a->db));
	if (sqlite3_prepare_v2(a->db, "SELECT id, key, rule, host, probe, instance, route, labels,"
			       " state, severity, event, for_s, started, fired, ended, value, eta,"
			       " eta_early, eta_late, summary, sent, sent_sev, last_sent, due,"
			       " flap_note, acked_by, acked_at FROM alert_alerts WHERE live = 1"
			       " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct alert *al = calloc(1, sizeof(*al));
		const char *state = col_text(st, 8);
		unsigned s;

		if (al == NULL || (al->tr = track_get(a, col_text(st, 1))) == NULL ||
		    (al->he = host_get(a, col_text(st, 3))) == NULL) {
			free(al);
			sqlite3_finalize(st);
			return hr_err_set(err, "alerts: out of memory");
		}
		al->id = sqlite3_column_int64(st, 0);
		hr_strlcpy(al->rule, col_text(st, 2), sizeof(al->rule));
		hr_strlcpy(al->host, col_text(st, 3), sizeof(al->host));
		hr_strlcpy(al->probe, col_text(st, 4), sizeof(al->probe));
		hr_strlcpy(al->instance, col_text(st, 5), sizeof(al->instance));
		hr_strlcpy(al->route, col_text(st, 6), sizeof(al->route));
		labels_parse(al, col_text(st, 7));
		for (s = 0; s < 4; s++)
			if (strcmp(state, state_names[s]) == 0)
				al->state = (enum astate)s;
		al->sev = (enum alert_severity)sqlite3_column_int(st, 9);
		al->event = sqlite3_column_int(st, 10);
		al->for_s = col_num(st, 11);
		al->started = col_num(st, 12);
		al->fired = col_num(st, 13);
		al->ended = col_num(st, 14);
		al->value = col_num(st, 15);
		al->eta = col_num(st, 16);
		al->eta_early = col_num(st, 17);
		al->eta_late = col_num(st, 18);
		hr_strlcpy(al->summary, col_text(st, 19), sizeof(al->summary));
		al->sent = sqlite3_column_int(st, 20);
		al->sent_sev = (enum alert_severity)sqlite3_column_int(st, 21);
		al->last_sent = col_num(st, 22);
		al->due = col_num(st, 23);
		if (isnan(al->due))
			al->due = 0;
		al->flap_note = sqlite3_column_int(st, 24);
		hr_strlcpy(al->acked_by, col_text(st, 25), sizeof(al->acked_by));
		al->acked_at = col_num(st, 26);
		al->inactive_since = NAN;
		if (isnan(al->for_s))
			al->for_s = 0;
		if (al->state == ST_PENDING || al->state == ST_FIRING)
			al->tr->open = al;
		if (al->state == ST_FIRING)
			stale_count(al, +1);
		live_add(a, al);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "alerts: reading alert_alerts: %s", sqlite3_errmsg(a->db));
	if (sqlite3_prepare_v2(a->db, "SELECT count(*) FROM alert_outbox", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		a->outbox_n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return reload_if_changed(a, err);
}

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
	if (sqlite3_open_v2(db_path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		hr_err_set(err, "alerts: %s: %s", db_path,
			   a->db != NULL ? sqlite3_errmsg(a->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(a->db, 5000);
	if (sqlite3_exec(a->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		hr_err_set(err, "alerts: %s: %s", db_path, sqlite3_errmsg(a->db));
		goto fail;
	}
	if (audit_init(a->db, err) < 0 || load(a, err) < 0)
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
		if (al->dirty && a->db != NULL && save_alert(a, al, 1, &err) < 0)
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

/* --- humans: acks and silences ---------------------------------------------------- */

static int who_ok(const char *who, struct hr_err *err)
{
	if (who == NULL || who[0] == '\0' || strlen(who) >= WHO_MAX)
		return hr_err_set(err, "who: expected a name of 1-%d characters", WHO_MAX - 1);
	return 0;
}

int alerts_ack(struct alerts *a, long long id, const char *who, const char *comment, double now,
	       struct hr_err *err)
{
	char subject[KEY_MAX + 40];
	sqlite3_stmt *st = NULL;
	struct alert *al;
	int rc = -1;

	if (who_ok(who, err) < 0)
		return -1;
	pthread_mutex_lock(&a->mu);
	for (al = a->live; al != NULL; al = al->next)
		if (al->id == id && (al->state == ST_PENDING || al->state == ST_FIRING))
			break;
	if (al == NULL) {
		hr_err_set(err, "alert %lld: no such open alert", id);
		goto out;
	}
	if (db_begin(a, err) < 0)
		goto out;
	if (sqlite3_prepare_v2(a->db, "UPDATE alert_alerts SET acked_by = ?, acked_at = ?,"
			       " ack_comment = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
		db_end(a, -1, err);
		goto out;
	}
	sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, now);
	if (comment != NULL)
		sqlite3_bind_text(st, 3, comment, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : hr_err_set(err, "alerts: ack: %s",
							       sqlite3_errmsg(a->db));
	sqlite3_finalize(st);
	alert_subject(subject, sizeof(subject), al);
	if (rc == 0)
		rc = audit_log(a->db, now, who, "ack", subject, comment, err);
	rc = db_end(a, rc, err);
	if (rc == 0) {
		hr_strlcpy(al->acked_by, who, sizeof(al->acked_by));
		al->acked_at = now;
	}
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static int parse_matchers(const char *text, struct silence *s, struct hr_err *err)
{
	const char *p = text;

	s->nm = 0;
	while (*p != '\0') {
		const char *comma = strchr(p, ','), *eq;
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p), nlen, i;
		struct matcher *m;

		eq = memchr(p, '=', len);
		if (eq == NULL)
			return hr_err_set(err, "matchers: \"%.*s\": expected label=glob", (int)len, p);
		nlen = (size_t)(eq - p);
		if (nlen == 0 || nlen >= ALERT_LABEL_NAME_MAX)
			return hr_err_set(err, "matchers: \"%.*s\": a label name is 1-%d characters",
					  (int)len, p, ALERT_LABEL_NAME_MAX - 1);
		for (i = 0; i < nlen; i++) {
			char c = p[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_'))
				return hr_err_set(err, "matchers: \"%.*s\": a label name is letters,"
						  " digits and '_'", (int)len, p);
		}
		if (len - nlen - 1 >= ALERT_LABEL_VALUE_MAX)
			return hr_err_set(err, "matchers: \"%.*s\": the glob is too long", (int)len, p);
		if (s->nm == SILENCE_MATCHERS)
			return hr_err_set(err, "matchers: at most %d", SILENCE_MATCHERS);
		m = &s->m[s->nm++];
		memcpy(m->name, p, nlen);
		m->name[nlen] = '\0';
		memcpy(m->glob, eq + 1, len - nlen - 1);
		m->glob[len - nlen - 1] = '\0';
		p += len;
		if (*p == ',')
			p++;
	}
	if (s->nm == 0)
		return hr_err_set(err, "matchers: expected label=glob[,label=glob...]");
	return 0;
}

int alerts_silence_add(struct alerts *a, const char *matchers, double starts, double ends,
		       const char *who, const char *comment, long long *id, struct hr_err *err)
{
	struct silence s, *v;
	sqlite3_stmt *st = NULL;
	char subject[48], detail[1024];
	int rc;

	memset(&s, 0, sizeof(s));
	if (who_ok(who, err) < 0 || parse_matchers(matchers, &s, err) < 0)
		return -1;
	if (!isfinite(starts) || !isfinite(ends) || ends <= starts)
		return hr_err_set(err, "silence: its end must come after its start");
	s.starts = starts;
	s.ends = ends;
	pthread_mutex_lock(&a->mu);
	v = realloc(a->sil, (a->nsil + 1) * sizeof(*v));
	if (v == NULL) {
		pthread_mutex_unlock(&a->mu);
		return hr_err_set(err, "alerts: out of memory");
	}
	a->sil = v;
	if (db_begin(a, err) < 0) {
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	rc = -1;
	if (sqlite3_prepare_v2(a->db, "INSERT INTO silence (matchers, starts, ends, created,"
			       " created_by, comment) VALUES (?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, matchers, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, starts);
		sqlite3_bind_double(st, 3, ends);
		sqlite3_bind_double(st, 4, starts);
		sqlite3_bind_text(st, 5, who, -1, SQLITE_STATIC);
		if (comment != NULL)
			sqlite3_bind_text(st, 6, comment, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 6);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = 0;
	}
	sqlite3_finalize(st);
	if (rc < 0)
		hr_err_set(err, "alerts: adding a silence: %s", sqlite3_errmsg(a->db));
	else {
		char t1[32], t2[32];

		s.id = sqlite3_last_insert_rowid(a->db);
		snprintf(subject, sizeof(subject), "silence %lld", s.id);
		rfc3339(t1, sizeof(t1), starts);
		rfc3339(t2, sizeof(t2), ends);
		snprintf(detail, sizeof(detail), "%s from %s until %s%s%s", matchers, t1, t2,
			 comment != NULL ? ": " : "", comment != NULL ? comment : "");
		rc = audit_log(a->db, starts, who, "silence add", subject, detail, err);
	}
	rc = db_end(a, rc, err);
	if (rc == 0) {
		a->sil[a->nsil++] = s;
		if (id != NULL)
			*id = s.id;
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int alerts_silence_expire(struct alerts *a, long long id, const char *who, double now,
			  struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	char subject[48];
	size_t i;
	int rc = -1;

	if (who_ok(who, err) < 0)
		return -1;
	pthread_mutex_lock(&a->mu);
	if (db_begin(a, err) < 0) {
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	if (sqlite3_prepare_v2(a->db, "UPDATE silence SET expired_by = ?, expired_at = ?,"
			       " ends = min(ends, ?) WHERE id = ? AND expired_by IS NULL"
			       " AND ends > ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, now);
		sqlite3_bind_double(st, 3, now);
		sqlite3_bind_int64(st, 4, id);
		sqlite3_bind_double(st, 5, now);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = 0;
	}
	sqlite3_finalize(st);
	if (rc < 0)
		hr_err_set(err, "alerts: expiring a silence: %s", sqlite3_errmsg(a->db));
	else if (sqlite3_changes(a->db) == 0)
		rc = hr_err_set(err, "silence %lld: no such silence, or it has ended", id);
	if (rc == 0) {
		snprintf(subject, sizeof(subject), "silence %lld", id);
		rc = audit_log(a->db, now, who, "silence expire", subject, NULL, err);
	}
	rc = db_end(a, rc, err);
	if (rc == 0) {
		for (i = 0; i < a->nsil; i++) {
			if (a->sil[i].id == id) {
				a->sil[i] = a->sil[--a->nsil];
				break;
			}
		}
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

/* --- listings ------------------------------------------------------------------- */

static void add_num(cJSON *o, const char *name, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *alerts_list(struct alerts *a, int all, int limit, double now, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int rc;

	if (arr == NULL) {
		hr_err_set(err, "alerts: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&a->mu);
	if (sqlite3_prepare_v2(a->db, "SELECT id, rule, host, probe, instance, state, severity,"
			       " started, fired, ended, value, eta, eta_early, eta_late, summary,"
			       " route, labels, acked_by, acked_at, ack_comment FROM alert_alerts"
			       " WHERE ?1 OR state IN ('pending', 'firing')"
			       " ORDER BY id DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK) {
		hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
		goto fail;
	}
	sqlite3_bind_int(st, 1, all != 0);
	sqlite3_bind_int(st, 2, all ? (limit > 0 ? limit : 1000) : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject(), *lab;
		long long id = sqlite3_column_int64(st, 0);
		const char *state = col_text(st, 5), *status = state;
		enum alert_severity sev = (enum alert_severity)sqlite3_column_int(st, 6);
		struct alert *al;
		char fp[17];

		if (o == NULL)
			break;
		cJSON_AddItemToArray(arr, o);
		for (al = a->live; al != NULL; al = al->next)
			if (al->id == id)
				status = status_of(a, al, now);
		cJSON_AddNumberToObject(o, "id", (double)id);
		cJSON_AddStringToObject(o, "rule", col_text(st, 1));
		cJSON_AddStringToObject(o, "host", col_text(st, 2));
		cJSON_AddStringToObject(o, "probe", col_text(st, 3));
		cJSON_AddStringToObject(o, "instance", col_text(st, 4));
		cJSON_AddStringToObject(o, "state", state);
		cJSON_AddStringToObject(o, "status", status);
		cJSON_AddStringToObject(o, "severity", alert_severity_name(sev));
		add_num(o, "started", col_num(st, 7));
		add_num(o, "fired", col_num(st, 8));
		add_num(o, "ended", col_num(st, 9));
		add_num(o, "value", col_num(st, 10));
		add_num(o, "eta", col_num(st, 11));
		add_num(o, "eta_early", col_num(st, 12));
		add_num(o, "eta_late", col_num(st, 13));
		cJSON_AddStringToObject(o, "summary", col_text(st, 14));
		cJSON_AddStringToObject(o, "route", col_text(st, 15));
		lab = cJSON_Parse(col_text(st, 16));
		cJSON_AddItemToObject(o, "labels", lab != NULL ? lab : cJSON_CreateObject());
		alerts_fingerprint(col_text(st, 1), col_text(st, 2), col_text(st, 4), fp);
		cJSON_AddStringToObject(o, "fingerprint", fp);
		if (sqlite3_column_type(st, 17) != SQLITE_NULL) {
			cJSON_AddStringToObject(o, "acked_by", col_text(st, 17));
			add_num(o, "acked_at", col_num(st, 18));
			cJSON_AddStringToObject(o, "ack_comment", col_text(st, 19));
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		hr_err_set(err, "alerts: listing: %s", sqlite3_errmsg(a->db));
		goto fail;
	}
	pthread_mutex_unlock(&a->mu);
	return arr;
fail:
	pthread_mutex_unlock(&a->mu);
	cJSON_Delete(arr);
	return NULL;
}

cJSON *alerts_silences(struct alerts *a, int all, double now, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int rc;

	if (arr == NULL) {
		hr_err_set(err, "alerts: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&a->mu);
	if (sqlite3_prepare_v2(a->db, "SELECT id, matchers, starts, ends, created_by, comment,"
			       " expired_by FROM silence WHERE ?1 OR (expired_by IS NULL AND"
			       " ends > ?2) ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&a->mu);
		cJSON_Delete(arr);
		hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
		return NULL;
	}
	sqlite3_bind_int(st, 1, all != 0);
	sqlite3_bind_double(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		double starts = sqlite3_column_double(st, 2), ends = sqlite3_column_double(st, 3);
		int ended = sqlite3_column_type(st, 6) != SQLITE_NULL;

		if (o == NULL)
			break;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
		cJSON_AddStringToObject(o, "matchers", col_text(st, 1));
		cJSON_AddNumberToObject(o, "starts", starts);
		cJSON_AddNumberToObject(o, "ends", ends);
		cJSON_AddStringToObject(o, "by", col_text(st, 4));
		cJSON_AddStringToObject(o, "comment", col_text(st, 5));
		if (ended)
			cJSON_AddStringToObject(o, "expired_by", col_text(st, 6));
		cJSON_AddBoolToObject(o, "active", !ended && starts <= now && now < ends);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->mu);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(arr);
		hr_err_set(err, "alerts: listing silences: %s", sqlite3_errmsg(a->db));
		return NULL;
	}
	return arr;
}
