/* test_rules.c: the analyzer's rules: every problem of a rules file named by
 * its JSON path, defaults overridden and turned off, matching, values,
 * hysteresis and change detection, the observation a judgement fills, and
 * every default rule fed what the probes report about real machines (the
 * corpus fixtures: a degraded RAID, a UPS on battery, a bond with a link
 * down, a failing disk) or samples shaped as DESIGN.md's metric table. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bond.h"
#include "md.h"
#include "rules.h"
#include "smart.h"
#include "testutil.h"
#include "ups_nut.h"
#include "util.h"

#define T0 1764316800

static struct rules *parse(const char *text, struct hr_errs *errs)
{
	hr_errs_init(errs);
	return rules_parse(text, strlen(text), errs);
}

/* A rules file of one rule: {"rules": [RULE]}. */
static struct rules *parse_one(const char *rule, struct hr_errs *errs)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"rules\": [%s]}", rule);
	return parse(text, errs);
}

static struct rules *defaults(void)
{
	struct hr_err err;
	struct rules *rs = rules_defaults(&err);

	if (rs == NULL)
		fprintf(stderr, "\n  defaults: %s\n", err.msg);
	return rs;
}

/* ---- parse errors ----------------------------------------------------------- */

static const struct {
	const char *text; /* the whole file */
	const char *want; /* a problem that starts with this */
} bad[] = {
	{ "not json", "(top): not valid JSON" },
	{ "[]", "(top): expected a JSON object" },
	{ "{\"rule\": []}", "rule: unknown key" },
	{ "{\"rules\": {}}", "rules: expected an array" },
	{ "{\"rules\": [5]}", "rules[0]: expected an object" },
	{ "{\"rules\": [{\"match\": {\"probe\": \"fs\"}, \"value\": \"used\", \"warning\": 9}]}",
	  "rules[0].name: missing" },
	{ "{\"rules\": [{\"name\": \"a b\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9}]}", "rules[0].name: \"a b\" is not a rule name" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"colour\": \"red\"}]}", "rules[0].colour: unknown key" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\", \"path\": \"/\"},"
	  " \"value\": \"used\", \"warning\": 9}]}", "rules[0].match.path: unknown key" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"op\": \"=>\"}]}", "rules[0].op: \"=>\" is not one of" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"for\": \"2 minutes\"}]}", "rules[0].for: expected a duration" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"for\": \"90d\"}]}", "rules[0].for: duration" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"filesystem\"},"
	  " \"value\": \"used\", \"warning\": 9}]}",
	  "rules[0].match.probe: unknown probe \"filesystem\" (probes: load, cpu" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"free\","
	  " \"warning\": 9}]}",
	  "rules[0].value: probe fs reports no \"free\" (it has: size, used, avail, inodes, "
	  "inodes_used)" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"divide_by\": \"total\", \"warning\": 9}]}",
	  "rules[0].divide_by: probe fs reports no \"total\"" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"exec\"}, \"value\": \"bad-name\","
	  " \"warning\": 9}]}", "rules[0].value: \"bad-name\" is not a value name" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9}, {\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"size\","
	  " \"warning\": 9}]}", "rules[1].name: \"a\" is also the name of rules[0]" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\","
	  " \"labels\": {\"fs-type\": \"ext*\"}}, \"value\": \"used\", \"warning\": 9}]}",
	  "rules[0].match.labels.fs-type: not a label name" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\","
	  " \"labels\": {\"fstype\": \"ext*\", \"fstype\": \"xfs\"}}, \"value\": \"used\","
	  " \"warning\": 9}]}", "rules[0].match.labels.fstype: given twice" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\","
	  " \"labels\": {\"a\": \"1\", \"b\": \"2\", \"c\": \"3\", \"d\": \"4\", \"e\": \"5\"}},"
	  " \"value\": \"used\", \"warning\": 9}]}", "rules[0].match.labels.e: at most 4 labels" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
	  " \"detector\": \"spike\", \"spike\": {\"tail\": 2}}]}", "rules[0].spike.tail: " },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
	  " \"detector\": \"spike\", \"spike\": {\"roll_window\": \"forever\"}}]}",
	  "rules[0].spike.roll_window: expected a duration" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
	  " \"detector\": \"spike\", \"spike\": {\"direction\": \"sideways\"}}]}",
	  "rules[0].spike.direction: \"sideways\" is not one of \"both\", \"up\", \"down\"" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"detector\": \"forecast\"}]}", "rules[0].forecast: missing" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"detector\": \"forecast\", \"forecast\": {\"bucket\": \"1d\"}}]}",
	  "rules[0].forecast: a forecast needs \"capacity\"" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"detector\": \"forecast\", \"forecast\": {\"capacity\": 1e9, \"warning\": \"1d\","
	  " \"critical\": \"3d\"}}]}", "rules[0].forecast.critical: 259200s is longer than" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"detector\": \"forecast\", \"forecast\": {\"capacity\": -5}}]}",
	  "rules[0].forecast.capacity: must be a positive number" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 95, \"critical\": 90}]}",
	  "rules[0].warning: 95 is above critical (90)" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"tls\"}, \"value\": \"expiry_days\","
	  " \"op\": \"<\", \"warning\": 7, \"critical\": 14}]}",
	  "rules[0].warning: 7 is below critical (14)" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 90, \"clear\": {\"warning\": 92}}]}",
	  "rules[0].clear.warning: 92 must be at or below the warning level (90)" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 90, \"clear\": {\"critical\": 80}}]}",
	  "rules[0].clear.critical: there is no \"critical\" level" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\"}]}",
	  "rules[0]: a threshold needs \"warning\", \"critical\" or both" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"change\": \"drop\"}]}", "rules[0].change: only for \"detector\": "
	  "\"change\"" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"net\"}, \"value\": \"carrier\","
	  " \"detector\": \"change\"}]}", "rules[0].change: missing" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"net\"}, \"value\": \"carrier\","
	  " \"detector\": \"change\", \"change\": \"fell\", \"min_delta\": 0}]}",
	  "rules[0].min_delta: must be above 0" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"detector\": \"guess\"}]}", "rules[0].detector: \"guess\" is not one of" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"severity\": \"fatal\"}]}", "rules[0].severity: \"fatal\"" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"labels\": {\"host\": \"x\"}}]}",
	  "rules[0].labels.host: set by the alert itself" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"scale\": 0}]}", "rules[0].scale: must not be 0" },
	{ "{\"rules\": [{\"name\": \"a\", \"detector\": \"stale\", \"match\": {\"probe\": \"fs\"}}]}",
	  "rules[0].match: a stale rule watches hosts" },
	{ "{\"rules\": [{\"name\": \"a\", \"value\": \"used\", \"warning\": 9}]}",
	  "rules[0].match: missing \"probe\"" },
	{ "{\"rules\": [{\"name\": \"no_such_default\", \"disabled\": true}]}",
	  "rules[0].name: \"disabled\" with only a name turns a built-in rule off" },
	{ "{\"rules\": [{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
	  " \"warning\": 9, \"summary\": \"a\\u0007b\"}]}",
	  "rules[0].summary: control characters" },
};

