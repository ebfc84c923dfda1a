/* test_bond.c: the bond probe against real /proc/net/bonding captures
 * (tests/fixtures/bonding, with the source projects' facts in expected.json),
 * the node_exporter sysfs tree, and broken, truncated and hostile input. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "bond.h"
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

static int parse_fixture(const char *file, struct bond_info *b)
{
	char path[1024];
	size_t len;
	char *buf;
	int rc;

	snprintf(path, sizeof(path), "%s", fixture("bonding/"));
	strncat(path, file, sizeof(path) - strlen(path) - 1);
	buf = slurp(path, &len);
	if (buf == NULL)
		return -1;
	bond_info_init(b);
	rc = bond_parse_proc(buf, len, b);
	free(buf);
	return rc;
}

static const struct bond_slave *find_slave(const struct bond_info *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->nslaves; i++)
		if (strcmp(b->slaves[i].name, name) == 0)
			return &b->slaves[i];
	return NULL;
}

/* What the probe must report for every capture. slaves_up and degraded
 * follow from each slave's MII status (and, for 802.3ad with an "Active
 * Aggregator Info" block, its aggregator) as the sources' tests state it. */
static const struct {
	const char *file;
	const char *mode;
	const char *active; /* NULL: no active_slave label */
	int slaves, up, degraded;
	unsigned skipped;
} corpus[] = {
	{ "telegraf_bondAB_active-backup_eth3_down.txt", "active-backup", "eth2", 2, 1, 1, 0 },
	{ "telegraf_bondLACP_802.3ad_both_up.txt", "802.3ad", NULL, 2, 2, 0, 0 },
	{ "telegraf_bondLACPUpDown_802.3ad_eth1_down.txt", "802.3ad", NULL, 2, 1, 1, 0 },
	{ "insights_BONDINFO_1_round-robin_2slaves_up.txt", "balance-rr", NULL, 2, 2, 0, 0 },
	{ "insights_BONDINFO_MODE_2_balance-xor_layer2+3.txt", "balance-xor", NULL, 2, 2, 0, 0 },
	/* eth2 is MII up but in aggregator 2 while 3 is active: no traffic.
	 * The bare "Speed" line insights added is the one skipped line. */
	{ "insights_BONDINFO_MODE_4_802.3ad_old_driver_v3.2.4_aggregator_mismatch.txt", "802.3ad",
	  NULL, 2, 1, 1, 1 },
	{ "insights_BONDINFO_MODE_5_active-backup_10G.txt", "active-backup", "enp17s0f0", 2, 2, 0,
	  0 },
	{ "insights_BONDINFO_MODE_7_active-backup_arp_monitor_primary_reselect.txt",
	  "active-backup", "em3", 2, 2, 0, 0 },
	{ "insights_BOND_MODE_4_802.3ad_slave_enp0s8_down_lacp_pdu_details.txt", "802.3ad", NULL, 2,
	  1, 1, 0 },
};

static void test_corpus_samples(void)
{
	size_t i;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		struct bond_info b;
		struct hr_sample s;
		const char *l;

		CU_ASSERT_EQUAL_FATAL(parse_fixture(corpus[i].file, &b), 0);
		CU_ASSERT_EQUAL(b.skipped, corpus[i].skipped);
		CU_ASSERT_EQUAL(bond_fill_sample(&b, "bond0", &s), 0);
		CU_ASSERT_STRING_EQUAL(s.probe, "bond");
		CU_ASSERT_STRING_EQUAL(s.instance, "bond0");
		ASSERT_VAL(&s, "slaves", corpus[i].slaves);
		ASSERT_VAL(&s, "slaves_up", corpus[i].up);
		ASSERT_VAL(&s, "degraded", corpus[i].degraded);
		l = hr_sample_get_label(&s, "mode");
		CU_ASSERT_PTR_NOT_NULL(l);
		if (l != NULL)
			CU_ASSERT_STRING_EQUAL(l, corpus[i].mode);
		l = hr_sample_get_label(&s, "active_slave");
		if (corpus[i].active == NULL) {
			CU_ASSERT_PTR_NULL(l);
		} else {
			CU_ASSERT_PTR_NOT_NULL(l);
			if (l != NULL)
				CU_ASSERT_STRING_EQUAL(l, corpus[i].active);
		}
		if (s.nvalues != 3 || s.truncated != 0)
			fprintf(stderr, "%s: %zu values\n", corpus[i].file, s.nvalues);
		CU_ASSERT_EQUAL(s.nvalues, 3);
		bond_info_free(&b);
	}
}

