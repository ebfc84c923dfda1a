/* backup.h: the backup probe. For each configured backup it finds the newest
 * file matching a glob (or reads a stamp file's mtime) and reports its age,
 * its size and whether both are within bounds, so that a daily off-site
 * backup that silently stopped shows up as ok 0. The search and the verdict
 * are public for the unit tests. */
#ifndef HR_PROBE_BACKUP_H
#define HR_PROBE_BACKUP_H

#include <stddef.h>

#include "err.h"
#include "probe.h"
#include "sample.h"

extern const struct probe probe_backup;

/* Defaults: a daily backup may be 2 hours late; an empty file is no backup. */
#define BACKUP_MAX_AGE_DEFAULT (26.0 * 3600)
#define BACKUP_MIN_SIZE_DEFAULT 1.0
/* A newest file modified this far in the future is a clock or a tampering
 * problem, not a fresh backup: it makes the backup not ok. */
#define BACKUP_FUTURE_SLACK 300.0

/* What the search found. */
struct backup_found {
	int have;          /* a match was found: path, mtime and size are valid */
	int is_dir;        /* the match is a folder (size is not reported) */
	char path[4096];   /* the newest match */
	double mtime;      /* its modification time (unix seconds, with ns) */
	double size;       /* its size in bytes (files only) */
	size_t matches;    /* files (or folders) that counted */
	char error[512];   /* "" or what went wrong (no match, unreadable
			    * folder) */
};

/* Finds the newest match of the glob(3) pattern (absolute). Regular files
 * count (symbolic links are followed); folders count only when the pattern
 * ends in '/', which glob(3) makes match folders only. Sets f->error when
 * nothing matches (with the reason, when the pattern's fixed folder is
 * missing, not a folder or unreadable) or when a folder on the way could not
 * be read (then any newest match found elsewhere is still set). Never fails:
 * every outcome is in f. Borrows pattern. */
void backup_find_glob(const char *pattern, struct backup_found *f);

/* Reads the stamp file's mtime and size into f (f->error set when it cannot
 * be stat()ed or is not a regular file). Borrows path. */
void backup_find_stamp(const char *path, struct backup_found *f);

/* Adds the verdict for f at wall time now to s (made by hr_sample_init):
 * age_s (now - mtime; 0 when the mtime is in the future) and size_bytes
 * (files only) when something was found; ok 1 when a match was found, its
 * age is at most max_age, its size at least min_size (files only), it is not
 * more than BACKUP_FUTURE_SLACK seconds in the future and f->error is empty;
 * ok 0 otherwise. Labels: "file" (the newest match, its tail kept when cut)
 * and "error" (f->error, or why ok is 0 when a bound is missed; cut at its
 * end). Borrows f. */
void backup_verdict(const struct backup_found *f, double now, double max_age, double min_size,
		    struct hr_sample *s);

#endif
