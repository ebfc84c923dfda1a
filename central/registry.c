/* registry.c: the host registry and latest labels in SQLite (see
 * registry.h). synchronous=FULL: an acknowledged batch's seq must survive a
 * power loss, or a resend after it would be stored twice where librrd does
 * not refuse it. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "registry.h"

struct registry {
	sqlite3 *db;
	pthread_mutex_t lock;
	sqlite3_stmt *get_seq, *put_host, *put_label;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS hosts ("
	" name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" interval INTEGER NOT NULL, first_seen INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS labels ("
	" host TEXT NOT NULL, probe TEXT NOT NULL, instance TEXT NOT NULL,"
	" name TEXT NOT NULL, value TEXT NOT NULL, t INTEGER NOT NULL,"
	" PRIMARY KEY (host, probe, instance, name));";

static int db_fail(struct registry *r, struct hr_err *err, const char *what)
{
	return hr_err_set(err, "registry: %s: %s", what, sqlite3_errmsg(r->db));
}

struct registry *registry_open(const char *file, struct hr_err *err)
{
	struct registry *r = calloc(1, sizeof(*r));
	char *msg = NULL;

	if (r == NULL) {
		hr_err_set(err, "registry: out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	if (sqlite3_open_v2(file, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		hr_err_set(err, "registry: %s: %s", file,
			   r->db ? sqlite3_errmsg(r->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 5000);
	if (sqlite3_exec(r->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		hr_err_set(err, "registry: %s: %s", file, msg ? msg : "cannot set up");
		sqlite3_free(msg);
		goto fail;
	}
	if (sqlite3_prepare_v2(r->db, "SELECT last_seq FROM hosts WHERE name = ?1", -1,
			       &r->get_seq, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "INSERT INTO hosts (name, last_seq, last_seen, interval, first_seen)"
			       " VALUES (?1, ?2, ?3, ?4, ?3) ON CONFLICT (name) DO UPDATE SET"
			       " last_seq = excluded.last_seq, last_seen = excluded.last_seen,"
			       " interval = excluded.interval", -1, &r->put_host, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "INSERT INTO labels (host, probe, instance, name, value, t)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (host, probe, instance, name)"
			       " DO UPDATE SET value = excluded.value, t = excluded.t"
			       " WHERE excluded.t >= labels.t", -1, &r->put_label, NULL) != SQLITE_OK) {
		db_fail(r, err, file);
		goto fail;
	}
	return r;
fail:
	registry_close(r);
	return NULL;
}

void registry_close(struct registry *r)
{
	if (r == NULL)
		return;
	sqlite3_finalize(r->get_seq);
	sqlite3_finalize(r->put_host);
	sqlite3_finalize(r->put_label);
	sqlite3_close(r->db);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int registry_last_seq(struct registry *r, const char *host, uint64_t *seq, struct hr_err *err)
{
	int rc, known = 0;

	*seq = 0;
	pthread_mutex_lock(&r->lock);
	sqlite3_reset(r->get_seq);
	sqlite3_bind_text(r->get_seq, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(r->get_seq);
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(r->get_seq, 0);
		known = 1;
	} else if (rc != SQLITE_DONE) {
		known = db_fail(r, err, "reading hosts");
	}
	sqlite3_reset(r->get_seq);
	sqlite3_clear_bindings(r->get_seq);
	pthread_mutex_unlock(&r->lock);
	return known;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int registry_commit(struct registry *r, const struct hr_batch *b, time_t now,
		    struct hr_err *err)
{
	size_t i, j;
	int rc = -1;

	pthread_mutex_lock(&r->lock);
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(r, err, "begin");
		goto out;
	}
	/* SQLite integers are signed 64-bit; the decoder keeps seq below 2^53. */
	sqlite3_bind_text(r->put_host, 1, b->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->put_host, 2, (sqlite3_int64)b->seq);
	sqlite3_bind_int64(r->put_host, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(r->put_host, 4, (sqlite3_int64)b->interval);
	if (step_done(r->put_host) < 0) {
		db_fail(r, err, "writing hosts");
		goto rollback;
	}
	for (i = 0; i < b->n; i++) {
		const struct hr_sample *s = &b->samples[i];

		for (j = 0; j < s->nlabels; j++) {
			sqlite3_bind_text(r->put_label, 1, b->host, -1, SQLITE_STATIC);
			sqlite3_bind_text(r->put_label, 2, s->probe, -1, SQLITE_STATIC);
			sqlite3_bind_text(r->put_label, 3, s->instance, -1, SQLITE_STATIC);
			sqlite3_bind_text(r->put_label, 4, s->labels[j].name, -1, SQLITE_STATIC);
			sqlite3_bind_text(r->put_label, 5, s->labels[j].value, -1, SQLITE_STATIC);
			sqlite3_bind_int64(r->put_label, 6, (sqlite3_int64)s->t);
			if (step_done(r->put_label) < 0) {
				db_fail(r, err, "writing labels");
				goto rollback;
			}
		}
	}
	if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(r, err, "commit");
		goto rollback;
	}
	rc = 0;
	goto out;
rollback:
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}
