/* test_smart.c: the smart probe. The JSON mapper against real smartctl
 * captures (tests/fixtures/smart, and every capture of the shared corpus
 * when ../shared/corpus exists), the --scan-open parser, instance names,
 * config validation, and the probe end to end with a script that replays
 * captures and exit statuses in place of smartctl (hangs and garbage
 * included), plus one run of the real smartctl against devices it cannot
 * open. */
#include "config.h"

#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "smart.h"
#include "testutil.h"
#include "util.h"

#define CORPUS FIXTURES "/../../../shared/corpus/smart"
#define N NAN

static char *slurp(const char *path, size_t *len)
{
	struct hr_err err;
	char *buf = NULL;
	size_t l = 0;

	if (hr_read_file(NULL, path, &buf, &l, 8u << 20, &err) < 0)
		return NULL;
	if (len != NULL)
		*len = l;
	return buf;
}

/* Maps the fixture rel with the exit status taken from its JSON. */
static int map_fixture(const char *rel, int exit_status, struct smart_report *r)
{
	char path[PATH_MAX];
	size_t len = 0;
	char *buf;
	int rc;

	CU_ASSERT_FATAL(snprintf(path, sizeof(path), "smart/%s", rel) < (int)sizeof(path));
	buf = slurp(fixture(path), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	rc = smart_parse(buf, len, exit_status, r);
	free(buf);
	return rc;
}

static void assert_num(double got, double want, const char *what, const char *file)
{
	int ok = isnan(want) ? isnan(got) : (!isnan(got) && fabs(got - want) < 1e-9);

	if (!ok)
		fprintf(stderr, "\n  %s: %s = %g, expected %g\n", file, what, got, want);
	CU_ASSERT(ok);
}

/* ---- hand-checked values ------------------------------------------------- */

static const struct {
	const char *file;
	double healthy, temp, realloc, pending, media, pused, poh;
	const char *protocol, *model;
} table[] = {
	/* ATA: top-level temperature.current and power_on_time.hours. */
	{ "smartctl_exporter/WDC_WD20EFRX-68EUZN0_17.json", 1, 34, 0, 0, N, N, 47657,
	  "ATA", "WDC WD20EFRX-68EUZN0" },
	/* exit status 64 (error log has entries): still healthy. */
	{ "smartctl_exporter/HGST_HUS724020ALE640_28.json", 1, 26, 0, 0, N, N, 83425,
	  "ATA", "HGST HUS724020ALE640" },
	{ "smartctl_exporter/ST3500418AS_12.json", 1, 33, 304, 0, N, N, 44668,
	  "ATA", "ST3500418AS" },
	/* Attribute 190 says 16 here; temperature.current (from 194) is 25. */
	{ "smartctl_exporter/sat-Intel_730_and_DC_S35x0_3610_3700_Series_SSDs-INTEL_SSDSC2BB240G4-sde.json",
	  1, 25, 0, 0, N, N, 69412, "ATA", "INTEL SSDSC2BB240G4" },
	{ "smartctl_exporter/sat-Intel_S4510_S4610_S4500_S4600_Series_SSDs-INTEL_SSDSC2KB240G7-sdd.json",
	  1, 23, 4, 0, N, N, 49466, "ATA", "INTEL SSDSC2KB240G7" },
	/* NVMe. */
	{ "smartctl_exporter/INTEL_SSDPE2KX080T8_1.json", 1, 29, N, N, 0, 0, 12164,
	  "NVMe", "INTEL SSDPE2KX080T8" },
	{ "smartctl_exporter/SAMSUNG_MZVL21T0HCLR-00B00_23.json", 1, 29, N, N, 0, 16, 10423,
	  "NVMe", "SAMSUNG MZVL21T0HCLR-00B00" },
	{ "smartctl_exporter/nvme-null-INTEL_SSDPE2KX020T7-nvme6.json", 1, 19, N, N, 0, 75, 49441,
	  "NVMe", "INTEL SSDPE2KX020T7" },
	/* The failing NVMe drive (smart_status.passed false, exit 8). */
	{ "smartctl_exporter/nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json", 0, 40, N, N, 0, 0,
	  18376, "NVMe", "SAMSUNG MZWLL3T2HAJQ-00005" },
	/* scrutiny's thresholds fail it; smartctl says PASSED: healthy 1. */
	{ "scrutiny/smart-nvme-failed.json", 1, 35, N, N, 7, 3, 12798,
	  "NVMe", "Samsung SSD 970 EVO 500GB" },
	/* SCSI/SAS: grown defect list as reallocated. */
	{ "smartctl_exporter/SEAGATE_ST373453LC_26.json", 1, 33, 260, N, N, N, 102880,
	  "SCSI", "SEAGATE ST373453LC" },
	{ "smartctl_exporter/HP_73.4G_MAS3735NC_25.json", 1, 28, 0, N, N, N, N,
	  "SCSI", "HP 73.4G MAS3735NC" },
	{ "scrutiny/smart-scsi.json", 1, 34, 56, N, N, N, 43549, "SCSI", "SEAGATE ST4000NM0043" },
	/* The failing ATA drive (passed false, exit 216, USB bridge). */
	{ "scrutiny/smart-fail2.json", 0, 25, 1975, 8, N, N, 65592,
	  "ATA", "Hitachi HDS721050DLE630" },
	/* -jA only: attribute table fallbacks (194 raw.string, 9 packed). */
	{ "scrutiny/smart-sat.json", N, 29, 0, 0, N, N, 2725, "ATA", "" },
	/* -jH only. */
	{ "scrutiny/smart-pass.json", 1, N, N, N, N, N, N, "ATA", "" },
	/* An Intel RAID volume: no SMART, temperature 0 = no sensor. */
	{ "scrutiny/smart-raid.json", N, N, N, N, N, N, N, "SCSI", "Intel Raid 1 Volume" },
	/* Open failed (exit 2): nothing. */
	{ "scrutiny/smart-fail.json", N, N, N, N, N, N, N, "", "" },
	{ "telegraf/megaraid/response.json", 1, 25, 0, 0, N, N, 44316,
	  "ATA", "ST6000NM0115-1YZ110" },
	/* A USB stick: no temperature, no attribute 197. */
	{ "telegraf/usb/response.json", 1, N, 0, N, N, N, 11, "ATA", "SanDisk pSSD" },
	{ "telegraf/nvme/response.json", 1, 48, N, N, 0, 4, 8733, "NVMe", "Sabrent Rocket 4.0 1TB" },
	{ "netdata/type-nvme/device-nvme0.json", 1, 39, N, N, 0, 0, 3113,
	  "NVMe", "Seagate FireCuda 530 ZP4000GM30023" },
};

static void test_table(void)
{
	struct smart_report r;
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		CU_ASSERT_EQUAL(map_fixture(table[i].file, -1, &r), 0);
		assert_num(r.healthy, table[i].healthy, "healthy", table[i].file);
		assert_num(r.temperature_c, table[i].temp, "temperature_c", table[i].file);
		assert_num(r.reallocated, table[i].realloc, "reallocated", table[i].file);
		assert_num(r.pending, table[i].pending, "pending", table[i].file);
		assert_num(r.media_errors, table[i].media, "media_errors", table[i].file);
		assert_num(r.percent_used, table[i].pused, "percent_used", table[i].file);
		assert_num(r.power_on_hours, table[i].poh, "power_on_hours", table[i].file);
		CU_ASSERT_STRING_EQUAL(r.protocol, table[i].protocol);
		CU_ASSERT_STRING_EQUAL(r.model, table[i].model);
		CU_ASSERT_EQUAL(r.problems, 0);
	}
}

