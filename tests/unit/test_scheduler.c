/* test_scheduler.c: a probe whose read hangs (the stale NFS mount case) must
 * not stall the others; its slot is skipped, not queued twice, and it comes
 * back once the read returns. Samples carry the aligned slot time. The test
 * probes here are tiny real implementations of the probe interface. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "scheduler.h"
#include "testutil.h"
#include "util.h"

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int open;
	int reads;  /* reads started */
};

static struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

static int t_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		   void **state, struct hr_errs *errs)
{
	*state = NULL;
	return 0;
}

static void t_teardown(void *state)
{
}

static int fast_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct hr_sample s;

	hr_sample_init(&s, "fast", "");
	hr_sample_set(&s, "v", 1);
	return hr_sink_put(sink, &s);
}

static int hang_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct hr_sample s;

	pthread_mutex_lock(&gate.lock);
	gate.reads++;
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
	hr_sample_init(&s, "hang", "");
	hr_sample_set(&s, "v", 2);
	return hr_sink_put(sink, &s);
}

static int fail_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	return hr_err_set(err, "cannot read /proc/nothing");
}

static int bad_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	hr_errs_add(errs, path, "broken on purpose");
	return -1;
}

static const struct probe p_fast = { .name = "fast", .core = 1, .setup = t_setup,
				     .read = fast_read, .teardown = t_teardown };
static const struct probe p_hang = { .name = "hang", .core = 1, .setup = t_setup,
				     .read = hang_read, .teardown = t_teardown };
static const struct probe p_fail = { .name = "fail", .core = 1, .setup = t_setup,
				     .read = fail_read, .teardown = t_teardown };
static const struct probe p_bad = { .name = "bad", .core = 1, .setup = bad_setup,
				    .read = fail_read, .teardown = t_teardown };

struct got {
	unsigned fast, hang, fail;
	time_t last_t;
	unsigned step;
};

static void deliver(void *ctx, const char *probe, unsigned step, const struct hr_sample *s,
		    size_t n)
{
	struct got *g = ctx;

	if (strcmp(probe, "fast") == 0)
		g->fast += (unsigned)n;
	else if (strcmp(probe, "hang") == 0)
		g->hang += (unsigned)n;
	g->last_t = s[0].t;
	g->step = step;
}

static void make_cfg(struct agent_config *cfg, struct agent_probe_cfg *pcs,
		     const struct probe *const *list, size_t n)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->interval = 10;
	for (i = 0; i < n; i++) {
		pcs[i].probe = list[i];
		pcs[i].enabled = 1;
		pcs[i].interval = 10;
		pcs[i].cfg = NULL;
	}
	cfg->probes = pcs;
	cfg->nprobes = n;
}

/* Collects until `want` fast samples arrived (bounded by a generous real
 * deadline, which only matters when the scheduler is broken). */
static void collect_fast(struct scheduler *s, struct got *g, unsigned want)
{
	double deadline = hr_now_wall() + 30;

	while (g->fast < want && hr_now_wall() < deadline) {
		scheduler_collect(s, deliver, g);
		if (g->fast < want)
			scheduler_wait(s, hr_now_wall() + 0.5);
	}
}

