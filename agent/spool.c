/* spool.c: the agent's on-disk store-and-forward queue (see spool.h for the
 * format and the contract). The whole index (seq, offset, length of every
 * record) is kept in memory: 16 bytes a record, a few MiB for a full spool
 * of small batches, and it makes peek, ack and the bound simple lookups.
 * Every record is checked when the spool is opened and again when it is
 * read, so that a damaged byte costs records, counted, and is never
 * delivered as something it is not. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "spool.h"
#include "util.h"

/* The first 8 header bytes are the same in every version-1 record. */
static const uint8_t hdr_fixed[8] = { 'H', 'R', 'S', 'P', SPOOL_VERSION, 0, 0, 0 };

#define SEG_NAME_LEN 20          /* 16 hex digits + ".seg" */
/* The longest segment the spool writes: one that was started just below the
 * largest segment size and got one more, largest, record. Bytes past it are
 * not ours (and would not fit the index's 32-bit offsets). */
#define SEG_FILE_MAX ((size_t)SPOOL_SEGMENT_BYTES_MAX + SPOOL_HDR_LEN + SPOOL_RECORD_MAX)
#define SCAN_CHUNK 512
#define SMALL_FILE_MAX 64

struct seg_rec {
	uint64_t seq;
	uint32_t off;
	uint32_t len;
};

struct seg {
	uint64_t name;           /* the seq in its file name = its first record's */
	struct seg_rec *recs;    /* the readable records, oldest first; n >= 1 */
	size_t n, cap;
	uint64_t fsize;          /* bytes of the file (the bound counts these) */
	int sealed;              /* no appends: its tail is damaged or unknown */
};

struct spool {
	char *dir;
	int dirfd;
	int lockfd;
	int locked;              /* we hold the flock: the files are ours to write */
	int fd;                  /* segs[nsegs - 1] open for appends, or -1 */
	uint64_t max_bytes;
	uint32_t segment_bytes;
	enum spool_fsync fsync;
	unsigned fsync_interval_ms;
	void (*on_drop)(void *ctx, uint64_t seq, const void *data, size_t len);
	void *drop_ctx;
	size_t ncursors;
	char names[SPOOL_MAX_CURSORS][SPOOL_CURSOR_NAME_MAX + 1];
	uint64_t acked[SPOOL_MAX_CURSORS];
	struct seg *segs;        /* oldest first */
	size_t nsegs, segs_cap;
	uint64_t bytes, records;
	uint64_t last_seq;
	uint64_t saved_last_seq; /* what the last_seq file holds */
	int dirty;               /* appended since the last fdatasync */
	double synced_at;
	uint64_t dropped_records, dropped_bytes, torn_bytes;
};

/* --- record format ------------------------------------------------------ */

/* The sum is lib/crc32c.c, shared with the undo journal of lib/rrdstore.c;
 * spool_crc32c is the spool's name for it (tests, fuzzing). */
uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len)
{
	return hr_crc32c(crc, data, len);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static uint32_t record_crc(const uint8_t *hdr, const void *data, uint32_t len)
{
	uint8_t h[SPOOL_HDR_LEN];

	memcpy(h, hdr, sizeof(h));
	put_le32(h + 12, 0);
	return spool_crc32c(spool_crc32c(0, h, sizeof(h)), data, len);
}

void spool_encode_header(uint8_t hdr[SPOOL_HDR_LEN], uint64_t seq, const void *data, uint32_t len)
{
	memcpy(hdr, hdr_fixed, sizeof(hdr_fixed));
	put_le32(hdr + 8, len);
	put_le32(hdr + 12, 0);
	put_le64(hdr + 16, seq);
	put_le32(hdr + 12, record_crc(hdr, data, len));
}

enum rec_check { REC_OK, REC_TORN, REC_BAD };

/* Checks the record at p with avail bytes left; on REC_OK sets *len and
 * *seq. seq must be above after_seq (so never 0). */
static enum rec_check rec_check(const uint8_t *p, size_t avail, uint64_t after_seq,
				uint32_t *len, uint64_t *seq)
{
	size_t i, fixed = avail < sizeof(hdr_fixed) ? avail : sizeof(hdr_fixed);
	uint32_t l;
	uint64_t s;

	for (i = 0; i < fixed; i++)
		if (p[i] != hdr_fixed[i])
			return REC_BAD;
	if (avail >= 12 && get_le32(p + 8) > SPOOL_RECORD_MAX)
		return REC_BAD;
	if (avail < SPOOL_HDR_LEN)
		return REC_TORN;
	l = get_le32(p + 8);
	s = get_le64(p + 16);
	if (s <= after_seq)
		return REC_BAD;
	if (avail - SPOOL_HDR_LEN < l)
		return REC_TORN;
	if (get_le32(p + 12) != record_crc(p, p + SPOOL_HDR_LEN, l))
		return REC_BAD;
	*len = l;
	*seq = s;
	return REC_OK;
}

enum spool_scan_status spool_scan(const uint8_t *buf, size_t len, size_t start, uint64_t after_seq,
				  struct spool_rec_ref *recs, size_t max, size_t *n, size_t *end)
{
	size_t off = start;
	uint32_t l;
	uint64_t s;

	*n = 0;
	*end = start > len ? len : start;
	if (start > len)
		return SPOOL_SCAN_BAD;
	while (off < len) {
		if (*n == max) {
			*end = off;
			return SPOOL_SCAN_FULL;
		}
		switch (rec_check(buf + off, len - off, after_seq, &l, &s)) {
		case REC_TORN:
			*end = off;
			return SPOOL_SCAN_TORN;
		case REC_BAD:
			*end = off;
			return SPOOL_SCAN_BAD;
		case REC_OK:
			break;
		}
		recs[*n].seq = s;
		recs[*n].off = off;
		recs[*n].len = l;
		(*n)++;
		after_seq = s;
		off += SPOOL_HDR_LEN + (size_t)l;
	}
	*end = off;
	return SPOOL_SCAN_END;
}

size_t spool_count_intact(const uint8_t *buf, size_t len, size_t from)
{
	size_t off = from, count = 0;
	uint32_t l;
	uint64_t s;

	while (off < len && len - off >= SPOOL_HDR_LEN) {
		/* memchr for the magic's first byte keeps this linear in
		 * practice on payload text. */
		const uint8_t *h = memchr(buf + off, 'H', len - off);

		if (h == NULL)
			break;
		off = (size_t)(h - buf);
		if (rec_check(h, len - off, 0, &l, &s) == REC_OK) {
			count++;
			off += SPOOL_HDR_LEN + (size_t)l;
		} else {
			off++;
		}
	}
	return count;
}

/* --- files -------------------------------------------------------------- */

static void seg_filename(char *buf, size_t n, uint64_t name)
{
	snprintf(buf, n, "%016" PRIx64 ".seg", name);
}

static int seg_parse_name(const char *s, uint64_t *name)
{
	uint64_t v = 0;
	size_t i;

	if (strlen(s) != SEG_NAME_LEN || strcmp(s + 16, ".seg") != 0)
		return -1;
	for (i = 0; i < 16; i++) {
		int c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*name = v;
	return 0;
}

static int mkdir_p(const char *dir, struct hr_err *err)
{
	char buf[PATH_MAX], *p;

	if (hr_strlcpy(buf, dir, sizeof(buf)) >= sizeof(buf))
		return hr_err_set(err, "spool %s: path too long", dir);
	for (p = buf + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return hr_err_errno(err, errno, "spool %s: cannot create folder %s", dir, buf);
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/* Reads a small decimal file; 1 when read, 0 when missing, -1 when it
 * cannot be read or is garbled (err filled). */
static int read_u64_file(struct spool *sp, const char *name, uint64_t *v, struct hr_err *err)
{
	char buf[SMALL_FILE_MAX];
	ssize_t r;
	size_t len;
	int fd;

	fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return hr_err_errno(err, errno, "spool %s: %s", sp->dir, name);
	}
	do
		r = read(fd, buf, sizeof(buf));
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r < 0)
		return hr_err_errno(err, errno, "spool %s: %s", sp->dir, name);
	len = (size_t)r;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0 || (size_t)r == sizeof(buf) || hr_parse_u64(buf, len, v) < 0)
		return hr_err_set(err, "spool %s: %s: not a sequence number", sp->dir, name);
	return 1;
}

static int dir_sync(struct spool *sp, struct hr_err *err)
{
	if (sp->fsync == SPOOL_FSYNC_NEVER)
		return 0;
	if (fsync(sp->dirfd) < 0)
		return hr_err_errno(err, errno, "spool %s: fsync of the folder", sp->dir);
	return 0;
}

/* Replaces file name with "V\n" through name.tmp and rename(2), so that a
 * crash leaves the old value or the new one, never a mix. */
static int write_u64_file(struct spool *sp, const char *name, uint64_t v, struct hr_err *err)
{
	char tmp[SPOOL_CURSOR_NAME_MAX + 32], text[32];
	int fd, n, rc = -1;
	ssize_t w;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", v);
	fd = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return hr_err_errno(err, errno, "spool %s: cannot create %s", sp->dir, tmp);
	do
		w = write(fd, text, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w != n) {
		hr_err_errno(err, w < 0 ? errno : ENOSPC, "spool %s: cannot write %s", sp->dir, tmp);
		goto out;
	}
	if (sp->fsync != SPOOL_FSYNC_NEVER && fsync(fd) < 0) {
		hr_err_errno(err, errno, "spool %s: fsync of %s", sp->dir, tmp);
		goto out;
	}
	if (renameat(sp->dirfd, tmp, sp->dirfd, name) < 0) {
		hr_err_errno(err, errno, "spool %s: cannot rename %s to %s", sp->dir, tmp, name);
		goto out;
	}
	rc = dir_sync(sp, err);
out:
	close(fd);
	if (rc < 0)
		unlinkat(sp->dirfd, tmp, 0);
	return rc;
}

static void cursor_filename(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "cursor.%s", name);
}