static void test_labels_and_flags(void)
{
	struct smart_report r;
	struct hr_sample s;

	map_fixture("scrutiny/smart-fail2.json", -1, &r);
	CU_ASSERT_EQUAL(r.exit_status, 216);
	smart_report_sample(&r, "sdc", "/dev/sdc", &s);
	CU_ASSERT_STRING_EQUAL(s.probe, "smart");
	CU_ASSERT_STRING_EQUAL(s.instance, "sdc");
	ASSERT_VAL(&s, "healthy", 0);
	ASSERT_VAL(&s, "pending", 8);
	ASSERT_NO_VAL(&s, "media_errors");
	/* 216 = 128 + 64 + 16 + 8 (smartctl(8) RETURN VALUES). */
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "flags"),
			       "failing,prefail,error_log,selftest_log");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "device"), "/dev/sdc");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "protocol"), "ATA");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "type"), "usbjmicron");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "serial"), "MSK423Y20S3HBC");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "firmware"), "MS1OA650");
	CU_ASSERT(s.nlabels <= HR_SAMPLE_LABELS);
	CU_ASSERT_EQUAL(s.truncated, 0);

	map_fixture("smartctl_exporter/HITACHI_H109060SESUN600G_10.json", -1, &r);
	smart_report_sample(&r, "sdb", NULL, &s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "flags"), "");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "firmware"), "A31A");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(&s, "model"), "HITACHI H109060SESUN600G");
	CU_ASSERT_PTR_NULL(hr_sample_get_label(&s, "device"));
	ASSERT_NO_VAL(&s, "pending");
	ASSERT_VAL(&s, "reallocated", 0);
}

/* ---- exit status bits ------------------------------------------------------ */

static void test_exit_bits(void)
{
	static const char garbage[] = "Segmentation fault\n{\"smart_status\":";
	struct smart_report r;

	/* The process's status wins over the JSON's: bit 3 means failing. */
	map_fixture("smartctl_exporter/WDC_WD20EFRX-68EUZN0_17.json", 8, &r);
	CU_ASSERT_EQUAL(r.healthy, 0);
	CU_ASSERT_EQUAL(r.temperature_c, 34);
	map_fixture("smartctl_exporter/WDC_WD20EFRX-68EUZN0_17.json", 8 | 64, &r);
	CU_ASSERT_EQUAL(r.healthy, 0);
	/* Bit 2 (a SMART command failed) keeps what the JSON has. */
	map_fixture("smartctl_exporter/WDC_WD20EFRX-68EUZN0_17.json", 4, &r);
	CU_ASSERT_EQUAL(r.healthy, 1);
	CU_ASSERT_EQUAL(r.power_on_hours, 47657);
	/* Not JSON: bit 3 still says failing; otherwise nothing at all. */
	CU_ASSERT_EQUAL(smart_parse(garbage, sizeof(garbage) - 1, 8, &r), -1);
	CU_ASSERT_EQUAL(r.healthy, 0);
	CU_ASSERT(smart_report_has_values(&r));
	CU_ASSERT_EQUAL(smart_parse(garbage, sizeof(garbage) - 1, 0, &r), -1);
	CU_ASSERT_FALSE(smart_report_has_values(&r));
	CU_ASSERT_EQUAL(smart_parse("", 0, 0, &r), -1);
	CU_ASSERT_EQUAL(smart_parse("[1,2]", 5, 0, &r), -1);
	CU_ASSERT_FALSE(smart_report_has_values(&r));
	/* The open-failed capture carries smartctl's message. */
	map_fixture("scrutiny/smart-fail.json", -1, &r);
	CU_ASSERT_EQUAL(r.exit_status, 2);
	CU_ASSERT(strstr(r.message, "Open failed") != NULL);
	CU_ASSERT_FALSE(smart_report_has_values(&r));
}

