/* agent.c: probe "agent", the agent's own health: samples taken, batches and
 * bytes waiting in the spool, the latency of the last push, samples dropped.
 * Spool and push values exist only once a pusher runs (a central is
 * configured); before that they are left out rather than reported as 0. */
#include "config.h"

#include <stdlib.h>

#include "cfg.h"
#include "probe.h"

struct agent_state {
	struct hr_agent_stats *stats;
};

static const char *const agent_keys[] = { "interval", NULL };

static int agent_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		       void **state, struct hr_errs *errs)
{
	struct agent_state *st;

	if (hr_cfg_object(cfg, path, agent_keys, errs) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->stats = env->stats;
	*state = st;
	return 0;
}

static int agent_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct agent_state *st = state;
	struct hr_agent_stats *a = st->stats;
	struct hr_sample s;

	if (a == NULL)
		return hr_err_set(err, "no agent statistics in this process");
	hr_sample_init(&s, "agent", "");
	hr_sample_set(&s, "samples", (double)atomic_load(&a->samples));
	hr_sample_set(&s, "dropped_samples", (double)atomic_load(&a->dropped_samples));
	if (atomic_load(&a->pushing)) {
		hr_sample_set(&s, "batches_spooled", (double)atomic_load(&a->batches_spooled));
		hr_sample_set(&s, "spool_bytes", (double)atomic_load(&a->spool_bytes));
		hr_sample_set(&s, "push_latency_ms", atomic_load(&a->push_latency_us) / 1000.0);
	}
	return hr_sink_put(sink, &s) < 0 ? hr_err_set(err, "sink refused the sample") : 0;
}

static void agent_teardown(void *state)
{
	free(state);
}

const struct probe probe_agent = {
	.name = "agent",
	.core = 1,
	.setup = agent_setup,
	.read = agent_read,
	.teardown = agent_teardown,
};
