/* spike.c: see spike.h. The per-sample cost is a binary search and a short
 * memmove in two rolling windows (sorted copies), a k-th element search for
 * their MADs, the daily median of at most 21 seasonal values (one new
 * sorted column of 7 merged with the two kept from the previous slot, not
 * a sort of 21), the weekly one of at most 6, and three sums over a
 * 128-bin histogram; ring look-ups are offsets, not divisions. Nothing
 * grows with the length of the series (about 0.8 us a sample, 22 KB of
 * state at a 5-minute step). */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spike.h"

#define DAY 86400.0
#define WEEK (7 * DAY)
#define RING_MAX 8192u     /* slots of seasonal history: 2 weeks at 5 min */
#define ROLL_MAX 4096u     /* slots in the rolling window */
#define ROLL_MIN 8u        /* the rolling window needs this many before alerts */
#define DAY_MIN 6          /* values at a phase (2 days) before the daily
			    * season is used */
#define WEEK_MIN 3         /* and (1 week) before the weekly check is */
#define SHORT_MAX 64
#define NHIST 3
#define HBINS 128
#define NOVEL_MIN 36       /* scores in the history before a new maximum counts */
#define SEED_WEIGHT 10.0   /* scores' weight of the other kind's history kept
			    * when the baseline changes (hist_seed) */
#define HMAX 14.0          /* log(1 + score) of the top bin */
#define MAD_K 1.4826       /* MAD to standard deviation for normal noise */

#define SPIKE_MAGIC "HRSPIKE"
#define SPIKE_VERSION 1u

/* A rolling window: the values in arrival order and the same values sorted,
 * for the median in O(1) and the MAD in O(log n). */
struct rollwin {
	double *fifo, *sorted;
	uint32_t head, n, cap;
};

struct spike {
	struct spike_params p;
	double step;
	/* derived from p and step (spike_derive) */
	uint32_t roll_cap, ring_len, day_slots, week_slots, season_days;
	uint64_t warm_slots, refr_slots, resolve_slots, gap_slots;
	double alpha; /* long-run decay per slot */

	int have_last;
	int64_t last_k;   /* grid slot of the last sample */
	uint32_t last_idx; /* its place in the ring: last_k mod ring_len,
			    * derived, so that a look-up needs no division */
	uint64_t seen;    /* samples taken since the start */

	float *ring;      /* ring_len slots by k mod ring_len; NAN: no sample */

	struct rollwin raw; /* the recent values */
	struct rollwin res; /* the recent residuals from the daily baseline */

	double quantum;   /* smallest change seen between samples; 0: none yet */
	double last_v;
	int have_v;

	double shortv[SHORT_MAX];
	uint32_t short_head, short_cnt;
	/* The long-run distribution of the single score (hist[0]), of its
	 * short average (hist[1]) and of its average over 4 times as many
	 * (hist[2]), for a spike, a burst and a sustained shift: decayed
	 * histograms over log(1 + score), so that the tail probability is
	 * read off the series' own history, whatever the shape of its noise.
	 * A new score counts inc; inc grows by 1/(1 - alpha) per sample
	 * instead of every bin shrinking. */
	double hist[NHIST][HBINS];
	double htotal[NHIST];
	double inc;
	int day_mode;     /* the scores come from the daily baseline */
	uint64_t long_n;  /* scores seen (kept for diagnostics) */

	int in_episode, has_alert;
	int64_t last_alert_k;
	uint64_t normal_run;

	/* The daily baseline at slot k reads three columns, the values at
	 * c - b*day for c in k-1..k+1 and b in 1..season_days; the next slot
	 * reuses two of them. Kept sorted, by c mod 3, for the slot col_k;
	 * derived (never saved), and dropped on any gap. */
	double col[3][8];
	int col_n[3];
	int64_t col_k;
	int col_ok;
};

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

/* --- the rolling window --------------------------------------------------- */

