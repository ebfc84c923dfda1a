/* api.c: the JSON API for scripts (/api/v1/hosts, series, alerts,
 * forecasts, and POST /api/v1/alerts/ack), from the same data as the pages
 * (fleet.h). A series' data come from its archive through rrd_fetch_r; the
 * request only picks among what exists (host folder, archive name from
 * rrdstore_filename, DS names read from the file, a fixed set of CFs): no
 * path or name from the request reaches librrd unchecked. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "alerts.h"
#include "fleet.h"
#include "page_rrd.h"
#include "pages.h"
#include "pageutil.h"
#include "registry.h"
#include "rrdstore.h"

#define SERIES_POINTS_MAX 10000
#define SERIES_SPAN_MAX (20 * 366 * 86400.0)
#define ALERTS_LIMIT_MAX 10000

static void add_num(cJSON *o, const char *name, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* --- /api/v1/hosts[/NAME] ------------------------------------------------------ */

struct host_obj {
	const char *name;
	cJSON *labels; /* probe -> instance -> name -> value */
};

static int by_obj_name(const void *a, const void *b)
{
	return strcmp(((const struct host_obj *)a)->name, ((const struct host_obj *)b)->name);
}

struct label_acc {
	struct host_obj *v;
	size_t n;
};

static int label_take(void *arg, const struct registry_label *l)
{
	struct label_acc *acc = arg;
	struct host_obj key = { .name = l->host }, *h;
	cJSON *p, *i;

	h = bsearch(&key, acc->v, acc->n, sizeof(*acc->v), by_obj_name);
	if (h == NULL)
		return 0;
	p = cJSON_GetObjectItemCaseSensitive(h->labels, l->probe);
	if (p == NULL)
		p = cJSON_AddObjectToObject(h->labels, l->probe);
	i = cJSON_GetObjectItemCaseSensitive(p, l->instance);
	if (i == NULL)
		i = cJSON_AddObjectToObject(p, l->instance);
	cJSON_AddStringToObject(i, l->name, l->value);
	return 0;
}

static cJSON *host_json(const struct fleet_host *h, struct host_obj *ho)
{
	cJSON *o = cJSON_CreateObject(), *health;
	int c;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", h->name);
	cJSON_AddBoolToObject(o, "registered", h->known);
	if (h->known) {
		cJSON_AddNumberToObject(o, "last_seen", (double)h->last_seen);
		cJSON_AddNumberToObject(o, "interval", h->interval);
	} else {
		cJSON_AddNullToObject(o, "last_seen");
		cJSON_AddNullToObject(o, "interval");
	}
	cJSON_AddBoolToObject(o, "stale", h->stale);
	if (h->stale)
		cJSON_AddNumberToObject(o, "stale_since", (double)h->stale_since);
	health = cJSON_AddObjectToObject(o, "health");
	for (c = 0; c < FLEET_NCHECKS; c++) {
		const char *name = fleet_health_name(h->health[c]);

		if (name != NULL)
			cJSON_AddStringToObject(health, fleet_check_key(c), name);
		else
			cJSON_AddNullToObject(health, fleet_check_key(c));
	}
	cJSON_AddStringToObject(o, "worst", fleet_health_name(h->worst));
	cJSON_AddNumberToObject(o, "firing", h->firing);
	ho->name = h->name;
	ho->labels = cJSON_AddObjectToObject(o, "labels");
	return o;
}

