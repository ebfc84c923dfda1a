/* test_config.c: the agent config: defaults, every key of DESIGN.md, and
 * every problem reported with its JSON path (not just the first). */
#include "config.h"

#include <string.h>

#include "agent_config.h"
#include "testutil.h"
#include "wire.h"

static int parse(const char *text, struct agent_config *cfg, struct hr_errs *errs)
{
	hr_errs_init(errs);
	return agent_config_parse(text, strlen(text), cfg, errs);
}

static void test_defaults(void)
{
	struct agent_config cfg;
	struct hr_errs errs;
	const struct agent_probe_cfg *pc;

	CU_ASSERT_EQUAL_FATAL(parse("{\"host\": \"web1\"}", &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(cfg.host, "web1");
	CU_ASSERT_EQUAL(cfg.interval, 10);
	CU_ASSERT_STRING_EQUAL(cfg.root, "/");
	CU_ASSERT_DOUBLE_EQUAL(cfg.spool_max_bytes, 268435456.0, 0);
	CU_ASSERT_EQUAL(cfg.ncentrals, 0);
	/* Core probes run by default, fs every 60 s. */
	static const char *const core[] = { "load", "cpu", "mem", "psi", "fs", "disk",
					    "md", "net", "bond", "agent" };
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		pc = agent_config_probe(&cfg, core[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
		CU_ASSERT(pc->enabled);
	}
	CU_ASSERT_EQUAL(agent_config_probe(&cfg, "fs")->interval, 60);
	CU_ASSERT_EQUAL(agent_config_probe(&cfg, "load")->interval, 10);
	agent_config_free(&cfg);
	hr_errs_free(&errs);
}

static void test_full(void)
{
	const char *text =
		"{\"host\": \"web1.example.org\", \"interval\": \"15s\", \"data_dir\": \"/tmp/hr\",\n"
		" \"root\": \"/host\",\n"
		" \"central\": [{\"url\": \"https://central.example:8443\", \"token\": \"t0k\"},\n"
		"             {\"url\": \"http://backup:8080\", \"token\": \"t1\"}],\n"
		" \"spool_max_bytes\": 1048576,\n"
		" \"probes\": {\"md\": false, \"fs\": {\"interval\": \"2m\"}, \"load\": true}}";
	struct agent_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &errs), 0);
	CU_ASSERT_EQUAL(cfg.interval, 15);
	CU_ASSERT_STRING_EQUAL(cfg.data_dir, "/tmp/hr");
	CU_ASSERT_STRING_EQUAL(cfg.root, "/host");
	CU_ASSERT_EQUAL(cfg.ncentrals, 2);
	CU_ASSERT_STRING_EQUAL(cfg.centrals[1].url, "http://backup:8080");
	CU_ASSERT_FALSE(agent_config_probe(&cfg, "md")->enabled);
	CU_ASSERT(agent_config_probe(&cfg, "fs")->enabled);
	CU_ASSERT_EQUAL(agent_config_probe(&cfg, "fs")->interval, 120);
	CU_ASSERT_PTR_NOT_NULL(agent_config_probe(&cfg, "fs")->cfg);
	CU_ASSERT_EQUAL(agent_config_probe(&cfg, "cpu")->interval, 15);
	agent_config_free(&cfg);
	hr_errs_free(&errs);
}

static void test_every_problem(void)
{
	const char *text =
		"{\"host\": \"../etc\", \"interval\": \"soon\", \"frobnicate\": 1,\n"
		" \"data_dir\": \"relative\",\n"
		" \"central\": [{\"url\": \"ftp://x\"}, 7, {\"url\": \"https://c\", \"token\": \"t\", \"cert\": \"/nonexistent.pem\"}],\n"
		" \"spool_max_bytes\": 5,\n"
		" \"probes\": {\"nosuch\": {}, \"fs\": {\"interval\": 0}, \"md\": 3}}";
	struct agent_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL(parse(text, &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "frobnicate: unknown key", 0));
	CU_ASSERT(errs_has(&errs, "host: \"../etc\" is not a valid host name (letters, digits, '-', '.'; at most 253)", 0));
	CU_ASSERT(errs_has(&errs, "interval: expected a duration: seconds or a string like \"90s\", \"15m\", \"26h\", \"7d\"", 0));
	CU_ASSERT(errs_has(&errs, "data_dir: must be an absolute path", 0));
	CU_ASSERT(errs_has(&errs, "central[0].url: expected an http:// or https:// URL", 0));
	CU_ASSERT(errs_has(&errs, "central[0]: missing \"token\"", 0));
	CU_ASSERT(errs_has(&errs, "central[1]: expected an object", 0));
	CU_ASSERT(errs_has(&errs, "central[2]: \"cert\" and \"key\" go together", 0));
	CU_ASSERT(errs_has(&errs, "central[2].cert: cannot read /nonexistent.pem", 0));
	CU_ASSERT(errs_has(&errs, "spool_max_bytes: 5 is out of range (1048576 to 1e+15)", 0));
	CU_ASSERT(errs_has(&errs, "probes.nosuch: unknown probe", 0));
	CU_ASSERT(errs_has(&errs, "probes.fs.interval: duration 0s is out of range (1s to 86400s)", 0));
	CU_ASSERT(errs_has(&errs, "probes.md: expected false, true or an object", 0));
	CU_ASSERT_EQUAL(errs.count, 13);
	CU_ASSERT_PTR_NULL(cfg.doc); /* freed on failure */
	hr_errs_free(&errs);
}

static void test_bad_json(void)
{
	struct agent_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL(parse("{\"host\": \"a\",\n \"interval\": }", &cfg, &errs), -1);
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.items[0], "not valid JSON (near line 2"));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("[1, 2]", &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "(top): expected a JSON object", 0));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("", &cfg, &errs), -1);
	hr_errs_free(&errs);
}

static void test_host_names(void)
{
	static const struct {
		const char *name;
		int ok;
	} cases[] = {
		{ "web1", 1 }, { "db-1.example.org", 1 }, { "a", 1 },
		{ "", 0 }, { "..", 0 }, { ".", 0 }, { "a/b", 0 }, { "../../etc", 0 },
		{ "-x", 0 }, { ".x", 0 }, { "a..b", 0 }, { "a b", 0 }, { "a_b", 0 },
	};
	char longname[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(hr_host_valid(cases[i].name), cases[i].ok);
	memset(longname, 'a', sizeof(longname));
	for (i = 60; i < sizeof(longname); i += 61)
		longname[i] = '.';
	longname[253] = '\0';
	CU_ASSERT(hr_host_valid(longname));
	longname[253] = 'a';
	longname[254] = '\0';
	CU_ASSERT_FALSE(hr_host_valid(longname));
}

static CU_TestInfo tests[] = {
	{ "defaults", test_defaults },
	{ "every key", test_full },
	{ "every problem with its path", test_every_problem },
	{ "malformed JSON", test_bad_json },
	{ "host names", test_host_names },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("config", tests);
}
