/* test_notify.c: the notifiers and the delivery queue without a network:
 * config checking with paths, the payload transformations of slack,
 * pagerduty, email and exec from a fixed payload, malformed payloads, the
 * backoff bounds, and the queue's order, drops, expiry and persistence
 * driven through a real exec receiver (/bin/sh scripts) in simulated time.
 * HTTP and SMTP against real servers: tests/integration/notify.sh. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cfg.h"
#include "delivery.h"
#include "notify.h"
#include "testutil.h"
#include "util.h"

static const char payload[] =
	"{\"version\":\"4\",\"groupKey\":\"{}:{host=\\\"web1\\\"}\",\"truncatedAlerts\":0,"
	"\"status\":\"firing\",\"receiver\":\"\",\"groupLabels\":{\"host\":\"web1\"},"
	"\"commonLabels\":{\"host\":\"web1\"},\"commonAnnotations\":{},"
	"\"externalURL\":\"https://central.example:8443\",\"alerts\":["
	"{\"status\":\"firing\",\"labels\":{\"alertname\":\"disk_full\",\"host\":\"web1\","
	"\"probe\":\"fs\",\"instance\":\"/var\",\"severity\":\"critical\"},"
	"\"annotations\":{\"summary\":\"/var 97% full\",\"value\":\"0.97\"},"
	"\"startsAt\":\"2026-11-28T16:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
	"\"generatorURL\":\"\",\"fingerprint\":\"0123456789abcdef\"},"
	"{\"status\":\"resolved\",\"labels\":{\"alertname\":\"load_high\",\"host\":\"web1\","
	"\"probe\":\"load\",\"instance\":\"\",\"severity\":\"warning\"},"
	"\"annotations\":{\"summary\":\"load 12\"},"
	"\"startsAt\":\"2026-11-28T15:00:00Z\",\"endsAt\":\"2026-11-28T16:30:00Z\","
	"\"generatorURL\":\"\",\"fingerprint\":\"fedcba9876543210\"}]}";

/* Checks config text (a "notify" array); want NULL: valid. */
static int check(const char *json, const char *want)
{
	struct hr_errs errs;
	cJSON *doc = cJSON_Parse(json);
	int n, ok;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	hr_errs_init(&errs);
	n = notify_check_config(doc, "notify", &errs);
	if (want == NULL) {
		ok = n == 0;
		if (!ok)
			printf("\nunexpected: %s\n", errs.items[0]);
	} else {
		ok = n > 0 && errs_has(&errs, want, 1);
	}
	hr_errs_free(&errs);
	cJSON_Delete(doc);
	return ok;
}

static void test_config_good(void)
{
	CU_ASSERT(check("[{\"type\": \"webhook\", \"name\": \"ops\", \"url\": \"http://127.0.0.1:9/x\","
			" \"min_severity\": \"info\", \"timeout\": \"5s\", \"headers\":"
			" {\"Authorization\": \"Bearer x\"}, \"insecure\": false, \"retry_max\": \"1m\","
			" \"max_age\": \"2h\"},"
			" {\"type\": \"slack\", \"url\": \"https://hooks.slack.com/services/T/B/X\"},"
			" {\"type\": \"pagerduty\", \"routing_key\": \"R0123\"},"
			" {\"type\": \"email\", \"smtp\": \"smtp://mail:587\", \"username\": \"u\","
			" \"password\": \"p\", \"from\": \"hr@example.org\", \"to\": [\"ops@example.org\"]},"
			" {\"type\": \"exec\", \"command\": [\"/bin/true\", \"x\"], \"timeout\": 3}]",
			NULL));
	/* Two of a type need names; one each may default to its type. */
	CU_ASSERT(check("[{\"type\": \"exec\", \"command\": [\"true\"]},"
			" {\"type\": \"exec\", \"name\": \"b\", \"command\": [\"true\"]}]", NULL));
}

