/* test_ups_nut.c: the ups probe's NUT half and its config. The reply
 * parser and the mapper on every status word, escapes, ERR and broken
 * replies; the .dev parser on real UPS dumps (tests/fixtures/ups/nut, and
 * the whole nut-ddl corpus when ../shared/corpus is there); and the probe
 * against fake upsd servers in a thread that answer well, never answer,
 * answer half a line, flood, close, or say ERR — including a STARTTLS that
 * is refused or whose certificate does not verify. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "testutil.h"
#include "ups.h"
#include "ups_nut.h"
#include "util.h"

/* --- the pure parts ------------------------------------------------------ */

static int parse_list(const char *text, struct ups_nut_vars *v, struct hr_err *err)
{
	ups_nut_vars_init(v);
	return ups_nut_parse_list(text, strlen(text), "ups", v, err);
}

static void test_split(void)
{
	char w[6][UPS_NUT_VALUE_MAX];
	char longword[UPS_NUT_VALUE_MAX + 10];

	CU_ASSERT_EQUAL(ups_nut_split("VAR ups ups.status \"OL CHRG\"", 28, w, 6), 4);
	CU_ASSERT_STRING_EQUAL(w[3], "OL CHRG");
	/* \" and \\ inside quotes */
	CU_ASSERT_EQUAL(ups_nut_split("\"a \\\"b\\\" \\\\ c\"", 14, w, 6), 1);
	CU_ASSERT_STRING_EQUAL(w[0], "a \"b\" \\ c");
	/* a backslash outside quotes escapes too; tabs separate */
	CU_ASSERT_EQUAL(ups_nut_split("x\\ y\tz", 6, w, 6), 2);
	CU_ASSERT_STRING_EQUAL(w[0], "x y");
	CU_ASSERT_STRING_EQUAL(w[1], "z");
	/* an empty quoted word is a word */
	CU_ASSERT_EQUAL(ups_nut_split("VAR u x \"\"", 10, w, 6), 4);
	CU_ASSERT_STRING_EQUAL(w[3], "");
	/* '#' at a word start ends the line (dummy-ups comments) */
	CU_ASSERT_EQUAL(ups_nut_split("OB LB\t#BAD: x", 13, w, 6), 2);
	CU_ASSERT_EQUAL(ups_nut_split("   ", 3, w, 6), 0);
	/* broken: unclosed quote, trailing backslash, NUL, too many words */
	CU_ASSERT_EQUAL(ups_nut_split("\"open", 5, w, 6), -1);
	CU_ASSERT_EQUAL(ups_nut_split("a\\", 2, w, 6), -1);
	CU_ASSERT_EQUAL(ups_nut_split("a\0b", 3, w, 6), -1);
	CU_ASSERT_EQUAL(ups_nut_split("a b c d e f g", 13, w, 6), -1);
	memset(longword, 'x', sizeof(longword));
	CU_ASSERT_EQUAL(ups_nut_split(longword, sizeof(longword), w, 6), -1);
}

static void test_parse_list_good(void)
{
	struct ups_nut_vars v;
	struct hr_err err;
	const char *r =
		"BEGIN LIST VAR ups\n"
		"VAR ups battery.charge \"100\"\n"
		"VAR ups battery.runtime \"2565\"\r\n"
		"VAR ups ups.model \"Back-UPS \\\"ES\\\" 700 \\\\ x\"\n"
		"VAR other ups.load \"99\"\n"
		"SOMETHING else\n"
		"VAR ups ups.status \"OL CHRG\"\n"
		"END LIST VAR ups\n";

	CU_ASSERT_EQUAL(parse_list(r, &v, &err), 0);
	CU_ASSERT_EQUAL(v.count, 4);
	CU_ASSERT_STRING_EQUAL(ups_nut_vars_get(&v, "battery.runtime"), "2565");
	CU_ASSERT_STRING_EQUAL(ups_nut_vars_get(&v, "ups.model"), "Back-UPS \"ES\" 700 \\ x");
	CU_ASSERT_STRING_EQUAL(ups_nut_vars_get(&v, "ups.status"), "OL CHRG");
	CU_ASSERT_PTR_NULL(ups_nut_vars_get(&v, "ups.load")); /* another ups's */
	CU_ASSERT_EQUAL(v.skipped, 2);
	CU_ASSERT_EQUAL(v.first_bad, 5);
	CU_ASSERT_EQUAL(ups_nut_reply_done(r, strlen(r)), 1);
	ups_nut_vars_free(&v);
}

static void test_parse_list_broken(void)
{
	static const struct {
		const char *reply;
		const char *msg; /* expected in err */
	} cases[] = {
		{ "ERR ACCESS-DENIED\n", "upsd: ERR ACCESS-DENIED" },
		{ "ERR UNKNOWN-UPS\n", "upsd: ERR UNKNOWN-UPS" },
		{ "ERR DATA-STALE\n", "upsd: ERR DATA-STALE" },
		{ "", "empty reply" },
		{ "BEGIN LIST VAR ups\nVAR ups ups.status \"OL\"\n", "ends before" },
		{ "BEGIN LIST VAR ups\nVAR ups ups.status \"OL", "ends before" },
		{ "BEGIN LIST VAR ups\nEND LIST VAR ups", "ends before" }, /* no newline */
		{ "BEGIN LIST VAR other\nEND LIST VAR other\n", "does not begin" },
		{ "HTTP/1.1 400 Bad Request\r\n\r\n", "does not begin" },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", "does not begin" },
		{ "OK\n", "does not begin" },
		{ "BEGIN LIST VAR ups\nEND LIST VAR other\n", "ends before" },
	};
	struct ups_nut_vars v;
	struct hr_err err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		CU_ASSERT_EQUAL(parse_list(cases[i].reply, &v, &err), -1);
		if (strstr(err.msg, cases[i].msg) == NULL)
			fprintf(stderr, "case %zu: err \"%s\", want \"%s\"\n", i, err.msg,
				cases[i].msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].msg));
		ups_nut_vars_free(&v);
	}
	/* ERR is a complete reply; a half reply is not */
	CU_ASSERT_EQUAL(ups_nut_reply_done("ERR ACCESS-DENIED\n", 18), 1);
	CU_ASSERT_EQUAL(ups_nut_reply_done("BEGIN LIST VAR ups\nVAR ups x \"1\"\n", 33), 0);
	CU_ASSERT_EQUAL(ups_nut_reply_done("BEGIN LIST VAR ups\nEND LIST VAR ups", 35), 0);
	CU_ASSERT_EQUAL(ups_nut_reply_done("BEGIN LIST VAR ups\nVAR ups ERR \"x\"\n", 35), 0);
}

