/* probe_cost.c: what one read of each compiled-in probe costs, in
 * microseconds of wall time, on the live system (or under --root): setup
 * without a config, one read to warm up, then N timed reads into a recording
 * sink. Then what rrdstore_write() costs per sample (creating the file, and
 * each update after), the agent's other steady-state work. Run by
 * bench/agent-footprint; a benchmark, printed and never asserted. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentstats.h"
#include "err.h"
#include "log.h"
#include "probe.h"
#include "rrdstore.h"
#include "sample.h"
#include "util.h"

#define COST_DEFAULT_N 200
#define COST_MAX_N 1000000

struct cost_opts {
	const char *root;    /* --root */
	const char *tmpdir;  /* --tmpdir: parent of the scratch folder for RRDs */
	const char *only;    /* --only: comma-separated probe names, NULL: all */
	int all;             /* --all: non-core probes too */
	unsigned long n;     /* -n: timed reads (and RRD writes) */
	unsigned step;       /* --step: RRD step of the write test */
	int rrd;             /* 0 with --no-rrd */
};

/* Timings of one thing done n times, in microseconds. */
struct cost_stats {
	double mean;
	double median;
	double min;
	double max;
};

static double cost_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cost_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts us[] in place (n > 0) and sums it up. */
static void cost_summarise(double *us, size_t n, struct cost_stats *out)
{
	double sum = 0;
	size_t i;

	qsort(us, n, sizeof(*us), cost_cmp);
	for (i = 0; i < n; i++)
		sum += us[i];
	out->mean = sum / (double)n;
	out->median = n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
	out->min = us[0];
	out->max = us[n - 1];
}

static void cost_usage(FILE *f)
{
	fprintf(f,
		"usage: probe_cost [-n N] [--root DIR] [--only LIST | --all] [--step S]\n"
		"                  [--tmpdir DIR] [--no-rrd]\n"
		"\n"
		"  -n N          timed reads per probe, and RRD writes per sample (default %d)\n"
		"  --only LIST   measure only these probes (comma-separated)\n"
		"  --all         measure the probes that are off by default too (smart,\n"
		"                ups, ...: without a config most cannot set up, and smart\n"
		"                may wake sleeping disks)\n"
		"  --root DIR    read /proc, /sys and /dev under DIR (default /)\n"
		"  --step S      RRD step in seconds for the write test (default 1)\n"
		"  --tmpdir DIR  where the scratch folder for the write test goes\n"
		"                (default $TMPDIR or /tmp); it is removed afterwards\n"
		"  --no-rrd      skip the RRD write test\n",
		COST_DEFAULT_N);
}

static int cost_parse_ulong(const char *opt, const char *arg, unsigned long lo,
			    unsigned long hi, unsigned long *out)
{
	uint64_t v;

	if (hr_parse_u64(arg, strlen(arg), &v) < 0 || v < lo || v > hi) {
		fprintf(stderr, "probe_cost: %s: expected a whole number from %lu to %lu, not \"%s\"\n",
			opt, lo, hi, arg);
		return -1;
	}
	*out = (unsigned long)v;
	return 0;
}

/* Is every name of the comma-separated list a compiled-in probe? */
static int cost_check_only(const char *list)
{
	char name[HR_PROBE_MAX];
	const char *p = list;
	int rc = 0;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == 0 || l >= sizeof(name)) {
			fprintf(stderr, "probe_cost: --only: empty or overlong probe name\n");
			rc = -1;
		} else {
			memcpy(name, p, l);
			name[l] = '\0';
			if (probe_find(name) == NULL) {
				fprintf(stderr, "probe_cost: --only: unknown probe \"%s\"\n", name);
				rc = -1;
			}
		}
		p += l;
		if (*p == ',')
			p++;
	}
	return rc;
}

static int cost_parse_opts(int argc, char **argv, struct cost_opts *o)
{
	enum { OPT_ROOT = 256, OPT_ONLY, OPT_ALL, OPT_STEP, OPT_TMPDIR, OPT_NO_RRD };
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "tmpdir", required_argument, NULL, OPT_TMPDIR },
		{ "no-rrd", no_argument, NULL, OPT_NO_RRD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	o->root = "/";
	o->only = NULL;
	o->all = 0;
	o->tmpdir = getenv("TMPDIR");
	if (o->tmpdir == NULL || o->tmpdir[0] == '\0')
		o->tmpdir = "/tmp";
	o->n = COST_DEFAULT_N;
	o->step = 1;
	o->rrd = 1;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cost_parse_ulong("-n", optarg, 1, COST_MAX_N, &o->n) < 0)
				return -1;
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_ONLY:
			o->only = optarg;
			break;
		case OPT_ALL:
			o->all = 1;
			break;
		case OPT_STEP:
			if (cost_parse_ulong("--step", optarg, 1, 86400, &v) < 0)
				return -1;
			o->step = (unsigned)v;
			break;
		case OPT_TMPDIR:
			o->tmpdir = optarg;
			break;
		case OPT_NO_RRD:
			o->rrd = 0;
			break;
		case 'h':
			cost_usage(stdout);
			exit(0);
		default:
			cost_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "probe_cost: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (o->root[0] != '/') {
		fprintf(stderr, "probe_cost: --root needs an absolute path\n");
		return -1;
	}
	if (o->only != NULL && cost_check_only(o->only) < 0)
		return -1;
	return 0;
}