static void test_config_bad(void)
{
	CU_ASSERT(check("[{\"type\": \"webhook\", \"url\": \"http://x/\", \"urll\": 1}]",
			"notify[0].urll: unknown key"));
	CU_ASSERT(check("[{\"type\": \"webhook\"}]", "notify[0]: missing \"url\""));
	CU_ASSERT(check("[{\"type\": \"webhook\", \"url\": \"ftp://x/\"}]",
			"notify[0].url: expected an http"));
	CU_ASSERT(check("[{\"type\": \"webhook\", \"url\": \"http://[::1/\"}]",
			"notify[0].url: expected an http"));
	CU_ASSERT(check("[{\"type\": \"sms\"}]", "notify[0].type: unknown type \"sms\""));
	CU_ASSERT(check("[{\"name\": \"x\"}]", "notify[0]: missing \"type\""));
	CU_ASSERT(check("[3]", "notify[0]: expected an object"));
	CU_ASSERT(check("[{\"type\": \"slack\", \"url\": \"https://a/\", \"min_severity\": \"high\"}]",
			"notify[0].min_severity: expected"));
	CU_ASSERT(check("[{\"type\": \"webhook\", \"url\": \"https://a/\","
			" \"headers\": {\"X-A\": \"1\\r\\nX-B: 2\"}}]", "notify[0].headers.X-A: expected"));
	CU_ASSERT(check("[{\"type\": \"webhook\", \"url\": \"https://a/\", \"timeout\": \"soon\"}]",
			"notify[0].timeout:"));
	CU_ASSERT(check("[{\"type\": \"pagerduty\"}]", "notify[0]: missing \"routing_key\""));
	CU_ASSERT(check("[{\"type\": \"slack\", \"url\": \"https://a/\", \"ca\": \"/nonexistent/ca.pem\"}]",
			"notify[0].ca: /nonexistent/ca.pem: No such file"));
	CU_ASSERT(check("[{\"type\": \"email\", \"smtp\": \"http://mail/\", \"from\": \"a@b\","
			" \"to\": [\"c@d\"]}]", "notify[0].smtp: expected smtp://"));
	CU_ASSERT(check("[{\"type\": \"email\", \"smtp\": \"smtp://mail/\", \"from\": \"a@b\"}]",
			"notify[0]: missing \"to\""));
	CU_ASSERT(check("[{\"type\": \"email\", \"smtp\": \"smtp://mail/\", \"from\": \"a@b\","
			" \"to\": [\"c@d\", \"x\\r\\nBcc: e@f\"]}]", "notify[0].to[1]: expected an address"));
	CU_ASSERT(check("[{\"type\": \"email\", \"smtp\": \"smtp://mail/\", \"from\": \"a@b\","
			" \"to\": [\"c@d\"], \"password_file\": \"/nonexistent/pw\", \"username\": \"u\"}]",
			"notify[0].password_file:"));
	CU_ASSERT(check("[{\"type\": \"exec\"}]", "notify[0]: missing \"command\""));
	CU_ASSERT(check("[{\"type\": \"exec\", \"command\": [\"/nonexistent/hook\"]}]",
			"notify[0].command: /nonexistent/hook"));
	CU_ASSERT(check("[{\"type\": \"exec\", \"command\": [\"true\"]},"
			" {\"type\": \"exec\", \"command\": [\"true\"]}]",
			"notify[1]: name \"exec\" is used twice"));
	CU_ASSERT(check("[{\"type\": \"exec\", \"name\": \"none\", \"command\": [\"true\"]}]",
			"notify[0].name: must be"));
}

static cJSON *fixed(void)
{
	cJSON *doc = cJSON_Parse(payload);

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	return doc;
}

