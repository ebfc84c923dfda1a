/* fuzz_undo.c: libFuzzer target for the parser of the archives' undo
 * journal (rrdstore_undo_parse), what a restart trusts after a kill. The
 * first byte picks a mode: 0 parses the bytes as they are; 1 sets the
 * record's checksum right first, so that the fuzzer reaches the checks
 * behind it. A record the parser accepts must hold together: its name a
 * plain archive name, its header and every range inside the record, every
 * range inside the file's size and after the header. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "rrdstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const unsigned char *buf, size_t len)
{
	struct rrdstore_undo u;
	struct hr_err err;
	const unsigned char *p, *end = buf + len;
	uint64_t off, n;
	unsigned i;

	if (rrdstore_undo_parse(buf, len, &u, &err) != 1)
		return;
	if (u.namelen == 0 || memchr(u.name, '/', u.namelen) != NULL || u.name[0] == '.' ||
	    (const unsigned char *)u.name + u.namelen > end)
		abort();
	if (u.hdr + u.hdrlen > end || u.hdrlen > u.filesize)
		abort();
	p = u.segs;
	for (i = 0; i < u.nseg; i++) {
		if (p + 16 > end)
			abort();
		memcpy(&off, p, 8);
		memcpy(&n, p + 8, 8);
		if (off < u.hdrlen || off + n > u.filesize || p + 16 + n > end)
			abort();
		p += 16 + n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;
	uint32_t crc;

	if (size < 1)
		return 0;
	/* Exactly the record's bytes: ASan catches a read past them. */
	buf = malloc(size > 1 ? size - 1 : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1 && size - 1 >= 48) {
		memcpy(buf, "HRUJ", 4);
		memset(buf + 8, 0, 4);
		crc = hr_crc32c(0, buf, size - 1);
		memcpy(buf + 8, &crc, 4);
	}
	check(buf, size - 1);
	free(buf);
	return 0;
}
