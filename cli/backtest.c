/* backtest.c: `headroom backtest`. A recorded series goes through the very
 * code the central runs, in simulated time. The series comes from a CSV
 * file (--csv) or from an RRD file (--rrd, at its finest resolution).
 * --detector runs one detector on one series (alerting/spike.c,
 * alerting/forecast.c: spikes sample by sample, forecasts evaluated once an
 * hour as the central does); --rules runs the analyzer (alerting/analyzer.c)
 * with the rules file's rules, on samples of host "backtest". Each alert
 * event is one JSON line:
 *   {"t": UNIX, "state": "firing"|"resolved", "rule": NAME, "eta": UNIX|null, ...}
 * Spike events add value, baseline and z; forecast events add severity,
 * eta_early, eta_late and slope_per_day. With --rules the analyzer's
 * observations go through the alert lifecycle (alerts.h, in memory): the
 * events are its alerts firing and resolving, with severity, probe,
 * instance, value, eta_early, eta_late and summary. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "alerts.h"
#include "analyzer.h"
#include "backtest.h"
#include "forecast.h"
#include "rrdstore.h"
#include "rules.h"
#include "schema.h"
#include "series.h"
#include "spike.h"
#include "util.h"

#define FORECAST_EVERY 3600.0 /* the central's forecast cadence */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom backtest (--csv FILE | --rrd FILE [--ds NAME] [--cf AVERAGE|MAX]\n"
		"                          [--start T] [--end T])\n"
		"                         (--detector spike|forecast [--capacity N] [--horizon DURATION]\n"
		"                          | --rules FILE [--probe P] [--instance I] [--value NAME])\n"
		"\n"
		"  --csv FILE        \"timestamp,value\" rows (unix seconds or\n"
		"                    \"YYYY-MM-DD HH:MM:SS\" UTC), in time order\n"
		"  --rrd FILE        an RRD file, read at its finest resolution for the CF;\n"
		"                    unknown rows are gaps\n"
		"  --ds NAME         the RRD's data source (needed with --detector; with\n"
		"                    --rules every DS is a value unless --ds picks one)\n"
		"  --cf CF           AVERAGE (default) or MAX\n"
		"  --start T, --end T  the RRD's rows to read (unix seconds or\n"
		"                    \"YYYY-MM-DD HH:MM:SS\" UTC; default: the whole archive)\n"
		"  --detector NAME   spike: load spikes; forecast: time to exhaustion\n"
		"  --capacity N      forecast: the value at which the resource is full\n"
		"  --horizon D       forecast: warn when it may be full within D\n"
		"                    (default 7d; critical within min(2d, D))\n"
		"  --rules FILE      run the analyzer with the built-in rules and FILE's\n"
		"                    ({\"rules\": [...]}) on host \"backtest\"\n"
		"  --probe P, --instance I  the series' probe and instance (an RRD file's\n"
		"                    name says them: PROBE-INSTANCE.rrd)\n"
		"  --value NAME      the value the series is (CSV; RRD: renames --ds)\n");
}

/* An ETA as JSON: a whole unix time, or null when none is due. */
static void print_eta(const char *key, double eta)
{
	if (isfinite(eta))
		printf(", \"%s\": %.0f", key, eta);
	else
		printf(", \"%s\": null", key);
}

/* The series' step: the median gap between samples (robust to gaps). */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double series_step(const struct series *s)
{
	double *d, step;
	size_t i;

	if (s->n < 2)
		return 60;
	d = malloc((s->n - 1) * sizeof(*d));
	if (d == NULL)
		return s->t[1] - s->t[0];
	for (i = 1; i < s->n; i++)
		d[i - 1] = s->t[i] - s->t[i - 1];
	qsort(d, s->n - 1, sizeof(*d), cmp_double);
	step = d[(s->n - 1) / 2];
	free(d);
	return step > 0 ? step : 60;
}

