/* test_central_config.c: the central's config: defaults, every key of
 * DESIGN.md, and every problem reported with its JSON path, all at once. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "central_config.h"
#include "testutil.h"

#define H64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static int parse(const char *text, struct central_config *cfg, struct hr_errs *errs)
{
	hr_errs_init(errs);
	return central_config_parse(text, strlen(text), cfg, errs);
}

static void test_minimal_insecure(void)
{
	struct central_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL_FATAL(parse("{\"insecure_http\": true, \"data_dir\": \"/tmp/d\","
				    " \"hosts\": {\"web1\": {\"token_sha256\": \"" H64 "\"}}}",
				    &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(cfg.listen, "0.0.0.0:8443");
	CU_ASSERT_STRING_EQUAL(cfg.data_dir, "/tmp/d");
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 4u << 20);
	CU_ASSERT(cfg.insecure_http);
	CU_ASSERT_PTR_NULL(cfg.tls_cert);
	CU_ASSERT_EQUAL_FATAL(cfg.nhosts, 1);
	CU_ASSERT_STRING_EQUAL(cfg.hosts[0].name, "web1");
	CU_ASSERT_EQUAL(cfg.hosts[0].token_sha256[0], 0x9f);
	CU_ASSERT_EQUAL(cfg.hosts[0].token_sha256[31], 0x08);
	central_config_free(&cfg);
	hr_errs_free(&errs);
}

static void test_full(void)
{
	const char *dir = tmpdir_new("ccfg");
	char text[4096], cert[512], rules[600];
	struct central_config cfg;
	struct hr_errs errs;

	write_file(dir, "/c.pem", "x", 1);
	write_file(dir, "/k.pem", "x", 1);
	write_file(dir, "/rules.json", "{\"rules\": []}", 14);
	snprintf(cert, sizeof(cert), "%s", dir);
	snprintf(rules, sizeof(rules), "%s/rules.json", dir);
	snprintf(text, sizeof(text),
		 "{\"listen\": \"[::1]:9443\", \"tls\": {\"cert\": \"%s/c.pem\", \"key\": \"%s/k.pem\","
		 " \"client_ca\": \"%s/c.pem\"}, \"insecure_http\": false, \"data_dir\": \"/var/x\","
		 " \"max_body_bytes\": 65536,"
		 " \"hosts\": {\"web1\": {\"token_sha256\": \"" H64 "\"}, \"db-2.example.org\": {\"token_sha256\": \"%s\"}},"
		 " \"rrdcached\": \"unix:/run/rrdcached.sock\","
		 " \"pull\": [{\"host\": \"db1\", \"url\": \"ssh://monitor@db1:22\", \"key\": \"%s/k.pem\", \"known_hosts\": \"%s/c.pem\"}],"
		 " \"rules\": \"%s\","
		 " \"notify\": [{\"type\": \"webhook\", \"url\": \"https://hooks.example/alert\"}]}",
		 cert, cert, cert,
		 "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", cert, cert, rules);
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(cfg.listen, "[::1]:9443");
	CU_ASSERT_PTR_NOT_NULL(cfg.tls_cert);
	CU_ASSERT_PTR_NOT_NULL(cfg.tls_client_ca);
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 65536);
	CU_ASSERT_EQUAL(cfg.nhosts, 2);
	CU_ASSERT_EQUAL(cfg.hosts[1].token_sha256[0], 0xab);
	CU_ASSERT_STRING_EQUAL(cfg.rrdcached, "unix:/run/rrdcached.sock");
	CU_ASSERT_EQUAL(cfg.npull, 1);
	CU_ASSERT_EQUAL(cfg.nnotify, 1);
	CU_ASSERT_STRING_EQUAL(cfg.rules, rules);
	central_config_free(&cfg);
	hr_errs_free(&errs);
	rm_rf(dir);
}

/* One broken config, every problem named by its path. */
static void test_every_problem(void)
{
	const char *text =
		"{\"listen\": \"nope\", \"bogus\": 1, \"data_dir\": \"rel\", \"max_body_bytes\": 10,"
		" \"hosts\": {\"../etc\": {\"token_sha256\": \"" H64 "\"},"
		"  \"web1\": {\"token_sha256\": \"abc\"}, \"web2\": {\"token\": \"x\"},"
		"  \"web3\": \"x\"},"
		" \"rrdcached\": 5, \"rules\": \"\","
		" \"pull\": [{\"host\": \"a/b\", \"url\": \"http://x\"}, 7],"
		" \"notify\": {\"type\": \"x\"}}";
	struct central_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL(parse(text, &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "listen: \"nope\": expected HOST:PORT", 1));
	CU_ASSERT(errs_has(&errs, "bogus: unknown key", 1));
	CU_ASSERT(errs_has(&errs, "tls: missing", 1));
	CU_ASSERT(errs_has(&errs, "data_dir: must be an absolute path", 1));
	CU_ASSERT(errs_has(&errs, "max_body_bytes: ", 1));
	CU_ASSERT(errs_has(&errs, "hosts.../etc: \"../etc\" is not a valid host name", 1));
	CU_ASSERT(errs_has(&errs, "hosts.web1.token_sha256: expected 64 hex digits", 1));
	CU_ASSERT(errs_has(&errs, "hosts.web2.token: unknown key", 1));
	CU_ASSERT(errs_has(&errs, "hosts.web2: missing \"token_sha256\"", 1));
	CU_ASSERT(errs_has(&errs, "hosts.web3: expected an object", 1));
	CU_ASSERT(errs_has(&errs, "rrdcached: ", 1));
	CU_ASSERT(errs_has(&errs, "rules: ", 1));
	CU_ASSERT(errs_has(&errs, "pull[0].host: \"a/b\" is not a valid host name", 1));
	CU_ASSERT(errs_has(&errs, "pull[0].url: expected ssh://", 1));
	CU_ASSERT(errs_has(&errs, "pull[0]: missing \"key\"", 1));
	CU_ASSERT(errs_has(&errs, "pull[0]: missing \"known_hosts\"", 1));
	CU_ASSERT(errs_has(&errs, "pull[1]: expected an object", 1));
	CU_ASSERT(errs_has(&errs, "notify: expected an array", 1));
	CU_ASSERT(errs.count >= 18);
	CU_ASSERT_PTR_NULL(cfg.doc);
	hr_errs_free(&errs);
}

