/* caprun.c: runs every series of a capbench.py directory through the
 * capacity forecaster (alerting/forecast.c, the code the analyzer runs),
 * evaluating once per hour of simulated time as headroom-central does, and
 * writes the alerts as capbench's ALERTS.json: {"NNN.csv": [{"t": T,
 * "eta": ETA}, ...]}, one entry each time a forecast alert starts firing.
 * Only each series' capacity is read from truth.json, as a rule or the fs
 * size would give it. Timing and state size go to stderr.
 *
 * Usage: caprun --dir DIR [--set NAME=VALUE]... [--roundtrip N] [--verbose]
 *               > ALERTS.json
 * --roundtrip N saves and reloads the state every N evaluations, so that a
 * run shows that a restart neither loses learning nor re-fires alerts.
 * --verbose prints per series how close its early ETA came to now (how
 * near a calm series came to a false alarm) and its alerts. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "forecast.h"
#include "series.h"
#include "util.h"

#define EVAL_EVERY 3600.0

struct totals {
	double evals, seconds;
	size_t bytes, blob;
	double min_left; /* the series' least early ETA - now, seconds */
	int saw;         /* evaluations whose trend was a sawtooth's */
};

static int set_param(struct forecast_params *p, const char *kv)
{
	const char *eq = strchr(kv, '=');
	double v;

	if (eq == NULL || hr_parse_double(eq + 1, strlen(eq + 1), &v) < 0)
		return -1;
#define P(name) if ((size_t)(eq - kv) == strlen(#name) && strncmp(kv, #name, strlen(#name)) == 0)
	P(warn_horizon) { p->warn_horizon = v; return 0; }
	P(crit_horizon) { p->crit_horizon = v; return 0; }
	P(bucket) { p->bucket = v; return 0; }
	P(max_buckets) { p->max_buckets = (int)v; return 0; }
	P(confidence) { p->confidence = v; return 0; }
	P(min_history) { p->min_history = v; return 0; }
	P(drop_frac) { p->drop_frac = v; return 0; }
	P(drop_sigmas) { p->drop_sigmas = v; return 0; }
	P(hold) { p->hold = (int)v; return 0; }
	P(resolve_factor) { p->resolve_factor = v; return 0; }
#undef P
	return -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Saves f and loads it back in its place; -1 when that fails. */
static int roundtrip(struct forecast **f, struct totals *tot)
{
	struct hr_err err;
	uint8_t *buf;
	size_t len;
	struct forecast *g;

	if (forecast_save(*f, &buf, &len, &err) < 0) {
		fprintf(stderr, "caprun: save: %s\n", err.msg);
		return -1;
	}
	if (len > tot->blob)
		tot->blob = len;
	g = forecast_load(buf, len, &err);
	free(buf);
	if (g == NULL) {
		fprintf(stderr, "caprun: load: %s\n", err.msg);
		return -1;
	}
	forecast_free(*f);
	*f = g;
	return 0;
}

static int eval_at(struct forecast **f, double now, long rt, cJSON *arr, struct totals *tot)
{
	struct forecast_result r;
	double t0 = now_s();

	forecast_eval(*f, now, &r);
	tot->seconds += now_s() - t0;
	tot->evals++;
	if (r.valid && r.slope > 0 && r.eta_early - now < tot->min_left)
		tot->min_left = r.eta_early - now;
	tot->saw += r.sawtooth;
	if (r.changed && r.state != FORECAST_NONE) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "t", now);
		if (isfinite(r.eta))
			cJSON_AddNumberToObject(o, "eta", r.eta);
		else
			cJSON_AddNullToObject(o, "eta");
		if (isfinite(r.eta_early))
			cJSON_AddNumberToObject(o, "eta_early", r.eta_early);
		if (isfinite(r.eta_late))
			cJSON_AddNumberToObject(o, "eta_late", r.eta_late);
		cJSON_AddStringToObject(o, "state", forecast_state_name(r.state));
		cJSON_AddItemToArray(arr, o);
	}
	if (rt > 0 && (long)tot->evals % rt == 0)
		return roundtrip(f, tot);
	return 0;
}

