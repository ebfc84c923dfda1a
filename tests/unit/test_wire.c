/* test_wire.c: the sample document the agent prints and ships must match
 * DESIGN.md's contract exactly, and survive a round trip through a parser. */
#include "config.h"

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

static CU_TestInfo tests[] = {
	{ "encode the sample document", test_encode },
	{ "large counters exact", test_big_counters },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("wire", tests);
}
