/* pusher.h: the agent's store-and-forward sender. Each batch (one main-loop
 * round of samples) is encoded as a sample document and appended to the
 * on-disk spool (spool.h) before anything is sent; a thread of its own then
 * POSTs the spooled records to every central with libcurl's multi
 * interface, oldest first, so that sampling never waits on the network.
 *
 * Per central: its own spool cursor (named "c-" and 16 hex digits of the
 * FNV-1a hash of its URL, so that reordering the list keeps positions), its
 * own backoff and at most one request in flight; one central down delays no
 * other. A record is deleted once every central has acknowledged it.
 *
 * Replay: up to max_request_bytes of spooled records are merged into one
 * document (samples in record order, seq = the newest record's), so a
 * backlog drains in few, short requests, one at a time per central. Spool
 * calls are serialised by a mutex that is held only for one append, peek or
 * ack, so the main loop (and the local RRD writes after it) never waits for
 * the network.
 *
 * Answers: 200 {"acked": SEQ} with the seq sent acknowledges the records;
 * 400/413 for a merged request resends its records one by one, and a single
 * record refused with 400/413 is logged with the central's message, its
 * samples counted as dropped, and skipped; 401/403 are logged once as a
 * configuration problem and retried at the longest backoff, keeping the
 * data; connection errors, timeouts, 429, 5xx and any other answer back
 * off exponentially with full jitter (a random wait in [0, min(max,
 * base * 2^failures)]), reset by a success. */
#ifndef HR_PUSHER_H
#define HR_PUSHER_H

#include <stddef.h>
#include <stdint.h>

#include "agent_config.h"
#include "agentstats.h"
#include "err.h"
#include "sample.h"
#include "spool.h"

#define PUSHER_REQUEST_MAX (1u << 20)   /* payload bytes merged into one request */
#define PUSHER_RECORDS_MAX 4096         /* records merged into one request */
#define PUSHER_BACKOFF_BASE 1.0         /* seconds: the first retry's ceiling */
#define PUSHER_BACKOFF_MAX 300.0        /* seconds: the longest wait */
#define PUSHER_TIMEOUT 60.0             /* seconds for one request */
#define PUSHER_CONNECT_TIMEOUT 10.0

struct pusher_opts {
	const char *spool_dir;                  /* borrowed for pusher_new only */
	const struct agent_central *centrals;   /* 1..SPOOL_MAX_CURSORS; copied */
	size_t ncentrals;
	uint64_t spool_max_bytes;               /* 0: SPOOL_DEFAULT_MAX_BYTES */
	uint32_t segment_bytes;                 /* 0: SPOOL_DEFAULT_SEGMENT_BYTES */
	enum spool_fsync fsync;
	double backoff_base;                    /* seconds; 0: PUSHER_BACKOFF_BASE */
	double backoff_max;                     /* seconds; 0: PUSHER_BACKOFF_MAX */
	size_t max_request_bytes;               /* 0: PUSHER_REQUEST_MAX */
	double timeout;                         /* seconds; 0: PUSHER_TIMEOUT */
};

struct pusher;

/* Opens (or creates) the spool at opts->spool_dir with one cursor per
 * central, and starts the sending thread. stats (borrowed for the pusher's
 * life, may be NULL) gets samples dropped, the spool's backlog and the
 * last push's latency, and pushing = 1. Logs a warning for every plain
 * http:// URL. Returns NULL with err filled when the options are invalid,
 * the spool cannot be opened (another agent holds it, say) or libcurl
 * cannot be set up. Call with SIGTERM/SIGHUP blocked: the thread inherits
 * the mask. Caller frees with pusher_destroy(). */
struct pusher *pusher_new(const struct pusher_opts *opts, struct hr_agent_stats *stats,
			  struct hr_err *err);

/* Encodes n samples (borrowed) of host as one document with the next seq
 * (spool_last_seq() + 1; a new spool starts at unix time * 1000), appends
 * it to the spool and wakes the sending thread. interval is the document's
 * "interval"; samples whose step differs carry their own. Returns 0 (seq
 * in *seq when not NULL), or -1 with err filled when encoding or the
 * append failed: the batch is then not spooled and the caller counts it.
 * Call from one thread only (the main loop). */
int pusher_submit(struct pusher *p, const char *host, unsigned interval,
		  const struct hr_sample *samples, size_t n, uint64_t *seq, struct hr_err *err);

/* One central's state, for tests and the log. */
struct pusher_central_stats {
	uint64_t acked;          /* its cursor: every seq up to here delivered */
	uint64_t requests;       /* requests finished (any outcome) */
	uint64_t failures;       /* consecutive failures now (0: last one worked) */
	uint64_t skipped;        /* records refused with 400/413 and skipped */
};

/* Copies central i's state into st. Returns -1 for a bad index. */
int pusher_central_stats(struct pusher *p, size_t i, struct pusher_central_stats *st);

/* The spool's statistics, read under the pusher's lock. */
void pusher_spool_stats(struct pusher *p, struct spool_stats *st);

/* Stops the thread: no new requests; those in flight get up to grace
 * seconds to finish (an answer that arrives is handled as usual), then are
 * abandoned (their records stay spooled). Syncs and closes the spool,
 * frees everything. Accepts NULL. */
void pusher_destroy(struct pusher *p, double grace);

/* The cursor name of a central URL: "c-" and 16 lower-case hex digits of
 * its 64-bit FNV-1a hash. out holds at least 19 bytes. */
void pusher_cursor_name(const char *url, char *out, size_t n);

#endif
