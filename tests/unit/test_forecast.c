/* test_forecast.c: the capacity forecaster (alerting/forecast.c) on series
 * whose answer is known: linear growth (the ETA's interval holds the true
 * exhaustion), a sawtooth with no net growth and memory that cycles (never
 * an alert), a cleanup (a new segment, and the growth after it caught), the
 * two-evaluation hold and its resolve, scale freedom, and the saved state:
 * a round trip changes nothing, and a damaged blob is refused. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "testutil.h"

#define HOUR 3600.0
#define DAY 86400.0
#define T0 1700006400.0 /* a UTC midnight */

/* A deterministic noise source (xorshift64*), so that every run sees the
 * same series. Returns roughly N(0, 1) (sum of 4 uniforms, scaled). */
struct rng {
	uint64_t s;
};

static double noise(struct rng *r)
{
	double sum = 0;
	int i;

	for (i = 0; i < 4; i++) {
		r->s ^= r->s >> 12;
		r->s ^= r->s << 25;
		r->s ^= r->s >> 27;
		sum += (double)((r->s * 2685821657736338717ull) >> 11) / 9007199254740992.0;
	}
	return (sum - 2.0) * sqrt(3.0);
}

enum shape { LINEAR, SAWTOOTH, MEMORY, MEMORY48, ROTATE3, CLEANUP };

/* The value at hour i of a series of the given shape, as a fraction of the
 * capacity; *full is set to the hour the series reaches capacity (or -1). */
static double shape_at(enum shape sh, long i, struct rng *r, long *full)
{
	double d = (double)i / 24.0, v = 0;

	*full = -1;
	switch (sh) {
	case LINEAR: /* 0.30 to 1.0 in 40 days */
		v = 0.30 + 0.70 * d / 40.0;
		*full = 40 * 24;
		break;
	case SAWTOOTH: /* weekly rotation: 0.40 up to 0.65, no net growth */
		v = 0.40 + 0.25 * fmod(d, 7.0) / 7.0;
		break;
	case MEMORY: /* 12 h cycles from 0.30 to 0.65 */
		v = 0.30 + 0.35 * fmod(d * 2.0, 1.0);
		break;
	case MEMORY48: /* 48 h cycles: the daily maxima alternate */
		v = 0.30 + 0.35 * fmod(d / 2.0, 1.0);
		break;
	case ROTATE3: /* rotation every 3 days, 0.35 to 0.65 */
		v = 0.35 + 0.30 * fmod(d, 3.0) / 3.0;
		break;
	case CLEANUP: /* 0.30 to 0.90 in 30 days, cleaned to 0.25, full 20 days later */
		v = d < 30 ? 0.30 + 0.60 * d / 30.0 : 0.25 + 0.75 * (d - 30) / 20.0;
		*full = 50 * 24;
		break;
	}
	/* A daily cycle and noise, as a real file system shows. */
	return v + 0.01 * sin(2 * M_PI * d) + 0.002 * noise(r);
}

struct run {
	long first_alert;   /* hour of the first alert, -1 when none */
	long alerts;        /* times the state went up */
	long resolves;      /* times it went down */
	struct forecast_result last;
	struct forecast_result at_alert;
	double seg_after;   /* the latest segment start seen */
};

/* Feeds `hours` hours of shape sh at capacity cap to f, evaluating every
 * hour after adding that hour's sample. */
static void run_shape(struct forecast *f, enum shape sh, double cap, long hours, uint64_t seed,
		      struct run *out)
{
	struct rng r = { seed };
	long i, full;

	memset(out, 0, sizeof(*out));
	out->first_alert = -1;
	for (i = 0; i < hours; i++) {
		struct forecast_result res;
		double v = shape_at(sh, i, &r, &full) * cap;

		CU_ASSERT_EQUAL(forecast_add(f, T0 + (double)i * HOUR, v), 0);
		CU_ASSERT_EQUAL_FATAL(forecast_eval(f, T0 + (double)i * HOUR, &res), 0);
		if (res.changed && res.state != FORECAST_NONE) {
			if (out->first_alert < 0) {
				out->first_alert = i;
				out->at_alert = res;
			}
			out->alerts++;
		} else if (res.changed) {
			out->resolves++;
		}
		if (res.valid)
			out->seg_after = res.segment_start;
		out->last = res;
	}
}

