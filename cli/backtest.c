/* backtest.c: `headroom backtest --csv FILE --detector spike|forecast
 * [--capacity N] [--horizon DURATION]`. The series goes through the very
 * detector code the central runs (alerting/spike.c, alerting/forecast.c),
 * in simulated time: spikes sample by sample, forecasts evaluated once an
 * hour as the central does. Each alert event is one JSON line:
 *   {"t": UNIX, "state": "firing"|"resolved", "rule": NAME, "eta": UNIX|null, ...}
 * Spike events add value, baseline and z; forecast events add severity,
 * eta_early, eta_late and slope_per_day. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "forecast.h"
#include "series.h"
#include "spike.h"
#include "util.h"

#define FORECAST_EVERY 3600.0 /* the central's forecast cadence */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom backtest --csv FILE --detector spike|forecast\n"
		"                         [--capacity N] [--horizon DURATION]\n"
		"\n"
		"  --csv FILE        \"timestamp,value\" rows (unix seconds or\n"
		"                    \"YYYY-MM-DD HH:MM:SS\" UTC), in time order\n"
		"  --detector NAME   spike: load spikes; forecast: time to exhaustion\n"
		"  --capacity N      forecast: the value at which the resource is full\n"
		"  --horizon D       forecast: warn when it may be full within D\n"
		"                    (default 7d; critical within min(2d, D))\n");
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

int backtest_main(int argc, char **argv)
{
	enum { O_CSV = 256, O_DETECTOR, O_CAPACITY, O_HORIZON, O_RULES };
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, O_CSV },
		{ "detector", required_argument, NULL, O_DETECTOR },
		{ "capacity", required_argument, NULL, O_CAPACITY },
		{ "horizon", required_argument, NULL, O_HORIZON },
		{ "rules", required_argument, NULL, O_RULES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *csv = NULL, *detector = NULL;
	double capacity = NAN, horizon = 0;
	struct series s = { 0 };
	struct hr_err err;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_CSV: csv = optarg; break;
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
		case O_RULES:
			/* Rules files come with the analyzer in the central;
			 * refusing beats ignoring them. */
			fprintf(stderr, "headroom: backtest: --rules: rules files are not supported by this version; use --detector\n");
			return 2;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || csv == NULL || detector == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(detector, "spike") != 0 && strcmp(detector, "forecast") != 0) {
		fprintf(stderr, "headroom: backtest: --detector: \"%s\" is neither spike nor forecast\n", detector);
		return 2;
	}
	if (strcmp(detector, "forecast") == 0 && isnan(capacity)) {
		fprintf(stderr, "headroom: backtest: --detector forecast needs --capacity\n");
		return 2;
	}
	if (series_load_csv(csv, &s, &err) < 0) {
		fprintf(stderr, "headroom: backtest: %s\n", err.msg);
		return 2;
	}
	if (strcmp(detector, "spike") == 0)
		rc = run_spike(&s);
	else
		rc = run_forecast(&s, capacity, horizon);
	series_free(&s);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
