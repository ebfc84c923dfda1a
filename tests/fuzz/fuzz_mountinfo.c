/* fuzz_mountinfo.c: libFuzzer target for the fs probe's mountinfo parser and
 * its filter (pseudo types, exclude globs, stacked and bind duplicates).
 * Checks what the probe relies on: every mount kept is absolute, fits an
 * instance name, and the filter never grows the list or leaves duplicates. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fstypes[] = { "overlay", NULL };
	static const char *const exclude[] = { "/var/lib/*", "*[[]x*", NULL };
	struct fs_filter f = { .tmpfs = 0, .fstypes = NULL, .exclude = NULL };
	struct fs_mounts m;
	struct hr_err err;
	size_t i, j, before;

	/* The first byte picks the filter config, the rest is the file. */
	if (size > 0) {
		f.tmpfs = data[0] & 1;
		f.fstypes = (data[0] & 2) ? fstypes : NULL;
		f.exclude = (data[0] & 4) ? exclude : NULL;
		data++;
		size--;
	}
	fs_mounts_init(&m);
	if (fs_parse_mountinfo((const char *)data, size, &m, &err) < 0)
		goto out;
	for (i = 0; i < m.count; i++) {
		size_t l = strlen(m.items[i].mountpoint);

		if (m.items[i].mountpoint[0] != '/' || l >= sizeof(m.items[i].mountpoint) ||
		    strlen(m.items[i].fstype) >= sizeof(m.items[i].fstype) ||
		    strlen(m.items[i].source) >= sizeof(m.items[i].source))
			abort();
	}
	before = m.count;
	fs_filter_mounts(&m, &f);
	if (m.count > before)
		abort();
	for (i = 0; i < m.count; i++) {
		if (fs_pseudo(m.items[i].fstype) && !f.tmpfs && f.fstypes == NULL)
			abort();
		for (j = i + 1; j < m.count; j++)
			if (strcmp(m.items[i].mountpoint, m.items[j].mountpoint) == 0 ||
			    (m.items[i].major == m.items[j].major && m.items[i].minor == m.items[j].minor))
				abort();
	}
out:
	fs_mounts_free(&m);
	return 0;
}
