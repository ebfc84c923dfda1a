/* central_config.c: parsing and validating the central's JSON config (see
 * central_config.h). Every problem is reported with its JSON path, so that
 * --check-config lists them all at once. */
#include "config.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "central_config.h"
#include "cfg.h"
#include "util.h"

static const char *const top_keys[] = {
	"listen", "tls", "insecure_http", "data_dir", "max_body_bytes", "hosts",
	"rrdcached", "pull", "rules", "notify", NULL,
};
static const char *const tls_keys[] = { "cert", "key", "client_ca", NULL };
static const char *const host_keys[] = { "token_sha256", NULL };
static const char *const pull_keys[] = { "host", "url", "key", "known_hosts", "command", NULL };

static void check_file(const char *path, const char *key, const char *file,
		       struct hr_errs *errs)
{
	char p[512];

	if (file != NULL && access(file, R_OK) != 0) {
		hr_cfg_path(p, sizeof(p), path, key);
		hr_errs_add(errs, p, "cannot read %s", file);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int central_hex32(const char *s, unsigned char out[32])
{
	size_t i;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int central_listen_parse(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
			 unsigned short *port, struct hr_err *err)
{
	char host[256];
	const char *colon, *hs, *he;
	struct addrinfo hints, *res = NULL;
	unsigned long p = 0;
	const char *c;
	int rc;

	if (listen[0] == '[') {
		hs = listen + 1;
		he = strchr(hs, ']');
		if (he == NULL || he[1] != ':')
			return hr_err_set(err, "\"%s\": expected [IPV6]:PORT", listen);
		colon = he + 1;
	} else {
		hs = listen;
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return hr_err_set(err, "\"%s\": expected HOST:PORT", listen);
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)) != NULL)
			return hr_err_set(err, "\"%s\": an IPv6 address goes in brackets: [ADDR]:PORT", listen);
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host))
		return hr_err_set(err, "\"%s\": expected HOST:PORT", listen);
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	for (c = colon + 1; *c; c++) {
		if (*c < '0' || *c > '9' || p > 65535)
			return hr_err_set(err, "\"%s\": bad port", listen);
		p = p * 10 + (unsigned long)(*c - '0');
	}
	if (colon[1] == '\0' || p == 0 || p > 65535)
		return hr_err_set(err, "\"%s\": port must be 1-65535", listen);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || res == NULL)
		return hr_err_set(err, "\"%s\": cannot resolve %s: %s", listen, host,
				  rc ? gai_strerror(rc) : "no address");
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return hr_err_set(err, "\"%s\": address too long", listen);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	*port = (unsigned short)p;
	freeaddrinfo(res);
	return 0;
}

static void parse_hosts(const cJSON *obj, struct central_config *cfg, struct hr_errs *errs)
{
	const cJSON *h;

	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, "hosts", "expected an object {\"HOST\": {\"token_sha256\": \"HEX\"}}");
		return;
	}
	cfg->hosts = calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*cfg->hosts));
	if (cfg->hosts == NULL) {
		hr_errs_add(errs, "hosts", "out of memory");
		return;
	}
	cJSON_ArrayForEach(h, obj) {
		const char *name = h->string ? h->string : "";
		const char *hex = NULL;
		char p[300];
		char ph[340];

		hr_cfg_path(p, sizeof(p), "hosts", name);
		if (hr_cfg_dup_key(obj, h)) {
			hr_errs_add(errs, p, "duplicate key");
			continue;
		}
		if (!hr_host_valid(name)) {
			hr_errs_add(errs, p, "\"%s\" is not a valid host name (letters, digits, '-', '.'; at most 253)", name);
			continue;
		}
		if (!cJSON_IsObject(h)) {
			hr_errs_add(errs, p, "expected an object {\"token_sha256\": \"HEX\"}");
			continue;
		}
		hr_cfg_check_keys(h, p, host_keys, errs);
		if (hr_cfg_string(h, "token_sha256", p, &hex, errs) == 0) {
			hr_errs_add(errs, p, "missing \"token_sha256\"");
			continue;
		}
		if (hex == NULL)
			continue;
		hr_cfg_path(ph, sizeof(ph), p, "token_sha256");
		if (central_hex32(hex, cfg->hosts[cfg->nhosts].token_sha256) < 0) {
			hr_errs_add(errs, ph, "expected 64 hex digits (the SHA-256 of the token; see `headroom token new`)");
			continue;
		}
		hr_strlcpy(cfg->hosts[cfg->nhosts].name, name, HR_HOST_MAX);
		cfg->nhosts++;
	}
}

