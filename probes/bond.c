/* bond.c: the bond probe. For every Linux bonding master it reports how many
 * slaves it has, how many carry traffic and whether redundancy is lost. The
 * source is /proc/net/bonding/BOND (Documentation/networking/bonding.rst,
 * section "Querying Bonding Configuration"); sysfs /sys/class/net/BOND/bonding/
 * fills in what that file lacks, or replaces it when it is missing. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "bond.h"
#include "log.h"
#include "util.h"

struct bond_state {
	const char *root; /* borrowed from the probe_env */
	struct hr_complain complain;
};

/* Does ROOT+PATH exist? Tells "not there" (normal: no bonding driver, no
 * /proc file) from "there but unreadable" (worth a complaint). */
static int bond_exists(const char *root, const char *path)
{
	char full[4096];
	struct hr_err e;

	if (hr_path(full, sizeof(full), root, path, &e) < 0)
		return 0;
	return access(full, F_OK) == 0;
}

/* A bond found in bonding_masters or /proc/net/bonding. */
struct bond_name {
	char name[BOND_NAME_MAX];
};

static const char *const bond_allowed[] = { "interval", NULL };

/* The kernel's mode names (bond_mode_tbl / bond_mode_name() in
 * drivers/net/bonding/): what /proc prints and what sysfs prints. */
static const struct {
	const char *proc;
	const char *sys;
} bond_modes[] = {
	{ "load balancing (round-robin)", "balance-rr" },
	{ "fault-tolerance (active-backup)", "active-backup" },
	{ "load balancing (xor)", "balance-xor" },
	{ "fault-tolerance (broadcast)", "broadcast" },
	{ "IEEE 802.3ad Dynamic link aggregation", "802.3ad" },
	{ "transmit load balancing", "balance-tlb" },
	{ "adaptive load balancing", "balance-alb" },
};

static int bond_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void bond_trim(const char **s, size_t *len)
{
	while (*len > 0 && bond_is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && bond_is_space((*s)[*len - 1]))
		(*len)--;
}

void bond_info_init(struct bond_info *b)
{
	memset(b, 0, sizeof(*b));
	b->mii_up = -1;
	b->active_agg = -1;
}

void bond_info_free(struct bond_info *b)
{
	if (b == NULL)
		return;
	free(b->slaves);
	bond_info_init(b);
}

long bond_add_slave(struct bond_info *b, const char *name, size_t len)
{
	struct bond_slave *sl;

	if (!hr_ifname_ok(name, len, BOND_NAME_MAX))
		return -1;
	if (b->nslaves == BOND_SLAVES_MAX) {
		b->dropped_slaves++;
		return -1;
	}
	if (b->nslaves == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 4;
		struct bond_slave *p = realloc(b->slaves, ncap * sizeof(*p));

		if (p == NULL) {
			b->dropped_slaves++;
			return -1;
		}
		b->slaves = p;
		b->cap = ncap;
	}
	sl = &b->slaves[b->nslaves];
	memcpy(sl->name, name, len);
	sl->name[len] = '\0';
	sl->mii_up = -1;
	sl->agg_id = -1;
	b->slaves_known = 1;
	return (long)b->nslaves++;
}

void bond_mode_name(char *dst, size_t n, const char *s, size_t len)
{
	size_t i, w;

	bond_trim(&s, &len);
	for (i = 0; i < sizeof(bond_modes) / sizeof(bond_modes[0]); i++)
		if (hr_field_eq(s, len, bond_modes[i].proc)) {
			hr_strlcpy(dst, bond_modes[i].sys, n);
			return;
		}
	/* sysfs: "active-backup 1", the name and the number. */
	for (w = 0; w < len && s[w] != ' ' && s[w] != '\t'; w++)
		;
	for (i = 0; i < sizeof(bond_modes) / sizeof(bond_modes[0]); i++)
		if (hr_field_eq(s, w, bond_modes[i].sys)) {
			hr_strlcpy(dst, bond_modes[i].sys, n);
			return;
		}
	if (n == 0)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	/* A label is a C string: cut at an embedded NUL. */
	dst[strnlen(dst, len)] = '\0';
}

/* MII status text (bond_slave_link_status()): "up", "down", "going down",
 * "going back". Only "up" carries traffic: "going down" is a failed link
 * waiting out downdelay, "going back" a returning one waiting out updelay. */
static int bond_mii(const char *s, size_t len)
{
	if (len == 0)
		return -1;
	return hr_field_eq(s, len, "up") ? 1 : 0;
}

