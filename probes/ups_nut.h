/* ups_nut.h: the NUT half of the ups probe. A client of upsd's network
 * protocol (docs/net-protocol.txt of Network UPS Tools: LIST VAR, USERNAME,
 * PASSWORD, STARTTLS), the pure parser of its replies, the parser of
 * dummy-ups .dev files (the format of `upsc` dumps), and the mapper that
 * turns NUT variables into the ups values and labels of DESIGN.md.
 * probes/ups.c drives it; the pure functions are public for the unit tests
 * and the fuzzer. */
#ifndef HR_UPS_NUT_H
#define HR_UPS_NUT_H

#include <stddef.h>

#include "err.h"
#include "sample.h"

#define UPS_NUT_PORT "3493"

#define UPS_NUT_NAME_MAX 64    /* variable or ups name, incl. NUL */
#define UPS_NUT_VALUE_MAX 256  /* a value, incl. NUL (upsd: ST_MAX_VALUE_LEN) */
#define UPS_NUT_LINE_MAX 1024  /* longest reply line accepted */
#define UPS_NUT_VARS_MAX 1024  /* variables kept per reply */

struct ups_nut_var {
	char name[UPS_NUT_NAME_MAX];
	char value[UPS_NUT_VALUE_MAX];
};

/* A variable table: what one LIST VAR reply or one .dev file said. */
struct ups_nut_vars {
	struct ups_nut_var *items;
	size_t count;
	size_t cap;
	unsigned skipped;   /* lines or variables not understood or not kept */
	unsigned first_bad; /* 1-based line number of the first skipped line, 0: none */
};

void ups_nut_vars_init(struct ups_nut_vars *v);
/* Frees the items; v may be NULL. */
void ups_nut_vars_free(struct ups_nut_vars *v);
/* The value of variable NAME (borrowed), or NULL. */
const char *ups_nut_vars_get(const struct ups_nut_vars *v, const char *name);

/* Splits one protocol line [line, line+len) into at most max words the way
 * upsd quotes them: words are separated by spaces or tabs, a word may be
 * "quoted", and a backslash makes the next character literal (\" and \\).
 * A word starting with '#' outside quotes ends the line (a comment, as in
 * dummy-ups files). Each word is written NUL-terminated into words[i] of
 * wsize bytes. Returns the number of words, or -1 when a word does not fit,
 * there are more than max words, a quote is not closed or the line holds a
 * NUL byte. */
int ups_nut_split(const char *line, size_t len, char (*words)[UPS_NUT_VALUE_MAX], int max);

/* Parses upsd's whole answer to "LIST VAR UPS" (buf of len bytes, not
 * NUL-terminated): "BEGIN LIST VAR UPS", "VAR UPS NAME "VALUE"" lines and
 * "END LIST VAR UPS". VAR lines for another ups and lines it does not know
 * are skipped (counted in vars->skipped). Returns 0 once the END line is
 * read, -1 with err filled when the answer is "ERR CODE" (err says
 * "upsd: ERR CODE"), does not begin with the BEGIN line, has a line over
 * UPS_NUT_LINE_MAX, or ends before END (truncated). vars is filled with
 * what was read (the caller frees it with ups_nut_vars_free in any case). */
int ups_nut_parse_list(const char *buf, size_t len, const char *ups, struct ups_nut_vars *vars,
		       struct hr_err *err);

/* Is the reply in buf complete: does it hold an "END LIST VAR" line or
 * begin with an "ERR" line? 1 or 0. Used to stop reading. */
int ups_nut_reply_done(const char *buf, size_t len);

/* Parses a dummy-ups .dev (or .seq) file: "name: value" lines, '#'
 * comments (whole lines and the nut-ddl "#BAD: ..." / "#COMMENT: ..."
 * annotations after a value), words joined by one space as dummy-ups
 * serves them. "TIMER n" lines of a .seq are skipped, so a later value of a
 * variable replaces an earlier one. Lines it does not understand are
 * counted in vars->skipped. Returns 0, or -1 (err filled) when not one
 * variable was found. */
