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
	/* Network interface attributes, also below a bond's lower_ link. */
	CU_ASSERT_EQUAL(write_file(rootcopy, "/sys/class/net/eth0/speed", "1000\n", 5), 0);
	CU_ASSERT_EQUAL(write_file(rootcopy, "/sys/class/net/bond0/lower_eth0/x", "up\n", 3), 0);
	CU_ASSERT_EQUAL(hr_read_netattr(rootcopy, "eth0", "speed", attr, sizeof(attr), &err), 0);
	CU_ASSERT_STRING_EQUAL(attr, "1000");
	CU_ASSERT_EQUAL(hr_read_netattr(rootcopy, "bond0/lower_eth0", "x", attr, sizeof(attr),
					NULL), 0);
	CU_ASSERT_STRING_EQUAL(attr, "up");
	CU_ASSERT_EQUAL(hr_read_netattr(rootcopy, "eth1", "speed", attr, sizeof(attr), &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/sys/class/net/eth1/speed"));
	CU_ASSERT_EQUAL(hr_read_netattr(rootcopy, "eth1", "speed", attr, sizeof(attr), NULL), -1);
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
	/* Control characters never reach the wire (the central refuses them). */
	CU_ASSERT_EQUAL(hr_sample_label(&s, "model", "Smart\nUPS\x7f"), 0);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "model"), "Smart?UPS?");
	CU_ASSERT_DOUBLE_EQUAL(sval(&s, "used"), 2, 0);
	CU_ASSERT(isnan(sval(&s, "avail")));

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	hr_sample_init(&s, "fs", longname);
	CU_ASSERT_EQUAL(strlen(s.instance), HR_INSTANCE_MAX - 1);
	CU_ASSERT_EQUAL(s.truncated, 1);

	hr_recsink_init(&rec);
	rec.max = 2;
	hr_sample_init(&s, "fs", "/mnt/a\tb");
	CU_ASSERT_STRING_EQUAL(s.instance, "/mnt/a?b");
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
	/* The first "a" is not a duplicate, the second is; "c" has no twin. */
	CU_ASSERT_FALSE(hr_cfg_dup_key(o, cJSON_GetArrayItem(o, 0)));
	CU_ASSERT_FALSE(hr_cfg_dup_key(o, cJSON_GetArrayItem(o, 2)));
	CU_ASSERT_TRUE(hr_cfg_dup_key(o, cJSON_GetArrayItem(o, 3)));

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

/* The setup prologue every probe shares: NULL and true mean defaults, an
 * object is checked key by key, anything else is refused. */
static void test_cfg_object(void)
{
	static const char *const keys[] = { "a", "interval", NULL };
	static const struct {
		const char *json; /* NULL: no config at all */
		int rc;
		const char *first; /* the first problem, or NULL for none */
		size_t nerrs;
	} cases[] = {
		{ NULL, 0, NULL, 0 },
		{ "true", 0, NULL, 0 },
		{ "{}", 0, NULL, 0 },
		{ "{\"a\": 1, \"interval\": 5}", 0, NULL, 0 },
		{ "false", -1, "probes.x: expected an object", 1 },
		{ "null", -1, "probes.x: expected an object", 1 },
		{ "[1]", -1, "probes.x: expected an object", 1 },
		{ "\"x\"", -1, "probes.x: expected an object", 1 },
		{ "{\"b\": 1, \"c\": 2}", -1, "probes.x.b: unknown key", 2 },
		{ "{\"a\": 1, \"a\": 2}", -1, "probes.x.a: duplicate key", 1 },
	};
	struct hr_errs errs;
	cJSON *cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = cases[i].json ? cJSON_Parse(cases[i].json) : NULL;
		CU_ASSERT(cases[i].json == NULL || cfg != NULL);
		hr_errs_init(&errs);
		CU_ASSERT_EQUAL(hr_cfg_object(cfg, "probes.x", keys, &errs), cases[i].rc);
		CU_ASSERT_EQUAL(errs.count, cases[i].nerrs);
		if (cases[i].first != NULL && errs.count > 0)
			CU_ASSERT_STRING_EQUAL(errs.items[0], cases[i].first);
		hr_errs_free(&errs);
		cJSON_Delete(cfg);
	}
}

/* Owned copies of a string list: they outlive the config they came from. */
static void test_cfg_strv(void)
{
	cJSON *o = cJSON_Parse("{\"g\": [\"eth*\", \"lo\"], \"e\": [], \"bad\": [\"x\", 3], "
			       "\"s\": \"eth0\"}");
	struct hr_errs errs;
	char *sentinel[] = { NULL };
	char **v = NULL, **keep = sentinel;

	hr_errs_init(&errs);
	CU_ASSERT_EQUAL(hr_cfg_strv(o, "g", "p", &v, &errs), 1);
	cJSON_Delete(o);
	o = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v[0], "eth*");
	CU_ASSERT_STRING_EQUAL(v[1], "lo");
	CU_ASSERT_PTR_NULL(v[2]);
	hr_strv_free(v);
	hr_strv_free(NULL);
	CU_ASSERT_EQUAL(errs.count, 0);

	o = cJSON_Parse("{\"e\": [], \"bad\": [\"x\", 3], \"s\": \"eth0\"}");
	v = NULL;
	CU_ASSERT_EQUAL(hr_cfg_strv(o, "e", "p", &v, &errs), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_PTR_NULL(v[0]);
	hr_strv_free(v);
	/* Absent or invalid: *out stays as it was. */
	v = keep;
	CU_ASSERT_EQUAL(hr_cfg_strv(o, "none", "p", &v, &errs), 0);
	CU_ASSERT_EQUAL(hr_cfg_strv(NULL, "e", "p", &v, &errs), 0);
	CU_ASSERT_EQUAL(hr_cfg_strv(o, "bad", "p", &v, &errs), -1);
	CU_ASSERT_EQUAL(hr_cfg_strv(o, "s", "p", &v, &errs), -1);
	CU_ASSERT_PTR_EQUAL(v, keep);
	CU_ASSERT_EQUAL_FATAL(errs.count, 2);
	CU_ASSERT_STRING_EQUAL(errs.items[0], "p.bad[1]: expected a non-empty string");
	CU_ASSERT_STRING_EQUAL(errs.items[1], "p.s: expected an array of strings");
	hr_errs_free(&errs);
	cJSON_Delete(o);
}

