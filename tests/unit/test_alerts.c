/* test_alerts.c: the alert lifecycle (alerting/alerts*.c) with a recording
 * notifier: for, pending cleared, severity escalation, flap damping,
 * repeats, acks, silences and their expiry, inhibition by host_stale, the
 * ingest outage, grouping per host, the payload's fields, the outbox's
 * retries and replay, restarts (firing and pending) and the audit rows. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alerts.h"
#include "testutil.h"

#define T0 1700006400.0

/* --- a recording notifier ------------------------------------------------- */

struct note {
	char route[ALERT_ROUTE_MAX];
	enum alert_severity sev;
	cJSON *doc;
};

struct rec {
	struct note v[64];
	size_t n;
	int fail;     /* refuse while set */
	int refused;
};

static int rec_send(void *ctx, const char *route, enum alert_severity sev, const char *payload,
		    struct hr_err *err)
{
	struct rec *r = ctx;

	if (r->fail) {
		r->refused++;
		return hr_err_set(err, "refused for the test");
	}
	CU_ASSERT_FATAL(r->n < 64);
	snprintf(r->v[r->n].route, sizeof(r->v[r->n].route), "%s", route);
	r->v[r->n].sev = sev;
	r->v[r->n].doc = cJSON_Parse(payload);
	CU_ASSERT_PTR_NOT_NULL(r->v[r->n].doc);
	r->n++;
	return 0;
}

static void rec_free(struct rec *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		cJSON_Delete(r->v[i].doc);
	r->n = 0;
}

/* Alert i of notification k. */
static cJSON *nalert(struct rec *r, size_t k, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(r->v[k].doc, "alerts"), i);
}

static int nalerts(struct rec *r, size_t k)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(r->v[k].doc, "alerts"));
}

static const char *jstr(const cJSON *o, const char *path1, const char *path2)
{
	const cJSON *v = cJSON_GetObjectItem(o, path1);

	if (path2 != NULL)
		v = cJSON_GetObjectItem(v, path2);
	return cJSON_IsString(v) ? v->valuestring : "(absent)";
}

/* --- set-up ----------------------------------------------------------------- */

static struct alerts_params params(void)
{
	struct alerts_params p;

	alerts_params_default(&p);
	p.group_wait = 0;
	return p;
}

static struct alerts *open_db(const char *path, const struct alerts_params *p, struct rec *r)
{
	struct alerts_notifier n = {rec_send, r};
	struct hr_err err;
	struct alerts *a = alerts_open(path, p, r != NULL ? &n : NULL, &err);

	if (a == NULL)
		fprintf(stderr, "alerts_open: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	return a;
}

static void obs(struct alerts *a, const char *rule, const char *host, const char *inst,
		int active, enum alert_severity sev, double t, double for_s)
{
	struct alert_obs o;
	struct hr_err err;
	int rc;

	alert_obs_init(&o, rule, host, "fs", inst);
	o.active = active;
	o.severity = sev;
	o.t = t;
	o.for_s = for_s;
	o.value = 0.97;
	o.eta = t + 86400;
	o.eta_early = t + 3600;
	o.eta_late = INFINITY;
	/* An inactive sample's summary differs: a resolution keeps the one
	 * that fired. */
	snprintf(o.summary, sizeof(o.summary), active ? "%s on %s" : "%s on %s, over", rule, host);
	alert_obs_label(&o, "fstype", "ext4");
	rc = alerts_observe(a, &o, &err);
	if (rc < 0)
		fprintf(stderr, "alerts_observe: %s\n", err.msg);
	CU_ASSERT_EQUAL(rc, 0);
}

static void tick(struct alerts *a, double now)
{
	struct hr_err err;
	int rc = alerts_tick(a, now, &err);

	if (rc < 0)
		fprintf(stderr, "alerts_tick: %s\n", err.msg);
	CU_ASSERT_EQUAL(rc, 0);
}

/* The open alerts, or all: JSON array, caller frees. */
static cJSON *list(struct alerts *a, int all, double now)
{
	struct hr_err err;
	cJSON *l = alerts_list(a, all, 0, now, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	return l;
}

static const char *status0(struct alerts *a, double now, char *buf, size_t n)
{
	cJSON *l = list(a, 0, now);

	snprintf(buf, n, "%s", cJSON_GetArraySize(l) > 0 ?
		 jstr(cJSON_GetArrayItem(l, 0), "status", NULL) : "(none)");
	cJSON_Delete(l);
	return buf;
}

static char dbdir[512];

static const char *dbfile(void)
{
	static char path[600];

	snprintf(dbdir, sizeof(dbdir), "%s", tmpdir_new("alerts"));
	snprintf(path, sizeof(path), "%s/headroom.db", dbdir);
	return path;
}

/* A count from the file with a second connection, as the CLI would. */
static int count(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* --- the tests --------------------------------------------------------------- */

static void test_for(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a = open_db(":memory:", &p, &r);
	char buf[32];

	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 60);
	CU_ASSERT_STRING_EQUAL(status0(a, T0, buf, sizeof(buf)), "pending");
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 30, 60);
	tick(a, T0 + 59);
	CU_ASSERT_EQUAL(r.n, 0);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 60, 60);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(status0(a, T0 + 60, buf, sizeof(buf)), "firing");
	/* The tick fires a pending alert whose samples stopped coming. */
	obs(a, "fs_full", "web2", "/var", 1, ALERT_WARNING, T0, 60);
	tick(a, T0 + 30);
	CU_ASSERT_EQUAL(r.n, 1);
	tick(a, T0 + 61);
	CU_ASSERT_EQUAL(r.n, 2);
	rec_free(&r);
	alerts_close(a);
}

