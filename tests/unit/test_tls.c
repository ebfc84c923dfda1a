/* test_tls.c: the tls probe against real local TLS servers (openssl
 * s_server on loopback) with certificates the openssl CLI makes at test
 * time in a temp folder: a test CA and leaves valid 90 days, expiring in 3
 * days, expired, for the wrong name, and a self-signed one. Plus a closed
 * port, a server that accepts TCP but never speaks TLS, the pure parsers and
 * config validation. Nothing is kept: servers are stopped, the folder goes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "tls.h"
#include "util.h"

/* Makes the CA and the leaves in "$1" with openssl ca, whose -startdate and
 * -enddate give any validity window (OpenSSL 3.0's x509 has no -not_after). */
static const char mkcerts_sh[] =
	"set -e\n"
	"cd \"$1\"\n"
	"cat > ca.cnf <<'CNF'\n"
	"[req]\n"
	"distinguished_name = dn\n"
	"prompt = no\n"
	"[dn]\n"
	"CN = headroom test\n"
	"[ca]\n"
	"default_ca = test_ca\n"
	"[test_ca]\n"
	"dir = .\n"
	"database = index.txt\n"
	"new_certs_dir = .\n"
	"serial = serial\n"
	"default_md = sha256\n"
	"policy = any\n"
	"unique_subject = no\n"
	"[any]\n"
	"commonName = supplied\n"
	"[v3_ca]\n"
	"basicConstraints = critical,CA:true\n"
	"keyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\n"
	"[leaf_localhost]\n"
	"basicConstraints = CA:false\n"
	"keyUsage = critical,digitalSignature\n"
	"extendedKeyUsage = serverAuth\n"
	"subjectAltName = DNS:localhost\n"
	"[leaf_wrong]\n"
	"basicConstraints = CA:false\n"
	"keyUsage = critical,digitalSignature\n"
	"extendedKeyUsage = serverAuth\n"
	"subjectAltName = DNS:wrong.example\n"
	"CNF\n"
	": > index.txt\n"
	"echo 1000 > serial\n"
	"key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1\"; }\n"
	"d() { date -u -d \"$1\" +%Y%m%d%H%M%SZ; }\n"
	"leaf() {\n"
	"  key \"$1.key\"\n"
	"  openssl req -config ca.cnf -new -key \"$1.key\" -subj \"/CN=$2\" -out \"$1.csr\"\n"
	"  openssl ca -config ca.cnf -batch -notext -keyfile ca.key -cert ca.pem -extensions \"$3\" \\\n"
	"    -startdate \"$(d \"$4\")\" -enddate \"$(d \"$5\")\" -in \"$1.csr\" -out \"$1.pem\"\n"
	"}\n"
	"key ca.key\n"
	"openssl req -config ca.cnf -new -x509 -key ca.key -subj '/CN=headroom test CA' -days 3650 \\\n"
	"  -extensions v3_ca -out ca.pem\n"
	"leaf valid localhost leaf_localhost '-1 hour' '+90 days'\n"
	"leaf soon localhost leaf_localhost '-1 hour' '+3 days'\n"
	"leaf expired localhost leaf_localhost '-30 days' '-2 days'\n"
	"leaf wrong wrong.example leaf_wrong '-1 hour' '+90 days'\n"
	"key self.key\n"
	"openssl req -config ca.cnf -new -x509 -key self.key -subj /CN=localhost -days 30 \\\n"
	"  -addext subjectAltName=DNS:localhost -out self.pem\n";

enum { SRV_VALID, SRV_SOON, SRV_EXPIRED, SRV_WRONG, SRV_SELF, SRV_COUNT };
static const char *const srv_names[SRV_COUNT] = { "valid", "soon", "expired", "wrong", "self" };

static char certdir[512];
static int have_openssl;
static pid_t srv_pid[SRV_COUNT];
static int srv_port[SRV_COUNT];
static int silent_fd = -1, silent_port, closed_port;

/* Runs argv with stdin and stdout on /dev/null and stderr to the file
 * errlog (NULL: /dev/null too); returns the pid, or -1. */
