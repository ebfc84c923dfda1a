/* test_pages.c: the dashboards' pages and JSON API (dashboards/pages.c,
 * page_alerts.c, api.c, fleet.c) against a real data folder: a registry
 * with labels, archives written by rrdstore, an alert lifecycle with
 * firing alerts and an analyzer fed filling file systems. web.c's request
 * plumbing (page_arg, page_db, page_error) is stood in for here, so that
 * the handlers are tested alone; graph.c gives the real graph views. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "alerts.h"
#include "analyzer.h"
#include "fleet.h"
#include "graph.h"
#include "pages.h"
#include "pageutil.h"
#include "registry.h"
#include "rrdstore.h"
#include "rules.h"
#include "testutil.h"

#define T0 1700006400.0
#define DAY 86400.0
#define NOW (T0 + 59 * DAY)

/* --- stand-ins for web.c ------------------------------------------------------ */

struct fake {
	const char *keys[8], *vals[8];
	size_t n;
	sqlite3 *db;
};

const char *page_arg(const struct page_req *rq, const char *key)
{
	const struct fake *f = rq->impl;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->keys[i], key) == 0)
			return f->vals[i];
	return NULL;
}

sqlite3 *page_db(const struct page_req *rq)
{
	struct fake *f = rq->impl;

	if (f->db == NULL && sqlite3_open(rq->env->db_path, &f->db) != SQLITE_OK) {
		sqlite3_close(f->db);
		f->db = NULL;
	}
	return f->db;
}

int page_error(const struct page_req *rq, struct page_resp *out, int status, const char *msg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), rq->api ? "{\"error\": \"%s\"}" : "<p>%s</p>", msg);
	out->status = status;
	out->body = strdup(buf);
	out->len = strlen(buf);
	out->type = rq->api ? "application/json" : "text/html";
	return out->body != NULL ? 0 : -1;
}

/* --- the data folder --------------------------------------------------------- */

struct world {
	char dir[512], db_path[600];
	struct page_env env;
	struct rules *rs;
};

static void commit(struct registry *r, const char *host, struct hr_sample *s, size_t n)
{
	struct hr_batch b;
	struct hr_err err;
	static uint64_t seq = 1;

	memset(&b, 0, sizeof(b));
	snprintf(b.host, sizeof(b.host), "%s", host);
	b.seq = seq++;
	b.interval = 60;
	b.samples = s;
	b.n = n;
	if (registry_commit(r, &b, (time_t)NOW - 30, &err) < 0)
		fprintf(stderr, "registry_commit: %s\n", err.msg);
}

