/* cfg.h: helpers for validating JSON config objects (cJSON) with a JSON path
 * for every problem ("probes.fs.interval: expected a number"). Each getter
 * returns 1 when the key is present and valid, 0 when absent, -1 when
 * present but invalid (the problem is added to errs). */
#ifndef HR_CFG_H
#define HR_CFG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

/* Parses len bytes of config text. Returns the document (caller frees with
 * cJSON_Delete), or NULL with "not valid JSON (near line L, byte B)" in errs. */
cJSON *hr_cfg_parse(const char *text, size_t len, struct hr_errs *errs);

/* Reads FILE (at most 1 MiB) and parses it as above; a file that cannot be
 * read is a problem in errs too. */
cJSON *hr_cfg_load(const char *file, struct hr_errs *errs);

/* PATH.KEY into dst ("" path gives just KEY). */
void hr_cfg_path(char *dst, size_t n, const char *path, const char *key);
/* PATH[INDEX] into dst. */
void hr_cfg_index(char *dst, size_t n, const char *path, int index);

/* Adds an error for every key of obj not in allowed (NULL-terminated) and
 * for duplicate keys. Returns the number of problems found. */
int hr_cfg_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
		      struct hr_errs *errs);

/* Does a member of obj before item have item's key? cJSON keeps duplicate
 * keys, and the getters would silently use the first. */
int hr_cfg_dup_key(const cJSON *obj, const cJSON *item);

/* The usual probe config: cfg may be NULL (not configured), a JSON true
 * (enabled, defaults) or an object whose keys are all in allowed
 * (NULL-terminated), each once. Returns 0 then; otherwise adds "expected an
 * object" at path, or an error per unknown or duplicate key, and returns -1.
 * The getters below accept NULL or true as cfg and find no keys there. */
int hr_cfg_object(const cJSON *cfg, const char *path, const char *const *allowed,
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
/* Like hr_cfg_strings, but *out is a new NULL-terminated array of owned
 * copies, so it outlives the config (caller frees with hr_strv_free()).
 * *out is left alone when absent or invalid. */
int hr_cfg_strv(const cJSON *obj, const char *key, const char *path, char ***out,
		struct hr_errs *errs);
/* Frees a NULL-terminated array of strings and the strings; v may be NULL. */
void hr_strv_free(char **v);

#endif
