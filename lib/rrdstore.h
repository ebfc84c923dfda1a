/* rrdstore.h: one host's RRD archives, written with librrd's thread-safe
 * calls. Layout (DESIGN.md "On disk"): DIR/PROBE.rrd for an empty instance,
 * DIR/PROBE-INSTANCE.rrd otherwise, INSTANCE escaped so that the name can
 * never leave DIR. One DS per value, named as the value; counters DERIVE
 * (min 0), levels GAUGE (schema.h); heartbeat 2 x step. Archives: the native
 * step for 2 days, 1 min for 2 weeks, 5 min for 3 months, 1 h for 2 years,
 * 1 day for 10 years; AVERAGE and MAX, plus MIN for probes that keep the
 * low-water mark. Used by the agent (DATA/rrd/HOST) and the central. */
#ifndef HR_RRDSTORE_H
#define HR_RRDSTORE_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "sample.h"

struct rrdstore;

/* Opens (creating it and its parents when needed) the folder DIR for one
 * host's archives. Caller frees with rrdstore_destroy(). */
struct rrdstore *rrdstore_new(const char *dir, struct hr_err *err);
void rrdstore_destroy(struct rrdstore *st);

/* Writes one sample with the given step (seconds; the probe's interval).
 * A missing file is created with one DS per value of this sample. A value
 * the file has no DS for is added to the file (rrd_tune); a DS the sample
 * lacks is written as unknown. A sample at or before the file's last update
 * is skipped and returns 1 (a duplicate, not an error). 0 written, -1 error. */
int rrdstore_write(struct rrdstore *st, const struct hr_sample *s, unsigned step,
		   struct hr_err *err);

/* The file name (no folder) for PROBE/INSTANCE into dst: "fs-%2Fvar.rrd".
 * Every byte of INSTANCE outside [A-Za-z0-9_.-] and a leading '.' become
 * %XX, so that the name holds no '/' and is never "." or "..". -1 when it
 * does not fit. */
int rrdstore_filename(char *dst, size_t n, const char *probe, const char *instance,
		      struct hr_err *err);

/* The inverse of the instance escaping: "%2Fvar" -> "/var". -1 on a
 * malformed escape. */
int rrdstore_unescape(char *dst, size_t n, const char *escaped);

/* Full path of PROBE/INSTANCE's archive in st's folder. */
int rrdstore_path(const struct rrdstore *st, char *dst, size_t n, const char *probe,
		  const char *instance, struct hr_err *err);

/* Bytes one DS takes in an archive of this step (all RRAs, 8 bytes a row),
 * with or without the MIN archives: the figure the README documents. */
size_t rrdstore_bytes_per_ds(unsigned step, int keep_min);

#endif
