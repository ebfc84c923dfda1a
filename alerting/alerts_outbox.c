/* alerts_outbox.c: notifications (alerts_int.h). A host's due alerts become
 * one Alertmanager webhook payload (version 4) per route, written to the
 * outbox table in the caller's transaction; delivery hands the rows to the
 * notifier outside the lock, oldest first, and deletes each one taken over. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts_int.h"
#include "log.h"
#include "util.h"

void alerts_rfc3339(char *dst, size_t n, double t)
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
		alerts_rfc3339(buf, sizeof(buf), al->eta);
		cJSON_AddStringToObject(ann, "eta", buf);
	}
	if (isfinite(al->eta_early)) {
		alerts_rfc3339(buf, sizeof(buf), al->eta_early);
		cJSON_AddStringToObject(ann, "eta_early", buf);
	}
	if (isfinite(al->eta_late)) {
		alerts_rfc3339(buf, sizeof(buf), al->eta_late);
		cJSON_AddStringToObject(ann, "eta_late", buf);
	}
	if (al->flap_note)
		cJSON_AddStringToObject(ann, "flapping", "true");
	alerts_rfc3339(buf, sizeof(buf), isfinite(al->fired) ? al->fired : al->started);
	cJSON_AddStringToObject(o, "startsAt", buf);
	alerts_rfc3339(buf, sizeof(buf), al->state == ST_FIRING ? NAN : al->ended);
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
	const char *sup = alerts_suppressed(a, al, now);

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
int alerts_flush_host(struct alerts *a, struct hostent *he, double now, struct hr_err *err)
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

		if (al->he != he || al->due <= 0 || alerts_held(a, al, now))
			continue;
		if (want_send(a, al, now, &d))
			send[nsend++] = al;
		else if (!d && (al->due = 0, alerts_save_alert(a, al, 1, err) < 0))
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
			if (alerts_save_alert(a, g, g->state == ST_FIRING || g->state == ST_PENDING,
					      err) < 0) {
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
			if (alerts_save_alert(a, al, 0, err) < 0)
				goto out;
		}
		alerts_live_remove(a, al);
	}
	rc = 0;
out:
	free(send);
	free(drop);
	return rc;
}

/* --- outbox delivery ---------------------------------------------------------- */

void alerts_deliver(struct alerts *a, int from_tick)
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
				hr_strlcpy(host, alerts_col_text(st, 1), sizeof(host));
				hr_strlcpy(route, alerts_col_text(st, 2), sizeof(route));
				sev = (enum alert_severity)sqlite3_column_int(st, 3);
				text = strdup(alerts_col_text(st, 4));
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
