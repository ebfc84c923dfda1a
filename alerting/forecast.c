/* forecast.c: capacity forecasting for one series (see forecast.h).
 *
 * Why bucket maxima: a disk is full when its peak reaches the size, not
 * its mean, and a daily maximum hides the daily cycle and memory that
 * cycles within a day. Only closed buckets enter the trend, so a bucket
 * that has just begun (whose maximum so far is low) never looks like a
 * cleanup, and the fit is recomputed once per bucket, not per evaluation.
 *
 * Why Theil-Sen: the median of the pairwise slopes ignores up to 29 % of
 * wild points, needs no distribution, and Sen's interval (ranks of the
 * sorted slopes from Kendall's S) gives the slope's uncertainty without a
 * bootstrap, so the forecaster stays deterministic with no PRNG.
 *
 * Change points: a fall of at least drop_frac of the capacity and
 * drop_sigmas noise deviations (the noise is measured robustly from second
 * differences, which a straight trend leaves at zero) between two closed
 * buckets is a drop. A lone drop is a cleanup or a migration: the trend
 * restarts after it, and must span min_history again before it may alert,
 * so that the first ramp of a sawtooth is not mistaken for growth. Drops
 * that recur with a similar size are a sawtooth (log rotation): its
 * capacity question is whether the peaks grow, so the trend is fitted to
 * the peak of each cycle. That is why a sawtooth with no net growth never
 * alerts, where a short window (predict_linear over 6 h) sees every ramp
 * as growth.
 *
 * Recent growth: within a segment the slope is also fitted over its last
 * 1, 2 and 4 times min_history (7, 14, 28 days); never over less, which
 * leaves too few buckets for a trustworthy interval; a window whose slope interval lies wholly above
 * the segment's interval (growth significantly faster lately) and whose
 * trend reaches the capacity first is reported, so that a workload that
 * speeds up, or growth that accelerates, is caught without waiting for the
 * whole segment to agree, while a few noisy days, or the phase of a cycle
 * longer than a bucket, do not move the forecast.
 *
 * Alerting: only on significant growth (the interval's lower end above
 * zero). A wide interval around no growth, which a short or cycling
 * history gives, puts the early bound near, but means "not known yet",
 * not "may fill soon". */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

#define DAY 86400.0
#define MAX_BUCKETS_CAP 4096
#define FC_MAGIC "HRFC"
#define FC_VERSION 1u
#define MIN_POINTS 4      /* a trend needs at least this many buckets */
#define MIN_PEAKS 3       /* a sawtooth's trend at least this many peaks */

struct bucket {
	double t; /* when the maximum was seen */
	double v; /* the maximum */
};

/* One fitted trend: the line v = a + b (t - x0), with the lines through
 * the ends of the slope interval, and the ETAs they give. */
struct fit {
	int valid;
	int sawtooth;
	double seg_start;   /* after the last change point */
	double trend_start; /* the first bucket of the window fitted */
	double b, blo, bhi;
	double eta, early, late;
};

struct forecast {
	struct forecast_params p;
	struct bucket *ring;  /* closed buckets, oldest at head */
	int head, count;
	double cur_idx;       /* the open bucket: its number, maximum, when */
	double cur_t, cur_v;
	uint32_t cur_n;       /* samples in it; 0: none open */
	double last_t, last_v;
	int have_last;
	double last_eval;     /* -INFINITY before the first evaluation */
	enum forecast_state state;
	int up, down;         /* evaluations in a row asking to raise / lower */
	int up_level, down_level;
	/* Derived from the ring; not saved, recomputed after a load. */
	int dirty;
	struct fit fit;
};

void forecast_params_default(struct forecast_params *p)
{
	memset(p, 0, sizeof(*p));
	p->capacity = 0;
	p->warn_horizon = 7 * DAY;
	p->crit_horizon = 2 * DAY;
	p->bucket = DAY;
	p->max_buckets = 120;
	p->confidence = 0.90;
	p->min_history = 7 * DAY;
	p->drop_frac = 0.05;
	p->drop_sigmas = 8;
	p->hold = 2;
	p->resolve_factor = 1.5;
}

