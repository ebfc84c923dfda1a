/* disk.h: the disk probe (per-device I/O counters from /proc/diskstats) and
 * its pure parser, which the unit tests and the libFuzzer target call
 * directly on captured files. */
#ifndef HR_PROBE_DISK_H
#define HR_PROBE_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "probe.h"

extern const struct probe probe_disk;

/* The kernel's DISK_NAME_LEN is 32 (including the NUL). */
#define DISK_NAME_MAX 32

/* One line of /proc/diskstats, reduced to what the probe reports. */
struct disk_stat {
	unsigned major, minor;
	char name[DISK_NAME_MAX];
	uint64_t reads;           /* reads completed (field 1) */
	uint64_t sectors_read;    /* 512-byte sectors read (field 3) */
	uint64_t writes;          /* writes completed (field 5) */
	uint64_t sectors_written; /* 512-byte sectors written (field 7) */
	uint64_t io_ms;           /* ms spent doing I/Os (field 10) */
	int has_io_ms;            /* 0 for the short 2.6 partition lines */
};

struct disk_stats {
	struct disk_stat *items;
	size_t count;
	size_t cap;
	unsigned skipped;    /* lines not understood */
	unsigned first_bad;  /* 1-based number of the first skipped line, 0: none */
};

/* Sets *s to an empty list. */
void disk_stats_init(struct disk_stats *s);
/* Frees the items; s may be NULL. */
void disk_stats_free(struct disk_stats *s);

/* Parses the text of /proc/diskstats (len bytes, need not be NUL-terminated)
 * and appends one item per understood line to *out (init it first). Lines
 * of 14, 18 or 20 fields (major, minor, name and 11 counters before 4.18,
 * 15 with discard, 17 with flush), any other line of at least 14 fields,
 * and the 7-field partition lines of 2.6 kernels before 2.6.25 are
 * understood; every other line (short, non-numeric, a name that is not a
 * plain file name) is counted in out->skipped. Returns 0, or -1 with err
 * filled only when memory ran out (out keeps what was parsed). Borrows buf. */
int disk_parse_diskstats(const char *buf, size_t len, struct disk_stats *out, struct hr_err *err);

#endif