static void bond_skip(struct bond_info *b, unsigned lineno)
{
	if (b->skipped++ == 0)
		b->bad_line = lineno;
}

enum bond_section { BOND_SEC_MASTER, BOND_SEC_AGG, BOND_SEC_SLAVE };

int bond_parse_proc(const char *buf, size_t len, struct bond_info *b)
{
	enum bond_section sec = BOND_SEC_MASTER;
	struct hr_lines it;
	const char *line, *colon, *key, *val;
	size_t llen, klen, vlen;
	long cur = -1;
	int64_t id;

	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		int indented = llen > 0 && (line[0] == ' ' || line[0] == '\t');

		key = line;
		klen = llen;
		bond_trim(&key, &klen);
		/* The "Active Aggregator Info:" block is its indented lines. */
		if (sec == BOND_SEC_AGG && (!indented || klen == 0))
			sec = BOND_SEC_MASTER;
		if (klen == 0)
			continue;
		colon = memchr(key, ':', klen);
		if (colon == NULL) {
			/* Headings without a value that the kernel prints. */
			if (!hr_field_eq(key, klen, "802.3ad info") &&
			    !(klen > 25 && memcmp(key + klen - 25, " has no active aggregator", 25) == 0))
				bond_skip(b, it.lineno);
			continue;
		}
		val = colon + 1;
		vlen = (size_t)(key + klen - val);
		klen = (size_t)(colon - key);
		bond_trim(&key, &klen);
		bond_trim(&val, &vlen);

		if (hr_field_eq(key, klen, "Slave Interface")) {
			sec = BOND_SEC_SLAVE;
			cur = bond_add_slave(b, val, vlen);
			if (cur < 0 && b->nslaves < BOND_SLAVES_MAX)
				bond_skip(b, it.lineno);
		} else if (hr_field_eq(key, klen, "Active Aggregator Info")) {
			sec = BOND_SEC_AGG;
		} else if (hr_field_eq(key, klen, "Bonding Mode")) {
			bond_mode_name(b->mode, sizeof(b->mode), val, vlen);
			b->slaves_known = 1;
		} else if (hr_field_eq(key, klen, "Currently Active Slave")) {
			/* "None" when no slave is active: then there is none to name. */
			if (hr_ifname_ok(val, vlen, BOND_NAME_MAX) && !hr_field_eq(val, vlen, "None")) {
				memcpy(b->active_slave, val, vlen);
				b->active_slave[vlen] = '\0';
			}
		} else if (hr_field_eq(key, klen, "MII Status")) {
			int mii = bond_mii(val, vlen);

			if (mii < 0)
				bond_skip(b, it.lineno);
			else if (sec == BOND_SEC_SLAVE && cur >= 0)
				b->slaves[cur].mii_up = mii;
			else if (sec == BOND_SEC_MASTER)
				b->mii_up = mii;
		} else if (hr_field_eq(key, klen, "Aggregator ID")) {
			if (hr_parse_i64(val, vlen, &id) < 0 || id < 0)
				bond_skip(b, it.lineno);
			else if (sec == BOND_SEC_AGG)
				b->active_agg = id;
			else if (sec == BOND_SEC_SLAVE && cur >= 0)
				b->slaves[cur].agg_id = id;
		}
	}
	return b->dropped_slaves > 0 && b->nslaves < BOND_SLAVES_MAX ? -1 : 0;
}

/* A slave carries traffic when its MII status is up and, in 802.3ad mode
 * when both IDs are known, it belongs to the active aggregator: a slave in
 * another aggregator is up but unused (bonding.rst, "802.3ad": only one
 * aggregator is active at a time). */
int bond_slave_up(const struct bond_info *b, size_t i)
{
	const struct bond_slave *sl = &b->slaves[i];

	if (sl->mii_up <= 0)
		return sl->mii_up;
	if (strcmp(b->mode, "802.3ad") == 0 && b->active_agg >= 0 && sl->agg_id >= 0 &&
	    sl->agg_id != b->active_agg)
		return 0;
	return 1;
}

/* degraded = 1 when fewer slaves carry traffic than the bond has, or when it
 * has none at all: either way one more failure (or none) takes the link
 * down, so the redundancy the bond exists for is gone. */