static pid_t spawn(char *const argv[], const char *errlog)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		int efd = errlog ? open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600) : fd;

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(efd >= 0 ? efd : fd, 2);
		/* a test killed half-way leaves no server behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A loopback port nobody listens on right now (the kernel's choice). With
 * keep, the socket stays open and listening: a server that never answers. */
static int free_port(int keep, int *fd_out)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	if (fd < 0) {
		perror("test_tls: socket");
		abort();
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0 || (keep && listen(fd, 16) < 0)) {
		perror("test_tls: a loopback port");
		abort();
	}
	port = ntohs(a.sin_port);
	if (keep) {
		*fd_out = fd;
	} else {
		close(fd);
	}
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Starts s_server with certificate NAME on a free port; retries when the
 * port was taken between our probe and its bind. */
static int start_server(int i)
{
	char cert[600], key[600], accept[64];
	int attempt, t;

	snprintf(cert, sizeof(cert), "%s/%s.pem", certdir, srv_names[i]);
	snprintf(key, sizeof(key), "%s/%s.key", certdir, srv_names[i]);
	for (attempt = 0; attempt < 5; attempt++) {
		char *argv[] = { "openssl", "s_server", "-quiet", "-www", "-accept", accept,
				 "-cert", cert, "-key", key, NULL };
		int st;

		srv_port[i] = free_port(0, NULL);
		snprintf(accept, sizeof(accept), "127.0.0.1:%d", srv_port[i]);
		srv_pid[i] = spawn(argv, NULL);
		if (srv_pid[i] < 0)
			return -1;
		for (t = 0; t < 100; t++) {
			if (port_open(srv_port[i]))
				return 0;
			if (waitpid(srv_pid[i], &st, WNOHANG) == srv_pid[i])
				break;
			usleep(50000);
		}
		kill(srv_pid[i], SIGKILL);
		waitpid(srv_pid[i], &st, 0);
		srv_pid[i] = 0;
	}
	return -1;
}

static int world_up(void)
{
	char *argv[] = { "sh", "-ec", (char *)mkcerts_sh, "sh", certdir, NULL };
	char *ver[] = { "openssl", "version", NULL };
	char log[600];
	pid_t pid;
	int i;

	pid = spawn(ver, NULL);
	if (pid < 0 || wait_status(pid) != 0) {
		fprintf(stderr, "test_tls: the openssl command is missing (Debian package "
			"openssl): the handshake tests cannot run\n");
		return -1;
	}
	have_openssl = 1;
	hr_strlcpy(certdir, tmpdir_new("tls"), sizeof(certdir));
	snprintf(log, sizeof(log), "%s/mkcerts.log", certdir);
	pid = spawn(argv, log);
	if (pid < 0 || wait_status(pid) != 0) {
		fprintf(stderr, "test_tls: making test certificates failed; see %s\n", log);
		certdir[0] = '\0'; /* keep it for a look */
		return -1;
	}
	for (i = 0; i < SRV_COUNT; i++)
		if (start_server(i) < 0) {
			fprintf(stderr, "test_tls: cannot start openssl s_server (%s)\n",
				srv_names[i]);
			return -1;
		}
	silent_port = free_port(1, &silent_fd);
	closed_port = free_port(0, NULL);
	return 0;
}

static void world_down(void)
{
	int i;

	for (i = 0; i < SRV_COUNT; i++)
		if (srv_pid[i] > 0) {
			kill(srv_pid[i], SIGTERM);
			waitpid(srv_pid[i], NULL, 0);
		}
	if (silent_fd >= 0)
		close(silent_fd);
	if (certdir[0] != '\0')
		rm_rf(certdir);
}

/* Runs the probe once on cfg and copies the sample of instance into *out;
 * returns the seconds the read took. */
static double run_one(const char *cfg, const char *instance, struct hr_sample *out)
{
	struct hr_recsink rec;
	const struct hr_sample *s;
	double t0 = hr_now_mono();

	hr_recsink_init(&rec);
	CU_ASSERT(run_probe(&probe_tls, "/", cfg, &rec) == 0);
	t0 = hr_now_mono() - t0;
	s = hr_recsink_find(&rec, "tls", instance);
	CU_ASSERT_FATAL(s != NULL);
	*out = *s;
	hr_recsink_free(&rec);
	return t0;
}

