/* load.h: the load probe (/proc/loadavg plus the number of online CPUs), and
 * its pure parsers, which the unit tests call directly on captured files. */
#ifndef HR_PROBE_LOAD_H
#define HR_PROBE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "probe.h"

extern const struct probe probe_load;

/* Bits of struct load_avg.have: which fields were understood. */
#define LOAD_HAVE_LOAD1   0x01u
#define LOAD_HAVE_LOAD5   0x02u
#define LOAD_HAVE_LOAD15  0x04u
#define LOAD_HAVE_RUNNING 0x08u
#define LOAD_HAVE_TOTAL   0x10u
#define LOAD_HAVE_ALL     0x1fu

struct load_avg {
	double load1, load5, load15;
	uint64_t procs_running; /* runnable tasks ("1" of "1/719") */
	uint64_t procs_total;   /* tasks that exist ("719" of "1/719") */
	unsigned have;          /* LOAD_HAVE_* */
};

/* Parses the text of /proc/loadavg (len bytes, need not be NUL-terminated)
 * into *out, which it clears first. Returns 0 when every field was
 * understood, -1 with err saying what was skipped otherwise; out->have
 * tells which fields are valid either way. Borrows buf. */
int load_parse_loadavg(const char *buf, size_t len, struct load_avg *out, struct hr_err *err);

/* Counts the CPUs of a kernel CPU list such as "0-3,5,7-8" (the format of
 * /sys/devices/system/cpu/online; trailing white space is allowed). Returns
 * 0 and sets *ncpu, or -1 with err filled when the list is empty or garbled
 * (then *ncpu is untouched). */
int load_parse_cpulist(const char *buf, size_t len, unsigned *ncpu, struct hr_err *err);

/* Counts the "cpuN" lines of /proc/stat text (the kernel prints one per
 * online CPU). Returns 0 and sets *ncpu, or -1 with err filled when there
 * is none. */
int load_count_stat_cpus(const char *buf, size_t len, unsigned *ncpu, struct hr_err *err);

#endif