/* First index in sorted[0, n) whose value is not below v. */
static uint32_t lower_bound(const double *a, uint32_t n, double v)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int roll_init(struct rollwin *w, uint32_t cap)
{
	w->fifo = malloc(cap * sizeof(double));
	w->sorted = malloc(cap * sizeof(double));
	w->head = w->n = 0;
	w->cap = cap;
	return w->fifo != NULL && w->sorted != NULL ? 0 : -1;
}

static void roll_push(struct rollwin *w, double v)
{
	uint32_t i;

	if (w->n == w->cap) {
		double old = w->fifo[w->head];

		i = lower_bound(w->sorted, w->n, old);
		memmove(w->sorted + i, w->sorted + i + 1, (w->n - i - 1) * sizeof(double));
		w->n--;
		w->fifo[w->head] = v;
		if (++w->head == w->cap)
			w->head = 0;
	} else {
		uint32_t at = w->head + w->n;

		w->fifo[at >= w->cap ? at - w->cap : at] = v;
	}
	i = lower_bound(w->sorted, w->n, v);
	memmove(w->sorted + i + 1, w->sorted + i, (w->n - i) * sizeof(double));
	w->sorted[i] = v;
	w->n++;
}

/* The k-th (0-based) smallest distance |a[i] - m| over sorted a[0, n), with
 * a[0, split) below m and a[split, n) not: two sorted runs of distances
 * (the lower one read backwards), searched in O(log n). */
static double kth_distance(const double *a, uint32_t n, uint32_t split, double m, uint32_t k)
{
	uint32_t lo_n = split, hi_n = n - split, lo_off = 0, hi_off = 0;

	for (;;) {
		uint32_t i, j;
		double x, y;

		if (lo_n == 0)
			return a[split + hi_off + k] - m;
		if (hi_n == 0)
			return m - a[split - 1 - lo_off - k];
		if (k == 0) {
			x = m - a[split - 1 - lo_off];
			y = a[split + hi_off] - m;
			return x < y ? x : y;
		}
		i = (k + 1) / 2 < lo_n ? (k + 1) / 2 : lo_n;
		j = (k + 1) / 2 < hi_n ? (k + 1) / 2 : hi_n;
		x = m - a[split - 1 - lo_off - (i - 1)];
		y = a[split + hi_off + (j - 1)] - m;
		if (x < y) {
			lo_off += i;
			lo_n -= i;
			k -= i;
		} else {
			hi_off += j;
			hi_n -= j;
			k -= j;
		}
	}
}

/* The MAD of sorted a[0, n) about its median med. With nonmodal, when over
 * half of the values equal the median (a quantised, idle or intermittent
 * series: a disk that mostly writes nothing, a CPU idle at one reading)
 * the MAD is 0 and says nothing of how far the series moves when it does
 * move, so that every ordinary blip scored as a 10^5-sigma event and the
 * real anomaly was lost among them; the spread is then the median distance
 * of the values that differ from the median. 0 only when all of them are
 * the median (the floors take over). O(log n). */
static double sorted_mad(const double *a, uint32_t n, double med, int nonmodal)
{
	uint32_t split = lower_bound(a, n, med), eq;
	double mad;

	mad = (kth_distance(a, n, split, med, (n - 1) / 2) +
	       kth_distance(a, n, split, med, n / 2)) / 2;
	if (mad > 0 || !nonmodal)
		return mad;
	eq = lower_bound(a, n, nextafter(med, INFINITY)) - split;
	if (eq >= n)
		return 0;
	return kth_distance(a, n, split, med, eq + (n - eq - 1) / 2);
}

/* The rolling window's median and MAD (nonmodal: see sorted_mad). */
static void roll_stats(const struct rollwin *w, double *med, double *mad)
{
	const double *a = w->sorted;
	uint32_t n = w->n;

	*med = (a[(n - 1) / 2] + a[n / 2]) / 2;
	*mad = sorted_mad(a, n, *med, 1);
}

