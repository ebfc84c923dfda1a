/* test_graph.c: GET /graph (dashboards/graph.c): every parameter checked
 * (400/404 with a clear message, no escape from the host's folder), real
 * archives made with rrdstore drawn as PNG and SVG by librrd, the forecast
 * overlay's arguments, and the page's answer. page_arg/page_db/page_error
 * are this file's own (web.c is not linked). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rrd.h>

#include "analyzer.h"
#include "graph.h"
#include "rrdstore.h"
#include "testutil.h"

#define T0 1700006400LL        /* a day boundary */
#define TEND (T0 + 2 * 86400)  /* "now": two days of samples */

/* --- page.h, test-local --------------------------------------------------- */

struct fake_query {
	const char *kv[40]; /* key, value, key, value, ..., NULL */
};

const char *page_arg(const struct page_req *rq, const char *key)
{
	const struct fake_query *q = rq->impl;
	size_t i;

	for (i = 0; q != NULL && q->kv[i] != NULL; i += 2)
		if (strcmp(q->kv[i], key) == 0)
			return q->kv[i + 1];
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
	out->status = status;
	out->type = "text/plain";
	out->body = strdup(msg);
	out->len = out->body ? strlen(out->body) : 0;
	return out->body ? 0 : -1;
}

/* --- archives made for the suite ------------------------------------------- */

static char base[4096], data_dir[4200];
static struct page_env env;

static void put_run(struct rrdstore *st, const char *probe, const char *inst, int days,
		    void (*fill)(struct hr_sample *s, long long i))
{
	long long n = days * 1440LL, i;
	struct hr_sample *v = calloc((size_t)n, sizeof(*v));
	const struct hr_sample **p = calloc((size_t)n, sizeof(*p));
	struct hr_err err;

	if (v == NULL || p == NULL)
		abort();
	for (i = 0; i < n; i++) {
		hr_sample_init(&v[i], probe, inst);
		v[i].t = (time_t)(T0 + 60 + i * 60);
		fill(&v[i], i);
		p[i] = &v[i];
	}
	if (rrdstore_write_run(st, p, (size_t)n, 60, &err) != 0)
		fprintf(stderr, "rrdstore_write_run: %s\n", err.msg);
	free(v);
	free(p);
}

static void fill_fs(struct hr_sample *s, long long i)
{
	hr_sample_set(s, "size", 100e9);
	hr_sample_set(s, "used", 40e9 + (double)i * 5e6 + (i % 90) * 1e7);
	hr_sample_set(s, "avail", 60e9 - (double)i * 5e6);
}

static void fill_fs_inodes(struct hr_sample *s, long long i)
{
	fill_fs(s, i);
	hr_sample_set(s, "inodes", 6e6);
	hr_sample_set(s, "inodes_used", 1e6 + (double)i * 100);
}

static void fill_load(struct hr_sample *s, long long i)
{
	hr_sample_set(s, "load1", 1 + (i % 30) / 10.0);
	hr_sample_set(s, "load5", 1.5);
	hr_sample_set(s, "load15", 1.2);
	hr_sample_set(s, "ncpu", 4);
}

static void fill_cpu(struct hr_sample *s, long long i)
{
	hr_sample_set(s, "user", (double)i * 30);
	hr_sample_set(s, "system", (double)i * 10);
	hr_sample_set(s, "idle", (double)i * 190);
	hr_sample_set(s, "iowait", (double)i * 10);
}

static int suite_init(void)
{
	struct rrdstore *st;
	struct hr_err err;
	char dir[8192];

	snprintf(base, sizeof(base), "%s", tmpdir_new("graph"));
	/* A ':' in the data folder: DEF needs it escaped. */
	snprintf(data_dir, sizeof(data_dir), "%s/da:ta", base);
	snprintf(dir, sizeof(dir), "%s/rrd/web1", data_dir);
	st = rrdstore_new(dir, &err);
	if (st == NULL) {
		fprintf(stderr, "rrdstore_new: %s\n", err.msg);
		return -1;
	}
	put_run(st, "fs", "/var", 2, fill_fs_inodes);
	put_run(st, "fs", "a:b", 1, fill_fs);
	put_run(st, "load", "", 2, fill_load);
	put_run(st, "cpu", "", 2, fill_cpu);
	rrdstore_destroy(st);
	/* Not archives: garbage, and a folder under an archive's name. */
	if (write_file(dir, "/fs-%2Fbroken.rrd", "not an RRD\n", 11) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/rrd/web1/fs-%%2Fdir.rrd", data_dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/rrd/empty", data_dir);
	mkdir(dir, 0755);
	env.data_dir = data_dir;
	return 0;
}

