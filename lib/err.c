/* err.c: error buffers and error lists (see err.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int hr_err_set(struct hr_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int hr_err_errno(struct hr_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (len < sizeof(err->msg))
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return -1;
}

void hr_errs_init(struct hr_errs *errs)
{
	errs->items = NULL;
	errs->count = 0;
	errs->cap = 0;
	errs->dropped = 0;
}

void hr_errs_add(struct hr_errs *errs, const char *path, const char *fmt, ...)
{
	char msg[HR_ERR_MAX];
	char *line;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (errs->count == errs->cap) {
		size_t ncap = errs->cap ? errs->cap * 2 : 8;
		char **n = realloc(errs->items, ncap * sizeof(*n));
		if (n == NULL) {
			errs->dropped++;
			return;
		}
		errs->items = n;
		errs->cap = ncap;
	}
	if (path[0] == '\0')
		path = "(top)";
	len = strlen(path) + strlen(msg) + 3;
	line = malloc(len);
	if (line == NULL) {
		errs->dropped++;
		return;
	}
	snprintf(line, len, "%s: %s", path, msg);
	errs->items[errs->count++] = line;
}

void hr_errs_free(struct hr_errs *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->count; i++)
		free(errs->items[i]);
	free(errs->items);
	hr_errs_init(errs);
}