static struct spike *spike_alloc(const struct spike_params *p, double step, struct hr_err *err)
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
	if (s->ring == NULL || roll_init(&s->raw, s->roll_cap) < 0 ||
	    roll_init(&s->res, s->roll_cap) < 0) {
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
	*mad = sorted_mad(v, (uint32_t)n, *med, 0);
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
	*mad = sorted_mad(v, (uint32_t)n, *med, 0);
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
static double score_of(double a, double clip)
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
		roll_stats(&s->raw, &med_r, &mad_r);
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

			roll_stats(&s->res, &med, &mad);
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
			roll_push(&s->res, r);
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
	s->shortv[(s->short_head + s->short_cnt) % SHORT_MAX] = score_of(a, s->p.z_clip);
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

	roll_push(&s->raw, v);
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

/* --- saving and loading --------------------------------------------------- */

/* The blob: "HRSPIKE\0", version (u32), body length (u32), body, FNV-1a 64
 * of everything before it (u64); all little-endian, doubles as IEEE 754
 * bits. The body holds the parameters, the step and the learnt state; what
 * can be derived (sizes, the sorted window) is derived again on load, so a
 * blob can only describe a state that spike_update could have made. */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		uint8_t *np;

		while (cap < w->len + n)
			cap *= 2;
		np = realloc(w->p, cap);
		if (np == NULL) {
			w->failed = 1;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, 8);
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, 4);
}

static void put_f64(struct wbuf *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	put_u64(w, u);
}

