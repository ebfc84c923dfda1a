/* fleet.c: the fleet as the dashboards see it (see fleet.h). The overview
 * must stay fast for 500+ hosts: a host's health comes from the registry
 * (stale), the names of its archives (what is monitored: one readdir per
 * host) and the open alerts (what is wrong), never from reading archives. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alerts.h"
#include "fleet.h"
#include "registry.h"
#include "rrdstore.h"

static const struct {
	const char *title, *key, *probe;
} checks[FLEET_NCHECKS] = {
	[FLEET_RAID] = { "RAID", "raid", "md" },
	[FLEET_BOND] = { "Bond", "bond", "bond" },
	[FLEET_LINKS] = { "Links", "links", "net" },
	[FLEET_UPS] = { "UPS", "ups", "ups" },
	[FLEET_SMART] = { "SMART", "smart", "smart" },
	[FLEET_BACKUP] = { "Backups", "backups", "backup" },
	[FLEET_TLS] = { "TLS", "tls", "tls" },
	[FLEET_STALE] = { "Stale", "stale", NULL },
};

const char *fleet_check_title(enum fleet_check c)
{
	return (unsigned)c < FLEET_NCHECKS ? checks[c].title : "";
}

const char *fleet_check_key(enum fleet_check c)
{
	return (unsigned)c < FLEET_NCHECKS ? checks[c].key : "";
}

const char *fleet_health_name(int h)
{
	switch (h) {
	case FLEET_OK: return "ok";
	case FLEET_WARNING: return "warning";
	case FLEET_CRITICAL: return "critical";
	default: return NULL;
	}
}

int fleet_probe_check(const char *probe)
{
	int c;

	for (c = 0; c < FLEET_NCHECKS; c++)
		if (checks[c].probe != NULL && strcmp(checks[c].probe, probe) == 0)
			return c;
	return -1;
}

/* --- hosts ----------------------------------------------------------------- */

struct hosts_acc {
	struct fleet *f;
	size_t cap;
	int oom;
};

static struct fleet_host *host_add(struct hosts_acc *acc, const char *name)
{
	struct fleet *f = acc->f;
	struct fleet_host *h;
	int c;

	if (f->n >= FLEET_HOSTS_MAX)
		return NULL;
	if (f->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 64;
		struct fleet_host *nv = realloc(f->hosts, cap * sizeof(*nv));

		if (nv == NULL) {
			acc->oom = 1;
			return NULL;
		}
		f->hosts = nv;
		acc->cap = cap;
	}
	h = &f->hosts[f->n++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	for (c = 0; c < FLEET_NCHECKS; c++)
		h->health[c] = FLEET_NA;
	return h;
}

static int host_take(void *arg, const struct registry_host *rh)
{
	struct hosts_acc *acc = arg;
	struct fleet_host *h;

	if (!hr_host_valid(rh->name))
		return 0;
	h = host_add(acc, rh->name);
	if (h == NULL)
		return acc->oom;
	h->known = 1;
	h->last_seen = rh->last_seen;
	h->interval = rh->interval;
	h->stale = rh->stale;
	h->stale_since = rh->stale_since;
	h->health[FLEET_STALE] = rh->stale ? FLEET_CRITICAL : FLEET_OK;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct fleet_host *)a)->name, ((const struct fleet_host *)b)->name);
}

static int by_worst(const void *a, const void *b)
{
	const struct fleet_host *x = a, *y = b;

	if (x->worst != y->worst)
		return y->worst - x->worst;
	return strcmp(x->name, y->name);
}

static struct fleet_host *find_sorted(struct fleet_host *v, size_t n, const char *name)
{
	struct fleet_host key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, v, n, sizeof(*v), by_name);
}

/* Marks the checks whose probes have an archive in DIR as monitored (ok). */
static void host_probes(struct fleet_host *h, const char *rrd_dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	size_t nfiles = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", rrd_dir, h->name) >= sizeof(path))
		return;
	d = opendir(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && nfiles++ < FLEET_FILES_MAX) {
		char probe[HR_PROBE_MAX];
		size_t len = strcspn(de->d_name, "-."), nl = strlen(de->d_name);
		int c;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".rrd") != 0 || len == 0 ||
		    len >= sizeof(probe))
			continue;
		memcpy(probe, de->d_name, len);
		probe[len] = '\0';
		c = fleet_probe_check(probe);
		if (c >= 0 && h->health[c] == FLEET_NA)
			h->health[c] = FLEET_OK;
	}
	closedir(d);
}

