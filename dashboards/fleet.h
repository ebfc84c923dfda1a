/* fleet.h: the data the dashboards' pages and the JSON API share: every
 * host with its health at a glance (from the registry, the host's archive
 * names and the firing alerts: no archive is read), a host's archives, and
 * the analyzer's forecasts ranked by time to exhaustion. Everything is read
 * afresh per request; nothing here is kept between requests. */
#ifndef HR_FLEET_H
#define HR_FLEET_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "analyzer.h"
#include "err.h"
#include "page.h"
#include "sample.h"
#include "wire.h"

/* The health columns of the overview, in their order. */
enum fleet_check {
	FLEET_RAID, FLEET_BOND, FLEET_LINKS, FLEET_UPS, FLEET_SMART, FLEET_BACKUP, FLEET_TLS,
	FLEET_STALE, FLEET_NCHECKS
};

/* A check's health: not monitored, or the worst firing alert's severity. */
#define FLEET_NA (-1)
#define FLEET_OK 0
#define FLEET_WARNING 1
#define FLEET_CRITICAL 2

struct fleet_host {
	char name[HR_HOST_MAX];
	int known;              /* in the registry (0: only a folder of archives) */
	time_t last_seen;
	unsigned interval;
	int stale;
	time_t stale_since;
	signed char health[FLEET_NCHECKS];
	int worst;              /* worst of health and of all its firing alerts */
	int firing;             /* its firing alerts */
};

struct fleet {
	struct fleet_host *hosts; /* worst first, then by name */
	size_t n;
	cJSON *alerts;          /* the open alerts (alerts_list), newest first;
				 * an empty array without a lifecycle */
	int stale, critical, warning; /* stale hosts, firing alerts by severity */
};

/* Caps on what a request reads from outside. */
#define FLEET_HOSTS_MAX 100000
#define FLEET_FILES_MAX 4096

/* Fills f (caller frees with fleet_free) from the registry on db (borrowed),
 * the folders under env->data_dir/rrd and env->alerts at now. 0, or -1 with
 * err filled (f empty). */
int fleet_load(struct fleet *f, sqlite3 *db, const struct page_env *env, double now,
	       struct hr_err *err);
void fleet_free(struct fleet *f);
/* The host NAME in f, or NULL. */
const struct fleet_host *fleet_find(const struct fleet *f, const char *name);

/* "RAID", "bond", ... (column heads) and "raid", "bond", ... (JSON keys). */
const char *fleet_check_title(enum fleet_check c);
const char *fleet_check_key(enum fleet_check c);
/* "ok", "warning", "critical"; NULL for FLEET_NA. */
const char *fleet_health_name(int h);
/* The check a probe's alerts count for; -1 for none. */
int fleet_probe_check(const char *probe);

/* Is NAME a host the dashboards may show: a valid host name (hr_host_valid)
 * that the registry knows or that has a folder under DATA/rrd? 1 yes, 0 no,
 * -1 (err filled) when the registry cannot be read. */
int fleet_host_exists(sqlite3 *db, const char *data_dir, const char *name, struct hr_err *err);

/* One archive of a host. */
struct fleet_file {
	char probe[HR_PROBE_MAX];
	char instance[HR_INSTANCE_MAX];
	char path[4096];
};
/* The archives of HOST (a valid host name) under data_dir/rrd/HOST, sorted
 * by probe and instance, at most FLEET_FILES_MAX; names this tree would not
 * have written are skipped. *out is NULL and *n 0 for a host without a
 * folder. 0, or -1 with err. Caller frees *out with free(). */
int fleet_files(const char *data_dir, const char *host, struct fleet_file **out, size_t *n,
		struct hr_err *err);

/* The forecasts, copied (strings owned by the array). */
struct fleet_fc {
	struct analyzer_forecast f; /* its strings point into key */
	char *key;
};
/* Every forecast of an (may be NULL: none), ranked (fleet_rank). 0, or -1
 * on no memory. Caller frees with fleet_fc_free. */
int fleet_forecasts(struct analyzer *an, struct fleet_fc **out, size_t *n);
void fleet_fc_free(struct fleet_fc *v, size_t n);
/* Ranks v: forecasts with a finite ETA first, soonest first; then the
 * others (not growing, or not enough history yet), fullest first; ties by
 * host, probe, instance and rule. */
void fleet_rank(struct fleet_fc *v, size_t n);

#endif
