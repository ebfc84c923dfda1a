/* graph.c: GET /graph, one archive's view drawn by librrd's rrd_graph_v.
 * The request is checked against the view table below, the host's folder
 * and the archive's data sources; the librrd arguments come from the table,
 * checked numbers and the escaped file path only. Capacity views get the
 * analyzer's forecast drawn into the future (graph.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <rrd.h>

#include "analyzer.h"
#include "graph.h"
#include "log.h"
#include "page_rrd.h"
#include "rrdstore.h"
#include "rules.h"
#include "wire.h"

#define GRAPH_LEGEND_MIN_H 120
#define YEAR (365 * 86400LL)

/* --- the view table -------------------------------------------------------- */

enum graph_style {
	GS_LINE1 = 0, /* a thin line */
	GS_LINE2,     /* the main line */
	GS_AREA,      /* a filled area with a darker edge */
	GS_CAP        /* a capacity or reference line, dashed */
};

enum graph_calc {
	GC_NONE = 0,   /* the DS's value (scaled, clamped) */
	GC_NONNEG,     /* the DS's value, negative values unknown (md sync -1) */
	GC_CPU_BUSY,   /* 100 x (1 - (idle + iowait) / total) of the counters */
	GC_CPU_SHARE   /* 100 x this counter / total */
};

struct graph_line {
	const char *ds;      /* the DS (value name); NULL ends the list */
	const char *legend;  /* no ':' (it separates librrd's fields) */
	const char *color;   /* RRGGBB */
	enum graph_style style;
	int max;             /* also draw MAX, lighter, behind */
	enum graph_calc calc;
	double scale;        /* 0: 1 */
	double clamp;        /* 0: none; else at most this */
};

struct graph_view {
	const char *probe, *name, *unit;
	int base1024;        /* bytes: k = 1024 */
	int lower0;          /* the y axis starts at 0 */
	int upper100;        /* a percentage of a whole: 0..100 */
	const char *fc_value; /* the forecast rule's value (capacity views) */
	const char *fc_rule;  /* the built-in rule's name, when there are no rules */
	struct graph_line lines[GRAPH_LINES];
};

#define C_BLUE "2563EB"
#define C_GREEN "16A34A"
#define C_ORANGE "EA580C"
#define C_PURPLE "7C3AED"
#define C_RED "DC2626"
#define C_GRAY "6B7280"
#define C_TEAL "0D9488"
#define C_AMBER "D97706"

static const char *const cpu_counters[8] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
};

