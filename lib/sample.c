/* sample.c: building samples and the recording sink (see sample.h). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "util.h"

/* Control characters become '?': a mount point may hold a newline (mountinfo
 * escapes it as \012), a UPS may report anything as its model, and the
 * central refuses a document with control characters in its strings. */
static void sample_scrub(char *str)
{
	for (; *str != '\0'; str++)
		if ((unsigned char)*str < 0x20 || *str == 0x7f)
			*str = '?';
}

void hr_sample_init(struct hr_sample *s, const char *probe, const char *instance)
{
	memset(s, 0, sizeof(*s));
	hr_strlcpy(s->probe, probe, sizeof(s->probe));
	if (instance != NULL && hr_strlcpy(s->instance, instance, sizeof(s->instance)) >= sizeof(s->instance))
		s->truncated++;
	sample_scrub(s->instance);
}

int hr_name_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];
		if (i >= HR_NAME_MAX - 1)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return i > 0;
}

int hr_sample_set(struct hr_sample *s, const char *name, double v)
{
	size_t i;

	if (!hr_name_valid(name) || !isfinite(v)) {
		s->truncated++;
		return -1;
	}
	for (i = 0; i < s->nvalues; i++) {
		if (strcmp(s->values[i].name, name) == 0) {
			s->values[i].v = v;
			return 0;
		}
	}
	if (s->nvalues == HR_SAMPLE_VALUES) {
		s->truncated++;
		return -1;
	}
	hr_strlcpy(s->values[s->nvalues].name, name, HR_NAME_MAX);
	s->values[s->nvalues].v = v;
	s->nvalues++;
	return 0;
}

int hr_sample_label(struct hr_sample *s, const char *name, const char *value)
{
	struct hr_label *l = NULL;
	size_t i;

	if (!hr_name_valid(name)) {
		s->truncated++;
		return -1;
	}
	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			l = &s->labels[i];
	if (l == NULL) {
		if (s->nlabels == HR_SAMPLE_LABELS) {
			s->truncated++;
			return -1;
		}
		l = &s->labels[s->nlabels++];
		hr_strlcpy(l->name, name, HR_NAME_MAX);
	}
	if (hr_strlcpy(l->value, value, HR_LABEL_VALUE_MAX) >= HR_LABEL_VALUE_MAX)
		s->truncated++;
	sample_scrub(l->value);
	return 0;
}

const struct hr_value *hr_sample_get(const struct hr_sample *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nvalues; i++)
		if (strcmp(s->values[i].name, name) == 0)
			return &s->values[i];
	return NULL;
}

const char *hr_sample_get_label(const struct hr_sample *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

static int recsink_put(struct hr_sink *sink, const struct hr_sample *s)
{
	struct hr_recsink *rec = sink->ctx;
	size_t max = rec->max ? rec->max : 4096;

	if (rec->count >= max) {
		rec->refused++;
		return -1;
	}
	if (rec->count == rec->cap) {
		size_t ncap = rec->cap ? rec->cap * 2 : 16;
		struct hr_sample *n = realloc(rec->samples, ncap * sizeof(*n));
		if (n == NULL) {
			rec->refused++;
			return -1;
		}
		rec->samples = n;
		rec->cap = ncap;
	}
	rec->samples[rec->count++] = *s;
	return 0;
}

void hr_recsink_init(struct hr_recsink *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->sink.put = recsink_put;
	rec->sink.ctx = rec;
}

void hr_recsink_clear(struct hr_recsink *rec)
{
	rec->count = 0;
	rec->refused = 0;
}

void hr_recsink_free(struct hr_recsink *rec)
{
	if (rec == NULL)
		return;
	free(rec->samples);
	rec->samples = NULL;
	rec->count = rec->cap = 0;
}

const struct hr_sample *hr_recsink_find(const struct hr_recsink *rec, const char *probe,
					const char *instance)
{
	size_t i;

	for (i = 0; i < rec->count; i++)
		if (strcmp(rec->samples[i].probe, probe) == 0 &&
		    strcmp(rec->samples[i].instance, instance ? instance : "") == 0)
			return &rec->samples[i];
	return NULL;
}
