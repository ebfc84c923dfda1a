/* admin.c: the audit log pages and user management for admins (admin.h).
 * Every change goes through users.c, which writes its audit row with the
 * acting admin's name. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin.h"
#include "html.h"
#include "users.h"
#include "util.h"

#define FILTER_MAX 128   /* action= and who= longer are refused */

struct audit_q {
	int64_t before;      /* 0: from the newest */
	const char *action;  /* NULL: any */
	const char *who;
};

struct audit_row {
	int64_t id;
	double t;
	const char *who, *action, *subject, *detail;
};

/* Reads the query's arguments; -1 with msg on bad ones. */
static int audit_args(const struct page_req *rq, struct audit_q *q, const char **msg)
{
	const char *before = page_arg(rq, "before");

	memset(q, 0, sizeof(*q));
	q->action = page_arg(rq, "action");
	q->who = page_arg(rq, "who");
	if (q->action != NULL && q->action[0] == '\0')
		q->action = NULL;
	if (q->who != NULL && q->who[0] == '\0')
		q->who = NULL;
	if (before != NULL && before[0] != '\0' &&
	    (hr_parse_i64(before, strlen(before), &q->before) < 0 || q->before <= 0)) {
		*msg = "before= must be a positive id";
		return -1;
	}
	if ((q->action != NULL && strlen(q->action) > FILTER_MAX) ||
	    (q->who != NULL && strlen(q->who) > FILTER_MAX)) {
		*msg = "the filter is too long";
		return -1;
	}
	return 0;
}

typedef void (*audit_row_fn)(void *arg, const struct audit_row *r);

/* Calls fn for up to ADMIN_AUDIT_PAGE rows, newest first; returns how
 * many, or -1. */
