/* net.c: the net probe. One sample per network interface: whether it is up,
 * carrier, link speed and the traffic/error/drop counters. Link state and
 * speed come from /sys/class/net/IF/ (Documentation/ABI/testing/sysfs-class-net);
 * counters from /sys/class/net/IF/statistics/, or from /proc/net/dev
 * (Documentation/filesystems/proc.rst, "/proc/net/dev") where sysfs lacks them. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "log.h"
#include "net.h"
#include "util.h"

/* /proc/net/dev has 8 receive and 8 transmit columns per interface. */
#define NET_DEV_FIELDS 16

struct net_state {
	const char *root;  /* borrowed from the probe_env */
	char **include;    /* "interfaces" globs; NULL: every interface */
	char **exclude;    /* "exclude" globs */
	struct hr_complain complain;
};

/* An interface seen in sysfs, /proc/net/dev or both. */
struct net_if {
	char name[NET_NAME_MAX];
	int in_sys;
};

/* The counters, named as in DESIGN.md, which are also the sysfs file names
 * under statistics/. */
static const struct {
	const char *name;
	size_t off;
} net_counters[] = {
	{ "rx_bytes", offsetof(struct net_dev_row, rx_bytes) },
	{ "tx_bytes", offsetof(struct net_dev_row, tx_bytes) },
	{ "rx_errors", offsetof(struct net_dev_row, rx_errors) },
	{ "tx_errors", offsetof(struct net_dev_row, tx_errors) },
	{ "rx_dropped", offsetof(struct net_dev_row, rx_dropped) },
	{ "tx_dropped", offsetof(struct net_dev_row, tx_dropped) },
};

static const char *const net_allowed[] = { "interfaces", "exclude", "interval", NULL };

void net_dev_init(struct net_dev *d)
{
	memset(d, 0, sizeof(*d));
}

void net_dev_free(struct net_dev *d)
{
	if (d == NULL)
		return;
	free(d->rows);
	net_dev_init(d);
}

const struct net_dev_row *net_dev_find(const struct net_dev *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		if (strcmp(d->rows[i].name, name) == 0)
			return &d->rows[i];
	return NULL;
}

static void net_dev_skip(struct net_dev *d, unsigned lineno)
{
	if (d->skipped++ == 0)
		d->bad_line = lineno;
}

/* One "  eth0: 1 2 ... 16" line: the name runs up to the first ':' (names
 * cannot hold one), the 16 counters follow. */
static int net_dev_line(struct net_dev *d, const char *line, size_t len, unsigned lineno)
{
	const char *colon, *name, *f;
	size_t nlen, flen;
	uint64_t v[NET_DEV_FIELDS];
	struct hr_fields it;
	struct net_dev_row *row;
	int nf = 0;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	colon = memchr(line, ':', len);
	if (colon == NULL) {
		/* The two header lines ("Inter-|   Receive ...") have no colon
		 * but column bars. */
		if (len > 0 && memchr(line, '|', len) == NULL)
			net_dev_skip(d, lineno);
		return 0;
	}
	name = line;
	nlen = (size_t)(colon - line);
	while (nlen > 0 && (*name == ' ' || *name == '\t')) {
		name++;
		nlen--;
	}
	if (!hr_ifname_ok(name, nlen, NET_NAME_MAX)) {
		net_dev_skip(d, lineno);
		return 0;
	}
	hr_fields_init(&it, colon + 1, (size_t)(line + len - colon - 1));
	while (hr_fields_next(&it, &f, &flen)) {
		if (nf == NET_DEV_FIELDS || hr_parse_u64(f, flen, &v[nf]) < 0) {
			net_dev_skip(d, lineno);
			return 0;
		}
		nf++;
	}
	if (nf != NET_DEV_FIELDS) {
		net_dev_skip(d, lineno);
		return 0;
	}
	if (d->count == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct net_dev_row *n = realloc(d->rows, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		d->rows = n;
		d->cap = ncap;
	}
	row = &d->rows[d->count];
	memcpy(row->name, name, nlen);
	row->name[nlen] = '\0';
	if (net_dev_find(d, row->name) != NULL)
		return 0;
	/* Receive: bytes packets errs drop fifo frame compressed multicast;
	 * transmit: bytes packets errs drop fifo colls carrier compressed. */
	row->rx_bytes = v[0];
	row->rx_errors = v[2];
	row->rx_dropped = v[3];
	row->tx_bytes = v[8];
	row->tx_errors = v[10];
	row->tx_dropped = v[11];
	d->count++;
	return 0;
}

int net_dev_parse(const char *buf, size_t len, struct net_dev *d)
{
	struct hr_lines it;
	const char *line;
	size_t llen;

	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen))
		if (net_dev_line(d, line, llen, it.lineno) < 0)
			return -1;
	return 0;
}