static void test_pending_cleared(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a = open_db(path, &p, &r);
	cJSON *l;

	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 60);
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 10, 60);
	tick(a, T0 + 100);
	CU_ASSERT_EQUAL(r.n, 0);
	l = list(a, 0, T0 + 100);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(l), 0);
	cJSON_Delete(l);
	l = list(a, 1, T0 + 100);
	CU_ASSERT_STRING_EQUAL(jstr(cJSON_GetArrayItem(l, 0), "state", NULL), "cleared");
	cJSON_Delete(l);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM audit WHERE action = 'pending cleared'"
			      " AND who = 'headroom'"), 1);
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_severity_escalation(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a = open_db(":memory:", &p, &r);

	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 0);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 10, 0);
	CU_ASSERT_EQUAL(r.n, 1);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_CRITICAL, T0 + 20, 0);
	CU_ASSERT_EQUAL_FATAL(r.n, 2);
	CU_ASSERT_EQUAL(r.v[1].sev, ALERT_CRITICAL);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 1, 0), "labels", "severity"), "critical");
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "fingerprint", NULL),
			       jstr(nalert(&r, 1, 0), "fingerprint", NULL));
	rec_free(&r);
	alerts_close(a);
}

static void test_flapping(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a;
	int i;

	p.flap_changes = 4;
	p.flap_window = 3600;
	a = open_db(":memory:", &p, &r);
	/* Six changes within minutes: fire, resolve, fire, resolve (the
	 * fourth: flapping, said once), fire, resolve (silent). */
	for (i = 0; i < 3; i++) {
		obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0 + 100 * i, 0);
		obs(a, "load_high", "web1", "", 0, ALERT_WARNING, T0 + 100 * i + 50, 0);
	}
	CU_ASSERT_EQUAL_FATAL(r.n, 4);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 3, 0), "annotations", "flapping"), "true");
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 2, 0), "annotations", "flapping"), "(absent)");
	obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0 + 400, 0);
	tick(a, T0 + 500);
	CU_ASSERT_EQUAL(r.n, 4);
	/* Stable (firing) for the window: its state is sent once. */
	tick(a, T0 + 400 + 3600);
	CU_ASSERT_EQUAL_FATAL(r.n, 5);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 4, 0), "status", NULL), "firing");
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 4, 0), "annotations", "flapping"), "(absent)");
	obs(a, "load_high", "web1", "", 0, ALERT_WARNING, T0 + 4100, 0);
	CU_ASSERT_EQUAL(r.n, 6);
	rec_free(&r);
	alerts_close(a);
}

