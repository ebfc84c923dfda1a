/* err.h: the one error convention of headroom.
 * Functions return 0 on success or -1 (NULL for pointers) on failure and
 * describe the failure in a caller-provided struct hr_err. lib/ never logs;
 * the caller decides whether and how to report. */
#ifndef HR_ERR_H
#define HR_ERR_H

#include <stddef.h>

#define HR_ERR_MAX 512

struct hr_err {
	char msg[HR_ERR_MAX];
};

/* Sets err->msg from a printf format (truncated to HR_ERR_MAX). err may be
 * NULL. Always returns -1 so that callers can write `return hr_err_set(...)`. */
int hr_err_set(struct hr_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like hr_err_set, and appends ": strerror(errnum)". */
int hr_err_errno(struct hr_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A list of problems, each "path: message", for config validation that
 * reports every problem rather than the first. */
struct hr_errs {
	char **items;
	size_t count;   /* messages in items */
	size_t cap;
	size_t dropped; /* problems whose message could not be stored */
};

/* Nonzero when any problem was added. */
#define hr_errs_any(e) ((e)->count + (e)->dropped > 0)

void hr_errs_init(struct hr_errs *errs);
/* Appends "PATH: message". Allocation failure drops the message but counts
 * it in dropped, so hr_errs_any() stays a reliable "invalid". */
void hr_errs_add(struct hr_errs *errs, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Frees the messages; errs may be NULL. */
void hr_errs_free(struct hr_errs *errs);

#endif
