/* pull.c: SSH pull (see pull.h). Every libssh2 session runs non-blocking:
 * each call that would block returns LIBSSH2_ERROR_EAGAIN, and the thread
 * then poll()s the socket in the directions libssh2 asks for, together with
 * the stop pipe, until the pull's deadline. So a host that never answers
 * costs its own thread the timeout and nothing more, and pull_stop() does
 * not wait for anyone's timeout. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "log.h"
#include "pull.h"
#include "util.h"

/* One entry and its thread. */
struct puller {
	struct pull *p;
	struct central_pull e;  /* key, known_hosts, command: owned copies */
	pthread_t thread;
	int started;
	struct hr_complain fail;
	uint64_t last_seq;      /* of the last document acked */
};

struct pull {
	struct ingest *in;
	int stop[2];            /* a byte in stop[1] stops every thread */
	struct puller *ents;
	size_t n;
};

/* One pull in progress. */
struct pull_run {
	struct puller *pl;
	int fd;
	LIBSSH2_SESSION *s;
	LIBSSH2_CHANNEL *ch;
	double deadline;        /* hr_now_mono() */
	char *out;              /* stdout, up to the ingest's max body */
	size_t len, cap, max;
	char err[PULL_STDERR_MAX + 1];
	size_t elen, edropped;
};

/* Host key types: libssh2's session type, its known_hosts type, the name
 * OpenSSH gives it. */
static const struct {
	int hostkey;
	int known;
	const char *name;
} key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};
#define NKEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

void pull_fingerprint(const unsigned char *key, size_t len, char *out, size_t n)
{
	unsigned char sum[32];
	gnutls_datum_t in = { sum, sizeof(sum) }, b64 = { NULL, 0 };
	size_t k;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, key, len, sum) < 0 ||
	    gnutls_base64_encode2(&in, &b64) < 0) {
		hr_strlcpy(out, "SHA256:(unknown)", n);
		return;
	}
	/* OpenSSH prints it without the '=' padding (sshkey.c fingerprint_b64). */
	k = b64.size;
	while (k > 0 && b64.data[k - 1] == '=')
		k--;
	snprintf(out, n, "SHA256:%.*s", (int)k, (const char *)b64.data);
	gnutls_free(b64.data);
}

static const char *key_type_name(int type)
{
	size_t i;

	for (i = 0; i < NKEY_TYPES; i++)
		if (key_types[i].hostkey == type)
			return key_types[i].name;
	return "unknown key type";
}

static int key_type_known(int type)
{
	size_t i;

	for (i = 0; i < NKEY_TYPES; i++)
		if (key_types[i].hostkey == type)
			return key_types[i].known;
	return 0;
}

int pull_hostkey_check(LIBSSH2_SESSION *session, const char *known_hosts, const char *addr,
		       unsigned short port, const char *key, size_t len, int type,
		       struct hr_err *err)
{
	LIBSSH2_KNOWNHOSTS *kh;
	struct libssh2_knownhost *found = NULL;
	char fp[64], hp[300], ps[16];
	int known = key_type_known(type), rc, r = -1;

