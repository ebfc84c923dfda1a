/* pages.c: the fleet overview (/), the capacity page (/capacity) and a
 * host's page (/hosts/NAME), server-rendered from fleet.h's data. Every
 * string from outside (host names, labels, summaries) goes through
 * hbuf_esc or hbuf_url. The alerts page and its forms are in page_alerts.c. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rrd.h>

#include "alerts.h"
#include "fleet.h"
#include "graph.h"
#include "html.h"
#include "page_rrd.h"
#include "pages.h"
#include "pageutil.h"
#include "registry.h"

#define FAR_ETA (10 * 365.25 * 86400) /* ETAs further out are "beyond 10 y" */

/* --- / ----------------------------------------------------------------------- */

static void overview_hosts(struct hbuf *b, const struct page_req *rq, const struct fleet *f)
{
	size_t i;
	int c;

	hbuf_puts(b, "<h2>Hosts</h2>\n<div class=\"scroll\"><table><thead><tr><th>Host</th>");
	for (c = 0; c < FLEET_NCHECKS; c++)
		hbuf_printf(b, "<th>%s</th>", fleet_check_title(c));
	hbuf_puts(b, "<th class=\"hide-sm\">Alerts</th><th class=\"hide-sm\">Last seen</th>"
		     "</tr></thead><tbody>\n");
	for (i = 0; i < f->n; i++) {
		const struct fleet_host *h = &f->hosts[i];

		hbuf_puts(b, "<tr><td>");
		pu_host_link(b, h->name);
		hbuf_puts(b, "</td>");
		for (c = 0; c < FLEET_NCHECKS; c++) {
			hbuf_puts(b, "<td>");
			pu_badge(b, h->health[c]);
			hbuf_puts(b, "</td>");
		}
		hbuf_printf(b, "<td class=\"num hide-sm\">%d</td><td class=\"hide-sm\">", h->firing);
		if (h->known)
			html_reltime(b, (double)h->last_seen, rq->now);
		else
			hbuf_puts(b, "<span class=\"muted\">not registered</span>");
		hbuf_puts(b, "</td></tr>\n");
	}
	hbuf_puts(b, "</tbody></table></div>\n");
}

int page_overview(const struct page_req *rq, struct page_resp *out)
{
	struct fleet f;
	struct hr_err err;
	struct hbuf b;
	sqlite3 *db = page_db(rq);

	if (db == NULL)
		return page_error(rq, out, 503, "the registry cannot be opened");
	if (fleet_load(&f, db, rq->env, rq->now, &err) < 0)
		return page_error(rq, out, 503, err.msg);
	hbuf_init(&b);
	html_begin(&b, rq, "Fleet", "overview");
	hbuf_printf(&b, "<p class=\"summary\"><strong>%zu</strong> hosts · ", f.n);
	hbuf_printf(&b, "<span class=\"badge %s\">%d stale</span> ", f.stale ? "stale" : "ok",
		    f.stale);
	hbuf_printf(&b, "<span class=\"badge %s\">%d critical</span> ",
		    f.critical ? "critical" : "ok", f.critical);
	hbuf_printf(&b, "<span class=\"badge %s\">%d warning</span> firing</p>\n",
		    f.warning ? "warning" : "ok", f.warning);
	hbuf_puts(&b, "<h2>Firing alerts</h2>\n");
	if (pu_alerts_table(&b, rq, f.alerts, PU_FIRING, NULL, 1, 0) == 0)
		hbuf_puts(&b, "<p class=\"muted\">No alert is firing.</p>\n");
	if (f.n == 0)
		hbuf_puts(&b, "<p class=\"muted\">No host has sent data yet.</p>\n");
	else
		overview_hosts(&b, rq, &f);
	html_end(&b);
	fleet_free(&f);
	return hbuf_to_resp(&b, out);
}

/* --- /capacity -------------------------------------------------------------- */

/* Is the forecast's value a byte count (as opposed to a count, inodes)? */
static int in_bytes(const struct analyzer_forecast *f)
{
	return strstr(f->rule, "inode") == NULL &&
	       (strcmp(f->probe, "fs") == 0 || strcmp(f->probe, "mem") == 0 ||
		strcmp(f->probe, "backup") == 0);
}

static void amount(struct hbuf *b, const struct analyzer_forecast *f, double v)
{
	if (in_bytes(f))
		html_bytes(b, v);
	else
		html_num(b, v);
}