/* A few minutes of samples into the host's archives. */
static void archive(const struct world *w, const char *host, struct hr_sample *s, size_t n)
{
	char dir[700];
	struct rrdstore *st;
	struct hr_err err;
	size_t i;
	int k;

	snprintf(dir, sizeof(dir), "%s/rrd/%s", w->dir, host);
	st = rrdstore_new(dir, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (k = 5; k >= 1; k--)
		for (i = 0; i < n; i++) {
			s[i].t = (time_t)NOW - 60 * k;
			if (rrdstore_write(st, &s[i], 60, &err) < 0)
				fprintf(stderr, "rrdstore_write: %s\n", err.msg);
		}
	rrdstore_destroy(st);
}

static void observe(struct alerts *a, const char *rule, const char *host, const char *probe,
		    const char *inst, enum alert_severity sev, const char *summary)
{
	struct alert_obs o;
	struct hr_err err;

	alert_obs_init(&o, rule, host, probe, inst);
	o.active = 1;
	o.severity = sev;
	o.t = NOW - 600;
	o.for_s = 0;
	snprintf(o.summary, sizeof(o.summary), "%s", summary);
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
}

/* fs_used on web1 /: fired, then resolved. */
static void resolved(struct alerts *a)
{
	struct alert_obs o;
	struct hr_err err;

	alert_obs_init(&o, "fs_used", "web1", "fs", "/");
	o.active = 1;
	o.severity = ALERT_WARNING;
	o.t = NOW - 7200;
	snprintf(o.summary, sizeof(o.summary), "web1: / is 91%% full");
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
	o.active = 0;
	o.t = NOW - 3600;
	CU_ASSERT_EQUAL(alerts_observe(a, &o, &err), 0);
}

static void no_emit(void *ctx, const struct alert_obs *o)
{
	(void)ctx;
	(void)o;
}

/* An fs instance of host filling from 20 % to full in days_to_full days
 * (hourly samples over 59 days); a flat one for days_to_full 0. */
static void feed(struct analyzer *an, const char *host, const char *inst, double days_to_full)
{
	struct hr_sample s;
	long i;

	for (i = 0; i < 59 * 24; i++) {
		double t = T0 + 3600.0 * i;
		double pct = days_to_full > 0 ? 20 + 80 * (t - T0) / (days_to_full * DAY) : 40;

		if (pct > 99)
			pct = 99;
		pct += 0.2 * sin(i * 0.7);
		hr_sample_init(&s, "fs", inst);
		s.t = (time_t)t;
		hr_sample_set(&s, "size", 1e10);
		hr_sample_set(&s, "used", 1e8 * pct);
		analyzer_observe(an, host, &s, 3600);
	}
}

static void world_init(struct world *w, int with_forecasts)
{
	struct alerts_params p;
	struct registry *r;
	struct hr_sample s[3];
	struct hr_err err;

	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "%s", tmpdir_new("pages"));
	snprintf(w->db_path, sizeof(w->db_path), "%s/headroom.db", w->dir);
	r = registry_open(w->db_path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);

	hr_sample_init(&s[0], "fs", "/");
	hr_sample_set(&s[0], "size", 1e10);
	hr_sample_set(&s[0], "used", 4e9);
	hr_sample_label(&s[0], "fstype", "ext4");
	hr_sample_init(&s[1], "md", "md0");
	hr_sample_set(&s[1], "degraded", 1);
	hr_sample_label(&s[1], "level", "raid1");
	hr_sample_init(&s[2], "ups", "ups@localhost");
	hr_sample_set(&s[2], "on_battery", 0);
	hr_sample_label(&s[2], "model", "<script>alert(1)</script>");
	commit(r, "web1", s, 3);
	archive(w, "web1", s, 3);

	hr_sample_init(&s[0], "fs", "/var");
	hr_sample_set(&s[0], "size", 1e10);
	hr_sample_set(&s[0], "used", 1e9);
	hr_sample_init(&s[1], "bond", "bond0");
	hr_sample_set(&s[1], "degraded", 1);
	hr_sample_label(&s[1], "mode", "active-backup");
	commit(r, "db1", s, 2);
	archive(w, "db1", s, 2);

	hr_sample_init(&s[0], "load", NULL);
	hr_sample_set(&s[0], "load1", 0.5);
	commit(r, "ok1", s, 1);
	archive(w, "ok1", s, 1);
	registry_close(r);

	alerts_params_default(&p);
	p.group_wait = 0;
	w->env.data_dir = w->dir;
	w->env.db_path = w->db_path;
	w->env.alerts = alerts_open(w->db_path, &p, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->env.alerts);
	resolved(w->env.alerts);
	observe(w->env.alerts, "bond_degraded", "db1", "bond", "bond0", ALERT_WARNING,
		"db1: bond bond0 degraded");
	observe(w->env.alerts, "md_degraded", "web1", "md", "md0", ALERT_CRITICAL,
		"web1: RAID md0 degraded");
	if (with_forecasts) {
		w->rs = rules_defaults(&err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w->rs);
		w->env.analyzer = analyzer_new(w->rs, NULL, no_emit, NULL, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w->env.analyzer);
		feed(w->env.analyzer, "web1", "/", 75);
		feed(w->env.analyzer, "db1", "/var", 0);
		feed(w->env.analyzer, "db2", "/srv", 62);
	}
}

static void world_free(struct world *w)
{
	analyzer_free(w->env.analyzer);
	rules_free(w->rs);
	alerts_close(w->env.alerts);
	rm_rf(w->dir);
}

