/* load.c: the load probe. Reports the kernel's load averages and task counts
 * from /proc/loadavg together with the number of online CPUs, so that a load
 * can be judged against the machine it runs on. One sample, instance "".
 * Formats: Documentation/filesystems/proc.rst (loadavg, stat) and
 * Documentation/admin-guide/cputopology.rst (the "online" CPU list). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "load.h"
#include "log.h"
#include "util.h"

/* /proc/loadavg is one short line; /proc/stat grows with the CPU count and
 * its "intr" line, so it gets the general cap. */
#define LOAD_LOADAVG_CAP 4096
/* A CPU list of every other CPU of a 8192-CPU machine still fits. */
#define LOAD_CPULIST_MAX 32768
/* More CPUs than this in one range is garbage, not a machine. */
#define LOAD_CPU_ID_MAX (1u << 20)

struct load_state {
	const char *root;
	struct hr_complain loadavg; /* /proc/loadavg unreadable or garbled */
	struct hr_complain ncpu;    /* no CPU count from either source */
	struct hr_complain online;  /* the online list exists but is garbled */
};

static const char *const load_allowed[] = { "interval", NULL };

int load_parse_loadavg(const char *buf, size_t len, struct load_avg *out, struct hr_err *err)
{
	static const unsigned load_bits[3] = { LOAD_HAVE_LOAD1, LOAD_HAVE_LOAD5, LOAD_HAVE_LOAD15 };
	struct hr_fields it;
	const char *f, *slash, *nl;
	size_t flen, i;
	double *loads[3];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	loads[0] = &out->load1;
	loads[1] = &out->load5;
	loads[2] = &out->load15;
	/* Only the first line counts; a trailing newline or junk after it is
	 * not ours to judge. */
	nl = memchr(buf, '\n', len);
	if (nl != NULL)
		len = (size_t)(nl - buf);
	hr_fields_init(&it, buf, len);
	for (i = 0; i < 3; i++) {
		double v;

		if (!hr_fields_next(&it, &f, &flen))
			return hr_err_set(err, "ends before field %zu of 4", i + 1);
		if (hr_parse_double(f, flen, &v) < 0 || v < 0) {
			hr_err_set(err, "field %zu: cannot parse load \"%.*s\"", i + 1,
				   (int)(flen > 32 ? 32 : flen), f);
			rc = -1;
			continue;
		}
		*loads[i] = v;
		out->have |= load_bits[i];
	}
	/* Fourth field: "running/total" scheduling entities. */
	if (!hr_fields_next(&it, &f, &flen))
		return hr_err_set(err, "ends before field 4 of 4");
	slash = memchr(f, '/', flen);
	if (slash == NULL) {
		return hr_err_set(err, "field 4: expected running/total, got \"%.*s\"",
				  (int)(flen > 32 ? 32 : flen), f);
	}
	if (hr_parse_u64(f, (size_t)(slash - f), &out->procs_running) == 0)
		out->have |= LOAD_HAVE_RUNNING;
	if (hr_parse_u64(slash + 1, (size_t)(f + flen - slash - 1), &out->procs_total) == 0)
		out->have |= LOAD_HAVE_TOTAL;
	if ((out->have & (LOAD_HAVE_RUNNING | LOAD_HAVE_TOTAL)) !=
	    (LOAD_HAVE_RUNNING | LOAD_HAVE_TOTAL)) {
		hr_err_set(err, "field 4: cannot parse running/total \"%.*s\"",
			   (int)(flen > 32 ? 32 : flen), f);
		rc = -1;
	}
	return rc;
}

/* Parses a CPU number of a list entry. */
static int load_cpu_id(const char *s, size_t len, uint64_t *id)
{
	return hr_parse_u64(s, len, id) == 0 && *id < LOAD_CPU_ID_MAX ? 0 : -1;
}

int load_parse_cpulist(const char *buf, size_t len, unsigned *ncpu, struct hr_err *err)
{
	const char *p = buf, *end = buf + len;
	uint64_t count = 0;

	/* The kernel ends the list with a newline. */
	while (end > p && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return hr_err_set(err, "empty CPU list");
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		const char *dash = memchr(p, '-', (size_t)(e - p));
		uint64_t lo, hi;

		if (dash == NULL) {
			if (load_cpu_id(p, (size_t)(e - p), &lo) < 0)
				goto bad;
			hi = lo;
		} else if (load_cpu_id(p, (size_t)(dash - p), &lo) < 0 ||
			   load_cpu_id(dash + 1, (size_t)(e - dash - 1), &hi) < 0 || hi < lo) {
			goto bad;
		}
		count += hi - lo + 1;
		if (count > LOAD_CPU_ID_MAX)
			goto bad;
		if (comma == NULL)
			break;
		p = comma + 1;
		if (p == end)
			goto bad; /* a trailing comma */
	}
	*ncpu = (unsigned)count;
	return 0;
bad:
	return hr_err_set(err, "cannot parse CPU list \"%.*s\"",
			  (int)(end - buf > 64 ? 64 : end - buf), buf);
}

