/* test_disk.c: the diskstats parser on real captures in every format (14,
 * 18, 20 fields, and sysstat's odd 17-field line), garbled and truncated
 * input, and the probe's choice of devices (disks vs partitions, loop/ram,
 * globs) against tmpdir roots and the node_exporter fixture root. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "testutil.h"
#include "util.h"

static char *slurp(const char *rel, size_t *len)
{
	struct hr_err err;
	char *buf = NULL;

	if (hr_read_file(fixture("diskstats"), rel, &buf, len, HR_FILE_CAP, &err) < 0) {
		CU_FAIL_FATAL("cannot read fixture");
		return NULL;
	}
	return buf;
}

static const struct disk_stat *find(const struct disk_stats *ds, const char *name)
{
	size_t i;

	for (i = 0; i < ds->count; i++)
		if (strcmp(ds->items[i].name, name) == 0)
			return &ds->items[i];
	return NULL;
}

/* Counters of one device line, copied by hand from the capture. */
struct want {
	const char *file;
	const char *dev;
	uint64_t reads, sectors_read, writes, sectors_written, io_ms;
};

static const struct want wants[] = {
	/* 14 fields (before Linux 4.18) */
	{ "/procfs_diskstats", "sda", 25354637, 1003346126, 28444756, 505697032, 9653880 },
	{ "/procfs_diskstats", "nvme0n1p2", 45914, 4631243, 1036885, 39451632, 131580 },
	{ "/procfs_diskstats", "dm-0", 59910002, 1003337218, 39231014, 505696880, 11325968 },
	/* 18 fields (discard) */
	{ "/procfs_diskstats", "sdb", 326552, 9657779, 41822, 1972905, 60730 },
	{ "/sysstat_root1_diskstats", "sdq", 49401, 3195008, 0, 0, 32562 },
	/* 20 fields (flush) */
	{ "/procfs_diskstats", "sdc", 14202, 579164, 2995, 180500, 11628 },
	{ "/node_exporter_diskstats", "sdc", 126552, 1657779, 11822, 172905, 10730 },
	{ "/sysstat_root3_diskstats", "sdc", 0, 0, 0, 0, 0 },
	/* sysstat's 17-field line: 11 counters and three of the discard ones */
	{ "/sysstat_root1_diskstats", "sds", 386, 8554, 727, 8746, 762 },
	{ "/sysstat_root2_diskstats", "sds", 486, 9554, 827, 8946, 862 },
	{ "/sysstat_root3_diskstats", "sds", 555, 9594, 897, 9096, 962 },
};

static void test_parse_values(void)
{
	size_t i;

	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		struct disk_stats ds;
		struct hr_err err;
		const struct disk_stat *d;
		size_t len;
		char *buf = slurp(w->file, &len);

		disk_stats_init(&ds);
		CU_ASSERT_EQUAL(disk_parse_diskstats(buf, len, &ds, &err), 0);
		d = find(&ds, w->dev);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL(d->reads, w->reads);
		CU_ASSERT_EQUAL(d->sectors_read, w->sectors_read);
		CU_ASSERT_EQUAL(d->writes, w->writes);
		CU_ASSERT_EQUAL(d->sectors_written, w->sectors_written);
		CU_ASSERT_EQUAL(d->io_ms, w->io_ms);
		CU_ASSERT(d->has_io_ms);
		disk_stats_free(&ds);
		free(buf);
	}
}

/* Every line of every capture is understood: nothing skipped. */
static void test_parse_every_file(void)
{
	static const struct { const char *file; size_t lines; } files[] = {
		{ "/node_exporter_diskstats", 51 },
		{ "/procfs_diskstats", 52 },
		{ "/sysstat_root1_diskstats", 22 },
		{ "/sysstat_root2_diskstats", 21 },
		{ "/sysstat_root3_diskstats", 21 },
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct disk_stats ds;
		struct hr_err err;
		size_t len;
		char *buf = slurp(files[i].file, &len);

		disk_stats_init(&ds);
		CU_ASSERT_EQUAL(disk_parse_diskstats(buf, len, &ds, &err), 0);
		CU_ASSERT_EQUAL(ds.count, files[i].lines);
		CU_ASSERT_EQUAL(ds.skipped, 0);
		CU_ASSERT_EQUAL(ds.first_bad, 0);
		/* The major:minor numbers and names come through as well. */
		CU_ASSERT(ds.count > 0 && ds.items[0].major > 0 && ds.items[0].name[0] != '\0');
		disk_stats_free(&ds);
		free(buf);
	}
}

/* iostats.rst's partition line of 2.6 kernels before 2.6.25: four counters,
 * no time: io_ms is left out, not invented. */
