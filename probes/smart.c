/* smart.c: the smart probe. Runs `smartctl --json -H -A -i [-d TYPE] DEV`
 * (smartmontools 7.x; the argv prefix is configurable, e.g. sudo -n
 * smartctl) for each device, one after another, and maps its JSON output
 * (smartctl(8) --json; smartmontools' JSON members are named after the
 * text output) to one sample per device.
 *
 * Mapping (smartctl's normalised top-level members win, the attribute
 * table and the protocol logs fill in):
 *   healthy        smart_status.passed (true 1, false 0). Exit status bit 3
 *                  ("DISK FAILING") makes it 0 whatever the JSON says.
 *                  Left out when neither says anything (e.g. a RAID volume).
 *   temperature_c  temperature.current; else NVMe
 *                  nvme_smart_health_information_log.temperature; else ATA
 *                  attribute 194, then 190: the leading number of raw.string
 *                  (smartctl's own reading), or the low byte of raw.value
 *                  (drives pack min/max into the upper bytes). 0 is what
 *                  RAID volumes and bridges without a sensor say, and values
 *                  outside -60..200 are sensor nonsense: both left out.
 *   reallocated    ATA attribute 5; SCSI scsi_grown_defect_list (the grown
 *                  defect list holds the reallocated blocks).
 *   pending        ATA attribute 197.
 *   media_errors   NVMe nvme_smart_health_information_log.media_errors.
 *   percent_used   NVMe ...percentage_used; SCSI
 *                  scsi_percentage_used_endurance_indicator (may pass 100).
 *   power_on_hours power_on_time.hours; else ATA attribute 9.
 * An ATA attribute's number is the leading number of raw.string, smartctl's
 * reading of the raw bytes by its drive database ("47060h+35m+00.858s",
 * "35 (Min/Max 28/39)"), else raw.value.
 * Exit status bits 0-1 (command line, device open failed) give no sample
 * for that device; bit 2 (a SMART command failed) keeps what the JSON has;
 * bits 2-7 show in the label "flags". Problems are logged once per device
 * and change (hr_complain).
 * Devices are the configured ones, or those `smartctl --scan-open --json`
 * finds: at the first read, then again every SMART_RESCAN_READS reads and
 * after a device failed to open (a disk swapped); devices the scan could
 * not open are skipped. Instance names: smart_instance() in smart.h. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "log.h"
#include "run.h"
#include "smart.h"
#include "util.h"

#define SMART_DEFAULT_TIMEOUT 20.0
#define SMART_RESCAN_READS 12   /* rediscover every 12 reads (1 h at 300 s) */
#define SMART_JSON_INT_MAX 9007199254740992.0 /* 2^53: exact in a double */
#define SMART_TEMP_MIN -60.0
#define SMART_TEMP_MAX 200.0

/* ---- JSON helpers: explicit about absent (0), valid (1), wrong (-1) ---- */

