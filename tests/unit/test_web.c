/* test_web.c: the dashboards' access layer: users and their crypt(3)
 * hashes, API tokens, sessions and their expiry, CSRF, failed-login
 * throttling, client pseudonyms, and web.c's handler driven through a real
 * libmicrohttpd daemon on 127.0.0.1 with libcurl as the client: login and
 * its cookie, redirects and 401s, CSRF and role refusals, logout, expired
 * sessions, throttling, limits and the admin pages. The pages and graphs
 * are replaced by recording doubles that echo who called them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "admin.h"
#include "audit.h"
#include "graph.h"
#include "html.h"
#include "pages.h"
#include "session.h"
#include "testutil.h"
#include "users.h"
#include "web.h"

#define T0 1700006400.0
#define PW "correct horse battery"

/* --- doubles of the pages: they say who called them ------------------------ */

static int echo(const struct page_req *rq, struct page_resp *out, const char *what)
{
	struct hbuf b;
	const char *arg = page_arg(rq, "x");

	hbuf_init(&b);
	hbuf_printf(&b, "%s user=%s role=%d api=%d x=%s", what, rq->user, (int)rq->role, rq->api,
		    arg != NULL ? arg : "-");
	if (hbuf_to_resp(&b, out) < 0)
		return -1;
	out->type = rq->api ? "application/json" : "text/plain";
	return 0;
}

#define ECHO(fn) int fn(const struct page_req *rq, struct page_resp *out) \
	{ return echo(rq, out, #fn); }
ECHO(page_overview)
ECHO(page_capacity)
ECHO(page_host)
ECHO(page_alerts)
ECHO(page_silence_add)
ECHO(page_silence_expire)
ECHO(api_hosts)
ECHO(api_series)
ECHO(api_alerts)
ECHO(api_alert_ack)
ECHO(api_forecasts)
ECHO(graph_page)

int page_alert_ack(const struct page_req *rq, struct page_resp *out)
{
	snprintf(out->location, sizeof(out->location), "/alerts?acked=%s", rq->user);
	return 0;
}

size_t graph_views(const char *probe, const char *const **names)
{
	*names = NULL;
	return 0;
}

/* --- fixtures --------------------------------------------------------- */

struct fx {
	char dir[512], db_path[600];
	struct page_env env;
	struct web *w;
	struct MHD_Daemon *d;
	unsigned port;
	sqlite3 *db;   /* the test's own connection */
};

static void fx_open(struct fx *f, int tls)
{
	struct hr_err err;
	struct sockaddr_in sa;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s", tmpdir_new("web"));
	snprintf(f->db_path, sizeof(f->db_path), "%s/headroom.db", f->dir);
	f->env.data_dir = f->dir;
	f->env.db_path = f->db_path;
	f->env.tls = tls;
	f->w = web_new(&f->env, &err);
	if (f->w == NULL)
		fprintf(stderr, "web_new: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->w);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				web_mhd_access, f->w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_THREAD_POOL_SIZE, 2U,
				MHD_OPTION_NOTIFY_COMPLETED, web_mhd_completed, f->w, MHD_OPTION_END);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->d);
	f->port = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT)->port;
	CU_ASSERT_FATAL(sqlite3_open(f->db_path, &f->db) == SQLITE_OK);
	sqlite3_busy_timeout(f->db, 5000);
}

static void fx_close(struct fx *f)
{
	MHD_stop_daemon(f->d);
	web_free(f->w);
	sqlite3_close(f->db);
	rm_rf(f->dir);
}

/* A fresh database with the tables, for the model-level tests. */
static sqlite3 *db_new(char *dir, size_t n)
{
	struct hr_err err;
	char path[600];
	sqlite3 *db;

	snprintf(dir, n, "%s", tmpdir_new("users"));
	snprintf(path, sizeof(path), "%s/headroom.db", dir);
	CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
	CU_ASSERT_FATAL(users_init(db, &err) == 0);
	return db;
}

static long long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* --- an HTTP client ---------------------------------------------------- */

struct hresp {
	long status;
	char hdr[16384];
	size_t hlen;
	char body[65536];
	size_t blen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct hresp *r = arg;
	size_t len = sz * n, room = sizeof(r->body) - 1 - r->blen;

	memcpy(r->body + r->blen, p, len < room ? len : room);
	r->blen += len < room ? len : room;
	r->body[r->blen] = '\0';
	return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct hresp *r = arg;
	size_t len = sz * n, room = sizeof(r->hdr) - 1 - r->hlen;

	memcpy(r->hdr + r->hlen, p, len < room ? len : room);
	r->hlen += len < room ? len : room;
	r->hdr[r->hlen] = '\0';
	return len;
}

/* The value of header name in r (static buffer), or NULL. */
static const char *header(const struct hresp *r, const char *name)
{
	static char val[2048];
	size_t n = strlen(name);
	const char *p = r->hdr;

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e;

			while (*v == ' ')
				v++;
			e = strpbrk(v, "\r\n");
			snprintf(val, sizeof(val), "%.*s", (int)(e != NULL ? e - v : (long)strlen(v)), v);
			return val;
		}
	}
	return NULL;
}

