/* fuzz_rules.c: libFuzzer target for the rules file parser, which reads
 * what an operator wrote (central.json's "rules"). A refusal must name at
 * least one problem, each printable; an accepted set must keep every
 * promise rules.h makes (names unique and valid, levels ordered, detector
 * parameters within range), and judging a sample with each rule must not
 * crash. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void check_rule(const struct rules *rs, const struct rule *r)
{
	struct hr_err err;
	struct forecast_params fp;
	struct rule_state st;
	struct alert_obs o;
	struct hr_sample s;
	size_t i;

	if (memchr(r->name, '\0', sizeof(r->name)) == NULL || r->name[0] == '\0' ||
	    rules_find(rs, r->name) != r || !isfinite(r->scale) || r->scale == 0 ||
	    !printable(r->summary) || r->nlabels > sizeof(r->labels) / sizeof(r->labels[0]) ||
	    r->match.nlabels > RULE_MATCH_LABELS || !(r->for_s >= 0))
		abort();
	if (r->detector == RULE_SPIKE && spike_params_check(&r->spike, &err) < 0)
		abort();
	if (r->detector == RULE_FORECAST) {
		fp = r->forecast.p;
		if (r->forecast.capacity_value[0] != '\0')
			fp.capacity = 1;
		if (forecast_params_check(&fp, &err) < 0)
			abort();
	}
	if (r->detector == RULE_CHANGE && !(r->change.min_delta > 0))
		abort();
	/* Judge a sample that has the rule's values, twice. */
	hr_sample_init(&s, r->match.probe[0] != '\0' ? r->match.probe : "exec", "/var/x");
	s.t = 1764316800;
	if (r->value[0] != '\0')
		hr_sample_set(&s, r->value, 42);
	if (r->divisor[0] != '\0')
		hr_sample_set(&s, r->divisor, 100);
	for (i = 0; i < r->match.nlabels; i++)
		hr_sample_label(&s, r->match.labels[i].name, "ext4");
	memset(&st, 0, sizeof(st));
	rule_matches(r, "web1", &s);
	rule_matches(r, "web1", NULL);
	for (i = 0; i < 2; i++) {
		int rc = rule_judge(r, &st, "web1", &s, &o);

		if ((rc == 1) != (r->detector == RULE_THRESHOLD || r->detector == RULE_CHANGE) &&
		    rc != 0)
			abort();
		if (rc == 1 && (!printable(o.summary) || o.nlabels > ALERT_LABELS))
			abort();
		s.t += 60;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hr_errs errs;
	struct rules *rs;
	size_t i;

	hr_errs_init(&errs);
	rs = rules_parse((const char *)data, size, &errs);
	if (rs == NULL) {
		if (!hr_errs_any(&errs))
			abort();
		for (i = 0; i < errs.count; i++)
			if (errs.items[i][0] == '\0')
				abort();
	} else {
		if (hr_errs_any(&errs))
			abort();
		for (i = 0; i < rules_count(rs); i++)
			check_rule(rs, rules_get(rs, i));
	}
	rules_free(rs);
	hr_errs_free(&errs);
	return 0;
}
