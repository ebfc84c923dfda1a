/* rules.c: the analyzer's rules (rules.h): the rules file's parser and
 * validator (every problem with its JSON path, so that --check-config lists
 * them all) and the merge of a file's rules over the built-in defaults
 * (rules_defaults.c). Matching and judging are in rules_judge.c. */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "rules.h"
#include "rules_int.h"
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

/* --- the set --------------------------------------------------------------- */


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
const char *const rules_reserved_labels[] = {
	"alertname", "host", "probe", "instance", "severity", NULL,
};

int rules_word_index(const char *const *words, const char *s)
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
	i = rules_word_index(words, s);
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
		if (rules_word_index(rules_reserved_labels, it->string) >= 0) {
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
int rules_parse_doc(const cJSON *doc, int builtin, struct rules *rs, struct hr_errs *errs)
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

static struct rules *rules_from(cJSON *doc, struct hr_errs *errs)
{
	struct hr_errs derrs;
	struct rules *rs;
	struct hr_err err;

	if (doc == NULL)
		return NULL;
	hr_errs_init(&derrs);
	rs = rules_defaults_into(&derrs);
	hr_errs_free(&derrs);
	if (rs == NULL) {
		rules_defaults(&err);
		hr_errs_add(errs, "", "%s", err.msg);
	} else if (rules_parse_doc(doc, 0, rs, errs) < 0) {
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