static void test_parse_list_limits(void)
{
	struct ups_nut_vars v;
	struct hr_err err;
	char *big;
	size_t n = 0, i, cap = 3u << 20;

	/* a line longer than UPS_NUT_LINE_MAX fails the reply */
	big = malloc(cap);
	CU_ASSERT_FATAL(big != NULL);
	n += (size_t)snprintf(big, cap, "BEGIN LIST VAR ups\nVAR ups ups.model \"");
	memset(big + n, 'x', 2000);
	n += 2000;
	n += (size_t)snprintf(big + n, cap - n, "\"\nEND LIST VAR ups\n");
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(ups_nut_parse_list(big, n, "ups", &v, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than"));
	ups_nut_vars_free(&v);

	/* more variables than UPS_NUT_VARS_MAX: the first ones are kept */
	n = (size_t)snprintf(big, cap, "BEGIN LIST VAR ups\n");
	for (i = 0; i < 3000; i++)
		n += (size_t)snprintf(big + n, cap - n, "VAR ups v.%zu \"%zu\"\n", i, i);
	n += (size_t)snprintf(big + n, cap - n, "END LIST VAR ups\n");
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(ups_nut_parse_list(big, n, "ups", &v, &err), 0);
	CU_ASSERT_EQUAL(v.count, UPS_NUT_VARS_MAX);
	CU_ASSERT_EQUAL(v.skipped, 3000 - UPS_NUT_VARS_MAX);
	CU_ASSERT_STRING_EQUAL(ups_nut_vars_get(&v, "v.0"), "0");
	ups_nut_vars_free(&v);

	/* a bad variable name or a broken line is skipped, not fatal */
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(parse_list("BEGIN LIST VAR ups\nVAR ups bad/name \"1\"\n"
				   "VAR ups x \"open\nVAR ups battery.charge \"5\"\nEND LIST VAR ups\n",
				   &v, &err), 0);
	CU_ASSERT_EQUAL(v.count, 1);
	CU_ASSERT_EQUAL(v.skipped, 2);
	ups_nut_vars_free(&v);
	free(big);
}

/* Maps a status alone; returns the sample in *s. */
static void map_status(const char *status, struct hr_sample *s)
{
	struct ups_nut_vars v;
	char r[512];
	struct hr_err err;

	snprintf(r, sizeof(r), "BEGIN LIST VAR ups\nVAR ups ups.status \"%s\"\nEND LIST VAR ups\n",
		 status);
	CU_ASSERT_EQUAL(parse_list(r, &v, &err), 0);
	hr_sample_init(s, "ups", "ups@h");
	ups_nut_map(&v, s);
	ups_nut_vars_free(&v);
}

static void test_status_words(void)
{
	static const struct {
		const char *status;
		int ol, ob, lb, rb, over;
	} cases[] = {
		{ "OL", 1, 0, 0, 0, 0 },      { "OB", 0, 1, 0, 0, 0 },
		{ "LB", 0, 0, 1, 0, 0 },      { "HB", 0, 0, 0, 0, 0 },
		{ "RB", 0, 0, 0, 1, 0 },      { "CHRG", 0, 0, 0, 0, 0 },
		{ "DISCHRG", 0, 0, 0, 0, 0 }, { "BYPASS", 0, 0, 0, 0, 0 },
		{ "CAL", 0, 0, 0, 0, 0 },     { "OFF", 0, 0, 0, 0, 0 },
		{ "OVER", 0, 0, 0, 0, 1 },    { "TRIM", 0, 0, 0, 0, 0 },
		{ "BOOST", 0, 0, 0, 0, 0 },   { "FSD", 0, 0, 1, 0, 0 },
		{ "ALARM", 0, 0, 0, 0, 0 },
		{ "OL CHRG", 1, 0, 0, 0, 0 }, { "OB DISCHRG", 0, 1, 0, 0, 0 },
		{ "OB LB", 0, 1, 1, 0, 0 },   { "OL CHRG RB", 1, 0, 0, 1, 0 },
		{ "OL OVER", 1, 0, 0, 0, 1 }, { "OL LB OVER RB BOOST", 1, 0, 1, 1, 1 },
		{ "FSD OB LB", 0, 1, 1, 0, 0 }, { "OL HE", 1, 0, 0, 0, 0 },
		{ "  OL   TRIM ", 1, 0, 0, 0, 0 },
	};
	struct hr_sample s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		map_status(cases[i].status, &s);
		ASSERT_VAL(&s, "online", cases[i].ol);
		ASSERT_VAL(&s, "on_battery", cases[i].ob);
		ASSERT_VAL(&s, "low_battery", cases[i].lb);
		ASSERT_VAL(&s, "replace_battery", cases[i].rb);
		ASSERT_VAL(&s, "overload", cases[i].over);
		CU_ASSERT_PTR_NOT_NULL_FATAL(hr_sample_get_label(&s, "status"));
		ASSERT_NO_VAL(&s, "reachable"); /* the probe's, not the mapper's */
	}
	map_status("  OL   TRIM ", &s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "status"), "OL TRIM");
	/* every listed word is known; others are counted */
	{
		unsigned unk = 9;

		CU_ASSERT_EQUAL(ups_nut_status_bits("OL OB LB HB RB CHRG DISCHRG BYPASS CAL OFF "
						    "OVER TRIM BOOST FSD ALARM", &unk),
				(1u << 15) - 1);
		CU_ASSERT_EQUAL(unk, 0);
		CU_ASSERT_EQUAL(ups_nut_status_bits("OL ECO HE", &unk), UPS_NUT_ST_OL);
		CU_ASSERT_EQUAL(unk, 2);
	}
	/* no known word: the flags are unknown and left out, the label stays */
	map_status("HE", &s);
	ASSERT_NO_VAL(&s, "online");
	ASSERT_NO_VAL(&s, "on_battery");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "status"), "HE");
	map_status("", &s);
	ASSERT_NO_VAL(&s, "online");
	CU_ASSERT_PTR_NULL(hr_sample_get_label(&s, "status"));
}

static void test_map_values(void)
{
	struct ups_nut_vars v;
	struct hr_sample s;
	struct hr_err err;

	CU_ASSERT_EQUAL(parse_list("BEGIN LIST VAR ups\n"
				   "VAR ups battery.charge \"089.0\"\n"
				   "VAR ups battery.runtime \"  3690 \"\n"
				   "VAR ups ups.load \"not set\"\n"
				   "VAR ups input.voltage \"\"\n"
				   "VAR ups device.model \"Pulsar Evolution 500\"\n"
				   "VAR ups device.mfr \"MGE UPS SYSTEMS\"\n"
				   "END LIST VAR ups\n", &v, &err), 0);
	hr_sample_init(&s, "ups", "ups@h");
	CU_ASSERT_EQUAL(ups_nut_map(&v, &s), 2); /* ups.load and input.voltage */
	ASSERT_VAL(&s, "charge_percent", 89);
	ASSERT_VAL(&s, "runtime_s", 3690); /* NUT's battery.runtime is seconds */
	ASSERT_NO_VAL(&s, "load_percent");
	ASSERT_NO_VAL(&s, "input_voltage");
	ASSERT_NO_VAL(&s, "online"); /* no ups.status at all */
	CU_ASSERT_PTR_NULL(hr_sample_get_label(&s, "status"));
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "model"),
			       "MGE UPS SYSTEMS Pulsar Evolution 500");
	ups_nut_vars_free(&v);

	/* the maker is not repeated when the model begins with it */
	CU_ASSERT_EQUAL(parse_list("BEGIN LIST VAR ups\nVAR ups ups.model \"Eaton 5PX\"\n"
				   "VAR ups ups.mfr \"EATON\"\nEND LIST VAR ups\n", &v, &err), 0);
	hr_sample_init(&s, "ups", "ups@h");
	ups_nut_map(&v, &s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "model"), "Eaton 5PX");
	CU_ASSERT_EQUAL(s.nvalues, 0);
	ups_nut_vars_free(&v);
}