static void test_parse_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hr_errs errs;
		struct rules *rs = parse(bad[i].text, &errs);

		if (rs != NULL || !hr_errs_any(&errs))
			fprintf(stderr, "\n  case %zu accepted: %s\n", i, bad[i].text);
		CU_ASSERT_PTR_NULL(rs);
		CU_ASSERT(errs_has(&errs, bad[i].want, 1));
		rules_free(rs);
		hr_errs_free(&errs);
	}
}

/* Every problem at once, each with its own path. */
static void test_all_problems_at_once(void)
{
	struct hr_errs errs;
	struct rules *rs = parse("{\"rules\": ["
		"{\"name\": \"a\", \"match\": {\"probe\": \"fs\"}, \"value\": \"usd\", \"warning\": 9},"
		"{\"name\": \"b\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\", \"warning\": 9,"
		" \"for\": -1},"
		"{\"name\": \"c\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
		" \"detector\": \"spike\", \"spike\": {\"short_n\": 1.5}}]}", &errs);

	CU_ASSERT_PTR_NULL(rs);
	CU_ASSERT_EQUAL(errs.count, 3);
	CU_ASSERT(errs_has(&errs, "rules[0].value: ", 1));
	CU_ASSERT(errs_has(&errs, "rules[1].for: ", 1));
	CU_ASSERT(errs_has(&errs, "rules[2].spike.short_n: expected a whole number", 0));
	hr_errs_free(&errs);
}

/* A file's rule, parsed: every key of the documented format. */
static void test_parse_full_rule(void)
{
	struct hr_errs errs;
	struct rules *rs = parse("{\"rules\": ["
		"{\"name\": \"var-full.1\", \"match\": {\"host\": \"web*\", \"probe\": \"fs\","
		" \"instance\": \"/var*\", \"labels\": {\"fstype\": \"ext*\"}}, \"value\": \"used\","
		" \"divide_by\": \"size\", \"scale\": 100, \"detector\": \"threshold\","
		" \"warning\": 80, \"critical\": 90, \"clear\": {\"warning\": 75, \"critical\": 85},"
		" \"op\": \">=\", \"for\": \"2m\", \"severity\": \"info\","
		" \"summary\": \"{host}: {instance} at {value}%\", \"labels\": {\"team\": \"web\"},"
		" \"route\": \"pager\"},"
		"{\"name\": \"load_spike_x\", \"match\": {\"probe\": \"load\"}, \"value\": \"load5\","
		" \"detector\": \"spike\", \"spike\": {\"direction\": \"down\", \"roll_window\": \"3h\","
		" \"warmup\": 3600, \"short_n\": 4, \"season_days\": 0, \"weekly\": false, \"tail\": 0.01}},"
		"{\"name\": \"pool\", \"match\": {\"probe\": \"exec\", \"instance\": \"zpool\"},"
		" \"value\": \"alloc\", \"detector\": \"forecast\", \"forecast\": {\"capacity\": 1e12,"
		" \"warning\": \"14d\", \"critical\": \"3d\", \"bucket\": \"1h\", \"min_history\": \"2d\"}},"
		"{\"name\": \"ups_flap\", \"match\": {\"probe\": \"ups\"}, \"value\": \"runtime_s\","
		" \"detector\": \"change\", \"change\": \"drop\", \"min_delta\": 300, \"reset\": \"1d\"}"
		"]}", &errs);
	const struct rule *r;

	CU_ASSERT_FALSE(hr_errs_any(&errs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	r = rules_find(rs, "var-full.1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FALSE(r->builtin);
	CU_ASSERT_STRING_EQUAL(r->match.host, "web*");
	CU_ASSERT_STRING_EQUAL(r->match.instance, "/var*");
	CU_ASSERT_EQUAL(r->match.nlabels, 1);
	CU_ASSERT_STRING_EQUAL(r->match.labels[0].glob, "ext*");
	CU_ASSERT_STRING_EQUAL(r->divisor, "size");
	CU_ASSERT_EQUAL(r->threshold.op, RULE_GE);
	CU_ASSERT_DOUBLE_EQUAL(r->threshold.clear_warning, 75, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->threshold.clear_critical, 85, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->for_s, 120, 0);
	CU_ASSERT_EQUAL(r->severity, ALERT_INFO);
	CU_ASSERT_STRING_EQUAL(r->route, "pager");
	CU_ASSERT_STRING_EQUAL(r->labels[0].name, "team");
	r = rules_find(rs, "load_spike_x");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->spike.dir, SPIKE_DOWN);
	CU_ASSERT_DOUBLE_EQUAL(r->spike.roll_window, 3 * 3600, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->spike.warmup, 3600, 0);
	CU_ASSERT_EQUAL(r->spike.short_n, 4);
	CU_ASSERT_EQUAL(r->spike.weekly, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->spike.tail, 0.01, 0);
	r = rules_find(rs, "pool");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_DOUBLE_EQUAL(r->forecast.p.capacity, 1e12, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->forecast.p.warn_horizon, 14 * 86400, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->forecast.p.crit_horizon, 3 * 86400, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->forecast.p.bucket, 3600, 0);
	r = rules_find(rs, "ups_flap");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->change.kind, RULE_DROP);
	CU_ASSERT_DOUBLE_EQUAL(r->change.reset, 86400, 0);
	rules_free(rs);
	hr_errs_free(&errs);
}

/* ---- defaults, override, disable ------------------------------------------------ */

static const struct {
	const char *name;
	enum rule_detector det;
	const char *redundancy; /* NULL: none */
} expected_defaults[] = {
	{ "md_degraded", RULE_THRESHOLD, "raid" },
	{ "md_failed_member", RULE_THRESHOLD, "raid" },
	{ "md_sync", RULE_THRESHOLD, "raid" },
	{ "bond_degraded", RULE_THRESHOLD, "network" },
	{ "link_carrier_lost", RULE_CHANGE, "network" },
	{ "link_speed_dropped", RULE_CHANGE, "network" },
	{ "ups_on_battery", RULE_THRESHOLD, "power" },
	{ "ups_low_battery", RULE_THRESHOLD, "power" },
	{ "ups_replace_battery", RULE_THRESHOLD, "power" },
	{ "ups_unreachable", RULE_THRESHOLD, "power" },
	{ "smart_unhealthy", RULE_THRESHOLD, NULL },
	{ "smart_pending_growing", RULE_CHANGE, NULL },
	{ "smart_reallocated_growing", RULE_CHANGE, NULL },
	{ "backup_stale", RULE_THRESHOLD, NULL },
	{ "tls_expiring", RULE_THRESHOLD, NULL },
	{ "host_stale", RULE_STALE, "server" },
	{ "fs_used", RULE_THRESHOLD, NULL },
	{ "fs_inodes_used", RULE_THRESHOLD, NULL },
	{ "spike_load", RULE_SPIKE, NULL },
	{ "spike_cpu_busy", RULE_SPIKE, NULL },
	{ "spike_pressure", RULE_SPIKE, NULL },
	{ "spike_disk_util", RULE_SPIKE, NULL },
	{ "spike_disk_read", RULE_SPIKE, NULL },
	{ "spike_disk_write", RULE_SPIKE, NULL },
	{ "spike_net_rx", RULE_SPIKE, NULL },
	{ "spike_net_tx", RULE_SPIKE, NULL },
	{ "forecast_fs_used", RULE_FORECAST, NULL },
	{ "forecast_fs_inodes", RULE_FORECAST, NULL },
	{ "forecast_mem_used", RULE_FORECAST, NULL },
};
#define NDEFAULTS (sizeof(expected_defaults) / sizeof(expected_defaults[0]))

static const char *rule_label(const struct rule *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nlabels; i++)
		if (strcmp(r->labels[i].name, name) == 0)
			return r->labels[i].value;
	return NULL;
}

