/* main.c: headroom-agent. Parses the command line and either validates a
 * config (--check-config), samples once and prints the sample document
 * (--once --json), or runs in the foreground: the scheduler samples the
 * probes; everything one main-loop round collected becomes one batch, which
 * goes into the spool for the pusher (when a central is configured) and then
 * into the local RRD archives.
 * Signals: SIGTERM/SIGINT stop after flushing reads in flight (and giving
 * pushes in flight PUSH_GRACE), SIGHUP reloads the config (a broken new
 * config is refused and the old one keeps running; the pusher is kept when
 * its settings are unchanged). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "agentstats.h"
#include "log.h"
#include "pusher.h"
#include "rrdstore.h"
#include "scheduler.h"
#include "util.h"
#include "wire.h"

#define ONCE_TIMEOUT 15.0   /* seconds --once waits for the slowest probe */
#define STOP_GRACE 5.0      /* seconds SIGTERM waits for reads in flight */
#define PUSH_GRACE 2.0      /* seconds SIGTERM waits for pushes in flight */
#define ROUND_MAX 100000    /* samples per batch: the central's document limit */

struct opts {
	const char *config;   /* -c */
	const char *root;     /* --root */
	const char *only;     /* --only */
	int once, json, check, use_syslog, verbose;
};

/* What the running agent holds; swapped as a whole on reload. */
struct running {
	struct agent_config cfg;
	struct probe_env env;
	struct scheduler *sched;
	struct rrdstore *store;
	char rrd_dir[PATH_MAX];
};

struct agent {
	struct hr_agent_stats stats;
	struct running *run;
	/* one store complaint per probe, so that probes do not reset each
	 * other's "logged once" state */
	struct {
		char probe[HR_PROBE_MAX];
		struct hr_complain c;
	} store_fail[32];
	/* the batch of this main-loop round; each sample's step filled in */
	struct hr_sample *round;
	size_t nround, round_cap;
	struct pusher *push;        /* NULL: no central configured */
	char *push_sig;             /* what push was built from (reload) */
	struct hr_complain spool_fail;
	/* signal thread → main loop */
	pthread_mutex_t lock;
	struct scheduler *wake_target;
	atomic_int stop, reload;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom-agent [-c FILE] [--syslog] [-v]\n"
		"       headroom-agent --once [--json] [-c FILE] [--root DIR] [--only PROBE,...]\n"
		"       headroom-agent --check-config [-c FILE]\n"
		"\n"
		"  -c, --config FILE   config file (default %s)\n"
		"      --once          sample every enabled probe once and print the result\n"
		"      --json          with --once: print the sample document as JSON\n"
		"      --root DIR      read /proc, /sys and /dev under DIR\n"
		"      --only LIST     run only these probes (comma-separated)\n"
		"      --check-config  validate the config, print every problem, exit 0 or 2\n"
		"      --syslog        log to syslog instead of stderr\n"
		"  -v, --verbose       log debug messages\n"
		"  -V, --version       print the version\n",
		AGENT_CONFIG_FILE);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { OPT_ONCE = 256, OPT_JSON, OPT_ROOT, OPT_ONLY, OPT_CHECK, OPT_SYSLOG };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "only", required_argument, NULL, OPT_ONLY },
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
		case OPT_ONCE: o->once = 1; break;
		case OPT_JSON: o->json = 1; break;
		case OPT_ROOT: o->root = optarg; break;
		case OPT_ONLY: o->only = optarg; break;
		case OPT_CHECK: o->check = 1; break;
		case OPT_SYSLOG: o->use_syslog = 1; break;
		case 'v': o->verbose = 1; break;
		case 'V': printf("headroom-agent %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "headroom-agent: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (o->json && !o->once) {
		fprintf(stderr, "headroom-agent: --json goes with --once\n");
		return -1;
	}
	if (o->check && o->once) {
		fprintf(stderr, "headroom-agent: --check-config and --once exclude each other\n");
		return -1;
	}
	if (o->root != NULL && o->root[0] != '/') {
		fprintf(stderr, "headroom-agent: --root needs an absolute path\n");
		return -1;
	}
	return 0;
}

/* Loads the config named by -c, else the default file when it exists, else
 * the built-in defaults. Problems go to errs. */
static int load_config(const struct opts *o, struct agent_config *cfg, struct hr_errs *errs)
{
	if (o->config != NULL)
		return agent_config_load(o->config, cfg, errs);
	if (access(AGENT_CONFIG_FILE, F_OK) == 0)
		return agent_config_load(AGENT_CONFIG_FILE, cfg, errs);
	return agent_config_defaults(cfg, errs);
}

