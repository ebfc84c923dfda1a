/* test_pull.c: the parts of SSH pull that need no server: the "pull"
 * config (url, command quoting checked by a real /bin/sh, interval and
 * timeout, every problem by its path), host key checks against known_hosts
 * files as OpenSSH writes them (hashed, plain, "[host]:port"), OpenSSH's
 * fingerprint form, and ingest_handle_pulled(). The keys and fingerprints
 * below were made with ssh-keygen (OpenSSH 9.2): ssh-keygen -t ed25519,
 * -t ecdsa -b 256, ssh-keygen -l -E sha256, and ssh-keygen -H for the
 * hashed lines. The SSH session itself is tested against the real sshd in
 * tests/integration/central_pull.sh. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <libssh2.h>
#include <rrd.h>

#include "central_config.h"
#include "ingest.h"
#include "pull.h"
#include "testutil.h"

#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAILpHfgEyNyVE1HySVh5QRnMT2ZVCDyeQQRRgiMYehQZq"
#define FP_A "SHA256:dW988SqmPTAe/cK+6jbPgvBlW0mijp6w40sQPAT+Ox0"
#define KEY_B "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOmcwhWvQmUvgLzcytFMhkHgPEu7ab8sF5NXsOCD7rRNMpE/9pCsUAEWYqot7Mtcu4E2KogbWs2YyNM7431x8OU="
#define FP_B "SHA256:1OdYGtrjDEwTI5HMfRBhqxmTJvuabveiyUupdRrvPok"
#define KEY_C "AAAAC3NzaC1lZDI1NTE5AAAAIENCCzwCAJMr+IAb5gPKf6w/+VPYVhqp4hbuJz02UA7B"
#define FP_C "SHA256:VW572eqrTwijg4y0MUiCbHPS30iKfhpii2DRc7yH8Kw"
/* ssh-keygen -H of "[127.0.0.1]:2222 KEY_A" and "web1 KEY_A". */
#define KH_HASHED \
	"|1|JONOD86kU83U67sl/IgkrC6bxc0=|v6VKCBkSn6uoG+VTbiUF3/mX1rY= ssh-ed25519 " KEY_A "\n" \
	"|1|Apvg2sHbpvM86IxIXvG5ssCWkqs=|V1ODQdavHWhVvmFFzI0H0wLOy3I= ssh-ed25519 " KEY_A "\n"
#define KH_PLAIN \
	"# comment\n" \
	"web1 ssh-ed25519 " KEY_A "\n" \
	"[db1]:2200 ecdsa-sha2-nistp256 " KEY_B "\n"
