/* forecast.h: the analyzer's capacity forecaster, one state per series with
 * a capacity (fs used/size and inodes, memory, any metric a rule gives a
 * capacity). Raw samples are reduced to bucket maxima (daily by default:
 * "full" is reached at a peak); a change point (a cleanup, a migration out)
 * starts a new segment; recurring drops of a similar size (log rotation,
 * memory that cycles) are a sawtooth, whose trend is that of its peaks; the
 * trend is a Theil-Sen slope with Sen's confidence interval, over the
 * segment and its recent weeks, and gives the time to exhaustion with an
 * early and a late bound. An alert needs significant growth (the slope
 * interval above zero) and the early bound inside the horizon, on two
 * evaluations in a row. The state is bounded, saved to and restored from a
 * versioned byte buffer, and deterministic. */
#ifndef HR_FORECAST_H
#define HR_FORECAST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The same parameters for every series: times in seconds, sizes as
 * fractions of the capacity, so that bytes and percent behave alike. */
struct forecast_params {
	double capacity;      /* the value at which the series is full (> 0) */
	double warn_horizon;  /* warning when the early ETA is within this */
	double crit_horizon;  /* critical when within this (<= warn_horizon) */
	double bucket;        /* aggregation bucket, seconds (3600 or 86400) */
	int max_buckets;      /* bucket maxima kept (history = this * bucket) */
	double confidence;    /* two-sided level of the slope interval (0.5..0.999) */
	double min_history;   /* seconds a segment must span before it may alert */
	double drop_frac;     /* a change point needs a fall of at least this
			       * fraction of the capacity ... */
	double drop_sigmas;   /* ... and of this many noise deviations */
	int hold;             /* evaluations in a row that raise or resolve */
	double resolve_factor; /* resolved when the early ETA is beyond
				* resolve_factor * warn_horizon */
};

enum forecast_state {
	FORECAST_NONE = 0,
	FORECAST_WARNING = 1,
	FORECAST_CRITICAL = 2
};

/* What one evaluation says. Times are unix seconds; an ETA that is not due
 * (no growth, or growth not significant for the bound) is INFINITY. */
struct forecast_result {
	enum forecast_state state;  /* after the hold */
	int changed;                /* state differs from the previous evaluation */
	int valid;                  /* enough history for a trend */
	double eta;                 /* point estimate of exhaustion */
	double eta_early;           /* from the upper end of the slope interval */
	double eta_late;            /* from the lower end (INFINITY when <= 0) */
	double slope;               /* per day, in the series' units */
	double slope_lo, slope_hi;  /* its interval */
	double value;               /* the last sample */
	double segment_start;       /* the last change point (or the history's start) */
	double trend_start;         /* the first bucket of the window the trend is
				     * fitted to: the segment, or its last weeks
				     * when growth there runs out sooner */
	int sawtooth;               /* the trend is that of a sawtooth's peaks */
};

struct forecast;

/* Fills p with the defaults: warning 7 d, critical 2 d, daily buckets, 120
 * of them, 90 % interval, 7 d of history, change points of >= 5 % of the
 * capacity and 8 noise deviations, hold 2, resolve beyond 1.5 x warning. */
void forecast_params_default(struct forecast_params *p);

/* Checks p; -1 with err naming the field that is out of range. */
int forecast_params_check(const struct forecast_params *p, struct hr_err *err);

/* A new state with parameters p (copied; NULL: the defaults, which have no
 * capacity and so are refused). NULL with err on bad parameters or no
 * memory. Caller frees with forecast_free. */
struct forecast *forecast_new(const struct forecast_params *p, struct hr_err *err);

/* Frees f; f may be NULL. */
void forecast_free(struct forecast *f);

/* Feeds one raw sample, in time order. A sample older than the last one,
 * or a non-finite t or v, is ignored and returns -1 (nothing changes);
 * otherwise 0. */
int forecast_add(struct forecast *f, double t, double v);

/* Evaluates at time now (>= the last sample; the analyzer calls it once an
 * hour) into *r and advances the hold. Returns 0, or -1 when now goes
 * backwards (nothing changes, *r is filled with the previous state). */
int forecast_eval(struct forecast *f, double now, struct forecast_result *r);

/* Bytes the state holds (all of it, for capacity planning). */
size_t forecast_state_bytes(const struct forecast *f);

/* Serialises the state (parameters included) into a new buffer: *buf
 * (caller frees with free) of *len bytes. 0, or -1 with err. */
int forecast_save(const struct forecast *f, uint8_t **buf, size_t *len, struct hr_err *err);

/* Rebuilds a state from forecast_save's bytes (borrowed). A buffer of
 * another version, truncated, damaged (checksum) or inconsistent is
 * refused: NULL with err saying why. Caller frees with forecast_free. */
struct forecast *forecast_load(const uint8_t *buf, size_t len, struct hr_err *err);

/* The state's name: "none", "warning", "critical". */
const char *forecast_state_name(enum forecast_state s);

#endif