/* --- real dumps ------------------------------------------------------------ */

struct dev_case {
	const char *file;
	const char *status; /* NULL: no status label */
	int ol, ob, lb, rb, over; /* -1: left out */
	double charge, runtime, load, voltage; /* NAN: left out */
	const char *model;  /* NULL: no model label */
};

static const struct dev_case dev_cases[] = {
	{ "APC_APC__Back-UPS_XS_1200__usbhid-ups__2.2.0__01.dev", "OL LB OVER RB BOOST",
	  1, 0, 1, 1, 1, 1, 1, 1, 1, "American Power Conversion Back-UPS XS 1200" },
	{ "Tripp_Lite_Tripp_Lite__SU6000RT4U__usbhid-ups__2.1.0__01.dev", "OB LB RB",
	  0, 1, 1, 1, 0, 100, 2839, 23, 122.4, "TRIPP LITE UPS" },
	{ "PiSupply_PiSupply__PiJuice_HAT__pijuice__2.8.0__01.dev", "HB OL",
	  1, 0, 0, 0, 0, 93.7, NAN, NAN, 5.014, NULL },
	{ "Cyber_Power_Systems_Cyber_Power_Systems__Value_2200E-GP__usbhid-ups__2.4.3__01.dev",
	  "FSD OL", 1, 0, 1, 0, 0, 100, 3270, 14, 240, "CPS Value 2200E" },
	{ "MGE_UPS_SYSTEMS_MGE_UPS_SYSTEMS__Pulsar_Evolution_2200__mge-utalk__2.0.2__01.dev",
	  "BOOST BYPASS", 0, 0, 0, 0, 0, 100, 1480, 34, 113.7, "MGE UPS SYSTEMS Evolution 2200" },
	{ "Eaton_Eaton__5PX_2000__usbhid-ups__2.7.4__01.dev", "ALARM OL CHRG RB",
	  1, 0, 0, 1, 0, 100, 1032, 30, 235, "Eaton 5PX 2000" },
	{ "Eaton_Eaton__5E2200USB-LA__nutdrv_qx__2.7.4.1__01.dev", "OL CAL",
	  1, 0, 0, 0, 0, NAN, NAN, 29, 120.3, NULL },
	{ "Eaton_Eaton__5SC_750__usbhid-ups__2.7.2__01.dev", "OL CHRG TRIM OFF",
	  1, 0, 0, 0, 0, 100, 9047, 0, 245.7, "Eaton 5SC 750" },
	{ "NHS_Sistemas_de_Energia_NHS_Sistemas_de_Energia__Expert_C_Online_8000__gamatronic__2.6.3__01.dev",
	  "ALARM OB", 0, 1, 0, 0, 0, 87, 687, 0, 0, "NHS Sistemas de Energia EXPERT GIII 8kVA" },
	{ "Mini-Box.com_Mini-Box.Com__OPEN-UPS__usbhid-ups__2.6.5__02.dev", "OB DISCHRG",
	  0, 1, 0, 0, 0, 47, 96840, NAN, NAN, "Mini-Box.Com OPEN-UPS" },
	{ "Compaq_Compaq__T700h__bcmxcp__2.4.0__01.dev", "TRIM",
	  0, 0, 0, 0, 0, 95, 9000, 0.6, 245, "T700h INT'L 700VA" },
	{ "Tripp_Lite_Tripp_Lite__SMART500RT1U__tripplite_usb__2.7.2__01.dev", NULL,
	  -1, -1, -1, -1, -1, NAN, NAN, NAN, NAN, "Tripp Lite SMART500RT1U" },
	{ "Powerware_Powerware__PW5110__bcmxcp_usb__2.6.3__02.dev", NULL,
	  -1, -1, -1, -1, -1, NAN, NAN, 32, 116, "Eaton POWERWARE UPS 500i" },
	{ "APC_APC__Smart-UPS_2200__apcsmart__2.2.0__01.dev", "OB",
	  0, 1, 0, 0, 0, 89, 21180, 0, 0, "APC SMART-UPS 2200" },
	{ "APC_APC__Smart-UPS_750__apc_modbus__2.8.2__01.dev", "OL HE",
	  1, 0, 0, 0, 0, 100, 6420, 5.19, 240.39, "American Power Conversion Smart-UPS 750" },
};

static void check_flag(const struct hr_sample *s, const char *name, int want, const char *file)
{
	double got = sval(s, name);

	if (want < 0 ? !isnan(got) : got != want)
		fprintf(stderr, "%s: %s = %g, want %d\n", file, name, got, want);
	if (want < 0)
		ASSERT_NO_VAL(s, name);
	else
		ASSERT_VAL(s, name, want);
}

static void check_num(const struct hr_sample *s, const char *name, double want, const char *file)
{
	double got = sval(s, name);

	if (isnan(want) ? !isnan(got) : fabs(got - want) > 1e-9)
		fprintf(stderr, "%s: %s = %g, want %g\n", file, name, got, want);
	if (isnan(want))
		ASSERT_NO_VAL(s, name);
	else
		ASSERT_VAL(s, name, want);
}