#define H64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void test_url(void)
{
	static const struct {
		const char *url;
		int ok;
		const char *user, *addr;
		unsigned port;
		const char *msg;
	} cases[] = {
		{ "ssh://monitor@db1:22", 1, "monitor", "db1", 22, NULL },
		{ "ssh://monitor@db1", 1, "monitor", "db1", 22, NULL },
		{ "ssh://m.x_y-z@db-1.example.org:2222", 1, "m.x_y-z", "db-1.example.org", 2222, NULL },
		{ "ssh://root@127.0.0.1:65535", 1, "root", "127.0.0.1", 65535, NULL },
		{ "ssh://root@[::1]:2200", 1, "root", "::1", 2200, NULL },
		{ "ssh://root@[fe80::1]", 1, "root", "fe80::1", 22, NULL },
		{ "http://db1", 0, NULL, NULL, 0, "expected ssh://" },
		{ "ssh://db1:22", 0, NULL, NULL, 0, "no user" },
		{ "ssh://@db1", 0, NULL, NULL, 0, "no user" },
		{ "ssh://a b@db1", 0, NULL, NULL, 0, "bad user name" },
		{ "ssh://-oProxyCommand=x@db1", 0, NULL, NULL, 0, "bad user name" },
		{ "ssh://a@", 0, NULL, NULL, 0, "no host" },
		{ "ssh://a@db1:0", 0, NULL, NULL, 0, "bad port" },
		{ "ssh://a@db1:65536", 0, NULL, NULL, 0, "bad port" },
		{ "ssh://a@db1:", 0, NULL, NULL, 0, "bad port" },
		{ "ssh://a@db1:22x", 0, NULL, NULL, 0, "bad port" },
		{ "ssh://a@db1/path", 0, NULL, NULL, 0, "no path" },
		{ "ssh://a@::1:22", 0, NULL, NULL, 0, "in brackets" },
		{ "ssh://a@[::1", 0, NULL, NULL, 0, "no ']'" },
		{ "ssh://a@[db1]:22", 0, NULL, NULL, 0, "not an IPv6 address" },
		{ "ssh://a@[::1]x", 0, NULL, NULL, 0, "after the host" },
		{ "ssh://a@-db1", 0, NULL, NULL, 0, "not a host name" },
		{ "ssh://a@db..1", 0, NULL, NULL, 0, "not a host name" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char user[256] = "", addr[256] = "";
		unsigned short port = 0;
		struct hr_err err = { "" };
		int rc = central_pull_url(cases[i].url, user, sizeof(user), addr, sizeof(addr),
					  &port, &err);

		if ((rc == 0) != cases[i].ok)
			fprintf(stderr, "  %s: rc %d: %s\n", cases[i].url, rc, err.msg);
		CU_ASSERT_EQUAL(rc == 0, cases[i].ok);
		if (cases[i].ok && rc == 0) {
			CU_ASSERT_STRING_EQUAL(user, cases[i].user);
			CU_ASSERT_STRING_EQUAL(addr, cases[i].addr);
			CU_ASSERT_EQUAL(port, cases[i].port);
		} else if (!cases[i].ok && strstr(err.msg, cases[i].msg) == NULL) {
			fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n", cases[i].url, err.msg, cases[i].msg);
			CU_FAIL("error message");
		}
	}
}

/* The joined command, run by a real /bin/sh as `printf '<%s>' CMD`, gives
 * back exactly the words. */
static void test_shell_join(void)
{
	static const char *const words[][6] = {
		{ "headroom-agent", "--once", "--json", NULL },
		{ "/usr/sbin/headroom-agent", "-c", "/etc/headroom/agent.json", NULL },
		{ "a b", "it's", "$HOME", "`id`", "x;y|z&", NULL },
		{ "\"q\"", "back\\slash", "*", "", "new\nline", NULL },
		{ "'", "''", "a'b'c", "~", "!x", NULL },
	};
	size_t i, k;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char *argv[8] = { "printf", "<%s>" };
		char want[512] = "", got[512] = "", *cmd;
		struct hr_err err;
		FILE *f;
		size_t n;

		for (k = 0; words[i][k] != NULL; k++) {
			argv[k + 2] = words[i][k];
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "<%s>", words[i][k]);
		}
		argv[k + 2] = NULL;
		cmd = central_shell_join(argv, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
		f = popen(cmd, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		n = fread(got, 1, sizeof(got) - 1, f);
		got[n] = '\0';
		CU_ASSERT_EQUAL(pclose(f), 0);
		if (strcmp(got, want) != 0)
			fprintf(stderr, "  cmd %s\n  got  %s\n  want %s\n", cmd, got, want);
		CU_ASSERT_STRING_EQUAL(got, want);
		free(cmd);
	}
	{
		const char *plain[] = { "headroom-agent", "--once", "--json", NULL };
		const char *none[] = { NULL };
		struct hr_err err;
		char *cmd = central_shell_join(plain, &err);

		/* Safe words stay as they are: what a forced command compares. */
		CU_ASSERT_STRING_EQUAL(cmd, "headroom-agent --once --json");
		free(cmd);
		CU_ASSERT_PTR_NULL(central_shell_join(none, &err));
	}
}

static int parse(const char *text, struct central_config *cfg, struct hr_errs *errs)
{
	hr_errs_init(errs);
	return central_config_parse(text, strlen(text), cfg, errs);
}

static void test_config(void)
{
	const char *dir = tmpdir_new("pullcfg");
	char text[4096];
	struct central_config cfg;
	struct hr_errs errs;

	write_file(dir, "/key", "x", 1);
	write_file(dir, "/kh", "x", 1);
	snprintf(text, sizeof(text),
		 "{\"insecure_http\": true, \"pull\": ["
		 " {\"host\": \"db1\", \"url\": \"ssh://monitor@db1\", \"key\": \"%s/key\", \"known_hosts\": \"%s/kh\"},"
		 " {\"host\": \"db2\", \"url\": \"ssh://m@[::1]:2200\", \"key\": \"%s/key\", \"known_hosts\": \"%s/kh\","
		 "  \"command\": [\"/opt/hr/headroom-agent\", \"-c\", \"/etc/a b.json\", \"--once\", \"--json\"],"
		 "  \"interval\": \"10s\"},"
		 " {\"host\": \"db3\", \"url\": \"ssh://m@db3:2\", \"key\": \"%s/key\", \"known_hosts\": \"%s/kh\","
		 "  \"command\": \"sudo -n headroom-agent --once --json\", \"interval\": \"5m\", \"timeout\": 90}]}",
		 dir, dir, dir, dir, dir, dir);
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &errs), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.npull, 3);
	CU_ASSERT_STRING_EQUAL(cfg.pull[0].host, "db1");
	CU_ASSERT_STRING_EQUAL(cfg.pull[0].user, "monitor");
	CU_ASSERT_STRING_EQUAL(cfg.pull[0].addr, "db1");
	CU_ASSERT_EQUAL(cfg.pull[0].port, 22);
	CU_ASSERT_STRING_EQUAL(cfg.pull[0].command, "headroom-agent --once --json");
	CU_ASSERT_EQUAL(cfg.pull[0].interval, 60);
	CU_ASSERT_EQUAL(cfg.pull[0].timeout, 30);
	CU_ASSERT_STRING_EQUAL(cfg.pull[1].addr, "::1");
	CU_ASSERT_EQUAL(cfg.pull[1].port, 2200);
	CU_ASSERT_STRING_EQUAL(cfg.pull[1].command,
			       "/opt/hr/headroom-agent -c '/etc/a b.json' --once --json");
	CU_ASSERT_EQUAL(cfg.pull[1].interval, 10);
	CU_ASSERT_EQUAL(cfg.pull[1].timeout, 10); /* the default, cut to the interval */
	CU_ASSERT_STRING_EQUAL(cfg.pull[2].command, "sudo -n headroom-agent --once --json");
	CU_ASSERT_EQUAL(cfg.pull[2].interval, 300);
	CU_ASSERT_EQUAL(cfg.pull[2].timeout, 90);
	central_config_free(&cfg);
	hr_errs_free(&errs);

	snprintf(text, sizeof(text),
		 "{\"insecure_http\": true, \"hosts\": {\"web1\": {\"token_sha256\": \"" H64 "\"}},"
		 " \"pull\": ["
		 " {\"host\": \"web1\", \"url\": \"ssh://m@web1\", \"key\": \"%s/key\", \"known_hosts\": \"%s/kh\"},"
		 " {\"host\": \"db1\", \"url\": \"ssh://m@db1:99999\", \"key\": \"%s/nokey\", \"known_hosts\": 5,"
		 "  \"command\": [], \"interval\": 0, \"timeout\": \"soon\"},"
		 " {\"host\": \"db2\", \"url\": \"ssh://m@db2\", \"key\": \"%s/key\", \"known_hosts\": \"%s/kh\","
		 "  \"command\": [\"a\", 1], \"interval\": 10, \"timeout\": 11, \"user\": \"x\"},"
		 " {\"host\": \"db2\", \"url\": \"ssh://m@db2\", \"key\": \"%s/key\", \"known_hosts\": \"%s/kh\","
		 "  \"command\": {}},"
		 " {\"url\": \"ssh://m@db2\"}, \"x\"]}",
		 dir, dir, dir, dir, dir, dir, dir);
	CU_ASSERT_EQUAL(parse(text, &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "pull[0].host: \"web1\" is also in \"hosts\"", 1));
	CU_ASSERT(errs_has(&errs, "pull[1].url: bad port (1-65535) (\"ssh://m@db1:99999\")", 1));
	CU_ASSERT(errs_has(&errs, "pull[1].key: cannot read ", 1));
	CU_ASSERT(errs_has(&errs, "pull[1].known_hosts: ", 1));
	CU_ASSERT(errs_has(&errs, "pull[1].command: expected at least one string", 1));
	CU_ASSERT(errs_has(&errs, "pull[1].interval: duration 0s is out of range", 1));
	CU_ASSERT(errs_has(&errs, "pull[1].timeout: expected a duration", 1));
	CU_ASSERT(errs_has(&errs, "pull[2].command[1]: expected a non-empty string", 1));
	CU_ASSERT(errs_has(&errs, "pull[2].timeout: 11s is longer than the interval (10s)", 1));
	CU_ASSERT(errs_has(&errs, "pull[2].user: unknown key", 1));
	CU_ASSERT(errs_has(&errs, "pull[3].host: \"db2\" is pulled by an earlier entry already", 1));
	CU_ASSERT(errs_has(&errs, "pull[3].command: expected an array of strings or a string", 1));
	CU_ASSERT(errs_has(&errs, "pull[4]: missing \"host\"", 1));
	CU_ASSERT(errs_has(&errs, "pull[4]: missing \"key\"", 1));
	CU_ASSERT(errs_has(&errs, "pull[4]: missing \"known_hosts\"", 1));
	CU_ASSERT(errs_has(&errs, "pull[5]: expected an object", 1));
	hr_errs_free(&errs);
	rm_rf(dir);
}

