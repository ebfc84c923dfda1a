/* test_spool.c: the agent's on-disk spool: round trips, coalescing, several
 * cursors and their persistence, the max_bytes bound, and above all what a
 * crash or a damaged byte leaves behind: every byte offset of a torn tail,
 * flipped bytes in every header field, and real kill -9 of a writer. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "testutil.h"
#include "util.h"

#define PAYLOAD_MAX (256u << 10)
#define REC(len) (SPOOL_HDR_LEN + (len))

/* The payload of a record: text fixed by its seq and length, so that a
 * record read back can be checked byte for byte. */
static void gen(uint64_t seq, size_t len, char *buf)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)('a' + (seq * 31 + i * 7) % 26);
	if (len >= 2) {
		buf[0] = '{';
		buf[len - 1] = '}';
	}
}

/* A length that varies with seq, for tests that want records of many sizes. */
static size_t len_for(uint64_t seq)
{
	return 40 + (size_t)((seq * 7919) % 2000);
}

/* The crash test's lengths: every fifth record is 100 to 200 KB, a write
 * long enough for a kill to land in the middle of it. */
static size_t crash_len(uint64_t seq)
{
	return seq % 5 == 0 ? 100000 + (size_t)((seq * 7919) % 100000) : len_for(seq);
}

static char scratch[PAYLOAD_MAX];

static struct spool_opts opts_of(uint32_t segment_bytes, uint64_t max_bytes, enum spool_fsync f)
{
	struct spool_opts o;

	memset(&o, 0, sizeof(o));
	o.segment_bytes = segment_bytes;
	o.max_bytes = max_bytes;
	o.fsync = f;
	o.ncursors = 1;
	o.cursor_names[0] = "c0";
	return o;
}

static struct spool *open_ok(const char *dir, const struct spool_opts *o)
{
	struct hr_err err = { { 0 } };
	struct spool *sp = spool_open(dir, o, &err);