static int suite_clean(void)
{
	rm_rf(base);
	return 0;
}

static void req_init(struct page_req *rq, struct fake_query *q)
{
	memset(rq, 0, sizeof(*rq));
	rq->env = &env;
	rq->method = "GET";
	rq->path = "/graph";
	rq->user = "test";
	rq->role = ROLE_VIEWER;
	rq->now = (double)TEND;
	rq->impl = q;
}

/* --- parameters -------------------------------------------------------------- */

static const struct {
	const char *kv[20];
	int status;
	const char *msg;
} bad[] = {
	{ { "probe", "fs", "instance", "/var" }, 400, "host is missing" },
	{ { "host", "../x", "probe", "fs", "instance", "/var" }, 400, "host is not a valid" },
	{ { "host", "web1/..", "probe", "fs" }, 400, "host is not a valid" },
	{ { "host", "a/b", "probe", "fs" }, 400, "host is not a valid" },
	{ { "host", "-web1", "probe", "fs" }, 400, "host is not a valid" },
	{ { "host", "web1" }, 400, "probe is missing" },
	{ { "host", "web1", "probe", "nope" }, 400, "probe is not one with graphs" },
	{ { "host", "web1", "probe", "../fs" }, 400, "probe is not one with graphs" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "view", "bogus" }, 400,
	  "view is not one of probe fs's views" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "view", "load" }, 400,
	  "view is not one of" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "range", "2d" }, 400,
	  "range must be one of" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "range", "1h;rm" }, 400,
	  "range must be one of" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "1700000000" }, 400,
	  "needs both start and end" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "1700100000", "end",
	    "1700000000" }, 400, "start must be before end" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "1700000000", "end",
	    "1700000030" }, 400, "at least 60 seconds" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "1", "end",
	    "1700000000" }, 400, "at most 5 years" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "1739000000", "end",
	    "1740000000" }, 400, "at most a year from now" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "-5", "end", "1700000000" },
	  400, "start must be unix seconds" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "start", "1700000000", "end",
	    "17e8" }, 400, "end must be unix seconds" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "fmt", "gif" }, 400,
	  "fmt must be png or svg" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "fmt", "PNG" }, 400,
	  "fmt must be png or svg" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "w", "199" }, 400,
	  "w must be a whole number of pixels from 200 to 2000" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "w", "2001" }, 400, "w must be" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "w", "600px" }, 400, "w must be" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "w", "" }, 400, "w must be" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "h", "79" }, 400,
	  "h must be a whole number of pixels from 80 to 1000" },
	{ { "host", "web1", "probe", "fs", "instance", "/var", "h", "99999999999999999999" }, 400,
	  "h must be" },
	{ { "host", "nosuch", "probe", "fs", "instance", "/var" }, 404, "no archives for host nosuch" },
	{ { "host", "empty", "probe", "fs", "instance", "/var" }, 404, "has no archive for fs /var" },
	{ { "host", "web1", "probe", "fs", "instance", "/tmp" }, 404, "has no archive for fs /tmp" },
	{ { "host", "web1", "probe", "fs", "instance", "../../../etc/passwd" }, 404,
	  "has no archive" },
	{ { "host", "web1", "probe", "disk", "instance", "sda" }, 404, "has no archive" },
	{ { "host", "web1", "probe", "fs", "instance", "/dir" }, 404, "has no archive for fs /dir" },
	{ { "host", "web1", "probe", "fs", "instance", "/broken" }, 500,
	  "the archive of fs /broken cannot be read" },
	{ { "host", "web1", "probe", "fs", "instance", "a:b", "view", "inodes" }, 404,
	  "has none of view inodes's values" },
	{ { "host", "web1", "probe", "load", "view", "procs" }, 404,
	  "the archive of load has none of view procs's values" },
};

