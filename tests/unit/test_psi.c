/* test_psi.c: the psi probe against the /proc/pressure files of both
 * fixture roots, kernels without PSI, and missing, empty and garbled files
 * written into a temporary folder. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "psi.h"
#include "schema.h"
#include "testutil.h"
#include "util.h"

/* node_exporter's root: every file has some and full lines (cpu's full is
 * zero, as kernels >= 5.13 print it). The irq file is not ours. */
static void test_node_exporter_root(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_psi, fixture("node_exporter/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 3);
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "psi", "irq"));

	s = hr_recsink_find(&rec, "psi", "cpu");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->t, 0);
	CU_ASSERT_EQUAL(s->nvalues, 5);
	ASSERT_VAL(s, "some_avg10", 0);
	ASSERT_VAL(s, "some_avg60", 0);
	ASSERT_VAL(s, "full_avg10", 0);
	ASSERT_VAL(s, "full_avg60", 0);
	ASSERT_VAL(s, "some_total", 14036781);

	s = hr_recsink_find(&rec, "psi", "io");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->nvalues, 5);
	ASSERT_VAL(s, "some_avg10", 0.18);
	ASSERT_VAL(s, "some_avg60", 0.34);
	ASSERT_VAL(s, "full_avg10", 0.18);
	ASSERT_VAL(s, "full_avg60", 0.34);
	ASSERT_VAL(s, "some_total", 159886802);

	s = hr_recsink_find(&rec, "psi", "memory");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->nvalues, 5);
	ASSERT_VAL(s, "some_avg10", 0);
	ASSERT_VAL(s, "full_avg60", 0);
	ASSERT_VAL(s, "some_total", 0);
	hr_recsink_free(&rec);
}

/* procfs's root: cpu has only a "some" line (kernels before 5.13), so its
 * full values are left out. */