static int net_wanted(const struct net_state *st, const char *name)
{
	if (st->include != NULL && !hr_glob_any(st->include, name))
		return 0;
	return !hr_glob_any(st->exclude, name);
}

static int net_if_cmp(const void *a, const void *b)
{
	return strcmp(((const struct net_if *)a)->name, ((const struct net_if *)b)->name);
}

static int net_if_add(struct net_if **ifs, size_t *n, size_t *cap, const char *name, int in_sys)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct net_if *p = realloc(*ifs, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		*ifs = p;
		*cap = ncap;
	}
	hr_strlcpy((*ifs)[*n].name, name, NET_NAME_MAX);
	(*ifs)[*n].in_sys = in_sys;
	(*n)++;
	return 0;
}

/* Lists the interface folders of /sys/class/net (symlinks to device folders
 * on a real system). bonding_masters is a file, not an interface; stat()
 * skips it and anything else that is not a folder. */
static int net_list_sys(const char *root, struct net_if **ifs, size_t *n, size_t *cap,
			struct hr_err *err)
{
	char path[4096];
	struct dirent *de;
	struct stat sb;
	DIR *dir;
	int rc = 0;

	if (hr_path(path, sizeof(path), root, "/sys/class/net", err) < 0)
		return -1;
	dir = opendir(path);
	if (dir == NULL)
		return hr_err_errno(err, errno, "%s", path);
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);

		if (!hr_ifname_ok(de->d_name, len, NET_NAME_MAX) || strcmp(de->d_name, "bonding_masters") == 0)
			continue;
		if (fstatat(dirfd(dir), de->d_name, &sb, 0) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (net_if_add(ifs, n, cap, de->d_name, 1) < 0) {
			rc = hr_err_errno(err, ENOMEM, "%s", path);
			break;
		}
	}
	closedir(dir);
	return rc;
}

/* Link state from sysfs. Values the kernel does not report are left out:
 * carrier fails with EINVAL while the interface is administratively down,
 * speed reads -1 (SPEED_UNKNOWN), empty or fails without a link. */
static void net_sys_link(const struct net_state *st, const char *ifname, struct hr_sample *s,
			 struct hr_issues *is)
{
	char buf[64];
	int64_t v;

	if (hr_read_netattr(st->root, ifname, "operstate", buf, sizeof(buf), NULL) == 0 &&
	    buf[0] != '\0') {
		hr_sample_set(s, "up", strcmp(buf, "up") == 0 ? 1 : 0);
		hr_sample_label(s, "operstate", buf);
	}
	if (hr_read_netattr(st->root, ifname, "carrier", buf, sizeof(buf), NULL) == 0 &&
	    buf[0] != '\0') {
		if (strcmp(buf, "0") == 0 || strcmp(buf, "1") == 0)
			hr_sample_set(s, "carrier", buf[0] == '1');
		else
			hr_issue(is, "/sys/class/net/%s/carrier: cannot parse \"%s\"", ifname, buf);
	}
	if (hr_read_netattr(st->root, ifname, "speed", buf, sizeof(buf), NULL) == 0 &&
	    buf[0] != '\0') {
		/* Older kernels printed SPEED_UNKNOWN unsigned: 4294967295. */
		if (hr_parse_i64(buf, strlen(buf), &v) < 0)
			hr_issue(is, "/sys/class/net/%s/speed: cannot parse \"%s\"", ifname, buf);
		else if (v >= 0 && v < 4294967295LL)
			hr_sample_set(s, "speed_mbps", (double)v);
	}
	if (hr_read_netattr(st->root, ifname, "duplex", buf, sizeof(buf), NULL) == 0 &&
	    (strcmp(buf, "full") == 0 || strcmp(buf, "half") == 0))
		hr_sample_label(s, "duplex", buf);
}

/* Counters: the /proc/net/dev row when there is one (one file read for all
 * interfaces; the kernel fills it and sysfs statistics/ from the same
 * dev_get_stats()), else sysfs statistics/, six small files. Returns how
 * many counters were missing from both. */
static unsigned net_counters_fill(const struct net_state *st, const struct net_if *ifc,
				  const struct net_dev_row *row, struct hr_sample *s,
				  struct hr_issues *is)
{
	char buf[64], attr[64];
	unsigned missing = 0;
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(net_counters) / sizeof(net_counters[0]); i++) {
		if (row != NULL) {
			memcpy(&v, (const char *)row + net_counters[i].off, sizeof(v));
			hr_sample_set(s, net_counters[i].name, (double)v);
			continue;
		}
		if (ifc->in_sys) {
			snprintf(attr, sizeof(attr), "statistics/%s", net_counters[i].name);
			if (hr_read_netattr(st->root, ifc->name, attr, buf, sizeof(buf), NULL) == 0) {
				if (hr_parse_u64(buf, strlen(buf), &v) == 0) {
					hr_sample_set(s, net_counters[i].name, (double)v);
					continue;
				}
				hr_issue(is, "/sys/class/net/%s/%s: cannot parse \"%s\"",
					  ifc->name, attr, buf);
			}
		}
		missing++;
	}
	return missing;
}

