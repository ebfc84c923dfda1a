/* pull.h: the central's SSH pull, for hosts that nothing may connect to the
 * central from. Per "pull" entry one thread: every interval (aligned to the
 * wall clock) it connects with libssh2, checks the host key against the
 * entry's known_hosts, authenticates with the entry's key, runs the command
 * (headroom-agent --once --json) and hands its stdout to
 * ingest_handle_pulled(), the same checks and store as a push. Each step
 * has the entry's timeout; a dead host only holds up its own thread. */
#ifndef HR_PULL_H
#define HR_PULL_H

#include <stddef.h>

#include <libssh2.h>

#include "central_config.h"
#include "err.h"
#include "ingest.h"

#define PULL_STDERR_MAX 2048 /* bytes of the command's stderr kept for the log */

struct pull;

/* Starts one thread per entry (n may be 0: nothing runs). Copies the
 * entries; borrows in, which must outlive pull_stop(). Call from the main
 * thread only (libssh2_init is not thread safe). NULL with err filled when
 * a thread cannot be started (none is left running then). */
struct pull *pull_start(const struct central_pull *entries, size_t n, struct ingest *in,
			struct hr_err *err);

/* Stops every thread (a pull in progress is cut off at its next wait) and
 * frees p. p may be NULL. */
void pull_stop(struct pull *p);

/* "SHA256:" and the unpadded base64 of the SHA-256 of the key blob (len
 * bytes): OpenSSH's fingerprint form, into out (size n >= 52). */
void pull_fingerprint(const unsigned char *key, size_t len, char *out, size_t n);

/* Checks a server's host key (libssh2_session_hostkey(): blob, len and
 * LIBSSH2_HOSTKEY_TYPE_*) for addr and port against the OpenSSH
 * known_hosts file (plain, hashed and "[host]:port" entries). 0 when it
 * matches; -1 with err naming the key's type, its fingerprint and the file
 * when the file cannot be read, has no key of that type for the host, or
 * has a different one. session is any libssh2 session (only its allocator
 * is used). */
int pull_hostkey_check(LIBSSH2_SESSION *session, const char *known_hosts, const char *addr,
		       unsigned short port, const char *key, size_t len, int type,
		       struct hr_err *err);

#endif