int api_hosts(const struct page_req *rq, struct page_resp *out)
{
	const char *one = strncmp(rq->path, "/api/v1/hosts/", 14) == 0 ? rq->path + 14 : NULL;
	struct label_acc la = { 0 };
	struct fleet f;
	struct hr_err err;
	cJSON *doc = NULL, *arr, *o;
	sqlite3 *db = page_db(rq);
	size_t i;
	int rc = -1;

	if (db == NULL)
		return page_error(rq, out, 503, "the registry cannot be opened");
	if (one != NULL && !hr_host_valid(one))
		return page_error(rq, out, 404, "no such host");
	if (fleet_load(&f, db, rq->env, rq->now, &err) < 0)
		return page_error(rq, out, 503, err.msg);
	if (one != NULL && fleet_find(&f, one) == NULL) {
		fleet_free(&f);
		return page_error(rq, out, 404, "no such host");
	}
	la.v = calloc(f.n ? f.n : 1, sizeof(*la.v));
	doc = cJSON_CreateObject();
	arr = one == NULL ? cJSON_AddArrayToObject(doc, "hosts") : NULL;
	if (la.v == NULL || doc == NULL || (one == NULL && arr == NULL))
		goto out;
	for (i = 0; i < f.n; i++) {
		const struct fleet_host *h = &f.hosts[i];

		if (one != NULL && strcmp(h->name, one) != 0)
			continue;
		if ((o = host_json(h, &la.v[la.n])) == NULL)
			goto out;
		la.n++;
		if (one != NULL) {
			cJSON *al = cJSON_AddArrayToObject(o, "alerts"), *it;

			cJSON_AddItemToObject(doc, "host", o);
			cJSON_ArrayForEach(it, f.alerts)
				if (strcmp(pu_str(it, "host"), one) == 0)
					cJSON_AddItemToArray(al, cJSON_Duplicate(it, 1));
		} else {
			cJSON_AddItemToArray(arr, o);
		}
	}
	qsort(la.v, la.n, sizeof(*la.v), by_obj_name);
	if (registry_read_labels(db, one, label_take, &la, &err) < 0) {
		cJSON_Delete(doc);
		doc = NULL;
		rc = page_error(rq, out, 503, err.msg);
		goto out;
	}
	rc = html_json(out, doc);
	doc = NULL;
out:
	cJSON_Delete(doc);
	free(la.v);
	fleet_free(&f);
	return rc;
}

/* --- /api/v1/series ---------------------------------------------------------- */

/* The archives of host with their DS names and last update. */
static int series_list(const struct page_req *rq, struct page_resp *out, const char *host,
		       const struct fleet_file *files, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	size_t i;

	if (doc == NULL)
		return -1;
	cJSON_AddStringToObject(doc, "host", host);
	arr = cJSON_AddArrayToObject(doc, "series");
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject(), *ds;
		time_t last = 0;
		unsigned long cnt = 0, k;
		char **names = NULL, **vals = NULL;

		if (o == NULL)
			break;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "probe", files[i].probe);
		cJSON_AddStringToObject(o, "instance", files[i].instance);
		ds = cJSON_AddArrayToObject(o, "ds");
		rrd_clear_error();
		if (rrd_lastupdate_r(files[i].path, &last, &cnt, &names, &vals) != 0) {
			cJSON_AddStringToObject(o, "error", rrd_get_error());
			rrd_clear_error();
			continue;
		}
		for (k = 0; k < cnt; k++) {
			cJSON_AddItemToArray(ds, cJSON_CreateString(names[k]));
			rrd_freemem(names[k]);
			rrd_freemem(vals[k]);
		}
		rrd_freemem(names);
		rrd_freemem(vals);
		cJSON_AddNumberToObject(o, "last_update", (double)last);
	}
	(void)rq;
	return html_json(out, doc);
}

static int series_time(const char *s, double dflt, double *t)
{
	if (s == NULL || *s == '\0') {
		*t = dflt;
		return 0;
	}
	return pu_parse_time(s, t);
}

