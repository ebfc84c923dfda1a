/* spike.h: the analyzer's streaming load-spike detector, one state per
 * series. Each sample is scored against robust baselines (the median and
 * MAD of a rolling window, or when over half of it is one value the spread
 * of the values that differ, cross-checked with the same phase of the
 * previous days and weeks, so that a nightly job is normal), the scores go
 * through an anomaly-likelihood step (a short moving average of the scores
 * against their long-run distribution), and an alert fires at the first
 * point of an episode whose tail probability is tiny. The state is a fixed
 * size per series, is saved to and restored from a byte buffer, and the
 * detector is deterministic: the same samples give the same events. */
#ifndef HR_SPIKE_H
#define HR_SPIKE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum spike_dir {
	SPIKE_BOTH = 0, /* rises and drops */
	SPIKE_UP = 1,   /* rises only */
	SPIKE_DOWN = 2
};

/* The same parameters for every series: they are in units of time and of
 * the series' own spread, never in the series' units. */
struct spike_params {
	double roll_window;   /* seconds of the rolling median/MAD window */
	double warmup;        /* seconds of history before any alert */
	double refractory;    /* seconds after an alert before the next one */
	double resolve_after; /* seconds of normal scores that end an episode */
	double gap_reset;     /* a gap longer than this (seconds) restarts the
			       * rolling windows and the score averages */
	double long_span;     /* seconds: the decay of the scores' long-run
			       * history (its effective length) */
	int short_n;          /* scores in the short moving average (1..16); a
			       * second average takes 4 times as many */
	int season_days;      /* previous days compared at the same phase (0..7;
			       * 0: no daily season) */
	int weekly;           /* compare with the same phase 1 and 2 weeks back
			       * (from one week of history on) */
	double z_min;         /* the robust z a point needs to open an episode */
	double z_clip;        /* scores are clipped here (the score history
			       * covers log(1 + z) up to 14) */
	double tail;          /* alert when the likelihood's tail probability
			       * (the score's rank in its own decayed history)
			       * is below this */
	double quantum_mult;  /* scale floor in quanta (the smallest step seen) */
	double rel_floor;     /* scale floor as a fraction of the median level */
	enum spike_dir dir;
};

enum spike_kind {
	SPIKE_NONE = 0,
	SPIKE_FIRING = 1,   /* the first anomalous point of an episode */
	SPIKE_RESOLVED = 2  /* the episode has been normal for resolve_after */
};

struct spike_event {
	enum spike_kind kind;
	double t;        /* the sample's time */
	double value;    /* the sample */
	double baseline; /* the rolling median of the recent values */
	double z;        /* the robust score (the smallest over the baselines),
			  * signed: negative for a drop */
	double tail;     /* the likelihood step's tail probability */
};

struct spike;

/* Fills p with the defaults (see the README's analyzer section). */
void spike_params_default(struct spike_params *p);

/* Checks p; -1 with err naming the field that is out of range. */
int spike_params_check(const struct spike_params *p, struct hr_err *err);

/* A new state for a series sampled every step seconds (the RRD's step),
 * with parameters p (copied; NULL: the defaults). NULL with err on bad
 * parameters or no memory. Caller frees with spike_free. */
struct spike *spike_new(const struct spike_params *p, double step, struct hr_err *err);

/* Frees s; s may be NULL. */
void spike_free(struct spike *s);

/* Feeds one sample (t in unix seconds, v finite). Samples are placed on the
 * step grid (the nearest multiple of step); a sample for a slot already
 * seen, or older, is ignored and returns 0. Missing slots are a gap. On an
 * episode's first anomalous point *ev is SPIKE_FIRING and the return is 1;
 * when an episode ends, SPIKE_RESOLVED and 1; otherwise ev->kind is
 * SPIKE_NONE and the return 0. A non-finite t or v returns -1 and changes
 * nothing. */
int spike_update(struct spike *s, double t, double v, struct spike_event *ev);

/* Bytes the state holds (all of it, for capacity planning). */
size_t spike_state_bytes(const struct spike *s);

/* Serialises the whole state (parameters included) into a new buffer:
 * *buf (caller frees with free) of *len bytes. 0, or -1 with err. */
int spike_save(const struct spike *s, uint8_t **buf, size_t *len, struct hr_err *err);

/* Rebuilds a state from spike_save's bytes (borrowed). A buffer of another
 * version, truncated, damaged (checksum) or inconsistent is refused: NULL
 * with err saying why. Caller frees with spike_free. */
struct spike *spike_load(const uint8_t *buf, size_t len, struct hr_err *err);

#endif
