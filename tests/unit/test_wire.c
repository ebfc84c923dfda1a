/* test_wire.c: the sample document the agent prints and ships must match
 * DESIGN.md's contract exactly and survive a round trip through the
 * central's decoder, which in turn must refuse every malformed or hostile
 * document with one message that names the JSON path, and take nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "wire.h"

static void test_encode(void)
{
	struct hr_sample s[2];
	struct hr_err err;
	cJSON *doc, *arr, *o, *v;
	char *text;

	hr_sample_init(&s[0], "fs", "/var");
	s[0].t = 1764316800;
	hr_sample_set(&s[0], "size", 5.0e10);
	hr_sample_set(&s[0], "used", 3.1e10);
	hr_sample_set(&s[0], "avail", 0.1);
	hr_sample_label(&s[0], "fstype", "ext4");
	hr_sample_label(&s[0], "device", "/dev/md0 \"quoted\"");
	hr_sample_init(&s[1], "exec", "procs");
	s[1].t = 1764316810;
	s[1].step = 60;

	text = hr_wire_encode("web1", 42, 10, s, 2, 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	doc = cJSON_Parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(doc, "host")->valuestring, "web1");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(doc, "agent")->valuestring,
			       "headroom-agent/" PACKAGE_VERSION);
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(doc, "seq")->valuedouble, 42);
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(doc, "interval")->valuedouble, 10);
	arr = cJSON_GetObjectItem(doc, "samples");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(arr), 2);
	o = cJSON_GetArrayItem(arr, 0);
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "t")->valuedouble, 1764316800);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "probe")->valuestring, "fs");
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "instance")->valuestring, "/var");
	v = cJSON_GetObjectItem(o, "values");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(v), 3);
	CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(v, "size")->valuedouble, 5.0e10, 0);
	CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(v, "avail")->valuedouble, 0.1, 0);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "labels"), "device")->valuestring,
			       "/dev/md0 \"quoted\"");
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(o, "step")); /* the document's interval */
	o = cJSON_GetArrayItem(arr, 1);
	CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "instance")->valuestring, "procs");
	CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "step")->valuedouble, 60);
	CU_ASSERT(cJSON_IsObject(cJSON_GetObjectItem(o, "values")));
	CU_ASSERT(cJSON_IsObject(cJSON_GetObjectItem(o, "labels")));
	cJSON_Delete(doc);
	free(text);
}

static void test_big_counters(void)
{
	struct hr_sample s;
	struct hr_err err;
	cJSON *doc;
	char *text;

	/* Byte counters pass 2^53 only after petabytes; below that they must
	 * come back exactly. */
	hr_sample_init(&s, "net", "eth0");
	s.t = 1;
	hr_sample_set(&s, "rx_bytes", 9007199254740991.0);
	text = hr_wire_encode("h", 1, 10, &s, 1, 0, &err);
	doc = cJSON_Parse(text);
	CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(doc, "samples"), 0), "values"), "rx_bytes")->valuedouble,
		9007199254740991.0, 0);
	cJSON_Delete(doc);
	free(text);
}

#define NOW 1764316800 /* 2025-11-28 08:00:00 UTC: the decoder's clock */

/* A valid document around the given samples, and one valid sample. */
#define DOC(samples) "{\"host\":\"web1\",\"seq\":1,\"samples\":[" samples "]}"
#define OK_SAMPLE "{\"t\":1764316800,\"probe\":\"load\",\"instance\":\"\",\"values\":{\"load1\":0.5}}"
#define SAMPLE(rest) "{\"t\":1764316800,\"probe\":\"load\",\"instance\":\"\"," rest "}"

static int decode(const char *text, struct hr_batch *b, struct hr_err *err)
{
	return hr_wire_decode(text, strlen(text), NULL, NOW, b, err);
}

static void assert_same_sample(const struct hr_sample *a, const struct hr_sample *b)
{
	size_t i;

	CU_ASSERT_EQUAL(a->t, b->t);
	CU_ASSERT_EQUAL(a->step, b->step);
	CU_ASSERT_STRING_EQUAL(a->probe, b->probe);
	CU_ASSERT_STRING_EQUAL(a->instance, b->instance);
	CU_ASSERT_EQUAL_FATAL(a->nvalues, b->nvalues);
	for (i = 0; i < a->nvalues; i++) {
		CU_ASSERT_STRING_EQUAL(a->values[i].name, b->values[i].name);
		/* Exact: these go to RRD as they are. */
		CU_ASSERT(a->values[i].v == b->values[i].v);
	}
	CU_ASSERT_EQUAL_FATAL(a->nlabels, b->nlabels);
	for (i = 0; i < a->nlabels; i++) {
		CU_ASSERT_STRING_EQUAL(a->labels[i].name, b->labels[i].name);
		CU_ASSERT_STRING_EQUAL(a->labels[i].value, b->labels[i].value);
	}
	CU_ASSERT_EQUAL(b->truncated, 0);
}

