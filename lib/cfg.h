/* cfg.h: helpers for validating JSON config objects (cJSON) with a JSON path
 * for every problem ("probes.fs.interval: expected a number"). Each getter
 * returns 1 when the key is present and valid, 0 when absent, -1 when
 * present but invalid (the problem is added to errs). */
#ifndef HR_CFG_H
#define HR_CFG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

/* PATH.KEY into dst ("" path gives just KEY). */
void hr_cfg_path(char *dst, size_t n, const char *path, const char *key);
/* PATH[INDEX] into dst. */
void hr_cfg_index(char *dst, size_t n, const char *path, int index);

/* Adds an error for every key of obj not in allowed (NULL-terminated) and
 * for duplicate keys. Returns the number of problems found. */
int hr_cfg_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
		      struct hr_errs *errs);

/* A string; *out borrows from obj. Empty strings are invalid. */
int hr_cfg_string(const cJSON *obj, const char *key, const char *path, const char **out,
		  struct hr_errs *errs);
/* A number within [min, max]. */
int hr_cfg_number(const cJSON *obj, const char *key, const char *path, double min, double max,
		  double *out, struct hr_errs *errs);
/* true or false. */
int hr_cfg_bool(const cJSON *obj, const char *key, const char *path, int *out,
		struct hr_errs *errs);
/* A duration: seconds as a number, or a string like "90s", "15m", "26h",
 * "7d"; must lie within [min, max] seconds. */
int hr_cfg_duration(const cJSON *obj, const char *key, const char *path, double min, double max,
		    double *out, struct hr_errs *errs);
/* An array of non-empty strings; *out is a new NULL-terminated array of
 * borrowed pointers (caller frees the array only, with free()). */
int hr_cfg_strings(const cJSON *obj, const char *key, const char *path, const char ***out,
		   size_t *count, struct hr_errs *errs);

#endif
