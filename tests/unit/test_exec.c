/* test_exec.c: the exec probe. The perfdata parser and the value names are
 * table-driven; the probe runs the real plugins of Debian's
 * monitoring-plugins-basic (check_dummy for every state, check_load,
 * check_disk, check_procs, check_users, check_swap) and the small shell
 * plugins of tests/fixtures/exec, plus plugins that hang, flood, die. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "exec.h"
#include "testutil.h"
#include "util.h"

#define PLUGINS "/usr/lib/nagios/plugins/"

/* ---- the parser ---- */

static const struct {
	const char *item;
	int rc;
	const char *label;
	int known;
	double value;
	enum exec_unit unit;
} perf_cases[] = {
	{ "load1=0.500;5.000;10.000;0;", 0, "load1", 1, 0.5, EXEC_UNIT_NONE },
	{ "procs=91;;;0;", 0, "procs", 1, 91, EXEC_UNIT_NONE },
	{ "users=0", 0, "users", 1, 0, EXEC_UNIT_NONE },
	{ "/=17265852416B;243497277849;257024904396;0;270552530944", 0, "/", 1, 17265852416.0,
	  EXEC_UNIT_BYTES },
	{ "'/var/lib'=100B", 0, "/var/lib", 1, 100, EXEC_UNIT_BYTES },
	{ "'it''s here'=1", 0, "it's here", 1, 1, EXEC_UNIT_NONE },
	{ "'a=b c'=2;3", 0, "a=b c", 1, 2, EXEC_UNIT_NONE },
	{ "'''quoted'''=4", 0, "'quoted'", 1, 4, EXEC_UNIT_NONE },
	{ "time=20ms", 0, "time", 1, 0.02, EXEC_UNIT_SECONDS },
	{ "rta=0.080ms;200.000;500.000;0;", 0, "rta", 1, 0.00008, EXEC_UNIT_SECONDS },
	{ "t=5us", 0, "t", 1, 5e-6, EXEC_UNIT_SECONDS },
	{ "t=3s;;", 0, "t", 1, 3, EXEC_UNIT_SECONDS },
	{ "pct=85%;90;95", 0, "pct", 1, 85, EXEC_UNIT_PERCENT },
	{ "m=2KB", 0, "m", 1, 2048, EXEC_UNIT_BYTES },
	{ "m=2kB", 0, "m", 1, 2048, EXEC_UNIT_BYTES },
	/* Megabytes of monitoring-plugins are MiB: check_disk -w 100 means
	 * 100 * 1048576 bytes. */
	{ "swap=1.5MB;0;0;0;2048", 0, "swap", 1, 1572864, EXEC_UNIT_BYTES },
	{ "g=1GB", 0, "g", 1, 1073741824.0, EXEC_UNIT_BYTES },
	{ "t=1TB", 0, "t", 1, 1099511627776.0, EXEC_UNIT_BYTES },
	{ "k=3KiB", 0, "k", 1, 3072, EXEC_UNIT_BYTES },
	{ "g=2GiB", 0, "g", 1, 2147483648.0, EXEC_UNIT_BYTES },
	{ "octets=12345c", 0, "octets", 1, 12345, EXEC_UNIT_COUNTER },
	{ "ratio=2.5furl", 0, "ratio", 1, 2.5, EXEC_UNIT_OTHER },
	{ "temp=45\xc2\xb0" "C", 0, "temp", 1, 45, EXEC_UNIT_OTHER },
	{ "e=5e", 0, "e", 1, 5, EXEC_UNIT_OTHER },
	{ "x=U", 0, "x", 0, 0, EXEC_UNIT_NONE },
	{ "x=U;1;2;;", 0, "x", 0, 0, EXEC_UNIT_NONE },
	{ "neg=-3.5", 0, "neg", 1, -3.5, EXEC_UNIT_NONE },
	{ "pos=+2", 0, "pos", 1, 2, EXEC_UNIT_NONE },
	{ "sci=1.5e3", 0, "sci", 1, 1500, EXEC_UNIT_NONE },
	{ "sci=2E-3s", 0, "sci", 1, 0.002, EXEC_UNIT_SECONDS },
	{ "sci=-1e+2", 0, "sci", 1, -100, EXEC_UNIT_NONE },
	{ "half=.5", 0, "half", 1, 0.5, EXEC_UNIT_NONE },
	{ "five=5.", 0, "five", 1, 5, EXEC_UNIT_NONE },
	{ "th=1;garbage;@~:x;whatever", 0, "th", 1, 1, EXEC_UNIT_NONE },
	/* Not 'label'=value[UOM]: skipped. */
	{ "x=1,5", -1, NULL, 0, 0, 0 },
	{ "x=1,5%", -1, NULL, 0, 0, 0 },
	{ "x=,", -1, NULL, 0, 0, 0 },
	{ "x=", -1, NULL, 0, 0, 0 },
	{ "x=;1;2", -1, NULL, 0, 0, 0 },
	{ "=1", -1, NULL, 0, 0, 0 },
	{ "''=1", -1, NULL, 0, 0, 0 },
	{ "x", -1, NULL, 0, 0, 0 },
	{ "", -1, NULL, 0, 0, 0 },
	{ "'unterminated=1", -1, NULL, 0, 0, 0 },
	{ "'quoted'x=1", -1, NULL, 0, 0, 0 },
	{ "a'b=1", -1, NULL, 0, 0, 0 },
	{ "x=nan", -1, NULL, 0, 0, 0 },
	{ "x=inf", -1, NULL, 0, 0, 0 },
	{ "x=-", -1, NULL, 0, 0, 0 },
	{ "x=.", -1, NULL, 0, 0, 0 },
	{ "x=0x10", -1, NULL, 0, 0, 0 },
	{ "x=1.2.3", -1, NULL, 0, 0, 0 },
	{ "x=--1", -1, NULL, 0, 0, 0 },
	{ "x=1e999", -1, NULL, 0, 0, 0 },
	{ "x=1e308TB", -1, NULL, 0, 0, 0 },
	{ "x=abc", -1, NULL, 0, 0, 0 },
	{ "x=Unknown", -1, NULL, 0, 0, 0 },
	{ "x=12verylongunit", -1, NULL, 0, 0, 0 },
	{ "x=1 5", -1, NULL, 0, 0, 0 },
	{ "x=y==", -1, NULL, 0, 0, 0 },
};

