/* fs.c: the fs probe. Lists the mounts of /proc/self/mountinfo (Documentation/
 * filesystems/proc.rst), leaves out pseudo file systems and bind duplicates,
 * and reports size, use and inodes of each from statvfs. Every statvfs runs
 * on a worker thread so that a hung mount (a stale NFS server) is reported
 * "stuck" after a timeout instead of stalling the probe and the agent. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#define FS_DEFAULT_TIMEOUT 5.0
/* A worker only calls statvfs: a small stack is plenty. */
#define FS_WORKER_STACK (256u * 1024u)

/* One statvfs in flight. It is shared by the worker thread and the probe
 * state, each holding one reference; whichever lets go last frees it, so a
 * worker that outlives the state (its mount hangs until the agent stops the
 * probe) still writes into live memory. */
struct fs_job {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* signalled when done becomes 1 */
	unsigned refs;
	int done;
	int rc;
	int errnum;
	struct statvfs st;
	int (*fn)(const char *path, struct statvfs *st);
	char path[];
};

/* What the probe remembers of a mount point between reads. */
struct fs_track {
	char mountpoint[HR_INSTANCE_MAX];
	struct fs_job *job;    /* statvfs in flight, NULL when none */
	int stuck;             /* job missed its timeout */
	int seen;              /* listed by this read's mountinfo */
	struct hr_complain c;  /* statvfs failing or stuck */
};

struct fs_state {
	const char *root;
	double timeout;
	int tmpfs;
	char **fstypes;
	char **exclude;
	int (*statvfs_fn)(const char *path, struct statvfs *st);
	struct fs_track **tracks;
	size_t ntracks;
	size_t captracks;
	struct hr_complain c_read;  /* mountinfo missing */
	struct hr_complain c_parse; /* mountinfo lines skipped */
};

/* This read's outcome for one mount. */
enum fs_outcome { FS_NONE, FS_OK, FS_STUCK };

struct fs_slot {
	struct fs_track *track;
	int started;           /* a job was started by this read */
	enum fs_outcome outcome;
	struct statvfs st;
};


/* File systems without capacity of their own: kernel interfaces, memory,
 * container layers and read-only images. Their use is either meaningless or
 * always 100 % (squashfs, iso9660), which would only raise false alerts. */
static const char *const fs_pseudo_types[] = {
	"autofs", "binfmt_misc", "binder", "bpf", "cgroup", "cgroup2", "configfs",
	"cpuset", "debugfs", "devfs", "devpts", "devtmpfs", "efivarfs", "erofs",
	"fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal", "fusectl", "hugetlbfs",
	"iso9660", "mqueue", "nfsd", "nsfs", "overlay", "pipefs", "proc", "pstore",
	"ramfs", "rootfs", "rpc_pipefs", "securityfs", "selinuxfs", "sockfs",
	"squashfs", "sysfs", "tmpfs", "tracefs", "usbfs", "xenfs", NULL,
};

void fs_mounts_init(struct fs_mounts *m)
{
	memset(m, 0, sizeof(*m));
}

void fs_mounts_free(struct fs_mounts *m)
{
	if (m == NULL)
		return;
	free(m->items);
	memset(m, 0, sizeof(*m));
}

static int fs_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Copies [s, s+len) into dst (size n), undoing the kernel's octal escapes
 * (proc.rst; fs/proc_namespace.c escapes " \t\n\\" as \ooo). With cut, text
 * that does not fit is cut; without, it fails. Fails on NUL bytes (escaped
 * or not): no path holds one. Returns the length, or -1. */
static long fs_unescape(char *dst, size_t n, const char *s, size_t len, int cut)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    fs_octal(s[i + 2]) && fs_octal(s[i + 3])) {
			c = (unsigned char)(((s[i + 1] - '0') << 6) |
					    ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 4;
		} else {
			i++;
		}
		if (c == '\0')
			return -1;
		if (o + 1 >= n) {
			if (!cut)
				return -1;
			break;
		}
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return (long)o;
}

