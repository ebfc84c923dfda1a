/* schema.c: counters versus levels per probe (see schema.h and DESIGN.md's
 * table of metric names). */
#include "config.h"

#include <string.h>

#include "schema.h"

/* Counters per probe; "*" means every value of that probe. */
static const struct {
	const char *probe;
	const char *const names[10];
} counters[] = {
	{ "cpu", { "*" } },
	{ "disk", { "*" } },
	{ "net", { "rx_bytes", "tx_bytes", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped" } },
	{ "agent", { "samples", "dropped_samples" } },
};

enum hr_kind hr_schema_kind(const char *probe, const char *name)
{
	size_t i, j, len = strlen(name);

	/* "_total" names a counter (psi's some_total, Prometheus style), except
	 * load's procs_total: the number of processes that exist, a level. */
	if (strcmp(probe, "load") == 0 && strcmp(name, "procs_total") == 0)
		return HR_GAUGE;
	if (len > 6 && strcmp(name + len - 6, "_total") == 0)
		return HR_COUNTER;
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (strcmp(counters[i].probe, probe) != 0)
			continue;
		for (j = 0; j < 10 && counters[i].names[j] != NULL; j++)
			if (strcmp(counters[i].names[j], "*") == 0 ||
			    strcmp(counters[i].names[j], name) == 0)
				return HR_COUNTER;
	}
	return HR_GAUGE;
}

int hr_schema_keep_min(const char *probe)
{
	return strcmp(probe, "fs") == 0 || strcmp(probe, "mem") == 0 ||
	       strcmp(probe, "ups") == 0 || strcmp(probe, "tls") == 0;
}