static void test_perf_items(void)
{
	struct exec_perf p;
	size_t i;

	for (i = 0; i < sizeof(perf_cases) / sizeof(perf_cases[0]); i++) {
		const char *s = perf_cases[i].item;
		int rc = exec_parse_perf_item(s, strlen(s), &p);

		if (rc != perf_cases[i].rc)
			fprintf(stderr, "\nitem <%s>: rc %d, expected %d\n", s, rc, perf_cases[i].rc);
		CU_ASSERT_EQUAL(rc, perf_cases[i].rc);
		if (rc != 0 || perf_cases[i].rc != 0)
			continue;
		CU_ASSERT_STRING_EQUAL(p.label, perf_cases[i].label);
		CU_ASSERT_EQUAL(p.known, perf_cases[i].known);
		CU_ASSERT_EQUAL(p.unit, perf_cases[i].unit);
		if (perf_cases[i].known)
			CU_ASSERT_DOUBLE_EQUAL(p.value, perf_cases[i].value,
					       1e-12 * (1 + fabs(perf_cases[i].value)));
	}
}

/* A NUL inside the item (not at its end) makes it garbage; the length, not
 * the NUL, ends the item. */
static void test_perf_item_lengths(void)
{
	struct exec_perf p;

	CU_ASSERT_EQUAL(exec_parse_perf_item("a\0b=1", 5, &p), -1);
	CU_ASSERT_EQUAL(exec_parse_perf_item("a=1\0", 4, &p), -1);
	CU_ASSERT_EQUAL(exec_parse_perf_item("a=12 trailing", 4, &p), 0);
	CU_ASSERT_DOUBLE_EQUAL(p.value, 12, 0);
	CU_ASSERT_EQUAL(exec_parse_perf_item("'x'=1", 5, &p), 0);
	CU_ASSERT_STRING_EQUAL(p.label, "x");
}

static void test_output_first_line(void)
{
	static const char out[] =
		"LOAD OK - total load average: 3.50, 2.00, 1.40|load1=3.500;5.000;10.000;0; "
		"load5=2.000;4.000;8.000;0; load15=1.400;3.000;6.000;0; \n";
	struct exec_output o;

	exec_parse_output(out, sizeof(out) - 1, &o);
	CU_ASSERT_STRING_EQUAL(o.text, "LOAD OK - total load average: 3.50, 2.00, 1.40");
	CU_ASSERT_EQUAL_FATAL(o.count, 3);
	CU_ASSERT_STRING_EQUAL(o.items[0].label, "load1");
	CU_ASSERT_STRING_EQUAL(o.items[1].label, "load5");
	CU_ASSERT_STRING_EQUAL(o.items[2].label, "load15");
	CU_ASSERT_DOUBLE_EQUAL(o.items[2].value, 1.4, 1e-12);
	CU_ASSERT_EQUAL(o.bad, 0);

	/* No perfdata; text trimmed; no newline at the end. */
	exec_parse_output("  PROCS OK: 91 processes \t", 26, &o);
	CU_ASSERT_STRING_EQUAL(o.text, "PROCS OK: 91 processes");
	CU_ASSERT_EQUAL(o.count, 0);

	/* Empty output, and a first line that is all perfdata. */
	exec_parse_output("", 0, &o);
	CU_ASSERT_STRING_EQUAL(o.text, "");
	CU_ASSERT_EQUAL(o.count, 0);
	exec_parse_output("|a=1 'b c'=2\n", 13, &o);
	CU_ASSERT_STRING_EQUAL(o.text, "");
	CU_ASSERT_EQUAL_FATAL(o.count, 2);
	CU_ASSERT_STRING_EQUAL(o.items[1].label, "b c");

	/* A second '|' on the first line is part of the perfdata: garbage. */
	exec_parse_output("T | a=1 | b=2\n", 14, &o);
	CU_ASSERT_STRING_EQUAL(o.text, "T");
	CU_ASSERT_EQUAL(o.count, 2);
	CU_ASSERT_EQUAL(o.bad, 1);
	CU_ASSERT_STRING_EQUAL(o.first_bad, "|");
}

