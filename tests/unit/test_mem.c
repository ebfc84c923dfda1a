/* test_mem.c: the mem probe against every real /proc/meminfo capture of
 * tests/fixtures/proc (modern, partial, missing fields, Linux 2.4's table
 * header), both fixture roots, and broken files in a temporary folder. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "schema.h"
#include "testutil.h"
#include "util.h"

#define KB 1024.0

/* Values in kB as the files state them (procfs's are the ones TestMeminfo
 * states in corpus/proc/expected.json); -1: the file lacks the field. */
static const struct {
	const char *file;
	double total, available, swap_total, swap_free;
} corpus[] = {
	{ "/meminfo/procfs_meminfo", 15666184, -1, 0, 0 },
	{ "/meminfo/node_exporter_meminfo", 3742148, -1, 4194300, 3155360 },
	{ "/meminfo/gopsutil_anonhugepages_meminfo_partial", 260799420, 127880216, -1, -1 },
	{ "/meminfo/gopsutil_intelcorei5_meminfo", 16115528, 11225936, 8065020, 8065020 },
	{ "/meminfo/gopsutil_issue1002_meminfo_legacy_2.4_header", 254472, 210156, 0, 0 },
	{ "/meminfo/sysstat_root1_meminfo", 8144960, 4389516, 16777212, 16777212 },
	{ "/meminfo/telegraf_missing_fields_meminfo", 16201888, 14221924, 4194300, 4186844 },
	{ "/meminfo/telegraf_normal_meminfo", 16201888, 14221924, 4194300, 4186844 },
};

static void check_sample(const struct hr_sample *s, double total, double avail, double swap_total,
			 double swap_free)
{
	size_t n = 0;

	if (total >= 0) {
		ASSERT_VAL(s, "total", total * KB);
		n++;
	} else {
		ASSERT_NO_VAL(s, "total");
	}
	if (avail >= 0) {
		ASSERT_VAL(s, "available", avail * KB);
		n++;
	} else {
		ASSERT_NO_VAL(s, "available");
	}
	/* used = total - available, and only when both are known: never a
	 * guess from MemFree + Cached. */
	if (total >= 0 && avail >= 0) {
		ASSERT_VAL(s, "used", (total - avail) * KB);
		n++;
	} else {
		ASSERT_NO_VAL(s, "used");
	}
	if (swap_total >= 0) {
		ASSERT_VAL(s, "swap_total", swap_total * KB);
		n++;
	} else {
		ASSERT_NO_VAL(s, "swap_total");
	}
	if (swap_total >= 0 && swap_free >= 0) {
		ASSERT_VAL(s, "swap_used", (swap_total - swap_free) * KB);
		n++;
	} else {
		ASSERT_NO_VAL(s, "swap_used");
	}
	CU_ASSERT_EQUAL(s->nvalues, n);
}

static void test_parse_corpus(void)
{
	size_t i;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		struct hr_err err = { { 0 } };
		struct mem_info m;
		char *buf = NULL;
		size_t len;

		CU_ASSERT_FATAL(hr_read_file(fixture("proc"), corpus[i].file, &buf, &len,
					     HR_FILE_CAP, &err) == 0);
		CU_ASSERT_EQUAL(mem_parse_meminfo(buf, len, &m, &err), 0);
		CU_ASSERT_EQUAL((double)m.total, corpus[i].total * KB);
		CU_ASSERT_EQUAL(!!(m.have & MEM_HAVE_AVAILABLE), corpus[i].available >= 0);
		if (corpus[i].available >= 0) {
			CU_ASSERT_EQUAL((double)m.available, corpus[i].available * KB);
		}
		CU_ASSERT_EQUAL(!!(m.have & MEM_HAVE_SWAP_TOTAL), corpus[i].swap_total >= 0);
		CU_ASSERT_EQUAL(!!(m.have & MEM_HAVE_SWAP_FREE), corpus[i].swap_free >= 0);
		if (corpus[i].swap_free >= 0) {
			CU_ASSERT_EQUAL((double)m.swap_total, corpus[i].swap_total * KB);
			CU_ASSERT_EQUAL((double)m.swap_free, corpus[i].swap_free * KB);
		}
		free(buf);
	}
}

static void test_probe_corpus(void)
{
	size_t i;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const char *root = tmpdir_new("mem");
		struct hr_recsink rec;
		const struct hr_sample *s;
		struct hr_err err;
		char *buf = NULL;
		size_t len;

		CU_ASSERT_FATAL(hr_read_file(fixture("proc"), corpus[i].file, &buf, &len,
					     HR_FILE_CAP, &err) == 0);
		CU_ASSERT_EQUAL(write_file(root, "/proc/meminfo", buf, len), 0);
		free(buf);
		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_mem, root, NULL, &rec), 0);
		CU_ASSERT_EQUAL(rec.count, 1);
		s = hr_recsink_find(&rec, "mem", "");
		CU_ASSERT_FATAL(s != NULL);
		check_sample(s, corpus[i].total, corpus[i].available, corpus[i].swap_total,
			     corpus[i].swap_free);
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