/* Adds the hosts that have a folder of archives but no registry row. */
static int folder_hosts(struct hosts_acc *acc, const char *rrd_dir)
{
	struct fleet *f = acc->f;
	size_t known = f->n;
	struct dirent *de;
	DIR *d = opendir(rrd_dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (!hr_host_valid(de->d_name) || find_sorted(f->hosts, known, de->d_name) != NULL)
			continue;
		if (host_add(acc, de->d_name) == NULL && acc->oom)
			break;
	}
	closedir(d);
	return acc->oom ? -1 : 0;
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Raises the hosts' health by their firing alerts. */
static void apply_alerts(struct fleet *f)
{
	const cJSON *al;

	cJSON_ArrayForEach(al, f->alerts) {
		const char *sev = jstr(al, "severity"), *rule = jstr(al, "rule");
		struct fleet_host *h;
		int s, c;

		if (strcmp(jstr(al, "state"), "firing") != 0)
			continue;
		s = strcmp(sev, "critical") == 0 ? FLEET_CRITICAL :
		    strcmp(sev, "warning") == 0 ? FLEET_WARNING : FLEET_OK;
		if (s == FLEET_CRITICAL)
			f->critical++;
		else if (s == FLEET_WARNING)
			f->warning++;
		h = find_sorted(f->hosts, f->n, jstr(al, "host"));
		if (h == NULL)
			continue;
		h->firing++;
		c = strcmp(rule, ALERTS_STALE_RULE) == 0 ? FLEET_STALE :
		    fleet_probe_check(jstr(al, "probe"));
		if (c >= 0 && s > h->health[c])
			h->health[c] = (signed char)s;
		if (s > h->worst)
			h->worst = s;
	}
}

int fleet_load(struct fleet *f, sqlite3 *db, const struct page_env *env, double now,
	       struct hr_err *err)
{
	struct hosts_acc acc = { .f = f };
	char rrd_dir[4096];
	size_t i;
	int c;

	memset(f, 0, sizeof(*f));
	if ((size_t)snprintf(rrd_dir, sizeof(rrd_dir), "%s/rrd", env->data_dir) >= sizeof(rrd_dir)) {
		hr_err_set(err, "fleet: data folder name too long");
		goto fail;
	}
	if (registry_read_hosts(db, host_take, &acc, err) < 0)
		goto fail;
	if (acc.oom || folder_hosts(&acc, rrd_dir) < 0) {
		hr_err_set(err, "fleet: out of memory");
		goto fail;
	}
	qsort(f->hosts, f->n, sizeof(*f->hosts), by_name);
	if (env->alerts != NULL) {
		f->alerts = alerts_list(env->alerts, 0, 0, now, err);
		if (f->alerts == NULL)
			goto fail;
	} else if ((f->alerts = cJSON_CreateArray()) == NULL) {
		hr_err_set(err, "fleet: out of memory");
		goto fail;
	}
	for (i = 0; i < f->n; i++) {
		host_probes(&f->hosts[i], rrd_dir);
		f->stale += f->hosts[i].stale;
		for (c = 0; c < FLEET_NCHECKS; c++)
			if (f->hosts[i].health[c] > f->hosts[i].worst)
				f->hosts[i].worst = f->hosts[i].health[c];
	}
	apply_alerts(f);
	qsort(f->hosts, f->n, sizeof(*f->hosts), by_worst);
	return 0;
fail:
	fleet_free(f);
	return -1;
}

void fleet_free(struct fleet *f)
{
	free(f->hosts);
	cJSON_Delete(f->alerts);
	memset(f, 0, sizeof(*f));
}

const struct fleet_host *fleet_find(const struct fleet *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->hosts[i].name, name) == 0)
			return &f->hosts[i];
	return NULL;
}

