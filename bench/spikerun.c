/* spikerun.c: runs every CSV series of a list through the spike detector
 * (alerting/spike.c, the code the analyzer runs) and writes the alert
 * onsets as JSON {"relative/path.csv": [unix seconds, ...]}, the format
 * of nabscore.py. Timing and state size go to stderr.
 *
 * Usage: spikerun --data DIR [--list FILE] [--set NAME=VALUE]...
 *                 [--roundtrip N] [--passes N] [REL.csv ...] > detections.json
 * --roundtrip N saves and reloads the state every N samples, so that a run
 * shows that a restart changes nothing. --passes N runs each series N times
 * through a new state and times the fastest pass (the events are the first
 * pass's; all passes give the same), which steadies the timing on a busy
 * machine. SPIKERUN_TRACE=1 in the environment
 * prints every sample's score to stderr. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "series.h"
#include "spike.h"

#define MAX_FILES 4096

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The series' step: the median interval, as an RRD made for it would use. */
static double step_of(const struct series *s)
{
	double *d, step;
	size_t i;

	if (s->n < 2)
		return 300;
	d = malloc((s->n - 1) * sizeof(*d));
	if (d == NULL)
		return 300;
	for (i = 1; i < s->n; i++)
		d[i - 1] = s->t[i] - s->t[i - 1];
	qsort(d, s->n - 1, sizeof(*d), cmp_double);
	step = d[(s->n - 1) / 2];
	free(d);
	return step;
}

/* NAME=VALUE into p; -1 on an unknown name or a bad number. */
static int set_param(struct spike_params *p, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
		int is_int;
	} keys[] = {
#define D(f) { #f, offsetof(struct spike_params, f), 0 }
#define I(f) { #f, offsetof(struct spike_params, f), 1 }
		D(roll_window), D(warmup), D(refractory), D(resolve_after), D(gap_reset),
		D(long_span), I(short_n), I(season_days), I(weekly), D(z_min), D(z_clip),
		D(tail), D(quantum_mult), D(rel_floor),
#undef D
#undef I
	};
	const char *eq = strchr(arg, '=');
	char *end;
	double v;
	size_t i;

	if (eq == NULL)
		return -1;
	errno = 0;
	v = strtod(eq + 1, &end);
	if (errno != 0 || end == eq + 1 || *end != '\0')
		return -1;
	if ((size_t)(eq - arg) == 3 && strncmp(arg, "dir", 3) == 0) {
		p->dir = (enum spike_dir)(int)v;
		return 0;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) != (size_t)(eq - arg) ||
		    strncmp(keys[i].name, arg, (size_t)(eq - arg)) != 0)
			continue;
		if (keys[i].is_int)
			*(int *)(void *)((char *)p + keys[i].off) = (int)v;
		else
			*(double *)(void *)((char *)p + keys[i].off) = v;
		return 0;
	}
	return -1;
}

/* The CSV rows of path in file order. Unlike series_load_csv this keeps
 * rows whose time does not increase (NAB has a few, at clock changes): the
 * detector itself ignores them, as the analyzer would. The header row and
 * rows without a number are skipped and counted in *skipped. */
static int read_rows(const char *path, struct series *s, size_t *skipped)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	*skipped = 0;
	if (f == NULL) {
		fprintf(stderr, "spikerun: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *comma = strchr(line, ','), *end;
		double t, v;

		if (comma == NULL || series_parse_time(line, (size_t)(comma - line), &t) < 0) {
			(*skipped)++;
			continue;
		}
		v = strtod(comma + 1, &end);
		if (end == comma + 1 || !isfinite(v)) {
			(*skipped)++;
			continue;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 4096;
			double *nt = realloc(s->t, cap * sizeof(double)), *nv;

			if (nt == NULL)
				break;
			s->t = nt;
			nv = realloc(s->v, cap * sizeof(double));
			if (nv == NULL)
				break;
			s->v = nv;
			s->cap = cap;
		}
		s->t[s->n] = t;
		s->v[s->n] = v;
		s->n++;
	}
	fclose(f);
	return 0;
}