static void put_f32(struct wbuf *w, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	put_u32(w, u);
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

static void put_params(struct wbuf *w, const struct spike_params *p)
{
	put_f64(w, p->roll_window);
	put_f64(w, p->warmup);
	put_f64(w, p->refractory);
	put_f64(w, p->resolve_after);
	put_f64(w, p->gap_reset);
	put_f64(w, p->long_span);
	put_u32(w, (uint32_t)p->short_n);
	put_u32(w, (uint32_t)p->season_days);
	put_u32(w, (uint32_t)p->weekly);
	put_f64(w, p->z_min);
	put_f64(w, p->z_clip);
	put_f64(w, p->tail);
	put_f64(w, p->quantum_mult);
	put_f64(w, p->rel_floor);
	put_u32(w, (uint32_t)p->dir);
}

static void put_roll(struct wbuf *w, const struct rollwin *r)
{
	uint32_t i;

	put_u32(w, r->n);
	for (i = 0; i < r->n; i++)
		put_f64(w, r->fifo[(r->head + i) % r->cap]);
}

int spike_save(const struct spike *s, uint8_t **buf, size_t *len, struct hr_err *err)
{
	struct wbuf w = { NULL, 0, 0, 0 };
	uint32_t i;

	put_bytes(&w, SPIKE_MAGIC, 8);
	put_u32(&w, SPIKE_VERSION);
	put_u32(&w, 0); /* body length, filled in below */
	put_params(&w, &s->p);
	put_f64(&w, s->step);
	put_u32(&w, (uint32_t)s->have_last);
	put_u64(&w, (uint64_t)s->last_k);
	put_u64(&w, s->seen);
	put_u32(&w, s->ring_len);
	for (i = 0; i < s->ring_len; i++)
		put_f32(&w, s->ring[i]);
	put_roll(&w, &s->raw);
	put_roll(&w, &s->res);
	put_f64(&w, s->quantum);
	put_f64(&w, s->last_v);
	put_u32(&w, (uint32_t)s->have_v);
	put_u32(&w, s->short_cnt);
	for (i = 0; i < s->short_cnt; i++)
		put_f64(&w, s->shortv[(s->short_head + i) % SHORT_MAX]);
	for (i = 0; i < NHIST * HBINS; i++)
		put_f64(&w, s->hist[i / HBINS][i % HBINS]);
	for (i = 0; i < NHIST; i++)
		put_f64(&w, s->htotal[i]);
	put_f64(&w, s->inc);
	put_u32(&w, (uint32_t)s->day_mode);
	put_u64(&w, s->long_n);
	put_u32(&w, (uint32_t)s->in_episode);
	put_u32(&w, (uint32_t)s->has_alert);
	put_u64(&w, (uint64_t)s->last_alert_k);
	put_u64(&w, s->normal_run);
	if (!w.failed) {
		uint32_t body = (uint32_t)(w.len - 16);
		int b;

		for (b = 0; b < 4; b++)
			w.p[12 + b] = (uint8_t)(body >> (8 * b));
		put_u64(&w, fnv1a(w.p, w.len));
	}
	if (w.failed) {
		free(w.p);
		return hr_err_set(err, "out of memory");
	}
	*buf = w.p;
	*len = w.len;
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int short_read;
};

static uint64_t get_u64(struct rbuf *r)
{
	uint64_t v = 0;
	int i;

	if (r->len - r->off < 8) {
		r->short_read = 1;
		r->off = r->len;
		return 0;
	}
	for (i = 7; i >= 0; i--)
		v = v << 8 | r->p[r->off + (size_t)i];
	r->off += 8;
	return v;
}

static uint32_t get_u32(struct rbuf *r)
{
	uint32_t v = 0;
	int i;

	if (r->len - r->off < 4) {
		r->short_read = 1;
		r->off = r->len;
		return 0;
	}
	for (i = 3; i >= 0; i--)
		v = v << 8 | r->p[r->off + (size_t)i];
	r->off += 4;
	return v;
}

static double get_f64(struct rbuf *r)
{
	uint64_t u = get_u64(r);
	double v;

	memcpy(&v, &u, 8);
	return v;
}

static float get_f32(struct rbuf *r)
{
	uint32_t u = get_u32(r);
	float v;

	memcpy(&v, &u, 4);
	return v;
}

/* A u32 that should be a small int; -1 (refused by the checks) when not. */
static int get_int(struct rbuf *r)
{
	uint32_t v = get_u32(r);

	return v > 0xffff ? -1 : (int)v;
}

static void get_params(struct rbuf *r, struct spike_params *p)
{
	p->roll_window = get_f64(r);
	p->warmup = get_f64(r);
	p->refractory = get_f64(r);
	p->resolve_after = get_f64(r);
	p->gap_reset = get_f64(r);
	p->long_span = get_f64(r);
	p->short_n = get_int(r);
	p->season_days = get_int(r);
	p->weekly = get_int(r);
	p->z_min = get_f64(r);
	p->z_clip = get_f64(r);
	p->tail = get_f64(r);
	p->quantum_mult = get_f64(r);
	p->rel_floor = get_f64(r);
	p->dir = (enum spike_dir)get_int(r);
}

static int get_roll(struct rbuf *r, struct rollwin *w, struct hr_err *err)
{
	uint32_t i, n = get_u32(r);

	if (n > w->cap)
		return hr_err_set(err, "rolling window of %u values, at most %u", n, w->cap);
	for (i = 0; i < n && !r->short_read; i++) {
		double x = get_f64(r);

		if (!isfinite(x))
			return hr_err_set(err, "rolling window: not a finite number");
		roll_push(w, x);
	}
	return 0;
}

/* The body after the parameters and the step, into s (sized already). */
static int get_state(struct rbuf *r, struct spike *s, struct hr_err *err)
{
	uint32_t i, n, flag;

	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->have_last = (int)flag;
	s->last_k = (int64_t)get_u64(r);
	if (s->last_k > (int64_t)9e15 || s->last_k < -(int64_t)9e15)
		return hr_err_set(err, "time slot out of range");
	s->last_idx = (uint32_t)((uint64_t)s->last_k % s->ring_len);
	s->seen = get_u64(r);
	n = get_u32(r);
	if (r->short_read)
		return hr_err_set(err, "truncated");
	if (n != s->ring_len)
		return hr_err_set(err, "seasonal history of %u slots, expected %u", n, s->ring_len);
	if (r->len - r->off < (size_t)n * 4)
		return hr_err_set(err, "truncated");
	for (i = 0; i < n; i++) {
		float x = get_f32(r);

		if (isinf(x))
			return hr_err_set(err, "seasonal history: not a finite number");
		s->ring[i] = x;
	}
	if (get_roll(r, &s->raw, err) < 0 || get_roll(r, &s->res, err) < 0)
		return -1;
	s->quantum = get_f64(r);
	s->last_v = get_f64(r);
	flag = get_u32(r);
	if (!isfinite(s->quantum) || s->quantum < 0 || !isfinite(s->last_v) || flag > 1)
		return hr_err_set(err, "bad quantum or last value");
	s->have_v = (int)flag;
	n = get_u32(r);
	if (n > 4 * (uint32_t)s->p.short_n)
		return hr_err_set(err, "short average of %u scores, at most %d", n, 4 * s->p.short_n);
	for (i = 0; i < n; i++) {
		double x = get_f64(r);

		if (!isfinite(x) || x < 0 || x > score_of(s->p.z_clip, s->p.z_clip))
			return hr_err_set(err, "short average: score out of range");
		s->shortv[i] = x;
	}
	s->short_head = 0;
	s->short_cnt = n;
	for (i = 0; i < NHIST * HBINS; i++) {
		double x = get_f64(r);

		if (!isfinite(x) || x < 0)
			return hr_err_set(err, "score history: bad weight");
		s->hist[i / HBINS][i % HBINS] = x;
	}
	for (i = 0; i < NHIST; i++) {
		s->htotal[i] = get_f64(r);
		if (!isfinite(s->htotal[i]) || s->htotal[i] < 0)
			return hr_err_set(err, "score history: bad totals");
	}
	s->inc = get_f64(r);
	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->day_mode = (int)flag;
	s->long_n = get_u64(r);
	if (!isfinite(s->inc) || s->inc < 1 || s->inc > 1e100)
		return hr_err_set(err, "score history: bad totals");
	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->in_episode = (int)flag;
	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->has_alert = (int)flag;
	s->last_alert_k = (int64_t)get_u64(r);
	s->normal_run = get_u64(r);
	if (r->short_read)
		return hr_err_set(err, "truncated");
	if (s->has_alert && (s->last_alert_k > s->last_k || !s->have_last ||
			     s->last_alert_k < -(int64_t)9e15))
		return hr_err_set(err, "last alert out of range");
	return 0;
}

struct spike *spike_load(const uint8_t *buf, size_t len, struct hr_err *err)
{
	struct rbuf r = { buf, 0, 16, 0 };
	struct spike_params p;
	struct spike *s;
	uint32_t version, body;
	uint64_t sum;
	double step;
	char why[HR_ERR_MAX];
	struct hr_err e2;

	if (len < 16 + 8 || memcmp(buf, SPIKE_MAGIC, 8) != 0) {
		hr_err_set(err, "spike state: not a spike state (bad magic or too short)");
		return NULL;
	}
	r.len = len;
	r.off = 8;
	version = get_u32(&r);
	body = get_u32(&r);
	if (version != SPIKE_VERSION) {
		hr_err_set(err, "spike state: version %u, this build reads %u", version, SPIKE_VERSION);
		return NULL;
	}
	if ((size_t)body != len - 16 - 8) {
		hr_err_set(err, "spike state: %zu bytes, the header says %u", len - 24, body);
		return NULL;
	}
	r.len = len - 8;
	r.off = len - 8;
	{
		struct rbuf t = { buf, len, len - 8, 0 };

		sum = get_u64(&t);
	}
	if (sum != fnv1a(buf, len - 8)) {
		hr_err_set(err, "spike state: checksum mismatch (damaged)");
		return NULL;
	}
	r.off = 16;
	get_params(&r, &p);
	step = get_f64(&r);
	if (r.short_read) {
		hr_err_set(err, "spike state: truncated");
		return NULL;
	}
	s = spike_alloc(&p, step, &e2);
	if (s == NULL) {
		hr_err_set(err, "spike state: %s", e2.msg);
		return NULL;
	}
	if (get_state(&r, s, &e2) < 0 || (r.off != r.len && hr_err_set(&e2, "trailing bytes"))) {
		snprintf(why, sizeof(why), "%s", e2.msg);
		hr_err_set(err, "spike state: %s", why);
		spike_free(s);
		return NULL;
	}
	return s;
}