/* Insights reports the kernel mode number ("bond_mode": "4"). */
static const char *mode_by_number(const char *num)
{
	static const char *const names[] = { "balance-rr", "active-backup", "balance-xor",
					     "broadcast", "802.3ad", "balance-tlb",
					     "balance-alb" };
	int64_t n = -1;

	if (hr_parse_i64(num, strlen(num), &n) < 0)
		return "?";
	return n >= 0 && n < 7 ? names[n] : "?";
}

static int json_int(const cJSON *o)
{
	int64_t v;

	if (cJSON_IsNumber(o))
		return o->valueint;
	if (cJSON_IsString(o) && hr_parse_i64(o->valuestring, strlen(o->valuestring), &v) == 0)
		return (int)v;
	return -999;
}

/* Every fact expected.json transcribes from telegraf's and insights' tests
 * that the parser keeps: slave names, order and count, MII status of the
 * bond and each slave, aggregator IDs, the active slave and the mode. */
static void test_corpus_expected_json(void)
{
	char path[1024];
	cJSON *root, *files, *f;
	size_t len;
	char *text;
	int checked = 0;

	snprintf(path, sizeof(path), "%s", fixture("bonding/expected.json"));
	text = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	root = cJSON_Parse(text);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	files = cJSON_GetObjectItemCaseSensitive(root, "files");
	CU_ASSERT_PTR_NOT_NULL_FATAL(files);
	cJSON_ArrayForEach(f, files) {
		struct bond_info b;
		const cJSON *o, *sl, *bond;

		CU_ASSERT_EQUAL_FATAL(parse_fixture(f->string, &b), 0);
		o = cJSON_GetObjectItemCaseSensitive(f, "slave_count");
		if (o != NULL)
			CU_ASSERT_EQUAL(b.nslaves, (size_t)json_int(o));
		bond = cJSON_GetObjectItemCaseSensitive(f, "bond");
		if (bond != NULL) {
			o = cJSON_GetObjectItemCaseSensitive(bond, "status");
			if (o != NULL)
				CU_ASSERT_EQUAL(b.mii_up, json_int(o));
			o = cJSON_GetObjectItemCaseSensitive(bond, "active_slave");
			if (cJSON_IsString(o))
				CU_ASSERT_STRING_EQUAL(b.active_slave, o->valuestring);
		}
		o = cJSON_GetObjectItemCaseSensitive(f, "mii_status");
		if (cJSON_IsString(o))
			CU_ASSERT_EQUAL(b.mii_up, strcmp(o->valuestring, "up") == 0);
		o = cJSON_GetObjectItemCaseSensitive(f, "active_slave");
		if (cJSON_IsString(o))
			CU_ASSERT_STRING_EQUAL(b.active_slave, o->valuestring);
		if (cJSON_IsNull(o))
			CU_ASSERT_STRING_EQUAL(b.active_slave, "");
		o = cJSON_GetObjectItemCaseSensitive(f, "bond_mode");
		if (cJSON_IsString(o))
			CU_ASSERT_STRING_EQUAL(b.mode, mode_by_number(o->valuestring));
		o = cJSON_GetObjectItemCaseSensitive(f, "slave_interface");
		if (cJSON_IsArray(o)) {
			const cJSON *e;
			size_t i = 0;

			CU_ASSERT_EQUAL(b.nslaves, (size_t)cJSON_GetArraySize(o));
			cJSON_ArrayForEach(e, o) {
				if (i < b.nslaves)
					CU_ASSERT_STRING_EQUAL(b.slaves[i].name, e->valuestring);
				i++;
			}
		}
		/* insights lists every "Aggregator ID" in file order: the active
		 * aggregator's first, then each slave's. */
		o = cJSON_GetObjectItemCaseSensitive(f, "aggregator_id");
		if (cJSON_IsArray(o) && cJSON_GetArraySize(o) == (int)b.nslaves + 1) {
			size_t i;

			CU_ASSERT_EQUAL(b.active_agg, json_int(cJSON_GetArrayItem(o, 0)));
			for (i = 0; i < b.nslaves; i++)
				CU_ASSERT_EQUAL(b.slaves[i].agg_id,
						json_int(cJSON_GetArrayItem(o, (int)i + 1)));
		} else if (o != NULL) {
			CU_FAIL("aggregator_id list does not match the slaves");
		}
		sl = cJSON_GetObjectItemCaseSensitive(f, "slaves");
		cJSON_ArrayForEach(o, sl) {
			const struct bond_slave *s = find_slave(&b, o->string);
			const cJSON *v;

			CU_ASSERT_PTR_NOT_NULL(s);
			if (s == NULL)
				continue;
			v = cJSON_GetObjectItemCaseSensitive(o, "status");
			if (v != NULL)
				CU_ASSERT_EQUAL(s->mii_up, json_int(v));
			v = cJSON_GetObjectItemCaseSensitive(o, "mii_status");
			if (cJSON_IsString(v))
				CU_ASSERT_EQUAL(s->mii_up, strcmp(v->valuestring, "up") == 0);
			v = cJSON_GetObjectItemCaseSensitive(o, "aggregator_id");
			if (v != NULL)
				CU_ASSERT_EQUAL(s->agg_id, json_int(v));
		}
		bond_info_free(&b);
		checked++;
	}
	CU_ASSERT_EQUAL(checked, 9);
	cJSON_Delete(root);
}