	if (sp == NULL)
		fprintf(stderr, "spool_open: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	return sp;
}

/* Appends seqs from..to; len 0: len_for(seq). */
static void append_range(struct spool *sp, uint64_t from, uint64_t to, size_t len)
{
	struct hr_err err = { { 0 } };
	uint64_t s;

	for (s = from; s <= to; s++) {
		size_t l = len ? len : len_for(s);

		gen(s, l, scratch);
		if (spool_append(sp, s, scratch, l, &err) < 0) {
			fprintf(stderr, "spool_append %" PRIu64 ": %s\n", s, err.msg);
			CU_FAIL_FATAL("append failed");
		}
	}
}

/* Checks a record's bytes against gen(); 1 when right. */
static int rec_ok(const struct spool_record *r)
{
	if (r->len > PAYLOAD_MAX)
		return 0;
	gen(r->seq, r->len, scratch);
	return memcmp(scratch, r->data, r->len) == 0;
}

/* Peeks everything pending for cursor into seqs (up to max), checking
 * every payload and the order; returns the count. */
static size_t read_all(struct spool *sp, size_t cursor, uint64_t *seqs, size_t max)
{
	struct hr_err err = { { 0 } };
	struct spool_batch b;
	size_t i;
	int n;

	n = spool_peek(sp, cursor, 0, 0, &b, &err);
	CU_ASSERT_FATAL(n >= 0);
	CU_ASSERT_EQUAL(b.n, (size_t)n);
	for (i = 0; i < b.n; i++) {
		CU_ASSERT(rec_ok(&b.recs[i]));
		if (i > 0)
			CU_ASSERT(b.recs[i].seq > b.recs[i - 1].seq);
		if (i < max)
			seqs[i] = b.recs[i].seq;
	}
	spool_batch_free(&b);
	return (size_t)n;
}

/* Are seqs exactly from..to? */
static int seqs_are(const uint64_t *seqs, size_t n, uint64_t from, uint64_t to)
{
	size_t i;

	if (to < from)
		return n == 0;
	if (n != to - from + 1)
		return 0;
	for (i = 0; i < n; i++)
		if (seqs[i] != from + i)
			return 0;
	return 1;
}

static size_t count_segs(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l == 20 && strcmp(de->d_name + 16, ".seg") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	CU_ASSERT_FATAL(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static void seg_path(char *buf, size_t n, const char *dir, uint64_t first)
{
	if (snprintf(buf, n, "%s/%016" PRIx64 ".seg", dir, first) >= (int)n)
		abort();
}

/* --- the format --------------------------------------------------------- */

static void test_format(void)
{
	static const uint8_t want[] = {
		'H', 'R', 'S', 'P', 1, 0, 0, 0,
		2, 0, 0, 0,                    /* length */
		0, 0, 0, 0,                    /* crc, filled below */
		8, 7, 6, 5, 4, 3, 2, 1         /* seq */
	};
	uint8_t hdr[SPOOL_HDR_LEN], zeroed[SPOOL_HDR_LEN];
	uint32_t crc;

	/* The CRC-32C check value (RFC 3720 B.4 and every CRC catalogue). */
	CU_ASSERT_EQUAL(spool_crc32c(0, "123456789", 9), 0xe3069283u);
	CU_ASSERT_EQUAL(spool_crc32c(spool_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);

	spool_encode_header(hdr, 0x0102030405060708ull, "ab", 2);
	CU_ASSERT(memcmp(hdr, want, 12) == 0);
	CU_ASSERT(memcmp(hdr + 16, want + 16, 8) == 0);
	memcpy(zeroed, hdr, sizeof(zeroed));
	memset(zeroed + 12, 0, 4);
	crc = spool_crc32c(spool_crc32c(0, zeroed, sizeof(zeroed)), "ab", 2);
	CU_ASSERT_EQUAL(hdr[12] | hdr[13] << 8 | hdr[14] << 16 | (uint32_t)hdr[15] << 24, crc);
}

/* spool_scan and spool_count_intact over hand-built buffers. */
static void test_scan(void)
{
	uint8_t buf[4 * REC(10)], t;
	struct spool_rec_ref refs[4];
	size_t n, end, off = 0, i;
	uint64_t s;

	for (s = 1; s <= 4; s++) {
		gen(s, 10, (char *)buf + off + SPOOL_HDR_LEN);
		spool_encode_header(buf + off, s * 10, buf + off + SPOOL_HDR_LEN, 10);
		off += REC(10);
	}
	CU_ASSERT_EQUAL(spool_scan(buf, sizeof(buf), 0, 0, refs, 4, &n, &end), SPOOL_SCAN_END);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(end, sizeof(buf));
	CU_ASSERT_EQUAL(refs[2].seq, 30);
	CU_ASSERT_EQUAL(refs[2].off, 2 * REC(10));
	CU_ASSERT_EQUAL(refs[2].len, 10);

	/* A small array: FULL, and the scan continues where it stopped. */
	CU_ASSERT_EQUAL(spool_scan(buf, sizeof(buf), 0, 0, refs, 3, &n, &end), SPOOL_SCAN_FULL);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(spool_scan(buf, sizeof(buf), end, refs[2].seq, refs, 3, &n, &end),
			SPOOL_SCAN_END);
	CU_ASSERT(n == 1 && refs[0].seq == 40);

	/* seqs must grow past after_seq and from record to record. */
	CU_ASSERT_EQUAL(spool_scan(buf, sizeof(buf), 0, 10, refs, 4, &n, &end), SPOOL_SCAN_BAD);
	CU_ASSERT(n == 0 && end == 0);

	/* Every cut inside the last record is TORN at its start, and is not
	 * counted as an intact record. */
	for (i = 3 * REC(10) + 1; i < sizeof(buf); i++) {
		CU_ASSERT_EQUAL(spool_scan(buf, i, 0, 0, refs, 4, &n, &end), SPOOL_SCAN_TORN);
		CU_ASSERT(n == 3 && end == 3 * REC(10));
		CU_ASSERT_EQUAL(spool_count_intact(buf, i, end + 1), 0);
	}

	/* A flipped payload byte in record 2 is BAD there; the two records
	 * after it still look intact. */
	buf[REC(10) + SPOOL_HDR_LEN + 3] ^= 0x20;
	CU_ASSERT_EQUAL(spool_scan(buf, sizeof(buf), 0, 0, refs, 4, &n, &end), SPOOL_SCAN_BAD);
	CU_ASSERT(n == 1 && end == REC(10));
	CU_ASSERT_EQUAL(spool_count_intact(buf, sizeof(buf), end + 1), 2);
	buf[REC(10) + SPOOL_HDR_LEN + 3] ^= 0x20;

	/* A wrong first byte is BAD even when only 3 bytes are left. */
	t = buf[3 * REC(10)];
	buf[3 * REC(10)] = 'X';
	CU_ASSERT_EQUAL(spool_scan(buf, 3 * REC(10) + 3, 0, 0, refs, 4, &n, &end), SPOOL_SCAN_BAD);
	buf[3 * REC(10)] = t;

	/* A length over the cap is BAD, not TORN: never trusted. */
	buf[11] = 0x7f;
	CU_ASSERT_EQUAL(spool_scan(buf, sizeof(buf), 0, 0, refs, 4, &n, &end), SPOOL_SCAN_BAD);
	CU_ASSERT(n == 0 && end == 0);
	CU_ASSERT_EQUAL(spool_scan(NULL, 0, 0, 0, NULL, 0, &n, &end), SPOOL_SCAN_END);
}

/* --- the API ------------------------------------------------------------ */

static void test_round_trip(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(0, 0, SPOOL_FSYNC_ALWAYS);
	struct hr_err err = { { 0 } };
	struct spool_stats st;
	uint64_t seqs[16];
	struct spool *sp;

	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_last_seq(sp), 0);
	CU_ASSERT_EQUAL(read_all(sp, 0, seqs, 16), 0);
	append_range(sp, 1, 10, 0);
	CU_ASSERT_EQUAL(spool_last_seq(sp), 10);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 1, 10));
	/* Peeking does not consume. */
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 1, 10));
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 4, &err), 0);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 5, 10));
	/* An ack going back changes nothing; one past the end is refused. */
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 2, &err), 0);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 5, 10));
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 11, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "above the last"));
	CU_ASSERT_EQUAL(spool_ack(sp, 1, 5, &err), -1);
	CU_ASSERT_EQUAL(spool_peek(sp, 1, 0, 0, &(struct spool_batch){ 0 }, &err), -1);

	spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 10);
	CU_ASSERT_EQUAL(st.segments, 1);
	CU_ASSERT_EQUAL(st.last_seq, 10);
	CU_ASSERT_EQUAL(st.cursor[0].acked, 4);
	CU_ASSERT_EQUAL(st.cursor[0].lag_records, 6);
	CU_ASSERT_EQUAL(st.cursor[0].lag_bytes, len_for(5) + len_for(6) + len_for(7) +
			len_for(8) + len_for(9) + len_for(10));
	CU_ASSERT_EQUAL(st.dropped_records, 0);

	/* Everything acknowledged: nothing is left on disk. */
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 10, &err), 0);
	spool_stats(sp, &st);
	CU_ASSERT(st.records == 0 && st.bytes == 0 && st.segments == 0);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	CU_ASSERT_EQUAL(read_all(sp, 0, seqs, 16), 0);
	append_range(sp, 11, 11, 0);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 11, 11));
	spool_close(sp);
	spool_close(NULL);
	rm_rf(dir);
}