/* One request: method, path, urlencoded body (NULL: none), the session
 * cookie (NULL: none) and one extra header line (NULL: none). */
static void http(const struct fx *f, const char *method, const char *path, const char *body,
		 const char *cookie, const char *extra, struct hresp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[1024], ck[256];

	memset(r, 0, sizeof(*r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", f->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (cookie != NULL) {
		snprintf(ck, sizeof(ck), "hr_session=%s", cookie);
		curl_easy_setopt(c, CURLOPT_COOKIE, ck);
	}
	if (extra != NULL) {
		h = curl_slist_append(h, extra);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	CU_ASSERT_EQUAL(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* Logs in; the cookie value into cookie (SESSION_TOKEN_SIZE) and the
 * session's CSRF token (read from the database's session through the
 * page: the fake pages do not print it, so it is fetched from /login's
 * layout of a logged-in user) into csrf. Returns the status. */
static long login(const struct fx *f, const char *user, const char *pw, char *cookie, char *csrf)
{
	struct hresp r;
	char body[512];
	const char *sc, *p;

	snprintf(body, sizeof(body), "username=%s&password=%s&next=/", user, pw);
	http(f, "POST", "/login", body, NULL, NULL, &r);
	if (r.status != 303)
		return r.status;
	sc = header(&r, "Set-Cookie");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_EQUAL_FATAL(strncmp(sc, "hr_session=", 11), 0);
	snprintf(cookie, SESSION_TOKEN_SIZE, "%.*s", (int)strcspn(sc + 11, ";"), sc + 11);
	/* The layout of any page of a logged-in user carries the token in its
	 * logout form; /login uses the layout too. */
	http(f, "GET", "/login", NULL, cookie, NULL, &r);
	p = strstr(r.body, "name=\"csrf\" value=\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen("name=\"csrf\" value=\"");
	snprintf(csrf, SESSION_TOKEN_SIZE, "%.*s", (int)strcspn(p, "\""), p);
	return 303;
}

static void add_user(sqlite3 *db, const char *name, enum page_role role)
{
	struct hr_err err;

	if (users_add(db, "cli:test", name, role, PW, &err) < 0)
		fprintf(stderr, "users_add: %s\n", err.msg);
}

/* --- users and tokens ------------------------------------------------- */

static int list_collect(void *arg, const char *name, enum page_role role, double created,
			double changed)
{
	char *s = arg;

	snprintf(s + strlen(s), 256 - strlen(s), "%s:%s ", name, users_role_name(role));
	return 0;
}

static void test_users(void)
{
	char dir[512], listed[256] = "", longpw[1100];
	struct hr_err err;
	enum page_role role;
	sqlite3 *db = db_new(dir, sizeof(dir));

	CU_ASSERT_EQUAL(users_add(db, "cli:root", "alice", ROLE_ADMIN, PW, &err), 0);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM users WHERE name = 'alice'"
			     " AND hash LIKE '$y$%' AND hash NOT LIKE '%horse%'"), 1);
	/* bad input is refused and changes nothing */
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "alice", ROLE_VIEWER, PW, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "exists"));
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "bad name", ROLE_VIEWER, PW, &err), -1);
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "", ROLE_VIEWER, PW, &err), -1);
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "a/../b", ROLE_VIEWER, PW, &err), -1);
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "bob", ROLE_VIEWER, "short", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too short"));
	memset(longpw, 'x', 1025);
	longpw[1025] = '\0';
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "bob", ROLE_VIEWER, longpw, &err), -1);
	CU_ASSERT_EQUAL(users_add(db, "cli:root", "bob", ROLE_NONE, PW, &err), -1);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM users"), 1);
	CU_ASSERT_EQUAL(users_name_ok("a.b_c@d-e9"), 1);
	CU_ASSERT_EQUAL(users_name_ok("x123456789012345678901234567890123456789012345678901234567890123456"), 0);

	CU_ASSERT_EQUAL(users_check_password(db, "alice", PW, &role, &err), 1);
	CU_ASSERT_EQUAL(role, ROLE_ADMIN);
	CU_ASSERT_EQUAL(users_check_password(db, "alice", "correct horse batter", &role, &err), 0);
	CU_ASSERT_EQUAL(role, ROLE_NONE);
	CU_ASSERT_EQUAL(users_check_password(db, "nobody", PW, &role, &err), 0);
	CU_ASSERT_EQUAL(users_check_password(db, "alice", NULL, &role, &err), 0);

	CU_ASSERT_EQUAL(users_add(db, "alice", "bob", ROLE_VIEWER, PW, &err), 0);
	CU_ASSERT_EQUAL(users_set_role(db, "alice", "bob", ROLE_OPERATOR, &err), 0);
	CU_ASSERT_EQUAL(users_set_role(db, "alice", "nobody", ROLE_OPERATOR, &err), -1);
	CU_ASSERT_EQUAL(users_passwd(db, "alice", "bob", "another password", &err), 0);
	CU_ASSERT_EQUAL(users_check_password(db, "bob", PW, &role, &err), 0);
	CU_ASSERT_EQUAL(users_check_password(db, "bob", "another password", &role, &err), 1);
	CU_ASSERT_EQUAL(role, ROLE_OPERATOR);
	CU_ASSERT_EQUAL(users_passwd(db, "alice", "nobody", "another password", &err), -1);
	CU_ASSERT_EQUAL(users_list(db, list_collect, listed, &err), 0);
	CU_ASSERT_STRING_EQUAL(listed, "alice:admin bob:operator ");
	CU_ASSERT_EQUAL(users_del(db, "alice", "bob", &err), 0);
	CU_ASSERT_EQUAL(users_del(db, "alice", "bob", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no such user"));

	/* every change audited with who did it */
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM audit WHERE who = 'cli:root'"
			     " AND action = 'user.add' AND subject = 'alice' AND detail = 'admin'"), 1);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM audit WHERE who = 'alice' AND subject = 'bob'"
			     " AND action IN ('user.add', 'user.role', 'user.passwd', 'user.del')"), 4);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM audit"), 5);
	sqlite3_close(db);
	rm_rf(dir);
}