static const cJSON *smart_get(const cJSON *obj, const char *key)
{
	if (obj == NULL || !cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A finite number within [min, max]. */
static int smart_num(const cJSON *it, double min, double max, double *out)
{
	if (it == NULL)
		return 0;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min ||
	    it->valuedouble > max)
		return -1;
	*out = it->valuedouble;
	return 1;
}

/* A whole number within [0, max] (max <= 2^53), safe to convert. */
static int smart_uint(const cJSON *it, double max, uint64_t *out)
{
	double d;
	int rc = smart_num(it, 0, max, &d);

	if (rc <= 0)
		return rc;
	if (d != floor(d))
		return -1;
	*out = (uint64_t)d;
	return 1;
}

/* Counts a present-but-wrong member in r->problems; returns rc. */
static int smart_count(struct smart_report *r, int rc)
{
	if (rc < 0)
		r->problems++;
	return rc;
}

static void smart_str(const cJSON *it, char *dst, size_t n)
{
	if (dst[0] == '\0' && cJSON_IsString(it) && it->valuestring != NULL)
		hr_strlcpy(dst, it->valuestring, n);
}

/* The leading decimal number of s ("35 (Min/Max 28/39)" -> 35,
 * "47060h+35m+00.858s" -> 47060); -1 when s does not start with a digit. */
static int smart_leading(const char *s, uint64_t *out)
{
	size_t len = 0;

	while (len < 16 && isdigit((unsigned char)s[len]))
		len++;
	if (len == 0 || len == 16)
		return -1;
	return hr_parse_u64(s, len, out);
}

/* ---- the mapper ---------------------------------------------------------- */

/* One ATA attribute table entry's raw value: *value from raw.value (and
 * *low_byte, its low byte), *lead from the leading number of raw.string;
 * each NAN when absent. Returns -1 when raw.value is there but not a whole
 * number within 2^53 (raw56/raw64 formats may pass that; only counted as a
 * problem where the value is needed). */
static int smart_raw(const cJSON *raw, double *value, double *lead, double *low_byte)
{
	const cJSON *s = smart_get(raw, "string");
	uint64_t u;
	int rc;

	*value = *lead = *low_byte = NAN;
	rc = smart_uint(smart_get(raw, "value"), SMART_JSON_INT_MAX, &u);
	if (rc == 1) {
		*value = (double)u;
		*low_byte = (double)(u & 0xff);
	}
	if (cJSON_IsString(s) && s->valuestring != NULL && smart_leading(s->valuestring, &u) == 0)
		*lead = (double)u;
	return rc < 0 ? -1 : 0;
}

/* ata_smart_attributes.table[]: the first entry of each id counts. */
static void smart_ata(const cJSON *root, struct smart_report *r, double *t194, double *t190,
		      double *poh9)
{
	const cJSON *table = smart_get(smart_get(root, "ata_smart_attributes"), "table");
	const cJSON *e;
	int seen[256] = { 0 };

	*t194 = *t190 = *poh9 = NAN;
	if (table == NULL)
		return;
	if (!cJSON_IsArray(table)) {
		r->problems++;
		return;
	}
	cJSON_ArrayForEach(e, table) {
		double value, lead, low;
		uint64_t id;
		int bad;

		if (smart_uint(smart_get(e, "id"), 255, &id) != 1) {
			r->problems++;
			continue;
		}
		if (seen[id]++)
			continue;
		if (id != 5 && id != 197 && id != 194 && id != 190 && id != 9)
			continue;
		bad = smart_raw(smart_get(e, "raw"), &value, &lead, &low) < 0;
		/* raw.string is smartctl's own reading of the raw bytes (by
		 * its drive database); it wins where drives pack more than
		 * the count into them (min/max temperatures, milliseconds). */
		if (!isnan(lead))
			value = low = lead;
		else if (id == 9 && value > 4294967295.0)
			value = NAN; /* packed, and no reading to undo it */
		if (bad && isnan(value))
			r->problems++;
		switch (id) {
		case 5:
			r->reallocated = value;
			break;
		case 197:
			r->pending = value;
			break;
		case 194:
			*t194 = low;
			break;
		case 190:
			*t190 = low;
			break;
		case 9:
			*poh9 = value;
			break;
		}
	}
}

static int smart_temp_ok(double t)
{
	return !isnan(t) && t != 0 && t >= SMART_TEMP_MIN && t <= SMART_TEMP_MAX;
}

/* smartctl.messages[]: the first "error" one, else the first one. */
static void smart_message(const cJSON *sc, struct smart_report *r)
{
	const cJSON *msgs = smart_get(sc, "messages"), *m;
	const cJSON *first = NULL;

	if (!cJSON_IsArray(msgs))
		return;
	cJSON_ArrayForEach(m, msgs) {
		const cJSON *sev = smart_get(m, "severity");
		const cJSON *str = smart_get(m, "string");

		if (!cJSON_IsString(str) || str->valuestring == NULL)
			continue;
		if (cJSON_IsString(sev) && sev->valuestring != NULL &&
		    strcmp(sev->valuestring, "error") == 0) {
			first = str;
			break;
		}
		if (first == NULL)
			first = str;
	}
	if (first != NULL)
		hr_strlcpy(r->message, first->valuestring, sizeof(r->message));
}

/* model_name (ATA, NVMe, SCSI in 7.x), else SCSI vendor + product. */
static void smart_model(const cJSON *root, struct smart_report *r)
{
	const cJSON *v = smart_get(root, "scsi_vendor"), *p = smart_get(root, "scsi_product");

	smart_str(smart_get(root, "model_name"), r->model, sizeof(r->model));
	smart_str(smart_get(root, "scsi_model_name"), r->model, sizeof(r->model));
	if (r->model[0] != '\0')
		return;
	if (v == NULL)
		v = smart_get(root, "vendor");
	if (p == NULL)
		p = smart_get(root, "product");
	if (cJSON_IsString(v) && cJSON_IsString(p) && v->valuestring && p->valuestring)
		snprintf(r->model, sizeof(r->model), "%s %s", v->valuestring, p->valuestring);
	else
		smart_str(p, r->model, sizeof(r->model));
}

static void smart_map(const cJSON *root, struct smart_report *r)
{
	const cJSON *sc = smart_get(root, "smartctl");
	const cJSON *dev = smart_get(root, "device");
	const cJSON *nvme = smart_get(root, "nvme_smart_health_information_log");
	const cJSON *passed = smart_get(smart_get(root, "smart_status"), "passed");
	double d, t194, t190, poh9;
	uint64_t u;

	if (r->exit_status < 0 && smart_uint(smart_get(sc, "exit_status"), 255, &u) == 1)
		r->exit_status = (int)u;
	smart_message(sc, r);
	smart_str(smart_get(dev, "protocol"), r->protocol, sizeof(r->protocol));
	smart_str(smart_get(dev, "type"), r->type, sizeof(r->type));
	smart_model(root, r);
	smart_str(smart_get(root, "serial_number"), r->serial, sizeof(r->serial));
	smart_str(smart_get(root, "firmware_version"), r->firmware, sizeof(r->firmware));
	smart_str(smart_get(root, "scsi_revision"), r->firmware, sizeof(r->firmware));
	smart_str(smart_get(root, "revision"), r->firmware, sizeof(r->firmware));

	if (cJSON_IsBool(passed))
		r->healthy = cJSON_IsTrue(passed) ? 1 : 0;
	else if (passed != NULL)
		r->problems++;

	if (smart_count(r, smart_num(smart_get(smart_get(root, "temperature"), "current"),
				     -1e6, 1e6, &d)) == 1) {
		if (smart_temp_ok(d))
			r->temperature_c = d;
		else if (d != 0)
			r->problems++;
	}
	if (smart_count(r, smart_uint(smart_get(smart_get(root, "power_on_time"), "hours"),
				      SMART_JSON_INT_MAX, &u)) == 1)
		r->power_on_hours = (double)u;

	smart_ata(root, r, &t194, &t190, &poh9);
	if (isnan(r->power_on_hours))
		r->power_on_hours = poh9;

	if (nvme != NULL && !cJSON_IsObject(nvme))
		r->problems++;
	if (smart_count(r, smart_uint(smart_get(nvme, "media_errors"), SMART_JSON_INT_MAX,
				      &u)) == 1)
		r->media_errors = (double)u;
	if (smart_count(r, smart_uint(smart_get(nvme, "percentage_used"), 255, &u)) == 1)
		r->percent_used = (double)u;
	if (isnan(r->temperature_c) &&
	    smart_count(r, smart_num(smart_get(nvme, "temperature"), -1e6, 1e6, &d)) == 1 &&
	    smart_temp_ok(d))
		r->temperature_c = d;

	if (isnan(r->temperature_c))
		r->temperature_c = smart_temp_ok(t194) ? t194 : smart_temp_ok(t190) ? t190 : NAN;

	if (isnan(r->reallocated) &&
	    smart_count(r, smart_uint(smart_get(root, "scsi_grown_defect_list"),
				      SMART_JSON_INT_MAX, &u)) == 1)
		r->reallocated = (double)u;
	if (isnan(r->percent_used) &&
	    smart_count(r, smart_uint(smart_get(root, "scsi_percentage_used_endurance_indicator"),
				      255, &u)) == 1)
		r->percent_used = (double)u;
}

int smart_parse(const char *buf, size_t len, int exit_status, struct smart_report *r)
{
	cJSON *root;

	memset(r, 0, sizeof(*r));
	r->exit_status = exit_status >= 0 && exit_status <= 255 ? exit_status : -1;
	r->healthy = r->temperature_c = r->reallocated = r->pending = NAN;
	r->media_errors = r->percent_used = r->power_on_hours = NAN;

	root = len > 0 ? cJSON_ParseWithLength(buf, len) : NULL;
	if (root != NULL && cJSON_IsObject(root)) {
		r->json_ok = 1;
		smart_map(root, r);
	}
	cJSON_Delete(root);
	if (r->exit_status >= 0 && (r->exit_status & SMART_EXIT_FAILING))
		r->healthy = 0;
	return r->json_ok ? 0 : -1;
}

int smart_report_has_values(const struct smart_report *r)
{
	return !isnan(r->healthy) || !isnan(r->temperature_c) || !isnan(r->reallocated) ||
	       !isnan(r->pending) || !isnan(r->media_errors) || !isnan(r->percent_used) ||
	       !isnan(r->power_on_hours);
}

void smart_report_sample(const struct smart_report *r, const char *instance,
			 const char *device, struct hr_sample *s)
{
	static const struct {
		int bit;
		const char *word;
	} flags[] = {
		{ SMART_EXIT_CMD_FAILED, "cmd_failed" },
		{ SMART_EXIT_FAILING, "failing" },
		{ SMART_EXIT_PREFAIL, "prefail" },
		{ SMART_EXIT_PAST, "past_prefail" },
		{ SMART_EXIT_ERRLOG, "error_log" },
		{ SMART_EXIT_SELFTEST, "selftest_log" },
	};
	char words[HR_LABEL_VALUE_MAX];
	size_t i, used = 0;

	hr_sample_init(s, "smart", instance);
	if (!isnan(r->healthy))
		hr_sample_set(s, "healthy", r->healthy);
	if (!isnan(r->temperature_c))
		hr_sample_set(s, "temperature_c", r->temperature_c);
	if (!isnan(r->reallocated))
		hr_sample_set(s, "reallocated", r->reallocated);
	if (!isnan(r->pending))
		hr_sample_set(s, "pending", r->pending);
	if (!isnan(r->media_errors))
		hr_sample_set(s, "media_errors", r->media_errors);
	if (!isnan(r->percent_used))
		hr_sample_set(s, "percent_used", r->percent_used);
	if (!isnan(r->power_on_hours))
		hr_sample_set(s, "power_on_hours", r->power_on_hours);
	if (device != NULL && device[0] != '\0')
		hr_sample_label(s, "device", device);
	if (r->protocol[0] != '\0')
		hr_sample_label(s, "protocol", r->protocol);
	if (r->type[0] != '\0')
		hr_sample_label(s, "type", r->type);
	if (r->model[0] != '\0')
		hr_sample_label(s, "model", r->model);
	if (r->serial[0] != '\0')
		hr_sample_label(s, "serial", r->serial);
	if (r->firmware[0] != '\0')
		hr_sample_label(s, "firmware", r->firmware);
	if (r->exit_status >= 0) {
		words[0] = '\0';
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			if (!(r->exit_status & flags[i].bit))
				continue;
			used += (size_t)snprintf(words + used, sizeof(words) - used, "%s%s",
						 used ? "," : "", flags[i].word);
		}
		hr_sample_label(s, "flags", words);
	}
}