	pull_fingerprint((const unsigned char *)key, len, fp, sizeof(fp));
	/* As OpenSSH names it in known_hosts: "[HOST]:PORT" unless port 22. */
	if (port == 22)
		snprintf(hp, sizeof(hp), "%s", addr);
	else
		snprintf(hp, sizeof(hp), "[%s]:%u", addr, port);
	if (known == 0)
		return hr_err_set(err, "host key of %s: unsupported type %d (%s): refused", hp, type, fp);
	kh = libssh2_knownhost_init(session);
	if (kh == NULL)
		return hr_err_set(err, "known_hosts: out of memory");
	rc = libssh2_knownhost_readfile(kh, known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	if (rc < 0) {
		hr_err_set(err, "cannot read known_hosts %s (libssh2 error %d: missing, unreadable or a line it cannot parse): refusing %s key %s of %s",
			   known_hosts, rc, key_type_name(type), fp, hp);
		goto out;
	}
	/* checkp tries "[addr]:port" and then plain addr, each against plain
	 * and hashed ("|1|salt|hash") names; the key type is part of the
	 * match, so another type's key for the host reads as not found. */
	rc = libssh2_knownhost_checkp(kh, addr, port, key, len,
				      LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | known,
				      &found);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		r = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		hr_err_set(err, "host key of %s has CHANGED: the server offers %s %s, which does not match the one in %s: refused (a man in the middle, or a reinstalled host: check the fingerprint, then update %s)",
			   hp, key_type_name(type), fp, known_hosts, known_hosts);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		snprintf(ps, sizeof(ps), " -p %u", port);
		hr_err_set(err, "host key of %s is UNKNOWN: the server offers %s %s, and %s has no %s key for %s: refused (check the fingerprint, then add it: ssh-keyscan%s -t %s %s >> %s)",
			   hp, key_type_name(type), fp, known_hosts, key_type_name(type), hp,
			   port == 22 ? "" : ps, key_type_name(type), addr, known_hosts);
		break;
	default:
		hr_err_set(err, "host key of %s (%s %s): checking against %s failed: refused",
			   hp, key_type_name(type), fp, known_hosts);
		break;
	}
out:
	libssh2_knownhost_free(kh);
	return r;
}

/* Puts the key types that known_hosts holds first in the session's host
 * key preference, as OpenSSH's client does: a server usually has several
 * host keys, and libssh2's own order might pick one the file lacks. */
static void hostkey_pref(LIBSSH2_SESSION *s, const char *known_hosts)
{
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
	struct libssh2_knownhost *h = NULL;
	int have[NKEY_TYPES] = { 0 };
	char pref[256] = "";
	size_t i, k;

	if (kh == NULL)
		return;
	if (libssh2_knownhost_readfile(kh, known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) > 0) {
		while (libssh2_knownhost_get(kh, &h, h) == 0)
			for (i = 0; i < NKEY_TYPES; i++)
				if ((h->typemask & LIBSSH2_KNOWNHOST_KEY_MASK) == key_types[i].known)
					have[i] = 1;
	}
	libssh2_knownhost_free(kh);
	for (k = 0; k < 2; k++)
		for (i = 0; i < NKEY_TYPES; i++)
			if (have[i] == (k == 0)) {
				if (pref[0] != '\0')
					hr_strlcpy(pref + strlen(pref), ",", sizeof(pref) - strlen(pref));
				hr_strlcpy(pref + strlen(pref), key_types[i].name, sizeof(pref) - strlen(pref));
			}
	/* Types this libssh2 lacks are dropped by it; an error leaves its
	 * default order, which is still checked against the file. */
	libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, pref);
}

static int stopped(const struct pull *p)
{
	struct pollfd pf = { p->stop[0], POLLIN, 0 };

	return poll(&pf, 1, 0) > 0;
}

/* Waits until fd is ready for events, the deadline passes (-1, err says
 * what timed out) or the puller is stopped (-2). */
static int wait_fd(struct pull_run *r, short events, const char *what, struct hr_err *err)
{
	struct pollfd pf[2];
	double left = r->deadline - hr_now_mono();
	int rc;

	if (left <= 0)
		return hr_err_set(err, "%s: no answer within the timeout (%us)", what, r->pl->e.timeout);
	pf[0].fd = r->fd;
	pf[0].events = events;
	pf[1].fd = r->pl->p->stop[0];
	pf[1].events = POLLIN;
	rc = poll(pf, 2, (int)ceil(left * 1000));
	if (rc < 0 && errno != EINTR)
		return hr_err_errno(err, errno, "%s: poll", what);
	if (pf[1].revents)
		return -2;
	return 0;
}

