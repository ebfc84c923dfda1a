/* fuzz_bonding.c: libFuzzer target for the /proc/net/bonding/BOND parser
 * (bond_parse_proc) and the sample built from its result. Besides memory
 * errors it checks what a user relies on: slaves_up never exceeds slaves,
 * and degraded is set exactly when a slave is not carrying traffic or there
 * is none. Seed it with tests/fixtures/bonding/. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bond_info b;
	struct hr_sample s;
	const struct hr_value *n, *up, *deg;
	size_t i;

	bond_info_init(&b);
	if (bond_parse_proc((const char *)data, size, &b) < 0)
		goto out;
	for (i = 0; i < b.nslaves; i++) {
		if (memchr(b.slaves[i].name, '\0', sizeof(b.slaves[i].name)) == NULL)
			abort();
		(void)bond_slave_up(&b, i);
	}
	if (bond_fill_sample(&b, "bond0", &s) < 0)
		goto out;
	n = hr_sample_get(&s, "slaves");
	up = hr_sample_get(&s, "slaves_up");
	deg = hr_sample_get(&s, "degraded");
	if (n == NULL || n->v < 0 || (up == NULL) != (deg == NULL))
		abort();
	if (up != NULL) {
		if (up->v < 0 || up->v > n->v)
			abort();
		if (deg->v != ((n->v == 0 || up->v < n->v) ? 1 : 0))
			abort();
	}
out:
	bond_info_free(&b);
	return 0;
}
