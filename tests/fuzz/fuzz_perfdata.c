/* fuzz_perfdata.c: libFuzzer target for the exec probe's output parser. The
 * input is parsed as a plugin's whole output and as one perfdata item; the
 * parsed items are mapped into a sample, whose value names must be valid
 * RRD names, unique, never "state", and whose values must be finite. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct exec_output o; /* large: keep it off the stack */
	struct exec_perf p;
	struct hr_sample s;
	size_t i, j, known = 0;

	exec_parse_output((const char *)data, size, &o);
	if (o.count > EXEC_PERF_MAX || memchr(o.text, '\0', sizeof(o.text)) == NULL ||
	    memchr(o.first_bad, '\0', sizeof(o.first_bad)) == NULL ||
	    memchr(o.first_odd, '\0', sizeof(o.first_odd)) == NULL)
		abort();
	for (i = 0; i < strlen(o.text); i++)
		if (o.text[i] < 0x20 || o.text[i] >= 0x7f)
			abort();
	for (i = 0; i < o.count; i++) {
		if (memchr(o.items[i].label, '\0', EXEC_LABEL_MAX) == NULL ||
		    o.items[i].label[0] == '\0' || !isfinite(o.items[i].value))
			abort();
		known += o.items[i].known != 0;
	}
	hr_sample_init(&s, "exec", "fuzz");
	hr_sample_set(&s, "state", 3);
	exec_sample_perf(&o, &s);
	/* Every known item gets a value while the sample has room. */
	if (s.nvalues != (known + 1 < HR_SAMPLE_VALUES ? known + 1 : HR_SAMPLE_VALUES))
		abort();
	if (s.values[0].v != 3)
		abort();
	for (i = 0; i < s.nvalues; i++) {
		if (!hr_name_valid(s.values[i].name) || !isfinite(s.values[i].v))
			abort();
		if (i > 0 && strcmp(s.values[i].name, "state") == 0)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(s.values[i].name, s.values[j].name) == 0)
				abort();
	}

	if (exec_parse_perf_item((const char *)data, size, &p) == 0 &&
	    (p.label[0] == '\0' || (p.known && !isfinite(p.value)) ||
	     memchr(p.uom, '\0', sizeof(p.uom)) == NULL))
		abort();
	return 0;
}