/* After LIBSSH2_ERROR_EAGAIN: waits in the directions the session asks. */
static int wait_session(struct pull_run *r, const char *what, struct hr_err *err)
{
	int dir = libssh2_session_block_directions(r->s);
	short ev = 0;

	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		ev |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		ev |= POLLOUT;
	return wait_fd(r, ev ? ev : POLLIN, what, err);
}

static int ssh_fail(struct pull_run *r, const char *what, const char *hint, struct hr_err *err)
{
	char *msg = NULL;

	libssh2_session_last_error(r->s, &msg, NULL, 0);
	return hr_err_set(err, "%s: %s%s", what, msg && msg[0] ? msg : "failed", hint);
}

/* A non-blocking TCP connection to the entry's address, within the
 * deadline; every address of the name is tried in turn. */
static int run_connect(struct pull_run *r, struct hr_err *err)
{
	const struct central_pull *e = &r->pl->e;
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int rc, soerr;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", e->port);
	/* getaddrinfo() cannot be bounded; a slow resolver delays only this
	 * entry's thread. */
	rc = getaddrinfo(e->addr, port, &hints, &res);
	if (rc != 0)
		return hr_err_set(err, "cannot resolve %s: %s", e->addr,
				  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	hr_err_set(err, "%s: no address", e->addr);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		r->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (r->fd < 0) {
			hr_err_errno(err, errno, "socket");
			continue;
		}
		if (connect(r->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			hr_err_errno(err, errno, "connect to %s port %s", e->addr, port);
			goto next;
		}
		rc = wait_fd(r, POLLOUT, "connect", err);
		if (rc == -2) {
			freeaddrinfo(res);
			return -2;
		}
		if (rc < 0)
			goto next;
		sl = sizeof(soerr);
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr == 0)
			break;
		if (soerr == EINPROGRESS) {
			hr_err_set(err, "connect to %s port %s: no answer within the timeout (%us)",
				   e->addr, port, e->timeout);
			goto next;
		}
		hr_err_errno(err, soerr, "connect to %s port %s", e->addr, port);
next:
		close(r->fd);
		r->fd = -1;
	}
	freeaddrinfo(res);
	return r->fd >= 0 ? 0 : -1;
}

/* Appends what the command wrote: stdout up to max (over it: -1), stderr
 * up to PULL_STDERR_MAX (the rest only counted). */
static int run_keep(struct pull_run *r, int is_err, const char *buf, size_t n, struct hr_err *err)
{
	if (is_err) {
		size_t k = PULL_STDERR_MAX - r->elen < n ? PULL_STDERR_MAX - r->elen : n;

		memcpy(r->err + r->elen, buf, k);
		r->elen += k;
		r->err[r->elen] = '\0';
		r->edropped += n - k;
		return 0;
	}
	if (n > r->max - r->len)
		return hr_err_set(err, "the command's output is over %zu bytes (max_body_bytes): refused",
				  r->max);
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		char *nb;

		while (cap < r->len + n)
			cap *= 2;
		if (cap > r->max)
			cap = r->max;
		nb = realloc(r->out, cap);
		if (nb == NULL)
			return hr_err_set(err, "out of memory");
		r->out = nb;
		r->cap = cap;
	}
	memcpy(r->out + r->len, buf, n);
	r->len += n;
	return 0;
}

/* Reads stdout and stderr until both end. */
static int run_read(struct pull_run *r, struct hr_err *err)
{
	char buf[16384];
	ssize_t n1, n2;
	int rc;

	for (;;) {
		n1 = libssh2_channel_read(r->ch, buf, sizeof(buf));
		if (n1 > 0 && run_keep(r, 0, buf, (size_t)n1, err) < 0)
			return -1;
		n2 = libssh2_channel_read_stderr(r->ch, buf, sizeof(buf));
		if (n2 > 0)
			run_keep(r, 1, buf, (size_t)n2, err);
		if ((n1 < 0 && n1 != LIBSSH2_ERROR_EAGAIN) || (n2 < 0 && n2 != LIBSSH2_ERROR_EAGAIN))
			return ssh_fail(r, "reading the command's output", "", err);
		if (n1 == 0 && n2 == 0 && libssh2_channel_eof(r->ch))
			return 0;
		if (n1 == LIBSSH2_ERROR_EAGAIN && n2 == LIBSSH2_ERROR_EAGAIN) {
			rc = wait_session(r, "reading the command's output", err);
			if (rc < 0)
				return rc;
		}
	}
}