static void test_empty_payload(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(0, 0, SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	struct spool_batch b;
	struct spool *sp;

	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_append(sp, 7, NULL, 0, &err), 0);
	CU_ASSERT_EQUAL(spool_append(sp, 8, "x", 1, &err), 0);
	spool_close(sp);
	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_peek(sp, 0, 0, 0, &b, &err), 2);
	CU_ASSERT(b.recs[0].seq == 7 && b.recs[0].len == 0);
	CU_ASSERT(b.recs[1].seq == 8 && b.recs[1].len == 1 && b.recs[1].data[0] == 'x');
	spool_batch_free(&b);
	spool_batch_free(NULL);
	spool_close(sp);
	rm_rf(dir);
}

static void test_coalescing(void)
{
	static const struct {
		size_t max_bytes, max_records;
		size_t want;
	} cases[] = {
		{ 0, 0, 10 },         /* no limit */
		{ 300, 0, 3 },        /* 3 x 100 fits, a 4th does not */
		{ 299, 0, 2 },
		{ 50, 0, 1 },         /* one record even when it alone is larger */
		{ 1, 0, 1 },
		{ 0, 4, 4 },
		{ 1000, 2, 2 },
		{ 250, 7, 2 },
	};
	const char *dir = tmpdir_new("spool");
	/* 2 records a segment, so that a batch spans segments. */
	struct spool_opts o = opts_of(2 * REC(100), 0, SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	struct spool_batch b;
	struct spool *sp;
	size_t i, j;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 10, 100);
	CU_ASSERT_EQUAL(count_segs(dir), 5);
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 1, &err), 0);
	append_range(sp, 11, 11, 100);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(spool_peek(sp, 0, cases[i].max_bytes, cases[i].max_records, &b, &err),
				(int)cases[i].want);
		CU_ASSERT_EQUAL(b.n, cases[i].want);
		CU_ASSERT_EQUAL(b.bytes, 100 * cases[i].want);
		for (j = 0; j < b.n; j++) {
			CU_ASSERT_EQUAL(b.recs[j].seq, 2 + j);
			CU_ASSERT(rec_ok(&b.recs[j]));
		}
		spool_batch_free(&b);
	}
	spool_close(sp);
	rm_rf(dir);
}

static void test_seq_monotonic(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(1024, 4096, SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	static char big[4096];
	struct spool_stats st;
	struct spool *sp;

	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_append(sp, 0, "x", 1, &err), -1);
	CU_ASSERT_EQUAL(spool_append(sp, 5, "x", 1, &err), 0);
	CU_ASSERT_EQUAL(spool_append(sp, 5, "y", 1, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not above the last one, 5"));
	CU_ASSERT_EQUAL(spool_append(sp, 4, "y", 1, &err), -1);
	/* Gaps are fine: the sequence only has to grow. */
	CU_ASSERT_EQUAL(spool_append(sp, 9, "z", 1, &err), 0);
	/* A record the bound could never hold is refused, not stored. */
	CU_ASSERT_EQUAL(spool_append(sp, 10, big, sizeof(big), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "too large"));
	spool_stats(sp, &st);
	CU_ASSERT(st.records == 2 && st.last_seq == 9 && st.dropped_records == 0);
	spool_close(sp);
	rm_rf(dir);
}

/* A record longer than a segment gets one of its own. */
static void test_oversized_record(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(256, 0, SPOOL_FSYNC_NEVER);
	uint64_t seqs[8];
	struct spool *sp;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 1, 100);
	append_range(sp, 2, 2, 1000);
	append_range(sp, 3, 3, 100);
	CU_ASSERT_EQUAL(count_segs(dir), 3);
	spool_close(sp);
	sp = open_ok(dir, &o);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 8), 1, 3));
	spool_close(sp);
	rm_rf(dir);
}

/* An ack whose position cannot be written moves nothing, in memory
 * neither: memory never runs ahead of the disk. */
static void test_ack_not_persisted(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(0, 0, SPOOL_FSYNC_ALWAYS);
	struct hr_err err = { { 0 } };
	char path[PATH_MAX];
	uint64_t seqs[8];
	struct spool *sp;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 5, 10);
	/* A folder where the temporary file must go fails even for root. */
	snprintf(path, sizeof(path), "%s/cursor.c0.tmp", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 3, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cursor.c0.tmp"));
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 8), 1, 5));
	CU_ASSERT_EQUAL(rmdir(path), 0);
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 3, &err), 0);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 8), 4, 5));
	spool_close(sp);
	rm_rf(dir);
}