static void parse_tls(const cJSON *obj, struct central_config *cfg, struct hr_errs *errs)
{
	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, "tls", "expected an object {\"cert\": ..., \"key\": ...}");
		return;
	}
	hr_cfg_check_keys(obj, "tls", tls_keys, errs);
	if (hr_cfg_string(obj, "cert", "tls", &cfg->tls_cert, errs) == 0)
		hr_errs_add(errs, "tls", "missing \"cert\"");
	if (hr_cfg_string(obj, "key", "tls", &cfg->tls_key, errs) == 0)
		hr_errs_add(errs, "tls", "missing \"key\"");
	hr_cfg_string(obj, "client_ca", "tls", &cfg->tls_client_ca, errs);
	check_file("tls", "cert", cfg->tls_cert, errs);
	check_file("tls", "key", cfg->tls_key, errs);
	check_file("tls", "client_ca", cfg->tls_client_ca, errs);
}

/* "pull": [{"host", "url": "ssh://USER@HOST[:PORT]", "key", "known_hosts"}],
 * checked for shape; the puller itself is not built yet. */
static void parse_pull(const cJSON *arr, struct central_config *cfg, struct hr_errs *errs)
{
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, "pull", "expected an array of {\"host\", \"url\", \"key\", \"known_hosts\"}");
		return;
	}
	cJSON_ArrayForEach(it, arr) {
		const char *s;
		const char **argv = NULL;
		size_t n;
		char p[64], pk[96];

		hr_cfg_index(p, sizeof(p), "pull", i++);
		cfg->npull++;
		if (!cJSON_IsObject(it)) {
			hr_errs_add(errs, p, "expected an object");
			continue;
		}
		hr_cfg_check_keys(it, p, pull_keys, errs);
		if (hr_cfg_string(it, "host", p, &s, errs) == 0)
			hr_errs_add(errs, p, "missing \"host\"");
		else if (s != NULL && !hr_host_valid(s)) {
			hr_cfg_path(pk, sizeof(pk), p, "host");
			hr_errs_add(errs, pk, "\"%s\" is not a valid host name", s);
		}
		if (hr_cfg_string(it, "url", p, &s, errs) == 0)
			hr_errs_add(errs, p, "missing \"url\"");
		else if (s != NULL && strncmp(s, "ssh://", 6) != 0) {
			hr_cfg_path(pk, sizeof(pk), p, "url");
			hr_errs_add(errs, pk, "expected ssh://USER@HOST[:PORT]");
		}
		if (hr_cfg_string(it, "key", p, &s, errs) == 0)
			hr_errs_add(errs, p, "missing \"key\"");
		if (hr_cfg_string(it, "known_hosts", p, &s, errs) == 0)
			hr_errs_add(errs, p, "missing \"known_hosts\"");
		if (hr_cfg_strings(it, "command", p, &argv, &n, errs) == 1)
			free(argv);
	}
}

/* "notify": [{"type": ..., ...}]: each notifier's own keys are its module's
 * to check once notifiers exist; here only the shape. */