static void test_title_and_slack(void)
{
	cJSON *doc = fixed(), *out;
	char title[256], *body;

	notify_title(doc, title, sizeof(title));
	CU_ASSERT_STRING_EQUAL(title, "[FIRING:1] web1: /var 97% full (and 1 more)");
	body = notify_slack_body(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	out = cJSON_Parse(body);
	CU_ASSERT_STRING_EQUAL(notify_str(out, "text"),
			       "[FIRING:1] web1: /var 97% full (and 1 more)\n"
			       "[critical] web1 disk_full: /var 97% full (since 2026-11-28T16:00:00Z)\n"
			       "RESOLVED [warning] web1 load_high: load 12 (since 2026-11-28T15:00:00Z,"
			       " resolved 2026-11-28T16:30:00Z)\n");
	cJSON_Delete(out);
	free(body);
	cJSON_Delete(doc);
}

static void test_pagerduty(void)
{
	cJSON *doc = fixed(), *ev, *p;
	const cJSON *alerts = notify_alerts(doc);
	char *s;

	s = notify_pagerduty_event(doc, cJSON_GetArrayItem(alerts, 0), "KEY1");
	ev = cJSON_Parse(s);
	CU_ASSERT_STRING_EQUAL(notify_str(ev, "routing_key"), "KEY1");
	CU_ASSERT_STRING_EQUAL(notify_str(ev, "event_action"), "trigger");
	CU_ASSERT_STRING_EQUAL(notify_str(ev, "dedup_key"), "0123456789abcdef");
	CU_ASSERT_STRING_EQUAL(notify_str(ev, "client_url"), "https://central.example:8443");
	p = cJSON_GetObjectItemCaseSensitive(ev, "payload");
	CU_ASSERT_STRING_EQUAL(notify_str(p, "summary"), "/var 97% full");
	CU_ASSERT_STRING_EQUAL(notify_str(p, "source"), "web1");
	CU_ASSERT_STRING_EQUAL(notify_str(p, "severity"), "critical");
	CU_ASSERT_STRING_EQUAL(notify_str(p, "timestamp"), "2026-11-28T16:00:00Z");
	CU_ASSERT_STRING_EQUAL(notify_str(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "custom_details"), "labels"), "instance"), "/var");
	cJSON_Delete(ev);
	free(s);
	s = notify_pagerduty_event(doc, cJSON_GetArrayItem(alerts, 1), "KEY1");
	ev = cJSON_Parse(s);
	CU_ASSERT_STRING_EQUAL(notify_str(ev, "event_action"), "resolve");
	CU_ASSERT_STRING_EQUAL(notify_str(ev, "dedup_key"), "fedcba9876543210");
	cJSON_Delete(ev);
	free(s);
	cJSON_Delete(doc);
}

static void test_email(void)
{
	cJSON *doc = fixed();
	char *to[] = { (char *)"a@example.org", (char *)"b@example.org", NULL };
	char *m = notify_email_message(doc, "hr@example.org", to, 1796227200.0);
	const char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT(strncmp(m, "Date: Wed, 02 Dec 2026 16:00:00 +0000\r\n", strlen("Date: Wed, 02 Dec 2026 16:00:00 +0000\r\n")) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nMessage-ID: <1796227200."));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "@headroom>\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nFrom: hr@example.org\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\r\nTo: a@example.org, b@example.org\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m,
		"\r\nSubject: [FIRING:1] web1: /var 97% full (and 1 more)\r\n"));
	body = strstr(m, "\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_STRING_EQUAL(body + 4,
		"[critical] web1 disk_full: /var 97% full (since 2026-11-28T16:00:00Z)\r\n"
		"RESOLVED [warning] web1 load_high: load 12 (since 2026-11-28T15:00:00Z,"
		" resolved 2026-11-28T16:30:00Z)\r\n\r\nhttps://central.example:8443\r\n");
	/* No bare LF anywhere: SMTP lines end in CRLF. */
	for (const char *p = m; *p != '\0'; p++)
		if (*p == '\n')
			CU_ASSERT(p > m && p[-1] == '\r');
	free(m);
	cJSON_Delete(doc);
}

static const char *env_get(char **v, const char *name)
{
	size_t n = strlen(name);

	for (; *v != NULL; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

static void test_exec_env(void)
{
	cJSON *doc = fixed();
	char **v = notify_exec_env(doc);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_STATUS"), "firing");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_HOST"), "web1");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_ALERTS"), "2");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_FIRING"), "1");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_ALERTNAME"), "disk_full");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_SEVERITY"), "critical");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_SUMMARY"), "/var 97% full");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_INSTANCE"), "/var");
	CU_ASSERT_STRING_EQUAL(env_get(v, "HEADROOM_FINGERPRINT"), "0123456789abcdef");
	hr_strv_free(v);
	cJSON_Delete(doc);
}

/* Broken payloads: every transformation copes (empty fields), none
 * crashes. */
