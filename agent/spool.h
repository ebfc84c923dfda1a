/* spool.h: the agent's on-disk store-and-forward queue. Every batch (its
 * JSON document, opaque here) is appended to the spool before it is sent,
 * and stays there until every central's cursor has acknowledged it, so that
 * a sample is either in a central's archive or in the spool. Records carry a
 * checksum; a torn or corrupt record is detected and skipped, never misread.
 *
 * On disk (the folder given to spool_open, normally DATA/spool/):
 *   SEQSTART.seg   append-only segments, named by the 16 lower-case hex
 *                  digits of their first record's seq (names sort by age)
 *   cursor.NAME    one per cursor: the acknowledged seq, decimal text
 *   last_seq       the highest seq appended, written before segments are
 *                  deleted so that the sequence survives an empty spool
 *   lock           flock()ed while open: one process per spool
 *
 * A record is a 24-byte header followed by the payload; every field is
 * little-endian:
 *   off  size  field
 *   0    4     magic, the bytes "HRSP"
 *   4    1     version, 1
 *   5    1     flags, 0 (none defined; a record with any set is refused)
 *   6    2     reserved, 0
 *   8    4     payload length, at most SPOOL_RECORD_MAX
 *   12   4     CRC-32C (Castagnoli, as iSCSI and ext4) over the header with
 *              this field zeroed, then the payload
 *   16   8     seq, >= 1, strictly increasing through the spool
 *
 * Thread-safety: none inside. A struct spool is used by one thread at a
 * time; callers that share it (the scheduler appends, the pusher peeks and
 * acks) serialise every call with a mutex of their own. Two processes
 * cannot open one folder at once (the second spool_open fails). */
#ifndef HR_SPOOL_H
#define HR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SPOOL_HDR_LEN 24
#define SPOOL_VERSION 1
#define SPOOL_RECORD_MAX (16u << 20)              /* longest payload */
#define SPOOL_MAX_CURSORS 8
#define SPOOL_CURSOR_NAME_MAX 64                  /* without the NUL */
#define SPOOL_DEFAULT_MAX_BYTES (256ull << 20)
#define SPOOL_DEFAULT_SEGMENT_BYTES (4u << 20)
#define SPOOL_SEGMENT_BYTES_MAX (1u << 30)
#define SPOOL_DEFAULT_FSYNC_INTERVAL_MS 1000

enum spool_fsync {
	SPOOL_FSYNC_ALWAYS,   /* fdatasync after every append: survives power loss */
	SPOOL_FSYNC_BATCHED,  /* at most every fsync_interval_ms, at spool_sync and close */
	SPOOL_FSYNC_NEVER     /* leave it to the kernel: survives a crash of the agent only */
};

struct spool_opts {
	uint64_t max_bytes;           /* bound of all segments; 0: SPOOL_DEFAULT_MAX_BYTES */
	uint32_t segment_bytes;       /* 0: SPOOL_DEFAULT_SEGMENT_BYTES; at most SPOOL_SEGMENT_BYTES_MAX */
	enum spool_fsync fsync;
	unsigned fsync_interval_ms;   /* SPOOL_FSYNC_BATCHED; 0: SPOOL_DEFAULT_FSYNC_INTERVAL_MS */
	size_t ncursors;              /* 1..SPOOL_MAX_CURSORS */
	/* Stable cursor names (a hash of the central's URL, say), so that
	 * reordering or adding centrals keeps each one's position. 1 to
	 * SPOOL_CURSOR_NAME_MAX bytes of [A-Za-z0-9_.-], not starting with '.',
	 * all different. Cursor i of the other calls is cursor_names[i]. A name
	 * without a cursor file (a new central) starts at the oldest record
	 * still spooled. Borrowed for spool_open only. */
	const char *cursor_names[SPOOL_MAX_CURSORS];
	/* Optional (NULL: none): called inside spool_append for each
	 * unacknowledged record that the max_bytes bound deletes, oldest
	 * first, with its payload read back (data NULL and len 0 when it
	 * cannot be read), so that the caller can count what was in it (the
	 * agent counts samples, not records). data is borrowed for the call;
	 * the callback must not call the spool. Records lost to corruption
	 * are only counted in spool_stats and logged: their payload cannot
	 * be trusted. */
	void (*on_drop)(void *ctx, uint64_t seq, const void *data, size_t len);
	void *drop_ctx;
};

