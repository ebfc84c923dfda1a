/* spike_int.h: the detector's private parts, shared by spike.c (update),
 * spike_stats.c (rolling windows) and spike_state.c (save/load). Only these
 * files include it; spike.h is the interface. */
#ifndef HR_SPIKE_INT_H
#define HR_SPIKE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "spike.h"

#define SHORT_MAX 64
#define NHIST 3
#define HBINS 128

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

/* Allocates a detector for p (checked) and step, nothing learnt yet; NULL
 * with err set on bad parameters or no memory. Caller frees (spike_free). */
struct spike *spike_alloc(const struct spike_params *p, double step, struct hr_err *err);
/* log(1 + a) with a clipped at clip: what the histograms hold. */
double spike_score_of(double a, double clip);

/* A rolling window of cap values, empty: 0, or -1 out of memory (the
 * buffers are then freed by the caller, as spike_free does). */
int spike_roll_init(struct rollwin *w, uint32_t cap);
/* Adds v, dropping the oldest value once the window is full. */
void spike_roll_push(struct rollwin *w, double v);
/* The MAD of sorted a[0, n) about its median med; with nonmodal, the
 * spread of the values off the median when over half equal it. */
double spike_sorted_mad(const double *a, uint32_t n, double med, int nonmodal);
/* The median and MAD of the window's n > 0 values. */
void spike_roll_stats(const struct rollwin *w, double *med, double *mad);

#endif