static int persist_last_seq(struct spool *sp, struct hr_err *err)
{
	if (sp->last_seq <= sp->saved_last_seq)
		return 0;
	if (write_u64_file(sp, "last_seq", sp->last_seq, err) < 0)
		return -1;
	sp->saved_last_seq = sp->last_seq;
	return 0;
}

/* --- segments ----------------------------------------------------------- */

static int seg_push_rec(struct seg *g, uint64_t seq, size_t off, uint32_t len)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct seg_rec *r = realloc(g->recs, cap * sizeof(*r));

		if (r == NULL)
			return -1;
		g->recs = r;
		g->cap = cap;
	}
	g->recs[g->n].seq = seq;
	g->recs[g->n].off = (uint32_t)off;
	g->recs[g->n].len = len;
	g->n++;
	return 0;
}

static struct seg *segs_push(struct spool *sp, uint64_t name)
{
	struct seg *g;

	if (sp->nsegs == sp->segs_cap) {
		size_t cap = sp->segs_cap ? sp->segs_cap * 2 : 16;

		g = realloc(sp->segs, cap * sizeof(*g));
		if (g == NULL)
			return NULL;
		sp->segs = g;
		sp->segs_cap = cap;
	}
	g = &sp->segs[sp->nsegs++];
	memset(g, 0, sizeof(*g));
	g->name = name;
	return g;
}

static int sync_active(struct spool *sp, struct hr_err *err)
{
	if (sp->fd < 0 || !sp->dirty || sp->fsync == SPOOL_FSYNC_NEVER)
		return 0;
	if (fdatasync(sp->fd) < 0)
		return hr_err_errno(err, errno, "spool %s: fdatasync", sp->dir);
	sp->dirty = 0;
	sp->synced_at = hr_now_mono();
	return 0;
}

static void close_active(struct spool *sp)
{
	struct hr_err err;

	if (sp->fd < 0)
		return;
	if (sync_active(sp, &err) < 0)
		hr_log_warnx("%s", err.msg);
	close(sp->fd);
	sp->fd = -1;
	sp->dirty = 0;
}

/* Deletes segment i from disk and memory. */
static void seg_remove(struct spool *sp, size_t i)
{
	struct seg *g = &sp->segs[i];
	char name[SEG_NAME_LEN + 1];

	if (i == sp->nsegs - 1)
		close_active(sp);
	seg_filename(name, sizeof(name), g->name);
	if (unlinkat(sp->dirfd, name, 0) < 0 && errno != ENOENT)
		hr_log_warn("spool %s: cannot delete %s", sp->dir, name);
	sp->bytes -= g->fsize;
	sp->records -= g->n;
	free(g->recs);
	memmove(g, g + 1, (sp->nsegs - i - 1) * sizeof(*g));
	sp->nsegs--;
}

static uint64_t min_acked(const struct spool *sp)
{
	uint64_t m = UINT64_MAX;
	size_t i;

	for (i = 0; i < sp->ncursors; i++)
		if (sp->acked[i] < m)
			m = sp->acked[i];
	return m;
}

/* Index of the first record of g above seq (g->n when none). */
static size_t seg_first_after(const struct seg *g, uint64_t seq)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->recs[mid].seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The records from ri on of segment si cannot be read any more: count them
 * as lost, seal the segment, delete it when nothing is left. */
static void seg_cut(struct spool *sp, size_t si, size_t ri, const char *why)
{
	struct seg *g = &sp->segs[si];
	char name[SEG_NAME_LEN + 1];
	size_t lost = g->n - ri;

	seg_filename(name, sizeof(name), g->name);
	hr_log_warnx("spool %s: %s: offset %" PRIu32 ": %s; skipping the rest of the segment "
		     "(%zu records lost)", sp->dir, name, g->recs[ri].off, why, lost);
	sp->dropped_records += lost;
	sp->dropped_bytes += g->fsize - g->recs[ri].off;
	sp->records -= lost;
	g->n = ri;
	g->sealed = 1;
	if (g->n == 0)
		seg_remove(sp, si);
}

