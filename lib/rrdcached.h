/* rrdcached.h: a small client for rrdcached's text protocol (rrdcached(1),
 * "PROTOCOL"), one connection per handle. librrd 1.7.2 has rrd_client_t,
 * but its shared library exports only the global rrdc_* calls, and its
 * client turns a relative file name into an absolute one with realpath() in
 * the caller's folder when the daemon is on a UNIX socket: names relative to
 * the daemon's base folder (-b) could not be used at all. This client sends
 * names as given, connects at first use and again after a failure, and never
 * touches process-wide state. A handle is for one thread at a time. */
#ifndef HR_RRDCACHED_H
#define HR_RRDCACHED_H

#include "err.h"

/* Seconds a command may wait for the daemon before it is a failure. */
#define RRDCACHED_TIMEOUT 10

struct rrdcached;

/* A handle for the daemon at ADDR: "unix:/path", "/path", "HOST",
 * "HOST:PORT" or "[V6ADDR]:PORT" (port 42217 by default), as librrd and
 * rrdtool --daemon accept. Nothing is connected yet. NULL (err filled) for
 * an empty or malformed address, or out of memory. Borrows addr. Caller
 * frees with rrdcached_destroy(), which accepts NULL. */
struct rrdcached *rrdcached_new(const char *addr, struct hr_err *err);
void rrdcached_destroy(struct rrdcached *c);

/* The address given to rrdcached_new(). */
const char *rrdcached_address(const struct rrdcached *c);

/* Called for each line of a successful answer after the status line. A
 * nonzero return stops calling it (the rest is still read). */
typedef int (*rrdcached_line_fn)(void *arg, const char *line);

/* Sends one command: argv[0] is the command word, the others its
 * arguments, escaped as the daemon reads them (a space or '\' behind a
 * '\'). Connects first when needed; a command that fails on a connection
 * used before is tried once more on a new one (the daemon may have been
 * restarted since). The answer's lines go to fn (may be NULL).
 * Returns 0 when the daemon accepted the command; -1 (err filled, the
 * connection closed) when it could not be reached or its answer was not
 * understood; -2 (err holds the daemon's message) when it refused it. A
 * newline in an argument, or a command over 64 KiB, is -1 without sending. */
int rrdcached_cmd(struct rrdcached *c, int argc, const char *const *argv,
		  rrdcached_line_fn fn, void *arg, struct hr_err *err);

/* The message of the last answer's status line ("1000000020" for LAST):
 * valid until the next command. */
const char *rrdcached_message(const struct rrdcached *c);

/* Closes the connection (the next command opens a new one). */
void rrdcached_disconnect(struct rrdcached *c);

#endif
