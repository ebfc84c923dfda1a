/* cpu.c: the cpu probe. Reports the time all CPUs together spent in each
 * state since boot, from the aggregate "cpu" line of /proc/stat, converted
 * from USER_HZ ticks to seconds. The values are counters (schema.c), so the
 * archive turns them into CPU seconds per second. One sample, instance "".
 * Format: Documentation/filesystems/proc.rst, section 1.8. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "cpu.h"
#include "log.h"
#include "util.h"

struct cpu_state {
	const char *root;
	double hz;                /* USER_HZ: the unit of /proc/stat */
	struct hr_complain stat;  /* /proc/stat unreadable or garbled */
};

const char *const cpu_col_names[CPU_NCOLS] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
};

static const char *const cpu_allowed[] = { "interval", NULL };

int cpu_parse_stat(const char *buf, size_t len, struct cpu_ticks *out, struct hr_err *err)
{
	struct hr_lines it;
	struct hr_fields fit;
	const char *line, *f;
	size_t llen, flen;
	unsigned col;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		hr_fields_init(&fit, line, llen);
		if (!hr_fields_next(&fit, &f, &flen) || !hr_field_eq(f, flen, "cpu"))
			continue;
		/* The columns are positional: a garbled one is skipped without
		 * shifting the ones after it. Columns past steal (guest,
		 * guest_nice, already included in user and nice) are ignored. */
		for (col = 0; col < CPU_NCOLS && hr_fields_next(&fit, &f, &flen); col++) {
			if (hr_parse_u64(f, flen, &out->ticks[col]) < 0) {
				hr_err_set(err, "line %u: cannot parse %s \"%.*s\"", it.lineno,
					   cpu_col_names[col], (int)(flen > 32 ? 32 : flen), f);
				rc = -1;
				continue;
			}
			out->have |= 1u << col;
		}
		if (col == 0)
			return hr_err_set(err, "line %u: aggregate cpu line without values", it.lineno);
		return rc;
	}
	return hr_err_set(err, "no aggregate cpu line");
}

static int cpu_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	struct cpu_state *st;
	long hz;

	if (hr_cfg_object(cfg, path, cpu_allowed, errs) < 0)
		return -1;
	hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0) {
		hr_errs_add(errs, path, "cannot learn USER_HZ (sysconf(_SC_CLK_TCK))");
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	st->hz = (double)hz;
	*state = st;
	return 0;
}

static int cpu_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct cpu_state *st = state;
	struct hr_err perr = { { 0 } };
	struct cpu_ticks t;
	struct hr_sample s;
	char *buf = NULL;
	size_t len;
	unsigned col;
	int parsed;

	if (hr_read_file(st->root, "/proc/stat", &buf, &len, HR_FILE_CAP, &perr) < 0) {
		hr_complain(&st->stat, "probe cpu: %s", perr.msg);
		return hr_err_set(err, "probe cpu: %s", perr.msg);
	}
	parsed = cpu_parse_stat(buf, len, &t, &perr);
	free(buf);
	if (parsed < 0)
		hr_complain(&st->stat, "probe cpu: /proc/stat: %s", perr.msg);
	else
		hr_complain_clear(&st->stat, "probe cpu: /proc/stat: readable again");
	if (t.have == 0)
		return hr_err_set(err, "probe cpu: /proc/stat: %s", perr.msg);

	hr_sample_init(&s, "cpu", "");
	for (col = 0; col < CPU_NCOLS; col++)
		if (t.have & (1u << col))
			hr_sample_set(&s, cpu_col_names[col], (double)t.ticks[col] / st->hz);
	hr_sink_put(sink, &s);
	return 0;
}

static void cpu_teardown(void *state)
{
	free(state);
}

const struct probe probe_cpu = {
	.name = "cpu",
	.core = 1,
	.setup = cpu_setup,
	.read = cpu_read,
	.teardown = cpu_teardown,
};
