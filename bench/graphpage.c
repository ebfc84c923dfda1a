/* graphpage.c: the time to draw one dashboard graph (dashboards/graph.c:
 * graph_parse, graph_args_build and graph_render, i.e. rrd_graph_v in
 * process) against the `rrdtool graph` command line drawing the very same
 * arguments from the same archive, side by side in one run, as a ratio.
 * The archive is an fs file of 30 days at a 60 s step made with rrdstore;
 * the graph is a week with the forecast overlay. -o FILE also writes the
 * image (to look at it), -v prints the arguments, -k keeps the archive. A benchmark, never asserted. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer.h"
#include "graph.h"
#include "rrdstore.h"

#define DAYS 30
#define STEP 60

/* --- page.h for graph.c without web.c ---------------------------------- */

const char *page_arg(const struct page_req *rq, const char *key)
{
	const char *const *kv = rq->impl;
	size_t i;

	for (i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], key) == 0)
			return kv[i + 1];
	return NULL;
}

sqlite3 *page_db(const struct page_req *rq)
{
	(void)rq;
	return NULL;
}

int page_error(const struct page_req *rq, struct page_resp *out, int status, const char *msg)
{
	(void)rq;
	(void)out;
	fprintf(stderr, "graphpage: %d %s\n", status, msg);
	return -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_archive(const char *dir, time_t t0)
{
	size_t n = DAYS * 86400 / STEP, i;
	struct hr_sample *v = calloc(n, sizeof(*v));
	const struct hr_sample **p = calloc(n, sizeof(*p));
	struct rrdstore *st;
	struct hr_err err;
	int rc = -1;

	st = rrdstore_new(dir, &err);
	if (v == NULL || p == NULL || st == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		hr_sample_init(&v[i], "fs", "/var");
		v[i].t = t0 + (time_t)((i + 1) * STEP);
		hr_sample_set(&v[i], "size", 500e9);
		hr_sample_set(&v[i], "used", 200e9 + (double)i * 4e6 + 3e9 * sin((double)i / 300));
		p[i] = &v[i];
	}
	if (rrdstore_write_run(st, p, n, STEP, &err) < 0) {
		fprintf(stderr, "graphpage: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	rrdstore_destroy(st);
	free(v);
	free(p);
	return rc;
}

/* One `rrdtool graph` run with a's arguments, its image to /dev/null. */
static int run_cli(const struct graph_args *a)
{
	char *argv[GRAPH_ARGS_MAX + 2];
	pid_t pid;
	int i, st;

	argv[0] = "rrdtool";
	for (i = 0; i < a->argc; i++)
		argv[i + 1] = a->argv[i];
	argv[a->argc + 1] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp("rrdtool", argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *out_file = NULL, *range = "1w";
	char base[] = "/tmp/hr-graphpage-XXXXXX", dir[256], data[256];
	struct page_env env;
	struct page_req rq;
	struct graph_req g;
	struct graph_args a;
	struct analyzer_forecast fc;
	struct hr_err err;
	time_t t0 = (time(NULL) / 86400 - DAYS) * 86400;
	double t, lib_s, cli_s;
	int i, n = 20, c, rc = 1, verbose = 0, keep = 0;
	char *img = NULL;
	size_t len = 0;

	while ((c = getopt(argc, argv, "kn:o:r:v")) != -1) {
		if (c == 'n')
			n = (int)strtol(optarg, NULL, 10);
		else if (c == 'o')
			out_file = optarg;
		else if (c == 'r')
			range = optarg;
		else if (c == 'v')
			verbose = 1;
		else if (c == 'k')
			keep = 1;
		else {
			fprintf(stderr, "usage: graphpage [-n RUNS] [-r RANGE] [-o FILE.png] [-v] [-k]\n");
			return 2;
		}
	}
	if (n < 1)
		n = 1;
	if (mkdtemp(base) == NULL)
		return 1;
	snprintf(data, sizeof(data), "%s", base);
	snprintf(dir, sizeof(dir), "%s/rrd/web1", base);
	if (make_archive(dir, t0) < 0)
		goto out;
	{
		const char *kv[] = { "host", "web1", "probe", "fs", "instance", "/var", "range", range,
				     NULL };

		memset(&env, 0, sizeof(env));
		env.data_dir = data;
		memset(&rq, 0, sizeof(rq));
		rq.env = &env;
		rq.now = (double)(t0 + DAYS * 86400);
		rq.impl = kv;
		if (graph_parse(&rq, &g, &err) != 0) {
			fprintf(stderr, "graphpage: %s\n", err.msg);
			goto out;
		}
	}
	memset(&fc, 0, sizeof(fc));
	fc.capacity = 500e9;
	fc.at = rq.now - 600;
	fc.valid = 1;
	fc.value = 200e9 + (double)DAYS * 1440 * 4e6;
	fc.slope = 4e6 * 1440;
	fc.slope_lo = fc.slope * 0.8;
	fc.slope_hi = fc.slope * 1.25;
	fc.eta = fc.at + (fc.capacity - fc.value) / fc.slope * 86400;
	fc.eta_early = fc.at + (fc.capacity - fc.value) / fc.slope_hi * 86400;
	fc.eta_late = fc.at + (fc.capacity - fc.value) / fc.slope_lo * 86400;

	t = now_s();
	for (i = 0; i < n; i++) {
		free(img);
		img = NULL;
		if (graph_args_build(&g, &fc, &a, &err) < 0 || graph_render(&a, &img, &len, &err) < 0) {
			fprintf(stderr, "graphpage: %s\n", err.msg);
			graph_args_free(&a);
			goto out;
		}
		if (i < n - 1)
			graph_args_free(&a);
	}
	lib_s = (now_s() - t) / n;
	t = now_s();
	for (i = 0; i < n; i++) {
		if (run_cli(&a) < 0) {
			fprintf(stderr, "graphpage: rrdtool graph failed (is rrdtool installed?)\n");
			graph_args_free(&a);
			goto out;
		}
	}
	cli_s = (now_s() - t) / n;
	printf("graph of %s (%d px wide, %d arguments, overlay), %d runs each:\n", range, g.width,
	       a.argc, n);
	for (i = 0; verbose && i < a.argc; i++)
		printf("  '%s'\n", a.argv[i]);
	graph_args_free(&a);
	printf("  headroom graph_render (rrd_graph_v)  %8.2f ms/graph  %zu bytes\n", lib_s * 1e3,
	       len);
	printf("  rrdtool graph (CLI, same arguments)  %8.2f ms/graph\n", cli_s * 1e3);
	printf("  ratio rrdtool/headroom               %8.2f\n", cli_s / lib_s);
	if (out_file != NULL) {
		FILE *f = fopen(out_file, "wb");

		if (f == NULL || fwrite(img, 1, len, f) != len) {
			perror(out_file);
			if (f)
				fclose(f);
			goto out;
		}
		fclose(f);
	}
	rc = 0;
out:
	free(img);
	snprintf(dir, sizeof(dir), "rm -rf '%s'", base);
	if (keep)
		printf("kept %s\n", base);
	else if (system(dir) != 0)
		rc = 1;
	return rc;
}