static void test_tokens(void)
{
	char dir[512], tok[USERS_TOKEN_SIZE], tok2[USERS_TOKEN_SIZE], name[USERS_NAME_MAX + 1];
	char sql[256], sum[65];
	struct hr_err err;
	enum page_role role;
	sqlite3 *db = db_new(dir, sizeof(dir));

	add_user(db, "script", ROLE_VIEWER);
	CU_ASSERT_EQUAL(users_token_new(db, "admin", "script", "backup check", tok, &err), 0);
	CU_ASSERT_EQUAL(strncmp(tok, "hrt_", 4), 0);
	CU_ASSERT_EQUAL(strlen(tok), 4 + 43);
	CU_ASSERT_EQUAL(users_token_new(db, "admin", "script", NULL, tok2, &err), 0);
	CU_ASSERT_STRING_NOT_EQUAL(tok, tok2);
	CU_ASSERT_EQUAL(users_token_new(db, "admin", "nobody", NULL, tok2, &err), -1);
	CU_ASSERT_EQUAL(users_token_new(db, "admin", "script", "bad\nlabel", tok2, &err), -1);
	/* only the hash is stored */
	session_sha256_hex(tok, sum);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE token_sha256 = '%s'"
		 " AND label = 'backup check'", sum);
	CU_ASSERT_EQUAL(count(db, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE token_sha256 LIKE '%%%s%%'",
		 tok + 4);
	CU_ASSERT_EQUAL(count(db, sql), 0);

	CU_ASSERT_EQUAL(users_token_check(db, tok, T0, name, &role, &err), 1);
	CU_ASSERT_STRING_EQUAL(name, "script");
	CU_ASSERT_EQUAL(role, ROLE_VIEWER);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM api_tokens WHERE last_used = 1700006400"), 1);
	tok[10] ^= 1;
	CU_ASSERT_EQUAL(users_token_check(db, tok, T0, name, &role, &err), 0);
	CU_ASSERT_EQUAL(users_token_check(db, "hrt_short", T0, name, &role, &err), 0);
	CU_ASSERT_EQUAL(users_token_check(db, "", T0, name, &role, &err), 0);
	tok[10] ^= 1;
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM audit WHERE action = 'token.new'"
			     " AND who = 'admin' AND subject = 'script'"), 2);
	/* a deleted user's tokens die with them */
	CU_ASSERT_EQUAL(users_del(db, "admin", "script", &err), 0);
	CU_ASSERT_EQUAL(users_token_check(db, tok, T0, name, &role, &err), 0);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM api_tokens"), 0);
	sqlite3_close(db);
	rm_rf(dir);
}

/* --- sessions ---------------------------------------------------------- */

