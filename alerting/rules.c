/* rules.c: the analyzer's rules (rules.h): the built-in defaults, the rules
 * file's parser and validator (every problem with its JSON path, so that
 * --check-config lists them all), matching a sample, and the judgement of
 * threshold and change rules. The defaults are JSON text parsed by the very
 * parser a rules file goes through, so a default can never be a rule that a
 * user could not have written. */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "rules.h"
#include "util.h"

#define RULES_MAX 1024        /* rules in one file: a bound for memory */
#define LEVEL_MAX 1e300       /* levels, scales, capacities: any finite number */
#define DAY 86400.0

/* --- what the probes report ---------------------------------------------- */

/* DESIGN.md's metric table, plus the values the analyzer derives (cpu
 * "busy", disk "util"). exec reports whatever its plugin's perfdata says,
 * so any valid name is one of its values. */
static const struct {
	const char *probe;
	const char *const values[12];
} probe_values[] = {
	{ "load", { "load1", "load5", "load15", "ncpu", "procs_running", "procs_total" } },
	{ "cpu", { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
		   "busy" } },
	{ "mem", { "total", "available", "used", "swap_total", "swap_used" } },
	{ "psi", { "some_avg10", "some_avg60", "full_avg10", "full_avg60", "some_total" } },
	{ "fs", { "size", "used", "avail", "inodes", "inodes_used" } },
	{ "disk", { "read_bytes", "write_bytes", "reads", "writes", "io_ms", "util" } },
	{ "md", { "disks", "active", "failed", "spare", "missing", "degraded",
		  "sync_percent" } },
	{ "smart", { "healthy", "temperature_c", "reallocated", "pending", "media_errors",
		     "percent_used", "power_on_hours" } },
	{ "ups", { "reachable", "online", "on_battery", "low_battery", "replace_battery",
		   "overload", "charge_percent", "runtime_s", "load_percent",
		   "input_voltage" } },
	{ "net", { "up", "carrier", "speed_mbps", "rx_bytes", "tx_bytes", "rx_errors",
		   "tx_errors", "rx_dropped", "tx_dropped" } },
	{ "bond", { "slaves", "slaves_up", "degraded" } },
	{ "backup", { "age_s", "size_bytes", "ok" } },
	{ "tls", { "expiry_days", "up", "latency_ms" } },
	{ "exec", { NULL } },
	{ "agent", { "samples", "batches_spooled", "spool_bytes", "push_latency_ms",
		     "dropped_samples" } },
};
#define NPROBES (sizeof(probe_values) / sizeof(probe_values[0]))

static int probe_index(const char *probe)
{
	size_t i;

	for (i = 0; i < NPROBES; i++)
		if (strcmp(probe_values[i].probe, probe) == 0)
			return (int)i;
	return -1;
}

static int probe_has(int pi, const char *name)
{
	size_t j;

	if (strcmp(probe_values[pi].probe, "exec") == 0)
		return hr_name_valid(name);
	for (j = 0; j < 12 && probe_values[pi].values[j] != NULL; j++)
		if (strcmp(probe_values[pi].values[j], name) == 0)
			return 1;
	return 0;
}

/* "size, used, avail, inodes, inodes_used" */
static void probe_list(int pi, char *dst, size_t n)
{
	size_t j, len = 0;

	dst[0] = '\0';
	for (j = 0; j < 12 && probe_values[pi].values[j] != NULL && len < n; j++)
		len += (size_t)snprintf(dst + len, n - len, "%s%s", j ? ", " : "",
					probe_values[pi].values[j]);
}

static void probes_list(char *dst, size_t n)
{
	size_t i, len = 0;

	dst[0] = '\0';
	for (i = 0; i < NPROBES && len < n; i++)
		len += (size_t)snprintf(dst + len, n - len, "%s%s", i ? ", " : "",
					probe_values[i].probe);
}

/* --- the defaults ---------------------------------------------------------- */

/* The list. Lost redundancy carries "redundancy" (raid, network,
 * power, server) so that it is routed and reported as one class. */
