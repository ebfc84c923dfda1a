/* web.c: the dashboards' libmicrohttpd handler (web.h): collects the form
 * fields of a request (capped), authenticates it (session cookie or API
 * token), checks CSRF and the route's role, calls the route's page_fn and
 * answers with the security headers. Also the login form, login and
 * logout, and page.h's page_arg, page_db and page_error. */
#include "config.h"

#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "audit.h"
#include "graph.h"
#include "html.h"
#include "log.h"
#include "pages.h"
#include "session.h"
#include "users.h"
#include "util.h"
#include "web.h"

#define WEB_BODY_MAX (64 * 1024)   /* a request body larger: 413 */
#define WEB_DRAIN_MAX (1024 * 1024) /* ... and read no further than this */
#define WEB_FIELDS_MAX 64          /* form fields and query arguments */
#define WEB_NEXT_MAX 512           /* the login form's next= path */
#define COOKIE_NAME "hr_session"
#define CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'"

struct web {
	struct page_env env;
	unsigned char key[SESSION_KEY_LEN];   /* pseudonyms of client addresses */
	pthread_key_t db_key;                 /* each thread's sqlite3 */
};

struct field {
	char *key, *val;
	size_t len;
};

/* One request (MHD's con_cls). */
struct conn {
	struct web *w;
	struct MHD_Connection *mc;
	struct MHD_PostProcessor *pp;
	struct field fields[WEB_FIELDS_MAX];   /* form fields, then query arguments */
	size_t nfields, nform;
	size_t body;
	int too_big, bad_form, answered;
	char set_cookie[256];
	char retry_after[24];
	struct session sess;
	char user[USERS_NAME_MAX + 1];
	char client[SESSION_PSEUDO_SIZE];
	struct page_req rq;
};

/* --- page.h ---------------------------------------------------------------- */

const char *page_arg(const struct page_req *rq, const char *key)
{
	const struct conn *c = rq->impl;
	size_t i;

	if (c == NULL || key == NULL)
		return NULL;
	for (i = 0; i < c->nfields; i++)
		if (strcmp(c->fields[i].key, key) == 0)
			return c->fields[i].val != NULL ? c->fields[i].val : "";
	return NULL;
}

static void db_close(void *p)
{
	sqlite3_close(p);
}

