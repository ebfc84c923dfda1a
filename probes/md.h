/* md.h: the md probe (Linux software RAID). One sample per array ("md0")
 * with disks, active, failed, spare, missing, degraded, sync_percent (and
 * mismatch_cnt where sysfs has it); labels level, state, sync_action.
 * The parsers below are pure (no I/O) so that unit tests and the libFuzzer
 * target call them on buffers; md.c says how the values are defined. */
#ifndef HR_PROBE_MD_H
#define HR_PROBE_MD_H

#include <stddef.h>

#include "probe.h"
#include "sample.h"

extern const struct probe probe_md;

#define MD_NAME_MAX 32     /* array name incl. NUL ("md127", "md_d0") */
#define MD_WORD_MAX 24     /* level, state or sync action incl. NUL */
#define MD_MAX_ARRAYS 256  /* arrays per read; more are counted in dropped */

enum md_run {
	MD_RUN_ACTIVE,   /* "active": a personality runs the array */
	MD_RUN_INACTIVE, /* "inactive": assembled members, nothing running */
	MD_RUN_BROKEN,   /* "broken": raid0/linear lost a member (kernel >= 5.5) */
};

enum md_sync {
	MD_SYNC_NONE,    /* no progress line: idle */
	MD_SYNC_RESYNC,
	MD_SYNC_RECOVER,
	MD_SYNC_CHECK,
	MD_SYNC_REPAIR,
	MD_SYNC_RESHAPE,
};

/* One array as /proc/mdstat shows it (raw facts, not yet interpreted). */
struct md_stat {
	char name[MD_NAME_MAX];
	char level[MD_WORD_MAX]; /* "" when the header names none */
	enum md_run run;
	int ro;                  /* 0, 1 "(read-only)", 2 "(auto-read-only)" */
	unsigned members;        /* member devices listed */
	unsigned failed;         /* ... marked (F) */
	unsigned spares;         /* ... marked (S) and not (F) */
	unsigned journals;       /* ... marked (J) and not (F) */
	int have_counts;         /* "[n/m]" seen */
	unsigned long n, m;      /* raid_disks, working (in-sync) disks */
	int have_map;            /* "[UU_]" seen */
	unsigned map_len, map_down;
	enum md_sync sync;
	int sync_waiting;        /* resync=DELAYED, =PENDING or =REMOTE */
	int have_percent;
	double percent;          /* progress line "NN.N%", within [0, 100] */
	int have_status;         /* the "NNN blocks ..." line was seen */
};

/* A parsed /proc/mdstat. Large: allocate it, do not put it on the stack. */
struct md_mdstat {
	size_t count;
	struct md_stat arrays[MD_MAX_ARRAYS];
	unsigned problems;       /* lines (or parts) not understood, skipped */
	unsigned first_problem;  /* line number of the first one, 1-based */
	unsigned dropped;        /* arrays past MD_MAX_ARRAYS or named twice */
};

/* Parses len bytes of /proc/mdstat (format of md_seq_show() in the
 * kernel's drivers/md/md.c; Documentation/admin-guide/md.rst) into out,
 * which it resets first. Understood arrays go into out->arrays; lines it
 * cannot understand are skipped and counted in out->problems. Never fails.
 * Borrows buf (need not be NUL-terminated). */
void md_mdstat_parse(const char *buf, size_t len, struct md_mdstat *out);

/* The array named name in m, or NULL. Borrowed pointer into m. */
const struct md_stat *md_mdstat_find(const struct md_mdstat *m, const char *name);

/* The sysfs view of one array: /sys/block/NAME/md/ attributes as read
 * (trailing white space removed; "" when the attribute is absent), and
 * the member devices (dev-*) summed up by md_sysfs_add_dev(). */
struct md_sysfs {
	char array_state[MD_WORD_MAX];
	char level[MD_WORD_MAX];
	char raid_disks[MD_WORD_MAX];
	char degraded[MD_WORD_MAX];
	char sync_action[MD_WORD_MAX];
	char sync_completed[64];
	char mismatch_cnt[MD_WORD_MAX];
	unsigned ndev;         /* dev-* entries whose state was read */
	unsigned in_sync;
	unsigned faulty;
	unsigned spare_idle;   /* "spare" with slot "none" */
	unsigned spare_noslot; /* "spare" without a readable slot */
	unsigned problems;     /* dev-* states not understood */
};

/* Adds one member device: state is dev-X/state ("in_sync",
 * "faulty,write_error", "spare", ...), slot is dev-X/slot ("none" or a
 * number) or NULL when that file is absent. Borrows both. */
void md_sysfs_add_dev(struct md_sysfs *s, const char *state, const char *slot);

/* What the probe reports for one array. Values are NAN when unknown (left
 * out of the sample); strings are "" when unknown. */
struct md_report {
	char name[MD_NAME_MAX];
	char level[MD_WORD_MAX];
	char state[MD_WORD_MAX];       /* array_state words (md.rst) */
	char sync_action[MD_WORD_MAX]; /* sync_action words (md.rst) */
	int inactive;
	double disks, active, failed, spare, missing, degraded;
	double sync_percent, mismatch_cnt;
};

/* Interprets one mdstat array (see the comment at the top of md.c). */
void md_report_from_stat(const struct md_stat *a, struct md_report *r);

/* Interprets one array's sysfs attributes; name is the array name. */
void md_report_from_sysfs(const char *name, const struct md_sysfs *s, struct md_report *r);

/* Combines the two views of one array into out: sysfs wins wherever it
 * knows a fact, mdstat fills the rest. Either input may be NULL (not both). */
void md_report_merge(struct md_report *out, const struct md_report *sys,
		     const struct md_report *proc);

/* Fills s (initialised here, probe "md", instance = array name) from r. */
void md_report_sample(const struct md_report *r, struct hr_sample *s);

#endif