/* ---- --scan-open -------------------------------------------------------- */

int smart_scan_parse(const char *buf, size_t len, struct smart_scan *out)
{
	const cJSON *devs, *e;
	cJSON *root;

	out->count = 0;
	out->problems = out->dropped = 0;
	root = len > 0 ? cJSON_ParseWithLength(buf, len) : NULL;
	devs = smart_get(root, "devices");
	if (root == NULL || !cJSON_IsObject(root) || (devs != NULL && !cJSON_IsArray(devs))) {
		cJSON_Delete(root);
		return -1;
	}
	/* No "devices" member: smartctl found none (it omits the array). */
	cJSON_ArrayForEach(e, devs) {
		const cJSON *name = smart_get(e, "name"), *type = smart_get(e, "type");
		const cJSON *oe = smart_get(e, "open_error");
		struct smart_scan_dev *d;

		if (!cJSON_IsString(name) || name->valuestring == NULL ||
		    name->valuestring[0] == '\0' || name->valuestring[0] == '-' ||
		    strlen(name->valuestring) >= sizeof(d->name) ||
		    (type != NULL && (!cJSON_IsString(type) || type->valuestring == NULL ||
				      type->valuestring[0] == '-' ||
				      strlen(type->valuestring) >= sizeof(d->type)))) {
			out->problems++;
			continue;
		}
		if (out->count >= SMART_MAX_DEVICES) {
			out->dropped++;
			continue;
		}
		d = &out->devs[out->count++];
		hr_strlcpy(d->name, name->valuestring, sizeof(d->name));
		d->type[0] = '\0';
		if (type != NULL)
			hr_strlcpy(d->type, type->valuestring, sizeof(d->type));
		d->open_error = oe != NULL;
		d->error[0] = '\0';
		if (cJSON_IsString(oe) && oe->valuestring != NULL)
			hr_strlcpy(d->error, oe->valuestring, sizeof(d->error));
	}
	cJSON_Delete(root);
	return 0;
}

