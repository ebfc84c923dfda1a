/* wire.h: the sample document of DESIGN.md, the one format the agent prints
 * with --once --json, spools and ships to the central:
 * {"host": ..., "agent": "headroom-agent/VERSION", "seq": N, "interval": S,
 *  "samples": [{"t": UNIX, "probe": ..., "instance": ..., "values": {...},
 *               "labels": {...}}]}
 * A sample whose instance has an interval of its own (an exec check) also
 * carries "step": SECONDS; the others go by the document's "interval". */
#ifndef HR_WIRE_H
#define HR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sample.h"

/* Encodes n samples as one document. Returns a new NUL-terminated string
 * (caller frees with free()), or NULL with err filled. pretty: indented. */
char *hr_wire_encode(const char *host, uint64_t seq, unsigned interval,
		     const struct hr_sample *samples, size_t n, int pretty, struct hr_err *err);

#endif
