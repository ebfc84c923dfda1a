/* test_analyzer.c: the analyzer (alerting/analyzer.c) between samples and
 * observations: counters become rates (none after a reset or a gap), cpu
 * busy and disk util are derived, each detector path emits what the
 * lifecycle needs (threshold with hysteresis, change, spike onset and end,
 * forecast with its ETA bounds, stale hosts), a restart from the database
 * gives the very events of an uninterrupted run, a damaged saved state is
 * dropped and a changed rule restarts its series, and two ingest threads
 * may observe at once. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "analyzer.h"
#include "testutil.h"

#define HOUR 3600.0
#define DAY 86400.0
#define T0 1700006400.0 /* a UTC midnight */

/* --- what the analyzer emitted -------------------------------------------- */

struct got {
	char rule[ALERT_RULE_MAX];
	char host[HR_HOST_MAX];
	char instance[HR_INSTANCE_MAX];
	int active, event;
	enum alert_severity severity;
	double t, value, eta, eta_early, eta_late;
	char redundancy[ALERT_LABEL_VALUE_MAX];
	char fstype[ALERT_LABEL_VALUE_MAX];
};

struct rec {
	pthread_mutex_t lock;
	struct got *v;
	size_t n, cap;
};

static void rec_emit(void *ctx, const struct alert_obs *o)
{
	struct rec *r = ctx;
	struct got *g;
	const char *l;

	pthread_mutex_lock(&r->lock);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
	}
	g = &r->v[r->n++];
	memset(g, 0, sizeof(*g));
	snprintf(g->rule, sizeof(g->rule), "%s", o->rule);
	snprintf(g->host, sizeof(g->host), "%s", o->host);
	snprintf(g->instance, sizeof(g->instance), "%s", o->instance);
	g->active = o->active;
	g->event = o->event;
	g->severity = o->severity;
	g->t = o->t;
	g->value = o->value;
	g->eta = o->eta;
	g->eta_early = o->eta_early;
	g->eta_late = o->eta_late;
	if ((l = alert_obs_get_label(o, "redundancy")) != NULL)
		snprintf(g->redundancy, sizeof(g->redundancy), "%s", l);
	if ((l = alert_obs_get_label(o, "fstype")) != NULL)
		snprintf(g->fstype, sizeof(g->fstype), "%s", l);
	pthread_mutex_unlock(&r->lock);
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
}

static void rec_free(struct rec *r)
{
	free(r->v);
	pthread_mutex_destroy(&r->lock);
}

/* The observations of RULE, in order, into out (at most max); how many. */
static size_t of_rule(const struct rec *r, const char *rule, const struct got **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].rule, rule) == 0 && n < max)
			out[n++] = &r->v[i];
	return n;
}

static struct rules *rules_text(const char *text)
{
	struct hr_errs errs;
	struct rules *rs;

	hr_errs_init(&errs);
	rs = rules_parse(text, strlen(text), &errs);
	if (rs == NULL && errs.count > 0)
		printf("\nrules: %s\n", errs.items[0]);
	hr_errs_free(&errs);
	return rs;
}

/* A deterministic normal-ish deviate (xorshift64, sum of uniforms). */
static double noise(uint64_t *s)
{
	double sum = 0;
	int i;

	for (i = 0; i < 4; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 7;
		*s ^= *s << 17;
		sum += (double)(*s >> 11) / 9007199254740992.0;
	}
	return (sum - 2.0) * sqrt(3.0);
}

static void disk_sample(struct hr_sample *s, double t, double rb, double io_ms)
{
	hr_sample_init(s, "disk", "sda");
	s->t = (time_t)t;
	hr_sample_set(s, "read_bytes", rb);
	hr_sample_set(s, "io_ms", io_ms);
}

/* --- derivation ------------------------------------------------------------ */

/* Rules that pass every value on, so that the obs show what rules see. */
static const char see_rules[] =
	"{\"rules\": ["
	"{\"name\": \"see_read\", \"match\": {\"probe\": \"disk\"}, \"value\": \"read_bytes\","
	" \"op\": \">=\", \"warning\": -1e12},"
	"{\"name\": \"see_util\", \"match\": {\"probe\": \"disk\"}, \"value\": \"util\","
	" \"op\": \">=\", \"warning\": -1e12},"
	"{\"name\": \"see_busy\", \"match\": {\"probe\": \"cpu\"}, \"value\": \"busy\","
	" \"op\": \">=\", \"warning\": -1e12}]}";