/* "MAJOR:MINOR" */
static int fs_parse_devno(const char *s, size_t len, unsigned *major, unsigned *minor)
{
	const char *colon = memchr(s, ':', len);
	uint64_t a, b;

	if (colon == NULL || hr_parse_u64(s, (size_t)(colon - s), &a) < 0 ||
	    hr_parse_u64(colon + 1, len - (size_t)(colon + 1 - s), &b) < 0 ||
	    a > 0xffffffffu || b > 0xffffffffu)
		return -1;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

/* One line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root
 * rw,errors=continue" (proc.rst): mount ID, parent ID, major:minor, root,
 * mount point, mount options, optional fields up to "-", type, source,
 * super options. */
static int fs_parse_line(const char *line, size_t len, struct fs_mount *m)
{
	struct hr_fields it;
	const char *f;
	size_t fl;
	uint64_t id;
	int i;

	memset(m, 0, sizeof(*m));
	hr_fields_init(&it, line, len);
	for (i = 0; i < 2; i++)
		if (!hr_fields_next(&it, &f, &fl) || hr_parse_u64(f, fl, &id) < 0)
			return -1;
	if (!hr_fields_next(&it, &f, &fl) || fs_parse_devno(f, fl, &m->major, &m->minor) < 0)
		return -1;
	if (!hr_fields_next(&it, &f, &fl))
		return -1;
	m->root_is_slash = hr_field_eq(f, fl, "/");
	if (!hr_fields_next(&it, &f, &fl) || f[0] != '/' ||
	    fs_unescape(m->mountpoint, sizeof(m->mountpoint), f, fl, 0) < 0)
		return -1;
	if (!hr_fields_next(&it, &f, &fl)) /* mount options */
		return -1;
	for (;;) { /* optional fields ("shared:7", "master:1"), then "-" */
		if (!hr_fields_next(&it, &f, &fl))
			return -1;
		if (hr_field_eq(f, fl, "-"))
			break;
	}
	if (!hr_fields_next(&it, &f, &fl) || fl >= sizeof(m->fstype) || memchr(f, '\0', fl) != NULL)
		return -1;
	memcpy(m->fstype, f, fl);
	m->fstype[fl] = '\0';
	/* The source is only a label: a long one is cut, not refused. */
	if (!hr_fields_next(&it, &f, &fl) ||
	    fs_unescape(m->source, sizeof(m->source), f, fl, 1) < 0)
		return -1;
	/* The super options may follow; nothing here needs them. */
	return 0;
}

int fs_parse_mountinfo(const char *buf, size_t len, struct fs_mounts *out, struct hr_err *err)
{
	struct hr_lines it;
	struct fs_mount m;
	const char *line;
	size_t llen;

	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		struct hr_fields fi;
		const char *f;
		size_t fl;

		hr_fields_init(&fi, line, llen);
		if (!hr_fields_next(&fi, &f, &fl))
			continue; /* blank line */
		if (fs_parse_line(line, llen, &m) < 0) {
			if (out->skipped++ == 0)
				out->first_bad = it.lineno;
			continue;
		}
		if (out->count == out->cap) {
			size_t ncap = out->cap ? out->cap * 2 : 32;
			struct fs_mount *n = realloc(out->items, ncap * sizeof(*n));

			if (n == NULL)
				return hr_err_errno(err, ENOMEM, "mountinfo");
			out->items = n;
			out->cap = ncap;
		}
		out->items[out->count++] = m;
	}
	return 0;
}

static int fs_in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

int fs_pseudo(const char *fstype)
{
	return fs_in_list(fs_pseudo_types, fstype);
}

/* A mount and its line number, for sorting without moving the mounts; ties
 * fall back to the line order, so the result does not depend on qsort. */
struct fs_ref {
	const struct fs_mount *m;
	size_t i;
};

static int fs_cmp_index(const struct fs_ref *a, const struct fs_ref *b)
{
	return a->i < b->i ? -1 : a->i > b->i;
}

static int fs_cmp_mountpoint(const void *pa, const void *pb)
{
	const struct fs_ref *a = pa, *b = pb;
	int c = strcmp(a->m->mountpoint, b->m->mountpoint);

	return c != 0 ? c : fs_cmp_index(a, b);
}

