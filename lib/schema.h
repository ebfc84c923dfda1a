/* schema.h: the metric schema shared by agent and central: which values are
 * counters and which are levels, and which archives a probe's file gets.
 * The table of metric names itself is DESIGN.md's; this file only decides
 * what RRD needs to know about them. */
#ifndef HR_SCHEMA_H
#define HR_SCHEMA_H

enum hr_kind {
	HR_GAUGE,   /* a level, stored as is (RRD GAUGE) */
	HR_COUNTER, /* grows monotonically; stored as a rate (RRD DERIVE, min 0,
		     * so a counter reset gives an unknown, not a negative spike) */
};

/* The kind of PROBE's value NAME. Any value whose name ends in "_total" is a
 * counter, for every probe (this is how exec plugins declare counters). */
enum hr_kind hr_schema_kind(const char *probe, const char *name);

/* Does PROBE's archive keep MIN as well as AVERAGE and MAX? (Levels whose
 * low-water mark a capacity planner wants: free space, available memory.) */
int hr_schema_keep_min(const char *probe);

#endif
