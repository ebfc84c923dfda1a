/* rrdstore.c: one host's RRD archives (see rrdstore.h), in two backends
 * that share names, layout and DS rules: librrd files, where every librrd
 * call is a thread-safe one (rrd_create_r2, rrd_updatex_r, rrd_lastupdate_r)
 * with librrd's per-thread error cleared right before and read right after
 * it; and rrdcached, through its protocol (rrdcached.h). What a file holds
 * (its DS names, its last update) is cached per file, so a steady-state
 * write is one rrd_updatex_r() or one UPDATE, and nothing else. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* rrd_format.h (the on-disk structs the undo journal reads) is only
 * reachable through rrd.h with this defined. */
#define RRD_EXPORT_DEPRECATED
#include <rrd.h>

#include "crc32c.h"
#include "rrdcached.h"
#include "rrdstore.h"
#include "schema.h"
#include "util.h"

#define DAY 86400UL
#define RRDSTORE_XFF "0.5"
/* DS a file may grow to: bounds what a stream of ever-new value names (a
 * buggy exec plugin, a hostile sender at the central) can do to one file. */
#define RRDSTORE_MAX_DS 256
/* Longest file name: NAME_MAX (255) less the ".tmp" of our temporary name
 * and the "XXXXXX" librrd appends to it for its own. */
#define RRDSTORE_FILE_MAX 240
#define RRDSTORE_LEVELS 5
/* One value in an update line: "%.17g" takes at most 24 bytes, and ':'. */
#define RRDSTORE_VALUE_MAX 32

/* The archives of DESIGN.md: resolution wanted (0: the native step) and how
 * long it is kept. Months count 31 days and years 366, so that "3 months"
 * and "2 years" hold at least that long whatever the calendar. */
static const struct {
	unsigned long res;
	unsigned long keep;
} rrdstore_levels[RRDSTORE_LEVELS] = {
	{ 0, 2 * DAY },
	{ 60, 14 * DAY },
	{ 300, 3 * 31 * DAY },
	{ 3600, 2 * 366 * DAY },
	{ DAY, 10 * 366 * DAY },
};

struct rrdstore_rra {
	unsigned long pdp;  /* primary data points (steps) per row */
	unsigned long rows;
};

/* What we know of one archive file. */
struct rrdstore_file {
	struct rrdstore_file *next; /* hash chain */
	uint32_t hash;
	char *probe;
	char *instance;
	char *path;
	time_t last;                /* the file's last update */
	unsigned long step;         /* the file's step; 0: not known */
	size_t nds;
	char (*ds)[HR_NAME_MAX];    /* DS names in file order */
	char *tmpl;                 /* "ds1:ds2:...", the update template */
	char *line;                 /* update line buffer, nds values long */
	size_t linecap;
};

struct rrdstore_backend;

struct rrdstore {
	const struct rrdstore_backend *be;
	struct rrdcached *cached;   /* the rrdcached backend's connection */
	char *dir;                  /* relative to the daemon's base for rrdcached */
	size_t dirlen;
	int jfd;                    /* the undo journal; -1: none */
	int jbroken;                /* a failed update could not be undone */
	unsigned char *jbuf;        /* the undo record, during an update */
	size_t jcap;
	struct rrdstore_file **buckets;
	size_t nbuckets;            /* a power of two */
	size_t count;
};

/* The archives of a file of this step, coarsest last. An archive whose
 * rows would hold as many steps as an earlier one (the "1 min" archive of a
 * 60 s step, say) is the same archive: it is merged into the earlier one,
 * which keeps the longer retention. Resolutions that are not a multiple of
 * the step are rounded to the nearest whole number of steps (at least 1), and
 * rows are rounded up so that the whole retention is kept. */
static size_t rrdstore_layout(unsigned step, struct rrdstore_rra *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < RRDSTORE_LEVELS; i++) {
		unsigned long pdp = (rrdstore_levels[i].res + step / 2) / step;
		unsigned long span, rows;

		if (pdp < 1)
			pdp = 1;
		span = pdp * step;
		rows = (rrdstore_levels[i].keep + span - 1) / span;
		for (j = 0; j < n && out[j].pdp != pdp; j++)
			;
		if (j < n) {
			if (rows > out[j].rows)
				out[j].rows = rows;
			continue;
		}
		out[n].pdp = pdp;
		out[n].rows = rows;
		n++;
	}
	return n;
}

/* Consolidation functions of an archive: with one step per row AVERAGE, MAX
 * and MIN would be the same numbers, so only AVERAGE is kept there. */
static size_t rrdstore_ncf(const struct rrdstore_rra *rra, int keep_min)
{
	if (rra->pdp == 1)
		return 1;
	return keep_min ? 3 : 2;
}

size_t rrdstore_bytes_per_ds(unsigned step, int keep_min)
{
	struct rrdstore_rra rra[RRDSTORE_LEVELS];
	size_t i, n, rows = 0;

	if (step == 0)
		return 0;
	n = rrdstore_layout(step, rra);
	for (i = 0; i < n; i++)
		rows += rra[i].rows * rrdstore_ncf(&rra[i], keep_min);
	return rows * sizeof(double);
}

/* --- names ---------------------------------------------------------------- */