static void test_output_long_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	struct hr_err err;
	struct exec_output o;

	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, fixture("exec/longtext.sh"), &buf, &len, 65536,
					   &err), 0);
	/* The script's heredoc is the output. */
	{
		const char *start = strstr(buf, "DISK OK"), *end = strstr(buf, "OUT\nexit");

		CU_ASSERT_FATAL(start != NULL && end != NULL);
		exec_parse_output(start, (size_t)(end - start), &o);
	}
	CU_ASSERT_STRING_EQUAL(o.text, "DISK OK - free space: / 3326 MB (56%);");
	CU_ASSERT_EQUAL_FATAL(o.count, 4);
	CU_ASSERT_STRING_EQUAL(o.items[0].label, "/");
	CU_ASSERT_DOUBLE_EQUAL(o.items[0].value, 2643.0 * 1048576, 0);
	CU_ASSERT_STRING_EQUAL(o.items[1].label, "/boot");
	CU_ASSERT_STRING_EQUAL(o.items[2].label, "/home");
	CU_ASSERT_STRING_EQUAL(o.items[3].label, "/var/log");
	CU_ASSERT_DOUBLE_EQUAL(o.items[3].value, 818.0 * 1048576, 0);
	CU_ASSERT_EQUAL(o.bad, 0);
	free(buf);
}

static void test_output_garbage(void)
{
	static const char out[] =
		"WARN \001\377 things\t odd |good=5 =3 bad 1,5=x comma=1,5 ratio=2.5furl gone=U "
		"temp=-4.5e1 \n"
		"\000\033[31m more junk | time=20ms;;;0 ok=1c\n"
		"trailing |||| x=y==\n";
	struct exec_output o;
	struct hr_sample s;

	exec_parse_output(out, sizeof(out) - 1, &o);
	CU_ASSERT_STRING_EQUAL(o.text, "WARN ?? things? odd");
	CU_ASSERT_EQUAL(o.count, 6); /* good ratio gone temp time ok */
	CU_ASSERT_EQUAL(o.bad, 7);
	CU_ASSERT_STRING_EQUAL(o.first_bad, "=3");
	CU_ASSERT_EQUAL(o.odd_units, 1);
	CU_ASSERT_STRING_EQUAL(o.first_odd, "furl");
	hr_sample_init(&s, "exec", "t");
	hr_sample_set(&s, "state", 1);
	exec_sample_perf(&o, &s);
	CU_ASSERT_EQUAL(s.nvalues, 6); /* gone=U is left out */
	ASSERT_VAL(&s, "good", 5);
	ASSERT_VAL(&s, "ratio", 2.5);
	ASSERT_VAL(&s, "temp", -45);
	ASSERT_VAL(&s, "time", 0.02);
	ASSERT_VAL(&s, "ok_total", 1);
	ASSERT_NO_VAL(&s, "gone");
	CU_ASSERT_EQUAL(s.truncated, 0);
}

static void test_output_long_lines(void)
{
	size_t n = 200000, i, o = 0;
	char *buf = malloc(n + 64);
	struct exec_output out;
	unsigned seed = 12345;

	CU_ASSERT_FATAL(buf != NULL);
	/* Many items: the first EXEC_PERF_MAX are kept, the rest counted. */
	o = (size_t)snprintf(buf, n, "OK|");
	while (o + 8 < n)
		o += (size_t)snprintf(buf + o, n - o, "a%zu=1 ", o % 1000);
	exec_parse_output(buf, o, &out);
	CU_ASSERT_EQUAL(out.count, EXEC_PERF_MAX);
	CU_ASSERT(out.dropped > 1000);
	CU_ASSERT_EQUAL(out.bad, 0);

	/* One huge quoted label: cut, the item kept. */
	buf[0] = '|';
	buf[1] = '\'';
	memset(buf + 2, 'x', n - 2);
	memcpy(buf + n - 4, "'=7", 3);
	exec_parse_output(buf, n - 1, &out);
	CU_ASSERT_EQUAL_FATAL(out.count, 1);
	CU_ASSERT_EQUAL(strlen(out.items[0].label), EXEC_LABEL_MAX - 1);
	CU_ASSERT_DOUBLE_EQUAL(out.items[0].value, 7, 0);

	/* A huge first line of text: cut to a label's size. */
	memset(buf, 'T', n);
	exec_parse_output(buf, n, &out);
	CU_ASSERT_EQUAL(strlen(out.text), HR_LABEL_VALUE_MAX - 1);

	/* Random bytes: whatever is kept is sound. */
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
		if (buf[i] == '#')
			buf[i] = '|';
	}
	exec_parse_output(buf, n, &out);
	CU_ASSERT(out.count <= EXEC_PERF_MAX);
	for (i = 0; i < out.count; i++) {
		CU_ASSERT(memchr(out.items[i].label, '\0', EXEC_LABEL_MAX) != NULL);
		CU_ASSERT(isfinite(out.items[i].value));
	}
	CU_ASSERT(memchr(out.text, '\0', sizeof(out.text)) != NULL);
	free(buf);
}

