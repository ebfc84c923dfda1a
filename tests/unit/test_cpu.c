/* test_cpu.c: the cpu probe against every real /proc/stat capture of
 * tests/fixtures/proc, both fixture roots, old kernels' shorter lines, and
 * missing, empty and garbled files written into a temporary folder. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "schema.h"
#include "testutil.h"
#include "util.h"

#define ALL_COLS ((1u << CPU_NCOLS) - 1)

/* The aggregate "cpu" line of each capture, in ticks. procfs's user value
 * 301854 is the one TestStat states (corpus/proc/expected.json); the rest
 * are read off the files. sysstat's idle drops from root3 to root4 on
 * purpose (hand-edited): the probe reports it as it is. */
static const struct {
	const char *file;
	uint64_t t[CPU_NCOLS];
} corpus[] = {
	{ "/stat/gopsutil_424_stat_4cpu", { 23644, 6695, 4764, 134931750, 22115, 0, 473, 5892 } },
	{ "/stat/node_exporter_stat", { 301854, 612, 111922, 8979004, 3552, 2, 3944, 0 } },
	{ "/stat/procfs_stat_8cpu", { 301854, 612, 111922, 8979004, 3552, 2, 3944, 0 } },
	{ "/stat/sysstat_root1_stat", { 96005, 2578701, 53845, 3617879, 60648, 27891, 25853, 0 } },
	{ "/stat/sysstat_root2_stat", { 96538, 2581805, 54302, 3638469, 60677, 27975, 25897, 0 } },
	{ "/stat/sysstat_root3_stat", { 97026, 2584918, 54676, 3659199, 60803, 28037, 25936, 0 } },
	{ "/stat/sysstat_root4_stat", { 97950, 2588753, 55287, 2972972, 58263, 28142, 26025, 0 } },
	{ "/stat/sysstat_root5_stat", { 99497, 2590985, 56814, 2987296, 58317, 28246, 26106, 100 } },
	{ "/stat/telegraf_kernel_stat_file_full", { 6796, 252, 5655, 10444977, 175, 0, 101, 0 } },
};

static double hz(void)
{
	return (double)sysconf(_SC_CLK_TCK);
}

static void test_parse_corpus(void)
{
	size_t i, c;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		struct hr_err err = { { 0 } };
		struct cpu_ticks t;
		char *buf = NULL;
		size_t len;

		CU_ASSERT_FATAL(hr_read_file(fixture("proc"), corpus[i].file, &buf, &len,
					     HR_FILE_CAP, &err) == 0);
		CU_ASSERT_EQUAL(cpu_parse_stat(buf, len, &t, &err), 0);
		CU_ASSERT_EQUAL(t.have, ALL_COLS);
		for (c = 0; c < CPU_NCOLS; c++)
			CU_ASSERT_EQUAL(t.ticks[c], corpus[i].t[c]);
		free(buf);
	}
}

/* The probe on a root holding each capture: seconds = ticks / USER_HZ. */
static void test_probe_corpus(void)
{
	size_t i, c;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		const char *root = tmpdir_new("cpu");
		struct hr_recsink rec;
		const struct hr_sample *s;
		struct hr_err err;
		char *buf = NULL;
		size_t len;

		CU_ASSERT_FATAL(hr_read_file(fixture("proc"), corpus[i].file, &buf, &len,
					     HR_FILE_CAP, &err) == 0);
		CU_ASSERT_EQUAL(write_file(root, "/proc/stat", buf, len), 0);
		free(buf);
		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_cpu, root, NULL, &rec), 0);
		CU_ASSERT_EQUAL(rec.count, 1);
		s = hr_recsink_find(&rec, "cpu", "");
		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT_EQUAL(s->nvalues, CPU_NCOLS);
		for (c = 0; c < CPU_NCOLS; c++)
			ASSERT_VAL(s, cpu_col_names[c], (double)corpus[i].t[c] / hz());
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

static void test_fixture_roots(void)
{
	static const char *const roots[] = { "node_exporter/root", "procfs/root" };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct hr_recsink rec;
		const struct hr_sample *s;

		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_cpu, fixture(roots[i]), NULL, &rec), 0);
		s = hr_recsink_find(&rec, "cpu", "");
		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT_EQUAL(s->t, 0);
		CU_ASSERT_EQUAL(s->nvalues, 8);
		ASSERT_VAL(s, "user", 301854 / hz());
		ASSERT_VAL(s, "nice", 612 / hz());
		ASSERT_VAL(s, "system", 111922 / hz());
		ASSERT_VAL(s, "idle", 8979004 / hz());
		ASSERT_VAL(s, "iowait", 3552 / hz());
		ASSERT_VAL(s, "irq", 2 / hz());
		ASSERT_VAL(s, "softirq", 3944 / hz());
		ASSERT_VAL(s, "steal", 0.0);
		hr_recsink_free(&rec);
	}
}

/* Old kernels print fewer columns (proc.rst: iowait since 2.5.41, irq and
 * softirq since 2.6.0, steal since 2.6.11): the missing ones are left out.
 * Garbled columns are skipped without shifting the others. */