static const char defaults_json[] =
"{\"rules\": ["
"{\"name\": \"md_degraded\", \"match\": {\"probe\": \"md\"}, \"value\": \"degraded\","
" \"op\": \">=\", \"critical\": 1, \"labels\": {\"redundancy\": \"raid\"},"
" \"summary\": \"{host}: RAID {instance} degraded\"},"
"{\"name\": \"md_failed_member\", \"match\": {\"probe\": \"md\"}, \"value\": \"failed\","
" \"op\": \">\", \"warning\": 0, \"labels\": {\"redundancy\": \"raid\"},"
" \"summary\": \"{host}: RAID {instance} has {value} failed member(s)\"},"
"{\"name\": \"md_sync\", \"match\": {\"probe\": \"md\"}, \"value\": \"sync_percent\","
" \"op\": \">=\", \"warning\": 0, \"severity\": \"info\", \"route\": \"none\","
" \"labels\": {\"redundancy\": \"raid\"},"
" \"summary\": \"{host}: RAID {instance} resync or check running, {value}% done\"},"
"{\"name\": \"bond_degraded\", \"match\": {\"probe\": \"bond\"}, \"value\": \"degraded\","
" \"op\": \">=\", \"warning\": 1, \"labels\": {\"redundancy\": \"network\"},"
" \"summary\": \"{host}: bond {instance} degraded (a member link is down)\"},"
"{\"name\": \"link_carrier_lost\", \"match\": {\"probe\": \"net\"}, \"value\": \"carrier\","
" \"detector\": \"change\", \"change\": \"fell\", \"reset\": \"7d\","
" \"labels\": {\"redundancy\": \"network\"},"
" \"summary\": \"{host}: link {instance} lost carrier\"},"
"{\"name\": \"link_speed_dropped\", \"match\": {\"probe\": \"net\"},"
" \"value\": \"speed_mbps\", \"detector\": \"change\", \"change\": \"drop\","
" \"min_delta\": 1, \"reset\": \"7d\", \"labels\": {\"redundancy\": \"network\"},"
" \"summary\": \"{host}: link {instance} speed dropped to {value} Mb/s\"},"
"{\"name\": \"ups_on_battery\", \"match\": {\"probe\": \"ups\"}, \"value\": \"on_battery\","
" \"op\": \">=\", \"warning\": 1, \"for\": 0, \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} on battery\"},"
"{\"name\": \"ups_low_battery\", \"match\": {\"probe\": \"ups\"}, \"value\": \"low_battery\","
" \"op\": \">=\", \"critical\": 1, \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} battery low, shutdown imminent\"},"
"{\"name\": \"ups_replace_battery\", \"match\": {\"probe\": \"ups\"},"
" \"value\": \"replace_battery\", \"op\": \">=\", \"warning\": 1,"
" \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} asks for a battery replacement\"},"
"{\"name\": \"ups_unreachable\", \"match\": {\"probe\": \"ups\"}, \"value\": \"reachable\","
" \"op\": \"<\", \"warning\": 1, \"for\": \"1m\", \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} unreachable\"},"
"{\"name\": \"smart_unhealthy\", \"match\": {\"probe\": \"smart\"}, \"value\": \"healthy\","
" \"op\": \"<\", \"critical\": 1,"
" \"summary\": \"{host}: disk {instance} fails its SMART health check\"},"
"{\"name\": \"smart_pending_growing\", \"match\": {\"probe\": \"smart\"},"
" \"value\": \"pending\", \"detector\": \"change\", \"change\": \"increase\","
" \"min_delta\": 1, \"reset\": \"7d\","
" \"summary\": \"{host}: disk {instance} pending sectors growing, now {value}\"},"
"{\"name\": \"smart_reallocated_growing\", \"match\": {\"probe\": \"smart\"},"
" \"value\": \"reallocated\", \"detector\": \"change\", \"change\": \"increase\","
" \"min_delta\": 1, \"reset\": \"7d\","
" \"summary\": \"{host}: disk {instance} reallocated sectors growing, now {value}\"},"
"{\"name\": \"backup_stale\", \"match\": {\"probe\": \"backup\"}, \"value\": \"ok\","
" \"op\": \"<\", \"warning\": 1,"
" \"summary\": \"{host}: backup {instance} is stale or missing\"},"
"{\"name\": \"tls_expiring\", \"match\": {\"probe\": \"tls\"}, \"value\": \"expiry_days\","
" \"op\": \"<\", \"warning\": 14, \"critical\": 7,"
" \"summary\": \"{host}: TLS certificate of {instance} expires in {value} days\"},"
"{\"name\": \"host_stale\", \"detector\": \"stale\", \"severity\": \"critical\","
" \"labels\": {\"redundancy\": \"server\"},"
" \"summary\": \"{host}: no data from this host (stale)\"},"
"{\"name\": \"fs_used\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
" \"divide_by\": \"size\", \"scale\": 100, \"op\": \">\", \"warning\": 90, \"critical\": 95,"
" \"clear\": {\"warning\": 88, \"critical\": 93},"
" \"summary\": \"{host}: {instance} is {value}% full\"},"
"{\"name\": \"fs_inodes_used\", \"match\": {\"probe\": \"fs\"}, \"value\": \"inodes_used\","
" \"divide_by\": \"inodes\", \"scale\": 100, \"op\": \">\", \"warning\": 90,"
" \"critical\": 95, \"clear\": {\"warning\": 88, \"critical\": 93},"
" \"summary\": \"{host}: {instance} has used {value}% of its inodes\"},"
"{\"name\": \"spike_load\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
" \"divide_by\": \"ncpu\", \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: load spike, {value} per CPU\"},"
"{\"name\": \"spike_cpu_busy\", \"match\": {\"probe\": \"cpu\"}, \"value\": \"busy\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: CPU busy spike, {value}%\"},"
"{\"name\": \"spike_pressure\", \"match\": {\"probe\": \"psi\"}, \"value\": \"some_avg10\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: {instance} pressure spike, {value}% stalled\"},"
"{\"name\": \"spike_disk_util\", \"match\": {\"probe\": \"disk\"}, \"value\": \"util\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: disk {instance} utilisation spike, {value}%\"},"
"{\"name\": \"spike_disk_read\", \"match\": {\"probe\": \"disk\"}, \"value\": \"read_bytes\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: disk {instance} read spike, {value} B/s\"},"
"{\"name\": \"spike_disk_write\", \"match\": {\"probe\": \"disk\"},"
" \"value\": \"write_bytes\", \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: disk {instance} write spike, {value} B/s\"},"
"{\"name\": \"spike_net_rx\", \"match\": {\"probe\": \"net\"}, \"value\": \"rx_bytes\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: {instance} receive spike, {value} B/s\"},"
"{\"name\": \"spike_net_tx\", \"match\": {\"probe\": \"net\"}, \"value\": \"tx_bytes\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: {instance} transmit spike, {value} B/s\"},"
"{\"name\": \"forecast_fs_used\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
" \"detector\": \"forecast\", \"forecast\": {\"capacity_value\": \"size\"},"
" \"summary\": \"{host}: {instance} will be full soon\"},"
"{\"name\": \"forecast_fs_inodes\", \"match\": {\"probe\": \"fs\"},"
" \"value\": \"inodes_used\", \"detector\": \"forecast\","
" \"forecast\": {\"capacity_value\": \"inodes\"},"
" \"summary\": \"{host}: {instance} will run out of inodes soon\"},"
"{\"name\": \"forecast_mem_used\", \"match\": {\"probe\": \"mem\"}, \"value\": \"used\","
" \"detector\": \"forecast\", \"forecast\": {\"capacity_value\": \"total\"},"
" \"summary\": \"{host}: memory will run out soon\"}"
"]}";

/* --- the set --------------------------------------------------------------- */

struct rules {
	struct rule *v;
	size_t n, cap;
};

