/* fuzz_mdstat.c: libFuzzer target for the md probe's parsers. The input is
 * parsed as /proc/mdstat and every array is turned into a sample; its first
 * lines are also used as the sysfs attributes and dev-X/state/slot pairs of
 * one array, whose report is merged with the first mdstat array, so that
 * the sysfs interpretation and the merge see arbitrary text too. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md.h"
#include "sample.h"

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
	struct md_mdstat *m = malloc(sizeof(*m));
	struct md_report proc, sys, out;
	struct md_sysfs s;
	struct hr_sample smp;
	const uint8_t *p = data, *end = data + size;
	char state[128], slot[32];
	size_t i;
	int d;

	if (m == NULL)
		return 0;
	md_mdstat_parse((const char *)data, size, m);
	if (m->count > MD_MAX_ARRAYS)
		abort();
	for (i = 0; i < m->count; i++) {
		md_report_from_stat(&m->arrays[i], &proc);
		md_report_sample(&proc, &smp);
		if (md_mdstat_find(m, m->arrays[i].name) == NULL)
			abort();
	}

	memset(&s, 0, sizeof(s));
	next_line(&p, end, s.array_state, sizeof(s.array_state));
	next_line(&p, end, s.level, sizeof(s.level));
	next_line(&p, end, s.raid_disks, sizeof(s.raid_disks));
	next_line(&p, end, s.degraded, sizeof(s.degraded));
	next_line(&p, end, s.sync_action, sizeof(s.sync_action));
	next_line(&p, end, s.sync_completed, sizeof(s.sync_completed));
	next_line(&p, end, s.mismatch_cnt, sizeof(s.mismatch_cnt));
	for (d = 0; d < 8 && p < end; d++) {
		next_line(&p, end, state, sizeof(state));
		next_line(&p, end, slot, sizeof(slot));
		md_sysfs_add_dev(&s, state, slot[0] == '#' ? NULL : slot);
	}
	md_report_from_sysfs("md0", &s, &sys);
	if (m->count > 0) {
		md_report_from_stat(&m->arrays[0], &proc);
		md_report_merge(&out, &sys, &proc);
	} else {
		md_report_merge(&out, &sys, NULL);
	}
	md_report_sample(&out, &smp);
	/* A reported degraded is 0 or 1, a percent within [-1, 100]. */
	for (i = 0; i < smp.nvalues; i++) {
		if (strcmp(smp.values[i].name, "degraded") == 0 &&
		    smp.values[i].v != 0 && smp.values[i].v != 1)
			abort();
		if (strcmp(smp.values[i].name, "sync_percent") == 0 &&
		    (smp.values[i].v < -1 || smp.values[i].v > 100))
			abort();
	}
	free(m);
	return 0;
}