int smart_instance(const char *path, const char *type, char *dst, size_t n)
{
	const char *end, *last, *parent = NULL, *suffix = NULL;
	size_t plen = 0, llen;
	int w;

	if (path == NULL || n == 0)
		return -1;
	end = path + strlen(path);
	while (end > path && end[-1] == '/')
		end--;
	for (last = end; last > path && last[-1] != '/'; last--)
		;
	llen = (size_t)(end - last);
	if (llen == 0)
		return -1;
	if (isdigit((unsigned char)last[0])) {
		const char *pe = last;

		while (pe > path && pe[-1] == '/')
			pe--;
		for (parent = pe; parent > path && parent[-1] != '/'; parent--)
			;
		plen = (size_t)(pe - parent);
	}
	if (type != NULL && strchr(type, ',') != NULL) {
		suffix = strrchr(type, '+');
		suffix = suffix ? suffix + 1 : type;
	}
	w = snprintf(dst, n, "%.*s%.*s%s%s", (int)plen, parent ? parent : "", (int)llen, last,
		     suffix ? "-" : "", suffix ? suffix : "");
	if (w < 0 || (size_t)w >= n) {
		dst[0] = '\0';
		return -1;
	}
	return 0;
}

/* ---- the probe ---------------------------------------------------------- */