static void test_parse_old_partition(void)
{
	static const char text[] = "   3    0   hda 446216 784926 9550688 4382310 424847 312726 5922052 19310380 0 3376340 23705160\n"
				   "   3    1   hda1 35486 38030 38030 38030\n";
	struct disk_stats ds;
	struct hr_err err;
	const struct disk_stat *d;

	disk_stats_init(&ds);
	CU_ASSERT_EQUAL(disk_parse_diskstats(text, strlen(text), &ds, &err), 0);
	CU_ASSERT_EQUAL(ds.count, 2);
	d = find(&ds, "hda1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->reads, 35486);
	CU_ASSERT_EQUAL(d->sectors_read, 38030);
	CU_ASSERT_EQUAL(d->writes, 38030);
	CU_ASSERT_FALSE(d->has_io_ms);
	d = find(&ds, "hda");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->io_ms, 3376340);
	disk_stats_free(&ds);
}

static const char garbled[] =
	"   8       0 sda 100 0 800 10 200 0 1600 20 0 30 40\n"
	"   8      16 sdb 1 2 3\n"                                    /* truncated */
	"   8      32 sdc 1 0 x 0 1 0 8 0 0 1 1\n"                    /* not a number */
	"\n"
	"   8      48 ../etc 1 0 8 0 1 0 8 0 0 1 1\n"                 /* not a name */
	"   8      64 sdd -1 0 8 0 1 0 8 0 0 1 1\n"                   /* negative */
	"   8      80 sde 1 0 99999999999999999999999 0 1 0 8 0 0 1 1\n" /* overflow */
	"   a       0 sdf 1 0 8 0 1 0 8 0 0 1 1\n"                    /* bad major */
	"   8      96 sdg 5 0 40 1 6 0 48 2 0 7 8 0 0 0 0\n"
	" 259       0 nvme0n1 9 0 72 1 10 0 80 2 0 11";               /* cut mid-line */

static void test_parse_garbled(void)
{
	struct disk_stats ds;
	struct hr_err err;

	disk_stats_init(&ds);
	CU_ASSERT_EQUAL(disk_parse_diskstats(garbled, strlen(garbled), &ds, &err), 0);
	CU_ASSERT_EQUAL(ds.count, 2);
	CU_ASSERT_PTR_NOT_NULL(find(&ds, "sda"));
	CU_ASSERT_PTR_NOT_NULL(find(&ds, "sdg"));
	CU_ASSERT_EQUAL(ds.skipped, 7);
	CU_ASSERT_EQUAL(ds.first_bad, 2);
	disk_stats_free(&ds);

	/* Embedded NUL bytes must not end parsing early or be read as text. */
	{
		static const char nul[] = "8 0 sda 1 0 8 0 1 0 8 0 0 1 1\n8 1 s\0a 1 0 8 0 1 0 8 0 0 1 1\n8 2 sdb 1 0 8 0 1 0 8 0 0 1 1\n";

		disk_stats_init(&ds);
		CU_ASSERT_EQUAL(disk_parse_diskstats(nul, sizeof(nul) - 1, &ds, &err), 0);
		CU_ASSERT_EQUAL(ds.count, 2);
		CU_ASSERT_EQUAL(ds.skipped, 1);
		disk_stats_free(&ds);
	}
}

/* The probe on garbled input reports the lines it understood. */
static void test_probe_garbled(void)
{
	struct hr_recsink rec;
	const char *root = tmpdir_new("disk");
	const struct hr_sample *s;

	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/diskstats", garbled, strlen(garbled)), 0);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_disk, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 2);
	s = hr_recsink_find(&rec, "disk", "sda");
	ASSERT_VAL(s, "read_bytes", 800 * 512.0);
	ASSERT_VAL(s, "write_bytes", 1600 * 512.0);
	ASSERT_VAL(s, "reads", 100);
	ASSERT_VAL(s, "writes", 200);
	ASSERT_VAL(s, "io_ms", 30);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "disk", "sdg"));
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Missing file: read fails and says so; empty file: no samples, no failure. */
static void test_probe_missing_empty(void)
{
	struct hr_recsink rec;
	const char *root = tmpdir_new("disk");

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_disk, root, NULL, &rec), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/diskstats", "", 0), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_disk, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Copies a capture to ROOT/proc/diskstats. */
static void install(const char *root, const char *file)
{
	size_t len;
	char *buf = slurp(file, &len);

	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/diskstats", buf, len), 0);
	free(buf);
}

/* Without /sys/block every device but loop and ram is kept, partitions
 * included (there is no telling them apart); values are bytes. */
