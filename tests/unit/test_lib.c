/* test_lib.c: lib/ building blocks: bounded parsers, durations, file reads
 * under a root, samples and the recording sink, config helpers, schema. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "schema.h"
#include "testutil.h"
#include "util.h"

static void test_parse_numbers(void)
{
	static const struct {
		const char *s;
		int ok;
		double v;
	} dcases[] = {
		{ "0", 1, 0 }, { "1.5", 1, 1.5 }, { "-2", 1, -2 }, { "1e3", 1, 1000 },
		{ "", 0, 0 }, { "nan", 0, 0 }, { "inf", 0, 0 }, { "0x10", 0, 0 },
		{ "1.5x", 0, 0 }, { "1e999", 0, 0 }, { " 1", 0, 0 },
	};
	uint64_t u;
	int64_t i64;
	double d;
	size_t i;

	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		int rc = hr_parse_double(dcases[i].s, strlen(dcases[i].s), &d);
		CU_ASSERT_EQUAL(rc == 0, dcases[i].ok);
		if (rc == 0)
			CU_ASSERT_DOUBLE_EQUAL(d, dcases[i].v, 1e-12);
	}
	CU_ASSERT_EQUAL(hr_parse_u64("18446744073709551615", 20, &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_EQUAL(hr_parse_u64("18446744073709551616", 20, &u), -1);
	CU_ASSERT_EQUAL(hr_parse_u64("-1", 2, &u), -1);
	CU_ASSERT_EQUAL(hr_parse_u64("12", 1, &u), 0); /* only len bytes count */
	CU_ASSERT_EQUAL(u, 1);
	CU_ASSERT_EQUAL(hr_parse_i64("-42", 3, &i64), 0);
	CU_ASSERT_EQUAL(i64, -42);
	CU_ASSERT_EQUAL(hr_parse_i64("4-2", 3, &i64), -1);
	CU_ASSERT_EQUAL(hr_parse_u64("1\0002", 3, &u), -1);
}

static void test_durations(void)
{
	static const struct {
		const char *s;
		double v;
	} ok[] = { { "90s", 90 }, { "15m", 900 }, { "26h", 93600 }, { "7d", 604800 },
		   { "1w", 604800 }, { "10", 10 }, { "1.5h", 5400 } };
	static const char *const bad[] = { "", "h", "-5m", "5x", "5 m", "1e999d" };
	double d;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(hr_parse_duration(ok[i].s, &d), 0);
		CU_ASSERT_DOUBLE_EQUAL(d, ok[i].v, 1e-9);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(hr_parse_duration(bad[i], &d), -1);
}

static void test_lines_fields(void)
{
	const char buf[] = "a b\tc\n\nlast";
	struct hr_lines it;
	struct hr_fields f;
	const char *line, *fld;
	size_t len, flen;
	int n = 0;

	hr_lines_init(&it, buf, strlen(buf));
	CU_ASSERT(hr_lines_next(&it, &line, &len));
	CU_ASSERT_EQUAL(len, 5);
	hr_fields_init(&f, line, len);
	while (hr_fields_next(&f, &fld, &flen))
		n++;
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(hr_lines_next(&it, &line, &len));
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT(hr_lines_next(&it, &line, &len));
	CU_ASSERT(hr_field_eq(line, len, "last"));
	CU_ASSERT_EQUAL(it.lineno, 3);
	CU_ASSERT_FALSE(hr_lines_next(&it, &line, &len));
}