struct smart_dev {
	char *path;       /* owned */
	char *type;       /* owned; NULL: smartctl detects the type */
	char instance[HR_INSTANCE_MAX];
	struct hr_complain c;
};

struct smart_state {
	char **cmd;              /* the argv prefix, owned */
	size_t ncmd;
	double timeout;
	int discover;            /* no devices configured: --scan-open */
	struct smart_dev *devs;  /* owned */
	size_t ndevs;
	unsigned since_scan;     /* reads since the last discovery */
	int rescan;              /* discover again at the next read */
	struct hr_complain c_scan;
};

static void smart_devs_free(struct smart_dev *devs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(devs[i].path);
		free(devs[i].type);
	}
	free(devs);
}

static void smart_teardown(void *state)
{
	struct smart_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ncmd; i++)
		free(st->cmd[i]);
	free(st->cmd);
	smart_devs_free(st->devs, st->ndevs);
	free(st);
}

/* Sets dev from path and type (copied). 0, or -1 when out of memory or the
 * instance cannot be made (name given: used as the instance). */
static int smart_dev_set(struct smart_dev *d, const char *path, const char *type,
			 const char *name)
{
	memset(d, 0, sizeof(*d));
	if (name != NULL) {
		if (hr_strlcpy(d->instance, name, sizeof(d->instance)) >= sizeof(d->instance))
			return -1;
	} else if (smart_instance(path, type, d->instance, sizeof(d->instance)) < 0) {
		return -1;
	}
	d->path = strdup(path);
	d->type = type != NULL && type[0] != '\0' ? strdup(type) : NULL;
	if (d->path == NULL || (type != NULL && type[0] != '\0' && d->type == NULL)) {
		free(d->path);
		free(d->type);
		d->path = d->type = NULL;
		return -1;
	}
	return 0;
}

/* A -d TYPE as smartctl spells them ("sat", "sat,12", "sat+megaraid,0",
 * "areca,1/2", "nvme,0xffffffff"): no option, no blanks. */
static int smart_type_ok(const char *t)
{
	size_t i;

	if (!isalnum((unsigned char)t[0]))
		return 0;
	for (i = 0; t[i] != '\0'; i++)
		if (!isalnum((unsigned char)t[i]) && strchr(",+/_-.:", t[i]) == NULL)
			return 0;
	return i < SMART_WORD_MAX;
}

static int smart_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isgraph((unsigned char)s[i]))
			return 0;
	return i > 0 && i < 64;
}

/* Validates devices[i] (a path string or {"device", "type", "name"}) into
 * st->devs[st->ndevs]. Problems go to errs. */
static void smart_setup_dev(struct smart_state *st, const cJSON *e, const char *pi,
			    struct hr_errs *errs)
{
	static const char *const keys[] = { "device", "type", "name", NULL };
	const char *path = NULL, *type = NULL, *name = NULL;
	char p[600];
	size_t j;

