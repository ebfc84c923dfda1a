/* ingest.h: the central's POST /api/v1/samples. ingest_handle() is the
 * whole decision for one request — token, size, document, host binding,
 * resend, store, registry — without HTTP, so that tests drive it directly;
 * ingest_mhd_access() is the libmicrohttpd access handler around it.
 * A batch is stored once: its seq is checked against the host's last_seq
 * in the registry, and recorded there only after every sample is stored.
 * Nothing is written for a 4xx answer; 503 tells the agent to keep the batch.
 * Every sample must be after its archive's last update and after the
 * batch's earlier samples of the same archive (400 otherwise), except the
 * samples of a batch left half-written, which a resend may repeat. */
#ifndef HR_INGEST_H
#define HR_INGEST_H

#include <stddef.h>
#include <time.h>

#include <microhttpd.h>

#include "central_config.h"
#include "err.h"
#include "sample.h"

#define INGEST_PATH "/api/v1/samples"
#define INGEST_TOKEN_MAX 256 /* longer bearer tokens are refused (401) */

struct ingest;

struct ingest_reply {
	unsigned status;        /* HTTP status */
	char body[HR_ERR_MAX * 2]; /* JSON: {"acked": SEQ} or {"error": "..."} */
};

/* A new ingest writing under DATA_DIR (DATA/rrd/HOST/..., DATA/headroom.db),
 * refusing bodies over max_body bytes. Nothing is opened or created yet:
 * the registry and each host's store are opened at first use, so that a
 * data_dir that fails answers 503 until it works again. Borrows data_dir
 * (copied). NULL with err filled on allocation failure. Caller frees with
 * ingest_destroy(), which accepts NULL. */
struct ingest *ingest_new(const char *data_dir, size_t max_body, struct hr_err *err);
void ingest_destroy(struct ingest *in);

/* Writes the archives through the rrdcached at DAEMON ("unix:/path.sock",
 * "HOST:PORT", ...) instead of librrd files under DATA/rrd: a host's files
 * are HOST/PROBE-INSTANCE.rrd in the daemon's base folder (rrdcached -b
 * BASE -B -R). While the daemon cannot be reached batches get 503. Call
 * before the first request. 0, or -1 (err filled) for a malformed address
 * or out of memory. Borrows daemon (copied). */
int ingest_set_rrdcached(struct ingest *in, const char *daemon, struct hr_err *err);

/* Replaces the hosts and token hashes that are accepted (copied; safe while
 * requests run: SIGHUP reload). 0, or -1 with err filled (old set kept). */
int ingest_set_hosts(struct ingest *in, const struct central_host *hosts, size_t n,
		     struct hr_err *err);

/* The host whose token_sha256 is the SHA-256 of token into host (size n):
 * 0, or -1 when token is NULL, too long or matches no host. Every host's
 * hash is compared, in constant time. */
int ingest_auth(struct ingest *in, const char *token, char *host, size_t n);

/* With on, every request must come with a TLS client certificate that
 * verifies against the daemon's trust (tls.client_ca, which the caller
 * gives libmicrohttpd as MHD_OPTION_HTTPS_MEM_TRUST), is valid now, and
 * names the token's host: a DNS subjectAltName equal to it or, when the
 * certificate has none, its subject CN. Without: 401; naming another host:
 * 403. Call before the daemon starts (not locked). */
void ingest_require_client_cert(struct ingest *in, int on);

/* The largest body accepted, in bytes. */
size_t ingest_max_body(const struct ingest *in);

/* Answers one POST of a sample document: token is the bearer token (NULL:
 * none), body the len bytes received, now the clock for "in the future".
 * 200 {"acked": SEQ} (stored, or a resend of a stored seq); 401 no or
 * unknown token; 413 over the limit; 400 not a valid document (the
 * decoder's message); 403 the token's host is not the document's "host";
 * 503 the store or the registry failed. Borrows everything. */
void ingest_handle(struct ingest *in, const char *token, const char *body, size_t len,
		   time_t now, struct ingest_reply *out);

/* Stores a document pulled from host over SSH (pull.h): ingest_handle()
 * without the token, from the size check on, with the same answers; 403
 * when the document is not host's (not logged here: the puller logs it).
 * interval (seconds) is the pull's: it is the step of the samples, in
 * place of the document's "interval". Borrows everything. */
void ingest_handle_pulled(struct ingest *in, const char *host, unsigned interval,
			  const char *body, size_t len, time_t now, struct ingest_reply *out);

/* Who hears of the stored samples and of hosts going stale: the analyzer
 * (central/watch.h). observe gets each stored sample of a batch, in order,
 * with its step, while the host's lock is held (so one host's samples come
 * in order; other hosts' may come at the same time from other threads);
 * stale gets a host that went stale (1) or reports again (0). Either may
 * be NULL. Set before the daemon starts (not locked). */
struct ingest_observer {
	void (*observe)(void *ctx, const char *host, const struct hr_sample *s, unsigned step);
	void (*stale)(void *ctx, const char *host, int stale, time_t now);
	void *ctx;
};
void ingest_set_observer(struct ingest *in, const struct ingest_observer *obs);

/* The time the central started listening: a host's silence is counted from
 * it at the latest (registry_mark_stale). 0 (the default): from the last
 * batch only. Set before the daemon starts (not locked). */
void ingest_set_since(struct ingest *in, time_t since);

/* A host is stale after this many of its intervals without a stored batch. */
#define INGEST_STALE_INTERVALS 5

/* Marks in the registry the hosts that became stale at now (the clock is
 * the caller's, for tests) and logs "host X is stale: no data for N s" once
 * for each; a stored batch of a stale host logs "host X reports again".
 * Meant to run every few seconds. 0, or -1 when the registry failed
 * (logged once until it works again). */
int ingest_check_stale(struct ingest *in, time_t now);

/* libmicrohttpd access handler and completion callback; cls is the ingest.
 * Pass ingest_mhd_completed as MHD_OPTION_NOTIFY_COMPLETED. */
enum MHD_Result ingest_mhd_access(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls);
void ingest_mhd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			  enum MHD_RequestTerminationCode toe);

#endif
