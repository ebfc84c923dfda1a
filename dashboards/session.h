/* session.h: the dashboards' login sessions (table sessions: only the
 * SHA-256 of the cookie is stored), their CSRF tokens, failed-login
 * throttling per user and per client (table login_failures), and the keyed
 * pseudonyms of client addresses (HMAC-SHA256 with DATA/web.key). The
 * clock is the caller's (now, unix seconds) so that tests can move it. */
#ifndef HR_SESSION_H
#define HR_SESSION_H

#include <stddef.h>

#include <sqlite3.h>

#include "err.h"
#include "page.h"

#define SESSION_IDLE_S (12.0 * 3600)    /* ends after this long unused */
#define SESSION_ABS_S (7.0 * 86400)     /* and this long after login */
#define SESSION_TOUCH_S 60.0            /* last_seen written at most this often */
#define SESSION_TOKEN_SIZE 48           /* 43 base64url characters + NUL */
#define SESSION_KEY_LEN 32
#define SESSION_PSEUDO_SIZE 19          /* "p:" + 16 hex + NUL */
#define SESSION_FAIL_MAX 5              /* failures in SESSION_FAIL_WINDOW_S */
#define SESSION_FAIL_WINDOW_S 900.0
#define SESSION_BLOCK_MIN_S 30.0        /* the first refusal; doubles */
#define SESSION_BLOCK_MAX_S 900.0

struct session {
	char user[65];
	enum page_role role;
	char csrf[SESSION_TOKEN_SIZE];
	double created, last_seen, expires;   /* expires: the absolute end */
};

/* Creates the tables sessions and login_failures when missing. 0 or -1. */
int session_init(sqlite3 *db, struct hr_err *err);

/* Starts a session for user with role at now from client (a pseudonym):
 * writes the cookie value into cookie (SESSION_TOKEN_SIZE bytes) and the
 * session into s. 0 or -1 with err. */
int session_new(sqlite3 *db, const char *user, enum page_role role, const char *client,
		double now, char cookie[SESSION_TOKEN_SIZE], struct session *s,
		struct hr_err *err);
/* Looks up the session of cookie at now: 1 live (s filled; last_seen moved
 * when older than SESSION_TOUCH_S), 0 unknown, malformed or expired (an
 * expired one is deleted), -1 with err on a database failure. */
int session_check(sqlite3 *db, const char *cookie, double now, struct session *s,
		  struct hr_err *err);
/* Ends the session of cookie (none: no error). 0 or -1. */
int session_end(sqlite3 *db, const char *cookie, struct hr_err *err);
/* Ends every session of user. 0 or -1. */
int session_end_user(sqlite3 *db, const char *user, struct hr_err *err);
/* Gives user's sessions a new role. 0 or -1. */
int session_set_role(sqlite3 *db, const char *user, enum page_role role, struct hr_err *err);
/* Deletes the sessions expired at now and stale throttling rows. 0 or -1. */
int session_purge(sqlite3 *db, double now, struct hr_err *err);
/* 1 when token equals the session's CSRF token (constant time), else 0
 * (also for NULL). */
int session_csrf_ok(const struct session *s, const char *token);

/* Failed-login throttling. Checks whether a login as user from client may
 * be tried at now: 0 yes, 1 no (*retry_after: seconds to wait, rounded
 * up), -1 with err. Either key being blocked refuses; user or client may
 * be NULL (not counted: a name that is not a valid user name). */
int session_throttle_check(sqlite3 *db, const char *user, const char *client, double now,
			   double *retry_after, struct hr_err *err);
/* Counts a failed login for user and for client: the SESSION_FAIL_MAX-th
 * failure within SESSION_FAIL_WINDOW_S blocks the key for
 * SESSION_BLOCK_MIN_S, doubling with every block up to SESSION_BLOCK_MAX_S.
 * 0 or -1. */
int session_throttle_fail(sqlite3 *db, const char *user, const char *client, double now,
			  struct hr_err *err);
/* A successful login: clears user's counter and block. 0 or -1. */
int session_throttle_clear(sqlite3 *db, const char *user, struct hr_err *err);

/* Reads the pseudonymisation key from DATA/web.key, making it (0600, from
 * gnutls_rnd) when missing. 0 or -1 with err (also for a key file of the
 * wrong size). */
int session_key_load(const char *data_dir, unsigned char key[SESSION_KEY_LEN],
		     struct hr_err *err);
/* The pseudonym of a client address: "p:" and the first 16 hex digits of
 * HMAC-SHA256(key, addr). */
void session_pseudonym(const unsigned char key[SESSION_KEY_LEN], const char *addr,
		       char out[SESSION_PSEUDO_SIZE]);

/* Helpers shared with users.c. n random bytes (gnutls_rnd, key quality)
 * as unpadded base64url into out (4 * n / 3 + 2 bytes); 0 or -1. */
int session_random_b64(size_t n, char *out, size_t out_size, struct hr_err *err);
/* SHA-256 of s as 64 lower-case hex digits + NUL. */
void session_sha256_hex(const char *s, char out[65]);
/* 1 when a and b are equal strings, compared in time independent of
 * where they differ; 0 otherwise (also when either is NULL). */
int session_ct_equal(const char *a, const char *b);

#endif