static const char *label(const struct hr_sample *s, const char *name)
{
	const char *v = hr_sample_get_label(s, name);

	return v ? v : "";
}

static void assert_up(const struct hr_sample *s, double days)
{
	ASSERT_VAL(s, "up", 1);
	CU_ASSERT_DOUBLE_EQUAL(sval(s, "expiry_days"), days, 1.0);
	CU_ASSERT(sval(s, "latency_ms") >= 0 && sval(s, "latency_ms") < 30000);
	CU_ASSERT(hr_sample_get_label(s, "error") == NULL);
}

/* One handshake per case: which server, and which config shape. */
static void test_handshakes(void)
{
	static const struct {
		int srv;
		int sni;      /* target 127.0.0.1:P with "sni": "localhost" */
		int ca;       /* give the test CA */
		double days;  /* expected expiry_days */
		const char *verify; /* "ok", or a substring of the error text */
	} cases[] = {
		{ SRV_VALID, 0, 1, 90, "ok" },
		{ SRV_VALID, 1, 1, 90, "ok" },
		{ SRV_VALID, 0, 0, 90, "certificate" },  /* system CAs do not know it */
		{ SRV_SOON, 0, 1, 3, "ok" },
		{ SRV_EXPIRED, 0, 1, -2, "expired" },
		{ SRV_WRONG, 0, 1, 90, "name" },
		{ SRV_SELF, 0, 1, 30, "self" },
	};
	size_t i;

	if (!have_openssl) {
		CU_FAIL("openssl missing");
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int port = srv_port[cases[i].srv];
		char cfg[1400], inst[64], ca[700];
		struct hr_sample s;

		snprintf(ca, sizeof(ca), cases[i].ca ? ", \"ca\": \"%s/ca.pem\"" : "", certdir);
		if (cases[i].sni) {
			snprintf(inst, sizeof(inst), "127.0.0.1:%d", port);
			snprintf(cfg, sizeof(cfg), "{\"timeout\": 30, \"targets\": [{\"target\": "
				 "\"%s\", \"sni\": \"localhost\"%s}]}", inst, ca);
		} else {
			snprintf(inst, sizeof(inst), "localhost:%d", port);
			snprintf(cfg, sizeof(cfg), "{\"timeout\": 30, \"targets\": [{\"target\": "
				 "\"%s\"%s}]}", inst, ca);
		}
		run_one(cfg, inst, &s);
		assert_up(&s, cases[i].days);
		if (strcmp(cases[i].verify, "ok") == 0) {
			CU_ASSERT_STRING_EQUAL(label(&s, "verify"), "ok");
		} else {
			CU_ASSERT(strcmp(label(&s, "verify"), "ok") != 0 &&
				  strstr(label(&s, "verify"), cases[i].verify) != NULL);
		}
		if (fabs(sval(&s, "expiry_days") - cases[i].days) > 1 ||
		    strstr(label(&s, "verify"), cases[i].verify) == NULL)
			fprintf(stderr, "case %zu (%s): up %g expiry_days %g verify \"%s\"\n", i,
				srv_names[cases[i].srv], sval(&s, "up"), sval(&s, "expiry_days"),
				label(&s, "verify"));
	}
}

/* Without the SNI name, 127.0.0.1 does not match the certificate's
 * DNS:localhost: the name really is what "sni" sets. */
static void test_sni_matters(void)
{
	char cfg[1024], inst[64];
	struct hr_sample s;

	if (!have_openssl) {
		CU_FAIL("openssl missing");
		return;
	}
	snprintf(inst, sizeof(inst), "127.0.0.1:%d", srv_port[SRV_VALID]);
	snprintf(cfg, sizeof(cfg), "{\"timeout\": 30, \"targets\": [{\"target\": \"%s\", "
		 "\"ca\": \"%s/ca.pem\"}]}", inst, certdir);
	run_one(cfg, inst, &s);
	assert_up(&s, 90);
	CU_ASSERT(strcmp(label(&s, "verify"), "ok") != 0);
}