static void test_tls_problems(void)
{
	struct central_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL(parse("{\"tls\": {\"cert\": \"/nonexistent/c.pem\", \"ca\": \"x\"}}",
			      &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "tls.ca: unknown key", 1));
	CU_ASSERT(errs_has(&errs, "tls: missing \"key\"", 1));
	CU_ASSERT(errs_has(&errs, "tls.cert: cannot read /nonexistent/c.pem", 1));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("{\"insecure_http\": \"yes\", \"hosts\": [], \"tls\": 1}", &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "insecure_http: ", 1));
	CU_ASSERT(errs_has(&errs, "hosts: expected an object", 1));
	CU_ASSERT(errs_has(&errs, "tls: expected an object", 1));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("{\"insecure_http\": true, \"hosts\": {}", &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "(top): not valid JSON", 1));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("[1]", &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "(top): expected a JSON object", 1));
	hr_errs_free(&errs);
}

static void test_listen(void)
{
	static const struct { const char *in; int ok; unsigned short port; int family; } cases[] = {
		{ "0.0.0.0:8443", 0, 8443, AF_INET },
		{ "127.0.0.1:1", 0, 1, AF_INET },
		{ "[::1]:9000", 0, 9000, AF_INET6 },
		{ "[::]:443", 0, 443, AF_INET6 },
		{ "::1:9000", -1, 0, 0 },     /* IPv6 without brackets */
		{ "127.0.0.1", -1, 0, 0 },
		{ "127.0.0.1:", -1, 0, 0 },
		{ "127.0.0.1:0", -1, 0, 0 },
		{ "127.0.0.1:65536", -1, 0, 0 },
		{ "127.0.0.1:80x", -1, 0, 0 },
		{ ":80", -1, 0, 0 },
		{ "[::1:80", -1, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		unsigned short port = 0;
		struct hr_err err;
		int rc = central_listen_parse(cases[i].in, &ss, &sl, &port, &err);

		CU_ASSERT_EQUAL(rc, cases[i].ok);
		if (rc != cases[i].ok)
			fprintf(stderr, "  listen \"%s\": got %d\n", cases[i].in, rc);
		if (rc == 0) {
			CU_ASSERT_EQUAL(port, cases[i].port);
			CU_ASSERT_EQUAL(ss.ss_family, cases[i].family);
		}
	}
}

static void test_hex(void)
{
	unsigned char out[32];

	CU_ASSERT_EQUAL(central_hex32(H64, out), 0);
	CU_ASSERT_EQUAL(out[1], 0x86);
	CU_ASSERT_EQUAL(central_hex32(H64 "0", out), -1);
	CU_ASSERT_EQUAL(central_hex32("zf86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", out), -1);
	CU_ASSERT_EQUAL(central_hex32("", out), -1);
}

/* The rules file is loaded and validated; its problems carry its name and
 * the JSON path inside it. */
static void test_rules_file(void)
{
	const char *dir = tmpdir_new("ccfgr");
	const char *bad = "{\"rules\": [{\"name\": \"x\", \"match\": {\"probe\": \"fs\"},"
			  " \"value\": \"used\", \"warning\": 90, \"for\": \"2x\"}]}";
	char text[1024], file[600], want[700];
	struct central_config cfg;
	struct hr_errs errs;

	write_file(dir, "/rules.json", bad, strlen(bad));
	snprintf(file, sizeof(file), "%s/rules.json", dir);
	snprintf(text, sizeof(text), "{\"insecure_http\": true, \"rules\": \"%s\"}", file);
	CU_ASSERT_EQUAL(parse(text, &cfg, &errs), -1);
	snprintf(want, sizeof(want), "%s: rules[0].for: ", file);
	CU_ASSERT(errs_has(&errs, want, 1));
	hr_errs_free(&errs);
	snprintf(text, sizeof(text), "{\"insecure_http\": true, \"rules\": \"%s/none.json\"}",
		 dir);
	CU_ASSERT_EQUAL(parse(text, &cfg, &errs), -1);
	CU_ASSERT_EQUAL(errs.count, 1);
	hr_errs_free(&errs);
	rm_rf(dir);
}

/* "alerts" is checked as the lifecycle reads it; "web" needs TLS off
 * loopback unless insecure_http says a proxy is in front. */
static void test_alerts_and_web(void)
{
	struct central_config cfg;
	struct hr_errs errs;

	CU_ASSERT_EQUAL_FATAL(parse("{\"insecure_http\": true, \"alerts\": {\"group_wait\": \"5s\","
				    " \"repeat_interval\": \"2h\"}, \"web\": {\"listen\": \"127.0.0.1:8080\"}}",
				    &cfg, &errs), 0);
	CU_ASSERT_PTR_NOT_NULL(cfg.alerts);
	CU_ASSERT_STRING_EQUAL(cfg.web_listen, "127.0.0.1:8080");
	CU_ASSERT_PTR_NULL(cfg.web_tls_cert);
	central_config_free(&cfg);
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("{\"insecure_http\": true, \"web\": {\"listen\": \"[::1]:8080\"}}",
			      &cfg, &errs), 0);
	central_config_free(&cfg);
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("{\"insecure_http\": true, \"web\": {\"listen\": \"0.0.0.0:8080\","
			      " \"insecure_http\": true}}", &cfg, &errs), 0);
	CU_ASSERT(cfg.web_insecure_http);
	central_config_free(&cfg);
	hr_errs_free(&errs);

	CU_ASSERT_EQUAL(parse("{\"insecure_http\": true, \"alerts\": {\"group_wait\": \"soon\","
			      " \"flap_changes\": 0, \"x\": 1}, \"web\": {\"listen\": \"0.0.0.0:8080\","
			      " \"tls\": {\"cert\": \"/nonexistent/c.pem\"}, \"port\": 1}}", &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "alerts.group_wait: ", 1));
	CU_ASSERT(errs_has(&errs, "alerts.flap_changes: ", 1));
	CU_ASSERT(errs_has(&errs, "alerts.x: unknown key", 1));
	CU_ASSERT(errs_has(&errs, "web.port: unknown key", 1));
	CU_ASSERT(errs_has(&errs, "web.tls: missing \"key\"", 1));
	CU_ASSERT(errs_has(&errs, "web.tls.cert: cannot read /nonexistent/c.pem", 1));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("{\"insecure_http\": true, \"web\": {\"listen\": \"0.0.0.0:8080\"}}",
			      &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "web.listen: plain HTTP on 0.0.0.0:8080, which is not a loopback", 1));
	hr_errs_free(&errs);
	CU_ASSERT_EQUAL(parse("{\"insecure_http\": true, \"web\": {}, \"alerts\": []}", &cfg, &errs), -1);
	CU_ASSERT(errs_has(&errs, "web: missing \"listen\"", 1));
	CU_ASSERT(errs_has(&errs, "alerts: ", 1));
	hr_errs_free(&errs);
}

static CU_TestInfo tests[] = {
	{ "minimal insecure config, defaults", test_minimal_insecure },
	{ "every key of DESIGN.md", test_full },
	{ "every problem with its path", test_every_problem },
	{ "tls, types, JSON", test_tls_problems },
	{ "listen addresses", test_listen },
	{ "token hash hex", test_hex },
	{ "the rules file is validated", test_rules_file },
	{ "alerts and web keys", test_alerts_and_web },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("central_config", tests);
}