static void test_bad_params(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fake_query q;
		struct page_req rq;
		struct graph_req g;
		struct page_resp out;
		struct hr_err err = { { 0 } };
		int rc;

		memset(&q, 0, sizeof(q));
		for (j = 0; bad[i].kv[j] != NULL; j++)
			q.kv[j] = bad[i].kv[j];
		req_init(&rq, &q);
		rc = graph_parse(&rq, &g, &err);
		if (rc != bad[i].status || strstr(err.msg, bad[i].msg) == NULL)
			fprintf(stderr, "\ncase %zu: %d \"%s\", wanted %d \"%s\"\n", i, rc, err.msg,
				bad[i].status, bad[i].msg);
		CU_ASSERT_EQUAL(rc, bad[i].status);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].msg));
		/* The page answers the same status with the message. */
		memset(&out, 0, sizeof(out));
		CU_ASSERT_EQUAL(graph_page(&rq, &out), 0);
		CU_ASSERT_EQUAL(out.status, bad[i].status);
		CU_ASSERT(out.body != NULL && strstr(out.body, bad[i].msg) != NULL);
		free(out.body);
	}
}

/* An instance is escaped into one file name in the host's folder. */
static void test_instance_escaped(void)
{
	static const struct {
		const char *inst, *file;
	} cases[] = {
		{ "../x", "fs-%2E.%2Fx.rrd" },
		{ "..", "fs-%2E..rrd" },
		{ "/var", "fs-%2Fvar.rrd" },
		{ "a:b", "fs-a%3Ab.rrd" },
		{ "x,POP,INF", "fs-x%2CPOP%2CINF.rrd" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_query q = { { "host", "web1", "probe", "fs", "instance", cases[i].inst } };
		struct page_req rq;
		struct graph_req g;
		struct hr_err err = { { 0 } };
		char want[8192];
		int rc;

		req_init(&rq, &q);
		rc = graph_parse(&rq, &g, &err);
		snprintf(want, sizeof(want), "%s/rrd/web1/%s", data_dir, cases[i].file);
		if (strcmp(g.path, want) != 0)
			fprintf(stderr, "\n%s, wanted %s\n", g.path, want);
		CU_ASSERT_STRING_EQUAL(g.path, want);
		CU_ASSERT_EQUAL(rc, strcmp(cases[i].inst, "/var") == 0 ||
					    strcmp(cases[i].inst, "a:b") == 0 ? 0 : 404);
	}
	{
		char longinst[400];
		struct fake_query q = { { "host", "web1", "probe", "fs", "instance", longinst } };
		struct page_req rq;
		struct graph_req g;
		struct hr_err err = { { 0 } };

		memset(longinst, 'a', sizeof(longinst) - 1);
		longinst[sizeof(longinst) - 1] = '\0';
		req_init(&rq, &q);
		CU_ASSERT_EQUAL(graph_parse(&rq, &g, &err), 400);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "instance is longer"));
		longinst[200] = '\0';
		memset(longinst, '/', 100); /* 100 x "%2F" passes 240 bytes */
		CU_ASSERT_EQUAL(graph_parse(&rq, &g, &err), 400);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "instance cannot name an archive"));
	}
}

/* Every view graph_views names is one graph_parse knows. */
static void test_views(void)
{
	static const char *const all[] = { "load", "cpu", "mem", "psi", "fs", "disk", "net",
					      "md", "smart", "ups", "bond", "backup", "tls",
					      "exec", "agent" };
	const char *const *names;
	size_t i, j, n;

	n = graph_views("fs", &names);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(names[0], "used");
	CU_ASSERT_STRING_EQUAL(names[1], "inodes");
	CU_ASSERT_EQUAL(graph_views("nope", &names), 0);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		n = graph_views(all[i], &names);
		CU_ASSERT(n > 0);
		for (j = 0; j < n; j++) {
			struct fake_query q = { { "host", "nosuch", "probe", all[i], "view",
						  names[j] } };
			struct page_req rq;
			struct graph_req g;
			struct hr_err err = { { 0 } };

			req_init(&rq, &q);
			CU_ASSERT_EQUAL(graph_parse(&rq, &g, &err), 404);
			CU_ASSERT_STRING_EQUAL(g.view_name, names[j]);
		}
	}
}

