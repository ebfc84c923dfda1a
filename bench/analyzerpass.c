/* analyzerpass.c: the analyzer's speed against fetching its series from
 * their RRDs, side by side in one run (bench/README.md, "analyzerpass").
 * Makes N RRD files of D days at step S from bench/fleetgen's hosts (load
 * with its daily cycle; file systems flat, sawtooth and filling), then
 * times, with the page cache warm:
 *   (a) rrd_fetch_r of every series (all its rows, both DS);
 *   (b) the same fetches, each followed by the series' rows through a
 *       cold analyzer with the default rules (spike, forecast, thresholds);
 *   (b0) the same with every rule off: the analyzer's own work;
 *   (c) the steady pass: the analyzer warm, one new sample per series at a
 *       new hour (so that every forecast evaluates), then a tick;
 *   (d) saving the whole analyzer state to SQLite once (as at shutdown).
 * Prints wall and CPU time and the ratios. A benchmark, never asserted. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>

#include "analyzer.h"
#include "fleetgen.h"
#include "rules.h"
#include "util.h"

#define FILES_PER_HOST 4
#define BATCH 720 /* rows per rrd_update_r */

static const struct {
	const char *file;     /* in the host's folder */
	const char *probe, *instance;
	const char *ds[2];
} kinds[FILES_PER_HOST] = {
	{ "load.rrd", "load", "", { "load1", "ncpu" } },
	{ "fs-%2F.rrd", "fs", "/", { "size", "used" } },
	{ "fs-%2Fvar%2Flog.rrd", "fs", "/var/log", { "size", "used" } },
	{ "fs-%2Fsrv.rrd", "fs", "/srv", { "size", "used" } },
};

struct opts {
	unsigned long series, distinct;
	unsigned days, step;
	uint64_t seed;
	const char *dir;
	int keep;
};

struct clock2 {
	double wall, cpu;
};

static struct clock2 now2(void)
{
	struct timespec ts;
	struct clock2 c;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c.wall = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	c.cpu = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	return c;
}

static struct clock2 since(struct clock2 a)
{
	struct clock2 b = now2();

	b.wall -= a.wall;
	b.cpu -= a.cpu;
	return b;
}

static void path_of(char *dst, size_t n, const struct opts *o, unsigned long host, int k)
{
	snprintf(dst, n, "%s/h%05lu/%s", o->dir, host, kinds[k].file);
}

static int copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	size_t r;
	int rc = 0;

	if (in == NULL || out == NULL) {
		if (in != NULL)
			fclose(in);
		return -1;
	}
	while ((r = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, r, out) != r)
			rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

/* Host h's 4 files, from fleetgen's samples of host h. */
static int make_host(const struct opts *o, unsigned long h, time_t start)
{
	static char lines[FILES_PER_HOST][BATCH][64];
	const char *argv[FILES_PER_HOST][BATCH];
	struct hr_sample smp[FLEETGEN_MAX_SAMPLES];
	char path[FILES_PER_HOST][512], dir[512], ds[2][64], rra[64];
	unsigned long rows = (unsigned long)o->days * 86400 / o->step, r;
	int k, nb = 0;

	snprintf(dir, sizeof(dir), "%s/h%05lu", o->dir, h);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(rra, sizeof(rra), "RRA:AVERAGE:0.5:1:%lu", rows + 10);
	for (k = 0; k < FILES_PER_HOST; k++) {
		const char *cargv[3] = { ds[0], ds[1], rra };

		path_of(path[k], sizeof(path[k]), o, h, k);
		snprintf(ds[0], sizeof(ds[0]), "DS:%s:GAUGE:%u:U:U", kinds[k].ds[0], 2 * o->step);
		snprintf(ds[1], sizeof(ds[1]), "DS:%s:GAUGE:%u:U:U", kinds[k].ds[1], 2 * o->step);
		rrd_clear_error();
		if (rrd_create_r(path[k], o->step, start - o->step, 3, cargv) != 0) {
			fprintf(stderr, "analyzerpass: %s: %s\n", path[k], rrd_get_error());
			return -1;
		}
	}
	for (r = 0; r < rows; r++) {
		time_t t = start + (time_t)(r * o->step);
		size_t n = fleetgen_samples(o->seed, FLEETGEN_LOAD | FLEETGEN_FS, h, t, smp), i;

		for (k = 0; k < FILES_PER_HOST; k++) {
			double a = NAN, b = NAN;

			for (i = 0; i < n; i++) {
				const struct hr_value *x, *y;

				if (strcmp(smp[i].probe, kinds[k].probe) != 0 ||
				    strcmp(smp[i].instance, kinds[k].instance) != 0)
					continue;
				x = hr_sample_get(&smp[i], kinds[k].ds[0]);
				y = hr_sample_get(&smp[i], kinds[k].ds[1]);
				a = x ? x->v : NAN;
				b = y ? y->v : NAN;
			}
			snprintf(lines[k][nb], sizeof(lines[k][nb]), "%lld:%.6g:%.6g", (long long)t, a, b);
			argv[k][nb] = lines[k][nb];
		}
		if (++nb == BATCH || r + 1 == rows) {
			for (k = 0; k < FILES_PER_HOST; k++) {
				rrd_clear_error();
				if (rrd_update_r(path[k], NULL, nb, argv[k]) != 0) {
					fprintf(stderr, "analyzerpass: %s: %s\n", path[k], rrd_get_error());
					return -1;
				}
			}
			nb = 0;
		}
	}
	return 0;
}