static void test_read_file(void)
{
	const char *root = tmpdir_new("lib");
	char rootcopy[512], *buf = NULL, attr[8];
	struct hr_err err;
	size_t len;

	snprintf(rootcopy, sizeof(rootcopy), "%s", root);
	CU_ASSERT_EQUAL(write_file(rootcopy, "/proc/x", "hello\n", 6), 0);
	CU_ASSERT_EQUAL(hr_read_file(rootcopy, "/proc/x", &buf, &len, 100, &err), 0);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT_STRING_EQUAL(buf, "hello\n");
	free(buf);
	/* Over the cap: an error, never a silently cut file. */
	CU_ASSERT_EQUAL(hr_read_file(rootcopy, "/proc/x", &buf, &len, 3, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "larger than"));
	CU_ASSERT_EQUAL(hr_read_file(rootcopy, "/proc/missing", &buf, &len, 100, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/proc/missing"));
	CU_ASSERT_EQUAL(hr_read_attr(rootcopy, "/proc/x", attr, sizeof(attr), &err), 0);
	CU_ASSERT_STRING_EQUAL(attr, "hello");
	CU_ASSERT_EQUAL(hr_read_attr(rootcopy, "/proc/x", attr, 4, &err), -1);
	CU_ASSERT_EQUAL(write_file(rootcopy, "/proc/empty", "", 0), 0);
	CU_ASSERT_EQUAL(hr_read_file(rootcopy, "/proc/empty", &buf, &len, 100, &err), 0);
	CU_ASSERT_EQUAL(len, 0);
	free(buf);
	rm_rf(rootcopy);
}

static void test_sample(void)
{
	struct hr_recsink rec;
	struct hr_sample s;
	char longname[400];

	hr_sample_init(&s, "fs", "/var");
	CU_ASSERT_EQUAL(hr_sample_set(&s, "used", 1), 0);
	CU_ASSERT_EQUAL(hr_sample_set(&s, "used", 2), 0); /* replaces */
	CU_ASSERT_EQUAL(s.nvalues, 1);
	CU_ASSERT_EQUAL(hr_sample_set(&s, "bad-name", 1), -1);
	CU_ASSERT_EQUAL(hr_sample_set(&s, "twentycharacterslong", 1), -1);
	CU_ASSERT_EQUAL(hr_sample_set(&s, "nineteencharacterss", 1), 0);
	CU_ASSERT_EQUAL(hr_sample_set(&s, "x", NAN), -1);
	CU_ASSERT_EQUAL(hr_sample_set(&s, "x", INFINITY), -1);
	CU_ASSERT_EQUAL(s.truncated, 4);
	CU_ASSERT_EQUAL(hr_sample_label(&s, "fstype", "ext4"), 0);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "fstype"), "ext4");
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "used"), 2, 0);
	CU_ASSERT(isnan(sval(&s, "avail")));

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	hr_sample_init(&s, "fs", longname);
	CU_ASSERT_EQUAL(strlen(s.instance), HR_INSTANCE_MAX - 1);
	CU_ASSERT_EQUAL(s.truncated, 1);

	hr_recsink_init(&rec);
	rec.max = 2;
	hr_sample_init(&s, "load", NULL);
	CU_ASSERT_EQUAL(hr_sink_put(&rec.sink, &s), 0);
	CU_ASSERT_EQUAL(hr_sink_put(&rec.sink, &s), 0);
	CU_ASSERT_EQUAL(hr_sink_put(&rec.sink, &s), -1);
	CU_ASSERT_EQUAL(rec.refused, 1);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "load", ""));
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "load", "x"));
	hr_recsink_free(&rec);
}

