/* fleetsim.c: a fleet of simulated agents posting to a headroom-central, for
 * the load test (tests/integration/fleet_load.sh), the ingest bench
 * (bench/ingest) and the demo. One process, one libcurl multi handle, one
 * connection per host: each host replays its history (--backfill) in time
 * order as batches of K intervals, like an agent emptying its spool, then
 * optionally goes on live (--live), one interval per batch when it is due.
 * Samples come from fleetgen (a function of seed, host and time), tokens
 * from the seed, so `fleetsim --emit-hosts` writes the central's "hosts".
 * 503 and transport errors are retried with the same seq; any other answer
 * but 200 stops the run. A batch's seq is its last interval's time divided
 * by the interval: it grows across runs and a resend keeps it.
 * --demo posts the named hosts of demofleet.h instead (the demo and the
 * dashboards' end-to-end test): history at a 5-minute step, then live
 * every 10 s (--live-interval), each host with its own client certificate
 * when the central asks for one (--client-certs). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "demofleet.h"
#include "fleetgen.h"
#include "util.h"
#include "wire.h"

#define SIM_MAX_HOSTS 100000
#define SIM_MAX_BATCH 1440
#define SIM_RESP_MAX 4096
#define SIM_STATUS_KINDS 16
#define SIM_BACKOFF_MAX 5.0 /* seconds between tries, at most */
#define SIM_REFUSALS_SHOWN 5

struct sim_opts {
	unsigned long n;
	const char *prefix;
	uint64_t seed;
	unsigned mask;
	unsigned interval;
	unsigned live_interval; /* seconds between live samples */
	double backfill;     /* seconds */
	double live;         /* seconds */
	unsigned batch;      /* intervals per document */
	time_t end;          /* last backfilled interval; 0: now */
	const char *url;
	const char *cacert;
	const char *client_certs; /* DIR/agent-HOST.pem and .key */
	unsigned long connections;
	unsigned max_tries;
	int emit_hosts, print, stats;
	int demo;            /* demofleet's hosts and samples */
	const char *expect;
};

struct sim_host {
	unsigned long idx;
	char name[FLEETGEN_PREFIX_MAX + 24];
	struct curl_slist *hdrs;
	CURL *easy;
	time_t next_t;      /* first interval not yet acknowledged */
	time_t last_t;      /* last interval to send (moves on when live) */
	int live_set;       /* last_t moved for --live already */
	/* The batch in flight or waiting for a retry. */
	char *body;
	size_t body_len;
	uint64_t seq;
	time_t batch_last;
	size_t nsamples, nvalues;
	unsigned tries;
	double retry_at;    /* monotonic */
	int busy;
	time_t acked_t;     /* last acknowledged interval, 0: none */
	char resp[SIM_RESP_MAX];
	size_t resp_len;
};

struct sim_stats {
	unsigned long long requests, batches, samples, values;
	unsigned long long retries;
	long status[SIM_STATUS_KINDS]; /* HTTP status of errors, 0: transport */
	unsigned long long count[SIM_STATUS_KINDS];
	size_t nstatus;
	double first, last;            /* monotonic, first request and last answer */
};

struct sim {
	struct sim_opts o;
	time_t anchor;                 /* --demo: the demo's now (the backfill's end) */
	struct sim_host *hosts;
	CURLM *multi;
	struct hr_sample *scratch;     /* batch * FLEETGEN_MAX_SAMPLES */
	struct sim_stats st;
	unsigned long inflight;
	unsigned long refusals;        /* answers that stopped the run */
	int stop;                      /* a refusal: start nothing new */
	int failed;
};