static void test_repeat_and_ack(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a;
	struct hr_err err;
	cJSON *l;
	long long id, id2;
	char buf[32];

	p.repeat_interval = 3600;
	a = open_db(path, &p, &r);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 0);
	tick(a, T0 + 1800);
	CU_ASSERT_EQUAL(r.n, 1);
	tick(a, T0 + 3600);
	CU_ASSERT_EQUAL(r.n, 2);
	tick(a, T0 + 3601);
	CU_ASSERT_EQUAL(r.n, 2);
	l = list(a, 0, T0);
	id = (long long)cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "id")->valuedouble;
	cJSON_Delete(l);
	CU_ASSERT_EQUAL(alerts_ack(a, id, "", NULL, T0 + 3700, &err), -1);
	CU_ASSERT_EQUAL(alerts_ack(a, id + 100, "alice", NULL, T0 + 3700, &err), -1);
	CU_ASSERT_EQUAL(alerts_ack(a, id, "alice", "looking at it", T0 + 3700, &err), 0);
	CU_ASSERT_STRING_EQUAL(status0(a, T0 + 3700, buf, sizeof(buf)), "acked");
	tick(a, T0 + 4 * 3600);
	CU_ASSERT_EQUAL(r.n, 2);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM audit WHERE action = 'ack' AND"
			      " who = 'alice' AND detail = 'looking at it'"), 1);
	/* Another alert of the host goes out alone: the acked one does not
	 * ride along as a repeat. */
	obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0 + 4 * 3600 + 1, 0);
	CU_ASSERT_EQUAL_FATAL(r.n, 3);
	CU_ASSERT_EQUAL(nalerts(&r, 2), 1);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 2, 0), "labels", "alertname"), "load_high");
	/* Resolved, then firing again: a new alert, not acked, repeated. */
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 5 * 3600, 0);
	CU_ASSERT_EQUAL(r.n, 4);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 6 * 3600, 0);
	CU_ASSERT_EQUAL(r.n, 5);
	l = list(a, 0, T0 + 6 * 3600);
	id2 = (long long)cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "id")->valuedouble;
	CU_ASSERT_NOT_EQUAL(id2, id);
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "acked_by"));
	cJSON_Delete(l);
	tick(a, T0 + 7 * 3600);
	CU_ASSERT_EQUAL_FATAL(r.n, 6);
	CU_ASSERT_EQUAL(nalerts(&r, 5), 2); /* both repeats in one group */
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_silence(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a = open_db(path, &p, &r);
	struct hr_err err;
	long long sid, sid2;
	char buf[32];
	cJSON *l;

	CU_ASSERT_EQUAL(alerts_silence_add(a, "host", T0, T0 + 100, "bob", NULL, &sid, &err), -1);
	CU_ASSERT_EQUAL(alerts_silence_add(a, "host=web*,alertname=fs_*", T0 + 100, T0, "bob",
					   NULL, &sid, &err), -1);
	CU_ASSERT_EQUAL(alerts_silence_add(a, "bad name=x", T0, T0 + 100, "bob", NULL, &sid,
					   &err), -1);
	CU_ASSERT_EQUAL(alerts_silence_add(a, "host=web*,alertname=fs_*", T0, T0 + 100, "bob",
					   "maintenance", &sid, &err), 0);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 10, 0);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_STRING_EQUAL(status0(a, T0 + 10, buf, sizeof(buf)), "silenced");
	obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0 + 10, 0); /* no match */
	CU_ASSERT_EQUAL(r.n, 1);
	obs(a, "fs_full", "db1", "/var", 1, ALERT_WARNING, T0 + 10, 0); /* no match */
	CU_ASSERT_EQUAL(r.n, 2);
	/* The silence ends: the alert still firing is sent. */
	tick(a, T0 + 99);
	CU_ASSERT_EQUAL(r.n, 2);
	tick(a, T0 + 100);
	CU_ASSERT_EQUAL_FATAL(r.n, 3);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 2, 0), "labels", "alertname"), "fs_full");
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM audit WHERE action = 'silence expired'"
			      " AND who = 'headroom'"), 1);
	/* Expired by hand. */
	CU_ASSERT_EQUAL(alerts_silence_add(a, "probe=fs,instance=/srv", T0 + 200, T0 + 9999,
					   "bob", NULL, &sid2, &err), 0);
	obs(a, "fs_full", "web1", "/srv", 1, ALERT_WARNING, T0 + 210, 0);
	CU_ASSERT_EQUAL(r.n, 3);
	l = alerts_silences(a, 0, T0 + 210, &err);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(l), 1);
	cJSON_Delete(l);
	CU_ASSERT_EQUAL(alerts_silence_expire(a, sid2, "carol", T0 + 300, &err), 0);
	CU_ASSERT_EQUAL(alerts_silence_expire(a, sid2, "carol", T0 + 301, &err), -1);
	tick(a, T0 + 300);
	CU_ASSERT_EQUAL(r.n, 4);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM audit WHERE action = 'silence expire'"
			      " AND who = 'carol'"), 1);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM audit WHERE action = 'silence add'"
			      " AND who = 'bob'"), 2);
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_inhibition(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a;
	char buf[32];

	p.outage_window = 10;
	a = open_db(":memory:", &p, &r);
	alerts_set_host_count(a, 20);
	obs(a, ALERTS_STALE_RULE, "web1", "", 1, ALERT_CRITICAL, T0, 0);
	tick(a, T0 + 5);
	CU_ASSERT_EQUAL(r.n, 0); /* held: might be an ingest outage */
	tick(a, T0 + 10);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "labels", "alertname"), "host_stale");
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 20, 0);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(status0(a, T0 + 20, buf, sizeof(buf)), "inhibited");
	obs(a, "fs_full", "web2", "/var", 1, ALERT_WARNING, T0 + 20, 0);
	CU_ASSERT_EQUAL(r.n, 2);
	/* web1 is back: its host_stale resolves, its other alert is sent. */
	obs(a, ALERTS_STALE_RULE, "web1", "", 0, ALERT_CRITICAL, T0 + 30, 0);
	tick(a, T0 + 31);
	CU_ASSERT_EQUAL_FATAL(r.n, 4);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 2, 0), "status", NULL), "resolved");
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 3, 0), "labels", "alertname"), "fs_full");
	rec_free(&r);
	alerts_close(a);
}

