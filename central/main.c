/* main.c: headroom-central. Parses the command line and either validates a
 * config (--check-config) or serves POST /api/v1/samples with libmicrohttpd
 * (epoll, internal thread pool; TLS through GnuTLS) into the fleet's RRD
 * archives. The main thread waits for signals: SIGTERM/SIGINT stop
 * (requests in flight finish), SIGHUP re-reads the hosts and their tokens
 * (a broken config is refused and the old one keeps running); and every
 * STALE_CHECK seconds in between it marks the hosts that stopped sending. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "central_config.h"
#include "front.h"
#include "ingest.h"
#include "log.h"
#include "pull.h"
#include "util.h"
#include "watch.h"
#include "web.h"

#define THREAD_POOL 4
#define STALE_CHECK 10 /* seconds between looks for hosts that stopped sending */
#define CONN_TIMEOUT 30 /* seconds a connection may idle */
#define PEM_CAP (1u << 20)

struct opts {
	const char *config;
	int check, use_syslog, verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom-central [-c FILE] [--syslog] [-v]\n"
		"       headroom-central --check-config [-c FILE]\n"
		"\n"
		"  -c, --config FILE   config file (default %s)\n"
		"      --check-config  validate the config, print every problem, exit 0 or 2\n"
		"      --syslog        log to syslog instead of stderr\n"
		"  -v, --verbose       log debug messages\n"
		"  -V, --version       print the version\n",
		CENTRAL_CONFIG_FILE);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { OPT_CHECK = 256, OPT_SYSLOG };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case OPT_CHECK: o->check = 1; break;
		case OPT_SYSLOG: o->use_syslog = 1; break;
		case 'v': o->verbose = 1; break;
		case 'V': printf("headroom-central %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "headroom-central: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

static const char *config_file(const struct opts *o)
{
	return o->config ? o->config : CENTRAL_CONFIG_FILE;
}

static void print_errs(const char *file, const struct hr_errs *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "%s: %s\n", file, errs->items[i]);
	if (errs->dropped)
		fprintf(stderr, "%s: %zu more problems (out of memory)\n", file, errs->dropped);
}

static void log_errs(const char *what, const struct hr_errs *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		hr_log_err("%s: %s", what, errs->items[i]);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[HR_ERR_MAX];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	hr_log_warnx("http: %s", msg);
}

/* One listening daemon: its address, its TLS files (cert NULL: plain
 * HTTP; client_ca: libmicrohttpd asks every client for a certificate,
 * MHD_OPTION_HTTPS_MEM_TRUST) and its handlers. serve() reads the PEM
 * files into the pem_ fields, which must outlive the daemon (the caller
 * frees them after MHD_stop_daemon). */
struct listener {
	const char *key;    /* its config key, for messages: "listen", "web.listen" */
	const char *listen;
	const char *cert, *tls_key, *client_ca;
	MHD_AccessHandlerCallback access;
	MHD_RequestCompletedCallback completed;
	void *cls;
	char *pem_cert, *pem_key, *pem_ca;
};

static struct MHD_Daemon *serve(struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned short port;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct hr_err err;
	size_t len;

	if (central_listen_parse(l->listen, &ss, &sl, &port, &err) < 0) {
		hr_log_err("config: %s: %s", l->key, err.msg);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (l->cert == NULL)
		return MHD_start_daemon(flags, port, NULL, NULL, l->access, l->cls,
					MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
					MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)THREAD_POOL,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT,
					MHD_OPTION_NOTIFY_COMPLETED, l->completed, l->cls,
					MHD_OPTION_END);
	if (hr_read_file(NULL, l->cert, &l->pem_cert, &len, PEM_CAP, &err) < 0 ||
	    hr_read_file(NULL, l->tls_key, &l->pem_key, &len, PEM_CAP, &err) < 0 ||
	    (l->client_ca != NULL &&
	     hr_read_file(NULL, l->client_ca, &l->pem_ca, &len, PEM_CAP, &err) < 0)) {
		hr_log_err("%s: tls: %s", l->key, err.msg);
		return NULL;
	}
	/* MHD_OPTION_HTTPS_MEM_TRUST comes last: without client_ca an
	 * MHD_OPTION_END takes its place and the list ends there. */
	return MHD_start_daemon(flags | MHD_USE_TLS, port, NULL, NULL, l->access, l->cls,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_HTTPS_MEM_CERT, l->pem_cert,
				MHD_OPTION_HTTPS_MEM_KEY, l->pem_key,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)THREAD_POOL,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT,
				MHD_OPTION_NOTIFY_COMPLETED, l->completed, l->cls,
				l->pem_ca != NULL ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END,
				l->pem_ca, MHD_OPTION_END);
}

static void listener_free(struct listener *l)
{
	free(l->pem_cert);
	free(l->pem_key);
	free(l->pem_ca);
}

/* The main listener: ingest and dashboards (front.h). With tls.client_ca
 * the ingest refuses a request without a client certificate that verifies
 * and names the token's host (see ingest.h). */
