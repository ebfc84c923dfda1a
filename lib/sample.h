/* sample.h: one measurement of one probe instance, and the sink that probes
 * put samples into. A sample holds numbers (values, which go to RRD) and
 * strings (labels, kept as the latest state). Sizes are fixed and capped, so
 * a sample is a plain value that can be copied and queued.
 * Names follow RRD's data-source rules (1-19 of [A-Za-z0-9_]), so that a
 * value name is also its DS name. */
#ifndef HR_SAMPLE_H
#define HR_SAMPLE_H

#include <stddef.h>
#include <time.h>

#define HR_NAME_MAX 20          /* value/label name, incl. NUL (RRD: 19 chars) */
#define HR_PROBE_MAX 16         /* probe name, incl. NUL */
#define HR_INSTANCE_MAX 256     /* instance (mount point, device, host:port) */
#define HR_LABEL_VALUE_MAX 128
#define HR_SAMPLE_VALUES 32
#define HR_SAMPLE_LABELS 8

/* Whether a value is a level or a counter is not carried here: the metric
 * schema (schema.h) decides it from the probe and value name, the same way
 * on the agent and on the central. */
struct hr_value {
	char name[HR_NAME_MAX];
	double v;
};

struct hr_label {
	char name[HR_NAME_MAX];
	char value[HR_LABEL_VALUE_MAX];
};

struct hr_sample {
	time_t t; /* 0: the scheduler stamps the time the read started */
	unsigned step; /* seconds between samples of this instance; 0: the
			* probe's interval (exec checks have their own) */
	char probe[HR_PROBE_MAX];
	char instance[HR_INSTANCE_MAX];
	size_t nvalues;
	struct hr_value values[HR_SAMPLE_VALUES];
	size_t nlabels;
	struct hr_label labels[HR_SAMPLE_LABELS];
	unsigned truncated; /* values or labels that did not fit, or were cut */
};

/* Starts an empty sample for PROBE/INSTANCE (instance may be NULL for "").
 * An instance longer than HR_INSTANCE_MAX-1 is cut and counted in truncated;
 * control characters in it become '?'. */
void hr_sample_init(struct hr_sample *s, const char *probe, const char *instance);

/* Adds (or replaces) a value. Names must be valid (hr_name_valid); an invalid
 * name, a non-finite number or a full sample is not added and counts in
 * truncated. Returns 0 when added, -1 otherwise. */
int hr_sample_set(struct hr_sample *s, const char *name, double v);

/* Adds or replaces a label (value cut to HR_LABEL_VALUE_MAX-1 bytes,
 * control characters made '?'). */
int hr_sample_label(struct hr_sample *s, const char *name, const char *value);

/* Looks a value or label up by name; NULL when absent. Borrowed pointers. */
const struct hr_value *hr_sample_get(const struct hr_sample *s, const char *name);
const char *hr_sample_get_label(const struct hr_sample *s, const char *name);

/* Is NAME a valid value/label name: 1-19 characters of [A-Za-z0-9_]? */
int hr_name_valid(const char *name);

/* Where samples go. put() copies the sample (the caller keeps its storage)
 * and returns 0, or -1 when the sink cannot take it. */
struct hr_sink {
	int (*put)(struct hr_sink *sink, const struct hr_sample *s);
	void *ctx;
};

static inline int hr_sink_put(struct hr_sink *sink, const struct hr_sample *s)
{
	return sink->put(sink, s);
}

/* A sink that records every sample in a growing array: the scheduler uses it
 * to collect one read's samples, tests use it to inspect them. */
struct hr_recsink {
	struct hr_sink sink; /* pass &rec.sink to a probe */
	struct hr_sample *samples;
	size_t count;
	size_t cap;
	size_t max;          /* refuse samples past this many (0: 4096) */
	size_t refused;
};

void hr_recsink_init(struct hr_recsink *rec);
/* Drops the recorded samples, keeps the storage. */
void hr_recsink_clear(struct hr_recsink *rec);
void hr_recsink_free(struct hr_recsink *rec);
/* First recorded sample with this probe and instance, or NULL. */
const struct hr_sample *hr_recsink_find(const struct hr_recsink *rec, const char *probe,
					const char *instance);

#endif