static void parse_notify(const cJSON *arr, struct central_config *cfg, struct hr_errs *errs)
{
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, "notify", "expected an array of {\"type\": ...}");
		return;
	}
	cJSON_ArrayForEach(it, arr) {
		const char *s;
		char p[64];

		hr_cfg_index(p, sizeof(p), "notify", i++);
		cfg->nnotify++;
		if (!cJSON_IsObject(it)) {
			hr_errs_add(errs, p, "expected an object");
			continue;
		}
		if (hr_cfg_string(it, "type", p, &s, errs) == 0)
			hr_errs_add(errs, p, "missing \"type\"");
	}
}

static int config_build(cJSON *doc, struct central_config *cfg, struct hr_errs *errs)
{
	const cJSON *it;
	double d;
	int b;

	memset(cfg, 0, sizeof(*cfg));
	cfg->doc = doc;
	cfg->listen = "0.0.0.0:8443";
	cfg->data_dir = CENTRAL_DATA_DIR;
	cfg->max_body_bytes = CENTRAL_MAX_BODY_DEFAULT;
	if (!cJSON_IsObject(doc)) {
		hr_errs_add(errs, "", "expected a JSON object");
		return -1;
	}
	hr_cfg_check_keys(doc, "", top_keys, errs);
	if (hr_cfg_string(doc, "listen", "", &cfg->listen, errs) == 1) {
		struct sockaddr_storage ss;
		socklen_t sl;
		unsigned short port;
		struct hr_err err;

		if (central_listen_parse(cfg->listen, &ss, &sl, &port, &err) < 0)
			hr_errs_add(errs, "listen", "%s", err.msg);
	}
	if (hr_cfg_bool(doc, "insecure_http", "", &b, errs) == 1)
		cfg->insecure_http = b;
	it = cJSON_GetObjectItemCaseSensitive(doc, "tls");
	if (it != NULL)
		parse_tls(it, cfg, errs);
	else if (!cfg->insecure_http)
		hr_errs_add(errs, "tls", "missing: give \"tls\": {\"cert\", \"key\"}, or set \"insecure_http\": true");
	hr_cfg_string(doc, "data_dir", "", &cfg->data_dir, errs);
	if (cfg->data_dir[0] != '/')
		hr_errs_add(errs, "data_dir", "must be an absolute path");
	if (hr_cfg_number(doc, "max_body_bytes", "", 1024, 1073741824.0, &d, errs) == 1)
		cfg->max_body_bytes = (size_t)d;
	it = cJSON_GetObjectItemCaseSensitive(doc, "hosts");
	if (it != NULL)
		parse_hosts(it, cfg, errs);
	hr_cfg_string(doc, "rrdcached", "", &cfg->rrdcached, errs);
	hr_cfg_string(doc, "rules", "", &cfg->rules, errs);
	it = cJSON_GetObjectItemCaseSensitive(doc, "pull");
	if (it != NULL)
		parse_pull(it, cfg, errs);
	it = cJSON_GetObjectItemCaseSensitive(doc, "notify");
	if (it != NULL)
		parse_notify(it, cfg, errs);
	return hr_errs_any(errs) ? -1 : 0;
}

/* Builds cfg from doc (NULL: the text could not be had; errs says why). */
static int config_finish(cJSON *doc, struct central_config *cfg, struct hr_errs *errs)
{
	memset(cfg, 0, sizeof(*cfg));
	if (doc == NULL)
		return -1;
	if (config_build(doc, cfg, errs) < 0) {
		central_config_free(cfg);
		return -1;
	}
	return 0;
}

int central_config_parse(const char *text, size_t len, struct central_config *cfg,
		   struct hr_errs *errs)
{
	return config_finish(hr_cfg_parse(text, len, errs), cfg, errs);
}

int central_config_load(const char *file, struct central_config *cfg, struct hr_errs *errs)
{
	return config_finish(hr_cfg_load(file, errs), cfg, errs);
}

void central_config_free(struct central_config *cfg)
{
	cJSON_Delete(cfg->doc);
	free(cfg->hosts);
	memset(cfg, 0, sizeof(*cfg));
}
