/* rules_judge.c: a rule against a sample (rules.h): whether it matches,
 * the value it reads, the judgement of threshold rules (with their clear
 * levels) and change rules, and the summary template. */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "rules_int.h"
#include "util.h"

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

int rule_op_holds(enum rule_op op, double v, double level)
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
	int raw = rule_op_holds(op, v, r->threshold.critical) ? 2 :
		  rule_op_holds(op, v, r->threshold.warning) ? 1 : 0;

	if (raw >= level)
		return raw;
	if (level == 2 && rule_op_holds(op, v, r->threshold.clear_critical))
		return 2;
	if (rule_op_holds(op, v, r->threshold.clear_warning))
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
		    rules_word_index(rules_reserved_labels, s->labels[i].name) < 0)
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