static void test_sessions(void)
{
	char dir[512], cookie[SESSION_TOKEN_SIZE], cookie2[SESSION_TOKEN_SIZE];
	char sql[256], sum[65];
	struct session s, s2;
	struct hr_err err;
	double t;
	sqlite3 *db = db_new(dir, sizeof(dir));

	add_user(db, "carol", ROLE_OPERATOR);
	CU_ASSERT_EQUAL(session_new(db, "carol", ROLE_OPERATOR, "p:0011", T0, cookie, &s, &err), 0);
	CU_ASSERT_EQUAL(strlen(cookie), 43);
	CU_ASSERT_EQUAL(strlen(s.csrf), 43);
	CU_ASSERT_STRING_NOT_EQUAL(cookie, s.csrf);
	session_sha256_hex(cookie, sum);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sessions WHERE id_sha256 = '%s'", sum);
	CU_ASSERT_EQUAL(count(db, sql), 1);

	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 10, &s2, &err), 1);
	CU_ASSERT_STRING_EQUAL(s2.user, "carol");
	CU_ASSERT_EQUAL(s2.role, ROLE_OPERATOR);
	CU_ASSERT_STRING_EQUAL(s2.csrf, s.csrf);
	CU_ASSERT_EQUAL(session_csrf_ok(&s2, s.csrf), 1);
	CU_ASSERT_EQUAL(session_csrf_ok(&s2, NULL), 0);
	CU_ASSERT_EQUAL(session_csrf_ok(&s2, ""), 0);
	CU_ASSERT_EQUAL(session_csrf_ok(&s2, cookie), 0);
	/* last_seen is written at most once a minute */
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM sessions WHERE last_seen = 1700006400"), 1);
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 61, &s2, &err), 1);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM sessions WHERE last_seen = 1700006461"), 1);
	/* malformed or unknown cookies */
	CU_ASSERT_EQUAL(session_check(db, "x", T0, &s2, &err), 0);
	CU_ASSERT_EQUAL(session_check(db, s.csrf, T0, &s2, &err), 0);

	/* idle: 12 h without a request ends it, and the row goes */
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 61 + SESSION_IDLE_S, &s2, &err), 0);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM sessions"), 0);

	/* absolute: used every 11 h, it still ends 7 d after login */
	CU_ASSERT_EQUAL(session_new(db, "carol", ROLE_OPERATOR, "", T0, cookie, &s, &err), 0);
	for (t = T0 + 11 * 3600; t < T0 + SESSION_ABS_S; t += 11 * 3600)
		CU_ASSERT_EQUAL(session_check(db, cookie, t, &s2, &err), 1);
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + SESSION_ABS_S, &s2, &err), 0);

	/* role changes reach sessions; a password change or deletion ends them */
	CU_ASSERT_EQUAL(session_new(db, "carol", ROLE_OPERATOR, "", T0, cookie, &s, &err), 0);
	CU_ASSERT_EQUAL(session_new(db, "carol", ROLE_OPERATOR, "", T0, cookie2, &s, &err), 0);
	CU_ASSERT_EQUAL(users_set_role(db, "admin", "carol", ROLE_VIEWER, &err), 0);
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 1, &s2, &err), 1);
	CU_ASSERT_EQUAL(s2.role, ROLE_VIEWER);
	CU_ASSERT_EQUAL(users_passwd(db, "admin", "carol", "a new password", &err), 0);
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 2, &s2, &err), 0);
	CU_ASSERT_EQUAL(session_check(db, cookie2, T0 + 2, &s2, &err), 0);
	CU_ASSERT_EQUAL(session_new(db, "carol", ROLE_VIEWER, "", T0, cookie, &s, &err), 0);
	CU_ASSERT_EQUAL(users_del(db, "admin", "carol", &err), 0);
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 3, &s2, &err), 0);

	/* logout */
	CU_ASSERT_EQUAL(session_new(db, "dave", ROLE_VIEWER, "", T0, cookie, &s, &err), 0);
	CU_ASSERT_EQUAL(session_end(db, cookie, &err), 0);
	CU_ASSERT_EQUAL(session_check(db, cookie, T0 + 1, &s2, &err), 0);
	/* purge */
	CU_ASSERT_EQUAL(session_new(db, "dave", ROLE_VIEWER, "", T0, cookie, &s, &err), 0);
	CU_ASSERT_EQUAL(session_purge(db, T0 + 100, &err), 0);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM sessions"), 1);
	CU_ASSERT_EQUAL(session_purge(db, T0 + SESSION_IDLE_S + 1, &err), 0);
	CU_ASSERT_EQUAL(count(db, "SELECT count(*) FROM sessions"), 0);
	sqlite3_close(db);
	rm_rf(dir);
}