static struct forecast *new_fc(double cap)
{
	struct forecast_params p;
	struct hr_err err;
	struct forecast *f;

	forecast_params_default(&p);
	p.capacity = cap;
	f = forecast_new(&p, &err);
	if (f == NULL)
		fprintf(stderr, "forecast_new: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f;
}

static void test_params(void)
{
	struct forecast_params p;
	struct hr_err err;

	forecast_params_default(&p);
	CU_ASSERT_PTR_NULL(forecast_new(&p, &err)); /* no capacity */
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "capacity"));
	p.capacity = 100;
	p.crit_horizon = 8 * DAY;
	CU_ASSERT_EQUAL(forecast_params_check(&p, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "crit_horizon"));
	forecast_params_default(&p);
	p.capacity = 100;
	p.confidence = 1.5;
	CU_ASSERT_EQUAL(forecast_params_check(&p, &err), -1);
	p.confidence = 0.9;
	p.max_buckets = 5;
	CU_ASSERT_EQUAL(forecast_params_check(&p, &err), -1);
	p.max_buckets = 120;
	CU_ASSERT_EQUAL(forecast_params_check(&p, &err), 0);
}

/* Linear growth: alerted days before it is full, and the ETA's interval at
 * the alert and a week later holds the true exhaustion. */
static void test_linear(void)
{
	struct forecast *f = new_fc(1e12);
	struct forecast_result res;
	struct rng r = { 7 };
	long i, full = 0, first = -1;
	double truth = T0 + 40 * DAY;
	int checked = 0;

	for (i = 0; i < 39 * 24; i++) {
		double v = shape_at(LINEAR, i, &r, &full) * 1e12, now = T0 + (double)i * HOUR;

		forecast_add(f, now, v);
		CU_ASSERT_EQUAL_FATAL(forecast_eval(f, now, &res), 0);
		if (res.state != FORECAST_NONE && first < 0)
			first = i;
		/* Once the trend has a week or more, its interval must hold
		 * the truth: check every day at midnight. */
		if (res.valid && fmod(now, DAY) == 0) {
			CU_ASSERT(res.eta_early <= res.eta && res.eta <= res.eta_late);
			CU_ASSERT(res.eta_early <= truth + HOUR);
			CU_ASSERT(res.eta_late >= truth - 2 * DAY);
			CU_ASSERT(res.slope_lo <= res.slope && res.slope <= res.slope_hi);
			/* 0.7 / 40 of the capacity per day */
			CU_ASSERT(fabs(res.slope / 1e12 - 0.0175) < 0.003);
			checked++;
		}
	}
	CU_ASSERT(checked >= 25);
	CU_ASSERT(first >= 0);
	/* Warned at least 48 h before it was full (40 d). */
	CU_ASSERT(first <= 38 * 24);
	/* At the end it is critical, with an ETA within a day of the truth. */
	CU_ASSERT_EQUAL(res.state, FORECAST_CRITICAL);
	CU_ASSERT(fabs(res.eta - truth) < DAY);
	CU_ASSERT(fabs(res.value / 1e12 - (0.30 + 0.70 * (39 * 24 - 1) / 24.0 / 40.0)) < 0.03);
	forecast_free(f);
}

/* A sawtooth with no net growth and memory that cycles: never an alert, in
 * 100 days, with any of several noise seeds; also cycles longer than a
 * bucket (48 h memory, 3-day rotation). */