int fleet_host_exists(sqlite3 *db, const char *data_dir, const char *name, struct hr_err *err)
{
	struct registry_host h;
	struct stat st;
	char path[4096];
	int rc;

	if (!hr_host_valid(name))
		return 0;
	rc = registry_read_host(db, name, &h, err);
	if (rc != 0)
		return rc;
	if ((size_t)snprintf(path, sizeof(path), "%s/rrd/%s", data_dir, name) >= sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --- a host's archives ------------------------------------------------------ */

static int by_file(const void *a, const void *b)
{
	const struct fleet_file *x = a, *y = b;
	int c = strcmp(x->probe, y->probe);

	return c != 0 ? c : strcmp(x->instance, y->instance);
}

/* Splits an archive's file name into probe and instance; 0, or -1 for a
 * name rrdstore_filename() would not have written. */
static int parse_file(const char *name, struct fleet_file *ff)
{
	char stem[256], check[256];
	size_t nl = strlen(name), pl;
	const char *dash;

	if (nl < 5 || nl - 4 >= sizeof(stem) || strcmp(name + nl - 4, ".rrd") != 0)
		return -1;
	memcpy(stem, name, nl - 4);
	stem[nl - 4] = '\0';
	dash = strchr(stem, '-');
	pl = dash != NULL ? (size_t)(dash - stem) : strlen(stem);
	if (pl == 0 || pl >= sizeof(ff->probe))
		return -1;
	memcpy(ff->probe, stem, pl);
	ff->probe[pl] = '\0';
	ff->instance[0] = '\0';
	if (dash != NULL && rrdstore_unescape(ff->instance, sizeof(ff->instance), dash + 1) < 0)
		return -1;
	/* Canonical names only: the name must be what the store would write. */
	if (rrdstore_filename(check, sizeof(check), ff->probe, ff->instance, NULL) < 0 ||
	    strcmp(check, name) != 0)
		return -1;
	return 0;
}

int fleet_files(const char *data_dir, const char *host, struct fleet_file **out, size_t *n,
		struct hr_err *err)
{
	struct fleet_file *v = NULL, *nv;
	size_t cap = 0, cnt = 0;
	char dir[4096];
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (!hr_host_valid(host))
		return hr_err_set(err, "invalid host name");
	if ((size_t)snprintf(dir, sizeof(dir), "%s/rrd/%s", data_dir, host) >= sizeof(dir))
		return hr_err_set(err, "data folder name too long");
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return hr_err_errno(err, errno, "%s", dir);
	}
	while ((de = readdir(d)) != NULL && cnt < FLEET_FILES_MAX) {
		struct fleet_file ff;

		if (de->d_name[0] == '.' || parse_file(de->d_name, &ff) < 0)
			continue;
		if ((size_t)snprintf(ff.path, sizeof(ff.path), "%s/%s", dir, de->d_name) >=
		    sizeof(ff.path))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				closedir(d);
				free(v);
				return hr_err_set(err, "out of memory");
			}
			v = nv;
		}
		v[cnt++] = ff;
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, cnt, sizeof(*v), by_file);
	*out = v;
	*n = cnt;
	return 0;
}

/* --- forecasts --------------------------------------------------------------- */

struct fc_acc {
	struct fleet_fc *v;
	size_t n, cap;
	int oom;
};

static int fc_take(void *arg, const struct analyzer_forecast *f)
{
	struct fc_acc *acc = arg;
	size_t lr = strlen(f->rule) + 1, lh = strlen(f->host) + 1, lp = strlen(f->probe) + 1;
	size_t li = strlen(f->instance) + 1;
	struct fleet_fc *c;

	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? 2 * acc->cap : 64;
		struct fleet_fc *nv = realloc(acc->v, cap * sizeof(*nv));

		if (nv == NULL)
			goto oom;
		acc->v = nv;
		acc->cap = cap;
	}
	c = &acc->v[acc->n];
	c->key = malloc(lr + lh + lp + li);
	if (c->key == NULL)
		goto oom;
	c->f = *f;
	memcpy(c->key, f->rule, lr);
	memcpy(c->key + lr, f->host, lh);
	memcpy(c->key + lr + lh, f->probe, lp);
	memcpy(c->key + lr + lh + lp, f->instance, li);
	c->f.rule = c->key;
	c->f.host = c->key + lr;
	c->f.probe = c->key + lr + lh;
	c->f.instance = c->key + lr + lh + lp;
	acc->n++;
	return 0;
oom:
	acc->oom = 1;
	return 1;
}

static double fill(const struct analyzer_forecast *f)
{
	double r = f->capacity > 0 && isfinite(f->value) ? f->value / f->capacity : -1;

	return isfinite(r) ? r : -1;
}

static int by_eta(const void *a, const void *b)
{
	const struct analyzer_forecast *x = &((const struct fleet_fc *)a)->f;
	const struct analyzer_forecast *y = &((const struct fleet_fc *)b)->f;
	int fx = isfinite(x->eta), fy = isfinite(y->eta), c;

	if (fx != fy)
		return fy - fx;
	if (fx && x->eta != y->eta)
		return x->eta < y->eta ? -1 : 1;
	if (!fx && fill(x) != fill(y))
		return fill(x) > fill(y) ? -1 : 1;
	if ((c = strcmp(x->host, y->host)) != 0 || (c = strcmp(x->probe, y->probe)) != 0 ||
	    (c = strcmp(x->instance, y->instance)) != 0)
		return c;
	return strcmp(x->rule, y->rule);
}

void fleet_rank(struct fleet_fc *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), by_eta);
}

int fleet_forecasts(struct analyzer *an, struct fleet_fc **out, size_t *n)
{
	struct fc_acc acc = { 0 };

	*out = NULL;
	*n = 0;
	if (an == NULL)
		return 0;
	if (analyzer_forecasts(an, fc_take, &acc) < 0 || acc.oom) {
		fleet_fc_free(acc.v, acc.n);
		return -1;
	}
	fleet_rank(acc.v, acc.n);
	*out = acc.v;
	*n = acc.n;
	return 0;
}

void fleet_fc_free(struct fleet_fc *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}