static void test_fingerprint(void)
{
	static const struct { const char *b64, *fp; } keys[] = {
		{ KEY_A, FP_A }, { KEY_B, FP_B }, { KEY_C, FP_C },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		gnutls_datum_t in = { (unsigned char *)keys[i].b64, (unsigned)strlen(keys[i].b64) };
		gnutls_datum_t blob = { NULL, 0 };
		char fp[64];

		CU_ASSERT_EQUAL_FATAL(gnutls_base64_decode2(&in, &blob), 0);
		pull_fingerprint(blob.data, blob.size, fp, sizeof(fp));
		CU_ASSERT_STRING_EQUAL(fp, keys[i].fp);
		gnutls_free(blob.data);
	}
}

/* One host key check: the key (base64 as in a .pub file) of type, offered
 * by addr:port, against the known_hosts text kh. Returns the check's
 * result; the message into msg. */
static int check_key(const char *kh, const char *b64, int type, const char *addr,
		     unsigned short port, char *msg, size_t n)
{
	const char *dir = tmpdir_new("kh");
	char file[PATH_MAX];
	gnutls_datum_t in = { (unsigned char *)b64, (unsigned)strlen(b64) };
	gnutls_datum_t blob = { NULL, 0 };
	LIBSSH2_SESSION *s = libssh2_session_init();
	struct hr_err err = { "" };
	int rc;

	snprintf(file, sizeof(file), "%s/known_hosts", dir);
	if (kh != NULL)
		write_file(dir, "/known_hosts", kh, strlen(kh));
	CU_ASSERT_EQUAL(gnutls_base64_decode2(&in, &blob), 0);
	rc = pull_hostkey_check(s, file, addr, port, (const char *)blob.data, blob.size, type, &err);
	snprintf(msg, n, "%s", err.msg);
	gnutls_free(blob.data);
	libssh2_session_free(s);
	rm_rf(dir);
	return rc;
}

