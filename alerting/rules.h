/* rules.h: the analyzer's rules. A rule says which series it watches
 * (match: host glob, probe, instance glob, label globs), what it computes
 * from a sample (one value, optionally divided by another and scaled: fs
 * used/size x 100), how it judges (a detector and its parameters), for how
 * long a condition must hold, how bad it is, and which labels and route the
 * alert carries. The defaults (md, bond, links, UPS, SMART, backup, TLS,
 * host stale, fs full, spikes, capacity forecasts) are built in; a rules
 * file (JSON, "rules" in central.json) adds rules, overrides a default by
 * giving its name, or turns one off with "disabled": true. */
#ifndef HR_RULES_H
#define HR_RULES_H

#include <stddef.h>

#include "alert.h"
#include "err.h"
#include "forecast.h"
#include "sample.h"
#include "spike.h"

enum rule_detector {
	RULE_THRESHOLD = 0, /* the value against warning/critical levels, with
			     * hysteresis (clear levels) */
	RULE_CHANGE = 1,    /* the value against its own past: it grew (SMART
			     * sectors), it fell from its high-water mark (link
			     * speed), a 1 became 0 (carrier lost on a link that
			     * was up) */
	RULE_SPIKE = 2,     /* spike.h, onset-only */
	RULE_FORECAST = 3,  /* forecast.h, on the value against a capacity */
	RULE_STALE = 4      /* a host that stopped sending (the central's
			     * stale check feeds it, not samples) */
};

enum rule_op { RULE_GT, RULE_GE, RULE_LT, RULE_LE, RULE_EQ, RULE_NE };

enum rule_change {
	RULE_INCREASE = 0, /* the value is above the lowest seen since the
			    * series started (or the last reset): resolves
			    * only when the rule's "reset" after says so */
	RULE_DROP = 1,     /* below the highest seen (link speed dropped) */
	RULE_FELL = 2      /* was >= 1, is now < 1 (carrier lost on a link
			    * that was up); resolves when it is back */
};

#define RULE_MATCH_LABELS 4
#define RULE_GLOB_MAX 256

struct rule_match {
	char host[RULE_GLOB_MAX];     /* fnmatch glob; "" or "*": every host */
	char probe[HR_PROBE_MAX];     /* exact; "" only for RULE_STALE */
	char instance[RULE_GLOB_MAX]; /* glob; "": every instance */
	size_t nlabels;
	struct {
		char name[HR_NAME_MAX];
		char glob[RULE_GLOB_MAX];
	} labels[RULE_MATCH_LABELS];  /* the sample's label must match */
};

struct rule {
	char name[ALERT_RULE_MAX];    /* [A-Za-z0-9_.-], unique in a set */
	int builtin;                  /* 1: one of the defaults */
	struct rule_match match;
	char value[HR_NAME_MAX];      /* the value judged ("" for RULE_STALE) */
	char divisor[HR_NAME_MAX];    /* "": none; else value / divisor */
	double scale;                 /* applied after the division (1, 100) */
	enum rule_detector detector;
	struct {
		enum rule_op op;
		double warning, critical;   /* NAN: that level is not used */
		double clear_warning, clear_critical; /* the value must be back
						* past these to clear (hysteresis);
						* equal to the level when not given */
	} threshold;
	struct {
		enum rule_change kind;
		double min_delta;       /* RULE_INCREASE/DROP: by at least this */
		double reset;           /* seconds the value may stay moved (no
					 * further growth or fall, or still down
					 * for RULE_FELL) before it becomes the new
					 * normal and the alert resolves; 0: never */
	} change;
	struct spike_params spike;
	struct {
		struct forecast_params p;   /* p.capacity: a constant, or 0 when
					     * capacity_value names it */
		char capacity_value[HR_NAME_MAX]; /* e.g. "size", "total" */
	} forecast;
	double for_s;                 /* seconds the condition must hold */
	enum alert_severity severity; /* for detectors without levels */
	char summary[ALERT_SUMMARY_MAX]; /* template: {host} {instance} {value}
				       * {probe} {rule} are replaced */
	char route[ALERT_ROUTE_MAX];
	size_t nlabels;
	struct alert_label labels[ALERT_LABELS / 2]; /* e.g. redundancy=raid */
};

struct rules;

/* The built-in defaults only. NULL with err on no memory. */
struct rules *rules_defaults(struct hr_err *err);
/* The defaults merged with the rules file's text: {"rules": [RULE, ...]}.
 * Every problem goes to errs with its JSON path (e.g. "rules[3].for");
 * NULL when there was any. */
struct rules *rules_parse(const char *text, size_t len, struct hr_errs *errs);
/* The same from FILE (a missing or unreadable file is an error). */
struct rules *rules_load(const char *file, struct hr_errs *errs);
void rules_free(struct rules *rs);

size_t rules_count(const struct rules *rs);
const struct rule *rules_get(const struct rules *rs, size_t i);
const struct rule *rules_find(const struct rules *rs, const char *name);

/* Does r watch this sample of HOST? (host, probe, instance and labels.) A
 * RULE_STALE rule watches no sample; with s NULL only the host is compared
 * (the stale check asks about a host, not a sample). */
int rule_matches(const struct rule *r, const char *host, const struct hr_sample *s);
/* The value r judges in s: 0 and *v, or -1 when s lacks it (or the
 * divisor is 0 or missing). */
int rule_value(const struct rule *r, const struct hr_sample *s, double *v);
/* Whether v compared with level by op holds (v > level for RULE_GT ...);
 * a NaN level (not set) never holds. */
int rule_op_holds(enum rule_op op, double v, double level);

/* The per-series memory of a RULE_THRESHOLD or RULE_CHANGE rule: plain
 * bytes, so the analyzer persists it as they are (RULE_STATE_VERSION in
 * front). Zeroed: a new series. */
#define RULE_STATE_VERSION 1
struct rule_state {
	int level;        /* 0 clear, 1 warning, 2 critical (after hysteresis) */
	int seen;         /* samples judged */
	double low, high; /* lowest and highest value seen (RULE_CHANGE) */
	double prev;      /* the previous value */
	double since;     /* when level last changed */
	double moved;     /* RULE_CHANGE: when the value last moved further
			   * from its normal (grew, fell, stayed down) */
};

/* Judges sample s of HOST for a RULE_THRESHOLD or RULE_CHANGE rule r that
 * matches it: updates st and fills o (alert_obs_init, then active,
 * severity, value, summary, route, for_s, the rule's labels and the
 * sample's labels). Returns 1 when o was filled, 0 when s lacks the value
 * (st unchanged), -1 when r is of another detector. */
int rule_judge(const struct rule *r, struct rule_state *st, const char *host,
	       const struct hr_sample *s, struct alert_obs *o);

/* Fills the summary template (see struct rule) into dst. */
void rule_summary(const struct rule *r, const char *host, const char *instance,
		  double value, char *dst, size_t n);

#endif