/* A write cut short (here by RLIMIT_FSIZE: a short write, then EFBIG) is
 * refused and leaves no half record behind; appends go on afterwards. */
static void test_short_write(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(0, 0, SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	struct rlimit saved, small;
	struct spool_stats st;
	char path[PATH_MAX];
	uint64_t seqs[8];
	struct spool *sp;
	void (*old)(int);
	int rc;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 3, 276);                 /* 3 x 300 bytes */
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = 1000;
	old = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &small), 0);
	gen(4, 276, scratch);
	rc = spool_append(sp, 4, scratch, 276, &err);
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, old);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "write"));
	seg_path(path, sizeof(path), dir, 1);
	CU_ASSERT_EQUAL(file_size(path), 900);
	CU_ASSERT_EQUAL(spool_last_seq(sp), 3);
	append_range(sp, 4, 4, 276);
	spool_close(sp);
	sp = open_ok(dir, &o);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 8), 1, 4));
	spool_stats(sp, &st);
	CU_ASSERT(st.torn_bytes == 0 && st.dropped_records == 0);
	spool_close(sp);
	rm_rf(dir);
}

/* Two centrals: a segment goes only when both have passed its last record. */
static void test_two_cursors(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(3 * REC(100), 0, SPOOL_FSYNC_BATCHED);
	struct hr_err err = { { 0 } };
	struct spool_stats st;
	uint64_t seqs[16];
	struct spool *sp;

	o.ncursors = 2;
	o.cursor_names[1] = "c1";
	sp = open_ok(dir, &o);
	append_range(sp, 1, 9, 100);            /* segments 1-3, 4-6, 7-9 */
	CU_ASSERT_EQUAL(count_segs(dir), 3);
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 9, &err), 0);
	CU_ASSERT_EQUAL(count_segs(dir), 3);    /* c1 has nothing yet */
	CU_ASSERT_EQUAL(read_all(sp, 0, seqs, 16), 0);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 1, seqs, 16), 1, 9));
	CU_ASSERT_EQUAL(spool_ack(sp, 1, 5, &err), 0);
	CU_ASSERT_EQUAL(count_segs(dir), 2);    /* 1-3 gone, 4-6 still needed for 6 */
	CU_ASSERT(seqs_are(seqs, read_all(sp, 1, seqs, 16), 6, 9));
	spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 6);
	CU_ASSERT_EQUAL(st.cursor[0].lag_records, 0);
	CU_ASSERT_EQUAL(st.cursor[1].lag_records, 4);
	CU_ASSERT_EQUAL(st.cursor[1].lag_bytes, 400);
	CU_ASSERT_EQUAL(spool_ack(sp, 1, 6, &err), 0);
	CU_ASSERT_EQUAL(count_segs(dir), 1);
	CU_ASSERT_EQUAL(spool_sync(sp, &err), 0);
	spool_close(sp);
	rm_rf(dir);
}

/* Positions survive a restart, follow the names, not the order, and a new
 * central starts at the oldest record still spooled. */
static void test_restart(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(3 * REC(100), 0, SPOOL_FSYNC_ALWAYS);
	struct hr_err err = { { 0 } };
	uint64_t seqs[16];
	struct spool *sp;

	o.ncursors = 2;
	o.cursor_names[0] = "central-a";
	o.cursor_names[1] = "central-b";
	sp = open_ok(dir, &o);
	append_range(sp, 1, 9, 100);
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 7, &err), 0);
	CU_ASSERT_EQUAL(spool_ack(sp, 1, 4, &err), 0);
	spool_close(sp);

	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_last_seq(sp), 9);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 8, 9));
	CU_ASSERT(seqs_are(seqs, read_all(sp, 1, seqs, 16), 5, 9));
	append_range(sp, 10, 10, 100);
	spool_close(sp);

	/* Swapped order, one new central. */
	o.ncursors = 3;
	o.cursor_names[0] = "central-b";
	o.cursor_names[1] = "central-new";
	o.cursor_names[2] = "central-a";
	sp = open_ok(dir, &o);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 16), 5, 10));
	CU_ASSERT(seqs_are(seqs, read_all(sp, 1, seqs, 16), 4, 10));   /* oldest on disk */
	CU_ASSERT(seqs_are(seqs, read_all(sp, 2, seqs, 16), 8, 10));
	spool_close(sp);

	/* A garbled position replays from the oldest record (duplicates are
	 * harmless, a gap is not). */
	CU_ASSERT_EQUAL(write_file(dir, "/cursor.central-a", "7x\n", 3), 0);
	sp = open_ok(dir, &o);
	CU_ASSERT(seqs_are(seqs, read_all(sp, 2, seqs, 16), 4, 10));
	spool_close(sp);
	rm_rf(dir);
}

/* The sequence never restarts, even when every segment has been deleted. */
static void test_last_seq_persists(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(2 * REC(100), 0, SPOOL_FSYNC_ALWAYS);
	struct hr_err err = { { 0 } };
	char path[PATH_MAX];
	struct spool *sp;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 5, 100);
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 5, &err), 0);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	spool_close(sp);
	/* Even without the cursor file, last_seq holds it. */
	snprintf(path, sizeof(path), "%s/cursor.c0", dir);
	CU_ASSERT_EQUAL(unlink(path), 0);
	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_last_seq(sp), 5);
	CU_ASSERT_EQUAL(spool_append(sp, 5, "x", 1, &err), -1);
	CU_ASSERT_EQUAL(spool_append(sp, 6, "x", 1, &err), 0);
	spool_close(sp);
	rm_rf(dir);
}