static void test_procfs_root(void)
{
	static const char *const res[] = { "cpu", "io", "memory" };
	struct hr_recsink rec;
	size_t i;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_psi, fixture("procfs/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 3);
	for (i = 0; i < 3; i++) {
		const struct hr_sample *s = hr_recsink_find(&rec, "psi", res[i]);

		CU_ASSERT_FATAL(s != NULL);
		ASSERT_VAL(s, "some_avg10", 0.10);
		ASSERT_VAL(s, "some_avg60", 2.00);
		ASSERT_VAL(s, "some_total", 15);
		if (i == 0) {
			CU_ASSERT_EQUAL(s->nvalues, 3);
			ASSERT_NO_VAL(s, "full_avg10");
			ASSERT_NO_VAL(s, "full_avg60");
		} else {
			CU_ASSERT_EQUAL(s->nvalues, 5);
			ASSERT_VAL(s, "full_avg10", 0.20);
			ASSERT_VAL(s, "full_avg60", 3.00);
		}
	}
	hr_recsink_free(&rec);
}

static void test_parse(void)
{
	static const struct {
		const char *text;
		int rc;
		unsigned some, full;  /* have bits */
		double some_avg10, full_avg60;
		uint64_t some_total;
	} cases[] = {
		{ "some avg10=0.18 avg60=0.34 avg300=0.10 total=159886802\n"
		  "full avg10=0.18 avg60=0.35 avg300=0.10 total=159229614\n", 0, 0x0f, 0x0f,
		  0.18, 0.35, 159886802 },
		{ "some avg10=1.00 avg60=2.00 avg300=3.00 total=4", 0, 0x0f, 0, 1, 0, 4 },
		/* unknown keys and lines (a later kernel's) are skipped */
		{ "some avg10=1.00 avg60=2.00 avg300=3.00 total=4 avg900=5.00\n"
		  "what ever\nbogus=1\n", 0, 0x0f, 0, 1, 0, 4 },
		{ "some total=4 avg10=1.00\n", 0, PSI_HAVE_TOTAL | PSI_HAVE_AVG10, 0, 1, 0, 4 },
		{ "some\tavg10=1.00  avg60=2.00\n", 0, 0x03, 0, 1, 0, 0 },
		/* the first of repeated lines and keys counts */
		{ "some avg10=1.00 avg10=9.00\nsome avg10=7.00 total=8\n", 0, 0x01, 0, 1, 0, 0 },
		{ "some avg10=x avg60=1.00 avg300=0.00 total=5\n", -1, 0x0e, 0, 0, 0, 5 },
		{ "some avg10=-1.00 avg60=1.00 avg300=0.00 total=5\n", -1, 0x0e, 0, 0, 0, 5 },
		{ "some avg10=nan avg60=inf avg300=0.00 total=5\n", -1, 0x0c, 0, 0, 0, 5 },
		{ "some avg10=1.00 avg60=1.00 avg300=0.00 total=-5\n", -1, 0x07, 0, 1, 0, 0 },
		{ "some avg10=1.00 avg60=1.00 avg300=0.00 total=\n", -1, 0x07, 0, 1, 0, 0 },
		{ "some avg10= avg60 =1.00 total=99999999999999999999999\n", -1, 0, 0, 0, 0, 0 },
		{ "full avg10=0.20 avg60=3.00 avg300=4.95 total=25\n", 0, 0, 0x0f, 0, 3, 0 },
		{ "", 0, 0, 0, 0, 0, 0 },
		{ "\n\n", 0, 0, 0, 0, 0, 0 },
		{ "Some avg10=1.00\nsomething avg10=1.00\n", 0, 0, 0, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_err err = { { 0 } };
		struct psi_pressure p;
		int rc = psi_parse(cases[i].text, strlen(cases[i].text), &p, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_EQUAL(p.some.have, cases[i].some);
		CU_ASSERT_EQUAL(p.full.have, cases[i].full);
		if (p.some.have & PSI_HAVE_AVG10) {
			CU_ASSERT_DOUBLE_EQUAL(p.some.avg10, cases[i].some_avg10, 1e-12);
		}
		if (p.full.have & PSI_HAVE_AVG60) {
			CU_ASSERT_DOUBLE_EQUAL(p.full.avg60, cases[i].full_avg60, 1e-12);
		}
		if (p.some.have & PSI_HAVE_TOTAL) {
			CU_ASSERT_EQUAL(p.some.total, cases[i].some_total);
		}
		if (rc < 0) {
			CU_ASSERT(err.msg[0] != '\0');
		}
		if (rc != cases[i].rc || p.some.have != cases[i].some || p.full.have != cases[i].full)
			fprintf(stderr, "case %zu: rc %d some %#x full %#x\n", i, rc, p.some.have,
				p.full.have);
	}
}

/* A kernel without PSI has no /proc/pressure: no samples, a successful
 * read, and one log line however often it is read. */
static void test_unsupported(void)
{
	const char *root = tmpdir_new("psi");
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(write_file(root, "/proc/loadavg", "0 0 0 1/1 1\n", 12), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_psi, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_psi, root, NULL, 5, "probe psi: no /proc/pressure"), 1);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_psi, root, NULL, 5, "probe psi"), 1);
	hr_recsink_free(&rec);
	rm_rf(root);
}

static const char good[] = "some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
			   "full avg10=0.50 avg60=0.25 avg300=0.00 total=2\n";

/* Missing, empty and garbled files: each resource stands alone; the read
 * fails only when /proc/pressure exists and yields nothing at all. */
