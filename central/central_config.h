/* central_config.h: the central's configuration (/etc/headroom/central.json),
 * parsed and validated with a JSON path for every problem. Keys per
 * DESIGN.md; unknown keys are errors. "rules" names a rules file, which is
 * loaded and validated (rules.h; its problems are prefixed with its name);
 * "notify" is checked by the notifiers (notify.h); "rrdcached" is parsed
 * as an address (the daemon is not asked). */
#ifndef HR_CENTRAL_CONFIG_H
#define HR_CENTRAL_CONFIG_H

#include <stddef.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "wire.h"

#define CENTRAL_CONFIG_FILE SYSCONFDIR "/headroom/central.json"
#define CENTRAL_DATA_DIR LOCALSTATEDIR "/lib/headroom"
#define CENTRAL_MAX_BODY_DEFAULT (4u << 20)

struct central_host {
	char name[HR_HOST_MAX];
	unsigned char token_sha256[32];
};

/* One "pull" entry: the central fetches HOST's document over SSH (pull.h).
 * Strings are owned by the config; pull_start() copies what it keeps. */
#define CENTRAL_PULL_INTERVAL 60  /* seconds, default */
#define CENTRAL_PULL_TIMEOUT 30   /* seconds, default (at most the interval) */
#define CENTRAL_PULL_COMMAND "headroom-agent --once --json"
struct central_pull {
	char host[HR_HOST_MAX];      /* the document's host, as in DATA/rrd/HOST */
	char user[256];              /* from the url */
	char addr[256];              /* from the url: a name, IPv4 or IPv6 (no brackets) */
	unsigned short port;         /* from the url, 22 when not given */
	const char *key;             /* private key file; borrowed from doc */
	const char *known_hosts;     /* borrowed from doc */
	char *command;               /* owned: the remote command line, quoted */
	unsigned interval, timeout;  /* seconds */
};

struct central_config {
	cJSON *doc;                  /* owned: the parsed document */
	const char *listen;          /* "HOST:PORT", "[V6]:PORT"; borrowed from doc */
	const char *tls_cert;        /* NULL: no TLS (only with insecure_http) */
	const char *tls_key;
	const char *tls_client_ca;
	int insecure_http;
	const char *data_dir;
	size_t max_body_bytes;
	struct central_host *hosts;  /* owned */
	size_t nhosts;
	struct central_pull *pull;   /* owned; npull entries */
	/* later features: present and non-empty (validated for shape only) */
	const char *rrdcached;
	size_t npull, nnotify;
	const char *rules;           /* the rules file: loaded once and valid */
	const cJSON *notify;         /* the "notify" array (borrowed), or NULL */
	const cJSON *alerts;         /* the "alerts" object (borrowed), or NULL */
	const char *web_listen;      /* "web": the dashboards' own listener, or NULL */
	const char *web_tls_cert, *web_tls_key; /* NULL: plain HTTP (loopback) */
	int web_insecure_http;
};

/* Parses and validates text (len bytes) into cfg. Every problem is added to
 * errs; returns 0 when there were none, -1 otherwise (cfg is then freed).
 * On success caller frees with central_config_free(). */
int central_config_parse(const char *text, size_t len, struct central_config *cfg,
			 struct hr_errs *errs);

/* Reads FILE and parses it as above. A missing file is an error. */
int central_config_load(const char *file, struct central_config *cfg, struct hr_errs *errs);

/* Frees what parse allocated; cfg may be zeroed or already freed. */
void central_config_free(struct central_config *cfg);

/* Resolves a listen address "HOST:PORT" or "[V6ADDR]:PORT" into ss (len in
 * *sslen) and the port. -1 with err filled when it is malformed or does not
 * resolve. Borrows listen. */
int central_listen_parse(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
			 unsigned short *port, struct hr_err *err);

/* Splits a pull url "ssh://USER@HOST[:PORT]" (HOST a host name, an IPv4
 * address or "[IPV6]"; PORT 1-65535, default 22; nothing after it) into
 * user (size nu), addr (size na, brackets removed) and port. 0, or -1 with
 * err saying what is wrong. Borrows url. */
int central_pull_url(const char *url, char *user, size_t nu, char *addr, size_t na,
		     unsigned short *port, struct hr_err *err);

/* Joins argv (NULL-terminated, at least one) into one command line for a
 * POSIX shell (the remote account's login shell, as sshd runs it): words of
 * only [A-Za-z0-9_@%+=:,./-] as they are, others in single quotes (a ' as
 * '\''). Returns a new string (caller frees with free()), or NULL with err
 * filled. */
char *central_shell_join(const char *const *argv, struct hr_err *err);

/* Decodes 64 hex digits (either case) into 32 bytes. 0, or -1 when s is not
 * exactly that. */
int central_hex32(const char *s, unsigned char out[32]);

#endif