static int rules_push(struct rules *rs, const struct rule *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct rule *v = realloc(rs->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
	return 0;
}

void rules_free(struct rules *rs)
{
	if (rs == NULL)
		return;
	free(rs->v);
	free(rs);
}

size_t rules_count(const struct rules *rs)
{
	return rs->n;
}

const struct rule *rules_get(const struct rules *rs, size_t i)
{
	return i < rs->n ? &rs->v[i] : NULL;
}

static long rules_index(const struct rules *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

const struct rule *rules_find(const struct rules *rs, const char *name)
{
	long i = rules_index(rs, name);

	return i < 0 ? NULL : &rs->v[i];
}

/* --- parsing one rule ------------------------------------------------------ */

static const char *const rule_keys[] = {
	"name", "match", "value", "divide_by", "scale", "detector", "warning", "critical",
	"clear", "op", "change", "min_delta", "reset", "spike", "forecast", "for",
	"severity", "summary", "labels", "route", "disabled", NULL,
};
static const char *const match_keys[] = { "host", "probe", "instance", "labels", NULL };
static const char *const clear_keys[] = { "warning", "critical", NULL };
static const char *const spike_keys[] = {
	"direction", "roll_window", "warmup", "refractory", "resolve_after", "gap_reset",
	"long_span", "short_n", "season_days", "weekly", "z_min", "z_clip", "tail",
	"quantum_mult", "rel_floor", NULL,
};
static const char *const forecast_keys[] = {
	"capacity", "capacity_value", "warning", "critical", "bucket", "max_buckets",
	"confidence", "min_history", "drop_frac", "drop_sigmas", "hold", "resolve_factor",
	NULL,
};
static const char *const detector_names[] = {
	"threshold", "change", "spike", "forecast", "stale", NULL,
};
static const char *const op_names[] = { ">", ">=", "<", "<=", "==", "!=", NULL };
static const char *const change_names[] = { "increase", "drop", "fell", NULL };
static const char *const dir_names[] = { "both", "up", "down", NULL };
static const char *const severity_names[] = { "info", "warning", "critical", NULL };
/* Labels the lifecycle sets itself (alert.h, the webhook payload). */
static const char *const reserved_labels[] = {
	"alertname", "host", "probe", "instance", "severity", NULL,
};

static int word_index(const char *const *words, const char *s)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], s) == 0)
			return i;
	return -1;
}

static void words_list(const char *const *words, char *dst, size_t n)
{
	size_t i, len = 0;

	dst[0] = '\0';
	for (i = 0; words[i] != NULL && len < n; i++)
		len += (size_t)snprintf(dst + len, n - len, "%s\"%s\"", i ? ", " : "", words[i]);
}

/* A string that is one of words: its index, -1 when absent, -2 when bad. */
static int get_word(const cJSON *obj, const char *key, const char *path,
		    const char *const *words, struct hr_errs *errs)
{
	const char *s;
	char p[512], list[256];
	int rc = hr_cfg_string(obj, key, path, &s, errs), i;

	if (rc == 0)
		return -1;
	if (rc < 0)
		return -2;
	i = word_index(words, s);
	if (i < 0) {
		hr_cfg_path(p, sizeof(p), path, key);
		words_list(words, list, sizeof(list));
		hr_errs_add(errs, p, "\"%s\" is not one of %s", s, list);
		return -2;
	}
	return i;
}

/* A string that fits in n bytes (NUL included) into dst; 1, 0 absent, -1. */
static int get_text(const cJSON *obj, const char *key, const char *path, char *dst, size_t n,
		    struct hr_errs *errs)
{
	const char *s;
	char p[512];
	size_t i;
	int rc = hr_cfg_string(obj, key, path, &s, errs);

	if (rc != 1)
		return rc;
	hr_cfg_path(p, sizeof(p), path, key);
	if (strlen(s) >= n) {
		hr_errs_add(errs, p, "too long (at most %zu bytes)", n - 1);
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			hr_errs_add(errs, p, "control characters are not allowed");
			return -1;
		}
	}
	hr_strlcpy(dst, s, n);
	return 1;
}

/* An integer within [min, max]. */
static int get_int(const cJSON *obj, const char *key, const char *path, int min, int max,
		   int *out, struct hr_errs *errs)
{
	char p[512];
	double d;
	int rc = hr_cfg_number(obj, key, path, min, max, &d, errs);

	if (rc != 1)
		return rc;
	if (d != floor(d)) {
		hr_cfg_path(p, sizeof(p), path, key);
		hr_errs_add(errs, p, "expected a whole number");
		return -1;
	}
	*out = (int)d;
	return 1;
}

static int rule_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= ALERT_RULE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int alert_label_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= ALERT_LABEL_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* A field's error from spike_params_check/forecast_params_check is "FIELD:
 * message"; it goes to PATH.KEY, with the file's name for the field. */
static void param_err(struct hr_errs *errs, const char *path, const char *msg,
		      const char *const *renames)
{
	const char *colon = strstr(msg, ": ");
	char field[64], p[512];
	size_t i;

	if (colon == NULL || (size_t)(colon - msg) >= sizeof(field)) {
		hr_errs_add(errs, path, "%s", msg);
		return;
	}
	memcpy(field, msg, (size_t)(colon - msg));
	field[colon - msg] = '\0';
	for (i = 0; renames != NULL && renames[i] != NULL; i += 2)
		if (strcmp(renames[i], field) == 0)
			hr_strlcpy(field, renames[i + 1], sizeof(field));
	hr_cfg_path(p, sizeof(p), path, field);
	hr_errs_add(errs, p, "%s", colon + 2);
}

static void parse_match(const cJSON *m, const char *path, struct rule *r, int *pi,
			struct hr_errs *errs)
{
	const cJSON *labels, *it;
	char p[512], lp[512], list[256];