static sqlite3 *web_db(struct web *w)
{
	sqlite3 *db = pthread_getspecific(w->db_key);

	if (db != NULL)
		return db;
	if (sqlite3_open_v2(w->env.db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if (pthread_setspecific(w->db_key, db) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *page_db(const struct page_req *rq)
{
	const struct conn *c = rq->impl;

	return c != NULL ? web_db(c->w) : NULL;
}

int page_error(const struct page_req *rq, struct page_resp *out, int status, const char *msg)
{
	out->status = status;
	if (rq->api) {
		cJSON *doc = cJSON_CreateObject();

		if (doc == NULL || cJSON_AddStringToObject(doc, "error", msg) == NULL) {
			cJSON_Delete(doc);
			return -1;
		}
		return html_json(out, doc);
	} else {
		struct hbuf b;
		char title[64];

		hbuf_init(&b);
		snprintf(title, sizeof(title), "Error %d", status);
		html_begin(&b, rq, title, NULL);
		hbuf_puts(&b, "<p class=\"error\">");
		hbuf_esc(&b, msg);
		hbuf_puts(&b, "</p>\n<p><a href=\"/\">Back to the fleet</a></p>\n");
		html_end(&b);
		return hbuf_to_resp(&b, out);
	}
}

/* --- the web --------------------------------------------------------------- */

struct web *web_new(const struct page_env *env, struct hr_err *err)
{
	struct web *w = calloc(1, sizeof(*w));
	sqlite3 *db = NULL;

	if (w == NULL) {
		hr_err_set(err, "out of memory");
		return NULL;
	}
	w->env = *env;
	if (session_key_load(env->data_dir, w->key, err) < 0)
		goto fail;
	if (sqlite3_open_v2(env->db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		hr_err_set(err, "%s: %s", env->db_path, db != NULL ? sqlite3_errmsg(db) : "no memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if (users_init(db, err) < 0)
		goto fail;
	sqlite3_close(db);
	if (pthread_key_create(&w->db_key, db_close) != 0) {
		hr_err_set(err, "pthread_key_create failed");
		free(w);
		return NULL;
	}
	return w;
fail:
	sqlite3_close(db);
	free(w);
	return NULL;
}

void web_free(struct web *w)
{
	sqlite3 *db;

	if (w == NULL)
		return;
	/* The server's threads have ended (closing theirs); this one's is left. */
	db = pthread_getspecific(w->db_key);
	if (db != NULL) {
		pthread_setspecific(w->db_key, NULL);
		sqlite3_close(db);
	}
	pthread_key_delete(w->db_key);
	explicit_bzero(w->key, sizeof(w->key));
	free(w);
}

/* --- request fields ---------------------------------------------------- */

static enum MHD_Result post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *filename, const char *content_type,
				 const char *transfer_encoding, const char *data, uint64_t off,
				 size_t size)
{
	struct conn *c = cls;
	struct field *f = c->nfields > 0 ? &c->fields[c->nfields - 1] : NULL;
	char *v;

	if (f == NULL || off == 0 || strcmp(f->key, key) != 0) {
		if (c->nfields == WEB_FIELDS_MAX) {
			c->bad_form = 1;
			return MHD_NO;
		}
		f = &c->fields[c->nfields];
		f->key = strdup(key);
		if (f->key == NULL)
			return MHD_NO;
		c->nfields++;
	}
	/* The body cap bounds the sum of all values. */
	v = realloc(f->val, f->len + size + 1);
	if (v == NULL)
		return MHD_NO;
	memcpy(v + f->len, data, size);
	f->len += size;
	v[f->len] = '\0';
	f->val = v;
	return MHD_YES;
}

static enum MHD_Result arg_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct conn *c = cls;
	struct field *f;

	if (c->nfields == WEB_FIELDS_MAX) {
		c->bad_form = 1;
		return MHD_NO;
	}
	f = &c->fields[c->nfields];
	f->key = strdup(key);
	f->val = strdup(value != NULL ? value : "");
	if (f->key == NULL || f->val == NULL) {
		free(f->key);
		free(f->val);
		c->bad_form = 1;
		return MHD_NO;
	}
	f->len = strlen(f->val);
	c->nfields++;
	return MHD_YES;
}

static void conn_free(struct conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->pp != NULL)
		MHD_destroy_post_processor(c->pp);
	for (i = 0; i < c->nfields; i++) {
		free(c->fields[i].key);
		if (c->fields[i].val != NULL)
			explicit_bzero(c->fields[i].val, c->fields[i].len);
		free(c->fields[i].val);
	}
	explicit_bzero(&c->sess, sizeof(c->sess));
	free(c);
}

void web_mhd_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	conn_free(*con_cls);
	*con_cls = NULL;
}

/* --- answering --------------------------------------------------------- */

static enum MHD_Result send_resp(struct conn *c, struct page_resp *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int status = r->status != 0 ? r->status : r->location[0] != '\0' ? 303 : 200;
	char cc[64];

	resp = MHD_create_response_from_buffer(r->len, r->body,
					       r->body != NULL ? MHD_RESPMEM_MUST_FREE
							       : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(r->body);
		r->body = NULL;
		return MHD_NO;
	}
	r->body = NULL;   /* MHD frees it now */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->type != NULL ? r->type : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (r->cache_s > 0) {
		snprintf(cc, sizeof(cc), "private, max-age=%d", r->cache_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
	} else {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	if (r->location[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (c->set_cookie[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, c->set_cookie);
	if (c->retry_after[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, c->retry_after);
	if (status == 401 && c->rq.api)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"headroom\"");
	if (status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					strcmp(c->rq.method, "POST") == 0 ? "GET, HEAD" : "POST");
	ret = MHD_queue_response(c->mc, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	c->answered = 1;
	return ret;
}

/* An error answer (page or JSON); a static text when even that fails. */
static enum MHD_Result send_error(struct conn *c, int status, const char *msg)
{
	struct page_resp r;

	memset(&r, 0, sizeof(r));
	if (page_error(&c->rq, &r, status, msg) < 0) {
		memset(&r, 0, sizeof(r));
		r.status = 500;
		r.type = "text/plain";
	}
	return send_resp(c, &r);
}

static enum MHD_Result send_redirect(struct conn *c, const char *location)
{
	struct page_resp r;

	memset(&r, 0, sizeof(r));
	hr_strlcpy(r.location, location, sizeof(r.location));
	return send_resp(c, &r);
}

/* --- login, logout ------------------------------------------------------ */

/* A login form's next=: a local path only (no scheme, no "//", nothing
 * that would end the header), else "/". */
static const char *safe_next(const char *next)
{
	size_t i;

	if (next == NULL || next[0] != '/' || next[1] == '/' || next[1] == '\\' ||
	    strnlen(next, WEB_NEXT_MAX) >= WEB_NEXT_MAX)
		return "/";
	for (i = 0; next[i] != '\0'; i++) {
		char ch = next[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || strchr("/._~-?=&%:+,@;", ch) != NULL))
			return "/";
	}
	return next;
}

static int login_form(const struct page_req *rq, struct page_resp *out, int status,
		      const char *msg)
{
	struct hbuf b;
	const char *user = page_arg(rq, "username");

	hbuf_init(&b);
	html_begin(&b, rq, "Log in", NULL);
	hbuf_puts(&b, "<form class=\"login\" method=\"post\" action=\"/login\">\n");
	if (msg != NULL) {
		hbuf_puts(&b, "<p class=\"error\" role=\"alert\">");
		hbuf_esc(&b, msg);
		hbuf_puts(&b, "</p>\n");
	}
	hbuf_puts(&b, "<label for=\"username\">User name</label>"
		      "<input id=\"username\" name=\"username\" autocomplete=\"username\""
		      " required maxlength=\"64\" autofocus value=\"");
	if (user != NULL && users_name_ok(user))
		hbuf_esc(&b, user);
	hbuf_puts(&b, "\">\n<label for=\"password\">Password</label>"
		      "<input id=\"password\" name=\"password\" type=\"password\""
		      " autocomplete=\"current-password\" required maxlength=\"1024\">\n"
		      "<input type=\"hidden\" name=\"next\" value=\"");
	hbuf_esc(&b, safe_next(page_arg(rq, "next")));
	hbuf_puts(&b, "\">\n<button type=\"submit\">Log in</button>\n</form>\n");
	html_end(&b);
	out->status = status;
	return hbuf_to_resp(&b, out);
}

static int web_login_page(const struct page_req *rq, struct page_resp *out)
{
	return login_form(rq, out, 200, NULL);
}

static void set_cookie(struct conn *c, const char *value, int max_age)
{
	snprintf(c->set_cookie, sizeof(c->set_cookie),
		 COOKIE_NAME "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", value, max_age,
		 c->w->env.tls ? "; Secure" : "");
}

static int web_login(const struct page_req *rq, struct page_resp *out)
{
	struct conn *c = rq->impl;
	const char *name = page_arg(rq, "username"), *pw = page_arg(rq, "password");
	const char *valid = users_name_ok(name) ? name : NULL;
	sqlite3 *db = page_db(rq);
	char cookie[SESSION_TOKEN_SIZE];
	enum page_role role;
	struct hr_err err;
	double retry;
	int rc;

	if (db == NULL)
		return page_error(rq, out, 500, "the database cannot be opened");
	rc = session_throttle_check(db, valid, rq->client, rq->now, &retry, &err);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		char msg[128];

		snprintf(c->retry_after, sizeof(c->retry_after), "%.0f", retry);
		snprintf(msg, sizeof(msg), "Too many failed logins: try again in %.0f s.", retry);
		return login_form(rq, out, 429, msg);
	}
	rc = users_check_password(db, valid != NULL ? valid : "", pw, &role, &err);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		if (session_throttle_fail(db, valid, rq->client, rq->now, &err) < 0 ||
		    audit_log(db, rq->now, valid != NULL ? valid : "?", "login.failed", rq->client,
			      NULL, &err) < 0)
			goto fail;
		return login_form(rq, out, 401, "Wrong user name or password.");
	}
	if (session_throttle_clear(db, valid, &err) < 0 || session_purge(db, rq->now, &err) < 0 ||
	    session_new(db, valid, role, rq->client, rq->now, cookie, &c->sess, &err) < 0 ||
	    audit_log(db, rq->now, valid, "login", rq->client, users_role_name(role), &err) < 0)
		goto fail;
	set_cookie(c, cookie, (int)SESSION_ABS_S);
	explicit_bzero(cookie, sizeof(cookie));
	hr_strlcpy(out->location, safe_next(page_arg(rq, "next")), sizeof(out->location));
	return 0;
fail:
	hr_log_warnx("web: login: %s", err.msg);
	return page_error(rq, out, 500, "login failed: a database error");
}

static int web_logout(const struct page_req *rq, struct page_resp *out)
{
	struct conn *c = rq->impl;
	const char *cookie = MHD_lookup_connection_value(c->mc, MHD_COOKIE_KIND, COOKIE_NAME);
	sqlite3 *db = page_db(rq);
	struct hr_err err;

	if (db == NULL)
		return page_error(rq, out, 500, "the database cannot be opened");
	if (rq->user != NULL &&
	    (session_end(db, cookie, &err) < 0 ||
	     audit_log(db, rq->now, rq->user, "logout", rq->client, NULL, &err) < 0)) {
		hr_log_warnx("web: logout: %s", err.msg);
		return page_error(rq, out, 500, "logout failed: a database error");
	}
	set_cookie(c, "", 0);
	hr_strlcpy(out->location, "/login", sizeof(out->location));
	return 0;
}

/* --- routes ----------------------------------------------------------- */

struct route {
	const char *method;
	const char *path;
	int prefix;            /* path is a prefix ("/hosts/" + NAME) */
	enum page_role role;   /* ROLE_NONE: no login needed */
	page_fn fn;
};

static const struct route routes[] = {
	{ "GET", "/login", 0, ROLE_NONE, web_login_page },
	{ "POST", "/login", 0, ROLE_NONE, web_login },
	{ "POST", "/logout", 0, ROLE_NONE, web_logout },
	{ "GET", "/static/style.css", 0, ROLE_NONE, html_style },
	{ "GET", "/", 0, ROLE_VIEWER, page_overview },
	{ "GET", "/capacity", 0, ROLE_VIEWER, page_capacity },
	{ "GET", "/hosts/", 1, ROLE_VIEWER, page_host },
	{ "GET", "/alerts", 0, ROLE_VIEWER, page_alerts },
	{ "GET", "/graph", 0, ROLE_VIEWER, graph_page },
	{ "POST", "/alerts/ack", 0, ROLE_OPERATOR, page_alert_ack },
	{ "POST", "/alerts/silence", 0, ROLE_OPERATOR, page_silence_add },
	{ "POST", "/alerts/unsilence", 0, ROLE_OPERATOR, page_silence_expire },
	{ "GET", "/audit", 0, ROLE_ADMIN, admin_audit },
	{ "GET", "/admin/users", 0, ROLE_ADMIN, admin_users },
	{ "POST", "/admin/users", 0, ROLE_ADMIN, admin_users_post },
	{ "GET", "/api/v1/hosts", 0, ROLE_VIEWER, api_hosts },
	{ "GET", "/api/v1/hosts/", 1, ROLE_VIEWER, api_hosts },
	{ "GET", "/api/v1/series", 0, ROLE_VIEWER, api_series },
	{ "GET", "/api/v1/alerts", 0, ROLE_VIEWER, api_alerts },
	{ "GET", "/api/v1/forecasts", 0, ROLE_VIEWER, api_forecasts },
	{ "POST", "/api/v1/alerts/ack", 0, ROLE_OPERATOR, api_alert_ack },
	{ "GET", "/api/v1/audit", 0, ROLE_ADMIN, admin_api_audit },
};

static int route_match(const struct route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (r->prefix)
		return strncmp(path, r->path, n) == 0 && path[n] != '\0';
	return strcmp(path, r->path) == 0;
}

/* The route for method and path; NULL with *other set when the path is
 * served for another method only. */
static const struct route *route_find(const char *method, const char *path, int *other)
{
	size_t i;

	*other = 0;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(&routes[i], path))
			continue;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
		*other = 1;
	}
	return NULL;
}

static void client_pseudonym(struct conn *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[NI_MAXHOST] = "unknown";

	if (ci != NULL && ci->client_addr != NULL) {
		socklen_t len = ci->client_addr->sa_family == AF_INET6
					? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

		if (getnameinfo(ci->client_addr, len, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST) != 0)
			hr_strlcpy(host, "unknown", sizeof(host));
	}
	session_pseudonym(c->w->key, host, c->client);
}

/* Who sends the request: an API token (API paths only) or the session
 * cookie. 1 known (rq filled), 0 none, -1 database failure; *bad_token
 * set when an Authorization header was given but refused. */
static int authenticate(struct conn *c, int *bad_token)
{
	struct page_req *rq = &c->rq;
	sqlite3 *db = web_db(c->w);
	const char *auth = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie;
	enum page_role role;
	struct hr_err err;
	int rc;

	*bad_token = 0;
	if (db == NULL)
		return -1;
	if (rq->api && auth != NULL) {
		if (strncmp(auth, "Bearer ", 7) != 0) {
			*bad_token = 1;
			return 0;
		}
		rc = users_token_check(db, auth + 7, rq->now, c->user, &role, &err);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			*bad_token = 1;
			return 0;
		}
		rq->user = c->user;
		rq->role = role;
		return 1;
	}
	cookie = MHD_lookup_connection_value(c->mc, MHD_COOKIE_KIND, COOKIE_NAME);
	if (cookie == NULL)
		return 0;
	rc = session_check(db, cookie, rq->now, &c->sess, &err);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		rq->user = c->sess.user;
		rq->role = c->sess.role;
		rq->csrf = c->sess.csrf;
	}
	return rc;
fail:
	hr_log_warnx("web: %s", err.msg);
	return -1;
}

static enum MHD_Result dispatch(struct conn *c, const char *url, const char *method)
{
	struct page_req *rq = &c->rq;
	const struct route *r;
	struct page_resp out;
	int other, bad_token, rc;

	memset(rq, 0, sizeof(*rq));
	rq->env = &c->w->env;
	rq->method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	rq->path = url;
	rq->now = hr_now_wall();
	rq->api = strncmp(url, "/api/", 5) == 0;
	rq->impl = c;
	client_pseudonym(c);
	rq->client = c->client;
	if (c->pp != NULL) {
		/* urlencoded: the last field arrives on destroy */
		if (MHD_destroy_post_processor(c->pp) != MHD_YES)
			c->bad_form = 1;
		c->pp = NULL;
	}
	if (c->too_big)
		return send_error(c, 413, "the request is too large");
	c->nform = c->nfields;
	MHD_get_connection_values(c->mc, MHD_GET_ARGUMENT_KIND, arg_iter, c);
	if (c->bad_form)
		return send_error(c, 400, "the request's form cannot be read");
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0) {
		rq->method = "OTHER";
		return send_error(c, 405, "method not allowed");
	}
	r = route_find(rq->method, url, &other);
	if (r == NULL)
		return send_error(c, other ? 405 : 404, other ? "method not allowed" : "no such page");
	rc = authenticate(c, &bad_token);
	if (rc < 0)
		return send_error(c, 500, "the database cannot be read");
	if (bad_token)
		return send_error(c, 401, "invalid API token");
	if (rq->user == NULL && r->role != ROLE_NONE) {
		struct hbuf b;
		enum MHD_Result ret;

		if (rq->api)
			return send_error(c, 401, "authentication required");
		hbuf_init(&b);
		hbuf_puts(&b, "/login?next=");
		hbuf_url(&b, safe_next(url));
		ret = b.oom ? MHD_NO : send_redirect(c, b.s);
		hbuf_free(&b);
		return ret;
	}
	/* Cookies ride along on a forged cross-site form: a POST in a session
	 * must carry the session's token (API tokens are not sent by a
	 * browser on its own). */
	if (strcmp(rq->method, "POST") == 0 && rq->csrf != NULL && r->fn != web_login) {
		const char *tok = page_arg(rq, "csrf");

		if (tok == NULL)
			tok = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!session_csrf_ok(&c->sess, tok))
			return send_error(c, 403, "missing or wrong CSRF token: reload the page");
	}
	if (rq->role < r->role)
		return send_error(c, 403, "your role does not allow this");
	memset(&out, 0, sizeof(out));
	if (r->fn(rq, &out) < 0) {
		free(out.body);
		return send_error(c, 500, "the page cannot be made (out of memory?)");
	}
	return send_resp(c, &out);
}