/* ---- value names ---- */

static const struct {
	const char *label;
	enum exec_unit unit;
	const char *name;
} name_cases[] = {
	{ "load1", EXEC_UNIT_NONE, "load1" },
	{ "/var/lib", EXEC_UNIT_BYTES, "var_lib" },
	{ "/", EXEC_UNIT_BYTES, "root" },
	{ "!!!", EXEC_UNIT_NONE, "value" },
	{ "state", EXEC_UNIT_NONE, "state_2" },
	{ "Time-To-Live (s)", EXEC_UNIT_SECONDS, "Time_To_Live_s" },
	{ "temp\xc3\xa9rature", EXEC_UNIT_NONE, "temp_rature" },
	{ "rx bytes", EXEC_UNIT_COUNTER, "rx_bytes_total" },
	{ "rx_total", EXEC_UNIT_COUNTER, "rx_total" },
	{ "bytes_total", EXEC_UNIT_BYTES, "bytes_tot" },
	{ "a very long label name indeed", EXEC_UNIT_NONE, "a_very_long_label_n" },
	{ "interface eth0 octets in", EXEC_UNIT_COUNTER, "interface_eth_total" },
	{ "abcdefghijkl mnop", EXEC_UNIT_COUNTER, "abcdefghijkl_total" },
};

static void test_value_names(void)
{
	struct hr_sample s;
	char name[HR_NAME_MAX];
	size_t i;

	hr_sample_init(&s, "exec", "t");
	for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		exec_value_name(name_cases[i].label, name_cases[i].unit, &s, name);
		if (strcmp(name, name_cases[i].name) != 0)
			fprintf(stderr, "\nlabel <%s>: name <%s>, expected <%s>\n",
				name_cases[i].label, name, name_cases[i].name);
		CU_ASSERT_STRING_EQUAL(name, name_cases[i].name);
		CU_ASSERT(hr_name_valid(name));
	}
}

static void test_value_names_unique(void)
{
	static const char out[] =
		"OK|load1=1 load1=2 'load 1'=3 load-1=4 state=5 rx=6c rx_total=7c "
		"'a very long label name indeed'=8 'a very long label name, too'=9\n";
	struct exec_output o;
	struct hr_sample s;

	exec_parse_output(out, sizeof(out) - 1, &o);
	CU_ASSERT_EQUAL_FATAL(o.count, 9);
	hr_sample_init(&s, "exec", "t");
	hr_sample_set(&s, "state", 0);
	exec_sample_perf(&o, &s);
	CU_ASSERT_EQUAL(s.nvalues, 10);
	ASSERT_VAL(&s, "state", 0); /* never overwritten by a label "state" */
	ASSERT_VAL(&s, "load1", 1);
	ASSERT_VAL(&s, "load1_2", 2);
	ASSERT_VAL(&s, "load_1", 3);
	ASSERT_VAL(&s, "load_1_2", 4);
	ASSERT_VAL(&s, "state_2", 5);
	ASSERT_VAL(&s, "rx_total", 6);
	ASSERT_VAL(&s, "rx_2_total", 7);
	ASSERT_VAL(&s, "a_very_long_label_n", 8);
	ASSERT_VAL(&s, "a_very_long_label_2", 9);
}

static void test_sample_full(void)
{
	char buf[4096];
	size_t o, i;
	struct exec_output out;
	struct hr_sample s;

	o = (size_t)snprintf(buf, sizeof(buf), "OK|");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "v%zu=%zu ", i, i);
	exec_parse_output(buf, o, &out);
	CU_ASSERT_EQUAL(out.count, 40);
	hr_sample_init(&s, "exec", "t");
	hr_sample_set(&s, "state", 0);
	exec_sample_perf(&out, &s);
	CU_ASSERT_EQUAL(s.nvalues, HR_SAMPLE_VALUES);
	CU_ASSERT_EQUAL(s.truncated, 40 - (HR_SAMPLE_VALUES - 1));
	ASSERT_VAL(&s, "v30", 30);
	ASSERT_NO_VAL(&s, "v31");
}

/* ---- the probe ---- */