	if (cJSON_IsString(e) && e->valuestring != NULL) {
		path = e->valuestring;
	} else if (cJSON_IsObject(e)) {
		if (hr_cfg_check_keys(e, pi, keys, errs) > 0)
			return;
		if (hr_cfg_string(e, "device", pi, &path, errs) == 0)
			hr_errs_add(errs, pi, "missing \"device\"");
		if (hr_cfg_string(e, "type", pi, &type, errs) == 1 && !smart_type_ok(type)) {
			hr_cfg_path(p, sizeof(p), pi, "type");
			hr_errs_add(errs, p, "expected a smartctl -d type such as \"sat\" or "
				    "\"sat+megaraid,0\"");
			return;
		}
		if (hr_cfg_string(e, "name", pi, &name, errs) == 1 && !smart_name_ok(name)) {
			hr_cfg_path(p, sizeof(p), pi, "name");
			hr_errs_add(errs, p, "expected 1-63 printable characters without blanks");
			return;
		}
	} else {
		hr_errs_add(errs, pi, "expected a device path or an object "
			    "{\"device\": PATH, \"type\": TYPE}");
		return;
	}
	if (path == NULL)
		return;
	if (path[0] != '/') {
		hr_cfg_path(p, sizeof(p), pi, cJSON_IsObject(e) ? "device" : "");
		hr_errs_add(errs, cJSON_IsObject(e) ? p : pi,
			    "expected an absolute device path such as \"/dev/sda\"");
		return;
	}
	if (smart_dev_set(&st->devs[st->ndevs], path, type, name) < 0) {
		hr_errs_add(errs, pi, "cannot make an instance name of \"%s\"", path);
		return;
	}
	for (j = 0; j < st->ndevs; j++) {
		if (strcmp(st->devs[j].instance, st->devs[st->ndevs].instance) == 0) {
			hr_errs_add(errs, pi, "instance \"%s\" is already used by an earlier device"
				    " (give one of them a \"name\")", st->devs[j].instance);
			free(st->devs[st->ndevs].path);
			free(st->devs[st->ndevs].type);
			return;
		}
	}
	st->ndevs++;
}

static int smart_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		       void **state, struct hr_errs *errs)
{
	static const char *const allowed[] = { "devices", "command", "timeout", "interval", NULL };
	const char **cmd = NULL;
	const cJSON *devs, *e;
	struct smart_state *st;
	size_t ncmd = 0, i, before = errs->count + errs->dropped;
	char p[512], pi[560];
	int idx = 0;

	(void)env; /* smartctl opens devices itself: the root does not apply */
	/* Bad keys are counted with the other problems below. */
	if (hr_cfg_object(cfg, path, allowed, errs) < 0 && !cJSON_IsObject(cfg))
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->timeout = SMART_DEFAULT_TIMEOUT;
	if (cfg != NULL) {
		hr_cfg_duration(cfg, "timeout", path, 0.1, 3600, &st->timeout, errs);
		if (hr_cfg_strings(cfg, "command", path, &cmd, &ncmd, errs) == 1 && ncmd == 0) {
			hr_cfg_path(p, sizeof(p), path, "command");
			hr_errs_add(errs, p, "expected at least the program, e.g. [\"smartctl\"]");
		}
	}
	st->cmd = calloc(ncmd > 0 ? ncmd : 1, sizeof(*st->cmd));
	if (st->cmd == NULL)
		goto nomem;
	if (ncmd == 0) {
		st->cmd[0] = strdup("smartctl");
		if (st->cmd[0] == NULL)
			goto nomem;
		st->ncmd = 1;
	}
	for (i = 0; i < ncmd; i++) {
		st->cmd[i] = strdup(cmd[i]);
		if (st->cmd[i] == NULL)
			goto nomem;
		st->ncmd++;
	}

	devs = cfg != NULL ? cJSON_GetObjectItemCaseSensitive(cfg, "devices") : NULL;
	hr_cfg_path(p, sizeof(p), path, "devices");
	if (devs != NULL && !cJSON_IsArray(devs)) {
		hr_errs_add(errs, p, "expected an array of device paths or objects");
	} else if (devs != NULL) {
		int n = cJSON_GetArraySize(devs);

		if (n == 0)
			hr_errs_add(errs, p, "empty: leave \"devices\" out to discover the "
				    "devices with smartctl --scan-open");
		if (n > SMART_MAX_DEVICES)
			hr_errs_add(errs, p, "more than %d devices", SMART_MAX_DEVICES);
		st->devs = calloc(n > 0 ? (size_t)n : 1, sizeof(*st->devs));
		if (st->devs == NULL)
			goto nomem;
		cJSON_ArrayForEach(e, devs) {
			if (idx >= SMART_MAX_DEVICES)
				break;
			hr_cfg_index(pi, sizeof(pi), p, idx++);
			smart_setup_dev(st, e, pi, errs);
		}
	} else {
		st->discover = 1;
	}
	free(cmd);
	if (errs->count + errs->dropped > before) {
		smart_teardown(st);
		return -1;
	}
	*state = st;
	return 0;
nomem:
	free(cmd);
	smart_teardown(st);
	hr_errs_add(errs, path, "out of memory");
	return -1;
}

