/* fuzz_spool.c: libFuzzer target for the spool's record scanner, what a
 * restart trusts after a crash or a bad disk. The first byte picks a mode:
 * 0 scans the bytes as a segment and checks every promise of spool_scan;
 * 1 builds a valid segment from the input, cuts it and changes one byte,
 * and checks that exactly the records before the damage come back, intact;
 * 2 puts the bytes on disk as a segment and runs spool_open and spool_peek
 * over them: what is delivered must be what the scanner accepts, and the
 * spool must go on working. */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHUNK 3        /* small, so that SPOOL_SCAN_FULL and resuming get used */
#define BUILD_MAX 64

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Is there a complete, checksummed record at buf[off] with this seq and len?
 * Checked here from the format description, not with the spool's code. */
static int record_is_valid(const uint8_t *buf, size_t len, size_t off, uint64_t seq, uint32_t l)
{
	uint8_t h[SPOOL_HDR_LEN];
	uint64_t s = 0;
	int i;

	if (off > len || len - off < SPOOL_HDR_LEN || len - off - SPOOL_HDR_LEN < l)
		return 0;
	if (memcmp(buf + off, "HRSP\1\0\0\0", 8) != 0 || le32(buf + off + 8) != l ||
	    l > SPOOL_RECORD_MAX)
		return 0;
	for (i = 7; i >= 0; i--)
		s = s << 8 | buf[off + 16 + (size_t)i];
	if (s != seq || s == 0)
		return 0;
	memcpy(h, buf + off, sizeof(h));
	memset(h + 12, 0, 4);
	return le32(buf + off + 12) ==
	       spool_crc32c(spool_crc32c(0, h, sizeof(h)), buf + off + SPOOL_HDR_LEN, l);
}

/* Scans everything in CHUNK steps; fills refs (up to max) and returns the
 * count, with the final status and end. */
static size_t scan_all(const uint8_t *buf, size_t len, struct spool_rec_ref *refs, size_t max,
		       enum spool_scan_status *st, size_t *end)
{
	struct spool_rec_ref chunk[CHUNK];
	size_t n, total = 0, off = 0, i, expect_off = 0;
	uint64_t after = 0;

	do {
		*st = spool_scan(buf, len, off, after, chunk, CHUNK, &n, end);
		if (n > CHUNK || *end > len || *end < off)
			abort();
		if (*st == SPOOL_SCAN_FULL && (n != CHUNK || *end >= len))
			abort();
		for (i = 0; i < n; i++) {
			/* Back to back from the start, seqs growing, each one
			 * valid by the format's own definition. */
			if (chunk[i].off != expect_off || chunk[i].seq <= after ||
			    !record_is_valid(buf, len, chunk[i].off, chunk[i].seq, chunk[i].len))
				abort();
			after = chunk[i].seq;
			expect_off = chunk[i].off + SPOOL_HDR_LEN + chunk[i].len;
			if (total < max)
				refs[total] = chunk[i];
			total++;
		}
		if (*end != expect_off)
			abort();
		off = *end;
	} while (*st == SPOOL_SCAN_FULL);
	if ((*st == SPOOL_SCAN_END) != (*end == len))
		abort();
	/* TORN promises a prefix: nothing but too few bytes is wrong there. */
	if (*st == SPOOL_SCAN_TORN && (len - *end >= SPOOL_HDR_LEN &&
				       len - *end - SPOOL_HDR_LEN >= le32(buf + *end + 8)))
		abort();
	return total;
}

static void mode_scan(const uint8_t *buf, size_t len)
{
	enum spool_scan_status st;
	size_t end;

	scan_all(buf, len, NULL, 0, &st, &end);
	if (st != SPOOL_SCAN_END && spool_count_intact(buf, len, end + 1) > len / SPOOL_HDR_LEN)
		abort();
}