struct spool;

/* Opens (creating it and its missing parents, mode 0700) the spool folder
 * dir, locks it, reads the cursors and scans every segment, checking every
 * record:
 * - an incomplete or damaged tail of the newest segment (a crash in the
 *   middle of a write) is truncated away; a torn record whose append never
 *   returned is not counted as dropped, a complete record that fails its
 *   checks is;
 * - a damaged record anywhere else makes the rest of its segment unreadable:
 *   the records before it are kept, the segment is skipped from there on and
 *   the records lost are counted (the damaged one and every intact-looking
 *   record after it) and logged;
 * - a segment left without a readable record is deleted.
 * Returns NULL with err filled when the options are invalid, the folder
 * cannot be created, written or locked, or a file cannot be read. opts is
 * borrowed. Caller frees with spool_close(). */
struct spool *spool_open(const char *dir, const struct spool_opts *opts, struct hr_err *err);

/* Syncs (unless SPOOL_FSYNC_NEVER), persists last_seq, and frees
 * everything. Accepts NULL. */
void spool_close(struct spool *sp);

/* Appends one record of len bytes (data borrowed, copied to the file) with
 * one write. seq must be greater than spool_last_seq(sp). When the record
 * would take the spool past max_bytes, the oldest segments are deleted
 * first, acknowledged or not, and their unacknowledged records counted as
 * dropped and logged. A record longer than segment_bytes gets a segment of
 * its own. Returns -1 with err filled, and the record not stored (nothing
 * of it is left in the segment), when seq does not grow, len is over
 * SPOOL_RECORD_MAX or over what max_bytes can hold, or the write (or the
 * fdatasync the policy asks for) fails; the caller keeps the batch. A
 * segment whose fdatasync failed gets no more appends. */
int spool_append(struct spool *sp, uint64_t seq, const void *data, size_t len, struct hr_err *err);

/* Forces the fdatasync that SPOOL_FSYNC_BATCHED has postponed (no-op when
 * nothing is pending or the policy is SPOOL_FSYNC_NEVER). 0 or -1. */
int spool_sync(struct spool *sp, struct hr_err *err);

struct spool_record {
	uint64_t seq;
	const uint8_t *data;  /* into the batch's buffer */
	size_t len;
};

struct spool_batch {
	struct spool_record *recs;
	size_t n;
	size_t bytes;         /* sum of the payload lengths */
	uint8_t *buf;         /* owns the payloads */
};

/* Fills out with the oldest records that cursor has not acknowledged, oldest
 * first: as many as fit in max_bytes of payload and max_records (0: no
 * limit for either), and at least one when any is pending, even if it alone
 * is longer than max_bytes. Peeking does not move the cursor: the same
 * records come back until spool_ack. Each record's checksum is checked
 * again as it is read; a record that has gone bad since spool_open is
 * handled as spool_open would (rest of its segment counted as dropped,
 * logged) and never returned. Returns the number of records (0: nothing
 * pending), or -1 with err filled (out then empty) on a bad cursor, a read
 * or allocation failure. Caller frees out with spool_batch_free() either
 * way. */
int spool_peek(struct spool *sp, size_t cursor, size_t max_bytes, size_t max_records,
	       struct spool_batch *out, struct hr_err *err);

/* Frees what spool_peek put into b and empties it. Accepts NULL. */
void spool_batch_free(struct spool_batch *b);

