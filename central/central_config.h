/* central_config.h: the central's configuration (/etc/headroom/central.json),
 * parsed and validated with a JSON path for every problem. Keys per
 * DESIGN.md; unknown keys are errors. Keys of features not built yet
 * ("rrdcached", "pull", "rules", "notify") are checked for shape only. */
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
	/* later features: present and non-empty (validated for shape only) */
	const char *rrdcached;
	size_t npull, nnotify;
	const char *rules;
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

/* Decodes 64 hex digits (either case) into 32 bytes. 0, or -1 when s is not
 * exactly that. */
int central_hex32(const char *s, unsigned char out[32]);

#endif