/* The view of the forecast's probe that shows it: the one named in the
 * rule ("forecast_fs_inodes": "inodes"), else the first; NULL: none. */
static const char *fc_view(const struct analyzer_forecast *f)
{
	const char *const *names;
	size_t n = graph_views(f->probe, &names), i;

	for (i = 0; i < n; i++)
		if (strstr(f->rule, names[i]) != NULL)
			return names[i];
	return n > 0 ? names[0] : NULL;
}

static const char *fc_state(int state)
{
	return state >= 2 ? "critical" : state == 1 ? "warning" : "ok";
}

static void graph_img(struct hbuf *b, const char *host, const char *probe, const char *instance,
		      const char *view, const char *range, double start, double end, int w, int h)
{
	hbuf_puts(b, "<img src=\"/graph?host=");
	hbuf_url(b, host);
	hbuf_puts(b, "&amp;probe=");
	hbuf_url(b, probe);
	hbuf_puts(b, "&amp;instance=");
	hbuf_url(b, instance);
	hbuf_puts(b, "&amp;view=");
	hbuf_url(b, view);
	if (range != NULL) {
		hbuf_puts(b, "&amp;range=");
		hbuf_url(b, range);
	} else {
		hbuf_printf(b, "&amp;start=%.0f&amp;end=%.0f", start, end);
	}
	/* w and h are librrd's plot area: the image is larger (legend,
	 * axes), so the page leaves its size to the image and the style. */
	hbuf_printf(b, "&amp;w=%d&amp;h=%d\" loading=\"lazy\" alt=\"", w, h);
	hbuf_esc(b, probe);
	hbuf_puts(b, " ");
	hbuf_esc(b, instance);
	hbuf_puts(b, " ");
	hbuf_esc(b, view);
	hbuf_puts(b, "\">");
}

static void capacity_row(struct hbuf *b, const struct page_req *rq, const struct analyzer_forecast *f)
{
	const char *view = fc_view(f);

	hbuf_puts(b, "<tr><td>");
	pu_host_link(b, f->host);
	hbuf_puts(b, "</td><td>");
	hbuf_esc(b, f->probe);
	hbuf_puts(b, " ");
	hbuf_esc(b, f->instance);
	hbuf_puts(b, "<br><span class=\"muted\">");
	hbuf_esc(b, f->rule);
	hbuf_puts(b, "</span></td><td class=\"num\">");
	amount(b, f, f->value);
	hbuf_puts(b, " / ");
	amount(b, f, f->capacity);
	if (f->capacity > 0 && isfinite(f->value))
		hbuf_printf(b, "<br>%.1f %%", 100.0 * f->value / f->capacity);
	hbuf_puts(b, "</td><td class=\"num\">");
	if (f->valid && isfinite(f->slope)) {
		amount(b, f, f->slope);
		hbuf_puts(b, "/d");
		if (isfinite(f->slope_lo) && isfinite(f->slope_hi)) {
			hbuf_puts(b, "<br><span class=\"muted\">");
			amount(b, f, f->slope_lo);
			hbuf_puts(b, " … ");
			amount(b, f, f->slope_hi);
			hbuf_puts(b, "</span>");
		}
	} else {
		hbuf_puts(b, "<span class=\"muted\">learning</span>");
	}
	hbuf_puts(b, "</td><td>");
	if (isfinite(f->eta) && f->eta - rq->now > FAR_ETA) {
		/* A date centuries ahead says less than this. */
		hbuf_puts(b, "beyond 10 y<br><span class=\"muted\">earliest ");
		html_time(b, f->eta_early);
		hbuf_puts(b, "</span>");
	} else if (isfinite(f->eta)) {
		html_time(b, f->eta);
		hbuf_puts(b, "<br>");
		html_reltime(b, f->eta, rq->now);
		hbuf_puts(b, "<br><span class=\"muted\">");
		html_time(b, f->eta_early);
		hbuf_puts(b, " … ");
		if (isfinite(f->eta_late))
			html_time(b, f->eta_late);
		else
			hbuf_puts(b, "never");
		hbuf_puts(b, "</span>");
	} else {
		hbuf_puts(b, "<span class=\"muted\">not growing</span>");
	}
	hbuf_puts(b, "</td><td>");
	pu_badge_name(b, fc_state(f->state));
	hbuf_puts(b, "</td><td class=\"hide-sm\">");
	if (view != NULL)
		graph_img(b, f->host, f->probe, f->instance, view, "1m", 0, 0, 300, 80);
	hbuf_puts(b, "</td></tr>\n");
}