/* A crash in the middle of the last write: cut the newest segment at every
 * byte offset; reopening gives exactly the complete records, truncates the
 * rest away, and appends continue right behind them. */
static void test_truncate_every_offset(void)
{
	static const size_t lens[3] = { 120, 77, 201 };
	const char *src = NULL;
	char srcdir[PATH_MAX], dir[PATH_MAX], p1[PATH_MAX], p2[PATH_MAX], tmp[PATH_MAX];
	struct spool_opts o = opts_of(3 * REC(300), 0, SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	size_t len1, len2, cut, i, n, want_recs, boundary, rec_end[4];
	uint64_t seqs[16];
	struct spool_stats st;
	struct spool *sp;
	char *seg1, *seg2;

	src = tmpdir_new("spool");
	hr_strlcpy(srcdir, src, sizeof(srcdir));
	sp = open_ok(srcdir, &o);
	/* 1-3 fill segment 1; 4-6 (of different lengths) are the newest. */
	append_range(sp, 1, 3, 300);
	for (i = 0; i < 3; i++)
		append_range(sp, 4 + i, 4 + i, lens[i]);
	CU_ASSERT_EQUAL(count_segs(srcdir), 2);
	spool_close(sp);
	seg_path(p1, sizeof(p1), srcdir, 1);
	seg_path(p2, sizeof(p2), srcdir, 4);
	seg1 = slurp(p1, &len1);
	seg2 = slurp(p2, &len2);
	rec_end[0] = 0;
	for (i = 1; i <= 3; i++)
		rec_end[i] = rec_end[i - 1] + REC(lens[i - 1]);
	CU_ASSERT_EQUAL_FATAL(len2, rec_end[3]);

	for (cut = 0; cut < len2; cut++) {
		const char *d = tmpdir_new("spool-cut");

		hr_strlcpy(dir, d, sizeof(dir));
		CU_ASSERT_FATAL(write_file(dir, "/0000000000000001.seg", seg1, len1) == 0);
		CU_ASSERT_FATAL(write_file(dir, "/0000000000000004.seg", seg2, cut) == 0);
		for (want_recs = 0; want_recs < 3 && rec_end[want_recs + 1] <= cut; want_recs++)
			;
		boundary = rec_end[want_recs];
		sp = open_ok(dir, &o);
		n = read_all(sp, 0, seqs, 16);
		if (!seqs_are(seqs, n, 1, 3 + want_recs))
			fprintf(stderr, "cut at %zu: %zu records\n", cut, n);
		CU_ASSERT(seqs_are(seqs, n, 1, 3 + want_recs));
		CU_ASSERT_EQUAL(spool_last_seq(sp), 3 + want_recs);
		spool_stats(sp, &st);
		CU_ASSERT_EQUAL(st.torn_bytes, cut - boundary);
		CU_ASSERT_EQUAL(st.dropped_records, 0);
		seg_path(tmp, sizeof(tmp), dir, 4);
		CU_ASSERT_EQUAL(file_size(tmp), want_recs > 0 ? (long)boundary : -1);
		/* The sequence goes on behind the last complete record. */
		gen(10, 50, scratch);
		CU_ASSERT_EQUAL(spool_append(sp, 10, scratch, 50, &err), 0);
		spool_close(sp);
		sp = open_ok(dir, &o);
		n = read_all(sp, 0, seqs, 16);
		CU_ASSERT(n == 4 + want_recs && seqs[n - 1] == 10);
		spool_stats(sp, &st);
		CU_ASSERT(st.torn_bytes == 0 && st.dropped_records == 0);
		spool_close(sp);
		rm_rf(dir);
	}
	free(seg1);
	free(seg2);
	rm_rf(srcdir);
}

/* A flipped byte in a middle record, in each header field and in the
 * payload: the records before it in its segment and all other segments are
 * intact; the rest of that segment is skipped and counted. */
static void test_flipped_byte(void)
{
	static const struct {
		const char *what;
		uint64_t seg;          /* which segment: 1, 4 or 7 (the newest) */
		size_t at;             /* offset in record 2 of that segment */
		uint8_t mask;
	} cases[] = {
		{ "magic", 4, 0, 0x01 },
		{ "version", 4, 4, 0x02 },
		{ "flags", 4, 5, 0x80 },
		{ "length, low", 4, 8, 0x01 },
		{ "length, high", 4, 11, 0x40 },
		{ "length, past the end", 4, 10, 0x01 },
		{ "crc", 4, 13, 0x10 },
		{ "seq", 4, 16, 0x01 },
		{ "seq, high", 4, 23, 0x80 },
		{ "payload", 4, SPOOL_HDR_LEN + 10, 0x04 },
		{ "payload, last byte", 4, SPOOL_HDR_LEN + 99, 0x01 },
		{ "first segment", 1, SPOOL_HDR_LEN + 1, 0x01 },
		{ "newest segment", 7, SPOOL_HDR_LEN + 1, 0x01 },
	};
	struct spool_opts o = opts_of(3 * REC(100), 0, SPOOL_FSYNC_ALWAYS);
	struct hr_err err = { { 0 } };
	char path[PATH_MAX], dir[PATH_MAX];
	uint64_t seqs[16], want[16];
	struct spool_stats st;
	struct spool *sp;
	size_t i, n, nwant;
	long size_before;
	uint64_t s;
	FILE *f;
	int c;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hr_strlcpy(dir, tmpdir_new("spool-flip"), sizeof(dir));
		sp = open_ok(dir, &o);
		append_range(sp, 1, 9, 100);
		spool_close(sp);
		seg_path(path, sizeof(path), dir, cases[i].seg);
		size_before = file_size(path);
		f = fopen(path, "r+b");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fseek(f, (long)(REC(100) + cases[i].at), SEEK_SET);
		c = fgetc(f);
		fseek(f, (long)(REC(100) + cases[i].at), SEEK_SET);
		fputc(c ^ cases[i].mask, f);
		fclose(f);

		sp = open_ok(dir, &o);
		n = read_all(sp, 0, seqs, 16);
		for (nwant = 0, s = 1; s <= 9; s++)
			if (s != cases[i].seg + 1 && s != cases[i].seg + 2)
				want[nwant++] = s;
		CU_ASSERT_EQUAL(n, nwant);
		if (n == nwant)
			CU_ASSERT(memcmp(seqs, want, n * sizeof(*seqs)) == 0);
		spool_stats(sp, &st);
		if (st.dropped_records != 2 || n != nwant)
			fprintf(stderr, "flip in %s: %zu records, %" PRIu64 " dropped\n",
				cases[i].what, n, st.dropped_records);
		CU_ASSERT_EQUAL(st.dropped_records, 2);
		CU_ASSERT_EQUAL(st.dropped_bytes, 2 * REC(100));
		CU_ASSERT_EQUAL(spool_last_seq(sp), 9);
		/* An older segment is left as it was; the newest is cut right
		 * behind its last good record, and appends go on there. */
		CU_ASSERT_EQUAL(file_size(path), cases[i].seg == 7 ? (long)REC(100) : size_before);
		append_range(sp, 10, 10, 100);
		/* Passing the damaged segment's last good record deletes it. */
		CU_ASSERT_EQUAL(spool_ack(sp, 0, cases[i].seg, &err), 0);
		CU_ASSERT_EQUAL(file_size(path), cases[i].seg == 7 ? 2 * (long)REC(100) : -1);
		spool_close(sp);

		/* With the damage gone from the disk, a restart is clean. */
		sp = open_ok(dir, &o);
		n = read_all(sp, 0, seqs, 16);
		CU_ASSERT(n > 0 && seqs[n - 1] == 10);
		spool_stats(sp, &st);
		CU_ASSERT_EQUAL(st.dropped_records, 0);
		spool_close(sp);
		rm_rf(dir);
	}
}