int load_count_stat_cpus(const char *buf, size_t len, unsigned *ncpu, struct hr_err *err)
{
	struct hr_lines it;
	const char *line;
	size_t llen;
	unsigned n = 0;

	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		/* "cpuN ..." per online CPU; "cpu " is the aggregate. */
		if (llen > 3 && memcmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9')
			n++;
	}
	if (n == 0)
		return hr_err_set(err, "no cpuN lines");
	*ncpu = n;
	return 0;
}

/* The online CPU count: /sys/devices/system/cpu/online when it exists and
 * parses, else the cpuN lines of /proc/stat, which the kernel prints for
 * online CPUs only (containers and old kernels may lack the sysfs file). */
static int load_read_ncpu(struct load_state *st, unsigned *ncpu)
{
	char list[LOAD_CPULIST_MAX];
	struct hr_err err = { { 0 } };
	char *buf = NULL;
	size_t len;
	int rc = -1;

	if (hr_read_attr(st->root, "/sys/devices/system/cpu/online", list, sizeof(list), &err) == 0) {
		if (load_parse_cpulist(list, strlen(list), ncpu, &err) == 0) {
			hr_complain_clear(&st->online, "probe load: /sys/devices/system/cpu/online: readable again");
			rc = 0;
			goto out;
		}
		hr_complain(&st->online, "probe load: /sys/devices/system/cpu/online: %s; "
			    "counting the cpuN lines of /proc/stat instead", err.msg);
	} else {
		hr_log_debug("probe load: %s; counting the cpuN lines of /proc/stat", err.msg);
	}
	if (hr_read_file(st->root, "/proc/stat", &buf, &len, HR_FILE_CAP, &err) < 0) {
		hr_complain(&st->ncpu, "probe load: no online CPU count: %s", err.msg);
		goto out;
	}
	if (load_count_stat_cpus(buf, len, ncpu, &err) < 0) {
		hr_complain(&st->ncpu, "probe load: no online CPU count: /proc/stat: %s", err.msg);
		goto out;
	}
	rc = 0;
out:
	if (rc == 0)
		hr_complain_clear(&st->ncpu, "probe load: online CPU count available again");
	free(buf);
	return rc;
}

static int load_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		      void **state, struct hr_errs *errs)
{
	struct load_state *st;

	if (hr_cfg_object(cfg, path, load_allowed, errs) < 0)
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

static int load_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct load_state *st = state;
	struct hr_err perr = { { 0 } };
	struct load_avg avg;
	struct hr_sample s;
	unsigned ncpu;
	char *buf = NULL;
	size_t len;
	int have_ncpu;

	memset(&avg, 0, sizeof(avg));
	if (hr_read_file(st->root, "/proc/loadavg", &buf, &len, LOAD_LOADAVG_CAP, &perr) < 0) {
		hr_complain(&st->loadavg, "probe load: %s", perr.msg);
	} else if (load_parse_loadavg(buf, len, &avg, &perr) < 0) {
		hr_complain(&st->loadavg, "probe load: /proc/loadavg: %s", perr.msg);
	} else {
		hr_complain_clear(&st->loadavg, "probe load: /proc/loadavg: readable again");
	}
	free(buf);
	have_ncpu = load_read_ncpu(st, &ncpu) == 0;

	if (avg.have == 0 && !have_ncpu)
		return hr_err_set(err, "probe load: neither /proc/loadavg nor a CPU count could be read");
	hr_sample_init(&s, "load", "");
	if (avg.have & LOAD_HAVE_LOAD1)
		hr_sample_set(&s, "load1", avg.load1);
	if (avg.have & LOAD_HAVE_LOAD5)
		hr_sample_set(&s, "load5", avg.load5);
	if (avg.have & LOAD_HAVE_LOAD15)
		hr_sample_set(&s, "load15", avg.load15);
	if (have_ncpu)
		hr_sample_set(&s, "ncpu", (double)ncpu);
	if (avg.have & LOAD_HAVE_RUNNING)
		hr_sample_set(&s, "procs_running", (double)avg.procs_running);
	if (avg.have & LOAD_HAVE_TOTAL)
		hr_sample_set(&s, "procs_total", (double)avg.procs_total);
	hr_sink_put(sink, &s);
	return 0;
}

static void load_teardown(void *state)
{
	free(state);
}

const struct probe probe_load = {
	.name = "load",
	.core = 1,
	.setup = load_setup,
	.read = load_read,
	.teardown = load_teardown,
};
