/* agent_config.c: parsing and validating the agent's JSON config (see
 * agent_config.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "cfg.h"
#include "util.h"
#include "wire.h"

static const char *const top_keys[] = {
	"host", "interval", "data_dir", "root", "central", "spool_max_bytes", "spool_fsync",
	"push_backoff_max", "probes", NULL,
};
static const char *const central_keys[] = { "url", "token", "ca", "cert", "key", NULL };

static void check_file(const char *path, const char *key, const char *file,
		       struct hr_errs *errs)
{
	char p[512];

	if (file != NULL && access(file, R_OK) != 0) {
		hr_cfg_path(p, sizeof(p), path, key);
		hr_errs_add(errs, p, "cannot read %s", file);
	}
}

static void parse_centrals(const cJSON *arr, struct agent_config *cfg, struct hr_errs *errs)
{
	const cJSON *c;
	char p[64];
	size_t k;
	int i = 0;

	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, "central", "expected an array of {\"url\": ..., \"token\": ...}");
		return;
	}
	/* SPOOL_MAX_CURSORS of spool.h: one spool cursor per central */
	if (cJSON_GetArraySize(arr) > 8)
		hr_errs_add(errs, "central", "at most 8 centrals");
	cfg->centrals = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*cfg->centrals));
	if (cfg->centrals == NULL) {
		hr_errs_add(errs, "central", "out of memory");
		return;
	}
	cJSON_ArrayForEach(c, arr) {
		struct agent_central *ac = &cfg->centrals[cfg->ncentrals++];

		hr_cfg_index(p, sizeof(p), "central", i++);
		if (!cJSON_IsObject(c)) {
			hr_errs_add(errs, p, "expected an object");
			continue;
		}
		hr_cfg_check_keys(c, p, central_keys, errs);
		if (hr_cfg_string(c, "url", p, &ac->url, errs) == 0)
			hr_errs_add(errs, p, "missing \"url\"");
		else if (ac->url != NULL && strncmp(ac->url, "https://", 8) != 0 &&
			 strncmp(ac->url, "http://", 7) != 0) {
			char pu[96];
			hr_cfg_path(pu, sizeof(pu), p, "url");
			hr_errs_add(errs, pu, "expected an http:// or https:// URL");
		}
		if (hr_cfg_string(c, "token", p, &ac->token, errs) == 0)
			hr_errs_add(errs, p, "missing \"token\"");
		for (k = 0; ac->url != NULL && k + 1 < cfg->ncentrals; k++)
			if (cfg->centrals[k].url != NULL && strcmp(cfg->centrals[k].url, ac->url) == 0) {
				char pu[96];
				hr_cfg_path(pu, sizeof(pu), p, "url");
				hr_errs_add(errs, pu, "the same central twice");
			}
		hr_cfg_string(c, "ca", p, &ac->ca, errs);
		hr_cfg_string(c, "cert", p, &ac->cert, errs);
		hr_cfg_string(c, "key", p, &ac->key, errs);
		if ((ac->cert == NULL) != (ac->key == NULL))
			hr_errs_add(errs, p, "\"cert\" and \"key\" go together");
		check_file(p, "ca", ac->ca, errs);
		check_file(p, "cert", ac->cert, errs);
		check_file(p, "key", ac->key, errs);
	}
}

/* The probes object: each key a known probe, each value false, true or an
 * object whose keys the probe accepts. */
static void parse_probes(const cJSON *obj, struct agent_config *cfg, struct hr_errs *errs)
{
	const cJSON *it;
	size_t i;

	if (obj != NULL && !cJSON_IsObject(obj)) {
		hr_errs_add(errs, "probes", "expected an object");
		obj = NULL;
	}
	cJSON_ArrayForEach(it, obj) {
		char p[128];

		hr_cfg_path(p, sizeof(p), "probes", it->string ? it->string : "?");
		if (it->string == NULL || probe_find(it->string) == NULL) {
			hr_errs_add(errs, p, "unknown probe");
			continue;
		}
		if (!cJSON_IsBool(it) && !cJSON_IsObject(it))
			hr_errs_add(errs, p, "expected false, true or an object");
	}
	for (i = 0; i < cfg->nprobes; i++) {
		struct agent_probe_cfg *pc = &cfg->probes[i];
		const struct probe *pr = pc->probe;
		const cJSON *c = obj ? cJSON_GetObjectItemCaseSensitive(obj, pr->name) : NULL;
		double iv;
		char p[128];

		pc->enabled = pr->core;
		pc->interval = pr->default_interval > 0 ? (unsigned)pr->default_interval : cfg->interval;
		pc->cfg = NULL;
		if (c == NULL)
			continue;
		if (cJSON_IsBool(c)) {
			pc->enabled = cJSON_IsTrue(c);
			continue;
		}
		if (!cJSON_IsObject(c))
			continue;
		pc->enabled = 1;
		pc->cfg = c;
		hr_cfg_path(p, sizeof(p), "probes", pr->name);
		if (hr_cfg_duration(c, "interval", p, 1, 86400, &iv, errs) == 1) {
			if (iv != floor(iv)) {
				char pi[160];
				hr_cfg_path(pi, sizeof(pi), p, "interval");
				hr_errs_add(errs, pi, "must be a whole number of seconds");
			}
			pc->interval = (unsigned)iv;
		}
		/* Every other key, and unknown ones, are the probe's setup()'s
		 * to check: the scheduler runs it for every enabled probe. */
	}
}

