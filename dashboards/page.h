/* page.h: what a dashboard page or API handler is given and gives back.
 * web.c (the dashboards' libmicrohttpd handler) authenticates the request
 * (session cookie or API token), checks the CSRF token of every POST and
 * the role the route needs, then calls the route's page_fn. Handlers only
 * read rq and fill out; they never see libmicrohttpd. */
#ifndef HR_PAGE_H
#define HR_PAGE_H

#include <stddef.h>

#include <sqlite3.h>

struct alerts;
struct analyzer;
struct rules;

enum page_role {
	ROLE_NONE = 0,
	ROLE_VIEWER = 1,   /* reads every page and API */
	ROLE_OPERATOR = 2, /* also acknowledges and silences */
	ROLE_ADMIN = 3     /* also users and the audit log */
};

/* What the central shares with the dashboards; set once at start. */
struct page_env {
	const char *data_dir;       /* the archives are under DATA/rrd/HOST/ */
	const char *db_path;        /* DATA/headroom.db */
	struct alerts *alerts;      /* the alert lifecycle; NULL: none */
	struct analyzer *analyzer;  /* forecasts (analyzer_forecasts); NULL: none */
	const struct rules *rules;  /* the rules in force; NULL: none */
	int tls;                    /* served over TLS (cookies get Secure) */
	const char *rrdcached;      /* the rrdcached the central writes through
				     * ("unix:/path", "HOST:PORT"; checked by the
				     * config), whose base folder is DATA/rrd: an
				     * archive is flushed before it is read
				     * (page_rrd.h); NULL: none */
};

struct page_req {
	const struct page_env *env;
	const char *method;   /* "GET" or "POST" (HEAD is answered as GET) */
	const char *path;     /* the URL path as requested, e.g. "/hosts/web1" */
	const char *user;     /* the user's name (session or API token) */
	enum page_role role;
	const char *csrf;     /* the session's CSRF token, to put into forms as
			       * field "csrf"; NULL for API-token requests */
	const char *client;   /* the client address, pseudonymised (for audit) */
	double now;           /* unix seconds */
	int api;              /* 1 for /api/ paths: answer JSON */
	void *impl;           /* web.c's */
};

/* A query-string argument (GET) or form field (POST, urlencoded or
 * multipart), or NULL. Values are as libmicrohttpd decoded them. */
const char *page_arg(const struct page_req *rq, const char *key);

/* A SQLite connection to env->db_path private to the calling thread
 * (opened on first use, WAL, busy timeout 5 s), or NULL when it cannot be
 * opened. Do not close it. */
sqlite3 *page_db(const struct page_req *rq);

struct page_resp {
	int status;             /* HTTP status; 0 means 200 */
	const char *type;       /* Content-Type (static string); NULL: HTML */
	char *body;             /* malloc'd (web.c frees); may be NULL */
	size_t len;
	char location[1024];    /* non-empty: a redirect (303 when status 0) */
	int cache_s;            /* >0: Cache-Control max-age (graphs, CSS);
				 * 0: no-store */
};

/* Returns 0 when out is filled (any status), -1 on failure (no memory):
 * web.c answers 500. */
typedef int (*page_fn)(const struct page_req *rq, struct page_resp *out);

/* Fills out with an error: HTML page or {"error": msg} for API requests. */
int page_error(const struct page_req *rq, struct page_resp *out, int status, const char *msg);

#endif