/* Runs handler fn for path as role with the arguments args ("k", "v", ...,
 * NULL); returns out (body NUL-terminated; caller frees out->body). */
static struct page_resp run(const struct world *w, page_fn fn, const char *method,
			    const char *path, enum page_role role, ...)
{
	struct fake f = { .n = 0 };
	struct page_req rq = {
		.env = &w->env, .method = method, .path = path, .user = "alice", .role = role,
		.csrf = "CSRFTOKEN", .client = "p:0", .now = NOW,
		.api = strncmp(path, "/api/", 5) == 0, .impl = &f,
	};
	struct page_resp out;
	const char *k;
	va_list ap;

	va_start(ap, role);
	while ((k = va_arg(ap, const char *)) != NULL && f.n < 8) {
		f.keys[f.n] = k;
		f.vals[f.n++] = va_arg(ap, const char *);
	}
	va_end(ap);
	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL(fn(&rq, &out), 0);
	sqlite3_close(f.db);
	if (out.body == NULL)
		out.body = strdup("");
	return out;
}

static const char *after(const char *hay, const char *needle)
{
	const char *p = hay != NULL ? strstr(hay, needle) : NULL;

	if (p == NULL)
		fprintf(stderr, "missing: %s\n", needle);
	return p;
}

/* --- the pages ----------------------------------------------------------------- */

static void test_overview(void)
{
	struct world w;
	struct page_resp r;
	const char *firing, *hosts, *crit, *warn, *web1, *ok1;

	world_init(&w, 0);
	r = run(&w, page_overview, "GET", "/", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "<strong>3</strong> hosts"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "1 critical"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "1 warning"));
	/* Firing alerts first, critical before warning, then the hosts. */
	firing = after(r.body, "Firing alerts");
	crit = after(r.body, "web1: RAID md0 degraded");
	warn = after(r.body, "db1: bond bond0 degraded");
	hosts = after(r.body, "<h2>Hosts</h2>");
	CU_ASSERT_FATAL(firing && crit && warn && hosts);
	CU_ASSERT(firing < crit && crit < warn && warn < hosts);
	/* The worst host first; every host links to its page. */
	web1 = after(hosts, "<a href=\"/hosts/web1\">web1</a>");
	ok1 = after(hosts, "<a href=\"/hosts/ok1\">ok1</a>");
	CU_ASSERT_FATAL(web1 && ok1 && after(hosts, "/hosts/db1"));
	CU_ASSERT(web1 < after(hosts, "/hosts/db1") && after(hosts, "/hosts/db1") < ok1);
	/* web1's row: RAID critical, bond not monitored, UPS ok. */
	CU_ASSERT_PTR_NOT_NULL(after(web1, "<td><span class=\"badge critical\">critical</span></td>"
				     "<td><span class=\"muted\" title=\"not monitored\">"));
	free(r.body);
	world_free(&w);
}

