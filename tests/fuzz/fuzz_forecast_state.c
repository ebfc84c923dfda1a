/* fuzz_forecast_state.c: libFuzzer target for forecast_load, what the
 * analyzer trusts after a restart (the saved state of every series). The
 * first byte picks a mode: 0 loads the bytes as they are; 1 first gives
 * them the right magic, version and checksum, so that the checks behind
 * the checksum are reached. Whatever loads must save back to the very same
 * bytes and must then take samples and evaluations without harm. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++)
		for (c ^= p[i], k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	return ~c;
}

static void exercise(struct forecast *f, const uint8_t *in, size_t len)
{
	struct forecast_result r;
	uint8_t *out = NULL;
	size_t olen = 0;
	double t = 1.7e9;
	int i;

	if (forecast_save(f, &out, &olen, NULL) < 0 || olen != len || memcmp(out, in, len) != 0)
		abort();
	free(out);
	/* Samples and evaluations after whatever the state said. */
	for (i = 0; i < 50; i++) {
		forecast_add(f, t + i * 86400.0, (double)(i % 7) * 10.0);
		if (forecast_eval(f, t + i * 86400.0 + 1, &r) == 0) {
			if (r.state > FORECAST_CRITICAL)
				abort();
			if (r.valid && !(r.eta_early <= r.eta && r.eta <= r.eta_late))
				abort();
		}
	}
	if (forecast_state_bytes(f) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct forecast *f;
	struct hr_err err;
	uint8_t *b;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	b = malloc(len + 1);
	if (b == NULL)
		return 0;
	memcpy(b, data + 1, len);
	if (data[0] & 1 && len >= 12) {
		uint32_t c;

		memcpy(b, "HRFC\1\0\0\0", 8);
		c = crc32_ref(b, len - 4);
		b[len - 4] = (uint8_t)c;
		b[len - 3] = (uint8_t)(c >> 8);
		b[len - 2] = (uint8_t)(c >> 16);
		b[len - 1] = (uint8_t)(c >> 24);
	}
	f = forecast_load(b, len, &err);
	if (f != NULL) {
		exercise(f, b, len);
		forecast_free(f);
	} else if (err.msg[0] == '\0') {
		abort(); /* refused without a reason */
	}
	free(b);
	return 0;
}