static volatile sig_atomic_t sim_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	sim_interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fleetsim [-n N] [--prefix P] [--seed S] [--probes LIST]\n"
		"                [--interval S] [--backfill DURATION] [--batch K] [--end UNIX]\n"
		"                [--live DURATION] --url URL [--cacert FILE] [--connections C]\n"
		"                [--max-tries T] [--stats] [--expect FILE]\n"
		"       fleetsim --demo [-n N] [--backfill D] [--live D] [--live-interval S]\n"
		"                --url URL [--cacert FILE] [--client-certs DIR]\n"
		"       fleetsim --emit-hosts [-n N] [--prefix P | --demo] [--seed S]\n"
		"       fleetsim --print [options as above, no --url]\n"
		"\n"
		"  -n, --hosts N         simulated hosts (default 10): PREFIX0001 ...\n"
		"      --prefix P        host name prefix (default sim)\n"
		"      --seed S          seed of tokens and samples (default 1)\n"
		"      --probes LIST     load,cpu,mem,fs,net,disk,md,ups,bond or all (default all)\n"
		"      --interval S      seconds between samples (default 60; --demo 300)\n"
		"      --live-interval S seconds between live samples (default: --interval;\n"
		"                        --demo 10)\n"
		"      --backfill D      history to post, ending at --end (default 0: none)\n"
		"      --batch K         intervals per document while backfilling (default 60;\n"
		"                        --demo 144)\n"
		"      --end UNIX        the last backfilled interval (default now, aligned)\n"
		"      --live D          then post each interval when it is due, for D\n"
		"      --url URL         the central's POST /api/v1/samples URL\n"
		"      --cacert FILE     CA certificate(s) to verify the central with\n"
		"      --client-certs DIR  each host's client certificate DIR/agent-HOST.pem\n"
		"                        and key DIR/agent-HOST.key\n"
		"      --demo            the demo fleet (db1 nas1 gw1 mgmt1 web1 app1 web2\n"
		"                        backup1; -n takes the first N), its story told\n"
		"                        relative to --end (default 60 days of backfill)\n"
		"      --connections C   requests in flight at most (default: one per host)\n"
		"      --max-tries T     tries of one batch on 503 or transport errors (default 100)\n"
		"      --stats           print the run's figures as JSON on stdout\n"
		"      --expect FILE     write each host's last acknowledged samples (JSON lines)\n"
		"      --emit-hosts      print the central's \"hosts\" object and exit\n"
		"      --print           print the documents (one per line) instead of posting\n");
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (hr_parse_u64(s, strlen(s), &v) < 0 || v < min || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct sim_opts *o)
{
	enum { O_PREFIX = 256, O_SEED, O_PROBES, O_INTERVAL, O_BACKFILL, O_BATCH, O_END,
	       O_LIVE, O_URL, O_CACERT, O_CONN, O_TRIES, O_STATS, O_EXPECT, O_EMIT, O_PRINT,
	       O_DEMO, O_LIVE_INTERVAL, O_CLIENT_CERTS };
	static const struct option longopts[] = {
		{ "hosts", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "seed", required_argument, NULL, O_SEED },
		{ "probes", required_argument, NULL, O_PROBES },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "backfill", required_argument, NULL, O_BACKFILL },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "end", required_argument, NULL, O_END },
		{ "live", required_argument, NULL, O_LIVE },
		{ "url", required_argument, NULL, O_URL },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "connections", required_argument, NULL, O_CONN },
		{ "max-tries", required_argument, NULL, O_TRIES },
		{ "stats", no_argument, NULL, O_STATS },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "emit-hosts", no_argument, NULL, O_EMIT },
		{ "print", no_argument, NULL, O_PRINT },
		{ "demo", no_argument, NULL, O_DEMO },
		{ "live-interval", required_argument, NULL, O_LIVE_INTERVAL },
		{ "client-certs", required_argument, NULL, O_CLIENT_CERTS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hr_err err;
	unsigned long v;
	uint64_t u;
	int c, n_set = 0, interval_set = 0, batch_set = 0, backfill_set = 0, names_set = 0;

	memset(o, 0, sizeof(*o));
	o->n = 10;
	o->prefix = "sim";
	o->seed = 1;
	o->mask = FLEETGEN_ALL;
	o->interval = 60;
	o->batch = 60;
	o->max_tries = 100;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, 1, SIM_MAX_HOSTS, &o->n) < 0)
				goto bad;
			n_set = 1;
			break;
		case O_PREFIX:
			if (!fleetgen_prefix_valid(optarg))
				goto bad;
			o->prefix = optarg;
			names_set = 1;
			break;
		case O_SEED:
			if (hr_parse_u64(optarg, strlen(optarg), &o->seed) < 0)
				goto bad;
			break;
		case O_PROBES:
			if (fleetgen_parse_probes(optarg, &o->mask, &err) < 0) {
				fprintf(stderr, "fleetsim: --probes: %s\n", err.msg);
				return -1;
			}
			names_set = 1;
			break;
		case O_INTERVAL:
			if (parse_ulong(optarg, 1, 86400, &v) < 0)
				goto bad;
			o->interval = (unsigned)v;
			interval_set = 1;
			break;
		case O_LIVE_INTERVAL:
			if (parse_ulong(optarg, 1, 86400, &v) < 0)
				goto bad;
			o->live_interval = (unsigned)v;
			break;
		case O_BACKFILL:
			if (hr_parse_duration(optarg, &o->backfill) < 0)
				goto bad;
			backfill_set = 1;
			break;
		case O_LIVE:
			if (hr_parse_duration(optarg, &o->live) < 0)
				goto bad;
			break;
		case O_BATCH:
			if (parse_ulong(optarg, 1, SIM_MAX_BATCH, &v) < 0)
				goto bad;
			o->batch = (unsigned)v;
			batch_set = 1;
			break;
		case O_END:
			if (hr_parse_u64(optarg, strlen(optarg), &u) < 0 || u < 946684800 ||
			    u > (uint64_t)INT32_MAX * 2)
				goto bad;
			o->end = (time_t)u;
			break;
		case O_URL: o->url = optarg; break;
		case O_CACERT: o->cacert = optarg; break;
		case O_CLIENT_CERTS: o->client_certs = optarg; break;
		case O_DEMO: o->demo = 1; break;
		case O_CONN:
			if (parse_ulong(optarg, 1, SIM_MAX_HOSTS, &o->connections) < 0)
				goto bad;
			break;
		case O_TRIES:
			if (parse_ulong(optarg, 1, 1000000, &v) < 0)
				goto bad;
			o->max_tries = (unsigned)v;
			break;
		case O_STATS: o->stats = 1; break;
		case O_EXPECT: o->expect = optarg; break;
		case O_EMIT: o->emit_hosts = 1; break;
		case O_PRINT: o->print = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fleetsim: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!o->emit_hosts && !o->print && o->url == NULL) {
		fprintf(stderr, "fleetsim: --url is needed (or --print, --emit-hosts)\n");
		return -1;
	}
	if (o->demo) {
		if (names_set) {
			fprintf(stderr, "fleetsim: --prefix and --probes do not go with --demo "
				"(its hosts have their names and probes)\n");
			return -1;
		}
		if (n_set && o->n > DEMOFLEET_HOSTS) {
			fprintf(stderr, "fleetsim: --demo has %d hosts, not %lu\n", DEMOFLEET_HOSTS,
				o->n);
			return -1;
		}
		if (!n_set)
			o->n = DEMOFLEET_HOSTS;
		if (!interval_set)
			o->interval = 300;
		if (o->live_interval == 0)
			o->live_interval = 10;
		if (!batch_set)
			o->batch = 144;
		if (!backfill_set)
			o->backfill = 60 * 86400.0;
	}
	if (o->live_interval == 0)
		o->live_interval = o->interval;
	if (o->print && o->live > 0) {
		fprintf(stderr, "fleetsim: --print and --live do not go together\n");
		return -1;
	}
	if (o->connections == 0 || o->connections > o->n)
		o->connections = o->n;
	return 0;