static void test_defaults(void)
{
	struct rules *rs = defaults();
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL(rules_count(rs), NDEFAULTS);
	for (i = 0; i < NDEFAULTS; i++) {
		const struct rule *r = rules_find(rs, expected_defaults[i].name);
		const char *red;

		if (r == NULL)
			fprintf(stderr, "\n  missing default %s\n", expected_defaults[i].name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT(r->builtin);
		CU_ASSERT_EQUAL(r->detector, expected_defaults[i].det);
		red = rule_label(r, "redundancy");
		if (expected_defaults[i].redundancy == NULL) {
			CU_ASSERT_PTR_NULL(red);
		} else {
			CU_ASSERT(red != NULL && strcmp(red, expected_defaults[i].redundancy) == 0);
		}
		/* Every default speaks for itself. */
		CU_ASSERT_PTR_NOT_NULL(strstr(r->summary, "{host}"));
		CU_ASSERT_PTR_NULL(strstr(r->summary, "{rule}"));
		if (r->detector == RULE_SPIKE)
			CU_ASSERT_EQUAL(r->spike.dir, SPIKE_UP);
	}
	CU_ASSERT_PTR_NULL(rules_get(rs, NDEFAULTS));
	CU_ASSERT_STRING_EQUAL(rules_find(rs, "md_sync")->route, "none");
	CU_ASSERT_EQUAL(rules_find(rs, "md_sync")->severity, ALERT_INFO);
	CU_ASSERT_EQUAL(rules_find(rs, "host_stale")->severity, ALERT_CRITICAL);
	CU_ASSERT_DOUBLE_EQUAL(rules_find(rs, "ups_unreachable")->for_s, 60, 0);
	CU_ASSERT_DOUBLE_EQUAL(rules_find(rs, "ups_on_battery")->for_s, 0, 0);
	CU_ASSERT_STRING_EQUAL(rules_find(rs, "forecast_fs_used")->forecast.capacity_value, "size");
	rules_free(rs);
	/* An empty file is the defaults. */
	{
		struct hr_errs errs;

		rs = parse("{\"rules\": []}", &errs);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
		CU_ASSERT_EQUAL(rules_count(rs), NDEFAULTS);
		rules_free(rs);
		hr_errs_free(&errs);
	}
}

static void test_override_and_disable(void)
{
	struct hr_errs errs;
	struct rules *rs = parse("{\"rules\": ["
		"{\"name\": \"fs_used\", \"match\": {\"probe\": \"fs\", \"instance\": \"/srv\"},"
		" \"value\": \"avail\", \"op\": \"<\", \"critical\": 1e9},"
		"{\"name\": \"md_sync\", \"disabled\": true},"
		"{\"name\": \"spike_net_tx\", \"disabled\": true, \"match\": {\"probe\": \"net\"},"
		" \"value\": \"tx_bytes\", \"detector\": \"spike\"},"
		"{\"name\": \"my_rule\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
		" \"warning\": 4},"
		"{\"name\": \"my_off\", \"disabled\": true, \"match\": {\"probe\": \"load\"},"
		" \"value\": \"load5\", \"warning\": 4}]}", &errs);
	const struct rule *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL(rules_count(rs), NDEFAULTS - 2 + 1);
	CU_ASSERT_PTR_NULL(rules_find(rs, "md_sync"));
	CU_ASSERT_PTR_NULL(rules_find(rs, "spike_net_tx"));
	CU_ASSERT_PTR_NULL(rules_find(rs, "my_off"));
	CU_ASSERT_PTR_NOT_NULL(rules_find(rs, "md_degraded"));
	/* The override replaces the default entirely: nothing of it is left
	 * (no divisor, no scale, no clear levels, no warning level). */
	r = rules_find(rs, "fs_used");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FALSE(r->builtin);
	CU_ASSERT_STRING_EQUAL(r->value, "avail");
	CU_ASSERT_STRING_EQUAL(r->divisor, "");
	CU_ASSERT_DOUBLE_EQUAL(r->scale, 1, 0);
	CU_ASSERT_EQUAL(r->threshold.op, RULE_LT);
	CU_ASSERT(isnan(r->threshold.warning));
	CU_ASSERT_DOUBLE_EQUAL(r->threshold.clear_critical, 1e9, 0);
	CU_ASSERT_STRING_EQUAL(r->match.instance, "/srv");
	CU_ASSERT_PTR_NOT_NULL(rules_find(rs, "my_rule"));
	rules_free(rs);
	hr_errs_free(&errs);
}

/* ---- matching and values ------------------------------------------------------------ */

static void fs_sample(struct hr_sample *s, const char *mount, double size, double used)
{
	hr_sample_init(s, "fs", mount);
	s->t = T0;
	hr_sample_set(s, "size", size);
	hr_sample_set(s, "used", used);
	hr_sample_set(s, "avail", size - used);
	hr_sample_set(s, "inodes", 3.2e6);
	hr_sample_set(s, "inodes_used", 4.1e5);
	hr_sample_label(s, "fstype", "ext4");
	hr_sample_label(s, "device", "/dev/md0");
}

static void test_matching(void)
{
	struct hr_errs errs;
	struct rules *rs = parse_one("{\"name\": \"m\", \"match\": {\"host\": \"web*\","
		" \"probe\": \"fs\", \"instance\": \"/var*\", \"labels\": {\"fstype\": \"ext*\","
		" \"device\": \"/dev/md*\"}}, \"value\": \"used\", \"warning\": 1}", &errs);
	const struct rule *r, *stale, *all;
	struct hr_sample s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	r = rules_find(rs, "m");
	stale = rules_find(rs, "host_stale");
	all = rules_find(rs, "fs_used");
	fs_sample(&s, "/var/lib", 100, 50);
	CU_ASSERT(rule_matches(r, "web1", &s));
	CU_ASSERT(rule_matches(all, "db1", &s));      /* no globs: everything */
	CU_ASSERT_FALSE(rule_matches(r, "db1", &s));  /* host */
	CU_ASSERT_FALSE(rule_matches(stale, "web1", &s)); /* stale watches no sample */
	CU_ASSERT(rule_matches(stale, "web1", NULL));
	CU_ASSERT(rule_matches(r, "web1", NULL));
	CU_ASSERT_FALSE(rule_matches(r, "db1", NULL));
	fs_sample(&s, "/srv", 100, 50);
	CU_ASSERT_FALSE(rule_matches(r, "web1", &s)); /* instance */
	fs_sample(&s, "/var", 100, 50);
	hr_sample_label(&s, "fstype", "xfs");
	CU_ASSERT_FALSE(rule_matches(r, "web1", &s)); /* a label's glob */
	hr_sample_init(&s, "fs", "/var");
	hr_sample_label(&s, "device", "/dev/md0");
	CU_ASSERT_FALSE(rule_matches(r, "web1", &s)); /* a label missing */
	hr_sample_init(&s, "disk", "/var");
	CU_ASSERT_FALSE(rule_matches(r, "web1", &s)); /* probe */
	rules_free(rs);
	hr_errs_free(&errs);
}

static void test_values(void)
{
	struct hr_errs errs;
	struct rules *rs = parse_one("{\"name\": \"plain\", \"match\": {\"probe\": \"fs\"},"
				     " \"value\": \"used\", \"scale\": 2, \"warning\": 1}", &errs);
	const struct rule *fs_used, *plain, *load;
	struct hr_sample s;
	double v = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	fs_used = rules_find(rs, "fs_used");
	plain = rules_find(rs, "plain");
	load = rules_find(rs, "spike_load");
	fs_sample(&s, "/", 200, 150);
	CU_ASSERT_EQUAL(rule_value(fs_used, &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 75, 1e-12);         /* used / size x 100 */
	CU_ASSERT_EQUAL(rule_value(plain, &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 300, 1e-12);        /* scale, no divisor */
	fs_sample(&s, "/", 0, 0);
	v = -1;
	CU_ASSERT_EQUAL(rule_value(fs_used, &s, &v), -1); /* divisor 0 */
	CU_ASSERT_DOUBLE_EQUAL(v, -1, 0);
	hr_sample_init(&s, "fs", "/");
	hr_sample_set(&s, "used", 5);
	CU_ASSERT_EQUAL(rule_value(fs_used, &s, &v), -1); /* divisor missing */
	hr_sample_init(&s, "fs", "/");
	hr_sample_set(&s, "size", 5);
	CU_ASSERT_EQUAL(rule_value(fs_used, &s, &v), -1); /* value missing */
	hr_sample_init(&s, "load", NULL);
	hr_sample_set(&s, "load1", 6);
	hr_sample_set(&s, "ncpu", 4);
	CU_ASSERT_EQUAL(rule_value(load, &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 1.5, 1e-12);        /* load per CPU */
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "host_stale"), &s, &v), -1);
	rules_free(rs);
	hr_errs_free(&errs);
}

/* ---- judging ----------------------------------------------------------------------- */

/* Feeds values of r's value through rule_judge; levels[i] is the expected
 * 0/1/2 after value i (severity: 2 critical, 1 r's severity). */
static void judge_seq(const struct rule *r, const char *probe, const char *name,
		      const double *vals, const int *levels, size_t n)
{
	struct rule_state st;
	struct alert_obs o;
	struct hr_sample s;
	size_t i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < n; i++) {
		int want = levels[i], got;

		hr_sample_init(&s, probe, "x");
		s.t = T0 + (time_t)i * 60;
		hr_sample_set(&s, name, vals[i]);
		CU_ASSERT_EQUAL_FATAL(rule_judge(r, &st, "h", &s, &o), 1);
		got = !o.active ? 0 : o.severity == ALERT_CRITICAL ? 2 : 1;
		if (got != want)
			fprintf(stderr, "\n  %s step %zu value %g: level %d, expected %d\n", r->name,
				i, vals[i], got, want);
		CU_ASSERT_EQUAL(got, want);
		CU_ASSERT_EQUAL(st.level, want);
		CU_ASSERT_DOUBLE_EQUAL(o.value, vals[i], 1e-9);
	}
}

