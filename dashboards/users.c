/* users.c: users with crypt(3) password hashes and API tokens stored as
 * SHA-256 (users.h). Each change and its audit row commit together. */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "audit.h"
#include "session.h"
#include "users.h"
#include "util.h"

int users_init(sqlite3 *db, struct hr_err *err)
{
	if (audit_init(db, err) < 0 || session_init(db, err) < 0)
		return -1;
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS users ("
			 " name TEXT PRIMARY KEY, role INTEGER NOT NULL, hash TEXT NOT NULL,"
			 " created REAL NOT NULL, changed REAL NOT NULL);"
			 "CREATE TABLE IF NOT EXISTS api_tokens ("
			 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
			 " name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,"
			 " token_sha256 TEXT NOT NULL UNIQUE, created REAL NOT NULL,"
			 " last_used REAL, label TEXT NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	return 0;
}

int users_name_ok(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= USERS_NAME_MAX ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return 0;
	}
	return i > 0;
}

int users_password_ok(const char *password, struct hr_err *err)
{
	size_t n = password != NULL ? strnlen(password, USERS_PW_MAX + 1) : 0;

	if (n < USERS_PW_MIN)
		return hr_err_set(err, "the password is too short (at least %d characters)",
				  USERS_PW_MIN);
	if (n > USERS_PW_MAX)
		return hr_err_set(err, "the password is too long (at most %d characters)",
				  USERS_PW_MAX);
	return 0;
}

const char *users_role_name(enum page_role role)
{
	switch (role) {
	case ROLE_VIEWER: return "viewer";
	case ROLE_OPERATOR: return "operator";
	case ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

int users_role_parse(const char *s, enum page_role *role)
{
	static const enum page_role roles[] = { ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };
	size_t i;

	for (i = 0; s != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(s, users_role_name(roles[i])) == 0) {
			*role = roles[i];
			return 0;
		}
	return -1;
}

/* crypt(3) of password with a new salt: yescrypt, or sha512crypt where the
 * library lacks it. out gets CRYPT_OUTPUT_SIZE bytes. 0 or -1 with err. */
static int hash_new(const char *password, char *out, struct hr_err *err)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	int rc = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, setting, sizeof(setting)) == NULL)
		return hr_err_set(err, "crypt: no yescrypt or sha512crypt salt");
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return hr_err_set(err, "out of memory");
	if (crypt_rn(password, setting, cd, (int)sizeof(*cd)) == NULL || cd->output[0] == '*') {
		hr_err_set(err, "crypt: cannot hash");
		goto out;
	}
	hr_strlcpy(out, cd->output, CRYPT_OUTPUT_SIZE);
	rc = 0;
out:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* Runs fn's change and its audit row in one transaction. */
static int begin(sqlite3 *db, struct hr_err *err)
{
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	return 0;
}

static int finish(sqlite3 *db, int rc, struct hr_err *err)
{
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	if (rc < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* One statement with text parameters a, b (NULL: unbound) and c; returns
 * the rows changed, or -1 with err. */
static int change(sqlite3 *db, const char *sql, const char *a, const char *b, const char *c,
		  struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	if (a != NULL)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (c != NULL)
		sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	return sqlite3_changes(db);
}

int users_add(sqlite3 *db, const char *who, const char *name, enum page_role role,
	      const char *password, struct hr_err *err)
{
	char hash[CRYPT_OUTPUT_SIZE];
	sqlite3_stmt *st = NULL;
	double now = hr_now_wall();
	int rc;

	if (!users_name_ok(name))
		return hr_err_set(err, "\"%.64s\" is not a user name (1-%d of A-Z a-z 0-9 . _ @ -)",
				  name != NULL ? name : "", USERS_NAME_MAX);
	if (role < ROLE_VIEWER || role > ROLE_ADMIN)
		return hr_err_set(err, "no such role (viewer, operator, admin)");
	if (users_password_ok(password, err) < 0 || hash_new(password, hash, err) < 0)
		return -1;
	if (begin(db, err) < 0)
		return -1;
	rc = -1;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO users (name, role, hash, created, changed)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)role);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 4, now);
	sqlite3_bind_double(st, 5, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		hr_err_set(err, "user %s exists", name);
		goto out;
	}
	rc = audit_log(db, now, who, "user.add", name, users_role_name(role), err);
out:
	sqlite3_finalize(st);
	explicit_bzero(hash, sizeof(hash));
	return finish(db, rc, err);
}