/* A record that goes bad after spool_open is caught when it is read. */
static void test_damage_after_open(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(3 * REC(100), 0, SPOOL_FSYNC_ALWAYS);
	char path[PATH_MAX];
	uint64_t seqs[16];
	struct spool_stats st;
	struct spool *sp;
	FILE *f;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 6, 100);
	seg_path(path, sizeof(path), dir, 1);
	f = fopen(path, "r+b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, REC(100) + SPOOL_HDR_LEN + 50, SEEK_SET);
	fputc('#', f);
	fclose(f);
	CU_ASSERT_EQUAL(read_all(sp, 0, seqs, 16), 4);
	CU_ASSERT(seqs[0] == 1 && seqs[1] == 4 && seqs[3] == 6);
	spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.dropped_records, 2);
	CU_ASSERT_EQUAL(st.records, 4);
	spool_close(sp);
	rm_rf(dir);
}

/* A segment whose name does not match its first record is not trusted. */
static void test_misnamed_segment(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(3 * REC(100), 0, SPOOL_FSYNC_NEVER);
	char from[PATH_MAX], to[PATH_MAX];
	uint64_t seqs[16];
	struct spool_stats st;
	struct spool *sp;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 9, 100);
	spool_close(sp);
	seg_path(from, sizeof(from), dir, 4);
	seg_path(to, sizeof(to), dir, 5);
	CU_ASSERT_EQUAL(rename(from, to), 0);
	CU_ASSERT_EQUAL(write_file(dir, "/notes.seg", "x", 1), 0);   /* not a segment name */
	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(read_all(sp, 0, seqs, 16), 6);
	CU_ASSERT(seqs[2] == 3 && seqs[3] == 7);
	spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.dropped_records, 3);
	CU_ASSERT_EQUAL(file_size(to), -1);                  /* nothing readable: deleted */
	spool_close(sp);
	rm_rf(dir);
}

/* The bound: the oldest segments go first, unacknowledged records are
 * counted, the newest record is always kept. */
