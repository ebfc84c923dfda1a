/* psi.c: the psi probe. Reports pressure stall information: the share of
 * time in which some (or all) runnable tasks waited for CPU, I/O or memory,
 * averaged over 10 s and 60 s, plus the "some" stall time in µs as a
 * counter. One sample per resource (instances cpu, io, memory). Kernels
 * without PSI (before 4.20, CONFIG_PSI=n, or booted with psi=0) have no
 * /proc/pressure: then the probe reports nothing and says so once.
 * Format: Documentation/accounting/psi.rst. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "log.h"
#include "psi.h"
#include "util.h"

#define PSI_FILE_CAP 4096

static const char *const psi_resources[] = { "cpu", "io", "memory" };
#define PSI_NRES (sizeof(psi_resources) / sizeof(psi_resources[0]))

struct psi_state {
	const char *root;
	int unsupported_told;                /* "no /proc/pressure" logged */
	struct hr_complain file[PSI_NRES];   /* per resource file */
};

static const char *const psi_allowed[] = { "interval", NULL };

/* Parses "avg10=0.18 avg60=0.34 avg300=0.10 total=159886802". */
static int psi_parse_line(const char *s, size_t len, unsigned lineno, struct psi_line *l,
			  struct hr_err *err)
{
	static const struct {
		const char *key;
		unsigned bit;
	} keys[] = {
		{ "avg10", PSI_HAVE_AVG10 },
		{ "avg60", PSI_HAVE_AVG60 },
		{ "avg300", PSI_HAVE_AVG300 },
		{ "total", PSI_HAVE_TOTAL },
	};
	double *avg[] = { &l->avg10, &l->avg60, &l->avg300 };
	struct hr_fields it;
	const char *f;
	size_t flen, i;
	int rc = 0;

	hr_fields_init(&it, s, len);
	while (hr_fields_next(&it, &f, &flen)) {
		const char *eq = memchr(f, '=', flen);
		const char *v;
		size_t klen, vlen;
		int bad;

		if (eq == NULL)
			continue;
		klen = (size_t)(eq - f);
		v = eq + 1;
		vlen = flen - klen - 1;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (hr_field_eq(f, klen, keys[i].key))
				break;
		if (i == sizeof(keys) / sizeof(keys[0]) || (l->have & keys[i].bit))
			continue;
		if (keys[i].bit == PSI_HAVE_TOTAL)
			bad = hr_parse_u64(v, vlen, &l->total) < 0;
		else
			bad = hr_parse_double(v, vlen, avg[i]) < 0 || *avg[i] < 0;
		if (bad) {
			hr_err_set(err, "line %u: cannot parse \"%.*s\"", lineno,
				   (int)(flen > 40 ? 40 : flen), f);
			rc = -1;
			continue;
		}
		l->have |= keys[i].bit;
	}
	return rc;
}

int psi_parse(const char *buf, size_t len, struct psi_pressure *out, struct hr_err *err)
{
	struct hr_lines it;
	const char *line, *f;
	size_t llen, flen;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		struct hr_fields fit;
		struct psi_line *l;

		hr_fields_init(&fit, line, llen);
		if (!hr_fields_next(&fit, &f, &flen))
			continue;
		if (hr_field_eq(f, flen, "some"))
			l = &out->some;
		else if (hr_field_eq(f, flen, "full"))
			l = &out->full;
		else
			continue;
		if (l->have != 0)
			continue; /* a repeated line: the first counts */
		if (psi_parse_line(fit.p, (size_t)(fit.end - fit.p), it.lineno, l, err) < 0)
			rc = -1;
	}
	return rc;
}

static int psi_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	struct psi_state *st;

	if (hr_cfg_object(cfg, path, psi_allowed, errs) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	*state = st;
	return 0;
}

/* Is there a /proc/pressure at all? The kernel creates it only when PSI is
 * built in and enabled, so its absence means "unsupported", not "broken". */
static int psi_supported(const struct psi_state *st)
{
	struct hr_err err;
	struct stat sb;
	char path[4096];

	if (hr_path(path, sizeof(path), st->root, "/proc/pressure", &err) < 0)
		return 1; /* let the reads report the problem */
	return stat(path, &sb) == 0 || errno != ENOENT;
}

/* Reads one resource file; returns 1 when a sample was put. */
static int psi_read_one(struct psi_state *st, size_t r, struct hr_sink *sink)
{
	struct hr_err perr = { { 0 } };
	struct psi_pressure p;
	struct hr_sample s;
	char path[32];
	char *buf = NULL;
	size_t len;
	int parsed;

	snprintf(path, sizeof(path), "/proc/pressure/%s", psi_resources[r]);
	if (hr_read_file(st->root, path, &buf, &len, PSI_FILE_CAP, &perr) < 0) {
		hr_complain(&st->file[r], "probe psi: %s", perr.msg);
		return 0;
	}
	parsed = psi_parse(buf, len, &p, &perr);
	free(buf);
	if (parsed < 0)
		hr_complain(&st->file[r], "probe psi: %s: %s", path, perr.msg);
	else if (p.some.have == 0 && p.full.have == 0)
		hr_complain(&st->file[r], "probe psi: %s: no pressure values", path);
	else
		hr_complain_clear(&st->file[r], "probe psi: %s: readable again", path);

	hr_sample_init(&s, "psi", psi_resources[r]);
	if (p.some.have & PSI_HAVE_AVG10)
		hr_sample_set(&s, "some_avg10", p.some.avg10);
	if (p.some.have & PSI_HAVE_AVG60)
		hr_sample_set(&s, "some_avg60", p.some.avg60);
	/* The "full" line of cpu exists since Linux 5.13 (zero system-wide);
	 * before that it is absent, and so are these values. */
	if (p.full.have & PSI_HAVE_AVG10)
		hr_sample_set(&s, "full_avg10", p.full.avg10);
	if (p.full.have & PSI_HAVE_AVG60)
		hr_sample_set(&s, "full_avg60", p.full.avg60);
	if (p.some.have & PSI_HAVE_TOTAL)
		hr_sample_set(&s, "some_total", (double)p.some.total);
	if (s.nvalues == 0)
		return 0;
	hr_sink_put(sink, &s);
	return 1;
}

static int psi_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct psi_state *st = state;
	size_t r;
	int put = 0;

	if (!psi_supported(st)) {
		if (!st->unsupported_told)
			hr_log_info("probe psi: no /proc/pressure (kernel without PSI, or booted "
				    "with psi=0); no pressure samples");
		st->unsupported_told = 1;
		return 0;
	}
	st->unsupported_told = 0;
	for (r = 0; r < PSI_NRES; r++)
		put += psi_read_one(st, r, sink);
	if (put == 0)
		return hr_err_set(err, "probe psi: none of /proc/pressure/{cpu,io,memory} could be read");
	return 0;
}

static void psi_teardown(void *state)
{
	free(state);
}

const struct probe probe_psi = {
	.name = "psi",
	.core = 1,
	.setup = psi_setup,
	.read = psi_read,
	.teardown = psi_teardown,
};