int users_del(sqlite3 *db, const char *who, const char *name, struct hr_err *err)
{
	int rc = -1, n;

	if (begin(db, err) < 0)
		return -1;
	n = change(db, "DELETE FROM users WHERE name = ?", name, NULL, NULL, err);
	if (n < 0)
		goto out;
	if (n == 0) {
		hr_err_set(err, "no such user: %.64s", name);
		goto out;
	}
	if (change(db, "DELETE FROM api_tokens WHERE name = ?", name, NULL, NULL, err) < 0 ||
	    session_end_user(db, name, err) < 0 ||
	    audit_log(db, hr_now_wall(), who, "user.del", name, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	return finish(db, rc, err);
}

int users_passwd(sqlite3 *db, const char *who, const char *name, const char *password,
		 struct hr_err *err)
{
	char hash[CRYPT_OUTPUT_SIZE], now_s[32];
	double now = hr_now_wall();
	int rc = -1, n;

	if (users_password_ok(password, err) < 0 || hash_new(password, hash, err) < 0)
		return -1;
	snprintf(now_s, sizeof(now_s), "%.3f", now);
	if (begin(db, err) < 0)
		return -1;
	n = change(db, "UPDATE users SET hash = ?, changed = CAST(? AS REAL) WHERE name = ?", hash,
		   now_s, name, err);
	if (n < 0)
		goto out;
	if (n == 0) {
		hr_err_set(err, "no such user: %.64s", name);
		goto out;
	}
	if (session_end_user(db, name, err) < 0 ||
	    audit_log(db, now, who, "user.passwd", name, NULL, err) < 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(hash, sizeof(hash));
	return finish(db, rc, err);
}

int users_set_role(sqlite3 *db, const char *who, const char *name, enum page_role role,
		   struct hr_err *err)
{
	char role_s[8], now_s[32];
	double now = hr_now_wall();
	int rc = -1, n;

	if (role < ROLE_VIEWER || role > ROLE_ADMIN)
		return hr_err_set(err, "no such role (viewer, operator, admin)");
	snprintf(role_s, sizeof(role_s), "%d", (int)role);
	snprintf(now_s, sizeof(now_s), "%.3f", now);
	if (begin(db, err) < 0)
		return -1;
	n = change(db, "UPDATE users SET role = CAST(? AS INTEGER), changed = CAST(? AS REAL)"
		   " WHERE name = ?", role_s, now_s, name, err);
	if (n < 0)
		goto out;
	if (n == 0) {
		hr_err_set(err, "no such user: %.64s", name);
		goto out;
	}
	if (session_set_role(db, name, role, err) < 0 ||
	    audit_log(db, now, who, "user.role", name, users_role_name(role), err) < 0)
		goto out;
	rc = 0;
out:
	return finish(db, rc, err);
}

/* The callers' fn and arg for users_list and users_token_list. */
struct list_cb {
	users_list_fn user;
	users_token_fn token;
	void *arg;
};

/* Steps the query sql and hands each row to row(st, cb) until that returns
 * nonzero; 0, or -1 with err. */
static int each_row(sqlite3 *db, const char *sql,
		    int (*row)(sqlite3_stmt *st, const struct list_cb *cb),
		    const struct list_cb *cb, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(st, cb) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	return 0;
}

static int user_row(sqlite3_stmt *st, const struct list_cb *cb)
{
	return cb->user(cb->arg, (const char *)sqlite3_column_text(st, 0),
			(enum page_role)sqlite3_column_int(st, 1), sqlite3_column_double(st, 2),
			sqlite3_column_double(st, 3));
}

int users_list(sqlite3 *db, users_list_fn fn, void *arg, struct hr_err *err)
{
	const struct list_cb cb = { fn, NULL, arg };

	return each_row(db, "SELECT name, role, created, changed FROM users ORDER BY name",
			user_row, &cb, err);
}

int users_check_password(sqlite3 *db, const char *name, const char *password,
			 enum page_role *role, struct hr_err *err)
{
	char stored[CRYPT_OUTPUT_SIZE];
	struct crypt_data *cd = NULL;
	sqlite3_stmt *st = NULL;
	int rc, found = 0, ok = -1;

	*role = ROLE_NONE;
	stored[0] = '\0';
	if (users_name_ok(name) && password != NULL && strlen(password) <= USERS_PW_MAX) {
		if (sqlite3_prepare_v2(db, "SELECT hash, role FROM users WHERE name = ?", -1, &st,
				       NULL) != SQLITE_OK)
			return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			found = 1;
			hr_strlcpy(stored, (const char *)sqlite3_column_text(st, 0), sizeof(stored));
			*role = (enum page_role)sqlite3_column_int(st, 1);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	}
	/* An unknown user (or a refused input) costs a hash too, so that the
	 * answer's time does not tell which names exist. */
	if (!found && crypt_gensalt_rn("$y$", 0, NULL, 0, stored, sizeof(stored)) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, stored, sizeof(stored)) == NULL)
		return hr_err_set(err, "crypt: no yescrypt or sha512crypt salt");
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return hr_err_set(err, "out of memory");
	if (crypt_rn(password != NULL && strlen(password) <= USERS_PW_MAX ? password : "",
		     stored, cd, (int)sizeof(*cd)) == NULL)
		ok = 0;   /* a damaged hash never matches */
	else
		ok = session_ct_equal(cd->output, stored) && found;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	explicit_bzero(stored, sizeof(stored));
	if (!ok)
		*role = ROLE_NONE;
	return ok;
}

int users_token_new(sqlite3 *db, const char *who, const char *name, const char *label,
		    char out[USERS_TOKEN_SIZE], struct hr_err *err)
{
	char raw[SESSION_TOKEN_SIZE], sum[65];
	sqlite3_stmt *st = NULL;
	double now = hr_now_wall();
	int rc = -1;
	size_t i;

	if (label == NULL)
		label = "";
	if (strlen(label) > USERS_LABEL_MAX)
		return hr_err_set(err, "the label is too long (at most %d characters)",
				  USERS_LABEL_MAX);
	for (i = 0; label[i] != '\0'; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return hr_err_set(err, "the label has a control character");
	if (session_random_b64(32, raw, sizeof(raw), err) < 0)
		return -1;
	snprintf(out, USERS_TOKEN_SIZE, "%s%s", USERS_TOKEN_PREFIX, raw);
	session_sha256_hex(out, sum);
	if (begin(db, err) < 0)
		goto wipe;
	if (sqlite3_prepare_v2(db, "INSERT INTO api_tokens (name, token_sha256, created, label)"
			       " SELECT name, ?, ?, ? FROM users WHERE name = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_text(st, 1, sum, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, now);
	sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		hr_err_set(err, "no such user: %.64s", name);
		goto out;
	}
	rc = audit_log(db, now, who, "token.new", name, label, err);
out:
	sqlite3_finalize(st);
	rc = finish(db, rc, err);
wipe:
	explicit_bzero(raw, sizeof(raw));
	if (rc < 0)
		explicit_bzero(out, USERS_TOKEN_SIZE);
	return rc;
}

int users_token_check(sqlite3 *db, const char *token, double now, char *name,
		      enum page_role *role, struct hr_err *err)
{
	static const size_t plen = sizeof(USERS_TOKEN_PREFIX) - 1;
	sqlite3_stmt *st = NULL;
	char sum[65];
	long long id = 0;
	double last = 0;
	int rc;

	name[0] = '\0';
	*role = ROLE_NONE;
	if (token == NULL || strncmp(token, USERS_TOKEN_PREFIX, plen) != 0 ||
	    strnlen(token, USERS_TOKEN_SIZE) != plen + 43)
		return 0;
	/* Looking up the hash of a secret tells nothing about the secret. */
	session_sha256_hex(token, sum);
	if (sqlite3_prepare_v2(db, "SELECT t.id, t.last_used, u.name, u.role FROM api_tokens t"
			       " JOIN users u ON u.name = t.name WHERE t.token_sha256 = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, sum, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		last = sqlite3_column_double(st, 1);
		hr_strlcpy(name, (const char *)sqlite3_column_text(st, 2), USERS_NAME_MAX + 1);
		*role = (enum page_role)sqlite3_column_int(st, 3);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	if (now - last >= SESSION_TOUCH_S) {
		if (sqlite3_prepare_v2(db, "UPDATE api_tokens SET last_used = ? WHERE id = ?", -1,
				       &st, NULL) != SQLITE_OK)
			return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		sqlite3_bind_double(st, 1, now);
		sqlite3_bind_int64(st, 2, id);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return hr_err_set(err, "users: %s", sqlite3_errmsg(db));
	}
	return 1;
}

static int token_row(sqlite3_stmt *st, const struct list_cb *cb)
{
	return cb->token(cb->arg, sqlite3_column_int64(st, 0),
			 (const char *)sqlite3_column_text(st, 1),
			 (const char *)sqlite3_column_text(st, 2), sqlite3_column_double(st, 3),
			 sqlite3_column_double(st, 4));
}

int users_token_list(sqlite3 *db, users_token_fn fn, void *arg, struct hr_err *err)
{
	const struct list_cb cb = { NULL, fn, arg };

	return each_row(db, "SELECT id, name, label, created, coalesce(last_used, 0)"
			" FROM api_tokens ORDER BY name, id", token_row, &cb, err);
}

int users_token_del(sqlite3 *db, const char *who, long long id, struct hr_err *err)
{
	char name[USERS_NAME_MAX + 1], detail[48];
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (begin(db, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT name FROM api_tokens WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		hr_strlcpy(name, (const char *)sqlite3_column_text(st, 0), sizeof(name));
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_ROW) {
		if (step == SQLITE_DONE)
			hr_err_set(err, "no such API token: %lld", id);
		else
			hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(db, "DELETE FROM api_tokens WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		hr_err_set(err, "users: %s", sqlite3_errmsg(db));
		goto out;
	}
	snprintf(detail, sizeof(detail), "token %lld", id);
	rc = audit_log(db, hr_now_wall(), who, "token.del", name, detail, err);
out:
	sqlite3_finalize(st);
	return finish(db, rc, err);
}