int page_capacity(const struct page_req *rq, struct page_resp *out)
{
	struct fleet_fc *v;
	struct hbuf b;
	size_t n, i;

	if (fleet_forecasts(rq->env->analyzer, &v, &n) < 0)
		return -1;
	hbuf_init(&b);
	html_begin(&b, rq, "Capacity", "capacity");
	if (n == 0) {
		hbuf_puts(&b, "<p class=\"muted\">No forecast yet: forecasts need a few hours of"
			      " data.</p>\n");
	} else {
		hbuf_printf(&b, "<p>%zu resources, soonest exhaustion first.</p>\n", n);
		hbuf_puts(&b, "<div class=\"scroll\"><table><thead><tr><th>Host</th><th>Resource</th>"
			      "<th class=\"num\">Use</th><th class=\"num\">Growth per day</th>"
			      "<th>Full (early … late)</th><th>State</th><th class=\"hide-sm\">Last"
			      " month</th></tr></thead><tbody>\n");
		for (i = 0; i < n; i++)
			capacity_row(&b, rq, &v[i].f);
		hbuf_puts(&b, "</tbody></table></div>\n");
	}
	html_end(&b);
	fleet_fc_free(v, n);
	return hbuf_to_resp(&b, out);
}

/* --- /hosts/NAME -------------------------------------------------------------- */

static const char *const ranges[] = { "1h", "1d", "1w", "1m", "1y" };

struct label_acc {
	struct hbuf *b;
	char probe[HR_PROBE_MAX], instance[HR_INSTANCE_MAX];
	int rows;
};

static int label_row(void *arg, const struct registry_label *l)
{
	struct label_acc *acc = arg;
	struct hbuf *b = acc->b;

	if (acc->rows == 0 || strcmp(acc->probe, l->probe) != 0 ||
	    strcmp(acc->instance, l->instance) != 0) {
		if (acc->rows == 0)
			hbuf_puts(b, "<h2>Labels</h2>\n<div class=\"scroll\"><table><thead><tr>"
				     "<th>Probe</th><th>Instance</th><th>Labels</th></tr></thead>"
				     "<tbody>\n");
		else
			hbuf_puts(b, "</td></tr>\n");
		hbuf_puts(b, "<tr><td>");
		hbuf_esc(b, l->probe);
		hbuf_puts(b, "</td><td>");
		hbuf_esc(b, l->instance);
		hbuf_puts(b, "</td><td>");
		snprintf(acc->probe, sizeof(acc->probe), "%s", l->probe);
		snprintf(acc->instance, sizeof(acc->instance), "%s", l->instance);
	} else {
		hbuf_puts(b, " · ");
	}
	hbuf_puts(b, "<span class=\"muted\">");
	hbuf_esc(b, l->name);
	hbuf_puts(b, "</span> ");
	hbuf_esc(b, l->value);
	acc->rows++;
	return 0;
}

/* The graphs' time span: range (one of ranges[]), or start/end. */
struct span {
	const char *range;
	double start, end;
};

static int host_span(const struct page_req *rq, struct span *sp, const char **msg)
{
	const char *r = page_arg(rq, "range"), *s = page_arg(rq, "start"), *e = page_arg(rq, "end");
	size_t i;

	sp->range = "1d";
	if ((s != NULL && *s) || (e != NULL && *e)) {
		if (pu_parse_time(s, &sp->start) < 0 || pu_parse_time(e, &sp->end) < 0) {
			*msg = "start and end must be dates (YYYY-MM-DD) or unix times";
			return -1;
		}
		if (e != NULL && strlen(e) == 10)
			sp->end += 86400; /* a date's end is the end of that day */
		if (sp->end <= sp->start || sp->end - sp->start > 10 * 366 * 86400.0) {
			*msg = "end must be after start, at most 10 years later";
			return -1;
		}
		sp->range = NULL;
		return 0;
	}
	if (r == NULL || *r == '\0')
		return 0;
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (strcmp(r, ranges[i]) == 0) {
			sp->range = ranges[i];
			return 0;
		}
	*msg = "range must be one of 1h, 1d, 1w, 1m, 1y";
	return -1;
}

