/* central_config.c: parsing and validating the central's JSON config (see
 * central_config.h). Every problem is reported with its JSON path, so that
 * --check-config lists them all at once. */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "central_config.h"
#include "alerts.h"
#include "cfg.h"
#include "notify.h"
#include "rrdcached.h"
#include "rules.h"
#include "util.h"

static const char *const top_keys[] = {
	"listen", "tls", "insecure_http", "data_dir", "max_body_bytes", "hosts",
	"rrdcached", "pull", "rules", "notify", "alerts", "web", NULL,
};
static const char *const web_keys[] = { "listen", "tls", "insecure_http", NULL };
static const char *const tls_keys[] = { "cert", "key", "client_ca", NULL };
static const char *const host_keys[] = { "token_sha256", NULL };
static const char *const pull_keys[] = {
	"host", "url", "key", "known_hosts", "command", "interval", "timeout", NULL,
};

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

int central_pull_url(const char *url, char *user, size_t nu, char *addr, size_t na,
		     unsigned short *port, struct hr_err *err)
{
	const char *u, *at, *hs, *he, *c;
	unsigned long p = 0;
	size_t len;

	if (strncmp(url, "ssh://", 6) != 0)
		return hr_err_set(err, "expected ssh://USER@HOST[:PORT]");
	u = url + 6;
	at = strchr(u, '@');
	if (at == NULL || at == u)
		return hr_err_set(err, "no user: expected ssh://USER@HOST[:PORT]");
	/* A user name as useradd(8) takes it; anything else (':', '/', '@',
	 * white space) is a typo or an attempt to smuggle options. */
	for (c = u; c < at; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			return hr_err_set(err, "bad user name (letters, digits, '_', '-', '.')");
	if (u[0] == '-')
		return hr_err_set(err, "bad user name: starts with '-'");
	if ((size_t)(at - u) >= nu)
		return hr_err_set(err, "user name too long");
	memcpy(user, u, (size_t)(at - u));
	user[at - u] = '\0';
	hs = at + 1;
	if (*hs == '[') {
		struct in6_addr a6;

		hs++;
		he = strchr(hs, ']');
		if (he == NULL)
			return hr_err_set(err, "no ']' after the IPv6 address");
		c = he + 1;
		len = (size_t)(he - hs);
		if (len == 0 || len >= na)
			return hr_err_set(err, "bad IPv6 address");
		memcpy(addr, hs, len);
		addr[len] = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1)
			return hr_err_set(err, "\"%s\" is not an IPv6 address", addr);
	} else {
		if (strchr(hs, ':') != strrchr(hs, ':'))
			return hr_err_set(err, "an IPv6 address goes in brackets: ssh://USER@[ADDR]:PORT");
		he = hs + strcspn(hs, ":/");
		c = he;
		len = (size_t)(he - hs);
		if (len == 0)
			return hr_err_set(err, "no host: expected ssh://USER@HOST[:PORT]");
		if (len >= na || len >= HR_HOST_MAX)
			return hr_err_set(err, "host too long");
		memcpy(addr, hs, len);
		addr[len] = '\0';
		/* Names and IPv4 addresses alike are letters, digits, '-', '.'. */
		if (!hr_host_valid(addr))
			return hr_err_set(err, "\"%s\" is not a host name or address (an IPv6 address goes in brackets)", addr);
	}
	*port = 22;
	if (*c == '\0')
		return 0;
	if (*c != ':')
		return hr_err_set(err, "unexpected \"%s\" after the host (no path)", c);
	for (c++; *c; c++) {
		if (*c < '0' || *c > '9' || p > 65535)
			return hr_err_set(err, "bad port (1-65535)");
		p = p * 10 + (unsigned long)(*c - '0');
	}
	if (p == 0 || p > 65535)
		return hr_err_set(err, "bad port (1-65535)");
	*port = (unsigned short)p;
	return 0;
}

static int shell_safe(const char *w)
{
	if (*w == '\0')
		return 0;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') ||
		      (*w >= '0' && *w <= '9') || strchr("_@%+=:,./-", *w) != NULL))
			return 0;
	return 1;
}

