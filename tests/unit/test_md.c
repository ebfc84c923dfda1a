/* test_md.c: the md probe against real /proc/mdstat captures (pymdstat,
 * telegraf, procfs/node_exporter fixtures, each checked against the facts
 * their projects' tests state, in our semantics), against the procfs and
 * node_exporter roots with their sysfs trees, and against broken input. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md.h"
#include "testutil.h"
#include "util.h"

#define X NAN /* "left out of the sample" */

/* One array as the sample must show it; NULL labels and X values must be
 * absent. */
struct want {
	const char *name;
	const char *level, *state, *sync_action;
	double disks, active, failed, spare, missing, degraded, sync_percent;
};

static void check_sample(const char *where, const struct hr_sample *s, const struct want *w)
{
	static const char *const vn[] = { "disks", "active", "failed", "spare", "missing",
					  "degraded", "sync_percent" };
	const double wv[] = { w->disks, w->active, w->failed, w->spare, w->missing,
			      w->degraded, w->sync_percent };
	const char *const ln[] = { "level", "state", "sync_action" };
	const char *const wl[] = { w->level, w->state, w->sync_action };
	size_t i;

	if (s == NULL) {
		fprintf(stderr, "%s: %s: no sample\n", where, w->name);
		CU_FAIL("array not reported");
		return;
	}
	for (i = 0; i < 7; i++) {
		double have = sval(s, vn[i]);
		int ok = isnan(wv[i]) ? isnan(have) : (!isnan(have) && fabs(have - wv[i]) < 1e-6);

		if (!ok)
			fprintf(stderr, "%s: %s: %s = %g, want %g\n", where, w->name, vn[i], have, wv[i]);
		CU_ASSERT(ok);
	}
	for (i = 0; i < 3; i++) {
		const char *have = hr_sample_get_label(s, ln[i]);
		int ok = wl[i] == NULL ? have == NULL : (have != NULL && strcmp(have, wl[i]) == 0);

		if (!ok)
			fprintf(stderr, "%s: %s: label %s = %s, want %s\n", where, w->name, ln[i],
				have ? have : "(none)", wl[i] ? wl[i] : "(none)");
		CU_ASSERT(ok);
	}
	CU_ASSERT_EQUAL(s->truncated, 0);
}

