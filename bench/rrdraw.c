/* rrdraw.c: the other side of bench/ingest. Writes the samples fleetsim
 * would post (same seed, hosts, window and batches, from fleetgen) into
 * RRD files of the central's layout, in one process and one thread, without
 * HTTP, JSON or SQLite, and times only the writing (wall and CPU):
 *   rrdstore  rrdstore_write() per sample: the central's own librrd calls
 *             (one rrd_updatex_r per sample), the limit of its design;
 *   batched   one rrd_updatex_r per file and batch, K timestamps at once:
 *             what librrd can do when a batch's samples of a file go
 *             together;
 *   rrdcached rrdc_update() per sample to a running rrdcached, then
 *             FLUSH of every file, which returns once it is on disk.
 * --create-only writes the window with rrdstore_write() untimed: the bench
 * creates the files with it (the first interval) so that creation, the same
 * for every side, stays out of the figures. A benchmark, never asserted. */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rrd.h>
#include <rrd_client.h>

#include "fleetgen.h"
#include "rrdstore.h"
#include "util.h"
#include "wire.h"

#define RAW_MAX_HOSTS 100000
#define RAW_MAX_BATCH 1440
#define RAW_LINE_MAX (24 + HR_SAMPLE_VALUES * 26)

enum raw_mode { RAW_RRDSTORE, RAW_BATCHED, RAW_RRDCACHED, RAW_CREATE };

struct raw_opts {
	unsigned long n;
	const char *prefix;
	uint64_t seed;
	unsigned mask;
	unsigned interval;
	double backfill;
	unsigned batch;
	time_t end;
	const char *dir;
	const char *daemon;
	enum raw_mode mode;
};

struct raw_ctx {
	struct raw_opts o;
	struct rrdstore **stores;
	struct hr_sample *scratch;    /* one host's batch */
	char (*lines)[RAW_LINE_MAX];  /* batched: a file's update lines */
	const char **argv;
	int connected;                /* to rrdcached (librrd's one global connection) */
	unsigned long long samples, values;
	double busy;                  /* seconds spent writing */
	double cpu;                   /* CPU seconds of this process in them */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rrdraw --dir DIR [--mode rrdstore|batched|rrdcached|create]\n"
		"              [--daemon ADDR] [-n N] [--prefix P] [--seed S] [--probes LIST]\n"
		"              [--interval S] [--backfill D] [--batch K] [--end UNIX]\n"
		"\n"
		"Writes fleetsim's samples (same options, same samples) into DIR/HOST/,\n"
		"the central's layout, and prints the time taken as JSON. The files must\n"
		"exist for batched and rrdcached: write an earlier interval with\n"
		"--mode create first. ADDR: rrdcached's address (unix:/path).\n");
}

static int parse_opts(int argc, char **argv, struct raw_opts *o)
{
	enum { O_PREFIX = 256, O_SEED, O_PROBES, O_INTERVAL, O_BACKFILL, O_BATCH, O_END,
	       O_DIR, O_DAEMON, O_MODE };
	static const struct option longopts[] = {
		{ "hosts", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "seed", required_argument, NULL, O_SEED },
		{ "probes", required_argument, NULL, O_PROBES },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "backfill", required_argument, NULL, O_BACKFILL },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "end", required_argument, NULL, O_END },
		{ "dir", required_argument, NULL, O_DIR },
		{ "daemon", required_argument, NULL, O_DAEMON },
		{ "mode", required_argument, NULL, O_MODE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hr_err err;
	uint64_t u;
	int c;

	memset(o, 0, sizeof(*o));
	o->n = 10;
	o->prefix = "sim";
	o->seed = 1;
	o->mask = FLEETGEN_ALL;
	o->interval = 60;
	o->batch = 60;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (hr_parse_u64(optarg, strlen(optarg), &u) < 0 || u < 1 || u > RAW_MAX_HOSTS)
				goto bad;
			o->n = (unsigned long)u;
			break;
		case O_PREFIX:
			if (!fleetgen_prefix_valid(optarg))
				goto bad;
			o->prefix = optarg;
			break;
		case O_SEED:
			if (hr_parse_u64(optarg, strlen(optarg), &o->seed) < 0)
				goto bad;
			break;
		case O_PROBES:
			if (fleetgen_parse_probes(optarg, &o->mask, &err) < 0) {
				fprintf(stderr, "rrdraw: --probes: %s\n", err.msg);
				return -1;
			}
			break;
		case O_INTERVAL:
			if (hr_parse_u64(optarg, strlen(optarg), &u) < 0 || u < 1 || u > 86400)
				goto bad;
			o->interval = (unsigned)u;
			break;
		case O_BACKFILL:
			if (hr_parse_duration(optarg, &o->backfill) < 0)
				goto bad;
			break;
		case O_BATCH:
			if (hr_parse_u64(optarg, strlen(optarg), &u) < 0 || u < 1 || u > RAW_MAX_BATCH)
				goto bad;
			o->batch = (unsigned)u;
			break;
		case O_END:
			if (hr_parse_u64(optarg, strlen(optarg), &u) < 0 || u < 946684800 ||
			    u > (uint64_t)INT32_MAX * 2)
				goto bad;
			o->end = (time_t)u;
			break;
		case O_DIR: o->dir = optarg; break;
		case O_DAEMON: o->daemon = optarg; break;
		case O_MODE:
			if (strcmp(optarg, "rrdstore") == 0)
				o->mode = RAW_RRDSTORE;
			else if (strcmp(optarg, "batched") == 0)
				o->mode = RAW_BATCHED;
			else if (strcmp(optarg, "rrdcached") == 0)
				o->mode = RAW_RRDCACHED;
			else if (strcmp(optarg, "create") == 0)
				o->mode = RAW_CREATE;
			else
				goto bad;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc || o->dir == NULL || (o->mode == RAW_RRDCACHED) != (o->daemon != NULL)) {
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "rrdraw: %s: invalid value \"%s\"\n", argv[optind - 1], optarg);
	return -1;
}

