/* fs.h: the fs probe (size, use and inodes of every mounted file system,
 * from /proc/self/mountinfo and statvfs), its pure mountinfo parser and
 * filter, which the unit tests and the libFuzzer target call directly, and
 * the hook through which tests replace statvfs to simulate a hung mount. */
#ifndef HR_PROBE_FS_H
#define HR_PROBE_FS_H

#include <stddef.h>
#include <sys/statvfs.h>

#include "err.h"
#include "probe.h"
#include "sample.h"

extern const struct probe probe_fs;

#define FS_TYPE_MAX 64

/* One mount of /proc/self/mountinfo, reduced to what the probe needs. */
struct fs_mount {
	unsigned major, minor;             /* st_dev of the mounted file system */
	int root_is_slash;                 /* field 4 ("root") is "/": not a bind of a subtree */
	char mountpoint[HR_INSTANCE_MAX];  /* unescaped, absolute */
	char fstype[FS_TYPE_MAX];          /* "ext4", "nfs4", "fuse.sshfs" */
	char source[HR_LABEL_VALUE_MAX];   /* unescaped, cut to fit */
};

struct fs_mounts {
	struct fs_mount *items;
	size_t count;
	size_t cap;
	unsigned skipped;   /* lines not understood */
	unsigned first_bad; /* 1-based number of the first skipped line, 0: none */
};

/* Sets *m to an empty list. */
void fs_mounts_init(struct fs_mounts *m);
/* Frees the items; m may be NULL. */
void fs_mounts_free(struct fs_mounts *m);

/* Parses the text of /proc/PID/mountinfo (len bytes, need not be NUL-
 * terminated; format: Documentation/filesystems/proc.rst, "3.5 /proc/<pid>/
 * mountinfo") and appends one item per understood line to *out (init it
 * first). The octal escapes the kernel writes for space, tab, newline and
 * backslash (\040 \011 \012 \134) are undone in the mount point and the
 * source. A line that lacks a field, has a non-number where a number
 * belongs, a mount point that is not absolute or does not fit in
 * HR_INSTANCE_MAX, is counted in out->skipped. Returns 0, or -1 with err
 * filled only when memory ran out (out keeps what was parsed). Borrows buf. */
int fs_parse_mountinfo(const char *buf, size_t len, struct fs_mounts *out, struct hr_err *err);

/* What the probe measures. */
struct fs_filter {
	int tmpfs;                   /* include tmpfs */
	const char *const *fstypes;  /* extra types to include, NULL-terminated (or NULL) */
	const char *const *exclude;  /* fnmatch globs of mount points to skip (or NULL) */
};

/* Is FSTYPE one of the pseudo file systems (proc, sysfs, cgroup, overlay,
 * squashfs, tmpfs ...) the probe leaves out unless asked? */
int fs_pseudo(const char *fstype);

/* Removes from m, keeping the order of the rest:
 * - pseudo file systems (unless listed in f->fstypes, or tmpfs with f->tmpfs);
 * - mount points matching an exclude glob (fnmatch without flags, so "*"
 *   also matches "/");
 * - mounts hidden by a later mount on the same mount point (statvfs sees
 *   only the top one);
 * - bind mounts of one file system (same major:minor): of those it keeps one,
 *   the mount whose root is "/" before the others, then the shortest mount
 *   point, then the first line.
 * When memory runs out the last two steps are skipped. */
void fs_filter_mounts(struct fs_mounts *m, const struct fs_filter *f);

/* For tests: makes the probe state (from probe_fs.setup) call fn instead of
 * statvfs(3). Call before the first read. fn runs on worker threads, may
 * block, sets errno when it fails, and must return in the end (a worker
 * may outlive the state: it keeps its own reference to what it uses). */
void fs_set_statvfs(void *state, int (*fn)(const char *path, struct statvfs *st));

#endif