bad:
	fprintf(stderr, "fleetsim: %s: invalid value \"%s\"\n", argv[optind - 1], optarg);
	usage(stderr);
	return -1;
}

/* The name of host i: demofleet's, or PREFIX + number. */
static void sim_host_name(const struct sim_opts *o, unsigned long i, char *dst, size_t n)
{
	if (o->demo)
		snprintf(dst, n, "%s", demofleet_host_name(i));
	else
		fleetgen_host_name(dst, n, o->prefix, i);
}

/* The samples of host i at t (room for FLEETGEN_MAX_SAMPLES). */
static size_t sim_samples(const struct sim *sim, unsigned long i, time_t t,
			  struct hr_sample *out)
{
	if (sim->o.demo)
		return demofleet_samples(sim->o.seed, i, sim->anchor, t, out);
	return fleetgen_samples(sim->o.seed, sim->o.mask, i, t, out);
}

static int emit_hosts(const struct sim_opts *o)
{
	char name[FLEETGEN_PREFIX_MAX + 24], hex[FLEETGEN_TOKEN_HEX], sumhex[65];
	unsigned char sum[32];
	unsigned long i;

	printf("{");
	for (i = 0; i < o->n; i++) {
		sim_host_name(o, i, name, sizeof(name));
		if (fleetgen_token(o->seed, name, hex, sum) < 0) {
			fprintf(stderr, "fleetsim: %s: cannot hash the token\n", name);
			return 1;
		}
		hr_hex(sumhex, sum, sizeof(sum));
		printf("%s\n \"%s\": {\"token_sha256\": \"%s\"}", i ? "," : "", name, sumhex);
	}
	printf("\n}\n");
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The document of host h's next batch: intervals next_t .. upto. */
static int build_batch(struct sim *sim, struct sim_host *h, time_t upto)
{
	unsigned step = h->live_set ? sim->o.live_interval : sim->o.interval;
	struct hr_err err;
	size_t n = 0, i;
	time_t t;

	h->nvalues = 0;
	for (t = h->next_t; t <= upto; t += step)
		n += sim_samples(sim, h->idx, t, &sim->scratch[n]);
	for (i = 0; i < n; i++)
		h->nvalues += sim->scratch[i].nvalues;
	h->seq = (uint64_t)upto / step;
	h->batch_last = upto;
	h->nsamples = n;
	h->body = hr_wire_encode(h->name, h->seq, step, sim->scratch, n, 0, &err);
	if (h->body == NULL) {
		fprintf(stderr, "fleetsim: %s: %s\n", h->name, err.msg);
		return -1;
	}
	h->body_len = strlen(h->body);
	h->tries = 0;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sim_host *h = ud;
	size_t n = size * nmemb, room = sizeof(h->resp) - 1 - h->resp_len;

	memcpy(h->resp + h->resp_len, p, n < room ? n : room);
	h->resp_len += n < room ? n : room;
	h->resp[h->resp_len] = '\0';
	return n;
}

static int host_setup(struct sim *sim, struct sim_host *h, unsigned long i, time_t first,
		      time_t end)
{
	char hex[FLEETGEN_TOKEN_HEX], auth[FLEETGEN_TOKEN_HEX + 32];
	char cert[PATH_MAX], key[PATH_MAX];
	struct curl_slist *l;

	h->idx = i;
	sim_host_name(&sim->o, i, h->name, sizeof(h->name));
	h->next_t = first;
	h->last_t = end;
	if (sim->o.print)
		return 0;
	if (fleetgen_token(sim->o.seed, h->name, hex, NULL) < 0) {
		fprintf(stderr, "fleetsim: %s: cannot hash the token\n", h->name);
		return -1;
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", hex);
	h->hdrs = curl_slist_append(NULL, auth);
	l = h->hdrs ? curl_slist_append(h->hdrs, "Content-Type: application/json") : NULL;
	/* No "Expect: 100-continue" round trip before large bodies. */
	l = l ? curl_slist_append(l, "Expect:") : NULL;
	h->easy = curl_easy_init();
	if (l == NULL || h->easy == NULL) {
		fprintf(stderr, "fleetsim: out of memory\n");
		return -1;
	}
	curl_easy_setopt(h->easy, CURLOPT_URL, sim->o.url);
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
	curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->easy, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT, 30L);
	if (sim->o.cacert != NULL)
		curl_easy_setopt(h->easy, CURLOPT_CAINFO, sim->o.cacert);
	if (sim->o.client_certs != NULL) {
		/* A missing file would be a transport error, retried: say it now. */
		snprintf(cert, sizeof(cert), "%s/agent-%s.pem", sim->o.client_certs, h->name);
		snprintf(key, sizeof(key), "%s/agent-%s.key", sim->o.client_certs, h->name);
		if (access(cert, R_OK) < 0 || access(key, R_OK) < 0) {
			fprintf(stderr, "fleetsim: %s: cannot read %s or %s: %s\n", h->name, cert,
				key, strerror(errno));
			return -1;
		}
		curl_easy_setopt(h->easy, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(h->easy, CURLOPT_SSLKEY, key);
	}
	return 0;
}

static void count_error(struct sim_stats *st, long status)
{
	size_t i;

	for (i = 0; i < st->nstatus; i++)
		if (st->status[i] == status)
			break;
	if (i == st->nstatus) {
		if (st->nstatus == SIM_STATUS_KINDS)
			i = SIM_STATUS_KINDS - 1; /* lumped with the last kind */
		else
			st->status[st->nstatus++] = status;
	}
	st->count[i]++;
}

static void batch_done(struct sim_host *h)
{
	free(h->body);
	h->body = NULL;
	h->body_len = 0;
}

static void retry_later(struct sim *sim, struct sim_host *h, const char *why)
{
	double wait = 0.1 * pow(2.0, h->tries < 16 ? h->tries : 16);

	if (h->tries >= sim->o.max_tries) {
		fprintf(stderr, "fleetsim: %s: seq %" PRIu64 ": giving up after %u tries: %s\n",
			h->name, h->seq, h->tries, why);
		sim->stop = sim->failed = 1;
		return;
	}
	sim->st.retries++;
	h->retry_at = hr_now_mono() + (wait < SIM_BACKOFF_MAX ? wait : SIM_BACKOFF_MAX);
}

/* One answer: 200 moves the host on, 503 and transport errors retry the
 * same body later, anything else stops the run. */
static void on_done(struct sim *sim, struct sim_host *h, CURLcode rc)
{
	long status = 0;
	cJSON *doc;
	const cJSON *acked;

	h->busy = 0;
	sim->inflight--;
	sim->st.last = hr_now_mono();
	curl_multi_remove_handle(sim->multi, h->easy);
	if (rc != CURLE_OK) {
		count_error(&sim->st, 0);
		retry_later(sim, h, curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 503) {
		count_error(&sim->st, status);
		retry_later(sim, h, "503");
		return;
	}
	if (status != 200) {
		count_error(&sim->st, status);
		/* The requests in flight still answer, likely alike: the first
		 * few say it, the count says the rest. */
		if (sim->refusals++ < SIM_REFUSALS_SHOWN)
			fprintf(stderr, "fleetsim: %s: seq %" PRIu64 ": HTTP %ld: %s\n", h->name,
				h->seq, status, h->resp);
		sim->stop = sim->failed = 1;
		return;
	}
	doc = cJSON_Parse(h->resp);
	acked = cJSON_GetObjectItemCaseSensitive(doc, "acked");
	if (!cJSON_IsNumber(acked) || acked->valuedouble != (double)h->seq) {
		count_error(&sim->st, status);
		fprintf(stderr, "fleetsim: %s: seq %" PRIu64 ": 200 without {\"acked\": %" PRIu64
			"}: %s\n", h->name, h->seq, h->seq, h->resp);
		sim->stop = sim->failed = 1;
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(doc);
	sim->st.batches++;
	sim->st.samples += h->nsamples;
	sim->st.values += h->nvalues;
	h->acked_t = h->batch_last;
	h->next_t = h->batch_last + (h->live_set ? sim->o.live_interval : sim->o.interval);
	batch_done(h);
}

static int start_request(struct sim *sim, struct sim_host *h)
{
	CURLMcode mc;

	h->resp_len = 0;
	h->resp[0] = '\0';
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->body);
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->body_len);
	mc = curl_multi_add_handle(sim->multi, h->easy);
	if (mc != CURLM_OK) {
		fprintf(stderr, "fleetsim: %s: %s\n", h->name, curl_multi_strerror(mc));
		return -1;
	}
	if (sim->st.requests++ == 0)
		sim->st.first = hr_now_mono();
	h->tries++;
	h->busy = 1;
	sim->inflight++;
	return 0;
}

/* Starts what is due, up to --connections in flight. Returns the seconds
 * until the next thing is due (a retry, a live interval), or -1 when every
 * host is done. */
static double schedule(struct sim *sim)
{
	double now = hr_now_mono(), wake = 3600;
	time_t wall = (time_t)hr_now_wall();
	unsigned long i;
	int pending = 0;

	for (i = 0; i < sim->o.n; i++) {
		struct sim_host *h = &sim->hosts[i];
		time_t due, upto;

		if (h->busy) {
			pending = 1;
			continue;
		}
		if (h->body == NULL && h->next_t > h->last_t && !h->live_set && sim->o.live > 0) {
			/* History sent: live from now on, every live interval
			 * after the last one sent. */
			time_t li = (time_t)sim->o.live_interval;
			time_t from = h->acked_t ? h->acked_t : h->next_t - (time_t)sim->o.interval;

			h->live_set = 1;
			h->next_t = (from / li + 1) * li;
			h->last_t = (time_t)((wall + (time_t)sim->o.live) / li) * li;
		}
		if (sim->stop || (h->body == NULL && h->next_t > h->last_t))
			continue;
		pending = 1;
		if (h->body != NULL) {
			if (h->retry_at > now) {
				if (h->retry_at - now < wake)
					wake = h->retry_at - now;
				continue;
			}
		} else {
			due = wall < h->last_t ? wall : h->last_t;
			if (h->next_t > due) {
				if ((double)(h->next_t - wall) < wake)
					wake = (double)(h->next_t - wall);
				continue;
			}
			upto = h->next_t + (time_t)(sim->o.batch - 1) * sim->o.interval;
			if (h->live_set)
				upto = h->next_t; /* live: one interval a batch */
			if (upto > due)
				upto = due - (due - h->next_t) %
					(h->live_set ? sim->o.live_interval : sim->o.interval);
			if (sim->inflight >= sim->o.connections) {
				wake = 0;
				continue;
			}
			if (build_batch(sim, h, upto) < 0) {
				sim->stop = sim->failed = 1;
				continue;
			}
		}
		if (sim->inflight >= sim->o.connections) {
			wake = 0;
			continue;
		}
		if (start_request(sim, h) < 0) {
			sim->stop = sim->failed = 1;
			continue;
		}
	}
	if (!pending)
		return -1;
	return wake < 0 ? 0 : wake;
}

static int run(struct sim *sim)
{
	for (;;) {
		CURLMsg *msg;
		int running, left, answers = 0;
		double wake;

		if (sim_interrupted && !sim->stop) {
			fprintf(stderr, "fleetsim: interrupted: waiting for the requests in flight\n");
			sim->stop = sim->failed = 1;
		}
		wake = schedule(sim);
		if (wake < 0 && sim->inflight == 0)
			break;
		curl_multi_perform(sim->multi, &running);
		while ((msg = curl_multi_info_read(sim->multi, &left)) != NULL) {
			char *priv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			on_done(sim, (struct sim_host *)(void *)priv, msg->data.result);
			answers++;
		}
		/* An answer may have freed a host or a slot: schedule again
		 * before sleeping. */
		if (answers == 0 && (sim->inflight > 0 || wake > 0)) {
			int ms = sim->inflight > 0 ? 100 : (int)(wake * 1000) + 1;

			if (wake >= 0 && wake * 1000 < ms)
				ms = (int)(wake * 1000) + 1;
			if (wake == 0 && sim->inflight >= sim->o.connections)
				ms = 100; /* waiting for a free slot: an answer wakes us */
			curl_multi_poll(sim->multi, NULL, 0, ms, NULL);
		}
	}
	return sim->failed ? -1 : 0;
}

/* --print: the documents on stdout, one per line, no network. */
static int print_all(struct sim *sim)
{
	unsigned long i;

	for (i = 0; i < sim->o.n; i++) {
		struct sim_host *h = &sim->hosts[i];

		while (h->next_t <= h->last_t) {
			time_t upto = h->next_t + (time_t)(sim->o.batch - 1) * sim->o.interval;

			if (upto > h->last_t)
				upto = h->last_t;
			if (build_batch(sim, h, upto) < 0)
				return -1;
			puts(h->body);
			sim->st.batches++;
			sim->st.samples += h->nsamples;
			sim->st.values += h->nvalues;
			h->acked_t = upto;
			h->next_t = upto + sim->o.interval;
			batch_done(h);
		}
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Each host's samples of its last acknowledged interval, one JSON line a
 * sample: {"host", "probe", "instance", "t", "values": {...}}. */
static int write_expect(struct sim *sim, const char *file)
{
	FILE *f = fopen(file, "w");
	struct hr_sample s[FLEETGEN_MAX_SAMPLES];
	unsigned long i;
	size_t n, k, j;

	if (f == NULL) {
		fprintf(stderr, "fleetsim: %s: %s\n", file, strerror(errno));
		return -1;
	}
	for (i = 0; i < sim->o.n; i++) {
		const struct sim_host *h = &sim->hosts[i];

		if (h->acked_t == 0)
			continue;
		n = sim_samples(sim, h->idx, h->acked_t, s);
		for (k = 0; k < n; k++) {
			fprintf(f, "{\"host\": \"%s\", \"probe\": \"%s\", \"instance\": \"%s\", "
				"\"t\": %lld, \"values\": {", h->name, s[k].probe, s[k].instance,
				(long long)s[k].t);
			for (j = 0; j < s[k].nvalues; j++)
				fprintf(f, "%s\"%s\": %.17g", j ? ", " : "", s[k].values[j].name,
					s[k].values[j].v);
			fprintf(f, "}}\n");
		}
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "fleetsim: %s: %s\n", file, strerror(errno));
		return -1;
	}
	return 0;
}

static void print_stats(const struct sim *sim)
{
	const struct sim_stats *st = &sim->st;
	double el = st->last > st->first ? st->last - st->first : 0;
	size_t i;

	printf("{\"hosts\": %lu, \"interval\": %u, \"batch\": %u, \"requests\": %llu, "
	       "\"retries\": %llu, \"batches\": %llu, \"samples\": %llu, \"values\": %llu, "
	       "\"errors\": {", sim->o.n, sim->o.interval, sim->o.batch, st->requests,
	       st->retries, st->batches, st->samples, st->values);
	for (i = 0; i < st->nstatus; i++) {
		if (st->status[i] == 0)
			printf("%s\"transport\": %llu", i ? ", " : "", st->count[i]);
		else
			printf("%s\"%ld\": %llu", i ? ", " : "", st->status[i], st->count[i]);
	}
	printf("}, \"elapsed_s\": %.3f, \"values_per_s\": %.1f, \"ok\": %s}\n", el,
	       el > 0 ? (double)st->values / el : 0.0, sim->failed ? "false" : "true");
	fflush(stdout);
}

/* One connection per host and the central's as many: lift the soft limit
 * of open files to the hard one. */
static void raise_nofile(unsigned long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct sim sim;
	time_t now, end, first;
	unsigned long i, count;
	int rc = 1;

	memset(&sim, 0, sizeof(sim));
	if (parse_opts(argc, argv, &sim.o) < 0)
		return 2;
	if (sim.o.emit_hosts)
		return emit_hosts(&sim.o);
	now = (time_t)hr_now_wall();
	end = sim.o.end ? sim.o.end : now;
	end -= end % sim.o.interval;
	sim.anchor = end;
	count = (unsigned long)(sim.o.backfill / sim.o.interval);
	/* No backfill: the first live interval is the next one due. */
	first = count > 0 ? end - (time_t)(count - 1) * sim.o.interval : end + sim.o.interval;
	if (count == 0)
		end = first - sim.o.interval;
	sim.hosts = calloc(sim.o.n, sizeof(*sim.hosts));
	sim.scratch = calloc((size_t)sim.o.batch * FLEETGEN_MAX_SAMPLES, sizeof(*sim.scratch));
	if (sim.hosts == NULL || sim.scratch == NULL) {
		fprintf(stderr, "fleetsim: out of memory\n");
		goto out;
	}
	if (!sim.o.print) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			fprintf(stderr, "fleetsim: cannot set libcurl up\n");
			goto out;
		}
		raise_nofile(sim.o.connections);
		sim.multi = curl_multi_init();
		if (sim.multi == NULL) {
			fprintf(stderr, "fleetsim: cannot set libcurl up\n");
			goto out;
		}
		curl_multi_setopt(sim.multi, CURLMOPT_MAXCONNECTS, (long)sim.o.connections);
	}
	for (i = 0; i < sim.o.n; i++)
		if (host_setup(&sim, &sim.hosts[i], i, first, end) < 0)
			goto out;
	if (sim.o.print) {
		rc = print_all(&sim) < 0 ? 1 : 0;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = run(&sim) < 0 ? 1 : 0;
	if (sim.refusals > SIM_REFUSALS_SHOWN)
		fprintf(stderr, "fleetsim: %lu more refusals like these\n",
			sim.refusals - SIM_REFUSALS_SHOWN);
	if (sim.o.expect != NULL && write_expect(&sim, sim.o.expect) < 0)
		rc = 1;
	if (sim.o.stats)
		print_stats(&sim);
out:
	for (i = 0; sim.hosts != NULL && i < sim.o.n; i++) {
		if (sim.hosts[i].easy != NULL) {
			if (sim.hosts[i].busy)
				curl_multi_remove_handle(sim.multi, sim.hosts[i].easy);
			curl_easy_cleanup(sim.hosts[i].easy);
		}
		curl_slist_free_all(sim.hosts[i].hdrs);
		free(sim.hosts[i].body);
	}
	if (sim.multi != NULL) {
		curl_multi_cleanup(sim.multi);
		curl_global_cleanup();
	}
	free(sim.hosts);
	free(sim.scratch);
	return rc;
}