static void test_odd_json(void)
{
	static const struct {
		const char *json;
		double healthy, temp, realloc, poh;
		unsigned problems;
	} cases[] = {
		/* Wrong types are skipped and counted, never guessed. */
		{ "{\"smart_status\":{\"passed\":\"yes\"},\"temperature\":{\"current\":\"hot\"}}",
		  N, N, N, N, 2 },
		{ "{\"temperature\":{\"current\":1e400}}", N, N, N, N, 1 },
		{ "{\"temperature\":{\"current\":-273}}", N, N, N, N, 1 },
		{ "{\"power_on_time\":{\"hours\":-5}}", N, N, N, N, 1 },
		{ "{\"power_on_time\":{\"hours\":1.5}}", N, N, N, N, 1 },
		{ "{\"ata_smart_attributes\":{\"table\":{}}}", N, N, N, N, 1 },
		/* raw.value packs min/max above the low byte; no raw.string. */
		{ "{\"ata_smart_attributes\":{\"table\":[{\"id\":194,\"raw\":{\"value\":"
		  "176094511130}},{\"id\":5,\"raw\":{\"value\":12}},{\"id\":5,\"raw\":{\"value\":99}},"
		  "{\"id\":300},{\"id\":9,\"raw\":{\"value\":9023116403587028}}]}}",
		  N, 26, 12, N, 2 },
		{ "{\"ata_smart_attributes\":{\"table\":[{\"id\":9,\"raw\":{\"value\":1234,"
		  "\"string\":\"1234\"}},{\"id\":190,\"raw\":{\"value\":0,\"string\":\"x\"}}]}}",
		  N, N, N, 1234, 0 },
		{ "{\"smart_status\":{\"passed\":false},\"smartctl\":{\"exit_status\":0}}",
		  0, N, N, N, 0 },
		{ "{\"smartctl\":{\"exit_status\":8}}", 0, N, N, N, 0 },
		{ "{\"smartctl\":{\"exit_status\":1e99}}", N, N, N, N, 0 },
	};
	struct smart_report r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(smart_parse(cases[i].json, strlen(cases[i].json), -1, &r), 0);
		assert_num(r.healthy, cases[i].healthy, "healthy", cases[i].json);
		assert_num(r.temperature_c, cases[i].temp, "temperature_c", cases[i].json);
		assert_num(r.reallocated, cases[i].realloc, "reallocated", cases[i].json);
		assert_num(r.power_on_hours, cases[i].poh, "power_on_hours", cases[i].json);
		if (r.problems != cases[i].problems)
			fprintf(stderr, "\n  %s: problems %u\n", cases[i].json, r.problems);
		CU_ASSERT_EQUAL(r.problems, cases[i].problems);
	}
}

/* ---- every capture --------------------------------------------------------- */

#define MAX_FILES 512
static char *walk_files[MAX_FILES];
static size_t walk_count;

static int walk_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	size_t len = strlen(path);

	(void)sb;
	(void)ftw;
	if (flag == FTW_F && len > 5 && strcmp(path + len - 5, ".json") == 0 &&
	    strstr(path, "/expected.json") == NULL && walk_count < MAX_FILES)
		walk_files[walk_count++] = strdup(path);
	return 0;
}

struct walk_stats {
	size_t files, with_values, failing, with_status;
};

/* Maps every JSON capture under dir and checks what must hold for all:
 * no problems, healthy present exactly when smart_status.passed or exit
 * bit 3 says something (and equal to it), values in sane ranges. */
static void check_all(const char *dir, struct walk_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	walk_count = 0;
	CU_ASSERT_EQUAL_FATAL(nftw(dir, walk_one, 16, FTW_PHYS), 0);
	for (i = 0; i < walk_count; i++) {
		struct smart_report r;
		size_t len = 0;
		char *buf = slurp(walk_files[i], &len);
		cJSON *doc, *passed, *ex;
		double want = NAN;
		int bad = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		CU_ASSERT_EQUAL(smart_parse(buf, len, -1, &r), 0);
		doc = cJSON_Parse(buf);
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		passed = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "smart_status"), "passed");
		ex = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "smartctl"), "exit_status");
		if (cJSON_IsBool(passed))
			want = cJSON_IsTrue(passed) ? 1 : 0;
		if (cJSON_IsNumber(ex) && (ex->valueint & 8))
			want = 0;
		if (isnan(want) ? !isnan(r.healthy) : r.healthy != want)
			bad = 1;
		if (!isnan(r.temperature_c) &&
		    (r.temperature_c < -60 || r.temperature_c > 200 || r.temperature_c == 0))
			bad = 1;
		if (!isnan(r.reallocated) && (r.reallocated < 0 || r.reallocated > 1e9))
			bad = 1;
		if (!isnan(r.pending) && (r.pending < 0 || r.pending > 1e9))
			bad = 1;
		if (!isnan(r.media_errors) && r.media_errors < 0)
			bad = 1;
		if (!isnan(r.percent_used) && (r.percent_used < 0 || r.percent_used > 255))
			bad = 1;
		if (!isnan(r.power_on_hours) && (r.power_on_hours < 0 || r.power_on_hours > 200000))
			bad = 1;
		if (r.problems > 0)
			bad = 1;
		if (bad)
			fprintf(stderr, "\n  %s: healthy %g (want %g) temp %g realloc %g pending %g "
				"poh %g problems %u\n", walk_files[i], r.healthy, want,
				r.temperature_c, r.reallocated, r.pending, r.power_on_hours,
				r.problems);
		CU_ASSERT_FALSE(bad);
		st->files++;
		st->with_values += smart_report_has_values(&r) ? 1 : 0;
		st->failing += r.healthy == 0 ? 1 : 0;
		st->with_status += cJSON_IsBool(passed) ? 1 : 0;
		cJSON_Delete(doc);
		free(buf);
		free(walk_files[i]);
	}
}