static void test_fleet_health(void)
{
	struct world w;
	struct fleet f;
	struct hr_err err;
	sqlite3 *db;
	const struct fleet_host *h;

	world_init(&w, 0);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(w.db_path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(fleet_load(&f, db, &w.env, NOW, &err), 0);
	CU_ASSERT_EQUAL(f.n, 3);
	h = fleet_find(&f, "web1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(h->health[FLEET_RAID], FLEET_CRITICAL);
	CU_ASSERT_EQUAL(h->health[FLEET_UPS], FLEET_OK);
	CU_ASSERT_EQUAL(h->health[FLEET_BOND], FLEET_NA);
	CU_ASSERT_EQUAL(h->health[FLEET_STALE], FLEET_OK);
	CU_ASSERT_EQUAL(h->worst, FLEET_CRITICAL);
	h = fleet_find(&f, "db1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(h->health[FLEET_BOND], FLEET_WARNING);
	CU_ASSERT_EQUAL(h->health[FLEET_RAID], FLEET_NA);
	CU_ASSERT_STRING_EQUAL(f.hosts[0].name, "web1");
	CU_ASSERT_STRING_EQUAL(f.hosts[2].name, "ok1");
	fleet_free(&f);
	CU_ASSERT_EQUAL(fleet_host_exists(db, w.dir, "web1", &err), 1);
	CU_ASSERT_EQUAL(fleet_host_exists(db, w.dir, "nosuch", &err), 0);
	CU_ASSERT_EQUAL(fleet_host_exists(db, w.dir, "..", &err), 0);
	sqlite3_close(db);
	world_free(&w);
}

static void test_host(void)
{
	struct world w;
	struct page_resp r;

	world_init(&w, 0);
	r = run(&w, page_host, "GET", "/hosts/web1", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "raid1"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "ext4"));
	/* A label is text, never markup. */
	CU_ASSERT_PTR_NULL(strstr(r.body, "<script>"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "web1: RAID md0 degraded"));
	CU_ASSERT(after(r.body, "web1: RAID md0 degraded") < after(r.body, "<h3>Resolved</h3>"));
	CU_ASSERT(after(r.body, "<h3>Resolved</h3>") < after(r.body, "web1: / is 91% full"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "<img src=\"/graph?host=web1&amp;probe=fs&amp;"
				     "instance=%2F&amp;view=used&amp;range=1d&amp;w=560&amp;h=180\""
				     " loading=\"lazy\""));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "view=disks"));
	/* The latest values, read from the archives. */
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "<span class=\"muted\">degraded</span> 1</td>"
				     "<td>1 min ago</td>"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "<a href=\"/hosts/web1?range=1y\">1y</a>"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "name=\"start\""));
	/* An operator gets an ack form with the CSRF token. */
	CU_ASSERT_PTR_NULL(strstr(r.body, "action=\"/alerts/ack\""));
	free(r.body);
	r = run(&w, page_host, "GET", "/hosts/web1", ROLE_OPERATOR, NULL);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "action=\"/alerts/ack\""));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "name=\"csrf\" value=\"CSRFTOKEN\""));
	free(r.body);
	/* A custom range. */
	r = run(&w, page_host, "GET", "/hosts/web1", ROLE_VIEWER, "start", "2023-12-01", "end",
		"2023-12-31", NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "&amp;start=1701388800&amp;end=1704067200&amp;"));
	free(r.body);
	r = run(&w, page_host, "GET", "/hosts/web1", ROLE_VIEWER, "start", "2023-12-31", "end",
		"2023-12-01", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);
	r = run(&w, page_host, "GET", "/hosts/web1", ROLE_VIEWER, "range", "7y", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);
	/* Unknown and invalid names. */
	r = run(&w, page_host, "GET", "/hosts/../etc", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	r = run(&w, page_host, "GET", "/hosts/nosuch", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	r = run(&w, page_host, "GET", "/hosts/", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	world_free(&w);
}

static void test_capacity(void)
{
	struct world w;
	struct page_resp r;
	const char *db2, *web1, *db1;

	world_init(&w, 1);
	r = run(&w, page_capacity, "GET", "/capacity", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	/* db2 is full in 62 days, web1 in 75, db1 does not grow. */
	db2 = after(r.body, "<a href=\"/hosts/db2\">");
	web1 = after(r.body, "<a href=\"/hosts/web1\">");
	db1 = after(r.body, "<a href=\"/hosts/db1\">");
	CU_ASSERT_FATAL(db2 && web1 && db1);
	CU_ASSERT(db2 < web1 && web1 < db1);
	CU_ASSERT_PTR_NOT_NULL(after(db1, "not growing"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "<img src=\"/graph?host=db2&amp;probe=fs&amp;"
				     "instance=%2Fsrv&amp;view=used&amp;range=1m&amp;w=300&amp;h=80\""));
	CU_ASSERT_PTR_NOT_NULL(after(db2, "in 2 d"));           /* relative ETA */
	CU_ASSERT_PTR_NOT_NULL(after(db2, "<span class=\"badge warning\">warning</span>"));
	free(r.body);
	world_free(&w);
}

static void fake_fc(struct fleet_fc *c, const char *host, double eta, double value)
{
	c->key = NULL;
	memset(&c->f, 0, sizeof(c->f));
	c->f.rule = "forecast_fs_used";
	c->f.host = host;
	c->f.probe = "fs";
	c->f.instance = "/";
	c->f.eta = eta;
	c->f.capacity = 100;
	c->f.value = value;
}

static void test_rank(void)
{
	struct fleet_fc v[5];

	fake_fc(&v[0], "flat-empty", INFINITY, 10);
	fake_fc(&v[1], "late", T0 + 90 * DAY, 50);
	fake_fc(&v[2], "flat-full", INFINITY, 80);
	fake_fc(&v[3], "soon", T0 + 2 * DAY, 50);
	fake_fc(&v[4], "nan", NAN, 90);
	fleet_rank(v, 5);
	CU_ASSERT_STRING_EQUAL(v[0].f.host, "soon");
	CU_ASSERT_STRING_EQUAL(v[1].f.host, "late");
	CU_ASSERT_STRING_EQUAL(v[2].f.host, "nan");
	CU_ASSERT_STRING_EQUAL(v[3].f.host, "flat-full");
	CU_ASSERT_STRING_EQUAL(v[4].f.host, "flat-empty");
}

/* --- the alerts page and its forms ------------------------------------------------ */

static long long first_id(struct alerts *a, const char *rule, const char **acked_by)
{
	struct hr_err err;
	cJSON *l = alerts_list(a, 1, 0, NOW, &err), *it;
	long long id = 0;
	static char by[64];

	*acked_by = NULL;
	cJSON_ArrayForEach(it, l) {
		const cJSON *r = cJSON_GetObjectItem(it, "rule"), *ab = cJSON_GetObjectItem(it, "acked_by");

		if (cJSON_IsString(r) && strcmp(r->valuestring, rule) == 0) {
			id = (long long)cJSON_GetObjectItem(it, "id")->valuedouble;
			if (cJSON_IsString(ab)) {
				snprintf(by, sizeof(by), "%s", ab->valuestring);
				*acked_by = by;
			}
		}
	}
	cJSON_Delete(l);
	return id;
}

static int audit_rows(const char *db_path, const char *action)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open(db_path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE action = ?1 AND who = 'alice'",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_alerts_page(void)
{
	struct world w;
	struct page_resp r;
	const char *by;
	char id[32];
	long long n;

	world_init(&w, 0);
	r = run(&w, page_alerts, "GET", "/alerts", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(after(r.body, "md0 degraded") < after(r.body, "bond0 degraded"));
	CU_ASSERT(after(r.body, "bond0 degraded") < after(r.body, "<h2>Resolved</h2>"));
	CU_ASSERT(after(r.body, "<h2>Resolved</h2>") < after(r.body, "web1: / is 91% full"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "/alerts/ack"));      /* no forms for a viewer */
	CU_ASSERT_PTR_NULL(strstr(r.body, "/alerts/silence"));
	free(r.body);
	r = run(&w, page_alerts, "GET", "/alerts", ROLE_OPERATOR, NULL);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "action=\"/alerts/ack\""));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "action=\"/alerts/silence\""));
	free(r.body);

	n = first_id(w.env.alerts, "md_degraded", &by);
	CU_ASSERT_FATAL(n > 0);
	snprintf(id, sizeof(id), "%lld", n);
	/* A viewer cannot ack, even when the route check were missing. */
	r = run(&w, page_alert_ack, "POST", "/alerts/ack", ROLE_VIEWER, "id", id, "comment", "x",
		NULL);
	CU_ASSERT_EQUAL(r.status, 403);
	free(r.body);
	first_id(w.env.alerts, "md_degraded", &by);
	CU_ASSERT_PTR_NULL(by);
	r = run(&w, page_alert_ack, "POST", "/alerts/ack", ROLE_OPERATOR, "id", "12x", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "id must be"));
	free(r.body);
	r = run(&w, page_alert_ack, "POST", "/alerts/ack", ROLE_OPERATOR, "id", "999999", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);
	/* An operator can. */
	r = run(&w, page_alert_ack, "POST", "/alerts/ack", ROLE_OPERATOR, "id", id, "comment",
		"disk <ordered>", NULL);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(r.location, "/alerts?done=ack");
	free(r.body);
	first_id(w.env.alerts, "md_degraded", &by);
	CU_ASSERT_PTR_NOT_NULL_FATAL(by);
	CU_ASSERT_STRING_EQUAL(by, "alice");
	CU_ASSERT_EQUAL(audit_rows(w.db_path, "ack"), 1);
	r = run(&w, page_alerts, "GET", "/alerts", ROLE_OPERATOR, "done", "ack", NULL);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "acked by alice: disk &lt;ordered&gt;"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "Alert acknowledged."));
	free(r.body);

	/* Silences: add with the page's syntax, refuse bad input, expire. */
	r = run(&w, page_silence_add, "POST", "/alerts/silence", ROLE_OPERATOR, "matchers",
		"host=web1 rule=md_degraded", "duration", "2h", "comment", "rebuild", NULL);
	CU_ASSERT_EQUAL(r.status, 303);
	free(r.body);
	r = run(&w, page_silence_add, "POST", "/alerts/silence", ROLE_OPERATOR, "matchers",
		"host=web1", "duration", "2 hours", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "duration"));
	free(r.body);
	r = run(&w, page_silence_add, "POST", "/alerts/silence", ROLE_VIEWER, "matchers",
		"host=web1", "duration", "2h", NULL);
	CU_ASSERT_EQUAL(r.status, 403);
	free(r.body);
	{
		struct hr_err err;
		cJSON *s = alerts_silences(w.env.alerts, 0, NOW, &err);

		CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(s), 1);
		CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "matchers")
				       ->valuestring, "host=web1,alertname=md_degraded");
		CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "ends")
				       ->valuedouble, NOW + 7200, 1e-6);
		snprintf(id, sizeof(id), "%.0f",
			 cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "id")->valuedouble);
		cJSON_Delete(s);
	}
	CU_ASSERT_EQUAL(audit_rows(w.db_path, "silence add"), 1);
	r = run(&w, page_alerts, "GET", "/alerts", ROLE_OPERATOR, NULL);
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "host=web1,alertname=md_degraded"));
	CU_ASSERT_PTR_NOT_NULL(after(r.body, "action=\"/alerts/unsilence\""));
	free(r.body);
	r = run(&w, page_silence_expire, "POST", "/alerts/unsilence", ROLE_OPERATOR, "id", id, NULL);
	CU_ASSERT_EQUAL(r.status, 303);
	free(r.body);
	r = run(&w, page_silence_expire, "POST", "/alerts/unsilence", ROLE_OPERATOR, "id", id, NULL);
	CU_ASSERT_EQUAL(r.status, 400);                         /* already ended */
	free(r.body);
	CU_ASSERT_EQUAL(audit_rows(w.db_path, "silence expire"), 1);
	world_free(&w);
}