static int read_rec(struct spool *sp, int fd, const struct seg *g, size_t ri, uint8_t *dst);

/* Hands the records of segment g from ri on to the on_drop callback. */
static void report_drops(struct spool *sp, const struct seg *g, size_t ri)
{
	char name[SEG_NAME_LEN + 1];
	uint8_t *buf = NULL;
	size_t cap = 0;
	int fd;

	seg_filename(name, sizeof(name), g->name);
	fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	for (; ri < g->n; ri++) {
		uint32_t len = g->recs[ri].len;

		if (fd >= 0 && len > cap) {
			uint8_t *nb = realloc(buf, len);

			if (nb != NULL) {
				buf = nb;
				cap = len;
			}
		}
		if (fd >= 0 && (len == 0 || len <= cap) && read_rec(sp, fd, g, ri, buf) == 0)
			sp->on_drop(sp->drop_ctx, g->recs[ri].seq, len ? buf : (const void *)"", len);
		else
			sp->on_drop(sp->drop_ctx, g->recs[ri].seq, NULL, 0);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* Drops the oldest segment to make room (the max_bytes bound). */
static int drop_oldest(struct spool *sp, struct hr_err *err)
{
	struct seg *g = &sp->segs[0];
	char name[SEG_NAME_LEN + 1];
	uint64_t m = min_acked(sp), bytes = 0;
	size_t i, lost = 0;

	if (persist_last_seq(sp, err) < 0)
		return -1;
	for (i = seg_first_after(g, m); i < g->n; i++) {
		lost++;
		bytes += SPOOL_HDR_LEN + (uint64_t)g->recs[i].len;
	}
	if (lost > 0) {
		seg_filename(name, sizeof(name), g->name);
		hr_log_warnx("spool %s: full (%" PRIu64 " bytes): dropped %s with %zu "
			     "unacknowledged records", sp->dir, sp->max_bytes, name, lost);
		sp->dropped_records += lost;
		sp->dropped_bytes += bytes;
		if (sp->on_drop != NULL)
			report_drops(sp, g, seg_first_after(g, m));
	}
	seg_remove(sp, 0);
	return 0;
}

/* Deletes the oldest segments that every cursor has passed. */
static void delete_passed(struct spool *sp)
{
	uint64_t m = min_acked(sp);
	struct hr_err err;

	while (sp->nsegs > 0 && sp->segs[0].recs[sp->segs[0].n - 1].seq <= m) {
		if (persist_last_seq(sp, &err) < 0) {
			hr_log_warnx("%s (acknowledged segments kept)", err.msg);
			return;
		}
		seg_remove(sp, 0);
	}
}

/* Scans segment file name (newest: the last by name) at open. */
static int seg_load(struct spool *sp, uint64_t name, int newest, uint64_t *prev,
		    struct hr_err *err)
{
	struct spool_rec_ref refs[SCAN_CHUNK];
	enum spool_scan_status st = SPOOL_SCAN_END;
	char fname[SEG_NAME_LEN + 1];
	uint64_t after = *prev;
	uint8_t *map = NULL;
	size_t size = 0, scan_len, off = 0, n, i;
	struct stat sb;
	struct seg *g;
	int fd, rc = -1;

	seg_filename(fname, sizeof(fname), name);
	fd = openat(sp->dirfd, fname, (newest ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return hr_err_errno(err, errno, "spool %s: cannot open %s", sp->dir, fname);
	if (fstat(fd, &sb) < 0) {
		hr_err_errno(err, errno, "spool %s: %s", sp->dir, fname);
		goto out;
	}
	if ((uint64_t)sb.st_size > SEG_FILE_MAX)
		sb.st_size = (off_t)SEG_FILE_MAX + 1;
	size = (size_t)sb.st_size;
	scan_len = size < SEG_FILE_MAX ? size : SEG_FILE_MAX;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			hr_err_errno(err, errno, "spool %s: cannot map %s", sp->dir, fname);
			goto out;
		}
	}
	g = segs_push(sp, name);
	if (g == NULL) {
		hr_err_set(err, "spool %s: out of memory", sp->dir);
		goto out;
	}
	g->fsize = size;
	do {
		st = spool_scan(map, scan_len, off, after, refs, SCAN_CHUNK, &n, &off);
		for (i = 0; i < n; i++) {
			if (seg_push_rec(g, refs[i].seq, refs[i].off, refs[i].len) < 0) {
				hr_err_set(err, "spool %s: out of memory", sp->dir);
				goto out;
			}
		}
		if (n > 0)
			after = refs[n - 1].seq;
	} while (st == SPOOL_SCAN_FULL);
	if (scan_len < size)
		st = SPOOL_SCAN_BAD;
	/* The name promises the first seq; a file that breaks it is not ours
	 * to trust. */
	if (g->n > 0 && g->recs[0].seq != name) {
		g->n = 0;
		off = 0;
		st = SPOOL_SCAN_BAD;
	}
	if (st != SPOOL_SCAN_END) {
		size_t intact = spool_count_intact(map, scan_len, off + 1);

		if (st == SPOOL_SCAN_TORN && intact == 0) {
			sp->torn_bytes += size - off;
			hr_log_warnx("spool %s: %s: offset %zu: incomplete record (%zu bytes) from an "
				     "interrupted write, removed", sp->dir, fname, off, size - off);
		} else {
			sp->dropped_records += 1 + intact;
			sp->dropped_bytes += size - off;
			hr_log_warnx("spool %s: %s: offset %zu: damaged record; skipping the rest of "
				     "the segment (%zu records lost)", sp->dir, fname, off, 1 + intact);
		}
		g->sealed = 1;
		if (newest && g->n > 0) {
			/* Cut the damage off so that appends continue right
			 * after the last good record. */
			if (ftruncate(fd, (off_t)off) == 0 &&
			    (sp->fsync == SPOOL_FSYNC_NEVER || fsync(fd) == 0)) {
				g->fsize = off;
				g->sealed = 0;
			} else {
				hr_log_warn("spool %s: %s: cannot truncate to %zu bytes", sp->dir, fname, off);
			}
		}
	}
	if (!newest)
		g->sealed = 1;
	if (g->n == 0) {
		free(g->recs);
		sp->nsegs--;
		if (unlinkat(sp->dirfd, fname, 0) < 0)
			hr_log_warn("spool %s: cannot delete %s", sp->dir, fname);
	} else {
		sp->bytes += g->fsize;
		sp->records += g->n;
		*prev = g->recs[g->n - 1].seq;
	}
	rc = 0;
out:
	if (map != NULL)
		munmap(map, size);
	close(fd);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Loads every segment, oldest first; sets sp->last_seq to the highest seq
 * found. */
static int load_segments(struct spool *sp, struct hr_err *err)
{
	uint64_t *names = NULL, name, *t, prev = 0;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int fd, rc = -1;

	fd = dup(sp->dirfd);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return hr_err_errno(err, e, "spool %s: cannot list", sp->dir);
	}
	while ((de = readdir(d)) != NULL) {
		if (seg_parse_name(de->d_name, &name) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			t = realloc(names, cap * sizeof(*t));
			if (t == NULL) {
				hr_err_set(err, "spool %s: out of memory", sp->dir);
				goto out;
			}
			names = t;
		}
		names[n++] = name;
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_u64);
	for (i = 0; i < n; i++)
		if (seg_load(sp, names[i], i == n - 1, &prev, err) < 0)
			goto out;
	sp->last_seq = prev;
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	free(names);
	return rc;
}

/* --- the API ------------------------------------------------------------ */

static int cursor_name_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= SPOOL_CURSOR_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int check_opts(struct spool *sp, const char *dir, const struct spool_opts *o,
		      struct hr_err *err)
{
	size_t i, j;

	sp->max_bytes = o->max_bytes ? o->max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	sp->segment_bytes = o->segment_bytes ? o->segment_bytes : SPOOL_DEFAULT_SEGMENT_BYTES;
	sp->fsync_interval_ms = o->fsync_interval_ms ? o->fsync_interval_ms
						     : SPOOL_DEFAULT_FSYNC_INTERVAL_MS;
	sp->fsync = o->fsync;
	sp->on_drop = o->on_drop;
	sp->drop_ctx = o->drop_ctx;
	if (o->fsync != SPOOL_FSYNC_ALWAYS && o->fsync != SPOOL_FSYNC_BATCHED &&
	    o->fsync != SPOOL_FSYNC_NEVER)
		return hr_err_set(err, "spool %s: unknown fsync policy %d", dir, (int)o->fsync);
	if (sp->segment_bytes > SPOOL_SEGMENT_BYTES_MAX || sp->segment_bytes < SPOOL_HDR_LEN)
		return hr_err_set(err, "spool %s: segment size %" PRIu32 " out of range", dir,
				  sp->segment_bytes);
	if (sp->max_bytes < sp->segment_bytes)
		return hr_err_set(err, "spool %s: max_bytes %" PRIu64 " below the segment size %"
				  PRIu32, dir, sp->max_bytes, sp->segment_bytes);
	if (o->ncursors < 1 || o->ncursors > SPOOL_MAX_CURSORS)
		return hr_err_set(err, "spool %s: %zu cursors (1 to %d)", dir, o->ncursors,
				  SPOOL_MAX_CURSORS);
	sp->ncursors = o->ncursors;
	for (i = 0; i < o->ncursors; i++) {
		if (!cursor_name_ok(o->cursor_names[i]))
			return hr_err_set(err, "spool %s: cursor %zu: bad name (1 to %d of "
					  "A-Z a-z 0-9 _ . -, not starting with '.')", dir, i,
					  SPOOL_CURSOR_NAME_MAX);
		for (j = 0; j < i; j++)
			if (strcmp(o->cursor_names[i], o->cursor_names[j]) == 0)
				return hr_err_set(err, "spool %s: cursor name %s given twice", dir,
						  o->cursor_names[i]);
		hr_strlcpy(sp->names[i], o->cursor_names[i], sizeof(sp->names[i]));
	}
	return 0;
}

struct spool *spool_open(const char *dir, const struct spool_opts *opts, struct hr_err *err)
{
	char fname[SPOOL_CURSOR_NAME_MAX + 16];
	struct spool *sp;
	struct hr_err e2;
	uint64_t v;
	size_t i;
	int r;

	sp = calloc(1, sizeof(*sp));
	if (sp == NULL) {
		hr_err_set(err, "spool %s: out of memory", dir);
		return NULL;
	}
	sp->dirfd = sp->lockfd = sp->fd = -1;
	if (dir == NULL || dir[0] == '\0') {
		hr_err_set(err, "spool: no folder given");
		goto fail;
	}
	if (check_opts(sp, dir, opts, err) < 0)
		goto fail;
	sp->dir = strdup(dir);
	if (sp->dir == NULL) {
		hr_err_set(err, "spool %s: out of memory", dir);
		goto fail;
	}
	if (mkdir_p(dir, err) < 0)
		goto fail;
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		hr_err_errno(err, errno, "spool %s: cannot open folder", dir);
		goto fail;
	}
	sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lockfd < 0) {
		hr_err_errno(err, errno, "spool %s: cannot create the lock file (folder not writable?)",
			     dir);
		goto fail;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			hr_err_set(err, "spool %s: in use by another process", dir);
		else
			hr_err_errno(err, errno, "spool %s: cannot lock", dir);
		goto fail;
	}
	sp->locked = 1;
	/* A garbled position file replays from the oldest record: the central
	 * stores a batch sent twice once, while a skipped one would be lost. */
	r = read_u64_file(sp, "last_seq", &v, &e2);
	if (r > 0)
		sp->saved_last_seq = v;
	else if (r < 0)
		hr_log_warnx("%s (ignored)", e2.msg);
	for (i = 0; i < sp->ncursors; i++) {
		cursor_filename(fname, sizeof(fname), sp->names[i]);
		r = read_u64_file(sp, fname, &v, &e2);
		if (r > 0)
			sp->acked[i] = v;
		else if (r < 0)
			hr_log_warnx("%s (replaying from the oldest record)", e2.msg);
	}
	if (load_segments(sp, err) < 0)
		goto fail;
	/* The sequence never goes back, even when every segment is gone. */
	if (sp->saved_last_seq > sp->last_seq)
		sp->last_seq = sp->saved_last_seq;
	for (i = 0; i < sp->ncursors; i++)
		if (sp->acked[i] > sp->last_seq)
			sp->last_seq = sp->acked[i];
	sp->synced_at = hr_now_mono();
	delete_passed(sp);
	return sp;
fail:
	spool_close(sp);
	return NULL;
}