static int run_one(const struct forecast_params *p, const char *path, long rt, int verbose,
		   cJSON *arr, struct totals *tot)
{
	struct series s = { 0 };
	struct hr_err err;
	struct forecast *f;
	double next;
	size_t i;
	int rc = -1;

	if (series_load_csv(path, &s, &err) < 0) {
		fprintf(stderr, "caprun: %s\n", err.msg);
		return -1;
	}
	f = forecast_new(p, &err);
	if (f == NULL) {
		fprintf(stderr, "caprun: %s: %s\n", path, err.msg);
		goto out;
	}
	tot->min_left = INFINITY;
	tot->saw = 0;
	next = s.n > 0 ? ceil(s.t[0] / EVAL_EVERY) * EVAL_EVERY : 0;
	for (i = 0; i < s.n; i++) {
		/* An evaluation at `next` sees every sample up to it. */
		for (; next < s.t[i]; next += EVAL_EVERY)
			if (eval_at(&f, next, rt, arr, tot) < 0)
				goto out;
		forecast_add(f, s.t[i], s.v[i]);
	}
	if (s.n > 0 && eval_at(&f, next, rt, arr, tot) < 0)
		goto out;
	if (verbose)
		fprintf(stderr, "%s: %zu samples, least early ETA %.1f d ahead, %d sawtooth "
			"evaluations, %d alerts\n", path, s.n, tot->min_left / 86400, tot->saw,
			cJSON_GetArraySize(arr));
	if (forecast_state_bytes(f) > tot->bytes)
		tot->bytes = forecast_state_bytes(f);
	rc = 0;
out:
	forecast_free(f);
	series_free(&s);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct forecast_params p;
	struct totals tot = { 0, 0, 0, 0, 0, 0 };
	const char *dir = NULL;
	char path[4096], *text = NULL, **names = NULL;
	size_t len, nn = 0, i;
	cJSON *truth = NULL, *out, *it;
	struct hr_err err;
	long rt = 0;
	int a, rc = 1, verbose = 0;

	forecast_params_default(&p);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc) {
			dir = argv[++a];
		} else if (strcmp(argv[a], "--verbose") == 0) {
			verbose = 1;
		} else if (strcmp(argv[a], "--roundtrip") == 0 && a + 1 < argc) {
			rt = strtol(argv[++a], NULL, 10);
		} else if (strcmp(argv[a], "--set") == 0 && a + 1 < argc) {
			if (set_param(&p, argv[++a]) < 0) {
				fprintf(stderr, "caprun: bad --set %s\n", argv[a]);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: caprun --dir DIR [--set NAME=VALUE]... "
				"[--roundtrip N] [--verbose] > ALERTS.json\n");
			return 2;
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "caprun: --dir is required\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/truth.json", dir);
	if (hr_read_file(NULL, path, &text, &len, 64u << 20, &err) < 0) {
		fprintf(stderr, "caprun: %s\n", err.msg);
		return 1;
	}
	truth = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(truth)) {
		fprintf(stderr, "caprun: %s: not a JSON object\n", path);
		goto done;
	}
	cJSON_ArrayForEach(it, truth)
		nn++;
	names = calloc(nn + 1, sizeof(*names));
	if (names == NULL)
		goto done;
	nn = 0;
	cJSON_ArrayForEach(it, truth)
		names[nn++] = it->string;
	qsort(names, nn, sizeof(*names), cmp_str);
	out = cJSON_CreateObject();
	for (i = 0; i < nn; i++) {
		cJSON *cap = cJSON_GetObjectItem(cJSON_GetObjectItem(truth, names[i]), "capacity");
		cJSON *arr = cJSON_CreateArray();

		cJSON_AddItemToObject(out, names[i], arr);
		if (!cJSON_IsNumber(cap)) {
			fprintf(stderr, "caprun: %s: no capacity in truth.json\n", names[i]);
			cJSON_Delete(out);
			goto done;
		}
		p.capacity = cap->valuedouble;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (run_one(&p, path, rt, verbose, arr, &tot) < 0) {
			cJSON_Delete(out);
			goto done;
		}
	}
	text = cJSON_Print(out);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(out);
	fprintf(stderr, "caprun: %zu series, %.0f evaluations in %.3f s (%.0f evaluations/s), "
		"state %zu bytes per series%s", nn, tot.evals, tot.seconds,
		tot.seconds > 0 ? tot.evals / tot.seconds : 0.0, tot.bytes,
		tot.blob > 0 ? "" : "\n");
	if (tot.blob > 0)
		fprintf(stderr, ", saved state up to %zu bytes\n", tot.blob);
	rc = 0;
done:
	free(names);
	cJSON_Delete(truth);
	return rc;
}