static int map_dev_file(const char *path, struct hr_sample *s)
{
	struct ups_nut_vars v;
	struct hr_err err;
	char *buf = NULL;
	size_t len;
	int rc;

	if (hr_read_file(NULL, path, &buf, &len, 1 << 20, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	ups_nut_vars_init(&v);
	rc = ups_nut_parse_dev(buf, len, &v, &err);
	hr_sample_init(s, "ups", "x@h");
	if (rc == 0)
		ups_nut_map(&v, s);
	ups_nut_vars_free(&v);
	free(buf);
	return rc;
}

static void test_dev_fixtures(void)
{
	struct hr_sample s;
	char path[1024];
	size_t i;

	for (i = 0; i < sizeof(dev_cases) / sizeof(dev_cases[0]); i++) {
		const struct dev_case *c = &dev_cases[i];
		const char *l;

		snprintf(path, sizeof(path), "%s", fixture("ups/nut/"));
		hr_strlcpy(path + strlen(path), c->file, sizeof(path) - strlen(path));
		CU_ASSERT_EQUAL_FATAL(map_dev_file(path, &s), 0);
		l = hr_sample_get_label(&s, "status");
		if (c->status == NULL) {
			CU_ASSERT_PTR_NULL(l);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(l);
			if (strcmp(l, c->status) != 0)
				fprintf(stderr, "%s: status \"%s\"\n", c->file, l);
			CU_ASSERT_STRING_EQUAL(l, c->status);
		}
		check_flag(&s, "online", c->ol, c->file);
		check_flag(&s, "on_battery", c->ob, c->file);
		check_flag(&s, "low_battery", c->lb, c->file);
		check_flag(&s, "replace_battery", c->rb, c->file);
		check_flag(&s, "overload", c->over, c->file);
		check_num(&s, "charge_percent", c->charge, c->file);
		check_num(&s, "runtime_s", c->runtime, c->file);
		check_num(&s, "load_percent", c->load, c->file);
		check_num(&s, "input_voltage", c->voltage, c->file);
		l = hr_sample_get_label(&s, "model");
		if (c->model == NULL) {
			CU_ASSERT_PTR_NULL(l);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(l);
			if (strcmp(l, c->model) != 0)
				fprintf(stderr, "%s: model \"%s\"\n", c->file, l);
			CU_ASSERT_STRING_EQUAL(l, c->model);
		}
	}
}

/* NUT's own evolution500.seq walks OL CHRG -> OB DISCHRG -> OB LB DISCHRG
 * with TIMER lines between; the state after each step is the file up to
 * that TIMER. */
static void test_seq_file(void)
{
	static const char *const want[] = { "OL CHRG", "OB DISCHRG", "OB LB DISCHRG" };
	struct ups_nut_vars v;
	struct hr_sample s;
	struct hr_err err;
	char *buf = NULL, path[1024];
	const char *p;
	size_t len, k;

	snprintf(path, sizeof(path), "%s", fixture("ups/nut/evolution500.seq"));
	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, path, &buf, &len, 1 << 20, &err), 0);
	p = buf;
	for (k = 0; k < 3; k++) {
		p = strstr(p, "\nTIMER");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		p++;
		ups_nut_vars_init(&v);
		CU_ASSERT_EQUAL(ups_nut_parse_dev(buf, (size_t)(p - buf), &v, &err), 0);
		hr_sample_init(&s, "ups", "x@h");
		ups_nut_map(&v, &s);
		CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "status"), want[k]);
		ASSERT_VAL(&s, "online", k == 0);
		ASSERT_VAL(&s, "on_battery", k > 0);
		ASSERT_VAL(&s, "low_battery", k == 2);
		ASSERT_VAL(&s, "charge_percent", 90);
		ASSERT_VAL(&s, "runtime_s", 3690);
		ASSERT_VAL(&s, "load_percent", 10);
		ASSERT_VAL(&s, "input_voltage", 230);
		CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "model"),
				       "MGE UPS SYSTEMS Pulsar Evolution 500");
		ups_nut_vars_free(&v);
	}
	free(buf);

	/* a PDU has no ups.status and no battery: none of those are invented */
	snprintf(path, sizeof(path), "%s", fixture("ups/nut/epdu-managed.dev"));
	CU_ASSERT_EQUAL_FATAL(map_dev_file(path, &s), 0);
	ASSERT_NO_VAL(&s, "online");
	ASSERT_NO_VAL(&s, "charge_percent");
	ASSERT_NO_VAL(&s, "runtime_s");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "model"), "EATON | Powerware DBQ10634/5");
}

static void test_dev_broken(void)
{
	struct ups_nut_vars v;
	struct hr_err err;
	const char *t = "# only a comment\n\nnot a variable line\nx.y \"unclosed\n";

	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(ups_nut_parse_dev(t, strlen(t), &v, &err), -1);
	CU_ASSERT_EQUAL(v.skipped, 2);
	ups_nut_vars_free(&v);
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(ups_nut_parse_dev("", 0, &v, &err), -1);
	ups_nut_vars_free(&v);
	/* a value cut by the end of the file still counts */
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(ups_nut_parse_dev("ups.status: OB\nbattery.charge: 4", 32, &v, &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ups_nut_vars_get(&v, "battery.charge"));
	CU_ASSERT_STRING_EQUAL(ups_nut_vars_get(&v, "battery.charge"), "4");
	ups_nut_vars_free(&v);
	/* a NUL byte spoils its line only */
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL(ups_nut_parse_dev("ups.status: OB\nbattery.charge: 4", 33, &v, &err), 0);
	CU_ASSERT_EQUAL(v.count, 1);
	CU_ASSERT_EQUAL(v.skipped, 1);
	ups_nut_vars_free(&v);
}

/* The text after "NAME:" of the first such line, without a '#' annotation,
 * words joined by one space: what the test expects independently of the
 * parser (corpus values hold no quotes or backslashes there). */
static int dev_raw(const char *buf, const char *name, char *out, size_t n)
{
	char key[128];
	const char *p = buf, *e;
	size_t kl, o = 0;

	kl = (size_t)snprintf(key, sizeof(key), "%s:", name);
	for (;;) {
		if (strncmp(p, key, kl) == 0)
			break;
		p = strchr(p, '\n');
		if (p == NULL)
			return 0;
		p++;
	}
	p += kl;
	e = strchr(p, '\n');
	if (e == NULL)
		e = p + strlen(p);
	out[0] = '\0';
	while (p < e) {
		const char *w;

		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p >= e || *p == '#')
			break;
		w = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (o + (size_t)(p - w) + 2 >= n)
			break;
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, w, (size_t)(p - w));
		o += (size_t)(p - w);
		out[o] = '\0';
	}
	return 1;
}

