/* test_netio.c: lib/netio, the deadline-bounded TCP that the ups probe's
 * clients use. Real loopback sockets: a refused connect, a connect that
 * cannot complete because the listener's backlog is full, a server that
 * accepts and never writes (read timeout), end of stream, a write to a
 * reader that does not read, and hr_split_hostport's cases. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "netio.h"
#include "testutil.h"
#include "util.h"

/* A listening loopback socket on a free port (backlog given); its port in
 * port. */
static int listener(int backlog, char *port, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CU_ASSERT_FATAL(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CU_ASSERT_FATAL(listen(fd, backlog) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	snprintf(port, n, "%u", ntohs(a.sin_port));
	return fd;
}

static void test_connect_refused(void)
{
	struct hr_err err;
	char port[8];
	int l = listener(1, port, sizeof(port));
	double t0;

	close(l); /* nobody listens there now */
	t0 = hr_now_mono();
	CU_ASSERT_EQUAL(hr_tcp_connect("127.0.0.1", port, 2, &err), -1);
	CU_ASSERT(hr_now_mono() - t0 < 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Connection refused"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, port)); /* names the target */
}

/* With backlog 0 and nobody accepting, Linux keeps one connection in the
 * accept queue and drops the SYNs of the next ones: their connect cannot
 * complete, and must give up at the timeout. */
static void test_connect_timeout(void)
{
	struct hr_err err;
	char port[8];
	int l = listener(0, port, sizeof(port));
	int fds[4], i, n = 0, timed_out = 0;

	for (i = 0; i < 4; i++) {
		double t0 = hr_now_mono(), took;

		fds[i] = hr_tcp_connect("127.0.0.1", port, 0.3, &err);
		took = hr_now_mono() - t0;
		CU_ASSERT(took < 0.8);
		if (fds[i] >= 0) {
			n++;
			continue;
		}
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "timed out"));
		CU_ASSERT(took >= 0.29);
		timed_out++;
	}
	CU_ASSERT(n >= 1);
	CU_ASSERT(timed_out >= 1);
	for (i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(l);
}

static void test_read_timeout_and_eof(void)
{
	struct hr_err err;
	char port[8], buf[64];
	int l = listener(4, port, sizeof(port));
	int c, s;
	double t0;
	ssize_t r;

	c = hr_tcp_connect("127.0.0.1", port, 1, &err);
	CU_ASSERT_FATAL(c >= 0);
	s = accept(l, NULL, NULL);
	CU_ASSERT_FATAL(s >= 0);

	/* the server accepts and never writes */
	t0 = hr_now_mono();
	r = hr_read_some(c, buf, sizeof(buf), hr_now_mono() + 0.3, &err);
	CU_ASSERT_EQUAL(r, -1);
	CU_ASSERT(hr_now_mono() - t0 >= 0.29);
	CU_ASSERT(hr_now_mono() - t0 < 0.8);
	CU_ASSERT_STRING_EQUAL(err.msg, "read timed out");

	/* a deadline already past still returns what is there */
	CU_ASSERT_EQUAL(write(s, "hello\n", 6), 6);
	usleep(50000);
	r = hr_read_some(c, buf, sizeof(buf), hr_now_mono() - 1, &err);
	CU_ASSERT_EQUAL(r, 6);
	CU_ASSERT_EQUAL(memcmp(buf, "hello\n", 6), 0);

	/* writes arrive whole */
	CU_ASSERT_EQUAL(hr_write_all(c, "LIST VAR ups\n", 13, hr_now_mono() + 1, &err), 0);
	CU_ASSERT_EQUAL(read(s, buf, sizeof(buf)), 13);

	/* end of stream is 0, not an error */
	close(s);
	r = hr_read_some(c, buf, sizeof(buf), hr_now_mono() + 1, &err);
	CU_ASSERT_EQUAL(r, 0);
	close(c);
	close(l);
}

/* A peer that never reads: the write gives up at the deadline. */
static void test_write_timeout(void)
{
	static char big[1 << 20];
	struct hr_err err;
	char port[8];
	int l = listener(4, port, sizeof(port));
	int c, s, i, rc = 0;
	double t0;

	c = hr_tcp_connect("127.0.0.1", port, 1, &err);
	CU_ASSERT_FATAL(c >= 0);
	s = accept(l, NULL, NULL);
	CU_ASSERT_FATAL(s >= 0);
	t0 = hr_now_mono();
	for (i = 0; i < 64 && rc == 0; i++)
		rc = hr_write_all(c, big, sizeof(big), hr_now_mono() + 0.3, &err);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "write timed out");
	CU_ASSERT(hr_now_mono() - t0 < 2);

	/* writing to a closed peer fails without SIGPIPE */
	close(s);
	usleep(50000);
	rc = 0;
	for (i = 0; i < 8 && rc == 0; i++)
		rc = hr_write_all(c, "x", 1, hr_now_mono() + 1, &err);
	CU_ASSERT_EQUAL(rc, -1);
	close(c);
	close(l);
}

static void test_split_hostport(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *host, *port;
	} cases[] = {
		{ "127.0.0.1", 0, "127.0.0.1", "3493" },
		{ "127.0.0.1:3551", 0, "127.0.0.1", "3551" },
		{ "ups.example.org:1", 0, "ups.example.org", "1" },
		{ "localhost:65535", 0, "localhost", "65535" },
		{ "[::1]", 0, "::1", "3493" },
		{ "[::1]:3494", 0, "::1", "3494" },
		{ "[fe80::1%eth0]:3493", 0, "fe80::1%eth0", "3493" },
		{ "::1", -1, NULL, NULL },          /* IPv6 needs brackets */
		{ "::1:3493", -1, NULL, NULL },
		{ "[::1", -1, NULL, NULL },
		{ "[::1]x", -1, NULL, NULL },
		{ "[::1]:", -1, NULL, NULL },
		{ "[]:1", -1, NULL, NULL },
		{ "", -1, NULL, NULL },
		{ ":3493", -1, NULL, NULL },
		{ "host:", -1, NULL, NULL },
		{ "host:0", -1, NULL, NULL },
		{ "host:65536", -1, NULL, NULL },
		{ "host:123456", -1, NULL, NULL },
		{ "host:12a", -1, NULL, NULL },
		{ "host:-1", -1, NULL, NULL },
	};
	char host[64], port[8];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = hr_split_hostport(cases[i].in, host, sizeof(host), port, sizeof(port),
					   "3493");

		if (rc != cases[i].rc)
			fprintf(stderr, "split \"%s\": %d\n", cases[i].in, rc);
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0) {
			CU_ASSERT_STRING_EQUAL(host, cases[i].host);
			CU_ASSERT_STRING_EQUAL(port, cases[i].port);
		}
	}
	/* parts that do not fit the caller's buffers are refused */
	CU_ASSERT_EQUAL(hr_split_hostport("averyveryverylonghostname:1", host, 8, port,
					  sizeof(port), "1"), -1);
	CU_ASSERT_EQUAL(hr_split_hostport("h", host, sizeof(host), port, 3, "3493"), -1);
	CU_ASSERT_EQUAL(hr_split_hostport("h:3493", host, sizeof(host), port, 4, "1"), -1);
}

static CU_TestInfo tests[] = {
	{ "connect refused", test_connect_refused },
	{ "connect timeout (full backlog)", test_connect_timeout },
	{ "read timeout and end of stream", test_read_timeout_and_eof },
	{ "write timeout and closed peer", test_write_timeout },
	{ "hr_split_hostport", test_split_hostport },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("netio", tests);
}