static struct MHD_Daemon *start_http(const struct central_config *cfg, struct ingest *in,
				     struct front *fr, struct listener *l)
{
	memset(l, 0, sizeof(*l));
	l->key = "listen";
	l->listen = cfg->listen;
	l->cert = cfg->tls_cert;
	l->tls_key = cfg->tls_key;
	l->client_ca = cfg->tls_client_ca;
	l->access = front_mhd_access;
	l->completed = front_mhd_completed;
	l->cls = fr;
	if (cfg->tls_cert == NULL)
		hr_log_warnx("insecure_http is true: serving plain HTTP on %s; tokens and data "
			     "travel unencrypted", cfg->listen);
	if (cfg->tls_cert != NULL && cfg->tls_client_ca != NULL) {
		ingest_require_client_cert(in, 1);
		hr_log_info("tls: client certificates from %s required, each naming its host",
			    cfg->tls_client_ca);
	}
	return serve(l);
}

/* "web": the dashboards' own listener: plain HTTP (on loopback, or behind
 * a proxy with insecure_http) or TLS with the web.tls pair; no client
 * certificates and no ingest there. */
static struct MHD_Daemon *start_web(const struct central_config *cfg, struct web *web,
				    struct listener *l)
{
	memset(l, 0, sizeof(*l));
	l->key = "web.listen";
	l->listen = cfg->web_listen;
	l->cert = cfg->web_tls_cert;
	l->tls_key = cfg->web_tls_key;
	l->access = web_mhd_access;
	l->completed = web_mhd_completed;
	l->cls = web;
	return serve(l);
}

/* The dashboards for one listener (tls: whether it is TLS, for the
 * cookies' Secure flag). */