static void test_cfg(void)
{
	static const char *const keys[] = { "a", "b", NULL };
	cJSON *o = cJSON_Parse("{\"a\": \"x\", \"b\": 5, \"c\": 1, \"a\": \"dup\", "
			       "\"d\": \"26h\", \"e\": [\"p\", 3], \"f\": true, \"g\": \"\"}");
	struct hr_errs errs;
	const char *s;
	const char **arr = NULL;
	size_t n;
	double d;
	int b;

	hr_errs_init(&errs);
	CU_ASSERT_EQUAL(hr_cfg_check_keys(o, "probes.x", keys, &errs), 6);
	CU_ASSERT_STRING_EQUAL(errs.items[0], "probes.x.c: unknown key");
	CU_ASSERT_STRING_EQUAL(errs.items[1], "probes.x.a: duplicate key");
	hr_errs_free(&errs);

	hr_errs_init(&errs);
	CU_ASSERT_EQUAL(hr_cfg_string(o, "a", "p", &s, &errs), 1);
	CU_ASSERT_STRING_EQUAL(s, "x");
	CU_ASSERT_EQUAL(hr_cfg_string(o, "b", "p", &s, &errs), -1);
	CU_ASSERT_EQUAL(hr_cfg_string(o, "g", "p", &s, &errs), -1);
	CU_ASSERT_EQUAL(hr_cfg_string(o, "zz", "p", &s, &errs), 0);
	CU_ASSERT_EQUAL(hr_cfg_number(o, "b", "p", 0, 4, &d, &errs), -1);
	CU_ASSERT_EQUAL(hr_cfg_number(o, "b", "p", 0, 10, &d, &errs), 1);
	CU_ASSERT_EQUAL(hr_cfg_duration(o, "d", "p", 0, 1e9, &d, &errs), 1);
	CU_ASSERT_DOUBLE_EQUAL(d, 93600, 0);
	CU_ASSERT_EQUAL(hr_cfg_duration(o, "a", "p", 0, 1e9, &d, &errs), -1);
	CU_ASSERT_EQUAL(hr_cfg_bool(o, "f", "p", &b, &errs), 1);
	CU_ASSERT_EQUAL(b, 1);
	CU_ASSERT_EQUAL(hr_cfg_strings(o, "e", "p", &arr, &n, &errs), -1);
	CU_ASSERT_PTR_NULL(arr);
	CU_ASSERT_EQUAL(errs.count, 5);
	CU_ASSERT_STRING_EQUAL(errs.items[4], "p.e[1]: expected a non-empty string");
	hr_errs_free(&errs);
	cJSON_Delete(o);
}

static void test_schema(void)
{
	CU_ASSERT_EQUAL(hr_schema_kind("cpu", "user"), HR_COUNTER);
	CU_ASSERT_EQUAL(hr_schema_kind("disk", "io_ms"), HR_COUNTER);
	CU_ASSERT_EQUAL(hr_schema_kind("net", "rx_bytes"), HR_COUNTER);
	CU_ASSERT_EQUAL(hr_schema_kind("net", "speed_mbps"), HR_GAUGE);
	CU_ASSERT_EQUAL(hr_schema_kind("psi", "some_total"), HR_COUNTER);
	CU_ASSERT_EQUAL(hr_schema_kind("psi", "some_avg10"), HR_GAUGE);
	CU_ASSERT_EQUAL(hr_schema_kind("exec", "requests_total"), HR_COUNTER);
	CU_ASSERT_EQUAL(hr_schema_kind("fs", "used"), HR_GAUGE);
	CU_ASSERT(hr_schema_keep_min("fs"));
	CU_ASSERT_FALSE(hr_schema_keep_min("cpu"));
}

static void test_complain(void)
{
	struct hr_complain c = HR_COMPLAIN_INIT;

	CU_ASSERT_EQUAL(hr_complain(&c, "probe x: %s", "broken"), 1);
	CU_ASSERT_EQUAL(hr_complain(&c, "probe x: %s", "broken"), 0);
	CU_ASSERT_EQUAL(hr_complain(&c, "probe x: %s", "other"), 1);
	hr_complain_clear(&c, "probe x: fine");
	CU_ASSERT_FALSE(c.active);
	CU_ASSERT_EQUAL(hr_complain(&c, "probe x: %s", "other"), 1);
}

static CU_TestInfo tests[] = {
	{ "numbers", test_parse_numbers },
	{ "durations", test_durations },
	{ "lines and fields", test_lines_fields },
	{ "read files under a root", test_read_file },
	{ "samples and recording sink", test_sample },
	{ "config helpers", test_cfg },
	{ "schema", test_schema },
	{ "complain once", test_complain },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("lib", tests);
}
