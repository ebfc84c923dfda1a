/* test_net.c: the net probe against real /proc/net/dev captures (procfs,
 * sysstat), the node_exporter sysfs tree, sysfs trees in the shapes the
 * kernel produces (link down, speed unknown, carrier unreadable), and broken
 * or truncated input. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net.h"
#include "testutil.h"
#include "util.h"

static char *slurp(const char *path, size_t *len)
{
	struct hr_err err;
	char *buf = NULL;

	if (hr_read_file(NULL, path, &buf, len, HR_FILE_CAP, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return NULL;
	}
	return buf;
}

static int parse_file(const char *path, struct net_dev *d)
{
	size_t len;
	char *buf = slurp(path, &len);
	int rc;

	net_dev_init(d);
	if (buf == NULL)
		return -1;
	rc = net_dev_parse(buf, len, d);
	free(buf);
	return rc;
}

struct row_case {
	const char *name;
	uint64_t rx_bytes, rx_errors, rx_dropped, tx_bytes, tx_errors, tx_dropped;
};

static void check_rows(const struct net_dev *d, const struct row_case *rows, size_t n)
{
	size_t i;

	CU_ASSERT_EQUAL(d->count, n);
	CU_ASSERT_EQUAL(d->skipped, 0);
	for (i = 0; i < n; i++) {
		const struct net_dev_row *r = net_dev_find(d, rows[i].name);

		CU_ASSERT_PTR_NOT_NULL(r);
		if (r == NULL) {
			fprintf(stderr, "missing row %s\n", rows[i].name);
			continue;
		}
		CU_ASSERT_EQUAL(r->rx_bytes, rows[i].rx_bytes);
		CU_ASSERT_EQUAL(r->rx_errors, rows[i].rx_errors);
		CU_ASSERT_EQUAL(r->rx_dropped, rows[i].rx_dropped);
		CU_ASSERT_EQUAL(r->tx_bytes, rows[i].tx_bytes);
		CU_ASSERT_EQUAL(r->tx_errors, rows[i].tx_errors);
		CU_ASSERT_EQUAL(r->tx_dropped, rows[i].tx_dropped);
	}
}

/* procfs's fixture, with the values its net_dev_test.go states. */
static void test_parse_procfs(void)
{
	static const struct row_case rows[] = {
		{ "vethf345468", 648, 0, 0, 438, 0, 0 },
		{ "lo", 1664039048, 0, 0, 1664039048, 0, 0 },
		{ "docker0", 2568, 0, 0, 438, 0, 0 },
		{ "eth0", 874354587, 0, 0, 563352563, 0, 0 },
	};
	static const struct row_case netns[] = {
		{ "lo", 0, 0, 0, 0, 0, 0 },
		{ "eth0", 438, 0, 0, 648, 0, 0 },
	};
	struct net_dev d;

	CU_ASSERT_EQUAL_FATAL(parse_file(fixture("procfs/root/proc/net/dev"), &d), 0);
	check_rows(&d, rows, 4);
	CU_ASSERT_STRING_EQUAL(d.rows[0].name, "vethf345468"); /* file order */
	net_dev_free(&d);
	CU_ASSERT_EQUAL_FATAL(parse_file(fixture("net/procfs_pid26231/proc/net/dev"), &d), 0);
	check_rows(&d, netns, 2);
	net_dev_free(&d);
}

/* sysstat's three successive snapshots; wlp5s0 drops packets, virbr0's
 * counters grow, enp6s0's go back (sysstat's edit): reported as they are. */
