/* netio.h: blocking-free TCP for probes that talk to daemons (upsd, apcupsd):
 * connect, write and read each bounded by a deadline on the monotonic clock,
 * so that a dead, slow or silent server costs at most its timeout. Name
 * resolution uses getaddrinfo and is not bounded: configure addresses or names
 * in /etc/hosts for hosts whose DNS may fail. */
#ifndef HR_NETIO_H
#define HR_NETIO_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Connects to HOST:PORT (each address in turn) within timeout seconds.
 * Returns a non-blocking socket (caller closes), or -1 with err filled. */
int hr_tcp_connect(const char *host, const char *port, double timeout, struct hr_err *err);

/* Writes all len bytes before the monotonic deadline (hr_now_mono()).
 * 0 or -1 with err filled. */
int hr_write_all(int fd, const void *buf, size_t len, double deadline, struct hr_err *err);

/* Waits until fd is readable or the deadline passes, then reads at most len
 * bytes. Returns the count, 0 at end of stream, -1 (err filled) on error or
 * timeout. */
ssize_t hr_read_some(int fd, void *buf, size_t len, double deadline, struct hr_err *err);

/* Splits "HOST[:PORT]" or "[V6]:PORT" into host and port (default_port when
 * absent). -1 when malformed or the parts do not fit. */
int hr_split_hostport(const char *s, char *host, size_t hn, char *port, size_t pn,
		      const char *default_port);

#endif
