/* test_series.c: the CSV series reader of the analyzer and the benchmarks:
 * the header row, both time formats, fractions, missing values, and the
 * refusals (time not increasing, garbage) with the line they name. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "series.h"
#include "testutil.h"

static int parse(const char *text, struct series *s, struct hr_err *err)
{
	return series_parse_csv(text, strlen(text), s, err);
}

static void test_header_and_formats(void)
{
	struct series s = { 0 };
	struct hr_err err;

	/* NAB's own header and time format, then unix seconds with a
	 * fraction, CRLF endings and a blank line. */
	CU_ASSERT_EQUAL_FATAL(parse("timestamp,value\r\n"
				    "2014-04-01 00:00:00,20.5\r\n"
				    "\n"
				    "1396310700.25,-3\r\n"
				    "2014-04-01 00:10:00.5,1e3\n", &s, &err), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT_DOUBLE_EQUAL(s.t[0], 1396310400, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.v[0], 20.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.t[1], 1396310700.25, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.v[1], -3, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.t[2], 1396311000.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.v[2], 1000, 1e-9);
	series_free(&s);

	/* No header at all is fine too; the 'T' separator is read. */
	CU_ASSERT_EQUAL_FATAL(parse("100,1\n2014-04-01T00:00:00,2\n", &s, &err), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_DOUBLE_EQUAL(s.t[1], 1396310400, 1e-9);
	series_free(&s);
}

static void test_missing_values(void)
{
	struct series s = { 0 };
	struct hr_err err;

	CU_ASSERT_EQUAL_FATAL(parse("t,v\n100,1\n200,\n300,nan\n400,NaN\n500, 5\n", &s, &err), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_DOUBLE_EQUAL(s.t[1], 500, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.v[1], 5, 1e-12);
	series_free(&s);
}

static void test_parse_time(void)
{
	static const struct {
		const char *s;
		int ok;
		double t;
	} cases[] = {
		{ "1970-01-01 00:00:00", 1, 0 },
		{ "2016-02-29 23:59:59", 1, 1456790399 },
		{ "2014-04-01 00:00:00.125", 1, 1396310400.125 },
		{ "1764316800", 1, 1764316800 },
		{ "12.5", 1, 12.5 },
		{ "2014-13-01 00:00:00", 0, 0 },
		{ "2014-04-31 00:00:00", 0, 0 },
		{ "2014-04-01 24:00:00", 0, 0 },
		{ "2014-04-01 00:00:00.", 0, 0 },
		{ "2014-04-01 00:00:00x", 0, 0 },
		{ "2014-04-01", 0, 0 },
		{ "yesterday", 0, 0 },
		{ "", 0, 0 },
	};
	size_t i;
	double t;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = series_parse_time(cases[i].s, strlen(cases[i].s), &t);

		CU_ASSERT_EQUAL(rc == 0, cases[i].ok);
		if (rc == 0 && cases[i].ok)
			CU_ASSERT_DOUBLE_EQUAL(t, cases[i].t, 1e-6);
	}
}

/* Each refusal names the line (counting the header) and leaves s empty. */
static void test_refusals(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "t,v\n100,1\n100,2\n", "line 3: time 100 is not after" },
		{ "t,v\n200,1\n100,2\n", "line 3: time 100 is not after" },
		{ "100,1\n200,x\n", "line 2: unreadable value \"x\"" },
		{ "100,1\n200,1e999\n", "line 2: unreadable value" },
		{ "100,1\nabc,2\n", "line 2: unreadable timestamp \"abc\"" },
		{ "t,v\n100,1\n200\n", "line 3: expected \"timestamp,value\"" },
		{ "t,v\n100,1,2\n", "line 2: expected \"timestamp,value\"" },
		{ "t,v\nt,v\n", "line 2: unreadable timestamp" },
	};
	struct series s = { 0 };
	struct hr_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		CU_ASSERT_EQUAL(parse(cases[i].text, &s, &err), -1);
		if (strstr(err.msg, cases[i].want) == NULL)
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err.msg,
				cases[i].want);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].want));
		CU_ASSERT_EQUAL(s.n, 0);
		CU_ASSERT_PTR_NULL(s.t);
	}
}

static void test_load_file(void)
{
	const char *dir = tmpdir_new("series");
	static const char text[] = "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2\n";
	char path[512];
	struct series s = { 0 };
	struct hr_err err;

	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/s.csv", text, sizeof(text) - 1), 0);
	snprintf(path, sizeof(path), "%s/s.csv", dir);
	CU_ASSERT_EQUAL(series_load_csv(path, &s, &err), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	series_free(&s);
	snprintf(path, sizeof(path), "%s/missing.csv", dir);
	CU_ASSERT_EQUAL(series_load_csv(path, &s, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing.csv"));
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "header row and both time formats", test_header_and_formats },
	{ "empty and nan values are skipped", test_missing_values },
	{ "timestamps", test_parse_time },
	{ "refusals name the line", test_refusals },
	{ "files", test_load_file },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("series", tests);
}