/* Outside text made safe for labels, JSON and the log. */
static void test_printable(void)
{
	char dst[8];

	hr_printable(dst, sizeof(dst), "OL CHRG", 7);
	CU_ASSERT_STRING_EQUAL(dst, "OL CHRG");
	hr_printable(dst, sizeof(dst), "a\tb\x1b[\xc3\xa9\x7f", 8);
	CU_ASSERT_STRING_EQUAL(dst, "a?b?[??");
	hr_printable(dst, sizeof(dst), "0123456789", 10);
	CU_ASSERT_STRING_EQUAL(dst, "0123456");
	hr_printable(dst, sizeof(dst), "a\0b", 3);
	CU_ASSERT_STRING_EQUAL(dst, "a?b");
	hr_printable(dst, 1, "abc", 3);
	CU_ASSERT_STRING_EQUAL(dst, "");
}

static void test_glob_any(void)
{
	char g1[] = "eth*", g2[] = "/srv/*", g3[] = "lo";
	char *globs[] = { g1, g2, g3, NULL };
	char *none[] = { NULL };

	CU_ASSERT_EQUAL(hr_glob_any(globs, "eth0"), 1);
	CU_ASSERT_EQUAL(hr_glob_any(globs, "lo"), 1);
	CU_ASSERT_EQUAL(hr_glob_any(globs, "lo0"), 0);
	CU_ASSERT_EQUAL(hr_glob_any(globs, "wlan0"), 0);
	/* No FNM_PATHNAME: "*" crosses '/', as the fs exclude docs promise. */
	CU_ASSERT_EQUAL(hr_glob_any(globs, "/srv/a/b"), 1);
	CU_ASSERT_EQUAL(hr_glob_any(none, "eth0"), 0);
	CU_ASSERT_EQUAL(hr_glob_any(NULL, "eth0"), 0);
}

static void test_ifname_ok(void)
{
	static const struct {
		const char *s;
		size_t len;
		int ok;
	} cases[] = {
		{ "eth0", 4, 1 }, { "bond0.100", 9, 1 }, { "br-1a2b", 7, 1 },
		{ "...", 3, 1 }, { ".x", 2, 1 }, { "eth0:1", 4, 1 }, /* only len bytes count */
		{ "", 0, 0 }, { ".", 1, 0 }, { "..", 2, 0 }, { "a/b", 3, 0 }, { "a:b", 3, 0 },
		{ "a b", 3, 0 }, { "a\tb", 3, 0 }, { "a\x7f", 2, 0 }, { "a\x01", 2, 0 },
		{ "a\0b", 3, 0 }, { "0123456789abcde", 15, 1 }, { "0123456789abcdef", 16, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(hr_ifname_ok(cases[i].s, cases[i].len, 16), cases[i].ok);
	/* High bytes (UTF-8 names) are allowed, as by the kernel. */
	CU_ASSERT_EQUAL(hr_ifname_ok("\xc3\xa9th0", 5, 16), 1);
}

static void test_issues(void)
{
	struct hr_issues is = { 0, { 0 } };
	struct hr_complain c = HR_COMPLAIN_INIT;

	CU_ASSERT_EQUAL(hr_issues_complain(&c, &is, "probe x"), 0);
	CU_ASSERT_FALSE(c.active);
	hr_issue(&is, "%s: line %u: cannot parse", "/proc/x", 7u);
	CU_ASSERT_EQUAL(hr_issues_complain(&c, &is, "probe x"), 1);
	CU_ASSERT_STRING_EQUAL(c.last, "probe x: /proc/x: line 7: cannot parse");
	hr_issue(&is, "second");
	hr_issue(&is, "third");
	CU_ASSERT_EQUAL(is.n, 3);
	CU_ASSERT_STRING_EQUAL(is.first, "/proc/x: line 7: cannot parse");
	CU_ASSERT_EQUAL(hr_issues_complain(&c, &is, "probe x"), 1);
	CU_ASSERT_STRING_EQUAL(c.last, "probe x: /proc/x: line 7: cannot parse (and 2 more problems)");
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
	CU_ASSERT_EQUAL(hr_schema_kind("load", "procs_total"), HR_GAUGE);
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
	{ "config object prologue", test_cfg_object },
	{ "config string lists, owned", test_cfg_strv },
	{ "printable copies", test_printable },
	{ "glob lists", test_glob_any },
	{ "interface names", test_ifname_ok },
	{ "first problem and count", test_issues },
	{ "schema", test_schema },
	{ "complain once", test_complain },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("lib", tests);
}