static void print_errs(const char *file, const struct hr_errs *errs)
{
	size_t i;

	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "%s: %s\n", file, errs->items[i]);
	if (errs->dropped)
		fprintf(stderr, "%s: %zu more problems (out of memory)\n", file, errs->dropped);
}

/* Builds everything a config needs to run: probes set up, the store opened.
 * Returns NULL (problems in errs) when anything fails. */
static struct running *running_new(const struct opts *o, struct agent *ag, int for_daemon,
				   struct hr_errs *errs)
{
	struct running *r = calloc(1, sizeof(*r));
	char journal[PATH_MAX];
	struct hr_err err, note;

	if (r == NULL) {
		hr_errs_add(errs, "", "out of memory");
		return NULL;
	}
	if (load_config(o, &r->cfg, errs) < 0) {
		free(r);
		return NULL;
	}
	r->env.root = o->root ? o->root : r->cfg.root;
	r->env.stats = &ag->stats;
	if (for_daemon) {
		if (snprintf(r->rrd_dir, sizeof(r->rrd_dir), "%s/rrd/%s", r->cfg.data_dir,
			     r->cfg.host) >= (int)sizeof(r->rrd_dir)) {
			hr_errs_add(errs, "data_dir", "path too long");
			goto fail;
		}
		r->store = rrdstore_new(r->rrd_dir, &err);
		if (r->store == NULL) {
			hr_errs_add(errs, "data_dir", "%s", err.msg);
			goto fail;
		}
		/* Outside DATA/rrd, which holds archives only; an update the
		 * last run was killed in is rolled back here. */
		if (snprintf(journal, sizeof(journal), "%s/journal/rrd.undo", r->cfg.data_dir) >=
		    (int)sizeof(journal)) {
			hr_errs_add(errs, "data_dir", "path too long");
			goto fail;
		}
		if (rrdstore_set_journal(r->store, journal, &note, &err) < 0) {
			hr_errs_add(errs, "data_dir", "%s", err.msg);
			goto fail;
		}
		if (note.msg[0] != '\0')
			hr_log_warnx("%s", note.msg);
	}
	r->sched = scheduler_new(&r->cfg, &r->env, o->only, errs);
	if (r->sched == NULL)
		goto fail;
	return r;
fail:
	rrdstore_destroy(r->store);
	agent_config_free(&r->cfg);
	free(r);
	return NULL;
}

static struct hr_complain *store_complaint(struct agent *ag, const char *probe)
{
	size_t i, n = sizeof(ag->store_fail) / sizeof(ag->store_fail[0]);

	for (i = 0; i < n; i++) {
		if (ag->store_fail[i].probe[0] == '\0')
			hr_strlcpy(ag->store_fail[i].probe, probe, HR_PROBE_MAX);
		if (strcmp(ag->store_fail[i].probe, probe) == 0)
			return &ag->store_fail[i].c;
	}
	return &ag->store_fail[n - 1].c;
}

/* Writes the samples of one probe's read into the local archives. */
static void store_read(struct agent *ag, struct running *r, const struct hr_sample *samples,
		       size_t n)
{
	struct hr_complain *c = store_complaint(ag, samples[0].probe);
	struct hr_err err;
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++) {
		unsigned st = samples[i].step ? samples[i].step : r->cfg.interval;

		if (rrdstore_write(r->store, &samples[i], st, &err) < 0) {
			failed = 1;
			atomic_fetch_add(&ag->stats.dropped_samples, 1);
			hr_complain(c, "store: probe %s: %s", samples[i].probe, err.msg);
		}
	}
	if (!failed)
		hr_complain_clear(c, "store: probe %s: writing again", samples[0].probe);
}

/* Ends a round: its samples go into the spool as one batch (a batch that
 * cannot be spooled, a full disk say, is logged once and its samples
 * counted as dropped: they still reach the local archives), then into the
 * local archives. */