int bond_fill_sample(const struct bond_info *b, const char *name, struct hr_sample *s)
{
	unsigned up = 0, total;
	int known = 1;
	size_t i;

	hr_sample_init(s, "bond", name);
	if (!b->slaves_known)
		return -1;
	total = (unsigned)b->nslaves + b->dropped_slaves;
	for (i = 0; i < b->nslaves; i++) {
		int u = bond_slave_up(b, i);

		if (u < 0)
			known = 0;
		else
			up += (unsigned)u;
	}
	if (b->dropped_slaves > 0)
		known = 0;
	hr_sample_set(s, "slaves", total);
	if (known) {
		hr_sample_set(s, "slaves_up", up);
		hr_sample_set(s, "degraded", total == 0 || up < total);
	}
	if (b->mode[0] != '\0')
		hr_sample_label(s, "mode", b->mode);
	if (b->active_slave[0] != '\0')
		hr_sample_label(s, "active_slave", b->active_slave);
	return 0;
}

/* A slave's attribute: under the master (slave_S on older kernels and in
 * captures, lower_S on newer ones) or in the slave's own folder. */
static int bond_slave_attr(const struct bond_state *st, const char *bond, const char *slave,
			   const char *attr, char *buf, size_t n)
{
	static const char *const links[] = { "slave_", "lower_" };
	char dir[160];
	size_t i;

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s%s", bond, links[i], slave);
		if (hr_read_netattr(st->root, dir, attr, buf, n, NULL) == 0)
			return 0;
	}
	return hr_read_netattr(st->root, slave, attr, buf, n, NULL);
}

/* Fills in from sysfs what /proc did not give (everything when have_proc
 * is 0): bonding/{mode,active_slave,mii_status,slaves,ad_aggregator} and
 * each slave's bonding_slave/{mii_status,ad_aggregator_id} or operstate. */
static void bond_from_sys(const struct bond_state *st, const char *bond, int have_proc,
			  struct bond_info *b, struct hr_issues *is)
{
	char buf[4096];
	struct hr_fields it;
	const char *f;
	size_t flen, i;
	int64_t id;

	if (b->mode[0] == '\0' &&
	    hr_read_netattr(st->root, bond, "bonding/mode", buf, sizeof(buf), NULL) == 0 &&
	    buf[0] != '\0')
		bond_mode_name(b->mode, sizeof(b->mode), buf, strlen(buf));
	if (b->active_slave[0] == '\0' &&
	    hr_read_netattr(st->root, bond, "bonding/active_slave", buf, sizeof(buf), NULL) == 0 &&
	    hr_ifname_ok(buf, strlen(buf), BOND_NAME_MAX))
		hr_strlcpy(b->active_slave, buf, sizeof(b->active_slave));
	if (have_proc)
		return;
	if (hr_read_netattr(st->root, bond, "bonding/mii_status", buf, sizeof(buf), NULL) == 0)
		b->mii_up = bond_mii(buf, strlen(buf));
	if (hr_read_netattr(st->root, bond, "bonding/ad_aggregator", buf, sizeof(buf), NULL) == 0 &&
	    hr_parse_i64(buf, strlen(buf), &id) == 0 && id >= 0)
		b->active_agg = id;
	if (hr_read_netattr(st->root, bond, "bonding/slaves", buf, sizeof(buf), NULL) < 0)
		return;
	b->slaves_known = 1;
	hr_fields_init(&it, buf, strlen(buf));
	while (hr_fields_next(&it, &f, &flen))
		if (bond_add_slave(b, f, flen) < 0 && b->nslaves < BOND_SLAVES_MAX)
			hr_issue(is, "/sys/class/net/%s/bonding/slaves: bad slave name", bond);
	for (i = 0; i < b->nslaves; i++) {
		struct bond_slave *sl = &b->slaves[i];

		if (bond_slave_attr(st, bond, sl->name, "bonding_slave/mii_status", buf,
				    sizeof(buf)) == 0)
			sl->mii_up = bond_mii(buf, strlen(buf));
		else if (bond_slave_attr(st, bond, sl->name, "operstate", buf, sizeof(buf)) == 0)
			sl->mii_up = bond_mii(buf, strlen(buf));
		if (sl->mii_up < 0)
			hr_issue(is, "%s: slave %s: no MII status or operstate in sysfs", bond,
				   sl->name);
		if (bond_slave_attr(st, bond, sl->name, "bonding_slave/ad_aggregator_id", buf,
				    sizeof(buf)) == 0 &&
		    hr_parse_i64(buf, strlen(buf), &id) == 0 && id >= 0)
			sl->agg_id = id;
	}
}

static int bond_names_add(struct bond_name **v, size_t *n, size_t *cap, const char *s,
			  size_t len)
{
	size_t i;

	if (!hr_ifname_ok(s, len, BOND_NAME_MAX))
		return 0;
	for (i = 0; i < *n; i++)
		if (hr_field_eq(s, len, (*v)[i].name))
			return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct bond_name *p = realloc(*v, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		*v = p;
		*cap = ncap;
	}
	memcpy((*v)[*n].name, s, len);
	(*v)[*n].name[len] = '\0';
	(*n)++;
	return 0;
}