static void test_no_growth_never_alerts(void)
{
	static const enum shape shapes[] = { SAWTOOTH, MEMORY, MEMORY48, ROTATE3 };
	struct run out;
	size_t k;
	uint64_t seed;

	for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		for (seed = 1; seed <= 3; seed++) {
			struct forecast *f = new_fc(50e9);

			run_shape(f, shapes[k], 50e9, 100 * 24, seed, &out);
			CU_ASSERT_EQUAL(out.alerts, 0);
			CU_ASSERT_EQUAL(out.last.state, FORECAST_NONE);
			/* It did form a trend (it is not silent for lack of
			 * data), and the trend does not run out. */
			CU_ASSERT(out.last.valid);
			CU_ASSERT(out.last.eta_early - (T0 + 100 * DAY) > 30 * DAY);
			if (shapes[k] == SAWTOOTH || shapes[k] == ROTATE3)
				CU_ASSERT(out.last.sawtooth);
			forecast_free(f);
		}
	}
}

/* A cleanup starts a new segment, and the growth after it is caught in
 * time; the alert before the cleanup (it was heading to full) resolves. */
static void test_cleanup(void)
{
	struct forecast *f = new_fc(4e12);
	struct run out;
	struct forecast_result res;
	struct rng r = { 11 };
	long i, full, first_after = -1, was_alert = 0, resolved = 0;
	double cleanup = T0 + 30 * DAY;

	for (i = 0; i < 50 * 24; i++) {
		double now = T0 + (double)i * HOUR;

		forecast_add(f, now, shape_at(CLEANUP, i, &r, &full) * 4e12);
		CU_ASSERT_EQUAL_FATAL(forecast_eval(f, now, &res), 0);
		if (now < cleanup && res.state != FORECAST_NONE)
			was_alert = 1;
		if (now > cleanup && res.changed && res.state == FORECAST_NONE)
			resolved = 1;
		if (now > cleanup + DAY && res.changed && res.state != FORECAST_NONE &&
		    first_after < 0)
			first_after = i;
	}
	(void)out;
	CU_ASSERT(was_alert);  /* 0.9 full, 5 days left: it was */
	CU_ASSERT(resolved);
	/* The trend after the cleanup starts at it (within a day). */
	CU_ASSERT(res.valid);
	CU_ASSERT(res.segment_start >= cleanup - HOUR);
	CU_ASSERT(res.segment_start <= cleanup + 2 * DAY);
	CU_ASSERT(!res.sawtooth);
	/* Caught at least 48 h before it is full (day 50). */
	CU_ASSERT(first_after > 0);
	CU_ASSERT(first_after <= 48 * 24);
	forecast_free(f);
}

/* The condition must hold on two evaluations in a row: the first one that
 * asks for an alert does not raise it, the next one does. A hold of 3
 * needs three. */