static void test_hang_does_not_stall(void)
{
	const struct probe *list[] = { &p_fast, &p_hang };
	struct agent_probe_cfg pcs[2];
	struct probe_env env = { .root = "/" };
	struct agent_config cfg;
	struct hr_errs errs;
	struct scheduler *s;
	struct got g = { 0 };
	double t0 = 1000000000.0; /* an injected clock for the schedule */

	gate.open = 0;
	gate.reads = 0;
	make_cfg(&cfg, pcs, list, 2);
	hr_errs_init(&errs);
	s = scheduler_new(&cfg, &env, NULL, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(scheduler_count(s), 2);

	scheduler_tick(s, t0 + 3);
	collect_fast(s, &g, 1);
	/* Let the hanging read really begin before the next slots. */
	{
		double deadline = hr_now_wall() + 30;
		int started = 0;

		while (!started && hr_now_wall() < deadline) {
			pthread_mutex_lock(&gate.lock);
			started = gate.reads > 0;
			pthread_mutex_unlock(&gate.lock);
			if (!started)
				scheduler_wait(s, hr_now_wall() + 0.01);
		}
	}
	CU_ASSERT_EQUAL(g.fast, 1);
	CU_ASSERT_EQUAL(g.last_t, (time_t)t0); /* the aligned slot */
	CU_ASSERT_EQUAL(g.step, 10);
	CU_ASSERT_DOUBLE_EQUAL(scheduler_next_due(s), t0 + 10, 0);

	/* Not due yet: nothing starts. */
	scheduler_tick(s, t0 + 9);
	/* Next slots: fast goes on, hang is still in its first read. */
	scheduler_tick(s, t0 + 10);
	collect_fast(s, &g, 2);
	scheduler_tick(s, t0 + 20);
	collect_fast(s, &g, 3);
	CU_ASSERT_EQUAL(g.fast, 3);
	CU_ASSERT_EQUAL(g.hang, 0);
	pthread_mutex_lock(&gate.lock);
	CU_ASSERT_EQUAL(gate.reads, 1); /* skipped, never started twice */
	gate.open = 1;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);

	/* The hung read returns and is delivered; the probe runs again. */
	{
		double deadline = hr_now_wall() + 30;
		while (g.hang < 1 && hr_now_wall() < deadline) {
			scheduler_wait(s, hr_now_wall() + 0.5);
			scheduler_collect(s, deliver, &g);
		}
	}
	CU_ASSERT_EQUAL(g.hang, 1);
	scheduler_tick(s, t0 + 30);
	scheduler_destroy(s, 30, deliver, &g);
	CU_ASSERT_EQUAL(g.hang, 2);
	CU_ASSERT_EQUAL(g.fast, 4);
	hr_errs_free(&errs);
}

static void test_run_once(void)
{
	const struct probe *list[] = { &p_fast, &p_hang, &p_fail };
	struct agent_probe_cfg pcs[3];
	struct probe_env env = { .root = "/" };
	struct agent_config cfg;
	struct hr_errs errs;
	struct scheduler *s;
	struct got g = { 0 };

	gate.open = 0;
	gate.reads = 0;
	make_cfg(&cfg, pcs, list, 3);
	hr_errs_init(&errs);
	s = scheduler_new(&cfg, &env, NULL, &errs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* The hanging probe is left out after the timeout; the rest come. */
	CU_ASSERT_EQUAL(scheduler_run_once(s, 0.5, deliver, &g), 1);
	CU_ASSERT_EQUAL(g.fast, 1);
	CU_ASSERT_EQUAL(g.hang, 0);
	pthread_mutex_lock(&gate.lock);
	gate.open = 1;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
	scheduler_destroy(s, 30, NULL, NULL);
	hr_errs_free(&errs);
}

static void test_setup_errors(void)
{
	const struct probe *list[] = { &p_fast, &p_bad };
	struct agent_probe_cfg pcs[2];
	struct probe_env env = { .root = "/" };
	struct agent_config cfg;
	struct hr_errs errs;

	make_cfg(&cfg, pcs, list, 2);
	hr_errs_init(&errs);
	CU_ASSERT_PTR_NULL(scheduler_new(&cfg, &env, NULL, &errs));
	CU_ASSERT_EQUAL_FATAL(errs.count, 1);
	CU_ASSERT_STRING_EQUAL(errs.items[0], "probes.bad: broken on purpose");
	hr_errs_free(&errs);

	/* Disabled probes are not set up at all. */
	pcs[1].enabled = 0;
	hr_errs_init(&errs);
	struct scheduler *s = scheduler_new(&cfg, &env, NULL, &errs);
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_EQUAL(scheduler_count(s), 1);
	scheduler_destroy(s, 1, NULL, NULL);
	hr_errs_free(&errs);
}

static CU_TestInfo tests[] = {
	{ "a hanging probe does not stall the others", test_hang_does_not_stall },
	{ "run once leaves out what does not answer", test_run_once },
	{ "setup problems are reported", test_setup_errors },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("scheduler", tests);
}