/* Nobody listens: up 0 and nothing else, not even a guessed expiry. */
static void test_closed_port(void)
{
	char cfg[256], inst[64];
	struct hr_sample s;

	snprintf(inst, sizeof(inst), "127.0.0.1:%d", closed_port);
	snprintf(cfg, sizeof(cfg), "{\"targets\": [\"%s\"], \"timeout\": \"2s\"}", inst);
	run_one(cfg, inst, &s);
	ASSERT_VAL(&s, "up", 0);
	ASSERT_NO_VAL(&s, "expiry_days");
	ASSERT_NO_VAL(&s, "latency_ms");
	CU_ASSERT(s.nvalues == 1);
	CU_ASSERT(hr_sample_get_label(&s, "verify") == NULL);
	CU_ASSERT(label(&s, "error")[0] != '\0');
}

/* Accepts TCP, never answers the ClientHello: up 0 within the timeout. */
static void test_silent_server(void)
{
	char cfg[256], inst[64];
	struct hr_sample s;
	double took;

	snprintf(inst, sizeof(inst), "127.0.0.1:%d", silent_port);
	snprintf(cfg, sizeof(cfg), "{\"targets\": [\"%s\"], \"timeout\": \"1s\"}", inst);
	took = run_one(cfg, inst, &s);
	ASSERT_VAL(&s, "up", 0);
	ASSERT_NO_VAL(&s, "expiry_days");
	ASSERT_NO_VAL(&s, "latency_ms");
	CU_ASSERT(took >= 0.9 && took < 1 + 5); /* slack for valgrind */
	CU_ASSERT(strstr(label(&s, "error"), "imeout") != NULL ||
		  strstr(label(&s, "error"), "timed out") != NULL);
}

/* All targets of a read go at once: three silent servers end in about one
 * timeout, not three in a row. */
static void test_all_at_once(void)
{
	struct hr_recsink rec;
	char cfg[1024], inst[64];
	double t0;

	snprintf(cfg, sizeof(cfg),
		 "{\"timeout\": 3, \"targets\": [\"127.0.0.1:%d\", "
		 "{\"target\": \"127.0.0.1:%d\", \"name\": \"silent-2\"}, "
		 "{\"target\": \"127.0.0.1:%d\", \"name\": \"silent-3\"}, \"127.0.0.1:%d\"]}",
		 silent_port, silent_port, silent_port, closed_port);
	hr_recsink_init(&rec);
	t0 = hr_now_mono();
	CU_ASSERT(run_probe(&probe_tls, "/", cfg, &rec) == 0);
	t0 = hr_now_mono() - t0;
	CU_ASSERT(rec.count == 4);
	CU_ASSERT(t0 >= 2.9 && t0 < 8); /* in a row: 9 s; slack for valgrind */
	snprintf(inst, sizeof(inst), "127.0.0.1:%d", silent_port);
	ASSERT_VAL(hr_recsink_find(&rec, "tls", inst), "up", 0);
	ASSERT_VAL(hr_recsink_find(&rec, "tls", "silent-2"), "up", 0);
	ASSERT_VAL(hr_recsink_find(&rec, "tls", "silent-3"), "up", 0);
	snprintf(inst, sizeof(inst), "127.0.0.1:%d", closed_port);
	ASSERT_VAL(hr_recsink_find(&rec, "tls", inst), "up", 0);
	hr_recsink_free(&rec);
}

/* Good, bad and dead targets in one read each get their own answer (the
 * second, unverified handshake of one does not disturb the others). */