/* Is NAME in the comma-separated list? */
static int cost_in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == len && strncmp(p, name, len) == 0)
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Appends the samples of rec to keep (the RRD test writes them later). */
static int cost_keep(struct hr_recsink *keep, const struct hr_recsink *rec)
{
	size_t i;

	for (i = 0; i < rec->count; i++)
		if (hr_sink_put(&keep->sink, &rec->samples[i]) < 0)
			return -1;
	return 0;
}

/* Sets one probe up, reads it once to warm up and n times timed, prints a
 * line, and keeps the last read's samples in keep. us has room for n. */
static void cost_probe(const struct probe *p, const struct probe_env *env,
		       unsigned long n, double *us, struct hr_recsink *keep)
{
	struct hr_recsink rec;
	struct hr_errs errs;
	struct hr_err err;
	struct cost_stats st;
	char path[64];
	void *state = NULL;
	unsigned long i, failed = 0;
	size_t samples = 0;

	hr_errs_init(&errs);
	hr_recsink_init(&rec);
	snprintf(path, sizeof(path), "probes.%s", p->name);
	if (p->setup(env, NULL, path, &state, &errs) < 0 || hr_errs_any(&errs)) {
		printf("%-8s setup failed: %s\n", p->name,
		       errs.count > 0 ? errs.items[0] : "(no message)");
		goto out;
	}
	err.msg[0] = '\0';
	if (p->read(state, &rec.sink, &err) < 0) {
		printf("%-8s read failed: %s\n", p->name, err.msg[0] ? err.msg : "(no message)");
		goto out;
	}
	for (i = 0; i < n; i++) {
		double t0;
		int rc;

		hr_recsink_clear(&rec);
		t0 = cost_now_us();
		rc = p->read(state, &rec.sink, &err);
		us[i] = cost_now_us() - t0;
		if (rc < 0)
			failed++;
		samples += rec.count;
	}
	cost_summarise(us, n, &st);
	printf("%-8s %8.1f %9.1f %9.1f %9.1f %9.1f", p->name, (double)samples / (double)n,
	       st.mean, st.median, st.min, st.max);
	if (failed > 0)
		printf("  (%lu reads failed)", failed);
	printf("\n");
	if (cost_keep(keep, &rec) < 0)
		printf("%-8s (samples not kept for the RRD test)\n", p->name);
out:
	p->teardown(state);
	hr_recsink_free(&rec);
	hr_errs_free(&errs);
}

/* Removes the files of the flat folder DIR, then DIR. */
static void cost_rmdir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
			    sizeof(path))
				unlink(path);
		}
		closedir(d);
	}
	if (rmdir(dir) < 0)
		fprintf(stderr, "probe_cost: cannot remove %s: %s\n", dir, strerror(errno));
}

/* Bytes and count of the files in the flat folder DIR. */
static void cost_du(const char *dir, unsigned long long *bytes, size_t *files)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	DIR *d = opendir(dir);

	*bytes = 0;
	*files = 0;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			*bytes += (unsigned long long)sb.st_size;
			(*files)++;
		}
	}
	closedir(d);
}

/* Writes every kept sample as the agent would: the first write of each
 * creates its file (timed apart), then n steady-state writes, one step
 * apart, in the past so that they never run ahead of the clock. Prints one
 * line per probe and a total. */