static void test_hysteresis(void)
{
	struct hr_errs errs;
	struct rules *rs = parse("{\"rules\": ["
		"{\"name\": \"pct\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"warning\": 90, \"critical\": 95, \"clear\": {\"warning\": 88, \"critical\": 93}},"
		"{\"name\": \"low\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\", \"op\": \"<=\","
		" \"warning\": 20, \"critical\": 10, \"clear\": {\"warning\": 25, \"critical\": 15}},"
		"{\"name\": \"eq\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\", \"op\": \"==\","
		" \"critical\": 2, \"warning\": 1},"
		"{\"name\": \"ne\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\", \"op\": \"!=\","
		" \"warning\": 0},"
		"{\"name\": \"ge\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\", \"op\": \">=\","
		" \"critical\": 1}]}", &errs);
	/* Up at once, down only past the clear level (for ">" at 88 is past
	 * it, for "<=" 25 is not); a jump from critical straight to clear
	 * clears. */
	static const double pv[] = { 85, 90, 91, 89, 88.5, 88, 87.9, 96, 94, 93.5, 92, 95.5, 80 };
	static const int pl[] = { 0, 0, 1, 1, 1, 0, 0, 2, 2, 2, 1, 2, 0 };
	static const double lv[] = { 30, 20, 22, 24.9, 25, 25.1, 9, 14, 15, 16, 26 };
	static const int ll[] = { 0, 1, 1, 1, 1, 0, 2, 2, 2, 1, 0 };
	static const double ev[] = { 0, 1, 2, 1, 1.5, 0 };
	static const int el[] = { 0, 1, 2, 1, 0, 0 };
	static const double nv[] = { 0, 3, -1, 0 };
	static const int nl[] = { 0, 1, 1, 0 };
	static const double gv[] = { 0, 1, 2, 0.999 };
	static const int gl[] = { 0, 2, 2, 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	judge_seq(rules_find(rs, "pct"), "exec", "v", pv, pl, sizeof(pv) / sizeof(pv[0]));
	judge_seq(rules_find(rs, "low"), "exec", "v", lv, ll, sizeof(lv) / sizeof(lv[0]));
	judge_seq(rules_find(rs, "eq"), "exec", "v", ev, el, sizeof(ev) / sizeof(ev[0]));
	judge_seq(rules_find(rs, "ne"), "exec", "v", nv, nl, sizeof(nv) / sizeof(nv[0]));
	judge_seq(rules_find(rs, "ge"), "exec", "v", gv, gl, sizeof(gv) / sizeof(gv[0]));
	rules_free(rs);
	hr_errs_free(&errs);
}

static void test_change_kinds(void)
{
	struct hr_errs errs;
	struct rules *rs = parse("{\"rules\": ["
		"{\"name\": \"inc\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"detector\": \"change\", \"change\": \"increase\", \"min_delta\": 2},"
		"{\"name\": \"inc_reset\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"detector\": \"change\", \"change\": \"increase\", \"reset\": \"5m\"},"
		"{\"name\": \"drop\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"detector\": \"change\", \"change\": \"drop\", \"min_delta\": 100},"
		"{\"name\": \"drop_reset\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"detector\": \"change\", \"change\": \"drop\", \"reset\": \"3m\"},"
		"{\"name\": \"fell\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"detector\": \"change\", \"change\": \"fell\"},"
		"{\"name\": \"fell_reset\", \"match\": {\"probe\": \"exec\"}, \"value\": \"v\","
		" \"detector\": \"change\", \"change\": \"fell\", \"reset\": \"2m\"}]}", &errs);
	/* Growth by min_delta from the lowest seen; a fall below it re-bases. */
	static const double iv[] = { 5, 6, 7, 7, 3, 4, 5, 9 };
	static const int il[] = { 0, 0, 1, 1, 0, 0, 1, 1 };
	/* Samples a minute apart: still moved 5 minutes after the last growth
	 * is the new normal. */
	static const double rv[] = { 0, 1, 1, 1, 1, 1, 1, 1, 2 };
	static const int rl[] = { 0, 1, 1, 1, 1, 1, 0, 0, 1 };
	static const double dv[] = { 1000, 1000, 100, 950, 900, 10000, 9950, 1000 };
	static const int dl[] = { 0, 0, 1, 0, 1, 0, 0, 1 };
	static const double dr[] = { 1000, 100, 100, 100, 100, 100, 1000 };
	static const int drl[] = { 0, 1, 1, 1, 0, 0, 0 };
	/* A link never up stays quiet; one that was up alerts until back. */
	static const double fv[] = { 0, 0, 1, 1, 0, 0, 1, 0 };
	static const int fl[] = { 0, 0, 0, 0, 1, 1, 0, 1 };
	static const double frv[] = { 1, 0, 0, 0, 0, 1, 0 };
	static const int frl[] = { 0, 1, 1, 0, 0, 0, 1 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	judge_seq(rules_find(rs, "inc"), "exec", "v", iv, il, sizeof(iv) / sizeof(iv[0]));
	judge_seq(rules_find(rs, "inc_reset"), "exec", "v", rv, rl, sizeof(rv) / sizeof(rv[0]));
	judge_seq(rules_find(rs, "drop"), "exec", "v", dv, dl, sizeof(dv) / sizeof(dv[0]));
	judge_seq(rules_find(rs, "drop_reset"), "exec", "v", dr, drl, sizeof(dr) / sizeof(dr[0]));
	judge_seq(rules_find(rs, "fell"), "exec", "v", fv, fl, sizeof(fv) / sizeof(fv[0]));
	judge_seq(rules_find(rs, "fell_reset"), "exec", "v", frv, frl,
		  sizeof(frv) / sizeof(frv[0]));
	rules_free(rs);
	hr_errs_free(&errs);
}

static void test_observation(void)
{
	struct rules *rs = defaults();
	const struct rule *r;
	struct rule_state st;
	struct alert_obs o;
	struct hr_sample s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	r = rules_find(rs, "fs_used");
	memset(&st, 0, sizeof(st));
	fs_sample(&s, "/var", 5.0e10, 4.8e10);
	hr_sample_label(&s, "host", "forged");
	CU_ASSERT_EQUAL(rule_judge(r, &st, "web1", &s, &o), 1);
	CU_ASSERT_STRING_EQUAL(o.rule, "fs_used");
	CU_ASSERT_STRING_EQUAL(o.host, "web1");
	CU_ASSERT_STRING_EQUAL(o.probe, "fs");
	CU_ASSERT_STRING_EQUAL(o.instance, "/var");
	CU_ASSERT(o.active);
	CU_ASSERT_EQUAL(o.severity, ALERT_CRITICAL);
	CU_ASSERT_DOUBLE_EQUAL(o.value, 96, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(o.t, T0, 0);
	CU_ASSERT(isnan(o.eta));
	CU_ASSERT_EQUAL(o.event, 0);
	CU_ASSERT_STRING_EQUAL(o.summary, "web1: /var is 96% full");
	CU_ASSERT_STRING_EQUAL(o.route, "");
	/* The sample's labels, but not one that poses as the alert's own. */
	CU_ASSERT_EQUAL(o.nlabels, 2);
	CU_ASSERT_STRING_EQUAL(o.labels[0].name, "fstype");
	CU_ASSERT_STRING_EQUAL(alert_obs_get_label(&o, "device"), "/dev/md0");
	CU_ASSERT_PTR_NULL(alert_obs_get_label(&o, "host"));
	CU_ASSERT_EQUAL(st.level, 2);
	CU_ASSERT_EQUAL(st.seen, 1);
	CU_ASSERT_DOUBLE_EQUAL(st.since, T0, 0);
	/* A sample without the value: nothing judged, nothing changed. */
	{
		struct rule_state before = st;

		hr_sample_init(&s, "fs", "/var");
		CU_ASSERT_EQUAL(rule_judge(r, &st, "web1", &s, &o), 0);
		CU_ASSERT_EQUAL(memcmp(&before, &st, sizeof(st)), 0);
	}
	/* Detectors judged elsewhere. */
	CU_ASSERT_EQUAL(rule_judge(rules_find(rs, "spike_load"), &st, "web1", &s, &o), -1);
	CU_ASSERT_EQUAL(rule_judge(rules_find(rs, "forecast_fs_used"), &st, "web1", &s, &o), -1);
	CU_ASSERT_EQUAL(rule_judge(rules_find(rs, "host_stale"), &st, "web1", &s, &o), -1);
	/* Rule labels first, and the sample cannot replace them. */
	r = rules_find(rs, "md_degraded");
	memset(&st, 0, sizeof(st));
	hr_sample_init(&s, "md", "md0");
	hr_sample_set(&s, "degraded", 1);
	hr_sample_label(&s, "redundancy", "none");
	hr_sample_label(&s, "level", "raid1");
	CU_ASSERT_EQUAL(rule_judge(r, &st, "db1", &s, &o), 1);
	CU_ASSERT_STRING_EQUAL(o.labels[0].name, "redundancy");
	CU_ASSERT_STRING_EQUAL(o.labels[0].value, "raid");
	CU_ASSERT_STRING_EQUAL(o.labels[1].name, "level");
	CU_ASSERT_EQUAL(o.nlabels, 2);
	CU_ASSERT_STRING_EQUAL(o.summary, "db1: RAID md0 degraded");
	/* "for" and route travel with the observation. */
	r = rules_find(rs, "ups_unreachable");
	memset(&st, 0, sizeof(st));
	hr_sample_init(&s, "ups", "myups@127.0.0.1:3493");
	hr_sample_set(&s, "reachable", 0);
	CU_ASSERT_EQUAL(rule_judge(r, &st, "h", &s, &o), 1);
	CU_ASSERT_DOUBLE_EQUAL(o.for_s, 60, 0);
	CU_ASSERT(o.active);
	CU_ASSERT_EQUAL(o.severity, ALERT_WARNING);
	rules_free(rs);
}

static void test_summary(void)
{
	struct hr_errs errs;
	struct rules *rs = parse_one("{\"name\": \"sum\", \"match\": {\"probe\": \"tls\"},"
		" \"value\": \"up\", \"warning\": 1, \"summary\":"
		" \"{rule}/{probe} {host}:{instance} = {value} {nope} {host\"}", &errs);
	const struct rule *r;
	char buf[256], tiny[12];

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	r = rules_find(rs, "sum");
	rule_summary(r, "web1", "a:443", 0.97, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "sum/tls web1:a:443 = 0.97 {nope} {host");
	rule_summary(r, "web1", NULL, 91.23456, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "sum/tls web1: = 91.23 {nope} {host");
	rule_summary(r, "web1", "x", 1234567, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "= 1.235e+06 "));
	rule_summary(r, "web1", "x", NAN, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "= - "));
	rule_summary(r, "web1", "a-very-long-instance", 1, tiny, sizeof(tiny));
	CU_ASSERT_STRING_EQUAL(tiny, "sum/tls web");
	rules_free(rs);
	hr_errs_free(&errs);
}

/* ---- every default on what the probes report ----------------------------------------- */

/* Judges sample s of host "h" with default rule name from a fresh state
 * (prev, when not NULL, judged first) and checks the outcome: want 0 quiet,
 * else the severity expected. */
static void expect(const struct rules *rs, const char *name, const struct hr_sample *prev,
		   const struct hr_sample *s, int active, enum alert_severity sev)
{
	const struct rule *r = rules_find(rs, name);
	struct rule_state st;
	struct alert_obs o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	memset(&st, 0, sizeof(st));
	CU_ASSERT(rule_matches(r, "h", s));
	if (prev != NULL)
		CU_ASSERT_EQUAL(rule_judge(r, &st, "h", prev, &o), 1);
	CU_ASSERT_EQUAL_FATAL(rule_judge(r, &st, "h", s, &o), 1);
	if (o.active != active || (active && o.severity != sev))
		fprintf(stderr, "\n  %s on %s %s: active %d severity %d (%s)\n", name, s->probe,
			s->instance, o.active, o.severity, o.summary);
	CU_ASSERT_EQUAL(o.active, active);
	if (active) {
		CU_ASSERT_EQUAL(o.severity, sev);
		CU_ASSERT_PTR_NULL(strchr(o.summary, '{'));
	}
}

static void md_fixture(const char *rel, const char *array, struct hr_sample *s)
{
	struct md_mdstat m;
	struct md_report rep;
	const struct md_stat *a;
	struct hr_err err;
	char *buf = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, fixture(rel), &buf, &len, HR_FILE_CAP, &err), 0);
	md_mdstat_parse(buf, len, &m);
	free(buf);
	a = md_mdstat_find(&m, array);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	md_report_from_stat(a, &rep);
	md_report_sample(&rep, s);
	s->t = T0;
}