/* Is w one of the space-separated words of s? */
static int has_word(const char *s, const char *w)
{
	size_t wl = strlen(w);
	const char *p = s;

	while ((p = strstr(p, w)) != NULL) {
		if ((p == s || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0'))
			return 1;
		p += wl;
	}
	return 0;
}

static void check_corpus_num(const struct hr_sample *s, const char *buf, const char *var,
			     const char *name, const char *file)
{
	char raw[512];
	char *end;
	double d;

	if (!dev_raw(buf, var, raw, sizeof(raw))) {
		ASSERT_NO_VAL(s, name);
		return;
	}
	d = strtod(raw, &end);
	if (raw[0] == '\0' || *end != '\0') {
		ASSERT_NO_VAL(s, name);
		return;
	}
	if (fabs(sval(s, name) - d) > 1e-9)
		fprintf(stderr, "%s: %s = %g, want %g\n", file, name, sval(s, name), d);
	ASSERT_VAL(s, name, d);
}

/* Every dump of the nut-ddl corpus (when ../shared/corpus is there): its
 * status, flags, charge and runtime come out as the file says. */
static void test_dev_corpus(void)
{
	char dir[1024], path[2048], raw[512];
	struct dirent *de;
	unsigned files = 0, statuses = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", fixture("../../../shared/corpus/ups/nut-ddl"));
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "test_dev_corpus: %s absent, in-repo fixtures only\n", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct hr_sample s;
		struct hr_err err;
		char *buf = NULL;
		size_t len, nl = strlen(de->d_name);
		const char *l;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".dev") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, path, &buf, &len, 1 << 20, &err), 0);
		files++;
		CU_ASSERT_EQUAL(map_dev_file(path, &s), 0);
		l = hr_sample_get_label(&s, "status");
		if (dev_raw(buf, "ups.status", raw, sizeof(raw)) && raw[0] != '\0') {
			statuses++;
			CU_ASSERT_PTR_NOT_NULL_FATAL(l);
			CU_ASSERT_STRING_EQUAL(l, raw);
			CU_ASSERT_EQUAL(sval(&s, "online"), has_word(raw, "OL"));
			CU_ASSERT_EQUAL(sval(&s, "on_battery"), has_word(raw, "OB"));
			CU_ASSERT_EQUAL(sval(&s, "low_battery"),
					has_word(raw, "LB") || has_word(raw, "FSD"));
			CU_ASSERT_EQUAL(sval(&s, "replace_battery"), has_word(raw, "RB"));
			CU_ASSERT_EQUAL(sval(&s, "overload"), has_word(raw, "OVER"));
		} else {
			CU_ASSERT_PTR_NULL(l);
			ASSERT_NO_VAL(&s, "online");
		}
		check_corpus_num(&s, buf, "battery.charge", "charge_percent", de->d_name);
		check_corpus_num(&s, buf, "battery.runtime", "runtime_s", de->d_name);
		free(buf);
	}
	closedir(d);
	fprintf(stderr, "test_dev_corpus: %u dumps, %u with a status\n", files, statuses);
	CU_ASSERT(files >= 100);
	CU_ASSERT(statuses >= 100);
}

/* --- config -------------------------------------------------------------- */

/* Runs setup on JSON text; returns its result and leaves the messages
 * joined by '\n' in msgs. */
static int setup_msgs(const char *json, char *msgs, size_t n)
{
	struct probe_env env = { .root = "/" };
	struct hr_errs errs;
	cJSON *cfg = json ? cJSON_Parse(json) : NULL;
	void *state = NULL;
	size_t i, o = 0;
	int rc;

	CU_ASSERT_FATAL(json == NULL || cfg != NULL);
	hr_errs_init(&errs);
	rc = probe_ups.setup(&env, cfg, "probes.ups", &state, &errs);
	msgs[0] = '\0';
	for (i = 0; i < errs.count && o < n; i++)
		o += (size_t)snprintf(msgs + o, n - o, "%s\n", errs.items[i]);
	if (rc == 0)
		probe_ups.teardown(state);
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	return rc;
}

static void test_config(void)
{
	static const struct {
		const char *json;
		const char *msg; /* NULL: valid */
	} cases[] = {
		{ "{\"nut\": [\"myups@127.0.0.1:3493\"]}", NULL },
		{ "{\"nut\": [{\"ups\": \"a@h\", \"username\": \"mon\", \"password\": \"p w\"}],"
		  " \"apcupsd\": [\"127.0.0.1:3551\", \"[::1]\"], \"timeout\": \"0.5s\"}", NULL },
		{ "{\"apcupsd\": [\"h\"], \"timeout\": 30, \"max_bytes\": 4096, \"interval\": 30}",
		  NULL },
		{ NULL, "probes.ups: expected an object" },
		{ "{}", "probes.ups: no UPS to watch" },
		{ "{\"nut\": []}", "probes.ups: no UPS to watch" },
		{ "{\"nut\": [\"myups\"]}", "probes.ups.nut[0]: expected NAME@HOST[:PORT]\n" },
		{ "{\"nut\": [\"a@h\", \"b c@h\"]}", "probes.ups.nut[1]: expected NAME@HOST[:PORT]" },
		{ "{\"nut\": [\"a@h:99999\"]}", "probes.ups.nut[0]: expected NAME@HOST[:PORT]" },
		{ "{\"nut\": [\"a@::1\"]}", "probes.ups.nut[0]: expected NAME@HOST[:PORT]" },
		{ "{\"nut\": [\"@h\"]}", "probes.ups.nut[0]: expected NAME@HOST[:PORT]" },
		{ "{\"nut\": [42]}", "probes.ups.nut[0]: expected \"NAME@HOST[:PORT]\" or an object" },
		{ "{\"nut\": \"a@h\"}", "probes.ups.nut: expected an array" },
		{ "{\"nut\": [{\"ups\": \"x\"}]}", "probes.ups.nut[0].ups: expected NAME@HOST[:PORT]" },
		{ "{\"nut\": [{\"user\": \"x\"}]}", "probes.ups.nut[0].user: unknown key" },
		{ "{\"nut\": [{\"user\": \"x\"}]}", "probes.ups.nut[0]: missing \"ups\"" },
		{ "{\"nut\": [{\"ups\": \"a@h\", \"username\": \"mon\"}]}",
		  "probes.ups.nut[0]: \"username\" and \"password\" go together" },
		{ "{\"nut\": [{\"ups\": \"a@h\", \"username\": \"m\\non\", \"password\": \"x\"}]}",
		  "probes.ups.nut[0].username: must not hold control characters" },
		{ "{\"nut\": [{\"ups\": \"a@h\", \"ca\": \"/etc/hostname\"}]}",
		  "probes.ups.nut[0].ca: needs \"starttls\": true" },
		{ "{\"nut\": [{\"ups\": \"a@h\", \"starttls\": true, \"ca\": \"/nonexistent/ca.pem\"}]}",
		  "probes.ups.nut[0].ca: cannot read /nonexistent/ca.pem" },
		{ "{\"nut\": [{\"ups\": \"a@h\", \"starttls\": \"yes\"}]}", "probes.ups.nut[0].starttls" },
		{ "{\"nut\": [\"a@h\", \"a@h:3493\"]}", "probes.ups.nut[1]: \"a@h\" is listed twice" },
		{ "{\"apcupsd\": [\"h:x\"]}", "probes.ups.apcupsd[0]: expected HOST[:PORT]" },
		{ "{\"apcupsd\": [1]}", "probes.ups.apcupsd[0]: expected HOST[:PORT]" },
		{ "{\"apcupsd\": [\"h\"], \"timeout\": \"31s\"}", "probes.ups.timeout" },
		{ "{\"apcupsd\": [\"h\"], \"timeout\": \"soon\"}", "probes.ups.timeout" },
		{ "{\"apcupsd\": [\"h\"], \"max_bytes\": 100}", "probes.ups.max_bytes" },
		{ "{\"apcupsd\": [\"h\"], \"max_bytes\": 4096.5}",
		  "probes.ups.max_bytes: expected a whole number" },
		{ "{\"apcupsd\": [\"h\"], \"colour\": 1}", "probes.ups.colour: unknown key" },
	};
	char msgs[4096];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = setup_msgs(cases[i].json, msgs, sizeof(msgs));

		if (cases[i].msg == NULL) {
			if (rc != 0)
				fprintf(stderr, "config %zu: %s", i, msgs);
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_STRING_EQUAL(msgs, "");
		} else {
			CU_ASSERT_EQUAL(rc, -1);
			if (strstr(msgs, cases[i].msg) == NULL)
				fprintf(stderr, "config %zu: got \"%s\", want \"%s\"\n", i, msgs,
					cases[i].msg);
			CU_ASSERT_PTR_NOT_NULL(strstr(msgs, cases[i].msg));
		}
	}
	/* not a core probe: it runs only when configured */
	CU_ASSERT_STRING_EQUAL(probe_ups.name, "ups");
	CU_ASSERT_EQUAL(probe_ups.core, 0);
}