static void test_fixtures_all(void)
{
	struct walk_stats st;

	check_all(fixture("smart"), &st);
	CU_ASSERT_EQUAL(st.files, 36);
	/* Failing: the NVMe and the ATA drive; nothing else. */
	CU_ASSERT_EQUAL(st.failing, 2);
	/* No values: 3 scan outputs, smart-fail (open failed), smart-raid. */
	CU_ASSERT_EQUAL(st.with_values, 31);
}

/* The whole shared corpus when it sits beside the repository (CI). */
static void test_corpus_all(void)
{
	struct walk_stats st;
	struct stat sb;

	if (stat(CORPUS, &sb) != 0) {
		fprintf(stderr, "\n  %s absent: skipped (the fixture copy is tested)\n", CORPUS);
		return;
	}
	check_all(CORPUS, &st);
	/* index.tsv lists 196 JSON outputs: 168 + 15 + 5 + 8. */
	CU_ASSERT(st.files >= 196);
	CU_ASSERT(st.failing >= 2);
	CU_ASSERT(st.with_status >= 190);
	fprintf(stderr, "\n  corpus: %zu files, %zu with values, %zu failing ", st.files,
		st.with_values, st.failing);
}

/* index.tsv's passed/exit columns agree with the healthy we map. */
static void test_corpus_index(void)
{
	struct hr_lines it;
	const char *line;
	size_t len, rows = 0;
	char *idx = slurp(CORPUS "/index.tsv", &len);

	if (idx == NULL)
		return;
	hr_lines_init(&it, idx, len);
	hr_lines_next(&it, &line, &len); /* header */
	while (hr_lines_next(&it, &line, &len)) {
		char *row = strndup(line, len), *cols[8] = { 0 }, *p = row, path[PATH_MAX];
		struct smart_report r;
		size_t flen = 0, n;
		char *buf;
		int c;

		for (c = 0; c < 8 && p != NULL; c++) {
			cols[c] = p;
			p = strchr(p, '\t');
			if (p != NULL)
				*p++ = '\0';
		}
		snprintf(path, sizeof(path), "%s/%s", CORPUS, cols[0]);
		/* index.tsv names the smartctl_exporter files by a folder the
		 * corpus keeps them out of. */
		if (strncmp(cols[0], "smartctl_exporter/", 18) == 0)
			snprintf(path, sizeof(path), "%s/%s", CORPUS, cols[0] + 18);
		buf = slurp(path, &flen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		smart_parse(buf, flen, -1, &r);
		if (cols[4] != NULL && strcmp(cols[4], "True") == 0)
			CU_ASSERT_EQUAL(r.healthy, (r.exit_status >= 0 && (r.exit_status & 8)) ? 0 : 1);
		if (cols[4] != NULL && strcmp(cols[4], "False") == 0)
			CU_ASSERT_EQUAL(r.healthy, 0);
		if (cols[2] != NULL && cols[2][0] != '\0')
			CU_ASSERT_STRING_EQUAL(r.protocol, cols[2]);
		n = cols[5] != NULL ? strlen(cols[5]) : 0;
		if (n > 0)
			CU_ASSERT_EQUAL(r.exit_status, atoi(cols[5]));
		free(buf);
		free(row);
		rows++;
	}
	CU_ASSERT(rows >= 196);
	free(idx);
}

/* ---- --scan-open and instances ---------------------------------------------- */

static void test_scan(void)
{
	struct smart_scan *s = malloc(sizeof(*s));
	static const char odd[] =
		"{\"devices\":[{\"name\":\"/dev/sda\",\"type\":\"sat\"},"
		"{\"name\":\"/dev/sdb\",\"type\":\"scsi\",\"open_error\":\"No such device\"},"
		"{\"name\":\"\"},{\"name\":\"-x\"},{\"type\":\"sat\"},{\"name\":7},"
		"{\"name\":\"/dev/bus/0\",\"type\":\"megaraid,14\"}]}";
	size_t len;
	char *buf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	buf = slurp(fixture("smart/netdata/type-sat/scan.json"), &len);
	CU_ASSERT_EQUAL(smart_scan_parse(buf, len, s), 0);
	CU_ASSERT_EQUAL(s->count, 2);
	CU_ASSERT_STRING_EQUAL(s->devs[0].name, "/dev/sda");
	CU_ASSERT_STRING_EQUAL(s->devs[0].type, "sat");
	CU_ASSERT_STRING_EQUAL(s->devs[1].name, "/dev/sdc");
	CU_ASSERT_FALSE(s->devs[1].open_error);
	free(buf);
	buf = slurp(fixture("smart/netdata/type-nvme/scan.json"), &len);
	CU_ASSERT_EQUAL(smart_scan_parse(buf, len, s), 0);
	CU_ASSERT_EQUAL(s->count, 1);
	CU_ASSERT_STRING_EQUAL(s->devs[0].name, "/dev/nvme0");
	CU_ASSERT_STRING_EQUAL(s->devs[0].type, "nvme");
	free(buf);

	CU_ASSERT_EQUAL(smart_scan_parse(odd, sizeof(odd) - 1, s), 0);
	CU_ASSERT_EQUAL(s->count, 3);
	CU_ASSERT_EQUAL(s->problems, 4);
	CU_ASSERT(s->devs[1].open_error);
	CU_ASSERT_STRING_EQUAL(s->devs[1].error, "No such device");
	CU_ASSERT_STRING_EQUAL(s->devs[2].type, "megaraid,14");
	/* smartctl omits "devices" when it finds none. */
	CU_ASSERT_EQUAL(smart_scan_parse("{\"smartctl\":{}}", 15, s), 0);
	CU_ASSERT_EQUAL(s->count, 0);
	CU_ASSERT_EQUAL(smart_scan_parse("{\"devices\":{}}", 14, s), -1);
	CU_ASSERT_EQUAL(smart_scan_parse("/dev/sda -d sat", 15, s), -1);
	free(s);
}

static void test_instance(void)
{
	static const struct {
		const char *path, *type, *want;
	} cases[] = {
		{ "/dev/sda", NULL, "sda" },
		{ "/dev/sda", "sat", "sda" },
		{ "/dev/nvme0", "nvme", "nvme0" },
		{ "/dev/nvme0n1", "", "nvme0n1" },
		{ "/dev/sda/", NULL, "sda" },
		{ "/dev/sda", "sat+megaraid,14", "sda-megaraid,14" },
		{ "/dev/bus/6", "megaraid,14", "bus6-megaraid,14" },
		{ "/dev/twa0", "3ware,1", "twa0-3ware,1" },
		{ "/dev/disk/by-id/ata-WDC_WD20EFRX", "sat", "ata-WDC_WD20EFRX" },
		{ "/dev/sg1", "usbjmicron,x,1", "sg1-usbjmicron,x,1" },
		{ "/0", NULL, "0" },
		{ "/", NULL, NULL },
		{ "", NULL, NULL },
	};
	char buf[HR_INSTANCE_MAX], small[4];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = smart_instance(cases[i].path, cases[i].type, buf, sizeof(buf));

		if (cases[i].want == NULL) {
			CU_ASSERT_EQUAL(rc, -1);
		} else {
			CU_ASSERT_EQUAL(rc, 0);
			CU_ASSERT_STRING_EQUAL(buf, cases[i].want);
		}
	}
	CU_ASSERT_EQUAL(smart_instance("/dev/sda", NULL, small, sizeof(small)), 0);
	CU_ASSERT_EQUAL(smart_instance("/dev/nvme0", NULL, small, sizeof(small)), -1);
}