static int config_build(cJSON *doc, struct agent_config *cfg, struct hr_errs *errs)
{
	const char *s;
	double d;
	size_t n, i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->doc = doc;
	cfg->interval = 10;
	cfg->data_dir = AGENT_DATA_DIR;
	cfg->root = "/";
	cfg->spool_max_bytes = 268435456.0;
	cfg->spool_fsync = 1;
	cfg->push_backoff_max = 300;
	if (gethostname(cfg->host, sizeof(cfg->host)) != 0)
		hr_strlcpy(cfg->host, "localhost", sizeof(cfg->host));
	cfg->host[sizeof(cfg->host) - 1] = '\0';

	for (n = 0; probes[n] != NULL; n++)
		;
	cfg->probes = calloc(n, sizeof(*cfg->probes));
	if (cfg->probes == NULL) {
		hr_errs_add(errs, "", "out of memory");
		return -1;
	}
	cfg->nprobes = n;
	for (i = 0; i < n; i++)
		cfg->probes[i].probe = probes[i];

	if (doc != NULL) {
		if (!cJSON_IsObject(doc)) {
			hr_errs_add(errs, "", "expected a JSON object");
			return -1;
		}
		hr_cfg_check_keys(doc, "", top_keys, errs);
		if (hr_cfg_string(doc, "host", "", &s, errs) == 1) {
			if (!hr_host_valid(s))
				hr_errs_add(errs, "host", "\"%s\" is not a valid host name (letters, digits, '-', '.'; at most 253)", s);
			else
				hr_strlcpy(cfg->host, s, sizeof(cfg->host));
		}
		if (hr_cfg_duration(doc, "interval", "", 1, 3600, &d, errs) == 1) {
			if (d != floor(d))
				hr_errs_add(errs, "interval", "must be a whole number of seconds");
			cfg->interval = (unsigned)d;
		}
		hr_cfg_string(doc, "data_dir", "", &cfg->data_dir, errs);
		hr_cfg_string(doc, "root", "", &cfg->root, errs);
		if (cfg->data_dir[0] != '/')
			hr_errs_add(errs, "data_dir", "must be an absolute path");
		if (cfg->root[0] != '/')
			hr_errs_add(errs, "root", "must be an absolute path");
		hr_cfg_number(doc, "spool_max_bytes", "", 1048576, 1e15, &cfg->spool_max_bytes, errs);
		if (hr_cfg_string(doc, "spool_fsync", "", &s, errs) == 1) {
			/* the order of enum spool_fsync */
			static const char *const policies[] = { "always", "batched", "never" };
			int k;

			cfg->spool_fsync = -1;
			for (k = 0; k < 3; k++)
				if (strcmp(s, policies[k]) == 0)
					cfg->spool_fsync = k;
			if (cfg->spool_fsync < 0)
				hr_errs_add(errs, "spool_fsync", "expected \"always\", \"batched\" or \"never\", not \"%s\"", s);
		}
		hr_cfg_duration(doc, "push_backoff_max", "", 1, 86400, &cfg->push_backoff_max, errs);
		if (cJSON_GetObjectItemCaseSensitive(doc, "central") != NULL)
			parse_centrals(cJSON_GetObjectItemCaseSensitive(doc, "central"), cfg, errs);
	}
	if (!hr_host_valid(cfg->host))
		hr_errs_add(errs, "host", "the machine's host name \"%s\" is not valid; set \"host\"", cfg->host);
	parse_probes(doc ? cJSON_GetObjectItemCaseSensitive(doc, "probes") : NULL, cfg, errs);
	return hr_errs_any(errs) ? -1 : 0;
}

/* Builds cfg from doc (NULL: the text could not be had; errs says why). */
static int config_finish(cJSON *doc, struct agent_config *cfg, struct hr_errs *errs)
{
	memset(cfg, 0, sizeof(*cfg));
	if (doc == NULL)
		return -1;
	if (config_build(doc, cfg, errs) < 0) {
		agent_config_free(cfg);
		return -1;
	}
	return 0;
}

int agent_config_parse(const char *text, size_t len, struct agent_config *cfg,
		 struct hr_errs *errs)
{
	return config_finish(hr_cfg_parse(text, len, errs), cfg, errs);
}

int agent_config_load(const char *file, struct agent_config *cfg, struct hr_errs *errs)
{
	return config_finish(hr_cfg_load(file, errs), cfg, errs);
}

int agent_config_defaults(struct agent_config *cfg, struct hr_errs *errs)
{
	if (config_build(NULL, cfg, errs) < 0) {
		agent_config_free(cfg);
		return -1;
	}
	return 0;
}

void agent_config_free(struct agent_config *cfg)
{
	cJSON_Delete(cfg->doc);
	free(cfg->centrals);
	free(cfg->probes);
	memset(cfg, 0, sizeof(*cfg));
}

const struct agent_probe_cfg *agent_config_probe(const struct agent_config *cfg,
						 const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nprobes; i++)
		if (strcmp(cfg->probes[i].probe->name, name) == 0)
			return &cfg->probes[i];
	return NULL;
}