static int plugins_present(void)
{
	if (access(PLUGINS "check_dummy", X_OK) == 0)
		return 1;
	CU_FAIL("the real plugins are missing: apt-get install monitoring-plugins-basic");
	return 0;
}

static const struct hr_sample *find(const struct hr_recsink *rec, const char *name)
{
	return hr_recsink_find(rec, "exec", name);
}

static const char *label(const struct hr_sample *s, const char *name)
{
	const char *l = s != NULL ? hr_sample_get_label(s, name) : NULL;

	return l != NULL ? l : "(none)";
}

static void test_states(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;
	static const char *const names[] = { "ok", "warning", "critical", "unknown" };
	static const char *const texts[] = { "OK: all fine", "WARNING: all fine",
					     "CRITICAL: all fine", "UNKNOWN: all fine" };
	int i;

	if (!plugins_present())
		return;
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL_FATAL(run_probe(&probe_exec, "/",
		"{\"ok\": {\"command\": [\"" PLUGINS "check_dummy\", \"0\", \"all fine\"]},"
		" \"warning\": {\"command\": [\"" PLUGINS "check_dummy\", \"1\", \"all fine\"]},"
		" \"critical\": {\"command\": [\"" PLUGINS "check_dummy\", \"2\", \"all fine\"]},"
		" \"unknown\": {\"command\": [\"" PLUGINS "check_dummy\", \"3\", \"all fine\"]}}", &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 4);
	for (i = 0; i < 4; i++) {
		s = find(&rec, names[i]);
		CU_ASSERT_FATAL(s != NULL);
		ASSERT_VAL(s, "state", i);
		CU_ASSERT_STRING_EQUAL(label(s, "output"), texts[i]);
		CU_ASSERT_STRING_EQUAL(label(s, "error"), "(none)");
		CU_ASSERT_EQUAL(s->nvalues, 1);
		CU_ASSERT_EQUAL(s->step, 0);
	}
	hr_recsink_free(&rec);
}

static void test_states_path_lookup(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char path[4096];

	if (!plugins_present())
		return;
	/* argv[0] without '/' is looked up in PATH, like execvp. */
	snprintf(path, sizeof(path), "%s:%s", PLUGINS, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_exec, "/",
		"{\"unknown\": {\"command\": [\"check_dummy\", \"3\", \"all fine\"]},"
		" \"odd\": {\"command\": [\"check_dummy\", \"7\"]}}", &rec), 0);
	s = find(&rec, "unknown");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "UNKNOWN: all fine");
	/* The plugin said UNKNOWN itself: no error of ours. */
	CU_ASSERT_STRING_EQUAL(label(s, "error"), "(none)");
	s = find(&rec, "odd");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "UNKNOWN: Status 7 is not a supported error state");
	if (old != NULL)
		setenv("PATH", old, 1);
	free(old);
	hr_recsink_free(&rec);
}

static void test_real_plugins(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;
	struct statvfs vfs;
	double total;

	if (!plugins_present())
		return;
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL_FATAL(run_probe(&probe_exec, "/",
		"{\"load\": {\"command\": [\"" PLUGINS "check_load\", \"-w\", \"1000,1000,1000\", \"-c\", \"2000,2000,2000\"]},"
		" \"disk\": {\"command\": [\"" PLUGINS "check_disk\", \"-w\", \"10%\", \"-c\", \"5%\", \"-p\", \"/\"]},"
		" \"procs\": {\"command\": [\"" PLUGINS "check_procs\"]},"
		" \"users\": {\"command\": [\"" PLUGINS "check_users\", \"-w\", \"100000\", \"-c\", \"200000\"]},"
		" \"swap\": {\"command\": [\"" PLUGINS "check_swap\", \"-w\", \"10%\", \"-c\", \"5%\"]}}",
		&rec), 0);
	CU_ASSERT_EQUAL(rec.count, 5);

	s = find(&rec, "load");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 0); /* thresholds no machine reaches */
	CU_ASSERT(strncmp(label(s, "output"), "LOAD OK", 7) == 0);
	CU_ASSERT(sval(s, "load1") >= 0);
	CU_ASSERT(sval(s, "load5") >= 0);
	CU_ASSERT(sval(s, "load15") >= 0);
	CU_ASSERT_EQUAL(s->nvalues, 4);

	/* check_disk reports the used space of "/" in bytes (label "/"). */
	s = find(&rec, "disk");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(sval(s, "state") >= 0 && sval(s, "state") <= 2);
	CU_ASSERT(strncmp(label(s, "output"), "DISK ", 5) == 0);
	CU_ASSERT_EQUAL_FATAL(statvfs("/", &vfs), 0);
	total = (double)vfs.f_blocks * vfs.f_frsize;
	CU_ASSERT(sval(s, "root") > 0);
	CU_ASSERT(sval(s, "root") <= total);
	CU_ASSERT(fabs(sval(s, "root") - total + (double)vfs.f_bfree * vfs.f_frsize) <
		  0.05 * total);

	s = find(&rec, "procs");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(strncmp(label(s, "output"), "PROCS ", 6) == 0);
	CU_ASSERT(sval(s, "procs") >= 1);

	s = find(&rec, "users");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 0);
	CU_ASSERT(sval(s, "users") >= 0);

	/* Bytes, whatever the swap (none gives "swap=0B" and CRITICAL). */
	s = find(&rec, "swap");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT(strncmp(label(s, "output"), "SWAP ", 5) == 0);
	CU_ASSERT(sval(s, "swap") >= 0);
	hr_recsink_free(&rec);
}