static void test_parse_sysstat(void)
{
	static const struct row_case root1[] = {
		{ "lo", 81228574, 0, 0, 81228574, 0, 0 },
		{ "virbr0-nic", 0, 0, 0, 0, 0, 0 },
		{ "enp6s0", 205916976, 0, 0, 10811120, 0, 0 },
		{ "virbr0", 1000, 0, 0, 20, 0, 0 },
		{ "virbr0-1", 21000, 0, 0, 2001, 0, 0 },
		{ "wlp5s0", 60065311, 0, 848, 2446402, 0, 0 },
	};
	static const struct row_case root2[] = {
		{ "lo", 81228574, 0, 0, 81228574, 0, 0 },
		{ "virbr0-nic", 0, 0, 0, 0, 0, 0 },
		{ "enp6s0", 205916976, 0, 0, 10811120, 0, 0 },
		{ "virbr0", 1800, 0, 0, 120, 0, 0 },
		{ "virbr0-1", 24000, 0, 0, 6001, 0, 0 },
		{ "wlp5s0", 60075311, 0, 948, 2449402, 0, 0 },
	};
	static const struct row_case root3[] = {
		{ "lo", 81228574, 0, 0, 81228574, 0, 0 },
		{ "virbr0-nic", 0, 0, 0, 0, 0, 0 },
		{ "enp6s0", 2059169, 0, 0, 108111, 0, 0 },
		{ "virbr0", 2100, 0, 0, 190, 0, 0 },
		{ "virbr0-1", 25000, 0, 0, 6501, 0, 0 },
		{ "wlp5s0", 60079311, 0, 1248, 2451402, 0, 0 },
	};
	struct net_dev d;

	CU_ASSERT_EQUAL_FATAL(parse_file(fixture("net/sysstat_root1/proc/net/dev"), &d), 0);
	check_rows(&d, root1, 6);
	net_dev_free(&d);
	CU_ASSERT_EQUAL_FATAL(parse_file(fixture("net/sysstat_root2/proc/net/dev"), &d), 0);
	check_rows(&d, root2, 6);
	net_dev_free(&d);
	CU_ASSERT_EQUAL_FATAL(parse_file(fixture("net/sysstat_root3/proc/net/dev"), &d), 0);
	check_rows(&d, root3, 6);
	net_dev_free(&d);
}

static const struct hr_sample *find(const struct hr_recsink *rec, const char *inst)
{
	return hr_recsink_find(rec, "net", inst);
}

static const char *label(const struct hr_sample *s, const char *name)
{
	return s ? hr_sample_get_label(s, name) : NULL;
}

/* Does sample s carry label name with the value want? */
static int label_is(const struct hr_sample *s, const char *name, const char *want)
{
	const char *l = label(s, name);

	return l != NULL && strcmp(l, want) == 0;
}

/* The procfs root has only /proc/net/dev: counters, no link state, and lo
 * left out by default. */
static void test_probe_procfs_root(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_net, fixture("procfs/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 3);
	CU_ASSERT_PTR_NULL(find(&rec, "lo"));
	s = find(&rec, "eth0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "rx_bytes", 874354587);
	ASSERT_VAL(s, "tx_bytes", 563352563);
	ASSERT_VAL(s, "rx_errors", 0);
	ASSERT_VAL(s, "tx_dropped", 0);
	ASSERT_NO_VAL(s, "up");
	ASSERT_NO_VAL(s, "carrier");
	ASSERT_NO_VAL(s, "speed_mbps");
	CU_ASSERT_EQUAL(s->nvalues, 6);
	/* Sorted by name, so that a run's order is stable. */
	CU_ASSERT_STRING_EQUAL(rec.samples[0].instance, "docker0");
	CU_ASSERT_STRING_EQUAL(rec.samples[2].instance, "vethf345468");
	hr_recsink_free(&rec);
}

static void test_probe_sysstat_roots(void)
{
	static const char *const roots[] = { "net/sysstat_root1", "net/sysstat_root2",
					     "net/sysstat_root3" };
	static const double wlp_drop[] = { 848, 948, 1248 };
	struct hr_recsink rec;
	size_t i;

	for (i = 0; i < 3; i++) {
		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_net, fixture(roots[i]), NULL, &rec), 0);
		CU_ASSERT_EQUAL(rec.count, 5);
		ASSERT_VAL(find(&rec, "wlp5s0"), "rx_dropped", wlp_drop[i]);
		ASSERT_VAL(find(&rec, "virbr0-nic"), "rx_bytes", 0);
		hr_recsink_free(&rec);
	}
}

