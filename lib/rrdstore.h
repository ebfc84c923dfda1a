/* rrdstore.h: one host's RRD archives, written with librrd's thread-safe
 * calls (rrdstore_new) or through rrdcached (rrdstore_new_rrdcached). Layout (DESIGN.md "On disk"): DIR/PROBE.rrd for an empty instance,
 * DIR/PROBE-INSTANCE.rrd otherwise, INSTANCE escaped so that the name can
 * never leave DIR. One DS per value, named as the value; counters DDERIVE
 * (min 0), levels GAUGE (schema.h); heartbeat 2 x step. Archives: the native
 * step for 2 days, 1 min for 2 weeks, 5 min for 3 months, 1 h for 2 years,
 * 1 day for 10 years; AVERAGE and MAX, plus MIN for probes that keep the
 * low-water mark. Used by the agent (DATA/rrd/HOST) and the central.
 * A store is for one thread at a time (it caches what it learnt of each
 * file, unlocked); different stores may be used from different threads. */
#ifndef HR_RRDSTORE_H
#define HR_RRDSTORE_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "sample.h"

struct rrdstore;

/* Opens (creating it and its parents, mode 0755, when needed) the folder DIR
 * for one host's archives; NULL (err filled) when it cannot be created.
 * Borrows dir. Caller frees with rrdstore_destroy(), which accepts NULL. */
struct rrdstore *rrdstore_new(const char *dir, struct hr_err *err);
void rrdstore_destroy(struct rrdstore *st);

/* Gives a files store (rrdstore_new) an undo journal at PATH (created mode
 * 0600, its folder 0700 when missing; it must not be in the store's folder,
 * which holds archives only). Before every update of an archive the bytes
 * the update can change are saved there, and invalidated after it: librrd
 * writes an update in several steps, and a process killed between them
 * leaves an archive whose rows are ahead of its last update, which a resend
 * of the same values would shift by a row. Call it at start-up, before any
 * write: a record left by an update that was cut short is put back into
 * its archive (synced), so that the archive is as it was before that
 * update. Returns 0 (nothing to do), 1 when the journal held a record:
 * note then says what was done, for the caller to log ("rrdstore: rolled
 * back an interrupted update of FILE", or why it was discarded: written in
 * part, naming a file outside the store's folder, or one that changed
 * since), or -1 (err filled: rrdcached store, a journal already set, the
 * journal cannot be opened, or the archive cannot be written back; then
 * the record stays for the next try). Borrows path. Afterwards an archive
 * that is not in the layout this librrd writes (header and rows must add
 * up to its size) is not updated (the write fails and says why). One
 * journal per store: no two stores may share one. */
int rrdstore_set_journal(struct rrdstore *st, const char *path, struct hr_err *note,
			 struct hr_err *err);

/* The same archives written through the rrdcached at DAEMON (an address as
 * rrdcached.h takes), in RELATIVE_DIR of the daemon's base folder: files
 * are named RELATIVE_DIR/PROBE-INSTANCE.rrd to the daemon, which must run
 * with -b BASE -B -R (resolves names in BASE, keeps them there, creates
 * RELATIVE_DIR). Nothing is connected yet: every call connects when needed,
 * so that a daemon that was down or restarted is used again by the next
 * call; while it is down, calls fail (-1) and write nothing. A daemon run
 * with -O cannot add a DS to an existing file (the write then fails as for
 * any failed add). NULL (err filled) for a bad address, a RELATIVE_DIR that
 * is absolute or holds "." or ".." or an empty component, or out of
 * memory. Borrows both strings. Freed with rrdstore_destroy(). */
struct rrdstore *rrdstore_new_rrdcached(const char *daemon, const char *relative_dir,
					struct hr_err *err);

/* Writes one sample with the given step (seconds; the probe's interval).
 * Borrows s. A missing file is created (folder again included, for one that
 * was removed) through a temporary name renamed into place, so that a crash
 * never leaves a half-written archive; its archives follow this step, while
 * an existing file keeps its own. A value the file has no DS for is added to
 * the file, old data kept (rrd_create_r2 with the file as template and
 * source, renamed into place: rrd_tune is not thread-safe); when that fails,
 * the other values are still written and -1 names the value. A DS the sample
 * lacks, or a non-finite value, is written as unknown. A sample at or before
 * the file's last update is skipped and returns 1 (a duplicate, not an error).
 * A sample without values writes nothing and returns 0. 0 written, -1 error
 * (step 0, no time, an invalid value name, librrd or file system failure).
 * Steady state (file known to this store, no new value) is one librrd call. */