int ups_nut_parse_dev(const char *buf, size_t len, struct ups_nut_vars *vars,
		      struct hr_err *err);

/* Status words of ups.status, as a bit set (UPS_NUT_ST_*). */
enum {
	UPS_NUT_ST_OL = 1 << 0, UPS_NUT_ST_OB = 1 << 1, UPS_NUT_ST_LB = 1 << 2,
	UPS_NUT_ST_HB = 1 << 3, UPS_NUT_ST_RB = 1 << 4, UPS_NUT_ST_CHRG = 1 << 5,
	UPS_NUT_ST_DISCHRG = 1 << 6, UPS_NUT_ST_BYPASS = 1 << 7, UPS_NUT_ST_CAL = 1 << 8,
	UPS_NUT_ST_OFF = 1 << 9, UPS_NUT_ST_OVER = 1 << 10, UPS_NUT_ST_TRIM = 1 << 11,
	UPS_NUT_ST_BOOST = 1 << 12, UPS_NUT_ST_FSD = 1 << 13, UPS_NUT_ST_ALARM = 1 << 14,
};

/* The known words of a ups.status value, as UPS_NUT_ST_* bits; *unknown
 * (may be NULL) counts the words it does not know ("HE", "ECO"). */
unsigned ups_nut_status_bits(const char *status, unsigned *unknown);

/* Adds to s (made by the caller with hr_sample_init; borrowed) what vars
 * say, all except reachable:
 * - label status: ups.status (words joined by one space); label model:
 *   ups.model, else device.model, with ups.mfr (else device.mfr) in front
 *   unless the model already begins with it;
 * - online (OL), on_battery (OB), low_battery (LB, or FSD: upsd's forced
 *   shutdown, which upsmon treats as "on battery, low battery"),
 *   replace_battery (RB), overload (OVER), each 0/1, when ups.status holds
 *   at least one known word. HB, CHRG, DISCHRG, BYPASS, CAL, OFF, TRIM,
 *   BOOST and ALARM add no flag of their own and stay in the status label;
 * - charge_percent (battery.charge), runtime_s (battery.runtime, already in
 *   seconds), load_percent (ups.load), input_voltage (input.voltage), each
 *   when the variable holds a number. A variable that is absent or not a
 *   number is left out.
 * Returns how many present variables were not numbers. */
unsigned ups_nut_map(const struct ups_nut_vars *vars, struct hr_sample *s);

/* How a NUT target is reached. Strings are borrowed. */
struct ups_nut_target {
	const char *ups;       /* ups name on upsd */
	const char *host;
	const char *port;
	const char *username;  /* NULL: no USERNAME/PASSWORD */
	const char *password;
	int starttls;          /* 1: STARTTLS, verifying against ca and host */
	const char *ca;        /* PEM file of trusted CAs; NULL: the system's */
};

/* Asks upsd for LIST VAR of t->ups and maps the answer into s (made by the
 * caller; borrowed). The connection must be made within connect_timeout
 * seconds, and the whole conversation after it (STARTTLS and the TLS
 * handshake, USERNAME, PASSWORD, LIST VAR) must end within read_timeout
 * seconds, in at most max_bytes per reply; so a dead, slow or lying server
 * costs at most the sum. A line over UPS_NUT_LINE_MAX, an ERR reply or a
 * reply without its END line fails. With starttls, a server that refuses
 * STARTTLS or presents a certificate that does not verify (against t->ca
 * and t->host) fails: there is no fallback to clear text. Returns 0, or -1
 * with err filled ("NAME@HOST:PORT: ...") and s untouched. */
int ups_nut_query(const struct ups_nut_target *t, double connect_timeout, double read_timeout,
		  size_t max_bytes, struct hr_sample *s, struct hr_err *err);

#endif