static const struct hr_sample *find(const struct hr_recsink *rec, const char *inst)
{
	return hr_recsink_find(rec, "bond", inst);
}

/* node_exporter's tree has the bonds only in sysfs: bond0 with no slaves,
 * dmz with both up, int with eth1 down (node_exporter's bonding test:
 * slaves 0/2/2, active 0/2/1). */
static void test_node_exporter_sysfs(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, fixture("node_exporter/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 3);
	s = find(&rec, "bond0");
	CU_ASSERT_PTR_NOT_NULL(s);
	ASSERT_VAL(s, "slaves", 0);
	ASSERT_VAL(s, "slaves_up", 0);
	ASSERT_VAL(s, "degraded", 1);
	s = find(&rec, "dmz");
	CU_ASSERT_PTR_NOT_NULL(s);
	ASSERT_VAL(s, "slaves", 2);
	ASSERT_VAL(s, "slaves_up", 2);
	ASSERT_VAL(s, "degraded", 0);
	s = find(&rec, "int");
	CU_ASSERT_PTR_NOT_NULL(s);
	ASSERT_VAL(s, "slaves", 2);
	ASSERT_VAL(s, "slaves_up", 1);
	ASSERT_VAL(s, "degraded", 1);
	/* The capture has no bonding/mode file: no mode is made up. */
	CU_ASSERT_PTR_NULL(s ? hr_sample_get_label(s, "mode") : NULL);
	hr_recsink_free(&rec);
}

static int put(const char *root, const char *path, const char *text)
{
	return write_file(root, path, text, strlen(text));
}

static int put_fixture(const char *root, const char *path, const char *file)
{
	char p[1024];
	size_t len;
	char *buf;
	int rc;

	snprintf(p, sizeof(p), "%s", fixture("bonding/"));
	strncat(p, file, sizeof(p) - strlen(p) - 1);
	buf = slurp(p, &len);
	if (buf == NULL)
		return -1;
	rc = write_file(root, path, buf, len);
	free(buf);
	return rc;
}

/* /proc first, sysfs for what /proc lacks or for bonds without a /proc
 * file; slaves found under the master (slave_X, lower_X) or in their own
 * folder; 802.3ad aggregators from sysfs too. */
static void test_proc_and_sysfs_root(void)
{
	const char *root = tmpdir_new("bond");
	struct hr_recsink rec;
	const struct hr_sample *s;
	const char *l;

	CU_ASSERT_EQUAL(put_fixture(root, "/proc/net/bonding/bond0",
				    "telegraf_bondLACPUpDown_802.3ad_eth1_down.txt"), 0);
	put(root, "/sys/class/net/bonding_masters", "bond0 bond1 lacp\n");
	/* bond0's sysfs disagrees: /proc wins for the slaves. */
	put(root, "/sys/class/net/bond0/bonding/slaves", "eth0 eth1 eth9\n");
	put(root, "/sys/class/net/bond1/bonding/mode", "active-backup 1\n");
	put(root, "/sys/class/net/bond1/bonding/slaves", "eth7 eth8\n");
	put(root, "/sys/class/net/bond1/bonding/active_slave", "eth7\n");
	put(root, "/sys/class/net/bond1/lower_eth7/bonding_slave/mii_status", "up\n");
	put(root, "/sys/class/net/eth8/bonding_slave/mii_status", "going back\n");
	put(root, "/sys/class/net/lacp/bonding/mode", "802.3ad 4\n");
	put(root, "/sys/class/net/lacp/bonding/ad_aggregator", "1\n");
	put(root, "/sys/class/net/lacp/bonding/slaves", "ens1 ens2\n");
	put(root, "/sys/class/net/lacp/slave_ens1/bonding_slave/mii_status", "up\n");
	put(root, "/sys/class/net/lacp/slave_ens1/bonding_slave/ad_aggregator_id", "1\n");
	put(root, "/sys/class/net/lacp/slave_ens2/bonding_slave/mii_status", "up\n");
	put(root, "/sys/class/net/lacp/slave_ens2/bonding_slave/ad_aggregator_id", "2\n");
	/* A /proc-only bond, not in bonding_masters. */
	put_fixture(root, "/proc/net/bonding/bond7", "insights_BONDINFO_MODE_5_active-backup_10G.txt");

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 4);
	s = find(&rec, "bond0");
	ASSERT_VAL(s, "slaves", 2);
	ASSERT_VAL(s, "slaves_up", 1);
	ASSERT_VAL(s, "degraded", 1);
	s = find(&rec, "bond1");
	ASSERT_VAL(s, "slaves", 2);
	ASSERT_VAL(s, "slaves_up", 1);
	ASSERT_VAL(s, "degraded", 1);
	l = s ? hr_sample_get_label(s, "mode") : NULL;
	CU_ASSERT(l != NULL && strcmp(l, "active-backup") == 0);
	l = s ? hr_sample_get_label(s, "active_slave") : NULL;
	CU_ASSERT(l != NULL && strcmp(l, "eth7") == 0);
	s = find(&rec, "lacp");
	ASSERT_VAL(s, "slaves", 2);
	ASSERT_VAL(s, "slaves_up", 1);
	ASSERT_VAL(s, "degraded", 1);
	s = find(&rec, "bond7");
	ASSERT_VAL(s, "slaves", 2);
	ASSERT_VAL(s, "slaves_up", 2);
	ASSERT_VAL(s, "degraded", 0);
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* A host without the bonding driver has no bonds: nothing, and no error. */
static void test_no_bonding(void)
{
	const char *root = tmpdir_new("bond");
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	/* The procfs capture has /proc but no bonding either. */
	CU_ASSERT_EQUAL(run_probe(&probe_bond, fixture("procfs/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Broken sources: a garbage /proc file next to a good one; a listed bond
 * with nothing readable; a bonding_masters entry that tries to leave
 * /sys/class/net. The probe reports what it can. */
static void test_broken_root(void)
{
	const char *root = tmpdir_new("bond");
	struct hr_recsink rec;
	const struct hr_sample *s;
	static const char garbage[] = "\x01\x02garbage\0\xff\nSlave Interface: ../x\nMII Status:\n";

	write_file(root, "/proc/net/bonding/bad", garbage, sizeof(garbage) - 1);
	put_fixture(root, "/proc/net/bonding/good", "telegraf_bondLACP_802.3ad_both_up.txt");
	put(root, "/sys/class/net/bonding_masters", "good ghost ../../etc bad\n");
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	s = find(&rec, "good");
	ASSERT_VAL(s, "slaves_up", 2);
	ASSERT_VAL(s, "degraded", 0);
	CU_ASSERT_PTR_NULL(find(&rec, "bad"));
	CU_ASSERT_PTR_NULL(find(&rec, "ghost"));
	hr_recsink_free(&rec);
	rm_rf(root);

	/* Bonds listed, none readable: read() says so. */
	root = tmpdir_new("bond");
	put(root, "/sys/class/net/bonding_masters", "bond0\n");
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, NULL, &rec), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	hr_recsink_free(&rec);
	rm_rf(root);
}

struct parse_case {
	const char *name;
	const char *text;
	int fill_rc;       /* bond_fill_sample's result */
	double slaves, up, degraded; /* NAN: value must be absent */
	unsigned skipped;
};

static void test_garbled_text(void)
{
	static const struct parse_case cases[] = {
		{ "empty", "", -1, NAN, NAN, NAN, 0 },
		{ "header only", "Ethernet Channel Bonding Driver: v3.7.1\n", -1, NAN, NAN, NAN, 0 },
		{ "bond without slaves",
		  "Bonding Mode: fault-tolerance (active-backup)\nCurrently Active Slave: None\n"
		  "MII Status: down\n", 0, 0, 0, 1, 0 },
		{ "cut before the slave's status",
		  "Bonding Mode: load balancing (xor)\n\nSlave Interface: eth0\n", 0, 1, NAN, NAN, 0 },
		{ "status going down",
		  "Bonding Mode: load balancing (xor)\nSlave Interface: eth0\nMII Status: going down\n"
		  "Slave Interface: eth1\nMII Status: up\n", 0, 2, 1, 1, 0 },
		{ "CRLF line ends",
		  "Bonding Mode: load balancing (round-robin)\r\nSlave Interface: eth0\r\n"
		  "MII Status: up\r\n", 0, 1, 1, 0, 0 },
		{ "bad slave name",
		  "Bonding Mode: load balancing (xor)\nSlave Interface: ../../etc\nMII Status: up\n",
		  0, 0, 0, 1, 1 },
		{ "empty status and bad aggregator",
		  "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\nActive Aggregator Info:\n"
		  "\tAggregator ID: x\nSlave Interface: eth0\nMII Status:\nAggregator ID: -3\n",
		  0, 1, NAN, NAN, 3 },
		{ "no active aggregator",
		  "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n802.3ad info\n"
		  "bond0 has no active aggregator\nSlave Interface: eth0\nMII Status: up\n"
		  "Aggregator ID: 5\n", 0, 1, 1, 0, 0 },
		{ "unindented line ends the aggregator block",
		  "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\nActive Aggregator Info:\n"
		  "\tAggregator ID: 1\nAggregator ID: 9\nSlave Interface: eth0\nMII Status: up\n"
		  "Aggregator ID: 1\n", 0, 1, 1, 0, 0 },
		{ "line without colon", "Bonding Mode: load balancing (xor)\nnonsense\n", 0, 0, 0, 1,
		  1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bond_info b;
		struct hr_sample s;
		int rc;

		bond_info_init(&b);
		CU_ASSERT_EQUAL(bond_parse_proc(cases[i].text, strlen(cases[i].text), &b), 0);
		rc = bond_fill_sample(&b, "b", &s);
		if (rc != cases[i].fill_rc || b.skipped != cases[i].skipped)
			fprintf(stderr, "case %s: rc %d skipped %u\n", cases[i].name, rc, b.skipped);
		CU_ASSERT_EQUAL(rc, cases[i].fill_rc);
		CU_ASSERT_EQUAL(b.skipped, cases[i].skipped);
		if (rc == 0) {
			double want[3] = { cases[i].slaves, cases[i].up, cases[i].degraded };
			const char *names[3] = { "slaves", "slaves_up", "degraded" };
			int k;

			for (k = 0; k < 3; k++) {
				if (isnan(want[k])) {
					ASSERT_NO_VAL(&s, names[k]);
				} else {
					ASSERT_VAL(&s, names[k], want[k]);
				}
			}
		}
		bond_info_free(&b);
	}
}

/* Every prefix of every capture (a file cut anywhere) parses without harm,
 * and what is reported stays consistent: slaves_up <= slaves, and degraded
 * exactly when a slave is not carrying traffic or there are none. */
static void test_truncated_captures(void)
{
	size_t i, cut;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		char path[1024];
		size_t len;
		char *buf;

		snprintf(path, sizeof(path), "%s", fixture("bonding/"));
		strncat(path, corpus[i].file, sizeof(path) - strlen(path) - 1);
		buf = slurp(path, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		for (cut = 0; cut <= len; cut++) {
			struct bond_info b;
			struct hr_sample s;
			double n, up, deg;

			bond_info_init(&b);
			CU_ASSERT_EQUAL(bond_parse_proc(buf, cut, &b), 0);
			if (bond_fill_sample(&b, "bond0", &s) == 0) {
				n = sval(&s, "slaves");
				up = sval(&s, "slaves_up");
				deg = sval(&s, "degraded");
				CU_ASSERT(n >= 0 && n <= corpus[i].slaves);
				if (!isnan(up)) {
					CU_ASSERT(up <= n);
					CU_ASSERT_EQUAL(deg, (n == 0 || up < n) ? 1 : 0);
				} else {
					CU_ASSERT(isnan(deg));
				}
			}
			bond_info_free(&b);
		}
		free(buf);
	}
}

static void test_mode_names(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "load balancing (round-robin)", "balance-rr" },
		{ "fault-tolerance (active-backup)", "active-backup" },
		{ "load balancing (xor)", "balance-xor" },
		{ "fault-tolerance (broadcast)", "broadcast" },
		{ "IEEE 802.3ad Dynamic link aggregation", "802.3ad" },
		{ "transmit load balancing", "balance-tlb" },
		{ "adaptive load balancing", "balance-alb" },
		{ "balance-rr 0", "balance-rr" },
		{ "802.3ad 4", "802.3ad" },
		{ "balance-alb 6", "balance-alb" },
		{ "  some future mode  ", "some future mode" },
	};
	char buf[BOND_MODE_MAX], small[4];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bond_mode_name(buf, sizeof(buf), cases[i].in, strlen(cases[i].in));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].out);
	}
	bond_mode_name(small, sizeof(small), "unknown", 7);
	CU_ASSERT_STRING_EQUAL(small, "unk");
}

/* bond takes no keys but "interval"; a typo is a config error. */
static void test_config(void)
{
	const char *root = tmpdir_new("bond");
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, "{\"interval\": 30}", &rec), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, "{\"bonds\": [\"bond0\"]}", &rec), -2);
	CU_ASSERT_EQUAL(run_probe(&probe_bond, root, "[1]", &rec), -2);
	hr_recsink_free(&rec);
	rm_rf(root);
}

static CU_TestInfo tests[] = {
	{ "corpus captures give slaves, slaves_up, degraded, labels", test_corpus_samples },
	{ "corpus captures match the sources' expected.json", test_corpus_expected_json },
	{ "node_exporter sysfs bonds", test_node_exporter_sysfs },
	{ "proc and sysfs combined", test_proc_and_sysfs_root },
	{ "no bonding driver", test_no_bonding },
	{ "broken roots", test_broken_root },
	{ "garbled text", test_garbled_text },
	{ "every truncation of every capture", test_truncated_captures },
	{ "mode names", test_mode_names },
	{ "config", test_config },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("bond", tests);
}
