/* fuzz_apcupsd.c: libFuzzer target for the apcupsd NIS client's parsers.
 * The input is fed to the NIS record decoder as a reply arriving in reads
 * whose sizes come from its first byte; a complete reply's text goes to the
 * status parser. The whole input is also parsed as status text directly.
 * Every sample made must keep the value ranges the parser promises. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "ups_apcupsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct hr_sample *s)
{
	size_t i;

	for (i = 0; i < s->nvalues; i++) {
		const char *n = s->values[i].name;
		double v = s->values[i].v;

		if (v < 0)
			abort();
		if (strcmp(n, "charge_percent") == 0 && v > 100)
			abort();
		if ((strcmp(n, "online") == 0 || strcmp(n, "on_battery") == 0 ||
		     strcmp(n, "low_battery") == 0 || strcmp(n, "replace_battery") == 0 ||
		     strcmp(n, "overload") == 0) && v != 0 && v != 1)
			abort();
	}
	if (s->nvalues > 9 || s->nlabels > 2)
		abort();
}

static void parse(const char *text, size_t len)
{
	struct hr_sample s;
	struct hr_err err;
	int r;

	hr_sample_init(&s, "ups", "fuzz");
	r = ups_apcupsd_parse(text, len, &s, &err);
	if (r < 0 && (s.nvalues != 0 || s.nlabels != 0))
		abort();
	if (r >= 0 && hr_sample_get_label(&s, "status") == NULL)
		abort();
	check(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ups_apcupsd_nis d;
	struct hr_err err;
	size_t off = 1, step;
	int r = 0;

	parse((const char *)data, size);
	if (size < 1)
		return 0;
	step = (size_t)data[0] + 1;
	ups_apcupsd_nis_init(&d, 8192);
	while (off < size && r == 0) {
		size_t n = size - off < step ? size - off : step, used;

		r = ups_apcupsd_nis_feed(&d, data + off, n, &used, &err);
		if (used > n || (r == 0 && used != n))
			abort();
		off += used;
	}
	if (d.seen > 8192 || d.len > d.seen)
		abort();
	if (r == 1)
		parse(d.text ? d.text : "", d.len);
	ups_apcupsd_nis_free(&d);
	return 0;
}