static void test_ingest_outage(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a;
	char host[16];
	size_t k;
	int i;

	p.outage_window = 60;
	a = open_db(":memory:", &p, &r);
	alerts_set_host_count(a, 5);
	for (i = 0; i < 4; i++) {
		snprintf(host, sizeof(host), "web%d", i);
		obs(a, ALERTS_STALE_RULE, host, "", 1, ALERT_CRITICAL, T0 + 10 * i, 0);
		tick(a, T0 + 10 * i);
	}
	CU_ASSERT_EQUAL(r.n, 1);
	tick(a, T0 + 200);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_EQUAL(nalerts(&r, 0), 1);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "labels", "alertname"),
			       ALERTS_OUTAGE_RULE);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "labels", "severity"), "critical");
	tick(a, T0 + 300);
	CU_ASSERT_EQUAL(r.n, 1);
	/* The ingest is back: the hosts' stale alerts resolve, and so does
	 * the outage, with nothing said about the hosts. */
	for (i = 0; i < 4; i++) {
		snprintf(host, sizeof(host), "web%d", i);
		obs(a, ALERTS_STALE_RULE, host, "", 0, ALERT_CRITICAL, T0 + 400, 0);
	}
	tick(a, T0 + 401);
	CU_ASSERT_EQUAL_FATAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 1, 0), "labels", "alertname"),
			       ALERTS_OUTAGE_RULE);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 1, 0), "status", NULL), "resolved");
	for (k = 0; k < r.n; k++)
		CU_ASSERT_STRING_NOT_EQUAL(jstr(nalert(&r, k, 0), "labels", "alertname"),
					   ALERTS_STALE_RULE);
	rec_free(&r);
	alerts_close(a);

	/* One stale host of five is that host's problem. */
	a = open_db(":memory:", &p, &r);
	alerts_set_host_count(a, 5);
	obs(a, ALERTS_STALE_RULE, "web1", "", 1, ALERT_CRITICAL, T0, 0);
	tick(a, T0 + 200);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "labels", "alertname"), ALERTS_STALE_RULE);
	rec_free(&r);
	alerts_close(a);
}