static int fs_cmp_devno(const void *pa, const void *pb)
{
	const struct fs_ref *a = pa, *b = pb;

	if (a->m->major != b->m->major)
		return a->m->major < b->m->major ? -1 : 1;
	if (a->m->minor != b->m->minor)
		return a->m->minor < b->m->minor ? -1 : 1;
	return fs_cmp_index(a, b);
}

/* Is mount a a better representative of its file system than mount b? */
static int fs_better(const struct fs_mount *a, size_t ia, const struct fs_mount *b, size_t ib)
{
	size_t la = strlen(a->mountpoint), lb = strlen(b->mountpoint);

	if (a->root_is_slash != b->root_is_slash)
		return a->root_is_slash;
	if (la != lb)
		return la < lb;
	return ia < ib;
}

/* Drops the items whose mount point was emptied, keeping the order. */
static void fs_compact(struct fs_mounts *m)
{
	size_t i, o = 0;

	for (i = 0; i < m->count; i++)
		if (m->items[i].mountpoint[0] != '\0') {
			if (o != i)
				m->items[o] = m->items[i];
			o++;
		}
	m->count = o;
}

static void fs_refs_fill(struct fs_ref *refs, struct fs_mounts *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		refs[i].m = &m->items[i];
		refs[i].i = i;
	}
}

void fs_filter_mounts(struct fs_mounts *m, const struct fs_filter *f)
{
	struct fs_ref *refs;
	size_t i, j;

	for (i = 0; i < m->count; i++) {
		struct fs_mount *x = &m->items[i];
		int wanted = !fs_pseudo(x->fstype) || fs_in_list(f->fstypes, x->fstype) ||
			     (f->tmpfs && strcmp(x->fstype, "tmpfs") == 0);

		/* hr_glob_any only reads the globs: the cast drops no const it
		 * relies on. */
		if (!wanted || hr_glob_any((char *const *)f->exclude, x->mountpoint))
			x->mountpoint[0] = '\0';
	}
	fs_compact(m);
	if (m->count < 2)
		return;
	refs = malloc(m->count * sizeof(*refs));
	if (refs == NULL)
		return;

	/* Mounts stacked on one mount point: the last one is on top. */
	fs_refs_fill(refs, m);
	qsort(refs, m->count, sizeof(*refs), fs_cmp_mountpoint);
	for (i = 0; i + 1 < m->count; i++)
		if (strcmp(refs[i].m->mountpoint, refs[i + 1].m->mountpoint) == 0)
			m->items[refs[i].i].mountpoint[0] = '\0';
	fs_compact(m);

	/* Bind mounts: one file system, several places. */
	fs_refs_fill(refs, m);
	qsort(refs, m->count, sizeof(*refs), fs_cmp_devno);
	for (i = 0; i < m->count; i = j) {
		size_t best = refs[i].i;

		for (j = i + 1; j < m->count && refs[j].m->major == refs[i].m->major &&
				refs[j].m->minor == refs[i].m->minor; j++) {
			size_t k = refs[j].i;

			if (fs_better(&m->items[k], k, &m->items[best], best)) {
				m->items[best].mountpoint[0] = '\0';
				best = k;
			} else {
				m->items[k].mountpoint[0] = '\0';
			}
		}
	}
	fs_compact(m);
	free(refs);
}

static void fs_job_free(struct fs_job *j)
{
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* Drops one reference; the last one frees the job. */
static void fs_job_put(struct fs_job *j)
{
	int last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last)
		fs_job_free(j);
}

static void *fs_worker(void *arg)
{
	struct fs_job *j = arg;
	struct statvfs st;
	int rc, e, last;

	memset(&st, 0, sizeof(st));
	errno = 0;
	rc = j->fn(j->path, &st);
	e = errno;
	pthread_mutex_lock(&j->lock);
	j->rc = rc;
	j->errnum = rc == 0 ? 0 : (e != 0 ? e : EIO);
	j->st = st;
	j->done = 1;
	pthread_cond_broadcast(&j->cond);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last)
		fs_job_free(j);
	return NULL;
}

/* Starts statvfs(path) on a detached worker. Returns the job, holding the
 * caller's reference (drop it with fs_job_put), or NULL with err filled. */