static void test_broken_roots(void)
{
	static const struct {
		const char *cpu, *io, *memory; /* NULL: absent */
		int rc;
		int cpu_vals, io_vals, memory_vals; /* values; -1: no sample */
	} cases[] = {
		{ good, good, good, 0, 5, 5, 5 },
		{ NULL, good, good, 0, -1, 5, 5 },
		{ good, "", good, 0, 5, -1, 5 },
		{ good, good, "garbage\n", 0, 5, 5, -1 },
		{ "some avg10=x avg60=2.00\n", good, NULL, 0, 1, 5, -1 },
		{ NULL, NULL, NULL, -1, -1, -1, -1 },
		{ "", "", "", -1, -1, -1, -1 },
		{ "\x01\x02", "some\n", "full avg10=x\n", -1, -1, -1, -1 },
	};
	static const char *const res[] = { "cpu", "io", "memory" };
	size_t i, r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *root = tmpdir_new("psi");
		const char *text[3] = { cases[i].cpu, cases[i].io, cases[i].memory };
		const int vals[3] = { cases[i].cpu_vals, cases[i].io_vals, cases[i].memory_vals };
		struct hr_recsink rec;
		char path[64];

		hr_recsink_init(&rec);
		/* The folder exists: PSI is there, its files are broken. */
		CU_ASSERT_EQUAL(write_file(root, "/proc/pressure/.keep", "", 0), 0);
		for (r = 0; r < 3; r++) {
			snprintf(path, sizeof(path), "/proc/pressure/%s", res[r]);
			if (text[r] != NULL)
				CU_ASSERT_EQUAL(write_file(root, path, text[r], strlen(text[r])), 0);
		}
		CU_ASSERT_EQUAL(run_probe(&probe_psi, root, NULL, &rec), cases[i].rc);
		for (r = 0; r < 3; r++) {
			const struct hr_sample *s = hr_recsink_find(&rec, "psi", res[r]);

			if (vals[r] < 0) {
				CU_ASSERT_PTR_NULL(s);
				continue;
			}
			CU_ASSERT_FATAL(s != NULL);
			CU_ASSERT_EQUAL(s->nvalues, (size_t)vals[r]);
			ASSERT_VAL(s, "some_avg60", 2.00);
		}
		hr_recsink_free(&rec);
		rm_rf(root);
	}
}

/* A broken file repeats every interval: logged once. */
static void test_complain_once(void)
{
	const char *root = tmpdir_new("psi");

	CU_ASSERT_EQUAL(write_file(root, "/proc/pressure/cpu", good, strlen(good)), 0);
	CU_ASSERT_EQUAL(write_file(root, "/proc/pressure/io", "some avg10=x\n", 13), 0);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_psi, root, NULL, 5, "probe psi: /proc/pressure/io"), 1);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_psi, root, NULL, 5, "/proc/pressure/memory"), 1);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_psi, root, NULL, 5, "/proc/pressure/cpu"), 0);
	rm_rf(root);
}

/* some_total is a µs counter (its name ends in _total); the averages are
 * levels. */
static void test_schema(void)
{
	CU_ASSERT_EQUAL(hr_schema_kind("psi", "some_total"), HR_COUNTER);
	CU_ASSERT_EQUAL(hr_schema_kind("psi", "some_avg10"), HR_GAUGE);
	CU_ASSERT_EQUAL(hr_schema_kind("psi", "full_avg60"), HR_GAUGE);
}

static void test_config(void)
{
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_psi, fixture("procfs/root"), "{\"interval\": 10}", &rec), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_psi, fixture("procfs/root"), "{\"irq\": true}", &rec), -2);
	CU_ASSERT_EQUAL(run_probe(&probe_psi, fixture("procfs/root"), "null", &rec), -2);
	CU_ASSERT_STRING_EQUAL(probe_psi.name, "psi");
	CU_ASSERT_EQUAL(probe_psi.core, 1);
	hr_recsink_free(&rec);
}

static CU_TestInfo tests[] = {
	{ "node_exporter root", test_node_exporter_root },
	{ "procfs root", test_procfs_root },
	{ "parse", test_parse },
	{ "kernel without PSI", test_unsupported },
	{ "missing, empty and garbled files", test_broken_roots },
	{ "complain once", test_complain_once },
	{ "some_total is a counter", test_schema },
	{ "config", test_config },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("psi", tests);
}
