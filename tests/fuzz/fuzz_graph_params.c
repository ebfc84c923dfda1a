/* fuzz_graph_params.c: libFuzzer target for the query of GET /graph
 * (dashboards/graph.c graph_parse): the input is "key=value&key=value..."
 * with %XX decoded in values as libmicrohttpd would (a key that is not one
 * of graph's stands for the one its first byte selects; a leading '+'
 * adds the archive's host, probe and instance after them). A real archive
 * (DATA/rrd/web1/fs-%2F.rrd with DSes size and used) lets valid requests
 * reach the file checks. An accepted request must keep graph.h's promises
 * (valid host, sizes and span in range, the path inside the data folder)
 * and so must the librrd arguments built from it (nothing is rendered). */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "graph.h"
#include "wire.h"

#define FZ_NOW 1700092800.0 /* "now" of every request */
#define FZ_PAIRS 24
#define FZ_MAX 8192

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- page.h, fuzz-local (web.c is not linked) -------------------------------- */

struct fz_query {
	size_t n;
	const char *key[FZ_PAIRS], *val[FZ_PAIRS];
};

/* The first value given for key, as libmicrohttpd answers. */
const char *page_arg(const struct page_req *rq, const char *key)
{
	const struct fz_query *q = rq->impl;
	size_t i;

	for (i = 0; q != NULL && i < q->n; i++)
		if (strcmp(q->key[i], key) == 0)
			return q->val[i];
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
	out->len = out->body != NULL ? strlen(out->body) : 0;
	return out->body != NULL ? 0 : -1;
}

/* --- the data folder, made once ------------------------------------------------ */

static char fz_base[64] = "/tmp/fuzz_graph.XXXXXX";
static char fz_data[128], fz_real[PATH_MAX];

