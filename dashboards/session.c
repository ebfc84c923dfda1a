/* session.c: login sessions, CSRF tokens, failed-login throttling and the
 * client pseudonyms (session.h). Secrets (the cookie) are kept only as
 * their SHA-256, so a copy of the database opens no session. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "session.h"
#include "util.h"

int session_init(sqlite3 *db, struct hr_err *err)
{
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS sessions ("
			 " id_sha256 TEXT PRIMARY KEY, user TEXT NOT NULL, role INTEGER NOT NULL,"
			 " csrf TEXT NOT NULL, created REAL NOT NULL, last_seen REAL NOT NULL,"
			 " expires REAL NOT NULL, client TEXT NOT NULL);"
			 "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);"
			 "CREATE TABLE IF NOT EXISTS login_failures ("
			 " key TEXT PRIMARY KEY, fails INTEGER NOT NULL, first REAL NOT NULL,"
			 " last REAL NOT NULL, blocks INTEGER NOT NULL, blocked_until REAL NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
	return 0;
}

int session_random_b64(size_t n, char *out, size_t out_size, struct hr_err *err)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char buf[64];
	size_t i, o = 0;

	if (n > sizeof(buf) || out_size < (4 * n) / 3 + 2)
		return hr_err_set(err, "random: buffer too small");
	if (gnutls_rnd(GNUTLS_RND_KEY, buf, n) < 0)
		return hr_err_set(err, "random: gnutls_rnd failed");
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)buf[i] << 16 | (unsigned)buf[i + 1] << 8 | buf[i + 2];

		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		out[o++] = alpha[buf[i] >> 2];
		out[o++] = alpha[(buf[i] & 3) << 4];
	} else if (n - i == 2) {
		unsigned v = (unsigned)buf[i] << 8 | buf[i + 1];

		out[o++] = alpha[v >> 10 & 63];
		out[o++] = alpha[v >> 4 & 63];
		out[o++] = alpha[(v & 15) << 2];
	}
	out[o] = '\0';
	gnutls_memset(buf, 0, sizeof(buf));
	return 0;
}

void session_sha256_hex(const char *s, char out[65])
{
	unsigned char d[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), d) < 0)
		memset(d, 0, sizeof(d));   /* never matches a stored hash of a real token */
	hr_hex(out, d, sizeof(d));
}

