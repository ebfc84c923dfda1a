/* audit.h: the audit log, one table "audit" in DATA/headroom.db: every
 * change of an alert and every human action (acks, silences, and later the
 * dashboards' logins) as a row (id, t, who, action, subject, detail). The
 * system's own changes are by AUDIT_SYSTEM. Generic on purpose: the caller
 * names the action and the subject. */
#ifndef HR_AUDIT_H
#define HR_AUDIT_H

#include <sqlite3.h>

#include "err.h"

#define AUDIT_SYSTEM "headroom"

/* Creates the table (and its index on t) when missing. db is borrowed. 0,
 * or -1 with err filled. */
int audit_init(sqlite3 *db, struct hr_err *err);

/* Appends one row at unix time t. who, action and subject must be non-NULL
 * (subject may be ""); detail may be NULL. The row is part of the caller's
 * open transaction, if any, so that an alert's change and its audit row
 * commit together. audit_init must have run on db. 0, or -1 with err. */
int audit_log(sqlite3 *db, double t, const char *who, const char *action, const char *subject,
	      const char *detail, struct hr_err *err);

#endif
