/* crc32c.h: CRC-32C (Castagnoli), the checksum of headroom's own record
 * files: the agent's spool (agent/spool.c) and the archives' undo journal
 * (lib/rrdstore.c). */
#ifndef HR_CRC32C_H
#define HR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes, continuing from crc (start with 0), so that a
 * record can be summed in pieces. Thread-safe. */
uint32_t hr_crc32c(uint32_t crc, const void *data, size_t len);

#endif