void spool_close(struct spool *sp)
{
	struct hr_err err;
	size_t i;

	if (sp == NULL)
		return;
	close_active(sp);
	if (sp->locked && persist_last_seq(sp, &err) < 0)
		hr_log_warnx("%s", err.msg);
	for (i = 0; i < sp->nsegs; i++)
		free(sp->segs[i].recs);
	free(sp->segs);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->dir);
	free(sp);
}

/* Starts segment `seq` as the new newest one, open for appends. */
static int seg_start(struct spool *sp, uint64_t seq, struct hr_err *err)
{
	char fname[SEG_NAME_LEN + 1];
	int fd;

	close_active(sp);
	seg_filename(fname, sizeof(fname), seq);
	fd = openat(sp->dirfd, fname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return hr_err_errno(err, errno, "spool %s: cannot create %s", sp->dir, fname);
	if (segs_push(sp, seq) == NULL) {
		close(fd);
		unlinkat(sp->dirfd, fname, 0);
		return hr_err_set(err, "spool %s: out of memory", sp->dir);
	}
	sp->fd = fd;
	/* A new name is worth a folder sync only when the data will be. */
	if (dir_sync(sp, err) < 0) {
		seg_remove(sp, sp->nsegs - 1);
		return -1;
	}
	return 0;
}

/* Writes all of iov at off, across short writes. */
static int write_all(int fd, struct iovec *iov, int iovcnt, off_t off)
{
	ssize_t w;

	while (iovcnt > 0) {
		w = pwritev(fd, iov, iovcnt, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		off += w;
		while (iovcnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int spool_append(struct spool *sp, uint64_t seq, const void *data, size_t len, struct hr_err *err)
{
	uint64_t need = SPOOL_HDR_LEN + (uint64_t)len;
	uint8_t hdr[SPOOL_HDR_LEN];
	struct iovec iov[2];
	struct seg *g;
	int start_new, sync_failed = 0;
	double now;

	if (seq <= sp->last_seq)
		return hr_err_set(err, "spool %s: seq %" PRIu64 " not above the last one, %" PRIu64,
				  sp->dir, seq, sp->last_seq);
	if (len > SPOOL_RECORD_MAX || need > sp->max_bytes)
		return hr_err_set(err, "spool %s: record of %zu bytes is too large", sp->dir, len);
	if (data == NULL && len > 0)
		return hr_err_set(err, "spool %s: no data", sp->dir);
	g = sp->nsegs > 0 ? &sp->segs[sp->nsegs - 1] : NULL;
	start_new = g == NULL || g->sealed || g->fsize + need > sp->segment_bytes;
	while (sp->nsegs > 0 && sp->bytes + need > sp->max_bytes) {
		if (sp->nsegs == 1)
			start_new = 1;
		if (drop_oldest(sp, err) < 0)
			return -1;
	}
	if (start_new && seg_start(sp, seq, err) < 0)
		return -1;
	g = &sp->segs[sp->nsegs - 1];
	if (sp->fd < 0) {
		char fname[SEG_NAME_LEN + 1];

		seg_filename(fname, sizeof(fname), g->name);
		sp->fd = openat(sp->dirfd, fname, O_WRONLY | O_CLOEXEC);
		if (sp->fd < 0)
			return hr_err_errno(err, errno, "spool %s: cannot open %s", sp->dir, fname);
	}
	spool_encode_header(hdr, seq, data, (uint32_t)len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	if (write_all(sp->fd, iov, len > 0 ? 2 : 1, (off_t)g->fsize) < 0) {
		hr_err_errno(err, errno, "spool %s: write", sp->dir);
		goto undo;
	}
	now = hr_now_mono();
	sp->dirty = 1;
	if (sp->fsync == SPOOL_FSYNC_ALWAYS ||
	    (sp->fsync == SPOOL_FSYNC_BATCHED &&
	     (now - sp->synced_at) * 1000.0 >= (double)sp->fsync_interval_ms)) {
		if (sync_active(sp, err) < 0) {
			sync_failed = 1;
			goto undo;
		}
	}
	if (seg_push_rec(g, seq, (size_t)g->fsize, (uint32_t)len) < 0) {
		hr_err_set(err, "spool %s: out of memory", sp->dir);
		goto undo;
	}
	g->fsize += need;
	sp->bytes += need;
	sp->records++;
	sp->last_seq = seq;
	return 0;
undo:
	/* Take the record back out, so that no half of it stays in the middle
	 * of the segment; when even that fails, no more appends go there. */
	if (ftruncate(sp->fd, (off_t)g->fsize) < 0)
		g->sealed = 1;
	/* After a failed fdatasync the page cache may not match the disk
	 * (the kernel reports such an error once, then forgets it): never
	 * append to that file again. */
	if (sync_failed)
		g->sealed = 1;
	if (g->n == 0)
		seg_remove(sp, sp->nsegs - 1);
	return -1;
}

int spool_sync(struct spool *sp, struct hr_err *err)
{
	return sync_active(sp, err);
}

void spool_batch_free(struct spool_batch *b)
{
	if (b == NULL)
		return;
	free(b->recs);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* Reads record ri of segment si into dst and checks it again. 0, or -1
 * when it cannot be read or does not check out (errno 0: damaged). */
static int read_rec(struct spool *sp, int fd, const struct seg *g, size_t ri, uint8_t *dst)
{
	const struct seg_rec *r = &g->recs[ri];
	uint8_t hdr[SPOOL_HDR_LEN];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { dst, r->len } };
	ssize_t got;
	size_t want = SPOOL_HDR_LEN + (size_t)r->len;

	do
		got = preadv(fd, iov, 2, (off_t)r->off);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	errno = 0;
	if ((size_t)got != want || get_le32(hdr + 8) != r->len || get_le64(hdr + 16) != r->seq ||
	    memcmp(hdr, hdr_fixed, sizeof(hdr_fixed)) != 0 ||
	    get_le32(hdr + 12) != record_crc(hdr, dst, r->len))
		return -1;
	return 0;
}

/* One attempt: 1 when a record went bad and the peek must start over. */
static int peek_once(struct spool *sp, uint64_t acked, size_t max_bytes, size_t max_records,
		     struct spool_batch *out, struct hr_err *err)
{
	size_t si, ri, si0 = 0, ri0 = 0, n = 0, bytes = 0, k;
	char fname[SEG_NAME_LEN + 1];
	int fd;

	for (si0 = 0; si0 < sp->nsegs; si0++) {
		ri0 = seg_first_after(&sp->segs[si0], acked);
		if (ri0 < sp->segs[si0].n)
			break;
	}
	/* Plan from the index, then read into one buffer. */
	for (si = si0, ri = ri0; si < sp->nsegs; si++, ri = 0) {
		for (; ri < sp->segs[si].n; ri++) {
			size_t l = sp->segs[si].recs[ri].len;

			if (n > 0 && ((max_records > 0 && n >= max_records) ||
				      (max_bytes > 0 && bytes + l > max_bytes)))
				goto planned;
			n++;
			bytes += l;
		}
	}
planned:
	if (n == 0)
		return 0;
	out->recs = calloc(n, sizeof(*out->recs));
	out->buf = malloc(bytes > 0 ? bytes : 1);
	if (out->recs == NULL || out->buf == NULL)
		return hr_err_set(err, "spool %s: out of memory for %zu bytes", sp->dir, bytes);
	bytes = 0;
	for (si = si0, ri = ri0, k = 0; k < n; si++, ri = 0) {
		const struct seg *g = &sp->segs[si];

		seg_filename(fname, sizeof(fname), g->name);
		fd = openat(sp->dirfd, fname, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return hr_err_errno(err, errno, "spool %s: cannot open %s", sp->dir, fname);
		for (; ri < g->n && k < n; ri++, k++) {
			if (read_rec(sp, fd, g, ri, out->buf + bytes) < 0) {
				int e = errno;

				close(fd);
				if (e != 0)
					return hr_err_errno(err, e, "spool %s: read %s", sp->dir, fname);
				seg_cut(sp, si, ri, "record damaged since the spool was opened");
				return 1;
			}
			out->recs[k].seq = g->recs[ri].seq;
			out->recs[k].data = out->buf + bytes;
			out->recs[k].len = g->recs[ri].len;
			bytes += g->recs[ri].len;
		}
		close(fd);
	}
	out->n = n;
	out->bytes = bytes;
	return 0;
}

int spool_peek(struct spool *sp, size_t cursor, size_t max_bytes, size_t max_records,
	       struct spool_batch *out, struct hr_err *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (cursor >= sp->ncursors)
		return hr_err_set(err, "spool %s: no cursor %zu", sp->dir, cursor);
	/* Each retry follows a cut that removed at least one record. */
	while ((r = peek_once(sp, sp->acked[cursor], max_bytes, max_records, out, err)) == 1)
		spool_batch_free(out);
	if (r < 0) {
		spool_batch_free(out);
		return -1;
	}
	return (int)out->n;
}

int spool_ack(struct spool *sp, size_t cursor, uint64_t seq, struct hr_err *err)
{
	char fname[SPOOL_CURSOR_NAME_MAX + 16];

	if (cursor >= sp->ncursors)
		return hr_err_set(err, "spool %s: no cursor %zu", sp->dir, cursor);
	if (seq > sp->last_seq)
		return hr_err_set(err, "spool %s: ack of seq %" PRIu64 " above the last one, %" PRIu64,
				  sp->dir, seq, sp->last_seq);
	if (seq <= sp->acked[cursor])
		return 0;
	cursor_filename(fname, sizeof(fname), sp->names[cursor]);
	if (write_u64_file(sp, fname, seq, err) < 0)
		return -1;
	sp->acked[cursor] = seq;
	delete_passed(sp);
	return 0;
}

uint64_t spool_last_seq(const struct spool *sp)
{
	return sp->last_seq;
}

void spool_stats(const struct spool *sp, struct spool_stats *st)
{
	size_t c, si, ri;

	memset(st, 0, sizeof(*st));
	st->records = sp->records;
	st->bytes = sp->bytes;
	st->segments = sp->nsegs;
	st->last_seq = sp->last_seq;
	st->dropped_records = sp->dropped_records;
	st->dropped_bytes = sp->dropped_bytes;
	st->torn_bytes = sp->torn_bytes;
	st->ncursors = sp->ncursors;
	for (c = 0; c < sp->ncursors; c++) {
		st->cursor[c].acked = sp->acked[c];
		for (si = 0; si < sp->nsegs; si++) {
			const struct seg *g = &sp->segs[si];

			for (ri = seg_first_after(g, sp->acked[c]); ri < g->n; ri++) {
				st->cursor[c].lag_records++;
				st->cursor[c].lag_bytes += g->recs[ri].len;
			}
		}
	}
}
