/* test_load.c: the load probe against the real /proc/loadavg and /proc/stat
 * captures of tests/fixtures/proc, both fixture roots, and broken roots
 * written into a temporary folder. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "testutil.h"
#include "util.h"

/* Reads tests/fixtures/proc/REL into a new buffer (caller frees). */
static char *load_fixture(const char *rel, size_t *len)
{
	struct hr_err err;
	char *buf = NULL;

	if (hr_read_file(fixture("proc"), rel, &buf, len, HR_FILE_CAP, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return NULL;
	}
	return buf;
}

/* Every loadavg capture; procfs's values are the ones TestLoadAvg states
 * (corpus/proc/expected.json), the others are read off the files. */
static void test_loadavg_corpus(void)
{
	static const struct {
		const char *file;
		double l1, l5, l15;
		double running, total;
	} cases[] = {
		{ "/loadavg/procfs_loadavg", 0.02, 0.04, 0.05, 1, 497 },
		{ "/loadavg/node_exporter_loadavg", 0.21, 0.37, 0.39, 1, 719 },
		{ "/loadavg/sysstat_root1_loadavg", 3.16, 3.24, 3.43, 4, 956 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		struct load_avg a;
		size_t len;
		char *buf = load_fixture(cases[i].file, &len);

		CU_ASSERT_FATAL(buf != NULL);
		CU_ASSERT_EQUAL(load_parse_loadavg(buf, len, &a, &err), 0);
		CU_ASSERT_EQUAL(a.have, LOAD_HAVE_ALL);
		CU_ASSERT_DOUBLE_EQUAL(a.load1, cases[i].l1, 1e-12);
		CU_ASSERT_DOUBLE_EQUAL(a.load5, cases[i].l5, 1e-12);
		CU_ASSERT_DOUBLE_EQUAL(a.load15, cases[i].l15, 1e-12);
		CU_ASSERT_EQUAL((double)a.procs_running, cases[i].running);
		CU_ASSERT_EQUAL((double)a.procs_total, cases[i].total);
		free(buf);
	}
}

/* Broken loadavg text: what was understood stays, the rest is skipped. */
static void test_loadavg_broken(void)
{
	static const struct {
		const char *text;
		int rc;
		unsigned have;
	} cases[] = {
		{ "", -1, 0 },
		{ "\n", -1, 0 },
		{ "0.21 0.3", -1, LOAD_HAVE_LOAD1 | LOAD_HAVE_LOAD5 },
		{ "0.21 0.37 0.39", -1, LOAD_HAVE_LOAD1 | LOAD_HAVE_LOAD5 | LOAD_HAVE_LOAD15 },
		{ "0.21 abc 0.39 1/719 19737\n", -1, LOAD_HAVE_ALL & ~LOAD_HAVE_LOAD5 },
		{ "0.21 -1 0.39 1/719 19737\n", -1, LOAD_HAVE_ALL & ~LOAD_HAVE_LOAD5 },
		{ "nan inf 0x10 1/719 19737\n", -1, LOAD_HAVE_RUNNING | LOAD_HAVE_TOTAL },
		{ "0.21 0.37 0.39 1719 19737\n", -1, LOAD_HAVE_LOAD1 | LOAD_HAVE_LOAD5 | LOAD_HAVE_LOAD15 },
		{ "0.21 0.37 0.39 x/719 19737\n", -1, LOAD_HAVE_ALL & ~LOAD_HAVE_RUNNING },
		{ "0.21 0.37 0.39 1/ 19737\n", -1, LOAD_HAVE_ALL & ~LOAD_HAVE_TOTAL },
		{ "0.21 0.37 0.39 1/719\n", 0, LOAD_HAVE_ALL },
		/* A second line is not ours to judge. */
		{ "0.21 0.37 0.39 1/719 19737\ngarbage 1 2\n", 0, LOAD_HAVE_ALL },
		{ "0.21\n0.37 0.39 1/719 19737\n", -1, LOAD_HAVE_LOAD1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		struct load_avg a;
		int rc = load_parse_loadavg(cases[i].text, strlen(cases[i].text), &a, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_EQUAL(a.have, cases[i].have);
		if (rc < 0) {
			CU_ASSERT(err.msg[0] != '\0');
		}
		if (a.have != cases[i].have || rc != cases[i].rc)
			fprintf(stderr, "case %zu: rc %d have %#x\n", i, rc, a.have);
	}
}

static void test_cpulist(void)
{
	static const struct {
		const char *text;
		int rc;
		unsigned ncpu;
	} cases[] = {
		{ "0", 0, 1 },
		{ "0\n", 0, 1 },
		{ "0-3", 0, 4 },
		{ "0-3,5,7-8\n", 0, 7 },
		{ "0-1023", 0, 1024 },
		{ "2,4,6", 0, 3 },
		{ "5-5", 0, 1 },
		{ "", -1, 0 },
		{ "\n", -1, 0 },
		{ ",", -1, 0 },
		{ "0-3,", -1, 0 },
		{ ",0-3", -1, 0 },
		{ "0,,1", -1, 0 },
		{ "3-1", -1, 0 },
		{ "0-", -1, 0 },
		{ "-3", -1, 0 },
		{ "0-3-5", -1, 0 },
		{ "a", -1, 0 },
		{ "0 - 3", -1, 0 },
		{ "0-99999999999999999999", -1, 0 },
		{ "0-1048575,0-1048575", -1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		unsigned n = 12345;
		int rc = load_parse_cpulist(cases[i].text, strlen(cases[i].text), &n, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_EQUAL(n, rc == 0 ? cases[i].ncpu : 12345u);
		if (rc != cases[i].rc)
			fprintf(stderr, "cpulist case %zu (\"%s\"): rc %d\n", i, cases[i].text, rc);
	}
}

/* The cpuN lines of every /proc/stat capture; sysstat's snapshots emulate
 * CPU hot-plug (9, 8, 7, 8, 9 CPUs, corpus/proc/expected.json). */
static void test_stat_cpus_corpus(void)
{
	static const struct {
		const char *file;
		unsigned ncpu;
	} cases[] = {
		{ "/stat/gopsutil_424_stat_4cpu", 4 },
		{ "/stat/node_exporter_stat", 8 },
		{ "/stat/procfs_stat_8cpu", 8 },
		{ "/stat/sysstat_root1_stat", 9 },
		{ "/stat/sysstat_root2_stat", 8 },
		{ "/stat/sysstat_root3_stat", 7 },
		{ "/stat/sysstat_root4_stat", 8 },
		{ "/stat/sysstat_root5_stat", 9 },
		{ "/stat/telegraf_kernel_stat_file_full", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		unsigned n = 0;
		size_t len;
		char *buf = load_fixture(cases[i].file, &len);

		CU_ASSERT_FATAL(buf != NULL);
		CU_ASSERT_EQUAL(load_count_stat_cpus(buf, len, &n, &err), 0);
		CU_ASSERT_EQUAL(n, cases[i].ncpu);
		free(buf);
	}
	{
		struct hr_err err = { { 0 } };
		unsigned n = 7;
		static const char only_agg[] = "cpu  1 2 3 4\ncpufreq 5\nintr 1\n";

		CU_ASSERT_EQUAL(load_count_stat_cpus(only_agg, strlen(only_agg), &n, &err), -1);
		CU_ASSERT_EQUAL(n, 7);
		CU_ASSERT_EQUAL(load_count_stat_cpus("", 0, &n, &err), -1);
	}
}

/* node_exporter's root has /sys/devices/system/cpu/online "0-3" (though its
 * /proc/stat lists 8 CPUs: the online list wins); procfs's root has no
 * online file, so ncpu comes from the 8 cpuN lines of its /proc/stat. */
static void test_fixture_roots(void)
{
	static const struct {
		const char *root;
		double l1, l5, l15, running, total, ncpu;
	} cases[] = {
		{ "node_exporter/root", 0.21, 0.37, 0.39, 1, 719, 4 },
		{ "procfs/root", 0.02, 0.04, 0.05, 1, 497, 8 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_recsink rec;
		const struct hr_sample *s;

		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_load, fixture(cases[i].root), NULL, &rec), 0);
		CU_ASSERT_EQUAL(rec.count, 1);
		s = hr_recsink_find(&rec, "load", "");
		CU_ASSERT_FATAL(s != NULL);
		CU_ASSERT_EQUAL(s->t, 0);
		CU_ASSERT_EQUAL(s->nvalues, 6);
		ASSERT_VAL(s, "load1", cases[i].l1);
		ASSERT_VAL(s, "load5", cases[i].l5);
		ASSERT_VAL(s, "load15", cases[i].l15);
		ASSERT_VAL(s, "ncpu", cases[i].ncpu);
		ASSERT_VAL(s, "procs_running", cases[i].running);
		ASSERT_VAL(s, "procs_total", cases[i].total);
		hr_recsink_free(&rec);
	}
}

static const char stat4[] = "cpu  1 2 3 4\ncpu0 1 1 1 1\ncpu1 0 1 1 1\ncpu2 0 0 1 1\ncpu3 0 0 0 1\n";

/* The sysfs online list wins over /proc/stat when present, and a garbled
 * one falls back to counting. */
static void test_online_file(void)
{
	static const struct {
		const char *online;
		double ncpu;
	} cases[] = {
		{ "0-3,5,7-8\n", 7 },
		{ "0\n", 1 },
		{ "0-3,\n", 4 },    /* garbled: the 4 cpuN lines of /proc/stat */
		{ "", 4 },          /* empty: likewise */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *root = tmpdir_new("load");
		struct hr_recsink rec;
		const struct hr_sample *s;

		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(write_file(root, "/proc/loadavg", "1.50 1.00 0.50 3/300 42\n", 24), 0);
		CU_ASSERT_EQUAL(write_file(root, "/proc/stat", stat4, strlen(stat4)), 0);
		CU_ASSERT_EQUAL(write_file(root, "/sys/devices/system/cpu/online", cases[i].online,
					   strlen(cases[i].online)), 0);
		CU_ASSERT_EQUAL(run_probe(&probe_load, root, NULL, &rec), 0);
		s = hr_recsink_find(&rec, "load", "");
		CU_ASSERT_FATAL(s != NULL);
		ASSERT_VAL(s, "ncpu", cases[i].ncpu);
		ASSERT_VAL(s, "load1", 1.5);
		ASSERT_VAL(s, "procs_running", 3);
		ASSERT_VAL(s, "procs_total", 300);
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

/* Missing, empty and garbled files: the probe reports what it can and fails
 * only when it has nothing at all. */
static void test_broken_roots(void)
{
	static const struct {
		const char *loadavg; /* NULL: absent */
		const char *stat;    /* NULL: absent */
		int rc;
		size_t nvalues;
		double load1, ncpu;  /* NAN: must be left out */
	} cases[] = {
		{ NULL, NULL, -1, 0, NAN, NAN },
		{ "", "", -1, 0, NAN, NAN },
		{ "garbage\n", "intr 1 2 3\n", -1, 0, NAN, NAN },
		{ NULL, stat4, 0, 1, NAN, 4 },
		{ "", stat4, 0, 1, NAN, 4 },
		{ "0.5 0.4 0.3 2/100 7\n", NULL, 0, 5, 0.5, NAN },
		{ "0.5 0.4 0.3 2/100 7\n", "", 0, 5, 0.5, NAN },
		{ "0.5 x", stat4, 0, 2, 0.5, 4 },
		{ "0.5 0.4 0.3 2/100 7\n", "cpu 1 2 3 4\n", 0, 5, 0.5, NAN },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *root = tmpdir_new("load");
		struct hr_recsink rec;
		const struct hr_sample *s;
		int rc;

		hr_recsink_init(&rec);
		if (cases[i].loadavg != NULL)
			CU_ASSERT_EQUAL(write_file(root, "/proc/loadavg", cases[i].loadavg,
						   strlen(cases[i].loadavg)), 0);
		if (cases[i].stat != NULL)
			CU_ASSERT_EQUAL(write_file(root, "/proc/stat", cases[i].stat,
						   strlen(cases[i].stat)), 0);
		rc = run_probe(&probe_load, root, NULL, &rec);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		s = hr_recsink_find(&rec, "load", "");
		if (cases[i].rc < 0) {
			CU_ASSERT_EQUAL(rec.count, 0);
		} else {
			CU_ASSERT_FATAL(s != NULL);
			CU_ASSERT_EQUAL(s->nvalues, cases[i].nvalues);
			if (isnan(cases[i].load1)) {
				ASSERT_NO_VAL(s, "load1");
			} else {
				ASSERT_VAL(s, "load1", cases[i].load1);
			}
			if (isnan(cases[i].ncpu)) {
				ASSERT_NO_VAL(s, "ncpu");
			} else {
				ASSERT_VAL(s, "ncpu", cases[i].ncpu);
			}
		}
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

/* A fault that repeats every interval is logged once, not every read. */
static void test_complain_once(void)
{
	const char *root = tmpdir_new("load");

	CU_ASSERT_EQUAL(write_file(root, "/proc/loadavg", "0.5 x 0.3 2/100 7\n", 18), 0);
	CU_ASSERT_EQUAL(write_file(root, "/proc/stat", stat4, strlen(stat4)), 0);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_load, root, NULL, 5, "probe load: /proc/loadavg"), 1);
	rm_rf(root);
}

static void test_config(void)
{
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_load, fixture("procfs/root"), "{}", &rec), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_load, fixture("procfs/root"), "{\"interval\": 5}", &rec), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_load, fixture("procfs/root"), "{\"bogus\": 1}", &rec), -2);
	CU_ASSERT_EQUAL(run_probe(&probe_load, fixture("procfs/root"), "[1]", &rec), -2);
	CU_ASSERT_STRING_EQUAL(probe_load.name, "load");
	CU_ASSERT_EQUAL(probe_load.core, 1);
	hr_recsink_free(&rec);
}

static CU_TestInfo tests[] = {
	{ "loadavg corpus", test_loadavg_corpus },
	{ "loadavg broken text", test_loadavg_broken },
	{ "online CPU list", test_cpulist },
	{ "cpuN lines of the stat corpus", test_stat_cpus_corpus },
	{ "fixture roots", test_fixture_roots },
	{ "online file preferred", test_online_file },
	{ "missing, empty and garbled files", test_broken_roots },
	{ "complain once", test_complain_once },
	{ "config", test_config },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("load", tests);
}