static void test_known_hosts(void)
{
	char msg[HR_ERR_MAX];
	const int ed = LIBSSH2_HOSTKEY_TYPE_ED25519, ec = LIBSSH2_HOSTKEY_TYPE_ECDSA_256;

	/* Hashed: "[127.0.0.1]:2222" and "web1" (port 22). */
	CU_ASSERT_EQUAL(check_key(KH_HASHED, KEY_A, ed, "127.0.0.1", 2222, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(check_key(KH_HASHED, KEY_A, ed, "web1", 22, msg, sizeof(msg)), 0);
	/* The port is part of the name: 127.0.0.1 port 22 is another host. */
	CU_ASSERT_EQUAL(check_key(KH_HASHED, KEY_A, ed, "127.0.0.1", 22, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "UNKNOWN"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "ssh-ed25519 " FP_A));
	CU_ASSERT_EQUAL(check_key(KH_HASHED, KEY_A, ed, "127.0.0.1", 2223, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "host key of [127.0.0.1]:2223 is UNKNOWN"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "ssh-keyscan -p 2223 -t ssh-ed25519 127.0.0.1"));
	/* Another key of the same type for a known name: changed. */
	CU_ASSERT_EQUAL(check_key(KH_HASHED, KEY_C, ed, "127.0.0.1", 2222, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "host key of [127.0.0.1]:2222 has CHANGED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, FP_C));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "known_hosts"));

	/* Plain names, "[host]:port", and key types. */
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_A, ed, "web1", 22, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_B, ec, "db1", 2200, msg, sizeof(msg)), 0);
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_C, ed, "web1", 22, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "CHANGED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, FP_C));
	/* db1 has only an ECDSA key on file: an Ed25519 key is unknown. */
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_A, ed, "db1", 2200, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "UNKNOWN"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, FP_A));
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_B, ec, "db1", 22, msg, sizeof(msg)), -1);
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_A, ed, "WEB1x", 22, msg, sizeof(msg)), -1);

	/* No file: refused, naming the key. */
	CU_ASSERT_EQUAL(check_key(NULL, KEY_A, ed, "web1", 22, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "cannot read known_hosts"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, FP_A));
	/* A key type libssh2 does not know. */
	CU_ASSERT_EQUAL(check_key(KH_PLAIN, KEY_A, 99, "web1", 22, msg, sizeof(msg)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "unsupported type"));
}