static void test_probe_no_sysfs(void)
{
	struct hr_recsink rec;
	const char *root = tmpdir_new("disk");
	const struct hr_sample *s;
	size_t i;

	install(root, "/procfs_diskstats");
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_disk, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 52 - 16 - 8);
	for (i = 0; i < rec.count; i++) {
		CU_ASSERT_STRING_EQUAL(rec.samples[i].probe, "disk");
		CU_ASSERT(strncmp(rec.samples[i].instance, "loop", 4) != 0);
		CU_ASSERT(strncmp(rec.samples[i].instance, "ram", 3) != 0);
		CU_ASSERT_EQUAL(rec.samples[i].nlabels, 0);
	}
	s = hr_recsink_find(&rec, "disk", "sda");
	ASSERT_VAL(s, "read_bytes", 1003346126.0 * 512);
	ASSERT_VAL(s, "write_bytes", 505697032.0 * 512);
	ASSERT_VAL(s, "reads", 25354637);
	ASSERT_VAL(s, "writes", 28444756);
	ASSERT_VAL(s, "io_ms", 9653880);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "disk", "sda1"));
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* With /sys/block, only its entries are disks; partitions need the flag. */
static void test_probe_filters(void)
{
	static const struct {
		const char *cfg;
		const char *present[6];
		const char *absent[6];
		size_t count;
	} cases[] = {
		{ NULL, { "sda", "nvme0n1", "dm-0" }, { "sda1", "nvme0n1p1", "loop0", "ram0", "sdb1" }, 3 },
		{ "{\"partitions\": true}", { "sda", "sda1", "nvme0n1p2", "vda2" }, { "loop0", "ram15" }, 28 },
		{ "{\"exclude\": [\"dm-*\"]}", { "sda", "nvme0n1" }, { "dm-0" }, 2 },
		{ "{\"devices\": [\"sd*\"], \"partitions\": true}", { "sda", "sda4", "sdc2" }, { "dm-0", "vda", "nvme0n1" }, 11 },
		{ "{\"devices\": [\"sd?\", \"nvme*\"]}", { "sda", "nvme0n1" }, { "sda1", "dm-0" }, 2 },
		{ "{\"devices\": [\"loop0\"], \"partitions\": true}", { "loop0" }, { "loop1", "sda" }, 1 },
		{ "{\"devices\": [\"sd*\"], \"exclude\": [\"sda\"]}", { NULL }, { "sda" }, 0 },
	};
	const char *root = tmpdir_new("disk");
	size_t i, j;

	install(root, "/procfs_diskstats");
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/sys/block/sda/size", "1\n", 2), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/sys/block/nvme0n1/size", "1\n", 2), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/sys/block/dm-0/size", "1\n", 2), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hr_recsink rec;

		hr_recsink_init(&rec);
		CU_ASSERT_EQUAL(run_probe(&probe_disk, root, cases[i].cfg, &rec), 0);
		CU_ASSERT_EQUAL(rec.count, cases[i].count);
		if (rec.count != cases[i].count)
			fprintf(stderr, "case %zu: %zu samples\n", i, rec.count);
		for (j = 0; j < 6 && cases[i].present[j] != NULL; j++)
			CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "disk", cases[i].present[j]));
		for (j = 0; j < 6 && cases[i].absent[j] != NULL; j++)
			CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "disk", cases[i].absent[j]));
		hr_recsink_free(&rec);
	}
	rm_rf(root);
}

/* The node_exporter root: its /sys/block holds only md arrays, none of
 * which is in its diskstats, so by default nothing is a disk; with
 * partitions on every device but loop and ram is reported. */
static void test_probe_node_exporter_root(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_disk, fixture("node_exporter/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_EQUAL(run_probe(&probe_disk, fixture("node_exporter/root"),
				  "{\"partitions\": true}", &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 51 - 16 - 8);
	s = hr_recsink_find(&rec, "disk", "sdc");
	ASSERT_VAL(s, "read_bytes", 1657779.0 * 512);
	ASSERT_VAL(s, "io_ms", 10730);
	hr_recsink_free(&rec);
}

static void test_config_errors(void)
{
	static const char *const bad[] = {
		"{\"device\": [\"sda\"]}",
		"{\"devices\": \"sda\"}",
		"{\"devices\": [\"\"]}",
		"{\"exclude\": [1]}",
		"{\"partitions\": \"yes\"}",
		"[]",
	};
	struct hr_recsink rec;
	size_t i;

	hr_recsink_init(&rec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(run_probe(&probe_disk, fixture("node_exporter/root"), bad[i], &rec), -2);
	CU_ASSERT_EQUAL(rec.count, 0);
	/* "interval" is the agent's, and allowed. */
	CU_ASSERT_EQUAL(run_probe(&probe_disk, fixture("node_exporter/root"),
				  "{\"interval\": 30, \"devices\": [\"sda\"], \"exclude\": [\"x\"], \"partitions\": false}",
				  &rec), 0);
	hr_recsink_free(&rec);
}

static CU_TestInfo tests[] = {
	{ "parse: counters of 14/17/18/20-field lines", test_parse_values },
	{ "parse: every capture, nothing skipped", test_parse_every_file },
	{ "parse: 2.6 partition lines", test_parse_old_partition },
	{ "parse: garbled and truncated lines skipped", test_parse_garbled },
	{ "probe: garbled file reports the rest", test_probe_garbled },
	{ "probe: missing and empty file", test_probe_missing_empty },
	{ "probe: no /sys/block keeps all but loop/ram", test_probe_no_sysfs },
	{ "probe: disks, partitions and globs", test_probe_filters },
	{ "probe: node_exporter root", test_probe_node_exporter_root },
	{ "config: errors", test_config_errors },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("disk", tests);
}