/* ---- config ------------------------------------------------------------------ */

static int setup_errs(const char *json, const char *want)
{
	struct probe_env env = { .root = "/" };
	struct hr_errs errs;
	cJSON *cfg = json ? cJSON_Parse(json) : NULL;
	void *state = NULL;
	size_t i;
	int rc, found = want == NULL;

	hr_errs_init(&errs);
	rc = probe_smart.setup(&env, cfg, "probes.smart", &state, &errs);
	for (i = 0; i < errs.count; i++) {
		if (want != NULL && strstr(errs.items[i], want) != NULL)
			found = 1;
		else if (want != NULL)
			fprintf(stderr, "\n  other error: %s\n", errs.items[i]);
	}
	if (!found)
		fprintf(stderr, "\n  %s: no error containing \"%s\"\n", json, want);
	CU_ASSERT(found);
	if (rc == 0)
		probe_smart.teardown(state);
	CU_ASSERT_EQUAL(rc == 0, !hr_errs_any(&errs));
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	return rc;
}

static void test_config(void)
{
	static const char *const good[] = {
		NULL,
		"{}",
		"{\"interval\": 600}",
		"{\"devices\": [\"/dev/sda\", \"/dev/nvme0\"], \"command\": [\"sudo\", \"-n\", "
		"\"smartctl\"], \"timeout\": \"30s\"}",
		"{\"devices\": [{\"device\": \"/dev/sda\", \"type\": \"sat+megaraid,0\"}, "
		"{\"device\": \"/dev/sda\", \"type\": \"sat+megaraid,1\"}]}",
		"{\"devices\": [\"/dev/sda\", {\"device\": \"/dev/disk/x/sda\", \"name\": \"x\"}]}",
	};
	static const struct {
		const char *json, *err;
	} bad[] = {
		{ "[]", "probes.smart: expected an object" },
		{ "{\"device\": []}", "probes.smart.device: " },
		{ "{\"devices\": \"/dev/sda\"}", "probes.smart.devices: expected an array" },
		{ "{\"devices\": []}", "probes.smart.devices: empty" },
		{ "{\"devices\": [\"sda\"]}", "probes.smart.devices[0]: expected an absolute" },
		{ "{\"devices\": [\"/dev/sda\", 3]}", "probes.smart.devices[1]: expected a device" },
		{ "{\"devices\": [{\"type\": \"sat\"}]}", "probes.smart.devices[0]: missing \"device\"" },
		{ "{\"devices\": [{\"device\": \"/dev/sda\", \"type\": \"-d sat\"}]}",
		  "probes.smart.devices[0].type: expected a smartctl -d type" },
		{ "{\"devices\": [{\"device\": \"/dev/sda\", \"typ\": \"sat\"}]}",
		  "probes.smart.devices[0].typ: " },
		{ "{\"devices\": [{\"device\": \"sda\"}]}",
		  "probes.smart.devices[0].device: expected an absolute" },
		{ "{\"devices\": [\"/dev/sda\", \"/dev/disk/sda\"]}",
		  "probes.smart.devices[1]: instance \"sda\" is already used" },
		{ "{\"devices\": [{\"device\": \"/dev/sda\", \"name\": \"a b\"}]}",
		  "probes.smart.devices[0].name: " },
		{ "{\"command\": []}", "probes.smart.command: expected at least the program" },
		{ "{\"command\": \"smartctl\"}", "probes.smart.command: expected an array" },
		{ "{\"timeout\": \"soon\"}", "probes.smart.timeout: " },
		{ "{\"timeout\": 0}", "probes.smart.timeout: " },
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_EQUAL(setup_errs(good[i], NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(setup_errs(bad[i].json, bad[i].err), -1);
	CU_ASSERT_EQUAL(probe_smart.core, 0);
	CU_ASSERT_EQUAL(probe_smart.default_interval, 300);
}

/* ---- the probe end to end ------------------------------------------------------ */

/* Sets the probe up with cfg, reads `reads` times with stderr going to a
 * file, and returns the last read's result (-2: setup failed). rec holds
 * the last read's samples; *log (caller frees) what was logged. */
static int run_reads(const char *cfg_json, int reads, struct hr_recsink *rec, char **log,
		     char *errmsg, size_t errlen)
{
	struct probe_env env = { .root = "/" };
	struct hr_errs errs;
	struct hr_err err = { { 0 } };
	cJSON *cfg = cJSON_Parse(cfg_json);
	char path[] = "/tmp/hr-smartlog-XXXXXX";
	void *state = NULL;
	int fd, saved, i, rc = -2;

	hr_errs_init(&errs);
	*log = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	if (probe_smart.setup(&env, cfg, "probes.smart", &state, &errs) < 0) {
		for (i = 0; i < (int)errs.count; i++)
			fprintf(stderr, "setup: %s\n", errs.items[i]);
		goto out;
	}
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < reads; i++) {
		hr_recsink_clear(rec);
		err.msg[0] = '\0';
		rc = probe_smart.read(state, &rec->sink, &err);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	probe_smart.teardown(state);
	*log = slurp(path, NULL);
	unlink(path);
	if (errmsg != NULL)
		hr_strlcpy(errmsg, err.msg, errlen);
out:
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	return rc;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while (hay != NULL && (hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* DIR/NAME.json -> the fixture rel. */
static void replay(const char *dir, const char *name, const char *rel)
{
	char link[PATH_MAX];

	snprintf(link, sizeof(link), "%s/%s.json", dir, name);
	CU_ASSERT_EQUAL_FATAL(symlink(fixture(rel), link), 0);
}

static void replay_status(const char *dir, const char *name, const char *status)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "/%s.status", name);
	CU_ASSERT_EQUAL_FATAL(write_file(dir, rel, status, strlen(status)), 0);
}

static void make_cfg(char *dst, size_t n, const char *dir, const char *devices,
		     const char *timeout)
{
	char script[PATH_MAX];

	hr_strlcpy(script, fixture("smart/replay.sh"), sizeof(script));
	CU_ASSERT_FATAL(snprintf(dst, n, "{%s%s\"command\": [\"sh\", \"%s\", \"%s\"], "
				 "\"timeout\": \"%s\"}", devices ? devices : "",
				 devices ? ", " : "", script, dir, timeout) < (int)n);
}

static void test_probe_replay(void)
{
	char dir[PATH_MAX], cfg[4096], *log = NULL, *argv = NULL, path[PATH_MAX];
	static const char garbage[] = "smartctl: oops\n";
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_strlcpy(dir, tmpdir_new("smart"), sizeof(dir));
	hr_recsink_init(&rec);
	replay(dir, "sda", "smart/smartctl_exporter/WDC_WD20EFRX-68EUZN0_17.json");
	replay(dir, "nvme0", "smart/smartctl_exporter/nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json");
	replay_status(dir, "nvme0", "8\n");
	replay(dir, "sdb", "smart/scrutiny/smart-fail.json");
	replay_status(dir, "sdb", "2\n");
	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/sdc.hang", "", 0), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/sdd.json", garbage, sizeof(garbage) - 1), 0);
	/* Failing with output that is not JSON: healthy 0 from bit 3. */
	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/sde.json", garbage, sizeof(garbage) - 1), 0);
	replay_status(dir, "sde", "8\n");
	replay(dir, "sdf", "smart/scrutiny/smart-raid.json");
	replay_status(dir, "sdf", "4\n");
	replay(dir, "6", "smart/telegraf/megaraid/response.json");
	replay_status(dir, "6", "4\n");

	make_cfg(cfg, sizeof(cfg), dir,
		 "\"devices\": [\"/dev/sda\", \"/dev/nvme0\", \"/dev/sdb\", \"/dev/sdc\", "
		 "\"/dev/sdd\", \"/dev/sde\", \"/dev/sdf\", "
		 "{\"device\": \"/dev/bus/6\", \"type\": \"sat+megaraid,14\"}]",
		 "1s");
	CU_ASSERT_EQUAL(run_reads(cfg, 2, &rec, &log, NULL, 0), 0);
	CU_ASSERT_EQUAL(rec.count, 4);
	s = hr_recsink_find(&rec, "smart", "sda");
	ASSERT_VAL(s, "healthy", 1);
	ASSERT_VAL(s, "temperature_c", 34);
	ASSERT_VAL(s, "reallocated", 0);
	ASSERT_VAL(s, "pending", 0);
	ASSERT_VAL(s, "power_on_hours", 47657);
	ASSERT_NO_VAL(s, "media_errors");
	CU_ASSERT_EQUAL(s ? s->t : 1, 0);
	s = hr_recsink_find(&rec, "smart", "nvme0");
	ASSERT_VAL(s, "healthy", 0);
	ASSERT_VAL(s, "media_errors", 0);
	ASSERT_VAL(s, "percent_used", 0);
	CU_ASSERT_STRING_EQUAL(s ? hr_sample_get_label(s, "flags") : "", "failing");
	s = hr_recsink_find(&rec, "smart", "sde");
	ASSERT_VAL(s, "healthy", 0);
	CU_ASSERT_EQUAL(s ? s->nvalues : 0, 1);
	s = hr_recsink_find(&rec, "smart", "bus6-megaraid,14");
	ASSERT_VAL(s, "healthy", 1);
	ASSERT_VAL(s, "temperature_c", 25);
	CU_ASSERT_STRING_EQUAL(s ? hr_sample_get_label(s, "flags") : "", "cmd_failed");
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "smart", "sdb"));
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "smart", "sdc"));
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "smart", "sdd"));
	CU_ASSERT_PTR_NULL(hr_recsink_find(&rec, "smart", "sdf"));

	/* Each problem is logged once over two reads, with smartctl's words. */
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sdb: "), 1);
	CU_ASSERT_EQUAL(count(log, "/dev/sdb: sh exit status 2 (device open failed), no values: "
				   "Smartctl open device"), 1);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sdc: sh timed out after 1 s, no values"), 1);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sdd: "), 1);
	CU_ASSERT_EQUAL(count(log, "/dev/sdd: sh exit status 0, output is not JSON"), 1);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sde: "), 1);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sdf: sh exit status 4, no SMART values"), 1);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sda"), 0);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/nvme0"), 0);
	free(log);

	/* The argv: prefix, --json -H -A -i, -d TYPE only when configured. */
	CU_ASSERT_FATAL(snprintf(path, sizeof(path), "%s/argv.log", dir) < (int)sizeof(path));
	argv = slurp(path, NULL);
	CU_ASSERT_EQUAL(count(argv, "--json -H -A -i /dev/sda\n"), 2);
	CU_ASSERT_EQUAL(count(argv, "--json -H -A -i -d sat+megaraid,14 /dev/bus/6\n"), 2);
	CU_ASSERT_EQUAL(count(argv, "--scan-open"), 0);
	free(argv);
	hr_recsink_free(&rec);
	rm_rf(dir);
}

