/* exec.h: the exec probe. It runs configured Nagios-compatible plugins
 * (check_load, check_disk, ...) with a timeout and an output cap, maps the
 * exit code to a state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and the
 * plugin's performance data to values. The output parser and the mapping of
 * perfdata labels to value names are public for the unit tests and the
 * libFuzzer target; they do no I/O. */
#ifndef HR_PROBE_EXEC_H
#define HR_PROBE_EXEC_H

#include <stddef.h>

#include "probe.h"
#include "sample.h"

/* One sample per check that ran, instance = the check's name, step = its own
 * interval (0 without one). Values: state (exit code 0-3 as is; any other
 * exit code, a signal, a timeout, output over max_output or a program that
 * cannot be started give 3) and one value per known perfdata item
 * (exec_sample_perf). Labels: "output", the first line's text; "error", why
 * the state is 3 when the plugin did not say so itself (hr_run_describe, and
 * standard error's first line). Output cut by a timeout, the cap or a signal
 * gives no values: a cut number would be a wrong one. */
extern const struct probe probe_exec;

/* Defaults and bounds of a check's config. */
#define EXEC_TIMEOUT_DEFAULT 10.0
#define EXEC_TIMEOUT_MIN 0.1
#define EXEC_TIMEOUT_MAX 300.0
#define EXEC_OUTPUT_DEFAULT 65536.0
#define EXEC_OUTPUT_MIN 256.0
#define EXEC_OUTPUT_MAX 16777216.0
/* Checks run at the same time within one read; more wait for a free slot. */
#define EXEC_PARALLEL 8

#define EXEC_LABEL_MAX 128 /* a perfdata label kept, incl. NUL (cut beyond) */
#define EXEC_UOM_MAX 8     /* a unit of measurement, incl. NUL */
#define EXEC_PERF_MAX 64   /* perfdata items kept per output */

/* What a perfdata item's unit says about its value. */
enum exec_unit {
	EXEC_UNIT_NONE,    /* no unit: a number of things */
	EXEC_UNIT_SECONDS, /* s, ms, us: value converted to seconds */
	EXEC_UNIT_PERCENT, /* %: value as is */
	EXEC_UNIT_BYTES,   /* B, KB, MB, GB, TB (and KiB ... TiB): converted to
			    * bytes, 1024 based */
	EXEC_UNIT_COUNTER, /* c: a continuous counter, value as is */
	EXEC_UNIT_OTHER,   /* a unit the plugin guidelines do not define: value
			    * as is */
};

/* One item 'label'=value[UOM];[warn];[crit];[min];[max]. Thresholds, min and
 * max are not kept. */
struct exec_perf {
	char label[EXEC_LABEL_MAX]; /* quotes undone ('' gives '), cut when longer */
	int known;                  /* 0: the value was "U" (unknown) */
	double value;               /* finite; in base units (see unit) */
	enum exec_unit unit;
	char uom[EXEC_UOM_MAX];     /* the unit as written, "" when none */
};

/* A plugin's output, as the plugin guidelines describe it: the first line
 * "TEXT|PERFDATA", then long text lines; perfdata continues after the first
 * '|' of the long text, up to the end. */
struct exec_output {
	char text[HR_LABEL_VALUE_MAX]; /* the first line's text (before '|'),
					* trimmed, bytes other than printable
					* ASCII replaced by '?', cut to fit */
	struct exec_perf items[EXEC_PERF_MAX];
	size_t count;
	size_t dropped;        /* valid items past EXEC_PERF_MAX */
	size_t bad;            /* items skipped: not 'label'=value[UOM][;...] */
	char first_bad[48];    /* the first of them, cut and made printable */
	size_t odd_units;      /* items with an EXEC_UNIT_OTHER unit */
	char first_odd[EXEC_UOM_MAX]; /* the first such unit, made printable */
};

/* Parses one perfdata item of exactly len bytes into p. The value is a
 * decimal number with an optional sign, fraction and exponent ("1.5",
 * "-3", "2e-3"; no commas, no "nan"/"inf"/hex) or "U"; the unit, when
 * present, is 1-7 letters or '%'. Returns 0, or -1 when the item is not
 * of that form (p is then undefined). */
int exec_parse_perf_item(const char *s, size_t len, struct exec_perf *p);

/* Parses len bytes of plugin output (NUL bytes allowed) into out, which it
 * initialises. Bad items are skipped and counted; the rest are kept. Never
 * fails. */
void exec_parse_output(const char *buf, size_t len, struct exec_output *out);

/* Makes the value name of a perfdata label into dst (HR_NAME_MAX bytes): the
 * label with every run of characters outside [A-Za-z0-9] made one '_',
 * leading and trailing '_' dropped ("/var/lib" gives "var_lib"; "/" gives
 * "root", a label with nothing usable "value"), cut to 19 characters. A
 * counter ends in "_total" (what the metric schema reads as a counter); any
 * other value that would end so ends in "_tot" instead. When the name is
 * "state" or already in s, "_2", "_3", ... is added before any "_total".
 * dst is always a valid name (hr_name_valid). Borrows label and s. */
void exec_value_name(const char *label, enum exec_unit unit, const struct hr_sample *s,
		     char *dst);

/* Adds every known perfdata value of o to s under exec_value_name(). Values
 * that do not fit count in s->truncated. Borrows o. */
void exec_sample_perf(const struct exec_output *o, struct hr_sample *s);

#endif