static void test_defaults_md(void)
{
	struct rules *rs = defaults();
	struct hr_sample s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	/* [4/3] [UUU_]: a member missing. */
	md_fixture("mdraid/telegraf/mdstat_raid5_degraded_UUU__bitmap.txt", "md0", &s);
	expect(rs, "md_degraded", NULL, &s, 1, ALERT_CRITICAL);
	expect(rs, "md_sync", NULL, &s, 0, 0);
	/* raid1 with a failed (F) member. */
	md_fixture("mdraid/pymdstat/mdstat.07_raid1_degraded__UUUU__failed_F", "md1", &s);
	expect(rs, "md_failed_member", NULL, &s, 1, ALERT_WARNING);
	expect(rs, "md_degraded", NULL, &s, 1, ALERT_CRITICAL);
	/* A recovery running: info, routed nowhere. */
	md_fixture("mdraid/pymdstat/mdstat.05_raid5_recovery_12.6pct_degraded_UUUUU_", "md127",
		   &s);
	expect(rs, "md_sync", NULL, &s, 1, ALERT_INFO);
	CU_ASSERT_STRING_EQUAL(rules_find(rs, "md_sync")->route, "none");
	/* Clean and idle: quiet on every md rule. */
	md_fixture("mdraid/pymdstat/mdstat.06_raid6_clean_7of7_bitmap", "md0", &s);
	expect(rs, "md_degraded", NULL, &s, 0, 0);
	expect(rs, "md_failed_member", NULL, &s, 0, 0);
	expect(rs, "md_sync", NULL, &s, 0, 0);
	rules_free(rs);
}