static const struct graph_view graph_table[] = {
	{ "load", "load", "load", 0, 1, 0, NULL, NULL, {
		{ "load1", "1 min", C_BLUE, GS_LINE1, 1, GC_NONE, 0, 0 },
		{ "load5", "5 min", C_GREEN, GS_LINE2, 0, GC_NONE, 0, 0 },
		{ "load15", "15 min", C_ORANGE, GS_LINE2, 0, GC_NONE, 0, 0 },
		{ "ncpu", "CPUs", C_GRAY, GS_CAP, 0, GC_NONE, 0, 0 } } },
	{ "load", "procs", "processes", 0, 1, 0, NULL, NULL, {
		{ "procs_running", "running", C_BLUE, GS_LINE2, 1, GC_NONE, 0, 0 },
		{ "procs_total", "total", C_GRAY, GS_LINE1, 0, GC_NONE, 0, 0 } } },
	{ "cpu", "busy", "percent", 0, 1, 1, NULL, NULL, {
		{ "idle", "busy", C_BLUE, GS_AREA, 0, GC_CPU_BUSY, 0, 0 },
		{ "iowait", "iowait", C_ORANGE, GS_LINE1, 0, GC_CPU_SHARE, 0, 0 },
		{ "steal", "steal", C_RED, GS_LINE1, 0, GC_CPU_SHARE, 0, 0 } } },
	{ "mem", "used", "bytes", 1, 1, 0, "used", "forecast_mem_used", {
		{ "used", "used", C_BLUE, GS_AREA, 1, GC_NONE, 0, 0 },
		{ "total", "total", C_RED, GS_CAP, 0, GC_NONE, 0, 0 } } },
	{ "mem", "swap", "bytes", 1, 1, 0, NULL, NULL, {
		{ "swap_used", "swap used", C_PURPLE, GS_AREA, 1, GC_NONE, 0, 0 },
		{ "swap_total", "swap total", C_RED, GS_CAP, 0, GC_NONE, 0, 0 } } },
	{ "psi", "some", "percent stalled", 0, 1, 0, NULL, NULL, {
		{ "some_avg10", "some 10 s", C_ORANGE, GS_LINE1, 1, GC_NONE, 0, 0 },
		{ "some_avg60", "some 60 s", C_BLUE, GS_LINE2, 0, GC_NONE, 0, 0 } } },
	{ "psi", "full", "percent stalled", 0, 1, 0, NULL, NULL, {
		{ "full_avg10", "full 10 s", C_RED, GS_LINE1, 1, GC_NONE, 0, 0 },
		{ "full_avg60", "full 60 s", C_PURPLE, GS_LINE2, 0, GC_NONE, 0, 0 } } },
	{ "fs", "used", "bytes", 1, 1, 0, "used", "forecast_fs_used", {
		{ "used", "used", C_BLUE, GS_AREA, 1, GC_NONE, 0, 0 },
		{ "size", "size", C_RED, GS_CAP, 0, GC_NONE, 0, 0 } } },
	{ "fs", "inodes", "inodes", 0, 1, 0, "inodes_used", "forecast_fs_inodes", {
		{ "inodes_used", "inodes used", C_TEAL, GS_AREA, 1, GC_NONE, 0, 0 },
		{ "inodes", "inodes", C_RED, GS_CAP, 0, GC_NONE, 0, 0 } } },
	{ "disk", "bytes", "bytes/s", 1, 1, 0, NULL, NULL, {
		{ "read_bytes", "read", C_BLUE, GS_AREA, 1, GC_NONE, 0, 0 },
		{ "write_bytes", "write", C_ORANGE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "disk", "util", "percent busy", 0, 1, 1, NULL, NULL, {
		{ "io_ms", "util", C_PURPLE, GS_AREA, 1, GC_NONE, 0.1, 100 } } },
	{ "disk", "iops", "operations/s", 0, 1, 0, NULL, NULL, {
		{ "reads", "reads", C_BLUE, GS_LINE2, 1, GC_NONE, 0, 0 },
		{ "writes", "writes", C_ORANGE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "net", "bits", "bits/s", 0, 1, 0, NULL, NULL, {
		{ "rx_bytes", "received", C_GREEN, GS_AREA, 1, GC_NONE, 8, 0 },
		{ "tx_bytes", "sent", C_BLUE, GS_LINE2, 1, GC_NONE, 8, 0 } } },
	{ "net", "errors", "packets/s", 0, 1, 0, NULL, NULL, {
		{ "rx_errors", "rx errors", C_RED, GS_LINE2, 1, GC_NONE, 0, 0 },
		{ "tx_errors", "tx errors", C_ORANGE, GS_LINE2, 1, GC_NONE, 0, 0 },
		{ "rx_dropped", "rx dropped", C_PURPLE, GS_LINE1, 0, GC_NONE, 0, 0 },
		{ "tx_dropped", "tx dropped", C_GRAY, GS_LINE1, 0, GC_NONE, 0, 0 } } },
	{ "md", "disks", "disks", 0, 1, 0, NULL, NULL, {
		{ "active", "active", C_GREEN, GS_LINE2, 0, GC_NONE, 0, 0 },
		{ "failed", "failed", C_RED, GS_LINE2, 0, GC_NONE, 0, 0 },
		{ "spare", "spare", C_BLUE, GS_LINE1, 0, GC_NONE, 0, 0 },
		{ "missing", "missing", C_ORANGE, GS_LINE1, 0, GC_NONE, 0, 0 },
		{ "degraded", "degraded", C_PURPLE, GS_LINE1, 0, GC_NONE, 0, 0 } } },
	{ "md", "sync", "percent", 0, 1, 1, NULL, NULL, {
		{ "sync_percent", "sync", C_BLUE, GS_AREA, 0, GC_NONNEG, 0, 0 } } },
	{ "smart", "temperature", "degrees C", 0, 0, 0, NULL, NULL, {
		{ "temperature_c", "temperature", C_ORANGE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "smart", "sectors", "sectors", 0, 1, 0, NULL, NULL, {
		{ "reallocated", "reallocated", C_ORANGE, GS_LINE2, 0, GC_NONE, 0, 0 },
		{ "pending", "pending", C_RED, GS_LINE2, 0, GC_NONE, 0, 0 },
		{ "media_errors", "media errors", C_PURPLE, GS_LINE1, 0, GC_NONE, 0, 0 } } },
	{ "ups", "charge", "percent", 0, 1, 1, NULL, NULL, {
		{ "charge_percent", "charge", C_GREEN, GS_AREA, 0, GC_NONE, 0, 0 } } },
	{ "ups", "runtime", "minutes", 0, 1, 0, NULL, NULL, {
		{ "runtime_s", "runtime", C_BLUE, GS_LINE2, 0, GC_NONE, 1.0 / 60, 0 } } },
	{ "ups", "load", "percent", 0, 1, 0, NULL, NULL, {
		{ "load_percent", "load", C_PURPLE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "ups", "battery", "on battery", 0, 1, 0, NULL, NULL, {
		{ "on_battery", "on battery", C_RED, GS_AREA, 1, GC_NONE, 0, 0 },
		{ "low_battery", "low battery", C_ORANGE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "bond", "slaves", "slaves", 0, 1, 0, NULL, NULL, {
		{ "slaves", "slaves", C_GRAY, GS_CAP, 0, GC_NONE, 0, 0 },
		{ "slaves_up", "up", C_GREEN, GS_LINE2, 0, GC_NONE, 0, 0 } } },
	{ "backup", "age", "hours", 0, 1, 0, NULL, NULL, {
		{ "age_s", "age", C_BLUE, GS_LINE2, 1, GC_NONE, 1.0 / 3600, 0 } } },
	{ "backup", "size", "bytes", 1, 1, 0, NULL, NULL, {
		{ "size_bytes", "size", C_TEAL, GS_AREA, 0, GC_NONE, 0, 0 } } },
	{ "tls", "expiry", "days", 0, 1, 0, NULL, NULL, {
		{ "expiry_days", "expires in", C_AMBER, GS_LINE2, 0, GC_NONE, 0, 0 } } },
	{ "tls", "latency", "ms", 0, 1, 0, NULL, NULL, {
		{ "latency_ms", "latency", C_BLUE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "exec", "state", "0 ok 1 warn 2 crit 3 unknown", 0, 1, 0, NULL, NULL, {
		{ "state", "state", C_ORANGE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
	{ "agent", "spool", "bytes", 1, 1, 0, NULL, NULL, {
		{ "spool_bytes", "spool", C_PURPLE, GS_AREA, 1, GC_NONE, 0, 0 } } },
	{ "agent", "latency", "ms", 0, 1, 0, NULL, NULL, {
		{ "push_latency_ms", "push latency", C_BLUE, GS_LINE2, 1, GC_NONE, 0, 0 } } },
};

#define GRAPH_NVIEWS (sizeof(graph_table) / sizeof(graph_table[0]))

/* The view names per probe, in table order (graph_views' answer). */
struct graph_probe {
	const char *probe;
	size_t n;
	const char *const names[4];
};

static const struct graph_probe graph_probes[] = {
	{ "load", 2, { "load", "procs" } },
	{ "cpu", 1, { "busy" } },
	{ "mem", 2, { "used", "swap" } },
	{ "psi", 2, { "some", "full" } },
	{ "fs", 2, { "used", "inodes" } },
	{ "disk", 3, { "bytes", "util", "iops" } },
	{ "net", 2, { "bits", "errors" } },
	{ "md", 2, { "disks", "sync" } },
	{ "smart", 2, { "temperature", "sectors" } },
	{ "ups", 4, { "charge", "runtime", "load", "battery" } },
	{ "bond", 1, { "slaves" } },
	{ "backup", 2, { "age", "size" } },
	{ "tls", 2, { "expiry", "latency" } },
	{ "exec", 1, { "state" } },
	{ "agent", 2, { "spool", "latency" } },
};

size_t graph_views(const char *probe, const char *const **names)
{
	size_t i;

	for (i = 0; probe != NULL && i < sizeof(graph_probes) / sizeof(graph_probes[0]); i++) {
		if (strcmp(graph_probes[i].probe, probe) == 0) {
			*names = graph_probes[i].names;
			return graph_probes[i].n;
		}
	}
	*names = NULL;
	return 0;
}

static const struct graph_view *graph_find(const char *probe, const char *view)
{
	size_t i;

	for (i = 0; i < GRAPH_NVIEWS; i++)
		if (strcmp(graph_table[i].probe, probe) == 0 &&
		    (view == NULL || strcmp(graph_table[i].name, view) == 0))
			return &graph_table[i];
	return NULL;
}

/* --- the request ------------------------------------------------------------- */

/* Fills err and returns the HTTP status. */
static int graph_fail(struct hr_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int graph_fail(struct hr_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return status;
}

/* A decimal integer of at most 12 digits, nothing else; -1 otherwise. */
static int graph_int(const char *s, long long *v)
{
	long long x = 0;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 12)
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

static int graph_size(const struct page_req *rq, const char *key, int lo, int hi, int dflt,
		      int *out, struct hr_err *err)
{
	const char *s = page_arg(rq, key);
	long long v;

	if (s == NULL) {
		*out = dflt;
		return 0;
	}
	if (graph_int(s, &v) < 0 || v < lo || v > hi)
		return hr_err_set(err, "%s must be a whole number of pixels from %d to %d", key, lo,
				  hi);
	*out = (int)v;
	return 0;
}

/* The time span: range=1h|1d|1w|1m|1y (default 1d) ending now, or
 * start=UNIX&end=UNIX (which win over range). */
static int graph_span(const struct page_req *rq, struct graph_req *g, struct hr_err *err)
{
	static const struct {
		const char *name;
		long long s;
	} ranges[] = {
		{ "1h", 3600 }, { "1d", 86400 }, { "1w", 7 * 86400 }, { "1m", 31 * 86400 },
		{ "1y", YEAR },
	};
	const char *r = page_arg(rq, "range"), *s = page_arg(rq, "start"), *e = page_arg(rq, "end");
	long long now = (long long)rq->now, span = 0;
	size_t i;

	if (r != NULL) {
		for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
			if (strcmp(ranges[i].name, r) == 0)
				span = ranges[i].s;
		if (span == 0)
			return hr_err_set(err, "range must be one of 1h, 1d, 1w, 1m, 1y");
	}
	if (s == NULL && e == NULL) {
		g->end = now;
		g->start = now - (span ? span : 86400);
		return 0;
	}
	if (s == NULL || e == NULL)
		return hr_err_set(err, "a custom range needs both start and end (unix seconds)");
	if (graph_int(s, &g->start) < 0)
		return hr_err_set(err, "start must be unix seconds");
	if (graph_int(e, &g->end) < 0)
		return hr_err_set(err, "end must be unix seconds");
	if (g->start >= g->end)
		return hr_err_set(err, "start must be before end");
	if (g->end - g->start < 60)
		return hr_err_set(err, "the range must span at least 60 seconds");
	if (g->end - g->start > 5 * YEAR)
		return hr_err_set(err, "the range must span at most 5 years");
	if (g->end > now + YEAR)
		return hr_err_set(err, "end must be at most a year from now");
	return 0;
}

/* Reads the archive's data sources and consolidation functions: 0, -1
 * when it has none of the view's, -2 when librrd cannot read it. */
static int graph_file_info(struct graph_req *g, struct hr_err *err)
{
	const struct graph_view *v = g->view;
	rrd_info_t *info, *it;
	size_t i;
	int any = 0;

	rrd_clear_error();
	info = rrd_info_r(g->path);
	if (info == NULL) {
		/* librrd's message names the file: logged, not shown. */
		hr_log_warnx("dashboards: %s: %s", g->path, rrd_get_error());
		rrd_clear_error();
		hr_err_set(err, "the archive of %s%s%s cannot be read", g->probe,
			   g->instance[0] ? " " : "", g->instance);
		return -2;
	}
	for (it = info; it != NULL; it = it->next) {
		const char *k = it->key;
		size_t kl = strlen(k);

		if (strncmp(k, "rra[", 4) == 0 && kl > 8 && strcmp(k + kl - 4, "].cf") == 0 &&
		    it->type == RD_I_STR && strcmp(it->value.u_str, "MAX") == 0)
			g->has_max = 1;
		if (strncmp(k, "ds[", 3) != 0 || kl < 10 || strcmp(k + kl - 7, "].index") != 0)
			continue;
		for (i = 0; i < GRAPH_LINES && v->lines[i].ds != NULL; i++)
			if (strlen(v->lines[i].ds) == kl - 10 &&
			    strncmp(k + 3, v->lines[i].ds, kl - 10) == 0)
				g->has_ds[i] = 1;
		for (i = 0; i < 8; i++)
			if (strlen(cpu_counters[i]) == kl - 10 &&
			    strncmp(k + 3, cpu_counters[i], kl - 10) == 0)
				g->has_cpu[i] = 1;
	}
	rrd_info_free(info);
	for (i = 0; i < GRAPH_LINES && v->lines[i].ds != NULL; i++)
		any |= g->has_ds[i];
	if (!any)
		return hr_err_set(err, "the archive of %s%s%s has none of view %s's values", g->probe,
				  g->instance[0] ? " " : "", g->instance, v->name);
	return 0;
}

int graph_parse(const struct page_req *rq, struct graph_req *g, struct hr_err *err)
{
	const char *host = page_arg(rq, "host"), *probe = page_arg(rq, "probe");
	const char *inst = page_arg(rq, "instance"), *view = page_arg(rq, "view");
	const char *fmt = page_arg(rq, "fmt");
	char file[256];
	struct hr_err ferr;
	struct stat sb;
	int n;

	memset(g, 0, sizeof(*g));
	if (host == NULL || host[0] == '\0')
		return graph_fail(err, 400, "host is missing");
	if (strlen(host) >= sizeof(g->host) || !hr_host_valid(host))
		return graph_fail(err, 400, "host is not a valid host name");
	if (probe == NULL || probe[0] == '\0')
		return graph_fail(err, 400, "probe is missing");
	if (strlen(probe) >= sizeof(g->probe) || graph_find(probe, NULL) == NULL)
		return graph_fail(err, 400, "probe is not one with graphs");
	g->view = graph_find(probe, view != NULL && view[0] != '\0' ? view : NULL);
	if (g->view == NULL)
		return graph_fail(err, 400, "view is not one of probe %s's views", probe);
	g->view_name = g->view->name;
	memcpy(g->probe, probe, strlen(probe) + 1);
	if (inst == NULL)
		inst = "";
	if (strlen(inst) >= sizeof(g->instance))
		return graph_fail(err, 400, "instance is longer than %d bytes", GRAPH_INSTANCE_MAX - 1);
	memcpy(g->instance, inst, strlen(inst) + 1);
	if (graph_span(rq, g, err) < 0)
		return 400;
	if (fmt == NULL || strcmp(fmt, "png") == 0)
		g->fmt = GRAPH_PNG;
	else if (strcmp(fmt, "svg") == 0)
		g->fmt = GRAPH_SVG;
	else
		return graph_fail(err, 400, "fmt must be png or svg");
	if (graph_size(rq, "w", 200, 2000, 600, &g->width, err) < 0 ||
	    graph_size(rq, "h", 80, 1000, 200, &g->height, err) < 0)
		return 400;
	memcpy(g->host, host, strlen(host) + 1);

	/* rrdstore's own escaping: the name holds no '/' and is never "." or
	 * "..", so the path stays in the host's folder. */
	if (rrdstore_filename(file, sizeof(file), g->probe, g->instance, &ferr) < 0)
		return graph_fail(err, 400, "instance cannot name an archive");
	if (rq->env == NULL || rq->env->data_dir == NULL)
		return graph_fail(err, 404, "no data folder");
	n = snprintf(g->path, sizeof(g->path), "%s/rrd/%s", rq->env->data_dir, g->host);
	if (n < 0 || (size_t)n >= sizeof(g->path))
		return graph_fail(err, 404, "the data folder's path is too long");
	if (stat(g->path, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return graph_fail(err, 404, "no archives for host %s", g->host);
	n = snprintf(g->path, sizeof(g->path), "%s/rrd/%s/%s", rq->env->data_dir, g->host, file);
	if (n < 0 || (size_t)n >= sizeof(g->path))
		return graph_fail(err, 404, "the archive's path is too long");
	if (stat(g->path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return graph_fail(err, 404, "host %s has no archive for %s%s%s", g->host, g->probe,
				  g->instance[0] ? " " : "", g->instance);
	n = graph_file_info(g, err);
	return n == 0 ? 0 : n == -1 ? 404 : 500;
}

/* --- the librrd arguments ------------------------------------------------------ */

static void graph_arg(struct graph_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void graph_arg(struct graph_args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->oom)
		return;
	if (a->argc >= GRAPH_ARGS_MAX) {
		a->oom = 1;
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->oom = 1;
		return;
	}
	a->argv[a->argc++] = s;
}

void graph_args_free(struct graph_args *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
}

/* The title's copy of the instance: printable ASCII, no '\' (librrd's
 * escape character in text), at most 60 bytes. */
static void graph_title_part(char *dst, size_t n, const char *s)
{
	size_t i, j = 0;

	for (i = 0; s[i] != '\0' && j + 4 < n && i < 60; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[j++] = (c >= 0x20 && c < 0x7f && c != '\\') ? (char)c : '?';
	}
	if (s[i] != '\0')
		dst[j++] = '.', dst[j++] = '.', dst[j++] = '.';
	dst[j] = '\0';
}

/* A value's RPN from the consolidated vname src (a view's line). */
static void graph_expr(char *dst, size_t n, const struct graph_line *l, const char *src)
{
	size_t len;

	if (l->calc == GC_NONNEG)
		snprintf(dst, n, "%s,0,LT,UNKN,%s,IF", src, src);
	else
		snprintf(dst, n, "%s", src);
	len = strlen(dst);
	if (l->scale != 0 && l->scale != 1 && len < n)
		len += (size_t)snprintf(dst + len, n - len, ",%.17g,*", l->scale);
	if (l->clamp != 0 && len < n)
		snprintf(dst + len, n - len, ",%.17g,MIN", l->clamp);
}

static int graph_cpu_index(const char *name)
{
	int k;

	for (k = 0; k < 8; k++)
		if (strcmp(cpu_counters[k], name) == 0)
			return k;
	return -1;
}

static void graph_cpu_defs(struct graph_args *a, const struct graph_req *g, const char *path)
{
	char rpn[256];
	size_t len = 0;
	int k, first = 1;

	for (k = 0; k < 8; k++) {
		if (!g->has_cpu[k])
			continue;
		graph_arg(a, "DEF:c%d=%s:%s:AVERAGE", k, path, cpu_counters[k]);
		len += (size_t)snprintf(rpn + len, sizeof(rpn) - len, first ? "c%d" : ",c%d,ADDNAN", k);
		first = 0;
	}
	graph_arg(a, "CDEF:ctot=%s,0,+", rpn);
}

/* The forecast's overlay: projection and band from (at, value), capacity,
 * markers. Numbers come from the analyzer and are printed with %.17g. */
static void graph_overlay(struct graph_args *a, const struct analyzer_forecast *fc,
			  const char *path, const char *ds, int width, long long start,
			  long long end)
{
	char day[32];
	double e0, e1;

	/* The projection's time base: a pixel's step rather than the archive's
	 * that librrd picks for the whole span (which would draw stairs). */
	long long step = (end - start) / width;

	graph_arg(a, "DEF:fb=%s:%s:AVERAGE:step=%lld", path, ds, step < 60 ? 60 : step);
	/* value + slope x (t - at) / 1 day from at on, within 0..capacity */
#define GRAPH_PROJ "CDEF:%s=fb,POP,TIME,%.17g,GE,%.17g,TIME,%.17g,-,%.17g,*,86400,/,+," \
		   "0,MAX,%.17g,MIN,UNKN,IF"
	graph_arg(a, GRAPH_PROJ, "fp", fc->at, fc->value, fc->at, fc->slope, fc->capacity);
	graph_arg(a, GRAPH_PROJ, "flo", fc->at, fc->value, fc->at, fc->slope_lo, fc->capacity);
	graph_arg(a, GRAPH_PROJ, "fhi", fc->at, fc->value, fc->at, fc->slope_hi, fc->capacity);
#undef GRAPH_PROJ
	graph_arg(a, "CDEF:fband=fhi,flo,-");
	graph_arg(a, "LINE1:flo");
	graph_arg(a, "AREA:fband#" C_AMBER "40:interval:STACK");
	graph_arg(a, "LINE2:fp#" C_AMBER ":trend:dashes");
	graph_arg(a, "HRULE:%.17g#" C_RED ":capacity:dashes", fc->capacity);
	/* The ETA's bounds as a light band, the ETA as a line. */
	e0 = fc->eta_early;
	e1 = isfinite(fc->eta_late) ? fc->eta_late : (double)end;
	if (isfinite(e0) && e0 < (double)end && e1 > (double)start) {
		if (e0 < (double)start)
			e0 = (double)start;
		if (e1 > (double)end)
			e1 = (double)end;
		graph_arg(a, "CDEF:feta=fb,POP,TIME,%.17g,GE,TIME,%.17g,LE,*,INF,UNKN,IF", e0, e1);
		graph_arg(a, "AREA:feta#" C_RED "18");
		if (fc->eta_early > (double)start)
			graph_arg(a, "VRULE:%.0f#" C_RED "60", fc->eta_early);
		if (isfinite(fc->eta_late) && fc->eta_late < (double)end)
			graph_arg(a, "VRULE:%.0f#" C_RED "60", fc->eta_late);
	}
	if (isfinite(fc->eta) && fc->eta > (double)start && fc->eta <= (double)end) {
		time_t t = (time_t)fc->eta;
		struct tm tm;

		if (gmtime_r(&t, &tm) != NULL && strftime(day, sizeof(day), "%Y-%m-%d", &tm) > 0)
			graph_arg(a, "VRULE:%.0f#" C_RED ":full ~%s", fc->eta, day);
	}
}

/* Is fc one to draw on a graph of [start, end]? */
static int graph_fc_usable(const struct analyzer_forecast *fc, long long start, long long end)
{
	double span = (double)(end - start);

	return fc != NULL && fc->valid && fc->at > 0 && isfinite(fc->at) &&
	       isfinite(fc->value) && isfinite(fc->slope) && isfinite(fc->slope_lo) &&
	       isfinite(fc->slope_hi) && isfinite(fc->capacity) && fc->capacity > 0 &&
	       fc->at >= (double)start - span && fc->at <= (double)end + span / 4;
}

/* How far the graph goes past its end for a forecast: a quarter of the
 * span, or up to the late ETA (the ETA when that is not due), at most a
 * year and four spans so that the history keeps a fifth of the width. */
static long long graph_future(const struct analyzer_forecast *fc, long long start, long long end)
{
	double span = (double)(end - start), ext = span / 4, until = NAN;

	if (isfinite(fc->eta_late))
		until = fc->eta_late;
	else if (isfinite(fc->eta))
		until = fc->eta;
	if (isfinite(until) && until + span / 20 - (double)end > ext)
		ext = until + span / 20 - (double)end;
	if (ext > (double)YEAR)
		ext = (double)YEAR;
	if (ext > 4 * span)
		ext = 4 * span;
	return (long long)ext;
}

int graph_args_build(const struct graph_req *g, const struct analyzer_forecast *fc,
		     struct graph_args *a, struct hr_err *err)
{
	const struct graph_view *v = g->view;
	char path[2 * GRAPH_PATH_MAX], title[96], rpn[256];
	int i, m = -1, cpu = 0, over;
	size_t j = 0, k;

	memset(a, 0, sizeof(*a));
	/* DEF's fields are ':'-separated: a ':' in the path is written "\:". */
	for (k = 0; g->path[k] != '\0' && j + 3 < sizeof(path); k++) {
		if (g->path[k] == ':')
			path[j++] = '\\';
		path[j++] = g->path[k];
	}
	path[j] = '\0';
	for (i = 0; i < GRAPH_LINES && v->lines[i].ds != NULL; i++) {
		if (!g->has_ds[i])
			continue;
		if (v->fc_value != NULL && strcmp(v->lines[i].ds, v->fc_value) == 0)
			m = i;
		if (v->lines[i].calc == GC_CPU_BUSY || v->lines[i].calc == GC_CPU_SHARE)
			cpu = 1;
	}
	over = m >= 0 && graph_fc_usable(fc, g->start, g->end);
	a->end = g->end + (over ? graph_future(fc, g->start, g->end) : 0);
	graph_title_part(title, sizeof(title), g->instance);

	graph_arg(a, "graph");
	graph_arg(a, "-");
	graph_arg(a, "--imgformat");
	graph_arg(a, "%s", g->fmt == GRAPH_SVG ? "SVG" : "PNG");
	graph_arg(a, "--start");
	graph_arg(a, "%lld", g->start);
	graph_arg(a, "--end");
	graph_arg(a, "%lld", a->end);
	graph_arg(a, "--width");
	graph_arg(a, "%d", g->width);
	graph_arg(a, "--height");
	graph_arg(a, "%d", g->height);
	graph_arg(a, "--title");
	graph_arg(a, "%s %s%s%s %s", g->host, g->probe, title[0] ? " " : "", title, v->name);
	graph_arg(a, "--vertical-label");
	graph_arg(a, "%s", v->unit);
	graph_arg(a, "--slope-mode");
	graph_arg(a, "--border");
	graph_arg(a, "0");
	graph_arg(a, "--disable-rrdtool-tag");
	/* A small graph (a table's sparkline) is all plot: no legend. */
	if (g->height < GRAPH_LEGEND_MIN_H)
		graph_arg(a, "--no-legend");
	if (v->base1024) {
		graph_arg(a, "--base");
		graph_arg(a, "1024");
	}
	if (v->lower0) {
		graph_arg(a, "--lower-limit");
		graph_arg(a, "0");
	}
	if (v->upper100) {
		graph_arg(a, "--upper-limit");
		graph_arg(a, "100");
	}
	graph_arg(a, "--color=BACK#FFFFFF");
	graph_arg(a, "--color=CANVAS#FFFFFF");
	graph_arg(a, "--color=SHADEA#FFFFFF");
	graph_arg(a, "--color=SHADEB#FFFFFF");
	graph_arg(a, "--color=GRID#E5E7EB");
	graph_arg(a, "--color=MGRID#D1D5DB");
	graph_arg(a, "--color=FONT#374151");
	graph_arg(a, "--color=AXIS#9CA3AF");
	graph_arg(a, "--color=ARROW#9CA3AF");
	graph_arg(a, "--color=FRAME#FFFFFF");

	/* The data, consolidated as AVERAGE (and MAX where it is drawn). */
	if (cpu)
		graph_cpu_defs(a, g, path);
	for (i = 0; i < GRAPH_LINES && v->lines[i].ds != NULL; i++) {
		const struct graph_line *l = &v->lines[i];
		char src[16];

		if (!g->has_ds[i])
			continue;
		if (l->calc == GC_CPU_BUSY) {
			if (g->has_cpu[4])
				graph_arg(a, "CDEF:v%d=100,1,c3,c4,ADDNAN,ctot,/,-,*", i);
			else
				graph_arg(a, "CDEF:v%d=100,1,c3,ctot,/,-,*", i);
			continue;
		}
		if (l->calc == GC_CPU_SHARE) {
			graph_arg(a, "CDEF:v%d=c%d,ctot,/,100,*", i, graph_cpu_index(l->ds));
			continue;
		}
		graph_arg(a, "DEF:a%d=%s:%s:AVERAGE", i, path, l->ds);
		snprintf(src, sizeof(src), "a%d", i);
		graph_expr(rpn, sizeof(rpn), l, src);
		graph_arg(a, "CDEF:v%d=%s", i, rpn);
		if (l->max && g->has_max) {
			graph_arg(a, "DEF:x%d=%s:%s:MAX", i, path, l->ds);
			snprintf(src, sizeof(src), "x%d", i);
			graph_expr(rpn, sizeof(rpn), l, src);
			graph_arg(a, "CDEF:m%d=%s", i, rpn);
		}
	}
	/* MAX first, lighter, so that the averages are drawn over it. */
	for (i = 0; i < GRAPH_LINES && v->lines[i].ds != NULL; i++) {
		const struct graph_line *l = &v->lines[i];

		if (!g->has_ds[i] || !l->max || !g->has_max)
			continue;
		if (l->calc == GC_CPU_BUSY || l->calc == GC_CPU_SHARE)
			continue;
		if (l->style == GS_AREA)
			graph_arg(a, "AREA:m%d#%s28", i, l->color);
		else
			graph_arg(a, "LINE1:m%d#%s50", i, l->color);
	}
	for (i = 0; i < GRAPH_LINES && v->lines[i].ds != NULL; i++) {
		const struct graph_line *l = &v->lines[i];
		int has_m = l->max && g->has_max && l->calc != GC_CPU_BUSY && l->calc != GC_CPU_SHARE;

		if (!g->has_ds[i])
			continue;
		switch (l->style) {
		case GS_AREA:
			graph_arg(a, "AREA:v%d#%s60", i, l->color);
			graph_arg(a, "LINE1:v%d#%s:%-12s", i, l->color, l->legend);
			break;
		case GS_LINE1:
			graph_arg(a, "LINE1:v%d#%s:%-12s", i, l->color, l->legend);
			break;
		case GS_LINE2:
			graph_arg(a, "LINE2:v%d#%s:%-12s", i, l->color, l->legend);
			break;
		case GS_CAP:
			graph_arg(a, "LINE1:v%d#%s:%-12s:dashes", i, l->color, l->legend);
			break;
		}
		graph_arg(a, "VDEF:l%d=v%d,LAST", i, i);
		graph_arg(a, "VDEF:g%d=v%d,AVERAGE", i, i);
		graph_arg(a, "VDEF:h%d=%c%d,MAXIMUM", i, has_m ? 'm' : 'v', i);
		graph_arg(a, "GPRINT:l%d:now %%8.2lf%%s", i);
		graph_arg(a, "GPRINT:g%d:avg %%8.2lf%%s", i);
		graph_arg(a, "GPRINT:h%d:max %%8.2lf%%s\\l", i);
	}
	if (over) {
		graph_overlay(a, fc, path, v->lines[m].ds, g->width, g->start, a->end);
	} else if (m >= 0) {
		/* No forecast: the least-squares line over what is shown. */
		graph_arg(a, "VDEF:tslope=v%d,LSLSLOPE", m);
		graph_arg(a, "VDEF:tint=v%d,LSLINT", m);
		graph_arg(a, "CDEF:trend=v%d,POP,tslope,COUNT,*,tint,+", m);
		graph_arg(a, "LINE1:trend#" C_GRAY ":trend:dashes");
	}
	if (a->oom)
		return hr_err_set(err, "graph: out of memory building the arguments");
	return 0;
}

/* --- rendering ----------------------------------------------------------------- */

/* librrd's graph code keeps process-wide state (locale, font cache, the
 * per-call error it reads back): one rrd_graph_v at a time. The lock
 * guards a library, not data of ours. */
static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;

int graph_render(const struct graph_args *a, char **img, size_t *len, struct hr_err *err)
{
	char *argv[GRAPH_ARGS_MAX];
	rrd_info_t *info, *it;
	int rc = -1;

	*img = NULL;
	*len = 0;
	/* librrd may permute its argv: give it a copy of the pointers. */
	memcpy(argv, a->argv, (size_t)a->argc * sizeof(argv[0]));
	pthread_mutex_lock(&graph_lock);
	rrd_clear_error();
	info = rrd_graph_v(a->argc, argv);
	if (info == NULL) {
		hr_err_set(err, "graph: %s", rrd_test_error() ? rrd_get_error() : "librrd failed");
		goto out;
	}
	for (it = info; it != NULL; it = it->next) {
		if (it->type != RD_I_BLO || strcmp(it->key, "image") != 0)
			continue;
		*img = malloc(it->value.u_blo.size ? it->value.u_blo.size : 1);
		if (*img == NULL) {
			hr_err_set(err, "graph: out of memory");
			goto out;
		}
		memcpy(*img, it->value.u_blo.ptr, it->value.u_blo.size);
		*len = it->value.u_blo.size;
		rc = 0;
		break;
	}
	if (rc < 0 && *img == NULL)
		hr_err_set(err, "graph: librrd returned no image");
out:
	rrd_info_free(info);
	rrd_clear_error();
	pthread_mutex_unlock(&graph_lock);
	return rc;
}

/* --- the page ------------------------------------------------------------------ */

struct graph_fc_find {
	const struct graph_req *g;
	const struct rules *rs;
	struct analyzer_forecast f;
	int found;
};

/* The forecast of g's series by a rule that forecasts the view's value as
 * it is stored (no divisor, no scale): its numbers are in the DS's units. */
static int graph_fc_match(void *arg, const struct analyzer_forecast *f)
{
	struct graph_fc_find *ff = arg;
	const struct graph_req *g = ff->g;
	const char *inst = f->instance ? f->instance : "";

	if (f->host == NULL || f->probe == NULL || f->rule == NULL ||
	    strcmp(f->host, g->host) != 0 || strcmp(f->probe, g->probe) != 0 ||
	    strcmp(inst, g->instance) != 0)
		return 0;
	if (ff->rs != NULL) {
		const struct rule *r = rules_find(ff->rs, f->rule);

		if (r == NULL || r->detector != RULE_FORECAST ||
		    strcmp(r->value, g->view->fc_value) != 0 || r->divisor[0] != '\0' ||
		    r->scale != 1)
			return 0;
	} else if (strcmp(f->rule, g->view->fc_rule) != 0) {
		return 0;
	}
	ff->f = *f;
	ff->f.rule = ff->f.host = ff->f.probe = ff->f.instance = NULL;
	ff->found = 1;
	return 1;
}

int graph_page(const struct page_req *rq, struct page_resp *out)
{
	struct graph_req g;
	struct graph_args a;
	struct graph_fc_find ff;
	struct hr_err err = { { 0 } };
	struct page_rrd pr;
	char *img;
	size_t len;
	int rc;

	rc = graph_parse(rq, &g, &err);
	if (rc != 0)
		return page_error(rq, out, rc, err.msg);
	/* Through rrdcached: what it holds goes into the file first. When it
	 * cannot be asked, the graph shows what the file has. */
	page_rrd_init(&pr, rq->env);
	(void)page_rrd_flush(&pr, g.host, g.path);
	page_rrd_close(&pr);
	memset(&ff, 0, sizeof(ff));
	ff.g = &g;
	ff.rs = rq->env->rules;
	if (g.view->fc_value != NULL && rq->env->analyzer != NULL &&
	    analyzer_forecasts(rq->env->analyzer, graph_fc_match, &ff) < 0)
		ff.found = 0;
	if (graph_args_build(&g, ff.found ? &ff.f : NULL, &a, &err) < 0) {
		graph_args_free(&a);
		return -1;
	}
	rc = graph_render(&a, &img, &len, &err);
	graph_args_free(&a);
	if (rc < 0) {
		hr_log_warnx("dashboards: %s %s %s %s: %s", g.host, g.probe, g.instance, g.view_name,
			     err.msg);
		return page_error(rq, out, 500, "the graph could not be drawn");
	}
	out->status = 200;
	out->type = g.fmt == GRAPH_SVG ? "image/svg+xml" : "image/png";
	out->body = img;
	out->len = len;
	out->cache_s = 60;
	return 0;
}