	if (hr_cfg_object(m, path, match_keys, errs) < 0 || cJSON_IsTrue(m))
		return;
	get_text(m, "host", path, r->match.host, sizeof(r->match.host), errs);
	get_text(m, "instance", path, r->match.instance, sizeof(r->match.instance), errs);
	if (get_text(m, "probe", path, r->match.probe, sizeof(r->match.probe), errs) == 1) {
		*pi = probe_index(r->match.probe);
		if (*pi < 0) {
			hr_cfg_path(p, sizeof(p), path, "probe");
			probes_list(list, sizeof(list));
			hr_errs_add(errs, p, "unknown probe \"%s\" (probes: %s)", r->match.probe,
				    list);
		}
	}
	labels = cJSON_GetObjectItemCaseSensitive(m, "labels");
	if (labels == NULL)
		return;
	hr_cfg_path(lp, sizeof(lp), path, "labels");
	if (!cJSON_IsObject(labels)) {
		hr_errs_add(errs, lp, "expected an object of label name to glob");
		return;
	}
	cJSON_ArrayForEach(it, labels) {
		size_t k = r->match.nlabels;

		hr_cfg_path(p, sizeof(p), lp, it->string);
		if (hr_cfg_dup_key(labels, it)) {
			hr_errs_add(errs, p, "given twice");
			continue;
		}
		if (!hr_name_valid(it->string)) {
			hr_errs_add(errs, p, "not a label name (1-19 of [A-Za-z0-9_])");
			continue;
		}
		if (k == RULE_MATCH_LABELS) {
			hr_errs_add(errs, p, "at most %d labels", RULE_MATCH_LABELS);
			break;
		}
		if (get_text(labels, it->string, lp, r->match.labels[k].glob,
			     sizeof(r->match.labels[k].glob), errs) != 1)
			continue;
		hr_strlcpy(r->match.labels[k].name, it->string, sizeof(r->match.labels[k].name));
		r->match.nlabels++;
	}
}

/* A value the probe reports: 1 ok, 0 absent, -1 bad. */
static int get_value(const cJSON *obj, const char *key, const char *path, int pi, char *dst,
		     size_t n, struct hr_errs *errs)
{
	char p[512], list[256];
	int rc = get_text(obj, key, path, dst, n > HR_NAME_MAX ? HR_NAME_MAX : n, errs);

	if (rc != 1 || pi < 0)
		return rc;
	if (!probe_has(pi, dst)) {
		hr_cfg_path(p, sizeof(p), path, key);
		if (strcmp(probe_values[pi].probe, "exec") == 0) {
			hr_errs_add(errs, p, "\"%s\" is not a value name (1-19 of [A-Za-z0-9_])",
				    dst);
		} else {
			probe_list(pi, list, sizeof(list));
			hr_errs_add(errs, p, "probe %s reports no \"%s\" (it has: %s)",
				    probe_values[pi].probe, dst, list);
		}
		return -1;
	}
	return 1;
}

static void parse_threshold(const cJSON *obj, const char *path, struct rule *r,
			    struct hr_errs *errs)
{
	const cJSON *clear = cJSON_GetObjectItemCaseSensitive(obj, "clear");
	char p[512], cp[512];
	int op, hw, hc, up, rc;
	double d;

	op = get_word(obj, "op", path, op_names, errs);
	r->threshold.op = op >= 0 ? (enum rule_op)op : RULE_GT;
	hw = hr_cfg_number(obj, "warning", path, -LEVEL_MAX, LEVEL_MAX, &d, errs);
	if (hw == 1)
		r->threshold.warning = d;
	hc = hr_cfg_number(obj, "critical", path, -LEVEL_MAX, LEVEL_MAX, &d, errs);
	if (hc == 1)
		r->threshold.critical = d;
	if (hw == 0 && hc == 0)
		hr_errs_add(errs, path, "a threshold needs \"warning\", \"critical\" or both");
	if (op == -2 || hw < 0 || hc < 0)
		return;
	up = r->threshold.op == RULE_GT || r->threshold.op == RULE_GE;
	if (hw == 1 && hc == 1 && r->threshold.op != RULE_EQ && r->threshold.op != RULE_NE &&
	    (up ? r->threshold.warning > r->threshold.critical :
		  r->threshold.warning < r->threshold.critical)) {
		hr_cfg_path(p, sizeof(p), path, "warning");
		hr_errs_add(errs, p, "%g is %s critical (%g): with \"%s\" the warning level comes "
			    "first", r->threshold.warning, up ? "above" : "below",
			    r->threshold.critical, op_names[r->threshold.op]);
	}
	r->threshold.clear_warning = r->threshold.warning;
	r->threshold.clear_critical = r->threshold.critical;
	if (clear == NULL)
		return;
	hr_cfg_path(cp, sizeof(cp), path, "clear");
	if (r->threshold.op == RULE_EQ || r->threshold.op == RULE_NE) {
		hr_errs_add(errs, cp, "only for \">\", \">=\", \"<\" and \"<=\"");
		return;
	}
	if (hr_cfg_object(clear, cp, clear_keys, errs) < 0 || cJSON_IsTrue(clear))
		return;
	rc = hr_cfg_number(clear, "warning", cp, -LEVEL_MAX, LEVEL_MAX, &d, errs);
	hr_cfg_path(p, sizeof(p), cp, "warning");
	if (rc == 1 && hw != 1)
		hr_errs_add(errs, p, "there is no \"warning\" level to clear");
	else if (rc == 1 && (up ? d > r->threshold.warning : d < r->threshold.warning))
		hr_errs_add(errs, p, "%g must be %s the warning level (%g)", d,
			    up ? "at or below" : "at or above", r->threshold.warning);
	else if (rc == 1)
		r->threshold.clear_warning = d;
	rc = hr_cfg_number(clear, "critical", cp, -LEVEL_MAX, LEVEL_MAX, &d, errs);
	hr_cfg_path(p, sizeof(p), cp, "critical");
	if (rc == 1 && hc != 1)
		hr_errs_add(errs, p, "there is no \"critical\" level to clear");
	else if (rc == 1 && (up ? d > r->threshold.critical : d < r->threshold.critical))
		hr_errs_add(errs, p, "%g must be %s the critical level (%g)", d,
			    up ? "at or below" : "at or above", r->threshold.critical);
	else if (rc == 1)
		r->threshold.clear_critical = d;
}

static void parse_spike(const cJSON *sp, const char *path, struct rule *r,
			struct hr_errs *errs)
{
	static const struct {
		const char *key;
		size_t off;
	} durs[] = {
		{ "roll_window", offsetof(struct spike_params, roll_window) },
		{ "warmup", offsetof(struct spike_params, warmup) },
		{ "refractory", offsetof(struct spike_params, refractory) },
		{ "resolve_after", offsetof(struct spike_params, resolve_after) },
		{ "gap_reset", offsetof(struct spike_params, gap_reset) },
		{ "long_span", offsetof(struct spike_params, long_span) },
	}, nums[] = {
		{ "z_min", offsetof(struct spike_params, z_min) },
		{ "z_clip", offsetof(struct spike_params, z_clip) },
		{ "tail", offsetof(struct spike_params, tail) },
		{ "quantum_mult", offsetof(struct spike_params, quantum_mult) },
		{ "rel_floor", offsetof(struct spike_params, rel_floor) },
	};
	struct spike_params *p = &r->spike;
	struct hr_err err;
	size_t before = errs->count + errs->dropped, i;
	int dir, b;