static void test_hang(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;
	double t0, took;

	if (!plugins_present())
		return;
	hr_recsink_init(&rec);
	t0 = hr_now_mono();
	CU_ASSERT_EQUAL(run_probe(&probe_exec, "/",
		"{\"hang\": {\"command\": [\"sh\", \"-c\", \"echo 'started|a=1'; sleep 60\"], \"timeout\": 1},"
		" \"ok\": {\"command\": [\"" PLUGINS "check_dummy\", \"0\", \"fine\"]}}", &rec), 0);
	took = hr_now_mono() - t0;
	CU_ASSERT(took >= 0.9);
	CU_ASSERT(took < 5);
	s = find(&rec, "hang");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT_STRING_EQUAL(label(s, "error"), "timed out after 1 s");
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "started");
	CU_ASSERT_EQUAL(s->nvalues, 1); /* no values from a cut output */
	s = find(&rec, "ok");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 0);
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "OK: fine");
	hr_recsink_free(&rec);
}

/* Checks run at the same time, EXEC_PARALLEL at most: nine that hang for
 * 0.5 s take two rounds, not nine. */
static void test_parallel(void)
{
	char cfg[4096];
	struct hr_recsink rec;
	size_t o, i;
	double t0, took;

	o = (size_t)snprintf(cfg, sizeof(cfg), "{");
	for (i = 0; i < 9; i++)
		o += (size_t)snprintf(cfg + o, sizeof(cfg) - o,
				      "%s\"h%zu\": {\"command\": [\"sleep\", \"30\"], \"timeout\": 0.5}",
				      i ? ", " : "", i);
	snprintf(cfg + o, sizeof(cfg) - o, "}");
	hr_recsink_init(&rec);
	t0 = hr_now_mono();
	CU_ASSERT_EQUAL(run_probe(&probe_exec, "/", cfg, &rec), 0);
	took = hr_now_mono() - t0;
	CU_ASSERT(took >= 0.9);
	CU_ASSERT(took < 3);
	CU_ASSERT_EQUAL(rec.count, 9);
	for (i = 0; i < rec.count; i++) {
		ASSERT_VAL(&rec.samples[i], "state", 3);
		CU_ASSERT_STRING_EQUAL(label(&rec.samples[i], "error"), "timed out after 0.5 s");
	}
	hr_recsink_free(&rec);
}

static void test_misbehaving(void)
{
	char cfg[2048];
	struct hr_recsink rec;
	const struct hr_sample *s;
	char garbage[512], broken[512];

	snprintf(garbage, sizeof(garbage), "%s", fixture("exec/garbage.sh"));
	snprintf(broken, sizeof(broken), "%s", fixture("exec/stderr255.sh"));
	snprintf(cfg, sizeof(cfg),
		 "{\"flood\": {\"command\": [\"yes\"], \"max_output\": 4096},"
		 " \"garbage\": {\"command\": [\"sh\", \"%s\"]},"
		 " \"broken\": {\"command\": [\"sh\", \"%s\"]},"
		 " \"killed\": {\"command\": [\"sh\", \"-c\", \"echo 'dying|a=1'; kill -9 $$\"]},"
		 " \"missing\": {\"command\": [\"/nonexistent/check_nothing\"]},"
		 " \"silent\": {\"command\": [\"true\"]}}",
		 garbage, broken);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_exec, "/", cfg, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 6);

	s = find(&rec, "flood");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT_STRING_EQUAL(label(s, "error"), "output over 4096 bytes");
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "y");
	CU_ASSERT_EQUAL(s->nvalues, 1);

	s = find(&rec, "garbage");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 1);
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "WARN ?? things? odd");
	CU_ASSERT_STRING_EQUAL(label(s, "error"), "(none)");
	ASSERT_VAL(s, "good", 5);
	ASSERT_VAL(s, "ratio", 2.5);
	ASSERT_VAL(s, "temp", -45);
	ASSERT_VAL(s, "time", 0.02);
	ASSERT_VAL(s, "ok_total", 1);
	CU_ASSERT_EQUAL(s->nvalues, 6);

	/* Exit 255: UNKNOWN, why (with standard error's first line), and the
	 * values of the complete output. */
	s = find(&rec, "broken");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT_STRING_EQUAL(label(s, "error"),
			       "exit status 255: cannot open /nonexistent/config");
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "partial");
	ASSERT_VAL(s, "a", 1);

	s = find(&rec, "killed");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT_STRING_EQUAL(label(s, "error"), "killed by signal 9");
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "dying");
	ASSERT_NO_VAL(s, "a");

	s = find(&rec, "missing");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 3);
	CU_ASSERT(strstr(label(s, "error"), "/nonexistent/check_nothing") != NULL);
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "(none)");

	/* No output at all: OK, no output label. */
	s = find(&rec, "silent");
	CU_ASSERT_FATAL(s != NULL);
	ASSERT_VAL(s, "state", 0);
	CU_ASSERT_STRING_EQUAL(label(s, "output"), "(none)");
	CU_ASSERT_EQUAL(s->nvalues, 1);
	hr_recsink_free(&rec);
}

