/* registry.h: the central's host registry in SQLite (DATA/headroom.db, WAL):
 * per host the last acknowledged batch seq, when it was last and first seen
 * and its interval; and the latest labels of every probe instance. The
 * ingest asks it whether a batch is a resend and records a stored batch in
 * one transaction. One connection, guarded by a mutex: callers from several
 * threads may share a registry. */
#ifndef HR_REGISTRY_H
#define HR_REGISTRY_H

#include <stdint.h>
#include <time.h>

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

#endif