	if (sp != NULL && (hr_cfg_object(sp, path, spike_keys, errs) < 0 || cJSON_IsTrue(sp)))
		return;
	dir = get_word(sp, "direction", path, dir_names, errs);
	if (dir >= 0)
		p->dir = (enum spike_dir)dir;
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
		hr_cfg_duration(sp, durs[i].key, path, 0, 3650 * DAY,
				(double *)((char *)p + durs[i].off), errs);
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		hr_cfg_number(sp, nums[i].key, path, -LEVEL_MAX, LEVEL_MAX,
			      (double *)((char *)p + nums[i].off), errs);
	get_int(sp, "short_n", path, -1000000, 1000000, &p->short_n, errs);
	get_int(sp, "season_days", path, -1000000, 1000000, &p->season_days, errs);
	if (hr_cfg_bool(sp, "weekly", path, &b, errs) == 1)
		p->weekly = b;
	if (errs->count + errs->dropped == before && spike_params_check(p, &err) < 0)
		param_err(errs, path, err.msg, NULL);
}

static void parse_forecast(const cJSON *fc, const char *path, struct rule *r, int pi,
			   struct hr_errs *errs)
{
	static const char *const renames[] = {
		"warn_horizon", "warning", "crit_horizon", "critical", NULL, NULL,
	};
	struct forecast_params *p = &r->forecast.p, chk;
	struct hr_err err;
	size_t before = errs->count + errs->dropped;
	int hc, hv;

	if (fc == NULL) {
		hr_errs_add(errs, path, "missing: a forecast needs {\"capacity\": NUMBER} or "
			    "{\"capacity_value\": VALUE}");
		return;
	}
	if (hr_cfg_object(fc, path, forecast_keys, errs) < 0)
		return;
	hc = hr_cfg_number(fc, "capacity", path, -LEVEL_MAX, LEVEL_MAX, &p->capacity, errs);
	hv = get_value(fc, "capacity_value", path, pi, r->forecast.capacity_value,
		       sizeof(r->forecast.capacity_value), errs);
	if (hc == 0 && hv == 0)
		hr_errs_add(errs, path, "a forecast needs \"capacity\" (a number) or "
			    "\"capacity_value\" (the value that is the capacity, e.g. \"size\")");
	if (hc == 1 && hv == 1)
		hr_errs_add(errs, path, "give \"capacity\" or \"capacity_value\", not both");
	if (hv == 1)
		p->capacity = 0;
	hr_cfg_duration(fc, "warning", path, 0, 3650 * DAY, &p->warn_horizon, errs);
	hr_cfg_duration(fc, "critical", path, 0, 3650 * DAY, &p->crit_horizon, errs);
	hr_cfg_duration(fc, "bucket", path, 0, 3650 * DAY, &p->bucket, errs);
	hr_cfg_duration(fc, "min_history", path, 0, 36500 * DAY, &p->min_history, errs);
	get_int(fc, "max_buckets", path, -1000000, 1000000, &p->max_buckets, errs);
	get_int(fc, "hold", path, -1000000, 1000000, &p->hold, errs);
	hr_cfg_number(fc, "confidence", path, -LEVEL_MAX, LEVEL_MAX, &p->confidence, errs);
	hr_cfg_number(fc, "drop_frac", path, -LEVEL_MAX, LEVEL_MAX, &p->drop_frac, errs);
	hr_cfg_number(fc, "drop_sigmas", path, -LEVEL_MAX, LEVEL_MAX, &p->drop_sigmas, errs);
	hr_cfg_number(fc, "resolve_factor", path, -LEVEL_MAX, LEVEL_MAX, &p->resolve_factor,
		      errs);
	if (errs->count + errs->dropped != before)
		return;
	if (p->crit_horizon > p->warn_horizon) {
		char cp[512];

		hr_cfg_path(cp, sizeof(cp), path, "critical");
		hr_errs_add(errs, cp, "%gs is longer than the warning horizon (%gs)",
			    p->crit_horizon, p->warn_horizon);
		return;
	}
	/* The capacity of a capacity_value comes with each sample; any
	 * positive number stands in for it here. */
	chk = *p;
	if (r->forecast.capacity_value[0] != '\0')
		chk.capacity = 1;
	if (forecast_params_check(&chk, &err) < 0)
		param_err(errs, path, err.msg, renames);
}

static void parse_labels(const cJSON *labels, const char *path, struct rule *r,
			 struct hr_errs *errs)
{
	const cJSON *it;
	char p[512];

	if (!cJSON_IsObject(labels)) {
		hr_errs_add(errs, path, "expected an object of label name to value");
		return;
	}
	cJSON_ArrayForEach(it, labels) {
		size_t k = r->nlabels;

		hr_cfg_path(p, sizeof(p), path, it->string);
		if (hr_cfg_dup_key(labels, it)) {
			hr_errs_add(errs, p, "given twice");
			continue;
		}
		if (!alert_label_name_ok(it->string)) {
			hr_errs_add(errs, p, "not a label name (1-31 of [A-Za-z0-9_])");
			continue;
		}
		if (word_index(reserved_labels, it->string) >= 0) {
			hr_errs_add(errs, p, "set by the alert itself; choose another name");
			continue;
		}
		if (k == sizeof(r->labels) / sizeof(r->labels[0])) {
			hr_errs_add(errs, p, "at most %zu labels",
				    sizeof(r->labels) / sizeof(r->labels[0]));
			break;
		}
		if (get_text(labels, it->string, path, r->labels[k].value,
			     sizeof(r->labels[k].value), errs) != 1)
			continue;
		hr_strlcpy(r->labels[k].name, it->string, sizeof(r->labels[k].name));
		r->nlabels++;
	}
}

/* Keys that only some detectors take. */
static void only_for(const cJSON *obj, const char *path, const char *key,
		     enum rule_detector det, enum rule_detector want, struct hr_errs *errs)
{
	char p[512];

