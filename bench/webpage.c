/* webpage.c: the server time of the fleet overview and the capacity page
 * for a fleet of N hosts (default 500), against librrd reading the latest
 * values (rrd_lastupdate_r) of the same hosts' archives in the same run:
 * what a page that read every archive would cost at least. Builds a
 * temporary data folder (registry, archives, alerts, forecasts), prints
 * the times and ratios; asserts nothing (make bench-web). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>
#include <sqlite3.h>

#include "alerts.h"
#include "analyzer.h"
#include "fleet.h"
#include "graph.h"
#include "pages.h"
#include "registry.h"
#include "rrdstore.h"
#include "rules.h"

/* --- stand-ins for web.c (the handlers are measured alone) --- */

struct fake {
	sqlite3 *db;
};

const char *page_arg(const struct page_req *rq, const char *key)
{
	(void)rq;
	(void)key;
	return NULL;
}

sqlite3 *page_db(const struct page_req *rq)
{
	struct fake *f = rq->impl;

	if (f->db == NULL && sqlite3_open(rq->env->db_path, &f->db) != SQLITE_OK) {
		sqlite3_close(f->db);
		f->db = NULL;
	}
	return f->db;
}

int page_error(const struct page_req *rq, struct page_resp *out, int status, const char *msg)
{
	(void)rq;
	out->status = status;
	out->body = strdup(msg);
	out->len = strlen(msg);
	return out->body != NULL ? 0 : -1;
}

/* --- the fleet ----------------------------------------------------------------- */

