/* analyzer.h: the central's analyzer. Every stored sample goes through
 * analyzer_observe(): counters become rates, derived values are added, the
 * rules that match (rules.h) judge it with per-series state (rule_state,
 * a spike detector, a capacity forecaster), and what they say goes out as
 * struct alert_obs (alert.h) through a callback, to the alert lifecycle.
 * The state is kept in SQLite (table analyzer_state) so that a restart
 * neither loses learning nor re-fires. `headroom backtest --rules` runs the
 * same code in simulated time.
 *
 * The sample the rules see (derivation):
 * - a counter (schema.h: cpu and disk values, net bytes/errors/drops, any
 *   "*_total") is replaced by its per-second rate since the previous sample
 *   of the same host/probe/instance; it is left out on the first sample,
 *   after a counter reset (a negative delta) and after a gap of more than
 *   2 steps;
 * - cpu gets "busy" = 100 * (1 - (d idle + d iowait) / d total), total
 *   being the sum of all cpu counters' deltas (percent of the CPUs' time);
 * - disk gets "util" = io_ms rate / 10 (percent of the time the device was
 *   busy, capped at 100).
 *
 * What is emitted, per series (rule, host, probe, instance):
 * - threshold and change rules: an active observation on every sample the
 *   condition holds on (the lifecycle's "for" counts them), an inactive one
 *   when it stops holding and on the series' first sample after start;
 * - spike rules: an active event (o->event = 1) at an episode's onset, an
 *   inactive one when the detector ends the episode; nothing in between;
 * - forecast rules: evaluated once an hour of sample time (and by
 *   analyzer_tick for series whose samples stopped), active with the ETA and
 *   its bounds while the forecaster says warning or critical, inactive when
 *   that ends and on the first evaluation after start;
 * - stale rules: what analyzer_host_stale() is told.
 * Observations are emitted after the analyzer's lock is released, from the
 * thread that made the call: emit may call into other modules, and even
 * back into the analyzer. */
#ifndef HR_ANALYZER_H
#define HR_ANALYZER_H

#include <stddef.h>

#include "alert.h"
#include "err.h"
#include "rules.h"
#include "sample.h"

/* Receives one observation (borrowed: copy what you keep). */
typedef void (*analyzer_emit_fn)(void *ctx, const struct alert_obs *o);

struct analyzer;

/* A new analyzer judging with rules rs (borrowed: it must outlive the
 * analyzer) and persisting its state in the SQLite file db_path (created
 * when missing; ":memory:" for a private one; NULL: no persistence). emit
 * (with ctx) receives the observations. Saved state is read lazily, when a
 * series is first seen. NULL with err when the database cannot be opened
 * or prepared, or on no memory. Caller frees with analyzer_free. */
struct analyzer *analyzer_new(const struct rules *rs, const char *db_path,
			      analyzer_emit_fn emit, void *ctx, struct hr_err *err);

/* Judges sample s of HOST (both borrowed), sampled every step seconds (0:
 * s->step; both 0: 60). Samples of one instance must come in time order: one
 * at or before the instance's last sample (a batch sent twice, a late
 * spool) is ignored, as the detectors have moved past it. Thread-safe; the
 * observations of one instance come out in order when one thread at a time
 * feeds a host (the central's ingest does). 0, or -1 when s has no time or
 * the host is empty (nothing done); a series whose state cannot be made (no
 * memory) is skipped with a log line. A series seen for the first time is
 * looked up in the database (one indexed read). */
int analyzer_observe(struct analyzer *an, const char *host, const struct hr_sample *s,
		     unsigned step);

/* Housekeeping at time now (unix seconds; the central calls it every few
 * seconds): evaluates the forecasts of series whose samples stopped (no
 * sample for over an hour past their next evaluation: evaluated at that
 * hour; a sample older than it that comes later is not forecast), and saves
 * the state that changed when the last save is a minute old or more: the
 * state is copied under the lock, written in one transaction without it.
 * Observations made here carry the rule's labels, not the sample's.
 * Once an hour, instances without a sample for 7 days leave memory (their
 * saved state is read again if they come back); once a day, saved rows not
 * written for 30 days are deleted. Thread-safe. 0, or -1 when saving
 * failed (logged; everything is written again at the next save). */
int analyzer_tick(struct analyzer *an, double now);

/* The central's stale check says HOST stopped sending (stale 1) or is back
 * (0): emits an observation for every RULE_STALE rule whose match takes the
 * host (its host glob). Thread-safe. Returns how many were emitted. */
int analyzer_host_stale(struct analyzer *an, const char *host, int stale, double now);

/* Saves all state that changed, now (at shutdown). 0, or -1 with err.
 * A saved row holds a header (version, the kind of state, a fingerprint of
 * the rule's parameters, a checksum) and the detector's own bytes; a row
 * that fails to load is dropped with one log line and its series starts
 * afresh; a row whose rule's parameters changed restarts its series. */
int analyzer_save(struct analyzer *an, struct hr_err *err);

/* Counts for capacity planning: series held, and the bytes their state
 * takes (detectors, keys, tables). */
struct analyzer_stats {
	size_t series;     /* (rule, host, probe, instance) states */
	size_t instances;  /* (host, probe, instance) with counters remembered */
	size_t bytes;      /* memory held for all of them */
	size_t loaded;     /* states restored from the database */
	size_t dropped;    /* saved states refused (damaged, other version) */
	size_t restarted;  /* saved states dropped because their rule changed */
};
void analyzer_get_stats(struct analyzer *an, struct analyzer_stats *st);

/* The latest forecast of every series a forecast rule judges, for the
 * dashboards and the API. Strings are valid during the call only. */
struct analyzer_forecast {
	const char *rule, *host, *probe, *instance;
	double capacity;           /* the value at which it is full */
	double at;                 /* when it was evaluated (0: not yet) */
	int valid;                 /* enough history for a trend */
	int state;                 /* enum forecast_state: 0 none, 1 warning, 2 critical */
	double value;              /* the last sample */
	double eta, eta_early, eta_late; /* unix seconds; INFINITY: not due */
	double slope, slope_lo, slope_hi; /* growth per day and its interval */
	double segment_start;      /* the current trend's first bucket */
	int sawtooth;
};
/* Calls fn for each (copied under the lock, called without it). A nonzero
 * return from fn stops. Returns how many were passed, or -1 on no memory. */
int analyzer_forecasts(struct analyzer *an,
		       int (*fn)(void *arg, const struct analyzer_forecast *f), void *arg);

/* Frees an (does not save: call analyzer_save first); an may be NULL. */
void analyzer_free(struct analyzer *an);

#endif