/* Neither fixture root's meminfo has MemAvailable: available and used are
 * left out, the rest is there. */
static void test_fixture_roots(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_mem, fixture("node_exporter/root"), NULL, &rec), 0);
	s = hr_recsink_find(&rec, "mem", "");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->t, 0);
	check_sample(s, 3742148, -1, 4194300, 3155360);
	hr_recsink_clear(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_mem, fixture("procfs/root"), NULL, &rec), 0);
	s = hr_recsink_find(&rec, "mem", "");
	CU_ASSERT_FATAL(s != NULL);
	check_sample(s, 15666184, -1, 0, 0);
	hr_recsink_free(&rec);
}

/* Linux 2.4 printed a byte table first; with no key lines it alone gives
 * total and swap, and never an "available". */
static const char table_only[] =
	"        total:    used:    free:  shared: buffers:  cached:\n"
	"Mem:  260579328 136073216 124506112        0  4915200 94064640\n"
	"Swap:  1048576   262144   786432\n";

static void test_parse_variants(void)
{
	static const struct {
		const char *text;
		int rc;
		unsigned have;
		uint64_t total, available, swap_total, swap_free; /* bytes */
	} cases[] = {
		{ table_only, 0, MEM_HAVE_TOTAL | MEM_HAVE_SWAP_TOTAL | MEM_HAVE_SWAP_FREE,
		  260579328, 0, 1048576, 786432 },
		/* key lines win over the table */
		{ "        total:    used:    free:\nMem:  2048 1024 1024\nSwap: 4096 0 4096\n"
		  "MemTotal: 1 kB\nSwapTotal: 2 kB\nSwapFree: 1 kB\n", 0,
		  MEM_HAVE_TOTAL | MEM_HAVE_SWAP_TOTAL | MEM_HAVE_SWAP_FREE, 1024, 0, 2048, 1024 },
		{ "Mem: x y z\n", 0, 0, 0, 0, 0, 0 },
		{ "Swap: 1 2\n", 0, 0, 0, 0, 0, 0 },
		{ "MemTotal: 100 kB", 0, MEM_HAVE_TOTAL, 102400, 0, 0, 0 },
		{ "MemTotal:\t100 kB\n", 0, MEM_HAVE_TOTAL, 102400, 0, 0, 0 },
		{ "MemTotal:100 kB\n", 0, MEM_HAVE_TOTAL, 102400, 0, 0, 0 },
		/* the first of repeated keys counts */
		{ "MemTotal: 100 kB\nMemTotal: 200 kB\n", 0, MEM_HAVE_TOTAL, 102400, 0, 0, 0 },
		{ "MemTotal: abc kB\nMemAvailable: 50 kB\n", -1, MEM_HAVE_AVAILABLE, 0, 51200, 0, 0 },
		{ "MemTotal: 100 MB\n", -1, 0, 0, 0, 0, 0 },
		{ "MemTotal: 100\n", -1, 0, 0, 0, 0, 0 },
		{ "MemTotal: 100 kB extra\n", -1, 0, 0, 0, 0, 0 },
		{ "MemTotal: -100 kB\n", -1, 0, 0, 0, 0, 0 },
		{ "MemTotal: 18014398509481984 kB\n", -1, 0, 0, 0, 0, 0 }, /* overflows bytes */
		{ "MemTotal: 18014398509481983 kB\n", 0, MEM_HAVE_TOTAL, 18014398509481983ull * 1024, 0, 0, 0 },
		{ "MemTotal: 100 kB\nSwapTotal: x kB\nSwapFree: 0 kB\n", -1,
		  MEM_HAVE_TOTAL | MEM_HAVE_SWAP_FREE, 102400, 0, 0, 0 },
		{ "memtotal: 100 kB\nMemTotal : 100 kB\n MemTotal: 100 kB\n", 0, 0, 0, 0, 0, 0 },
		{ "garbage without colon\n\n:\n::::\n", 0, 0, 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		struct mem_info m;
		int rc = mem_parse_meminfo(cases[i].text, strlen(cases[i].text), &m, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_EQUAL(m.have, cases[i].have);
		if (m.have & MEM_HAVE_TOTAL) {
			CU_ASSERT_EQUAL(m.total, cases[i].total);
		}
		if (m.have & MEM_HAVE_AVAILABLE) {
			CU_ASSERT_EQUAL(m.available, cases[i].available);
		}
		if (m.have & MEM_HAVE_SWAP_TOTAL) {
			CU_ASSERT_EQUAL(m.swap_total, cases[i].swap_total);
		}
		if (m.have & MEM_HAVE_SWAP_FREE) {
			CU_ASSERT_EQUAL(m.swap_free, cases[i].swap_free);
		}
		if (rc < 0) {
			CU_ASSERT(err.msg[0] != '\0');
		}
		if (rc != cases[i].rc || m.have != cases[i].have)
			fprintf(stderr, "case %zu: rc %d have %#x\n", i, rc, m.have);
	}
}

/* Through the probe: what can be reported is; contradictions are left out
 * rather than reported as nonsense; nothing at all fails the read. */
static void test_broken_roots(void)
{
	static const struct {
		const char *meminfo; /* NULL: absent */
		int rc;
		double total, avail, swap_total, swap_free; /* kB; -1: left out */
	} cases[] = {
		{ NULL, -1, -1, -1, -1, -1 },
		{ "", -1, -1, -1, -1, -1 },
		{ "\x01\x02\x03 garbage\n", -1, -1, -1, -1, -1 },
		{ "MemFree: 5 kB\nCached: 7 kB\n", -1, -1, -1, -1, -1 },
		{ table_only, 0, 254472, -1, 1024, 768 },
		{ "MemTotal: 1000 kB\nMemAvailable: 400 kB\n", 0, 1000, 400, -1, -1 },
		{ "MemTotal: x kB\nMemAvailable: 400 kB\nSwapTotal: 10 kB\nSwapFree: 4 kB\n",
		  0, -1, 400, 10, 4 },
		{ "MemTotal: 1000 kB\nMemAvailable: 400 kB\nSwapTotal: 10 kB\n", 0, 1000, 400, 10, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *root = tmpdir_new("mem");
		struct hr_recsink rec;
		const struct hr_sample *s;

		hr_recsink_init(&rec);
		if (cases[i].meminfo != NULL)
			CU_ASSERT_EQUAL(write_file(root, "/proc/meminfo", cases[i].meminfo,
						   strlen(cases[i].meminfo)), 0);
		CU_ASSERT_EQUAL(run_probe(&probe_mem, root, NULL, &rec), cases[i].rc);
		s = hr_recsink_find(&rec, "mem", "");
		if (cases[i].rc < 0) {
			CU_ASSERT_EQUAL(rec.count, 0);
		} else {
			CU_ASSERT_FATAL(s != NULL);
			check_sample(s, cases[i].total, cases[i].avail, cases[i].swap_total,
				     cases[i].swap_free);
		}
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

/* MemAvailable above MemTotal, SwapFree above SwapTotal: the derived used
 * values would be negative, so they are left out; the raw ones stay. */
static void test_contradictions(void)
{
	static const char text[] =
		"MemTotal: 1000 kB\nMemAvailable: 2000 kB\nSwapTotal: 10 kB\nSwapFree: 20 kB\n";
	const char *root = tmpdir_new("mem");
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(write_file(root, "/proc/meminfo", text, strlen(text)), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_mem, root, NULL, &rec), 0);
	s = hr_recsink_find(&rec, "mem", "");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "total", 1000 * KB);
	ASSERT_VAL(s, "available", 2000 * KB);
	ASSERT_VAL(s, "swap_total", 10 * KB);
	ASSERT_NO_VAL(s, "used");
	ASSERT_NO_VAL(s, "swap_used");
	CU_ASSERT_EQUAL(s->nvalues, 3);
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Contradictions and missing fields repeat every interval: each is logged
 * once, not once per read. */
static void test_complain_once(void)
{
	static const char text[] =
		"MemTotal: 1000 kB\nMemAvailable: 2000 kB\nSwapTotal: 10 kB\nSwapFree: 20 kB\n";
	static const char partial[] = "MemTotal: 1000 kB\nMemAvailable: 400 kB\n";
	const char *root = tmpdir_new("mem");

	CU_ASSERT_EQUAL(write_file(root, "/proc/meminfo", text, strlen(text)), 0);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_mem, root, NULL, 4, "MemAvailable 2000 kB exceeds"), 1);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_mem, root, NULL, 4, "SwapFree 20 kB exceeds"), 1);
	CU_ASSERT_EQUAL(write_file(root, "/proc/meminfo", partial, strlen(partial)), 0);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_mem, root, NULL, 4, "missing SwapTotal SwapFree"), 1);
	rm_rf(root);
}