int forecast_params_check(const struct forecast_params *p, struct hr_err *err)
{
	if (!isfinite(p->capacity) || p->capacity <= 0)
		return hr_err_set(err, "capacity: must be a positive number");
	if (!isfinite(p->warn_horizon) || p->warn_horizon <= 0 || p->warn_horizon > 3650 * DAY)
		return hr_err_set(err, "warn_horizon: must be within (0, 3650 d]");
	if (!isfinite(p->crit_horizon) || p->crit_horizon < 0 || p->crit_horizon > p->warn_horizon)
		return hr_err_set(err, "crit_horizon: must be within [0, warn_horizon]");
	if (!isfinite(p->bucket) || p->bucket < 60 || p->bucket > 7 * DAY)
		return hr_err_set(err, "bucket: must be within [60 s, 7 d]");
	if (p->max_buckets < 2 * MIN_POINTS || p->max_buckets > MAX_BUCKETS_CAP)
		return hr_err_set(err, "max_buckets: must be within [%d, %d]", 2 * MIN_POINTS,
				  MAX_BUCKETS_CAP);
	if (!isfinite(p->confidence) || p->confidence < 0.5 || p->confidence > 0.999)
		return hr_err_set(err, "confidence: must be within [0.5, 0.999]");
	if (!isfinite(p->min_history) || p->min_history < 0 ||
	    p->min_history >= p->bucket * p->max_buckets)
		return hr_err_set(err, "min_history: must be >= 0 and shorter than "
				  "max_buckets * bucket");
	if (!isfinite(p->drop_frac) || p->drop_frac < 0 || p->drop_frac > 1)
		return hr_err_set(err, "drop_frac: must be within [0, 1]");
	if (!isfinite(p->drop_sigmas) || p->drop_sigmas < 0 || p->drop_sigmas > 1000)
		return hr_err_set(err, "drop_sigmas: must be within [0, 1000]");
	if (p->hold < 1 || p->hold > 100)
		return hr_err_set(err, "hold: must be within [1, 100]");
	if (!isfinite(p->resolve_factor) || p->resolve_factor < 1 || p->resolve_factor > 100)
		return hr_err_set(err, "resolve_factor: must be within [1, 100]");
	return 0;
}

struct forecast *forecast_new(const struct forecast_params *p, struct hr_err *err)
{
	struct forecast_params def;
	struct forecast *f;

	if (p == NULL) {
		forecast_params_default(&def);
		p = &def;
	}
	if (forecast_params_check(p, err) < 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->ring = calloc((size_t)p->max_buckets, sizeof(*f->ring))) == NULL) {
		free(f);
		hr_err_set(err, "forecast: out of memory");
		return NULL;
	}
	f->p = *p;
	f->last_eval = -INFINITY;
	f->dirty = 1;
	return f;
}

void forecast_free(struct forecast *f)
{
	if (f == NULL)
		return;
	free(f->ring);
	free(f);
}

size_t forecast_state_bytes(const struct forecast *f)
{
	return sizeof(*f) + (size_t)f->p.max_buckets * sizeof(*f->ring);
}

const char *forecast_state_name(enum forecast_state s)
{
	switch (s) {
	case FORECAST_WARNING:
		return "warning";
	case FORECAST_CRITICAL:
		return "critical";
	default:
		return "none";
	}
}

static void close_bucket(struct forecast *f)
{
	int slot;

	if (f->cur_n == 0)
		return;
	if (f->count < f->p.max_buckets) {
		slot = (f->head + f->count) % f->p.max_buckets;
		f->count++;
	} else {
		slot = f->head;
		f->head = (f->head + 1) % f->p.max_buckets;
	}
	f->ring[slot].t = f->cur_t;
	f->ring[slot].v = f->cur_v;
	f->cur_n = 0;
	f->dirty = 1;
}

