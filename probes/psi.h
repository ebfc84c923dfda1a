/* psi.h: the psi probe (pressure stall information of /proc/pressure/{cpu,
 * io,memory}) and its pure parser, which the unit tests call directly. */
#ifndef HR_PROBE_PSI_H
#define HR_PROBE_PSI_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "probe.h"

extern const struct probe probe_psi;

/* Bits of struct psi_line.have. */
#define PSI_HAVE_AVG10  0x01u
#define PSI_HAVE_AVG60  0x02u
#define PSI_HAVE_AVG300 0x04u
#define PSI_HAVE_TOTAL  0x08u

/* One "some" or "full" line. */
struct psi_line {
	double avg10, avg60, avg300; /* percent of wall time stalled */
	uint64_t total;              /* µs stalled since boot */
	unsigned have;               /* PSI_HAVE_*; 0: the line was absent */
};

struct psi_pressure {
	struct psi_line some, full;
};

/* Parses the text of one /proc/pressure file (len bytes, need not be
 * NUL-terminated) into *out, which it clears first. Unknown lines and keys
 * are skipped (later kernels may add some). Returns 0 when everything it
 * uses was understood, -1 with err naming the (last) part it skipped
 * otherwise; the have bits tell what is valid either way. Borrows buf. */
int psi_parse(const char *buf, size_t len, struct psi_pressure *out, struct hr_err *err);

#endif