static void test_bound(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(3 * REC(100), 9 * REC(100), SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	uint64_t seqs[32];
	struct spool_stats st;
	struct spool *sp;
	size_t n;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 9, 100);
	spool_stats(sp, &st);
	CU_ASSERT(st.bytes == 9 * REC(100) && st.dropped_records == 0);
	/* 1 and 2 are delivered: dropping 1-3 loses only 3. */
	CU_ASSERT_EQUAL(spool_ack(sp, 0, 2, &err), 0);
	append_range(sp, 10, 10, 100);
	spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.dropped_records, 1);
	CU_ASSERT_EQUAL(st.dropped_bytes, REC(100));
	CU_ASSERT(seqs_are(seqs, read_all(sp, 0, seqs, 32), 4, 10));
	append_range(sp, 11, 30, 100);
	spool_stats(sp, &st);
	CU_ASSERT(st.bytes <= 9 * REC(100));
	n = read_all(sp, 0, seqs, 32);
	CU_ASSERT(n > 0 && seqs[n - 1] == 30);
	CU_ASSERT(seqs_are(seqs, n, 31 - n, 30));
	/* Every record appended is either readable or counted. */
	CU_ASSERT_EQUAL(st.dropped_records + n, 30 - 2);
	CU_ASSERT_EQUAL(st.dropped_bytes, st.dropped_records * REC(100));
	CU_ASSERT_EQUAL(st.cursor[0].lag_records, n);
	spool_close(sp);

	/* max_bytes equal to one segment: the active segment itself goes. */
	rm_rf(dir);
	dir = tmpdir_new("spool");
	o = opts_of(3 * REC(100), 3 * REC(100), SPOOL_FSYNC_NEVER);
	sp = open_ok(dir, &o);
	append_range(sp, 1, 7, 100);
	n = read_all(sp, 0, seqs, 32);
	CU_ASSERT(seqs_are(seqs, n, 7, 7));
	spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.dropped_records, 6);
	CU_ASSERT_EQUAL(count_segs(dir), 1);
	spool_close(sp);
	rm_rf(dir);
}

/* --- crashes ------------------------------------------------------------ */

/* Appends crash_len(seq)-byte records forever and reports each seq on wfd
 * after spool_append returned. Never returns. */
static void crash_writer(const char *dir, enum spool_fsync f, int wfd)
{
	struct spool_opts o = opts_of(64 << 10, 0, f);
	struct hr_err err;
	struct spool *sp;
	uint64_t s;

	sp = spool_open(dir, &o, &err);
	if (sp == NULL) {
		fprintf(stderr, "writer: %s\n", err.msg);
		_exit(2);
	}
	for (s = spool_last_seq(sp) + 1; ; s++) {
		gen(s, crash_len(s), scratch);
		if (spool_append(sp, s, scratch, crash_len(s), &err) < 0) {
			fprintf(stderr, "writer: %s\n", err.msg);
			_exit(3);
		}
		if (write(wfd, &s, sizeof(s)) != sizeof(s))
			_exit(4);
	}
}

static void test_kill9(void)
{
	const char *dir = tmpdir_new("spool-crash");
	struct spool_opts o = opts_of(64 << 10, 0, SPOOL_FSYNC_ALWAYS);
	struct spool_stats st;
	uint64_t torn = 0;
	struct hr_err err = { { 0 } };
	struct spool_batch b;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	uint64_t reported = 0, r, acked = 0, expect;
	struct spool *sp;
	int round, fds[2], status, n, i, ok;
	pid_t pid;

	srand(seed);
	for (round = 0; round < 16; round++) {
		CU_ASSERT_FATAL(pipe(fds) == 0);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			/* A kill keeps the page cache: without fsync too,
			 * every append that returned must be there. Those
			 * rounds spend their time writing, not syncing, so
			 * kills land inside writes (torn records). */
			crash_writer(dir, round % 2 ? SPOOL_FSYNC_NEVER : SPOOL_FSYNC_ALWAYS, fds[1]);
		}
		close(fds[1]);
		/* Let it write a while: 5 to 60 ms, or until it has done a few
		 * appends, then kill it in the middle of whatever it does. */
		usleep((useconds_t)(5000 + rand() % 55000));
		kill(pid, SIGKILL);
		CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		while (read(fds[0], &r, sizeof(r)) == sizeof(r))
			reported = r;
		close(fds[0]);

		sp = open_ok(dir, &o);
		n = spool_peek(sp, 0, 0, 0, &b, &err);
		CU_ASSERT_FATAL(n >= 0);
		/* Nothing misread, nothing lost: the records follow the last
		 * acknowledged one without a gap, and reach at least the last
		 * seq whose append returned. */
		ok = 1;
		expect = acked + 1;
		for (i = 0; i < n; i++) {
			if (b.recs[i].seq != expect || b.recs[i].len != crash_len(expect) ||
			    !rec_ok(&b.recs[i]))
				ok = 0;
			expect++;
		}
		if (!ok || expect - 1 < reported)
			fprintf(stderr, "round %d (seed %u): %d records after %" PRIu64
				", last %" PRIu64 ", reported %" PRIu64 "\n",
				round, seed, n, acked, expect - 1, reported);
		CU_ASSERT(ok);
		CU_ASSERT(expect - 1 >= reported);
		CU_ASSERT(spool_last_seq(sp) == expect - 1);
		spool_stats(sp, &st);
		CU_ASSERT_EQUAL(st.dropped_records, 0);
		torn += st.torn_bytes;
		/* Deliver about half, so that segments also get deleted
		 * between crashes. */
		if (n > 1) {
			acked = b.recs[n / 2].seq;
			CU_ASSERT_EQUAL(spool_ack(sp, 0, acked, &err), 0);
		}
		spool_batch_free(&b);
		spool_close(sp);
	}
	CU_ASSERT(reported > 0);
	if (getenv("SPOOL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "kill -9: %" PRIu64 " records, %" PRIu64 " torn bytes cut\n",
			reported, torn);
	rm_rf(dir);
}

