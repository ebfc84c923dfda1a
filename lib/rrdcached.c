/* rrdcached.c: rrdcached's text protocol (see rrdcached.h). A command is
 * one line of space-separated fields; the answer is "STATUS MESSAGE", then
 * STATUS more lines when STATUS > 0; a negative STATUS is a refusal and
 * MESSAGE says why. Reads are buffered and every line is capped, so that a
 * confused peer costs a bounded amount of memory. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "rrdcached.h"
#include "util.h"

#define RRDCACHED_PORT "42217"
#define RRDCACHED_CMD_MAX 65536
/* librrd's own limit for a line of the protocol is 4096 bytes. */
#define RRDCACHED_LINE_MAX 4096
/* An answer's lines: INFO of a file with 256 DS and 13 RRA is ~12000. */
#define RRDCACHED_LINES_MAX 1000000L

struct rrdcached {
	char *addr;
	char *host;          /* NULL: UNIX socket at path */
	char *port;
	char *path;
	int fd;              /* -1: not connected */
	char rbuf[RRDCACHED_LINE_MAX];
	size_t rpos, rlen;   /* unread bytes of rbuf */
	char line[RRDCACHED_LINE_MAX];
	char msg[RRDCACHED_LINE_MAX]; /* the last answer's status message */
	char *cmd;           /* command buffer, RRDCACHED_CMD_MAX */
};

void rrdcached_destroy(struct rrdcached *c)
{
	if (c == NULL)
		return;
	rrdcached_disconnect(c);
	free(c->addr);
	free(c->host);
	free(c->port);
	free(c->path);
	free(c->cmd);
	free(c);
}

/* Splits ADDR the way librrd does: "unix:" or a leading '/' is a socket
 * path; "[V6]:PORT", "HOST:PORT" with one ':' only, or a bare host (an IPv6
 * address without brackets included) with the default port. */
static int rrdcached_parse(struct rrdcached *c, const char *addr, struct hr_err *err)
{
	const char *colon;

	if (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/') {
		const char *p = addr[0] == '/' ? addr : addr + 5;

		if (p[0] == '\0' || strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return hr_err_set(err, "rrdcached: \"%s\": socket path empty or too long", addr);
		c->path = strdup(p);
		return c->path ? 0 : hr_err_set(err, "rrdcached: out of memory");
	}
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (end == NULL || end == addr + 1 || (end[1] != '\0' && end[1] != ':') ||
		    (end[1] == ':' && end[2] == '\0'))
			return hr_err_set(err, "rrdcached: \"%s\": expected [V6ADDR]:PORT", addr);
		c->host = strndup(addr + 1, (size_t)(end - addr - 1));
		c->port = strdup(end[1] == ':' ? end + 2 : RRDCACHED_PORT);
	} else {
		colon = strchr(addr, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			if (colon == addr || colon[1] == '\0')
				return hr_err_set(err, "rrdcached: \"%s\": expected HOST:PORT", addr);
			c->host = strndup(addr, (size_t)(colon - addr));
			c->port = strdup(colon + 1);
		} else {
			c->host = strdup(addr);
			c->port = strdup(RRDCACHED_PORT);
		}
	}
	if (c->host == NULL || c->port == NULL)
		return hr_err_set(err, "rrdcached: out of memory");
	return 0;
}

struct rrdcached *rrdcached_new(const char *addr, struct hr_err *err)
{
	struct rrdcached *c;

	if (addr == NULL || addr[0] == '\0') {
		hr_err_set(err, "rrdcached: no address given");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		hr_err_set(err, "rrdcached: out of memory");
		return NULL;
	}
	c->fd = -1;
	c->addr = strdup(addr);
	c->cmd = malloc(RRDCACHED_CMD_MAX);
	if (c->addr == NULL || c->cmd == NULL) {
		hr_err_set(err, "rrdcached: out of memory");
		goto fail;
	}
	if (rrdcached_parse(c, addr, err) < 0)
		goto fail;
	return c;
fail:
	rrdcached_destroy(c);
	return NULL;
}

const char *rrdcached_address(const struct rrdcached *c)
{
	return c->addr;
}

const char *rrdcached_message(const struct rrdcached *c)
{
	return c->msg;
}

void rrdcached_disconnect(struct rrdcached *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rpos = c->rlen = 0;
}

/* Timeouts on the socket itself: connect(), send() and recv() then all end
 * after RRDCACHED_TIMEOUT seconds, so that a hung daemon cannot hold an
 * ingest thread (and its host's lock) for ever. */
