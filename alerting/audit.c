/* audit.c: the audit log table (audit.h). */
#include "config.h"

#include <sqlite3.h>

#include "audit.h"

int audit_init(sqlite3 *db, struct hr_err *err)
{
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS audit ("
			 " id INTEGER PRIMARY KEY AUTOINCREMENT, t REAL NOT NULL,"
			 " who TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,"
			 " detail TEXT);"
			 "CREATE INDEX IF NOT EXISTS audit_t ON audit (t);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return hr_err_set(err, "audit: %s", sqlite3_errmsg(db));
	return 0;
}

int audit_log(sqlite3 *db, double t, const char *who, const char *action, const char *subject,
	      const char *detail, struct hr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* Rare (transitions and humans), so a statement per call; the
	 * statement cache would gain nothing worth a handle to keep. */
	if (sqlite3_prepare_v2(db, "INSERT INTO audit (t, who, action, subject, detail)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return hr_err_set(err, "audit: %s", sqlite3_errmsg(db));
	sqlite3_bind_double(st, 1, t);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
	if (detail != NULL)
		sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return hr_err_set(err, "audit: %s", sqlite3_errmsg(db));
	return 0;
}