/* --- refusals ----------------------------------------------------------- */

static void test_not_writable(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(0, 0, SPOOL_FSYNC_ALWAYS);
	struct hr_err err = { { 0 } };
	char path[PATH_MAX];

	/* A path under a regular file fails even for root. */
	CU_ASSERT_EQUAL(write_file(dir, "/file", "x", 1), 0);
	snprintf(path, sizeof(path), "%s/file/spool", dir);
	CU_ASSERT_PTR_NULL(spool_open(path, &o, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Not a directory"));
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/ro", dir);
		CU_ASSERT_EQUAL(mkdir(path, 0500), 0);
		CU_ASSERT_PTR_NULL(spool_open(path, &o, &err));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Permission denied"));
	}
	CU_ASSERT_PTR_NULL(spool_open("", &o, &err));
	rm_rf(dir);
}

static void test_locked(void)
{
	const char *dir = tmpdir_new("spool");
	struct spool_opts o = opts_of(0, 0, SPOOL_FSYNC_NEVER);
	struct hr_err err = { { 0 } };
	struct spool *sp, *sp2;

	sp = open_ok(dir, &o);
	append_range(sp, 1, 3, 10);
	sp2 = spool_open(dir, &o, &err);
	CU_ASSERT_PTR_NULL(sp2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "in use by another process"));
	spool_close(sp2);
	spool_close(sp);
	sp = open_ok(dir, &o);
	CU_ASSERT_EQUAL(spool_last_seq(sp), 3);
	spool_close(sp);
	rm_rf(dir);
}

static void test_bad_opts(void)
{
	static const struct {
		size_t ncursors;
		const char *names[3];
		uint32_t segment_bytes;
		uint64_t max_bytes;
		int fsync;
		const char *msg;
	} cases[] = {
		{ 0, { NULL }, 0, 0, 0, "0 cursors" },
		{ 9, { "a" }, 0, 0, 0, "9 cursors" },
		{ 1, { "" }, 0, 0, 0, "bad name" },
		{ 1, { NULL }, 0, 0, 0, "bad name" },
		{ 1, { ".hidden" }, 0, 0, 0, "bad name" },
		{ 1, { "../x" }, 0, 0, 0, "bad name" },
		{ 1, { "a b" }, 0, 0, 0, "bad name" },
		{ 1, { "12345678901234567890123456789012345678901234567890123456789012345" }, 0, 0, 0,
		  "bad name" },
		{ 2, { "same", "same" }, 0, 0, 0, "given twice" },
		{ 1, { "a" }, 8192, 4096, 0, "below the segment size" },
		{ 1, { "a" }, 10, 0, 0, "out of range" },
		{ 1, { "a" }, (1u << 30) + 1, 0, 0, "out of range" },
		{ 1, { "a" }, 0, 0, 7, "unknown fsync policy" },
	};
	const char *dir = tmpdir_new("spool");
	struct hr_err err;
	struct spool_opts o;
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&o, 0, sizeof(o));
		memset(&err, 0, sizeof(err));
		o.ncursors = cases[i].ncursors;
		for (j = 0; j < 3 && j < SPOOL_MAX_CURSORS; j++)
			o.cursor_names[j] = cases[i].names[j];
		o.segment_bytes = cases[i].segment_bytes;
		o.max_bytes = cases[i].max_bytes;
		o.fsync = (enum spool_fsync)cases[i].fsync;
		CU_ASSERT_PTR_NULL(spool_open(dir, &o, &err));
		if (strstr(err.msg, cases[i].msg) == NULL)
			fprintf(stderr, "case %zu: want \"%s\", got \"%s\"\n", i, cases[i].msg, err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].msg));
	}
	/* A 64-byte name is the longest allowed. */
	o = opts_of(0, 0, SPOOL_FSYNC_NEVER);
	o.cursor_names[0] = "1234567890123456789012345678901234567890123456789012345678901234";
	spool_close(open_ok(dir, &o));
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "record format and CRC-32C", test_format },
	{ "spool_scan", test_scan },
	{ "append, peek, ack", test_round_trip },
	{ "empty payload", test_empty_payload },
	{ "coalescing", test_coalescing },
	{ "seq must grow", test_seq_monotonic },
	{ "record longer than a segment", test_oversized_record },
	{ "ack that cannot be written", test_ack_not_persisted },
	{ "write cut short", test_short_write },
	{ "two cursors", test_two_cursors },
	{ "restart resumes each cursor", test_restart },
	{ "last_seq survives an empty spool", test_last_seq_persists },
	{ "torn tail at every offset", test_truncate_every_offset },
	{ "flipped byte", test_flipped_byte },
	{ "damage after open", test_damage_after_open },
	{ "misnamed segment", test_misnamed_segment },
	{ "max_bytes bound", test_bound },
	{ "kill -9 while appending", test_kill9 },
	{ "folder not writable", test_not_writable },
	{ "one process per spool", test_locked },
	{ "bad options", test_bad_opts },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("spool", tests);
}
