/* alerts_silence.c: what keeps an alert from being notified (alerts_int.h):
 * silences and their matchers, inhibition (host_stale, the ingest outage),
 * the outage hold, and acks. Silences and acks are read again when another
 * process (the CLI, the dashboards) has changed them. */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts_int.h"
#include "audit.h"
#include "util.h"

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
const char *alerts_suppressed(const struct alerts *a, const struct alert *al, double now)
{
	if (strcmp(al->route, "none") == 0)
		return "route none";
	if (alerts_is_stale_rule(al) && alerts_outage_alert((struct alerts *)a) != NULL)
		return "inhibited";
	if (!alerts_is_stale_rule(al) && !alerts_is_outage(al) && al->he->stale > 0)
		return "inhibited";
	if (silenced(a, al, now))
		return "silenced";
	return NULL;
}

/* A host_stale alert waits outage_window before its first notification,
 * to see whether the other hosts go stale with it (an ingest outage). */
int alerts_held(const struct alerts *a, const struct alert *al, double now)
{
	return alerts_is_stale_rule(al) && al->state == ST_FIRING && al->sent != SENT_FIRING &&
	       now < al->fired + a->p.outage_window;
}

/* --- silences: expiry, matchers, reload ---------------------------------------- */

int alerts_silences_expire_due(struct alerts *a, double now, struct hr_err *err)
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
		if (parse_matchers(alerts_col_text(st, 1), &v[n], &perr) == 0)
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
			hr_strlcpy(al->acked_by, alerts_col_text(st, 1), sizeof(al->acked_by));
			al->acked_at = alerts_col_num(st, 2);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

int alerts_reload_if_changed(struct alerts *a, struct hr_err *err)
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
	if (alerts_db_begin(a, err) < 0)
		goto out;
	if (sqlite3_prepare_v2(a->db, "UPDATE alert_alerts SET acked_by = ?, acked_at = ?,"
			       " ack_comment = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		hr_err_set(err, "alerts: %s", sqlite3_errmsg(a->db));
		alerts_db_end(a, -1, err);
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
	alerts_subject(subject, sizeof(subject), al);
	if (rc == 0)
		rc = audit_log(a->db, now, who, "ack", subject, comment, err);
	rc = alerts_db_end(a, rc, err);
	if (rc == 0) {
		hr_strlcpy(al->acked_by, who, sizeof(al->acked_by));
		al->acked_at = now;
	}
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
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
	if (alerts_db_begin(a, err) < 0) {
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
		alerts_rfc3339(t1, sizeof(t1), starts);
		alerts_rfc3339(t2, sizeof(t2), ends);
		snprintf(detail, sizeof(detail), "%s from %s until %s%s%s", matchers, t1, t2,
			 comment != NULL ? ": " : "", comment != NULL ? comment : "");
		rc = audit_log(a->db, starts, who, "silence add", subject, detail, err);
	}
	rc = alerts_db_end(a, rc, err);
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
	if (alerts_db_begin(a, err) < 0) {
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
	rc = alerts_db_end(a, rc, err);
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
		cJSON_AddStringToObject(o, "matchers", alerts_col_text(st, 1));
		cJSON_AddNumberToObject(o, "starts", starts);
		cJSON_AddNumberToObject(o, "ends", ends);
		cJSON_AddStringToObject(o, "by", alerts_col_text(st, 4));
		cJSON_AddStringToObject(o, "comment", alerts_col_text(st, 5));
		if (ended)
			cJSON_AddStringToObject(o, "expired_by", alerts_col_text(st, 6));
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