/* Config: "interfaces" globs include, "exclude" globs leave out (an
 * explicit list replaces the default ["lo"]). */
static void test_config_filters(void)
{
	static const struct {
		const char *cfg;
		size_t count;
		const char *present, *absent;
	} cases[] = {
		{ "{\"exclude\": []}", 4, "lo", NULL },
		{ "{\"interfaces\": [\"eth*\"]}", 1, "eth0", "docker0" },
		{ "{\"interfaces\": [\"eth*\", \"lo\"]}", 1, "eth0", "lo" },
		{ "{\"interfaces\": [\"eth*\", \"lo\"], \"exclude\": []}", 2, "lo", "docker0" },
		{ "{\"exclude\": [\"veth*\", \"docker?\"], \"interval\": 5}", 2, "lo", "docker0" },
	};
	struct hr_recsink rec;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_net, fixture("procfs/root"), cases[i].cfg, &rec), 0);
		CU_ASSERT_EQUAL(rec.count, cases[i].count);
		CU_ASSERT_PTR_NOT_NULL(find(&rec, cases[i].present));
		if (cases[i].absent != NULL)
			CU_ASSERT_PTR_NULL(find(&rec, cases[i].absent));
		hr_recsink_free(&rec);
	}
}

static void test_config_errors(void)
{
	static const char *const bad[] = {
		"{\"interfaces\": \"eth0\"}",
		"{\"interfaces\": [1]}",
		"{\"exclude\": [\"\"]}",
		"{\"include\": [\"eth0\"]}",
		"{\"exclude\": [\"lo\"], \"exclude\": []}",
		"true",
	};
	struct hr_recsink rec;
	size_t i;

	hr_recsink_init(&rec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(run_probe(&probe_net, fixture("procfs/root"), bad[i], &rec), -2);
	CU_ASSERT_EQUAL(rec.count, 0);
	hr_recsink_free(&rec);
}

/* node_exporter's tree: sysfs only, no statistics/. bond0 reports speed -1
 * (left out); bonding_masters is a file, not an interface; eth0 there is a
 * plain file (the capture dropped the symlink), not an interface folder. */
static void test_probe_node_exporter_root(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_net, fixture("node_exporter/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 3);
	CU_ASSERT_PTR_NULL(find(&rec, "bonding_masters"));
	CU_ASSERT_PTR_NULL(find(&rec, "eth0"));
	s = find(&rec, "bond0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "up", 1);
	ASSERT_VAL(s, "carrier", 1);
	ASSERT_NO_VAL(s, "speed_mbps");
	ASSERT_NO_VAL(s, "rx_bytes");
	CU_ASSERT(label_is(s, "duplex", "full"));
	CU_ASSERT(label_is(s, "operstate", "up"));
	s = find(&rec, "dmz");
	ASSERT_VAL(s, "speed_mbps", 1000);
	ASSERT_VAL(s, "up", 1);
	s = find(&rec, "int");
	ASSERT_VAL(s, "speed_mbps", 1000);
	hr_recsink_free(&rec);
}

static int put(const char *root, const char *path, const char *text)
{
	return write_file(root, path, text, strlen(text));
}

static void put_stats(const char *root, const char *ifname, const char *const vals[6])
{
	static const char *const names[] = { "rx_bytes", "tx_bytes", "rx_errors",
					     "tx_errors", "rx_dropped", "tx_dropped" };
	char path[256];
	size_t i;

	for (i = 0; i < 6; i++) {
		if (vals[i] == NULL)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, names[i]);
		put(root, path, vals[i]);
	}
}

/* Shapes of real sysfs: a link that is up; one that is down with empty speed
 * and duplex (as procfs's enp162s0f0np0); one administratively down, whose
 * carrier read fails (EINVAL in the kernel; here a read error); speed in the
 * old unsigned form of SPEED_UNKNOWN; counters missing from or garbled in
 * statistics/, which /proc/net/dev then supplies. */
static void test_sysfs_shapes(void)
{
	static const char *const eth0_stats[6] = { "100\n", "200\n", "1\n", "2\n", "3\n", "4\n" };
	static const char *const eth2_stats[6] = { "5\n", NULL, "x\n", NULL, NULL, NULL };
	static const char procdev[] =
		"Inter-|   Receive                                                |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		"  eth0: 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9\n"
		"  eth2: 50 0 7 8 0 0 0 0 60 0 70 80 0 0 0 0\n"
		"  tun0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
	const char *root = tmpdir_new("net");
	struct hr_recsink rec;
	const struct hr_sample *s;
	char dir[512];

	put(root, "/sys/class/net/eth0/operstate", "up\n");
	put(root, "/sys/class/net/eth0/carrier", "1\n");
	put(root, "/sys/class/net/eth0/speed", "1000\n");
	put(root, "/sys/class/net/eth0/duplex", "full\n");
	put_stats(root, "eth0", eth0_stats);
	put(root, "/sys/class/net/enp162s0f0np0/operstate", "down\n");
	put(root, "/sys/class/net/enp162s0f0np0/carrier", "0\n");
	put(root, "/sys/class/net/enp162s0f0np0/speed", "");
	put(root, "/sys/class/net/enp162s0f0np0/duplex", "");
	put(root, "/sys/class/net/eth1/operstate", "down\n");
	put(root, "/sys/class/net/eth1/speed", "4294967295\n");
	put(root, "/sys/class/net/eth1/duplex", "unknown\n");
	snprintf(dir, sizeof(dir), "%s/sys/class/net/eth1/carrier", root);
	CU_ASSERT_EQUAL(mkdir(dir, 0755), 0); /* read() fails: EISDIR */
	put(root, "/sys/class/net/eth2/operstate", "dormant\n");
	put(root, "/sys/class/net/eth2/carrier", "yes\n");
	put(root, "/sys/class/net/eth2/speed", "fast\n");
	put_stats(root, "eth2", eth2_stats);
	put(root, "/sys/class/net/eth3/operstate", "up\n");
	put_stats(root, "eth3", eth0_stats);
	put(root, "/sys/class/net/bonding_masters", "bond0\n");
	write_file(root, "/proc/net/dev", procdev, sizeof(procdev) - 1);

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_net, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 6);

	/* No /proc/net/dev row: sysfs statistics/. */
	s = find(&rec, "eth3");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "rx_bytes", 100);
	ASSERT_VAL(s, "tx_bytes", 200);
	ASSERT_VAL(s, "rx_errors", 1);
	ASSERT_VAL(s, "tx_errors", 2);
	ASSERT_VAL(s, "rx_dropped", 3);
	ASSERT_VAL(s, "tx_dropped", 4);

	s = find(&rec, "eth0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "up", 1);
	ASSERT_VAL(s, "carrier", 1);
	ASSERT_VAL(s, "speed_mbps", 1000);
	/* /proc/net/dev's row wins over sysfs statistics (one read for all
	 * interfaces; the kernel fills both from the same counters). */
	ASSERT_VAL(s, "rx_bytes", 9);
	ASSERT_VAL(s, "tx_bytes", 9);
	ASSERT_VAL(s, "rx_errors", 9);
	ASSERT_VAL(s, "tx_errors", 9);
	ASSERT_VAL(s, "rx_dropped", 9);
	ASSERT_VAL(s, "tx_dropped", 9);
	CU_ASSERT(label_is(s, "duplex", "full"));

	s = find(&rec, "enp162s0f0np0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "up", 0);
	ASSERT_VAL(s, "carrier", 0);
	ASSERT_NO_VAL(s, "speed_mbps");
	ASSERT_NO_VAL(s, "rx_bytes");
	CU_ASSERT_PTR_NULL(label(s, "duplex"));
	CU_ASSERT(label_is(s, "operstate", "down"));

	s = find(&rec, "eth1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "up", 0);
	ASSERT_NO_VAL(s, "carrier");
	ASSERT_NO_VAL(s, "speed_mbps");
	CU_ASSERT_PTR_NULL(label(s, "duplex"));

	s = find(&rec, "eth2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "up", 0); /* only "up" is up */
	CU_ASSERT(label_is(s, "operstate", "dormant"));
	ASSERT_NO_VAL(s, "carrier");
	ASSERT_NO_VAL(s, "speed_mbps");
	ASSERT_VAL(s, "rx_bytes", 50);     /* /proc, not sysfs's 5 */
	ASSERT_VAL(s, "rx_errors", 7);
	ASSERT_VAL(s, "tx_bytes", 60);
	ASSERT_VAL(s, "tx_errors", 70);
	ASSERT_VAL(s, "rx_dropped", 8);
	ASSERT_VAL(s, "tx_dropped", 80);

	/* In /proc/net/dev only (no sysfs folder): counters only. */
	s = find(&rec, "tun0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	ASSERT_VAL(s, "rx_bytes", 1);
	ASSERT_VAL(s, "rx_errors", 3);
	ASSERT_VAL(s, "rx_dropped", 4);
	ASSERT_VAL(s, "tx_bytes", 9);
	ASSERT_VAL(s, "tx_errors", 11);
	ASSERT_VAL(s, "tx_dropped", 12);
	ASSERT_NO_VAL(s, "up");
	CU_ASSERT_PTR_NULL(find(&rec, "bonding_masters"));
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Nothing to read at all: read() fails and says why; an interface folder
 * with nothing readable in it gives no sample. */
static void test_missing_sources(void)
{
	const char *root = tmpdir_new("net");
	struct hr_recsink rec;
	char dir[512];

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_net, root, NULL, &rec), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	snprintf(dir, sizeof(dir), "%s/sys", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/sys/class", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/sys/class/net", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/sys/class/net/empty0", root);
	mkdir(dir, 0755);
	CU_ASSERT_EQUAL(run_probe(&probe_net, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	hr_recsink_free(&rec);
	rm_rf(root);
}

struct dev_case {
	const char *name;
	const char *text;
	size_t rows;
	unsigned skipped;
};

static void test_garbled_proc_net_dev(void)
{
	static const struct dev_case cases[] = {
		{ "empty", "", 0, 0 },
		{ "headers only",
		  "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n", 0, 0 },
		{ "no trailing newline", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", 1, 0 },
		{ "CRLF", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\r\n", 1, 0 },
		{ "name glued to the colon",
		  "enp0s31f6:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 1, 0 },
		{ "line cut short", "eth0: 1 2 3 4 5 6 7 8 9 10 11\n", 0, 1 },
		{ "a field too many", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", 0, 1 },
		{ "not a number", "eth0: 1 2 3 4 5 6 7 8 9 1O 11 12 13 14 15 16\n", 0, 1 },
		{ "negative", "eth0: 1 2 -3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, 1 },
		{ "overflow", "eth0: 99999999999999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0,
		  1 },
		{ "path in the name", "../x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, 1 },
		{ "empty name", ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, 1 },
		{ "garbage line", "hello world\n", 0, 1 },
		{ "NUL in a number", "eth0: 1 2 3\0004 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, 1 },
		{ "duplicate keeps the first",
		  "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
		  "eth0: 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9\n", 1, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct net_dev d;
		size_t len = strlen(cases[i].text);

		/* sizeof - 1 keeps the embedded NUL inside the text */
		if (strcmp(cases[i].name, "NUL in a number") == 0)
			len = sizeof("eth0: 1 2 3\0004 5 6 7 8 9 10 11 12 13 14 15 16\n") - 1;
		net_dev_init(&d);
		CU_ASSERT_EQUAL(net_dev_parse(cases[i].text, len, &d), 0);
		if (d.count != cases[i].rows || d.skipped != cases[i].skipped)
			fprintf(stderr, "case %s: %zu rows, %u skipped\n", cases[i].name, d.count,
				d.skipped);
		CU_ASSERT_EQUAL(d.count, cases[i].rows);
		CU_ASSERT_EQUAL(d.skipped, cases[i].skipped);
		if (d.count == 1) {
			CU_ASSERT_STRING_EQUAL(d.rows[0].name,
					       strncmp(cases[i].text, "enp", 3) == 0 ? "enp0s31f6" : "eth0");
			CU_ASSERT_EQUAL(d.rows[0].rx_bytes, 1);
			CU_ASSERT_EQUAL(d.rows[0].rx_errors, 3);
			CU_ASSERT_EQUAL(d.rows[0].rx_dropped, 4);
			CU_ASSERT_EQUAL(d.rows[0].tx_bytes, 9);
			CU_ASSERT_EQUAL(d.rows[0].tx_errors, 11);
			CU_ASSERT_EQUAL(d.rows[0].tx_dropped, 12);
		}
		net_dev_free(&d);
	}
}

/* /proc/net/dev cut at every byte: no crash, and every row that comes out
 * equals the whole file's row (a counter the probe reports is never a cut
 * number). */
static void test_truncated_proc_net_dev(void)
{
	static const char *const files[] = { "procfs/root/proc/net/dev",
					     "net/sysstat_root1/proc/net/dev" };
	size_t f, cut, i;

	for (f = 0; f < 2; f++) {
		struct net_dev full, part;
		size_t len;
		char *buf = slurp(fixture(files[f]), &len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		net_dev_init(&full);
		CU_ASSERT_EQUAL(net_dev_parse(buf, len, &full), 0);
		for (cut = 0; cut <= len; cut++) {
			net_dev_init(&part);
			CU_ASSERT_EQUAL(net_dev_parse(buf, cut, &part), 0);
			CU_ASSERT(part.count <= full.count);
			for (i = 0; i < part.count; i++) {
				const struct net_dev_row *r = net_dev_find(&full, part.rows[i].name);

				CU_ASSERT_PTR_NOT_NULL(r);
				if (r != NULL) {
					CU_ASSERT_EQUAL(r->rx_bytes, part.rows[i].rx_bytes);
					CU_ASSERT_EQUAL(r->rx_errors, part.rows[i].rx_errors);
					CU_ASSERT_EQUAL(r->rx_dropped, part.rows[i].rx_dropped);
					CU_ASSERT_EQUAL(r->tx_bytes, part.rows[i].tx_bytes);
					CU_ASSERT_EQUAL(r->tx_errors, part.rows[i].tx_errors);
					CU_ASSERT_EQUAL(r->tx_dropped, part.rows[i].tx_dropped);
				}
			}
			net_dev_free(&part);
		}
		net_dev_free(&full);
		free(buf);
	}
}

static CU_TestInfo tests[] = {
	{ "parse procfs /proc/net/dev", test_parse_procfs },
	{ "parse sysstat snapshots", test_parse_sysstat },
	{ "probe on the procfs root", test_probe_procfs_root },
	{ "probe on the sysstat roots", test_probe_sysstat_roots },
	{ "config filters", test_config_filters },
	{ "config errors", test_config_errors },
	{ "probe on the node_exporter root", test_probe_node_exporter_root },
	{ "sysfs shapes and /proc fallback", test_sysfs_shapes },
	{ "missing sources", test_missing_sources },
	{ "garbled /proc/net/dev", test_garbled_proc_net_dev },
	{ "truncated /proc/net/dev", test_truncated_proc_net_dev },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("net", tests);
}