/* Input: [cut:2][pos:2][mask:1] then payloads, each [len:1][bytes]. */
static void mode_build(const uint8_t *in, size_t insize)
{
	struct spool_rec_ref built[BUILD_MAX], got[BUILD_MAX];
	size_t nb = 0, off = 0, p = 5, cut, pos, n, i, end, keep;
	enum spool_scan_status st;
	uint8_t *seg, mask;

	if (insize < 5)
		return;
	seg = malloc(insize * 2 + BUILD_MAX * SPOOL_HDR_LEN);
	if (seg == NULL)
		return;
	while (p < insize && nb < BUILD_MAX) {
		size_t l = in[p++];

		if (l > insize - p)
			l = insize - p;
		memcpy(seg + off + SPOOL_HDR_LEN, in + p, l);
		spool_encode_header(seg + off, 1000 + nb * 3, seg + off + SPOOL_HDR_LEN, (uint32_t)l);
		built[nb].seq = 1000 + nb * 3;
		built[nb].off = off;
		built[nb].len = (uint32_t)l;
		nb++;
		off += SPOOL_HDR_LEN + l;
		p += l;
	}
	cut = off > 0 ? ((size_t)in[0] << 8 | in[1]) % (off + 1) : 0;
	pos = cut > 0 ? ((size_t)in[2] << 8 | in[3]) % cut : 0;
	mask = in[4];
	if (cut > 0)
		seg[pos] ^= mask;

	n = scan_all(seg, cut, got, BUILD_MAX, &st, &end);
	/* Records wholly before the changed byte (or all of them, when the
	 * mask is 0) and wholly before the cut must come back, and nothing
	 * else: CRC-32C catches every change within one byte. */
	for (keep = 0; keep < nb; keep++) {
		size_t rend = built[keep].off + SPOOL_HDR_LEN + built[keep].len;

		if (rend > cut || (mask != 0 && cut > 0 && pos < rend))
			break;
	}
	if (n != keep)
		abort();
	for (i = 0; i < n; i++)
		if (got[i].seq != built[i].seq || got[i].off != built[i].off ||
		    got[i].len != built[i].len)
			abort();
	/* An undamaged cut inside a record is a torn tail, never BAD. */
	if (mask == 0 || cut == 0) {
		if (end == cut ? st != SPOOL_SCAN_END : st != SPOOL_SCAN_TORN)
			abort();
	}
	free(seg);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void mode_open(const uint8_t *buf, size_t len)
{
	static char dir[64], path[128];
	struct spool_rec_ref refs[256];
	struct spool_opts o;
	struct spool_batch b;
	struct spool_stats st;
	enum spool_scan_status sst;
	struct hr_err err;
	struct spool *sp;
	size_t n, i, end;
	int fd, r;

	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/tmp/hr-fuzz-spool-%ld", (long)getpid());
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	memset(&o, 0, sizeof(o));
	o.segment_bytes = 4096;
	o.max_bytes = 1u << 20;
	o.fsync = SPOOL_FSYNC_NEVER;
	o.ncursors = 1;
	o.cursor_names[0] = "c";
	sp = spool_open(dir, &o, &err);
	if (sp == NULL)
		abort();
	spool_close(sp);
	/* The segment is named after the seq its first record should carry. */
	n = scan_all(buf, len, refs, 256, &sst, &end);
	snprintf(path, sizeof(path), "%s/%016llx.seg", dir,
		 (unsigned long long)(n > 0 ? refs[0].seq : 1));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (len > 0 && write(fd, buf, len) != (ssize_t)len))
		abort();
	close(fd);

	sp = spool_open(dir, &o, &err);
	if (sp == NULL)
		abort();
	r = spool_peek(sp, 0, 0, 0, &b, &err);
	if (r < 0 || (size_t)r != n || b.n != n)
		abort();
	for (i = 0; i < b.n && i < 256; i++)
		if (b.recs[i].seq != refs[i].seq || b.recs[i].len != refs[i].len ||
		    memcmp(b.recs[i].data, buf + refs[i].off + SPOOL_HDR_LEN, refs[i].len) != 0)
			abort();
	spool_batch_free(&b);
	spool_stats(sp, &st);
	if (st.records != n || spool_last_seq(sp) != (n > 0 ? refs[n - 1].seq : 0))
		abort();
	/* And it keeps working: an append lands behind what was there. */
	if (spool_last_seq(sp) < UINT64_MAX) {
		if (spool_append(sp, spool_last_seq(sp) + 1, "{}", 2, &err) < 0)
			abort();
		r = spool_peek(sp, 0, 0, 0, &b, &err);
		if (r != (int)n + 1 || b.recs[b.n - 1].len != 2 || memcmp(b.recs[b.n - 1].data, "{}", 2))
			abort();
		spool_batch_free(&b);
	}
	spool_close(sp);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;

	if (!quiet) {
		/* The spool warns about every damaged segment; here that is
		 * every input. */
		hr_log_init("fuzz_spool", 0, HR_LOG_ERR);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		mode_scan(data + 1, size - 1);
		break;
	case 1:
		mode_build(data + 1, size - 1);
		break;
	default:
		mode_open(data + 1, size - 1);
		break;
	}
	return 0;
}