static void fz_cleanup(void)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/rrd/web1/fs-%%2F.rrd", fz_data);
	unlink(p);
	snprintf(p, sizeof(p), "%s/rrd/web1", fz_data);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/rrd", fz_data);
	rmdir(p);
	rmdir(fz_data);
	rmdir(fz_base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *ds[] = { "DS:size:GAUGE:120:0:U", "DS:used:GAUGE:120:0:U",
			     "RRA:AVERAGE:0.5:1:60", "RRA:MAX:0.5:1:60" };
	char p[256];

	(void)argc;
	(void)argv;
	if (mkdtemp(fz_base) == NULL)
		abort();
	snprintf(fz_data, sizeof(fz_data), "%s/DATA", fz_base);
	if (mkdir(fz_data, 0700) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/rrd", fz_data);
	if (mkdir(p, 0700) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/rrd/web1", fz_data);
	if (mkdir(p, 0700) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/rrd/web1/fs-%%2F.rrd", fz_data);
	if (rrd_create_r(p, 60, (time_t)FZ_NOW - 3600, 4, ds) != 0) {
		fprintf(stderr, "rrd_create_r: %s\n", rrd_get_error());
		abort();
	}
	if (realpath(fz_data, fz_real) == NULL)
		abort();
	atexit(fz_cleanup);
	return 0;
}

/* --- the query ------------------------------------------------------------------ */

static int fz_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX in place (a %00 ends the value, as a C string would). */
static void fz_decode(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && fz_hex(s[1]) >= 0 && fz_hex(s[2]) >= 0) {
			*w++ = (char)(fz_hex(s[1]) * 16 + fz_hex(s[2]));
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The parameters graph_parse reads; page_arg is asked for no other. */
static const char *const fz_keys[] = {
	"host", "probe", "instance", "view", "range", "start", "end", "fmt", "w", "h",
};

/* key, or when it is none of fz_keys the one its first byte selects: any
 * other key would be inert, and mutations should land on real ones. */
static const char *fz_key(const char *key)
{
	size_t i, n = sizeof(fz_keys) / sizeof(fz_keys[0]);

	for (i = 0; i < n; i++)
		if (strcmp(key, fz_keys[i]) == 0)
			return fz_keys[i];
	return fz_keys[(unsigned char)key[0] % n];
}

/* A leading '+' adds host=web1&probe=fs&instance=/ after the input's
 * pairs (page_arg answers the first): the archive, one byte away. */
static void fz_split(char *buf, struct fz_query *q)
{
	static const char *const preset[] = { "host", "web1", "probe", "fs", "instance", "/" };
	char *p = buf, *amp, *eq;
	int plus = buf[0] == '+';
	size_t i;

	q->n = 0;
	if (plus)
		p++;
	while (p != NULL && q->n < FZ_PAIRS - 3) {
		amp = strchr(p, '&');
		if (amp != NULL)
			*amp = '\0';
		eq = strchr(p, '=');
		if (eq != NULL) {
			*eq = '\0';
			fz_decode(eq + 1);
			q->key[q->n] = fz_key(p);
			q->val[q->n++] = eq + 1;
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	for (i = 0; plus && i < sizeof(preset) / sizeof(preset[0]); i += 2) {
		q->key[q->n] = preset[i];
		q->val[q->n++] = preset[i + 1];
	}
}

/* --- the promises ----------------------------------------------------------------- */

/* A DEF's file field, "\:" unescaped, into dst; -1 when there is none. */
static int fz_def_file(const char *arg, char *dst, size_t n)
{
	const char *p = strchr(arg, '=');
	size_t j = 0;

	if (p == NULL)
		return -1;
	for (p++; *p != '\0' && *p != ':'; p++) {
		if (p[0] == '\\' && p[1] == ':')
			p++;
		if (j + 1 >= n)
			return -1;
		dst[j++] = *p;
	}
	dst[j] = '\0';
	return *p == ':' ? 0 : -1;
}

/* path is the archive's, inside the data folder once resolved. */
static void fz_check_path(const char *path, const char *host)
{
	char real[PATH_MAX], want[PATH_MAX + 300];
	size_t wl;

	if (strstr(path, "/../") != NULL || strstr(path, "/./") != NULL)
		abort();
	if (realpath(path, real) == NULL)
		abort(); /* graph_parse saw the file: it exists */
	wl = (size_t)snprintf(want, sizeof(want), "%s/rrd/%s/", fz_real, host);
	if (strncmp(real, want, wl) != 0 || strchr(real + wl, '/') != NULL)
		abort();
}

static void fz_check(const struct graph_req *g)
{
	struct graph_args a;
	struct hr_err err;
	char file[GRAPH_PATH_MAX];
	int i, defs = 0;

	if (memchr(g->host, '\0', sizeof(g->host)) == NULL || !hr_host_valid(g->host) ||
	    memchr(g->probe, '\0', sizeof(g->probe)) == NULL ||
	    memchr(g->instance, '\0', sizeof(g->instance)) == NULL ||
	    memchr(g->path, '\0', sizeof(g->path)) == NULL || g->view == NULL ||
	    g->view_name == NULL)
		abort();
	if (g->width < 200 || g->width > 2000 || g->height < 80 || g->height > 1000)
		abort();
	if (!(g->start < g->end) || g->end - g->start < 60 || g->end - g->start > 5 * 365 * 86400LL ||
	    g->start < 0 || g->end > (long long)FZ_NOW + 365 * 86400LL)
		abort();
	if (g->fmt != GRAPH_PNG && g->fmt != GRAPH_SVG)
		abort();
	if (strncmp(g->path, fz_data, strlen(fz_data)) != 0)
		abort();
	fz_check_path(g->path, g->host);

	memset(&a, 0, sizeof(a));
	if (graph_args_build(g, NULL, &a, &err) == 0) {
		if (a.argc < 3 || a.argc > GRAPH_ARGS_MAX || strcmp(a.argv[0], "graph") != 0 ||
		    strcmp(a.argv[1], "-") != 0 || a.end != g->end)
			abort();
		for (i = 0; i < a.argc; i++) {
			if (a.argv[i] == NULL || strlen(a.argv[i]) > 2 * GRAPH_PATH_MAX + 256)
				abort();
			if (strncmp(a.argv[i], "DEF:", 4) == 0) {
				/* the only arguments naming a file: g's archive */
				if (fz_def_file(a.argv[i], file, sizeof(file)) < 0 ||
				    strcmp(file, g->path) != 0)
					abort();
				defs++;
			} else if (strstr(a.argv[i], fz_data) != NULL) {
				abort();
			}
			/* no other file-taking option of rrd_graph */
			if (a.argv[i][0] == '-' && a.argv[i][1] != '\0' &&
			    (strstr(a.argv[i], "font") != NULL || strstr(a.argv[i], "imginfo") != NULL ||
			     strstr(a.argv[i], "daemon") != NULL || strncmp(a.argv[i], "-f", 2) == 0))
				abort();
		}
		if (defs == 0)
			abort();
	}
	graph_args_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct page_env env;
	struct page_req rq;
	struct fz_query q;
	struct graph_req g;
	struct hr_err err;
	char *buf;
	int rc;

	if (size > FZ_MAX)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	fz_split(buf, &q);

	memset(&env, 0, sizeof(env));
	env.data_dir = fz_data;
	memset(&rq, 0, sizeof(rq));
	rq.env = &env;
	rq.method = "GET";
	rq.path = "/graph";
	rq.user = "fuzz";
	rq.role = ROLE_VIEWER;
	rq.now = FZ_NOW;
	rq.impl = &q;

	memset(&err, 0, sizeof(err));
	rc = graph_parse(&rq, &g, &err);
	if (rc == 0)
		fz_check(&g);
	else if ((rc != 400 && rc != 404 && rc != 500) || err.msg[0] == '\0' ||
		 memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
		abort();
	free(buf);
	return 0;
}