static int run_spike(const struct series *s)
{
	struct spike_event ev;
	struct hr_err err;
	struct spike *sp = spike_new(NULL, series_step(s), &err);
	size_t i;

	if (sp == NULL) {
		fprintf(stderr, "headroom: backtest: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < s->n; i++) {
		if (spike_update(sp, s->t[i], s->v[i], &ev) != 1)
			continue;
		printf("{\"t\": %.0f, \"state\": \"%s\", \"rule\": \"spike\", \"eta\": null, "
		       "\"value\": %.17g, \"baseline\": %.17g, \"z\": %.3f}\n", ev.t,
		       ev.kind == SPIKE_FIRING ? "firing" : "resolved", ev.value, ev.baseline, ev.z);
	}
	spike_free(sp);
	return 0;
}

static void forecast_event(double now, const struct forecast_result *r)
{
	if (!r->changed)
		return;
	if (r->state == FORECAST_NONE) {
		printf("{\"t\": %.0f, \"state\": \"resolved\", \"rule\": \"forecast\", \"eta\": null}\n",
		       now);
		return;
	}
	printf("{\"t\": %.0f, \"state\": \"firing\", \"rule\": \"forecast\"", now);
	print_eta("eta", r->eta);
	printf(", \"severity\": \"%s\"", forecast_state_name(r->state));
	print_eta("eta_early", r->eta_early);
	print_eta("eta_late", r->eta_late);
	printf(", \"slope_per_day\": %.17g, \"value\": %.17g}\n", r->slope, r->value);
}

static int run_forecast(const struct series *s, double capacity, double horizon)
{
	struct forecast_params p;
	struct forecast_result r;
	struct hr_err err;
	struct forecast *f;
	double next;
	size_t i;

	forecast_params_default(&p);
	p.capacity = capacity;
	if (horizon > 0) {
		p.warn_horizon = horizon;
		if (p.crit_horizon > horizon)
			p.crit_horizon = horizon;
	}
	f = forecast_new(&p, &err);
	if (f == NULL) {
		fprintf(stderr, "headroom: backtest: %s\n", err.msg);
		return 2;
	}
	next = s->n > 0 ? ceil(s->t[0] / FORECAST_EVERY) * FORECAST_EVERY : 0;
	for (i = 0; i < s->n; i++) {
		/* The hours before this sample are evaluated with what came
		 * before it, as the central would have. */
		for (; next < s->t[i]; next += FORECAST_EVERY)
			if (forecast_eval(f, next, &r) == 0)
				forecast_event(next, &r);
		forecast_add(f, s->t[i], s->v[i]);
	}
	if (s->n > 0 && forecast_eval(f, next, &r) == 0)
		forecast_event(next, &r);
	forecast_free(f);
	return 0;
}

/* --- the series as a table: rows of times, columns of values -------------- */

struct table {
	size_t rows, ncol;
	double step;              /* seconds between rows */
	double *t;                /* rows */
	char (*names)[HR_NAME_MAX]; /* ncol */
	int *rate;                /* the column is a counter's rate (RRD DERIVE) */
	double *v;                /* rows x ncol, NAN: unknown */
};

static void table_free(struct table *tb)
{
	free(tb->t);
	free(tb->names);
	free(tb->rate);
	free(tb->v);
	memset(tb, 0, sizeof(*tb));
}

static int table_alloc(struct table *tb, size_t rows, size_t ncol)
{
	tb->rows = rows;
	tb->ncol = ncol;
	tb->t = calloc(rows ? rows : 1, sizeof(*tb->t));
	tb->names = calloc(ncol, sizeof(*tb->names));
	tb->rate = calloc(ncol, sizeof(*tb->rate));
	tb->v = calloc(rows * ncol > 0 ? rows * ncol : 1, sizeof(*tb->v));
	return tb->t && tb->names && tb->rate && tb->v ? 0 : -1;
}

static int table_from_series(struct table *tb, const struct series *s, const char *name)
{
	size_t i;

	if (table_alloc(tb, s->n, 1) < 0)
		return -1;
	hr_strlcpy(tb->names[0], name, sizeof(tb->names[0]));
	for (i = 0; i < s->n; i++) {
		tb->t[i] = s->t[i];
		tb->v[i] = s->v[i];
	}
	tb->step = series_step(s);
	return 0;
}

#define RRD_RRAS 64

/* Reads FILE's rows for CF at its finest resolution into tb: the whole
 * archive, or [start, end] when given (NAN: not given). */
static int rrd_read(const char *file, const char *cf, double start, double end,
		    struct table *tb, struct hr_err *err)
{
	struct {
		int cf_ok;
		unsigned long rows, ppr;
	} rra[RRD_RRAS] = { { 0, 0, 0 } };
	rrd_info_t *info, *it;
	unsigned long base = 0, res = 0, rows = 0, step, ds_cnt = 0, i, j;
	time_t last = 0, st, en;
	char **namv = NULL;
	rrd_value_t *data = NULL;
	int rc = -1;

	rrd_clear_error();
	info = rrd_info_r(file);
	if (info == NULL)
		return hr_err_set(err, "%s: %s", file, rrd_get_error());
	for (it = info; it != NULL; it = it->next) {
		unsigned long n;
		int off = 0;

		if (strcmp(it->key, "step") == 0 && it->type == RD_I_CNT)
			base = it->value.u_cnt;
		else if (strcmp(it->key, "last_update") == 0 && it->type == RD_I_CNT)
			last = (time_t)it->value.u_cnt;
		else if (sscanf(it->key, "rra[%lu].%n", &n, &off) == 1 && off > 0 && n < RRD_RRAS) {
			const char *k = it->key + off;

			if (strcmp(k, "cf") == 0 && it->type == RD_I_STR)
				rra[n].cf_ok = strcmp(it->value.u_str, cf) == 0;
			else if (strcmp(k, "rows") == 0 && it->type == RD_I_CNT)
				rra[n].rows = it->value.u_cnt;
			else if (strcmp(k, "pdp_per_row") == 0 && it->type == RD_I_CNT)
				rra[n].ppr = it->value.u_cnt;
		}
	}
	for (i = 0; i < RRD_RRAS; i++)
		if (rra[i].cf_ok && rra[i].ppr > 0 && rra[i].rows > 1 &&
		    (res == 0 || rra[i].ppr * base < res)) {
			res = rra[i].ppr * base;
			rows = rra[i].rows;
		}
	if (base == 0 || res == 0) {
		hr_err_set(err, "%s: no %s archive", file, cf);
		goto out;
	}
	en = isnan(end) ? last / (time_t)res * (time_t)res : (time_t)end;
	st = isnan(start) ? en - (time_t)((rows - 1) * res) : (time_t)start;
	if (st >= en) {
		hr_err_set(err, "%s: --start is not before --end", file);
		goto out;
	}
	step = res;
	rrd_clear_error();
	if (rrd_fetch_r(file, cf, &st, &en, &step, &ds_cnt, &namv, &data) != 0) {
		hr_err_set(err, "%s: %s", file, rrd_get_error());
		namv = NULL;
		data = NULL;
		goto out;
	}
	if (table_alloc(tb, step ? (size_t)((en - st) / (time_t)step) : 0, ds_cnt) < 0) {
		hr_err_set(err, "%s: no memory", file);
		goto out;
	}
	tb->step = (double)step;
	for (j = 0; j < ds_cnt; j++) {
		char key[64];

		hr_strlcpy(tb->names[j], namv[j], sizeof(tb->names[j]));
		snprintf(key, sizeof(key), "ds[%s].type", namv[j]);
		for (it = info; it != NULL; it = it->next)
			if (strcmp(it->key, key) == 0 && it->type == RD_I_STR)
				tb->rate[j] = strstr(it->value.u_str, "DERIVE") != NULL ||
					      strcmp(it->value.u_str, "COUNTER") == 0 ||
					      strcmp(it->value.u_str, "ABSOLUTE") == 0;
	}
	for (i = 0; i < tb->rows; i++) {
		tb->t[i] = (double)st + (double)(i + 1) * (double)step;
		for (j = 0; j < ds_cnt; j++)
			tb->v[i * ds_cnt + j] = data[i * ds_cnt + j];
	}
	rc = 0;
out:
	if (namv != NULL) {
		for (j = 0; j < ds_cnt; j++)
			rrd_freemem(namv[j]);
		rrd_freemem(namv);
	}
	rrd_freemem(data);
	rrd_info_free(info);
	if (rc < 0)
		table_free(tb);
	return rc;
}

static long table_col(const struct table *tb, const char *name)
{
	size_t j;

	for (j = 0; j < tb->ncol; j++)
		if (strcmp(tb->names[j], name) == 0)
			return (long)j;
	return -1;
}

/* One column's known rows as a series (for --detector). */
static int table_series(const struct table *tb, size_t col, struct series *s, struct hr_err *err)
{
	size_t i;

	for (i = 0; i < tb->rows; i++) {
		double v = tb->v[i * tb->ncol + col];

		if (isfinite(v) && series_push(s, tb->t[i], v, err) < 0)
			return -1;
	}
	return 0;
}

/* --- --rules: the analyzer ------------------------------------------------ */

#define BT_HOST "backtest"

/* The analyzer's observations go through the alert lifecycle (alerts.h,
 * in memory, notifying nobody), as in the central: what is printed are its
 * alerts' changes, with the rules' "for" and the lifecycle's holds. */
struct lifecycle {
	struct alerts *a;
	const char *probe;
	int failed;
};

static void json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void lc_event(void *ctx, const struct alert_event *ev)
{
	const struct lifecycle *lc = ctx;

	/* pending and cleared are the lifecycle's own steps, not alerts */
	if (strcmp(ev->state, "firing") != 0 && strcmp(ev->state, "resolved") != 0)
		return;
	printf("{\"t\": %.0f, \"state\": \"%s\", \"rule\": ", ev->t, ev->state);
	json_str(ev->rule);
	print_eta("eta", ev->eta);
	printf(", \"severity\": \"%s\", \"probe\": ", alert_severity_name(ev->severity));
	json_str(lc->probe);
	printf(", \"instance\": ");
	json_str(ev->instance != NULL ? ev->instance : "");
	if (isfinite(ev->value))
		printf(", \"value\": %.17g", ev->value);
	else
		printf(", \"value\": null");
	print_eta("eta_early", ev->eta_early);
	print_eta("eta_late", ev->eta_late);
	printf(", \"summary\": ");
	json_str(ev->summary != NULL ? ev->summary : "");
	printf("}\n");
}

static void lc_observe(void *ctx, const struct alert_obs *o)
{
	struct lifecycle *lc = ctx;
	struct hr_err err;

	if (alerts_observe(lc->a, o, &err) < 0 && !lc->failed) {
		fprintf(stderr, "headroom: backtest: %s\n", err.msg);
		lc->failed = 1;
	}
}

static void lc_tick(struct lifecycle *lc, double t)
{
	struct hr_err err;

	if (alerts_tick(lc->a, t, &err) < 0 && !lc->failed) {
		fprintf(stderr, "headroom: backtest: %s\n", err.msg);
		lc->failed = 1;
	}
}

/* The table's rows as samples of PROBE/INSTANCE through the analyzer. A
 * column that holds a counter's rate (an RRD DERIVE of a value schema.h
 * calls a counter) is summed back into a counter, which is what the
 * analyzer gets from agents. */
static int run_rules(const struct rules *rs, const struct table *tb, const char *probe,
		     const char *instance, long only, const char *rename)
{
	struct lifecycle lc = { NULL, probe, 0 };
	struct alerts_params ap;
	struct hr_err err;
	struct analyzer *an;
	struct hr_sample s;
	double *acc = calloc(tb->ncol ? tb->ncol : 1, sizeof(*acc)), last = 0;
	size_t i, j, nrules = rules_count(rs), seen = 0;
	int matched = 0;

	alerts_params_default(&ap);
	lc.a = acc != NULL ? alerts_open(":memory:", &ap, NULL, &err) : NULL;
	an = lc.a != NULL ? analyzer_new(rs, NULL, lc_observe, &lc, &err) : NULL;
	if (an == NULL) {
		fprintf(stderr, "headroom: backtest: %s\n", acc != NULL ? err.msg : "no memory");
		alerts_close(lc.a);
		free(acc);
		return 1;
	}
	alerts_set_event_hook(lc.a, lc_event, &lc);
	for (i = 0; i < tb->rows; i++) {
		hr_sample_init(&s, probe, instance);
		s.t = (time_t)tb->t[i];
		s.step = (unsigned)tb->step;
		for (j = 0; j < tb->ncol; j++) {
			double v = tb->v[i * tb->ncol + j];
			const char *name = only >= 0 && rename != NULL ? rename : tb->names[j];

			if ((only >= 0 && (long)j != only) || !isfinite(v))
				continue;
			if (tb->rate[j] && hr_schema_kind(probe, name) == HR_COUNTER) {
				acc[j] += v * tb->step;
				v = acc[j];
			}
			hr_sample_set(&s, name, v);
		}
		if (s.nvalues == 0)
			continue;
		if (!seen++)
			for (j = 0; j < nrules && !matched; j++)
				matched = rule_matches(rules_get(rs, j), BT_HOST, &s);
		analyzer_observe(an, BT_HOST, &s, (unsigned)tb->step);
		analyzer_tick(an, tb->t[i]);
		lc_tick(&lc, tb->t[i]);
		last = tb->t[i];
	}
	/* The hour after the last sample is evaluated too, as the central's
	 * tick would. */
	if (seen > 0) {
		analyzer_tick(an, last + 2 * 3600);
		lc_tick(&lc, last + 2 * 3600);
	}
	if (seen > 0 && !matched)
		fprintf(stderr, "headroom: backtest: no rule watches probe %s instance \"%s\"\n",
			probe, instance);
	analyzer_free(an);
	alerts_close(lc.a);
	free(acc);
	return lc.failed ? 1 : 0;
}

/* PROBE and INSTANCE from an archive's name: DIR/PROBE-INSTANCE.rrd or
 * DIR/PROBE.rrd (rrdstore.h). -1 when the name is not one of those. */
static int rrd_name_split(const char *file, char *probe, size_t np, char *instance, size_t ni)
{
	const char *base = strrchr(file, '/'), *dash, *dot;
	char esc[HR_INSTANCE_MAX * 3];
	size_t len;

	base = base != NULL ? base + 1 : file;
	len = strlen(base);
	if (len < 5 || strcmp(base + len - 4, ".rrd") != 0)
		return -1;
	dot = base + len - 4;
	dash = memchr(base, '-', (size_t)(dot - base));
	len = (size_t)((dash != NULL ? dash : dot) - base);
	if (len == 0 || len >= np)
		return -1;
	memcpy(probe, base, len);
	probe[len] = '\0';
	if (!hr_name_valid(probe))
		return -1;
	instance[0] = '\0';
	if (dash == NULL)
		return 0;
	len = (size_t)(dot - dash - 1);
	if (len >= sizeof(esc))
		return -1;
	memcpy(esc, dash + 1, len);
	esc[len] = '\0';
	return rrdstore_unescape(instance, ni, esc);
}

static int parse_time_opt(const char *opt, const char *arg, double *t)
{
	if (series_parse_time(arg, strlen(arg), t) < 0) {
		fprintf(stderr, "headroom: backtest: %s: expected unix seconds or "
			"\"YYYY-MM-DD HH:MM:SS\", got \"%s\"\n", opt, arg);
		return -1;
	}
	return 0;
}

int backtest_main(int argc, char **argv)
{
	enum { O_CSV = 256, O_DETECTOR, O_CAPACITY, O_HORIZON, O_RULES, O_RRD, O_DS, O_CF,
	       O_START, O_END, O_PROBE, O_INSTANCE, O_VALUE };
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, O_CSV },
		{ "rrd", required_argument, NULL, O_RRD },
		{ "ds", required_argument, NULL, O_DS },
		{ "cf", required_argument, NULL, O_CF },
		{ "start", required_argument, NULL, O_START },
		{ "end", required_argument, NULL, O_END },
		{ "detector", required_argument, NULL, O_DETECTOR },
		{ "capacity", required_argument, NULL, O_CAPACITY },
		{ "horizon", required_argument, NULL, O_HORIZON },
		{ "rules", required_argument, NULL, O_RULES },
		{ "probe", required_argument, NULL, O_PROBE },
		{ "instance", required_argument, NULL, O_INSTANCE },
		{ "value", required_argument, NULL, O_VALUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *csv = NULL, *rrd = NULL, *ds = NULL, *cf = "AVERAGE", *detector = NULL;
	const char *rules_file = NULL, *probe = NULL, *instance = NULL, *value = NULL;
	char rrd_probe[HR_PROBE_MAX], rrd_instance[HR_INSTANCE_MAX];
	double capacity = NAN, horizon = 0, start = NAN, end = NAN;
	struct series s = { 0 };
	struct table tb = { 0 };
	struct rules *rs = NULL;
	struct hr_err err;
	long col = -1;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_CSV: csv = optarg; break;
		case O_RRD: rrd = optarg; break;
		case O_DS: ds = optarg; break;
		case O_CF:
			if (strcmp(optarg, "AVERAGE") != 0 && strcmp(optarg, "MAX") != 0) {
				fprintf(stderr, "headroom: backtest: --cf: \"%s\" is neither AVERAGE nor MAX\n", optarg);
				return 2;
			}
			cf = optarg;
			break;
		case O_START:
			if (parse_time_opt("--start", optarg, &start) < 0)
				return 2;
			break;
		case O_END:
			if (parse_time_opt("--end", optarg, &end) < 0)
				return 2;
			break;
		case O_DETECTOR: detector = optarg; break;
		case O_CAPACITY:
			if (hr_parse_double(optarg, strlen(optarg), &capacity) < 0 ||
			    !(capacity > 0) || !isfinite(capacity)) {
				fprintf(stderr, "headroom: backtest: --capacity: expected a number above 0, got \"%s\"\n", optarg);
				return 2;
			}
			break;
		case O_HORIZON:
			if (hr_parse_duration(optarg, &horizon) < 0 || horizon <= 0) {
				fprintf(stderr, "headroom: backtest: --horizon: expected a duration such as \"7d\", got \"%s\"\n", optarg);
				return 2;
			}
			break;
		case O_RULES: rules_file = optarg; break;
		case O_PROBE: probe = optarg; break;
		case O_INSTANCE: instance = optarg; break;
		case O_VALUE: value = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || (csv == NULL) == (rrd == NULL) ||
	    (detector == NULL) == (rules_file == NULL)) {
		if (detector != NULL && rules_file != NULL)
			fprintf(stderr, "headroom: backtest: give --detector or --rules, not both\n");
		if (csv != NULL && rrd != NULL)
			fprintf(stderr, "headroom: backtest: give --csv or --rrd, not both\n");
		usage(stderr);
		return 2;
	}
	if (detector != NULL) {
		if (strcmp(detector, "spike") != 0 && strcmp(detector, "forecast") != 0) {
			fprintf(stderr, "headroom: backtest: --detector: \"%s\" is neither spike nor forecast\n", detector);
			return 2;
		}
		if (strcmp(detector, "forecast") == 0 && isnan(capacity)) {
			fprintf(stderr, "headroom: backtest: --detector forecast needs --capacity\n");
			return 2;
		}
		if (rrd != NULL && ds == NULL) {
			fprintf(stderr, "headroom: backtest: --rrd with --detector needs --ds\n");
			return 2;
		}
	}
	if (rules_file != NULL) {
		if (csv != NULL && (probe == NULL || value == NULL)) {
			fprintf(stderr, "headroom: backtest: --csv with --rules needs --probe and --value "
				"(which probe's value the series is)\n");
			return 2;
		}
		if (probe != NULL && (strlen(probe) >= HR_PROBE_MAX || !hr_name_valid(probe))) {
			fprintf(stderr, "headroom: backtest: --probe: \"%s\" is not a probe name\n", probe);
			return 2;
		}
		if (value != NULL && !hr_name_valid(value)) {
			fprintf(stderr, "headroom: backtest: --value: \"%s\" is not a value name "
				"(1-19 of [A-Za-z0-9_])\n", value);
			return 2;
		}
		if (rrd != NULL && value != NULL && ds == NULL) {
			fprintf(stderr, "headroom: backtest: --value with --rrd renames --ds: give --ds\n");
			return 2;
		}
		if (rrd != NULL && probe == NULL &&
		    rrd_name_split(rrd, rrd_probe, sizeof(rrd_probe), rrd_instance,
				   sizeof(rrd_instance)) < 0) {
			fprintf(stderr, "headroom: backtest: %s: the file name is not PROBE-INSTANCE.rrd: "
				"give --probe (and --instance)\n", rrd);
			return 2;
		}
		if (rrd != NULL && probe == NULL) {
			probe = rrd_probe;
			if (instance == NULL)
				instance = rrd_instance;
		}
		if (instance == NULL)
			instance = "";
	}

	if (csv != NULL) {
		if (series_load_csv(csv, &s, &err) < 0) {
			fprintf(stderr, "headroom: backtest: %s\n", err.msg);
			return 2;
		}
	} else {
		if (rrd_read(rrd, cf, start, end, &tb, &err) < 0) {
			fprintf(stderr, "headroom: backtest: %s\n", err.msg);
			return 2;
		}
		if (ds != NULL && (col = table_col(&tb, ds)) < 0) {
			fprintf(stderr, "headroom: backtest: %s: no data source \"%s\"\n", rrd, ds);
			table_free(&tb);
			return 2;
		}
	}
	if (rules_file != NULL) {
		struct hr_errs errs;
		size_t i;

		hr_errs_init(&errs);
		rs = rules_load(rules_file, &errs);
		if (rs == NULL) {
			for (i = 0; i < errs.count; i++)
				fprintf(stderr, "headroom: backtest: %s: %s\n", rules_file, errs.items[i]);
			if (errs.count == 0)
				fprintf(stderr, "headroom: backtest: %s: unusable rules file\n", rules_file);
			hr_errs_free(&errs);
			series_free(&s);
			table_free(&tb);
			return 2;
		}
		hr_errs_free(&errs);
		if (csv != NULL && table_from_series(&tb, &s, value) < 0) {
			fprintf(stderr, "headroom: backtest: no memory\n");
			rc = 1;
		} else {
			rc = run_rules(rs, &tb, probe, instance, col, value);
		}
		rules_free(rs);
	} else {
		if (rrd != NULL && table_series(&tb, (size_t)col, &s, &err) < 0) {
			fprintf(stderr, "headroom: backtest: %s: %s\n", rrd, err.msg);
			rc = 2;
		} else if (strcmp(detector, "spike") == 0) {
			rc = run_spike(&s);
		} else {
			rc = run_forecast(&s, capacity, horizon);
		}
	}
	series_free(&s);
	table_free(&tb);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