static void test_parse_variants(void)
{
	static const struct {
		const char *text;
		int rc;
		unsigned have;
		uint64_t user, idle, steal;
	} cases[] = {
		{ "cpu  100 200 300 400\n", 0, 0x0f, 100, 400, 0 },                 /* 2.4 */
		{ "cpu  100 200 300 400 5\n", 0, 0x1f, 100, 400, 0 },               /* 2.5.41 */
		{ "cpu  100 200 300 400 5 6 7\n", 0, 0x7f, 100, 400, 0 },           /* 2.6.0 */
		{ "cpu  100 200 300 400 5 6 7 8 9 10\n", 0, ALL_COLS, 100, 400, 8 },
		{ "cpu 100 200 300 400 5 6 7 8", 0, ALL_COLS, 100, 400, 8 },       /* no newline */
		{ "cpu\t100\t200 300 400\n", 0, 0x0f, 100, 400, 0 },
		/* cpuN lines before the aggregate are not mistaken for it */
		{ "cpu0 1 1 1 1\ncpu  100 200 300 400\n", 0, 0x0f, 100, 400, 0 },
		{ "intr 5\ncpu  100 200 300 400\nctxt 3\n", 0, 0x0f, 100, 400, 0 },
		/* the first aggregate line counts */
		{ "cpu  100 200 300 400\ncpu  1 2 3 4\n", 0, 0x0f, 100, 400, 0 },
		{ "cpu  100 x 300 400 5 6 7 8\n", -1, ALL_COLS & ~0x02u, 100, 400, 8 },
		{ "cpu  -1 200 300 400\n", -1, 0x0e, 0, 400, 0 },
		{ "cpu  100 200 300 99999999999999999999999\n", -1, 0x07, 100, 0, 0 },
		{ "cpu  1.5 200 300 400\n", -1, 0x0e, 0, 400, 0 },
		{ "cpu\n", -1, 0, 0, 0, 0 },
		{ "cpu0 1 2 3 4\n", -1, 0, 0, 0, 0 },
		{ "cpufreq 1 2 3\n", -1, 0, 0, 0, 0 },
		{ "", -1, 0, 0, 0, 0 },
		{ "\n\n\n", -1, 0, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		struct cpu_ticks t;
		int rc = cpu_parse_stat(cases[i].text, strlen(cases[i].text), &t, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_EQUAL(t.have, cases[i].have);
		if (t.have & (1u << CPU_USER)) {
			CU_ASSERT_EQUAL(t.ticks[CPU_USER], cases[i].user);
		}
		if (t.have & (1u << CPU_IDLE)) {
			CU_ASSERT_EQUAL(t.ticks[CPU_IDLE], cases[i].idle);
		}
		if (t.have & (1u << CPU_STEAL)) {
			CU_ASSERT_EQUAL(t.ticks[CPU_STEAL], cases[i].steal);
		}
		if (rc < 0) {
			CU_ASSERT(err.msg[0] != '\0');
		}
		if (rc != cases[i].rc || t.have != cases[i].have)
			fprintf(stderr, "case %zu: rc %d have %#x\n", i, rc, t.have);
	}
}

/* Through the probe: an old kernel's line yields only its columns; missing,
 * empty and garbled files give no sample and a failed read. */
static void test_broken_roots(void)
{
	static const struct {
		const char *stat; /* NULL: absent */
		int rc;
		size_t nvalues;
	} cases[] = {
		{ NULL, -1, 0 },
		{ "", -1, 0 },
		{ "garbage\x01\x02\n", -1, 0 },
		{ "cpu x y z\n", -1, 0 },
		{ "cpu  100 200 300 400\n", 0, 4 },
		{ "cpu  100 200 x 400 5 6 7 8\n", 0, 7 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *root = tmpdir_new("cpu");
		struct hr_recsink rec;
		const struct hr_sample *s;

		hr_recsink_init(&rec);
		if (cases[i].stat != NULL)
			CU_ASSERT_EQUAL(write_file(root, "/proc/stat", cases[i].stat,
						   strlen(cases[i].stat)), 0);
		CU_ASSERT_EQUAL(run_probe(&probe_cpu, root, NULL, &rec), cases[i].rc);
		s = hr_recsink_find(&rec, "cpu", "");
		if (cases[i].rc < 0) {
			CU_ASSERT_EQUAL(rec.count, 0);
		} else {
			CU_ASSERT_FATAL(s != NULL);
			CU_ASSERT_EQUAL(s->nvalues, cases[i].nvalues);
			ASSERT_VAL(s, "user", 100 / hz());
			ASSERT_VAL(s, "idle", 400 / hz());
			if (cases[i].nvalues == 4) {
				ASSERT_VAL(s, "system", 300 / hz());
				ASSERT_NO_VAL(s, "iowait");
				ASSERT_NO_VAL(s, "steal");
			} else {
				ASSERT_NO_VAL(s, "system");
				ASSERT_VAL(s, "steal", 8 / hz());
			}
		}
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

/* cpu values are counters: the archive stores their rate. */
static void test_schema(void)
{
	size_t c;

	for (c = 0; c < CPU_NCOLS; c++)
		CU_ASSERT_EQUAL(hr_schema_kind("cpu", cpu_col_names[c]), HR_COUNTER);
}

static void test_config(void)
{
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_cpu, fixture("procfs/root"), "{\"interval\": 30}", &rec), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_cpu, fixture("procfs/root"), "{\"user_hz\": 100}", &rec), -2);
	CU_ASSERT_EQUAL(run_probe(&probe_cpu, fixture("procfs/root"), "\"x\"", &rec), -2);
	CU_ASSERT_STRING_EQUAL(probe_cpu.name, "cpu");
	CU_ASSERT_EQUAL(probe_cpu.core, 1);
	hr_recsink_free(&rec);
}

static CU_TestInfo tests[] = {
	{ "parse every stat capture", test_parse_corpus },
	{ "probe on every stat capture", test_probe_corpus },
	{ "fixture roots", test_fixture_roots },
	{ "old kernels and garbled lines", test_parse_variants },
	{ "missing, empty and garbled files", test_broken_roots },
	{ "values are counters", test_schema },
	{ "config", test_config },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("cpu", tests);
}