static int cost_rrd(const struct cost_opts *o, const struct hr_recsink *keep)
{
	struct rrdstore *store = NULL;
	struct hr_sample s;
	struct hr_err err;
	struct cost_stats st;
	unsigned long long bytes;
	char dir[PATH_MAX];
	double *create_us = NULL, *all_us = NULL, t0;
	time_t start;
	size_t i, j, k, files, nall = 0, ncreate = 0;
	unsigned long w;
	int rc = -1;

	if (keep->count == 0)
		return 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/hr-probe-cost-XXXXXX", o->tmpdir) >=
	    sizeof(dir)) {
		fprintf(stderr, "probe_cost: --tmpdir too long\n");
		return -1;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "probe_cost: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	create_us = calloc(keep->count, sizeof(*create_us));
	all_us = calloc(o->n * keep->count, sizeof(*all_us));
	if (create_us == NULL || all_us == NULL) {
		fprintf(stderr, "probe_cost: out of memory\n");
		goto out;
	}
	store = rrdstore_new(dir, &err);
	if (store == NULL) {
		fprintf(stderr, "probe_cost: %s\n", err.msg);
		goto out;
	}
	start = time(NULL) - (time_t)((o->n + 2) * o->step);

	printf("\nrrdstore_write per sample (step %u s, %lu writes per file after the one that "
	       "creates it; scratch folder %s):\n", o->step, o->n, o->tmpdir);
	printf("%-8s %5s %6s %12s %9s %9s\n", "probe", "files", "DS", "create ms",
	       "mean us", "median us");
	for (i = 0; i < keep->count; i = j) {
		size_t nds = 0, ncr = 0, first = nall;
		double cr = 0;

		/* a probe's samples are next to each other in keep */
		for (j = i; j < keep->count && strcmp(keep->samples[j].probe,
						      keep->samples[i].probe) == 0; j++)
			;
		for (k = i; k < j; k++) {
			s = keep->samples[k];
			if (s.nvalues == 0)
				continue;
			nds += s.nvalues;
			s.t = start;
			t0 = cost_now_us();
			if (rrdstore_write(store, &s, o->step, &err) < 0) {
				printf("%-8s %s\n", s.probe, err.msg);
				continue;
			}
			create_us[ncreate++] = cost_now_us() - t0;
			cr += create_us[ncreate - 1];
			ncr++;
			for (w = 0; w < o->n; w++) {
				s.t = start + (time_t)((w + 1) * o->step);
				t0 = cost_now_us();
				if (rrdstore_write(store, &s, o->step, &err) != 0) {
					printf("%-8s %s\n", s.probe, err.msg);
					break;
				}
				all_us[nall++] = cost_now_us() - t0;
			}
		}
		if (ncr == 0 || nall == first)
			continue;
		/* sorts this probe's part of all_us: the total sorts it all again */
		cost_summarise(all_us + first, nall - first, &st);
		printf("%-8s %5zu %6zu %12.2f %9.1f %9.1f\n", keep->samples[i].probe, ncr, nds,
		       cr / (double)ncr / 1e3, st.mean, st.median);
	}
	if (nall > 0 && ncreate > 0) {
		double cr = 0;

		for (i = 0; i < ncreate; i++)
			cr += create_us[i];
		cost_summarise(all_us, nall, &st);
		cost_du(dir, &bytes, &files);
		printf("%-8s %5zu %6s %12.2f %9.1f %9.1f\n", "all", ncreate, "", cr / (double)ncreate / 1e3,
		       st.mean, st.median);
		printf("files: %zu, %.1f MiB on creation (%.1f MiB per file)\n", files,
		       (double)bytes / 1048576.0, files ? (double)bytes / 1048576.0 / (double)files : 0);
		printf("writing these %zu samples once a tick (every %u s) costs about %.0f us\n",
		       ncreate, o->step, st.mean * (double)ncreate);
	}
	rc = 0;
out:
	rrdstore_destroy(store);
	cost_rmdir(dir);
	free(create_us);
	free(all_us);
	return rc;
}

int main(int argc, char **argv)
{
	struct hr_agent_stats stats;
	struct probe_env env;
	struct cost_opts o;
	struct hr_recsink keep;
	double *us;
	size_t i;
	int rc = 0;

	if (cost_parse_opts(argc, argv, &o) < 0)
		return 2;
	/* Probes log their complaints once; keep them on stderr, quietly. */
	hr_log_init("probe_cost", 0, HR_LOG_WARNING);
	memset(&stats, 0, sizeof(stats));
	env.root = o.root;
	env.stats = &stats; /* the agent probe reads zeros */
	us = calloc(o.n, sizeof(*us));
	if (us == NULL) {
		fprintf(stderr, "probe_cost: out of memory\n");
		return 1;
	}
	hr_recsink_init(&keep);
	keep.max = 1u << 16;

	printf("probe cost per read (root %s, %lu timed reads after one warm-up, wall-clock us, "
	       "CLOCK_MONOTONIC):\n", o.root, o.n);
	printf("%-8s %8s %9s %9s %9s %9s\n", "probe", "samples", "mean us", "median us",
	       "min us", "max us");
	for (i = 0; probes[i] != NULL; i++) {
		if (o.only != NULL ? !cost_in_list(o.only, probes[i]->name) :
		    !(probes[i]->core || o.all)) {
			if (o.only == NULL)
				printf("%-8s off by default: not measured (--all, --only)\n",
				       probes[i]->name);
			continue;
		}
		cost_probe(probes[i], &env, o.n, us, &keep);
	}
	free(us);
	if (o.rrd && cost_rrd(&o, &keep) < 0)
		rc = 1;
	hr_recsink_free(&keep);
	return rc;
}