static void test_hold(void)
{
	int hold;

	for (hold = 1; hold <= 3; hold++) {
		struct forecast_params p;
		struct forecast_result res;
		struct hr_err err;
		struct forecast *f;
		struct rng r = { 3 };
		long i, full, asked = -1, raised = -1;

		forecast_params_default(&p);
		p.capacity = 100;
		p.hold = hold;
		f = forecast_new(&p, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		for (i = 0; i < 39 * 24 && raised < 0; i++) {
			double now = T0 + (double)i * HOUR;

			forecast_add(f, now, shape_at(LINEAR, i, &r, &full) * 100);
			forecast_eval(f, now, &res);
			if (asked < 0 && res.valid && res.slope_lo > 0 &&
			    res.eta_early - now <= p.warn_horizon)
				asked = i;
			if (res.state != FORECAST_NONE)
				raised = i;
		}
		CU_ASSERT(asked >= 0);
		CU_ASSERT_EQUAL(raised, asked + hold - 1);
		CU_ASSERT(res.changed);
		forecast_free(f);
	}
}

/* The same shape in bytes and in percent gives the same alerts. */
static void test_scale_free(void)
{
	struct run a, b;
	struct forecast *f = new_fc(16e9), *g = new_fc(100);

	run_shape(f, CLEANUP, 16e9, 50 * 24, 5, &a);
	run_shape(g, CLEANUP, 100, 50 * 24, 5, &b);
	CU_ASSERT(a.first_alert >= 0);
	CU_ASSERT_EQUAL(a.first_alert, b.first_alert);
	CU_ASSERT_EQUAL(a.alerts, b.alerts);
	CU_ASSERT_EQUAL(a.resolves, b.resolves);
	CU_ASSERT(fabs(a.last.eta - b.last.eta) < 60);
	forecast_free(f);
	forecast_free(g);
}

/* Samples out of order and non-finite values are refused and change
 * nothing; an evaluation going back in time is refused. */
static void test_bad_input(void)
{
	struct forecast *f = new_fc(100);
	struct forecast_result res;

	CU_ASSERT_EQUAL(forecast_add(f, T0, 10), 0);
	CU_ASSERT_EQUAL(forecast_add(f, T0 - 1, 10), -1);
	CU_ASSERT_EQUAL(forecast_add(f, NAN, 10), -1);
	CU_ASSERT_EQUAL(forecast_add(f, T0 + 1, INFINITY), -1);
	CU_ASSERT_EQUAL(forecast_eval(f, T0 + 10, &res), 0);
	CU_ASSERT_EQUAL(res.value, 10);
	CU_ASSERT(!res.valid);
	CU_ASSERT_EQUAL(forecast_eval(f, T0 + 5, &res), -1);
	CU_ASSERT_EQUAL(forecast_add(f, T0 + 5, 10), -1); /* before the last evaluation */
	forecast_free(f);
}

static int same_result(const struct forecast_result *a, const struct forecast_result *b)
{
#define SAME(x) ((isnan(a->x) && isnan(b->x)) || a->x == b->x)
	return a->state == b->state && a->changed == b->changed && a->valid == b->valid &&
	       a->sawtooth == b->sawtooth && SAME(eta) && SAME(eta_early) && SAME(eta_late) &&
	       SAME(slope) && SAME(slope_lo) && SAME(slope_hi) && SAME(value) &&
	       SAME(segment_start);
#undef SAME
}

static struct forecast *reload(const struct forecast *f, uint8_t **blob, size_t *len)
{
	struct hr_err err;
	struct forecast *g;

	CU_ASSERT_EQUAL_FATAL(forecast_save(f, blob, len, &err), 0);
	g = forecast_load(*blob, *len, &err);
	if (g == NULL)
		fprintf(stderr, "forecast_load: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	return g;
}

/* Save and load at every day of a sawtooth with growth, mid-alert
 * included: the reloaded state answers exactly as the original does from
 * then on, and saves to the same bytes. */
static void test_roundtrip(void)
{
	struct forecast *f = new_fc(200e9), *g = NULL;
	struct forecast_result ra, rb;
	struct rng r1 = { 9 }, r2 = { 9 };
	long i, full;
	int diffs = 0, alerts = 0;

	for (i = 0; i < 45 * 24; i++) {
		double now = T0 + (double)i * HOUR;
		/* rotation on top of growth to 0.98 at day 45 */
		double v = (0.25 + 0.73 * (double)i / (45 * 24) +
			    0.06 * fmod((double)i / 24.0, 7.0) / 7.0 - 0.03) * 200e9;

		(void)shape_at(LINEAR, i, &r1, &full);
		v += 0.002 * 200e9 * noise(&r2);
		if (i % 24 == 13) {
			uint8_t *b1, *b2;
			size_t l1, l2;

			forecast_free(g);
			g = reload(f, &b1, &l1);
			CU_ASSERT_EQUAL_FATAL(forecast_save(g, &b2, &l2, NULL), 0);
			CU_ASSERT(l1 == l2 && memcmp(b1, b2, l1) == 0);
			CU_ASSERT(l1 <= 64 + 120 * 16 + 200);
			free(b1);
			free(b2);
		}
		forecast_add(f, now, v);
		forecast_eval(f, now, &ra);
		if (g != NULL) {
			forecast_add(g, now, v);
			forecast_eval(g, now, &rb);
			diffs += !same_result(&ra, &rb);
		}
		alerts += ra.changed && ra.state != FORECAST_NONE;
	}
	CU_ASSERT_EQUAL(diffs, 0);
	CU_ASSERT(alerts >= 1); /* the run did go through an alert */
	CU_ASSERT(forecast_state_bytes(f) < 4096);
	forecast_free(f);
	forecast_free(g);
}

/* CRC-32 (IEEE), written here from its definition, to forge blobs whose
 * checksum is right but whose content is not. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		for (c ^= p[i], k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	return ~c;
}

static void reseal(uint8_t *b, size_t len)
{
	uint32_t c = crc32_ref(b, len - 4);

	b[len - 4] = (uint8_t)c;
	b[len - 3] = (uint8_t)(c >> 8);
	b[len - 2] = (uint8_t)(c >> 16);
	b[len - 1] = (uint8_t)(c >> 24);
}

static int refused(const uint8_t *b, size_t len, const char *want)
{
	struct hr_err err = { { 0 } };
	struct forecast *g = forecast_load(b, len, &err);

	if (g != NULL) {
		forecast_free(g);
		return 0;
	}
	if (want != NULL && strstr(err.msg, want) == NULL) {
		fprintf(stderr, "refused with \"%s\", expected \"%s\"\n", err.msg, want);
		return 0;
	}
	return 1;
}

/* Every flipped byte, every truncation, another version, and forged blobs
 * with a right checksum but wrong content: refused with a reason. */
static void test_corrupt(void)
{
	struct forecast *f = new_fc(100);
	struct run out;
	uint8_t *blob, *b;
	size_t len, i;
	int bad = 0;

	run_shape(f, LINEAR, 100, 20 * 24, 1, &out);
	CU_ASSERT_EQUAL_FATAL(forecast_save(f, &blob, &len, NULL), 0);
	b = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (i = 0; i < len; i++) {
		memcpy(b, blob, len);
		b[i] ^= 0x5a;
		bad += !refused(b, len, NULL);
	}
	for (i = 0; i < len; i++)
		bad += !refused(blob, i, NULL);
	CU_ASSERT_EQUAL(bad, 0);

	memcpy(b, blob, len);
	b[4] = 2; /* version 2 */
	CU_ASSERT(refused(b, len, "version"));
	memcpy(b, blob, len);
	b[len / 2] ^= 1;
	CU_ASSERT(refused(b, len, "checksum"));
	/* Forged: capacity -1 (the first parameter, at offset 8). */
	memcpy(b, blob, len);
	b[15] = 0xbf;
	reseal(b, len);
	CU_ASSERT(refused(b, len, "capacity"));
	/* Forged: two buckets swapped (out of order); the buckets are the
	 * last 16-byte records before the checksum. */
	memcpy(b, blob, len);
	memcpy(b + len - 4 - 32, blob + len - 4 - 16, 16);
	memcpy(b + len - 4 - 16, blob + len - 4 - 32, 16);
	reseal(b, len);
	CU_ASSERT(refused(b, len, "order"));
	/* Forged: a NaN bucket value. */
	memcpy(b, blob, len);
	memset(b + len - 4 - 8, 0xff, 8);
	reseal(b, len);
	CU_ASSERT(refused(b, len, "finite"));
	/* And the untouched blob still loads. */
	CU_ASSERT(!refused(blob, len, NULL));
	free(b);
	free(blob);
	forecast_free(f);
}

int main(void)
{
	CU_TestInfo tests[] = {
		{ "parameters are checked", test_params },
		{ "linear growth: ETA interval holds the truth", test_linear },
		{ "sawtooth and memory cycles never alert", test_no_growth_never_alerts },
		{ "a cleanup starts a new segment, growth after it caught", test_cleanup },
		{ "alerts need the hold", test_hold },
		{ "bytes and percent alike", test_scale_free },
		{ "bad samples refused", test_bad_input },
		{ "save/load round trip changes nothing", test_roundtrip },
		{ "corrupt state refused", test_corrupt },
		CU_TEST_INFO_NULL,
	};

	return run_suite("forecast", tests);
}
