/* alerts_store.c: the lifecycle's SQLite side (alerts_int.h): the schema,
 * an alert's and a key's row, the load at open that rebuilds memory from
 * them, the pruning of unused keys, and the listing of alerts (alerts_list). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts_int.h"
#include "audit.h"
#include "util.h"

/* --- small helpers -------------------------------------------------------- */

static void bind_num(sqlite3_stmt *st, int i, double v)
{
	/* SQLite turns NaN into NULL anyway; say so explicitly. */
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

double alerts_col_num(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

const char *alerts_col_text(sqlite3_stmt *st, int i)
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

int alerts_db_begin(struct alerts *a, struct hr_err *err)
{
	return db_exec(a, "BEGIN IMMEDIATE", err);
}

int alerts_db_end(struct alerts *a, int ok, struct hr_err *err)
{
	if (ok == 0)
		return db_exec(a, "COMMIT", err);
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

void alerts_subject(char *dst, size_t n, const struct alert *al)
{
	snprintf(dst, n, "alert %lld %s/%s%s%s", al->id, al->rule, al->host,
		 al->instance[0] != '\0' ? "/" : "", al->instance);
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
int alerts_save_alert(struct alerts *a, struct alert *al, int live, struct hr_err *err)
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
	alerts_make_key(key, al->rule, al->host, al->instance);
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
	sqlite3_bind_text(st, 9, alerts_state_names[al->state], -1, SQLITE_STATIC);
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

int alerts_save_track(struct alerts *a, const struct track *t, struct hr_err *err)
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

int alerts_audit_alert(struct alerts *a, const struct alert *al, double t, const char *action,
		       const char *detail, struct hr_err *err)
{
	char subject[KEY_MAX + 40];

	alerts_subject(subject, sizeof(subject), al);
	return audit_log(a->db, t, AUDIT_SYSTEM, action, subject, detail, err);
}

/* Forgets keys with nothing open and no recent change, in memory and in
 * alert_keys, so that neither grows with every key that ever alerted. */
int alerts_track_free_unused(struct alerts *a, double now, struct hr_err *err)
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

/* --- schema and load ------------------------------------------------------------ */

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
		struct track *t = alerts_track_get(a, alerts_col_text(st, 0));
		const char *p = alerts_col_text(st, 1);
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
		const char *state = alerts_col_text(st, 8);
		unsigned s;

		if (al == NULL || (al->tr = alerts_track_get(a, alerts_col_text(st, 1))) == NULL ||
		    (al->he = alerts_host_get(a, alerts_col_text(st, 3))) == NULL) {
			free(al);
			sqlite3_finalize(st);
			return hr_err_set(err, "alerts: out of memory");
		}
		al->id = sqlite3_column_int64(st, 0);
		hr_strlcpy(al->rule, alerts_col_text(st, 2), sizeof(al->rule));
		hr_strlcpy(al->host, alerts_col_text(st, 3), sizeof(al->host));
		hr_strlcpy(al->probe, alerts_col_text(st, 4), sizeof(al->probe));
		hr_strlcpy(al->instance, alerts_col_text(st, 5), sizeof(al->instance));
		hr_strlcpy(al->route, alerts_col_text(st, 6), sizeof(al->route));
		labels_parse(al, alerts_col_text(st, 7));
		for (s = 0; s < 4; s++)
			if (strcmp(state, alerts_state_names[s]) == 0)
				al->state = (enum astate)s;
		al->sev = (enum alert_severity)sqlite3_column_int(st, 9);
		al->event = sqlite3_column_int(st, 10);
		al->for_s = alerts_col_num(st, 11);
		al->started = alerts_col_num(st, 12);
		al->fired = alerts_col_num(st, 13);
		al->ended = alerts_col_num(st, 14);
		al->value = alerts_col_num(st, 15);
		al->eta = alerts_col_num(st, 16);
		al->eta_early = alerts_col_num(st, 17);
		al->eta_late = alerts_col_num(st, 18);
		hr_strlcpy(al->summary, alerts_col_text(st, 19), sizeof(al->summary));
		al->sent = sqlite3_column_int(st, 20);
		al->sent_sev = (enum alert_severity)sqlite3_column_int(st, 21);
		al->last_sent = alerts_col_num(st, 22);
		al->due = alerts_col_num(st, 23);
		if (isnan(al->due))
			al->due = 0;
		al->flap_note = sqlite3_column_int(st, 24);
		hr_strlcpy(al->acked_by, alerts_col_text(st, 25), sizeof(al->acked_by));
		al->acked_at = alerts_col_num(st, 26);
		al->inactive_since = NAN;
		if (isnan(al->for_s))
			al->for_s = 0;
		if (al->state == ST_PENDING || al->state == ST_FIRING)
			al->tr->open = al;
		if (al->state == ST_FIRING)
			alerts_stale_count(al, +1);
		alerts_live_add(a, al);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "alerts: reading alert_alerts: %s", sqlite3_errmsg(a->db));
	if (sqlite3_prepare_v2(a->db, "SELECT count(*) FROM alert_outbox", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		a->outbox_n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return alerts_reload_if_changed(a, err);
}

int alerts_db_open(struct alerts *a, const char *db_path, struct hr_err *err)
{
	if (sqlite3_open_v2(db_path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s: %s", db_path,
				  a->db != NULL ? sqlite3_errmsg(a->db) : "cannot open");
	sqlite3_busy_timeout(a->db, 5000);
	if (sqlite3_exec(a->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "alerts: %s: %s", db_path, sqlite3_errmsg(a->db));
	if (audit_init(a->db, err) < 0 || load(a, err) < 0)
		return -1;
	return 0;
}

/* --- listings ------------------------------------------------------------------- */

static const char *status_of(const struct alerts *a, const struct alert *al, double now)
{
	const char *sup;

	if (al->state != ST_PENDING && al->state != ST_FIRING)
		return alerts_state_names[al->state];
	if (al->tr->flapping)
		return "flapping";
	sup = alerts_suppressed(a, al, now);
	if (sup != NULL && strcmp(sup, "route none") != 0)
		return sup;
	if (al->acked_by[0] != '\0')
		return "acked";
	return alerts_state_names[al->state];
}

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
		const char *state = alerts_col_text(st, 5), *status = state;
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
		cJSON_AddStringToObject(o, "rule", alerts_col_text(st, 1));
		cJSON_AddStringToObject(o, "host", alerts_col_text(st, 2));
		cJSON_AddStringToObject(o, "probe", alerts_col_text(st, 3));
		cJSON_AddStringToObject(o, "instance", alerts_col_text(st, 4));
		cJSON_AddStringToObject(o, "state", state);
		cJSON_AddStringToObject(o, "status", status);
		cJSON_AddStringToObject(o, "severity", alert_severity_name(sev));
		add_num(o, "started", alerts_col_num(st, 7));
		add_num(o, "fired", alerts_col_num(st, 8));
		add_num(o, "ended", alerts_col_num(st, 9));
		add_num(o, "value", alerts_col_num(st, 10));
		add_num(o, "eta", alerts_col_num(st, 11));
		add_num(o, "eta_early", alerts_col_num(st, 12));
		add_num(o, "eta_late", alerts_col_num(st, 13));
		cJSON_AddStringToObject(o, "summary", alerts_col_text(st, 14));
		cJSON_AddStringToObject(o, "route", alerts_col_text(st, 15));
		lab = cJSON_Parse(alerts_col_text(st, 16));
		cJSON_AddItemToObject(o, "labels", lab != NULL ? lab : cJSON_CreateObject());
		alerts_fingerprint(alerts_col_text(st, 1), alerts_col_text(st, 2),
				   alerts_col_text(st, 4), fp);
		cJSON_AddStringToObject(o, "fingerprint", fp);
		if (sqlite3_column_type(st, 17) != SQLITE_NULL) {
			cJSON_AddStringToObject(o, "acked_by", alerts_col_text(st, 17));
			add_num(o, "acked_at", alerts_col_num(st, 18));
			cJSON_AddStringToObject(o, "ack_comment", alerts_col_text(st, 19));
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
