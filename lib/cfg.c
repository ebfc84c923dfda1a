/* cfg.c: JSON config validation helpers (see cfg.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "util.h"

cJSON *hr_cfg_parse(const char *text, size_t len, struct hr_errs *errs)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	size_t off, i;
	unsigned line = 1;

	if (doc != NULL)
		return doc;
	off = end != NULL && end >= text ? (size_t)(end - text) : 0;
	for (i = 0; i < off && i < len; i++)
		if (text[i] == '\n')
			line++;
	hr_errs_add(errs, "", "not valid JSON (near line %u, byte %zu)", line, off);
	return NULL;
}

cJSON *hr_cfg_load(const char *file, struct hr_errs *errs)
{
	struct hr_err err;
	cJSON *doc;
	char *text;
	size_t len;

	if (hr_read_file(NULL, file, &text, &len, 1u << 20, &err) < 0) {
		hr_errs_add(errs, "", "%s", err.msg);
		return NULL;
	}
	doc = hr_cfg_parse(text, len, errs);
	free(text);
	return doc;
}

void hr_cfg_path(char *dst, size_t n, const char *path, const char *key)
{
	if (path == NULL || path[0] == '\0')
		snprintf(dst, n, "%s", key);
	else
		snprintf(dst, n, "%s.%s", path, key);
}

void hr_cfg_index(char *dst, size_t n, const char *path, int index)
{
	snprintf(dst, n, "%s[%d]", path, index);
}

int hr_cfg_dup_key(const cJSON *obj, const cJSON *item)
{
	const cJSON *prev;

	if (item->string == NULL)
		return 0;
	for (prev = obj->child; prev != NULL && prev != item; prev = prev->next)
		if (prev->string != NULL && strcmp(prev->string, item->string) == 0)
			return 1;
	return 0;
}

int hr_cfg_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
		      struct hr_errs *errs)
{
	const cJSON *it;
	char p[512];
	int bad = 0;

	cJSON_ArrayForEach(it, obj) {
		size_t i;
		int ok = 0;

		for (i = 0; allowed != NULL && allowed[i] != NULL; i++)
			if (it->string != NULL && strcmp(it->string, allowed[i]) == 0)
				ok = 1;
		hr_cfg_path(p, sizeof(p), path, it->string ? it->string : "?");
		if (!ok) {
			hr_errs_add(errs, p, "unknown key");
			bad++;
			continue;
		}
		if (hr_cfg_dup_key(obj, it)) {
			hr_errs_add(errs, p, "duplicate key");
			bad++;
		}
	}
	return bad;
}

int hr_cfg_object(const cJSON *cfg, const char *path, const char *const *allowed,
		  struct hr_errs *errs)
{
	if (cfg == NULL || cJSON_IsTrue(cfg))
		return 0;
	if (!cJSON_IsObject(cfg)) {
		hr_errs_add(errs, path, "expected an object");
		return -1;
	}
	return hr_cfg_check_keys(cfg, path, allowed, errs) > 0 ? -1 : 0;
}

int hr_cfg_string(const cJSON *obj, const char *key, const char *path, const char **out,
		  struct hr_errs *errs)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];

	if (it == NULL)
		return 0;
	hr_cfg_path(p, sizeof(p), path, key);
	if (!cJSON_IsString(it) || it->valuestring == NULL) {
		hr_errs_add(errs, p, "expected a string");
		return -1;
	}
	if (it->valuestring[0] == '\0') {
		hr_errs_add(errs, p, "must not be empty");
		return -1;
	}
	*out = it->valuestring;
	return 1;
}

int hr_cfg_number(const cJSON *obj, const char *key, const char *path, double min, double max,
		  double *out, struct hr_errs *errs)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];

	if (it == NULL)
		return 0;
	hr_cfg_path(p, sizeof(p), path, key);
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
		hr_errs_add(errs, p, "expected a number");
		return -1;
	}
	if (it->valuedouble < min || it->valuedouble > max) {
		hr_errs_add(errs, p, "%.15g is out of range (%.15g to %.15g)", it->valuedouble, min, max);
		return -1;
	}
	*out = it->valuedouble;
	return 1;
}

int hr_cfg_bool(const cJSON *obj, const char *key, const char *path, int *out,
		struct hr_errs *errs)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];

	if (it == NULL)
		return 0;
	hr_cfg_path(p, sizeof(p), path, key);
	if (!cJSON_IsBool(it)) {
		hr_errs_add(errs, p, "expected true or false");
		return -1;
	}
	*out = cJSON_IsTrue(it);
	return 1;
}

int hr_cfg_duration(const cJSON *obj, const char *key, const char *path, double min, double max,
		    double *out, struct hr_errs *errs)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[512];
	double v;

	if (it == NULL)
		return 0;
	hr_cfg_path(p, sizeof(p), path, key);
	if (cJSON_IsNumber(it) && isfinite(it->valuedouble) && it->valuedouble >= 0) {
		v = it->valuedouble;
	} else if (cJSON_IsString(it) && hr_parse_duration(it->valuestring, &v) == 0) {
		;
	} else {
		hr_errs_add(errs, p, "expected a duration: seconds or a string like \"90s\", \"15m\", \"26h\", \"7d\"");
		return -1;
	}
	if (v < min || v > max) {
		hr_errs_add(errs, p, "duration %gs is out of range (%gs to %gs)", v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int hr_cfg_strings(const cJSON *obj, const char *key, const char *path, const char ***out,
		   size_t *count, struct hr_errs *errs)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	const cJSON *e;
	const char **arr;
	char p[512], pi[560];
	size_t n = 0;
	int i = 0, bad = 0;

	if (it == NULL)
		return 0;
	hr_cfg_path(p, sizeof(p), path, key);
	if (!cJSON_IsArray(it)) {
		hr_errs_add(errs, p, "expected an array of strings");
		return -1;
	}
	cJSON_ArrayForEach(e, it) {
		hr_cfg_index(pi, sizeof(pi), p, i++);
		if (!cJSON_IsString(e) || e->valuestring == NULL || e->valuestring[0] == '\0') {
			hr_errs_add(errs, pi, "expected a non-empty string");
			bad = 1;
		}
		n++;
	}
	if (bad)
		return -1;
	arr = calloc(n + 1, sizeof(*arr));
	if (arr == NULL) {
		hr_errs_add(errs, p, "out of memory");
		return -1;
	}
	n = 0;
	cJSON_ArrayForEach(e, it)
		arr[n++] = e->valuestring;
	*out = arr;
	*count = n;
	return 1;
}

void hr_strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int hr_cfg_strv(const cJSON *obj, const char *key, const char *path, char ***out,
		struct hr_errs *errs)
{
	const char **arr = NULL;
	char **copy, p[512];
	size_t n = 0, i;
	int r;

	r = hr_cfg_strings(obj, key, path, &arr, &n, errs);
	if (r <= 0)
		return r;
	copy = calloc(n + 1, sizeof(*copy));
	if (copy == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		copy[i] = strdup(arr[i]);
		if (copy[i] == NULL) {
			hr_strv_free(copy);
			goto nomem;
		}
	}
	free(arr);
	*out = copy;
	return 1;
nomem:
	free(arr);
	hr_cfg_path(p, sizeof(p), path, key);
	hr_errs_add(errs, p, "out of memory");
	return -1;
}