static int bond_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bond_name *)a)->name, ((const struct bond_name *)b)->name);
}

/* The bonds: /sys/class/net/bonding_masters lists them (bonding.rst,
 * "Creating and Destroying Bonds"); /proc/net/bonding holds a file each.
 * Neither existing means the bonding driver is not loaded: no bonds. */
static int bond_list(const struct bond_state *st, struct bond_name **v, size_t *n,
		     struct hr_issues *is)
{
	char *buf = NULL, path[4096];
	size_t len, cap = 0, flen;
	struct hr_fields it;
	struct hr_err e;
	struct dirent *de;
	const char *f;
	DIR *dir;

	if (!bond_exists(st->root, "/sys/class/net/bonding_masters")) {
		/* no bonding driver, or only /proc/net/bonding */
	} else if (hr_read_file(st->root, "/sys/class/net/bonding_masters", &buf, &len, 65536,
				&e) == 0) {
		hr_fields_init(&it, buf, len);
		while (hr_fields_next(&it, &f, &flen)) {
			/* One line, names separated by spaces. */
			while (flen > 0 && (f[flen - 1] == '\n' || f[flen - 1] == '\r'))
				flen--;
			if (bond_names_add(v, n, &cap, f, flen) < 0)
				goto nomem;
		}
		free(buf);
		buf = NULL;
	} else {
		hr_issue(is, "%s", e.msg);
	}
	if (hr_path(path, sizeof(path), st->root, "/proc/net/bonding", &e) == 0 &&
	    (dir = opendir(path)) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (bond_names_add(v, n, &cap, de->d_name, strlen(de->d_name)) < 0) {
				closedir(dir);
				goto nomem;
			}
		closedir(dir);
	}
	if (*n > 1)
		qsort(*v, *n, sizeof(**v), bond_name_cmp);
	return 0;
nomem:
	free(buf);
	hr_issue(is, "out of memory");
	return -1;
}

static int bond_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct bond_state *st = state;
	struct hr_issues is = { 0, { 0 } };
	struct bond_name *names = NULL;
	struct bond_info b;
	struct hr_sample s;
	struct hr_err e;
	size_t n = 0, i, len, made = 0;
	char rel[128], *buf;
	int have_proc, rc = 0;

	bond_list(st, &names, &n, &is);
	for (i = 0; i < n; i++) {
		bond_info_init(&b);
		snprintf(rel, sizeof(rel), "/proc/net/bonding/%s", names[i].name);
		have_proc = 0;
		if (bond_exists(st->root, rel)) {
			have_proc = hr_read_file(st->root, rel, &buf, &len, HR_FILE_CAP, &e) == 0;
			if (!have_proc)
				hr_issue(&is, "%s", e.msg);
		}
		if (have_proc) {
			if (bond_parse_proc(buf, len, &b) < 0)
				hr_issue(&is, "%s: out of memory", rel);
			else if (b.skipped > 0)
				hr_issue(&is, "%s: line %u: cannot parse (%u problems)", rel,
					   b.bad_line, b.skipped);
			free(buf);
			/* A file with no recognisable content: try sysfs. */
			if (!b.slaves_known) {
				bond_info_free(&b);
				have_proc = 0;
			}
		}
		bond_from_sys(st, names[i].name, have_proc, &b, &is);
		if (bond_fill_sample(&b, names[i].name, &s) == 0) {
			hr_sink_put(sink, &s);
			made++;
		} else
			hr_issue(&is, "%s: neither /proc/net/bonding nor sysfs lists its slaves",
				   names[i].name);
		bond_info_free(&b);
	}
	free(names);
	/* Bonds exist but not one could be read: say so to the caller. */
	if (n > 0 && made == 0) {
		hr_err_set(err, "probe bond: %s", is.first);
		rc = -1;
	}
	if (!hr_issues_complain(&st->complain, &is, "probe bond"))
		hr_complain_clear(&st->complain, "probe bond: bonds readable again");
	return rc;
}

static void bond_teardown(void *state)
{
	free(state);
}

static int bond_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		      void **state, struct hr_errs *errs)
{
	struct bond_state *st;

	if (hr_cfg_object(cfg, path, bond_allowed, errs) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	*state = st;
	return 0;
}

const struct probe probe_bond = {
	.name = "bond",
	.core = 1,
	.setup = bond_setup,
	.read = bond_read,
	.teardown = bond_teardown,
};