int rrdstore_write(struct rrdstore *st, const struct hr_sample *s, unsigned step,
		   struct hr_err *err);

/* The last update of the archive s would be written to into *last: 0 when
 * there is none yet (nothing is created). Borrows s; only its probe and
 * instance are used. Learns the file as a write does, so a write after it
 * costs nothing more. 0, or -1 (err filled: invalid names, librrd,
 * file system or rrdcached failure). */
int rrdstore_last(struct rrdstore *st, const struct hr_sample *s, time_t *last,
		  struct hr_err *err);

/* Writes n samples of one file (the same probe and instance, times
 * increasing) with the same step, as rrdstore_write would one by one, but
 * with one librrd (or rrdcached) update for each run of samples that need
 * no new file and no new value: 6-7 times cheaper per value when a batch
 * brings several intervals (a replay, a backfill). 0 written, 1 when some
 * samples were at or before the file's last update (skipped), -1 error
 * (err filled; what came before the failing update is written). Borrows s. */
int rrdstore_write_run(struct rrdstore *st, const struct hr_sample *const *s, size_t n,
		       unsigned step, struct hr_err *err);

/* The file name (no folder) for PROBE/INSTANCE into dst: "fs-%2Fvar.rrd",
 * "load.rrd" for an empty (or NULL) instance. Every byte of INSTANCE outside
 * [A-Za-z0-9_.-] and a leading '.' become %XX (upper-case hex), so that the
 * name holds no '/' and no NUL and is never "." or "..". PROBE must be 1-15
 * of [A-Za-z0-9_] (no '-': the first '-' ends the probe name). -1 (err
 * filled) for a bad probe name, when dst is too small, or when the name
 * would pass 240 bytes (file names have 255 at most; the temporary names used
 * while creating need the rest). */
int rrdstore_filename(char *dst, size_t n, const char *probe, const char *instance,
		      struct hr_err *err);

/* The inverse of the instance escaping, on the part of a file name between
 * "PROBE-" and ".rrd": "%2Fvar" -> "/var" into dst (size n). -1 on a
 * malformed escape, on anything rrdstore_filename() would not have written
 * (a bare '/', lower-case hex, "%61" for 'a', %00), or when dst (size n) is
 * too small. */
int rrdstore_unescape(char *dst, size_t n, const char *escaped);

/* Full path of PROBE/INSTANCE's archive in st's folder into dst (size n);
 * for rrdcached, the path relative to the daemon's base that it is sent.
 * -1 (err filled) as rrdstore_filename(), or when dst is too small. */
int rrdstore_path(const struct rrdstore *st, char *dst, size_t n, const char *probe,
		  const char *instance, struct hr_err *err);

/* Bytes one DS takes in an archive of this step (all RRAs, 8 bytes a row),
 * with or without the MIN archives: the figure the README documents. Layout:
 * an archive's resolution is rounded to a whole number of steps (at least
 * one); rows are rounded up to cover the retention (months of 31 days, years
 * of 366); archives of the same steps per row are one archive with the
 * longer retention; one step per row keeps AVERAGE only. 0 for step 0. */
size_t rrdstore_bytes_per_ds(unsigned step, int keep_min);

/* --- the undo record, without the store (tests, fuzzing) --- */

/* A record read back: pointers into the buffer it was parsed from. */
struct rrdstore_undo {
	const char *name;             /* namelen bytes, not NUL-terminated */
	size_t namelen;
	unsigned long long filesize;
	unsigned long long hdrlen;
	const unsigned char *hdr;     /* hdrlen bytes, for offset 0 */
	const unsigned char *segs;    /* nseg times: u64 offset, u64 length, bytes */
	unsigned nseg;
};

/* Builds in *buf (grown with realloc, *cap bytes; caller frees) the undo
 * record of the archive open as fd, called NAME in its folder, for an
 * update whose latest time is tmax: *len bytes. -1 (err filled) when fd is
 * not an archive of the layout this librrd writes, or on I/O failure. */
int rrdstore_undo_build(int fd, const char *name, time_t tmax, unsigned char **buf,
			size_t *cap, size_t *len, struct hr_err *err);

/* Reads the record at the start of buf (len bytes). 1: a whole, sensible
 * record into u; 0: no record (no magic: cleared, or an empty journal);
 * -1 (err filled): cut short, bad checksum, or a record that does not hold
 * together or names anything but a plain archive name. Never reads past
 * len. */
int rrdstore_undo_parse(const unsigned char *buf, size_t len, struct rrdstore_undo *u,
			struct hr_err *err);

#endif