char *central_shell_join(const char *const *argv, struct hr_err *err)
{
	size_t i, n = 0;
	const char *c;
	char *out, *o;

	if (argv == NULL || argv[0] == NULL) {
		hr_err_set(err, "empty command");
		return NULL;
	}
	/* Worst case: every byte a ' that becomes '\'' (4), two quotes and a
	 * space per word. */
	for (i = 0; argv[i] != NULL; i++)
		n += 4 * strlen(argv[i]) + 3;
	out = malloc(n + 1);
	if (out == NULL) {
		hr_err_set(err, "out of memory");
		return NULL;
	}
	o = out;
	for (i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			*o++ = ' ';
		if (shell_safe(argv[i])) {
			for (c = argv[i]; *c; c++)
				*o++ = *c;
			continue;
		}
		*o++ = '\'';
		for (c = argv[i]; *c; c++) {
			if (*c == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else {
				*o++ = *c;
			}
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

/* "command": an array of words (quoted here for the remote shell) or one
 * string (a shell command line, taken as written). */
static char *pull_command(const cJSON *it, const char *p, struct hr_errs *errs)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "command");
	const char **argv = NULL;
	struct hr_err err;
	char pk[96];
	char *cmd;
	size_t n;
	int r;

	hr_cfg_path(pk, sizeof(pk), p, "command");
	if (c == NULL)
		cmd = strdup(CENTRAL_PULL_COMMAND);
	else if (cJSON_IsString(c) && c->valuestring != NULL && c->valuestring[0] != '\0')
		cmd = strdup(c->valuestring);
	else if (!cJSON_IsArray(c)) {
		hr_errs_add(errs, pk, "expected an array of strings or a string");
		return NULL;
	} else {
		r = hr_cfg_strings(it, "command", p, &argv, &n, errs);
		if (r < 0)
			return NULL;
		if (n == 0) {
			free(argv);
			hr_errs_add(errs, pk, "expected at least one string");
			return NULL;
		}
		cmd = central_shell_join(argv, &err);
		free(argv);
		if (cmd == NULL) {
			hr_errs_add(errs, pk, "%s", err.msg);
			return NULL;
		}
		return cmd;
	}
	if (cmd == NULL)
		hr_errs_add(errs, pk, "out of memory");
	return cmd;
}

/* Does an entry before it in arr pull host too? */
static int pull_host_dup(const cJSON *arr, const cJSON *it, const char *host)
{
	const cJSON *prev, *h;

	for (prev = arr->child; prev != NULL && prev != it; prev = prev->next) {
		h = cJSON_GetObjectItemCaseSensitive(prev, "host");
		if (cJSON_IsString(h) && h->valuestring != NULL && strcmp(h->valuestring, host) == 0)
			return 1;
	}
	return 0;
}

/* "pull": [{"host", "url": "ssh://USER@HOST[:PORT]", "key", "known_hosts",
 * "command", "interval", "timeout"}]. A host is either pushed or pulled,
 * never both: the two would write the same archives, and the pulled
 * documents' seq (a unix time) would make every pushed batch after it look
 * like a resend. Likewise one entry per host. */
static void parse_pull(const cJSON *arr, struct central_config *cfg, struct hr_errs *errs)
{
	const cJSON *it;
	int i = 0;

	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, "pull", "expected an array of {\"host\", \"url\", \"key\", \"known_hosts\"}");
		return;
	}
	cfg->pull = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*cfg->pull));
	if (cfg->pull == NULL) {
		hr_errs_add(errs, "pull", "out of memory");
		return;
	}
	cJSON_ArrayForEach(it, arr) {
		struct central_pull *e = &cfg->pull[cfg->npull];
		const char *host = NULL, *url = NULL;
		struct hr_err err;
		double d;
		int bad = 0, r;
		size_t j;
		char p[64], pk[96];

		hr_cfg_index(p, sizeof(p), "pull", i++);
		if (!cJSON_IsObject(it)) {
			hr_errs_add(errs, p, "expected an object");
			continue;
		}
		bad |= hr_cfg_check_keys(it, p, pull_keys, errs) > 0;
		hr_cfg_path(pk, sizeof(pk), p, "host");
		r = hr_cfg_string(it, "host", p, &host, errs);
		if (r == 0)
			hr_errs_add(errs, p, "missing \"host\"");
		else if (r == 1 && !hr_host_valid(host))
			hr_errs_add(errs, pk, "\"%s\" is not a valid host name", host);
		if (r == 1 && hr_host_valid(host)) {
			hr_strlcpy(e->host, host, sizeof(e->host));
			for (j = 0; j < cfg->nhosts; j++)
				if (strcmp(cfg->hosts[j].name, host) == 0)
					break;
			if (j < cfg->nhosts) {
				hr_errs_add(errs, pk, "\"%s\" is also in \"hosts\": a host either pushes or is pulled", host);
				bad = 1;
			}
			if (pull_host_dup(arr, it, host)) {
				hr_errs_add(errs, pk, "\"%s\" is pulled by an earlier entry already", host);
				bad = 1;
			}
		} else {
			bad = 1;
		}
		hr_cfg_path(pk, sizeof(pk), p, "url");
		r = hr_cfg_string(it, "url", p, &url, errs);
		if (r == 0)
			hr_errs_add(errs, p, "missing \"url\"");
		if (r != 1)
			bad = 1;
		else if (central_pull_url(url, e->user, sizeof(e->user), e->addr, sizeof(e->addr),
					  &e->port, &err) < 0) {
			hr_errs_add(errs, pk, "%s (\"%s\")", err.msg, url);
			bad = 1;
		}
		r = hr_cfg_string(it, "key", p, &e->key, errs);
		if (r == 0)
			hr_errs_add(errs, p, "missing \"key\"");
		bad |= r != 1;
		r = hr_cfg_string(it, "known_hosts", p, &e->known_hosts, errs);
		if (r == 0)
			hr_errs_add(errs, p, "missing \"known_hosts\"");
		bad |= r != 1;
		check_file(p, "key", e->key, errs);
		check_file(p, "known_hosts", e->known_hosts, errs);
		e->interval = CENTRAL_PULL_INTERVAL;
		r = hr_cfg_duration(it, "interval", p, 1, 86400, &d, errs);
		if (r == 1)
			e->interval = (unsigned)d;
		bad |= r < 0;
		e->timeout = e->interval < CENTRAL_PULL_TIMEOUT ? e->interval : CENTRAL_PULL_TIMEOUT;
		r = hr_cfg_duration(it, "timeout", p, 1, 86400, &d, errs);
		if (r == 1) {
			e->timeout = (unsigned)d;
			if (e->timeout > e->interval) {
				hr_cfg_path(pk, sizeof(pk), p, "timeout");
				hr_errs_add(errs, pk, "%us is longer than the interval (%us)",
					    e->timeout, e->interval);
				bad = 1;
			}
		}
		bad |= r < 0;
		e->command = pull_command(it, p, errs);
		if (e->command == NULL || bad) {
			free(e->command);
			memset(e, 0, sizeof(*e));
			continue;
		}
		cfg->npull++;
	}
}