static void test_rates(void)
{
	static const struct {
		double dt, rb, io_ms; /* seconds after the previous sample */
		double want_rate;     /* NAN: no rate */
		double want_util;
	} steps[] = {
		{ 0, 1000, 0, NAN, NAN },          /* first: nothing to compare */
		{ 60, 7000, 30000, 100, 50 },      /* 6000 B / 60 s; 500 ms/s */
		{ 60, 100, 30600, NAN, 1 },        /* read_bytes reset; io_ms 10 ms/s */
		{ 60, 700, 30600, 10, 0 },
		{ 1000, 900, 40000, NAN, NAN },    /* a gap of > 2 steps */
		{ 60, 1500, 100000, 10, 100 },     /* 1000 ms/s is capped at 100 % */
	};
	struct rules *rs = rules_text(see_rules);
	struct rec rec;
	struct analyzer *an;
	struct hr_sample s;
	struct hr_err err;
	double t = T0;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, NULL, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct got *g[4];

		t += steps[i].dt;
		disk_sample(&s, t, steps[i].rb, steps[i].io_ms);
		rec.n = 0;
		CU_ASSERT_EQUAL(analyzer_observe(an, "web1", &s, 60), 0);
		if (isnan(steps[i].want_rate)) {
			CU_ASSERT_EQUAL(of_rule(&rec, "see_read", g, 4), 0);
		} else {
			CU_ASSERT_EQUAL_FATAL(of_rule(&rec, "see_read", g, 4), 1);
			CU_ASSERT_DOUBLE_EQUAL(g[0]->value, steps[i].want_rate, 1e-9);
		}
		if (isnan(steps[i].want_util)) {
			CU_ASSERT_EQUAL(of_rule(&rec, "see_util", g, 4), 0);
		} else {
			CU_ASSERT_EQUAL_FATAL(of_rule(&rec, "see_util", g, 4), 1);
			CU_ASSERT_DOUBLE_EQUAL(g[0]->value, steps[i].want_util, 1e-9);
		}
	}
	/* A sample not newer than the last is ignored. */
	rec.n = 0;
	CU_ASSERT_EQUAL(analyzer_observe(an, "web1", &s, 60), 0);
	CU_ASSERT_EQUAL(rec.n, 0);

	/* cpu: busy from the deltas; the first sample has none. */
	{
		static const double v[2][4] = { { 1000, 200, 5000, 100 }, { 1030, 210, 5050, 110 } };
		static const char *const names[4] = { "user", "system", "idle", "iowait" };
		const struct got *g[4];
		int k, j;

		for (k = 0; k < 2; k++) {
			hr_sample_init(&s, "cpu", NULL);
			s.t = (time_t)(T0 + 10 * k);
			for (j = 0; j < 4; j++)
				hr_sample_set(&s, names[j], v[k][j]);
			rec.n = 0;
			analyzer_observe(an, "web1", &s, 10);
			CU_ASSERT_EQUAL(of_rule(&rec, "see_busy", g, 4), (size_t)k);
		}
		of_rule(&rec, "see_busy", g, 4);
		/* (30 + 10 + 50 + 10) spent, 60 of it idle or waiting: 40 % busy */
		CU_ASSERT_DOUBLE_EQUAL(g[0]->value, 40, 1e-9);
	}
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

/* --- detector paths --------------------------------------------------------- */

static void fs_sample(struct hr_sample *s, double t, double size, double used)
{
	hr_sample_init(s, "fs", "/var");
	s->t = (time_t)t;
	hr_sample_set(s, "size", size);
	hr_sample_set(s, "used", used);
	hr_sample_label(s, "fstype", "ext4");
}