static void test_mixed(void)
{
	struct hr_recsink rec;
	char cfg[2048], inst[64];
	const struct hr_sample *s;

	if (!have_openssl) {
		CU_FAIL("openssl missing");
		return;
	}
	/* a long timeout costs nothing here: every target answers at once */
	snprintf(cfg, sizeof(cfg),
		 "{\"timeout\": 30, \"targets\": ["
		 "{\"target\": \"localhost:%d\", \"ca\": \"%s/ca.pem\"}, "
		 "{\"target\": \"localhost:%d\", \"ca\": \"%s/ca.pem\"}, "
		 "{\"target\": \"localhost:%d\", \"ca\": \"%s/ca.pem\"}, \"127.0.0.1:%d\"]}",
		 srv_port[SRV_VALID], certdir, srv_port[SRV_EXPIRED], certdir,
		 srv_port[SRV_WRONG], certdir, closed_port);
	hr_recsink_init(&rec);
	CU_ASSERT(run_probe(&probe_tls, "/", cfg, &rec) == 0);
	CU_ASSERT(rec.count == 4);
	snprintf(inst, sizeof(inst), "localhost:%d", srv_port[SRV_VALID]);
	s = hr_recsink_find(&rec, "tls", inst);
	assert_up(s, 90);
	CU_ASSERT_STRING_EQUAL(label(s, "verify"), "ok");
	snprintf(inst, sizeof(inst), "localhost:%d", srv_port[SRV_EXPIRED]);
	s = hr_recsink_find(&rec, "tls", inst);
	assert_up(s, -2);
	CU_ASSERT(strstr(label(s, "verify"), "expired") != NULL);
	snprintf(inst, sizeof(inst), "localhost:%d", srv_port[SRV_WRONG]);
	s = hr_recsink_find(&rec, "tls", inst);
	assert_up(s, 90);
	CU_ASSERT(strstr(label(s, "verify"), "name") != NULL);
	snprintf(inst, sizeof(inst), "127.0.0.1:%d", closed_port);
	s = hr_recsink_find(&rec, "tls", inst);
	ASSERT_VAL(s, "up", 0);
	ASSERT_NO_VAL(s, "expiry_days");
	hr_recsink_free(&rec);
}

