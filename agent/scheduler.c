/* scheduler.c: one worker thread per probe, driven by the main loop (see
 * scheduler.h). All shared fields of a probe slot are guarded by the
 * scheduler's one mutex; a read itself runs unlocked on its worker. The main
 * thread alone touches a slot's recorded samples once the slot is `done`,
 * and only it requests the next read, after collecting: so the recording
 * sink is never written and read at once. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "scheduler.h"
#include "util.h"

#define WORKER_STACK (512u * 1024u)

struct slot {
	struct scheduler *sched;
	const struct probe *probe;
	void *state;
	unsigned interval;
	pthread_t thread;
	int running;          /* the worker thread exists */
	/* guarded by sched->lock */
	int requested;        /* a read is asked for */
	int busy;             /* a read is running */
	int done;             /* a read finished and awaits collection */
	time_t stamp;         /* the time the samples of this read carry */
	double started_at;    /* wall time the read was asked for */
	int rc;
	struct hr_err err;
	struct hr_recsink rec;
	/* main thread only */
	double next_due;
	unsigned long skipped;
	struct hr_complain stuck;
	struct hr_complain failed;
};

struct scheduler {
	pthread_mutex_t lock;
	pthread_cond_t work;  /* workers wait here for requests */
	pthread_cond_t done;  /* the main thread waits here for results */
	int stopping;
	int woken;
	struct slot *slots;
	size_t n;
};

static void *worker_main(void *arg)
{
	struct slot *sl = arg;
	struct scheduler *s = sl->sched;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!sl->requested && !s->stopping)
			pthread_cond_wait(&s->work, &s->lock);
		if (!sl->requested)
			break;
		sl->requested = 0;
		sl->busy = 1;
		pthread_mutex_unlock(&s->lock);

		hr_recsink_clear(&sl->rec);
		sl->err.msg[0] = '\0';
		int rc = sl->probe->read(sl->state, &sl->rec.sink, &sl->err);

		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < sl->rec.count; i++)
			if (sl->rec.samples[i].t == 0)
				sl->rec.samples[i].t = sl->stamp;
		sl->rc = rc;
		sl->busy = 0;
		sl->done = 1;
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Is NAME in the comma-separated list? */
static int in_list(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == len && strncmp(p, name, len) == 0)
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

static void check_only(const char *only, struct hr_errs *errs)
{
	char name[64];
	const char *p = only;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == 0 || l >= sizeof(name)) {
			hr_errs_add(errs, "--only", "empty or overlong probe name");
		} else {
			memcpy(name, p, l);
			name[l] = '\0';
			if (probe_find(name) == NULL)
				hr_errs_add(errs, "--only", "unknown probe \"%s\"", name);
		}
		p += l;
		if (*p == ',')
			p++;
	}
}

static void slots_teardown(struct scheduler *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		s->slots[i].probe->teardown(s->slots[i].state);
		hr_recsink_free(&s->slots[i].rec);
	}
	free(s->slots);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct scheduler *scheduler_new(const struct agent_config *cfg, const struct probe_env *env,
				const char *only, struct hr_errs *errs)
{
	struct scheduler *s;
	pthread_condattr_t ca;
	pthread_attr_t ta;
	size_t i;
	int failed = 0;

	if (only != NULL)
		check_only(only, errs);
	if (hr_errs_any(errs))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->slots = calloc(cfg->nprobes + 1, sizeof(*s->slots))) == NULL) {
		free(s);
		hr_errs_add(errs, "", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, &ca);
	pthread_condattr_destroy(&ca);

	for (i = 0; i < cfg->nprobes; i++) {
		const struct agent_probe_cfg *pc = &cfg->probes[i];
		struct slot *sl;
		char path[64];

		if (only != NULL ? !in_list(only, pc->probe->name) : !pc->enabled)
			continue;
		sl = &s->slots[s->n];
		snprintf(path, sizeof(path), "probes.%s", pc->probe->name);
		if (pc->probe->setup(env, pc->cfg, path, &sl->state, errs) < 0) {
			failed = 1;
			continue;
		}
		sl->sched = s;
		sl->probe = pc->probe;
		sl->interval = pc->interval ? pc->interval : 10;
		hr_recsink_init(&sl->rec);
		s->n++;
	}
	if (failed || hr_errs_any(errs)) {
		slots_teardown(s);
		return NULL;
	}
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, WORKER_STACK);
	for (i = 0; i < s->n; i++) {
		int e = pthread_create(&s->slots[i].thread, &ta, worker_main, &s->slots[i]);

		if (e != 0) {
			hr_errs_add(errs, "", "cannot start a thread for probe %s: %s",
				    s->slots[i].probe->name, strerror(e));
			pthread_attr_destroy(&ta);
			scheduler_destroy(s, 0, NULL, NULL);
			return NULL;
		}
		s->slots[i].running = 1;
	}
	pthread_attr_destroy(&ta);
	return s;
}

size_t scheduler_count(const struct scheduler *s)
{
	return s->n;
}

/* Asks slot sl for a read stamped `stamp`; lock held. */
static void request(struct scheduler *s, struct slot *sl, time_t stamp, double now)
{
	sl->requested = 1;
	sl->stamp = stamp;
	sl->started_at = now;
	pthread_cond_broadcast(&s->work);
}