static void test_grouping_and_payload(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a;
	char fp[17], fp2[17];
	cJSON *al;
	size_t i;

	p.group_wait = 2;
	p.external_url = "https://central.example";
	a = open_db(":memory:", &p, &r);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 0);
	obs(a, "fs_full", "web1", "/srv", 1, ALERT_CRITICAL, T0 + 0.5, 0);
	obs(a, "fs_inodes", "web1", "/var", 1, ALERT_WARNING, T0 + 1, 0);
	obs(a, "fs_full", "web2", "/var", 1, ALERT_WARNING, T0 + 1, 0);
	tick(a, T0 + 1.5);
	CU_ASSERT_EQUAL(r.n, 0);
	tick(a, T0 + 2.5);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_EQUAL(nalerts(&r, 0), 3);
	CU_ASSERT_EQUAL(r.v[0].sev, ALERT_CRITICAL);
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "version", NULL), "4");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "groupKey", NULL), "{}:{host=\"web1\"}");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "status", NULL), "firing");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "receiver", NULL), "");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "externalURL", NULL), "https://central.example");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "groupLabels", "host"), "web1");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "commonLabels", "host"), "web1");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "commonLabels", "fstype"), "ext4");
	CU_ASSERT_STRING_EQUAL(jstr(r.v[0].doc, "commonLabels", "alertname"), "(absent)");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(r.v[0].doc, "truncatedAlerts")->valueint, 0);
	al = nalert(&r, 0, 0);
	CU_ASSERT_STRING_EQUAL(jstr(al, "status", NULL), "firing");
	CU_ASSERT_STRING_EQUAL(jstr(al, "labels", "alertname"), "fs_full");
	CU_ASSERT_STRING_EQUAL(jstr(al, "labels", "instance"), "/var");
	CU_ASSERT_STRING_EQUAL(jstr(al, "labels", "probe"), "fs");
	CU_ASSERT_STRING_EQUAL(jstr(al, "labels", "fstype"), "ext4");
	CU_ASSERT_STRING_EQUAL(jstr(al, "annotations", "summary"), "fs_full on web1");
	CU_ASSERT_STRING_EQUAL(jstr(al, "annotations", "value"), "0.97");
	CU_ASSERT_STRING_EQUAL(jstr(al, "annotations", "eta"), "2023-11-16T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(al, "annotations", "eta_early"), "2023-11-15T01:00:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(al, "annotations", "eta_late"), "(absent)");
	CU_ASSERT_STRING_EQUAL(jstr(al, "startsAt", NULL), "2023-11-15T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(al, "endsAt", NULL), "0001-01-01T00:00:00Z");
	alerts_fingerprint("fs_full", "web1", "/var", fp);
	CU_ASSERT_EQUAL(strlen(fp), 16);
	CU_ASSERT_EQUAL(strspn(fp, "0123456789abcdef"), 16);
	CU_ASSERT_STRING_EQUAL(jstr(al, "fingerprint", NULL), fp);
	alerts_fingerprint("fs_full", "web1", "/srv", fp2);
	CU_ASSERT_STRING_NOT_EQUAL(fp, fp2);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 1), "fingerprint", NULL), fp2);
	/* A pinned value: the fingerprint is part of the contract. */
	alerts_fingerprint("a", "b", "c", fp2);
	CU_ASSERT_STRING_EQUAL(fp2, "c9ddc9381a0939ab");
	tick(a, T0 + 3);
	CU_ASSERT_EQUAL_FATAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(jstr(r.v[1].doc, "groupLabels", "host"), "web2");
	/* Resolved: endsAt, same fingerprint; and again after a new firing. */
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 60, 0);
	tick(a, T0 + 62);
	CU_ASSERT_EQUAL_FATAL(r.n, 3);
	al = nalert(&r, 2, 0);
	CU_ASSERT_STRING_EQUAL(jstr(r.v[2].doc, "status", NULL), "resolved");
	CU_ASSERT_STRING_EQUAL(jstr(al, "endsAt", NULL), "2023-11-15T00:01:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(al, "fingerprint", NULL), fp);
	CU_ASSERT_STRING_EQUAL(jstr(al, "annotations", "summary"), "fs_full on web1");
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 120, 0);
	tick(a, T0 + 122);
	CU_ASSERT_EQUAL_FATAL(r.n, 4);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 3, 0), "fingerprint", NULL), fp);
	for (i = 0; i < r.n; i++)
		CU_ASSERT_STRING_EQUAL(r.v[i].route, "");
	rec_free(&r);
	alerts_close(a);
}