/* The data points of one archive; every parameter is checked first. */
static int series_data(const struct page_req *rq, struct page_resp *out, const char *host,
		       const struct fleet_file *files, size_t n)
{
	const char *probe = page_arg(rq, "probe"), *inst = page_arg(rq, "instance");
	const char *want = page_arg(rq, "ds"), *cfa = page_arg(rq, "cf");
	static const char *const cfs[] = { "AVERAGE", "MAX", "MIN" };
	const struct fleet_file *ff = NULL;
	const char *cf = NULL;
	double start, end;
	time_t ts, te;
	unsigned long step, cnt = 0, k, rows, r;
	char **names = NULL;
	rrd_value_t *data = NULL;
	cJSON *doc = NULL, *pts, *dsa;
	long sel = -1;
	size_t i;
	int rc = -1;

	if (inst == NULL)
		inst = "";
	for (i = 0; i < n && ff == NULL; i++)
		if (strcmp(files[i].probe, probe) == 0 && strcmp(files[i].instance, inst) == 0)
			ff = &files[i];
	if (ff == NULL)
		return page_error(rq, out, 404, "no such series (probe and instance) for this host");
	for (i = 0; i < sizeof(cfs) / sizeof(cfs[0]); i++)
		if (cfa == NULL || *cfa == '\0' ? i == 0 : strcmp(cfa, cfs[i]) == 0)
			cf = cfs[i];
	if (cf == NULL)
		return page_error(rq, out, 400, "cf must be AVERAGE, MAX or MIN");
	if (series_time(page_arg(rq, "end"), rq->now, &end) < 0 ||
	    series_time(page_arg(rq, "start"), end - 86400, &start) < 0)
		return page_error(rq, out, 400, "start and end must be unix times or UTC dates");
	if (!(end > start) || end - start > SERIES_SPAN_MAX)
		return page_error(rq, out, 400, "end must be after start, at most 20 years later");
	ts = (time_t)start;
	te = (time_t)end;
	/* Ask for a resolution that keeps the answer within the cap. */
	step = (unsigned long)ceil((end - start) / SERIES_POINTS_MAX);
	if (step < 1)
		step = 1;
	rrd_clear_error();
	if (rrd_fetch_r(ff->path, cf, &ts, &te, &step, &cnt, &names, &data) != 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "cannot read the series: %s", rrd_get_error());
		rrd_clear_error();
		return page_error(rq, out, 400, msg);
	}
	if (want != NULL && *want != '\0') {
		for (k = 0; k < cnt; k++)
			if (strcmp(names[k], want) == 0)
				sel = (long)k;
		if (sel < 0) {
			rc = page_error(rq, out, 404, "no such ds in this series");
			goto out;
		}
	}
	doc = cJSON_CreateObject();
	if (doc == NULL)
		goto out;
	cJSON_AddStringToObject(doc, "host", host);
	cJSON_AddStringToObject(doc, "probe", ff->probe);
	cJSON_AddStringToObject(doc, "instance", ff->instance);
	cJSON_AddStringToObject(doc, "cf", cf);
	cJSON_AddNumberToObject(doc, "start", (double)ts);
	cJSON_AddNumberToObject(doc, "end", (double)te);
	cJSON_AddNumberToObject(doc, "step", (double)step);
	dsa = cJSON_AddArrayToObject(doc, "ds");
	for (k = 0; k < cnt; k++)
		if (sel < 0 || (long)k == sel)
			cJSON_AddItemToArray(dsa, cJSON_CreateString(names[k]));
	pts = cJSON_AddArrayToObject(doc, "points");
	rows = step > 0 && te > ts ? (unsigned long)(te - ts) / step : 0;
	if (rows > SERIES_POINTS_MAX)
		rows = SERIES_POINTS_MAX;
	for (r = 0; r < rows && pts != NULL; r++) {
		cJSON *row = cJSON_CreateArray();

		if (row == NULL)
			break;
		cJSON_AddItemToArray(pts, row);
		cJSON_AddItemToArray(row, cJSON_CreateNumber((double)ts + (double)(r + 1) * step));
		for (k = 0; k < cnt; k++) {
			double v = data[r * cnt + k];

			if (sel >= 0 && (long)k != sel)
				continue;
			cJSON_AddItemToArray(row, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
		}
	}
	rc = html_json(out, doc);
	doc = NULL;
out:
	cJSON_Delete(doc);
	for (k = 0; k < cnt; k++)
		rrd_freemem(names[k]);
	rrd_freemem(names);
	rrd_freemem(data);
	return rc;
}

int api_series(const struct page_req *rq, struct page_resp *out)
{
	const char *host = page_arg(rq, "host"), *probe = page_arg(rq, "probe");
	struct fleet_file *files = NULL;
	struct page_rrd pr;
	struct hr_err err;
	sqlite3 *db = page_db(rq);
	size_t n = 0, i;
	int known, rc;

	if (host == NULL || *host == '\0')
		return page_error(rq, out, 400, "host is required");
	if (db == NULL)
		return page_error(rq, out, 503, "the registry cannot be opened");
	known = fleet_host_exists(db, rq->env->data_dir, host, &err);
	if (known < 0)
		return page_error(rq, out, 503, err.msg);
	if (known == 0)
		return page_error(rq, out, 404, "no such host");
	if (fleet_files(rq->env->data_dir, host, &files, &n, &err) < 0)
		return page_error(rq, out, 503, err.msg);
	/* Through rrdcached: what it holds into the files first (the one
	 * asked for, or all of them for the list). */
	page_rrd_init(&pr, rq->env);
	for (i = 0; i < n; i++) {
		const char *inst = page_arg(rq, "instance");

		if (probe == NULL || *probe == '\0' ||
		    (strcmp(files[i].probe, probe) == 0 &&
		     strcmp(files[i].instance, inst != NULL ? inst : "") == 0))
			(void)page_rrd_flush(&pr, host, files[i].path);
	}
	page_rrd_close(&pr);
	if (probe == NULL || *probe == '\0')
		rc = series_list(rq, out, host, files, n);
	else
		rc = series_data(rq, out, host, files, n);
	free(files);
	return rc;
}

/* --- /api/v1/alerts ------------------------------------------------------------- */