static void host_ranges(struct hbuf *b, const char *host, const struct span *sp)
{
	size_t i;

	hbuf_puts(b, "<h2>Graphs</h2>\n<p>");
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (sp->range != NULL && strcmp(sp->range, ranges[i]) == 0) {
			hbuf_printf(b, "<strong>%s</strong> ", ranges[i]);
			continue;
		}
		hbuf_puts(b, "<a href=\"/hosts/");
		hbuf_url(b, host);
		hbuf_printf(b, "?range=%s\">%s</a> ", ranges[i], ranges[i]);
	}
	hbuf_puts(b, "</p>\n<form class=\"inline\" method=\"get\" action=\"/hosts/");
	hbuf_url(b, host);
	hbuf_puts(b, "\"><label>from <input type=\"date\" name=\"start\" required");
	if (sp->range == NULL) {
		struct tm tm;
		time_t t = (time_t)sp->start;
		char d[16];

		gmtime_r(&t, &tm);
		strftime(d, sizeof(d), "%Y-%m-%d", &tm);
		hbuf_printf(b, " value=\"%s\"", d);
	}
	hbuf_puts(b, "></label> <label>to <input type=\"date\" name=\"end\" required></label>"
		     " <button type=\"submit\">Show</button></form>\n");
}

static void host_graphs(struct hbuf *b, const char *host, const struct fleet_file *files,
			size_t n, const struct span *sp)
{
	size_t i, k, shown = 0;

	for (i = 0; i < n; i++) {
		const char *const *names;
		size_t nv = graph_views(files[i].probe, &names);

		for (k = 0; k < nv; k++) {
			if (shown++ == 0)
				hbuf_puts(b, "<div class=\"graphs\">\n");
			hbuf_puts(b, "<figure class=\"card\"><figcaption>");
			hbuf_esc(b, files[i].probe);
			hbuf_puts(b, " ");
			hbuf_esc(b, files[i].instance);
			hbuf_puts(b, " <span class=\"muted\">");
			hbuf_esc(b, names[k]);
			hbuf_puts(b, "</span></figcaption>");
			graph_img(b, host, files[i].probe, files[i].instance, names[k], sp->range,
				  sp->start, sp->end, 560, 180);
			hbuf_puts(b, "</figure>\n");
		}
	}
	if (shown > 0)
		hbuf_puts(b, "</div>\n");
	else
		hbuf_puts(b, "<p class=\"muted\">No archive of this host has graphs.</p>\n");
}

/* The latest values of every archive of the host (one rrd_lastupdate_r
 * each: a host has tens of archives, not thousands). */
static void host_latest(struct hbuf *b, const struct page_req *rq,
			const struct fleet_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		time_t last = 0;
		unsigned long cnt = 0, k;
		char **names = NULL, **vals = NULL;

		if (i == 0)
			hbuf_puts(b, "<h2>Latest values</h2>\n<div class=\"scroll\"><table><thead><tr>"
				     "<th>Probe</th><th>Instance</th><th>Values</th><th>Updated</th>"
				     "</tr></thead><tbody>\n");
		hbuf_puts(b, "<tr><td>");
		hbuf_esc(b, files[i].probe);
		hbuf_puts(b, "</td><td>");
		hbuf_esc(b, files[i].instance);
		hbuf_puts(b, "</td><td>");
		rrd_clear_error();
		if (rrd_lastupdate_r(files[i].path, &last, &cnt, &names, &vals) != 0) {
			hbuf_puts(b, "<span class=\"error\">");
			hbuf_esc(b, rrd_get_error());
			hbuf_puts(b, "</span></td><td></td></tr>\n");
			rrd_clear_error();
			continue;
		}
		for (k = 0; k < cnt; k++) {
			char *end;
			double v = strtod(vals[k], &end);

			hbuf_puts(b, k ? " · <span class=\"muted\">" : "<span class=\"muted\">");
			hbuf_esc(b, names[k]);
			hbuf_puts(b, "</span> ");
			if (end != vals[k] && isfinite(v))
				html_num(b, v);
			else
				hbuf_puts(b, "–");
			rrd_freemem(names[k]);
			rrd_freemem(vals[k]);
		}
		rrd_freemem(names);
		rrd_freemem(vals);
		hbuf_puts(b, "</td><td>");
		html_reltime(b, (double)last, rq->now);
		hbuf_puts(b, "</td></tr>\n");
	}
	if (n > 0)
		hbuf_puts(b, "</tbody></table></div>\n");
}

