/* fuzz_wire.c: libFuzzer target for the decoder of the sample document, the
 * central's gate for what agents push and what SSH pull brings back. A
 * refusal must leave the batch empty with one printable message; whatever
 * is accepted must obey every rule the decoder promises, and must come back
 * unchanged through encode and decode. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"
#include "wire.h"

#define NOW 1764316800

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int printable(const char *s, int allow_high)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (!allow_high && c > 0x7f))
			return 0;
	}
	return 1;
}

static int probe_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i >= 1 && i < HR_PROBE_MAX;
}

static void check_sample(const struct hr_sample *s)
{
	size_t i, j;

	if (!probe_ok(s->probe) || memchr(s->instance, '\0', sizeof(s->instance)) == NULL ||
	    !printable(s->instance, 1) || s->t < 946684800 || s->t > NOW + 300 ||
	    s->step > 86400 || s->nvalues > HR_SAMPLE_VALUES || s->nlabels > HR_SAMPLE_LABELS ||
	    s->truncated != 0)
		abort();
	for (i = 0; i < s->nvalues; i++) {
		if (!hr_name_valid(s->values[i].name) || !isfinite(s->values[i].v))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(s->values[i].name, s->values[j].name) == 0)
				abort();
	}
	for (i = 0; i < s->nlabels; i++) {
		if (!hr_name_valid(s->labels[i].name) ||
		    memchr(s->labels[i].value, '\0', sizeof(s->labels[i].value)) == NULL ||
		    !printable(s->labels[i].value, 1))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(s->labels[i].name, s->labels[j].name) == 0)
				abort();
	}
}

static void same_sample(const struct hr_sample *a, const struct hr_sample *b)
{
	size_t i;

	if (a->t != b->t || a->step != b->step || strcmp(a->probe, b->probe) != 0 ||
	    strcmp(a->instance, b->instance) != 0 || a->nvalues != b->nvalues ||
	    a->nlabels != b->nlabels)
		abort();
	for (i = 0; i < a->nvalues; i++)
		if (strcmp(a->values[i].name, b->values[i].name) != 0 || a->values[i].v != b->values[i].v)
			abort();
	for (i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].name, b->labels[i].name) != 0 ||
		    strcmp(a->labels[i].value, b->labels[i].value) != 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hr_wire_limits lim = HR_WIRE_LIMITS_DEFAULT;
	struct hr_batch b, b2;
	struct hr_err err;
	char *text;
	size_t i;

	/* A small cap keeps each run's memory small; the cap itself is
	 * exercised all the same. */
	lim.max_samples = 64;
	memset(&err, 0, sizeof(err));
	if (hr_wire_decode((const char *)data, size, &lim, NOW, &b, &err) < 0) {
		if (b.samples != NULL || b.n != 0 || b.host[0] != '\0' || err.msg[0] == '\0' ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL || !printable(err.msg, 0))
			abort();
		hr_batch_free(&b);
		return 0;
	}
	if (!hr_host_valid(b.host) || memchr(b.agent, '\0', sizeof(b.agent)) == NULL ||
	    !printable(b.agent, 1) || b.seq < 1 || b.seq > (1ULL << 53) || b.interval > 86400 ||
	    b.n > lim.max_samples || (b.n > 0 && b.samples == NULL))
		abort();
	for (i = 0; i < b.n; i++)
		check_sample(&b.samples[i]);

	text = hr_wire_encode(b.host, b.seq, b.interval ? b.interval : 10, b.samples, b.n,
			      (int)(size & 1), &err);
	if (text == NULL)
		abort();
	if (hr_wire_decode(text, strlen(text), &lim, NOW, &b2, &err) < 0)
		abort();
	if (strcmp(b.host, b2.host) != 0 || b.seq != b2.seq || b.n != b2.n)
		abort();
	for (i = 0; i < b.n; i++)
		same_sample(&b.samples[i], &b2.samples[i]);
	free(text);
	hr_batch_free(&b2);
	hr_batch_free(&b);
	return 0;
}