static void test_throttle(void)
{
	char dir[512];
	struct hr_err err;
	double retry, t = T0;
	int i;
	sqlite3 *db = db_new(dir, sizeof(dir));

	for (i = 0; i < SESSION_FAIL_MAX - 1; i++) {
		CU_ASSERT_EQUAL(session_throttle_fail(db, "erin", "p:aa", t + i, &err), 0);
		CU_ASSERT_EQUAL(session_throttle_check(db, "erin", "p:aa", t + i, &retry, &err), 0);
	}
	CU_ASSERT_EQUAL(session_throttle_fail(db, "erin", "p:aa", t + 4, &err), 0);
	CU_ASSERT_EQUAL(session_throttle_check(db, "erin", "p:bb", t + 4, &retry, &err), 1);
	CU_ASSERT_DOUBLE_EQUAL(retry, 30, 1e-9);
	/* the client is blocked for another user too */
	CU_ASSERT_EQUAL(session_throttle_check(db, "frank", "p:aa", t + 5, &retry, &err), 1);
	CU_ASSERT_DOUBLE_EQUAL(retry, 29, 1e-9);
	CU_ASSERT_EQUAL(session_throttle_check(db, "frank", "p:bb", t + 5, &retry, &err), 0);
	CU_ASSERT_EQUAL(session_throttle_check(db, "erin", NULL, t + 34, &retry, &err), 0);
	/* the next block is twice as long, up to 15 min */
	t += 40;
	for (i = 0; i < SESSION_FAIL_MAX; i++)
		CU_ASSERT_EQUAL(session_throttle_fail(db, "erin", NULL, t, &err), 0);
	CU_ASSERT_EQUAL(session_throttle_check(db, "erin", NULL, t, &retry, &err), 1);
	CU_ASSERT_DOUBLE_EQUAL(retry, 60, 1e-9);
	for (i = 0; i < 8; i++) {
		int k;

		t += retry + 1;
		for (k = 0; k < SESSION_FAIL_MAX; k++)
			session_throttle_fail(db, "erin", NULL, t, &err);
		CU_ASSERT_EQUAL(session_throttle_check(db, "erin", NULL, t, &retry, &err), 1);
	}
	CU_ASSERT_DOUBLE_EQUAL(retry, SESSION_BLOCK_MAX_S, 1e-9);
	/* failures spread wider than the window do not block */
	for (i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(session_throttle_fail(db, "gina", NULL, T0 + i * 300, &err), 0);
		CU_ASSERT_EQUAL(session_throttle_check(db, "gina", NULL, T0 + i * 300, &retry,
						       &err), 0);
	}
	/* a success clears the user's counter */
	CU_ASSERT_EQUAL(session_throttle_clear(db, "erin", &err), 0);
	CU_ASSERT_EQUAL(session_throttle_check(db, "erin", NULL, t, &retry, &err), 0);
	CU_ASSERT_EQUAL(session_throttle_check(db, "erin", "p:aa", T0 + 5, &retry, &err), 1);
	sqlite3_close(db);
	rm_rf(dir);
}