int api_alerts(const struct page_req *rq, struct page_resp *out)
{
	const char *state = page_arg(rq, "state"), *lim = page_arg(rq, "limit");
	struct hr_err err;
	cJSON *arr, *doc, *it;
	long limit = 1000;
	int all = 0, firing = 0;

	if (state == NULL || *state == '\0' || strcmp(state, "open") == 0)
		;
	else if (strcmp(state, "firing") == 0)
		firing = 1;
	else if (strcmp(state, "all") == 0)
		all = 1;
	else
		return page_error(rq, out, 400, "state must be open, firing or all");
	if (lim != NULL && *lim != '\0') {
		char *end;

		errno = 0;
		limit = strtol(lim, &end, 10);
		if (errno != 0 || *end != '\0' || limit < 1 || limit > ALERTS_LIMIT_MAX)
			return page_error(rq, out, 400, "limit must be 1 to 10000");
	}
	if (rq->env->alerts == NULL)
		return page_error(rq, out, 503, "the alert lifecycle is not running");
	arr = alerts_list(rq->env->alerts, all, (int)limit, rq->now, &err);
	if (arr == NULL)
		return page_error(rq, out, 503, err.msg);
	for (it = arr->child; firing && it != NULL;) {
		cJSON *next = it->next;

		if (strcmp(pu_str(it, "state"), "firing") != 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(arr, it));
		it = next;
	}
	doc = cJSON_CreateObject();
	if (doc == NULL) {
		cJSON_Delete(arr);
		return -1;
	}
	cJSON_AddItemToObject(doc, "alerts", arr);
	return html_json(out, doc);
}

int api_alert_ack(const struct page_req *rq, struct page_resp *out)
{
	const char *ids = page_arg(rq, "id"), *comment = page_arg(rq, "comment");
	struct hr_err err;
	cJSON *doc;
	long long id;

	if (rq->role < ROLE_OPERATOR || rq->user == NULL || *rq->user == '\0')
		return page_error(rq, out, 403, "acknowledging needs the operator role");
	if (rq->env->alerts == NULL)
		return page_error(rq, out, 503, "the alert lifecycle is not running");
	if (pu_parse_id(ids, &id) < 0)
		return page_error(rq, out, 400, "id must be an alert's number");
	if (comment != NULL && strlen(comment) > 500)
		return page_error(rq, out, 400, "comment: 500 characters at most");
	if (alerts_ack(rq->env->alerts, id, rq->user, comment != NULL && *comment ? comment : NULL,
		       rq->now, &err) < 0)
		return page_error(rq, out, 400, err.msg);
	doc = cJSON_CreateObject();
	if (doc == NULL)
		return -1;
	cJSON_AddBoolToObject(doc, "acked", 1);
	cJSON_AddNumberToObject(doc, "id", (double)id);
	cJSON_AddStringToObject(doc, "by", rq->user);
	return html_json(out, doc);
}

/* --- /api/v1/forecasts ----------------------------------------------------------- */

int api_forecasts(const struct page_req *rq, struct page_resp *out)
{
	static const char *const states[] = { "none", "warning", "critical" };
	struct fleet_fc *v;
	size_t n, i;
	cJSON *doc, *arr;

	if (fleet_forecasts(rq->env->analyzer, &v, &n) < 0)
		return -1;
	doc = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(doc, "forecasts");
	for (i = 0; i < n && arr != NULL; i++) {
		const struct analyzer_forecast *f = &v[i].f;
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			break;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "rule", f->rule);
		cJSON_AddStringToObject(o, "host", f->host);
		cJSON_AddStringToObject(o, "probe", f->probe);
		cJSON_AddStringToObject(o, "instance", f->instance);
		add_num(o, "value", f->value);
		add_num(o, "capacity", f->capacity);
		add_num(o, "used_percent", f->capacity > 0 ? 100.0 * f->value / f->capacity : NAN);
		add_num(o, "at", f->at > 0 ? f->at : NAN);
		cJSON_AddBoolToObject(o, "valid", f->valid);
		cJSON_AddStringToObject(o, "state", states[f->state >= 0 && f->state <= 2 ? f->state : 0]);
		add_num(o, "eta", f->eta);
		add_num(o, "eta_early", f->eta_early);
		add_num(o, "eta_late", f->eta_late);
		add_num(o, "slope_per_day", f->slope);
		add_num(o, "slope_lo", f->slope_lo);
		add_num(o, "slope_hi", f->slope_hi);
		add_num(o, "segment_start", f->segment_start);
		cJSON_AddBoolToObject(o, "sawtooth", f->sawtooth);
	}
	fleet_fc_free(v, n);
	return html_json(out, doc);
}
