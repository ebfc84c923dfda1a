/* log.h: logging to stderr (systemd style) or syslog, with the subject first:
 * "probe md: /proc/mdstat: line 7: cannot parse ...". The destination is set
 * once at start-up by main(); everything else only calls the functions.
 * hr_complain() logs a failure that repeats every interval once, and again
 * only when its message changes or when it clears. */
#ifndef HR_LOG_H
#define HR_LOG_H

#include <pthread.h>

#include "err.h"

enum hr_log_level { HR_LOG_ERR, HR_LOG_WARNING, HR_LOG_INFO, HR_LOG_DEBUG };

/* Chooses the destination: syslog when use_syslog, stderr otherwise, and the
 * most verbose level that is written. Call before any thread starts. */
void hr_log_init(const char *ident, int use_syslog, enum hr_log_level max);

/* Like hr_log_warnx with ": strerror(errno)" appended. */
void hr_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hr_log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hr_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hr_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hr_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start-up only: logs and exits with status 1. */
void hr_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* State of one repeating complaint; zero-initialise (or HR_COMPLAIN_INIT). */
struct hr_complain {
	int active;
	char last[HR_ERR_MAX];
};
#define HR_COMPLAIN_INIT { 0, { 0 } }

/* Logs the warning when c is not active or the message differs from the last
 * one logged; returns 1 when it logged, 0 when it stayed quiet. */
int hr_complain(struct hr_complain *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* When c is active, logs "fmt ..." at info level and makes c inactive. */
void hr_complain_clear(struct hr_complain *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Problems met during one pass (one read of a probe): the first is kept in
 * full, the rest only counted, so that a broken source logs one line per
 * change ("%s (and %u more problems)") instead of one per item.
 * Zero-initialise. */
struct hr_issues {
	unsigned n;
	char first[HR_ERR_MAX];
};

/* Counts a problem; formats it into is->first when it is the first. */
void hr_issue(struct hr_issues *is, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* When is holds problems, complains through c with "SUBJECT: FIRST", plus
 * " (and N more problems)" when there were more, and returns 1; returns 0
 * (c untouched, for the caller's hr_complain_clear) when there were none. */
int hr_issues_complain(struct hr_complain *c, const struct hr_issues *is, const char *subject);

#endif
