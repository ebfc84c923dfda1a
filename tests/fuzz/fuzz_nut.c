/* fuzz_nut.c: libFuzzer target for the NUT half of the ups probe. The input
 * is parsed as upsd's answer to LIST VAR (and checked for completeness the
 * way the client decides to stop reading) and as a dummy-ups .dev file;
 * each variable table is mapped into a sample, whose flags must be 0 or 1
 * and whose values must all be finite. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "ups_nut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ups_nut_vars *v)
{
	static const char *const flags[] = { "online", "on_battery", "low_battery",
					     "replace_battery", "overload" };
	struct hr_sample s;
	size_t i, j;

	if (v->count > UPS_NUT_VARS_MAX)
		abort();
	for (i = 0; i < v->count; i++)
		if (memchr(v->items[i].name, '\0', UPS_NUT_NAME_MAX) == NULL ||
		    memchr(v->items[i].value, '\0', UPS_NUT_VALUE_MAX) == NULL)
			abort();
	hr_sample_init(&s, "ups", "fuzz@localhost");
	ups_nut_map(v, &s);
	for (i = 0; i < s.nvalues; i++) {
		if (!isfinite(s.values[i].v))
			abort();
		for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++)
			if (strcmp(s.values[i].name, flags[j]) == 0 && s.values[i].v != 0 &&
			    s.values[i].v != 1)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ups_nut_vars v;
	struct hr_err err;
	int done;

	ups_nut_vars_init(&v);
	done = ups_nut_reply_done((const char *)data, size);
	if (ups_nut_parse_list((const char *)data, size, "ups", &v, &err) == 0 && !done)
		abort(); /* a reply the parser accepts must stop the reader */
	check(&v);
	ups_nut_vars_free(&v);

	ups_nut_vars_init(&v);
	ups_nut_parse_dev((const char *)data, size, &v, &err);
	check(&v);
	ups_nut_vars_free(&v);
	return 0;
}