/* --- fake upsd servers --------------------------------------------------- */

enum fake_mode {
	FAKE_GOOD,        /* answers like upsd */
	FAKE_SILENT,      /* accepts, reads, never answers */
	FAKE_HALF,        /* half a reply, then silence */
	FAKE_FLOOD,       /* VAR lines without end */
	FAKE_LONGLINE,    /* one endless line */
	FAKE_CLOSE,       /* accepts and closes */
	FAKE_ERR_ACCESS,  /* ERR ACCESS-DENIED to LIST VAR */
	FAKE_NO_TLS,      /* ERR FEATURE-NOT-CONFIGURED to STARTTLS, then like GOOD */
	FAKE_TLS,         /* STARTTLS with the test certificate, then like GOOD */
};

struct fake {
	enum fake_mode mode;
	int lfd;
	char port[8];
	pthread_t thread;
	char got[4096]; /* requests received, in order */
	size_t got_len;
	int tls_done;   /* the TLS handshake succeeded */
};

static const char fake_list[] =
	"BEGIN LIST VAR ups\n"
	"VAR ups battery.charge \"57\"\n"
	"VAR ups battery.runtime \"1234\"\n"
	"VAR ups ups.load \"40\"\n"
	"VAR ups input.voltage \"0.0\"\n"
	"VAR ups ups.model \"Fake \\\"UPS\\\" 1000\"\n"
	"VAR ups ups.mfr \"Acme\"\n"
	"VAR ups ups.status \"OB DISCHRG\"\n"
	"END LIST VAR ups\n";

/* Reads one request line into f->got; returns it (static) or NULL at end. */
static const char *fake_readline(struct fake *f, int fd, gnutls_session_t tls)
{
	static __thread char line[1024];
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (tls == NULL || gnutls_record_check_pending(tls) == 0)
			if (poll(&p, 1, 5000) <= 0)
				return NULL;
		r = tls ? gnutls_record_recv(tls, &c, 1) : read(fd, &c, 1);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return NULL;
		if (f->got_len + 1 < sizeof(f->got))
			f->got[f->got_len++] = c;
		f->got[f->got_len] = '\0';
		if (c == '\n') {
			line[n] = '\0';
			return line;
		}
		if (n + 1 < sizeof(line))
			line[n++] = c;
	}
}

static void fake_write(int fd, gnutls_session_t tls, const char *s, size_t n)
{
	if (tls != NULL)
		gnutls_record_send(tls, s, n);
	else if (send(fd, s, n, MSG_NOSIGNAL) < 0)
		return;
}

/* Waits until the client hangs up (or 5 s). */
static void fake_drain(int fd)
{
	char b[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 5000) > 0 && read(fd, b, sizeof(b)) > 0)
		;
}

static ssize_t fake_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	return send((int)(intptr_t)ptr, data, len, MSG_NOSIGNAL);
}

static gnutls_session_t fake_tls(struct fake *f, int fd)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	int r;

	(void)f;
	char crt[1024], key[1024];

	/* fixture() returns a static buffer: copy each path */
	hr_strlcpy(crt, fixture("ups/nut/tls/server.pem"), sizeof(crt));
	hr_strlcpy(key, fixture("ups/nut/tls/server.key"), sizeof(key));
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return NULL;
	if (gnutls_certificate_set_x509_key_file(cred, crt, key, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_init(&s, GNUTLS_SERVER) < 0) {
		gnutls_certificate_free_credentials(cred);
		return NULL;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	gnutls_transport_set_push_function(s, fake_push);
	gnutls_handshake_set_timeout(s, 5000);
	do {
		r = gnutls_handshake(s);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	gnutls_session_set_ptr(s, cred);
	if (r < 0) {
		gnutls_deinit(s);
		gnutls_certificate_free_credentials(cred);
		return NULL;
	}
	return s;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	struct pollfd p = { .fd = f->lfd, .events = POLLIN };
	gnutls_session_t tls = NULL;
	const char *line;
	char buf[4096];
	int fd;

	if (poll(&p, 1, 10000) <= 0)
		return NULL;
	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	switch (f->mode) {
	case FAKE_SILENT:
		fake_drain(fd);
		break;
	case FAKE_CLOSE:
		break;
	case FAKE_HALF:
		if (fake_readline(f, fd, NULL) != NULL) {
			fake_write(fd, NULL, "BEGIN LIST VAR ups\nVAR ups ups.status \"O", 40);
			fake_drain(fd);
		}
		break;
	case FAKE_FLOOD:
		if (fake_readline(f, fd, NULL) != NULL) {
			size_t n = (size_t)snprintf(buf, sizeof(buf), "BEGIN LIST VAR ups\n");

			if (send(fd, buf, n, MSG_NOSIGNAL) < 0)
				break;
			n = (size_t)snprintf(buf, sizeof(buf), "VAR ups x \"y\"\n");
			while (send(fd, buf, n, MSG_NOSIGNAL) > 0)
				;
		}
		break;
	case FAKE_LONGLINE:
		if (fake_readline(f, fd, NULL) != NULL) {
			memset(buf, 'x', sizeof(buf));
			fake_write(fd, NULL, "BEGIN LIST VAR ups\nVAR ups x \"", 31);
			while (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
				;
		}
		break;
	default:
		while ((line = fake_readline(f, fd, tls)) != NULL) {
			if (strcmp(line, "STARTTLS") == 0 && f->mode == FAKE_NO_TLS) {
				fake_write(fd, tls, "ERR FEATURE-NOT-CONFIGURED\n", 27);
			} else if (strcmp(line, "STARTTLS") == 0 && f->mode == FAKE_TLS) {
				fake_write(fd, tls, "OK STARTTLS\n", 12);
				tls = fake_tls(f, fd);
				if (tls == NULL)
					break;
				f->tls_done = 1;
			} else if (strncmp(line, "USERNAME ", 9) == 0 ||
				   strncmp(line, "PASSWORD ", 9) == 0) {
				fake_write(fd, tls, "OK\n", 3);
			} else if (strcmp(line, "LIST VAR ups") == 0) {
				if (f->mode == FAKE_ERR_ACCESS)
					fake_write(fd, tls, "ERR ACCESS-DENIED\n", 18);
				else
					fake_write(fd, tls, fake_list, sizeof(fake_list) - 1);
			} else if (strncmp(line, "LIST VAR ", 9) == 0) {
				fake_write(fd, tls, "ERR UNKNOWN-UPS\n", 16);
			} else if (strcmp(line, "LOGOUT") == 0) {
				fake_write(fd, tls, "OK Goodbye\n", 11);
				break;
			} else {
				fake_write(fd, tls, "ERR UNKNOWN-COMMAND\n", 20);
			}
		}
		break;
	}
	if (tls != NULL) {
		gnutls_certificate_credentials_t cred = gnutls_session_get_ptr(tls);

		gnutls_deinit(tls);
		gnutls_certificate_free_credentials(cred);
	}
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(f->lfd >= 0);
	CU_ASSERT_FATAL(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CU_ASSERT_FATAL(listen(f->lfd, 4) == 0);
	CU_ASSERT_FATAL(getsockname(f->lfd, (struct sockaddr *)&a, &al) == 0);
	snprintf(f->port, sizeof(f->port), "%u", ntohs(a.sin_port));
	CU_ASSERT_FATAL(pthread_create(&f->thread, NULL, fake_main, f) == 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
}

/* Runs the probe once with config text; returns the elapsed seconds. */
static double probe_once(const char *cfg, struct hr_recsink *rec)
{
	double t0 = hr_now_mono();

	hr_recsink_init(rec);
	CU_ASSERT_EQUAL(run_probe(&probe_ups, NULL, cfg, rec), 0);
	return hr_now_mono() - t0;
}

static void test_probe_good(void)
{
	struct hr_recsink rec;
	struct fake f;
	char cfg[512], inst[64];
	const struct hr_sample *s;

	fake_start(&f, FAKE_GOOD);
	snprintf(cfg, sizeof(cfg), "{\"nut\": [{\"ups\": \"ups@127.0.0.1:%s\", "
		 "\"username\": \"mon\", \"password\": \"se\\\"cr\\\\et\"}], \"timeout\": 2}", f.port);
	probe_once(cfg, &rec);
	fake_stop(&f);
	snprintf(inst, sizeof(inst), "ups@127.0.0.1:%s", f.port);
	CU_ASSERT_EQUAL(rec.count, 1);
	s = hr_recsink_find(&rec, "ups", inst);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "reachable", 1);
	ASSERT_VAL(s, "online", 0);
	ASSERT_VAL(s, "on_battery", 1);
	ASSERT_VAL(s, "low_battery", 0);
	ASSERT_VAL(s, "charge_percent", 57);
	ASSERT_VAL(s, "runtime_s", 1234);
	ASSERT_VAL(s, "load_percent", 40);
	ASSERT_VAL(s, "input_voltage", 0);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "status"), "OB DISCHRG");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "model"), "Acme Fake \"UPS\" 1000");
	/* credentials are quoted words; the list comes after them */
	CU_ASSERT_STRING_EQUAL(f.got, "USERNAME \"mon\"\nPASSWORD \"se\\\"cr\\\\et\"\n"
			       "LIST VAR ups\nLOGOUT\n");
	hr_recsink_free(&rec);
}