/* Marks every record up to and including seq as delivered for cursor and
 * persists the position (a temporary file renamed over cursor.NAME, synced
 * unless SPOOL_FSYNC_NEVER), then deletes the segments every cursor has
 * passed. An ack below the cursor's position changes nothing. Returns -1
 * with err filled on a bad cursor, a seq above spool_last_seq(), or when the
 * position cannot be written (the position then stays as it was, in memory
 * too, so that memory never runs ahead of the disk). */
int spool_ack(struct spool *sp, size_t cursor, uint64_t seq, struct hr_err *err);

/* The highest seq ever appended to this spool folder (kept across restarts
 * and across the deletion of every segment), 0 for a new spool. The agent
 * numbers its batches spool_last_seq() + 1, and a new spool's first batch
 * (unix time in seconds) * 1000: an agent whose data folder was wiped then
 * does not reuse seqs that a central has already acknowledged (the central
 * would take them for resends and store nothing). */
uint64_t spool_last_seq(const struct spool *sp);

struct spool_cursor_stats {
	uint64_t acked;          /* position: everything up to here is delivered */
	uint64_t lag_records;    /* records spooled and not yet acknowledged */
	uint64_t lag_bytes;      /* their payload bytes */
};

struct spool_stats {
	uint64_t records;        /* records in the segments */
	uint64_t bytes;          /* bytes of the segments (headers included) */
	uint64_t segments;
	uint64_t last_seq;
	/* Since spool_open: records some cursor had not acknowledged that are
	 * gone, deleted by the max_bytes bound or lost to corruption, and
	 * their bytes (headers included; for corruption, the bytes skipped). */
	uint64_t dropped_records;
	uint64_t dropped_bytes;
	uint64_t torn_bytes;     /* incomplete tail cut off the newest segment at open */
	size_t ncursors;
	struct spool_cursor_stats cursor[SPOOL_MAX_CURSORS];
};

void spool_stats(const struct spool *sp, struct spool_stats *st);

/* --- the record format, without I/O (tests, fuzzing, tools) --- */

/* CRC-32C of len bytes, continuing from crc (start with 0). */
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len);

/* Writes the SPOOL_HDR_LEN-byte header of a record (seq, len bytes of
 * data) into hdr. len must be at most SPOOL_RECORD_MAX. */
void spool_encode_header(uint8_t hdr[SPOOL_HDR_LEN], uint64_t seq, const void *data, uint32_t len);

enum spool_scan_status {
	SPOOL_SCAN_END,   /* every byte belongs to a valid record */
	SPOOL_SCAN_FULL,  /* recs filled up: call again from *end */
	SPOOL_SCAN_TORN,  /* at *end begins a prefix of a record (what a write
			     cut short leaves): too few bytes for a header
			     whose bytes so far are right, or a good header
			     whose payload runs past the end */
	SPOOL_SCAN_BAD    /* at *end is a record that fails a check: magic,
			     version, flags, reserved, length cap, checksum, or
			     a seq not above the previous one */
};

struct spool_rec_ref {
	uint64_t seq;
	size_t off;       /* of the header, from the start of buf */
	uint32_t len;     /* payload length; the payload starts at off + SPOOL_HDR_LEN */
};

/* Scans a segment's bytes buf[0..len) from offset start for consecutive
 * valid records whose seqs are each greater than the one before, the first
 * greater than after_seq. Stores up to max of them in recs (may be NULL
 * when max is 0) and sets *n to their number and *end to the offset just
 * past the last one: where the scan stopped, which for TORN and BAD is the
 * first bad byte. Pure: no I/O, no allocation. */
enum spool_scan_status spool_scan(const uint8_t *buf, size_t len, size_t start, uint64_t after_seq,
				  struct spool_rec_ref *recs, size_t max, size_t *n, size_t *end);

/* How many intact-looking records (good header and checksum, any seq) are
 * in buf[from..len), found by trying every offset: an estimate, for the
 * count of records lost behind a damaged one. Pure. */
size_t spool_count_intact(const uint8_t *buf, size_t len, size_t from);

#endif
