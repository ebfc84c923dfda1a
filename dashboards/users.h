/* users.h: the dashboards' users and API tokens in DATA/headroom.db:
 * tables users (name, role, crypt(3) hash) and api_tokens (only a token's
 * SHA-256 is stored). Every change is written to the audit log with the
 * acting user. Used by web.c and admin.c (the central) and by
 * `headroom user` (cli/user_cmd.c). */
#ifndef HR_USERS_H
#define HR_USERS_H

#include <sqlite3.h>

#include "err.h"
#include "page.h"

#define USERS_NAME_MAX 64      /* a user's name: 1..64 of [A-Za-z0-9._@-] */
#define USERS_PW_MIN 8
#define USERS_PW_MAX 1024
#define USERS_LABEL_MAX 128    /* an API token's label */
#define USERS_TOKEN_PREFIX "hrt_"
#define USERS_TOKEN_SIZE 64    /* room for "hrt_" + 43 base64url + NUL */

/* Creates the tables users and api_tokens, and those they depend on (the
 * audit log, the sessions), when missing. db borrowed. 0 or -1 with err. */
int users_init(sqlite3 *db, struct hr_err *err);

/* 1 when name is a valid user name, else 0. */
int users_name_ok(const char *name);
/* 0 when password's length is acceptable, else -1 with err saying why. */
int users_password_ok(const char *password, struct hr_err *err);
/* "viewer", "operator", "admin" (static); "none" otherwise. */
const char *users_role_name(enum page_role role);
/* Parses a role name; 0, or -1 when s is not one. */
int users_role_parse(const char *s, enum page_role *role);

/* Adds user name with role and password (hashed with yescrypt, or
 * sha512crypt where yescrypt is missing); who is the acting user for the
 * audit log ("cli:USER" from the command line). -1 with err when the name,
 * role or password is bad or the user exists (nothing changed). */
int users_add(sqlite3 *db, const char *who, const char *name, enum page_role role,
	      const char *password, struct hr_err *err);
/* Deletes user name, their API tokens and sessions. -1 with err when there
 * is no such user. */
int users_del(sqlite3 *db, const char *who, const char *name, struct hr_err *err);
/* Sets a new password and ends the user's sessions. -1 with err when the
 * password is bad or there is no such user. */
int users_passwd(sqlite3 *db, const char *who, const char *name, const char *password,
		 struct hr_err *err);
/* Sets a user's role (their sessions get it at once). -1 with err. */
int users_set_role(sqlite3 *db, const char *who, const char *name, enum page_role role,
		   struct hr_err *err);

/* Calls fn for every user, by name. The strings are valid during the call
 * only. fn returning nonzero stops. 0 or -1 with err. */
typedef int (*users_list_fn)(void *arg, const char *name, enum page_role role, double created,
			     double changed);
int users_list(sqlite3 *db, users_list_fn fn, void *arg, struct hr_err *err);

/* Checks name's password: 1 right (*role set), 0 wrong or no such user,
 * -1 with err on a database failure. An unknown user costs one hash too,
 * and the hashes are compared in constant time. */
int users_check_password(sqlite3 *db, const char *name, const char *password,
			 enum page_role *role, struct hr_err *err);

/* Makes a new API token for user name labelled label (NULL: ""), writes it
 * ("hrt_" + 43 base64url characters) into out (USERS_TOKEN_SIZE bytes) and
 * stores its SHA-256 only: the token cannot be shown again. 0 or -1 with
 * err (no such user, bad label). */
int users_token_new(sqlite3 *db, const char *who, const char *name, const char *label,
		    char out[USERS_TOKEN_SIZE], struct hr_err *err);
/* Checks an API token at unix time now: 1 valid (name, USERS_NAME_MAX + 1
 * bytes, and *role set; last_used updated), 0 unknown or malformed, -1 with
 * err on a database failure. */
int users_token_check(sqlite3 *db, const char *token, double now, char *name,
		      enum page_role *role, struct hr_err *err);

/* Calls fn for every API token (never the token itself: it is not
 * stored), by user and id; last_used is 0 when never used. The strings are
 * valid during the call only; fn returning nonzero stops. 0 or -1. */
typedef int (*users_token_fn)(void *arg, long long id, const char *name, const char *label,
			      double created, double last_used);
int users_token_list(sqlite3 *db, users_token_fn fn, void *arg, struct hr_err *err);
/* Revokes API token id (audited as "token.del" by who). -1 with err when
 * there is no such token. */
int users_token_del(sqlite3 *db, const char *who, long long id, struct hr_err *err);

#endif