static void test_probe_nothing_read(void)
{
	char dir[PATH_MAX], cfg[4096], *log = NULL, msg[HR_ERR_MAX];
	struct hr_recsink rec;

	hr_strlcpy(dir, tmpdir_new("smart"), sizeof(dir));
	hr_recsink_init(&rec);
	replay(dir, "sdb", "smart/scrutiny/smart-fail.json");
	replay_status(dir, "sdb", "2\n");
	make_cfg(cfg, sizeof(cfg), dir, "\"devices\": [\"/dev/sdb\"]", "5s");
	CU_ASSERT_EQUAL(run_reads(cfg, 1, &rec, &log, msg, sizeof(msg)), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_STRING_EQUAL(msg, "none of 1 device(s) gave SMART values");
	free(log);

	/* No such program: read fails, nothing is logged per device. */
	CU_ASSERT_EQUAL(run_reads("{\"devices\": [\"/dev/sda\"], \"command\": "
				  "[\"/nonexistent/smartctl\"]}", 2, &rec, &log, msg, sizeof(msg)),
			-1);
	CU_ASSERT(strstr(msg, "/nonexistent/smartctl") != NULL);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/sda"), 0);
	free(log);
	hr_recsink_free(&rec);
	rm_rf(dir);
}

static void test_probe_discovery(void)
{
	static const char scan_odd[] =
		"{\"devices\":[{\"name\":\"/dev/sda\",\"type\":\"sat\",\"protocol\":\"ATA\"},"
		"{\"name\":\"/dev/sdx\",\"type\":\"scsi\",\"open_error\":\"No such device\"}]}";
	char dir[PATH_MAX], cfg[4096], *log = NULL, *argv = NULL, path[PATH_MAX];
	char msg[HR_ERR_MAX];
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_strlcpy(dir, tmpdir_new("smart"), sizeof(dir));
	hr_recsink_init(&rec);
	CU_ASSERT_FATAL(snprintf(path, sizeof(path), "%s/argv.log", dir) < (int)sizeof(path));
	replay(dir, "scan", "smart/netdata/type-sat/scan.json");
	replay(dir, "sda", "smart/smartctl_exporter/ST3500418AS_12.json");
	replay(dir, "sdc", "smart/scrutiny/smart-fail2.json");
	replay_status(dir, "sdc", "216\n");
	make_cfg(cfg, sizeof(cfg), dir, NULL, "5s");
	CU_ASSERT_EQUAL(run_reads(cfg, 3, &rec, &log, NULL, 0), 0);
	CU_ASSERT_EQUAL(rec.count, 2);
	s = hr_recsink_find(&rec, "smart", "sda");
	ASSERT_VAL(s, "reallocated", 304);
	CU_ASSERT_STRING_EQUAL(s ? hr_sample_get_label(s, "type") : "", "sat");
	s = hr_recsink_find(&rec, "smart", "sdc");
	ASSERT_VAL(s, "healthy", 0);
	ASSERT_VAL(s, "reallocated", 1975);
	ASSERT_VAL(s, "pending", 8);
	free(log);
	argv = slurp(path, NULL);
	/* Discovered once, then cached; the scan's type is passed as -d. */
	CU_ASSERT_EQUAL(count(argv, "--scan-open --json\n"), 1);
	CU_ASSERT_EQUAL(count(argv, "--json -H -A -i -d sat /dev/sda\n"), 3);
	CU_ASSERT_EQUAL(count(argv, "--json -H -A -i -d sat /dev/sdc\n"), 3);
	free(argv);

	/* A device that cannot be opened is skipped, logged once. */
	unlink(path);
	CU_ASSERT_FATAL(snprintf(path, sizeof(path), "%s/scan.json", dir) < (int)sizeof(path));
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/scan.json", scan_odd, sizeof(scan_odd) - 1), 0);
	CU_ASSERT_EQUAL(run_reads(cfg, 2, &rec, &log, NULL, 0), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "smart", "sda"));
	CU_ASSERT_EQUAL(count(log, "--scan-open: 1 device(s) skipped"), 1);
	free(log);

	/* No disks at all: nothing to report, said once, not a failure. */
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/scan.json", "{\"smartctl\":{}}", 15), 0);
	CU_ASSERT_EQUAL(run_reads(cfg, 3, &rec, &log, NULL, 0), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_EQUAL(count(log, "--scan-open found no device to query (0 skipped)"), 1);
	free(log);

	/* A scan that says nothing usable fails the read. */
	unlink(path);
	CU_ASSERT_EQUAL_FATAL(write_file(dir, "/scan.json", "garbage", 7), 0);
	replay_status(dir, "scan", "1\n");
	CU_ASSERT_EQUAL(run_reads(cfg, 1, &rec, &log, msg, sizeof(msg)), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT(strstr(msg, "--scan-open --json: exit status 1, no JSON device list") != NULL);
	free(log);
	hr_recsink_free(&rec);
	rm_rf(dir);
}

/* The real smartctl (smartmontools) against devices it cannot open: its
 * real exit status (1: type not detected, 2: open failed) and JSON. */
static void test_real_smartctl(void)
{
	static const char *const where[] = { "/usr/sbin/smartctl", "/sbin/smartctl",
					     "/usr/bin/smartctl", "/usr/local/sbin/smartctl" };
	const char *prog = NULL;
	char cfg[1024], *log = NULL, msg[HR_ERR_MAX];
	struct hr_recsink rec;
	size_t i;

	for (i = 0; i < sizeof(where) / sizeof(where[0]) && prog == NULL; i++)
		if (access(where[i], X_OK) == 0)
			prog = where[i];
	if (prog == NULL) {
		CU_FAIL("smartctl not found: install smartmontools");
		return;
	}
	hr_recsink_init(&rec);
	snprintf(cfg, sizeof(cfg),
		 "{\"devices\": [\"/nonexistent/sdz\", {\"device\": \"/dev/null\", \"type\": \"sat\"}],"
		 " \"command\": [\"%s\"], \"timeout\": \"30s\"}", prog);
	CU_ASSERT_EQUAL(run_reads(cfg, 2, &rec, &log, msg, sizeof(msg)), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_STRING_EQUAL(msg, "none of 2 device(s) gave SMART values");
	CU_ASSERT_EQUAL(count(log, "probe smart: /nonexistent/sdz: "), 1);
	CU_ASSERT_EQUAL(count(log, "exit status 1 (command line not accepted), no values: "
				   "/nonexistent/sdz: Unable to detect device type"), 1);
	CU_ASSERT_EQUAL(count(log, "probe smart: /dev/null: "), 1);
	CU_ASSERT_EQUAL(count(log, "exit status 2 (device open failed), no values"), 1);
	if (count(log, "probe smart:") != 2)
		fprintf(stderr, "\n  log: %s\n", log ? log : "(none)");
	free(log);
	hr_recsink_free(&rec);
}

int main(void)
{
	CU_TestInfo tests[] = {
		{ "hand-checked values of 22 captures", test_table },
		{ "labels and the flags label", test_labels_and_flags },
		{ "exit status bits", test_exit_bits },
		{ "odd JSON is skipped, not guessed", test_odd_json },
		{ "every fixture capture", test_fixtures_all },
		{ "every corpus capture", test_corpus_all },
		{ "corpus index.tsv agrees", test_corpus_index },
		{ "--scan-open parser", test_scan },
		{ "instance names", test_instance },
		{ "config validation", test_config },
		{ "probe: replayed smartctl", test_probe_replay },
		{ "probe: nothing read", test_probe_nothing_read },
		{ "probe: --scan-open discovery", test_probe_discovery },
		{ "probe: the real smartctl", test_real_smartctl },
		CU_TEST_INFO_NULL,
	};

	return run_suite("smart", tests);
}