/* mem values are levels, and the archive keeps their minimum too. */
static void test_schema(void)
{
	CU_ASSERT_EQUAL(hr_schema_kind("mem", "available"), HR_GAUGE);
	CU_ASSERT_EQUAL(hr_schema_kind("mem", "used"), HR_GAUGE);
	CU_ASSERT(hr_schema_keep_min("mem"));
}

static void test_config(void)
{
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_mem, fixture("procfs/root"), "{\"interval\": \"1m\"}", &rec), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_mem, fixture("procfs/root"), "{\"hugepages\": true}", &rec), -2);
	CU_ASSERT_EQUAL(run_probe(&probe_mem, fixture("procfs/root"), "3", &rec), -2);
	CU_ASSERT_STRING_EQUAL(probe_mem.name, "mem");
	CU_ASSERT_EQUAL(probe_mem.core, 1);
	hr_recsink_free(&rec);
}

static CU_TestInfo tests[] = {
	{ "parse every meminfo capture", test_parse_corpus },
	{ "probe on every meminfo capture", test_probe_corpus },
	{ "fixture roots", test_fixture_roots },
	{ "legacy table, units, garbled lines", test_parse_variants },
	{ "missing, empty and garbled files", test_broken_roots },
	{ "contradicting values", test_contradictions },
	{ "complain once", test_complain_once },
	{ "values are levels", test_schema },
	{ "config", test_config },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("mem", tests);
}