static char *load(const char *rel, size_t *len)
{
	struct hr_err err;
	char *buf = NULL;

	if (hr_read_file(NULL, fixture(rel), &buf, len, HR_FILE_CAP, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return NULL;
	}
	return buf;
}

/* Parses fixture file rel as /proc/mdstat alone (no sysfs). */
static struct md_mdstat *parse_fixture(const char *rel)
{
	struct md_mdstat *m = malloc(sizeof(*m));
	size_t len;
	char *buf = load(rel, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	md_mdstat_parse(buf, len, m);
	free(buf);
	return m;
}

static void check_mdstat_array(const char *rel, const struct md_mdstat *m, const struct want *w)
{
	const struct md_stat *a = md_mdstat_find(m, w->name);
	struct md_report r;
	struct hr_sample s;

	if (a == NULL) {
		fprintf(stderr, "%s: %s: not parsed\n", rel, w->name);
		CU_FAIL("array not parsed");
		return;
	}
	md_report_from_stat(a, &r);
	md_report_sample(&r, &s);
	CU_ASSERT_STRING_EQUAL(s.probe, "md");
	CU_ASSERT_STRING_EQUAL(s.instance, w->name);
	check_sample(rel, &s, w);
}

/* A file, how many arrays it holds, how many parts must be skipped, and
 * every array's expected sample. */
struct file_case {
	const char *rel;
	size_t count;
	unsigned problems;
	struct want arrays[20];
};

static void run_file_cases(const struct file_case *fc, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct md_mdstat *m = parse_fixture(fc[i].rel);

		if (m->count != fc[i].count || m->problems != fc[i].problems)
			fprintf(stderr, "%s: %zu arrays, %u problems\n", fc[i].rel, m->count,
				m->problems);
		CU_ASSERT_EQUAL(m->count, fc[i].count);
		CU_ASSERT_EQUAL(m->problems, fc[i].problems);
		CU_ASSERT_EQUAL(m->dropped, 0);
		for (j = 0; j < fc[i].count; j++)
			check_mdstat_array(fc[i].rel, m, &fc[i].arrays[j]);
		free(m);
	}
}

/* pymdstat's expected.json: "available" is our disks, "used" our active,
 * the '_' of "config" our missing, "type" our level, "status" our state
 * (inactive arrays: pymdstat leaves the counters None where the file shows
 * none). Its quirk of listing only sdb in mdstat.09's md2 is not ours: we
 * count all four spares. raid0 has no counters in pymdstat; we count the
 * members. */
static const struct file_case pymdstat_cases[] = {
	{ "mdraid/pymdstat/mdstat.01_no_arrays_empty_personalities", 0, 0, { { NULL } } },
	{ "mdraid/pymdstat/mdstat.02_raid5_md_d0_clean_5of5_bitmap", 1, 0, {
		{ "md_d0", "raid5", "active", "idle", 5, 5, 0, 0, 0, 0, -1 } } },
	{ "mdraid/pymdstat/mdstat.03_raid5_degraded_UUU__4of3", 1, 0, {
		{ "md0", "raid5", "active", "idle", 4, 3, 0, 0, 1, 1, -1 } } },
	{ "mdraid/pymdstat/mdstat.04_four_arrays_raid1_raid5_clean", 4, 0, {
		{ "md1", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md2", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md3", "raid5", "active", "idle", 10, 10, 0, 0, 0, 0, -1 },
		{ "md0", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } } },
	/* Recovery after a failure: still degraded until the rebuild ends. */
	{ "mdraid/pymdstat/mdstat.05_raid5_recovery_12.6pct_degraded_UUUUU_", 1, 0, {
		{ "md127", "raid5", "active", "recover", 6, 5, 0, 0, 1, 1, 12.6 } } },
	{ "mdraid/pymdstat/mdstat.06_raid6_clean_7of7_bitmap", 1, 0, {
		{ "md0", "raid6", "active", "idle", 7, 7, 0, 0, 0, 0, -1 } } },
	{ "mdraid/pymdstat/mdstat.07_raid1_degraded__UUUU__failed_F", 1, 0, {
		{ "md1", "raid1", "active", "idle", 6, 4, 1, 0, 2, 1, -1 } } },
	/* Inactive: counts we know, no degraded or progress invented. */
	{ "mdraid/pymdstat/mdstat.08_raid5_inactive", 1, 0, {
		{ "md0", "raid5", "inactive", NULL, 4, X, 0, 0, X, X, X } } },
	{ "mdraid/pymdstat/mdstat.09_raid1_x2_plus_inactive_all_spares", 3, 0, {
		{ "md0", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md1", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md2", NULL, "inactive", NULL, X, X, 0, 4, X, X, X } } },
	{ "mdraid/pymdstat/mdstat.10_raid1_raid0_nvme_multi_array_bitmap", 4, 0, {
		{ "md129", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md128", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md125", "raid0", "active", "idle", 6, 6, 0, 0, 0, 0, -1 },
		{ "md126", "raid0", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } } },
	{ "mdraid/pymdstat/mdstat.11_inactive_with_spare_no_level", 1, 0, {
		{ "md127", NULL, "inactive", NULL, X, X, 0, 1, X, X, X } } },
	{ "mdraid/pymdstat/mdstat.12_raid0_loop_devices", 1, 0, {
		{ "md127", "raid0", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } } },
	/* [4/3] [UU__]: the kernel's degraded count (1) is missing; the two
	 * '_' come from the reshape's new slot. Degraded either way. */
	{ "mdraid/pymdstat/mdstat.13_raid4_reshape_2.1pct_degraded_UU__", 1, 0, {
		{ "md127", "raid4", "active", "reshape", 4, 3, 0, 0, 1, 1, 2.1 } } },
	{ "mdraid/pymdstat/mdstat.14_raid0_two_disks", 1, 0, {
		{ "md127", "raid0", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } } },
	/* Status lines not indented. */
	{ "mdraid/pymdstat/mdstat.15_raid6_raid1_unindented_block_lines", 4, 0, {
		{ "md3", "raid6", "active", "idle", 8, 8, 0, 0, 0, 0, -1 },
		{ "md2", "raid6", "active", "idle", 8, 8, 0, 0, 0, 0, -1 },
		{ "md1", "raid1", "active", "idle", 8, 8, 0, 0, 0, 0, -1 },
		{ "md0", "raid1", "active", "idle", 8, 8, 0, 0, 0, 0, -1 } } },
	{ "mdraid/pymdstat/mdstat.16_raid5_8disk_bitmap_no_trailer", 1, 0, {
		{ "md1", "raid5", "active", "idle", 8, 8, 0, 0, 0, 0, -1 } } },
};

static void test_pymdstat(void)
{
	run_file_cases(pymdstat_cases, sizeof(pymdstat_cases) / sizeof(pymdstat_cases[0]));
}

/* telegraf's expected.json: DisksTotal/Active/Failed/Spare/Down are our
 * disks/active/failed/spare/missing; BlocksSyncedPct is our sync_percent,
 * except when idle, where telegraf says 0 and we say -1. telegraf rejects
 * the INVALID file as a whole; we skip its garbage line and report md0. */
static const struct file_case telegraf_cases[] = {
	/* A routine check of a complete array: degraded 0, never a page. */
	{ "mdraid/telegraf/mdstat_raid10_near_copies_check_94.3pct_bitmap_plus_two_raid1.txt", 3, 0, {
		{ "md2", "raid10", "active", "check", 12, 12, 0, 0, 0, 0, 94.3 },
		{ "md1", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md0", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } } },
	{ "mdraid/telegraf/mdstat_raid5_degraded_UUU__bitmap.txt", 1, 0, {
		{ "md0", "raid5", "active", "idle", 4, 3, 0, 0, 1, 1, -1 } } },
	{ "mdraid/telegraf/mdstat_empty_no_arrays.txt", 0, 0, { { NULL } } },
	{ "mdraid/telegraf/mdstat_INVALID_garbage_line.txt", 1, 1, {
		{ "md0", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } } },
};

static void test_telegraf(void)
{
	struct md_mdstat *m;

	run_file_cases(telegraf_cases, sizeof(telegraf_cases) / sizeof(telegraf_cases[0]));
	m = parse_fixture("mdraid/telegraf/mdstat_INVALID_garbage_line.txt");
	CU_ASSERT_EQUAL(m->first_problem, 3); /* "mdf1: testman actve" */
	free(m);
}

/* The 18-array procfs fixture, read as mdstat alone. procfs's own
 * TestFS_MDStat agrees on active/failed/spare/down/percent for the active
 * arrays (it says 0 disks for inactive ones, we say what "[n/m]" shows). */
static const struct want procfs_mdstat[] = {
	{ "md3", "raid6", "active", "idle", 8, 8, 0, 2, 0, 0, -1 },
	{ "md127", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md0", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md4", "raid1", "inactive", NULL, 2, X, 1, 1, X, X, X },
	{ "md6", "raid1", "active", "recover", 2, 1, 1, 1, 1, 1, 8.5 },
	{ "md8", "raid1", "active", "resync", 2, 2, 0, 2, 0, 0, 8.5 },
	{ "md201", "raid1", "active", "check", 2, 2, 0, 0, 0, 0, 5.7 },
	{ "md7", "raid6", "active", "idle", 4, 3, 1, 0, 1, 1, -1 },
	{ "md9", "raid1", "active", "resync", 4, 4, 2, 1, 0, 0, 0 },       /* DELAYED */
	{ "md10", "raid0", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md11", "raid1", "read-auto", "resync", 2, 2, 1, 2, 0, 0, 0 },   /* PENDING */
	{ "md12", "raid0", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md126", "raid0", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md219", NULL, "inactive", NULL, X, X, 0, 3, X, X, X },          /* IMSM container */
	{ "md00", "raid0", "active", "idle", 1, 1, 0, 0, 0, 0, -1 },
	{ "md120", "linear", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md101", "raid0", "readonly", "idle", 3, 3, 0, 0, 0, 0, -1 },
	{ "md42", "raid5", "active", "reshape", 3, 2, 0, 1, 1, 1, 56.1 },
};

static void test_procfs_mdstat(void)
{
	struct md_mdstat *m = parse_fixture("procfs/root/proc/mdstat");
	size_t i;

	CU_ASSERT_EQUAL(m->count, 18);
	CU_ASSERT_EQUAL(m->problems, 0);
	for (i = 0; i < sizeof(procfs_mdstat) / sizeof(procfs_mdstat[0]); i++)
		check_mdstat_array("procfs mdstat", m, &procfs_mdstat[i]);
	free(m);
}

/* The procfs root through the probe: its sysfs trees (md0 md1 md4 md5 md6
 * md7 md8 md10) come from other machines than its mdstat, so they disagree,
 * and sysfs wins wherever it says something. md1 and md5 exist only in
 * sysfs and are reported too. */
static const struct want procfs_root[] = {
	{ "md0", "raid0", "clean", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md1", "raid1", "clean", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md4", "raid4", "clean", "idle", 3, 3, 0, 0, 0, 0, -1 },
	/* degraded 1, one faulty, one idle spare not yet taken in */
	{ "md5", "raid5", "clean", "idle", 3, 2, 1, 1, 1, 1, -1 },
	/* recovering into the spare sdt: 1569888/2093056 sectors */
	{ "md6", "raid6", "active", "recover", 4, 3, 0, 0, 1, 1, 1569888.0 * 100 / 2093056 },
	/* sysfs: an inactive container; mdstat fills disks and failed */
	{ "md7", "container", "inactive", NULL, 4, X, 1, 0, X, X, X },
	/* raid_disks "11 (10)" during a reshape; sync_completed "none" and
	 * mdstat shows a resync, not this reshape: percent unknown */
	{ "md8", "raid5", "active", "reshape", 11, 11, 0, 0, 0, 0, X },
	{ "md10", "raid10", "clean", "idle", 4, 4, 0, 0, 0, 0, -1 },
	/* no sysfs: from mdstat */
	{ "md3", "raid6", "active", "idle", 8, 8, 0, 2, 0, 0, -1 },
	{ "md201", "raid1", "active", "check", 2, 2, 0, 0, 0, 0, 5.7 },
	{ "md9", "raid1", "active", "resync", 4, 4, 2, 1, 0, 0, 0 },
	{ "md11", "raid1", "read-auto", "resync", 2, 2, 1, 2, 0, 0, 0 },
	{ "md219", NULL, "inactive", NULL, X, X, 0, 3, X, X, X },
	{ "md42", "raid5", "active", "reshape", 3, 2, 0, 1, 1, 1, 56.1 },
};

static void test_procfs_root(void)
{
	struct hr_recsink rec;
	size_t i;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_md, fixture("procfs/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 20); /* 18 in mdstat + md1, md5 */
	for (i = 0; i < sizeof(procfs_root) / sizeof(procfs_root[0]); i++)
		check_sample("procfs root", hr_recsink_find(&rec, "md", procfs_root[i].name),
			     &procfs_root[i]);
	/* sysfs-only arrays come after mdstat's, sorted */
	CU_ASSERT(rec.count == 20 && strcmp(rec.samples[18].instance, "md1") == 0 &&
		  strcmp(rec.samples[19].instance, "md5") == 0);
	for (i = 0; i < rec.count; i++)
		CU_ASSERT_EQUAL(rec.samples[i].t, 0);
	hr_recsink_free(&rec);
}

/* node_exporter's root: the same mdstat minus md42, sysfs for md0 md1 md4
 * md5 md6 md10 only, so md7 and md8 come from mdstat here. */
static const struct want node_root[] = {
	{ "md0", "raid0", "clean", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md5", "raid5", "clean", "idle", 3, 2, 1, 1, 1, 1, -1 },
	{ "md6", "raid6", "active", "recover", 4, 3, 0, 0, 1, 1, 1569888.0 * 100 / 2093056 },
	{ "md7", "raid6", "active", "idle", 4, 3, 1, 0, 1, 1, -1 },
	{ "md8", "raid1", "active", "resync", 2, 2, 0, 2, 0, 0, 8.5 },
	{ "md120", "linear", "active", "idle", 2, 2, 0, 0, 0, 0, -1 },
	{ "md101", "raid0", "readonly", "idle", 3, 3, 0, 0, 0, 0, -1 },
	{ "md219", NULL, "inactive", NULL, X, X, 0, 3, X, X, X },
};

static void test_node_exporter_root(void)
{
	struct hr_recsink rec;
	size_t i;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_md, fixture("node_exporter/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 19); /* 17 in mdstat + md1, md5 */
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "md", "md42"));
	for (i = 0; i < sizeof(node_root) / sizeof(node_root[0]); i++)
		check_sample("node_exporter root", hr_recsink_find(&rec, "md", node_root[i].name),
			     &node_root[i]);
	hr_recsink_free(&rec);
}

/* ---- made-up roots ---------------------------------------------------- */

static const char *put_root(const char *tag, const char *const *files)
{
	const char *dir = tmpdir_new(tag);
	static char root[512];
	size_t i;

	hr_strlcpy(root, dir, sizeof(root));
	for (i = 0; files[i] != NULL; i += 2)
		CU_ASSERT_EQUAL_FATAL(write_file(root, files[i], files[i + 1], strlen(files[i + 1])), 0);
	return root;
}

static void run_root(const char *root, const char *cfg, int want_rc, size_t want_count,
		     const struct want *w, size_t nw)
{
	struct hr_recsink rec;
	size_t i;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_md, root, cfg, &rec), want_rc);
	CU_ASSERT_EQUAL(rec.count, want_count);
	for (i = 0; i < nw; i++)
		check_sample(root, hr_recsink_find(&rec, "md", w[i].name), &w[i]);
	hr_recsink_free(&rec);
}

#define MDSTAT_RAID1_RECOVERY \
	"Personalities : [raid1]\n" \
	"md0 : active raid1 sdb[2] sda[0]\n" \
	"      1000 blocks super 1.2 [2/1] [U_]\n" \
	"      [=====>...............]  recovery = 30.0% (300/1000) finish=1.0min speed=5K/sec\n" \
	"\n" \
	"unused devices: <none>\n"

/* sysfs says a check runs on a complete array; a stale mdstat says
 * recovery of a degraded one. sysfs wins: degraded 0, check, 50 %. */
static void test_sysfs_wins_check(void)
{
	static const char *const files[] = {
		"/proc/mdstat", MDSTAT_RAID1_RECOVERY,
		"/sys/block/md0/md/array_state", "clean\n",
		"/sys/block/md0/md/level", "raid1\n",
		"/sys/block/md0/md/raid_disks", "2\n",
		"/sys/block/md0/md/degraded", "0\n",
		"/sys/block/md0/md/sync_action", "check\n",
		"/sys/block/md0/md/sync_completed", "500 / 1000\n",
		"/sys/block/md0/md/mismatch_cnt", "128\n",
		"/sys/block/md0/md/dev-sda/state", "in_sync\n",
		"/sys/block/md0/md/dev-sda/slot", "0\n",
		"/sys/block/md0/md/dev-sdb/state", "in_sync,write_mostly\n",
		"/sys/block/md0/md/dev-sdb/slot", "1\n",
		NULL,
	};
	static const struct want w[] = {
		{ "md0", "raid1", "clean", "check", 2, 2, 0, 0, 0, 0, 50 },
	};
	const char *root = put_root("md-check", files);
	struct hr_recsink rec;

	run_root(root, NULL, 0, 1, w, 1);
	hr_recsink_init(&rec);
	run_probe(&probe_md, root, NULL, &rec);
	ASSERT_VAL(hr_recsink_find(&rec, "md", "md0"), "mismatch_cnt", 128);
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* The other way round: mdstat (stale) shows a clean array, sysfs a
 * recovery into sdb (slot 1) with an idle spare sdc (slot none). */
static void test_sysfs_wins_degraded(void)
{
	static const char *const files[] = {
		"/proc/mdstat",
		"md0 : active raid1 sdc[3](S) sdb[2] sda[0]\n"
		"      1000 blocks super 1.2 [2/2] [UU]\n\n",
		"/sys/block/md0/md/array_state", "active\n",
		"/sys/block/md0/md/level", "raid1\n",
		"/sys/block/md0/md/raid_disks", "2\n",
		"/sys/block/md0/md/degraded", "1\n",
		"/sys/block/md0/md/sync_action", "recover\n",
		"/sys/block/md0/md/sync_completed", "250 / 1000\n",
		"/sys/block/md0/md/dev-sda/state", "in_sync\n",
		"/sys/block/md0/md/dev-sda/slot", "0\n",
		"/sys/block/md0/md/dev-sdb/state", "spare\n",
		"/sys/block/md0/md/dev-sdb/slot", "1\n",
		"/sys/block/md0/md/dev-sdc/state", "spare\n",
		"/sys/block/md0/md/dev-sdc/slot", "none\n",
		"/sys/block/md0/md/dev-sdd/state", "faulty,write_error\n",
		"/sys/block/md0/md/dev-sdd/slot", "none\n",
		NULL,
	};
	static const struct want w[] = {
		{ "md0", "raid1", "active", "recover", 2, 1, 1, 1, 1, 1, 25 },
	};
	const char *root = put_root("md-deg", files);

	run_root(root, NULL, 0, 1, w, 1);
	rm_rf(root);
}

/* Unreadable or garbled sysfs attributes: mdstat fills in. */
static void test_sysfs_garbled_falls_back(void)
{
	static const char *const files[] = {
		"/proc/mdstat", MDSTAT_RAID1_RECOVERY,
		"/sys/block/md0/md/array_state", "\n",
		"/sys/block/md0/md/level", "raid 1 with spaces\n",
		"/sys/block/md0/md/raid_disks", "two\n",
		"/sys/block/md0/md/degraded", "-1\n",
		"/sys/block/md0/md/sync_completed", "lots\n",
		"/sys/block/md0/md/dev-sda/state", "\x01\x02garbage\n",
		NULL,
	};
	static const struct want w[] = {
		{ "md0", "raid1", "active", "recover", 2, 1, 0, 0, 1, 1, 30 },
	};
	const char *root = put_root("md-garb", files);

	run_root(root, NULL, 0, 1, w, 1);
	rm_rf(root);
}

/* sysfs-only arrays: "clear" (a stopped array's lingering device) and an
 * inactive one without members are not arrays; raid0 without
 * sync_action is idle; a broken raid0 is degraded; "delayed" is 0 %. */
static void test_sysfs_only(void)
{
	static const char *const files[] = {
		"/sys/block/md1/md/array_state", "clear\n",
		"/sys/block/md2/md/array_state", "inactive\n",
		"/sys/block/md3/md/array_state", "clean\n",
		"/sys/block/md3/md/level", "raid0\n",
		"/sys/block/md3/md/raid_disks", "2\n",
		"/sys/block/md3/md/dev-sda/state", "in_sync\n",
		"/sys/block/md3/md/dev-sdb/state", "in_sync\n",
		"/sys/block/md4/md/array_state", "broken\n",
		"/sys/block/md4/md/level", "raid0\n",
		"/sys/block/md4/md/raid_disks", "2\n",
		"/sys/block/md4/md/dev-sda/state", "in_sync\n",
		"/sys/block/md5/md/array_state", "read-auto\n",
		"/sys/block/md5/md/level", "raid1\n",
		"/sys/block/md5/md/raid_disks", "2\n",
		"/sys/block/md5/md/degraded", "0\n",
		"/sys/block/md5/md/sync_action", "resync\n",
		"/sys/block/md5/md/sync_completed", "delayed\n",
		"/sys/block/sda/size", "100\n",
		NULL,
	};
	static const struct want w[] = {
		{ "md3", "raid0", "clean", "idle", 2, 2, 0, 0, 0, 0, -1 },
		{ "md4", "raid0", "broken", "idle", 2, 1, 0, 0, 1, 1, -1 },
		{ "md5", "raid1", "read-auto", "resync", 2, 2, X, X, 0, 0, 0 },
	};
	const char *root = put_root("md-sys", files);

	run_root(root, NULL, 0, 3, w, 3);
	rm_rf(root);
}

/* Member flags: (W) write-mostly and (R) replacement are members, (J) a
 * journal is neither slot nor spare, (W)(F) is failed; "broken" raid0. */
static void test_member_flags_and_broken(void)
{
	static const char *const files[] = {
		"/proc/mdstat",
		"Personalities : [raid0] [raid5]\n"
		"md5 : active raid5 sda[0](W) sdb[1] sdc[2] nvme0n1[4](J) sdd[5](R) sde[6](W)(F) sdf[7](S)\n"
		"      2000 blocks super 1.2 level 5, 64k chunk, algorithm 2 [3/3] [UUU]\n"
		"md0 : broken raid0 sdg[0] sdh[1](F)\n"
		"      2000 blocks super 1.2 512k chunks\n"
		"md9 : active raid0 sdi[0] sdj[1]\n",
		NULL,
	};
	static const struct want w[] = {
		{ "md5", "raid5", "active", "idle", 3, 3, 1, 1, 0, 0, -1 },
		{ "md0", "raid0", "broken", "idle", 2, 1, 1, 0, 1, 1, -1 },
		/* no status line: the members are known, progress is not */
		{ "md9", "raid0", "active", NULL, 2, 2, 0, 0, 0, 0, X },
	};
	const char *root = put_root("md-flags", files);

	run_root(root, NULL, 0, 3, w, 3);
	rm_rf(root);
}

/* Truncated and garbled mdstat: what is understood is reported. */
static void test_truncated_and_garbled(void)
{
	static const struct {
		const char *text;
		size_t count;
		unsigned problems;
		struct want w;
	} cases[] = {
		/* header only: level and members, nothing about slots */
		{ "md0 : active raid1 sda1[0] sdb1[1]", 1, 0,
		  { "md0", "raid1", "active", NULL, X, X, 0, 0, X, X, X } },
		/* cut inside the map: "[2/1]" still tells it is degraded */
		{ "md0 : active raid1 sda1[0]\n      1000 blocks [2/1] [U", 1, 1,
		  { "md0", "raid1", "active", "idle", 2, 1, 0, 0, 1, 1, -1 } },
		/* cut inside the progress line */
		{ "md0 : active raid1 sda1[0] sdb1[1]\n      1000 blocks [2/2] [UU]\n      [=>...]  resync = ", 1, 1,
		  { "md0", "raid1", "active", "resync", 2, 2, 0, 0, 0, 0, X } },
		/* garbage and binary between arrays, a bad member, m > n */
		{ "Personalities : [raid1]\n\x01\xff\x80 garbage : active\n\nmd1 : active raid1 sda[0] sdb\n"
		  "      10 blocks [2/2] [UU]\n\nmd2 : active raid1 sdc[0]\n      10 blocks [2/3] [UU]\n"
		  "      bitmap: 0/1 pages [0KB], 65536KB chunk\n\n", 2, 3,
		  { "md1", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } },
		/* procfs's TestInvalidMdstat: an unknown state word */
		{ "Personalities : [invalid]\nmd3 : invalid\n      314159265 blocks 64k chunks\n\n"
		  "unused devices: <none>\n", 0, 2, { NULL } },
		/* an array named twice: the second is dropped */
		{ "md0 : active raid1 sda[0] sdb[1]\n 1 blocks [2/2] [UU]\n\n"
		  "md0 : active raid1 sdc[0]\n 1 blocks [2/1] [U_]\n\n", 1, 0,
		  { "md0", "raid1", "active", "idle", 2, 2, 0, 0, 0, 0, -1 } },
		/* a name that cannot be an instance */
		{ "../x : active raid1 sda[0]\n 1 blocks [1/1] [U]\n", 0, 1, { NULL } },
		/* progress written without spaces around "=" */
		{ "md0 : active raid5 sda[0] sdb[1] sdc[2]\n 1 blocks [3/3] [UUU]\n resync=42.5%\n", 1, 0,
		  { "md0", "raid5", "active", "resync", 3, 3, 0, 0, 0, 0, 42.5 } },
	};
	struct md_mdstat *m = malloc(sizeof(*m));
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		md_mdstat_parse(cases[i].text, strlen(cases[i].text), m);
		if (m->count != cases[i].count || m->problems != cases[i].problems)
			fprintf(stderr, "case %zu: %zu arrays, %u problems\n", i, m->count, m->problems);
		CU_ASSERT_EQUAL(m->count, cases[i].count);
		CU_ASSERT_EQUAL(m->problems, cases[i].problems);
		if (cases[i].w.name != NULL)
			check_mdstat_array("truncated/garbled", m, &cases[i].w);
	}
	/* the duplicate case counts one dropped array */
	md_mdstat_parse(cases[5].text, strlen(cases[5].text), m);
	CU_ASSERT_EQUAL(m->dropped, 1);
	free(m);
}

/* More arrays than MD_MAX_ARRAYS: the first ones are kept, the rest
 * counted, nothing overflows. */
static void test_too_many_arrays(void)
{
	size_t cap = (MD_MAX_ARRAYS + 10) * 64, len = 0, i;
	char *buf = malloc(cap);
	struct md_mdstat *m = malloc(sizeof(*m));

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (i = 0; i < MD_MAX_ARRAYS + 10; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"md%zu : active raid1 sda[0] sdb[1]\n 1 blocks [2/2] [UU]\n\n", i);
	md_mdstat_parse(buf, len, m);
	CU_ASSERT_EQUAL(m->count, MD_MAX_ARRAYS);
	CU_ASSERT_EQUAL(m->dropped, 10);
	CU_ASSERT_EQUAL(m->problems, 0);
	free(buf);
	free(m);
}

/* Missing, empty, unreadable sources. */
static void test_missing_and_empty(void)
{
	const char *root = tmpdir_new("md-none");
	char dir[512];
	struct hr_recsink rec;

	/* no md driver at all: no arrays, not an error */
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_md, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	/* empty mdstat */
	CU_ASSERT_EQUAL(write_file(root, "/proc/mdstat", "", 0), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_md, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	rm_rf(root);
	hr_recsink_free(&rec);

	/* /proc/mdstat that cannot be read (a folder) and no sysfs: error */
	root = tmpdir_new("md-dir");
	hr_strlcpy(dir, root, sizeof(dir));
	CU_ASSERT_EQUAL(write_file(dir, "/proc/mdstat/x", "", 0), 0);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_md, dir, NULL, &rec), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	/* ... but with sysfs arrays those are still reported */
	CU_ASSERT_EQUAL(write_file(dir, "/sys/block/md0/md/array_state", "clean\n", 6), 0);
	CU_ASSERT_EQUAL(write_file(dir, "/sys/block/md0/md/level", "raid1\n", 6), 0);
	CU_ASSERT_EQUAL(write_file(dir, "/sys/block/md0/md/raid_disks", "2\n", 2), 0);
	CU_ASSERT_EQUAL(write_file(dir, "/sys/block/md0/md/degraded", "1\n", 2), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_md, dir, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	ASSERT_VAL(hr_recsink_find(&rec, "md", "md0"), "degraded", 1);
	hr_recsink_free(&rec);
	rm_rf(dir);
}

static void test_config(void)
{
	struct hr_recsink rec;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_md, fixture("procfs/root"), "{\"interval\": 30}", &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 20);
	CU_ASSERT_EQUAL(run_probe(&probe_md, fixture("procfs/root"), "{\"arrays\": [\"md0\"]}", &rec), -2);
	CU_ASSERT_EQUAL(run_probe(&probe_md, fixture("procfs/root"), "[1]", &rec), -2);
	CU_ASSERT_STRING_EQUAL(probe_md.name, "md");
	CU_ASSERT_EQUAL(probe_md.core, 1);
	hr_recsink_free(&rec);
}

/* md_report_merge on its own: sysfs wins per fact, the slot counts stay
 * together, an inactive sysfs state drops what mdstat said about syncs. */
static void test_merge(void)
{
	struct md_stat a;
	struct md_sysfs s;
	struct md_report proc, sys, out;

	memset(&a, 0, sizeof(a));
	hr_strlcpy(a.name, "md0", sizeof(a.name));
	hr_strlcpy(a.level, "raid1", sizeof(a.level));
	a.members = 2;
	a.have_counts = 1;
	a.n = 2;
	a.m = 1;
	a.have_status = 1;
	a.sync = MD_SYNC_RECOVER;
	a.have_percent = 1;
	a.percent = 10;
	md_report_from_stat(&a, &proc);

	memset(&s, 0, sizeof(s));
	hr_strlcpy(s.array_state, "inactive", sizeof(s.array_state));
	md_report_from_sysfs("md0", &s, &sys);
	md_report_merge(&out, &sys, &proc);
	CU_ASSERT_STRING_EQUAL(out.state, "inactive");
	CU_ASSERT(isnan(out.degraded) && isnan(out.sync_percent) && out.sync_action[0] == '\0');
	CU_ASSERT_DOUBLE_EQUAL(out.disks, 2, 1e-9);

	/* sysfs knows only degraded: it wins over mdstat's slots */
	memset(&s, 0, sizeof(s));
	hr_strlcpy(s.degraded, "0", sizeof(s.degraded));
	md_report_from_sysfs("md0", &s, &sys);
	md_report_merge(&out, &sys, &proc);
	CU_ASSERT_DOUBLE_EQUAL(out.degraded, 0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(out.missing, 1, 1e-9); /* from mdstat, as a group */
	CU_ASSERT_STRING_EQUAL(out.sync_action, "recover");
	CU_ASSERT_DOUBLE_EQUAL(out.sync_percent, 10, 1e-9);

	/* same action in both, sysfs without a number: mdstat's percent */
	hr_strlcpy(s.sync_action, "recover", sizeof(s.sync_action));
	hr_strlcpy(s.sync_completed, "none", sizeof(s.sync_completed));
	md_report_from_sysfs("md0", &s, &sys);
	md_report_merge(&out, &sys, &proc);
	CU_ASSERT_DOUBLE_EQUAL(out.sync_percent, 10, 1e-9);

	/* mdstat only */
	md_report_merge(&out, NULL, &proc);
	CU_ASSERT_DOUBLE_EQUAL(out.degraded, 1, 1e-9);
}

/* dev-X/state words as md.c's state_show() writes them. */
static void test_sysfs_dev_states(void)
{
	struct md_sysfs s;

	memset(&s, 0, sizeof(s));
	md_sysfs_add_dev(&s, "in_sync", "0");
	md_sysfs_add_dev(&s, "in_sync,write_mostly", "1");
	md_sysfs_add_dev(&s, "faulty,write_error", "none");
	md_sysfs_add_dev(&s, "spare", "none");
	md_sysfs_add_dev(&s, "spare,replacement", "2");
	md_sysfs_add_dev(&s, "spare", NULL);
	md_sysfs_add_dev(&s, "journal", "3");
	md_sysfs_add_dev(&s, "blocked", "4");
	md_sysfs_add_dev(&s, "", "4");
	CU_ASSERT_EQUAL(s.ndev, 7);
	CU_ASSERT_EQUAL(s.in_sync, 2);
	CU_ASSERT_EQUAL(s.faulty, 1);
	CU_ASSERT_EQUAL(s.spare_idle, 1);
	CU_ASSERT_EQUAL(s.spare_noslot, 1);
	CU_ASSERT_EQUAL(s.problems, 2);
}

static CU_TestInfo tests[] = {
	{ "pymdstat samples", test_pymdstat },
	{ "telegraf samples", test_telegraf },
	{ "procfs 18-array mdstat", test_procfs_mdstat },
	{ "procfs root with sysfs", test_procfs_root },
	{ "node_exporter root with sysfs", test_node_exporter_root },
	{ "sysfs check beats stale mdstat recovery", test_sysfs_wins_check },
	{ "sysfs degraded beats stale clean mdstat", test_sysfs_wins_degraded },
	{ "garbled sysfs falls back to mdstat", test_sysfs_garbled_falls_back },
	{ "sysfs-only arrays", test_sysfs_only },
	{ "member flags and broken raid0", test_member_flags_and_broken },
	{ "truncated and garbled mdstat", test_truncated_and_garbled },
	{ "too many arrays", test_too_many_arrays },
	{ "missing and empty sources", test_missing_and_empty },
	{ "config", test_config },
	{ "merge rules", test_merge },
	{ "sysfs dev states", test_sysfs_dev_states },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("md", tests);
}