static void test_threshold(void)
{
	static const struct {
		double pct;
		int emitted, active;
		enum alert_severity sev;
	} steps[] = {
		{ 85, 1, 0, ALERT_WARNING }, /* the first: inactive, so a stale alert resolves */
		{ 86, 0, 0, 0 },             /* still clear: nothing to say */
		{ 91, 1, 1, ALERT_WARNING },
		{ 89, 1, 1, ALERT_WARNING }, /* above the clear level (88): holds */
		{ 96, 1, 1, ALERT_CRITICAL },
		{ 94, 1, 1, ALERT_CRITICAL }, /* above 93: still critical */
		{ 87, 1, 0, 0 },             /* below 88: resolved */
		{ 86, 0, 0, 0 },
	};
	struct rules *rs = rules_text("{\"rules\": []}");
	struct rec rec;
	struct analyzer *an;
	struct hr_sample s;
	struct hr_err err;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, ":memory:", rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct got *g[4];
		size_t n;

		fs_sample(&s, T0 + 60 * i, 1000, 10 * steps[i].pct);
		rec.n = 0;
		analyzer_observe(an, "web1", &s, 60);
		n = of_rule(&rec, "fs_used", g, 4);
		CU_ASSERT_EQUAL(n, (size_t)steps[i].emitted);
		if (n != 1)
			continue;
		CU_ASSERT_EQUAL(g[0]->active, steps[i].active);
		CU_ASSERT_DOUBLE_EQUAL(g[0]->value, steps[i].pct, 1e-9);
		CU_ASSERT_STRING_EQUAL(g[0]->fstype, "ext4");
		CU_ASSERT_EQUAL(g[0]->event, 0);
		if (steps[i].active)
			CU_ASSERT_EQUAL(g[0]->severity, steps[i].sev);
	}
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

/* The analyzer's shortcut for a threshold that stays clear moves the rule
 * state exactly as rule_judge does: the saved state equals rule_judge's
 * own after a series that crosses the levels and falls back. */
static void test_threshold_state(void)
{
	struct rules *rs = rules_defaults(NULL);
	const struct rule *r;
	struct rule_state direct;
	struct alert_obs o;
	struct rec rec;
	struct analyzer *an;
	struct hr_sample s;
	struct hr_err err;
	const char *dir = tmpdir_new("analyzer");
	char db[512];
	uint64_t st = 99;
	sqlite3 *h;
	sqlite3_stmt *q;
	long i;
	int found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	r = rules_find(rs, "fs_used");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	rec_init(&rec);
	memset(&direct, 0, sizeof(direct));
	an = analyzer_new(rs, db, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < 2000; i++) {
		fs_sample(&s, T0 + 60 * i, 1000, 10 * (85 + 4 * sin(i / 50.0) + noise(&st)));
		analyzer_observe(an, "web1", &s, 60);
		rule_judge(r, &direct, "web1", &s, &o);
	}
	CU_ASSERT_EQUAL(analyzer_save(an, &err), 0);
	analyzer_free(an);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(db, &h), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(h, "SELECT blob FROM analyzer_state WHERE rule = 'fs_used'",
						 -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(q, 0);
		int n = sqlite3_column_bytes(q, 0);

		found = 1;
		CU_ASSERT_EQUAL_FATAL((size_t)n, 64 + 8 + sizeof(direct));
		CU_ASSERT(memcmp(b + 64 + 8, &direct, sizeof(direct)) == 0);
		CU_ASSERT(direct.seen == 2000);
	}
	CU_ASSERT(found);
	sqlite3_finalize(q);
	sqlite3_close(h);
	/* The series did cross: alerts came and went. */
	{
		size_t k, ups = 0;

		for (k = 0; k < rec.n; k++)
			ups += strcmp(rec.v[k].rule, "fs_used") == 0 && rec.v[k].active;
		CU_ASSERT(ups > 0);
	}
	rules_free(rs);
	rec_free(&rec);
	rm_rf(dir);
}

