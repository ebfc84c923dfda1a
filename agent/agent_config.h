/* agent_config.h: the agent's configuration (/etc/headroom/agent.json), parsed and
 * validated with a JSON path for every problem. Keys per DESIGN.md; unknown
 * keys are errors. Probe-specific keys are validated by each probe's setup(),
 * which the scheduler runs; this module checks the shape around them. */
#ifndef HR_AGENT_CONFIG_H
#define HR_AGENT_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "probe.h"

#define AGENT_HOST_MAX 254

struct agent_central {
	const char *url;   /* borrowed from the config document */
	const char *token;
	const char *ca;    /* NULL: system CAs */
	const char *cert;  /* client certificate, NULL: none */
	const char *key;
};

struct agent_probe_cfg {
	const struct probe *probe;
	int enabled;
	unsigned interval;  /* seconds */
	const cJSON *cfg;   /* the probe's object, NULL when absent or a bool */
};

struct agent_config {
	cJSON *doc;                 /* owned: the parsed document */
	char host[AGENT_HOST_MAX];
	unsigned interval;          /* default probe interval, seconds */
	const char *data_dir;
	const char *root;
	struct agent_central *centrals;
	size_t ncentrals;
	double spool_max_bytes;
	/* "spool_fsync": "always" | "batched" | "never", as enum spool_fsync
	 * of spool.h (0, 1, 2); default "batched" */
	int spool_fsync;
	double push_backoff_max;    /* seconds: longest wait between retries (300) */
	struct agent_probe_cfg *probes; /* one per entry of probes[] */
	size_t nprobes;
};

#define AGENT_CONFIG_FILE SYSCONFDIR "/headroom/agent.json"
#define AGENT_DATA_DIR LOCALSTATEDIR "/lib/headroom"

/* Parses and validates text (len bytes) into cfg. Every problem is added to
 * errs; returns 0 when there were none, -1 otherwise (cfg is then freed).
 * On success caller frees with agent_config_free(). */
int agent_config_parse(const char *text, size_t len, struct agent_config *cfg,
		       struct hr_errs *errs);

/* Reads FILE and parses it as above. A missing file is an error. */
int agent_config_load(const char *file, struct agent_config *cfg, struct hr_errs *errs);

/* A config with every default (no file): the demo and --once without -c. */
int agent_config_defaults(struct agent_config *cfg, struct hr_errs *errs);

/* Frees what parse allocated; cfg may be zeroed or already freed. */
void agent_config_free(struct agent_config *cfg);

/* The probe entry named NAME, or NULL. Borrowed. */
const struct agent_probe_cfg *agent_config_probe(const struct agent_config *cfg,
						 const char *name);

#endif