static void test_malformed(void)
{
	static const char *const bad[] = {
		"{}", "{\"alerts\": 3}", "{\"alerts\": [1, null, \"x\", {}]}",
		"{\"status\": 7, \"groupLabels\": [], \"alerts\": [{\"labels\": 1, \"annotations\":"
		" {\"summary\": {\"a\": 1}}, \"status\": []}]}",
		"{\"alerts\": [{\"labels\": {\"host\": \"a\\nb\\r\\nBcc: x@y\"},"
		" \"annotations\": {\"summary\": \"\\u0000x\"}}]}",
	};
	char *to[] = { (char *)"a@b", NULL };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *doc = cJSON_Parse(bad[i]);
		const cJSON *a;
		char title[256], *s, **v;

		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		notify_title(doc, title, sizeof(title));
		s = notify_slack_body(doc);
		CU_ASSERT_PTR_NOT_NULL(s);
		free(s);
		s = notify_email_message(doc, "a@b", to, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		/* Nothing from the payload becomes a header of its own. */
		CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(s, "\r\n\r\n"));
		strstr(s, "\r\n\r\n")[0] = '\0';
		CU_ASSERT_PTR_NULL(strstr(s, "\r\nBcc:"));
		free(s);
		v = notify_exec_env(doc);
		CU_ASSERT_PTR_NOT_NULL(v);
		hr_strv_free(v);
		cJSON_ArrayForEach(a, notify_alerts(doc)) {
			s = notify_pagerduty_event(doc, a, "K");
			CU_ASSERT_PTR_NOT_NULL(s);
			free(s);
		}
		cJSON_Delete(doc);
	}
}