static int rrdstore_keep(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int rrdstore_probe_valid(const char *probe)
{
	size_t i;

	for (i = 0; i < HR_PROBE_MAX && probe[i] != '\0'; i++) {
		unsigned char c = (unsigned char)probe[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return i > 0 && i < HR_PROBE_MAX;
}

int rrdstore_filename(char *dst, size_t n, const char *probe, const char *instance,
		      struct hr_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[RRDSTORE_FILE_MAX + 1];
	size_t len, i;

	if (probe == NULL || !rrdstore_probe_valid(probe))
		return hr_err_set(err, "rrdstore: probe name \"%.*s\" is not 1-%d of [A-Za-z0-9_]",
				  HR_PROBE_MAX, probe ? probe : "", HR_PROBE_MAX - 1);
	if (instance == NULL)
		instance = "";
	len = strlen(probe);
	memcpy(buf, probe, len);
	if (instance[0] != '\0')
		buf[len++] = '-';
	/* The probe name holds no '-', so the first '-' splits the name back
	 * into probe and escaped instance. */
	for (i = 0; instance[i] != '\0'; i++) {
		unsigned char c = (unsigned char)instance[i];
		int keep = rrdstore_keep(c) && !(i == 0 && c == '.');

		if (len + (keep ? 1 : 3) + 4 > RRDSTORE_FILE_MAX)
			return hr_err_set(err, "rrdstore: %s: instance \"%.40s...\" is too long for a file name",
					  probe, instance);
		if (keep) {
			buf[len++] = (char)c;
		} else {
			buf[len++] = '%';
			buf[len++] = hex[c >> 4];
			buf[len++] = hex[c & 15];
		}
	}
	memcpy(buf + len, ".rrd", 5);
	len += 4;
	if (len >= n)
		return hr_err_set(err, "rrdstore: %s: file name does not fit in %zu bytes", probe, n);
	memcpy(dst, buf, len + 1);
	return 0;
}

static int rrdstore_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict: only what rrdstore_filename() writes is accepted (upper-case hex,
 * no escape of a byte that is kept as is, no bare leading '.'), so that an
 * instance has exactly one file name and two files never mean the same
 * instance. */
int rrdstore_unescape(char *dst, size_t n, const char *escaped)
{
	size_t i, len = 0;

	for (i = 0; escaped[i] != '\0'; i++) {
		unsigned char c = (unsigned char)escaped[i];

		if (c == '%') {
			int hi = rrdstore_hexval(escaped[i + 1]);
			int lo = hi < 0 ? -1 : rrdstore_hexval(escaped[i + 2]);

			if (lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0' || (rrdstore_keep(c) && !(len == 0 && c == '.')))
				return -1;
			i += 2;
		} else if (!rrdstore_keep(c) || (len == 0 && c == '.')) {
			return -1;
		}
		if (len + 1 >= n)
			return -1;
		dst[len++] = (char)c;
	}
	if (n == 0)
		return -1;
	dst[len] = '\0';
	return 0;
}

int rrdstore_path(const struct rrdstore *st, char *dst, size_t n, const char *probe,
		  const char *instance, struct hr_err *err)
{
	char name[RRDSTORE_FILE_MAX + 1];
	int len;

	if (rrdstore_filename(name, sizeof(name), probe, instance, err) < 0)
		return -1;
	len = snprintf(dst, n, "%s/%s", st->dir, name);
	if (len < 0 || (size_t)len >= n)
		return hr_err_set(err, "rrdstore: %s/%s: path does not fit in %zu bytes",
				  st->dir, name, n);
	return 0;
}

/* --- folder ---------------------------------------------------------------- */

/* mkdir -p DIR, mode 0755. */
static int rrdstore_mkdir_p(const char *dir, struct hr_err *err)
{
	char buf[PATH_MAX];
	struct stat sb;
	size_t i;

	if (hr_strlcpy(buf, dir, sizeof(buf)) >= sizeof(buf))
		return hr_err_set(err, "rrdstore: %.100s...: folder name too long", dir);
	for (i = 1; buf[i] != '\0'; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", buf);
		buf[i] = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", buf);
	if (stat(buf, &sb) < 0)
		return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", buf);
	if (!S_ISDIR(sb.st_mode))
		return hr_err_errno(err, ENOTDIR, "rrdstore: cannot create folder %s", buf);
	return 0;
}

/* --- backends ---------------------------------------------------------------
 * What differs between writing the files with librrd and writing through
 * rrdcached; names, layout, DS rules and the cache above and below are the
 * same for both. */

struct rrdstore_backend {
	/* 1 when PATH's archive exists, 0 when it does not, -1 error. */
	int (*exists)(struct rrdstore *st, const char *path, struct hr_err *err);
	/* Its DS names in file order (caller frees each and the array), last
	 * update and step (0: not known). */
	int (*info)(struct rrdstore *st, const char *path, char ***names, unsigned long *cnt,
		    time_t *last, unsigned long *step, struct hr_err *err);
	/* A new archive at PATH of this step, last update start, made of
	 * argv (DS and RRA). */
	int (*create)(struct rrdstore *st, const char *path, unsigned long step, time_t start,
		      int argc, const char **argv, struct hr_err *err);
	/* f's archive again with the DS of argv added, data kept. */
	int (*add_ds)(struct rrdstore *st, const struct rrdstore_file *f, int argc,
		      const char **argv, struct hr_err *err);
	/* argc update lines ("T:V:V...", in f's DS order, times increasing)
	 * into f's archive, in one call. */
	int (*update)(struct rrdstore *st, const struct rrdstore_file *f, int argc,
		      const char **lines, struct hr_err *err);
};

static void rrdstore_names_free(char **names, unsigned long cnt)
{
	unsigned long i;

	for (i = 0; names != NULL && i < cnt; i++)
		free(names[i]);
	free(names);
}

/* librrd files ------------------------------------------------------------- */

static int rrdstore_file_exists(struct rrdstore *st, const char *path, struct hr_err *err)
{
	struct stat sb;

	(void)st;
	if (stat(path, &sb) == 0)
		return 1;
	/* ENOTDIR: a file where a folder should be; creating says which. */
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return hr_err_errno(err, errno, "rrdstore: %s", path);
}

static int rrdstore_file_info(struct rrdstore *st, const char *path, char ***names,
			      unsigned long *cnt, time_t *last, unsigned long *step,
			      struct hr_err *err)
{
	char **lasts = NULL;

	(void)st;
	*step = 0;
	rrd_clear_error();
	if (rrd_lastupdate_r(path, last, cnt, names, &lasts) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot read the archive: %s", path,
			   rrd_get_error());
		rrd_clear_error();
		return -1;
	}
	rrdstore_names_free(lasts, *cnt);
	return 0;
}

/* Flushes the temporary file to disk and renames it into place, so that a
 * crash leaves either the old archive, or none, or the whole new one; never
 * a half-written file under the archive's name. */
static int rrdstore_commit(const char *tmp, const char *path, struct hr_err *err)
{
	struct stat sb;
	int fd, rc;

	/* O_NOFOLLOW and a regular file only: whatever else sits at the
	 * temporary name is not put in the archive's place. */
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return hr_err_errno(err, errno, "rrdstore: %s", tmp);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return hr_err_set(err, "rrdstore: %s: not a regular file", tmp);
	}
	rc = fsync(fd);
	close(fd);
	if (rc < 0 || rename(tmp, path) < 0) {
		hr_err_errno(err, errno, "rrdstore: %s: cannot put %s in place", path, tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int rrdstore_file_create(struct rrdstore *st, const char *path, unsigned long step,
				time_t start, int argc, const char **argv, struct hr_err *err)
{
	char tmp[PATH_MAX];

	if (rrdstore_mkdir_p(st->dir, err) < 0)
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return hr_err_set(err, "rrdstore: %s: path too long", path);
	rrd_clear_error();
	if (rrd_create_r2(tmp, step, start, 0, NULL, NULL, argc, argv) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot create: %s", path, rrd_get_error());
		rrd_clear_error();
		unlink(tmp);
		return -1;
	}
	return rrdstore_commit(tmp, path, err);
}

/* librrd 1.7's rrd_tune can add a DS too, but it is not one of the _r calls
 * and it reaches for a global rrdcached connection when RRDCACHED_ADDRESS is
 * set; rrd_create_r2 with the file as template (its step, DS and archives
 * stay exactly as they are) and as source (its data, last update and
 * counter state are copied) does the same job with the thread-safe call,
 * into a temporary name that we rename into place. */
static int rrdstore_file_add_ds(struct rrdstore *st, const struct rrdstore_file *f, int argc,
				const char **argv, struct hr_err *err)
{
	const char *sources[2] = { f->path, NULL };
	char tmp[PATH_MAX];

	(void)st;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", f->path) >= sizeof(tmp))
		return hr_err_set(err, "rrdstore: %s: path too long", f->path);
	rrd_clear_error();
	if (rrd_create_r2(tmp, 0, -1, 0, sources, f->path, argc, argv) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot add a value: %s", f->path, rrd_get_error());
		rrd_clear_error();
		unlink(tmp);
		return -1;
	}
	return rrdstore_commit(tmp, f->path, err);
}

/* --- undo journal -------------------------------------------------------------
 * rrd_updatex_r() is not atomic: it writes the RRA rows and row pointers
 * and then the live header with the last update, in several writes. A
 * process killed in between leaves a file whose rows are ahead of its last
 * update, and a resend of the same values then stores each of them one row
 * later, shifting the history. So before each update the bytes the update
 * can change are saved in the store's journal: the whole header (static
 * head to rra_ptr[]) and, for each RRA, the rows after cur_row that the
 * update can reach. After the update the record is invalidated; after a
 * failed one it is put back first. At start-up a record still valid means
 * an update was cut short, and it is put back (rrdstore_set_journal).
 * No fsync of the journal before the update: what this protects against is
 * a killed process, whose page-cache writes (the journal's and librrd's)
 * all survive it. A power loss can tear a file without it as with it.
 *
 * The record, at offset 0, in native byte order (the journal never leaves
 * the machine):
 *    0  "HRUJ"         magic; zeroed when the record is no longer needed
 *    4  u32 version    RRDSTORE_UNDO_VERSION
 *    8  u32 crc        CRC-32C of the record with this field zero
 *   12  u32 namelen    the file's name in the store's folder (no '/')
 *   16  u64 reclen     bytes in the record
 *   24  u64 filesize   the file's size (an update does not change it)
 *   32  u64 hdrlen     bytes of header, saved from offset 0
 *   40  u32 nseg       saved row ranges
 *   44  u32 zero
 *   48  the name, the header, then per range: u64 offset, u64 length, bytes */
#define RRDSTORE_UNDO_MAGIC "HRUJ"
#define RRDSTORE_UNDO_VERSION 1
#define RRDSTORE_UNDO_FIXED 48
#define RRDSTORE_UNDO_SEG 16
/* Bounds of a header we agree to read: far above what rrdstore makes
 * (RRDSTORE_MAX_DS data sources, 14 RRAs), low enough that the sizes
 * computed from them cannot overflow. */
#define RRDSTORE_UNDO_DS_MAX 4096
#define RRDSTORE_UNDO_RRA_MAX 1024
#define RRDSTORE_UNDO_STEPS_MAX (1UL << 31) /* pdp_step, pdp_cnt */
/* A record larger than this is not read back at start-up (a whole archive
 * of RRDSTORE_MAX_DS values at a 1 s step is about 200 MiB). */
#define RRDSTORE_UNDO_MAX (1ULL << 30)
/* Bytes read at first: the header of 8 values and 14 RRAs is 12.5 KiB. */
#define RRDSTORE_UNDO_FIRST 16384

static void rrdstore_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void rrdstore_put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t rrdstore_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rrdstore_get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A name rrdstore_filename() could have written: no '/', never "." or
 * "..", so that DIR/NAME stays in DIR. */
static int rrdstore_undo_name_ok(const unsigned char *name, size_t len)
{
	size_t i;

	if (len < 5 || len > RRDSTORE_FILE_MAX || name[0] == '.' ||
	    memcmp(name + len - 4, ".rrd", 4) != 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!rrdstore_keep(name[i]) && name[i] != '%')
			return 0;
	return 1;
}

static int rrdstore_undo_room(unsigned char **buf, size_t *cap, uint64_t need,
			      struct hr_err *err)
{
	unsigned char *nb;
	size_t n;

	if (need <= *cap)
		return 0;
	if (need > RRDSTORE_UNDO_MAX)
		return hr_err_set(err, "undo record of %llu bytes is too large",
				  (unsigned long long)need);
	n = *cap ? *cap : 4096;
	while (n < need)
		n *= 2;
	nb = realloc(*buf, n);
	if (nb == NULL)
		return hr_err_set(err, "out of memory");
	*buf = nb;
	*cap = n;
	return 0;
}

static int rrdstore_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	ssize_t r;

	while (len > 0) {
		r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* shorter than its header says */
			return -1;
		}
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int rrdstore_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;
	ssize_t r;

	while (len > 0) {
		r = pwrite(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Appends rows [first, first+n) of an RRA whose rows start at base into
 * the record at *len. */
static int rrdstore_undo_rows(int fd, unsigned char **buf, size_t *cap, size_t *len,
			      uint64_t base, uint64_t rowbytes, uint64_t first, uint64_t n,
			      uint32_t *nseg, struct hr_err *err)
{
	uint64_t off = base + first * rowbytes, bytes = n * rowbytes;

	if (n == 0)
		return 0;
	if (rrdstore_undo_room(buf, cap, *len + RRDSTORE_UNDO_SEG + bytes, err) < 0)
		return -1;
	rrdstore_put64(*buf + *len, off);
	rrdstore_put64(*buf + *len + 8, bytes);
	if (rrdstore_pread_all(fd, *buf + *len + RRDSTORE_UNDO_SEG, (size_t)bytes, off) < 0)
		return hr_err_errno(err, errno, "cannot read its rows");
	*len += RRDSTORE_UNDO_SEG + (size_t)bytes;
	(*nseg)++;
	return 0;
}

int rrdstore_undo_build(int fd, const char *name, time_t tmax, unsigned char **buf,
			size_t *cap, size_t *len, struct hr_err *err)
{
	static const char *const cfs[] = { "AVERAGE", "MIN", "MAX", "LAST" };
	size_t namelen = strlen(name), first, off, i, j;
	uint64_t hdrlen, rows = 0, base, ds, rra, rowbytes;
	unsigned char *hdr;
	stat_head_t sh;
	live_head_t live;
	struct stat sb;
	uint32_t nseg = 0, crc;

	if (!rrdstore_undo_name_ok((const unsigned char *)name, namelen))
		return hr_err_set(err, "\"%s\" is not an archive's name", name);
	if (fstat(fd, &sb) < 0)
		return hr_err_errno(err, errno, "cannot stat");
	if ((uint64_t)sb.st_size < sizeof(sh))
		return hr_err_set(err, "%lld bytes: too short for an RRD file",
				  (long long)sb.st_size);
	/* One read for the usual header (a few KiB), a second one only for a
	 * larger header: every syscall here is paid once per update. */
	first = (uint64_t)sb.st_size < RRDSTORE_UNDO_FIRST ? (size_t)sb.st_size :
							     RRDSTORE_UNDO_FIRST;
	*len = RRDSTORE_UNDO_FIXED + namelen;
	if (rrdstore_undo_room(buf, cap, *len + first, err) < 0)
		return -1;
	if (rrdstore_pread_all(fd, *buf + *len, first, 0) < 0)
		return hr_err_errno(err, errno, "cannot read its header");
	memcpy(&sh, *buf + *len, sizeof(sh));
	if (memcmp(sh.cookie, RRD_COOKIE, 4) != 0 || sh.float_cookie != FLOAT_COOKIE ||
	    (memcmp(sh.version, RRD_VERSION3, 5) != 0 && memcmp(sh.version, RRD_VERSION4, 5) != 0 &&
	     memcmp(sh.version, RRD_VERSION5, 5) != 0))
		return hr_err_set(err, "not an RRD file of format 0003-0005 for this machine");
	ds = sh.ds_cnt;
	rra = sh.rra_cnt;
	if (ds == 0 || ds > RRDSTORE_UNDO_DS_MAX || rra == 0 || rra > RRDSTORE_UNDO_RRA_MAX ||
	    sh.pdp_step == 0 || sh.pdp_step > RRDSTORE_UNDO_STEPS_MAX)
		return hr_err_set(err, "header with %llu data sources, %llu RRAs, step %lu",
				  (unsigned long long)ds, (unsigned long long)rra, sh.pdp_step);
	/* The layout of rrd_format.h, as rrd_open() reads it for version 3
	 * and later: each part right after the previous one. */
	hdrlen = sizeof(stat_head_t) + ds * sizeof(ds_def_t) + rra * sizeof(rra_def_t) +
		 sizeof(live_head_t) + ds * sizeof(pdp_prep_t) +
		 ds * rra * sizeof(cdp_prep_t) + rra * sizeof(rra_ptr_t);
	if (hdrlen > (uint64_t)sb.st_size)
		return hr_err_set(err, "%llu bytes, shorter than its header (%llu)",
				  (unsigned long long)sb.st_size, (unsigned long long)hdrlen);
	if (rrdstore_undo_room(buf, cap, *len + hdrlen, err) < 0)
		return -1;
	memcpy(*buf + RRDSTORE_UNDO_FIXED, name, namelen);
	hdr = *buf + *len;
	if (hdrlen > first &&
	    rrdstore_pread_all(fd, hdr + first, (size_t)(hdrlen - first), first) < 0)
		return hr_err_errno(err, errno, "cannot read its header");
	*len += (size_t)hdrlen;
	rowbytes = ds * sizeof(rrd_value_t);
	off = sizeof(stat_head_t) + ds * sizeof(ds_def_t);
	for (i = 0; i < rra; i++) {
		rra_def_t rd;

		memcpy(&rd, hdr + off + i * sizeof(rd), sizeof(rd));
		for (j = 0; j < sizeof(cfs) / sizeof(cfs[0]); j++)
			if (strncmp(rd.cf_nam, cfs[j], CF_NAM_SIZE) == 0)
				break;
		/* The Holt-Winters archives write rows elsewhere than after
		 * cur_row: not ours, and not saved correctly here. */
		if (j == sizeof(cfs) / sizeof(cfs[0]))
			return hr_err_set(err, "RRA %zu has consolidation function %.*s, which the undo journal cannot cover",
					  i, CF_NAM_SIZE, rd.cf_nam);
		if (rd.row_cnt == 0 || rd.pdp_cnt == 0 || rd.pdp_cnt > RRDSTORE_UNDO_STEPS_MAX ||
		    rd.row_cnt > (uint64_t)sb.st_size / rowbytes)
			return hr_err_set(err, "RRA %zu has %lu rows of %lu steps", i, rd.row_cnt,
					  rd.pdp_cnt);
		rows += rd.row_cnt;
	}
	if (rows > (uint64_t)sb.st_size / rowbytes ||
	    hdrlen + rows * rowbytes != (uint64_t)sb.st_size)
		return hr_err_set(err, "header (%llu bytes) and rows (%llu bytes) do not add up to its size (%llu bytes): not the layout this build reads",
				  (unsigned long long)hdrlen, (unsigned long long)(rows * rowbytes),
				  (unsigned long long)sb.st_size);
	memcpy(&live, hdr + off + rra * sizeof(rra_def_t), sizeof(live));
	/* The rows an update can write: it moves an RRA of span S seconds
	 * a row one row on for each multiple of S passed between the last
	 * update and its last time (librrd aligns rows to multiples of S),
	 * writing the rows after cur_row; one more row for safety, all of
	 * them at most. */
	base = hdrlen;
	for (i = 0; i < rra; i++) {
		rra_def_t rd;
		rra_ptr_t rp;
		uint64_t span, n = 1, next;

		memcpy(&rd, hdr + off + i * sizeof(rd), sizeof(rd));
		memcpy(&rp, hdr + hdrlen - (rra - i) * sizeof(rp), sizeof(rp));
		if (rp.cur_row >= rd.row_cnt)
			return hr_err_set(err, "RRA %zu's current row %lu is past its %lu rows", i,
					  rp.cur_row, rd.row_cnt);
		span = (uint64_t)sh.pdp_step * rd.pdp_cnt;
		if (tmax > live.last_up && live.last_up >= 0)
			n += (uint64_t)tmax / span - (uint64_t)live.last_up / span;
		if (n > rd.row_cnt)
			n = rd.row_cnt;
		next = (rp.cur_row + 1) % rd.row_cnt;
		if (next + n <= rd.row_cnt) {
			if (rrdstore_undo_rows(fd, buf, cap, len, base, rowbytes, next, n, &nseg,
					       err) < 0)
				return -1;
		} else if (rrdstore_undo_rows(fd, buf, cap, len, base, rowbytes, next,
					      rd.row_cnt - next, &nseg, err) < 0 ||
			   rrdstore_undo_rows(fd, buf, cap, len, base, rowbytes, 0,
					      n - (rd.row_cnt - next), &nseg, err) < 0) {
			return -1;
		}
		base += rd.row_cnt * rowbytes;
	}
	memcpy(*buf, RRDSTORE_UNDO_MAGIC, 4);
	rrdstore_put32(*buf + 4, RRDSTORE_UNDO_VERSION);
	rrdstore_put32(*buf + 8, 0);
	rrdstore_put32(*buf + 12, (uint32_t)namelen);
	rrdstore_put64(*buf + 16, *len);
	rrdstore_put64(*buf + 24, (uint64_t)sb.st_size);
	rrdstore_put64(*buf + 32, hdrlen);
	rrdstore_put32(*buf + 40, nseg);
	rrdstore_put32(*buf + 44, 0);
	crc = hr_crc32c(0, *buf, *len);
	rrdstore_put32(*buf + 8, crc);
	return 0;
}

int rrdstore_undo_parse(const unsigned char *buf, size_t len, struct rrdstore_undo *u,
			struct hr_err *err)
{
	unsigned char fixed[RRDSTORE_UNDO_FIXED];
	uint64_t reclen, pos, off, n;
	uint32_t i, crc;

	memset(u, 0, sizeof(*u));
	if (len < RRDSTORE_UNDO_FIXED || memcmp(buf, RRDSTORE_UNDO_MAGIC, 4) != 0)
		return 0;
	if (rrdstore_get32(buf + 4) != RRDSTORE_UNDO_VERSION)
		return hr_err_set(err, "undo record of version %u, not %d", rrdstore_get32(buf + 4),
				  RRDSTORE_UNDO_VERSION);
	reclen = rrdstore_get64(buf + 16);
	if (reclen < RRDSTORE_UNDO_FIXED || reclen > len)
		return hr_err_set(err, "undo record of %llu bytes in %zu: cut short",
				  (unsigned long long)reclen, len);
	memcpy(fixed, buf, sizeof(fixed));
	rrdstore_put32(fixed + 8, 0);
	crc = hr_crc32c(hr_crc32c(0, fixed, sizeof(fixed)), buf + RRDSTORE_UNDO_FIXED,
			(size_t)reclen - RRDSTORE_UNDO_FIXED);
	if (crc != rrdstore_get32(buf + 8))
		return hr_err_set(err, "undo record with a bad checksum (written only in part)");
	/* From here on the record is whole; what is checked is that it
	 * makes sense, and that it names a file in the store's folder. */
	u->namelen = rrdstore_get32(buf + 12);
	u->filesize = rrdstore_get64(buf + 24);
	u->hdrlen = rrdstore_get64(buf + 32);
	u->nseg = rrdstore_get32(buf + 40);
	pos = RRDSTORE_UNDO_FIXED;
	if (u->namelen > reclen - pos)
		return hr_err_set(err, "undo record: name of %zu bytes does not fit", u->namelen);
	u->name = (const char *)buf + pos;
	if (!rrdstore_undo_name_ok(buf + pos, u->namelen))
		return hr_err_set(err, "undo record names \"%.*s\", not a file of the store's folder: refused",
				  (int)(u->namelen < 64 ? u->namelen : 64), u->name);
	pos += u->namelen;
	if (u->hdrlen == 0 || u->hdrlen > reclen - pos || u->hdrlen > u->filesize)
		return hr_err_set(err, "undo record: header of %llu bytes does not fit",
				  (unsigned long long)u->hdrlen);
	u->hdr = buf + pos;
	pos += u->hdrlen;
	u->segs = buf + pos;
	for (i = 0; i < u->nseg; i++) {
		if (reclen - pos < RRDSTORE_UNDO_SEG)
			return hr_err_set(err, "undo record: range %u does not fit", i);
		off = rrdstore_get64(buf + pos);
		n = rrdstore_get64(buf + pos + 8);
		pos += RRDSTORE_UNDO_SEG;
		if (n > reclen - pos || off < u->hdrlen || off > u->filesize ||
		    n > u->filesize - off)
			return hr_err_set(err, "undo record: range %u (%llu bytes at %llu) does not fit",
					  i, (unsigned long long)n, (unsigned long long)off);
		pos += n;
	}
	if (pos != reclen)
		return hr_err_set(err, "undo record: %llu bytes left over",
				  (unsigned long long)(reclen - pos));
	return 1;
}

/* Puts a parsed record back into DIR/NAME, synced to disk when sync. 0
 * done, 1 not done because the file is gone or is not the one the record
 * was taken from (err says which), -1 I/O error (err filled; the file may
 * be partly restored, the record is still needed). */
static int rrdstore_undo_apply(const char *dir, const struct rrdstore_undo *u, int sync,
			       struct hr_err *err)
{
	char path[PATH_MAX];
	const unsigned char *p = u->segs;
	struct stat sb;
	uint32_t i;
	int fd, rc = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%.*s", dir, (int)u->namelen, u->name) >=
	    sizeof(path))
		return hr_err_set(err, "%s/%.*s: path too long", dir, (int)u->namelen, u->name);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			return hr_err_errno(err, errno, "%s", path);
		hr_err_set(err, "%s is gone", path);
		return 1;
	}
	if (fstat(fd, &sb) < 0) {
		hr_err_errno(err, errno, "%s", path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != u->filesize) {
		hr_err_set(err, "%s is not the file of the record (%llu bytes, not %llu)", path,
			   (unsigned long long)sb.st_size, (unsigned long long)u->filesize);
		rc = 1;
		goto out;
	}
	if (rrdstore_pwrite_all(fd, u->hdr, (size_t)u->hdrlen, 0) < 0) {
		hr_err_errno(err, errno, "%s: cannot write back its header", path);
		goto out;
	}
	for (i = 0; i < u->nseg; i++) {
		uint64_t off = rrdstore_get64(p), n = rrdstore_get64(p + 8);

		if (rrdstore_pwrite_all(fd, p + RRDSTORE_UNDO_SEG, (size_t)n, off) < 0) {
			hr_err_errno(err, errno, "%s: cannot write back its rows", path);
			goto out;
		}
		p += RRDSTORE_UNDO_SEG + n;
	}
	if (sync && fsync(fd) < 0) {
		hr_err_errno(err, errno, "%s: fsync", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The record is not needed any more: its magic goes. */
static int rrdstore_undo_clear(int jfd)
{
	static const unsigned char zero[4];

	return rrdstore_pwrite_all(jfd, zero, sizeof(zero), 0);
}

/* The latest time of an update's lines ("T:V:..."), which are ours. */
static int rrdstore_lines_tmax(int argc, const char **lines, time_t *tmax)
{
	int64_t t;
	int i;

	*tmax = 0;
	for (i = 0; i < argc; i++) {
		const char *colon = strchr(lines[i], ':');

		if (colon == NULL || hr_parse_i64(lines[i], (size_t)(colon - lines[i]), &t) < 0)
			return -1;
		if (t > *tmax)
			*tmax = (time_t)t;
	}
	return 0;
}

/* Saves what an update of f with these lines can change into st's
 * journal; *len: the record's length in st->jbuf. */
static int rrdstore_undo_save(struct rrdstore *st, const struct rrdstore_file *f, int argc,
			      const char **lines, size_t *len, struct hr_err *err)
{
	struct hr_err e;
	time_t tmax;
	int fd, rc;

	if (st->jbroken)
		return hr_err_set(err, "rrdstore: %s: not updated: an earlier failed update could not be undone (restart to roll it back from the journal)",
				  f->path);
	if (strncmp(f->path, st->dir, st->dirlen) != 0 || f->path[st->dirlen] != '/')
		return hr_err_set(err, "rrdstore: %s: not in %s", f->path, st->dir);
	if (rrdstore_lines_tmax(argc, lines, &tmax) < 0)
		return hr_err_set(err, "rrdstore: %s: update line without a time", f->path);
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return hr_err_errno(err, errno, "rrdstore: %s", f->path);
	rc = rrdstore_undo_build(fd, f->path + st->dirlen + 1, tmax, &st->jbuf, &st->jcap, len,
				 &e);
	close(fd);
	if (rc < 0)
		return hr_err_set(err, "rrdstore: %s: not updated: no undo record: %s", f->path,
				  e.msg);
	if (rrdstore_pwrite_all(st->jfd, st->jbuf, *len, 0) < 0)
		return hr_err_errno(err, errno, "rrdstore: %s: not updated: cannot write the undo record",
				    f->path);
	return 0;
}

/* The template names the DS anyway, so that a file changed behind our back
 * fails the update instead of taking values into the wrong DS. */
static int rrdstore_file_update(struct rrdstore *st, const struct rrdstore_file *f, int argc,
				const char **lines, struct hr_err *err)
{
	struct rrdstore_undo u;
	struct hr_err e;
	size_t len = 0;
	int rc = 0;

	if (st->jfd >= 0 && rrdstore_undo_save(st, f, argc, lines, &len, err) < 0)
		return -1;
	rrd_clear_error();
	if (rrd_updatex_r(f->path, f->tmpl, 0, argc, lines) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot update: %s", f->path, rrd_get_error());
		rrd_clear_error();
		rc = -1;
	}
	if (st->jfd < 0)
		return rc;
	/* A failed update may have written part of its rows: back to where
	 * the record was taken. Should that fail, the record stays for the
	 * next start, and no other update may overwrite it meanwhile. */
	if (rc < 0 && (rrdstore_undo_parse(st->jbuf, len, &u, &e) != 1 ||
		       rrdstore_undo_apply(st->dir, &u, 0, &e) < 0)) {
		st->jbroken = 1;
		hr_err_set(err, "rrdstore: %s: cannot update, and cannot undo what the update wrote: %s",
			   f->path, e.msg);
		return -1;
	}
	/* Kept, the record would roll this finished update back at the next
	 * start: harmless (the resend writes it again), but not silent. */
	if (rrdstore_undo_clear(st->jfd) < 0 && rc == 0)
		rc = hr_err_errno(err, errno, "rrdstore: %s: updated, but cannot clear the undo record",
				  f->path);
	/* Not kept between updates: a central holds a store per host, and
	 * 20-30 KiB each would be 25 MiB at 1,000 hosts; a malloc costs
	 * nothing next to the update's syscalls. */
	free(st->jbuf);
	st->jbuf = NULL;
	st->jcap = 0;
	return rc;
}

static const struct rrdstore_backend rrdstore_files = {
	.exists = rrdstore_file_exists,
	.info = rrdstore_file_info,
	.create = rrdstore_file_create,
	.add_ds = rrdstore_file_add_ds,
	.update = rrdstore_file_update,
};

/* rrdcached ------------------------------------------------------------------
 * Paths are relative to the daemon's base folder (rrdcached -b BASE -B -R):
 * the daemon resolves them, refuses any that leaves BASE, and creates a
 * host's folder at its first CREATE. */

/* The daemon's answer for a file it cannot open is librrd's message. */
static int rrdstore_cached_missing(const struct hr_err *err)
{
	return strstr(err->msg, "No such file or directory") != NULL;
}

static int rrdstore_cached_exists(struct rrdstore *st, const char *path, struct hr_err *err)
{
	const char *argv[2] = { "LAST", path };
	int rc = rrdcached_cmd(st->cached, 2, argv, NULL, NULL, err);

	if (rc == 0)
		return 1;
	if (rc == -2 && rrdstore_cached_missing(err))
		return 0;
	return -1;
}

struct rrdstore_info {
	char **names;           /* by DS index */
	unsigned long cnt;      /* highest index + 1 */
	unsigned long step;
	int bad;
};

/* One line of INFO: "step 1 10", "ds[NAME].index 1 3"; the rest (RRA and
 * counter state) is not needed here. */
static int rrdstore_info_line(void *arg, const char *line)
{
	struct rrdstore_info *in = arg;
	const char *end;
	unsigned long idx;
	char *num;

	if (strncmp(line, "step 1 ", 7) == 0) {
		in->step = strtoul(line + 7, NULL, 10);
		return 0;
	}
	if (strncmp(line, "ds[", 3) != 0 || (end = strstr(line, "].index 1 ")) == NULL)
		return 0;
	idx = strtoul(end + 10, &num, 10);
	if (*num != '\0' || idx >= RRDSTORE_MAX_DS || end - line - 3 >= HR_NAME_MAX ||
	    end == line + 3) {
		in->bad = 1;
		return 1;
	}
	if (in->names == NULL) {
		in->names = calloc(RRDSTORE_MAX_DS, sizeof(*in->names));
		if (in->names == NULL) {
			in->bad = 1;
			return 1;
		}
	}
	if (in->names[idx] != NULL) {
		in->bad = 1;
		return 1;
	}
	in->names[idx] = strndup(line + 3, (size_t)(end - line - 3));
	if (in->names[idx] == NULL) {
		in->bad = 1;
		return 1;
	}
	if (idx + 1 > in->cnt)
		in->cnt = idx + 1;
	return 0;
}

/* INFO for the DS and the step, LAST for the last update: INFO reads the
 * file, whose last update lags behind what the daemon holds. */
static int rrdstore_cached_info(struct rrdstore *st, const char *path, char ***names,
				unsigned long *cnt, time_t *last, unsigned long *step,
				struct hr_err *err)
{
	struct rrdstore_info in = { NULL, 0, 0, 0 };
	const char *info[2] = { "INFO", path };
	const char *lastcmd[2] = { "LAST", path };
	unsigned long i;
	long long t;
	char *end;

	if (rrdcached_cmd(st->cached, 2, info, rrdstore_info_line, &in, err) < 0)
		goto fail;
	for (i = 0; i < in.cnt && !in.bad; i++)
		if (in.names[i] == NULL)
			in.bad = 1;
	if (in.bad || in.cnt == 0) {
		hr_err_set(err, "rrdstore: %s: rrdcached's INFO lists no usable data sources", path);
		goto fail;
	}
	/* LAST answers "0 TIME": the time is the status line's message. */
	if (rrdcached_cmd(st->cached, 2, lastcmd, NULL, NULL, err) < 0)
		goto fail;
	t = strtoll(rrdcached_message(st->cached), &end, 10);
	if (*end != '\0' || t < 0) {
		hr_err_set(err, "rrdstore: %s: rrdcached's LAST answered \"%.40s\"", path,
			   rrdcached_message(st->cached));
		goto fail;
	}
	*names = in.names;
	*cnt = in.cnt;
	*last = (time_t)t;
	*step = in.step;
	return 0;
fail:
	rrdstore_names_free(in.names, RRDSTORE_MAX_DS);
	return -1;
}

static int rrdstore_cached_create(struct rrdstore *st, const char *path, unsigned long step,
				  time_t start, int argc, const char **argv, struct hr_err *err)
{
	const char *av[HR_SAMPLE_VALUES + RRDSTORE_LEVELS * 3 + 8];
	char sstep[32], sstart[32];
	struct hr_err e;
	int n = 0, i;

	if (argc > HR_SAMPLE_VALUES + RRDSTORE_LEVELS * 3)
		return hr_err_set(err, "rrdstore: %s: too many arguments", path);
	snprintf(sstep, sizeof(sstep), "%lu", step);
	snprintf(sstart, sizeof(sstart), "%lld", (long long)start);
	av[n++] = "CREATE";
	av[n++] = path;
	av[n++] = "-b";
	av[n++] = sstart;
	av[n++] = "-s";
	av[n++] = sstep;
	/* -O: a file made meanwhile by someone else is not overwritten. */
	av[n++] = "-O";
	for (i = 0; i < argc; i++)
		av[n++] = argv[i];
	if (rrdcached_cmd(st->cached, n, av, NULL, NULL, &e) < 0)
		return hr_err_set(err, "rrdstore: %s: cannot create through rrdcached: %s%s", path,
				  e.msg, strstr(e.msg, "recursively") ?
				  " (start rrdcached with -b BASE -B -R)" : "");
	return 0;
}

/* rrdcached 1.7.2 takes CREATE's -r (source) and -t (template) and hands
 * them to rrd_create_r2, as the file backend does; but it does not write
 * its queued values for the source first, and a file with another DS count
 * then refuses them all at the next flush: FLUSH first. The caller holds
 * the host's lock, so no value for this file is queued in between. A daemon
 * started with -O refuses any CREATE over an existing file: the new value
 * is then not stored (the error says so), the others are. */
static int rrdstore_cached_add_ds(struct rrdstore *st, const struct rrdstore_file *f, int argc,
				  const char **argv, struct hr_err *err)
{
	const char *flush[2] = { "FLUSH", f->path };
	const char *av[HR_SAMPLE_VALUES + 8];
	char sstep[32];
	struct hr_err e;
	int n = 0, i;

	if (argc > HR_SAMPLE_VALUES)
		return hr_err_set(err, "rrdstore: %s: too many values", f->path);
	if (rrdcached_cmd(st->cached, 2, flush, NULL, NULL, &e) < 0)
		return hr_err_set(err, "rrdstore: %s: cannot add a value: FLUSH: %s", f->path, e.msg);
	/* The file's own step: the daemon's default (300) would replace the
	 * template's. */
	snprintf(sstep, sizeof(sstep), "%lu", f->step);
	av[n++] = "CREATE";
	av[n++] = f->path;
	av[n++] = "-s";
	av[n++] = sstep;
	av[n++] = "-r";
	av[n++] = f->path;
	av[n++] = "-t";
	av[n++] = f->path;
	for (i = 0; i < argc; i++)
		av[n++] = argv[i];
	if (rrdcached_cmd(st->cached, n, av, NULL, NULL, &e) < 0)
		return hr_err_set(err, "rrdstore: %s: cannot add a value through rrdcached: %s",
				  f->path, e.msg);
	return 0;
}

/* rrdcached's UPDATE takes no template: the values are in the file's DS
 * order, which f->line is. The daemon itself refuses a time at or before
 * the last one it holds. */
/* rrdcached reads a command into a buffer of RRD_CMD_MAX (4096) bytes;
 * a longer command never completes. Runs of updates are sent in commands
 * that stay below it. */
#define RRDSTORE_CACHED_CMD_MAX 4000

static int rrdstore_cached_update(struct rrdstore *st, const struct rrdstore_file *f, int argc,
				  const char **lines, struct hr_err *err)
{
	const char **argv = malloc(((size_t)argc + 2) * sizeof(*argv));
	struct hr_err e;
	int i = 0, n, rc = 0;
	size_t len;

	if (argv == NULL)
		return hr_err_set(err, "rrdstore: out of memory");
	argv[0] = "UPDATE";
	argv[1] = f->path;
	while (i < argc && rc == 0) {
		len = strlen("UPDATE ") + strlen(f->path) + 1;
		for (n = 0; i + n < argc; n++) {
			size_t l = strlen(lines[i + n]) + 1;

			if (n > 0 && len + l > RRDSTORE_CACHED_CMD_MAX)
				break;
			len += l;
			argv[2 + n] = lines[i + n];
		}
		rc = rrdcached_cmd(st->cached, n + 2, argv, NULL, NULL, &e);
		i += n;
	}
	free(argv);
	if (rc < 0)
		return hr_err_set(err, "rrdstore: %s: cannot update through rrdcached: %s",
				  f->path, e.msg);
	return 0;
}

static const struct rrdstore_backend rrdstore_cached = {
	.exists = rrdstore_cached_exists,
	.info = rrdstore_cached_info,
	.create = rrdstore_cached_create,
	.add_ds = rrdstore_cached_add_ds,
	.update = rrdstore_cached_update,
};

struct rrdstore *rrdstore_new(const char *dir, struct hr_err *err)
{
	struct rrdstore *st;
	size_t len;

	if (dir == NULL || dir[0] == '\0') {
		hr_err_set(err, "rrdstore: no folder given");
		return NULL;
	}
	len = strlen(dir);
	if (len + 1 + RRDSTORE_FILE_MAX + 4 >= PATH_MAX) {
		hr_err_set(err, "rrdstore: %.100s...: folder name too long", dir);
		return NULL;
	}
	if (rrdstore_mkdir_p(dir, err) < 0)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		goto oom;
	st->jfd = -1;
	st->be = &rrdstore_files;
	st->dir = strdup(dir);
	st->nbuckets = 64;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	if (st->dir == NULL || st->buckets == NULL)
		goto oom;
	/* "/a/b/" and "/a/b" name the same folder; keep paths tidy. */
	while (len > 1 && st->dir[len - 1] == '/')
		st->dir[--len] = '\0';
	st->dirlen = len;
	return st;
oom:
	rrdstore_destroy(st);
	hr_err_set(err, "rrdstore: %s: out of memory", dir);
	return NULL;
}

/* Creates the journal's folder (one level, 0700: the records hold the
 * archives' data) when it is missing. */
static int rrdstore_journal_dir(const char *path, struct hr_err *err)
{
	char dir[PATH_MAX];
	char *slash;

	if (hr_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return hr_err_set(err, "rrdstore: %.100s...: journal name too long", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", dir);
	return 0;
}

int rrdstore_set_journal(struct rrdstore *st, const char *path, struct hr_err *note,
			 struct hr_err *err)
{
	unsigned char fixed[RRDSTORE_UNDO_FIXED], *buf = NULL;
	struct rrdstore_undo u;
	struct hr_err e;
	struct stat sb;
	uint64_t reclen;
	ssize_t r;
	int fd, rc = -1, found = 0;

	note->msg[0] = '\0';
	if (st->be != &rrdstore_files)
		return hr_err_set(err, "rrdstore: %s: rrdcached makes its own updates; no undo journal",
				  st->dir);
	if (st->jfd >= 0)
		return hr_err_set(err, "rrdstore: %s: has a journal already", st->dir);
	if (strncmp(path, st->dir, st->dirlen) == 0 && path[st->dirlen] == '/')
		return hr_err_set(err, "rrdstore: journal %s: not in the archives' folder %s", path,
				  st->dir);
	if (rrdstore_journal_dir(path, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return hr_err_errno(err, errno, "rrdstore: journal %s", path);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		hr_err_set(err, "rrdstore: journal %s: not a regular file", path);
		goto out;
	}
	do
		r = pread(fd, fixed, sizeof(fixed), 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		hr_err_errno(err, errno, "rrdstore: journal %s", path);
		goto out;
	}
	if ((size_t)r < sizeof(fixed) || memcmp(fixed, RRDSTORE_UNDO_MAGIC, 4) != 0)
		goto ready; /* no record: the last update finished */
	found = 1;
	reclen = rrdstore_get64(fixed + 16);
	if (reclen < sizeof(fixed) || reclen > (uint64_t)sb.st_size || reclen > RRDSTORE_UNDO_MAX) {
		hr_err_set(note, "rrdstore: journal %s: discarded an undo record of %llu bytes in a file of %lld (written only in part; no archive was touched yet)",
			   path, (unsigned long long)reclen, (long long)sb.st_size);
		goto discard;
	}
	buf = malloc((size_t)reclen);
	if (buf == NULL) {
		hr_err_set(err, "rrdstore: journal %s: out of memory", path);
		goto out;
	}
	if (rrdstore_pread_all(fd, buf, (size_t)reclen, 0) < 0) {
		hr_err_errno(err, errno, "rrdstore: journal %s", path);
		goto out;
	}
	if (rrdstore_undo_parse(buf, (size_t)reclen, &u, &e) != 1) {
		hr_err_set(note, "rrdstore: journal %s: discarded: %s%s", path, e.msg,
			   strstr(e.msg, "checksum") ? " (no archive was touched yet)" : "");
		goto discard;
	}
	switch (rrdstore_undo_apply(st->dir, &u, 1, &e)) {
	case 0:
		hr_err_set(note, "rrdstore: rolled back an interrupted update of %s/%.*s", st->dir,
			   (int)u.namelen, u.name);
		break;
	case 1:
		hr_err_set(note, "rrdstore: journal %s: discarded an undo record: %s", path, e.msg);
		break;
	default:
		/* The record stays for the next try. */
		hr_err_set(err, "rrdstore: cannot roll back an interrupted update: %s", e.msg);
		goto out;
	}
discard:
	if (rrdstore_undo_clear(fd) < 0 || fsync(fd) < 0) {
		hr_err_errno(err, errno, "rrdstore: journal %s: cannot clear the record", path);
		goto out;
	}
ready:
	st->jfd = fd;
	fd = -1;
	rc = found;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* A relative folder that stays inside the daemon's base: no leading '/',
 * no "." or ".." component, no empty one. -B refuses "../" already; this
 * makes the mistake ours to report, with the folder named. */
static int rrdstore_relative_ok(const char *dir)
{
	const char *p = dir, *end;

	if (dir[0] == '\0' || dir[0] == '/')
		return 0;
	for (;;) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if (end == p || (end - p == 1 && p[0] == '.') ||
		    (end - p == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (*end == '\0')
			return 1;
		p = end + 1;
	}
}

struct rrdstore *rrdstore_new_rrdcached(const char *daemon, const char *relative_dir,
					struct hr_err *err)
{
	struct rrdstore *st;

	if (relative_dir == NULL || !rrdstore_relative_ok(relative_dir) ||
	    strlen(relative_dir) + 1 + RRDSTORE_FILE_MAX + 4 >= PATH_MAX) {
		hr_err_set(err, "rrdstore: \"%.100s\": not a folder inside rrdcached's base",
			   relative_dir ? relative_dir : "");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_err_set(err, "rrdstore: out of memory");
		return NULL;
	}
	st->jfd = -1;
	st->be = &rrdstore_cached;
	st->cached = rrdcached_new(daemon, err);
	if (st->cached == NULL)
		goto fail;
	st->dir = strdup(relative_dir);
	st->nbuckets = 64;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	if (st->dir == NULL || st->buckets == NULL) {
		hr_err_set(err, "rrdstore: out of memory");
		goto fail;
	}
	return st;
fail:
	rrdstore_destroy(st);
	return NULL;
}

/* --- the cache -------------------------------------------------------------- */

static uint32_t rrdstore_hash(const char *probe, const char *instance)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = probe; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u; /* a byte no name holds, between the two */
	for (p = instance; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void rrdstore_file_free(struct rrdstore_file *f)
{
	if (f == NULL)
		return;
	free(f->probe);
	free(f->instance);
	free(f->path);
	free(f->ds);
	free(f->tmpl);
	free(f->line);
	free(f);
}

void rrdstore_destroy(struct rrdstore *st)
{
	struct rrdstore_file *f, *next;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; st->buckets != NULL && i < st->nbuckets; i++) {
		for (f = st->buckets[i]; f != NULL; f = next) {
			next = f->next;
			rrdstore_file_free(f);
		}
	}
	free(st->buckets);
	free(st->dir);
	if (st->jfd >= 0)
		close(st->jfd);
	free(st->jbuf);
	rrdcached_destroy(st->cached);
	free(st);
}

static struct rrdstore_file *rrdstore_find(struct rrdstore *st, uint32_t h, const char *probe,
					   const char *instance)
{
	struct rrdstore_file *f;

	for (f = st->buckets[h & (st->nbuckets - 1)]; f != NULL; f = f->next)
		if (f->hash == h && strcmp(f->probe, probe) == 0 &&
		    strcmp(f->instance, instance) == 0)
			return f;
	return NULL;
}

static void rrdstore_insert(struct rrdstore *st, struct rrdstore_file *f)
{
	struct rrdstore_file **nb, *g, *next;
	size_t i, nn;

	/* Grow at one file per bucket; a failed grow keeps the old table. */
	if (st->count >= st->nbuckets) {
		nn = st->nbuckets * 2;
		nb = calloc(nn, sizeof(*nb));
		if (nb != NULL) {
			for (i = 0; i < st->nbuckets; i++) {
				for (g = st->buckets[i]; g != NULL; g = next) {
					next = g->next;
					g->next = nb[g->hash & (nn - 1)];
					nb[g->hash & (nn - 1)] = g;
				}
			}
			free(st->buckets);
			st->buckets = nb;
			st->nbuckets = nn;
		}
	}
	f->next = st->buckets[f->hash & (st->nbuckets - 1)];
	st->buckets[f->hash & (st->nbuckets - 1)] = f;
	st->count++;
}

/* Forgets what we knew of f (after a failed update: the file may have been
 * changed or removed behind our back); the next write looks again. */
static void rrdstore_evict(struct rrdstore *st, struct rrdstore_file *f)
{
	struct rrdstore_file **pp;

	for (pp = &st->buckets[f->hash & (st->nbuckets - 1)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			st->count--;
			rrdstore_file_free(f);
			return;
		}
	}
}

static int rrdstore_has_ds(const struct rrdstore_file *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nds; i++)
		if (strcmp(f->ds[i], name) == 0)
			return 1;
	return 0;
}

/* --- files in the cache ------------------------------------------------------ */

/* Reads the file's DS names and last update into f, and builds the update
 * template and line buffer for them. */
static int rrdstore_load(struct rrdstore *st, struct rrdstore_file *f, struct hr_err *err)
{
	unsigned long i, cnt = 0, step = 0;
	char **names = NULL, *tmpl = NULL, *line = NULL;
	char (*ds)[HR_NAME_MAX] = NULL;
	time_t last = 0;
	size_t tlen = 0;
	int rc = -1;

	if (st->be->info(st, f->path, &names, &cnt, &last, &step, err) < 0)
		return -1;
	if (cnt == 0 || cnt > RRDSTORE_MAX_DS) {
		hr_err_set(err, "rrdstore: %s: archive has %lu data sources", f->path, cnt);
		goto out;
	}
	ds = calloc(cnt, sizeof(*ds));
	if (ds == NULL)
		goto oom;
	for (i = 0; i < cnt; i++) {
		if (hr_strlcpy(ds[i], names[i], sizeof(ds[i])) >= sizeof(ds[i])) {
			hr_err_set(err, "rrdstore: %s: data source name \"%s\" too long",
				   f->path, names[i]);
			goto out;
		}
		tlen += strlen(ds[i]) + 1;
	}
	tmpl = malloc(tlen);
	line = malloc((cnt + 1) * RRDSTORE_VALUE_MAX);
	if (tmpl == NULL || line == NULL)
		goto oom;
	tlen = 0;
	for (i = 0; i < cnt; i++) {
		size_t l = strlen(ds[i]);

		memcpy(tmpl + tlen, ds[i], l);
		tlen += l;
		tmpl[tlen++] = i + 1 < cnt ? ':' : '\0';
	}
	free(f->ds);
	free(f->tmpl);
	free(f->line);
	f->ds = ds;
	f->tmpl = tmpl;
	f->line = line;
	f->linecap = (cnt + 1) * RRDSTORE_VALUE_MAX;
	f->nds = cnt;
	f->last = last;
	f->step = step;
	ds = NULL;
	tmpl = line = NULL;
	rc = 0;
	goto out;
oom:
	hr_err_set(err, "rrdstore: %s: out of memory", f->path);
out:
	rrdstore_names_free(names, cnt);
	free(ds);
	free(tmpl);
	free(line);
	return rc;
}

/* librrd arguments "DS:name:TYPE:heartbeat:min:max" for the named values:
 * counters are DDERIVE with min 0 (a reset reads as unknown, not as a huge
 * negative rate), levels GAUGE without bounds. DDERIVE (RRDtool >= 1.5) and
 * not DERIVE, because DERIVE takes integers only and some counters are
 * fractional: CPU time in seconds. */
static void rrdstore_ds_spec(char *dst, size_t n, const char *probe, const char *name,
			     unsigned step)
{
	int counter = hr_schema_kind(probe, name) == HR_COUNTER;

	snprintf(dst, n, "DS:%s:%s:%lu:%s:U", name, counter ? "DDERIVE" : "GAUGE",
		 2UL * step, counter ? "0" : "U");
}

/* Creates PATH with one DS per value of s and the archives of this step,
 * the last update just before s. */
static int rrdstore_create(struct rrdstore *st, const char *path, const struct hr_sample *s,
			   size_t nvalues, unsigned step, struct hr_err *err)
{
	static const char *const cfs[] = { "AVERAGE", "MAX", "MIN" };
	char specs[HR_SAMPLE_VALUES + RRDSTORE_LEVELS * 3][64];
	const char *argv[HR_SAMPLE_VALUES + RRDSTORE_LEVELS * 3];
	struct rrdstore_rra rra[RRDSTORE_LEVELS];
	size_t i, j, k, nrra, argc = 0;
	int keep_min = hr_schema_keep_min(s->probe);

	for (i = 0; i < nvalues; i++) {
		for (j = 0; j < i && strcmp(s->values[j].name, s->values[i].name) != 0; j++)
			;
		if (j < i)
			continue; /* the same name twice: one DS */
		rrdstore_ds_spec(specs[argc], sizeof(specs[argc]), s->probe, s->values[i].name, step);
		argc++;
	}
	nrra = rrdstore_layout(step, rra);
	for (i = 0; i < nrra; i++) {
		for (k = 0; k < rrdstore_ncf(&rra[i], keep_min); k++) {
			snprintf(specs[argc], sizeof(specs[argc]), "RRA:%s:%s:%lu:%lu", cfs[k],
				 RRDSTORE_XFF, rra[i].pdp, rra[i].rows);
			argc++;
		}
	}
	for (i = 0; i < argc; i++)
		argv[i] = specs[i];
	return st->be->create(st, path, step, s->t - (time_t)step, (int)argc, argv, err);
}

/* Adds DS for the given names to an existing file. The old data stays; the
 * new DS are unknown until now. */
static int rrdstore_add_ds(struct rrdstore *st, struct rrdstore_file *f,
			   const char *const *names, size_t n, unsigned step, struct hr_err *err)
{
	char specs[HR_SAMPLE_VALUES][64];
	const char *argv[HR_SAMPLE_VALUES];
	size_t i;

	for (i = 0; i < n; i++) {
		rrdstore_ds_spec(specs[i], sizeof(specs[i]), f->probe, names[i], step);
		argv[i] = specs[i];
	}
	if (st->be->add_ds(st, f, (int)n, argv, err) < 0)
		return -1;
	return rrdstore_load(st, f, err);
}

/* The cached file for s into *out, loaded at first sight; *out NULL when
 * there is no archive yet. 0, or -1 (err filled). */
static int rrdstore_lookup(struct rrdstore *st, const struct hr_sample *s,
			   struct rrdstore_file **out, struct hr_err *err)
{
	struct rrdstore_file *f;
	char path[PATH_MAX];
	uint32_t h = rrdstore_hash(s->probe, s->instance);
	int rc;

	*out = rrdstore_find(st, h, s->probe, s->instance);
	if (*out != NULL)
		return 0;
	if (rrdstore_path(st, path, sizeof(path), s->probe, s->instance, err) < 0)
		return -1;
	rc = st->be->exists(st, path, err);
	if (rc <= 0)
		return rc;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto oom;
	f->hash = h;
	f->probe = strdup(s->probe);
	f->instance = strdup(s->instance);
	f->path = strdup(path);
	if (f->probe == NULL || f->instance == NULL || f->path == NULL)
		goto oom;
	if (rrdstore_load(st, f, err) < 0) {
		rrdstore_file_free(f);
		return -1;
	}
	rrdstore_insert(st, f);
	*out = f;
	return 0;
oom:
	rrdstore_file_free(f);
	return hr_err_set(err, "rrdstore: %s: out of memory", path);
}

/* The cached file for s, created on first sight when there is none. */
static struct rrdstore_file *rrdstore_open(struct rrdstore *st, const struct hr_sample *s,
					   size_t nvalues, unsigned step, struct hr_err *err)
{
	struct rrdstore_file *f;
	char path[PATH_MAX];

	if (rrdstore_lookup(st, s, &f, err) < 0)
		return NULL;
	if (f != NULL)
		return f;
	if (rrdstore_path(st, path, sizeof(path), s->probe, s->instance, err) < 0 ||
	    rrdstore_create(st, path, s, nvalues, step, err) < 0 ||
	    rrdstore_lookup(st, s, &f, err) < 0)
		return NULL;
	if (f == NULL)
		hr_err_set(err, "rrdstore: %s: created, but not found afterwards", path);
	return f;
}

/* Checks what goes into file names, templates and update lines: a sample
 * that came over the network is not trusted to be NUL-terminated or to hold
 * valid names. */
static int rrdstore_check(const struct hr_sample *s, unsigned step, size_t *nvalues,
			  struct hr_err *err)
{
	size_t i;

	if (memchr(s->probe, '\0', sizeof(s->probe)) == NULL ||
	    memchr(s->instance, '\0', sizeof(s->instance)) == NULL)
		return hr_err_set(err, "rrdstore: sample with an unterminated probe or instance");
	if (step == 0)
		return hr_err_set(err, "rrdstore: %s \"%s\": step 0", s->probe, s->instance);
	if (s->t <= 0)
		return hr_err_set(err, "rrdstore: %s \"%s\": sample without a time", s->probe,
				  s->instance);
	*nvalues = s->nvalues < HR_SAMPLE_VALUES ? s->nvalues : HR_SAMPLE_VALUES;
	for (i = 0; i < *nvalues; i++)
		if (!hr_name_valid(s->values[i].name))
			return hr_err_set(err, "rrdstore: %s \"%s\": value %zu: invalid name \"%.*s\"",
					  s->probe, s->instance, i, HR_NAME_MAX - 1,
					  s->values[i].name);
	return 0;
}

/* The update line of s into dst (f->linecap bytes): its time, then its
 * values in the file's DS order, "U" for a DS the sample lacks or a value
 * that is not finite. */
static void rrdstore_format(const struct rrdstore_file *f, const struct hr_sample *s,
			    size_t nvalues, char *dst)
{
	size_t i, j, len;
	int n;

	n = snprintf(dst, f->linecap, "%lld", (long long)s->t);
	len = (size_t)n;
	for (i = 0; i < f->nds; i++) {
		const struct hr_value *v = NULL;

		if (i < nvalues && strcmp(s->values[i].name, f->ds[i]) == 0)
			v = &s->values[i]; /* the usual case: same order */
		for (j = 0; v == NULL && j < nvalues; j++)
			if (strcmp(s->values[j].name, f->ds[i]) == 0)
				v = &s->values[j];
		if (v != NULL && isfinite(v->v))
			n = snprintf(dst + len, f->linecap - len, ":%.17g", v->v);
		else
			n = snprintf(dst + len, f->linecap - len, ":U");
		len += (size_t)n;
	}
}

int rrdstore_write(struct rrdstore *st, const struct hr_sample *s, unsigned step,
		   struct hr_err *err)
{
	struct rrdstore_file *f;
	const char *add[HR_SAMPLE_VALUES];
	struct hr_err adderr = { { 0 } };
	const char *line;
	size_t i, j, nvalues = 0, nadd = 0;
	int addfail = 0;

	if (rrdstore_check(s, step, &nvalues, err) < 0)
		return -1;
	if (nvalues == 0)
		return 0; /* labels only: nothing for RRD */
	f = rrdstore_open(st, s, nvalues, step, err);
	if (f == NULL)
		return -1;
	if (s->t <= f->last)
		return 1;

	for (i = 0; i < nvalues; i++) {
		const char *name = s->values[i].name;

		if (rrdstore_has_ds(f, name))
			continue;
		for (j = 0; j < nadd && strcmp(add[j], name) != 0; j++)
			;
		if (j == nadd)
			add[nadd++] = name;
	}
	if (nadd > 0) {
		if (f->nds + nadd > RRDSTORE_MAX_DS) {
			hr_err_set(&adderr, "rrdstore: %s: cannot add value %s: the file has %zu data sources already",
				   f->path, add[0], f->nds);
			addfail = 1;
		} else if (rrdstore_add_ds(st, f, add, nadd, step, &adderr) < 0) {
			addfail = 1;
			/* What the file holds now is unknown: look again. */
			if (rrdstore_load(st, f, err) < 0) {
				rrdstore_evict(st, f);
				return -1;
			}
		}
	}

	rrdstore_format(f, s, nvalues, f->line);
	line = f->line;
	if (st->be->update(st, f, 1, &line, err) < 0) {
		rrdstore_evict(st, f);
		return -1;
	}
	f->last = s->t;
	if (addfail) {
		hr_err_set(err, "%s; the other values were written", adderr.msg);
		return -1;
	}
	return 0;
}

/* Can s go into f by a plain update: values, every one with a DS, a time
 * after the last? */
static int rrdstore_fits(const struct rrdstore_file *f, const struct hr_sample *s,
			 unsigned step, size_t *nvalues, struct hr_err *err)
{
	size_t i;

	if (rrdstore_check(s, step, nvalues, err) < 0 || *nvalues == 0 || s->t <= f->last)
		return 0;
	for (i = 0; i < *nvalues; i++)
		if (!rrdstore_has_ds(f, s->values[i].name))
			return 0;
	return 1;
}

int rrdstore_write_run(struct rrdstore *st, const struct hr_sample *const *s, size_t n,
		       unsigned step, struct hr_err *err)
{
	const char **lines = NULL;
	char *buf = NULL;
	size_t i = 0, j, k, nvalues;
	int rc = 0, r;

	while (i < n) {
		struct rrdstore_file *f;

		/* The first sample the way every sample goes: it creates the
		 * file, adds values, learns what the file holds. */
		r = rrdstore_write(st, s[i], step, err);
		if (r < 0)
			goto fail;
		if (r == 1)
			rc = 1;
		i++;
		if (i == n || rrdstore_lookup(st, s[i - 1], &f, err) < 0 || f == NULL)
			continue;
		/* Then as many as fit, in one update. */
		for (j = i; j < n; j++) {
			struct hr_err e;

			if (strcmp(s[j]->probe, f->probe) != 0 ||
			    strcmp(s[j]->instance, f->instance) != 0)
				break;
			if (!rrdstore_fits(f, s[j], step, &nvalues, &e) ||
			    (j > i && s[j]->t <= s[j - 1]->t))
				break;
		}
		if (j - i < 2)
			continue; /* nothing gained: the loop writes it alone */
		free(lines);
		free(buf);
		lines = malloc((j - i) * sizeof(*lines));
		buf = malloc((j - i) * f->linecap);
		if (lines == NULL || buf == NULL) {
			hr_err_set(err, "rrdstore: out of memory");
			goto fail;
		}
		for (k = i; k < j; k++) {
			char *dst = buf + (k - i) * f->linecap;

			nvalues = s[k]->nvalues < HR_SAMPLE_VALUES ? s[k]->nvalues : HR_SAMPLE_VALUES;
			rrdstore_format(f, s[k], nvalues, dst);
			lines[k - i] = dst;
		}
		if (st->be->update(st, f, (int)(j - i), lines, err) < 0) {
			rrdstore_evict(st, f);
			goto fail;
		}
		f->last = s[j - 1]->t;
		i = j;
	}
	free(lines);
	free(buf);
	return rc;
fail:
	free(lines);
	free(buf);
	return -1;
}

int rrdstore_last(struct rrdstore *st, const struct hr_sample *s, time_t *last,
		  struct hr_err *err)
{
	struct rrdstore_file *f;
	size_t nvalues;

	*last = 0;
	if (rrdstore_check(s, 1, &nvalues, err) < 0 || rrdstore_lookup(st, s, &f, err) < 0)
		return -1;
	if (f != NULL)
		*last = f->last;
	return 0;
}
