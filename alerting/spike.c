/* spike.c: the detector (spike.h): parameters, allocation and the update,
 * scored against the rolling windows (spike_stats.c) and the daily and
 * weekly seasonal baselines, with decayed score histograms. Per sample: a
 * binary search, short memmoves, a median of at most 21 values and three
 * 128-bin sums (about 0.8 us, 22 KB of state at a 5-minute step). */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spike.h"
#include "spike_int.h"

#define DAY 86400.0
#define WEEK (7 * DAY)
#define RING_MAX 8192u     /* slots of seasonal history: 2 weeks at 5 min */
#define ROLL_MAX 4096u     /* slots in the rolling window */
#define ROLL_MIN 8u        /* the rolling window needs this many before alerts */
#define DAY_MIN 6          /* values at a phase (2 days) before the daily
			    * season is used */
#define WEEK_MIN 3         /* and (1 week) before the weekly check is */
#define NOVEL_MIN 36       /* scores in the history before a new maximum counts */
#define SEED_WEIGHT 10.0   /* scores' weight of the other kind's history kept
			    * when the baseline changes (hist_seed) */
#define HMAX 14.0          /* log(1 + score) of the top bin */
#define MAD_K 1.4826       /* MAD to standard deviation for normal noise */

void spike_params_default(struct spike_params *p)
{
	memset(p, 0, sizeof(*p));
	p->roll_window = 6 * 3600;
	p->warmup = DAY;
	p->refractory = 2 * 3600;
	p->resolve_after = 30 * 60;
	p->gap_reset = 6 * 3600;
	p->long_span = WEEK;
	p->short_n = 3;
	p->season_days = 7;
	p->weekly = 1;
	p->z_min = 3;
	p->z_clip = 1e6;
	p->tail = 1e-3;
	p->quantum_mult = 1;
	p->rel_floor = 0.001;
	p->dir = SPIKE_BOTH;
}

static int in_range(double v, double lo, double hi)
{
	return isfinite(v) && v >= lo && v <= hi;
}

int spike_params_check(const struct spike_params *p, struct hr_err *err)
{
	if (!in_range(p->roll_window, 1, 30 * DAY))
		return hr_err_set(err, "roll_window: must be 1 s to 30 days");
	if (!in_range(p->warmup, 0, 365 * DAY))
		return hr_err_set(err, "warmup: must be 0 to 365 days");
	if (!in_range(p->refractory, 0, 30 * DAY))
		return hr_err_set(err, "refractory: must be 0 to 30 days");
	if (!in_range(p->resolve_after, 0, 30 * DAY))
		return hr_err_set(err, "resolve_after: must be 0 to 30 days");
	if (!in_range(p->gap_reset, 1, 365 * DAY))
		return hr_err_set(err, "gap_reset: must be 1 s to 365 days");
	if (!in_range(p->long_span, 1, 365 * DAY))
		return hr_err_set(err, "long_span: must be 1 s to 365 days");
	if (p->short_n < 1 || p->short_n > SHORT_MAX / 4)
		return hr_err_set(err, "short_n: must be 1 to %d", SHORT_MAX / 4);
	if (p->season_days < 0 || p->season_days > 7)
		return hr_err_set(err, "season_days: must be 0 to 7");
	if (p->weekly != 0 && p->weekly != 1)
		return hr_err_set(err, "weekly: must be 0 or 1");
	if (!in_range(p->z_min, 0, 1e6))
		return hr_err_set(err, "z_min: must be 0 to 1e6");
	if (!in_range(p->z_clip, 0.1, 1e6))
		return hr_err_set(err, "z_clip: must be 0.1 to 1e6");
	if (!in_range(p->tail, 1e-300, 1))
		return hr_err_set(err, "tail: must be above 0 and at most 1");
	if (!in_range(p->quantum_mult, 0, 1e6))
		return hr_err_set(err, "quantum_mult: must be 0 to 1e6");
	if (!in_range(p->rel_floor, 0, 1))
		return hr_err_set(err, "rel_floor: must be 0 to 1");
	if (p->dir != SPIKE_BOTH && p->dir != SPIKE_UP && p->dir != SPIKE_DOWN)
		return hr_err_set(err, "dir: must be both, up or down");
	return 0;
}