static void ups_fixture(const char *rel, size_t upto_timer, struct hr_sample *s)
{
	struct ups_nut_vars v;
	struct hr_err err;
	char *buf = NULL, *p;
	size_t len = 0, k;

	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, fixture(rel), &buf, &len, HR_FILE_CAP, &err), 0);
	p = buf;
	for (k = 0; k < upto_timer && p != NULL; k++)
		if ((p = strstr(p, "\nTIMER")) != NULL)
			p++;
	if (upto_timer > 0 && p != NULL)
		len = (size_t)(p - buf);
	ups_nut_vars_init(&v);
	CU_ASSERT_EQUAL_FATAL(ups_nut_parse_dev(buf, len, &v, &err), 0);
	hr_sample_init(s, "ups", "myups@127.0.0.1:3493");
	s->t = T0;
	hr_sample_set(s, "reachable", 1);
	ups_nut_map(&v, s);
	ups_nut_vars_free(&v);
	free(buf);
}

static void test_defaults_ups(void)
{
	struct rules *rs = defaults();
	struct hr_sample s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	/* OB DISCHRG */
	ups_fixture("ups/nut/Mini-Box.com_Mini-Box.Com__OPEN-UPS__usbhid-ups__2.6.5__02.dev", 0, &s);
	expect(rs, "ups_on_battery", NULL, &s, 1, ALERT_WARNING);
	expect(rs, "ups_low_battery", NULL, &s, 0, 0);
	expect(rs, "ups_unreachable", NULL, &s, 0, 0);
	/* ALARM OL CHRG RB */
	ups_fixture("ups/nut/Eaton_Eaton__5PX_2000__usbhid-ups__2.7.4__01.dev", 0, &s);
	expect(rs, "ups_replace_battery", NULL, &s, 1, ALERT_WARNING);
	expect(rs, "ups_on_battery", NULL, &s, 0, 0);
	/* dummy-ups sequence: OL CHRG first, OB LB DISCHRG at the end. */
	ups_fixture("ups/nut/evolution500.seq", 1, &s);
	expect(rs, "ups_on_battery", NULL, &s, 0, 0);
	expect(rs, "ups_low_battery", NULL, &s, 0, 0);
	ups_fixture("ups/nut/evolution500.seq", 0, &s);
	expect(rs, "ups_on_battery", NULL, &s, 1, ALERT_WARNING);
	expect(rs, "ups_low_battery", NULL, &s, 1, ALERT_CRITICAL);
	/* What the probe reports for an upsd that does not answer. */
	hr_sample_init(&s, "ups", "myups@127.0.0.1:3493");
	hr_sample_set(&s, "reachable", 0);
	expect(rs, "ups_unreachable", NULL, &s, 1, ALERT_WARNING);
	CU_ASSERT_STRING_EQUAL(rule_label(rules_find(rs, "ups_unreachable"), "redundancy"), "power");
	rules_free(rs);
}

