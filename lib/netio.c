/* netio.c: TCP with deadlines (see netio.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netio.h"
#include "util.h"

static int wait_fd(int fd, short events, double deadline)
{
	for (;;) {
		double left = deadline - hr_now_mono();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

int hr_tcp_connect(const char *host, const char *port, double timeout, struct hr_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	double deadline = hr_now_mono() + timeout;
	int fd = -1, e;

	e = getaddrinfo(host, port, &hints, &res);
	if (e != 0)
		return hr_err_set(err, "%s:%s: %s", host, port, gai_strerror(e));
	hr_err_set(err, "%s:%s: no address", host, port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			hr_err_errno(err, errno, "%s:%s: socket", host, port);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			hr_err_errno(err, errno, "%s:%s: connect", host, port);
			goto next;
		}
		e = wait_fd(fd, POLLOUT, deadline);
		if (e == 0) {
			hr_err_set(err, "%s:%s: connect timed out after %g s", host, port, timeout);
			goto next;
		}
		if (e < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			hr_err_errno(err, errno, "%s:%s: connect", host, port);
			goto next;
		}
		if (soerr == 0)
			break;
		hr_err_errno(err, soerr, "%s:%s: connect", host, port);
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int hr_write_all(int fd, const void *buf, size_t len, double deadline, struct hr_err *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r == 0)
				return hr_err_set(err, "write timed out");
			if (r < 0)
				return hr_err_errno(err, errno, "write");
			continue;
		}
		return hr_err_errno(err, errno, "write");
	}
	return 0;
}

ssize_t hr_read_some(int fd, void *buf, size_t len, double deadline, struct hr_err *err)
{
	for (;;) {
		ssize_t r = recv(fd, buf, len, 0);
		int w;

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return hr_err_errno(err, errno, "read");
		w = wait_fd(fd, POLLIN, deadline);
		if (w == 0)
			return hr_err_set(err, "read timed out");
		if (w < 0)
			return hr_err_errno(err, errno, "read");
	}
}

int hr_split_hostport(const char *s, char *host, size_t hn, char *port, size_t pn,
		      const char *default_port)
{
	const char *colon, *hstart = s, *hend;

	if (s[0] == '[') {
		hend = strchr(s, ']');
		if (hend == NULL)
			return -1;
		hstart = s + 1;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			return -1; /* a bare IPv6 address needs brackets */
		hend = colon ? colon : s + strlen(s);
	}
	if (hend == hstart || (size_t)(hend - hstart) >= hn)
		return -1;
	memcpy(host, hstart, (size_t)(hend - hstart));
	host[hend - hstart] = '\0';
	if (colon != NULL) {
		const char *p = colon + 1;
		size_t i, pl = strlen(p);

		if (pl == 0 || pl >= pn || pl > 5)
			return -1;
		for (i = 0; i < pl; i++)
			if (p[i] < '0' || p[i] > '9')
				return -1;
		if (strtol(p, NULL, 10) < 1 || strtol(p, NULL, 10) > 65535)
			return -1;
		memcpy(port, p, pl + 1);
	} else {
		if (strlen(default_port) >= pn)
			return -1;
		strcpy(port, default_port);
	}
	return 0;
}