static struct web *make_web(const struct central_config *cfg, struct watch *w, int tls,
			    char *db, size_t dbn)
{
	struct page_env env;
	struct hr_err err;
	struct web *web;

	snprintf(db, dbn, "%s/headroom.db", cfg->data_dir);
	memset(&env, 0, sizeof(env));
	env.data_dir = cfg->data_dir;
	env.db_path = db;
	env.alerts = watch_alerts(w);
	env.analyzer = watch_analyzer(w);
	env.rules = watch_rules(w);
	env.tls = tls;
	env.rrdcached = cfg->rrdcached;
	web = web_new(&env, &err);
	if (web == NULL)
		hr_log_err("dashboards: %s", err.msg);
	return web;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int same_json(const cJSON *a, const cJSON *b)
{
	return a == b || (a != NULL && b != NULL && cJSON_Compare(a, b, 1));
}

/* SIGHUP: new hosts and tokens from the config file, and the pull entries
 * (the puller is stopped and started anew). Other keys (listen, TLS,
 * data_dir) need a restart; a change there is logged as ignored. */
static void reload(const struct opts *o, const struct central_config *cur, struct ingest *in,
		   struct pull **pl, struct watch *w)
{
	struct central_config cfg;
	struct hr_errs errs;
	struct hr_err err;
	char what[128];

	hr_log_info("SIGHUP: reloading %s", config_file(o));
	hr_errs_init(&errs);
	if (central_config_load(config_file(o), &cfg, &errs) < 0) {
		log_errs("reload refused", &errs);
		hr_log_err("reload refused: the old hosts and tokens stay");
		snprintf(what, sizeof(what), "%zu problems, the first: %.80s", errs.count,
			 errs.count > 0 ? errs.items[0] : "?");
		watch_audit_config(w, "config.refused", config_file(o), what);
		hr_errs_free(&errs);
		return;
	}
	hr_errs_free(&errs);
	if (strcmp(cfg.listen, cur->listen) != 0 || strcmp(cfg.data_dir, cur->data_dir) != 0 ||
	    cfg.max_body_bytes != cur->max_body_bytes || cfg.insecure_http != cur->insecure_http)
		hr_log_warnx("reload: listen, tls, data_dir, max_body_bytes and insecure_http "
			     "change only with a restart");
	if (!same_str(cfg.rules, cur->rules) || !same_json(cfg.notify, cur->notify) ||
	    !same_json(cfg.alerts, cur->alerts) || !same_str(cfg.web_listen, cur->web_listen) ||
	    !same_str(cfg.rrdcached, cur->rrdcached))
		hr_log_warnx("reload: rules, notify, alerts, web and rrdcached change only with a "
			     "restart");
	if (ingest_set_hosts(in, cfg.hosts, cfg.nhosts, &err) < 0) {
		hr_log_err("reload refused: %s", err.msg);
		watch_audit_config(w, "config.refused", config_file(o), err.msg);
	} else {
		hr_log_info("reloaded: %zu hosts", cfg.nhosts);
		snprintf(what, sizeof(what), "%zu hosts, %zu pulled", cfg.nhosts, cfg.npull);
		watch_audit_config(w, "config.reload", config_file(o), what);
	}
	pull_stop(*pl);
	*pl = pull_start(cfg.pull, cfg.npull, in, &err);
	if (*pl == NULL)
		hr_log_err("reload: nothing is pulled: %s", err.msg);
	central_config_free(&cfg);
}

static int run_daemon(const struct opts *o)
{
	struct central_config cfg;
	struct hr_errs errs;
	struct hr_err err;
	struct ingest *in = NULL;
	struct MHD_Daemon *d = NULL;
	struct pull *pl = NULL;
	struct watch *w = NULL;
	struct ingest_observer obs;
	struct front fr = { NULL, NULL };
	struct web *web2 = NULL;
	struct MHD_Daemon *d2 = NULL;
	char db[4096];
	struct listener lmain, lweb;
	char what[128];
	sigset_t set;
	time_t last_check = 0;
	int sig, rc = 1;

	memset(&lmain, 0, sizeof(lmain));
	memset(&lweb, 0, sizeof(lweb));
	hr_errs_init(&errs);
	if (central_config_load(config_file(o), &cfg, &errs) < 0) {
		log_errs("config", &errs);
		hr_errs_free(&errs);
		return 2;
	}
	hr_errs_free(&errs);
	if (cfg.nhosts == 0)
		hr_log_warnx("config: no \"hosts\": every request is refused (401) until one is added");
	in = ingest_new(cfg.data_dir, cfg.max_body_bytes, &err);
	if (in == NULL || ingest_set_hosts(in, cfg.hosts, cfg.nhosts, &err) < 0 ||
	    (cfg.rrdcached != NULL && ingest_set_rrdcached(in, cfg.rrdcached, &err) < 0)) {
		hr_log_err("%s", err.msg);
		goto out;
	}
	/* Before any thread (MHD's, the puller's): it initialises libcurl. */
	w = watch_start(&cfg, &err);
	if (w == NULL) {
		hr_log_err("alerting: %s", err.msg);
		goto out;
	}
	watch_set_host_count(w, (int)(cfg.nhosts + cfg.npull));
	snprintf(what, sizeof(what), "%zu hosts, %zu pulled", cfg.nhosts, cfg.npull);
	watch_audit_config(w, "config.load", config_file(o), what);
	watch_observer(w, &obs);
	ingest_set_observer(in, &obs);
	ingest_set_since(in, time(NULL));
	if (cfg.rrdcached != NULL)
		hr_log_info("writing the archives through rrdcached at %s (files in its base folder)",
			    cfg.rrdcached);
	/* Blocked before MHD starts its threads, so only sigwait() sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fr.in = in;
	fr.web = make_web(&cfg, w, cfg.tls_cert != NULL, db, sizeof(db));
	if (fr.web == NULL)
		goto out;
	d = start_http(&cfg, in, &fr, &lmain);
	if (d == NULL) {
		hr_log_err("cannot serve on %s", cfg.listen);
		goto out;
	}
	if (cfg.web_listen != NULL) {
		web2 = make_web(&cfg, w, cfg.web_tls_cert != NULL, db, sizeof(db));
		if (web2 == NULL)
			goto out;
		d2 = start_web(&cfg, web2, &lweb);
		if (d2 == NULL) {
			hr_log_err("cannot serve the dashboards on %s", cfg.web_listen);
			goto out;
		}
		hr_log_info("dashboards also on %s://%s", cfg.web_tls_cert ? "https" : "http",
			    cfg.web_listen);
	}
	hr_log_info("started: %s on %s, %zu hosts, data in %s",
		    cfg.tls_cert ? "https" : "http", cfg.listen, cfg.nhosts, cfg.data_dir);
	pl = pull_start(cfg.pull, cfg.npull, in, &err);
	if (pl == NULL) {
		hr_log_err("%s", err.msg);
		goto out;
	}
	for (;;) {
		/* The main thread also marks stale hosts, between signals. */
		struct timespec ts = { STALE_CHECK, 0 };
		time_t now = time(NULL);

		if (now - last_check >= STALE_CHECK || now < last_check) {
			ingest_check_stale(in, now);
			last_check = now;
		}
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig < 0)
			continue; /* EAGAIN: time to look again; EINTR */
		if (sig == SIGHUP) {
			reload(o, &cfg, in, &pl, w);
			continue;
		}
		hr_log_info("signal %d: stopping", sig);
		break;
	}
	rc = 0;
out:
	pull_stop(pl);
	MHD_stop_daemon(d2);
	MHD_stop_daemon(d);
	web_free(web2);
	web_free(fr.web);
	/* Nothing feeds the analyzer now: its state is saved last. */
	watch_stop(w);
	ingest_destroy(in);
	central_config_free(&cfg);
	listener_free(&lmain);
	listener_free(&lweb);
	return rc;
}

int main(int argc, char **argv)
{
	struct central_config cfg;
	struct hr_errs errs;
	struct opts o;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	hr_log_init("headroom-central", o.use_syslog, o.verbose ? HR_LOG_DEBUG : HR_LOG_INFO);
	if (o.check) {
		hr_errs_init(&errs);
		rc = central_config_load(config_file(&o), &cfg, &errs);
		if (rc < 0)
			print_errs(config_file(&o), &errs);
		else
			central_config_free(&cfg);
		hr_errs_free(&errs);
		return rc < 0 ? 2 : 0;
	}
	return run_daemon(&o);
}