static void test_defaults_and_span(void)
{
	struct fake_query q = { { "host", "web1", "probe", "fs", "instance", "/var" } };
	struct fake_query q2 = { { "host", "web1", "probe", "fs", "instance", "/var", "range", "1w",
				   "w", "800", "h", "300", "fmt", "svg", "view", "used" } };
	struct fake_query q3 = { { "host", "web1", "probe", "fs", "instance", "/var", "range", "1h",
				   "start", "1700010000", "end", "1700020000" } };
	struct page_req rq;
	struct graph_req g;
	struct hr_err err = { { 0 } };

	req_init(&rq, &q);
	CU_ASSERT_EQUAL_FATAL(graph_parse(&rq, &g, &err), 0);
	CU_ASSERT_EQUAL(g.end, TEND);
	CU_ASSERT_EQUAL(g.start, TEND - 86400);
	CU_ASSERT_EQUAL(g.width, 600);
	CU_ASSERT_EQUAL(g.height, 200);
	CU_ASSERT_EQUAL(g.fmt, GRAPH_PNG);
	CU_ASSERT_STRING_EQUAL(g.view_name, "used");
	CU_ASSERT(g.has_ds[0] && g.has_ds[1]);
	CU_ASSERT(g.has_max);
	req_init(&rq, &q2);
	CU_ASSERT_EQUAL_FATAL(graph_parse(&rq, &g, &err), 0);
	CU_ASSERT_EQUAL(g.start, TEND - 7 * 86400);
	CU_ASSERT_EQUAL(g.width, 800);
	CU_ASSERT_EQUAL(g.height, 300);
	CU_ASSERT_EQUAL(g.fmt, GRAPH_SVG);
	req_init(&rq, &q3);
	CU_ASSERT_EQUAL_FATAL(graph_parse(&rq, &g, &err), 0);
	CU_ASSERT_EQUAL(g.start, 1700010000);
	CU_ASSERT_EQUAL(g.end, 1700020000);
}