static void test_parse_cert_time(void)
{
	static const struct {
		const char *s;
		long long t; /* -1: rejected */
	} cases[] = {
		{ "Nov 28 10:00:00 2026 GMT", 1795860000LL },
		{ "Nov  8 10:00:00 2026 GMT", 1794132000LL },
		{ "Feb 29 00:00:00 2028 GMT", 1835395200LL },
		{ "Jan  1 00:00:00 2050 GMT", 2524608000LL },
		{ "Nov 28 10:00:00.123 2026 GMT", 1795860000LL },
		{ "2026-11-28 10:00:00 GMT", 1795860000LL },
		{ "2026-11-28 10:00:00.5 GMT", 1795860000LL },
		{ "Feb 29 00:00:00 2027 GMT", -1 },  /* not a leap year */
		{ "Apr 31 00:00:00 2027 GMT", -1 },
		{ "Foo 28 10:00:00 2026 GMT", -1 },
		{ "Nov 28 10:00:00 2026 UTC", -1 },
		{ "Nov 28 10:00:00 2026", -1 },
		{ "Nov 28 10:00:00 2026 GMT ", -1 },
		{ "Nov 28 25:00:00 2026 GMT", -1 },
		{ "Nov 28 10:60:00 2026 GMT", -1 },
		{ "Nov 0 10:00:00 2026 GMT", -1 },
		{ "Nov 28 10:00:00. 2026 GMT", -1 },
		{ "Nov 28 1:00:00 2026 GMT", -1 },
		{ "2026-13-28 10:00:00 GMT", -1 },
		{ "2026-00-28 10:00:00 GMT", -1 },
		{ "2026-11-28T10:00:00Z", -1 },
		{ "", -1 },
		{ "Nov", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 0;
		int rc = tls_parse_cert_time(cases[i].s, strlen(cases[i].s), &t);

		if (cases[i].t < 0) {
			CU_ASSERT(rc == -1);
		} else {
			CU_ASSERT(rc == 0);
			CU_ASSERT((long long)t == cases[i].t);
		}
		if ((cases[i].t < 0) != (rc < 0) || (rc == 0 && (long long)t != cases[i].t))
			fprintf(stderr, "case %zu \"%s\": rc %d t %lld\n", i, cases[i].s, rc,
				(long long)t);
	}
	/* explicit length: the bytes past len are not read */
	{
		time_t t;

		CU_ASSERT(tls_parse_cert_time("Nov 28 10:00:00 2026 GMTxx", 24, &t) == 0);
		CU_ASSERT(tls_parse_cert_time("Nov 28 10:00:00 2026 GMT", 23, &t) == -1);
	}
}

static void test_certinfo_expiry(void)
{
	const char *lines[] = {
		"Subject:CN = localhost", "Issuer:CN = headroom test CA", "Version:2",
		"Start date:Nov 27 10:00:00 2026 GMT", "Expire date:Nov 28 10:00:00 2026 GMT",
	};
	const char *bad[] = { "Subject:CN = x", "Expire date:soon" };
	time_t t;

	CU_ASSERT(tls_certinfo_expiry(lines, 5, &t) == 0);
	CU_ASSERT((long long)t == 1795860000LL);
	CU_ASSERT(tls_certinfo_expiry(lines, 4, &t) == -1);
	CU_ASSERT(tls_certinfo_expiry(bad, 2, &t) == -1);
	CU_ASSERT(tls_certinfo_expiry(NULL, 0, &t) == -1);
}

static void test_parse_target(void)
{
	static const struct {
		const char *s, *host, *port; /* host NULL: rejected */
	} cases[] = {
		{ "www.example.org:443", "www.example.org", "443" },
		{ "www.example.org", "www.example.org", "443" },
		{ "10.0.0.5:8443", "10.0.0.5", "8443" },
		{ "[::1]:993", "::1", "993" },
		{ "[2001:db8::1]", "2001:db8::1", "443" },
		{ "mail_relay.local:465", "mail_relay.local", "465" },
		{ "::1:443", NULL, NULL },
		{ "host:0", NULL, NULL },
		{ "host:65536", NULL, NULL },
		{ "host:https", NULL, NULL },
		{ "ho st:443", NULL, NULL },
		{ "host/x:443", NULL, NULL },
		{ "user@host:443", NULL, NULL },
		{ "-host:443", NULL, NULL },
		{ "[::1%eth0]:443", NULL, NULL },
		{ ":443", NULL, NULL },
		{ "[x]:443", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[256], port[8];
		struct hr_err err;
		int rc = tls_parse_target(cases[i].s, host, sizeof(host), port, sizeof(port), &err);

		if (cases[i].host == NULL) {
			CU_ASSERT(rc == -1);
			if (rc == 0)
				fprintf(stderr, "case %zu \"%s\" accepted\n", i, cases[i].s);
		} else {
			CU_ASSERT_FATAL(rc == 0);
			CU_ASSERT_STRING_EQUAL(host, cases[i].host);
			CU_ASSERT_STRING_EQUAL(port, cases[i].port);
		}
	}
}

/* Instances as configured, with the default port added. */
static void test_instances(void)
{
	struct hr_recsink rec;
	char cfg[512];

	snprintf(cfg, sizeof(cfg), "{\"timeout\": \"1s\", \"targets\": [\"127.0.0.1\", "
		 "\"[::1]:%d\", {\"target\": \"127.0.0.1:%d\", \"sni\": \"x.example\"}]}",
		 closed_port, closed_port);
	hr_recsink_init(&rec);
	CU_ASSERT(run_probe(&probe_tls, "/", cfg, &rec) == 0);
	CU_ASSERT(rec.count == 3);
	CU_ASSERT(hr_recsink_find(&rec, "tls", "127.0.0.1:443") != NULL);
	snprintf(cfg, sizeof(cfg), "[::1]:%d", closed_port);
	CU_ASSERT(hr_recsink_find(&rec, "tls", cfg) != NULL);
	snprintf(cfg, sizeof(cfg), "127.0.0.1:%d", closed_port);
	CU_ASSERT(hr_recsink_find(&rec, "tls", cfg) != NULL);
	hr_recsink_free(&rec);
}

static void test_config(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ NULL, "probes.tls: no targets configured" },
		{ "{}", "probes.tls: no targets configured" },
		{ "{\"targets\": []}", "probes.tls.targets: expected a non-empty array" },
		{ "{\"targets\": \"a:443\"}", "probes.tls.targets: expected a non-empty array" },
		{ "{\"targets\": [5]}", "probes.tls.targets[0]: expected \"HOST:PORT\"" },
		{ "{\"targets\": [\"\"]}", "probes.tls.targets[0]: expected \"HOST:PORT\"" },
		{ "{\"targets\": [\"a:443\", \"a:99999\"]}", "probes.tls.targets[1]: expected HOST:PORT" },
		{ "{\"targets\": [\"a b:443\"]}", "probes.tls.targets[0]: \"a b\" is not a host name" },
		{ "{\"targets\": [{\"sni\": \"a\"}]}", "probes.tls.targets[0]: missing \"target\"" },
		{ "{\"targets\": [{\"target\": \"a:1\", \"sni\": \"a/b\"}]}", "probes.tls.targets[0].sni: expected a DNS name" },
		{ "{\"targets\": [{\"target\": \"a:1\", \"ca\": \"/nonexistent/ca.pem\"}]}", "probes.tls.targets[0].ca: /nonexistent/ca.pem: No such file" },
		{ "{\"targets\": [{\"target\": \"a:1\", \"cert\": \"x\"}]}", "probes.tls.targets[0].cert: unknown key" },
		{ "{\"targets\": [{\"target\": \"a:x\"}]}", "probes.tls.targets[0].target: expected HOST:PORT" },
		{ "{\"targets\": [\"a:443\", \"a\"]}", "probes.tls.targets[1]: \"a:443\" is listed twice" },
		{ "{\"targets\": [\"a:443\"], \"timeout\": \"forever\"}", "probes.tls.timeout: expected a duration" },
		{ "{\"targets\": [\"a:443\"], \"timeout\": 0}", "probes.tls.timeout: duration 0s is out of range" },
		{ "{\"targets\": [\"a:443\"], \"target\": [\"b:443\"]}", "probes.tls.target: unknown key" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT(probe_setup_refuses(&probe_tls, "probes.tls", cases[i].json, cases[i].want));
}

/* A target that stays down is logged once, and its return once. */
static void test_logged_once(void)
{
	struct probe_env env = { .root = "/" };
	struct hr_recsink rec;
	struct hr_errs errs;
	struct hr_err err;
	char cfg_s[256], path[] = "/tmp/hr-tls-log-XXXXXX", line[1024], needle[64];
	void *state = NULL;
	cJSON *cfg;
	int fd, saved, i, n = 0;
	FILE *f;

	snprintf(cfg_s, sizeof(cfg_s), "{\"targets\": [\"127.0.0.1:%d\"]}", closed_port);
	snprintf(needle, sizeof(needle), "probe tls: 127.0.0.1:%d:", closed_port);
	cfg = cJSON_Parse(cfg_s);
	hr_errs_init(&errs);
	hr_recsink_init(&rec);
	CU_ASSERT_FATAL(probe_tls.setup(&env, cfg, "probes.tls", &state, &errs) == 0);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < 4; i++)
		probe_tls.read(state, &rec.sink, &err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	probe_tls.teardown(state);
	CU_ASSERT(rec.count == 4);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	unlink(path);
	CU_ASSERT(n == 1);
	hr_recsink_free(&rec);
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
}

static CU_TestInfo tests[] = {
	{ "handshakes: valid, soon, expired, wrong name, self-signed", test_handshakes },
	{ "the SNI name is what is verified", test_sni_matters },
	{ "closed port: up 0, nothing else", test_closed_port },
	{ "silent server: up 0 within the timeout", test_silent_server },
	{ "all targets at once", test_all_at_once },
	{ "good, bad and dead targets in one read", test_mixed },
	{ "certificate time parser", test_parse_cert_time },
	{ "certinfo expiry line", test_certinfo_expiry },
	{ "target parser", test_parse_target },
	{ "instances", test_instances },
	{ "config validation", test_config },
	{ "a down target is logged once", test_logged_once },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (world_up() < 0)
		have_openssl = 0;
	rc = run_suite("tls", tests);
	world_down();
	return rc;
}