/* Each lying server: reachable 0 and nothing else, within the timeout. */
static void test_probe_liars(void)
{
	static const enum fake_mode modes[] = {
		FAKE_SILENT, FAKE_HALF, FAKE_FLOOD, FAKE_LONGLINE, FAKE_CLOSE, FAKE_ERR_ACCESS,
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct hr_recsink rec;
		struct fake f;
		char cfg[256];
		double took;

		fake_start(&f, modes[i]);
		snprintf(cfg, sizeof(cfg),
			 "{\"nut\": [\"ups@127.0.0.1:%s\"], \"timeout\": 0.4, \"max_bytes\": 8192}",
			 f.port);
		took = probe_once(cfg, &rec);
		fake_stop(&f);
		if (rec.count != 1 || rec.samples[0].nvalues != 1)
			fprintf(stderr, "mode %d: %zu samples\n", (int)modes[i], rec.count);
		CU_ASSERT_EQUAL_FATAL(rec.count, 1);
		ASSERT_VAL(&rec.samples[0], "reachable", 0);
		CU_ASSERT_EQUAL(rec.samples[0].nvalues, 1);
		CU_ASSERT_EQUAL(rec.samples[0].nlabels, 0);
		CU_ASSERT(took < 1.2);
		hr_recsink_free(&rec);
	}
}