static int net_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct net_state *st = state;
	struct hr_issues is = { 0, { 0 } };
	struct hr_err proc_err = { { 0 } }, sys_err = { { 0 } };
	struct net_if *ifs = NULL;
	size_t nifs = 0, cap = 0, nsys, i;
	struct net_dev dev;
	struct hr_sample s;
	char *buf = NULL;
	size_t len;
	int have_proc = 0, have_sys = 0, need_proc = 0, rc = -1;

	net_dev_init(&dev);
	if (hr_read_file(st->root, "/proc/net/dev", &buf, &len, HR_FILE_CAP, &proc_err) == 0) {
		have_proc = 1;
		if (net_dev_parse(buf, len, &dev) < 0)
			hr_issue(&is, "/proc/net/dev: out of memory");
		if (dev.skipped > 0)
			hr_issue(&is, "/proc/net/dev: line %u: cannot parse (%u lines skipped)",
				  dev.bad_line, dev.skipped);
		free(buf);
	}
	if (net_list_sys(st->root, &ifs, &nifs, &cap, &sys_err) == 0)
		have_sys = 1;
	if (!have_proc && !have_sys) {
		hr_err_set(err, "probe net: %s; %s", proc_err.msg, sys_err.msg);
		goto out;
	}
	nsys = nifs;
	for (i = 0; i < dev.count; i++) {
		size_t j;
		int seen = 0;

		for (j = 0; j < nsys && !seen; j++)
			seen = strcmp(ifs[j].name, dev.rows[i].name) == 0;
		if (!seen && net_if_add(&ifs, &nifs, &cap, dev.rows[i].name, 0) < 0) {
			hr_issue(&is, "out of memory");
			break;
		}
	}
	if (nifs > 1)
		qsort(ifs, nifs, sizeof(*ifs), net_if_cmp);
	for (i = 0; i < nifs; i++) {
		const struct net_dev_row *row = net_dev_find(&dev, ifs[i].name);

		if (!net_wanted(st, ifs[i].name))
			continue;
		hr_sample_init(&s, "net", ifs[i].name);
		if (ifs[i].in_sys)
			net_sys_link(st, ifs[i].name, &s, &is);
		if (net_counters_fill(st, &ifs[i], row, &s, &is) > 0 && !have_proc)
			need_proc = 1;
		if (s.nvalues > 0)
			hr_sink_put(sink, &s);
	}
	if (need_proc)
		hr_issue(&is, "%s (counters missing from sysfs)", proc_err.msg);
	rc = 0;
out:
	if (rc < 0)
		hr_complain(&st->complain, "%s", err->msg);
	else if (!hr_issues_complain(&st->complain, &is, "probe net"))
		hr_complain_clear(&st->complain, "probe net: interfaces readable again");
	net_dev_free(&dev);
	free(ifs);
	return rc;
}

static void net_teardown(void *state)
{
	struct net_state *st = state;

	if (st == NULL)
		return;
	hr_strv_free(st->include);
	hr_strv_free(st->exclude);
	free(st);
}

/* "interfaces": globs of the interfaces to report (default: all);
 * "exclude": globs to leave out, applied after "interfaces" (default
 * ["lo"]; an explicit list replaces the default, so [] reports lo too). */
static int net_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	struct net_state *st;
	size_t before = errs->count + errs->dropped;
	int r;

	if (cfg != NULL && !cJSON_IsObject(cfg)) {
		hr_errs_add(errs, path, "expected an object");
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	hr_cfg_check_keys(cfg, path, net_allowed, errs);
	hr_cfg_strv(cfg, "interfaces", path, &st->include, errs);
	r = hr_cfg_strv(cfg, "exclude", path, &st->exclude, errs);
	if (r == 0) {
		st->exclude = calloc(2, sizeof(*st->exclude));
		if (st->exclude == NULL || (st->exclude[0] = strdup("lo")) == NULL)
			hr_errs_add(errs, path, "out of memory");
	}
	if (errs->count + errs->dropped > before) {
		net_teardown(st);
		return -1;
	}
	*state = st;
	return 0;
}

const struct probe probe_net = {
	.name = "net",
	.core = 1,
	.setup = net_setup,
	.read = net_read,
	.teardown = net_teardown,
};