static const struct {
	const char *probe, *instance, *ds;
} files[] = {
	{ "load", "", "load1" }, { "fs", "/", "used" }, { "fs", "/var", "used" },
	{ "md", "md0", "degraded" }, { "net", "eth0", "carrier" }, { "net", "eth1", "carrier" },
	{ "bond", "bond0", "degraded" }, { "smart", "sda", "healthy" }, { "ups", "ups@localhost", "on_battery" },
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void no_emit(void *ctx, const struct alert_obs *o)
{
	(void)ctx;
	(void)o;
}

static int make_archive(const char *dir, size_t k, time_t now)
{
	char name[256], path[4096], ds[64];
	const char *argv[3];
	time_t t;

	if (rrdstore_filename(name, sizeof(name), files[k].probe, files[k].instance, NULL) < 0)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -1;
	snprintf(ds, sizeof(ds), "DS:%s:GAUGE:120:U:U", files[k].ds);
	argv[0] = ds;
	argv[1] = "RRA:AVERAGE:0.5:1:1440";
	argv[2] = "RRA:MAX:0.5:60:720";
	rrd_clear_error();
	if (rrd_create_r(path, 60, now - 3600, 3, argv) != 0) {
		fprintf(stderr, "webpage: %s: %s\n", path, rrd_get_error());
		return -1;
	}
	for (t = now - 600; t <= now - 60; t += 60) {
		char upd[64];
		const char *u[1] = { upd };

		snprintf(upd, sizeof(upd), "%lld:%d", (long long)t, (int)(t % 7));
		if (rrd_update_r(path, NULL, 1, u) != 0) {
			fprintf(stderr, "webpage: %s: %s\n", path, rrd_get_error());
			return -1;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: webpage [-n HOSTS] [-r RUNS] [-k (keep the folder)]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int nhosts = 500, runs = 20, keep = 0, c, i, r;
	char dir[] = "/tmp/hr-webpage-XXXXXX", db_path[256], path[4096];
	time_t now = time(NULL);
	struct hr_err err;
	struct alerts_params ap;
	struct registry *reg;
	struct rules *rs;
	struct page_env env;
	struct fake fk = { 0 };
	struct page_req rq;
	double t0, t_over = 0, t_cap = 0, t_last = 0, best_over = 1e9, best_cap = 1e9;
	double best_last = 1e9;
	size_t bytes_over = 0, bytes_cap = 0, nfc = 0, nfiles = 0;
	int nalerts = 0;

	while ((c = getopt(argc, argv, "n:r:k")) != -1) {
		switch (c) {
		case 'n': nhosts = (int)strtol(optarg, NULL, 10); break;
		case 'r': runs = (int)strtol(optarg, NULL, 10); break;
		case 'k': keep = 1; break;
		default: usage();
		}
	}
	if (nhosts < 1 || nhosts > 100000 || runs < 1 || runs > 10000)
		usage();
	if (mkdtemp(dir) == NULL) {
		perror("webpage: mkdtemp");
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/headroom.db", dir);
	reg = registry_open(db_path, &err);
	rs = rules_defaults(&err);
	alerts_params_default(&ap);
	memset(&env, 0, sizeof(env));
	env.data_dir = dir;
	env.db_path = db_path;
	env.alerts = alerts_open(db_path, &ap, NULL, &err);
	env.analyzer = rs != NULL ? analyzer_new(rs, NULL, no_emit, NULL, &err) : NULL;
	if (reg == NULL || env.alerts == NULL || env.analyzer == NULL) {
		fprintf(stderr, "webpage: %s\n", err.msg);
		return 1;
	}
	printf("webpage: building %d hosts x %zu archives in %s ...\n", nhosts, NFILES, dir);
	fflush(stdout);
	for (i = 0; i < nhosts; i++) {
		struct hr_sample s[NFILES];
		struct hr_batch b;
		char host[64], hdir[4096];
		size_t k;
		long h;

		snprintf(host, sizeof(host), "host%04d.example.org", i);
		snprintf(hdir, sizeof(hdir), "%s/rrd", dir);
		mkdir(hdir, 0755);
		snprintf(hdir, sizeof(hdir), "%s/rrd/%s", dir, host);
		mkdir(hdir, 0755);
		for (k = 0; k < NFILES; k++) {
			hr_sample_init(&s[k], files[k].probe, files[k].instance);
			s[k].t = now - 60;
			hr_sample_set(&s[k], files[k].ds, 1);
			hr_sample_label(&s[k], "model", "Example 1500");
			if (make_archive(hdir, k, now) < 0)
				return 1;
			nfiles++;
		}
		memset(&b, 0, sizeof(b));
		snprintf(b.host, sizeof(b.host), "%s", host);
		b.seq = 1;
		b.interval = 60;
		b.samples = s;
		b.n = NFILES;
		if (registry_commit(reg, &b, now - 30, &err) < 0) {
			fprintf(stderr, "webpage: %s\n", err.msg);
			return 1;
		}
		/* One host in ten has a firing alert; every host a forecast of its
		 * root file system (two weeks of hourly samples). */
		if (i % 10 == 0) {
			struct alert_obs o;

			alert_obs_init(&o, i % 20 ? "md_degraded" : "bond_degraded", host,
				       i % 20 ? "md" : "bond", i % 20 ? "md0" : "bond0");
			o.active = 1;
			o.severity = i % 20 ? ALERT_CRITICAL : ALERT_WARNING;
			o.t = (double)now - 300;
			snprintf(o.summary, sizeof(o.summary), "%s: degraded", host);
			if (alerts_observe(env.alerts, &o, &err) == 0)
				nalerts++;
		}
		for (h = 14 * 24; h > 0; h--) {
			struct hr_sample fs;

			hr_sample_init(&fs, "fs", "/");
			fs.t = now - 3600 * h;
			hr_sample_set(&fs, "size", 1e11);
			hr_sample_set(&fs, "used", 1e10 + (double)(i % 50) * 1e7 * (double)(14 * 24 - h));
			analyzer_observe(env.analyzer, host, &fs, 3600);
		}
	}
	registry_close(reg);

	memset(&rq, 0, sizeof(rq));
	rq.env = &env;
	rq.method = "GET";
	rq.user = "bench";
	rq.role = ROLE_VIEWER;
	rq.csrf = "x";
	rq.now = (double)now;
	rq.impl = &fk;
	for (r = 0; r < runs + 1; r++) {
		struct page_resp out;
		double d;

		memset(&out, 0, sizeof(out));
		rq.path = "/";
		t0 = mono();
		if (page_overview(&rq, &out) < 0 || out.status != 0)
			return 1;
		d = mono() - t0;
		bytes_over = out.len;
		free(out.body);
		if (r > 0) { /* the first run warms the caches */
			t_over += d;
			best_over = fmin(best_over, d);
		}
		memset(&out, 0, sizeof(out));
		rq.path = "/capacity";
		t0 = mono();
		if (page_capacity(&rq, &out) < 0 || out.status != 0)
			return 1;
		d = mono() - t0;
		bytes_cap = out.len;
		free(out.body);
		if (r > 0) {
			t_cap += d;
			best_cap = fmin(best_cap, d);
		}
		/* librrd: the latest values of every archive of every host. */
		t0 = mono();
		for (i = 0; i < nhosts; i++) {
			size_t k;

			for (k = 0; k < NFILES; k++) {
				char name[256];
				time_t last;
				unsigned long cnt, j;
				char **names, **vals;

				rrdstore_filename(name, sizeof(name), files[k].probe, files[k].instance, NULL);
				snprintf(path, sizeof(path), "%s/rrd/host%04d.example.org/%s", dir, i, name);
				if (rrd_lastupdate_r(path, &last, &cnt, &names, &vals) != 0)
					return 1;
				for (j = 0; j < cnt; j++) {
					rrd_freemem(names[j]);
					rrd_freemem(vals[j]);
				}
				rrd_freemem(names);
				rrd_freemem(vals);
			}
		}
		d = mono() - t0;
		if (r > 0) {
			t_last += d;
			best_last = fmin(best_last, d);
		}
	}
	{
		struct fleet_fc *v;

		if (fleet_forecasts(env.analyzer, &v, &nfc) == 0)
			fleet_fc_free(v, nfc);
	}
	sqlite3_close(fk.db);
	printf("webpage: %d hosts, %zu archives, %d firing alerts, %zu forecasts, %d runs\n",
	       nhosts, nfiles, nalerts, nfc, runs);
	printf("  overview (/)          mean %7.2f ms  best %7.2f ms  (%zu KiB of HTML)\n",
	       1e3 * t_over / runs, 1e3 * best_over, bytes_over / 1024);
	printf("  capacity (/capacity)  mean %7.2f ms  best %7.2f ms  (%zu KiB of HTML)\n",
	       1e3 * t_cap / runs, 1e3 * best_cap, bytes_cap / 1024);
	printf("  librrd rrd_lastupdate_r of the same %zu archives: mean %7.2f ms  best %7.2f ms\n",
	       nfiles, 1e3 * t_last / runs, 1e3 * best_last);
	printf("  ratio overview / lastupdate: %.3f   capacity / lastupdate: %.3f\n",
	       t_over / t_last, t_cap / t_last);
	printf("  target (500 hosts: overview well under 100 ms), %d hosts: %s\n", nhosts,
	       1e3 * t_over / runs < 100 ? "met" : "missed");
	analyzer_free(env.analyzer);
	alerts_close(env.alerts);
	rules_free(rs);
	if (!keep) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "webpage: could not remove %s\n", dir);
	} else {
		printf("  data kept in %s\n", dir);
	}
	return 0;
}
