/* cpu.h: the cpu probe (the aggregate "cpu" line of /proc/stat, as seconds
 * spent in each state since boot) and its pure parser, which the unit tests
 * call directly on captured files. */
#ifndef HR_PROBE_CPU_H
#define HR_PROBE_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "probe.h"

extern const struct probe probe_cpu;

/* The columns we report, in the kernel's order (proc.rst, "1.8 Miscellaneous
 * kernel statistics in /proc/stat"). Older kernels print fewer. */
enum cpu_col {
	CPU_USER, CPU_NICE, CPU_SYSTEM, CPU_IDLE, CPU_IOWAIT, CPU_IRQ, CPU_SOFTIRQ, CPU_STEAL,
	CPU_NCOLS
};

/* Value names of the columns, indexed by enum cpu_col (DESIGN.md). */
extern const char *const cpu_col_names[CPU_NCOLS];

struct cpu_ticks {
	uint64_t ticks[CPU_NCOLS]; /* USER_HZ ticks since boot */
	unsigned have;             /* bit (1u << col) set when ticks[col] is valid */
};

/* Finds the aggregate "cpu " line in /proc/stat text (len bytes, need not be
 * NUL-terminated) and parses its columns into *out, which it clears first.
 * Returns 0 when the line was found and every column present was understood
 * (missing trailing columns of old kernels are not an error); -1 with err
 * filled when the line is absent or a column is garbled (that column is
 * skipped, the others stay valid in out->have). Borrows buf. */
int cpu_parse_stat(const char *buf, size_t len, struct cpu_ticks *out, struct hr_err *err);

#endif