static void test_route_none(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a = open_db(":memory:", &p, &r);
	struct alert_obs o;
	struct hr_err err;

	alert_obs_init(&o, "quiet", "web1", "fs", "/");
	o.active = 1;
	o.t = T0;
	snprintf(o.route, sizeof(o.route), "none");
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
	snprintf(o.route, sizeof(o.route), "ops");
	snprintf(o.rule, sizeof(o.rule), "loud");
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(r.v[0].route, "ops");
	rec_free(&r);
	alerts_close(a);
}

static void test_outbox_retry(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a = open_db(path, &p, &r);

	r.fail = 1;
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 0);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_CRITICAL, T0 + 1, 0);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT(r.refused >= 1);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM alert_outbox"), 2);
	tick(a, T0 + 2);
	CU_ASSERT_EQUAL(r.n, 0);
	r.fail = 0;
	tick(a, T0 + 3);
	CU_ASSERT_EQUAL_FATAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "labels", "severity"), "warning");
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 1, 0), "labels", "severity"), "critical");
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM alert_outbox"), 0);
	rec_free(&r);
	alerts_close(a);

	/* A crash (close) before delivery: the next open replays it. */
	a = open_db(path, &p, &r);
	r.fail = 1;
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 10, 0);
	alerts_close(a);
	r.fail = 0;
	a = open_db(path, &p, &r);
	tick(a, T0 + 11);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 0, 0), "status", NULL), "resolved");
	tick(a, T0 + 12);
	CU_ASSERT_EQUAL(r.n, 1);
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_restart_firing(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a = open_db(path, &p, &r);
	long long id;
	cJSON *l;

	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 0);
	CU_ASSERT_EQUAL(r.n, 1);
	l = list(a, 0, T0);
	id = (long long)cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "id")->valuedouble;
	cJSON_Delete(l);
	alerts_close(a);
	a = open_db(path, &p, &r);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 60, 0);
	tick(a, T0 + 61);
	CU_ASSERT_EQUAL(r.n, 1);
	l = list(a, 0, T0 + 61);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(l), 1);
	CU_ASSERT_EQUAL((long long)cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "id")->valuedouble,
			id);
	cJSON_Delete(l);
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 120, 0);
	CU_ASSERT_EQUAL_FATAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 1, 0), "status", NULL), "resolved");
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_restart_pending(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a = open_db(path, &p, &r);
	char buf[32];

	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 60);
	alerts_close(a);
	a = open_db(path, &p, &r);
	CU_ASSERT_STRING_EQUAL(status0(a, T0 + 30, buf, sizeof(buf)), "pending");
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 61, 60);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(status0(a, T0 + 61, buf, sizeof(buf)), "firing");
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_restart_flapping(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a;

	p.flap_changes = 4;
	a = open_db(path, &p, &r);
	obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0, 0);
	obs(a, "load_high", "web1", "", 0, ALERT_WARNING, T0 + 10, 0);
	obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0 + 20, 0);
	alerts_close(a);
	a = open_db(path, &p, &r);
	obs(a, "load_high", "web1", "", 0, ALERT_WARNING, T0 + 30, 0);
	CU_ASSERT_EQUAL_FATAL(r.n, 4);
	CU_ASSERT_STRING_EQUAL(jstr(nalert(&r, 3, 0), "annotations", "flapping"), "true");
	obs(a, "load_high", "web1", "", 1, ALERT_WARNING, T0 + 40, 0);
	CU_ASSERT_EQUAL(r.n, 4);
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