	if (det == want || cJSON_GetObjectItemCaseSensitive(obj, key) == NULL)
		return;
	hr_cfg_path(p, sizeof(p), path, key);
	hr_errs_add(errs, p, "only for \"detector\": \"%s\" (this rule's is \"%s\")",
		    detector_names[want], detector_names[det]);
}

/* Parses rule obj at path into r. *disable is set when the rule only turns
 * a rule off ("disabled": true with nothing but a name). */
static void parse_rule(const cJSON *obj, const char *path, int builtin, struct rule *r,
		       int *disabled, int *only_name, struct hr_errs *errs)
{
	static const char *const threshold_keys[] = { "op", "warning", "critical", "clear" };
	static const char *const change_keys[] = { "change", "min_delta", "reset" };
	const cJSON *it;
	char p[512];
	size_t i, nkeys = 0;
	int det, pi = -1, rc, sev;

	memset(r, 0, sizeof(*r));
	r->builtin = builtin;
	r->scale = 1;
	r->threshold.warning = r->threshold.critical = NAN;
	r->threshold.clear_warning = r->threshold.clear_critical = NAN;
	r->change.min_delta = 1;
	spike_params_default(&r->spike);
	forecast_params_default(&r->forecast.p);
	r->severity = ALERT_WARNING;
	hr_strlcpy(r->summary, "{host}: {rule} {instance} at {value}", sizeof(r->summary));
	*disabled = *only_name = 0;
	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, path, "expected an object");
		return;
	}
	hr_cfg_check_keys(obj, path, rule_keys, errs);
	cJSON_ArrayForEach(it, obj)
		if (strcmp(it->string, "disabled") != 0)
			nkeys++;
	rc = get_text(obj, "name", path, r->name, sizeof(r->name), errs);
	hr_cfg_path(p, sizeof(p), path, "name");
	if (rc == 0)
		hr_errs_add(errs, p, "missing: every rule has a name");
	else if (rc == 1 && !rule_name_ok(r->name))
		hr_errs_add(errs, p, "\"%s\" is not a rule name (1-63 of [A-Za-z0-9_.-])", r->name);
	if (hr_cfg_bool(obj, "disabled", path, disabled, errs) == 1 && *disabled &&
	    nkeys == 1) {
		*only_name = 1;
		return;
	}
	det = get_word(obj, "detector", path, detector_names, errs);
	r->detector = det >= 0 ? (enum rule_detector)det : RULE_THRESHOLD;
	it = cJSON_GetObjectItemCaseSensitive(obj, "match");
	hr_cfg_path(p, sizeof(p), path, "match");
	if (it != NULL)
		parse_match(it, p, r, &pi, errs);
	if (r->detector == RULE_STALE) {
		if (r->match.probe[0] != '\0' || r->match.instance[0] != '\0' ||
		    r->match.nlabels > 0)
			hr_errs_add(errs, p, "a stale rule watches hosts: only \"host\" applies");
		if (cJSON_GetObjectItemCaseSensitive(obj, "value") != NULL ||
		    cJSON_GetObjectItemCaseSensitive(obj, "divide_by") != NULL ||
		    cJSON_GetObjectItemCaseSensitive(obj, "scale") != NULL)
			hr_errs_add(errs, path, "a stale rule has no \"value\", \"divide_by\" or "
				    "\"scale\"");
	} else {
		if (it == NULL || cJSON_GetObjectItemCaseSensitive(it, "probe") == NULL)
			hr_errs_add(errs, p, "missing \"probe\": which probe's samples the rule "
				    "watches");
		rc = get_value(obj, "value", path, pi, r->value, sizeof(r->value), errs);
		if (rc == 0) {
			hr_cfg_path(p, sizeof(p), path, "value");
			hr_errs_add(errs, p, "missing: which value the rule judges");
		}
		get_value(obj, "divide_by", path, pi, r->divisor, sizeof(r->divisor), errs);
		if (hr_cfg_number(obj, "scale", path, -LEVEL_MAX, LEVEL_MAX, &r->scale, errs) == 1 &&
		    r->scale == 0) {
			hr_cfg_path(p, sizeof(p), path, "scale");
			hr_errs_add(errs, p, "must not be 0");
		}
	}
	if (det != -2) {
		for (i = 0; i < sizeof(threshold_keys) / sizeof(threshold_keys[0]); i++)
			only_for(obj, path, threshold_keys[i], r->detector, RULE_THRESHOLD, errs);
		for (i = 0; i < sizeof(change_keys) / sizeof(change_keys[0]); i++)
			only_for(obj, path, change_keys[i], r->detector, RULE_CHANGE, errs);
		only_for(obj, path, "spike", r->detector, RULE_SPIKE, errs);
		only_for(obj, path, "forecast", r->detector, RULE_FORECAST, errs);
	}
	switch (r->detector) {
	case RULE_THRESHOLD:
		parse_threshold(obj, path, r, errs);
		break;
	case RULE_CHANGE:
		rc = get_word(obj, "change", path, change_names, errs);
		if (rc == -1) {
			hr_cfg_path(p, sizeof(p), path, "change");
			hr_errs_add(errs, p, "missing: \"increase\", \"drop\" or \"fell\"");
		}
		r->change.kind = rc >= 0 ? (enum rule_change)rc : RULE_INCREASE;
		if (hr_cfg_number(obj, "min_delta", path, -LEVEL_MAX, LEVEL_MAX,
				  &r->change.min_delta, errs) == 1 && !(r->change.min_delta > 0)) {
			hr_cfg_path(p, sizeof(p), path, "min_delta");
			hr_errs_add(errs, p, "must be above 0");
		}
		hr_cfg_duration(obj, "reset", path, 0, 3650 * DAY, &r->change.reset, errs);
		break;
	case RULE_SPIKE:
		hr_cfg_path(p, sizeof(p), path, "spike");
		parse_spike(cJSON_GetObjectItemCaseSensitive(obj, "spike"), p, r, errs);
		break;
	case RULE_FORECAST:
		hr_cfg_path(p, sizeof(p), path, "forecast");
		parse_forecast(cJSON_GetObjectItemCaseSensitive(obj, "forecast"), p, r, pi, errs);
		break;
	case RULE_STALE:
		break;
	}
	hr_cfg_duration(obj, "for", path, 0, 30 * DAY, &r->for_s, errs);
	sev = get_word(obj, "severity", path, severity_names, errs);
	if (sev >= 0)
		r->severity = (enum alert_severity)sev;
	get_text(obj, "summary", path, r->summary, sizeof(r->summary), errs);
	get_text(obj, "route", path, r->route, sizeof(r->route), errs);
	it = cJSON_GetObjectItemCaseSensitive(obj, "labels");
	if (it != NULL) {
		hr_cfg_path(p, sizeof(p), path, "labels");
		parse_labels(it, p, r, errs);
	}
}

