/* test_spike.c: the streaming spike detector on synthetic series whose
 * answer is known: a spike on a noisy daily cycle is caught at its first
 * point, a nightly backup burst stops alerting once it is part of the
 * cycle, flat and quantised series stay quiet on one-step changes, an
 * idle disk's ordinary writes score as ordinary, the switch to the daily
 * baseline at two days keeps a seed of the first days' scores, an
 * episode alerts once, a restart from a saved state changes nothing, and
 * damaged state is refused. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spike.h"
#include "testutil.h"

#define STEP 300.0
#define DAY_SLOTS 288
#define T0 1396310400.0 /* 2014-04-01 00:00 UTC */

/* A deterministic normal deviate (xorshift64 and Box-Muller). */
static double gauss(uint64_t *st)
{
	double u1, u2;

	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	u1 = ((double)(*st >> 11) + 0.5) / 9007199254740992.0;
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	u2 = ((double)(*st >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Load with a daily cycle (low at night) and noise of sd 3. */
static double cycle(long i, uint64_t *st)
{
	double ph = 2 * M_PI * (double)(i % DAY_SLOTS) / DAY_SLOTS;

	return 50 - 20 * cos(ph) + 3 * gauss(st);
}

struct run {
	int firing, resolved;
	long first_firing;   /* sample index, -1 if none */
	long last_firing;
};

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->first_firing = r->last_firing = -1;
}

static void feed(struct spike *s, long i, double v, struct run *r)
{
	struct spike_event ev;

	CU_ASSERT(spike_update(s, T0 + (double)i * STEP, v, &ev) >= 0);
	if (ev.kind == SPIKE_FIRING) {
		r->firing++;
		if (r->first_firing < 0)
			r->first_firing = i;
		r->last_firing = i;
	} else if (ev.kind == SPIKE_RESOLVED) {
		r->resolved++;
	}
}

static struct spike *new_default(void)
{
	struct hr_err err;
	struct spike *s = spike_new(NULL, STEP, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static void test_spike_on_daily_cycle(void)
{
	struct spike *s = new_default();
	uint64_t st = 42;
	long i, at = 9 * DAY_SLOTS + 150, quiet_after = 0;
	struct run r;

	run_init(&r);
	for (i = 0; i < 10 * DAY_SLOTS; i++) {
		double v = cycle(i, &st);

		if (i >= at && i < at + 3)
			v += 40; /* about 13 standard deviations, for 15 minutes */
		if (i == at) {
			quiet_after = r.firing;
			r.first_firing = -1;
		}
		feed(s, i, v, &r);
	}
	/* Caught at its first point, and once. */
	CU_ASSERT_EQUAL(r.first_firing, at);
	CU_ASSERT_EQUAL(r.firing - quiet_after, 1);
	/* Nine days of the plain noisy cycle before it: a false alarm at
	 * most every few days. */
	CU_ASSERT(quiet_after <= 2);
	spike_free(s);
}

static void test_nightly_backup(void)
{
	struct spike *s = new_default();
	uint64_t st = 7;
	long i, in_backup = 0, at = 25 * DAY_SLOTS + 168;
	struct run r;

	run_init(&r);
	for (i = 0; i < 28 * DAY_SLOTS; i++) {
		long slot = i % DAY_SLOTS;
		double v = cycle(i, &st);
		int before = r.firing;

		/* 02:00 to 02:30 every night: a backup at five times the load. */
		if (slot >= 24 && slot < 30)
			v = 150 + 5 * gauss(&st);
		/* The same load at 14:00 one day is a spike: the nightly
		 * backup must not have taught the detector that 150 is
		 * ordinary at any time. */
		if (i >= at && i < at + 3)
			v = 150 + 5 * gauss(&st);
		if (i == at)
			r.first_firing = -1;
		feed(s, i, v, &r);
		/* From the second week on, no alert from the backup, its start
		 * or its end (an hour after it included). */
		if (i >= 7 * DAY_SLOTS && slot >= 24 && slot < 42 && r.firing > before)
			in_backup++;
	}
	CU_ASSERT_EQUAL(in_backup, 0);
	CU_ASSERT_EQUAL(r.first_firing, at);
	/* And what noise alone raises in four weeks stays rare. */
	CU_ASSERT(r.firing <= 5);
	spike_free(s);
}

static void test_flat_and_quantised(void)
{
	struct spike *s = new_default();
	uint64_t st = 3;
	long i;
	struct run r;

	/* Constant for three days, then one step up, down, and up again. */
	run_init(&r);
	for (i = 0; i < 3 * DAY_SLOTS; i++)
		feed(s, i, 45, &r);
	feed(s, i++, 46, &r);
	feed(s, i++, 45, &r);
	for (; i < 4 * DAY_SLOTS; i++)
		feed(s, i, 46, &r);
	CU_ASSERT_EQUAL(r.firing, 0);
	spike_free(s);

	/* A flat zero (an idle disk) that starts to move in ones. */
	s = new_default();
	run_init(&r);
	for (i = 0; i < 3 * DAY_SLOTS; i++)
		feed(s, i, 0, &r);
	feed(s, i++, 1, &r);
	feed(s, i++, 1, &r);
	feed(s, i++, 0, &r);
	CU_ASSERT_EQUAL(r.firing, 0);
	spike_free(s);

	/* Integer counts that sit at 3 and sometimes show 4 (a process
	 * count), for four days: then a 5, one step above anything seen. */
	s = new_default();
	run_init(&r);
	for (i = 0; i < 4 * DAY_SLOTS; i++)
		feed(s, i, gauss(&st) > 1.5 ? 4 : 3, &r);
	feed(s, i++, 5, &r);
	CU_ASSERT_EQUAL(r.firing, 0);
	/* A jump of many quanta still alerts. */
	feed(s, i++, 40, &r);
	CU_ASSERT_EQUAL(r.firing, 1);
	spike_free(s);
}

static void test_one_alert_per_episode(void)
{
	struct spike *s = new_default();
	uint64_t st = 11;
	long i, at = 5 * DAY_SLOTS + 100, before = 0;
	struct run r;

	run_init(&r);
	for (i = 0; i < 6 * DAY_SLOTS; i++) {
		double v = cycle(i, &st);

		/* Two hours of a stuck process: high, with dips to normal. */
		if (i >= at && i < at + 24 && i % 5 != 0)
			v += 60 + 10 * gauss(&st);
		if (i == at) {
			before = r.firing;
			r.resolved = 0;
		}
		feed(s, i, v, &r);
	}
	CU_ASSERT_EQUAL(r.firing - before, 1);
	CU_ASSERT_EQUAL(r.resolved, 1);
	spike_free(s);
}

/* A disk that mostly writes nothing: over half of every window is 0, so
 * the MAD is 0. An ordinary write must score as ordinary (the spread is
 * that of the values that move, not the smallest step ever seen), and a
 * write a hundred times larger as huge. */
static void test_idle_disk_spread(void)
{
	struct spike *s = new_default();
	struct spike_event ev;
	uint64_t st = 21;
	long i;
	int ordinary_alerts = 0;

	for (i = 0; i < 4 * DAY_SLOTS; i++) {
		double v = gauss(&st) > 0.85 ? 400 + 40 * gauss(&st) : 0;

		CU_ASSERT(spike_update(s, T0 + (double)i * STEP, v, &ev) >= 0);
		if (i >= 2 * DAY_SLOTS && ev.kind == SPIKE_FIRING)
			ordinary_alerts++;
	}
	CU_ASSERT(ordinary_alerts <= 1);
	CU_ASSERT(spike_update(s, T0 + (double)i++ * STEP, 420, &ev) >= 0);
	CU_ASSERT(fabs(ev.z) < 3);
	CU_ASSERT_EQUAL(ev.kind, SPIKE_NONE);
	CU_ASSERT(spike_update(s, T0 + (double)i++ * STEP, 0, &ev) >= 0);
	CU_ASSERT(spike_update(s, T0 + (double)i++ * STEP, 40000, &ev) >= 0);
	CU_ASSERT(ev.z > 20);
	spike_free(s);
}

/* Two days of noise around 100 with a burst to 130 every 50 minutes, then
 * from the switch to the daily baseline (at two days) noise only, and one
 * burst of the same size at sample q after the switch. Returns 1 if the
 * burst alerted; *z is its score. */
static int burst_after_switch(uint64_t seed, long q, double *z)
{
	struct spike *s = new_default();
	struct spike_event ev;
	uint64_t st = seed;
	long i, sw = 2 * DAY_SLOTS;
	int fired = 0;

	for (i = 0; i <= sw + q; i++) {
		double v = 100 + gauss(&st);

		if ((i % 10 == 3 && i < sw) || i == sw + q)
			v = 130;
		CU_ASSERT(spike_update(s, T0 + (double)i * STEP, v, &ev) >= 0);
		if (i >= sw)
			fired += ev.kind == SPIKE_FIRING;
	}
	*z = ev.z;
	spike_free(s);
	return fired;
}

/* Cold start. Until the residuals from the daily baseline are enough, the
 * rolling window cross-checks it: a burst a few samples after the switch
 * scores like the bursts before it, not several times higher. And the
 * daily baseline's young score history starts from a seed of the first
 * days' history: eight hours after the switch, a burst of the size those
 * days showed every 50 minutes is not a "new maximum" (without the seed
 * every one of these runs alerted). */
static void test_switch_keeps_seed(void)
{
	uint64_t seed;
	double z;
	int fired = 0;

	for (seed = 1; seed <= 8; seed++) {
		CU_ASSERT_EQUAL(burst_after_switch(seed * 77, 7, &z), 0);
		CU_ASSERT(z > 10 && z < 40);
		fired += burst_after_switch(seed * 77, 100, &z);
		CU_ASSERT(z > 10);
	}
	CU_ASSERT(fired <= 2);
}

static void test_gap_and_order(void)
{
	struct spike *s = new_default();
	struct spike_event ev;
	uint64_t st = 5;
	long i;
	struct run r;

	run_init(&r);
	for (i = 0; i < 4 * DAY_SLOTS; i++)
		feed(s, i, cycle(i, &st), &r);
	/* Older and repeated samples are ignored; non-finite ones refused. */
	CU_ASSERT_EQUAL(spike_update(s, T0 + (double)(i - 1) * STEP, 1e9, &ev), 0);
	CU_ASSERT_EQUAL(ev.kind, SPIKE_NONE);
	CU_ASSERT_EQUAL(spike_update(s, T0 + 10.0, 1e9, &ev), 0);
	CU_ASSERT_EQUAL(spike_update(s, NAN, 1, &ev), -1);
	CU_ASSERT_EQUAL(spike_update(s, T0 + (double)i * STEP, INFINITY, &ev), -1);
	/* A day without samples, then the same cycle again: a restart of
	 * the rolling window, not an alert. */
	for (i += DAY_SLOTS; i < 7 * DAY_SLOTS; i++)
		feed(s, i, cycle(i, &st), &r);
	CU_ASSERT(r.firing <= 1);
	/* Jittered timestamps land on the grid. */
	CU_ASSERT(spike_update(s, T0 + (double)i * STEP + 40, cycle(i, &st), &ev) >= 0);
	CU_ASSERT_EQUAL(spike_update(s, T0 + (double)i * STEP + 100, 1e9, &ev), 0);
	spike_free(s);
}

static void test_params(void)
{
	struct spike_params p;
	struct hr_err err;

	spike_params_default(&p);
	CU_ASSERT_EQUAL(spike_params_check(&p, &err), 0);
	p.short_n = 0;
	CU_ASSERT_EQUAL(spike_params_check(&p, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "short_n"));
	spike_params_default(&p);
	p.tail = NAN;
	CU_ASSERT_PTR_NULL(spike_new(&p, STEP, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "tail"));
	CU_ASSERT_PTR_NULL(spike_new(NULL, 0, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "step"));
}

/* The value of sample i of the persistence tests: a cycle with a spike and
 * a shift, so that every part of the state is in use when it is saved. */
static double busy(long i, uint64_t *st)
{
	double v = cycle(i, st);

	if (i % (3 * DAY_SLOTS) == 200)
		v += 80;
	if (i > 9 * DAY_SLOTS)
		v += 30;
	return v;
}

static void test_save_load_round_trip(void)
{
	struct spike *a = new_default(), *b;
	struct spike_event ea, eb;
	uint8_t *buf, *buf2;
	size_t len, len2;
	struct hr_err err;
	uint64_t st = 99;
	long i, split = 8 * DAY_SLOTS + 77, events = 0;

	for (i = 0; i < split; i++)
		CU_ASSERT(spike_update(a, T0 + (double)i * STEP, busy(i, &st), &ea) >= 0);
	CU_ASSERT_EQUAL_FATAL(spike_save(a, &buf, &len, &err), 0);
	b = spike_load(buf, len, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* Saved again at once, it is the same bytes. */
	CU_ASSERT_EQUAL_FATAL(spike_save(b, &buf2, &len2, &err), 0);
	CU_ASSERT_EQUAL(len2, len);
	CU_ASSERT(len2 == len && memcmp(buf, buf2, len) == 0);
	free(buf);
	free(buf2);
	CU_ASSERT_EQUAL(spike_state_bytes(a), spike_state_bytes(b));
	for (; i < 14 * DAY_SLOTS; i++) {
		double v = busy(i, &st);
		int ra = spike_update(a, T0 + (double)i * STEP, v, &ea);
		int rb = spike_update(b, T0 + (double)i * STEP, v, &eb);

		CU_ASSERT_EQUAL(ra, rb);
		CU_ASSERT_EQUAL(ea.kind, eb.kind);
		CU_ASSERT(ea.t == eb.t && ea.value == eb.value && ea.baseline == eb.baseline &&
			  ea.z == eb.z && ea.tail == eb.tail);
		events += ra;
	}
	/* The continuation has events to compare. */
	CU_ASSERT(events >= 2);
	spike_free(a);
	spike_free(b);
}

/* The daily baseline reuses two of the previous slot's three sorted columns;
 * a reloaded state starts without them and computes all three. Fed the
 * same busy series with short and long gaps, a state reloaded every few
 * samples must score every sample exactly as the one that ran through. */
static void test_reused_columns_match_fresh(void)
{
	struct spike *a = new_default(), *b = new_default();
	struct spike_event ea, eb;
	struct hr_err err;
	uint64_t st = 7;
	long i, fed = 0, same = 0, scored = 0;

	for (i = 0; i < 12 * DAY_SLOTS; i++) {
		double v = busy(i, &st);
		int ra, rb;

		/* Gaps of one and two slots, and one of a day and a half. */
		if (i % 97 == 5 || i % 131 == 7 || (i >= 9 * DAY_SLOTS && i < 10 * DAY_SLOTS + 144))
			continue;
		ra = spike_update(a, T0 + (double)i * STEP, v, &ea);
		rb = spike_update(b, T0 + (double)i * STEP, v, &eb);
		fed++;
		scored += ea.z != 0;
		same += ra == rb && ea.kind == eb.kind && ea.z == eb.z && ea.tail == eb.tail &&
			ea.baseline == eb.baseline;
		if (i % 5 == 0) {
			uint8_t *buf;
			size_t len;

			CU_ASSERT_EQUAL_FATAL(spike_save(b, &buf, &len, &err), 0);
			spike_free(b);
			b = spike_load(buf, len, &err);
			free(buf);
			CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		}
	}
	/* Every fed sample matched, and most of them had a score to match. */
	CU_ASSERT_EQUAL(same, fed);
	CU_ASSERT(scored > fed / 2);
	spike_free(a);
	spike_free(b);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Rewrites the blob's trailing checksum after a deliberate change, so that
 * the change reaches the validation behind it. */
static void reseal(uint8_t *buf, size_t len)
{
	uint64_t h = fnv1a(buf, len - 8);
	int i;

	for (i = 0; i < 8; i++)
		buf[len - 8 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

static int refused(const uint8_t *buf, size_t len, const char *want)
{
	struct hr_err err;
	struct spike *s;

	err.msg[0] = '\0';
	s = spike_load(buf, len, &err);
	if (s != NULL) {
		spike_free(s);
		return 0;
	}
	if (want != NULL && strstr(err.msg, want) == NULL) {
		fprintf(stderr, "refused with \"%s\", want \"%s\"\n", err.msg, want);
		return 0;
	}
	return strncmp(err.msg, "spike state: ", 13) == 0;
}

static void test_damaged_state_refused(void)
{
	struct spike *a = new_default();
	struct spike_event ev;
	uint8_t *buf, *copy;
	size_t len, cut, pos;
	struct hr_err err;
	uint64_t st = 1;
	long i;

	for (i = 0; i < 3 * DAY_SLOTS; i++)
		spike_update(a, T0 + (double)i * STEP, busy(i, &st), &ev);
	CU_ASSERT_EQUAL_FATAL(spike_save(a, &buf, &len, &err), 0);
	spike_free(a);
	copy = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);

	/* Every truncation. */
	for (cut = 0; cut < len; cut += cut < 64 ? 1 : 61)
		CU_ASSERT(refused(buf, cut, NULL));
	/* A flipped bit anywhere: the checksum. */
	for (pos = 0; pos < len; pos += 37) {
		memcpy(copy, buf, len);
		copy[pos] ^= 0x10;
		CU_ASSERT(refused(copy, len, NULL));
	}
	memcpy(copy, buf, len);
	copy[len / 2] ^= 1;
	CU_ASSERT(refused(copy, len, "checksum"));
	/* Another version. */
	memcpy(copy, buf, len);
	copy[8] = 2;
	reseal(copy, len);
	CU_ASSERT(refused(copy, len, "version 2"));
	/* Checksummed but inconsistent: a parameter out of range (short_n,
	 * after six doubles of parameters, at 16 + 48). */
	memcpy(copy, buf, len);
	copy[16 + 48] = 0xff;
	reseal(copy, len);
	CU_ASSERT(refused(copy, len, "short_n"));
	/* ... and a step that no longer matches the history's size. */
	memcpy(copy, buf, len);
	{
		double step = 60;
		uint64_t u;
		size_t off = 16 + 6 * 8 + 3 * 4 + 5 * 8 + 4;

		memcpy(&u, &step, 8);
		for (i = 0; i < 8; i++)
			copy[off + (size_t)i] = (uint8_t)(u >> (8 * i));
	}
	reseal(copy, len);
	CU_ASSERT(refused(copy, len, "seasonal history"));
	/* The intact blob still loads. */
	a = spike_load(buf, len, &err);
	CU_ASSERT_PTR_NOT_NULL(a);
	spike_free(a);
	free(copy);
	free(buf);
}

static CU_TestInfo tests[] = {
	{ "a spike on a noisy daily cycle, at onset", test_spike_on_daily_cycle },
	{ "a nightly backup becomes the cycle", test_nightly_backup },
	{ "flat and quantised series, one-step changes", test_flat_and_quantised },
	{ "one alert per episode, then resolved", test_one_alert_per_episode },
	{ "an idle disk's writes: the spread of the values that move", test_idle_disk_spread },
	{ "cold start: cross-checked, from a seeded history", test_switch_keeps_seed },
	{ "gaps, order and jitter", test_gap_and_order },
	{ "parameters are checked", test_params },
	{ "save and load: identical future events", test_save_load_round_trip },
	{ "damaged state is refused", test_damaged_state_refused },
	{ "reused seasonal columns score as fresh ones", test_reused_columns_match_fresh },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("spike", tests);
}