int page_host(const struct page_req *rq, struct page_resp *out)
{
	const char *name = strncmp(rq->path, "/hosts/", 7) == 0 ? rq->path + 7 : "";
	struct label_acc la = { 0 };
	struct registry_host rh;
	struct fleet_file *files = NULL;
	struct span sp;
	struct hr_err err;
	struct hbuf b;
	const char *msg = NULL;
	cJSON *alerts = NULL, *history = NULL;
	sqlite3 *db = page_db(rq);
	size_t nfiles = 0;
	int known, rc = -1;

	if (db == NULL)
		return page_error(rq, out, 503, "the registry cannot be opened");
	known = fleet_host_exists(db, rq->env->data_dir, name, &err);
	if (known < 0)
		return page_error(rq, out, 503, err.msg);
	if (known == 0)
		return page_error(rq, out, 404, "no such host");
	if (host_span(rq, &sp, &msg) < 0)
		return page_error(rq, out, 400, msg);
	if (registry_read_host(db, name, &rh, &err) < 0 ||
	    fleet_files(rq->env->data_dir, name, &files, &nfiles, &err) < 0)
		return page_error(rq, out, 503, err.msg);
	/* The open alerts whatever their age, and the recent history. */
	if (rq->env->alerts != NULL &&
	    ((alerts = alerts_list(rq->env->alerts, 0, 0, rq->now, &err)) == NULL ||
	     (history = alerts_list(rq->env->alerts, 1, 1000, rq->now, &err)) == NULL)) {
		cJSON_Delete(alerts);
		free(files);
		return page_error(rq, out, 503, err.msg);
	}
	hbuf_init(&b);
	html_begin(&b, rq, name, NULL);
	hbuf_puts(&b, "<p>");
	if (rh.last_seen > 0) {
		hbuf_puts(&b, "Last data ");
		html_reltime(&b, (double)rh.last_seen, rq->now);
		if (rh.interval > 0)
			hbuf_printf(&b, ", every %u s", rh.interval);
		hbuf_puts(&b, rh.stale ? " <span class=\"badge stale\">stale</span>" :
			  " <span class=\"badge ok\">sending</span>");
	} else {
		hbuf_puts(&b, "<span class=\"muted\">Not in the registry: archives only.</span>");
	}
	hbuf_printf(&b, " · %zu archives</p>\n", nfiles);
	hbuf_puts(&b, "<h2>Alerts</h2>\n");
	if (pu_alerts_table(&b, rq, alerts, PU_OPEN, name, 1, 1) == 0)
		hbuf_puts(&b, "<p class=\"muted\">No open alert.</p>\n");
	{
		struct hbuf ended;

		hbuf_init(&ended);
		if (pu_alerts_table(&ended, rq, history, PU_ENDED, name, 0, 0) > 0 && !ended.oom) {
			hbuf_puts(&b, "<h3>Resolved</h3>\n");
			hbuf_add(&b, ended.s, ended.len);
		}
		hbuf_free(&ended);
	}
	la.b = &b;
	if (registry_read_labels(db, name, label_row, &la, &err) < 0) {
		hbuf_puts(&b, "<p class=\"error\">");
		hbuf_esc(&b, err.msg);
		hbuf_puts(&b, "</p>\n");
	} else if (la.rows > 0) {
		hbuf_puts(&b, "</td></tr>\n</tbody></table></div>\n");
	}
	{
		/* Through rrdcached: what it holds into the files first. */
		struct page_rrd pr;
		size_t i;

		page_rrd_init(&pr, rq->env);
		for (i = 0; i < nfiles; i++)
			(void)page_rrd_flush(&pr, name, files[i].path);
		page_rrd_close(&pr);
	}
	host_latest(&b, rq, files, nfiles);
	host_ranges(&b, name, &sp);
	host_graphs(&b, name, files, nfiles, &sp);
	html_end(&b);
	rc = hbuf_to_resp(&b, out);
	cJSON_Delete(alerts);
	cJSON_Delete(history);
	free(files);
	return rc;
}