static void test_round_trip(void)
{
	struct hr_sample s[6];
	struct hr_batch b;
	struct hr_err err;
	char *text;
	size_t i;
	int pretty;

	hr_sample_init(&s[0], "load", "");
	hr_sample_set(&s[0], "load1", 0.52);
	hr_sample_set(&s[0], "load5", 1.0 / 3);
	hr_sample_set(&s[0], "ncpu", 8);
	hr_sample_set(&s[0], "procs_total", 1234);
	hr_sample_init(&s[1], "fs", "/srv/data dir/\xc3\xa9t\xc3\xa9 \"q\" \\");
	hr_sample_set(&s[1], "size", 5.0e10);
	hr_sample_set(&s[1], "used", 3.1e10);
	hr_sample_set(&s[1], "avail", 1.9e10);
	hr_sample_set(&s[1], "inodes", 3.2e6);
	hr_sample_set(&s[1], "inodes_used", 0);
	hr_sample_label(&s[1], "fstype", "ext4");
	hr_sample_label(&s[1], "device", "/dev/md0");
	hr_sample_init(&s[2], "md", "md0");
	hr_sample_set(&s[2], "degraded", 1);
	hr_sample_set(&s[2], "sync_percent", -1);
	hr_sample_label(&s[2], "level", "raid1");
	hr_sample_label(&s[2], "state", "clean, degraded");
	hr_sample_label(&s[2], "sync_action", "idle");
	/* An exec check with an interval of its own, and perfdata. */
	hr_sample_init(&s[3], "exec", "procs");
	s[3].step = 60;
	hr_sample_set(&s[3], "state", 1);
	hr_sample_set(&s[3], "procs", 251);
	hr_sample_set(&s[3], "tiny", 5e-324);
	hr_sample_set(&s[3], "neg", -273.15);
	/* Counters past 2^32 and up to 2^53 come back exactly. */
	hr_sample_init(&s[4], "net", "eth0");
	hr_sample_set(&s[4], "rx_bytes", 9007199254740992.0);
	hr_sample_set(&s[4], "tx_bytes", 9007199254740991.0);
	hr_sample_set(&s[4], "rx_errors", 4294967297.0);
	hr_sample_set(&s[4], "speed_mbps", 1e300);
	hr_sample_init(&s[5], "agent", "");
	for (i = 0; i < 6; i++)
		s[i].t = NOW - 10 + (time_t)i;
	s[5].t = NOW + 300; /* the clocks may differ by up to 300 s */

	for (pretty = 0; pretty <= 1; pretty++) {
		text = hr_wire_encode("db-1.example.org", 9007199254740992ULL, 10, s, 6, pretty, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_EQUAL_FATAL(hr_wire_decode(text, strlen(text), NULL, NOW, &b, &err), 0);
		CU_ASSERT_STRING_EQUAL(b.host, "db-1.example.org");
		CU_ASSERT_STRING_EQUAL(b.agent, "headroom-agent/" PACKAGE_VERSION);
		CU_ASSERT_EQUAL(b.seq, 9007199254740992ULL);
		CU_ASSERT_EQUAL(b.interval, 10);
		CU_ASSERT_EQUAL_FATAL(b.n, 6);
		for (i = 0; i < 6; i++)
			assert_same_sample(&s[i], &b.samples[i]);
		hr_batch_free(&b);
		free(text);
	}
}

static void test_round_trip_full_sample(void)
{
	struct hr_sample s;
	struct hr_batch b;
	struct hr_err err;
	char name[HR_NAME_MAX], value[HR_LABEL_VALUE_MAX], inst[HR_INSTANCE_MAX];
	char *text;
	int i;

	/* Every field at its largest: the decoder takes all the encoder can
	 * make of a valid sample. */
	memset(inst, 'i', sizeof(inst) - 1);
	inst[sizeof(inst) - 1] = '\0';
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	hr_sample_init(&s, "abcdefghijklmno", inst);
	s.t = 946684800;
	s.step = 86400;
	for (i = 0; i < HR_SAMPLE_VALUES; i++) {
		snprintf(name, sizeof(name), "v%018d", i);
		CU_ASSERT_EQUAL(hr_sample_set(&s, name, i * 1.5), 0);
	}
	for (i = 0; i < HR_SAMPLE_LABELS; i++) {
		snprintf(name, sizeof(name), "L%018d", i);
		CU_ASSERT_EQUAL(hr_sample_label(&s, name, value), 0);
	}
	CU_ASSERT_EQUAL(s.truncated, 0);
	text = hr_wire_encode("h", 1, 86400, &s, 1, 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL_FATAL(decode(text, &b, &err), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, 1);
	assert_same_sample(&s, &b.samples[0]);
	hr_batch_free(&b);
	free(text);
}

static void test_optional_fields(void)
{
	struct hr_batch b;
	struct hr_err err;

	/* No agent, no interval, no labels, no values, no samples at all:
	 * what the document does not say stays empty. */
	CU_ASSERT_EQUAL_FATAL(decode("{\"host\":\"web1\",\"seq\":7,\"samples\":[]}", &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(b.host, "web1");
	CU_ASSERT_STRING_EQUAL(b.agent, "");
	CU_ASSERT_EQUAL(b.seq, 7);
	CU_ASSERT_EQUAL(b.interval, 0);
	CU_ASSERT_EQUAL(b.n, 0);
	CU_ASSERT_PTR_NULL(b.samples);
	hr_batch_free(&b);

	CU_ASSERT_EQUAL_FATAL(decode(" \r\n\t" DOC(SAMPLE("\"values\":{}")) "\n ", &b, &err), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, 1);
	CU_ASSERT_EQUAL(b.samples[0].nvalues, 0);
	CU_ASSERT_EQUAL(b.samples[0].nlabels, 0);
	CU_ASSERT_EQUAL(b.samples[0].step, 0);
	CU_ASSERT_EQUAL(b.samples[0].t, NOW);
	CU_ASSERT_STRING_EQUAL(b.samples[0].probe, "load");
	hr_batch_free(&b);
	hr_batch_free(&b); /* twice is harmless */
	hr_batch_free(NULL);

	/* Keys in any order; an instance may hold what a path holds. */
	CU_ASSERT_EQUAL_FATAL(decode("{\"samples\":[{\"values\":{\"x\":-0.0},\"labels\":{\"k\":\"\"},"
				     "\"instance\":\"../../etc/passwd\",\"step\":1,\"probe\":\"p_1\","
				     "\"t\":946684800}],\"interval\":1,\"agent\":\"x\",\"seq\":1,"
				     "\"host\":\"A-1.b\"}", &b, &err), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, 1);
	CU_ASSERT_STRING_EQUAL(b.samples[0].instance, "../../etc/passwd");
	CU_ASSERT_STRING_EQUAL(b.samples[0].labels[0].value, "");
	CU_ASSERT_EQUAL(b.samples[0].step, 1);
	CU_ASSERT_EQUAL(b.interval, 1);
	CU_ASSERT_STRING_EQUAL(b.agent, "x");
	hr_batch_free(&b);
}

static const struct {
	const char *doc;
	const char *msg;
} bad_docs[] = {
	/* not JSON, or JSON that cJSON would take but RFC 8259 does not */
	{ "", "(top): not valid JSON (byte 0)" },
	{ "   ", "(top): not valid JSON (byte 3)" },
	{ "{", "(top): not valid JSON (byte 1)" },
	{ "{\"host\":\"web1\",}", "(top): not valid JSON (byte 16)" },
	{ "{'host':'web1'}", "(top): not valid JSON (byte 2)" },
	{ DOC("") " x", "(top): not valid JSON (byte 37)" },
	{ DOC("") DOC(""), "(top): not valid JSON (byte 36)" },
	{ DOC(SAMPLE("\"values\":{\"load1\":NaN}")), "(top): not valid JSON (byte 97)" },
	{ DOC(SAMPLE("\"values\":{\"load1\":Infinity}")), "(top): not valid JSON (byte 97)" },
	{ DOC(SAMPLE("\"values\":{\"load1\":0x10}")), "(top): not valid JSON (byte 98)" },
	{ DOC(SAMPLE("\"values\":{\"load1\":1e}")), "(top): not valid JSON (byte 98)" },
	{ "{\"host\":\"we\tb1\",\"seq\":1,\"samples\":[]}", "(top): not valid JSON (byte 11)" },
	{ "{\"host\":\"web1\",\"seq\":1,\x01\"samples\":[]}", "(top): not valid JSON (byte 23)" },
	{ "{\"host\":\"web1\\ud800\",\"seq\":1,\"samples\":[]}", "(top): not valid JSON (byte 13)" },
	{ "{\"host\":\"web1\\x\",\"seq\":1,\"samples\":[]}", "(top): not valid JSON (byte 13)" },
	{ "{\"host\":\"web1\\u0000.evil\",\"seq\":1,\"samples\":[]}",
	  "(top): a string contains \\u0000 (byte 13)" },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	  "(top): nested deeper than 16 levels (byte 16)" },
	{ DOC(SAMPLE("\"values\":{\"a\":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}")),
	  "(top): nested deeper than 16 levels (byte 105)" },
	/* the document */
	{ "[]", "(top): expected an object" },
	{ "null", "(top): expected an object" },
	{ "{\"seq\":1,\"samples\":[]}", "(top): missing \"host\"" },
	{ "{\"host\":\"web1\",\"samples\":[]}", "(top): missing \"seq\"" },
	{ "{\"host\":\"web1\",\"seq\":1}", "(top): missing \"samples\"" },
	{ "{\"host\":\"web1\",\"hots\":\"web2\",\"seq\":1,\"samples\":[]}", "(top): unknown key \"hots\"" },
	{ "{\"Host\":\"web1\",\"seq\":1,\"samples\":[]}", "(top): unknown key \"Host\"" },
	{ "{\"host\":\"web1\",\"host\":\"web2\",\"seq\":1,\"samples\":[]}", "(top): duplicate key \"host\"" },
	{ "{\"host\":\"web1\",\"seq\":1,\"samples\":[],\"x\\\"\\n\":1}", "(top): unknown key \"x\\\"\\x0a\"" },
	/* host: DESIGN.md, "On disk": it becomes a folder name */
	{ "{\"host\":7,\"seq\":1,\"samples\":[]}", "host: expected a string" },
	{ "{\"host\":null,\"seq\":1,\"samples\":[]}", "host: expected a string" },
	{ "{\"host\":[\"web1\"],\"seq\":1,\"samples\":[]}", "host: expected a string" },
	{ "{\"host\":\"..\",\"seq\":1,\"samples\":[]}", "host: \"..\" is not a valid host name" },
	{ "{\"host\":\".\",\"seq\":1,\"samples\":[]}", "host: \".\" is not a valid host name" },
	{ "{\"host\":\"a/b\",\"seq\":1,\"samples\":[]}", "host: \"a/b\" is not a valid host name" },
	{ "{\"host\":\"../../etc\",\"seq\":1,\"samples\":[]}", "host: \"../../etc\" is not a valid host name" },
	{ "{\"host\":\"..\\/etc\",\"seq\":1,\"samples\":[]}", "host: \"../etc\" is not a valid host name" },
	{ "{\"host\":\"\",\"seq\":1,\"samples\":[]}", "host: \"\" is not a valid host name" },
	{ "{\"host\":\"-a\",\"seq\":1,\"samples\":[]}", "host: \"-a\" is not a valid host name" },
	{ "{\"host\":\"a..b\",\"seq\":1,\"samples\":[]}", "host: \"a..b\" is not a valid host name" },
	{ "{\"host\":\"w\xc3\xa9" "b\",\"seq\":1,\"samples\":[]}", "host: \"w\\xc3\\xa9b\" is not a valid host name" },
	{ "{\"host\":\"w\\u00e9b\",\"seq\":1,\"samples\":[]}", "host: \"w\\xc3\\xa9b\" is not a valid host name" },
	{ "{\"host\":\"web1\\n\",\"seq\":1,\"samples\":[]}", "host: \"web1\\x0a\" is not a valid host name" },
	/* agent, seq, interval */
	{ "{\"host\":\"web1\",\"agent\":1,\"seq\":1,\"samples\":[]}", "agent: expected a string" },
	{ "{\"host\":\"web1\",\"agent\":\"a\\u001bb\",\"seq\":1,\"samples\":[]}", "agent: contains a control character" },
	{ "{\"host\":\"web1\",\"agent\":\"0123456789012345678901234567890123456789012345678901234567890123\","
	  "\"seq\":1,\"samples\":[]}", "agent: longer than 63 bytes" },
	{ "{\"host\":\"web1\",\"seq\":\"1\",\"samples\":[]}", "seq: expected a whole number >= 1" },
	{ "{\"host\":\"web1\",\"seq\":0,\"samples\":[]}", "seq: expected a whole number >= 1" },
	{ "{\"host\":\"web1\",\"seq\":-3,\"samples\":[]}", "seq: expected a whole number >= 1" },
	{ "{\"host\":\"web1\",\"seq\":1.5,\"samples\":[]}", "seq: expected a whole number >= 1" },
	{ "{\"host\":\"web1\",\"seq\":1e999,\"samples\":[]}", "seq: expected a whole number >= 1" },
	{ "{\"host\":\"web1\",\"seq\":true,\"samples\":[]}", "seq: expected a whole number >= 1" },
	{ "{\"host\":\"web1\",\"seq\":9007199254740994,\"samples\":[]}", "seq: 9007199254740994 is more than 2^53" },
	{ "{\"host\":\"web1\",\"seq\":1e300,\"samples\":[]}", "seq: 1e+300 is more than 2^53" },
	{ "{\"host\":\"web1\",\"seq\":1,\"interval\":0,\"samples\":[]}", "interval: expected a whole number from 1 to 86400" },
	{ "{\"host\":\"web1\",\"seq\":1,\"interval\":\"10\",\"samples\":[]}", "interval: expected a whole number from 1 to 86400" },
	{ "{\"host\":\"web1\",\"seq\":1,\"interval\":86401,\"samples\":[]}", "interval: expected a whole number from 1 to 86400" },
	{ "{\"host\":\"web1\",\"seq\":1,\"interval\":-1e999,\"samples\":[]}", "interval: not a finite number" },
	/* samples */
	{ "{\"host\":\"web1\",\"seq\":1,\"samples\":{}}", "samples: expected an array" },
	{ "{\"host\":\"web1\",\"seq\":1,\"samples\":null}", "samples: expected an array" },
	{ DOC("1"), "samples[0]: expected an object" },
	{ DOC(OK_SAMPLE ",[]"), "samples[1]: expected an object" },
	{ DOC(OK_SAMPLE "," SAMPLE("\"valuez\":{}")), "samples[1]: unknown key \"valuez\"" },
	{ DOC(SAMPLE("\"values\":{},\"values\":{}")), "samples[0]: duplicate key \"values\"" },
	{ DOC(SAMPLE("\"values\":{},\"t\":1764316800")), "samples[0]: duplicate key \"t\"" },
	{ DOC("{\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"), "samples[0]: missing \"t\"" },
	{ DOC("{\"t\":1764316800,\"instance\":\"\",\"values\":{}}"), "samples[0]: missing \"probe\"" },
	{ DOC("{\"t\":1764316800,\"probe\":\"load\",\"values\":{}}"), "samples[0]: missing \"instance\"" },
	{ DOC(SAMPLE("\"labels\":{}")), "samples[0]: missing \"values\"" },
	/* t */
	{ DOC("{\"t\":\"1764316800\",\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].t: expected a whole number of seconds" },
	{ DOC("{\"t\":1764316800.5,\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].t: expected a whole number of seconds" },
	{ DOC("{\"t\":5,\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].t: 5 is before 946684800, the earliest time accepted" },
	{ DOC("{\"t\":-1e300,\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].t: -1e+300 is before 946684800, the earliest time accepted" },
	{ DOC(OK_SAMPLE "," OK_SAMPLE ",{\"t\":4102444800,\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[2].t: 4102444800 is more than 300 s in the future" },
	{ DOC("{\"t\":1e300,\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].t: 1e+300 is more than 300 s in the future" },
	{ DOC("{\"t\":1e999,\"probe\":\"load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].t: not a finite number" },
	/* probe, instance, step */
	{ DOC("{\"t\":1764316800,\"probe\":\"Load\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].probe: \"Load\" is not a valid probe name (1-15 of a-z, 0-9, _)" },
	{ DOC("{\"t\":1764316800,\"probe\":\"\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].probe: \"\" is not a valid probe name (1-15 of a-z, 0-9, _)" },
	{ DOC("{\"t\":1764316800,\"probe\":\"abcdefghijklmnop\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].probe: \"abcdefghijklmnop\" is not a valid probe name (1-15 of a-z, 0-9, _)" },
	{ DOC("{\"t\":1764316800,\"probe\":\"../x\",\"instance\":\"\",\"values\":{}}"),
	  "samples[0].probe: \"../x\" is not a valid probe name (1-15 of a-z, 0-9, _)" },
	{ DOC("{\"t\":1764316800,\"probe\":{},\"instance\":\"\",\"values\":{}}"),
	  "samples[0].probe: expected a string" },
	{ DOC("{\"t\":1764316800,\"probe\":\"load\",\"instance\":7,\"values\":{}}"),
	  "samples[0].instance: expected a string" },
	{ DOC("{\"t\":1764316800,\"probe\":\"load\",\"instance\":\"a\\u0001b\",\"values\":{}}"),
	  "samples[0].instance: contains a control character" },
	{ DOC("{\"t\":1764316800,\"probe\":\"load\",\"instance\":\"a\\nb\",\"values\":{}}"),
	  "samples[0].instance: contains a control character" },
	{ DOC("{\"t\":1764316800,\"probe\":\"load\",\"instance\":\"a\x7f" "b\",\"values\":{}}"),
	  "samples[0].instance: contains a control character" },
	{ DOC(SAMPLE("\"values\":{},\"step\":0")), "samples[0].step: expected a whole number from 1 to 86400" },
	{ DOC(SAMPLE("\"values\":{},\"step\":60.5")), "samples[0].step: expected a whole number from 1 to 86400" },
	{ DOC(SAMPLE("\"values\":{},\"step\":\"60\"")), "samples[0].step: expected a whole number from 1 to 86400" },
	{ DOC(SAMPLE("\"values\":{},\"step\":86401")), "samples[0].step: expected a whole number from 1 to 86400" },
	/* values */
	{ DOC(SAMPLE("\"values\":[]")), "samples[0].values: expected an object" },
	{ DOC(SAMPLE("\"values\":null")), "samples[0].values: expected an object" },
	{ DOC(SAMPLE("\"values\":{\"load1\":\"0.5\"}")), "samples[0].values.load1: expected a number" },
	{ DOC(SAMPLE("\"values\":{\"load1\":null}")), "samples[0].values.load1: expected a number" },
	{ DOC(SAMPLE("\"values\":{\"load1\":true}")), "samples[0].values.load1: expected a number" },
	{ DOC(SAMPLE("\"values\":{\"load1\":[1]}")), "samples[0].values.load1: expected a number" },
	{ DOC(SAMPLE("\"values\":{\"load1\":{}}")), "samples[0].values.load1: expected a number" },
	{ DOC(OK_SAMPLE "," OK_SAMPLE "," OK_SAMPLE "," SAMPLE("\"values\":{\"load5\":1,\"load1\":1e999}")),
	  "samples[3].values.load1: not a finite number" },
	{ DOC(SAMPLE("\"values\":{\"load1\":-1e400}")), "samples[0].values.load1: not a finite number" },
	{ DOC(SAMPLE("\"values\":{\"load-1\":1}")),
	  "samples[0].values: \"load-1\" is not a valid value name (1-19 of A-Z, a-z, 0-9, _)" },
	{ DOC(SAMPLE("\"values\":{\"\":1}")),
	  "samples[0].values: \"\" is not a valid value name (1-19 of A-Z, a-z, 0-9, _)" },
	{ DOC(SAMPLE("\"values\":{\"abcdefghijklmnopqrst\":1}")),
	  "samples[0].values: \"abcdefghijklmnopqrst\" is not a valid value name (1-19 of A-Z, a-z, 0-9, _)" },
	{ DOC(SAMPLE("\"values\":{\"a\":1,\"b\":2,\"a\":3}")), "samples[0].values: duplicate key \"a\"" },
	/* labels */
	{ DOC(SAMPLE("\"values\":{},\"labels\":[]")), "samples[0].labels: expected an object" },
	{ DOC(SAMPLE("\"values\":{},\"labels\":null")), "samples[0].labels: expected an object" },
	{ DOC(SAMPLE("\"values\":{},\"labels\":{\"model\":5}")), "samples[0].labels.model: expected a string" },
	{ DOC(SAMPLE("\"values\":{},\"labels\":{\"model\":[\"x\"]}")), "samples[0].labels.model: expected a string" },
	{ DOC(SAMPLE("\"values\":{},\"labels\":{\"model\":\"a\\tb\"}")),
	  "samples[0].labels.model: contains a control character" },
	{ DOC(SAMPLE("\"values\":{},\"labels\":{\"a b\":\"x\"}")),
	  "samples[0].labels: \"a b\" is not a valid label name (1-19 of A-Z, a-z, 0-9, _)" },
	{ DOC(SAMPLE("\"values\":{},\"labels\":{\"m\":\"x\",\"m\":\"y\"}")), "samples[0].labels: duplicate key \"m\"" },
};

static void test_malformed(void)
{
	struct hr_batch b;
	struct hr_err err;
	size_t i;

	CU_ASSERT(sizeof(bad_docs) / sizeof(bad_docs[0]) >= 40);
	for (i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		memset(&err, 0, sizeof(err));
		memset(&b, 0xa5, sizeof(b));
		CU_ASSERT_EQUAL(decode(bad_docs[i].doc, &b, &err), -1);
		if (strcmp(err.msg, bad_docs[i].msg) != 0)
			fprintf(stderr, "case %zu: %s\n  got  %s\n  want %s\n", i, bad_docs[i].doc,
				err.msg, bad_docs[i].msg);
		CU_ASSERT_STRING_EQUAL(err.msg, bad_docs[i].msg);
		/* Nothing taken: the batch is empty, whatever came first. */
		CU_ASSERT_PTR_NULL(b.samples);
		CU_ASSERT_EQUAL(b.n, 0);
		CU_ASSERT_STRING_EQUAL(b.host, "");
		hr_batch_free(&b);
	}
}

/* Builds DOC(SAMPLE(...)) around a generated piece into a static buffer. */
static const char *doc_with(const char *before, char fill, size_t count, const char *after)
{
	static char buf[65536];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "{\"host\":\"web1\",\"seq\":1,\"samples\":[%s", before);
	memset(buf + n, fill, count);
	snprintf(buf + n + count, sizeof(buf) - n - count, "%s]}", after);
	return buf;
}

#define LABEL_HEAD "{\"t\":1764316800,\"probe\":\"p\",\"instance\":\"\",\"values\":{},\"labels\":{\"model\":\""

static void test_lengths(void)
{
	struct hr_batch b;
	struct hr_err err;
	char host[300], doc[4096];
	size_t i, n;

	/* Instance: 255 bytes taken, 256 refused. */
	CU_ASSERT_EQUAL_FATAL(decode(doc_with("{\"t\":1764316800,\"probe\":\"load\",\"values\":{},\"instance\":\"",
					      'x', 255, "\"}"), &b, &err), 0);
	CU_ASSERT_EQUAL(strlen(b.samples[0].instance), 255);
	hr_batch_free(&b);
	CU_ASSERT_EQUAL(decode(doc_with("{\"t\":1764316800,\"probe\":\"load\",\"values\":{},\"instance\":\"",
					'x', 256, "\"}"), &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].instance: longer than 255 bytes");

	/* Label values: 127 bytes taken, 128 refused. */
	CU_ASSERT_EQUAL_FATAL(decode(doc_with(LABEL_HEAD, 'm', 127, "\"}}"),
				     &b, &err), 0);
	CU_ASSERT_EQUAL(strlen(b.samples[0].labels[0].value), 127);
	hr_batch_free(&b);
	CU_ASSERT_EQUAL(decode(doc_with(LABEL_HEAD, 'm', 128, "\"}}"),
			       &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].labels.model: longer than 127 bytes");

	/* At most HR_SAMPLE_VALUES values and HR_SAMPLE_LABELS labels. */
	n = (size_t)snprintf(doc, sizeof(doc), "{\"host\":\"web1\",\"seq\":1,\"samples\":["
			     "{\"t\":1764316800,\"probe\":\"p\",\"instance\":\"\",\"values\":{");
	for (i = 0; i <= HR_SAMPLE_VALUES; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"v%zu\":%zu", i ? "," : "", i, i);
	snprintf(doc + n, sizeof(doc) - n, "}}]}");
	CU_ASSERT_EQUAL(decode(doc, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].values: more than 32 values");
	n = (size_t)snprintf(doc, sizeof(doc), "{\"host\":\"web1\",\"seq\":1,\"samples\":["
			     "{\"t\":1764316800,\"probe\":\"p\",\"instance\":\"\",\"values\":{");
	for (i = 0; i < HR_SAMPLE_VALUES; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"v%zu\":%zu", i ? "," : "", i, i);
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "},\"labels\":{");
	for (i = 0; i < HR_SAMPLE_LABELS; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"l%zu\":\"%zu\"", i ? "," : "", i, i);
	snprintf(doc + n, sizeof(doc) - n, "}}]}");
	CU_ASSERT_EQUAL_FATAL(decode(doc, &b, &err), 0);
	CU_ASSERT_EQUAL(b.samples[0].nvalues, HR_SAMPLE_VALUES);
	CU_ASSERT_EQUAL(b.samples[0].nlabels, HR_SAMPLE_LABELS);
	CU_ASSERT_STRING_EQUAL(b.samples[0].labels[7].value, "7");
	hr_batch_free(&b);
	snprintf(doc + n, sizeof(doc) - n, ",\"l8\":\"8\"}}]}");
	CU_ASSERT_EQUAL(decode(doc, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].labels: more than 8 labels");

	/* Host: 253 characters in labels of 63 taken, 254 refused. */
	memset(host, 'a', sizeof(host));
	for (i = 63; i < sizeof(host); i += 64)
		host[i] = '.';
	host[253] = '\0';
	snprintf(doc, sizeof(doc), "{\"host\":\"%s\",\"seq\":1,\"samples\":[]}", host);
	CU_ASSERT_EQUAL_FATAL(decode(doc, &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(b.host, host);
	hr_batch_free(&b);
	host[253] = 'a';
	host[254] = '\0';
	snprintf(doc, sizeof(doc), "{\"host\":\"%s\",\"seq\":1,\"samples\":[]}", host);
	CU_ASSERT_EQUAL(decode(doc, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "host: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not a valid host name");
}

static void test_host_valid(void)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{ "web1", 1 }, { "db-1.example.org", 1 }, { "a", 1 }, { "A1-b.C2", 1 }, { "1.2.3.4", 1 },
		{ "", 0 }, { ".", 0 }, { "..", 0 }, { "a/b", 0 }, { "../../etc", 0 }, { "-a", 0 },
		{ ".a", 0 }, { "a..b", 0 }, { "a.", 0 }, { "a b", 0 }, { "a_b", 0 }, { "a\\b", 0 },
		{ "w\xc3\xa9" "b", 0 }, { "\xe2\x80\xae" "web1", 0 }, { "web1\n", 0 }, { "*", 0 },
	};
	char name[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (hr_host_valid(cases[i].name) != cases[i].ok)
			fprintf(stderr, "host \"%s\": expected %d\n", cases[i].name, cases[i].ok);
		CU_ASSERT_EQUAL(hr_host_valid(cases[i].name), cases[i].ok);
	}
	/* A label of 63 characters is the most DNS allows. */
	memcpy(name, "a.", 2);
	memset(name + 2, 'x', 63);
	name[65] = '\0';
	CU_ASSERT(hr_host_valid(name));
	name[65] = 'x';
	name[66] = '\0';
	CU_ASSERT_FALSE(hr_host_valid(name));
	CU_ASSERT_FALSE(hr_host_valid(name + 2));
	name[65] = '\0';
	CU_ASSERT(hr_host_valid(name + 2));
}

static void test_limits(void)
{
	struct hr_wire_limits lim = { 0 };
	struct hr_batch b;
	struct hr_err err;
	char doc[512];
	const char *three = DOC(OK_SAMPLE "," OK_SAMPLE "," OK_SAMPLE);

	/* A zeroed struct means the defaults. */
	CU_ASSERT_EQUAL(hr_wire_decode(three, strlen(three), &lim, NOW, &b, &err), 0);
	CU_ASSERT_EQUAL(b.n, 3);
	hr_batch_free(&b);
	lim.max_samples = 3;
	CU_ASSERT_EQUAL(hr_wire_decode(three, strlen(three), &lim, NOW, &b, &err), 0);
	hr_batch_free(&b);
	lim.max_samples = 2;
	CU_ASSERT_EQUAL(hr_wire_decode(three, strlen(three), &lim, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples: more than 2 samples");

	/* The future bound, default and set, is inclusive. */
	snprintf(doc, sizeof(doc), DOC("{\"t\":%d,\"probe\":\"p\",\"instance\":\"\",\"values\":{}}"), NOW + 300);
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), NULL, NOW, &b, &err), 0);
	hr_batch_free(&b);
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), NULL, NOW - 1, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].t: 1764317100 is more than 300 s in the future");
	lim.max_future_s = 299;
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), &lim, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].t: 1764317100 is more than 299 s in the future");

	/* The earliest time, default and set, is inclusive. */
	snprintf(doc, sizeof(doc), DOC("{\"t\":946684800,\"probe\":\"p\",\"instance\":\"\",\"values\":{}}"));
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), NULL, NOW, &b, &err), 0);
	CU_ASSERT_EQUAL(b.samples[0].t, 946684800);
	hr_batch_free(&b);
	lim.min_time = 946684801;
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), &lim, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].t: 946684800 is before 946684801, the earliest time accepted");

	/* interval and step share max_interval. */
	lim.min_time = 0;
	lim.max_interval = 60;
	snprintf(doc, sizeof(doc), "{\"host\":\"web1\",\"seq\":1,\"interval\":60,\"samples\":[" SAMPLE("\"values\":{},\"step\":60") "]}");
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), &lim, NOW, &b, &err), 0);
	CU_ASSERT_EQUAL(b.interval, 60);
	CU_ASSERT_EQUAL(b.samples[0].step, 60);
	hr_batch_free(&b);
	snprintf(doc, sizeof(doc), "{\"host\":\"web1\",\"seq\":1,\"interval\":61,\"samples\":[]}");
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), &lim, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "interval: expected a whole number from 1 to 60");
	snprintf(doc, sizeof(doc), DOC(SAMPLE("\"values\":{},\"step\":61")));
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), &lim, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples[0].step: expected a whole number from 1 to 60");
}