/* --- the API ------------------------------------------------------------------------ */

static cJSON *json_of(struct page_resp *r)
{
	cJSON *doc = cJSON_Parse(r->body);

	CU_ASSERT_PTR_NOT_NULL(doc);
	CU_ASSERT_STRING_EQUAL(r->type, "application/json");
	free(r->body);
	return doc;
}

static const char *jpath(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItem(o, a);

	if (b != NULL)
		v = cJSON_GetObjectItem(v, b);
	if (c != NULL)
		v = cJSON_GetObjectItem(v, c);
	return cJSON_IsString(v) ? v->valuestring : "(absent)";
}

static void test_api_hosts(void)
{
	struct world w;
	struct page_resp r;
	cJSON *doc, *h, *web1 = NULL;

	world_init(&w, 0);
	r = run(&w, api_hosts, "GET", "/api/v1/hosts", ROLE_VIEWER, NULL);
	doc = json_of(&r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "hosts")), 3);
	cJSON_ArrayForEach(h, cJSON_GetObjectItem(doc, "hosts"))
		if (strcmp(jpath(h, "name", NULL, NULL), "web1") == 0)
			web1 = h;
	CU_ASSERT_PTR_NOT_NULL_FATAL(web1);
	CU_ASSERT_STRING_EQUAL(jpath(web1, "health", "raid", NULL), "critical");
	CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(web1, "health"), "bond")));
	CU_ASSERT_STRING_EQUAL(jpath(cJSON_GetObjectItem(web1, "labels"), "md", "md0", "level"),
			       "raid1");
	CU_ASSERT_STRING_EQUAL(jpath(cJSON_GetObjectItem(web1, "labels"), "ups", "ups@localhost",
				     "model"), "<script>alert(1)</script>");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(web1, "last_seen")->valuedouble, (double)(time_t)(NOW - 30));
	cJSON_Delete(doc);
	r = run(&w, api_hosts, "GET", "/api/v1/hosts/db1", ROLE_VIEWER, NULL);
	doc = json_of(&r);
	CU_ASSERT_STRING_EQUAL(jpath(doc, "host", "name", NULL), "db1");
	CU_ASSERT_STRING_EQUAL(jpath(doc, "host", "health", "bond"), "warning");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "host"),
							       "alerts")), 1);
	cJSON_Delete(doc);
	r = run(&w, api_hosts, "GET", "/api/v1/hosts/nosuch", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	world_free(&w);
}

