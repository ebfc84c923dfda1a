/* scheduler.h: runs the enabled probes at their intervals, each on a worker
 * thread of its own, so that a slow or hanging source (a stale NFS mount, a
 * sysfs read that blocks) never stalls the others. The main loop asks it to
 * start due reads, waits, and collects finished reads on its own thread; a
 * probe whose read has not returned by its next due time is skipped (not
 * queued twice) and reported once as stuck until it returns. */
#ifndef HR_SCHEDULER_H
#define HR_SCHEDULER_H

#include <stddef.h>
#include <time.h>

#include "agent_config.h"
#include "probe.h"
#include "sample.h"

struct scheduler;

/* Called on the collecting thread with one finished read: the probe's name,
 * its interval (the RRD step) and its samples, stamped with the time the
 * read started. The samples are borrowed for the call. */
typedef void (*sched_deliver_fn)(void *ctx, const char *probe, unsigned step,
				 const struct hr_sample *samples, size_t n);

/* Sets up every enabled probe of cfg (running its setup(), which validates
 * its config: problems go to errs) and starts their workers. Only the probes
 * named in `only` (comma-separated; NULL: all enabled) run. Returns NULL
 * when any setup failed. cfg and env are borrowed for the scheduler's life.
 * Caller frees with scheduler_destroy(). Call with SIGTERM/SIGHUP blocked:
 * the workers inherit the signal mask. */
struct scheduler *scheduler_new(const struct agent_config *cfg, const struct probe_env *env,
				const char *only, struct hr_errs *errs);

/* Starts the reads that are due at wall time now (aligned to multiples of
 * each interval) and whose previous read has been collected. */
void scheduler_tick(struct scheduler *s, double now);

/* Waits until a read finishes, scheduler_wake() is called, or wall time
 * `until` passes. */
void scheduler_wait(struct scheduler *s, double until);

/* Wakes a scheduler_wait() (from a signal thread). */
void scheduler_wake(struct scheduler *s);

/* Delivers every finished read; returns how many. */
size_t scheduler_collect(struct scheduler *s, sched_deliver_fn fn, void *ctx);

/* The wall time at which the next read is due. */
double scheduler_next_due(const struct scheduler *s);

/* Starts every probe now and waits up to timeout seconds for all of them,
 * delivering each as it finishes; probes still running then are logged and
 * left out. Returns the number of probes that did not finish. */
size_t scheduler_run_once(struct scheduler *s, double timeout, sched_deliver_fn fn, void *ctx);

/* Stops the workers, waiting up to grace seconds for reads in flight (they
 * are delivered through fn when fn is not NULL), and frees everything. A
 * worker still stuck in a read after that is detached and its probe state
 * deliberately leaked, since freeing it under a running read would be a
 * use-after-free. Accepts NULL. */
void scheduler_destroy(struct scheduler *s, double grace, sched_deliver_fn fn, void *ctx);

/* How many probes run. */
size_t scheduler_count(const struct scheduler *s);

#endif