/* The read timeout bounds the silent case; the error names the target. */
static void test_query_errors(void)
{
	struct ups_nut_target t = { .ups = "ups", .host = "127.0.0.1" };
	struct hr_sample s;
	struct hr_err err;
	struct fake f;
	double t0;

	fake_start(&f, FAKE_SILENT);
	t.port = f.port;
	hr_sample_init(&s, "ups", "x");
	t0 = hr_now_mono();
	CU_ASSERT_EQUAL(ups_nut_query(&t, 1, 0.3, 65536, &s, &err), -1);
	CU_ASSERT(hr_now_mono() - t0 >= 0.29);
	CU_ASSERT(hr_now_mono() - t0 < 0.8);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no answer within the timeout"));
	CU_ASSERT_EQUAL(strncmp(err.msg, "ups@127.0.0.1:", 14), 0);
	CU_ASSERT_EQUAL(s.nvalues, 0);
	fake_stop(&f);

	fake_start(&f, FAKE_ERR_ACCESS);
	t.port = f.port;
	CU_ASSERT_EQUAL(ups_nut_query(&t, 1, 1, 65536, &s, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "upsd: ERR ACCESS-DENIED"));
	fake_stop(&f);

	fake_start(&f, FAKE_GOOD);
	t.port = f.port;
	t.ups = "other";
	CU_ASSERT_EQUAL(ups_nut_query(&t, 1, 1, 65536, &s, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "upsd: ERR UNKNOWN-UPS"));
	fake_stop(&f);

	fake_start(&f, FAKE_FLOOD);
	t.port = f.port;
	t.ups = "ups";
	CU_ASSERT_EQUAL(ups_nut_query(&t, 1, 2, 16384, &s, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "reply larger than 16384 bytes"));
	fake_stop(&f);

	fake_start(&f, FAKE_LONGLINE);
	t.port = f.port;
	CU_ASSERT_EQUAL(ups_nut_query(&t, 1, 2, 1 << 20, &s, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer than"));
	fake_stop(&f);
}

/* STARTTLS refused: no fall back to clear text, nothing else is sent. */
static void test_starttls_refused(void)
{
	struct hr_recsink rec;
	struct fake f;
	char cfg[512];

	fake_start(&f, FAKE_NO_TLS);
	snprintf(cfg, sizeof(cfg), "{\"nut\": [{\"ups\": \"ups@127.0.0.1:%s\", \"starttls\": true,"
		 " \"ca\": \"%s\", \"username\": \"u\", \"password\": \"p\"}], \"timeout\": 1}",
		 f.port, fixture("ups/nut/tls/ca.pem"));
	probe_once(cfg, &rec);
	fake_stop(&f);
	CU_ASSERT_EQUAL_FATAL(rec.count, 1);
	ASSERT_VAL(&rec.samples[0], "reachable", 0);
	CU_ASSERT_EQUAL(rec.samples[0].nvalues, 1);
	CU_ASSERT_STRING_EQUAL(f.got, "STARTTLS\n"); /* no password in clear text */
	hr_recsink_free(&rec);
}

/* STARTTLS accepted: values with the right CA; reachable 0 with another CA
 * or a host name the certificate does not name. */
static void test_starttls(void)
{
	static const struct {
		const char *host;
		const char *ca;
		int ok;
	} cases[] = {
		{ "127.0.0.1", "ups/nut/tls/ca.pem", 1 },
		{ "127.0.0.1", "ups/nut/tls/other-ca.pem", 0 },
		{ "localhost", "ups/nut/tls/ca.pem", 0 }, /* the certificate names 127.0.0.1 only */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_recsink rec;
		struct fake f;
		char cfg[512];

		fake_start(&f, FAKE_TLS);
		snprintf(cfg, sizeof(cfg),
			 "{\"nut\": [{\"ups\": \"ups@%s:%s\", \"starttls\": true, \"ca\": \"%s\","
			 " \"username\": \"u\", \"password\": \"p\"}], \"timeout\": 10}",
			 cases[i].host, f.port, fixture(cases[i].ca));
		probe_once(cfg, &rec);
		fake_stop(&f);
		CU_ASSERT_EQUAL_FATAL(rec.count, 1);
		ASSERT_VAL(&rec.samples[0], "reachable", cases[i].ok);
		if (cases[i].ok) {
			CU_ASSERT_EQUAL(f.tls_done, 1);
			ASSERT_VAL(&rec.samples[0], "charge_percent", 57);
			CU_ASSERT_STRING_EQUAL(f.got, "STARTTLS\nUSERNAME \"u\"\nPASSWORD \"p\"\n"
					       "LIST VAR ups\nLOGOUT\n");
		} else {
			CU_ASSERT_EQUAL(rec.samples[0].nvalues, 1);
			CU_ASSERT_STRING_EQUAL(f.got, "STARTTLS\n");
		}
		hr_recsink_free(&rec);
	}
}

/* Several dead targets cost one timeout, not one each; instances follow
 * the naming rule; a refused connection is quick. */
static void test_probe_many(void)
{
	struct hr_recsink rec;
	struct fake f1, f2, f3;
	char cfg[512], inst[64];
	double took;

	fake_start(&f1, FAKE_SILENT);
	fake_start(&f2, FAKE_SILENT);
	fake_start(&f3, FAKE_GOOD);
	snprintf(cfg, sizeof(cfg),
		 "{\"nut\": [\"ups@127.0.0.1:%s\", \"ups@127.0.0.1:%s\", \"ups@127.0.0.1:%s\","
		 " \"ups@[::1]:1\"], \"apcupsd\": [\"127.0.0.1:1\"], \"timeout\": 0.5}",
		 f1.port, f2.port, f3.port);
	took = probe_once(cfg, &rec);
	fake_stop(&f1);
	fake_stop(&f2);
	fake_stop(&f3);
	CU_ASSERT(took < 0.95);
	CU_ASSERT_EQUAL_FATAL(rec.count, 5);
	snprintf(inst, sizeof(inst), "ups@127.0.0.1:%s", f1.port);
	CU_ASSERT_STRING_EQUAL(rec.samples[0].instance, inst);
	ASSERT_VAL(&rec.samples[0], "reachable", 0);
	ASSERT_VAL(&rec.samples[1], "reachable", 0);
	ASSERT_VAL(&rec.samples[2], "reachable", 1);
	ASSERT_VAL(&rec.samples[2], "runtime_s", 1234);
	CU_ASSERT_STRING_EQUAL(rec.samples[3].instance, "ups@[::1]:1");
	ASSERT_VAL(&rec.samples[3], "reachable", 0);
	CU_ASSERT_STRING_EQUAL(rec.samples[4].instance, "127.0.0.1:1");
	ASSERT_VAL(&rec.samples[4], "reachable", 0);
	CU_ASSERT_EQUAL(rec.samples[4].nvalues, 1);
	hr_recsink_free(&rec);

	/* the default port is not written in the instance */
	probe_once("{\"nut\": [\"myups@127.0.0.1:3493\"], \"timeout\": 0.2}", &rec);
	CU_ASSERT_EQUAL_FATAL(rec.count, 1);
	CU_ASSERT_STRING_EQUAL(rec.samples[0].instance, "myups@127.0.0.1");
	hr_recsink_free(&rec);
}

/* A dead UPS is logged once, not every interval. */
static void test_log_once(void)
{
	struct probe_env env = { .root = "/" };
	struct hr_errs errs;
	struct hr_recsink rec;
	struct hr_err err;
	cJSON *cfg = cJSON_Parse("{\"nut\": [\"ups@127.0.0.1:1\"], \"timeout\": 0.2}");
	char path[] = "/tmp/hr-ups-log-XXXXXX", line[1024];
	void *state = NULL;
	int fd, saved, i, n = 0;
	FILE *fp;

	hr_errs_init(&errs);
	hr_recsink_init(&rec);
	CU_ASSERT_FATAL(probe_ups.setup(&env, cfg, "probes.ups", &state, &errs) == 0);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < 3; i++)
		probe_ups.read(state, &rec.sink, &err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	fp = fopen(path, "r");
	CU_ASSERT_FATAL(fp != NULL);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "probe ups: ups@127.0.0.1:1: connect") != NULL)
			n++;
	fclose(fp);
	unlink(path);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(rec.count, 3);
	probe_ups.teardown(state);
	hr_recsink_free(&rec);
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
}

static CU_TestInfo tests[] = {
	{ "split words, quotes, escapes", test_split },
	{ "LIST VAR reply", test_parse_list_good },
	{ "ERR, truncated and garbage replies", test_parse_list_broken },
	{ "line and variable limits", test_parse_list_limits },
	{ "every status word", test_status_words },
	{ "numbers, units and model", test_map_values },
	{ "nut-ddl dumps in tests/fixtures", test_dev_fixtures },
	{ "evolution500.seq steps and a PDU", test_seq_file },
	{ "broken .dev files", test_dev_broken },
	{ "whole nut-ddl corpus", test_dev_corpus },
	{ "config validation", test_config },
	{ "probe against a good upsd", test_probe_good },
	{ "lying servers give reachable 0", test_probe_liars },
	{ "query errors and timeouts", test_query_errors },
	{ "STARTTLS refused: no clear text", test_starttls_refused },
	{ "STARTTLS verifies CA and host", test_starttls },
	{ "many targets, one timeout", test_probe_many },
	{ "dead UPS logged once", test_log_once },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("ups_nut", tests);
}
