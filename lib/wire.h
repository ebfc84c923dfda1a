/* wire.h: the sample document of DESIGN.md, the one format the agent prints
 * with --once --json, spools and ships to the central:
 * {"host": ..., "agent": "headroom-agent/VERSION", "seq": N, "interval": S,
 *  "samples": [{"t": UNIX, "probe": ..., "instance": ..., "values": {...},
 *               "labels": {...}}]}
 * A sample whose instance has an interval of its own (an exec check) also
 * carries "step": SECONDS; the others go by the document's "interval".
 * The encoder writes it; the decoder is the one strict gate through which
 * the central's ingest and its SSH pull take it in. */
#ifndef HR_WIRE_H
#define HR_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "sample.h"

#define HR_HOST_MAX 254     /* host name, incl. NUL (DNS: 253) */
#define HR_AGENT_MAX 64     /* "agent" string, incl. NUL */
#define HR_WIRE_MAX_DEPTH 16 /* deeper nesting is refused before parsing */

/* Encodes n samples as one document. Returns a new NUL-terminated string
 * (caller frees with free()), or NULL with err filled. pretty: indented. */
char *hr_wire_encode(const char *host, uint64_t seq, unsigned interval,
		     const struct hr_sample *samples, size_t n, int pretty, struct hr_err *err);

/* What the decoder accepts. A field left 0 takes its default. */
struct hr_wire_limits {
	size_t max_samples;    /* samples per document (100000) */
	unsigned max_future_s; /* how far t may lie ahead of now (300) */
	time_t min_time;       /* earliest t (946684800, 2000-01-01) */
	unsigned max_interval; /* largest "interval" and "step" (86400) */
};

#define HR_WIRE_LIMITS_DEFAULT { .max_samples = 100000, .max_future_s = 300, \
				 .min_time = 946684800, .max_interval = 86400 }

/* One decoded document. interval is 0 when the document does not say;
 * agent is "" then. The samples have t set and truncated 0; step is 0 unless
 * the sample carried one. */
struct hr_batch {
	char host[HR_HOST_MAX];
	char agent[HR_AGENT_MAX];
	uint64_t seq;
	unsigned interval;
	struct hr_sample *samples;
	size_t n;
};

/* Decodes and validates the len bytes at text (need not be NUL-terminated;
 * nothing past len is read) as one sample document, all or nothing: on any
 * problem it returns -1, leaves out empty (samples NULL, n 0) and puts ONE
 * message into err that starts with the JSON path, e.g.
 * "samples[3].values.load1: not a finite number", "(top): not valid JSON
 * (byte 17)" (byte: offset from the start, counting from 0). lim NULL: the
 * defaults. now: the clock that "in the future" is measured against.
 * Returns 0 with out filled; the caller frees it with hr_batch_free(). */
int hr_wire_decode(const char *text, size_t len, const struct hr_wire_limits *lim,
		   time_t now, struct hr_batch *out, struct hr_err *err);

/* Frees the samples of a batch and empties it; safe to call twice, and on a
 * batch that hr_wire_decode() failed to fill. b may be NULL. */
void hr_batch_free(struct hr_batch *b);

/* Is NAME a valid host name, safe as a folder name under DATA/rrd/:
 * letters, digits, '-' and '.', at most 253 characters, labels of 1-63
 * characters (no empty label, so no "..", no leading or trailing '.'), not
 * starting with '-'? NAME is NUL-terminated; borrowed. */
int hr_host_valid(const char *name);

#endif