/* EAGAIN loops around the blocking steps of libssh2; hint is appended to
 * libssh2's message when the step fails (not when it times out). */
#define SSH_RETRY(r, call, what, hint, err) do { \
		int rc_; \
		while ((rc_ = (call)) == LIBSSH2_ERROR_EAGAIN) { \
			int w_ = wait_session((r), (what), (err)); \
			if (w_ < 0) \
				return w_; \
		} \
		if (rc_ < 0) \
			return ssh_fail((r), (what), (hint), (err)); \
	} while (0)

/* Connect, handshake, host key, auth, exec, read, exit status: 0 with the
 * output in r->out, -1 with err filled, -2 when stopped. */
static int run_ssh(struct pull_run *r, int *status, struct hr_err *err)
{
	const struct central_pull *e = &r->pl->e;
	const char *hk;
	size_t hklen;
	int type, rc;
	char *sig = NULL;

	rc = run_connect(r, err);
	if (rc < 0)
		return rc;
	r->s = libssh2_session_init();
	if (r->s == NULL)
		return hr_err_set(err, "libssh2: out of memory");
	libssh2_session_set_blocking(r->s, 0);
	hostkey_pref(r->s, e->known_hosts);
	SSH_RETRY(r, libssh2_session_handshake(r->s, r->fd), "SSH handshake",
		  " (no common algorithm? this libssh2 verifies ssh-ed25519 and "
		  "ecdsa-sha2-nistp* host keys; RSA host keys need rsa-sha2-256/512, which "
		  "libssh2 before 1.11 lacks and OpenSSH 8.8 and later insist on)", err);
	hk = libssh2_session_hostkey(r->s, &hklen, &type);
	if (hk == NULL)
		return ssh_fail(r, "no host key", "", err);
	if (pull_hostkey_check(r->s, e->known_hosts, e->addr, e->port, hk, hklen, type, err) < 0)
		return -1;
	SSH_RETRY(r, libssh2_userauth_publickey_fromfile(r->s, e->user, NULL, e->key, NULL),
		  "authentication with the key",
		  " (is its .pub in the account's authorized_keys? It must be ed25519 or ecdsa "
		  "without a passphrase: libssh2 before 1.11 signs with ssh-rsa (SHA-1), which "
		  "OpenSSH 8.8 and later refuse)", err);
	while ((r->ch = libssh2_channel_open_session(r->s)) == NULL) {
		if (libssh2_session_last_errno(r->s) != LIBSSH2_ERROR_EAGAIN)
			return ssh_fail(r, "opening a channel", "", err);
		rc = wait_session(r, "opening a channel", err);
		if (rc < 0)
			return rc;
	}
	SSH_RETRY(r, libssh2_channel_exec(r->ch, e->command), "running the command", "", err);
	rc = run_read(r, err);
	if (rc < 0)
		return rc;
	SSH_RETRY(r, libssh2_channel_close(r->ch), "closing the channel", "", err);
	SSH_RETRY(r, libssh2_channel_wait_closed(r->ch), "closing the channel", "", err);
	if (libssh2_channel_get_exit_signal(r->ch, &sig, NULL, NULL, NULL, NULL, NULL) == 0 &&
	    sig != NULL) {
		hr_err_set(err, "the command was killed by SIG%s", sig);
		libssh2_free(r->s, sig);
		return -1;
	}
	*status = libssh2_channel_get_exit_status(r->ch);
	return 0;
}