enum MHD_Result web_mhd_access(void *cls, struct MHD_Connection *mc, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct conn *c = *con_cls;

	if (c == NULL) {
		const char *len, *type;
		uint64_t n;

		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return MHD_NO;
		c->w = cls;
		c->mc = mc;
		*con_cls = c;
		if (strcmp(method, "POST") != 0)
			return MHD_YES;
		len = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
						  MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (len != NULL && (hr_parse_u64(len, strlen(len), &n) < 0 || n > WEB_BODY_MAX)) {
			/* Refused before the body is read: MHD closes after. */
			c->too_big = 1;
			return dispatch(c, url, method);
		}
		type = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_CONTENT_TYPE);
		if (type != NULL &&
		    (strncasecmp(type, MHD_HTTP_POST_ENCODING_FORM_URLENCODED,
				 strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0 ||
		     strncasecmp(type, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA,
				 strlen(MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA)) == 0)) {
			c->pp = MHD_create_post_processor(mc, 8192, post_iter, c);
			if (c->pp == NULL)
				c->bad_form = 1;
		}
		return MHD_YES;
	}
	if (c->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		c->body += *upload_size;
		/* libmicrohttpd takes an answer only before the body or after
		 * all of it: a body without a length that passes the cap is
		 * read and dropped up to WEB_DRAIN_MAX, then the connection is
		 * closed. */
		if (c->body > WEB_BODY_MAX) {
			c->too_big = 1;
			*upload_size = 0;
			return c->body > WEB_DRAIN_MAX ? MHD_NO : MHD_YES;
		}
		if (c->pp != NULL && !c->bad_form &&
		    MHD_post_process(c->pp, upload, *upload_size) != MHD_YES)
			c->bad_form = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(c, url, method);
}