static void test_defaults_bond_smart(void)
{
	struct rules *rs = defaults();
	struct bond_info b;
	struct smart_report rep;
	struct hr_sample s, prev;
	struct hr_err err;
	char *buf = NULL;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL,
		fixture("bonding/telegraf_bondAB_active-backup_eth3_down.txt"), &buf, &len,
		HR_FILE_CAP, &err), 0);
	bond_info_init(&b);
	CU_ASSERT_EQUAL(bond_parse_proc(buf, len, &b), 0);
	CU_ASSERT_EQUAL_FATAL(bond_fill_sample(&b, "bondAB", &s), 0);
	bond_info_free(&b);
	free(buf);
	expect(rs, "bond_degraded", NULL, &s, 1, ALERT_WARNING);
	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL,
		fixture("bonding/telegraf_bondLACP_802.3ad_both_up.txt"), &buf, &len,
		HR_FILE_CAP, &err), 0);
	bond_info_init(&b);
	CU_ASSERT_EQUAL(bond_parse_proc(buf, len, &b), 0);
	CU_ASSERT_EQUAL_FATAL(bond_fill_sample(&b, "bond0", &s), 0);
	bond_info_free(&b);
	free(buf);
	expect(rs, "bond_degraded", NULL, &s, 0, 0);

	/* A disk whose SMART self-assessment fails. */
	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, fixture("smart/scrutiny/smart-fail2.json"), &buf,
					   &len, HR_FILE_CAP, &err), 0);
	CU_ASSERT_EQUAL(smart_parse(buf, len, -1, &rep), 0);
	free(buf);
	smart_report_sample(&rep, "sda", "/dev/sda", &s);
	expect(rs, "smart_unhealthy", NULL, &s, 1, ALERT_CRITICAL);
	CU_ASSERT_EQUAL_FATAL(hr_read_file(NULL, fixture("smart/scrutiny/smart-pass.json"), &buf,
					   &len, HR_FILE_CAP, &err), 0);
	CU_ASSERT_EQUAL(smart_parse(buf, len, -1, &rep), 0);
	free(buf);
	smart_report_sample(&rep, "sda", "/dev/sda", &s);
	expect(rs, "smart_unhealthy", NULL, &s, 0, 0);
	/* Sectors growing between two reads of the same disk. */
	hr_sample_init(&prev, "smart", "sda");
	hr_sample_set(&prev, "pending", 0);
	hr_sample_set(&prev, "reallocated", 8);
	prev.t = T0;
	hr_sample_init(&s, "smart", "sda");
	hr_sample_set(&s, "pending", 16);
	hr_sample_set(&s, "reallocated", 8);
	s.t = T0 + 3600;
	expect(rs, "smart_pending_growing", &prev, &s, 1, ALERT_WARNING);
	expect(rs, "smart_reallocated_growing", &prev, &s, 0, 0);
	hr_sample_set(&s, "reallocated", 24);
	expect(rs, "smart_reallocated_growing", &prev, &s, 1, ALERT_WARNING);
	rules_free(rs);
}

