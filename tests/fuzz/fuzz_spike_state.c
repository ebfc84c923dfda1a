/* fuzz_spike_state.c: libFuzzer target for spike_load, what a restart of
 * the analyzer trusts from disk. The first byte picks a mode:
 * 0 loads the bytes as they are (the checksum turns nearly all away);
 * 1 loads them with a valid checksum written over the last 8 bytes, so
 *   that the validation behind the checksum gets exercised;
 * 2 builds a real state from the input as samples, saves it, changes one
 *   byte (and reseals it when the input says so) and loads that.
 * Whatever loads must take further samples and save again, and a blob
 * that loads must save back to the same bytes. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spike.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void reseal(uint8_t *buf, size_t len)
{
	uint64_t h;
	int i;

	if (len < 8)
		return;
	h = fnv1a(buf, len - 8);
	for (i = 0; i < 8; i++)
		buf[len - 8 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

/* Loads buf; when it loads, checks that it saves back to the same bytes
 * and keeps working. */
static void try_load(const uint8_t *buf, size_t len)
{
	struct spike_event ev;
	struct hr_err err;
	struct spike *s;
	uint8_t *out;
	size_t olen;
	int i;

	s = spike_load(buf, len, &err);
	if (s == NULL) {
		if (strncmp(err.msg, "spike state: ", 13) != 0)
			abort();
		return;
	}
	if (spike_save(s, &out, &olen, &err) < 0)
		abort();
	if (olen != len || memcmp(out, buf, len) != 0)
		abort();
	free(out);
	for (i = 0; i < 50; i++)
		if (spike_update(s, 1.4e9 + i * 300.0, (double)(i % 7), &ev) < 0)
			abort();
	if (spike_save(s, &out, &olen, &err) < 0)
		abort();
	free(out);
	spike_free(s);
}

static void mode_build(const uint8_t *in, size_t n)
{
	struct spike_params p;
	struct spike_event ev;
	struct hr_err err;
	struct spike *s;
	uint8_t *blob;
	size_t len, i, pos;

	if (n < 4)
		return;
	spike_params_default(&p);
	/* Small windows and a one-hour step keep the state small and the
	 * seasons reachable within a fuzz input. */
	p.warmup = 3600 * 6;
	s = spike_new(&p, 3600, &err);
	if (s == NULL)
		abort();
	for (i = 4; i < n; i++)
		spike_update(s, 1.4e9 + (double)i * 3600 * (1 + (in[i] >> 7)), (double)(in[i] & 0x7f),
			     &ev);
	if (spike_save(s, &blob, &len, &err) < 0)
		abort();
	spike_free(s);
	try_load(blob, len);
	pos = ((size_t)in[0] << 8 | in[1]) % len;
	blob[pos] ^= in[2] != 0 ? in[2] : 1;
	if (in[3] & 1)
		reseal(blob, len);
	try_load(blob, len);
	free(blob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		try_load(data + 1, size - 1);
		break;
	case 1:
		copy = malloc(size);
		if (copy == NULL)
			return 0;
		memcpy(copy, data + 1, size - 1);
		reseal(copy, size - 1);
		try_load(copy, size - 1);
		free(copy);
		break;
	default:
		mode_build(data + 1, size - 1);
		break;
	}
	return 0;
}