static void test_pseudonyms(void)
{
	const char *dir = tmpdir_new("key");
	unsigned char k1[SESSION_KEY_LEN], k2[SESSION_KEY_LEN];
	char path[700], a[SESSION_PSEUDO_SIZE], b[SESSION_PSEUDO_SIZE], d[600];
	struct hr_err err;
	struct stat st;
	size_t i;

	snprintf(d, sizeof(d), "%s", dir);
	snprintf(path, sizeof(path), "%s/web.key", d);
	CU_ASSERT_EQUAL(session_key_load(d, k1, &err), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(st.st_size, SESSION_KEY_LEN);
	CU_ASSERT_EQUAL(session_key_load(d, k2, &err), 0);
	CU_ASSERT_EQUAL(memcmp(k1, k2, sizeof(k1)), 0);

	session_pseudonym(k1, "192.0.2.7", a);
	session_pseudonym(k1, "192.0.2.7", b);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_EQUAL(strlen(a), 18);
	CU_ASSERT_EQUAL(strncmp(a, "p:", 2), 0);
	for (i = 2; i < 18; i++)
		CU_ASSERT_PTR_NOT_NULL(strchr("0123456789abcdef", a[i]));
	CU_ASSERT_PTR_NULL(strstr(a, "192"));
	session_pseudonym(k1, "192.0.2.8", b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	k2[0] ^= 1;
	session_pseudonym(k2, "192.0.2.7", b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);

	/* a key file of the wrong size is refused, not used */
	CU_ASSERT_EQUAL(write_file(d, "/web.key", "short", 5), 0);
	CU_ASSERT_EQUAL(session_key_load(d, k2, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a key"));
	rm_rf(d);
}

/* --- the handler through libmicrohttpd ---------------------------------- */

static void test_login(void)
{
	struct fx f;
	struct hresp r;
	char cookie[SESSION_TOKEN_SIZE], csrf[SESSION_TOKEN_SIZE];
	const char *sc;

	fx_open(&f, 0);
	add_user(f.db, "alice", ROLE_VIEWER);

	/* unauthenticated: pages go to the login form, the API answers 401 */
	http(&f, "GET", "/capacity", NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/login?next=%2Fcapacity");
	CU_ASSERT_STRING_EQUAL(header(&r, "X-Content-Type-Options"), "nosniff");
	http(&f, "GET", "/api/v1/hosts", NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"error\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(header(&r, "Content-Type"), "application/json"));
	CU_ASSERT_EQUAL(strncmp(header(&r, "WWW-Authenticate"), "Bearer", 6), 0);

	/* the form, with the security headers */
	http(&f, "GET", "/login?next=/capacity", NULL, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "name=\"username\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "name=\"password\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "name=\"next\" value=\"/capacity\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(header(&r, "Content-Security-Policy"), "frame-ancestors 'none'"));
	CU_ASSERT_STRING_EQUAL(header(&r, "Cache-Control"), "no-store");
	CU_ASSERT_STRING_EQUAL(header(&r, "Referrer-Policy"), "same-origin");

	/* a wrong password: 401 and the form with a message, audited with a
	 * pseudonymised client */
	http(&f, "POST", "/login", "username=alice&password=wrong+password", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Wrong user name or password"));
	CU_ASSERT_PTR_NULL(header(&r, "Set-Cookie"));
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE action = 'login.failed'"
			      " AND who = 'alice' AND subject LIKE 'p:%' AND length(subject) = 18"), 1);
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE subject LIKE '%127.0.0.1%'"), 0);

	/* the right one: the cookie, and back to next */
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery&next=%2Fcapacity",
	     NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/capacity");
	sc = header(&r, "Set-Cookie");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "; HttpOnly"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "; SameSite=Strict"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "; Path=/"));
	CU_ASSERT_PTR_NULL(strstr(sc, "Secure"));
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE action = 'login'"
			      " AND who = 'alice' AND subject LIKE 'p:%'"), 1);
	/* only the hash of the cookie is stored */
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM sessions WHERE length(id_sha256) = 64"), 1);

	/* next= must be a local path */
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery&next=//evil.example/",
	     NULL, NULL, &r);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/");
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery&next=https://evil.example/",
	     NULL, NULL, &r);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/");
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery&next=%2F%0d%0aX:y",
	     NULL, NULL, &r);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/");

	CU_ASSERT_EQUAL(login(&f, "alice", "correct+horse+battery", cookie, csrf), 303);
	http(&f, "GET", "/hosts/web1?x=42", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "page_host user=alice role=1 api=0 x=42");
	http(&f, "HEAD", "/hosts/web1", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.blen, 0);
	/* the session cookie also works for the API */
	http(&f, "GET", "/api/v1/alerts", NULL, cookie, NULL, &r);
	CU_ASSERT_STRING_EQUAL(r.body, "api_alerts user=alice role=1 api=1 x=-");

	/* unknown paths and methods */
	http(&f, "GET", "/nothing", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	http(&f, "GET", "/api/v1/nothing", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "{\"error\""));
	http(&f, "GET", "/logout", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 405);
	http(&f, "DELETE", "/", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 405);

	/* logout: CSRF-checked, ends the session, clears the cookie */
	http(&f, "POST", "/logout", "", cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	{
		char body[128];

		snprintf(body, sizeof(body), "csrf=%s", csrf);
		http(&f, "POST", "/logout", body, cookie, NULL, &r);
	}
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/login");
	CU_ASSERT_PTR_NOT_NULL(strstr(header(&r, "Set-Cookie"), "hr_session=;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(header(&r, "Set-Cookie"), "Max-Age=0"));
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE action = 'logout'"
			      " AND who = 'alice'"), 1);
	http(&f, "GET", "/", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);

	/* an expired session is refused */
	CU_ASSERT_EQUAL(login(&f, "alice", "correct+horse+battery", cookie, csrf), 303);
	http(&f, "GET", "/", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(sqlite3_exec(f.db, "UPDATE sessions SET last_seen = last_seen - 43201",
				     NULL, NULL, NULL), SQLITE_OK);
	http(&f, "GET", "/", NULL, cookie, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	fx_close(&f);
}

/* A multipart/form-data login (what a browser sends for enctype=multipart). */
static void test_multipart(void)
{
	struct fx f;
	struct hresp r;
	CURL *c;
	curl_mime *m;
	curl_mimepart *part;
	char url[128];

	fx_open(&f, 0);
	add_user(f.db, "alice", ROLE_VIEWER);
	memset(&r, 0, sizeof(r));
	c = curl_easy_init();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	m = curl_mime_init(c);
	part = curl_mime_addpart(m);
	curl_mime_name(part, "username");
	curl_mime_data(part, "alice", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(m);
	curl_mime_name(part, "password");
	curl_mime_data(part, PW, CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(m);
	curl_mime_name(part, "next");
	curl_mime_data(part, "/alerts", CURL_ZERO_TERMINATED);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/login", f.port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	CU_ASSERT_EQUAL(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_mime_free(m);
	curl_easy_cleanup(c);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/alerts");
	CU_ASSERT_PTR_NOT_NULL(header(&r, "Set-Cookie"));
	fx_close(&f);
}

static void test_secure_cookie(void)
{
	struct fx f;
	struct hresp r;

	fx_open(&f, 1);
	add_user(f.db, "alice", ROLE_VIEWER);
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_PTR_NOT_NULL(strstr(header(&r, "Set-Cookie"), "; Secure"));
	fx_close(&f);
}

static void test_csrf_and_roles(void)
{
	struct fx f;
	struct hresp r;
	char vc[SESSION_TOKEN_SIZE], vcsrf[SESSION_TOKEN_SIZE];
	char oc[SESSION_TOKEN_SIZE], ocsrf[SESSION_TOKEN_SIZE], body[256], hdr[128];

	fx_open(&f, 0);
	add_user(f.db, "viv", ROLE_VIEWER);
	add_user(f.db, "otto", ROLE_OPERATOR);
	CU_ASSERT_EQUAL_FATAL(login(&f, "viv", "correct+horse+battery", vc, vcsrf), 303);
	CU_ASSERT_EQUAL_FATAL(login(&f, "otto", "correct+horse+battery", oc, ocsrf), 303);

	/* an operator's POST without, with a wrong, and with the right token */
	http(&f, "POST", "/alerts/ack", "id=1", oc, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "CSRF"));
	snprintf(body, sizeof(body), "id=1&csrf=%s", vcsrf);
	http(&f, "POST", "/alerts/ack", body, oc, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	snprintf(body, sizeof(body), "id=1&csrf=%s", ocsrf);
	http(&f, "POST", "/alerts/ack", body, oc, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/alerts?acked=otto");
	/* the header works as well */
	snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", ocsrf);
	http(&f, "POST", "/alerts/silence", "x=7", oc, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "page_silence_add user=otto role=2 api=0 x=7");

	/* a viewer with the right token is still not an operator */
	snprintf(body, sizeof(body), "id=1&csrf=%s", vcsrf);
	http(&f, "POST", "/alerts/ack", body, vc, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "role"));
	/* and not an admin */
	http(&f, "GET", "/audit", NULL, oc, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	http(&f, "GET", "/admin/users", NULL, vc, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	fx_close(&f);
}

static void test_tokens_http(void)
{
	struct fx f;
	struct hresp r;
	struct hr_err err;
	char tok[USERS_TOKEN_SIZE], hdr[128];

	fx_open(&f, 0);
	add_user(f.db, "script", ROLE_OPERATOR);
	CU_ASSERT_EQUAL_FATAL(users_token_new(f.db, "admin", "script", "ci", tok, &err), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	http(&f, "GET", "/api/v1/forecasts", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "api_forecasts user=script role=2 api=1 x=-");
	/* no CSRF for a token: no browser sends it on its own */
	http(&f, "POST", "/api/v1/alerts/ack", "x=3", NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "api_alert_ack user=script role=2 api=1 x=3");
	/* role still applies */
	http(&f, "GET", "/api/v1/audit", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	/* tokens are for the API only */
	http(&f, "GET", "/", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	/* a wrong token */
	http(&f, "GET", "/api/v1/hosts/web1", NULL, NULL,
	     "Authorization: Bearer hrt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
	CU_ASSERT_EQUAL(r.status, 401);
	http(&f, "GET", "/api/v1/hosts/web1", NULL, NULL, "Authorization: Basic YTpi", &r);
	CU_ASSERT_EQUAL(r.status, 401);
	fx_close(&f);
}

static void test_throttle_http(void)
{
	struct fx f;
	struct hresp r;
	int i;

	fx_open(&f, 0);
	add_user(f.db, "alice", ROLE_VIEWER);
	for (i = 0; i < SESSION_FAIL_MAX; i++) {
		http(&f, "POST", "/login", "username=alice&password=guess+guess", NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 401);
	}
	/* refused even with the right password */
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 429);
	CU_ASSERT_PTR_NOT_NULL_FATAL(header(&r, "Retry-After"));
	CU_ASSERT(atoi(header(&r, "Retry-After")) > 0 && atoi(header(&r, "Retry-After")) <= 30);
	CU_ASSERT_PTR_NULL(header(&r, "Set-Cookie"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Too many failed logins"));
	/* the same client for another user: refused too */
	add_user(f.db, "bob", ROLE_VIEWER);
	http(&f, "POST", "/login", "username=bob&password=correct+horse+battery", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 429);
	/* once the block is over (moved into the past), the password works and
	 * clears the user's counter */
	CU_ASSERT_EQUAL(sqlite3_exec(f.db, "UPDATE login_failures SET blocked_until = 0",
				     NULL, NULL, NULL), SQLITE_OK);
	http(&f, "POST", "/login", "username=alice&password=correct+horse+battery", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM login_failures WHERE key = 'u:alice'"), 0);
	fx_close(&f);
}

static void test_limits(void)
{
	struct fx f;
	struct hresp r;
	char *big;
	size_t n = 70 * 1024;

	fx_open(&f, 0);
	big = malloc(n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memcpy(big, "username=", 9);
	memset(big + 9, 'a', n - 9);
	big[n] = '\0';
	http(&f, "POST", "/login", big, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 413);
	/* without a length (chunked): refused when the cap is passed */
	http(&f, "POST", "/login", big, NULL, "Transfer-Encoding: chunked", &r);
	CU_ASSERT_EQUAL(r.status, 413);
	free(big);
	/* many fields */
	{
		char body[4096] = "";
		int i;

		for (i = 0; i < 100; i++)
			snprintf(body + strlen(body), sizeof(body) - strlen(body), "f%d=1&", i);
		http(&f, "POST", "/login", body, NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 400);
	}
	/* a user name that is no name: an ordinary failure, nothing stored
	 * under it */
	http(&f, "POST", "/login", "username=%3Cscript%3E&password=12345678", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NULL(strstr(r.body, "<script>"));
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE who = '?'"), 1);
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM login_failures WHERE key LIKE 'u:%'"), 0);
	fx_close(&f);
}

static void test_admin(void)
{
	struct fx f;
	struct hresp r;
	char ac[SESSION_TOKEN_SIZE], acsrf[SESSION_TOKEN_SIZE], body[512], hdr[128];
	char tok[USERS_TOKEN_SIZE];
	struct hr_err err;
	const char *p;

	fx_open(&f, 0);
	add_user(f.db, "root", ROLE_ADMIN);
	CU_ASSERT_EQUAL_FATAL(login(&f, "root", "correct+horse+battery", ac, acsrf), 303);

	snprintf(body, sizeof(body), "op=add&name=newbie&role=operator&password=long+enough+pw"
		 "&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(header(&r, "Location"), "/admin/users?done=add");
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM users WHERE name = 'newbie' AND role = 2"), 1);
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE action = 'user.add'"
			      " AND who = 'root' AND subject = 'newbie'"), 1);
	http(&f, "GET", "/admin/users?done=add", NULL, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "newbie"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "The user was added."));

	/* bad input: 400 with the reason, nothing changed */
	snprintf(body, sizeof(body), "op=add&name=newbie&role=operator&password=long+enough+pw"
		 "&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "exists"));
	snprintf(body, sizeof(body), "op=add&name=x&role=god&password=long+enough+pw&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	snprintf(body, sizeof(body), "op=del&name=root&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM users"), 2);

	snprintf(body, sizeof(body), "op=role&name=newbie&role=viewer&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_EQUAL(count(f.db, "SELECT role FROM users WHERE name = 'newbie'"), 1);

	/* a token is shown once, on the answer */
	snprintf(body, sizeof(body), "op=token&name=newbie&label=cron&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	p = strstr(r.body, "hrt_");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(tok, sizeof(tok), "%.47s", p);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	http(&f, "GET", "/api/v1/series", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "api_series user=newbie role=1 api=1 x=-");

	/* listed with its last use, and revoked from the page */
	http(&f, "GET", "/admin/users", NULL, ac, NULL, &r);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<td>cron</td>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, tok));
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM api_tokens WHERE last_used > 0"), 1);
	snprintf(body, sizeof(body), "op=revoke&id=%lld&csrf=%s",
		 count(f.db, "SELECT id FROM api_tokens WHERE label = 'cron'"), acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	http(&f, "GET", "/api/v1/series", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "no such API token"));
	CU_ASSERT_EQUAL(count(f.db, "SELECT count(*) FROM audit WHERE action = 'token.del'"
			      " AND who = 'root' AND subject = 'newbie'"), 1);

	snprintf(body, sizeof(body), "op=token&name=newbie&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	p = strstr(r.body, "hrt_");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(tok, sizeof(tok), "%.47s", p);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	snprintf(body, sizeof(body), "op=del&name=newbie&csrf=%s", acsrf);
	http(&f, "POST", "/admin/users", body, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	http(&f, "GET", "/api/v1/series", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 401);

	/* the audit log, filtered, and as JSON for an admin's token */
	http(&f, "GET", "/audit?action=user.del", NULL, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<td>user.del</td>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<td>user.add</td>"));
	http(&f, "GET", "/audit?before=abc", NULL, ac, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_EQUAL_FATAL(users_token_new(f.db, "cli:test", "root", NULL, tok, &err), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	http(&f, "GET", "/api/v1/audit?who=root", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"entries\":[{\"id\":"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"action\":\"user.del\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"next_before\":null"));
	fx_close(&f);
}

static void test_audit_pages(void)
{
	struct fx f;
	struct hresp r;
	struct hr_err err;
	char tok[USERS_TOKEN_SIZE], hdr[128], want[64];
	int i;

	fx_open(&f, 0);
	add_user(f.db, "root", ROLE_ADMIN);
	for (i = 0; i < 250; i++)
		CU_ASSERT_EQUAL(audit_log(f.db, T0 + i, "tester", i % 2 ? "odd" : "even", "s", NULL,
					  &err), 0);
	CU_ASSERT_EQUAL_FATAL(users_token_new(f.db, "cli:test", "root", NULL, tok, &err), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	/* 252 rows (user.add, 250, token.new): pages of 100, newest first */
	http(&f, "GET", "/api/v1/audit", NULL, NULL, hdr, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "{\"entries\":[{\"id\":252,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"next_before\":153}"));
	http(&f, "GET", "/api/v1/audit?before=153&action=odd", NULL, NULL, hdr, &r);
	snprintf(want, sizeof(want), "{\"entries\":[{\"id\":151,");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, want));
	CU_ASSERT_PTR_NULL(strstr(r.body, "\"even\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"next_before\":null"));
	fx_close(&f);
}

int main(void)
{
	CU_TestInfo tests[] = {
		{"users", test_users},
		{"api tokens", test_tokens},
		{"sessions and expiry", test_sessions},
		{"failed-login throttling", test_throttle},
		{"pseudonyms", test_pseudonyms},
		{"http: login, redirects, logout, expiry", test_login},
		{"http: multipart form", test_multipart},
		{"http: Secure cookie under TLS", test_secure_cookie},
		{"http: CSRF and roles", test_csrf_and_roles},
		{"http: API tokens", test_tokens_http},
		{"http: throttling", test_throttle_http},
		{"http: limits", test_limits},
		{"http: admin users", test_admin},
		{"http: audit pages", test_audit_pages},
		CU_TEST_INFO_NULL,
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = run_suite("web", tests);
	curl_global_cleanup();
	return rc;
}