static void test_audit_and_hook_and_hot_path(void)
{
	struct alerts_params p = params();
	const char *path = dbfile();
	struct rec r = {0};
	struct alerts *a = open_db(path, &p, &r);
	int before, i;

	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 30);
	tick(a, T0 + 30);
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 40, 30);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM audit WHERE who = 'headroom' AND"
			      " subject LIKE 'alert % fs_full/web1//var' AND action IN"
			      " ('pending', 'firing', 'resolved')"), 3);
	/* Inactive samples of keys with nothing open write nothing. */
	before = count(path, "SELECT count(*) FROM alert_alerts") +
		 count(path, "SELECT count(*) FROM audit");
	for (i = 0; i < 1000; i++)
		obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 50 + i, 30);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM alert_alerts") +
			count(path, "SELECT count(*) FROM audit"), before);
	/* A key quiet for the flap window is forgotten, in memory and file. */
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM alert_keys"), 1);
	tick(a, T0 + 40 + 3600 + 60);
	CU_ASSERT_EQUAL(count(path, "SELECT count(*) FROM alert_keys"), 0);
	rec_free(&r);
	alerts_close(a);
	rm_rf(dbdir);
}

struct evrec {
	char states[16][16];
	int n;
};

static void hook(void *ctx, const struct alert_event *ev)
{
	struct evrec *e = ctx;

	if (e->n < 16)
		snprintf(e->states[e->n++], sizeof(e->states[0]), "%s", ev->state);
}

static void test_event_hook(void)
{
	struct alerts_params p = params();
	struct alerts *a = open_db(":memory:", &p, NULL);
	struct evrec e = {0};

	alerts_set_event_hook(a, hook, &e);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0, 30);
	tick(a, T0 + 30);
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 40, 30);
	obs(a, "fs_full", "web1", "/var", 1, ALERT_WARNING, T0 + 50, 30);
	obs(a, "fs_full", "web1", "/var", 0, ALERT_WARNING, T0 + 55, 30);
	CU_ASSERT_EQUAL_FATAL(e.n, 5);
	CU_ASSERT_STRING_EQUAL(e.states[0], "pending");
	CU_ASSERT_STRING_EQUAL(e.states[1], "firing");
	CU_ASSERT_STRING_EQUAL(e.states[2], "resolved");
	CU_ASSERT_STRING_EQUAL(e.states[3], "pending");
	CU_ASSERT_STRING_EQUAL(e.states[4], "cleared");
	alerts_close(a);
}

static void test_event_spike(void)
{
	struct alerts_params p = params();
	struct rec r = {0};
	struct alerts *a = open_db(":memory:", &p, &r);
	struct alert_obs o;
	struct hr_err err;

	alert_obs_init(&o, "net_spike", "web1", "net", "eth0");
	o.active = 1;
	o.event = 1;
	o.for_s = 600; /* ignored for events */
	o.t = T0;
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
	CU_ASSERT_EQUAL(r.n, 1);
	o.active = 0;
	o.t = T0 + 5;
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
	CU_ASSERT_EQUAL(r.n, 2);
	rec_free(&r);
	alerts_close(a);
}

/* Ingest threads and the tick thread at once: every change is sent once. */
struct counter {
	pthread_mutex_t lock;
	int firing, resolved;
};

static int count_send(void *ctx, const char *route, enum alert_severity sev, const char *payload,
		      struct hr_err *err)
{
	struct counter *c = ctx;
	cJSON *doc = cJSON_Parse(payload), *it;

	pthread_mutex_lock(&c->lock);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "alerts")) {
		if (strcmp(jstr(it, "status", NULL), "firing") == 0)
			c->firing++;
		else
			c->resolved++;
	}
	pthread_mutex_unlock(&c->lock);
	cJSON_Delete(doc);
	return 0;
}

struct worker {
	struct alerts *a;
	int n;
	int stop;
	int failed; /* CUnit's asserts are not for threads: counted here */
};

