/* graph.h: RRD graphs for the dashboards, drawn by librrd (rrd_graph_v)
 * as PNG or SVG. The request names a host, a probe, an instance and a view
 * (a probe's set of lines, e.g. fs "used"); every part is checked against
 * what exists (the host's folder, the archive's file, the view's data
 * sources) and the librrd arguments are built from the view table only:
 * no path, DS name or RPN from the request reaches librrd. A resource with
 * a forecast also gets its capacity line, the trend projected into the
 * future with its interval band and a marker at the projected exhaustion. */
#ifndef HR_GRAPH_H
#define HR_GRAPH_H

#include <stddef.h>

#include "err.h"
#include "page.h"

/* GET /graph?host=H&probe=P&instance=I&view=V&range=1h|1d|1w|1m|1y
 * [&start=UNIX&end=UNIX][&fmt=png|svg][&w=PX&h=PX] */
int graph_page(const struct page_req *rq, struct page_resp *out);

/* The views of a probe ("fs": "used", "inodes"; "load": "load"; ...):
 * returns how many, with their names in *names (static). 0 for a probe
 * without graphs. */
size_t graph_views(const char *probe, const char *const **names);

/* --- the steps of graph_page, for tests and the bench --- */

struct analyzer_forecast;
struct graph_view;

#define GRAPH_HOST_MAX 254      /* as HR_HOST_MAX */
#define GRAPH_PROBE_MAX 16      /* as HR_PROBE_MAX */
#define GRAPH_INSTANCE_MAX 256  /* as HR_INSTANCE_MAX; longer: 400 */
#define GRAPH_PATH_MAX 4096
#define GRAPH_LINES 6           /* lines of one view at most */
#define GRAPH_ARGS_MAX 200

enum graph_fmt { GRAPH_PNG = 0, GRAPH_SVG = 1 };

/* A checked request: everything in it exists or is in range. */
struct graph_req {
	char host[GRAPH_HOST_MAX];
	char probe[GRAPH_PROBE_MAX];
	char instance[GRAPH_INSTANCE_MAX];
	const struct graph_view *view;  /* graph.c's table */
	const char *view_name;          /* static */
	long long start, end;           /* unix seconds, start < end */
	enum graph_fmt fmt;
	int width, height;              /* of the plot area (rrdtool's -w/-h) */
	char path[GRAPH_PATH_MAX];      /* DATA/rrd/HOST/PROBE-INSTANCE.rrd */
	int has_ds[GRAPH_LINES];        /* the view's line i has its DS in the file */
	int has_max;                    /* the file has MAX archives */
	int has_cpu[8];                 /* cpu: which counters the file has */
};

/* Checks rq's query against the view table, the host's folder and the
 * archive (its data sources, read with rrd_info_r) into g. Returns 0, or
 * the HTTP status to answer (400 for a malformed or unknown parameter, 404
 * for a host, archive or data sources that do not exist, 500 for an
 * archive librrd cannot read, logged) with err saying which parameter and
 * why. Nothing from rq is kept but through g's checked
 * copies. */
int graph_parse(const struct page_req *rq, struct graph_req *g, struct hr_err *err);

/* The librrd arguments (argv for rrd_graph_v, argv[0] "graph", output
 * "-"): every string is built from the view table, g's checked numbers and
 * its path (':' escaped as DEF needs). fc (borrowed; NULL: none) adds the
 * forecast overlay when it is valid: capacity line, projection with its
 * interval band, markers at the ETA and its bounds, the graph's end moved
 * into the future. Caller frees with graph_args_free (also after -1). */
struct graph_args {
	int argc;
	char *argv[GRAPH_ARGS_MAX];
	long long end;   /* the graph's end (later than g->end with a forecast) */
	int oom;         /* an argument could not be added */
};
int graph_args_build(const struct graph_req *g, const struct analyzer_forecast *fc,
		     struct graph_args *a, struct hr_err *err);
void graph_args_free(struct graph_args *a);

/* Renders a with rrd_graph_v (one call at a time in the process: librrd's
 * graph code is not thread-safe) into *img (malloc'd, caller frees) of
 * *len bytes. 0, or -1 with librrd's error in err. */
int graph_render(const struct graph_args *a, char **img, size_t *len, struct hr_err *err);

#endif