static void test_api_series(void)
{
	struct world w;
	struct page_resp r;
	cJSON *doc, *s, *fs = NULL, *pts, *row;
	char start[32], end[32];
	int values = 0;

	world_init(&w, 0);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "web1", NULL);
	doc = json_of(&r);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "series")), 3);
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(doc, "series"))
		if (strcmp(jpath(s, "probe", NULL, NULL), "fs") == 0)
			fs = s;
	CU_ASSERT_PTR_NOT_NULL_FATAL(fs);
	CU_ASSERT_STRING_EQUAL(jpath(fs, "instance", NULL, NULL), "/");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(fs, "last_update")->valuedouble, (double)(time_t)(NOW - 60));
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(fs, "ds")), 2);
	cJSON_Delete(doc);

	snprintf(start, sizeof(start), "%.0f", NOW - 600);
	snprintf(end, sizeof(end), "%.0f", NOW);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "web1", "probe", "fs",
		"instance", "/", "ds", "used", "start", start, "end", end, NULL);
	doc = json_of(&r);
	CU_ASSERT_STRING_EQUAL(jpath(doc, "cf", NULL, NULL), "AVERAGE");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "ds")), 1);
	pts = cJSON_GetObjectItem(doc, "points");
	CU_ASSERT(cJSON_GetArraySize(pts) >= 5 && cJSON_GetArraySize(pts) <= 11);
	cJSON_ArrayForEach(row, pts) {
		CU_ASSERT_EQUAL(cJSON_GetArraySize(row), 2);
		if (cJSON_IsNumber(cJSON_GetArrayItem(row, 1))) {
			CU_ASSERT_DOUBLE_EQUAL(cJSON_GetArrayItem(row, 1)->valuedouble, 4e9, 1);
			values++;
		}
	}
	CU_ASSERT(values >= 3);
	cJSON_Delete(doc);

	/* Everything the request names is checked. */
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "web1", "probe", "fs",
		"instance", "/", "cf", "LAST;rm", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "web1", "probe",
		"../../etc/passwd", NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "web1", "probe", "fs",
		"instance", "/", "ds", "nosuch", NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "web1", "probe", "fs",
		"instance", "/", "start", end, "end", start, NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, "host", "../web1", NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	free(r.body);
	r = run(&w, api_series, "GET", "/api/v1/series", ROLE_VIEWER, NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);
	world_free(&w);
}