static uint64_t slots_of(double seconds, double step)
{
	return (uint64_t)ceil(seconds / step - 1e-9);
}

/* Sizes everything that follows from the parameters and the step. A season
 * is used only when the step divides it and its history fits RING_MAX: at
 * 5 min, seven days back and two weeks back both fit. */
static void spike_derive(struct spike *s)
{
	double per_day = DAY / s->step;
	uint64_t need = 0, roll;

	roll = slots_of(s->p.roll_window, s->step);
	s->roll_cap = (uint32_t)(roll < ROLL_MIN ? ROLL_MIN : roll > ROLL_MAX ? ROLL_MAX : roll);
	s->day_slots = s->week_slots = s->season_days = 0;
	if (fabs(per_day - round(per_day)) < 1e-6 && per_day >= 2) {
		s->day_slots = (uint32_t)round(per_day);
		s->season_days = (uint32_t)s->p.season_days;
		while (s->season_days > 0 &&
		       (uint64_t)s->season_days * s->day_slots + 2 > RING_MAX)
			s->season_days--;
		if (s->season_days > 0)
			need = (uint64_t)s->season_days * s->day_slots + 2;
		if (s->p.weekly && 14ull * s->day_slots + 2 <= RING_MAX) {
			s->week_slots = 7 * s->day_slots;
			need = 2ull * s->week_slots + 2;
		}
	}
	s->ring_len = (uint32_t)(need > 0 ? need : 1);
	s->warm_slots = slots_of(s->p.warmup, s->step);
	s->refr_slots = slots_of(s->p.refractory, s->step);
	s->resolve_slots = slots_of(s->p.resolve_after, s->step);
	if (s->resolve_slots < 1)
		s->resolve_slots = 1;
	s->gap_slots = slots_of(s->p.gap_reset, s->step);
	s->alpha = s->step / s->p.long_span;
	if (s->alpha > 0.5)
		s->alpha = 0.5;
}


struct spike *spike_alloc(const struct spike_params *p, double step, struct hr_err *err)
{
	struct spike *s;
	uint32_t i;

	if (spike_params_check(p, err) < 0)
		return NULL;
	if (!in_range(step, 1e-3, 30 * DAY)) {
		hr_err_set(err, "step: must be 1 ms to 30 days");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		hr_err_set(err, "out of memory");
		return NULL;
	}
	s->p = *p;
	s->step = step;
	spike_derive(s);
	s->ring = malloc(s->ring_len * sizeof(*s->ring));
	if (s->ring == NULL || spike_roll_init(&s->raw, s->roll_cap) < 0 ||
	    spike_roll_init(&s->res, s->roll_cap) < 0) {
		spike_free(s);
		hr_err_set(err, "out of memory");
		return NULL;
	}
	for (i = 0; i < s->ring_len; i++)
		s->ring[i] = NAN;
	s->inc = 1;
	return s;
}

struct spike *spike_new(const struct spike_params *p, double step, struct hr_err *err)
{
	struct spike_params def;

	if (p == NULL) {
		spike_params_default(&def);
		p = &def;
	}
	return spike_alloc(p, step, err);
}

void spike_free(struct spike *s)
{
	if (s == NULL)
		return;
	free(s->ring);
	free(s->raw.fifo);
	free(s->raw.sorted);
	free(s->res.fifo);
	free(s->res.sorted);
	free(s);
}

size_t spike_state_bytes(const struct spike *s)
{
	return sizeof(*s) + s->ring_len * sizeof(*s->ring) +
	       4 * (size_t)s->roll_cap * sizeof(double);
}

/* --- the seasonal baselines ----------------------------------------------- */

/* Median of a[0, n), which it sorts; n is at most 21, where an insertion
 * sort beats qsort. */