int session_ct_equal(const char *a, const char *b)
{
	size_t la, lb, i;
	unsigned char diff;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	diff = la != lb;
	for (i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return diff == 0;
}

/* A cookie or token of ours: exactly 43 base64url characters. */
static int token_shape_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= 43 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				 (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return i == 43;
}

/* Runs one statement whose parameters are given by spec, one letter each:
 * 't' text (const char *), 'd' double, 'i' int. 0 or -1 with err. */
static int run(sqlite3 *db, struct hr_err *err, const char *sql, const char *spec, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
	va_start(ap, spec);
	for (i = 0; spec[i] != '\0'; i++) {
		if (spec[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else if (spec[i] == 'd')
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
		else
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
	return 0;
}

int session_new(sqlite3 *db, const char *user, enum page_role role, const char *client,
		double now, char cookie[SESSION_TOKEN_SIZE], struct session *s,
		struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	char id[65];
	int rc;

	memset(s, 0, sizeof(*s));
	if (strlen(user) >= sizeof(s->user))
		return hr_err_set(err, "sessions: user name too long");
	if (session_random_b64(32, cookie, SESSION_TOKEN_SIZE, err) < 0 ||
	    session_random_b64(32, s->csrf, sizeof(s->csrf), err) < 0)
		return -1;
	session_sha256_hex(cookie, id);
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->role = role;
	s->created = s->last_seen = now;
	s->expires = now + SESSION_ABS_S;
	if (sqlite3_prepare_v2(db, "INSERT INTO sessions (id_sha256, user, role, csrf, created,"
			       " last_seen, expires, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)role);
	sqlite3_bind_text(st, 4, s->csrf, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, now);
	sqlite3_bind_double(st, 6, now);
	sqlite3_bind_double(st, 7, s->expires);
	sqlite3_bind_text(st, 8, client != NULL ? client : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
	return 0;
}

int session_check(sqlite3 *db, const char *cookie, double now, struct session *s,
		  struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	char id[65];
	int rc, live;

	memset(s, 0, sizeof(*s));
	if (!token_shape_ok(cookie))
		return 0;
	session_sha256_hex(cookie, id);
	if (sqlite3_prepare_v2(db, "SELECT user, role, csrf, created, last_seen, expires"
			       " FROM sessions WHERE id_sha256 = ?", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		hr_err_set(err, "sessions: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	snprintf(s->user, sizeof(s->user), "%s", (const char *)sqlite3_column_text(st, 0));
	s->role = (enum page_role)sqlite3_column_int(st, 1);
	snprintf(s->csrf, sizeof(s->csrf), "%s", (const char *)sqlite3_column_text(st, 2));
	s->created = sqlite3_column_double(st, 3);
	s->last_seen = sqlite3_column_double(st, 4);
	s->expires = sqlite3_column_double(st, 5);
	sqlite3_finalize(st);
	live = now < s->expires && now - s->last_seen < SESSION_IDLE_S &&
	       s->role >= ROLE_VIEWER && s->role <= ROLE_ADMIN;
	if (!live) {
		memset(s, 0, sizeof(*s));
		if (run(db, err, "DELETE FROM sessions WHERE id_sha256 = ?", "t", id) < 0)
			return -1;
		return 0;
	}
	if (now - s->last_seen >= SESSION_TOUCH_S) {
		s->last_seen = now;
		if (run(db, err, "UPDATE sessions SET last_seen = ? WHERE id_sha256 = ?", "dt", now,
			id) < 0)
			return -1;
	}
	return 1;
}

int session_end(sqlite3 *db, const char *cookie, struct hr_err *err)
{
	char id[65];

	if (!token_shape_ok(cookie))
		return 0;
	session_sha256_hex(cookie, id);
	return run(db, err, "DELETE FROM sessions WHERE id_sha256 = ?", "t", id);
}

int session_end_user(sqlite3 *db, const char *user, struct hr_err *err)
{
	return run(db, err, "DELETE FROM sessions WHERE user = ?", "t", user);
}

int session_set_role(sqlite3 *db, const char *user, enum page_role role, struct hr_err *err)
{
	return run(db, err, "UPDATE sessions SET role = ? WHERE user = ?", "it", (int)role, user);
}

int session_purge(sqlite3 *db, double now, struct hr_err *err)
{
	if (run(db, err, "DELETE FROM sessions WHERE expires <= ? OR last_seen <= ?", "dd", now,
		now - SESSION_IDLE_S) < 0)
		return -1;
	return run(db, err, "DELETE FROM login_failures WHERE blocked_until < ? AND last < ?", "dd",
		   now - SESSION_FAIL_WINDOW_S, now - 86400.0);
}

int session_csrf_ok(const struct session *s, const char *token)
{
	if (s == NULL || s->csrf[0] == '\0')
		return 0;
	return session_ct_equal(s->csrf, token);
}

/* --- failed-login throttling -------------------------------------------- */

struct fails {
	int fails, blocks;
	double first, last, blocked_until;
};

/* Reads key's row: 1 found, 0 none (f zeroed), -1 with err. */
static int fails_get(sqlite3 *db, const char *key, struct fails *f, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(f, 0, sizeof(*f));
	if (sqlite3_prepare_v2(db, "SELECT fails, first, last, blocks, blocked_until"
			       " FROM login_failures WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "login throttle: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		f->fails = sqlite3_column_int(st, 0);
		f->first = sqlite3_column_double(st, 1);
		f->last = sqlite3_column_double(st, 2);
		f->blocks = sqlite3_column_int(st, 3);
		f->blocked_until = sqlite3_column_double(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return hr_err_set(err, "login throttle: %s", sqlite3_errmsg(db));
	return rc == SQLITE_ROW;
}

/* The throttling keys: "u:NAME" (names are capped by the caller) and the
 * client's pseudonym. */
static void user_key(char *dst, size_t n, const char *user)
{
	snprintf(dst, n, "u:%.*s", 1024, user);
}

int session_throttle_check(sqlite3 *db, const char *user, const char *client, double now,
			   double *retry_after, struct hr_err *err)
{
	char ukey[1100];
	const char *keys[2];
	size_t i;

	*retry_after = 0;
	user_key(ukey, sizeof(ukey), user != NULL ? user : "");
	keys[0] = user != NULL ? ukey : NULL;
	keys[1] = client;
	for (i = 0; i < 2; i++) {
		struct fails f;
		int rc;

		if (keys[i] == NULL || keys[i][0] == '\0')
			continue;
		rc = fails_get(db, keys[i], &f, err);
		if (rc < 0)
			return -1;
		if (rc == 1 && f.blocked_until > now && ceil(f.blocked_until - now) > *retry_after)
			*retry_after = ceil(f.blocked_until - now);
	}
	return *retry_after > 0;
}

static int fail_one(sqlite3 *db, const char *key, double now, struct hr_err *err)
{
	struct fails f;
	int rc = fails_get(db, key, &f, err);

	if (rc < 0)
		return -1;
	if (rc == 0 || now - f.first > SESSION_FAIL_WINDOW_S) {
		f.fails = 0;
		f.first = now;
	}
	/* A quiet window after the last block forgives the earlier blocks. */
	if (f.blocks > 0 && now > f.blocked_until + SESSION_FAIL_WINDOW_S)
		f.blocks = 0;
	f.fails++;
	f.last = now;
	if (f.fails >= SESSION_FAIL_MAX) {
		double delay = SESSION_BLOCK_MIN_S * ldexp(1.0, f.blocks < 16 ? f.blocks : 16);

		f.blocked_until = now + (delay < SESSION_BLOCK_MAX_S ? delay : SESSION_BLOCK_MAX_S);
		f.blocks++;
		f.fails = 0;
		f.first = now;
	}
	return run(db, err, "INSERT OR REPLACE INTO login_failures (key, fails, first, last,"
		   " blocks, blocked_until) VALUES (?, ?, ?, ?, ?, ?)", "tiddid", key, f.fails,
		   f.first, f.last, f.blocks, f.blocked_until);
}

int session_throttle_fail(sqlite3 *db, const char *user, const char *client, double now,
			  struct hr_err *err)
{
	char ukey[1100];
	int rc = 0;

	user_key(ukey, sizeof(ukey), user != NULL ? user : "");
	/* IMMEDIATE: read and write under the write lock, so that two threads
	 * counting failures at once wait for each other (busy timeout)
	 * instead of one failing to upgrade its read. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "login throttle: %s", sqlite3_errmsg(db));
	if ((user != NULL && fail_one(db, ukey, now, err) < 0) ||
	    (client != NULL && client[0] != '\0' && fail_one(db, client, now, err) < 0))
		rc = -1;
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = hr_err_set(err, "login throttle: %s", sqlite3_errmsg(db));
	if (rc < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int session_throttle_clear(sqlite3 *db, const char *user, struct hr_err *err)
{
	char ukey[1100];

	user_key(ukey, sizeof(ukey), user);
	return run(db, err, "DELETE FROM login_failures WHERE key = ?", "t", ukey);
}

/* --- pseudonyms --------------------------------------------------------- */

int session_key_load(const char *data_dir, unsigned char key[SESSION_KEY_LEN],
		     struct hr_err *err)
{
	char path[4096];
	ssize_t got;
	int fd;

	if (snprintf(path, sizeof(path), "%s/web.key", data_dir) >= (int)sizeof(path))
		return hr_err_set(err, "%s/web.key: path too long", data_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if (gnutls_rnd(GNUTLS_RND_KEY, key, SESSION_KEY_LEN) < 0)
			return hr_err_set(err, "%s: gnutls_rnd failed", path);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			got = write(fd, key, SESSION_KEY_LEN);
			if (got != SESSION_KEY_LEN || fsync(fd) < 0) {
				int e = got < 0 ? errno : EIO;

				close(fd);
				unlink(path);
				return hr_err_errno(err, e, "%s: cannot write", path);
			}
			if (close(fd) < 0)
				return hr_err_errno(err, errno, "%s", path);
			return 0;
		}
		if (errno != EEXIST)
			return hr_err_errno(err, errno, "%s: cannot create", path);
		/* Another process made it first: read theirs. */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return hr_err_errno(err, errno, "%s", path);
	got = read(fd, key, SESSION_KEY_LEN);
	if (got == SESSION_KEY_LEN) {
		unsigned char extra;

		if (read(fd, &extra, 1) != 0)
			got = -2;
	}
	close(fd);
	if (got != SESSION_KEY_LEN)
		return hr_err_set(err, "%s: not a key (%d bytes wanted)", path, SESSION_KEY_LEN);
	return 0;
}

void session_pseudonym(const unsigned char key[SESSION_KEY_LEN], const char *addr,
		       char out[SESSION_PSEUDO_SIZE])
{
	unsigned char mac[32];

	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, SESSION_KEY_LEN, addr, strlen(addr), mac) < 0)
		memset(mac, 0, sizeof(mac));
	out[0] = 'p';
	out[1] = ':';
	hr_hex(out + 2, mac, 8);
}
