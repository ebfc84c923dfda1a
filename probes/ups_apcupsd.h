/* ups_apcupsd.h: the apcupsd half of the ups probe. A client of apcupsd's
 * NIS server (the "status" command that apcaccess sends), the decoder of the
 * length-framed records it answers with, and the parser that turns the
 * status text into the ups values and labels of DESIGN.md. probes/ups.c
 * drives it; the pure functions are public for the unit tests and fuzzer. */
#ifndef HR_UPS_APCUPSD_H
#define HR_UPS_APCUPSD_H

#include <stddef.h>

#include "err.h"
#include "sample.h"

#define UPS_APCUPSD_PORT "3551"

/* Longest record accepted. apcupsd formats each status line into a
 * MAXSTRING (256 byte) buffer, so anything longer is not apcupsd. */
#define UPS_APCUPSD_RECORD_MAX 512

/* Incremental decoder of one NIS reply: records of a 2-byte big-endian
 * length followed by that many bytes of text, ended by a zero-length
 * record. Bytes may arrive split anywhere. */
struct ups_apcupsd_nis {
	char *text;        /* the records' bytes, concatenated, NUL-terminated
			    * (NULL until the first byte); freed by _nis_free */
	size_t len;        /* bytes in text, not counting the NUL */
	size_t cap;
	size_t max_bytes;  /* cap on the raw reply, length words included */
	size_t seen;       /* raw bytes consumed so far */
	unsigned records;  /* non-empty records decoded */
	unsigned char hdr[2];
	unsigned hdr_have; /* bytes of the current length word seen */
	size_t rec_left;   /* bytes of the current record still to come */
	int done;          /* the zero-length record was seen */
	int failed;        /* a framing error was reported; sticky */
};

/* Starts an empty decoder that accepts at most max_bytes of reply. */
void ups_apcupsd_nis_init(struct ups_apcupsd_nis *d, size_t max_bytes);

/* Feeds n bytes. Sets *used to how many of them belong to the reply (bytes
 * after the end record are not used). Returns 1 once the end record has
 * been seen, 0 when more bytes are needed, -1 (err filled; and again on
 * every later call) when the bytes are not a NIS reply: a record longer
 * than UPS_APCUPSD_RECORD_MAX, a reply over max_bytes, out of memory. */
int ups_apcupsd_nis_feed(struct ups_apcupsd_nis *d, const void *buf, size_t n, size_t *used,
			 struct hr_err *err);

/* Frees the decoder's text; d may be NULL. */
void ups_apcupsd_nis_free(struct ups_apcupsd_nis *d);

/* Parses status text as apcaccess prints it ("KEY      : value" lines) and
 * adds to s (already made by hr_sample_init; borrowed):
 * - label status: the STATUS text; label model: MODEL, else APCMODEL;
 * - online, on_battery, low_battery, replace_battery, overload (0/1) from
 *   the STATUS words ONLINE ONBATT LOWBATT REPLACEBATT OVERLOAD (CAL, TRIM,
 *   BOOST, NOBATT, SLAVE and SLAVEDOWN add no flag of their own and stay in
 *   the status label); for "SHUTTING DOWN", which replaces the words, from
 *   the UPS bits of STATFLAG when it is there; none when the status has no
 *   known word;
 * - charge_percent (BCHARGE), runtime_s (TIMELEFT minutes x 60),
 *   load_percent (LOADPCT), input_voltage (LINEV), each only when its line
 *   holds a number with the expected unit; "N/A" and absent lines are
 *   left out.
 * COMMLOST means apcupsd cannot talk to the UPS and what it still prints is
 * stale: only the status and model labels are added.
 * Returns -1 (err filled, s untouched) when the text has no STATUS line.
 * Otherwise returns how many lines were skipped (not "KEY : value", a key
 * seen twice, or a value of a known key that is not a strict number with
 * its unit) and sets err to "" or to a note about the first of them. */
int ups_apcupsd_parse(const char *text, size_t len, struct hr_sample *s, struct hr_err *err);

/* Asks apcupsd's NIS server at host:port for "status" and puts the values
 * and labels described at ups_apcupsd_parse into s (made by the caller with
 * hr_sample_init; borrowed). The connection must be made within
 * connect_timeout seconds and the whole reply must arrive within
 * read_timeout seconds after that, in at most max_bytes; so a dead, slow or
 * lying server costs at most the sum. Returns 0 (err then holds "" or,
 * without the HOST:PORT prefix, the note of ups_apcupsd_parse about skipped
 * lines), or -1 with err filled ("HOST:PORT: ...") and s untouched: no
 * connection, timeout, a reply without its end record, a framing error, or
 * no STATUS line. */
int ups_apcupsd_query(const char *host, const char *port, double connect_timeout,
		      double read_timeout, size_t max_bytes, struct hr_sample *s,
		      struct hr_err *err);

#endif