/* "T:v1:v2..." of a sample, in its own value order (the order rrdstore
 * created the file with). */
static void update_line(char *dst, size_t n, const struct hr_sample *s)
{
	size_t i, len;

	len = (size_t)snprintf(dst, n, "%lld", (long long)s->t);
	for (i = 0; i < s->nvalues && len < n; i++)
		len += (size_t)snprintf(dst + len, n - len, ":%.17g", s->values[i].v);
}

static void ds_template(char *dst, size_t n, const struct hr_sample *s)
{
	size_t i, len = 0;

	dst[0] = '\0';
	for (i = 0; i < s->nvalues && len < n; i++)
		len += (size_t)snprintf(dst + len, n - len, "%s%s", i ? ":" : "", s->values[i].name);
}

/* One host's batch of nb intervals, ns samples per interval (fleetgen gives
 * a host the same samples at every time): sample k of interval b is
 * scratch[b * ns + k]. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_batch(struct raw_ctx *c, unsigned long host, size_t nb, size_t ns)
{
	char path[PATH_MAX], tmpl[HR_SAMPLE_VALUES * HR_NAME_MAX];
	struct hr_err err;
	size_t b, k;
	double t0 = hr_now_mono(), cpu0 = cpu_now();
	int rc = 0;

	for (k = 0; k < ns && rc == 0; k++) {
		const struct hr_sample *s0 = &c->scratch[k];

		if (c->o.mode == RAW_RRDSTORE || c->o.mode == RAW_CREATE) {
			for (b = 0; b < nb; b++)
				if (rrdstore_write(c->stores[host], &c->scratch[b * ns + k],
						   c->o.interval, &err) < 0) {
					fprintf(stderr, "rrdraw: %s\n", err.msg);
					rc = -1;
					break;
				}
			continue;
		}
		if (rrdstore_path(c->stores[host], path, sizeof(path), s0->probe, s0->instance,
				  &err) < 0) {
			fprintf(stderr, "rrdraw: %s\n", err.msg);
			return -1;
		}
		for (b = 0; b < nb; b++) {
			update_line(c->lines[b], sizeof(c->lines[b]), &c->scratch[b * ns + k]);
			c->argv[b] = c->lines[b];
		}
		if (c->o.mode == RAW_BATCHED) {
			ds_template(tmpl, sizeof(tmpl), s0);
			rrd_clear_error();
			if (rrd_updatex_r(path, tmpl, 0, (int)nb, c->argv) != 0) {
				fprintf(stderr, "rrdraw: %s: %s\n", path, rrd_get_error());
				rc = -1;
			}
		} else {
			/* Like a central in rrdcached mode would: one update a
			 * sample, in the file's DS order. */
			for (b = 0; b < nb && rc == 0; b++) {
				rrd_clear_error();
				if (rrdc_update(path, 1, &c->argv[b]) != 0) {
					fprintf(stderr, "rrdraw: rrdcached: %s: %s\n", path,
						rrd_get_error());
					rc = -1;
				}
			}
		}
	}
	c->busy += hr_now_mono() - t0;
	c->cpu += cpu_now() - cpu0;
	return rc;
}