/* --- rendering --------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int args_have(const struct graph_args *a, const char *prefix)
{
	int i;

	for (i = 0; i < a->argc; i++)
		if (strncmp(a->argv[i], prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

/* Parses the query, builds and renders; returns the image (caller frees). */
static char *draw(struct fake_query *q, const struct analyzer_forecast *fc, struct graph_args *a,
		  size_t *len)
{
	struct page_req rq;
	struct graph_req g;
	struct hr_err err = { { 0 } };
	char *img = NULL;
	int rc;

	req_init(&rq, q);
	rc = graph_parse(&rq, &g, &err);
	if (rc != 0)
		fprintf(stderr, "\nparse: %d %s\n", rc, err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(graph_args_build(&g, fc, a, &err), 0);
	rc = graph_render(a, &img, len, &err);
	if (rc != 0)
		fprintf(stderr, "\nrender: %s\n", err.msg);
	CU_ASSERT_EQUAL(rc, 0);
	return img;
}

static void check_png(const char *img, size_t len, int w, int h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	const unsigned char *p = (const unsigned char *)img;

	CU_ASSERT_FATAL(img != NULL && len > 33);
	CU_ASSERT(memcmp(p, sig, 8) == 0);
	CU_ASSERT(memcmp(p + 12, "IHDR", 4) == 0);
	/* -w/-h are the plot area's: the canvas adds axes, title and legend. */
	CU_ASSERT(be32(p + 16) > (uint32_t)w);
	CU_ASSERT(be32(p + 20) > (uint32_t)h);
	CU_ASSERT(be32(p + 16) < (uint32_t)w + 200);
}

/* GRAPH_TEST_OUT=DIR keeps the images, to look at them. */
static void keep_image(const char *probe, const char *view, const char *img, size_t len)
{
	const char *dir = getenv("GRAPH_TEST_OUT");
	char path[4096];
	FILE *f;

	if (dir == NULL || img == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s-%s.png", dir, probe, view);
	f = fopen(path, "wb");
	if (f != NULL) {
		if (fwrite(img, 1, len, f) != len)
			perror(path);
		fclose(f);
	}
}

static void test_png(void)
{
	static const struct {
		const char *probe, *inst, *view, *w, *h;
	} cases[] = {
		{ "fs", "/var", "used", "600", "200" },
		{ "fs", "a:b", "used", "400", "120" },
		{ "load", "", "load", "1000", "300" },
		{ "fs", "/var", "inodes", "300", "80" }, /* no legend */
		{ "cpu", "", "busy", "500", "150" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_query q = { { "host", "web1", "probe", cases[i].probe, "instance",
					  cases[i].inst, "view", cases[i].view, "w", cases[i].w,
					  "h", cases[i].h } };
		struct graph_args a;
		size_t len = 0;
		char *img = draw(&q, NULL, &a, &len);

		check_png(img, len, atoi(cases[i].w), atoi(cases[i].h));
		keep_image(cases[i].probe, cases[i].view, img, len);
		free(img);
		graph_args_free(&a);
	}
}

/* Runs a's graph with def (a VDEF; NULL: none) and "PRINT:VDEF:%.6lf" added and reads the printed
 * number into printed[0]: 1 when it was printed. */
static double printed[1];

static int print_vdef(const struct graph_args *a, const char *def, const char *vdef)
{
	char *argv[GRAPH_ARGS_MAX + 2], pr[64], d[128];
	rrd_info_t *info, *it;
	int n = 0;

	memcpy(argv, a->argv, (size_t)a->argc * sizeof(argv[0]));
	snprintf(pr, sizeof(pr), "PRINT:%s:%%.6lf", vdef);
	snprintf(d, sizeof(d), "%s", def ? def : "COMMENT: ");
	argv[a->argc] = d;
	argv[a->argc + 1] = pr;
	rrd_clear_error();
	info = rrd_graph_v(a->argc + 2, argv);
	for (it = info; it != NULL; it = it->next) {
		if (strcmp(it->key, "print[0]") == 0 && it->type == RD_I_STR) {
			printed[0] = strtod(it->value.u_str, NULL);
			n = 1;
		}
	}
	if (info == NULL)
		fprintf(stderr, "\nrrd_graph_v: %s\n", rrd_get_error());
	rrd_info_free(info);
	rrd_clear_error();
	return n;
}

static void test_args(void)
{
	struct fake_query q = { { "host", "web1", "probe", "load", "view", "load" } };
	struct fake_query qf = { { "host", "web1", "probe", "fs", "instance", "a:b" } };
	struct fake_query qc = { { "host", "web1", "probe", "cpu", "view", "busy" } };
	struct graph_args a;
	char want[8192];
	size_t len;
	char *img;

	img = draw(&q, NULL, &a, &len);
	free(img);
	CU_ASSERT(args_have(&a, "DEF:a0="));
	CU_ASSERT(args_have(&a, "DEF:x0=")); /* load1's MAX */
	CU_ASSERT(args_have(&a, "AREA:m0#") || args_have(&a, "LINE1:m0#"));
	CU_ASSERT(!args_have(&a, "DEF:x1=")); /* load5: average only */
	CU_ASSERT(!args_have(&a, "VDEF:tslope")); /* no capacity */
	CU_ASSERT(!args_have(&a, "--no-legend"));
	graph_args_free(&a);

	img = draw(&qf, NULL, &a, &len);
	free(img);
	/* Both ':' (data folder and escaped instance) written "\:". */
	snprintf(want, sizeof(want), "DEF:a0=%s/da\\:ta/rrd/web1/fs-a%%3Ab.rrd:used:AVERAGE",
		 base);
	CU_ASSERT(strchr(base, ':') == NULL);
	CU_ASSERT(args_have(&a, want));
	/* No forecast: RRDtool's own least-squares trend. */
	CU_ASSERT(args_have(&a, "VDEF:tslope=v0,LSLSLOPE"));
	CU_ASSERT(args_have(&a, "LINE1:v1#")); /* the size as the capacity line */
	CU_ASSERT(args_have(&a, "--base"));
	graph_args_free(&a);

	img = draw(&qc, NULL, &a, &len);
	free(img);
	CU_ASSERT(args_have(&a, "CDEF:ctot=c0,c2,ADDNAN,c3,ADDNAN,c4,ADDNAN"));
	CU_ASSERT(args_have(&a, "CDEF:v0=100,1,c3,c4,ADDNAN,ctot,/,-,*"));
	CU_ASSERT(args_have(&a, "CDEF:v1=c4,ctot,/,100,*"));
	CU_ASSERT(!args_have(&a, "CDEF:v2=")); /* no steal counter in the file */
	/* What the RPN computes: busy = 1 - (idle + iowait) / total of the
	 * counters' rates (30 + 10 + 190 + 10 per minute), iowait 10 / 240. */
	CU_ASSERT_EQUAL(print_vdef(&a, NULL, "g0"), 1);
	CU_ASSERT_DOUBLE_EQUAL(printed[0], 100.0 * (1 - 200.0 / 240), 1e-3);
	CU_ASSERT_EQUAL(print_vdef(&a, NULL, "g1"), 1);
	CU_ASSERT_DOUBLE_EQUAL(printed[0], 100.0 * 10 / 240, 1e-3);
	graph_args_free(&a);
}

static void test_svg(void)
{
	struct fake_query q = { { "host", "web1", "probe", "fs", "instance", "/var", "fmt", "svg",
				  "range", "1w" } };
	struct graph_args a;
	size_t len = 0;
	char *img = draw(&q, NULL, &a, &len);

	CU_ASSERT_FATAL(img != NULL && len > 100);
	CU_ASSERT(strncmp(img, "<?xml", 5) == 0);
	{
		char *z = malloc(len + 1);

		CU_ASSERT_FATAL(z != NULL);
		memcpy(z, img, len);
		z[len] = '\0';
		CU_ASSERT_PTR_NOT_NULL(strstr(z, "<svg"));
		free(z);
	}
	free(img);
	graph_args_free(&a);
}

static void fake_forecast(struct analyzer_forecast *f)
{
	memset(f, 0, sizeof(*f));
	f->rule = "forecast_fs_used";
	f->host = "web1";
	f->probe = "fs";
	f->instance = "/var";
	f->capacity = 100e9;
	f->at = (double)TEND - 1800;
	f->valid = 1;
	f->state = 1;
	f->value = 54e9;
	f->slope = 7.2e9;
	f->slope_lo = 6e9;
	f->slope_hi = 9e9;
	f->eta = f->at + (100e9 - 54e9) / 7.2e9 * 86400;
	f->eta_early = f->at + (100e9 - 54e9) / 9e9 * 86400;
	f->eta_late = f->at + (100e9 - 54e9) / 6e9 * 86400;
}

static void test_overlay(void)
{
	struct fake_query q = { { "host", "web1", "probe", "fs", "instance", "/var", "range", "1w" } };
	struct fake_query qd = { { "host", "web1", "probe", "fs", "instance", "/var" } };
	struct analyzer_forecast f;
	struct graph_args a;
	char want[256];
	size_t len = 0;
	char *img;

	fake_forecast(&f);
	img = draw(&q, &f, &a, &len);
	check_png(img, len, 600, 200);
	keep_image("fs", "forecast", img, len);
	free(img);
	/* The projection from (at, value) with the slope and its interval. */
	snprintf(want, sizeof(want), "CDEF:fp=fb,POP,TIME,%.17g,GE,%.17g,TIME,%.17g,-,%.17g,*", f.at,
		 f.value, f.at, f.slope);
	CU_ASSERT(args_have(&a, want));
	CU_ASSERT(args_have(&a, "CDEF:flo="));
	CU_ASSERT(args_have(&a, "CDEF:fhi="));
	CU_ASSERT(args_have(&a, "AREA:fband#"));
	CU_ASSERT(args_have(&a, "HRULE:100000000000#"));
	snprintf(want, sizeof(want), "VRULE:%.0f#" "DC2626" ":full ~", f.eta);
	CU_ASSERT(args_have(&a, want));
	CU_ASSERT(args_have(&a, "CDEF:feta="));
	CU_ASSERT(!args_have(&a, "VDEF:tslope"));
	/* The projection reaches the capacity and stays there; the band's
	 * top (interval above the trend) is never negative. */
	CU_ASSERT_EQUAL(print_vdef(&a, "VDEF:pq=fp,MAXIMUM", "pq"), 1);
	CU_ASSERT_DOUBLE_EQUAL(printed[0], 100e9, 1);
	CU_ASSERT_EQUAL(print_vdef(&a, "VDEF:pq=fp,MINIMUM", "pq"), 1);
	CU_ASSERT(printed[0] >= f.value - 1 && printed[0] < f.value + f.slope / 24);
	CU_ASSERT_EQUAL(print_vdef(&a, "VDEF:pq=fband,MINIMUM", "pq"), 1);
	CU_ASSERT(printed[0] >= 0);
	/* The end moved to past the late ETA (within a year and 4 spans). */
	CU_ASSERT(a.end > (long long)f.eta_late);
	CU_ASSERT(a.end <= TEND + 4 * 7 * 86400);
	graph_args_free(&a);

	/* A 1d graph: 4 days ahead at most; the ETA (6.4 days) is not drawn. */
	img = draw(&qd, &f, &a, &len);
	free(img);
	CU_ASSERT_EQUAL(a.end, TEND + 4 * 86400);
	CU_ASSERT(args_have(&a, "CDEF:fp="));
	CU_ASSERT(!args_have(&a, "VRULE:"));
	CU_ASSERT(!args_have(&a, "CDEF:feta=")); /* the early bound (5.1 d) is not either */
	graph_args_free(&a);

	/* A forecast without enough history, or not finite: no overlay. */
	f.valid = 0;
	img = draw(&q, &f, &a, &len);
	free(img);
	CU_ASSERT(!args_have(&a, "CDEF:fp="));
	CU_ASSERT(args_have(&a, "VDEF:tslope"));
	CU_ASSERT_EQUAL(a.end, TEND);
	graph_args_free(&a);
	fake_forecast(&f);
	f.slope_hi = NAN;
	img = draw(&q, &f, &a, &len);
	free(img);
	CU_ASSERT(!args_have(&a, "CDEF:fp="));
	graph_args_free(&a);
	/* Not due: the projection, no markers. */
	fake_forecast(&f);
	f.slope = f.slope_lo = -1e6;
	f.slope_hi = 1e6;
	f.eta = f.eta_early = f.eta_late = INFINITY;
	img = draw(&q, &f, &a, &len);
	CU_ASSERT_PTR_NOT_NULL(img);
	free(img);
	CU_ASSERT(args_have(&a, "CDEF:fp="));
	CU_ASSERT(!args_have(&a, "VRULE:"));
	CU_ASSERT(!args_have(&a, "CDEF:feta="));
	CU_ASSERT_EQUAL(a.end, TEND + 7 * 86400 / 4);
	graph_args_free(&a);
}

static void test_page(void)
{
	struct fake_query q = { { "host", "web1", "probe", "fs", "instance", "/var", "fmt", "svg" } };
	struct fake_query qp = { { "host", "web1", "probe", "load" } };
	struct page_req rq;
	struct page_resp out;

	req_init(&rq, &q);
	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(graph_page(&rq, &out), 0);
	CU_ASSERT_EQUAL(out.status, 200);
	CU_ASSERT_STRING_EQUAL(out.type, "image/svg+xml");
	CU_ASSERT_EQUAL(out.cache_s, 60);
	CU_ASSERT(out.body != NULL && out.len > 5 && strncmp(out.body, "<?xml", 5) == 0);
	free(out.body);
	req_init(&rq, &qp);
	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(graph_page(&rq, &out), 0);
	CU_ASSERT_EQUAL(out.status, 200);
	CU_ASSERT_STRING_EQUAL(out.type, "image/png");
	check_png(out.body, out.len, 600, 200);
	free(out.body);
}

/* Under LeakSanitizer (`./quickstart sanitize`): the leaks inside librrd
 * 1.7.2's rrd_graph_v and fontconfig's cache that headroom cannot free
 * (tests/librrd-graph.supp says the same to valgrind), and full stacks, as
 * librrd has no frame pointers to walk. Read by the sanitizer runtime
 * only; unused in other builds. */
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:rrd_graph_v\nleak:libfontconfig.so\n";
}

const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int main(void)
{
	CU_TestInfo tests[] = {
		{ "bad parameters: 400/404 with a message", test_bad_params },
		{ "instances escaped into the host's folder", test_instance_escaped },
		{ "graph_views' names are views", test_views },
		{ "defaults and spans", test_defaults_and_span },
		{ "PNG of real archives", test_png },
		{ "librrd arguments", test_args },
		{ "SVG", test_svg },
		{ "forecast overlay", test_overlay },
		{ "graph_page", test_page },
		CU_TEST_INFO_NULL,
	};
	int rc;

	setenv("TZ", "UTC", 1);
	if (suite_init() < 0)
		return 1;
	rc = run_suite("graph", tests);
	suite_clean();
	return rc;
}