/* "notify": [{"type": ..., ...}]: checked by the notifiers themselves
 * (notify.h): each entry's type, its keys and values, unique names. */
static void parse_notify(const cJSON *arr, struct central_config *cfg, struct hr_errs *errs)
{
	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, "notify", "expected an array of {\"type\": ...}");
		return;
	}
	cfg->nnotify = (size_t)cJSON_GetArraySize(arr);
	notify_check_config(arr, "notify", errs);
}

/* Loads the rules file as the analyzer will, so that a broken rule stops
 * the start (and shows in --check-config) rather than alerting wrongly;
 * each problem is named by the rules file and its JSON path there. */
static void check_rules(const char *file, struct hr_errs *errs)
{
	struct hr_errs rerrs;
	struct rules *rs;
	size_t i;

	hr_errs_init(&rerrs);
	rs = rules_load(file, &rerrs);
	for (i = 0; i < rerrs.count; i++)
		hr_errs_add(errs, file, "%s", rerrs.items[i]);
	if (rerrs.dropped)
		hr_errs_add(errs, file, "%zu more problems (out of memory)", rerrs.dropped);
	if (rs == NULL && !hr_errs_any(&rerrs))
		hr_errs_add(errs, file, "cannot load the rules");
	rules_free(rs);
	hr_errs_free(&rerrs);
}

/* A loopback address (127.0.0.0/8, ::1, ::ffff:127.x): reachable from this
 * machine only, so plain HTTP there does not cross a network. */
