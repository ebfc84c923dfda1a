/* log.c: stderr/syslog logging (see log.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

/* Set once by hr_log_init() before threads start, read-only afterwards. */
static struct {
	int use_syslog;
	enum hr_log_level max;
	const char *ident;
} log_cfg = { 0, HR_LOG_INFO, "headroom" };

void hr_log_init(const char *ident, int use_syslog, enum hr_log_level max)
{
	log_cfg.ident = ident;
	log_cfg.use_syslog = use_syslog;
	log_cfg.max = max;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_vwrite(enum hr_log_level level, const char *suffix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_vwrite(enum hr_log_level level, const char *suffix, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const name[] = { "error", "warning", "info", "debug" };
	char msg[2048];

	if (level > log_cfg.max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_cfg.use_syslog) {
		syslog(prio[level], "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	/* One fprintf per line so that lines from threads do not interleave. */
	fprintf(stderr, "%s[%s]: %s%s%s\n", log_cfg.ident, name[level], msg,
		suffix ? ": " : "", suffix ? suffix : "");
}

#define LOG_FN(fn, level)                               \
	void fn(const char *fmt, ...)                   \
	{                                               \
		va_list ap;                             \
		va_start(ap, fmt);                      \
		log_vwrite(level, NULL, fmt, ap);       \
		va_end(ap);                             \
	}

LOG_FN(hr_log_warnx, HR_LOG_WARNING)
LOG_FN(hr_log_err, HR_LOG_ERR)
LOG_FN(hr_log_info, HR_LOG_INFO)
LOG_FN(hr_log_debug, HR_LOG_DEBUG)

void hr_log_warn(const char *fmt, ...)
{
	char ebuf[256];
	int saved = errno;
	va_list ap;

	/* GNU strerror_r returns the message, which may not be ebuf. */
	const char *e = strerror_r(saved, ebuf, sizeof(ebuf));
	va_start(ap, fmt);
	log_vwrite(HR_LOG_WARNING, e, fmt, ap);
	va_end(ap);
	errno = saved;
}

void hr_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(HR_LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

int hr_complain(struct hr_complain *c, const char *fmt, ...)
{
	char msg[HR_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->active && strcmp(c->last, msg) == 0)
		return 0;
	c->active = 1;
	memcpy(c->last, msg, sizeof(msg));
	hr_log_warnx("%s", msg);
	return 1;
}

void hr_complain_clear(struct hr_complain *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->active)
		return;
	c->active = 0;
	c->last[0] = '\0';
	va_start(ap, fmt);
	log_vwrite(HR_LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void hr_issue(struct hr_issues *is, const char *fmt, ...)
{
	va_list ap;

	if (is->n++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(is->first, sizeof(is->first), fmt, ap);
	va_end(ap);
}

int hr_issues_complain(struct hr_complain *c, const struct hr_issues *is, const char *subject)
{
	if (is->n > 1)
		hr_complain(c, "%s: %s (and %u more problems)", subject, is->first, is->n - 1);
	else if (is->n == 1)
		hr_complain(c, "%s: %s", subject, is->first);
	return is->n > 0;
}