/* Runs the command prefix with args (NULL-terminated) into res. */
static int smart_run(const struct smart_state *st, const char *const *args,
		     struct hr_run_result *res, struct hr_err *err)
{
	const char *argv[64];
	size_t n = 0, i;

	for (i = 0; i < st->ncmd && n < 48; i++)
		argv[n++] = st->cmd[i];
	for (i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return hr_run(argv, st->timeout, SMART_OUTPUT_CAP, res, err);
}

/* The first line of a command's standard error, for messages. */
static void smart_first_line(const char *s, char *dst, size_t n)
{
	size_t len = strcspn(s, "\r\n");

	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Replaces the device list with a fresh `--scan-open` result, keeping the
 * complaint state of devices seen before. 0, or -1 with err filled. */
static int smart_discover(struct smart_state *st, struct hr_err *err)
{
	static const char *const args[] = { "--scan-open", "--json", NULL };
	struct hr_run_result res;
	struct smart_scan *scan = NULL;
	struct smart_dev *devs = NULL;
	size_t n = 0, i, j, skipped = 0;
	char why[128], msg[SMART_MSG_MAX] = "";
	int rc = -1;

	if (smart_run(st, args, &res, err) < 0) {
		hr_run_result_free(&res);
		return -1;
	}
	scan = malloc(sizeof(*scan));
	if (scan == NULL) {
		hr_err_set(err, "out of memory");
		goto out;
	}
	if (!res.exited || res.timed_out || res.truncated) {
		hr_run_describe(&res, st->timeout, SMART_OUTPUT_CAP, why, sizeof(why));
		hr_err_set(err, "%s --scan-open: %s", st->cmd[0], why);
		goto out;
	}
	if (smart_scan_parse(res.out, res.out_len, scan) < 0) {
		if (res.errout != NULL)
			smart_first_line(res.errout, msg, sizeof(msg));
		hr_err_set(err, "%s --scan-open --json: exit status %d, no JSON device list%s%s",
			   st->cmd[0], res.status, msg[0] ? ": " : "", msg);
		goto out;
	}
	devs = calloc(scan->count > 0 ? scan->count : 1, sizeof(*devs));
	if (devs == NULL) {
		hr_err_set(err, "out of memory");
		goto out;
	}
	for (i = 0; i < scan->count; i++) {
		const struct smart_scan_dev *d = &scan->devs[i];
		int dup = 0;

		if (d->open_error || (d->type[0] != '\0' && !smart_type_ok(d->type))) {
			skipped++;
			continue;
		}
		if (smart_dev_set(&devs[n], d->name, d->type, NULL) < 0) {
			skipped++;
			continue;
		}
		for (j = 0; j < n && !dup; j++)
			dup = strcmp(devs[j].instance, devs[n].instance) == 0;
		if (dup) {
			free(devs[n].path);
			free(devs[n].type);
			skipped++;
			continue;
		}
		for (j = 0; j < st->ndevs; j++)
			if (strcmp(st->devs[j].instance, devs[n].instance) == 0)
				devs[n].c = st->devs[j].c;
		n++;
	}
	smart_devs_free(st->devs, st->ndevs);
	st->devs = devs;
	st->ndevs = n;
	devs = NULL;
	rc = 0;
	skipped += scan->problems + scan->dropped;
	if (n == 0)
		hr_complain(&st->c_scan, "probe smart: --scan-open found no device to query "
			    "(%zu skipped)", skipped);
	else if (skipped > 0)
		hr_complain(&st->c_scan, "probe smart: --scan-open: %zu device(s) skipped "
			    "(cannot be opened, or unusable name or type)", skipped);
	else
		hr_complain_clear(&st->c_scan, "probe smart: --scan-open: every device usable");
out:
	free(scan);
	free(devs);
	hr_run_result_free(&res);
	return rc;
}

/* Queries one device. Returns 1 when a sample was put, 0 when the device
 * gave nothing (logged once), -1 when the command cannot be run at all. */
static int smart_query(struct smart_state *st, struct smart_dev *d, struct hr_sink *sink,
		       struct hr_err *err)
{
	const char *args[8];
	struct hr_run_result res;
	struct smart_report *r = NULL;
	struct hr_sample *s = NULL;
	char why[128], msg[SMART_MSG_MAX] = "";
	size_t n = 0;
	int rc = 0;

	args[n++] = "--json";
	args[n++] = "-H";
	args[n++] = "-A";
	args[n++] = "-i";
	if (d->type != NULL) {
		args[n++] = "-d";
		args[n++] = d->type;
	}
	args[n++] = d->path;
	args[n] = NULL;
	if (smart_run(st, args, &res, err) < 0) {
		hr_run_result_free(&res);
		return -1;
	}
	r = malloc(sizeof(*r));
	s = malloc(sizeof(*s));
	if (r == NULL || s == NULL) {
		hr_complain(&d->c, "probe smart: %s: out of memory", d->path);
		goto out;
	}
	if (!res.exited || res.timed_out || res.truncated) {
		hr_run_describe(&res, st->timeout, SMART_OUTPUT_CAP, why, sizeof(why));
		hr_complain(&d->c, "probe smart: %s: %s %s, no values", d->path, st->cmd[0], why);
		goto out;
	}
	smart_parse(res.out, res.out_len, res.status, r);
	if (r->message[0] != '\0')
		hr_strlcpy(msg, r->message, sizeof(msg));
	else if (res.errout != NULL)
		smart_first_line(res.errout, msg, sizeof(msg));
	if (res.status & (SMART_EXIT_CMDLINE | SMART_EXIT_OPEN)) {
		hr_complain(&d->c, "probe smart: %s: %s exit status %d (%s), no values%s%s",
			    d->path, st->cmd[0], res.status,
			    (res.status & SMART_EXIT_CMDLINE) ? "command line not accepted" :
								"device open failed",
			    msg[0] ? ": " : "", msg);
		st->rescan = 1; /* a discovered disk may have gone */
		goto out;
	}
	if (!smart_report_has_values(r)) {
		hr_complain(&d->c, "probe smart: %s: %s exit status %d, %s%s%s", d->path,
			    st->cmd[0], res.status,
			    r->json_ok ? "no SMART values in the output" : "output is not JSON",
			    msg[0] ? ": " : "", msg);
		goto out;
	}
	smart_report_sample(r, d->instance, d->path, s);
	if (hr_sink_put(sink, s) == 0)
		rc = 1;
	if (!r->json_ok)
		hr_complain(&d->c, "probe smart: %s: %s exit status %d, output is not JSON "
			    "(healthy 0 from the exit status only)", d->path, st->cmd[0],
			    res.status);
	else if (r->problems > 0)
		hr_complain(&d->c, "probe smart: %s: %u member(s) of smartctl's JSON not "
			    "understood, skipped", d->path, r->problems);
	else
		hr_complain_clear(&d->c, "probe smart: %s: readable again", d->path);
out:
	free(r);
	free(s);
	hr_run_result_free(&res);
	return rc;
}

static int smart_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct smart_state *st = state;
	struct hr_err e = { { 0 } };
	size_t i, put = 0;
	int rc;

	if (st->discover && (st->ndevs == 0 || st->rescan || st->since_scan >= SMART_RESCAN_READS)) {
		st->since_scan = 0;
		st->rescan = 0;
		if (smart_discover(st, &e) < 0) {
			/* Keep the devices found before: a scan that fails
			 * once must not make every disk vanish. */
			if (st->ndevs == 0)
				return hr_err_set(err, "%s", e.msg);
			hr_complain(&st->c_scan, "probe smart: %s", e.msg);
		}
	}
	st->since_scan++;
	for (i = 0; i < st->ndevs; i++) {
		/* The command cannot be started at all: the scheduler logs
		 * err once, per-device complaints would only repeat it. */
		rc = smart_query(st, &st->devs[i], sink, &e);
		if (rc < 0)
			return hr_err_set(err, "%s", e.msg);
		put += (size_t)rc;
	}
	if (st->ndevs > 0 && put == 0)
		return hr_err_set(err, "none of %zu device(s) gave SMART values", st->ndevs);
	return 0;
}


const struct probe probe_smart = {
	.name = "smart",
	.core = 0,
	.default_interval = 300, /* SMART queries are slow and may wake disks */
	.setup = smart_setup,
	.read = smart_read,
	.teardown = smart_teardown,
};