static struct fs_job *fs_job_start(const char *path,
				   int (*fn)(const char *, struct statvfs *), struct hr_err *err)
{
	size_t plen = strlen(path);
	struct fs_job *j;
	pthread_condattr_t ca;
	pthread_attr_t ta;
	pthread_t tid;
	sigset_t all, old;
	int rc;

	j = calloc(1, sizeof(*j) + plen + 1);
	if (j == NULL) {
		hr_err_errno(err, ENOMEM, "cannot start statvfs");
		return NULL;
	}
	memcpy(j->path, path, plen + 1);
	j->fn = fn;
	j->refs = 2;
	pthread_mutex_init(&j->lock, NULL);
	/* Deadlines are on the monotonic clock: a wall clock step must not
	 * make a wait endless or instant. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cond, &ca);
	pthread_condattr_destroy(&ca);

	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&ta, FS_WORKER_STACK > PTHREAD_STACK_MIN ?
				  FS_WORKER_STACK : PTHREAD_STACK_MIN);
	/* Signals belong to the agent's main thread, not to a worker that may
	 * sit in an uninterruptible NFS call. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&tid, &ta, fs_worker, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	if (rc != 0) {
		fs_job_free(j);
		hr_err_errno(err, rc, "cannot start a statvfs thread");
		return NULL;
	}
	return j;
}

/* Waits until the job is done or the deadline (CLOCK_MONOTONIC) passes;
 * NULL deadline: do not wait. Returns 1 when done. */
static int fs_job_wait(struct fs_job *j, const struct timespec *deadline)
{
	int done;

	pthread_mutex_lock(&j->lock);
	while (!j->done && deadline != NULL)
		if (pthread_cond_timedwait(&j->cond, &j->lock, deadline) == ETIMEDOUT)
			break;
	done = j->done;
	pthread_mutex_unlock(&j->lock);
	return done;
}

void fs_set_statvfs(void *state, int (*fn)(const char *path, struct statvfs *st))
{
	struct fs_state *st = state;

	st->statvfs_fn = fn != NULL ? fn : statvfs;
}

static struct fs_track *fs_track_get(struct fs_state *st, const char *mountpoint)
{
	struct fs_track *t;
	size_t i;

	for (i = 0; i < st->ntracks; i++)
		if (strcmp(st->tracks[i]->mountpoint, mountpoint) == 0)
			return st->tracks[i];
	if (st->ntracks == st->captracks) {
		size_t ncap = st->captracks ? st->captracks * 2 : 16;
		struct fs_track **n = realloc(st->tracks, ncap * sizeof(*n));

		if (n == NULL)
			return NULL;
		st->tracks = n;
		st->captracks = ncap;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	hr_strlcpy(t->mountpoint, mountpoint, sizeof(t->mountpoint));
	st->tracks[st->ntracks++] = t;
	return t;
}

static void fs_track_free(struct fs_track *t)
{
	if (t->job != NULL)
		fs_job_put(t->job);
	free(t);
}

/* Forgets mount points that are gone, unless a statvfs on them is still in
 * flight (then the track holds the job until it returns). */
static void fs_tracks_prune(struct fs_state *st)
{
	size_t i, o = 0;

	for (i = 0; i < st->ntracks; i++) {
		struct fs_track *t = st->tracks[i];

		if (!t->seen && t->job != NULL && fs_job_wait(t->job, NULL)) {
			fs_job_put(t->job);
			t->job = NULL;
		}
		if (!t->seen && t->job == NULL) {
			free(t);
			continue;
		}
		st->tracks[o++] = t;
	}
	st->ntracks = o;
}

static void fs_put_sample(struct hr_sink *sink, const struct fs_mount *m, const struct fs_slot *sl)
{
	struct hr_sample s;

	hr_sample_init(&s, "fs", m->mountpoint);
	hr_sample_label(&s, "fstype", m->fstype);
	hr_sample_label(&s, "device", m->source);
	if (sl->outcome == FS_STUCK) {
		hr_sample_label(&s, "state", "stuck");
	} else {
		const struct statvfs *v = &sl->st;
		double frsize = v->f_frsize != 0 ? (double)v->f_frsize : (double)v->f_bsize;

		hr_sample_label(&s, "state", "ok");
		hr_sample_set(&s, "size", (double)v->f_blocks * frsize);
		if (v->f_bfree <= v->f_blocks)
			hr_sample_set(&s, "used", (double)(v->f_blocks - v->f_bfree) * frsize);
		hr_sample_set(&s, "avail", (double)v->f_bavail * frsize);
		/* btrfs, vfat, NFS from some servers: no inode table to report. */
		if (v->f_files != 0) {
			hr_sample_set(&s, "inodes", (double)v->f_files);
			if (v->f_ffree <= v->f_files)
				hr_sample_set(&s, "inodes_used", (double)(v->f_files - v->f_ffree));
		}
	}
	hr_sink_put(sink, &s);
}

/* Reads the mount table: our own mount namespace, else init's (the fixture
 * roots carry only proc/1/mountinfo). */
static int fs_read_mountinfo(struct fs_state *st, char **buf, size_t *len, const char **which,
			     struct hr_err *err)
{
	struct hr_err e1 = { { 0 } };

	*which = "/proc/self/mountinfo";
	if (hr_read_file(st->root, *which, buf, len, HR_FILE_CAP, &e1) == 0)
		return 0;
	*which = "/proc/1/mountinfo";
	if (hr_read_file(st->root, *which, buf, len, HR_FILE_CAP, err) == 0)
		return 0;
	return hr_err_set(err, "%s (and /proc/1/mountinfo)", e1.msg);
}

static void fs_deadline(struct timespec *ts, double seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)seconds;
	ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Starts (or keeps waiting for) the statvfs of mount m. */
static void fs_begin(struct fs_state *st, const struct fs_mount *m, struct fs_slot *sl)
{
	struct fs_track *t;
	struct hr_err e = { { 0 } };
	char full[PATH_MAX];

	t = fs_track_get(st, m->mountpoint);
	if (t == NULL) {
		hr_log_warnx("probe fs: %s: out of memory", m->mountpoint);
		return;
	}
	sl->track = t;
	t->seen = 1;
	if (t->job != NULL) {
		if (!fs_job_wait(t->job, NULL)) {
			/* Still hanging: one worker per mount, never more. */
			sl->outcome = FS_STUCK;
			return;
		}
		fs_job_put(t->job);
		t->job = NULL;
		if (t->stuck) {
			t->stuck = 0;
			hr_complain_clear(&t->c, "probe fs: %s: statvfs returned, measuring it again",
					  m->mountpoint);
		}
	}
	if (hr_path(full, sizeof(full), st->root, m->mountpoint, &e) < 0) {
		hr_complain(&t->c, "probe fs: %s: %s", m->mountpoint, e.msg);
		return;
	}
	t->job = fs_job_start(full, st->statvfs_fn, &e);
	if (t->job == NULL) {
		hr_complain(&t->c, "probe fs: %s: %s", m->mountpoint, e.msg);
		return;
	}
	sl->started = 1;
}

/* Collects the statvfs started by fs_begin, waiting until the deadline. */
static void fs_finish(struct fs_state *st, const struct fs_mount *m, struct fs_slot *sl,
		      const struct timespec *deadline)
{
	struct fs_track *t = sl->track;
	int rc, errnum;

	if (!fs_job_wait(t->job, deadline)) {
		t->stuck = 1;
		sl->outcome = FS_STUCK;
		hr_complain(&t->c, "probe fs: %s: statvfs has not returned within %gs; "
			    "reporting the mount stuck", m->mountpoint, st->timeout);
		return;
	}
	/* done is final once seen under the lock: the worker writes no more. */
	rc = t->job->rc;
	errnum = t->job->errnum;
	sl->st = t->job->st;
	fs_job_put(t->job);
	t->job = NULL;
	if (rc != 0) {
		hr_complain(&t->c, "probe fs: %s: statvfs: %s", m->mountpoint, strerror(errnum));
		return;
	}
	hr_complain_clear(&t->c, "probe fs: %s: statvfs works again", m->mountpoint);
	sl->outcome = FS_OK;
}

static int fs_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct fs_state *st = state;
	struct fs_filter filter = {
		.tmpfs = st->tmpfs,
		.fstypes = (const char *const *)st->fstypes,
		.exclude = (const char *const *)st->exclude,
	};
	struct fs_mounts mounts;
	struct fs_slot *slots = NULL;
	struct hr_err e = { { 0 } };
	struct timespec deadline;
	const char *which;
	char *buf = NULL;
	size_t len, i;
	int rc = -1;

	fs_mounts_init(&mounts);
	if (fs_read_mountinfo(st, &buf, &len, &which, &e) < 0) {
		hr_complain(&st->c_read, "probe fs: %s", e.msg);
		hr_err_set(err, "%s", e.msg);
		goto out;
	}
	hr_complain_clear(&st->c_read, "probe fs: %s: readable again", which);
	if (fs_parse_mountinfo(buf, len, &mounts, &e) < 0)
		hr_log_warnx("probe fs: %s: %s", which, e.msg);
	if (mounts.skipped > 0)
		hr_complain(&st->c_parse, "probe fs: %s: line %u: cannot parse, skipped (%u lines skipped)",
			    which, mounts.first_bad, mounts.skipped);
	else
		hr_complain_clear(&st->c_parse, "probe fs: %s: every line parses again", which);
	fs_filter_mounts(&mounts, &filter);

	if (mounts.count > 0) {
		slots = calloc(mounts.count, sizeof(*slots));
		if (slots == NULL) {
			hr_err_errno(err, ENOMEM, "probe fs");
			goto out;
		}
	}
	for (i = 0; i < st->ntracks; i++)
		st->tracks[i]->seen = 0;
	/* Start every statvfs first, then wait for them against one deadline:
	 * a read takes at most one timeout however many mounts hang. */
	for (i = 0; i < mounts.count; i++)
		fs_begin(st, &mounts.items[i], &slots[i]);
	fs_deadline(&deadline, st->timeout);
	for (i = 0; i < mounts.count; i++)
		if (slots[i].started)
			fs_finish(st, &mounts.items[i], &slots[i], &deadline);
	for (i = 0; i < mounts.count; i++)
		if (slots[i].outcome != FS_NONE)
			fs_put_sample(sink, &mounts.items[i], &slots[i]);
	fs_tracks_prune(st);
	rc = 0;
out:
	free(slots);
	free(buf);
	fs_mounts_free(&mounts);
	return rc;
}

static void fs_teardown(void *state)
{
	struct fs_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	/* A worker still hanging keeps its own reference and frees the job
	 * when its statvfs returns, if ever. */
	for (i = 0; i < st->ntracks; i++)
		fs_track_free(st->tracks[i]);
	free(st->tracks);
	hr_strv_free(st->fstypes);
	hr_strv_free(st->exclude);
	free(st);
}

static int fs_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		    void **state, struct hr_errs *errs)
{
	static const char *const allowed[] = { "tmpfs", "fstypes", "exclude", "timeout", "interval", NULL };
	struct fs_state *st;
	int bad = 0;

	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	st->timeout = FS_DEFAULT_TIMEOUT;
	st->statvfs_fn = statvfs;
	/* The getters find nothing in NULL or true: defaults. */
	if (hr_cfg_object(cfg, path, allowed, errs) < 0) {
		if (!cJSON_IsObject(cfg)) {
			fs_teardown(st);
			return -1;
		}
		bad = 1;
	}
	if (hr_cfg_bool(cfg, "tmpfs", path, &st->tmpfs, errs) < 0)
		bad = 1;
	if (hr_cfg_strv(cfg, "fstypes", path, &st->fstypes, errs) < 0)
		bad = 1;
	if (hr_cfg_strv(cfg, "exclude", path, &st->exclude, errs) < 0)
		bad = 1;
	if (hr_cfg_duration(cfg, "timeout", path, 0.01, 600, &st->timeout, errs) < 0)
		bad = 1;
	if (bad) {
		fs_teardown(st);
		return -1;
	}
	*state = st;
	return 0;
}

const struct probe probe_fs = {
	.name = "fs",
	.core = 1,
	.default_interval = 60, /* statvfs is the costliest read; capacity moves slowly */
	.setup = fs_setup,
	.read = fs_read,
	.teardown = fs_teardown,
};