static void flush_round(struct agent *ag, struct running *r)
{
	struct hr_err err;
	size_t i, j, n = 0;
	time_t last;

	if (ag->nround == 0 || r == NULL || r->store == NULL)
		return;
	atomic_fetch_add(&ag->stats.samples, ag->nround);
	/* After a reload or a restart the scheduler reads the current slot
	 * again, stamped with the time the archives already have: those are
	 * duplicates, which the archives skip and a central would refuse
	 * (with the rest of their batch). They are left out here. */
	for (i = 0; i < ag->nround; i++) {
		if (rrdstore_last(r->store, &ag->round[i], &last, &err) == 0 &&
		    ag->round[i].t <= last)
			continue;
		if (n != i)
			ag->round[n] = ag->round[i];
		n++;
	}
	if (n < ag->nround)
		hr_log_debug("round: %zu samples of slots already archived left out",
			     ag->nround - n);
	ag->nround = n;
	if (n == 0)
		return;
	if (ag->push != NULL) {
		if (pusher_submit(ag->push, r->cfg.host, r->cfg.interval, ag->round, ag->nround,
				  NULL, &err) < 0) {
			atomic_fetch_add(&ag->stats.dropped_samples, ag->nround);
			hr_complain(&ag->spool_fail, "spool: batch of %zu samples not spooled, "
				    "so not pushed (the local archives still get it): %s",
				    ag->nround, err.msg);
		} else {
			hr_complain_clear(&ag->spool_fail, "spool: spooling again");
		}
	}
	/* One probe's read is a run of samples with the same probe name. */
	for (i = 0; i < ag->nround; i = j) {
		for (j = i + 1; j < ag->nround; j++)
			if (strcmp(ag->round[j].probe, ag->round[i].probe) != 0)
				break;
		store_read(ag, r, &ag->round[i], j - i);
	}
	ag->nround = 0;
}

/* Adds one finished read to the round's batch. A sample's step stays 0
 * when it is the document's interval, so that only exec checks say it. */
static void deliver_round(void *ctx, const char *probe, unsigned step,
			  const struct hr_sample *samples, size_t n)
{
	struct agent *ag = ctx;
	size_t i;

	if (ag->nround + n > ROUND_MAX)
		flush_round(ag, ag->run);
	if (ag->nround + n > ag->round_cap) {
		size_t cap = ag->round_cap ? ag->round_cap : 64;
		struct hr_sample *nr;

		while (cap < ag->nround + n)
			cap *= 2;
		nr = realloc(ag->round, cap * sizeof(*nr));
		if (nr == NULL) {
			atomic_fetch_add(&ag->stats.dropped_samples, n);
			hr_log_err("probe %s: out of memory for %zu samples", probe, n);
			return;
		}
		ag->round = nr;
		ag->round_cap = cap;
	}
	for (i = 0; i < n; i++) {
		struct hr_sample *s = &ag->round[ag->nround++];

		*s = samples[i];
		if (s->step == 0)
			s->step = step;
		if (s->step == ag->run->cfg.interval)
			s->step = 0;
	}
}

static void running_destroy(struct running *r, struct agent *ag, double grace)
{
	if (r == NULL)
		return;
	scheduler_destroy(r->sched, grace, r->store ? deliver_round : NULL, ag);
	flush_round(ag, r);
	rrdstore_destroy(r->store);
	agent_config_free(&r->cfg);
	free(r);
}

/* What the pusher is built from, one line per setting: a reload keeps the
 * pusher (and its spool, connections and backoff) when this is unchanged.
 * NULL when no central is configured (or out of memory: then rebuilt). */
static char *push_signature(const struct agent_config *cfg)
{
	size_t i, n = strlen(cfg->data_dir) + 128, off;
	char *sig;

	if (cfg->ncentrals == 0)
		return NULL;
	for (i = 0; i < cfg->ncentrals; i++) {
		const struct agent_central *c = &cfg->centrals[i];

		n += strlen(c->url) + strlen(c->token) + 16;
		n += (c->ca ? strlen(c->ca) : 0) + (c->cert ? strlen(c->cert) : 0) +
		     (c->key ? strlen(c->key) : 0);
	}
	sig = malloc(n);
	if (sig == NULL)
		return NULL;
	off = (size_t)snprintf(sig, n, "%s\n%.0f %d %.3f\n", cfg->data_dir, cfg->spool_max_bytes,
			       cfg->spool_fsync, cfg->push_backoff_max);
	for (i = 0; i < cfg->ncentrals && off < n; i++) {
		const struct agent_central *c = &cfg->centrals[i];

		off += (size_t)snprintf(sig + off, n - off, "%s\n%s\n%s\n%s\n%s\n", c->url,
					c->token, c->ca ? c->ca : "", c->cert ? c->cert : "",
					c->key ? c->key : "");
	}
	return sig;
}