static void test_defaults_hand_built(void)
{
	struct rules *rs = defaults();
	struct hr_sample s, prev;
	const struct rule *r;
	double v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	/* net: carrier lost on a link that was up, speed fell. */
	hr_sample_init(&prev, "net", "eth0");
	prev.t = T0;
	hr_sample_set(&prev, "up", 1);
	hr_sample_set(&prev, "carrier", 1);
	hr_sample_set(&prev, "speed_mbps", 1000);
	s = prev;
	s.t = T0 + 10;
	hr_sample_set(&s, "carrier", 0);
	hr_sample_set(&s, "speed_mbps", 100);
	expect(rs, "link_carrier_lost", &prev, &s, 1, ALERT_WARNING);
	expect(rs, "link_speed_dropped", &prev, &s, 1, ALERT_WARNING);
	expect(rs, "link_carrier_lost", &s, &s, 0, 0); /* never up: an unused port */
	expect(rs, "link_speed_dropped", &prev, &prev, 0, 0);
	/* backup stale, TLS expiring. */
	hr_sample_init(&s, "backup", "nightly");
	hr_sample_set(&s, "age_s", 200000);
	hr_sample_set(&s, "ok", 0);
	expect(rs, "backup_stale", NULL, &s, 1, ALERT_WARNING);
	hr_sample_set(&s, "ok", 1);
	expect(rs, "backup_stale", NULL, &s, 0, 0);
	hr_sample_init(&s, "tls", "www.example.org:443");
	hr_sample_set(&s, "expiry_days", 10.5);
	expect(rs, "tls_expiring", NULL, &s, 1, ALERT_WARNING);
	hr_sample_set(&s, "expiry_days", 6);
	expect(rs, "tls_expiring", NULL, &s, 1, ALERT_CRITICAL);
	hr_sample_set(&s, "expiry_days", 60);
	expect(rs, "tls_expiring", NULL, &s, 0, 0);
	/* fs: DESIGN.md's /var is 62 % full; at 92 % it warns; inodes. */
	fs_sample(&s, "/var", 5.0e10, 3.1e10);
	expect(rs, "fs_used", NULL, &s, 0, 0);
	expect(rs, "fs_inodes_used", NULL, &s, 0, 0);
	fs_sample(&s, "/var", 5.0e10, 4.6e10);
	expect(rs, "fs_used", NULL, &s, 1, ALERT_WARNING);
	hr_sample_set(&s, "inodes_used", 3.1e6);
	expect(rs, "fs_inodes_used", NULL, &s, 1, ALERT_CRITICAL);
	/* host stale: a host, no sample. */
	r = rules_find(rs, "host_stale");
	CU_ASSERT(rule_matches(r, "web1", NULL));
	CU_ASSERT_EQUAL(r->severity, ALERT_CRITICAL);
	/* Spikes and forecasts read their values like any rule (the analyzer
	 * turns counters into rates and adds busy and util). */
	hr_sample_init(&s, "cpu", NULL);
	hr_sample_set(&s, "busy", 42);
	CU_ASSERT(rule_matches(rules_find(rs, "spike_cpu_busy"), "h", &s));
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_cpu_busy"), &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 42, 0);
	hr_sample_init(&s, "psi", "io");
	hr_sample_set(&s, "some_avg10", 3.5);
	CU_ASSERT(rule_matches(rules_find(rs, "spike_pressure"), "h", &s));
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_pressure"), &s, &v), 0);
	hr_sample_init(&s, "disk", "sda");
	hr_sample_set(&s, "util", 12);
	hr_sample_set(&s, "read_bytes", 1e6);
	hr_sample_set(&s, "write_bytes", 2e6);
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_disk_util"), &s, &v), 0);
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_disk_read"), &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 1e6, 0);
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_disk_write"), &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 2e6, 0);
	hr_sample_init(&s, "net", "eth0");
	hr_sample_set(&s, "rx_bytes", 5e5);
	hr_sample_set(&s, "tx_bytes", 7e5);
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_net_rx"), &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 5e5, 0);
	CU_ASSERT_EQUAL(rule_value(rules_find(rs, "spike_net_tx"), &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 7e5, 0);
	hr_sample_init(&s, "mem", NULL);
	hr_sample_set(&s, "total", 8e9);
	hr_sample_set(&s, "used", 3e9);
	r = rules_find(rs, "forecast_mem_used");
	CU_ASSERT(rule_matches(r, "h", &s));
	CU_ASSERT_EQUAL(rule_value(r, &s, &v), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 3e9, 0);
	CU_ASSERT_PTR_NOT_NULL(hr_sample_get(&s, r->forecast.capacity_value));
	fs_sample(&s, "/", 1e10, 5e9);
	CU_ASSERT_PTR_NOT_NULL(hr_sample_get(&s,
		rules_find(rs, "forecast_fs_inodes")->forecast.capacity_value));
	rules_free(rs);
}

/* A file that cannot be read is a problem, not the defaults. */
static void test_load(void)
{
	const char *dir = tmpdir_new("rules");
	const char *text = "{\"rules\": [{\"name\": \"md_sync\", \"disabled\": true}]}";
	char path[600];
	struct hr_errs errs;
	struct rules *rs;

	hr_errs_init(&errs);
	snprintf(path, sizeof(path), "%s/none.json", dir);
	CU_ASSERT_PTR_NULL(rules_load(path, &errs));
	CU_ASSERT(hr_errs_any(&errs));
	hr_errs_free(&errs);
	write_file(dir, "/rules.json", text, strlen(text));
	snprintf(path, sizeof(path), "%s/rules.json", dir);
	hr_errs_init(&errs);
	rs = rules_load(path, &errs);
	CU_ASSERT_PTR_NOT_NULL(rs);
	if (rs != NULL) {
		CU_ASSERT_EQUAL(rules_count(rs), NDEFAULTS - 1);
	}
	rules_free(rs);
	hr_errs_free(&errs);
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "parse errors, each with its path", test_parse_errors },
	{ "every problem at once", test_all_problems_at_once },
	{ "every key of a rule", test_parse_full_rule },
	{ "the defaults", test_defaults },
	{ "override and disable a default", test_override_and_disable },
	{ "matching: globs and labels", test_matching },
	{ "values: division, scale, missing", test_values },
	{ "thresholds with hysteresis, every op", test_hysteresis },
	{ "change: increase, drop, fell, reset", test_change_kinds },
	{ "the observation a judgement fills", test_observation },
	{ "summary templates", test_summary },
	{ "defaults on md fixtures", test_defaults_md },
	{ "defaults on NUT fixtures", test_defaults_ups },
	{ "defaults on bond and SMART fixtures", test_defaults_bond_smart },
	{ "defaults on samples of the metric table", test_defaults_hand_built },
	{ "loading a file", test_load },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("rules", tests);
}