static void test_backoff(void)
{
	unsigned a;

	CU_ASSERT_DOUBLE_EQUAL(delivery_backoff(1, 300, 0), 1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(delivery_backoff(1, 300, 0.999999), 2, 1e-5);
	CU_ASSERT_DOUBLE_EQUAL(delivery_backoff(5, 300, 0.999999), 32, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(delivery_backoff(9, 300, 0.999999), 300, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(delivery_backoff(1000, 300, 0.999999), 300, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(delivery_backoff(1000, 60, 0.5), 30.5, 1e-9);
	for (a = 1; a < 100; a++) {
		double lo = delivery_backoff(a, 300, 0), hi = delivery_backoff(a, 300, 0.9999999);

		CU_ASSERT(lo >= 1 && hi <= 300 && lo <= hi);
	}
}

/* --- the queue, with a real exec receiver --- */

static char dir[512];

/* A receiver script: appends its stdin (one line) to DIR/got.N, then exits
 * with the number in DIR/rc (0 when missing). */
static void write_hook(void)
{
	static const char hook[] =
		"#!/bin/sh\n"
		"d=$(dirname \"$0\")\n"
		"rc=$(cat \"$d/rc\" 2>/dev/null || echo 0)\n"
		"if [ \"$rc\" = 0 ]; then { cat; echo; } >> \"$d/got\"; fi\n"
		"echo \"$HEADROOM_ALERTNAME\" >> \"$d/env\"\n"
		"exit \"$rc\"\n";
	char p[600];

	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/hook", hook, sizeof(hook) - 1), 0);
	snprintf(p, sizeof(p), "%s/hook", dir);
	CU_ASSERT_EQUAL_FATAL(chmod(p, 0755), 0);
}

static void set_rc(const char *rc)
{
	CU_ASSERT_EQUAL(write_file(dir, "/rc", rc, strlen(rc)), 0);
}

static cJSON *notify_cfg(const char *extra)
{
	char json[2048];
	cJSON *doc;

	snprintf(json, sizeof(json), "[{\"type\": \"exec\", \"name\": \"hook\", \"command\":"
		 " [\"%s/hook\"]%s}, {\"type\": \"exec\", \"name\": \"other\", \"command\":"
		 " [\"true\"], \"min_severity\": \"critical\"}]", dir, extra);
	doc = cJSON_Parse(json);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	return doc;
}

/* A payload whose first alert is named NAME. */
static char *named(const char *name)
{
	cJSON *doc = fixed(), *a = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "alerts"), 0);
	char *s;

	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(a, "labels"), "alertname",
				  cJSON_CreateString(name));
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return s;
}

static int route(struct delivery *d, const char *r, enum alert_severity sev, const char *name,
		 double now)
{
	struct hr_err err;
	char *s = named(name);
	int rc = delivery_route_at(d, r, sev, s, now, &err);

	free(s);
	return rc;
}

static char *slurp(const char *rel)
{
	char *buf = NULL;
	size_t len;
	char p[600];
	struct hr_err err;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (hr_read_file(NULL, p, &buf, &len, 1 << 20, &err) < 0)
		return strdup("");
	return buf;
}

static void test_queue_order_and_persistence(void)
{
	char db[600], *got, *env;
	struct hr_err err;
	struct delivery *d;
	cJSON *cfg;
	double t = 1.8e9;
	int i;

	snprintf(dir, sizeof(dir), "%s", tmpdir_new("notify"));
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	write_hook();
	cfg = notify_cfg("");
	d = delivery_open(db, cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* Down: every attempt fails, nothing is lost or reordered. */
	set_rc("1");
	CU_ASSERT_EQUAL(route(d, "", ALERT_WARNING, "a1", t), 0);
	CU_ASSERT_EQUAL(route(d, "", ALERT_CRITICAL, "a2", t), 0);
	CU_ASSERT_EQUAL(route(d, "none", ALERT_CRITICAL, "never", t), 0);
	CU_ASSERT_EQUAL(route(d, "other", ALERT_CRITICAL, "only-other", t), 0);
	CU_ASSERT_EQUAL(route(d, "hook", ALERT_INFO, "too-low", t), 0);
	CU_ASSERT_EQUAL(delivery_pending(d, "hook"), 2);
	CU_ASSERT_EQUAL(delivery_pending(d, "other"), 2);
	for (i = 0; i < 5; i++, t += 400)
		CU_ASSERT_EQUAL(delivery_run_once(d, t), i == 0 ? 2 : 0); /* other: delivered */
	CU_ASSERT_EQUAL(delivery_pending(d, "hook"), 2);
	/* The process dies (close without delivering): the queue stays. */
	delivery_close(d);
	d = delivery_open(db, cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(delivery_pending(d, "hook"), 2);
	CU_ASSERT_EQUAL(route(d, "hook, other", ALERT_WARNING, "a3", t), 0);
	/* Back up: all of them, in order, each once. */
	set_rc("0");
	t += 400;
	CU_ASSERT_EQUAL(delivery_run_once(d, t), 3);
	CU_ASSERT_EQUAL(delivery_pending(d, NULL), 0);
	got = slurp("got");
	env = slurp("env");
	{
		const char *p1 = strstr(got, "\"a1\""), *p2 = strstr(got, "\"a2\""),
			   *p3 = strstr(got, "\"a3\"");

		CU_ASSERT(p1 != NULL && p2 != NULL && p3 != NULL && p1 < p2 && p2 < p3);
		CU_ASSERT_PTR_NULL(strstr(got, "never"));
		CU_ASSERT_PTR_NULL(strstr(got, "too-low"));
		CU_ASSERT_PTR_NULL(strstr(got, "only-other"));
		/* The receiver's name is filled in. */
		CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"receiver\":\"hook\""));
	}
	/* Five failed attempts of a1 and the three good ones ran the hook. */
	CU_ASSERT_STRING_EQUAL(env, "a1\na1\na1\na1\na1\na1\na2\na3\n");
	free(got);
	free(env);
	delivery_close(d);
	cJSON_Delete(cfg);
	rm_rf(dir);
}

static void test_queue_backoff_and_age(void)
{
	char db[600], *env;
	struct hr_err err;
	struct delivery *d;
	cJSON *cfg;
	double t = 1.8e9;

	snprintf(dir, sizeof(dir), "%s", tmpdir_new("notify"));
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	write_hook();
	cfg = notify_cfg(", \"max_age\": \"1h\", \"retry_max\": \"10s\"");
	d = delivery_open(db, cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	set_rc("75");
	CU_ASSERT_EQUAL(route(d, "hook", ALERT_WARNING, "b1", t), 0);
	CU_ASSERT_EQUAL(delivery_run_once(d, t), 0);
	/* Not due again within the backoff's 1 s floor. */
	CU_ASSERT_EQUAL(delivery_run_once(d, t + 0.5), 0);
	env = slurp("env");
	CU_ASSERT_STRING_EQUAL(env, "b1\n");
	free(env);
	/* Due again at the latest after retry_max. */
	CU_ASSERT_EQUAL(delivery_run_once(d, t + 10.001), 0);
	env = slurp("env");
	CU_ASSERT_STRING_EQUAL(env, "b1\nb1\n");
	free(env);
	/* Past max_age: dropped, not sent. */
	CU_ASSERT_EQUAL(delivery_run_once(d, t + 3601), 0);
	CU_ASSERT_EQUAL(delivery_pending(d, "hook"), 0);
	env = slurp("env");
	CU_ASSERT_STRING_EQUAL(env, "b1\nb1\n");
	free(env);
	delivery_close(d);
	/* A receiver gone from the config keeps its rows. */
	d = delivery_open(db, cfg, &err);
	CU_ASSERT_EQUAL(route(d, "hook", ALERT_WARNING, "b2", t), 0);
	delivery_close(d);
	cJSON_Delete(cfg);
	cfg = cJSON_Parse("[{\"type\": \"exec\", \"name\": \"x\", \"command\": [\"true\"]}]");
	d = delivery_open(db, cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(delivery_run_once(d, t), 0);
	CU_ASSERT_EQUAL(delivery_pending(d, "hook"), 1);
	delivery_close(d);
	cJSON_Delete(cfg);
	rm_rf(dir);
}

/* A text that is not a JSON object is queued and then dropped by the
 * notifier; the next one goes through. */
static void test_queue_malformed(void)
{
	struct hr_err err;
	struct delivery *d;
	cJSON *cfg;
	char *got;

	snprintf(dir, sizeof(dir), "%s", tmpdir_new("notify"));
	write_hook();
	cfg = notify_cfg("");
	d = delivery_open(":memory:", cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(delivery_route_at(d, "hook", ALERT_CRITICAL, "{\"alerts\": [", 1, &err), 0);
	CU_ASSERT_EQUAL(delivery_route_at(d, "hook", ALERT_CRITICAL, "[1,2]", 1, &err), 0);
	CU_ASSERT_EQUAL(route(d, "hook", ALERT_CRITICAL, "after", 1), 0);
	CU_ASSERT_EQUAL(delivery_run_once(d, 2), 3);
	got = slurp("got");
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"after\""));
	CU_ASSERT_PTR_NULL(strstr(got, "[1,2]"));
	free(got);
	delivery_close(d);
	cJSON_Delete(cfg);
	rm_rf(dir);
}

/* The worker thread: a new row wakes it at once. */
static void test_worker_wakes(void)
{
	struct hr_err err;
	struct delivery *d;
	cJSON *cfg;
	char *got = NULL;
	double t0;
	int i;

	snprintf(dir, sizeof(dir), "%s", tmpdir_new("notify"));
	write_hook();
	cfg = notify_cfg("");
	d = delivery_open(":memory:", cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL_FATAL(delivery_start(d, &err), 0);
	/* Let the worker go to sleep on an empty queue first. */
	nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	t0 = hr_now_mono();
	CU_ASSERT_EQUAL(route(d, "hook", ALERT_CRITICAL, "w1", hr_now_wall()), 0);
	/* Bounded wait for a broken run; the worker sleeps up to 60 s when
	 * the wake-up is lost. */
	for (i = 0; i < 3000 && delivery_pending(d, "hook") != 0; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	CU_ASSERT_EQUAL(delivery_pending(d, "hook"), 0);
	fprintf(stderr, "  queued to delivered (hook script run): %.0f ms\n",
		(hr_now_mono() - t0) * 1000);
	got = slurp("got");
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"w1\""));
	free(got);
	delivery_close(d);
	cJSON_Delete(cfg);
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "valid configs", test_config_good },
	{ "config problems with their paths", test_config_bad },
	{ "title and slack text", test_title_and_slack },
	{ "pagerduty events", test_pagerduty },
	{ "e-mail message", test_email },
	{ "exec environment", test_exec_env },
	{ "malformed payloads", test_malformed },
	{ "backoff bounds", test_backoff },
	{ "queue: order, routing, restart", test_queue_order_and_persistence },
	{ "queue: backoff, max_age, unknown receiver", test_queue_backoff_and_age },
	{ "queue: malformed payloads dropped", test_queue_malformed },
	{ "queue: the worker wakes on enqueue", test_worker_wakes },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("notify", tests);
}