/* Starts the pusher and its spool (DATA/spool/) when cfg names a central. */
static int push_start(struct agent *ag, const struct agent_config *cfg, struct hr_err *err)
{
	struct pusher_opts po;
	char dir[PATH_MAX];
	size_t i;

	if (cfg->ncentrals == 0)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/spool", cfg->data_dir) >= (int)sizeof(dir))
		return hr_err_set(err, "data_dir: path too long");
	memset(&po, 0, sizeof(po));
	po.spool_dir = dir;
	po.centrals = cfg->centrals;
	po.ncentrals = cfg->ncentrals;
	po.spool_max_bytes = (uint64_t)cfg->spool_max_bytes;
	/* The bound drops whole segments: keep them a small part of it. */
	po.segment_bytes = SPOOL_DEFAULT_SEGMENT_BYTES;
	if (po.segment_bytes > po.spool_max_bytes / 8)
		po.segment_bytes = (uint32_t)(po.spool_max_bytes / 8);
	po.fsync = (enum spool_fsync)cfg->spool_fsync;
	po.backoff_max = cfg->push_backoff_max;
	ag->push = pusher_new(&po, &ag->stats, err);
	if (ag->push == NULL)
		return -1;
	ag->push_sig = push_signature(cfg);
	for (i = 0; i < cfg->ncentrals; i++)
		hr_log_info("push: to %s, spool in %s", cfg->centrals[i].url, dir);
	return 0;
}

/* Stops the pusher, giving requests in flight grace seconds; the spool is
 * synced and closed. */
static void push_stop(struct agent *ag, double grace)
{
	pusher_destroy(ag->push, grace);
	ag->push = NULL;
	free(ag->push_sig);
	ag->push_sig = NULL;
}

/* --once: every probe once, printed as JSON or as readable lines. */
struct once_out {
	struct hr_recsink rec;
};

static void deliver_once(void *ctx, const char *probe, unsigned step,
			 const struct hr_sample *samples, size_t n)
{
	struct once_out *out = ctx;
	size_t i;

	for (i = 0; i < n; i++)
		hr_sink_put(&out->rec.sink, &samples[i]);
}

static void print_text(const struct hr_recsink *rec)
{
	size_t i, j;

	for (i = 0; i < rec->count; i++) {
		const struct hr_sample *s = &rec->samples[i];

		printf("%s%s%s", s->probe, s->instance[0] ? " " : "", s->instance);
		for (j = 0; j < s->nvalues; j++)
			printf(" %s=%.15g", s->values[j].name, s->values[j].v);
		for (j = 0; j < s->nlabels; j++)
			printf(" %s=\"%s\"", s->labels[j].name, s->labels[j].value);
		printf("\n");
	}
}

static int run_once(const struct opts *o, struct agent *ag)
{
	struct hr_errs errs;
	struct running *r;
	struct once_out out;
	struct hr_err err;
	char *doc;
	int rc = 0;

	hr_errs_init(&errs);
	r = running_new(o, ag, 0, &errs);
	if (r == NULL) {
		print_errs(o->config ? o->config : "config", &errs);
		hr_errs_free(&errs);
		return 2;
	}
	hr_recsink_init(&out.rec);
	out.rec.max = 1u << 20;
	ag->run = r;
	scheduler_run_once(r->sched, ONCE_TIMEOUT, deliver_once, &out);
	if (o->json) {
		doc = hr_wire_encode(r->cfg.host, (uint64_t)time(NULL), r->cfg.interval,
				     out.rec.samples, out.rec.count, 1, &err);
		if (doc == NULL) {
			hr_log_err("%s", err.msg);
			rc = 1;
		} else {
			printf("%s\n", doc);
			free(doc);
		}
	} else {
		print_text(&out.rec);
	}
	if (fflush(stdout) != 0)
		rc = 1;
	/* A probe stuck in a read keeps its thread; exit() ends it. */
	running_destroy(r, ag, 0);
	hr_recsink_free(&out.rec);
	hr_errs_free(&errs);
	return rc;
}

static int check_config(const struct opts *o, struct agent *ag)
{
	const char *file = o->config ? o->config : AGENT_CONFIG_FILE;
	struct opts co = *o;
	struct hr_errs errs;
	struct running *r;

	co.config = file;
	hr_errs_init(&errs);
	r = running_new(&co, ag, 0, &errs);
	if (r == NULL || hr_errs_any(&errs)) {
		print_errs(file, &errs);
		running_destroy(r, ag, 0);
		hr_errs_free(&errs);
		return 2;
	}
	printf("%s: ok (%zu probes)\n", file, scheduler_count(r->sched));
	running_destroy(r, ag, 0);
	hr_errs_free(&errs);
	return 0;
}

static void *signal_main(void *arg)
{
	struct agent *ag = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			atomic_store(&ag->reload, 1);
		else
			atomic_store(&ag->stop, 1);
		pthread_mutex_lock(&ag->lock);
		if (ag->wake_target != NULL)
			scheduler_wake(ag->wake_target);
		pthread_mutex_unlock(&ag->lock);
		if (sig != SIGHUP)
			return NULL;
	}
}

