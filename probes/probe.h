/* probe.h: the probe interface. A probe is a compiled-in static table with
 * designated initialisers, listed in probes[] (registry.c). Its state is its
 * own (made by setup, freed by teardown); read() puts samples into the sink it
 * is given and holds no file-scope state, so a test can run it against a
 * fixture root and a recording sink. */
#ifndef HR_PROBE_H
#define HR_PROBE_H

#include <cjson/cJSON.h>

#include "agentstats.h"
#include "err.h"
#include "sample.h"

/* What setup() is told about the world. Borrowed for the probe's life. */
struct probe_env {
	const char *root; /* read /proc, /sys, /dev under this ("/" normally) */
	struct hr_agent_stats *stats; /* the agent's own counters (NULL in tests) */
};

struct probe {
	const char *name;
	int core;               /* 1: runs unless "NAME": false */
	double default_interval; /* seconds; 0: the agent's interval */
	/* Validates cfg (the probe's config object, or NULL when the config has
	 * none; every key of it, "interval" included, is setup's to check, and
	 * an unknown key is an error) and makes the state. Every problem goes into errs, prefixed with
	 * path ("probes.fs"). Returns 0 and sets *state (which may be NULL), or
	 * -1 when the config is invalid or the probe cannot work at all. */
	int (*setup)(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs);
	/* Samples once. Puts every sample it can make into sink, each with t = 0
	 * (the caller stamps the time) unless the source has its own time. A
	 * source that is partly broken still yields what it can; problems are
	 * logged once per change (hr_complain) by the probe. Returns 0, or -1
	 * with err filled when nothing at all could be read. */
	int (*read)(void *state, struct hr_sink *sink, struct hr_err *err);
	/* Frees the state; accepts NULL. */
	void (*teardown)(void *state);
};

/* Every probe, NULL-terminated. */
extern const struct probe *const probes[];

/* The probe named NAME, or NULL. */
const struct probe *probe_find(const char *name);

#endif