static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return 1;
		return memcmp(a->sin6_addr.s6_addr, v4mapped, 12) == 0 &&
		       a->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/* "web": {"listen": ADDR, "tls": {"cert", "key"}, "insecure_http": bool}:
 * a second listener that serves the dashboards only (no ingest). Without
 * "tls" it serves plain HTTP, which is refused on an address other than
 * loopback unless "insecure_http" is true (a proxy in front terminates
 * TLS, say). */
static void parse_web(const cJSON *obj, struct central_config *cfg, struct hr_errs *errs)
{
	const cJSON *tls;
	int b;

	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, "web", "expected an object {\"listen\": \"127.0.0.1:8080\"}");
		return;
	}
	hr_cfg_check_keys(obj, "web", web_keys, errs);
	if (hr_cfg_bool(obj, "insecure_http", "web", &b, errs) == 1)
		cfg->web_insecure_http = b;
	tls = cJSON_GetObjectItemCaseSensitive(obj, "tls");
	if (tls != NULL) {
		static const char *const keys[] = { "cert", "key", NULL };

		if (!cJSON_IsObject(tls)) {
			hr_errs_add(errs, "web.tls", "expected an object {\"cert\": ..., \"key\": ...}");
		} else {
			hr_cfg_check_keys(tls, "web.tls", keys, errs);
			if (hr_cfg_string(tls, "cert", "web.tls", &cfg->web_tls_cert, errs) == 0)
				hr_errs_add(errs, "web.tls", "missing \"cert\"");
			if (hr_cfg_string(tls, "key", "web.tls", &cfg->web_tls_key, errs) == 0)
				hr_errs_add(errs, "web.tls", "missing \"key\"");
			check_file("web.tls", "cert", cfg->web_tls_cert, errs);
			check_file("web.tls", "key", cfg->web_tls_key, errs);
		}
	}
	if (hr_cfg_string(obj, "listen", "web", &cfg->web_listen, errs) == 0) {
		hr_errs_add(errs, "web", "missing \"listen\"");
	} else if (cfg->web_listen != NULL) {
		struct sockaddr_storage ss;
		socklen_t sl;
		unsigned short port;
		struct hr_err err;

		if (central_listen_parse(cfg->web_listen, &ss, &sl, &port, &err) < 0)
			hr_errs_add(errs, "web.listen", "%s", err.msg);
		else if (tls == NULL && !cfg->web_insecure_http && !is_loopback(&ss))
			hr_errs_add(errs, "web.listen", "plain HTTP on %s, which is not a loopback "
				    "address: give \"tls\", or set \"insecure_http\": true (a "
				    "proxy terminates TLS)", cfg->web_listen);
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
	if (hr_cfg_string(doc, "rrdcached", "", &cfg->rrdcached, errs) == 1) {
		/* The address is parsed as the ingest will; the daemon itself
		 * need not be up to check a config. */
		struct hr_err err;
		struct rrdcached *rc = rrdcached_new(cfg->rrdcached, &err);

		if (rc == NULL)
			hr_errs_add(errs, "rrdcached", "%s", err.msg);
		rrdcached_destroy(rc);
	}
	if (hr_cfg_string(doc, "rules", "", &cfg->rules, errs) == 1)
		check_rules(cfg->rules, errs);
	it = cJSON_GetObjectItemCaseSensitive(doc, "pull");
	if (it != NULL)
		parse_pull(it, cfg, errs);
	it = cJSON_GetObjectItemCaseSensitive(doc, "notify");
	if (it != NULL) {
		cfg->notify = it;
		parse_notify(it, cfg, errs);
	}
	it = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
	if (it != NULL) {
		struct alerts_params ap;

		cfg->alerts = it;
		alerts_params_default(&ap);
		alerts_params_parse(it, "alerts", &ap, errs);
	}
	it = cJSON_GetObjectItemCaseSensitive(doc, "web");
	if (it != NULL)
		parse_web(it, cfg, errs);
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
	size_t i;

	cJSON_Delete(cfg->doc);
	free(cfg->hosts);
	for (i = 0; i < cfg->npull; i++)
		free(cfg->pull[i].command);
	free(cfg->pull);
	memset(cfg, 0, sizeof(*cfg));
}