static void set_wake_target(struct agent *ag, struct scheduler *s)
{
	pthread_mutex_lock(&ag->lock);
	ag->wake_target = s;
	pthread_mutex_unlock(&ag->lock);
}

static void reload(const struct opts *o, struct agent *ag)
{
	struct hr_errs errs;
	struct running *r;
	struct hr_err err;
	char *sig;
	size_t i;

	hr_log_info("SIGHUP: reloading %s", o->config ? o->config : AGENT_CONFIG_FILE);
	hr_errs_init(&errs);
	r = running_new(o, ag, 1, &errs);
	if (r == NULL) {
		for (i = 0; i < errs.count; i++)
			hr_log_err("reload refused: %s", errs.items[i]);
		hr_log_err("reload refused: the old config keeps running");
		hr_errs_free(&errs);
		return;
	}
	hr_errs_free(&errs);
	/* Finish the old reads into the old store, then switch. */
	set_wake_target(ag, NULL);
	running_destroy(ag->run, ag, STOP_GRACE);
	ag->run = r;
	sig = push_signature(&r->cfg);
	if (sig == NULL || ag->push_sig == NULL || strcmp(sig, ag->push_sig) != 0) {
		/* A changed data_dir or list of centrals: the simplest correct
		 * way is a new pusher on the (possibly other) spool. */
		push_stop(ag, PUSH_GRACE);
		if (push_start(ag, &r->cfg, &err) < 0)
			hr_log_err("reload: %s: not pushing to any central until the next reload",
				   err.msg);
	}
	free(sig);
	set_wake_target(ag, r->sched);
	hr_log_info("reloaded: host %s, %zu probes, archives in %s", r->cfg.host,
		    scheduler_count(r->sched), r->rrd_dir);
}

static int run_daemon(const struct opts *o, struct agent *ag)
{
	struct hr_errs errs;
	pthread_t sigthread;
	struct hr_err err;
	size_t i;

	hr_errs_init(&errs);
	ag->run = running_new(o, ag, 1, &errs);
	if (ag->run == NULL) {
		for (i = 0; i < errs.count; i++)
			hr_log_err("config: %s", errs.items[i]);
		hr_errs_free(&errs);
		return 2;
	}
	hr_errs_free(&errs);
	if (push_start(ag, &ag->run->cfg, &err) < 0) {
		hr_log_err("config: %s", err.msg);
		running_destroy(ag->run, ag, 0);
		ag->run = NULL;
		return 2;
	}
	set_wake_target(ag, ag->run->sched);
	if (pthread_create(&sigthread, NULL, signal_main, ag) != 0)
		hr_fatal("cannot start the signal thread");
	hr_log_info("started: host %s, %zu probes, archives in %s", ag->run->cfg.host,
		    scheduler_count(ag->run->sched), ag->run->rrd_dir);

	while (!atomic_load(&ag->stop)) {
		if (atomic_exchange(&ag->reload, 0))
			reload(o, ag);
		/* One round, one batch: whatever finished since the last one. */
		scheduler_collect(ag->run->sched, deliver_round, ag);
		flush_round(ag, ag->run);
		scheduler_tick(ag->run->sched, hr_now_wall());
		if (atomic_load(&ag->stop) || atomic_load(&ag->reload))
			continue;
		scheduler_wait(ag->run->sched, scheduler_next_due(ag->run->sched));
	}
	hr_log_info("stopping: flushing reads in flight");
	set_wake_target(ag, NULL);
	running_destroy(ag->run, ag, STOP_GRACE);
	ag->run = NULL;
	push_stop(ag, PUSH_GRACE);
	free(ag->round);
	ag->round = NULL;
	pthread_join(sigthread, NULL);
	hr_log_info("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	struct agent ag;
	struct opts o;
	sigset_t set;
	int rc;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	/* librrd builds a whole new archive in memory (megabytes) when it
	 * creates one; with glibc's dynamic threshold that block would stay in
	 * the heap for good afterwards. Large blocks go back to the system. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	hr_log_init("headroom-agent", o.use_syslog, o.verbose ? HR_LOG_DEBUG : HR_LOG_INFO);
	memset(&ag, 0, sizeof(ag));
	pthread_mutex_init(&ag.lock, NULL);

	/* Every thread inherits this mask; only the signal thread takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.check)
		rc = check_config(&o, &ag);
	else if (o.once)
		rc = run_once(&o, &ag);
	else
		rc = run_daemon(&o, &ag);
	pthread_mutex_destroy(&ag.lock);
	return rc;
}