static void run_close(struct pull_run *r)
{
	if (r->s != NULL) {
		/* A goodbye, best effort and non-blocking: a dead peer must not
		 * hold us. Then the socket is shut, and the session made
		 * blocking, so that the frees below finish at once (a send
		 * fails, a read sees the end) instead of answering EAGAIN and
		 * freeing nothing. */
		if (r->fd >= 0) {
			libssh2_session_disconnect(r->s, "headroom-central: done");
			shutdown(r->fd, SHUT_RDWR);
		}
		libssh2_session_set_blocking(r->s, 1);
		if (r->ch != NULL)
			libssh2_channel_free(r->ch);
		if (libssh2_session_free(r->s) != 0)
			hr_log_debug("pull: %s: libssh2 could not free the session", r->pl->e.host);
	}
	if (r->fd >= 0)
		close(r->fd);
	free(r->out);
}

/* The last line of the command's stderr, printable, for the log. */
static void stderr_tail(const struct pull_run *r, char *dst, size_t n)
{
	size_t len = r->elen, start;

	while (len > 0 && (r->err[len - 1] == '\n' || r->err[len - 1] == '\r'))
		len--;
	start = len;
	while (start > 0 && r->err[start - 1] != '\n')
		start--;
	if (len == 0)
		hr_strlcpy(dst, "(no stderr)", n);
	else
		hr_printable(dst, n, r->err + start, len - start);
}

/* A --once document's seq is the remote clock's unix time, and the ingest
 * takes a seq at or below the host's last one for a resend: acked, not
 * stored. Pulls are at least a second apart, so the seq grows unless the
 * remote clock stepped back; say so rather than lose samples quietly. */
static int check_seq(struct puller *pl, const char *acked, struct hr_err *err)
{
	static const char key[] = "\"acked\": ";
	const char *c = strstr(acked, key);
	uint64_t seq;

	if (c == NULL)
		return 0;
	c += sizeof(key) - 1;
	if (hr_parse_u64(c, strcspn(c, "}"), &seq) < 0)
		return 0;
	if (pl->last_seq != 0 && seq <= pl->last_seq)
		return hr_err_set(err, "the document's seq %" PRIu64 " is not above the last one (%" PRIu64 "): "
				  "taken as already stored; did the host's clock step back?", seq, pl->last_seq);
	pl->last_seq = seq;
	return 0;
}

/* One pull of one entry. 0 stored, -1 failed (err), -2 stopped. */
static int pull_once(struct puller *pl, struct hr_err *err)
{
	struct pull_run r;
	struct ingest_reply rep;
	char tail[512];
	int status = -1, rc;

	memset(&r, 0, sizeof(r));
	r.pl = pl;
	r.fd = -1;
	r.deadline = hr_now_mono() + pl->e.timeout;
	r.max = ingest_max_body(pl->p->in);
	rc = run_ssh(&r, &status, err);
	if (rc == 0 && r.elen > 0) {
		stderr_tail(&r, tail, sizeof(tail));
		hr_log_debug("pull: %s: the command's stderr: %s", pl->e.host, tail);
	}
	if (rc == 0 && status != 0) {
		stderr_tail(&r, tail, sizeof(tail));
		hr_err_set(err, "the command exited %d: %s%s", status, tail,
			   r.edropped ? " (stderr cut)" : "");
		rc = -1;
	}
	if (rc == 0) {
		ingest_handle_pulled(pl->p->in, pl->e.host, pl->e.interval, r.out ? r.out : "",
				     r.len, time(NULL), &rep);
		if (rep.status != 200) {
			hr_err_set(err, "the document was refused (%u): %s", rep.status, rep.body);
			rc = -1;
		} else {
			rc = check_seq(pl, rep.body, err);
		}
	}
	run_close(&r);
	return rc;
}