static double median_of(double *a, int n)
{
	int i, j;

	for (i = 1; i < n; i++) {
		double x = a[i];

		for (j = i; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
	return (a[(n - 1) / 2] + a[n / 2]) / 2;
}

/* The ring slot of at, which must be within ring_len slots before
 * last_k (the callers check that): an offset from last_idx. */
static float ring_at(const struct spike *s, int64_t at)
{
	uint32_t d = (uint32_t)(s->last_k - at);

	return s->ring[s->last_idx >= d ? s->last_idx - d : s->last_idx + s->ring_len - d];
}

/* Median and MAD of the values at slot k - b*period + j for b in 1..back
 * and j in -1..1 (a neighbouring slot absorbs a little jitter). 0 when
 * fewer than need of them are known. */
static int season_stats(const struct spike *s, int64_t k, uint32_t period, uint32_t back,
			int need, double *med, double *mad)
{
	double v[3 * 7];
	int n = 0;
	uint32_t b;
	int j;

	for (b = 1; b <= back; b++)
		for (j = -1; j <= 1; j++) {
			int64_t at = k - (int64_t)b * period + j;
			float x;

			if (at < 0 || s->last_k - at >= (int64_t)s->ring_len || at > s->last_k)
				continue;
			x = ring_at(s, at);
			if (!isnan(x))
				v[n++] = x;
		}
	if (n < need)
		return 0;
	*med = median_of(v, n);
	/* v is sorted now: its plain MAD (not the non-modal spread of the
	 * rolling windows: of at most 21 values it would rest on a few). */
	*mad = spike_sorted_mad(v, (uint32_t)n, *med, 0);
	return 1;
}

/* The values at slot c - b*period for b in 1..back (at most 7), those that
 * season_stats would read, sorted into v (an insertion sort: at most 7). */
static int season_column(const struct spike *s, int64_t c, uint32_t period, uint32_t back,
			 double *v)
{
	uint32_t b;
	int n = 0, j;

	for (b = 1; b <= back; b++) {
		int64_t at = c - (int64_t)b * period;
		float x;

		if (at < 0 || s->last_k - at >= (int64_t)s->ring_len || at > s->last_k)
			continue;
		x = ring_at(s, at);
		if (isnan(x))
			continue;
		for (j = n; j > 0 && v[j - 1] > (double)x; j--)
			v[j] = v[j - 1];
		v[j] = x;
		n++;
	}
	return n;
}

static int col_slot(int64_t c)
{
	return (int)(((c % 3) + 3) % 3);
}

/* Merges sorted a and b, each ended by an infinity, into the n values of
 * out; returns n. */
static int merge2(const double *a, const double *b, int n, double *out)
{
	int m, ia = 0, ib = 0;

	for (m = 0; m < n; m++) {
		double x = a[ia], y = b[ib];
		int take = y < x;

		out[m] = take ? y : x;
		ib += take;
		ia += !take;
	}
	return n;
}

/* season_stats for the daily season, the same result from three sorted
 * columns merged: one column is new at each slot (7 values sorted), the
 * other two are the previous slot's. The columns stay valid from one slot
 * to the next because the only ring slot written in between is the newest
 * one, at least a day after any of them (day_slots >= 3). */
static int season_day_stats(struct spike *s, int64_t k, double *med, double *mad)
{
	double v[3 * 7], t[2 * 7 + 1];
	int n, c, m;

	if (!(s->col_ok && s->have_last && k == s->col_k + 1 && k == s->last_k + 1 &&
	      s->day_slots >= 3)) {
		for (c = -1; c <= 0; c++)
			s->col_n[col_slot(k + c)] = season_column(s, k + c, s->day_slots,
								  s->season_days,
								  s->col[col_slot(k + c)]);
	}
	m = col_slot(k + 1);
	s->col_n[m] = season_column(s, k + 1, s->day_slots, s->season_days, s->col[m]);
	s->col_k = k;
	s->col_ok = 1;
	/* Merge the three sorted columns, two at a time, each ended by an
	 * infinity (the ring holds finite floats) so that the loop has no
	 * bounds to check and no branch to mispredict. */
	s->col[0][s->col_n[0]] = s->col[1][s->col_n[1]] = s->col[2][s->col_n[2]] = INFINITY;
	t[merge2(s->col[0], s->col[1], s->col_n[0] + s->col_n[1], t)] = INFINITY;
	n = merge2(t, s->col[2], s->col_n[0] + s->col_n[1] + s->col_n[2], v);
	if (n < DAY_MIN)
		return 0;
	*med = (v[(n - 1) / 2] + v[n / 2]) / 2;
	*mad = spike_sorted_mad(v, (uint32_t)n, *med, 0);
	return 1;
}

/* --- the update ----------------------------------------------------------- */

static void reset_short(struct spike *s)
{
	s->short_head = s->short_cnt = 0;
}

/* Forgets what a long gap makes stale: the rolling windows and the short
 * averages; alerts wait until the windows hold ROLL_MIN samples again. The
 * seasonal history (its missing slots are NAN) and the long-run score
 * history stay: a restart after an outage need not learn again. */
static void gap_reset(struct spike *s)
{
	s->raw.n = s->raw.head = 0;
	s->res.n = s->res.head = 0;
	reset_short(s);
}

static double zscore(double v, double med, double mad, double fl)
{
	double scale = MAD_K * mad;

	if (scale < fl)
		scale = fl;
	return (v - med) / scale;
}

/* What the likelihood step sees of a robust z: log(1 + z), clipped, so
 * that heavy tails do not crowd the histogram's top bin. */
double spike_score_of(double a, double clip)
{
	return log1p(fmin(a, clip));
}

static uint32_t hist_bin(double x)
{
	double b = x / HMAX * HBINS;

	if (!(b > 0))
		return 0;
	return b >= HBINS - 1 ? HBINS - 1 : (uint32_t)b;
}

/* The share of the history at or above x's bin, counting x itself: a
 * p-value by rank, never below 1 / (the effective number of samples). */
static double hist_tail(const struct spike *s, int h, double x)
{
	double below = 0, above;
	uint32_t b, top = hist_bin(x);

	/* Most scores are low: summing the bins below is the short way. */
	for (b = 0; b < top; b++)
		below += s->hist[h][b];
	above = s->htotal[h] - below;
	if (above < 0)
		above = 0;
	return (above + s->inc) / (s->htotal[h] + s->inc);
}

/* Is x in a bin above the scores of hist[h]? Those less than half of a new
 * score's weight (from long ago) do not count. */
static int hist_is_new_top(const struct spike *s, int h, double x)
{
	uint32_t b;
	double above = 0;

	for (b = hist_bin(x); b < HBINS; b++)
		above += s->hist[h][b];
	return above < s->inc / 2;
}

static void hist_add(struct spike *s, int h, double x)
{
	s->hist[h][hist_bin(x)] += s->inc;
	s->htotal[h] += s->inc;
	if (h == NHIST - 1) {
		s->inc /= 1 - s->alpha;
		if (s->inc > 1e100) {
			uint32_t b;
			int k;

			for (k = 0; k < NHIST; k++) {
				for (b = 0; b < HBINS; b++)
					s->hist[k][b] /= s->inc;
				s->htotal[k] /= s->inc;
			}
			s->inc = 1;
		}
	}
}

/* When the scores change kind (the daily baseline takes over at two days,
 * or is lost after a long gap), the history of the other kind is not
 * wiped but shrunk to the weight of SEED_WEIGHT scores: it is a prior.
 * While the history is young, a "new maximum" (see spike_update) must
 * then beat the top 1 / (2 SEED_WEIGHT) of the first days' scores instead
 * of whatever the few hours since the switch happened to hold: the first
 * days are not forgotten when they would help most. The new scores
 * outweigh the seed within an hour, but at the top of the history it
 * decays with the rest (over long_span), and the rolling window's scores
 * include the daily cycle: a heavier seed hides later anomalies. */
static void hist_seed(struct spike *s)
{
	uint32_t b;
	int h;

	for (h = 0; h < NHIST; h++) {
		double n = s->htotal[h] / s->inc;
		double f = n > SEED_WEIGHT ? SEED_WEIGHT / n : 1;

		for (b = 0; b < HBINS; b++)
			s->hist[h][b] *= f / s->inc;
		s->htotal[h] *= f / s->inc;
	}
	s->inc = 1;
}

int spike_update(struct spike *s, double t, double v, struct spike_event *ev)
{
	double kd, med_r = 0, mad_r = 0, med, mad, med_d, mad_d, fl, q, zr, up, down, a;
	double tail, last, sc[NHIST], z = 0;
	int64_t k;
	uint32_t i;
	int anomalous, have_roll, have_day, h, novel;

	memset(ev, 0, sizeof(*ev));
	ev->kind = SPIKE_NONE;
	if (!isfinite(t) || !isfinite(v))
		return -1;
	kd = floor(t / s->step + 0.5);
	if (!(fabs(kd) < 9e15))
		return -1;
	k = (int64_t)kd;
	if (s->have_last && k <= s->last_k)
		return 0;
	if (s->have_last && k - s->last_k > 1) {
		int64_t at;

		if ((uint64_t)(k - s->last_k) > s->gap_slots)
			gap_reset(s);
		at = k - s->last_k > (int64_t)s->ring_len ? k - (int64_t)s->ring_len : s->last_k + 1;
		for (; at < k; at++)
			s->ring[(uint64_t)at % s->ring_len] = NAN;
	}

	/* Scale floors: a quantum (the smallest change seen, or this change
	 * when the series has never moved) and a fraction of the level, so
	 * that a flat or stepwise series needs more than one step. */
	q = s->quantum;
	if (q == 0 && s->have_v)
		q = fabs(v - s->last_v);
	have_roll = s->raw.n >= 3;
	if (have_roll)
		spike_roll_stats(&s->raw, &med_r, &mad_r);
	fl = s->p.quantum_mult * q;
	if (have_roll && s->p.rel_floor * fabs(med_r) > fl)
		fl = s->p.rel_floor * fabs(med_r);
	if (fl < 1e-300)
		fl = 1e-300;

	a = 0;
	have_day = s->season_days > 0 && season_day_stats(s, k, &med_d, &mad_d);
	if (have_day != s->day_mode) {
		hist_seed(s);
		s->day_mode = have_day;
	}
	if (have_day) {
		/* With a daily baseline the point is judged by its residual r:
		 * against the spread of this phase on the previous days, and
		 * against the recent residuals, which follow a level shift
		 * within the rolling window (the cross-check that ends an
		 * episode once the new level is the normal one). A nightly job
		 * has a small residual: it happened at this phase before. */
		double r = v - med_d, zd = zscore(v, med_d, mad_d, fl);

		up = zd;
		down = -zd;
		if (s->res.n >= ROLL_MIN) {
			double zres;

			spike_roll_stats(&s->res, &med, &mad);
			zres = zscore(r, med, mad, fl);
			up = fmin(up, zres);
			down = fmin(down, -zres);
		} else if (have_roll) {
			/* Until the recent residuals are enough (just after
			 * the daily baseline takes over, or after a gap), the
			 * rolling window is the cross-check: the daily one
			 * alone, from a handful of values at this phase, can
			 * make an ordinary point a huge score, which would
			 * then sit atop the young history for a week. */
			zr = zscore(v, med_r, mad_r, fl);
			up = fmin(up, zr);
			down = fmin(down, -zr);
		}
		if (isfinite(r))
			spike_roll_push(&s->res, r);
	} else if (have_roll) {
		zr = zscore(v, med_r, mad_r, fl);
		up = zr;
		down = -zr;
	} else {
		up = down = 0;
	}
	if (have_roll) {
		/* The weekly cross-check: unusual also against this time of
		 * the last two weeks (a weekly batch job is normal). */
		if (s->week_slots > 0 && season_stats(s, k, s->week_slots, 2, WEEK_MIN, &med, &mad)) {
			double zw = zscore(v, med, mad, fl);

			up = fmin(up, zw);
			down = fmin(down, -zw);
		}
		if (s->p.dir == SPIKE_UP)
			down = 0;
		else if (s->p.dir == SPIKE_DOWN)
			up = 0;
		a = fmax(0, fmax(up, down));
		z = up >= down ? fmax(0, up) : -fmax(0, down);
	}

	/* The likelihood: the score, its short average and its longer
	 * average, each against its own long-run distribution. */
	s->shortv[(s->short_head + s->short_cnt) % SHORT_MAX] = spike_score_of(a, s->p.z_clip);
	if (s->short_cnt < 4 * (uint32_t)s->p.short_n)
		s->short_cnt++;
	else
		s->short_head = (s->short_head + 1) % SHORT_MAX;
	last = s->shortv[(s->short_head + s->short_cnt - 1) % SHORT_MAX];
	sc[0] = last;
	sc[1] = sc[2] = 0;
	for (i = 0; i < s->short_cnt; i++) {
		double x = s->shortv[(s->short_head + s->short_cnt - 1 - i) % SHORT_MAX];

		if (i < (uint32_t)s->p.short_n)
			sc[1] += x;
		sc[2] += x;
	}
	sc[1] /= s->short_cnt < (uint32_t)s->p.short_n ? s->short_cnt : (uint32_t)s->p.short_n;
	sc[2] /= s->short_cnt;
	tail = 1;
	novel = a >= 2 * s->p.z_min && hist_is_new_top(s, 0, last);
	for (h = 0; h < NHIST; h++) {
		double th = hist_tail(s, h, sc[h]);

		if (th < tail)
			tail = th;
		hist_add(s, h, sc[h]);
	}
	/* A young history cannot show a tiny tail (the rank p-value is at
	 * least 1/n). Until it can, a score above everything it holds, and
	 * twice the usual z, stands in. */
	if (tail >= s->p.tail && s->htotal[0] / s->inc * s->p.tail < 1 &&
	    s->htotal[0] / s->inc >= NOVEL_MIN && novel)
		tail = 0;
	s->long_n++;

	anomalous = have_roll && s->raw.n >= ROLL_MIN && s->seen >= s->warm_slots &&
		    tail < s->p.tail && a >= s->p.z_min;
	ev->t = t;
	ev->value = v;
	ev->baseline = med_r;
	ev->z = z;
	ev->tail = tail;
	if (!s->in_episode) {
		if (anomalous && (!s->has_alert || (uint64_t)(k - s->last_alert_k) >= s->refr_slots)) {
			ev->kind = SPIKE_FIRING;
			s->in_episode = 1;
			s->has_alert = 1;
			s->last_alert_k = k;
			s->normal_run = 0;
		}
	} else if (a < s->p.z_min && tail >= s->p.tail) {
		if (++s->normal_run >= s->resolve_slots) {
			ev->kind = SPIKE_RESOLVED;
			s->in_episode = 0;
		}
	} else {
		s->normal_run = 0;
	}

	spike_roll_push(&s->raw, v);
	/* The history is kept in floats: plenty for a baseline, half the
	 * memory. Beyond their range a value is clamped. */
	s->last_idx = (uint32_t)((uint64_t)k % s->ring_len);
	s->ring[s->last_idx] = (float)fmax(-FLT_MAX, fmin(FLT_MAX, v));
	if (s->have_v && v != s->last_v) {
		double d = fabs(v - s->last_v);

		/* Changes below float resolution are rounding, not a quantum. */
		if (isfinite(d) && d > 1e-9 * fmax(fabs(v), fabs(s->last_v)) &&
		    (s->quantum == 0 || d < s->quantum))
			s->quantum = d;
	}
	s->last_v = v;
	s->have_v = 1;
	s->last_k = k;
	s->have_last = 1;
	s->seen++;
	return ev->kind != SPIKE_NONE;
}