/* Runs one series; appends the onsets to arr. Counts samples in *updates. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_one(const struct spike_params *p, const char *path, long roundtrip, long passes,
		   cJSON *arr, unsigned long long *updates, size_t *bytes, double *cpu)
{
	int trace = getenv("SPIKERUN_TRACE") != NULL;
	double c0, best = -1;
	long pass;

	struct series ser = { 0 };
	struct spike_event ev;
	struct hr_err err;
	struct spike *s;
	size_t i, skipped;

	if (read_rows(path, &ser, &skipped) < 0)
		return -1;
	if (skipped > 1)
		fprintf(stderr, "spikerun: %s: %zu rows without a time and a number skipped\n",
			path, skipped);
	for (pass = 0; pass < passes; pass++) {
		s = spike_new(p, step_of(&ser), &err);
		if (s == NULL) {
			fprintf(stderr, "spikerun: %s\n", err.msg);
			series_free(&ser);
			return -1;
		}
		*bytes = spike_state_bytes(s);
		c0 = cpu_now();
		for (i = 0; i < ser.n; i++) {
			if (roundtrip > 0 && i > 0 && i % (size_t)roundtrip == 0) {
				uint8_t *buf;
				size_t len;
				struct spike *s2;

				if (spike_save(s, &buf, &len, &err) < 0 ||
				    (s2 = spike_load(buf, len, &err)) == NULL) {
					fprintf(stderr, "spikerun: %s: save/load: %s\n", path,
						err.msg);
					abort();
				}
				free(buf);
				spike_free(s);
				s = s2;
			}
			if (spike_update(s, ser.t[i], ser.v[i], &ev) > 0 &&
			    ev.kind == SPIKE_FIRING && pass == 0)
				cJSON_AddItemToArray(arr, cJSON_CreateNumber(ev.t));
			if (trace && pass == 0)
				fprintf(stderr, "%.0f %g base %g z %.2f tail %.3g %s\n", ser.t[i],
					ser.v[i], ev.baseline, ev.z, ev.tail,
					ev.kind == SPIKE_FIRING ? "FIRING" :
					ev.kind == SPIKE_RESOLVED ? "RESOLVED" : "");
		}
		c0 = cpu_now() - c0;
		if (best < 0 || c0 < best)
			best = c0;
		spike_free(s);
	}
	*cpu += best;
	*updates += ser.n;
	series_free(&ser);
	return 0;
}

int main(int argc, char **argv)
{
	const char *data = NULL, *list = NULL;
	const char *files[MAX_FILES];
	char *listbuf[MAX_FILES];
	size_t nfiles = 0, nlist = 0, i, bytes = 0;
	struct spike_params p;
	struct hr_err err;
	unsigned long long updates = 0;
	long roundtrip = 0, passes = 1;
	struct timespec t0, t1;
	cJSON *out;
	char *text;
	double secs, cpu = 0;
	int a, rc = 0;

	spike_params_default(&p);
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--data") == 0 && a + 1 < argc) {
			data = argv[++a];
		} else if (strcmp(argv[a], "--list") == 0 && a + 1 < argc) {
			list = argv[++a];
		} else if (strcmp(argv[a], "--roundtrip") == 0 && a + 1 < argc) {
			roundtrip = strtol(argv[++a], NULL, 10);
		} else if (strcmp(argv[a], "--passes") == 0 && a + 1 < argc) {
			passes = strtol(argv[++a], NULL, 10);
			if (passes < 1 || passes > 1000) {
				fprintf(stderr, "spikerun: --passes: must be 1 to 1000\n");
				return 2;
			}
		} else if (strcmp(argv[a], "--set") == 0 && a + 1 < argc) {
			if (set_param(&p, argv[++a]) < 0) {
				fprintf(stderr, "spikerun: bad --set %s\n", argv[a]);
				return 2;
			}
		} else if (argv[a][0] == '-') {
			fprintf(stderr, "usage: spikerun --data DIR [--list FILE] [--set NAME=VALUE]... "
				"[--roundtrip N] [--passes N] [REL.csv ...]\n");
			return 2;
		} else if (nfiles < MAX_FILES) {
			files[nfiles++] = argv[a];
		}
	}
	if (data == NULL) {
		fprintf(stderr, "spikerun: --data DIR is required\n");
		return 2;
	}
	if (spike_params_check(&p, &err) < 0) {
		fprintf(stderr, "spikerun: %s\n", err.msg);
		return 2;
	}
	if (list != NULL) {
		FILE *f = fopen(list, "r");
		char line[4096];

		if (f == NULL) {
			fprintf(stderr, "spikerun: %s: %s\n", list, strerror(errno));
			return 2;
		}
		while (fgets(line, sizeof(line), f) != NULL && nfiles < MAX_FILES) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0] == '\0' || line[0] == '#')
				continue;
			listbuf[nlist] = strdup(line);
			if (listbuf[nlist] == NULL)
				break;
			files[nfiles++] = listbuf[nlist++];
		}
		fclose(f);
	}
	out = cJSON_CreateObject();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nfiles; i++) {
		char path[8192];
		cJSON *arr = cJSON_CreateArray();

		snprintf(path, sizeof(path), "%s/%s", data, files[i]);
		if (run_one(&p, path, roundtrip, passes, arr, &updates, &bytes, &cpu) < 0)
			rc = 1;
		cJSON_AddItemToObject(out, files[i], arr);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	text = cJSON_Print(out);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(out);
	for (i = 0; i < nlist; i++)
		free(listbuf[i]);
	fprintf(stderr, "spikerun: %zu files, %llu samples, %.3f s wall in all; detector "
		"%.3f CPU s%s: %.0f updates/s (%.2f us each); state %zu bytes per series at a "
		"5-minute step\n", nfiles, updates, secs, cpu, passes > 1 ? " (fastest pass)" : "",
		cpu > 0 ? (double)updates / cpu : 0.0, updates > 0 ? cpu * 1e6 / (double)updates : 0.0,
		bytes);
	return rc;
}