static void *observer(void *arg)
{
	static const int active[] = {1, 0, 0};
	struct worker *w = arg;
	struct alert_obs o;
	struct hr_err err;
	char host[16];
	int i, j;

	for (i = 0; i < 50; i++) {
		snprintf(host, sizeof(host), "h%d-%d", w->n, i);
		for (j = 0; j < 3; j++) {
			alert_obs_init(&o, "fs_full", host, "fs", "/");
			o.active = active[j];
			o.severity = ALERT_WARNING;
			o.t = T0 + i;
			if (alerts_observe(w->a, &o, &err) < 0)
				w->failed++;
		}
	}
	return NULL;
}

static void *ticker(void *arg)
{
	struct worker *w = arg;
	struct hr_err err;
	int i = 0;

	while (!__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST))
		alerts_tick(w->a, T0 + (i++ % 50), &err);
	return NULL;
}

static void test_threads(void)
{
	struct alerts_params p = params();
	struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
	struct alerts_notifier n = {count_send, &c};
	struct worker w[4], tw = {0};
	pthread_t th[4], tt;
	struct hr_err err;
	struct alerts *a;
	int i;

	a = alerts_open(":memory:", &p, &n, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	tw.a = a;
	pthread_create(&tt, NULL, ticker, &tw);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].a = a;
		w[i].n = i;
		pthread_create(&th[i], NULL, observer, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(w[i].failed, 0);
	}
	__atomic_store_n(&tw.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(tt, NULL);
	tick(a, T0 + 100);
	/* Each of the 200 keys fired and resolved, each sent exactly once. */
	CU_ASSERT_EQUAL(c.firing, 200);
	CU_ASSERT_EQUAL(c.resolved, 200);
	alerts_close(a);
}

static void test_params(void)
{
	struct alerts_params p;
	struct hr_errs errs;
	cJSON *o;

	alerts_params_default(&p);
	CU_ASSERT_EQUAL(p.group_wait, 2);
	CU_ASSERT_EQUAL(p.repeat_interval, 4 * 3600);
	hr_errs_init(&errs);
	o = cJSON_Parse("{\"group_wait\": \"5s\", \"repeat_interval\": \"2h\", \"flap_changes\": 8,"
			" \"outage_fraction\": 0.3, \"external_url\": \"https://c\"}");
	CU_ASSERT_EQUAL(alerts_params_parse(o, "alerts", &p, &errs), 0);
	CU_ASSERT_EQUAL(p.group_wait, 5);
	CU_ASSERT_EQUAL(p.repeat_interval, 7200);
	CU_ASSERT_EQUAL(p.flap_changes, 8);
	CU_ASSERT_STRING_EQUAL(p.external_url, "https://c");
	cJSON_Delete(o);
	o = cJSON_Parse("{\"group_wait\": \"soon\", \"bogus\": 1, \"outage_fraction\": 0}");
	CU_ASSERT_EQUAL(alerts_params_parse(o, "alerts", &p, &errs), -1);
	CU_ASSERT(errs_has(&errs, "alerts.group_wait", 1));
	CU_ASSERT(errs_has(&errs, "alerts.bogus", 1));
	CU_ASSERT(errs_has(&errs, "alerts.outage_fraction", 1));
	cJSON_Delete(o);
	hr_errs_free(&errs);
}

int main(void)
{
	CU_TestInfo tests[] = {
		{"for", test_for},
		{"pending cleared", test_pending_cleared},
		{"severity escalation", test_severity_escalation},
		{"flapping", test_flapping},
		{"repeat and ack", test_repeat_and_ack},
		{"silence and expiry", test_silence},
		{"inhibition by host_stale", test_inhibition},
		{"ingest outage", test_ingest_outage},
		{"grouping and payload", test_grouping_and_payload},
		{"route none", test_route_none},
		{"outbox retry and replay", test_outbox_retry},
		{"restart while firing", test_restart_firing},
		{"restart while pending", test_restart_pending},
		{"restart keeps flap counters", test_restart_flapping},
		{"audit rows, hot path", test_audit_and_hook_and_hot_path},
		{"event hook", test_event_hook},
		{"spike events", test_event_spike},
		{"threads", test_threads},
		{"params", test_params},
		CU_TEST_INFO_NULL,
	};

	return run_suite("alerts", tests);
}
