/* fuzz_diskstats.c: libFuzzer target for the disk probe's /proc/diskstats
 * parser. Checks what the probe relies on: every device name it returns is
 * a plain, short file name (it becomes a /sys/block path component and an
 * instance name), and the skipped-line bookkeeping is consistent. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_stats ds;
	struct hr_err err;
	size_t i;

	disk_stats_init(&ds);
	if (disk_parse_diskstats((const char *)data, size, &ds, &err) < 0)
		goto out;
	for (i = 0; i < ds.count; i++) {
		const char *n = ds.items[i].name;
		size_t l = strlen(n);

		if (l == 0 || l >= DISK_NAME_MAX || strchr(n, '/') != NULL || n[0] == '.')
			abort();
	}
	if ((ds.skipped == 0) != (ds.first_bad == 0))
		abort();
out:
	disk_stats_free(&ds);
	return 0;
}