int forecast_add(struct forecast *f, double t, double v)
{
	double idx;

	if (!isfinite(t) || !isfinite(v) || (f->have_last && t < f->last_t) || t < f->last_eval)
		return -1;
	idx = floor(t / f->p.bucket);
	if (f->cur_n > 0 && idx != f->cur_idx)
		close_bucket(f);
	if (f->cur_n == 0) {
		f->cur_idx = idx;
		f->cur_t = t;
		f->cur_v = v;
	} else if (v >= f->cur_v) {
		f->cur_t = t;
		f->cur_v = v;
	}
	if (f->cur_n < UINT32_MAX)
		f->cur_n++;
	f->last_t = t;
	f->last_v = v;
	f->have_last = 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of v[0..n-1], reordering v. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The standard normal quantile (Acklam's rational approximation, relative
 * error below 1.2e-9), for Sen's interval at any confidence level. */
static double probit(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
		2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
		2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r;

	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425)
		return -probit(1 - p);
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* When the line through the points with slope b (per second; its level the
 * median of y - b (x - x0)) reaches cap; INFINITY when b <= 0. tmp holds n. */
static double line_eta(const double *x, const double *y, size_t n, double b, double cap,
		       double *tmp)
{
	double a;
	size_t i;

	if (!(b > 0))
		return INFINITY;
	for (i = 0; i < n; i++)
		tmp[i] = y[i] - b * (x[i] - x[0]);
	a = median(tmp, n);
	return x[0] + (cap - a) / b;
}

/* Theil-Sen over n points (n >= 2) with Sen's interval at z. 0, or -1 on
 * no memory. */
static int theil_sen(const double *x, const double *y, size_t n, double z, double cap,
		     struct fit *out)
{
	size_t np = n * (n - 1) / 2, k = 0, i, j;
	double *s, *tmp, c, lo, hi;
	long ilo, ihi;

	memset(out, 0, sizeof(*out));
	s = malloc((np + n) * sizeof(*s));
	if (s == NULL)
		return -1;
	tmp = s + np;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (x[j] > x[i])
				s[k++] = (y[j] - y[i]) / (x[j] - x[i]);
	if (k == 0) {
		free(s);
		out->valid = 0;
		return 0;
	}
	qsort(s, k, sizeof(*s), cmp_double);
	out->b = k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
	/* Sen (1968): the interval's ends are the slopes of ranks
	 * (N -+ C) / 2, C = z sqrt(Var S), Var S = n(n-1)(2n+5)/18. */
	c = z * sqrt((double)n * (n - 1) * (2.0 * n + 5) / 18.0);
	lo = floor(((double)k - c) / 2.0);
	hi = ceil(((double)k + c) / 2.0);
	ilo = lo < 0 ? 0 : (long)lo;
	ihi = hi > (double)(k - 1) ? (long)(k - 1) : (long)hi;
	out->blo = s[ilo];
	out->bhi = s[ihi];
	out->eta = line_eta(x, y, n, out->b, cap, tmp);
	out->early = line_eta(x, y, n, out->bhi, cap, tmp);
	out->late = line_eta(x, y, n, out->blo, cap, tmp);
	/* Through the data's middle, a steeper line can only reach a
	 * capacity above the data sooner; below it, keep the order sane. */
	if (out->early > out->eta)
		out->early = out->eta;
	if (out->late < out->eta)
		out->late = out->eta;
	out->valid = 1;
	free(s);
	return 0;
}

/* The noise of the bucket maxima, from the second differences, which a
 * straight trend leaves at zero and a sawtooth only around its drops. Their
 * lower quartile, not their median: a sawtooth of a three-bucket period
 * disturbs two second differences in three. For Gaussian noise the lower
 * quartile of |d2| is 0.3186 of its deviation, which is sqrt(6) sigma. */
static double noise_sigma(const double *y, size_t n, double *tmp)
{
	size_t i, m = 0;

	if (n < 3)
		return 0;
	for (i = 1; i + 1 < n; i++)
		tmp[m++] = fabs(y[i + 1] - 2 * y[i] + y[i - 1]);
	qsort(tmp, m, sizeof(*tmp), cmp_double);
	return tmp[m / 4] / 0.3186 / sqrt(6.0);
}

static void refit(struct forecast *f)
{
	size_t n = (size_t)f->count, i, start = 0, np = 0;
	double *x, *y, *tmp, *px, *py, sigma, thr, cap = f->p.capacity, z;
	size_t *drops = NULL, nd = 0;
	static const double windows[] = { 4, 2, 1 }; /* times min_history */
	struct fit best, w;
	double seg_bhi;
	size_t k;

	memset(&best, 0, sizeof(best));
	f->dirty = 0;
	f->fit = best;
	if (n < MIN_POINTS)
		return;
	x = malloc(n * 5 * sizeof(*x));
	drops = malloc(n * sizeof(*drops));
	if (x == NULL || drops == NULL)
		goto out;
	y = x + n;
	tmp = y + n;
	px = tmp + n;
	py = px + n;
	for (i = 0; i < n; i++) {
		const struct bucket *bk = &f->ring[(f->head + (int)i) % f->p.max_buckets];

		x[i] = bk->t;
		y[i] = bk->v;
	}
	z = probit(0.5 + f->p.confidence / 2);
	sigma = noise_sigma(y, n, tmp);
	thr = fmax(f->p.drop_sigmas * sigma, f->p.drop_frac * cap);
	if (thr <= 0)
		thr = 1e-12 * cap;
	for (i = 1; i < n; i++)
		if (y[i - 1] - y[i] > thr)
			drops[nd++] = i;

	if (nd > 0) {
		/* Drops of a similar size to the latest one, back to the start
		 * or to a much larger drop (a cleanup before the sawtooth);
		 * smaller ones are noise within a cycle. grp ends up oldest
		 * first in drops[0..ng-1]. */
		size_t l = drops[nd - 1], ng = 0, j = nd, first = nd;
		double mag = y[l - 1] - y[l];

		while (j-- > 0) {
			double m = y[drops[j] - 1] - y[drops[j]];

			if (m > 2 * mag) {
				start = drops[j];
				break;
			}
			first = j;
		}
		for (j = first; j < nd; j++) {
			double m = y[drops[j] - 1] - y[drops[j]];

			if (m >= 0.5 * mag && m <= 2 * mag)
				drops[ng++] = drops[j];
		}
		nd = ng;
		if (ng == 1)
			start = l;
		else
			best.sawtooth = 1;
	}
	best.seg_start = x[start];

	if (best.sawtooth) {
		/* The peak of each complete cycle between the drops; the open
		 * cycle's maximum too once it passes the last peak, since its
		 * own peak can only be higher. */
		size_t cs = start, d;

		for (d = 0; d <= nd; d++) {
			size_t ce = d < nd ? drops[d] : n, pk = cs;

			if (ce <= cs)
				continue;
			for (i = cs; i < ce; i++)
				if (y[i] >= y[pk])
					pk = i;
			if (d < nd || np == 0 || y[pk] > py[np - 1]) {
				px[np] = x[pk];
				py[np] = y[pk];
				np++;
			}
			cs = ce;
		}
		best.valid = 0;
		if (np >= MIN_PEAKS && theil_sen(px, py, np, z, cap, &w) == 0 && w.valid) {
			w.sawtooth = 1;
			w.seg_start = w.trend_start = best.seg_start;
			best = w;
		}
		goto out;
	}

	if (x[n - 1] - x[start] < f->p.min_history || n - start < MIN_POINTS)
		goto out;
	if (theil_sen(x + start, y + start, n - start, z, cap, &best) < 0)
		goto out;
	best.seg_start = best.trend_start = x[start];
	seg_bhi = best.bhi;
	for (k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		size_t ws = start;

		double span = windows[k] * f->p.min_history;

		if (x[n - 1] - x[start] <= span || span <= 0)
			continue;
		while (ws < n && x[ws] < x[n - 1] - span)
			ws++;
		if (n - ws < MIN_POINTS)
			continue;
		if (theil_sen(x + ws, y + ws, n - ws, z, cap, &w) < 0 || !w.valid)
			continue;
		/* Only growth that is significantly faster than the
		 * segment's, not a noisy few points. */
		if (w.b > 0 && w.blo > seg_bhi && w.eta < best.eta) {
			w.seg_start = best.seg_start;
			w.trend_start = x[ws];
			best = w;
		}
	}
out:
	best.sawtooth = best.sawtooth && best.valid;
	f->fit = best;
	free(x);
	free(drops);
}

/* The level the early ETA asks for; hor scales the horizons (1 to raise,
 * resolve_factor to lower). */
static int level_for(const struct forecast *f, double now, double hor)
{
	double left;

	/* Growth must be significant: an uncertain trend (a wide interval
	 * around no growth) says "do not know", not "may fill soon". */
	if (!f->fit.valid || !(f->fit.blo > 0))
		return FORECAST_NONE;
	left = f->fit.early - now;
	if (left <= f->p.crit_horizon * hor)
		return FORECAST_CRITICAL;
	if (left <= f->p.warn_horizon * hor)
		return FORECAST_WARNING;
	return FORECAST_NONE;
}

static void fill_result(const struct forecast *f, double now, struct forecast_result *r)
{
	memset(r, 0, sizeof(*r));
	r->state = f->state;
	r->valid = f->fit.valid;
	r->value = f->have_last ? f->last_v : NAN;
	r->segment_start = f->fit.seg_start;
	r->trend_start = f->fit.trend_start;
	r->sawtooth = f->fit.sawtooth;
	if (!f->fit.valid) {
		r->eta = r->eta_early = r->eta_late = INFINITY;
		r->slope = r->slope_lo = r->slope_hi = NAN;
		return;
	}
	r->eta = fmax(f->fit.eta, now);
	r->eta_early = fmax(f->fit.early, now);
	r->eta_late = fmax(f->fit.late, now);
	r->slope = f->fit.b * DAY;
	r->slope_lo = f->fit.blo * DAY;
	r->slope_hi = f->fit.bhi * DAY;
}

int forecast_eval(struct forecast *f, double now, struct forecast_result *r)
{
	enum forecast_state before = f->state;
	int raise, lower;

	if (!isfinite(now) || now < f->last_eval || (f->have_last && now < f->last_t)) {
		fill_result(f, f->last_eval, r);
		return -1;
	}
	/* A bucket whose time is over is complete, samples or not. */
	if (f->cur_n > 0 && floor(now / f->p.bucket) > f->cur_idx)
		close_bucket(f);
	if (f->dirty)
		refit(f);
	f->last_eval = now;

	raise = level_for(f, now, 1);
	lower = level_for(f, now, f->p.resolve_factor);
	if (raise > (int)f->state) {
		f->up_level = f->up > 0 && f->up_level < raise ? f->up_level : raise;
		f->up++;
		f->down = 0;
		if (f->up >= f->p.hold) {
			f->state = (enum forecast_state)f->up_level;
			f->up = 0;
		}
	} else if (lower < (int)f->state) {
		f->down_level = f->down > 0 && f->down_level > lower ? f->down_level : lower;
		f->down++;
		f->up = 0;
		if (f->down >= f->p.hold) {
			f->state = (enum forecast_state)f->down_level;
			f->down = 0;
		}
	} else {
		f->up = f->down = 0;
	}
	fill_result(f, now, r);
	r->changed = f->state != before;
	return 0;
}

/* --- persistence ---------------------------------------------------------
 * Little-endian: "HRFC", u32 version, the parameters, the open bucket, the
 * hold, the closed buckets oldest first, and a CRC-32 of all before it. */

#define HDR_BYTES (4 + 4)
#define PARAM_BYTES (9 * 8 + 2 * 4)
#define DYN_BYTES (8 * 3 + 4 + 8 * 2 + 1 + 8 + 1 + 4 * 4 + 4)
#define FIXED_BYTES (HDR_BYTES + PARAM_BYTES + DYN_BYTES)

struct wbuf {
	uint8_t *p;
	size_t off;
};

static void put_u32(struct wbuf *w, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		w->p[w->off++] = (uint8_t)(v >> (8 * i));
}

static void put_f64(struct wbuf *w, double d)
{
	uint64_t v;
	int i;

	memcpy(&v, &d, sizeof(v));
	for (i = 0; i < 8; i++)
		w->p[w->off++] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p, size_t *off)
{
	uint32_t v = 0;
	int i;

	for (i = 3; i >= 0; i--)
		v = v << 8 | p[*off + (size_t)i];
	*off += 4;
	return v;
}

static double get_f64(const uint8_t *p, size_t *off)
{
	uint64_t v = 0;
	double d;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[*off + (size_t)i];
	*off += 8;
	memcpy(&d, &v, sizeof(d));
	return d;
}

/* CRC-32 (IEEE 802.3, reflected), bitwise: states are small. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return c ^ 0xffffffffu;
}

int forecast_save(const struct forecast *f, uint8_t **buf, size_t *len, struct hr_err *err)
{
	size_t n = FIXED_BYTES + (size_t)f->count * 16 + 4;
	struct wbuf w;
	int i;

	w.p = malloc(n);
	w.off = 0;
	if (w.p == NULL)
		return hr_err_set(err, "forecast: out of memory");
	memcpy(w.p, FC_MAGIC, 4);
	w.off = 4;
	put_u32(&w, FC_VERSION);
	put_f64(&w, f->p.capacity);
	put_f64(&w, f->p.warn_horizon);
	put_f64(&w, f->p.crit_horizon);
	put_f64(&w, f->p.bucket);
	put_f64(&w, f->p.confidence);
	put_f64(&w, f->p.min_history);
	put_f64(&w, f->p.drop_frac);
	put_f64(&w, f->p.drop_sigmas);
	put_f64(&w, f->p.resolve_factor);
	put_u32(&w, (uint32_t)f->p.max_buckets);
	put_u32(&w, (uint32_t)f->p.hold);
	put_f64(&w, f->cur_idx);
	put_f64(&w, f->cur_t);
	put_f64(&w, f->cur_v);
	put_u32(&w, f->cur_n);
	put_f64(&w, f->last_t);
	put_f64(&w, f->last_v);
	w.p[w.off++] = (uint8_t)f->have_last;
	put_f64(&w, f->last_eval);
	w.p[w.off++] = (uint8_t)f->state;
	put_u32(&w, (uint32_t)f->up);
	put_u32(&w, (uint32_t)f->down);
	put_u32(&w, (uint32_t)f->up_level);
	put_u32(&w, (uint32_t)f->down_level);
	put_u32(&w, (uint32_t)f->count);
	for (i = 0; i < f->count; i++) {
		const struct bucket *b = &f->ring[(f->head + i) % f->p.max_buckets];

		put_f64(&w, b->t);
		put_f64(&w, b->v);
	}
	put_u32(&w, crc32_ieee(w.p, w.off));
	*buf = w.p;
	*len = w.off;
	return 0;
}

struct forecast *forecast_load(const uint8_t *buf, size_t len, struct hr_err *err)
{
	struct forecast_params p;
	struct forecast *f = NULL;
	size_t off = 4, count;
	uint32_t version, u, hold[4];
	uint8_t st;
	double prev_idx = -INFINITY;
	int i;

	if (len < FIXED_BYTES + 4 || memcmp(buf, FC_MAGIC, 4) != 0) {
		hr_err_set(err, "forecast state: not a forecast state (%zu bytes)", len);
		return NULL;
	}
	version = get_u32(buf, &off);
	if (version != FC_VERSION) {
		hr_err_set(err, "forecast state: version %u, expected %u", version, FC_VERSION);
		return NULL;
	}
	off = len - 4;
	if (get_u32(buf, &off) != crc32_ieee(buf, len - 4)) {
		hr_err_set(err, "forecast state: checksum mismatch");
		return NULL;
	}
	off = HDR_BYTES;
	p.capacity = get_f64(buf, &off);
	p.warn_horizon = get_f64(buf, &off);
	p.crit_horizon = get_f64(buf, &off);
	p.bucket = get_f64(buf, &off);
	p.confidence = get_f64(buf, &off);
	p.min_history = get_f64(buf, &off);
	p.drop_frac = get_f64(buf, &off);
	p.drop_sigmas = get_f64(buf, &off);
	p.resolve_factor = get_f64(buf, &off);
	u = get_u32(buf, &off);
	p.max_buckets = u > MAX_BUCKETS_CAP ? -1 : (int)u;
	u = get_u32(buf, &off);
	p.hold = u > 100 ? -1 : (int)u;
	f = forecast_new(&p, err);
	if (f == NULL)
		return NULL;
	f->cur_idx = get_f64(buf, &off);
	f->cur_t = get_f64(buf, &off);
	f->cur_v = get_f64(buf, &off);
	f->cur_n = get_u32(buf, &off);
	f->last_t = get_f64(buf, &off);
	f->last_v = get_f64(buf, &off);
	f->have_last = buf[off++];
	f->last_eval = get_f64(buf, &off);
	st = buf[off++];
	for (i = 0; i < 4; i++)
		hold[i] = get_u32(buf, &off);
	count = get_u32(buf, &off);
	if (count > (size_t)f->p.max_buckets || len != FIXED_BYTES + count * 16 + 4) {
		hr_err_set(err, "forecast state: %zu buckets do not fit %zu bytes or the limit %d",
			   count, len, f->p.max_buckets);
		goto bad;
	}
	if (f->have_last > 1 || st > FORECAST_CRITICAL || hold[0] >= (uint32_t)f->p.hold ||
	    hold[1] >= (uint32_t)f->p.hold || hold[2] > FORECAST_CRITICAL ||
	    hold[3] > FORECAST_CRITICAL || !(f->last_eval == -INFINITY || isfinite(f->last_eval))) {
		hr_err_set(err, "forecast state: alert state out of range");
		goto bad;
	}
	for (i = 0; i < (int)count; i++) {
		double t = get_f64(buf, &off), v = get_f64(buf, &off), idx;

		if (!isfinite(t) || !isfinite(v)) {
			hr_err_set(err, "forecast state: bucket %d is not finite", i);
			goto bad;
		}
		idx = floor(t / f->p.bucket);
		if (idx <= prev_idx) {
			hr_err_set(err, "forecast state: bucket %d out of order", i);
			goto bad;
		}
		prev_idx = idx;
		f->ring[i].t = t;
		f->ring[i].v = v;
	}
	f->count = (int)count;
	f->state = (enum forecast_state)st;
	f->up = (int)hold[0];
	f->down = (int)hold[1];
	f->up_level = (int)hold[2];
	f->down_level = (int)hold[3];
	if (f->cur_n > 0 && (!isfinite(f->cur_t) || !isfinite(f->cur_v) ||
			     floor(f->cur_t / f->p.bucket) != f->cur_idx || f->cur_idx <= prev_idx)) {
		hr_err_set(err, "forecast state: open bucket inconsistent");
		goto bad;
	}
	if (f->have_last && (!isfinite(f->last_t) || !isfinite(f->last_v) ||
			     (f->cur_n > 0 && f->last_t < f->cur_t) ||
			     (count > 0 && f->last_t < f->ring[count - 1].t))) {
		hr_err_set(err, "forecast state: last sample inconsistent");
		goto bad;
	}
	if ((f->cur_n > 0 || count > 0) && !f->have_last) {
		hr_err_set(err, "forecast state: buckets without a sample");
		goto bad;
	}
	f->dirty = 1;
	return f;
bad:
	forecast_free(f);
	return NULL;
}