static void test_api_alerts_forecasts(void)
{
	struct world w;
	struct page_resp r;
	cJSON *doc, *arr;
	char id[32];
	const char *by;

	world_init(&w, 1);
	r = run(&w, api_alerts, "GET", "/api/v1/alerts", ROLE_VIEWER, "state", "firing", NULL);
	doc = json_of(&r);
	arr = cJSON_GetObjectItem(doc, "alerts");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(arr), 2);
	CU_ASSERT_STRING_EQUAL(jpath(cJSON_GetArrayItem(arr, 0), "rule", NULL, NULL), "md_degraded");
	CU_ASSERT_STRING_EQUAL(jpath(cJSON_GetArrayItem(arr, 0), "severity", NULL, NULL), "critical");
	cJSON_Delete(doc);
	r = run(&w, api_alerts, "GET", "/api/v1/alerts", ROLE_VIEWER, "state", "bogus", NULL);
	CU_ASSERT_EQUAL(r.status, 400);
	free(r.body);

	r = run(&w, api_forecasts, "GET", "/api/v1/forecasts", ROLE_VIEWER, NULL);
	doc = json_of(&r);
	arr = cJSON_GetObjectItem(doc, "forecasts");
	CU_ASSERT_FATAL(cJSON_GetArraySize(arr) >= 3);
	CU_ASSERT_STRING_EQUAL(jpath(cJSON_GetArrayItem(arr, 0), "host", NULL, NULL), "db2");
	CU_ASSERT_STRING_EQUAL(jpath(cJSON_GetArrayItem(arr, 1), "host", NULL, NULL), "web1");
	CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "eta")));
	CU_ASSERT(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "slope_per_day")->valuedouble > 0);
	CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 2), "eta")));
	cJSON_Delete(doc);

	snprintf(id, sizeof(id), "%lld", first_id(w.env.alerts, "bond_degraded", &by));
	r = run(&w, api_alert_ack, "POST", "/api/v1/alerts/ack", ROLE_VIEWER, "id", id, NULL);
	CU_ASSERT_EQUAL(r.status, 403);
	free(r.body);
	r = run(&w, api_alert_ack, "POST", "/api/v1/alerts/ack", ROLE_OPERATOR, "id", id,
		"comment", "on it", NULL);
	doc = json_of(&r);
	CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(doc, "acked")));
	cJSON_Delete(doc);
	first_id(w.env.alerts, "bond_degraded", &by);
	CU_ASSERT_PTR_NOT_NULL(by);
	world_free(&w);
}

