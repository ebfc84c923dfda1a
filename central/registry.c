/* registry.c: the host registry and latest labels in SQLite (see
 * registry.h). synchronous=FULL: an acknowledged batch's seq must survive a
 * power loss, or a resend after it would be stored twice where librrd does
 * not refuse it; and a "storing" intent must be on disk before the first
 * RRD write it covers. */
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
	sqlite3_stmt *get_intent, *put_intent, *del_intent, *get_stale, *mark_stale, *list;
};

/* Hosts whose documents carry no interval are counted at this one. */
#define REGISTRY_INTERVAL_DEFAULT 60

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS hosts ("
	" name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" interval INTEGER NOT NULL, first_seen INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS labels ("
	" host TEXT NOT NULL, probe TEXT NOT NULL, instance TEXT NOT NULL,"
	" name TEXT NOT NULL, value TEXT NOT NULL, t INTEGER NOT NULL,"
	" PRIMARY KEY (host, probe, instance, name));"
	/* One row per host while a batch is being written to its archives:
	 * the batch's seq and its latest sample time. */
	"CREATE TABLE IF NOT EXISTS storing ("
	" host TEXT PRIMARY KEY, seq INTEGER NOT NULL, t INTEGER NOT NULL);";

/* Columns added to hosts after its first version, for older files. */
static const struct {
	const char *name;
	const char *ddl;
} added_columns[] = {
	{ "stale", "ALTER TABLE hosts ADD COLUMN stale INTEGER NOT NULL DEFAULT 0" },
	{ "stale_since", "ALTER TABLE hosts ADD COLUMN stale_since INTEGER NOT NULL DEFAULT 0" },
};

static int db_fail(struct registry *r, struct hr_err *err, const char *what)
{
	return hr_err_set(err, "registry: %s: %s", what, sqlite3_errmsg(r->db));
}

static int add_columns(struct registry *r, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int have[sizeof(added_columns) / sizeof(added_columns[0])] = { 0 };
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(r->db, "PRAGMA table_info(hosts)", -1, &st, NULL) != SQLITE_OK)
		return db_fail(r, err, "reading the hosts table");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		for (i = 0; name != NULL && i < sizeof(have) / sizeof(have[0]); i++)
			if (strcmp(name, added_columns[i].name) == 0)
				have[i] = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(r, err, "reading the hosts table");
	for (i = 0; i < sizeof(have) / sizeof(have[0]); i++)
		if (!have[i] && sqlite3_exec(r->db, added_columns[i].ddl, NULL, NULL, NULL) != SQLITE_OK)
			return db_fail(r, err, "adding a column to hosts");
	return 0;
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
	if (add_columns(r, err) < 0)
		goto fail;
	if (sqlite3_prepare_v2(r->db, "SELECT last_seq FROM hosts WHERE name = ?1", -1,
			       &r->get_seq, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "INSERT INTO hosts (name, last_seq, last_seen, interval, first_seen)"
			       " VALUES (?1, ?2, ?3, ?4, ?3) ON CONFLICT (name) DO UPDATE SET"
			       " last_seq = excluded.last_seq, last_seen = excluded.last_seen,"
			       " interval = excluded.interval, stale = 0, stale_since = 0", -1,
			       &r->put_host, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "INSERT INTO labels (host, probe, instance, name, value, t)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (host, probe, instance, name)"
			       " DO UPDATE SET value = excluded.value, t = excluded.t"
			       " WHERE excluded.t >= labels.t", -1, &r->put_label, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "SELECT seq, t FROM storing WHERE host = ?1", -1,
			       &r->get_intent, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO storing (host, seq, t)"
			       " VALUES (?1, ?2, ?3)", -1, &r->put_intent, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "DELETE FROM storing WHERE host = ?1", -1,
			       &r->del_intent, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db, "SELECT stale FROM hosts WHERE name = ?1", -1,
			       &r->get_stale, NULL) != SQLITE_OK ||
	    /* One statement: the hosts it marks are the hosts it returns. */
	    sqlite3_prepare_v2(r->db,
			       "UPDATE hosts SET stale = 1, stale_since = ?1 WHERE stale = 0 AND"
			       " ?1 - MAX(last_seen, ?4) >= ?2 * (CASE WHEN interval > 0 THEN interval"
			       " ELSE ?3 END) RETURNING name, last_seq, last_seen, interval, stale,"
			       " stale_since", -1, &r->mark_stale, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(r->db,
			       "SELECT name, last_seq, last_seen, interval, stale, stale_since"
			       " FROM hosts ORDER BY name", -1, &r->list, NULL) != SQLITE_OK) {
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
	sqlite3_finalize(r->get_intent);
	sqlite3_finalize(r->put_intent);
	sqlite3_finalize(r->del_intent);
	sqlite3_finalize(r->get_stale);
	sqlite3_finalize(r->mark_stale);
	sqlite3_finalize(r->list);
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
	return registry_commit_ex(r, b, now, NULL, err);
}

int registry_commit_ex(struct registry *r, const struct hr_batch *b, time_t now,
		       int *was_stale, struct hr_err *err)
{
	size_t i, j;
	int rc = -1, step;

	if (was_stale != NULL)
		*was_stale = 0;
	pthread_mutex_lock(&r->lock);
	if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(r, err, "begin");
		goto out;
	}
	/* Read in the transaction that clears it: the checker cannot mark the
	 * host in between, so "stale" and "reports again" are logged in
	 * pairs. */
	sqlite3_bind_text(r->get_stale, 1, b->host, -1, SQLITE_STATIC);
	step = sqlite3_step(r->get_stale);
	if (step == SQLITE_ROW && was_stale != NULL)
		*was_stale = sqlite3_column_int(r->get_stale, 0) != 0;
	sqlite3_reset(r->get_stale);
	sqlite3_clear_bindings(r->get_stale);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_fail(r, err, "reading hosts");
		goto rollback;
	}
	/* The batch is stored: its intent (and any left over) is done. */
	sqlite3_bind_text(r->del_intent, 1, b->host, -1, SQLITE_STATIC);
	if (step_done(r->del_intent) < 0) {
		db_fail(r, err, "writing storing");
		goto rollback;
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

int registry_intent(struct registry *r, const char *host, uint64_t *seq, time_t *t,
		    struct hr_err *err)
{
	int rc, found = 0;

	*seq = 0;
	*t = 0;
	pthread_mutex_lock(&r->lock);
	sqlite3_bind_text(r->get_intent, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(r->get_intent);
	if (rc == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(r->get_intent, 0);
		*t = (time_t)sqlite3_column_int64(r->get_intent, 1);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		found = db_fail(r, err, "reading storing");
	}
	sqlite3_reset(r->get_intent);
	sqlite3_clear_bindings(r->get_intent);
	pthread_mutex_unlock(&r->lock);
	return found;
}

int registry_intent_set(struct registry *r, const char *host, uint64_t seq, time_t t,
			struct hr_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	/* Without an fsync of its own (WAL, synchronous=NORMAL): the intent
	 * then survives a killed central, which is what it is for, and costs
	 * no disk flush while the registry's lock is held; the commit's fsync
	 * flushes it with the rest of the WAL. After a power loss the RRD
	 * files, which librrd does not flush either, are uncertain anyway. */
	sqlite3_exec(r->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	sqlite3_bind_text(r->put_intent, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->put_intent, 2, (sqlite3_int64)seq);
	sqlite3_bind_int64(r->put_intent, 3, (sqlite3_int64)t);
	if (step_done(r->put_intent) < 0)
		rc = db_fail(r, err, "writing storing");
	sqlite3_exec(r->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static void host_row(sqlite3_stmt *st, struct registry_host *h)
{
	h->name = (const char *)sqlite3_column_text(st, 0);
	h->last_seq = (uint64_t)sqlite3_column_int64(st, 1);
	h->last_seen = (time_t)sqlite3_column_int64(st, 2);
	h->interval = (unsigned)sqlite3_column_int64(st, 3);
	h->stale = sqlite3_column_int(st, 4) != 0;
	h->stale_since = (time_t)sqlite3_column_int64(st, 5);
	if (h->name == NULL)
		h->name = "";
}

/* Steps st to its end, handing each row to fn (until fn returns nonzero). */
static int each_host(struct registry *r, sqlite3_stmt *st, registry_host_fn fn, void *arg,
		     const char *what, struct hr_err *err)
{
	struct registry_host h;
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (stop)
			continue;
		host_row(st, &h);
		stop = fn(arg, &h) != 0;
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(r, err, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int registry_hosts(struct registry *r, registry_host_fn fn, void *arg, struct hr_err *err)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	rc = each_host(r, r->list, fn, arg, "reading hosts", err);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int registry_mark_stale(struct registry *r, time_t now, time_t since, unsigned intervals,
			registry_host_fn fn, void *arg, struct hr_err *err)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	sqlite3_bind_int64(r->mark_stale, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(r->mark_stale, 2, (sqlite3_int64)intervals);
	sqlite3_bind_int64(r->mark_stale, 3, REGISTRY_INTERVAL_DEFAULT);
	sqlite3_bind_int64(r->mark_stale, 4, (sqlite3_int64)since);
	rc = each_host(r, r->mark_stale, fn, arg, "marking stale hosts", err);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* --- reads on a caller's connection ---------------------------------------- */

static int read_fail(sqlite3 *db, struct hr_err *err, const char *what)
{
	return hr_err_set(err, "registry: %s: %s", what, sqlite3_errmsg(db));
}

int registry_read_hosts(sqlite3 *db, registry_host_fn fn, void *arg, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	struct registry_host h;
	int rc = SQLITE_DONE, stop = 0;

	if (sqlite3_prepare_v2(db, "SELECT name, last_seq, last_seen, interval, stale, stale_since"
			       " FROM hosts ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return read_fail(db, err, "reading hosts");
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		host_row(st, &h);
		stop = fn(arg, &h) != 0;
	}
	if (!stop && rc != SQLITE_DONE) {
		read_fail(db, err, "reading hosts");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int registry_read_host(sqlite3 *db, const char *host, struct registry_host *h,
		       struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(h, 0, sizeof(*h));
	if (sqlite3_prepare_v2(db, "SELECT name, last_seq, last_seen, interval, stale, stale_since"
			       " FROM hosts WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return read_fail(db, err, "reading a host");
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		host_row(st, h);
		h->name = host;
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		h->name = host;
		rc = 0;
	} else {
		rc = read_fail(db, err, "reading a host");
	}
	sqlite3_finalize(st);
	return rc;
}

static const char *col_str(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

int registry_read_labels(sqlite3 *db, const char *host, registry_label_fn fn, void *arg,
			 struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	struct registry_label l;
	int rc = SQLITE_DONE, stop = 0;

	/* Two statements: one with "?1 IS NULL OR" would not use the key. */
	if (sqlite3_prepare_v2(db, host != NULL ?
			       "SELECT host, probe, instance, name, value, t FROM labels"
			       " WHERE host = ?1 ORDER BY host, probe, instance, name" :
			       "SELECT host, probe, instance, name, value, t FROM labels"
			       " ORDER BY host, probe, instance, name", -1, &st, NULL) != SQLITE_OK)
		return read_fail(db, err, "reading labels");
	if (host != NULL)
		sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		l.host = col_str(st, 0);
		l.probe = col_str(st, 1);
		l.instance = col_str(st, 2);
		l.name = col_str(st, 3);
		l.value = col_str(st, 4);
		l.t = (time_t)sqlite3_column_int64(st, 5);
		stop = fn(arg, &l) != 0;
	}
	if (!stop && rc != SQLITE_DONE) {
		read_fail(db, err, "reading labels");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}