/* Sets the probe up from JSON; NULL when setup fails. */
static void *exec_open(const char *json)
{
	struct probe_env env = { .root = "/" };
	struct hr_errs errs;
	cJSON *cfg = cJSON_Parse(json);
	void *state = NULL;

	CU_ASSERT_FATAL(cfg != NULL);
	hr_errs_init(&errs);
	if (probe_exec.setup(&env, cfg, "probes.exec", &state, &errs) < 0)
		state = NULL;
	CU_ASSERT_FALSE(hr_errs_any(&errs));
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	return state;
}

static void test_check_interval(void)
{
	struct hr_recsink rec;
	struct hr_err err;
	const struct hr_sample *s;
	void *st;

	st = exec_open("{\"every\": {\"command\": [\"sh\", \"-c\", \"echo 'fine|n=1'\"]},"
		       " \"slow\": {\"command\": [\"sh\", \"-c\", \"echo 'slow|n=2'; exit 1\"], \"interval\": \"1m\"}}");
	CU_ASSERT_FATAL(st != NULL);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(probe_exec.read(st, &rec.sink, &err), 0);
	CU_ASSERT_EQUAL(rec.count, 2);
	s = find(&rec, "every");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->step, 0); /* the probe's interval */
	s = find(&rec, "slow");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(s->step, 60); /* its own RRD step */
	ASSERT_VAL(s, "state", 1);
	ASSERT_VAL(s, "n", 2);
	/* At once again: only the check without its own interval is due. */
	hr_recsink_clear(&rec);
	CU_ASSERT_EQUAL(probe_exec.read(st, &rec.sink, &err), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	CU_ASSERT(find(&rec, "every") != NULL);
	CU_ASSERT(find(&rec, "slow") == NULL);
	probe_exec.teardown(st);
	hr_recsink_free(&rec);
}

static void test_logged_once(void)
{
	char cfg[1024];

	snprintf(cfg, sizeof(cfg), "{\"g\": {\"command\": [\"sh\", \"%s\"]}}",
		 fixture("exec/garbage.sh"));
	CU_ASSERT_EQUAL(probe_log_lines(&probe_exec, "/", cfg, 3, "probe exec: g: perfdata: 7 item(s) skipped"), 1);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_exec, "/", "{\"m\": {\"command\": [\"/nonexistent/x\"]}}", 3,
				  "probe exec: m: /nonexistent/x:"), 1);
	CU_ASSERT_EQUAL(probe_log_lines(&probe_exec, "/", "{\"k\": {\"command\": [\"sh\", \"-c\", \"kill -9 $$\"]}}", 3,
				  "probe exec: k: sh: killed by signal 9"), 1);
}

