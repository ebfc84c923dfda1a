/* registry.h: the central's host registry in SQLite (DATA/headroom.db, WAL):
 * per host the last acknowledged batch seq, when it was last and first seen,
 * its interval and whether it is stale; the batch a host's archives are
 * being written for; and the latest labels of every probe instance. The
 * ingest asks it whether a batch is a resend and records a stored batch in
 * one transaction. One connection, guarded by a mutex: callers from several
 * threads may share a registry. */
#ifndef HR_REGISTRY_H
#define HR_REGISTRY_H

#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "err.h"
#include "wire.h"

struct registry;

/* Opens (creating it and its tables when needed) the database FILE in WAL
 * mode. NULL with err filled when it cannot be opened or set up. Borrows
 * file. Caller frees with registry_close(), which accepts NULL. */
struct registry *registry_open(const char *file, struct hr_err *err);
void registry_close(struct registry *r);

/* The last acknowledged seq of HOST into *seq; returns 1 when the host is
 * known, 0 when it is not (*seq 0), -1 with err filled on a database
 * failure. */
int registry_last_seq(struct registry *r, const char *host, uint64_t *seq, struct hr_err *err);

/* Records batch b as stored, received at now, in one transaction: the
 * host's last_seq, last_seen, interval (first_seen when new) and every
 * label of its samples (replacing older values of the same label). 0, or
 * -1 with err filled and nothing changed. Borrows b. */
int registry_commit(struct registry *r, const struct hr_batch *b, time_t now,
		    struct hr_err *err);

/* registry_commit() that also clears the host's storing intent (below) and
 * its stale mark, and sets *was_stale (may be NULL) to 1 when the host was
 * marked stale until this batch, 0 otherwise, read in the same transaction.
 * registry_commit() is this with was_stale NULL. */
int registry_commit_ex(struct registry *r, const struct hr_batch *b, time_t now,
		       int *was_stale, struct hr_err *err);

/* The storing intent: recorded (registry_intent_set) before the first RRD
 * write of a batch and cleared by its commit, so that one found at the next
 * batch says that a batch was partly written and never committed (the
 * central was killed, or the store failed half-way): seq is that batch's,
 * t its latest sample time. registry_intent(): 1 with *seq and *t when the
 * host has one, 0 when not (both 0), -1 (err filled) on a database failure.
 * registry_intent_set(): replaces the host's intent, in one transaction; 0
 * or -1 (err filled). Borrow host. */
int registry_intent(struct registry *r, const char *host, uint64_t *seq, time_t *t,
		    struct hr_err *err);
int registry_intent_set(struct registry *r, const char *host, uint64_t seq, time_t t,
			struct hr_err *err);

/* One host as the registry knows it. name is valid during the callback. */
struct registry_host {
	const char *name;
	uint64_t last_seq;
	time_t last_seen;       /* when its last batch was stored */
	unsigned interval;      /* its documents' interval (0: none given) */
	int stale;              /* no data for too long (registry_mark_stale) */
	time_t stale_since;     /* when it was marked stale; 0 when not stale */
};

/* Called per host; a nonzero return skips the rest. It runs with the
 * registry locked: it must not call the registry. */
typedef int (*registry_host_fn)(void *arg, const struct registry_host *h);

/* Every host, by name, to fn. 0, or -1 (err filled). */
int registry_hosts(struct registry *r, registry_host_fn fn, void *arg, struct hr_err *err);

/* Marks stale, at now, every host not stale yet whose last batch is at
 * least `intervals` of its intervals old (60 s for a host that sends no
 * interval), and hands each host it marked to fn (may not be NULL), so that
 * the caller logs each change once. A batch older than since counts as
 * stored at since: the central cannot have heard from anyone before it
 * listened, so a restart after downtime does not make every host stale at
 * once. A stored batch clears the mark (registry_commit). 0, or -1 (err
 * filled). */
int registry_mark_stale(struct registry *r, time_t now, time_t since, unsigned intervals,
			registry_host_fn fn, void *arg, struct hr_err *err);

/* --- reads on a caller's connection (the dashboards) ----------------------
 * The dashboards read with their own per-thread connection to the same file
 * (WAL: readers do not wait for the ingest), so these take that db (borrowed)
 * rather than the registry. Each returns 0, or -1 with err filled (also when
 * the tables do not exist yet: the central creates them at start). */

/* Every host, by name, to fn (as registry_hosts). */
int registry_read_hosts(sqlite3 *db, registry_host_fn fn, void *arg, struct hr_err *err);

/* One host into *h (name then points to the caller's host): 1 found, 0 not
 * known, -1 (err filled). */
int registry_read_host(sqlite3 *db, const char *host, struct registry_host *h,
		       struct hr_err *err);

/* One label as the registry keeps it; strings valid during the callback. */
struct registry_label {
	const char *host, *probe, *instance, *name, *value;
	time_t t;               /* when it was last reported */
};
typedef int (*registry_label_fn)(void *arg, const struct registry_label *l);

/* The labels of HOST (NULL: of every host), ordered by host, probe,
 * instance and name, to fn; a nonzero return stops. */
int registry_read_labels(sqlite3 *db, const char *host, registry_label_fn fn, void *arg,
			 struct hr_err *err);

#endif