static void test_default_sample_limit(void)
{
	static const char head[] = "{\"host\":\"web1\",\"seq\":1,\"samples\":[";
	static const char one[] = "{\"t\":1764316800,\"probe\":\"p\",\"instance\":\"\",\"values\":{}},";
	size_t n = 100001, len = strlen(head) + n * strlen(one) + 2, i, o;
	struct hr_batch b;
	struct hr_err err;
	char *doc = malloc(len + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	o = strlen(head);
	memcpy(doc, head, o);
	for (i = 0; i < n; i++, o += strlen(one))
		memcpy(doc + o, one, strlen(one));
	memcpy(doc + o - 1, "]}", 3);
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), NULL, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "samples: more than 100000 samples");
	CU_ASSERT_PTR_NULL(b.samples);
	free(doc);
}

static void test_length_not_nul(void)
{
	static const char good[] = DOC(OK_SAMPLE);
	size_t len = strlen(good);
	struct hr_batch b;
	struct hr_err err;
	char *exact, *garbage;

	/* Exactly len bytes, no NUL after them: valgrind and ASan see any
	 * read past the end. */
	exact = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
	memcpy(exact, good, len);
	CU_ASSERT_EQUAL(hr_wire_decode(exact, len, NULL, NOW, &b, &err), 0);
	CU_ASSERT_EQUAL(b.n, 1);
	hr_batch_free(&b);
	/* Cut short inside a string, a number, a literal: refused, however
	 * the bytes after the cut would have continued. */
	CU_ASSERT_EQUAL(hr_wire_decode(exact, len - 1, NULL, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "(top): not valid JSON (byte 103)");
	CU_ASSERT_EQUAL(hr_wire_decode(exact, 10, NULL, NOW, &b, &err), -1);
	CU_ASSERT_EQUAL(hr_wire_decode(exact, 0, NULL, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "(top): not valid JSON (byte 0)");
	CU_ASSERT_EQUAL(hr_wire_decode(NULL, 5, NULL, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "(top): not valid JSON (byte 0)");
	free(exact);

	/* Garbage at text[len] that would change the document if read. */
	garbage = malloc(len + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(garbage);
	memcpy(garbage, good, len);
	memcpy(garbage + len, ",\"x\":1}garbage", 15);
	CU_ASSERT_EQUAL(hr_wire_decode(garbage, len, NULL, NOW, &b, &err), 0);
	CU_ASSERT_EQUAL(b.n, 1);
	hr_batch_free(&b);
	/* The same document cut before its last '}': refused, though the
	 * byte at len is a '}'. */
	memcpy(garbage, good, len);
	garbage[len] = '}';
	CU_ASSERT_EQUAL(hr_wire_decode(garbage, len - 1, NULL, NOW, &b, &err), -1);
	/* An embedded NUL does not end the document early. */
	memcpy(garbage, good, len);
	memcpy(garbage + len, "\0\"x", 3);
	CU_ASSERT_EQUAL(hr_wire_decode(garbage, len + 3, NULL, NOW, &b, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "(top): not valid JSON (byte 104)");
	free(garbage);
}

static CU_TestInfo tests[] = {
	{ "encode the sample document", test_encode },
	{ "large counters exact", test_big_counters },
	{ "round trip encode, decode", test_round_trip },
	{ "round trip of a full sample", test_round_trip_full_sample },
	{ "optional fields", test_optional_fields },
	{ "malformed documents, one message each", test_malformed },
	{ "length caps", test_lengths },
	{ "host names", test_host_valid },
	{ "limits", test_limits },
	{ "default sample limit", test_default_sample_limit },
	{ "text is not NUL-terminated", test_length_not_nul },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("wire", tests);
}