static const struct {
	const char *json; /* NULL: no config */
	const char *error; /* NULL: valid */
} cfg_cases[] = {
	{ NULL, "probes.exec: no checks configured" },
	{ "{}", "probes.exec: no checks configured" },
	{ "{\"interval\": 60}", "probes.exec: no checks configured" },
	{ "{\"procs\": {}}", "probes.exec.procs: missing \"command\"" },
	{ "{\"procs\": {\"command\": []}}",
	  "probes.exec.procs.command: expected a non-empty array of strings" },
	{ "{\"procs\": {\"command\": \"check_procs\"}}",
	  "probes.exec.procs.command: expected a non-empty array of strings" },
	{ "{\"procs\": {\"command\": [1]}}",
	  "probes.exec.procs.command[0]: expected the plugin's path or name" },
	{ "{\"procs\": {\"command\": [\"\"]}}",
	  "probes.exec.procs.command[0]: expected the plugin's path or name" },
	{ "{\"procs\": {\"command\": [\"x\", null]}}",
	  "probes.exec.procs.command[1]: expected a string" },
	{ "{\"bad name\": {\"command\": [\"x\"]}}", "probes.exec.bad name: a check's name must be" },
	{ "{\"a/b\": {\"command\": [\"x\"]}}", "probes.exec.a/b: a check's name must be" },
	{ "{\"\": {\"command\": [\"x\"]}}", "a check's name must be" },
	{ "{\"procs\": 5}", "probes.exec.procs: expected an object" },
	{ "{\"procs\": {\"command\": [\"x\"], \"timeot\": 5}}", "probes.exec.procs.timeot: unknown key" },
	{ "{\"procs\": {\"command\": [\"x\"], \"timeout\": 0}}", "probes.exec.procs.timeout: duration" },
	{ "{\"procs\": {\"command\": [\"x\"], \"timeout\": \"1h\"}}",
	  "probes.exec.procs.timeout: duration" },
	{ "{\"procs\": {\"command\": [\"x\"], \"timeout\": \"soon\"}}",
	  "probes.exec.procs.timeout: expected a duration" },
	{ "{\"procs\": {\"command\": [\"x\"], \"max_output\": 10}}",
	  "probes.exec.procs.max_output: 10 is out of range" },
	{ "{\"procs\": {\"command\": [\"x\"], \"max_output\": 1000.5}}",
	  "probes.exec.procs.max_output: must be a whole number of bytes" },
	{ "{\"procs\": {\"command\": [\"x\"], \"interval\": 1.5}}",
	  "probes.exec.procs.interval: must be a whole number of seconds" },
	{ "{\"procs\": {\"command\": [\"x\"], \"interval\": 0}}", "probes.exec.procs.interval: duration" },
	{ "{\"interval\": 60, \"procs\": {\"command\": [\"x\"], \"interval\": 30}}",
	  "probes.exec.procs.interval: 30s is shorter than the probe's interval 60s" },
	{ "{\"a\": {\"command\": [\"x\"]}, \"a\": {\"command\": [\"y\"]}}",
	  "probes.exec.a: duplicate key" },
	{ "{\"interval\": 60, \"procs\": {\"command\": [\"check_procs\", \"-w\", \"\"], "
	  "\"interval\": \"2m\", \"timeout\": \"30s\", \"max_output\": 1024}, "
	  "\"my-check.v2\": {\"command\": [\"/bin/true\"]}}", NULL },
};

static void test_config(void)
{
	struct probe_env env = { .root = "/" };
	size_t i, j;

	for (i = 0; i < sizeof(cfg_cases) / sizeof(cfg_cases[0]); i++) {
		struct hr_errs errs;
		cJSON *cfg = cfg_cases[i].json ? cJSON_Parse(cfg_cases[i].json) : NULL;
		void *st = NULL;
		int rc, found = 0;

		CU_ASSERT_FATAL(cfg_cases[i].json == NULL || cfg != NULL);
		hr_errs_init(&errs);
		rc = probe_exec.setup(&env, cfg, "probes.exec", &st, &errs);
		for (j = 0; j < errs.count; j++)
			if (cfg_cases[i].error && strstr(errs.items[j], cfg_cases[i].error))
				found = 1;
		if (cfg_cases[i].error == NULL) {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_EQUAL(errs.count, 0);
			CU_ASSERT(st != NULL);
		} else {
			CU_ASSERT_EQUAL(rc, -1);
			if (!found)
				fprintf(stderr, "\nconfig %s: no error \"%s\" (got %s)\n",
					cfg_cases[i].json, cfg_cases[i].error,
					errs.count ? errs.items[0] : "none");
			CU_ASSERT(found);
		}
		probe_exec.teardown(rc == 0 ? st : NULL);
		hr_errs_free(&errs);
		cJSON_Delete(cfg);
	}
}

/* Every problem is reported, not the first only. */
static void test_config_all_errors(void)
{
	struct probe_env env = { .root = "/" };
	struct hr_errs errs;
	cJSON *cfg = cJSON_Parse("{\"a\": {}, \"b\": {\"command\": []}, \"c\": {\"command\": [\"x\"], "
				 "\"timeout\": -1, \"max_output\": \"big\"}, \"ok\": {\"command\": [\"x\"]}}");
	void *st = NULL;

	hr_errs_init(&errs);
	CU_ASSERT_EQUAL(probe_exec.setup(&env, cfg, "probes.exec", &st, &errs), -1);
	CU_ASSERT_EQUAL(errs.count, 4);
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
}

static CU_TestInfo tests[] = {
	{ "perfdata items", test_perf_items },
	{ "perfdata item lengths", test_perf_item_lengths },
	{ "output: first line", test_output_first_line },
	{ "output: long text", test_output_long_text },
	{ "output: garbage", test_output_garbage },
	{ "output: long lines", test_output_long_lines },
	{ "value names", test_value_names },
	{ "value names unique", test_value_names_unique },
	{ "sample full", test_sample_full },
	{ "states (check_dummy)", test_states },
	{ "states, PATH lookup", test_states_path_lookup },
	{ "real plugins", test_real_plugins },
	{ "hang", test_hang },
	{ "parallel", test_parallel },
	{ "flood, garbage, exit 255, killed, missing", test_misbehaving },
	{ "check interval", test_check_interval },
	{ "logged once", test_logged_once },
	{ "config", test_config },
	{ "config: all errors", test_config_all_errors },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("exec", tests);
}
