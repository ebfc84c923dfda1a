/* fuzz_smart.c: libFuzzer target for the smart probe's parsers. The input's
 * first byte is smartctl's exit status (255: take the JSON's), the rest is
 * mapped as `smartctl --json` output and turned into a sample; the same
 * bytes are parsed as `--scan-open --json` output, and their first two
 * lines are used as a device path and -d type for the instance name. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "smart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies the next line of [*p, end) into dst (size n), cut to fit. */
static void next_line(const uint8_t **p, const uint8_t *end, char *dst, size_t n)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);

	if (len > n - 1)
		len = n - 1;
	memcpy(dst, *p, len);
	dst[len] = '\0';
	*p = nl ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smart_report r;
	struct hr_sample s;
	struct smart_scan *scan;
	const uint8_t *p = data, *end = data + size;
	char path[300], type[80], inst[HR_INSTANCE_MAX];
	int status;
	size_t i;

	if (size == 0)
		return 0;
	status = data[0] == 255 ? -1 : data[0];
	smart_parse((const char *)data + 1, size - 1, status, &r);
	/* Healthy is 0 or 1, and 0 whenever the status says failing. */
	if (!isnan(r.healthy) && r.healthy != 0 && r.healthy != 1)
		abort();
	if (status >= 0 && (status & SMART_EXIT_FAILING) && r.healthy != 0)
		abort();
	if (!isnan(r.temperature_c) && (r.temperature_c < -60 || r.temperature_c > 200))
		abort();
	if (!isnan(r.percent_used) && (r.percent_used < 0 || r.percent_used > 255))
		abort();
	smart_report_sample(&r, "sda", "/dev/sda", &s);
	if (s.nlabels > HR_SAMPLE_LABELS)
		abort();
	for (i = 0; i < s.nvalues; i++)
		if (!isfinite(s.values[i].v))
			abort();

	scan = malloc(sizeof(*scan));
	if (scan != NULL) {
		smart_scan_parse((const char *)data, size, scan);
		if (scan->count > SMART_MAX_DEVICES)
			abort();
		for (i = 0; i < scan->count; i++)
			if (smart_instance(scan->devs[i].name, scan->devs[i].type, inst,
					   sizeof(inst)) == 0 && inst[0] == '\0')
				abort();
		free(scan);
	}

	next_line(&p, end, path, sizeof(path));
	next_line(&p, end, type, sizeof(type));
	if (smart_instance(path, type, inst, sizeof(inst)) == 0 && inst[0] == '\0')
		abort();
	return 0;
}
