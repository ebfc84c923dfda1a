/* spike_stats.c: the detector's rolling windows (spike_int.h): the values
 * in arrival order plus a sorted copy, so that the median is O(1) and the
 * MAD, found as a k-th distance over two sorted runs, O(log n). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spike_int.h"

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

int spike_roll_init(struct rollwin *w, uint32_t cap)
{
	w->fifo = malloc(cap * sizeof(double));
	w->sorted = malloc(cap * sizeof(double));
	w->head = w->n = 0;
	w->cap = cap;
	return w->fifo != NULL && w->sorted != NULL ? 0 : -1;
}

void spike_roll_push(struct rollwin *w, double v)
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
double spike_sorted_mad(const double *a, uint32_t n, double med, int nonmodal)
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

/* The rolling window's median and MAD (nonmodal: see spike_sorted_mad). */
void spike_roll_stats(const struct rollwin *w, double *med, double *mad)
{
	const double *a = w->sorted;
	uint32_t n = w->n;

	*med = (a[(n - 1) / 2] + a[n / 2]) / 2;
	*mad = spike_sorted_mad(a, n, *med, 1);
}