static int audit_query(sqlite3 *db, const struct audit_q *q, audit_row_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	int n = 0, rc;

	if (sqlite3_prepare_v2(db, "SELECT id, t, who, action, subject, detail FROM audit"
			       " WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR action = ?2)"
			       " AND (?3 IS NULL OR who = ?3) ORDER BY id DESC LIMIT ?4",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, q->before);
	if (q->action != NULL)
		sqlite3_bind_text(st, 2, q->action, -1, SQLITE_STATIC);
	if (q->who != NULL)
		sqlite3_bind_text(st, 3, q->who, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, ADMIN_AUDIT_PAGE);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row r;

		r.id = sqlite3_column_int64(st, 0);
		r.t = sqlite3_column_double(st, 1);
		r.who = (const char *)sqlite3_column_text(st, 2);
		r.action = (const char *)sqlite3_column_text(st, 3);
		r.subject = (const char *)sqlite3_column_text(st, 4);
		r.detail = (const char *)sqlite3_column_text(st, 5);
		fn(arg, &r);
		n++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -1;
}

struct audit_html {
	struct hbuf *b;
	int64_t last;
};

static void audit_html_row(void *arg, const struct audit_row *r)
{
	struct audit_html *h = arg;

	hbuf_puts(h->b, "<tr><td>");
	html_time(h->b, r->t);
	hbuf_puts(h->b, "</td><td>");
	hbuf_esc(h->b, r->who);
	hbuf_puts(h->b, "</td><td>");
	hbuf_esc(h->b, r->action);
	hbuf_puts(h->b, "</td><td>");
	hbuf_esc(h->b, r->subject);
	hbuf_puts(h->b, "</td><td>");
	hbuf_esc(h->b, r->detail);
	hbuf_puts(h->b, "</td></tr>\n");
	h->last = r->id;
}

/* "&action=A&who=W" for the pagination link. */
static void filter_args(struct hbuf *b, const struct audit_q *q)
{
	if (q->action != NULL) {
		hbuf_puts(b, "&amp;action=");
		hbuf_url(b, q->action);
	}
	if (q->who != NULL) {
		hbuf_puts(b, "&amp;who=");
		hbuf_url(b, q->who);
	}
}

int admin_audit(const struct page_req *rq, struct page_resp *out)
{
	sqlite3 *db = page_db(rq);
	struct audit_html h;
	struct audit_q q;
	const char *msg;
	struct hbuf b;
	int n;

	if (audit_args(rq, &q, &msg) < 0)
		return page_error(rq, out, 400, msg);
	if (db == NULL)
		return page_error(rq, out, 500, "the database cannot be opened");
	hbuf_init(&b);
	html_begin(&b, rq, "Audit log", "audit");
	hbuf_puts(&b, "<form class=\"inline\" method=\"get\" action=\"/audit\">"
		      "<label>Action <input name=\"action\" maxlength=\"128\" value=\"");
	hbuf_esc(&b, q.action);
	hbuf_puts(&b, "\"></label> <label>Who <input name=\"who\" maxlength=\"128\" value=\"");
	hbuf_esc(&b, q.who);
	hbuf_puts(&b, "\"></label> <button type=\"submit\">Filter</button></form>\n"
		      "<div class=\"scroll\"><table class=\"table\"><thead><tr><th>Time (UTC)</th>"
		      "<th>Who</th><th>Action</th><th>Subject</th><th>Detail</th></tr></thead>"
		      "<tbody>\n");
	h.b = &b;
	h.last = 0;
	n = audit_query(db, &q, audit_html_row, &h);
	if (n < 0) {
		hbuf_free(&b);
		return page_error(rq, out, 500, "the audit log cannot be read");
	}
	hbuf_puts(&b, "</tbody></table></div>\n");
	if (n == 0)
		hbuf_puts(&b, "<p class=\"muted\">No entries.</p>\n");
	if (n == ADMIN_AUDIT_PAGE) {
		hbuf_printf(&b, "<p><a href=\"/audit?before=%lld", (long long)h.last);
		filter_args(&b, &q);
		hbuf_puts(&b, "\">Older entries</a></p>\n");
	}
	html_end(&b);
	return hbuf_to_resp(&b, out);
}

struct audit_json {
	cJSON *arr;
	int64_t last;
	int oom;
};

static void audit_json_row(void *arg, const struct audit_row *r)
{
	struct audit_json *j = arg;
	cJSON *o = cJSON_CreateObject();

	j->last = r->id;
	if (o == NULL || !cJSON_AddItemToArray(j->arr, o)) {
		cJSON_Delete(o);
		j->oom = 1;
		return;
	}
	if (cJSON_AddNumberToObject(o, "id", (double)r->id) == NULL ||
	    cJSON_AddNumberToObject(o, "t", r->t) == NULL ||
	    cJSON_AddStringToObject(o, "who", r->who) == NULL ||
	    cJSON_AddStringToObject(o, "action", r->action) == NULL ||
	    cJSON_AddStringToObject(o, "subject", r->subject) == NULL ||
	    (r->detail != NULL ? cJSON_AddStringToObject(o, "detail", r->detail)
			       : cJSON_AddNullToObject(o, "detail")) == NULL)
		j->oom = 1;
}

int admin_api_audit(const struct page_req *rq, struct page_resp *out)
{
	sqlite3 *db = page_db(rq);
	struct audit_json j;
	struct audit_q q;
	const char *msg;
	cJSON *doc;
	int n;

	if (audit_args(rq, &q, &msg) < 0)
		return page_error(rq, out, 400, msg);
	if (db == NULL)
		return page_error(rq, out, 500, "the database cannot be opened");
	doc = cJSON_CreateObject();
	j.arr = cJSON_AddArrayToObject(doc, "entries");
	j.last = 0;
	j.oom = j.arr == NULL;
	n = j.oom ? 0 : audit_query(db, &q, audit_json_row, &j);
	if (n < 0) {
		cJSON_Delete(doc);
		return page_error(rq, out, 500, "the audit log cannot be read");
	}
	if ((n == ADMIN_AUDIT_PAGE ? cJSON_AddNumberToObject(doc, "next_before", (double)j.last)
				   : cJSON_AddNullToObject(doc, "next_before")) == NULL)
		j.oom = 1;
	if (j.oom) {
		cJSON_Delete(doc);
		return -1;
	}
	return html_json(out, doc);
}

/* --- users -------------------------------------------------------------- */

static void role_select(struct hbuf *b, enum page_role sel)
{
	static const enum page_role roles[] = { ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };
	size_t i;

	hbuf_puts(b, "<select name=\"role\" aria-label=\"role\">");
	for (i = 0; i < 3; i++)
		hbuf_printf(b, "<option%s>%s</option>", roles[i] == sel ? " selected" : "",
			    users_role_name(roles[i]));
	hbuf_puts(b, "</select>");
}

/* A form for op on user name: opening tag and hidden fields. */
static void form_open(struct hbuf *b, const struct page_req *rq, const char *op,
		      const char *name)
{
	hbuf_printf(b, "<form class=\"inline\" method=\"post\" action=\"/admin/users\">"
		       "<input type=\"hidden\" name=\"op\" value=\"%s\">", op);
	html_csrf_field(b, rq);
	if (name != NULL) {
		hbuf_puts(b, "<input type=\"hidden\" name=\"name\" value=\"");
		hbuf_esc(b, name);
		hbuf_puts(b, "\">");
	}
}

struct users_html {
	struct hbuf *b;
	const struct page_req *rq;
};

static int users_html_row(void *arg, const char *name, enum page_role role, double created,
			  double changed)
{
	struct users_html *u = arg;
	struct hbuf *b = u->b;
	int self = strcmp(name, u->rq->user) == 0;

	hbuf_puts(b, "<tr><td>");
	hbuf_esc(b, name);
	hbuf_printf(b, "%s</td><td>%s</td><td>", self ? " <span class=\"muted\">(you)</span>" : "",
		    users_role_name(role));
	html_time(b, created);
	hbuf_puts(b, "</td><td>");
	if (!self) {
		form_open(b, u->rq, "role", name);
		role_select(b, role);
		hbuf_puts(b, "<button type=\"submit\">Set role</button></form> ");
	}
	form_open(b, u->rq, "passwd", name);
	hbuf_puts(b, "<input type=\"password\" name=\"password\" minlength=\"8\" maxlength=\"1024\""
		     " autocomplete=\"new-password\" aria-label=\"new password\" required>"
		     "<button type=\"submit\">Set password</button></form> ");
	form_open(b, u->rq, "token", name);
	hbuf_puts(b, "<input name=\"label\" maxlength=\"128\" placeholder=\"label\""
		     " aria-label=\"token label\"><button type=\"submit\">New API token</button>"
		     "</form> ");
	if (!self) {
		form_open(b, u->rq, "del", name);
		hbuf_puts(b, "<button type=\"submit\">Delete</button></form>");
	}
	hbuf_puts(b, "</td></tr>\n");
	return 0;
}

static int tokens_html_row(void *arg, long long id, const char *name, const char *label,
			   double created, double last_used)
{
	struct users_html *u = arg;
	struct hbuf *b = u->b;

	hbuf_printf(b, "<tr><td class=\"num\">%lld</td><td>", id);
	hbuf_esc(b, name);
	hbuf_puts(b, "</td><td>");
	hbuf_esc(b, label);
	hbuf_puts(b, "</td><td>");
	html_time(b, created);
	hbuf_puts(b, "</td><td>");
	if (last_used > 0)
		html_time(b, last_used);
	else
		hbuf_puts(b, "never");
	hbuf_puts(b, "</td><td>");
	form_open(b, u->rq, "revoke", NULL);
	hbuf_printf(b, "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		       "<button type=\"submit\">Revoke</button></form></td></tr>\n", id);
	return 0;
}

/* The page, with msg (an error when is_error) and a new token to show. */
static int users_page(const struct page_req *rq, struct page_resp *out, int status,
		      const char *msg, int is_error, const char *token)
{
	sqlite3 *db = page_db(rq);
	struct users_html u;
	struct hr_err err;
	struct hbuf b;

	if (db == NULL)
		return page_error(rq, out, 500, "the database cannot be opened");
	hbuf_init(&b);
	html_begin(&b, rq, "Users", "users");
	if (msg != NULL) {
		hbuf_printf(&b, "<p class=\"%s\" role=\"status\">", is_error ? "error" : "muted");
		hbuf_esc(&b, msg);
		hbuf_puts(&b, "</p>\n");
	}
	if (token != NULL) {
		hbuf_puts(&b, "<p>The new API token (shown only now; send it as"
			      " <code>Authorization: Bearer TOKEN</code>):</p><p><code>");
		hbuf_esc(&b, token);
		hbuf_puts(&b, "</code></p>\n");
	}
	hbuf_puts(&b, "<div class=\"scroll\"><table class=\"table\"><thead><tr><th>User</th>"
		      "<th>Role</th><th>Created (UTC)</th><th>Change</th></tr></thead><tbody>\n");
	u.b = &b;
	u.rq = rq;
	if (users_list(db, users_html_row, &u, &err) < 0) {
		hbuf_free(&b);
		return page_error(rq, out, 500, "the users cannot be read");
	}
	hbuf_puts(&b, "</tbody></table></div>\n<h2>API tokens</h2>\n<div class=\"scroll\">"
		      "<table class=\"table\"><thead><tr><th>Id</th><th>User</th><th>Label</th>"
		      "<th>Created (UTC)</th><th>Last used (UTC)</th><th></th></tr></thead><tbody>\n");
	if (users_token_list(db, tokens_html_row, &u, &err) < 0) {
		hbuf_free(&b);
		return page_error(rq, out, 500, "the API tokens cannot be read");
	}
	hbuf_puts(&b, "</tbody></table></div>\n<h2>Add a user</h2>\n");
	form_open(&b, rq, "add", NULL);
	hbuf_puts(&b, "<input name=\"name\" maxlength=\"64\" placeholder=\"name\""
		      " aria-label=\"name\" required pattern=\"[A-Za-z0-9._@-]+\">");
	role_select(&b, ROLE_VIEWER);
	hbuf_puts(&b, "<input type=\"password\" name=\"password\" minlength=\"8\""
		      " maxlength=\"1024\" autocomplete=\"new-password\" placeholder=\"password\""
		      " aria-label=\"password\" required><button type=\"submit\">Add</button></form>\n");
	html_end(&b);
	out->status = status;
	return hbuf_to_resp(&b, out);
}

int admin_users(const struct page_req *rq, struct page_resp *out)
{
	static const struct {
		const char *op, *msg;
	} done[] = {
		{ "add", "The user was added." },
		{ "del", "The user was deleted." },
		{ "role", "The role was changed." },
		{ "passwd", "The password was set; the user's sessions have ended." },
		{ "revoke", "The API token was revoked." },
	};
	const char *d = page_arg(rq, "done");
	size_t i;

	for (i = 0; d != NULL && i < sizeof(done) / sizeof(done[0]); i++)
		if (strcmp(d, done[i].op) == 0)
			return users_page(rq, out, 200, done[i].msg, 0, NULL);
	return users_page(rq, out, 200, NULL, 0, NULL);
}

int admin_users_post(const struct page_req *rq, struct page_resp *out)
{
	const char *op = page_arg(rq, "op"), *name = page_arg(rq, "name");
	sqlite3 *db = page_db(rq);
	char token[USERS_TOKEN_SIZE];
	enum page_role role = ROLE_NONE;
	struct hr_err err;
	int rc;

	if (db == NULL)
		return page_error(rq, out, 500, "the database cannot be opened");
	if (op == NULL)
		return users_page(rq, out, 400, "op is missing", 1, NULL);
	if (strcmp(op, "revoke") == 0) {
		const char *id_s = page_arg(rq, "id");
		int64_t id;

		if (id_s == NULL || hr_parse_i64(id_s, strlen(id_s), &id) < 0 || id <= 0)
			return users_page(rq, out, 400, "id must be a token's id", 1, NULL);
		if (users_token_del(db, rq->user, (long long)id, &err) < 0)
			return users_page(rq, out, 400, err.msg, 1, NULL);
		hr_strlcpy(out->location, "/admin/users?done=revoke", sizeof(out->location));
		return 0;
	}
	if (!users_name_ok(name))
		return users_page(rq, out, 400, "not a user name (1-64 of A-Z a-z 0-9 . _ @ -)", 1,
				  NULL);
	if ((strcmp(op, "add") == 0 || strcmp(op, "role") == 0) &&
	    users_role_parse(page_arg(rq, "role"), &role) < 0)
		return users_page(rq, out, 400, "no such role (viewer, operator, admin)", 1, NULL);
	if ((strcmp(op, "del") == 0 || strcmp(op, "role") == 0) && strcmp(name, rq->user) == 0)
		return users_page(rq, out, 400, "you cannot delete yourself or change your own role",
				  1, NULL);
	if (strcmp(op, "add") == 0)
		rc = users_add(db, rq->user, name, role, page_arg(rq, "password"), &err);
	else if (strcmp(op, "del") == 0)
		rc = users_del(db, rq->user, name, &err);
	else if (strcmp(op, "role") == 0)
		rc = users_set_role(db, rq->user, name, role, &err);
	else if (strcmp(op, "passwd") == 0)
		rc = users_passwd(db, rq->user, name, page_arg(rq, "password"), &err);
	else if (strcmp(op, "token") == 0) {
		rc = users_token_new(db, rq->user, name, page_arg(rq, "label"), token, &err);
		if (rc == 0) {
			rc = users_page(rq, out, 200, "A new API token was made.", 0, token);
			explicit_bzero(token, sizeof(token));
			return rc;
		}
	} else
		return users_page(rq, out, 400, "op must be add, del, role, passwd, token or revoke",
				  1, NULL);
	if (rc < 0)
		return users_page(rq, out, 400, err.msg, 1, NULL);
	snprintf(out->location, sizeof(out->location), "/admin/users?done=%s", op);
	return 0;
}