static int rrdcached_socket(int family, int type, int proto)
{
	struct timeval tv = { RRDCACHED_TIMEOUT, 0 };
	int fd = socket(family, type | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int rrdcached_connect(struct rrdcached *c, struct hr_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc, e = 0;

	if (c->path != NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		hr_strlcpy(sun.sun_path, c->path, sizeof(sun.sun_path));
		c->fd = rrdcached_socket(AF_UNIX, SOCK_STREAM, 0);
		if (c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return 0;
		e = errno;
		rrdcached_disconnect(c);
		return hr_err_errno(err, e, "rrdcached: cannot connect to %s", c->addr);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(c->host, c->port, &hints, &res);
	if (rc != 0)
		return hr_err_set(err, "rrdcached: %s: %s", c->addr, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		c->fd = rrdcached_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		rrdcached_disconnect(c);
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return hr_err_errno(err, e, "rrdcached: cannot connect to %s", c->addr);
	return 0;
}

/* Appends one field, escaped as the daemon's buffer_get_field() reads it. */
static int rrdcached_field(char *dst, size_t cap, size_t *len, const char *s)
{
	size_t n = *len;

	if (n > 0) {
		if (n + 1 >= cap)
			return -1;
		dst[n++] = ' ';
	}
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r' || n + 2 >= cap)
			return -1;
		if (*s == ' ' || *s == '\\')
			dst[n++] = '\\';
		dst[n++] = *s;
	}
	*len = n;
	return 0;
}

static int rrdcached_send(struct rrdcached *c, size_t len, struct hr_err *err)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(c->fd, c->cmd + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return hr_err_errno(err, w < 0 ? errno : EPIPE, "rrdcached: %s: cannot send",
					    c->addr);
		off += (size_t)w;
	}
	return 0;
}

/* One line of the answer into c->line, without its newline. */
static int rrdcached_read_line(struct rrdcached *c, struct hr_err *err)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		while (c->rpos < c->rlen) {
			char ch = c->rbuf[c->rpos++];

			if (ch == '\n') {
				c->line[n] = '\0';
				return 0;
			}
			if (n + 1 >= sizeof(c->line))
				return hr_err_set(err, "rrdcached: %s: answer line over %zu bytes",
						  c->addr, sizeof(c->line) - 1);
			c->line[n++] = ch;
		}
		r = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hr_err_errno(err, errno, "rrdcached: %s: no answer", c->addr);
		if (r == 0)
			return hr_err_set(err, "rrdcached: %s: connection closed", c->addr);
		c->rpos = 0;
		c->rlen = (size_t)r;
	}
}

/* Sends c->cmd (len bytes, newline included) and reads the answer: 0, -1
 * (transport), -2 (refused). */
static int rrdcached_exchange(struct rrdcached *c, size_t len, rrdcached_line_fn fn, void *arg,
			      struct hr_err *err)
{
	long status, i;
	char *end;
	int stop = 0;

	if (rrdcached_send(c, len, err) < 0 || rrdcached_read_line(c, err) < 0)
		return -1;
	errno = 0;
	status = strtol(c->line, &end, 10);
	if (end == c->line || errno != 0 || (*end != ' ' && *end != '\0') ||
	    status > RRDCACHED_LINES_MAX)
		return hr_err_set(err, "rrdcached: %s: unexpected answer \"%.80s\"", c->addr,
				  c->line);
	hr_strlcpy(c->msg, *end ? end + 1 : "", sizeof(c->msg));
	if (status < 0)
		return hr_err_set(err, "rrdcached: %s", *end ? end + 1 : "refused"), -2;
	for (i = 0; i < status; i++) {
		if (rrdcached_read_line(c, err) < 0)
			return -1;
		if (fn != NULL && !stop)
			stop = fn(arg, c->line) != 0;
	}
	return 0;
}

int rrdcached_cmd(struct rrdcached *c, int argc, const char *const *argv,
		  rrdcached_line_fn fn, void *arg, struct hr_err *err)
{
	size_t len = 0;
	int i, rc, reused;

	for (i = 0; i < argc; i++)
		if (rrdcached_field(c->cmd, RRDCACHED_CMD_MAX - 1, &len, argv[i]) < 0)
			return hr_err_set(err, "rrdcached: %s: command too long or with a newline",
					  argc > 0 ? argv[0] : "");
	c->cmd[len++] = '\n';
	reused = c->fd >= 0;
	if (!reused && rrdcached_connect(c, err) < 0)
		return -1;
	rc = rrdcached_exchange(c, len, fn, arg, err);
	if (rc == -1) {
		rrdcached_disconnect(c);
		/* A connection kept from before may be dead for a reason that
		 * says nothing about the daemon now (it was restarted): one more
		 * try on a new one. A command that did reach the daemon and is
		 * sent twice is refused the second time (an UPDATE at the same
		 * time), never applied twice. */
		if (reused) {
			if (rrdcached_connect(c, err) < 0)
				return -1;
			rc = rrdcached_exchange(c, len, fn, arg, err);
			if (rc == -1)
				rrdcached_disconnect(c);
		}
	}
	return rc;
}