/* Sleeps until the wall clock reaches t; -1 when stopped first. */
static int sleep_until(struct pull *p, double t)
{
	struct pollfd pf = { p->stop[0], POLLIN, 0 };
	double left;

	while ((left = t - hr_now_wall()) > 0) {
		if (poll(&pf, 1, (int)ceil(left * 1000)) > 0)
			return -1;
	}
	return stopped(p) ? -1 : 0;
}

static void *puller_main(void *arg)
{
	struct puller *pl = arg;
	const struct central_pull *e = &pl->e;
	struct hr_err err;
	double iv = e->interval, t0;
	int rc;

	for (;;) {
		/* The next multiple of the interval: aligned, and after a pull
		 * that took the whole interval, the one after it (a pull never
		 * overlaps its own next one). */
		if (sleep_until(pl->p, (floor(hr_now_wall() / iv) + 1) * iv) < 0)
			break;
		t0 = hr_now_mono();
		rc = pull_once(pl, &err);
		if (rc == -2)
			break;
		if (rc < 0)
			hr_complain(&pl->fail, "pull: %s (ssh://%s@%s:%u): %s", e->host, e->user,
				    e->addr, e->port, err.msg);
		else {
			hr_log_debug("pull: %s: stored (%.3fs)", e->host, hr_now_mono() - t0);
			hr_complain_clear(&pl->fail, "pull: %s: pulled and stored again", e->host);
		}
	}
	return NULL;
}

static void puller_free(struct puller *pl)
{
	free((char *)pl->e.key);
	free((char *)pl->e.known_hosts);
	free(pl->e.command);
}

struct pull *pull_start(const struct central_pull *entries, size_t n, struct ingest *in,
			struct hr_err *err)
{
	struct pull *p = calloc(1, sizeof(*p));
	size_t i;
	int rc;

	if (p == NULL) {
		hr_err_set(err, "pull: out of memory");
		return NULL;
	}
	p->in = in;
	p->stop[0] = p->stop[1] = -1;
	if (pipe2(p->stop, O_CLOEXEC) < 0) {
		hr_err_errno(err, errno, "pull: pipe");
		free(p);
		return NULL;
	}
	if (libssh2_init(0) != 0) {
		hr_err_set(err, "pull: libssh2_init failed");
		close(p->stop[0]);
		close(p->stop[1]);
		free(p);
		return NULL;
	}
	p->ents = calloc(n + 1, sizeof(*p->ents));
	if (p->ents == NULL) {
		hr_err_set(err, "pull: out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct puller *pl = &p->ents[i];

		pl->p = p;
		pl->e = entries[i];
		pl->e.key = strdup(entries[i].key);
		pl->e.known_hosts = strdup(entries[i].known_hosts);
		pl->e.command = strdup(entries[i].command);
		p->n++;
		if (pl->e.key == NULL || pl->e.known_hosts == NULL || pl->e.command == NULL) {
			hr_err_set(err, "pull: out of memory");
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		rc = pthread_create(&p->ents[i].thread, NULL, puller_main, &p->ents[i]);
		if (rc != 0) {
			hr_err_errno(err, rc, "pull: %s: cannot start a thread", entries[i].host);
			goto fail;
		}
		p->ents[i].started = 1;
		hr_log_info("pull: %s: every %us from ssh://%s@%s:%u (timeout %us)",
			    entries[i].host, entries[i].interval, entries[i].user,
			    entries[i].addr, entries[i].port, entries[i].timeout);
	}
	return p;
fail:
	pull_stop(p);
	return NULL;
}

void pull_stop(struct pull *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (write(p->stop[1], "x", 1) < 0)
		hr_log_warn("pull: cannot signal the threads to stop");
	for (i = 0; i < p->n; i++) {
		if (p->ents[i].started)
			pthread_join(p->ents[i].thread, NULL);
		puller_free(&p->ents[i]);
	}
	free(p->ents);
	close(p->stop[0]);
	close(p->stop[1]);
	libssh2_exit();
	free(p);
}