/* The durations a silence form takes: plain decimals with one unit. */
static void test_durations(void)
{
	static const struct {
		const char *s;
		double want; /* < 0: refused */
	} c[] = {
		{ "2h", 7200 }, { "90m", 5400 }, { "1.5d", 129600 }, { "45", 45 }, { "30s", 30 },
		{ "1w", 604800 }, { "0x10m", -1 }, { "1e2h", -1 }, { "2 hours", -1 },
		{ "2hh", -1 }, { "1.2.3h", -1 }, { "0.0001s", -1 }, { "0h", -1 }, { "-1h", -1 },
		{ "", -1 }, { "h", -1 }, { "400d", -1 }, { "2x", -1 }, { "nan", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		double v = -1;
		int rc = pu_parse_duration(c[i].s, 366 * 86400.0, &v);

		if (c[i].want < 0) {
			if (rc != -1)
				printf("\n  %s accepted as %g", c[i].s, v);
			CU_ASSERT_EQUAL(rc, -1);
		} else {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_DOUBLE_EQUAL(v, c[i].want, 1e-9);
		}
	}
}

int main(void)
{
	static CU_TestInfo tests[] = {
		{ "overview: firing first, worst host first, badges", test_overview },
		{ "fleet: health from archives, registry and alerts", test_fleet_health },
		{ "host page: labels escaped, graphs, ranges, 404", test_host },
		{ "capacity: ranked by ETA from a real analyzer", test_capacity },
		{ "ranking of fake forecasts", test_rank },
		{ "alerts page: ack and silences, roles, audit", test_alerts_page },
		{ "api: hosts", test_api_hosts },
		{ "api: series list and data, checked parameters", test_api_series },
		{ "api: alerts, forecasts, ack", test_api_alerts_forecasts },
		{ "silence durations", test_durations },
		CU_TEST_INFO_NULL,
	};

	setenv("TZ", "UTC", 1);
	return run_suite("pages", tests);
}