/* FLUSH of every file: rrdcached answers once the file is written. */
static int flush_all(struct raw_ctx *c, double *secs)
{
	struct hr_sample s[FLEETGEN_MAX_SAMPLES];
	char path[PATH_MAX];
	struct hr_err err;
	double t0 = hr_now_mono();
	unsigned long h;
	size_t k, n;

	for (h = 0; h < c->o.n; h++) {
		n = fleetgen_samples(c->o.seed, c->o.mask, h, c->o.end, s);
		for (k = 0; k < n; k++) {
			if (rrdstore_path(c->stores[h], path, sizeof(path), s[k].probe,
					  s[k].instance, &err) < 0)
				return -1;
			rrd_clear_error();
			if (rrdc_flush(path) != 0) {
				fprintf(stderr, "rrdraw: rrdcached: flush %s: %s\n", path,
					rrd_get_error());
				return -1;
			}
		}
	}
	*secs = hr_now_mono() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "rrdstore", "batched", "rrdcached", "create" };
	struct raw_ctx c;
	struct hr_err err;
	char dir[PATH_MAX], name[FLEETGEN_PREFIX_MAX + 24];
	unsigned long h, count, b0;
	time_t first, t;
	double flush_s = 0;
	size_t ns = 0, nb, i, n;
	int rc = 1;

	memset(&c, 0, sizeof(c));
	if (parse_opts(argc, argv, &c.o) < 0)
		return 2;
	if (c.o.end == 0)
		c.o.end = (time_t)hr_now_wall();
	c.o.end -= c.o.end % c.o.interval;
	count = (unsigned long)(c.o.backfill / c.o.interval);
	if (count == 0)
		count = 1;
	first = c.o.end - (time_t)(count - 1) * c.o.interval;
	c.stores = calloc(c.o.n, sizeof(*c.stores));
	c.scratch = calloc((size_t)c.o.batch * FLEETGEN_MAX_SAMPLES, sizeof(*c.scratch));
	c.lines = calloc(c.o.batch, sizeof(*c.lines));
	c.argv = calloc(c.o.batch, sizeof(*c.argv));
	if (c.stores == NULL || c.scratch == NULL || c.lines == NULL || c.argv == NULL) {
		fprintf(stderr, "rrdraw: out of memory\n");
		goto out;
	}
	for (h = 0; h < c.o.n; h++) {
		fleetgen_host_name(name, sizeof(name), c.o.prefix, h);
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", c.o.dir, name) >= sizeof(dir)) {
			fprintf(stderr, "rrdraw: %s: path too long\n", c.o.dir);
			goto out;
		}
		c.stores[h] = rrdstore_new(dir, &err);
		if (c.stores[h] == NULL) {
			fprintf(stderr, "rrdraw: %s\n", err.msg);
			goto out;
		}
	}
	if (c.o.mode == RAW_RRDCACHED) {
		/* librrd 1.7.2 (Debian 12) exports only the rrdc_* calls on its
		 * global connection, not the rrd_client_t ones; one thread here. */
		rrd_clear_error();
		if (rrdc_connect(c.o.daemon) != 0) {
			fprintf(stderr, "rrdraw: rrdcached %s: cannot connect: %s\n", c.o.daemon,
				rrd_get_error());
			goto out;
		}
		c.connected = 1;
	}
	/* Batch-major, as the central sees a fleet backfilling together: every
	 * host's first batch, then every host's second, ... */
	for (b0 = 0; b0 < count; b0 += c.o.batch) {
		nb = count - b0 < c.o.batch ? count - b0 : c.o.batch;
		for (h = 0; h < c.o.n; h++) {
			n = 0;
			for (i = 0; i < nb; i++) {
				t = first + (time_t)(b0 + i) * c.o.interval;
				ns = fleetgen_samples(c.o.seed, c.o.mask, h, t, &c.scratch[n]);
				n += ns;
			}
			for (i = 0; i < n; i++)
				c.values += c.scratch[i].nvalues;
			c.samples += n;
			if (write_batch(&c, h, nb, ns) < 0)
				goto out;
		}
	}
	if (c.o.mode == RAW_RRDCACHED && flush_all(&c, &flush_s) < 0)
		goto out;
	printf("{\"mode\": \"%s\", \"hosts\": %lu, \"samples\": %llu, \"values\": %llu, "
	       "\"write_s\": %.3f, \"cpu_s\": %.3f, \"flush_s\": %.3f, \"elapsed_s\": %.3f, "
	       "\"values_per_s\": %.1f}\n",
	       modes[c.o.mode], c.o.n, c.samples, c.values, c.busy, c.cpu, flush_s, c.busy + flush_s,
	       c.busy + flush_s > 0 ? (double)c.values / (c.busy + flush_s) : 0.0);
	rc = 0;
out:
	if (c.connected)
		rrdc_disconnect();
	for (h = 0; c.stores != NULL && h < c.o.n; h++)
		rrdstore_destroy(c.stores[h]);
	free(c.stores);
	free(c.scratch);
	free(c.lines);
	free(c.argv);
	return rc;
}