struct fetched {
	time_t start, end;
	unsigned long step, ds_cnt;
	char **namv;
	rrd_value_t *data;
};

static int fetch(const char *path, time_t from, time_t to, unsigned step, struct fetched *f)
{
	f->start = from;
	f->end = to;
	f->step = step;
	rrd_clear_error();
	if (rrd_fetch_r(path, "AVERAGE", &f->start, &f->end, &f->step, &f->ds_cnt, &f->namv,
			&f->data) != 0) {
		fprintf(stderr, "analyzerpass: %s: %s\n", path, rrd_get_error());
		return -1;
	}
	return 0;
}

static void fetched_free(struct fetched *f)
{
	unsigned long i;

	for (i = 0; i < f->ds_cnt; i++)
		rrd_freemem(f->namv[i]);
	rrd_freemem(f->namv);
	rrd_freemem(f->data);
}

struct counts {
	unsigned long long obs, active;
};

static void count_emit(void *ctx, const struct alert_obs *o)
{
	struct counts *c = ctx;

	c->obs++;
	c->active += o->active != 0;
}

/* Feeds a fetched series to the analyzer as host h's samples. */
static unsigned long feed(struct analyzer *an, const char *host, int k, const struct fetched *f)
{
	struct hr_sample s;
	unsigned long rows = (unsigned long)(f->end - f->start) / f->step, r, j, n = 0;

	hr_sample_init(&s, kinds[k].probe, kinds[k].instance);
	for (r = 0; r < rows; r++) {
		s.nvalues = 0; /* the same sample, new values: as cheap as ingest's */
		s.t = f->start + (time_t)((r + 1) * f->step);
		for (j = 0; j < f->ds_cnt; j++) {
			double v = f->data[r * f->ds_cnt + j];

			if (isfinite(v))
				hr_sample_set(&s, f->namv[j], v);
		}
		if (s.nvalues == 0)
			continue;
		analyzer_observe(an, host, &s, (unsigned)f->step);
		n++;
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: analyzerpass [-n SERIES] [--days D] [--step S] [--distinct HOSTS]\n"
		   "                    [--seed N] [--dir DIR] [--keep]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "step", required_argument, NULL, 's' },
		{ "distinct", required_argument, NULL, 'D' },
		{ "seed", required_argument, NULL, 'S' },
		{ "dir", required_argument, NULL, 'o' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 10000, 250, 30, 300, 1, NULL, 0 };
	char tmpl[] = "/tmp/hr-anbench-XXXXXX", path[600], host[32], from[600], dbpath[600];
	struct clock2 c0, ta, ta2, tb, tb0, tc, td, tg;
	struct rules *rs;
	struct analyzer *an;
	struct analyzer_stats st;
	struct counts cnt = { 0, 0 }, cnt0 = { 0, 0 };
	struct hr_err err;
	unsigned long hosts, h, fed = 0;
	time_t end, start;
	int c, k, rc = 1;

	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.series = strtoul(optarg, NULL, 10); break;
		case 'd': o.days = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': o.step = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'D': o.distinct = strtoul(optarg, NULL, 10); break;
		case 'S': o.seed = strtoull(optarg, NULL, 10); break;
		case 'o': o.dir = optarg; break;
		case 'k': o.keep = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.series < FILES_PER_HOST || o.days == 0 || o.step == 0 || o.distinct == 0) {
		usage(stderr);
		return 2;
	}
	if (o.dir == NULL) {
		if (mkdtemp(tmpl) == NULL) {
			perror("analyzerpass: mkdtemp");
			return 1;
		}
		o.dir = tmpl;
	} else if (mkdir(o.dir, 0755) < 0 && errno != EEXIST) {
		perror(o.dir);
		return 1;
	}
	hosts = o.series / FILES_PER_HOST;
	if (o.distinct > hosts)
		o.distinct = hosts;
	end = (time_t)(1764288000 / o.step * o.step); /* 2025-11-28 00:00 UTC */
	start = end - (time_t)o.days * 86400 + o.step;

	printf("analyzerpass: %lu series (%lu hosts x load, fs /, /var/log, /srv), %u days at %u s,\n"
	       "  %lu distinct hosts from fleetgen (seed %llu), the rest copies; in %s\n",
	       hosts * FILES_PER_HOST, hosts, o.days, o.step, o.distinct,
	       (unsigned long long)o.seed, o.dir);
	fflush(stdout);
	c0 = now2();
	for (h = 0; h < hosts; h++) {
		if (h < o.distinct) {
			if (make_host(&o, h, start) < 0)
				goto out;
			continue;
		}
		snprintf(path, sizeof(path), "%s/h%05lu", o.dir, h);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			goto out;
		for (k = 0; k < FILES_PER_HOST; k++) {
			path_of(from, sizeof(from), &o, h % o.distinct, k);
			path_of(path, sizeof(path), &o, h, k);
			if (copy_file(from, path) < 0) {
				fprintf(stderr, "analyzerpass: %s: cannot copy\n", path);
				goto out;
			}
		}
	}
	tg = since(c0);
	printf("  made the files in %.1f s\n", tg.wall);

	/* Warm the page cache, so that (a) and (b) read alike. */
	for (h = 0; h < hosts; h++)
		for (k = 0; k < FILES_PER_HOST; k++) {
			struct fetched f;

			path_of(path, sizeof(path), &o, h, k);
			if (fetch(path, start - o.step, end, o.step, &f) < 0)
				goto out;
			fetched_free(&f);
		}

	c0 = now2();
	for (h = 0; h < hosts; h++)
		for (k = 0; k < FILES_PER_HOST; k++) {
			struct fetched f;

			path_of(path, sizeof(path), &o, h, k);
			if (fetch(path, start - o.step, end, o.step, &f) < 0)
				goto out;
			fetched_free(&f);
		}
	ta = since(c0);

	rs = rules_defaults(&err);
	if (rs == NULL) {
		fprintf(stderr, "analyzerpass: %s\n", err.msg);
		goto out;
	}
	/* On disk as in the central: (b) looks each new series up there. */
	snprintf(dbpath, sizeof(dbpath), "%s/headroom.db", o.dir);
	an = analyzer_new(rs, dbpath, count_emit, &cnt, &err);
	if (an == NULL) {
		fprintf(stderr, "analyzerpass: %s\n", err.msg);
		rules_free(rs);
		goto out;
	}
	c0 = now2();
	for (h = 0; h < hosts; h++) {
		snprintf(host, sizeof(host), "h%05lu", h);
		for (k = 0; k < FILES_PER_HOST; k++) {
			struct fetched f;

			path_of(path, sizeof(path), &o, h, k);
			if (fetch(path, start - o.step, end, o.step, &f) < 0)
				break;
			fed += feed(an, host, k, &f);
			fetched_free(&f);
		}
	}
	tb = since(c0);
	analyzer_get_stats(an, &st);

	/* (a) again, after (b): the fetch's own spread. */
	c0 = now2();
	for (h = 0; h < hosts; h++)
		for (k = 0; k < FILES_PER_HOST; k++) {
			struct fetched f;

			path_of(path, sizeof(path), &o, h, k);
			if (fetch(path, start - o.step, end, o.step, &f) < 0)
				goto out_an;
			fetched_free(&f);
		}
	ta2 = since(c0);

	/* (b0): the same with every rule off: the analyzer's own work (the
	 * instance lookup, rates, the loop), without any detector. */
	{
		char *text = malloc(64 * rules_count(rs) + 32);
		struct hr_errs errs;
		struct rules *none = NULL;
		struct analyzer *an0 = NULL;
		size_t i, len = 0;

		if (text != NULL) {
			len += (size_t)sprintf(text + len, "{\"rules\": [");
			for (i = 0; i < rules_count(rs); i++)
				len += (size_t)sprintf(text + len, "%s{\"name\": \"%s\", \"disabled\": true}",
						       i ? "," : "", rules_get(rs, i)->name);
			len += (size_t)sprintf(text + len, "]}");
			hr_errs_init(&errs);
			none = rules_parse(text, len, &errs);
			hr_errs_free(&errs);
			free(text);
		}
		if (none != NULL)
			an0 = analyzer_new(none, NULL, count_emit, &cnt0, &err);
		if (an0 == NULL) {
			fprintf(stderr, "analyzerpass: the empty rule set failed\n");
			rules_free(none);
			goto out_an;
		}
		c0 = now2();
		for (h = 0; h < hosts; h++) {
			snprintf(host, sizeof(host), "h%05lu", h);
			for (k = 0; k < FILES_PER_HOST; k++) {
				struct fetched f;

				path_of(path, sizeof(path), &o, h, k);
				if (fetch(path, start - o.step, end, o.step, &f) < 0)
					break;
				feed(an0, host, k, &f);
				fetched_free(&f);
			}
		}
		tb0 = since(c0);
		analyzer_free(an0);
		rules_free(none);
	}

	/* (c): the next sample of every series, past the next hour mark. */
	{
		time_t tn = (end / 3600 + 1) * 3600 + o.step;
		struct hr_sample *next = calloc(hosts * FILES_PER_HOST, sizeof(*next));
		struct hr_sample smp[FLEETGEN_MAX_SAMPLES];
		unsigned long long obs0 = cnt.obs;
		size_t n, i;

		if (next == NULL)
			goto out_an;
		for (h = 0; h < hosts; h++) {
			n = fleetgen_samples(o.seed, FLEETGEN_LOAD | FLEETGEN_FS, h % o.distinct, tn, smp);
			for (k = 0; k < FILES_PER_HOST; k++)
				for (i = 0; i < n; i++)
					if (strcmp(smp[i].probe, kinds[k].probe) == 0 &&
					    strcmp(smp[i].instance, kinds[k].instance) == 0)
						next[h * FILES_PER_HOST + (unsigned long)k] = smp[i];
		}
		/* (d): the whole state saved, as the tick does once a minute (every
		 * series changed since the last save) and as at shutdown. */
		{
			struct stat sb;

			c0 = now2();
			if (analyzer_tick(an, (double)tn - 30) < 0)
				fprintf(stderr, "analyzerpass: saving failed\n");
			td = since(c0);
			if (stat(dbpath, &sb) == 0)
				printf("  saved state: %.1f MB in headroom.db", (double)sb.st_size / 1e6);
			snprintf(path, sizeof(path), "%.590s-wal", dbpath);
			if (stat(path, &sb) == 0)
				printf(" + %.1f MB of WAL", (double)sb.st_size / 1e6);
			printf("\n");
		}

		c0 = now2();
		for (h = 0; h < hosts; h++) {
			snprintf(host, sizeof(host), "h%05lu", h);
			for (k = 0; k < FILES_PER_HOST; k++)
				analyzer_observe(an, host, &next[h * FILES_PER_HOST + (unsigned long)k],
						 o.step);
		}
		analyzer_tick(an, (double)tn); /* forecasts due; no save (30 s) */
		tc = since(c0);
		free(next);
		printf("  steady pass: %llu observations\n", cnt.obs - obs0);
	}

	printf("\n  %-44s %10s %10s\n", "", "wall s", "CPU s");
	printf("  %-44s %10.3f %10.3f\n", "(a)  fetch every series", ta.wall, ta.cpu);
	printf("  %-44s %10.3f %10.3f\n", "(a') the same, after (b)", ta2.wall, ta2.cpu);
	printf("  %-44s %10.3f %10.3f\n", "(b)  fetch + cold analyzer pass", tb.wall, tb.cpu);
	printf("  %-44s %10.3f %10.3f\n", "(b0) the same, every rule off", tb0.wall, tb0.cpu);
	printf("  %-44s %10.4f %10.4f\n", "(c)  steady pass (1 sample/series + tick)", tc.wall,
	       tc.cpu);
	printf("  %-44s %10.3f %10.3f\n", "(d)  save the whole state (1 transaction)", td.wall,
	       td.cpu);
	{
		double fa = (ta.cpu + ta2.cpu) / 2, an_cpu = tb.cpu - fa;

		printf("\n  samples fed in (b): %lu; analyzer CPU per sample %.2f us, of which its\n"
		       "  own work (b0 - a) %.2f us, the rules and detectors the rest\n", fed,
		       an_cpu / (double)fed * 1e6, (tb0.cpu - fa) / (double)fed * 1e6);
		printf("  series %zu, instances %zu, state %.1f MB (%.0f bytes per series)\n",
		       st.series, st.instances, (double)st.bytes / 1e6,
		       st.series ? (double)st.bytes / (double)st.series : 0);
		printf("  observations emitted in (b): %llu (%llu active)\n", cnt.obs, cnt.active);
		printf("\n  cold pass:   analyzer / fetch = (b - a) / a = %.2f  -> %s (target <= 1.5)\n",
		       an_cpu / fa, an_cpu / fa <= 1.5 ? "meets" : "misses");
		printf("  steady pass: (c) / a = %.4f  -> %s (target <= 1.5); %.2f us per series\n",
		       tc.cpu / fa, tc.cpu / fa <= 1.5 ? "meets" : "misses",
		       tc.cpu / (double)(hosts * FILES_PER_HOST) * 1e6);
	}
	rc = 0;
out_an:
	analyzer_free(an);
	rules_free(rs);
out:
	if (!o.keep) {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", o.dir);
		if (strncmp(o.dir, "/tmp/hr-anbench-", 16) == 0 && system(cmd) != 0)
			fprintf(stderr, "analyzerpass: could not remove %s\n", o.dir);
	}
	return rc;
}