/* Parses doc's "rules" into rs: builtin rules as they are; a file's rules
 * merged over what rs already holds. */
static int parse_doc(const cJSON *doc, int builtin, struct rules *rs, struct hr_errs *errs)
{
	static const char *const top_keys[] = { "rules", NULL };
	const cJSON *arr, *it;
	struct rule *parsed = NULL;
	int *off = NULL, *only = NULL, n = 0, i, j, count;
	char path[64];
	int rc = -1;

	if (!cJSON_IsObject(doc)) {
		hr_errs_add(errs, "", "expected a JSON object: {\"rules\": [...]}");
		return -1;
	}
	hr_cfg_check_keys(doc, "", top_keys, errs);
	arr = cJSON_GetObjectItemCaseSensitive(doc, "rules");
	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, "rules", arr == NULL ? "missing: {\"rules\": [...]}" :
			    "expected an array of rules");
		return -1;
	}
	count = cJSON_GetArraySize(arr);
	if (count > RULES_MAX) {
		hr_errs_add(errs, "rules", "%d rules; at most %d", count, RULES_MAX);
		return -1;
	}
	if (count > 0) {
		parsed = calloc((size_t)count, sizeof(*parsed));
		off = calloc((size_t)count, sizeof(*off));
		only = calloc((size_t)count, sizeof(*only));
		if (parsed == NULL || off == NULL || only == NULL) {
			hr_errs_add(errs, "rules", "out of memory");
			goto out;
		}
	}
	cJSON_ArrayForEach(it, arr) {
		hr_cfg_index(path, sizeof(path), "rules", n);
		parse_rule(it, path, builtin, &parsed[n], &off[n], &only[n], errs);
		for (j = 0; j < n && parsed[n].name[0] != '\0'; j++) {
			if (strcmp(parsed[j].name, parsed[n].name) == 0) {
				char p[80];

				hr_cfg_path(p, sizeof(p), path, "name");
				hr_errs_add(errs, p, "\"%s\" is also the name of rules[%d]",
					    parsed[n].name, j);
				break;
			}
		}
		if (only[n] && rules_index(rs, parsed[n].name) < 0) {
			char p[80];

			hr_cfg_path(p, sizeof(p), path, "name");
			hr_errs_add(errs, p, "\"disabled\" with only a name turns a built-in rule "
				    "off, and there is no built-in \"%s\"", parsed[n].name);
		}
		n++;
	}
	if (hr_errs_any(errs))
		goto out;
	for (i = 0; i < n; i++) {
		long k = rules_index(rs, parsed[i].name);

		if (off[i]) {
			if (k >= 0) {
				memmove(&rs->v[k], &rs->v[k + 1],
					(rs->n - (size_t)k - 1) * sizeof(*rs->v));
				rs->n--;
			}
		} else if (k >= 0) {
			/* A rule of a default's name replaces it entirely. */
			rs->v[k] = parsed[i];
		} else if (rules_push(rs, &parsed[i]) < 0) {
			hr_errs_add(errs, "rules", "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(parsed);
	free(off);
	free(only);
	return rc;
}

static struct rules *defaults_into(struct hr_errs *errs)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	cJSON *doc;

	if (rs == NULL) {
		hr_errs_add(errs, "rules", "out of memory");
		return NULL;
	}
	doc = hr_cfg_parse(defaults_json, sizeof(defaults_json) - 1, errs);
	if (doc == NULL || parse_doc(doc, 1, rs, errs) < 0) {
		cJSON_Delete(doc);
		rules_free(rs);
		return NULL;
	}
	cJSON_Delete(doc);
	return rs;
}

struct rules *rules_defaults(struct hr_err *err)
{
	struct hr_errs errs;
	struct rules *rs;

	hr_errs_init(&errs);
	rs = defaults_into(&errs);
	if (rs == NULL)
		hr_err_set(err, "built-in rules: %s",
			   errs.count ? errs.items[0] : "out of memory");
	hr_errs_free(&errs);
	return rs;
}

static struct rules *rules_from(cJSON *doc, struct hr_errs *errs)
{
	struct hr_errs derrs;
	struct rules *rs;
	struct hr_err err;

	if (doc == NULL)
		return NULL;
	hr_errs_init(&derrs);
	rs = defaults_into(&derrs);
	hr_errs_free(&derrs);
	if (rs == NULL) {
		rules_defaults(&err);
		hr_errs_add(errs, "", "%s", err.msg);
	} else if (parse_doc(doc, 0, rs, errs) < 0) {
		rules_free(rs);
		rs = NULL;
	}
	cJSON_Delete(doc);
	return rs;
}

struct rules *rules_parse(const char *text, size_t len, struct hr_errs *errs)
{
	return rules_from(hr_cfg_parse(text, len, errs), errs);
}

struct rules *rules_load(const char *file, struct hr_errs *errs)
{
	return rules_from(hr_cfg_load(file, errs), errs);
}

/* --- matching and values --------------------------------------------------- */

static int glob_ok(const char *glob, const char *s)
{
	return glob[0] == '\0' || fnmatch(glob, s, 0) == 0;
}

int rule_matches(const struct rule *r, const char *host, const struct hr_sample *s)
{
	size_t i;

	if (!glob_ok(r->match.host, host))
		return 0;
	if (s == NULL)
		return 1;
	if (r->detector == RULE_STALE || strcmp(r->match.probe, s->probe) != 0 ||
	    !glob_ok(r->match.instance, s->instance))
		return 0;
	for (i = 0; i < r->match.nlabels; i++) {
		const char *v = hr_sample_get_label(s, r->match.labels[i].name);

		if (v == NULL || fnmatch(r->match.labels[i].glob, v, 0) != 0)
			return 0;
	}
	return 1;
}

int rule_value(const struct rule *r, const struct hr_sample *s, double *v)
{
	const struct hr_value *a, *b;
	double x;

	if (r->value[0] == '\0' || (a = hr_sample_get(s, r->value)) == NULL)
		return -1;
	x = a->v;
	if (r->divisor[0] != '\0') {
		b = hr_sample_get(s, r->divisor);
		if (b == NULL || b->v == 0)
			return -1;
		x /= b->v;
	}
	x *= r->scale;
	if (!isfinite(x))
		return -1;
	*v = x;
	return 0;
}

/* --- judging --------------------------------------------------------------- */

static int op_holds(enum rule_op op, double v, double level)
{
	if (isnan(level))
		return 0;
	switch (op) {
	case RULE_GT: return v > level;
	case RULE_GE: return v >= level;
	case RULE_LT: return v < level;
	case RULE_LE: return v <= level;
	case RULE_EQ: return v == level;
	case RULE_NE: return v != level;
	}
	return 0;
}

/* The level after v: up at once to whatever level v crosses; down only
 * past a level's clear value, so a value hovering at 90 % does not flap. */
static int threshold_level(const struct rule *r, int level, double v)
{
	enum rule_op op = r->threshold.op;
	int raw = op_holds(op, v, r->threshold.critical) ? 2 :
		  op_holds(op, v, r->threshold.warning) ? 1 : 0;

	if (raw >= level)
		return raw;
	if (level == 2 && op_holds(op, v, r->threshold.clear_critical))
		return 2;
	if (op_holds(op, v, r->threshold.clear_warning))
		return raw > 1 ? raw : 1;
	return raw;
}

/* RULE_CHANGE: 1 while the value is away from its normal. */
static int change_level(const struct rule *r, struct rule_state *st, double t, double v)
{
	int active = 0;

	if (st->seen == 0) {
		st->low = st->high = st->prev = v;
		st->moved = t;
		return 0;
	}
	switch (r->change.kind) {
	case RULE_INCREASE:
		if (v < st->low)
			st->low = v;
		if (v > st->prev)
			st->moved = t;
		active = v - st->low >= r->change.min_delta;
		if (active && r->change.reset > 0 && t - st->moved >= r->change.reset) {
			st->low = v; /* the new normal */
			active = 0;
		}
		break;
	case RULE_DROP:
		if (v > st->high)
			st->high = v;
		if (v < st->prev)
			st->moved = t;
		active = st->high - v >= r->change.min_delta;
		if (active && r->change.reset > 0 && t - st->moved >= r->change.reset) {
			st->high = v;
			active = 0;
		}
		break;
	case RULE_FELL:
		if (v > st->high)
			st->high = v;
		if (v >= 1 || st->prev >= 1)
			st->moved = t; /* up now, or just went down */
		active = st->high >= 1 && v < 1;
		if (active && r->change.reset > 0 && t - st->moved >= r->change.reset) {
			st->high = v; /* down so long it counts as never up */
			active = 0;
		}
		break;
	}
	return active;
}

int rule_judge(const struct rule *r, struct rule_state *st, const char *host,
	       const struct hr_sample *s, struct alert_obs *o)
{
	double v, t = (double)s->t;
	int level;
	size_t i;

	if (r->detector != RULE_THRESHOLD && r->detector != RULE_CHANGE)
		return -1;
	if (rule_value(r, s, &v) < 0)
		return 0;
	if (r->detector == RULE_THRESHOLD)
		level = threshold_level(r, st->level, v);
	else
		level = change_level(r, st, t, v);
	if (st->seen == 0 || level != st->level)
		st->since = t;
	st->level = level;
	if (st->seen == 0 || v < st->low)
		st->low = v;
	if (st->seen == 0 || v > st->high)
		st->high = v;
	st->prev = v;
	st->seen++;

	alert_obs_init(o, r->name, host, s->probe, s->instance);
	o->t = t;
	o->active = level > 0;
	o->severity = level == 2 ? ALERT_CRITICAL : r->severity;
	o->value = v;
	o->for_s = r->for_s;
	hr_strlcpy(o->route, r->route, sizeof(o->route));
	rule_summary(r, host, s->instance, v, o->summary, sizeof(o->summary));
	for (i = 0; i < r->nlabels; i++)
		alert_obs_label(o, r->labels[i].name, r->labels[i].value);
	/* The sample's labels (fstype, level, model) after the rule's, which
	 * they never replace: a rule's redundancy label is what routes it. */
	for (i = 0; i < s->nlabels; i++)
		if (alert_obs_get_label(o, s->labels[i].name) == NULL &&
		    word_index(reserved_labels, s->labels[i].name) < 0)
			alert_obs_label(o, s->labels[i].name, s->labels[i].value);
	return 1;
}

void rule_summary(const struct rule *r, const char *host, const char *instance,
		  double value, char *dst, size_t n)
{
	static const char *const fields[] = { "host", "instance", "value", "probe", "rule",
					      NULL };
	const char *t = r->summary;
	size_t len = 0;

	if (n == 0)
		return;
	while (*t != '\0' && len + 1 < n) {
		const char *rep = NULL;
		char num[32];
		size_t i, k = 0;

		if (*t == '{') {
			for (i = 0; fields[i] != NULL; i++) {
				k = strlen(fields[i]);
				if (strncmp(t + 1, fields[i], k) == 0 && t[k + 1] == '}')
					break;
			}
			switch (i) {
			case 0: rep = host; break;
			case 1: rep = instance != NULL ? instance : ""; break;
			case 2:
				if (isfinite(value))
					snprintf(num, sizeof(num), "%.4g", value);
				else
					hr_strlcpy(num, "-", sizeof(num));
				rep = num;
				break;
			case 3: rep = r->match.probe; break;
			case 4: rep = r->name; break;
			default: break;
			}
		}
		if (rep == NULL) {
			dst[len++] = *t++;
			continue;
		}
		len += hr_strlcpy(dst + len, rep, n - len);
		if (len >= n)
			len = n - 1;
		t += k + 2;
	}
	dst[len] = '\0';
}