static void doc(char *dst, size_t n, const char *host, long seq, long t)
{
	snprintf(dst, n,
		 "{\"host\": \"%s\", \"agent\": \"headroom-agent/0.1\", \"seq\": %ld, \"interval\": 10,"
		 " \"samples\": [{\"t\": %ld, \"probe\": \"load\", \"instance\": \"\","
		 " \"values\": {\"load1\": 0.25, \"load5\": 0.5}}]}",
		 host, seq, t);
}

/* The archive's step, from rrd_info_r(); 0 when it cannot be read. */
static unsigned long rrd_step(const char *file)
{
	rrd_info_t *info = rrd_info_r(file), *i;
	unsigned long step = 0;

	for (i = info; i != NULL; i = i->next)
		if (strcmp(i->key, "step") == 0 && i->type == RD_I_CNT)
			step = i->value.u_cnt;
	rrd_info_free(info);
	return step;
}

static void test_ingest_pulled(void)
{
	const char *dir = tmpdir_new("pulled");
	char data[PATH_MAX], file[PATH_MAX + 64], body[1024], big[2048];
	struct ingest_reply r;
	struct hr_err err;
	struct ingest *in;
	time_t t0 = 1764316800;

	snprintf(data, sizeof(data), "%s/data", dir);
	in = ingest_new(data, 1024, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	/* No token and no "hosts" needed: the entry's host is the binding. */
	doc(body, sizeof(body), "db1", t0, t0);
	ingest_handle_pulled(in, "db1", 60, body, strlen(body), t0 + 5, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"acked\": 1764316800}");
	snprintf(file, sizeof(file), "%s/rrd/db1/load.rrd", data);
	CU_ASSERT_EQUAL(access(file, F_OK), 0);
	/* The document says "interval": 10, but it comes once per pull. */
	CU_ASSERT_EQUAL(rrd_step(file), 60);
	/* Another host's document: 403, nothing written for either. */
	doc(body, sizeof(body), "db2", t0 + 60, t0 + 60);
	ingest_handle_pulled(in, "db1", 60, body, strlen(body), t0 + 65, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "pulled as db1"));
	snprintf(file, sizeof(file), "%s/rrd/db2", data);
	CU_ASSERT_NOT_EQUAL(access(file, F_OK), 0);
	/* Not a document, and over the limit. */
	ingest_handle_pulled(in, "db1", 60, "bash: headroom-agent: command not found", 39,
			     t0 + 65, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	memset(big, ' ', sizeof(big));
	ingest_handle_pulled(in, "db1", 60, big, sizeof(big), t0 + 65, &r);
	CU_ASSERT_EQUAL(r.status, 413);
	/* The next pull (its seq is a later unix time) is stored. */
	doc(body, sizeof(body), "db1", t0 + 60, t0 + 60);
	ingest_handle_pulled(in, "db1", 60, body, strlen(body), t0 + 65, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	ingest_destroy(in);
	rm_rf(dir);
}

static CU_TestInfo tests[] = {
	{ "pull url", test_url },
	{ "command quoting through /bin/sh", test_shell_join },
	{ "pull config and its problems", test_config },
	{ "OpenSSH SHA256 fingerprints", test_fingerprint },
	{ "known_hosts: hashed, plain, [host]:port", test_known_hosts },
	{ "ingest_handle_pulled", test_ingest_pulled },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("pull", tests);
}