void scheduler_tick(struct scheduler *s, double now)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		double iv = sl->interval;
		double slot_start = floor(now / iv) * iv;

		/* The wall clock went back: start again from now. */
		if (sl->next_due - now > iv)
			sl->next_due = 0;
		if (sl->next_due > now)
			continue;
		sl->next_due = slot_start + iv;
		if (sl->busy || sl->requested || sl->done) {
			sl->skipped++;
			if (sl->busy && now - sl->started_at >= iv)
				hr_complain(&sl->stuck, "probe %s: read has not returned within "
					    "its interval (%u s); its samples are skipped until it does "
					    "(other probes go on)", sl->probe->name, sl->interval);
			continue;
		}
		request(s, sl, (time_t)slot_start, now);
	}
	pthread_mutex_unlock(&s->lock);
}

void scheduler_wake(struct scheduler *s)
{
	pthread_mutex_lock(&s->lock);
	s->woken = 1;
	pthread_cond_broadcast(&s->done);
	pthread_mutex_unlock(&s->lock);
}

static int any_done(const struct scheduler *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->slots[i].done)
			return 1;
	return 0;
}

/* Waits on s->done until wall time `until`; lock held. */
static void wait_locked(struct scheduler *s, double until)
{
	double delta = until - hr_now_wall();
	struct timespec ts;

	if (delta <= 0)
		return;
	if (delta > 3600)
		delta = 3600;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)delta;
	ts.tv_nsec += (long)((delta - floor(delta)) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&s->done, &s->lock, &ts);
}

void scheduler_wait(struct scheduler *s, double until)
{
	pthread_mutex_lock(&s->lock);
	if (!any_done(s) && !s->woken)
		wait_locked(s, until);
	s->woken = 0;
	pthread_mutex_unlock(&s->lock);
}

size_t scheduler_collect(struct scheduler *s, sched_deliver_fn fn, void *ctx)
{
	size_t i, delivered = 0;

	for (i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		int done;

		pthread_mutex_lock(&s->lock);
		done = sl->done;
		pthread_mutex_unlock(&s->lock);
		if (!done)
			continue;
		/* The worker is idle until we request again: rec is ours. */
		if (sl->stuck.active)
			hr_complain_clear(&sl->stuck, "probe %s: read returned after %.0f s",
					  sl->probe->name, hr_now_wall() - sl->started_at);
		if (sl->rc < 0)
			hr_complain(&sl->failed, "probe %s: %s", sl->probe->name,
				    sl->err.msg[0] ? sl->err.msg : "read failed");
		else
			hr_complain_clear(&sl->failed, "probe %s: reads again", sl->probe->name);
		if (sl->rec.refused > 0)
			hr_log_warnx("probe %s: %zu samples over the per-read limit were dropped",
				     sl->probe->name, sl->rec.refused);
		if (fn != NULL && sl->rec.count > 0)
			fn(ctx, sl->probe->name, sl->interval, sl->rec.samples, sl->rec.count);
		pthread_mutex_lock(&s->lock);
		sl->done = 0;
		pthread_mutex_unlock(&s->lock);
		delivered++;
	}
	return delivered;
}

double scheduler_next_due(const struct scheduler *s)
{
	double next = INFINITY;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->slots[i].next_due < next)
			next = s->slots[i].next_due;
	return next;
}

size_t scheduler_run_once(struct scheduler *s, double timeout, sched_deliver_fn fn, void *ctx)
{
	double now = hr_now_wall(), deadline = now + timeout;
	size_t i, pending = 0;
	unsigned char *got = calloc(s->n + 1, 1);

	if (got == NULL)
		return s->n;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		request(s, &s->slots[i], (time_t)now, now);
	pthread_mutex_unlock(&s->lock);
	for (;;) {
		pending = 0;
		for (i = 0; i < s->n; i++) {
			struct slot *sl = &s->slots[i];

			pthread_mutex_lock(&s->lock);
			if (sl->done)
				got[i] = 1;
			else if (!got[i])
				pending++;
			pthread_mutex_unlock(&s->lock);
		}
		scheduler_collect(s, fn, ctx);
		if (pending == 0 || hr_now_wall() >= deadline)
			break;
		scheduler_wait(s, deadline);
	}
	for (i = 0; i < s->n; i++)
		if (!got[i])
			hr_log_warnx("probe %s: no answer within %g s; left out",
				     s->slots[i].probe->name, timeout);
	free(got);
	return pending;
}

void scheduler_destroy(struct scheduler *s, double grace, sched_deliver_fn fn, void *ctx)
{
	double deadline;
	size_t i;
	int stuck = 0;

	if (s == NULL)
		return;
	deadline = hr_now_wall() + grace;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		int busy = 0;

		for (i = 0; i < s->n; i++)
			if (s->slots[i].busy || s->slots[i].requested)
				busy = 1;
		if (!busy || hr_now_wall() >= deadline)
			break;
		wait_locked(s, deadline);
	}
	s->stopping = 1;
	for (i = 0; i < s->n; i++)
		s->slots[i].requested = 0;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	scheduler_collect(s, fn, ctx);

	for (i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		int busy;

		if (!sl->running)
			continue;
		pthread_mutex_lock(&s->lock);
		busy = sl->busy;
		pthread_mutex_unlock(&s->lock);
		if (busy) {
			hr_log_warnx("probe %s: read still running at shutdown; leaving it behind",
				     sl->probe->name);
			pthread_detach(sl->thread);
			stuck = 1;
		} else {
			pthread_join(sl->thread, NULL);
		}
	}
	/* A detached worker still points into s: keep all of it alive. */
	if (!stuck)
		slots_teardown(s);
}
