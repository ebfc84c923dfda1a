/* mem.h: the mem probe (/proc/meminfo: memory and swap size and use, in
 * bytes) and its pure parser, which the unit tests call directly on captured
 * files. */
#ifndef HR_PROBE_MEM_H
#define HR_PROBE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "probe.h"

extern const struct probe probe_mem;

/* Bits of struct mem_info.have. */
#define MEM_HAVE_TOTAL      0x01u
#define MEM_HAVE_AVAILABLE  0x02u
#define MEM_HAVE_SWAP_TOTAL 0x04u
#define MEM_HAVE_SWAP_FREE  0x08u

/* The fields of /proc/meminfo the probe uses, in bytes. */
struct mem_info {
	uint64_t total;      /* MemTotal */
	uint64_t available;  /* MemAvailable (Linux >= 3.14) */
	uint64_t swap_total; /* SwapTotal */
	uint64_t swap_free;  /* SwapFree */
	unsigned have;       /* MEM_HAVE_* */
};

/* Parses /proc/meminfo text (len bytes, need not be NUL-terminated) into
 * *out, which it clears first. "Key: N kB" lines give the fields; the
 * "Mem:" / "Swap:" byte table that Linux 2.4 printed first is used only for
 * what the key lines lack. Returns 0 when every line it uses was understood,
 * -1 with err naming the (last) line it skipped otherwise; out->have tells
 * which fields are valid either way. A missing field is not an error here.
 * Borrows buf. */
int mem_parse_meminfo(const char *buf, size_t len, struct mem_info *out, struct hr_err *err);

#endif