static void test_change(void)
{
	static const double pending[] = { 0, 0, 0, 3, 3 };
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct hr_sample s;
	struct hr_err err;
	const struct got *g[8];
	size_t i, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, NULL, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < sizeof(pending) / sizeof(pending[0]); i++) {
		hr_sample_init(&s, "smart", "sda");
		s.t = (time_t)(T0 + 3600 * i);
		hr_sample_set(&s, "pending", pending[i]);
		analyzer_observe(an, "db1", &s, 3600);
	}
	n = of_rule(&rec, "smart_pending_growing", g, 8);
	/* the first (inactive), then the two samples the growth holds on */
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(g[0]->active, 0);
	CU_ASSERT_EQUAL(g[1]->active, 1);
	CU_ASSERT_DOUBLE_EQUAL(g[1]->t, T0 + 3 * 3600, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(g[1]->value, 3, 1e-9);
	CU_ASSERT_EQUAL(g[2]->active, 1);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

/* Load per CPU on a noisy daily cycle, 10 days at 5 min, and a spike of 30
 * minutes on day 8 at 14:00: the backtest's scenario. */
static double load_at(long i, uint64_t *st, double *spike_t)
{
	double t = T0 + 300.0 * i, v;

	*spike_t = T0 + 8 * DAY + 14 * HOUR;
	v = 2 + 1.5 * sin(2 * M_PI * fmod(t, DAY) / DAY) + 0.15 * noise(st);
	if (t >= *spike_t && t < *spike_t + 1800)
		v += 12;
	return v;
}

static void test_spike(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct hr_sample s;
	struct hr_err err;
	const struct got *g[8];
	uint64_t st = 88172645463325252ull;
	double spike_t = 0;
	long i;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, NULL, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < 10 * 288; i++) {
		hr_sample_init(&s, "load", NULL);
		s.t = (time_t)(T0 + 300.0 * i);
		hr_sample_set(&s, "load1", 4 * load_at(i, &st, &spike_t));
		hr_sample_set(&s, "ncpu", 4);
		analyzer_observe(an, "web1", &s, 300);
	}
	n = of_rule(&rec, "spike_load", g, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT(g[0]->active && g[0]->event);
	CU_ASSERT(g[0]->t >= spike_t && g[0]->t <= spike_t + 900);
	CU_ASSERT(g[0]->value > 10); /* per CPU: the rule divides by ncpu */
	CU_ASSERT_EQUAL(g[0]->severity, rules_find(rs, "spike_load")->severity);
	CU_ASSERT(!g[1]->active && g[1]->event);
	CU_ASSERT(g[1]->t > g[0]->t);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

/* analyzer_forecasts() into one record (the last one for fs "/"). */
struct fc_seen {
	int n;
	char rule[64], host[64], instance[64];
	struct analyzer_forecast f;
};

static int fc_take(void *arg, const struct analyzer_forecast *f)
{
	struct fc_seen *fs = arg;

	fs->n++;
	snprintf(fs->rule, sizeof(fs->rule), "%s", f->rule);
	snprintf(fs->host, sizeof(fs->host), "%s", f->host);
	snprintf(fs->instance, sizeof(fs->instance), "%s", f->instance);
	fs->f = *f;
	return 0;
}

/* A file system filling linearly from 20 % to full in 60 days, hourly. */
static void test_forecast(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct hr_sample s;
	struct hr_err err;
	static const struct got *g[2000];
	uint64_t st = 12345;
	double full = T0 + 60 * DAY, last;
	long i;
	size_t n, k, first = SIZE_MAX;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, NULL, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < 59 * 24; i++) {
		double v = 20 + 80 * i / (60.0 * 24) + 0.2 * noise(&st);

		fs_sample(&s, T0 + HOUR * i, 100, v);
		analyzer_observe(an, "web1", &s, 3600);
	}
	n = of_rule(&rec, "forecast_fs_used", g, 2000);
	CU_ASSERT_FATAL(n >= 2);
	CU_ASSERT_EQUAL(g[0]->active, 0); /* the first evaluation */
	for (k = 0; k < n; k++)
		if (g[k]->active) {
			first = k;
			break;
		}
	CU_ASSERT_FATAL(first != SIZE_MAX);
	CU_ASSERT(g[first]->t < full - 2 * DAY);
	CU_ASSERT_EQUAL(g[first]->severity, ALERT_WARNING);
	CU_ASSERT(g[first]->eta_early <= g[first]->eta && g[first]->eta <= g[first]->eta_late);
	CU_ASSERT(g[first]->eta_early <= full + DAY && g[first]->eta_late >= full - DAY);
	CU_ASSERT(fabs(g[first]->eta - full) < 2 * DAY);
	CU_ASSERT(g[n - 1]->active && g[n - 1]->severity == ALERT_CRITICAL);
	/* Hourly: evaluations are an hour apart, on the hour. */
	for (k = 1; k < n; k++)
		CU_ASSERT(fmod(g[k]->t, HOUR) == 0 && g[k]->t > g[k - 1]->t);
	/* The dashboards see the last evaluation: the same ETA and bounds. */
	{
		struct fc_seen fs = { 0 };

		CU_ASSERT_EQUAL(analyzer_forecasts(an, fc_take, &fs), 1);
		CU_ASSERT_EQUAL_FATAL(fs.n, 1);
		CU_ASSERT_STRING_EQUAL(fs.rule, "forecast_fs_used");
		CU_ASSERT_STRING_EQUAL(fs.host, "web1");
		CU_ASSERT_EQUAL(fs.f.state, 2);
		CU_ASSERT(fs.f.valid && fs.f.capacity == 100);
		CU_ASSERT_EQUAL(fs.f.at, g[n - 1]->t);
		CU_ASSERT_EQUAL(fs.f.eta, g[n - 1]->eta);
		CU_ASSERT_EQUAL(fs.f.eta_early, g[n - 1]->eta_early);
		CU_ASSERT(fs.f.slope > 1.2 && fs.f.slope < 1.45); /* 80 % in 60 d */
		CU_ASSERT(fs.f.slope_lo <= fs.f.slope && fs.f.slope <= fs.f.slope_hi);
	}

	/* The samples stop: the tick evaluates once the next hour is well
	 * past, at that hour, once. */
	last = T0 + HOUR * (i - 1);
	analyzer_tick(an, last + 1800);
	CU_ASSERT_EQUAL(of_rule(&rec, "forecast_fs_used", g, 2000), n);
	analyzer_tick(an, last + HOUR + 1);
	CU_ASSERT_EQUAL_FATAL(of_rule(&rec, "forecast_fs_used", g, 2000), n + 1);
	CU_ASSERT(g[n]->active && g[n]->t == last);
	analyzer_tick(an, last + HOUR + 2);
	CU_ASSERT_EQUAL(of_rule(&rec, "forecast_fs_used", g, 2000), n + 1);

	/* A resize (10 x the size): the forecaster starts again, without the
	 * history to forecast from, and the alert resolves. */
	for (k = 1; k <= 3; k++) {
		fs_sample(&s, last + 2 * HOUR + HOUR * (double)k, 1000, 98);
		analyzer_observe(an, "web1", &s, 3600);
	}
	CU_ASSERT_FATAL(of_rule(&rec, "forecast_fs_used", g, 2000) > n + 1);
	CU_ASSERT(!g[n + 1]->active);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

static void test_stale(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct hr_err err;
	const struct got *g[4];

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, NULL, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	CU_ASSERT_EQUAL(analyzer_host_stale(an, "web1", 1, T0), 1);
	CU_ASSERT_EQUAL(analyzer_host_stale(an, "web1", 0, T0 + 60), 1);
	CU_ASSERT_EQUAL_FATAL(of_rule(&rec, "host_stale", g, 4), 2);
	CU_ASSERT(g[0]->active && g[0]->severity == ALERT_CRITICAL);
	CU_ASSERT_STRING_EQUAL(g[0]->host, "web1");
	CU_ASSERT_STRING_EQUAL(g[0]->redundancy, "server");
	CU_ASSERT(!g[1]->active && g[1]->t == T0 + 60);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

/* --- persistence ------------------------------------------------------------ */

/* Sample i of a small fleet: load with a spike, a file system filling past
 * 90 %, a disk whose counters grow. */
static size_t fleet_samples(long i, struct hr_sample *out)
{
	uint64_t st = 0x9e3779b97f4a7c15ull ^ (uint64_t)i * 2654435761u;
	double t = T0 + 300.0 * i, spike_t;
	double load = load_at(i, &st, &spike_t);

	hr_sample_init(&out[0], "load", NULL);
	out[0].t = (time_t)t;
	hr_sample_set(&out[0], "load1", 2 * load);
	hr_sample_set(&out[0], "ncpu", 2);
	fs_sample(&out[1], t, 1000, 600 + 400 * (double)i / (12.0 * 288) + 2 * noise(&st));
	disk_sample(&out[2], t, 1e6 * i + 1e4 * noise(&st) + 1e5, 500.0 * i);
	return 3;
}

/* The transitions of every key (rule/host/instance): what a lifecycle turns
 * into alerts. Event observations count each. */
static size_t transitions(const struct rec *r, char (*out)[160], size_t max)
{
	size_t i, j, n = 0, nk = 0;
	static char keys[64][600];
	static int act[64];

	for (i = 0; i < r->n; i++) {
		const struct got *g = &r->v[i];
		char key[600];

		snprintf(key, sizeof(key), "%s/%s/%s", g->rule, g->host, g->instance);
		for (j = 0; j < nk && strcmp(keys[j], key) != 0; j++)
			;
		if (j == nk) {
			if (nk == 64)
				continue;
			snprintf(keys[nk], sizeof(keys[nk]), "%s", key);
			act[nk++] = 0;
		}
		if (g->event || g->active != act[j]) {
			act[j] = g->active;
			if (n < max)
				snprintf(out[n++], 160, "%.100s %.0f %d", key, g->t, g->active);
		}
	}
	return n;
}

#define DAYS 12

static void run_fleet(struct analyzer *an, long from, long to)
{
	struct hr_sample s[3];
	long i;
	size_t k, n;

	for (i = from; i < to; i++) {
		n = fleet_samples(i, s);
		for (k = 0; k < n; k++)
			analyzer_observe(an, "web1", &s[k], 300);
		analyzer_tick(an, T0 + 300.0 * i + 30);
	}
}

static void test_restart(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec a, b;
	struct analyzer *an;
	struct analyzer_stats stats;
	struct hr_err err;
	static char ta[256][160], tb[256][160];
	const char *dir = tmpdir_new("analyzer");
	char db[512];
	long cut = (long)(8 * 288 + 14 * 12 + 2); /* inside the spike, the fs alert on */
	size_t na, nb, i;
	int spikes = 0, fills = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	rec_init(&a);
	rec_init(&b);
	an = analyzer_new(rs, NULL, rec_emit, &a, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	run_fleet(an, 0, DAYS * 288);
	analyzer_free(an);

	an = analyzer_new(rs, db, rec_emit, &b, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	run_fleet(an, 0, cut);
	CU_ASSERT_EQUAL(analyzer_save(an, &err), 0);
	analyzer_get_stats(an, &stats);
	CU_ASSERT(stats.series >= 5);
	CU_ASSERT(stats.bytes > 0 && stats.bytes < stats.series * 200000);
	analyzer_free(an);
	an = analyzer_new(rs, db, rec_emit, &b, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	run_fleet(an, cut, cut + 1);
	{
		/* Restored, not evaluated since: the forecast is shown all the
		 * same (evaluated on a copy, the hold not advanced). */
		struct fc_seen fs = { 0 };

		CU_ASSERT(analyzer_forecasts(an, fc_take, &fs) >= 1);
		CU_ASSERT(fs.n >= 1 && fs.f.at > 0);
	}
	run_fleet(an, cut + 1, DAYS * 288);
	analyzer_get_stats(an, &stats);
	CU_ASSERT(stats.loaded >= 5);
	CU_ASSERT_EQUAL(stats.dropped, 0);
	analyzer_free(an);

	na = transitions(&a, ta, 256);
	nb = transitions(&b, tb, 256);
	CU_ASSERT_EQUAL(na, nb);
	for (i = 0; i < na && i < nb; i++) {
		if (strcmp(ta[i], tb[i]) != 0)
			printf("\n  uninterrupted %s, restarted %s", ta[i], tb[i]);
		CU_ASSERT_STRING_EQUAL(ta[i], tb[i]);
		spikes += strncmp(ta[i], "spike_load", 10) == 0;
		fills += strncmp(ta[i], "fs_used", 7) == 0 || strncmp(ta[i], "forecast_fs_used", 16) == 0;
	}
	/* The run went through what the restart must keep. */
	CU_ASSERT(spikes >= 2);
	CU_ASSERT(fills >= 1);
	rec_free(&a);
	rec_free(&b);
	rules_free(rs);
	rm_rf(dir);
}

/* Flips a byte in the middle of every saved row of KIND. */
static int damage(const char *db, const char *kind)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_open(db, &h) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(h, "UPDATE analyzer_state SET blob = substr(blob, 1, length(blob) / 2)"
			       " || x'A5' || substr(blob, length(blob) / 2 + 2) WHERE kind = ?",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			n = sqlite3_changes(h);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return n;
}

static void test_damaged_and_changed(void)
{
	struct rules *rs = rules_defaults(NULL), *rs2;
	struct rec rec;
	struct analyzer *an;
	struct analyzer_stats stats;
	struct hr_err err;
	const char *dir = tmpdir_new("analyzer");
	char db[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	rec_init(&rec);
	an = analyzer_new(rs, db, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	run_fleet(an, 0, 2 * 288);
	CU_ASSERT_EQUAL(analyzer_save(an, &err), 0);
	analyzer_free(an);

	/* Damaged spike states and counters: dropped, the series start
	 * afresh. */
	CU_ASSERT_EQUAL(damage(db, "spike"), 3); /* load, disk read and util */
	CU_ASSERT_EQUAL(damage(db, "rates"), 1); /* the disk's counters */
	an = analyzer_new(rs, db, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	run_fleet(an, 2 * 288, 2 * 288 + 2);
	analyzer_get_stats(an, &stats);
	CU_ASSERT_EQUAL(stats.dropped, 4);
	CU_ASSERT_EQUAL(stats.loaded, 2); /* fs_used, forecast_fs_used */
	CU_ASSERT_EQUAL(stats.restarted, 0);
	CU_ASSERT_EQUAL(analyzer_save(an, &err), 0);
	analyzer_free(an);

	/* The spike rule's parameters changed: its series starts again; the
	 * others keep their state. */
	rs2 = rules_text("{\"rules\": [{\"name\": \"spike_load\", \"match\": {\"probe\": \"load\"},"
			 " \"value\": \"load1\", \"divide_by\": \"ncpu\", \"detector\": \"spike\","
			 " \"spike\": {\"direction\": \"up\", \"z_min\": 4}}]}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs2);
	an = analyzer_new(rs2, db, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	run_fleet(an, 2 * 288 + 2, 2 * 288 + 3);
	analyzer_get_stats(an, &stats);
	CU_ASSERT_EQUAL(stats.restarted, 1);
	CU_ASSERT_EQUAL(stats.dropped, 0);
	CU_ASSERT(stats.loaded >= 5);
	analyzer_free(an);

	/* A database that is not one is refused with a message. */
	CU_ASSERT_EQUAL(write_file(dir, "/bad.db", "not a database, not at all, really", 34), 0);
	snprintf(db, sizeof(db), "%s/bad.db", dir);
	an = analyzer_new(rs, db, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NULL(an);
	CU_ASSERT(strstr(err.msg, "bad.db") != NULL);
	analyzer_free(an);
	rules_free(rs2);
	rules_free(rs);
	rec_free(&rec);
	rm_rf(dir);
}

/* An instance silent for over a week leaves memory; its saved state brings
 * it back when it returns. */
static void test_forget(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct analyzer_stats st;
	struct hr_sample s;
	struct hr_err err;
	const char *dir = tmpdir_new("analyzer");
	char db[512];
	long i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	rec_init(&rec);
	an = analyzer_new(rs, db, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (i = 0; i < 10 * 24; i++) {
		double t = T0 + HOUR * i;

		if (i < 24) { /* /var only for the first day */
			fs_sample(&s, t, 1000, 500);
			analyzer_observe(an, "web1", &s, 3600);
		}
		disk_sample(&s, t, 1000.0 * i, 10.0 * i);
		analyzer_observe(an, "web1", &s, 3600);
		analyzer_tick(an, t + 60);
	}
	analyzer_get_stats(an, &st);
	CU_ASSERT_EQUAL(st.instances, 1); /* the disk, not /var */
	CU_ASSERT_EQUAL(st.loaded, 0);
	fs_sample(&s, T0 + HOUR * 240, 1000, 500);
	analyzer_observe(an, "web1", &s, 3600);
	analyzer_get_stats(an, &st);
	CU_ASSERT_EQUAL(st.instances, 2);
	CU_ASSERT(st.loaded >= 1); /* /var's thresholds and forecasts */
	CU_ASSERT_EQUAL(st.dropped, 0);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
	rm_rf(dir);
}

/* --- threads ------------------------------------------------------------------ */

struct worker {
	struct analyzer *an;
	const char *host;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct hr_sample s[3];
	long i;
	size_t k, n;

	for (i = 0; i < 600; i++) {
		n = fleet_samples(i, s);
		for (k = 0; k < n; k++)
			analyzer_observe(w->an, w->host, &s[k], 300);
	}
	return NULL;
}

/* A backfill: 40 days of a filling file system sent in a few seconds of
 * wall time (an agent's spool after an outage, the demo), the tick running
 * on the wall clock meanwhile. The tick must not take the series for a
 * stopped one (evaluating it at the wall clock's hour would make the
 * forecaster drop every older sample), and nothing may leave memory. */
static void test_backfill(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct analyzer_stats st;
	struct hr_sample s;
	struct hr_err err;
	static const struct got *g[2000];
	double wall = T0 + 45 * DAY;
	size_t n, k;
	int active = 0;
	long i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, NULL, rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	analyzer_tick(an, wall); /* the central ticks from its start */
	for (i = 0; i < 40 * 24; i++) {
		fs_sample(&s, T0 + HOUR * i, 100, 20 + 80 * i / (42.0 * 24));
		analyzer_observe(an, "web1", &s, 3600);
		if (i % 50 == 0)
			analyzer_tick(an, wall + i / 50);
	}
	n = of_rule(&rec, "forecast_fs_used", g, 2000);
	for (k = 0; k < n; k++)
		active += g[k]->active;
	CU_ASSERT(n >= 2);
	CU_ASSERT(active > 0);   /* the forecaster saw the growth */
	for (k = 0; k < n; k++)  /* and was evaluated in sample time only */
		CU_ASSERT(g[k]->t < T0 + 40 * DAY);
	analyzer_get_stats(an, &st);
	CU_ASSERT_EQUAL(st.instances, 1);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

static void test_threads(void)
{
	struct rules *rs = rules_defaults(NULL);
	struct rec rec;
	struct analyzer *an;
	struct analyzer_stats stats;
	struct hr_err err;
	struct worker w[2];
	pthread_t th[2];
	size_t i, per_host[2] = { 0, 0 };
	int k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rec_init(&rec);
	an = analyzer_new(rs, ":memory:", rec_emit, &rec, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(an);
	for (k = 0; k < 2; k++) {
		w[k].an = an;
		w[k].host = k ? "db1" : "web1";
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[k], NULL, work, &w[k]), 0);
	}
	for (k = 0; k < 5; k++)
		analyzer_tick(an, T0 + 60.0 * k * 60);
	for (k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	CU_ASSERT_EQUAL(analyzer_save(an, &err), 0);
	analyzer_get_stats(an, &stats);
	CU_ASSERT_EQUAL(stats.instances, 6);
	for (i = 0; i < rec.n; i++)
		per_host[strcmp(rec.v[i].host, "db1") == 0]++;
	/* Both hosts saw the same samples: the same observations. */
	CU_ASSERT(per_host[0] > 0);
	CU_ASSERT_EQUAL(per_host[0], per_host[1]);
	analyzer_free(an);
	rules_free(rs);
	rec_free(&rec);
}

int main(void)
{
	CU_TestInfo tests[] = {
		{ "counters become rates; cpu busy, disk util", test_rates },
		{ "threshold: hysteresis, severity, labels", test_threshold },
		{ "threshold: the clear shortcut keeps rule_judge's state", test_threshold_state },
		{ "change: growing pending sectors", test_change },
		{ "spike: an event at the onset, one at the end", test_spike },
		{ "forecast: hourly, warning with ETA bounds", test_forecast },
		{ "stale host", test_stale },
		{ "restart: the events of an uninterrupted run", test_restart },
		{ "damaged state dropped, changed rule restarts", test_damaged_and_changed },
		{ "silent instances leave memory, come back", test_forget },
		{ "a backfill while the tick runs on the wall clock", test_backfill },
		{ "two ingest threads", test_threads },
		CU_TEST_INFO_NULL,
	};

	return run_suite("analyzer", tests);
}
