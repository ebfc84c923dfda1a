/* smart.h: the smart probe (disk health from smartmontools). It runs
 * `smartctl --json -H -A -i [-d TYPE] DEVICE` for every configured or
 * discovered device and maps the JSON to one sample per device: healthy,
 * temperature_c, reallocated, pending, media_errors, percent_used,
 * power_on_hours. The mapper and the scan parser below are pure (no I/O) so
 * that unit tests and the libFuzzer target call them on buffers. */
#ifndef HR_PROBE_SMART_H
#define HR_PROBE_SMART_H

#include <stddef.h>

#include "probe.h"
#include "sample.h"

extern const struct probe probe_smart;

#define SMART_OUTPUT_CAP (1u << 20) /* bytes of smartctl output kept */
#define SMART_MAX_DEVICES 256       /* devices per read (config or scan) */
#define SMART_WORD_MAX 64           /* protocol, type, serial, firmware */
#define SMART_MSG_MAX 256

/* smartctl's exit status bits (smartctl(8), "RETURN VALUES"). */
#define SMART_EXIT_CMDLINE 0x01    /* command line did not parse */
#define SMART_EXIT_OPEN 0x02       /* device open failed / no IDENTIFY */
#define SMART_EXIT_CMD_FAILED 0x04 /* some SMART command failed */
#define SMART_EXIT_FAILING 0x08    /* SMART status: "DISK FAILING" */
#define SMART_EXIT_PREFAIL 0x10    /* prefail attributes <= threshold now */
#define SMART_EXIT_PAST 0x20       /* ... at some time in the past */
#define SMART_EXIT_ERRLOG 0x40     /* the error log has records */
#define SMART_EXIT_SELFTEST 0x80   /* the self-test log has errors */

/* What one smartctl run says about one device. Values are NAN when the
 * drive (or the output) does not report them; strings are "" then. */
struct smart_report {
	int exit_status;      /* the status mapped (0-255), -1 when unknown */
	int json_ok;          /* the output was a JSON object */
	double healthy;       /* 1 passed, 0 failing */
	double temperature_c;
	double reallocated;
	double pending;
	double media_errors;
	double percent_used;
	double power_on_hours;
	char protocol[SMART_WORD_MAX]; /* device.protocol: ATA, NVMe, SCSI */
	char type[SMART_WORD_MAX];     /* device.type: sat, nvme, sat+megaraid,0 */
	char model[HR_LABEL_VALUE_MAX];
	char serial[SMART_WORD_MAX];
	char firmware[SMART_WORD_MAX];
	char message[SMART_MSG_MAX];   /* smartctl's first error message */
	unsigned problems;    /* fields present but of the wrong kind or out
			       * of range, skipped */
};

/* Maps len bytes of `smartctl --json` output into r (reset first).
 * exit_status is smartctl's exit status as the process ended (0-255), or -1
 * to take the "smartctl.exit_status" member of the JSON instead (captures
 * without a process). Exit status bit 3 sets healthy 0 whatever the JSON
 * says, even when it is not JSON at all. smart.c says which member gives
 * which value. Returns 0 when the output was a JSON object, -1 when not (r
 * still holds what the exit status says). Borrows buf (need not be
 * NUL-terminated). */
int smart_parse(const char *buf, size_t len, int exit_status, struct smart_report *r);

/* Does r hold at least one value? */
int smart_report_has_values(const struct smart_report *r);

/* Fills s (initialised here, probe "smart") for instance from r: the values
 * r has, and labels device (borrowed path, may be NULL), protocol, type,
 * model, serial, firmware and flags (the exit status bits 2-7 as words:
 * cmd_failed, failing, prefail, past_prefail, error_log, selftest_log). */
void smart_report_sample(const struct smart_report *r, const char *instance,
			 const char *device, struct hr_sample *s);

/* One device of `smartctl --scan-open --json`. */
struct smart_scan_dev {
	char name[HR_INSTANCE_MAX];   /* "/dev/sda", "/dev/bus/0" */
	char type[SMART_WORD_MAX];    /* "sat", "nvme", "megaraid,14"; "" */
	int open_error;               /* smartctl could not open it */
	char error[SMART_MSG_MAX];    /* its open_error text */
};

struct smart_scan {
	size_t count;
	struct smart_scan_dev devs[SMART_MAX_DEVICES];
	unsigned problems;  /* entries without a usable name, skipped */
	unsigned dropped;   /* entries past SMART_MAX_DEVICES */
};

/* Parses len bytes of `smartctl --scan-open --json` output into out (reset
 * first; large: allocate it). Returns 0, or -1 when the output is not a
 * JSON object with a "devices" array. Borrows buf. */
int smart_scan_parse(const char *buf, size_t len, struct smart_scan *out);

/* Writes the instance name of device path (with smartctl type, may be NULL
 * or "") into dst: the path's last component ("/dev/sda" -> "sda"), with
 * the parent folder's name in front when that component starts with a
 * digit ("/dev/bus/0" -> "bus0"), and "-" plus the type's last '+' part
 * when the type has a ',' (a disk behind a RAID controller or bridge:
 * "sda-megaraid,14"). Returns 0, or -1 when the result would be empty or
 * does not fit. */
int smart_instance(const char *path, const char *type, char *dst, size_t n);

#endif
