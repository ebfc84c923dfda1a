/* watch.c: the analyzer, the alert lifecycle and the notifiers of
 * headroom-central, wired as watch.h says. The ingest threads call the
 * analyzer (watch_observer); its observations go straight to the
 * lifecycle; the lifecycle's notifications go to the delivery queue, whose
 * workers send them. One thread ticks both every second. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "alerts.h"
#include "analyzer.h"
#include "audit.h"
#include "delivery.h"
#include "log.h"
#include "rules.h"
#include "util.h"
#include "watch.h"

#define TICK_MS 1000

struct watch {
	struct rules *rules;
	struct delivery *dl;
	struct alerts *alerts;
	struct analyzer *an;
	pthread_t tick;
	int ticking;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	char db[4096];
	char last_err[HR_ERR_MAX + 64]; /* the tick's last failure, logged once */
};

static void emit(void *ctx, const struct alert_obs *o)
{
	struct watch *w = ctx;
	struct hr_err err;

	if (alerts_observe(w->alerts, o, &err) < 0)
		hr_log_err("alerts: %s %s/%s: %s", o->rule, o->host, o->instance, err.msg);
}

static void on_event(void *ctx, const struct alert_event *ev)
{
	(void)ctx;
	hr_log_info("alert %s: %s %s%s%s (%s): %s", ev->state, ev->rule, ev->host,
		    ev->instance[0] ? "/" : "", ev->instance, alert_severity_name(ev->severity),
		    ev->summary ? ev->summary : "");
}

static void observe(void *ctx, const char *host, const struct hr_sample *s, unsigned step)
{
	struct watch *w = ctx;

	analyzer_observe(w->an, host, s, step);
}

static void stale(void *ctx, const char *host, int is_stale, time_t now)
{
	struct watch *w = ctx;

	analyzer_host_stale(w->an, host, is_stale, (double)now);
}

/* A failure of the tick that repeats every second is logged when it
 * first happens and when it changes or clears. */
static void tick_report(struct watch *w, const char *msg)
{
	if (msg == NULL) {
		if (w->last_err[0] != '\0')
			hr_log_info("alerting: working again");
		w->last_err[0] = '\0';
		return;
	}
	if (strcmp(msg, w->last_err) != 0)
		hr_log_err("alerting: %s", msg);
	hr_strlcpy(w->last_err, msg, sizeof(w->last_err));
}

static void *tick_main(void *arg)
{
	struct watch *w = arg;
	struct timespec ts;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct hr_err err;
		double now;
		char msg[HR_ERR_MAX + 64] = "";

		pthread_mutex_unlock(&w->lock);
		now = hr_now_wall();
		if (alerts_tick(w->alerts, now, &err) < 0)
			snprintf(msg, sizeof(msg), "alert lifecycle: %s", err.msg);
		if (analyzer_tick(w->an, now) < 0 && msg[0] == '\0')
			hr_strlcpy(msg, "analyzer: saving its state failed (logged above)",
				   sizeof(msg));
		tick_report(w, msg[0] ? msg : NULL);
		pthread_mutex_lock(&w->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (!w->stop)
			pthread_cond_timedwait(&w->wake, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static struct rules *load_rules(const struct central_config *cfg, struct hr_err *err)
{
	struct hr_errs errs;
	struct rules *rs;

	if (cfg->rules == NULL) {
		rs = rules_defaults(err);
		if (rs != NULL)
			hr_log_info("alerting: the default rules (no \"rules\" file)");
		return rs;
	}
	hr_errs_init(&errs);
	rs = rules_load(cfg->rules, &errs);
	if (rs == NULL)
		hr_err_set(err, "%s: %s", cfg->rules,
			   errs.count > 0 ? errs.items[0] : "cannot load the rules");
	else
		hr_log_info("alerting: rules from %s", cfg->rules);
	hr_errs_free(&errs);
	return rs;
}

struct watch *watch_start(const struct central_config *cfg, struct hr_err *err)
{
	struct alerts_params ap;
	struct alerts_notifier n = { delivery_send, NULL };
	struct hr_errs errs;
	struct watch *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		hr_err_set(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (mkdir(cfg->data_dir, 0750) < 0 && errno != EEXIST) {
		hr_err_errno(err, errno, "%s", cfg->data_dir);
		goto fail;
	}
	if ((size_t)snprintf(w->db, sizeof(w->db), "%s/headroom.db", cfg->data_dir) >=
	    sizeof(w->db)) {
		hr_err_set(err, "%s: data_dir too long", cfg->data_dir);
		goto fail;
	}
	w->rules = load_rules(cfg, err);
	if (w->rules == NULL)
		goto fail;
	/* Opened before any thread of ours: it initialises libcurl. */
	w->dl = delivery_open(w->db, cfg->notify, err);
	if (w->dl == NULL)
		goto fail;
	n.ctx = w->dl;
	alerts_params_default(&ap);
	hr_errs_init(&errs);
	if (cfg->alerts != NULL && alerts_params_parse(cfg->alerts, "alerts", &ap, &errs) < 0) {
		hr_err_set(err, "%s", errs.count > 0 ? errs.items[0] : "bad \"alerts\"");
		hr_errs_free(&errs);
		goto fail;
	}
	hr_errs_free(&errs);
	w->alerts = alerts_open(w->db, &ap, &n, err);
	if (w->alerts == NULL)
		goto fail;
	alerts_set_event_hook(w->alerts, on_event, w);
	w->an = analyzer_new(w->rules, w->db, emit, w, err);
	if (w->an == NULL)
		goto fail;
	if (delivery_start(w->dl, err) < 0)
		goto fail;
	if (pthread_create(&w->tick, NULL, tick_main, w) != 0) {
		hr_err_set(err, "cannot start the alerting thread");
		goto fail;
	}
	w->ticking = 1;
	if (cfg->nnotify == 0)
		hr_log_warnx("config: no \"notify\": alerts are recorded and shown, nobody is notified");
	return w;
fail:
	watch_stop(w);
	return NULL;
}

void watch_observer(struct watch *w, struct ingest_observer *obs)
{
	obs->observe = observe;
	obs->stale = stale;
	obs->ctx = w;
}

struct alerts *watch_alerts(struct watch *w)
{
	return w->alerts;
}

struct analyzer *watch_analyzer(struct watch *w)
{
	return w->an;
}

const struct rules *watch_rules(struct watch *w)
{
	return w->rules;
}

void watch_set_host_count(struct watch *w, int n)
{
	alerts_set_host_count(w->alerts, n);
}

void watch_audit_config(struct watch *w, const char *action, const char *file,
			const char *what)
{
	unsigned char sum[32];
	char detail[512], hex[65];
	struct hr_err err;
	sqlite3 *db = NULL;
	char *text = NULL;
	size_t len, i;

	if (hr_read_file(NULL, file, &text, &len, HR_FILE_CAP, &err) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, text, len, sum) < 0) {
		hr_strlcpy(hex, "unreadable", sizeof(hex));
	} else {
		for (i = 0; i < sizeof(sum); i++)
			snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	}
	free(text);
	snprintf(detail, sizeof(detail), "sha256 %s%s%s", hex, what ? "; " : "", what ? what : "");
	if (sqlite3_open_v2(w->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		hr_log_err("audit: %s: %s", w->db, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return;
	}
	sqlite3_busy_timeout(db, 5000);
	if (audit_init(db, &err) < 0 ||
	    audit_log(db, hr_now_wall(), AUDIT_SYSTEM, action, file, detail, &err) < 0)
		hr_log_err("audit: %s", err.msg);
	sqlite3_close(db);
}

void watch_stop(struct watch *w)
{
	struct hr_err err;

	if (w == NULL)
		return;
	if (w->ticking) {
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->tick, NULL);
	}
	if (w->an != NULL && analyzer_save(w->an, &err) < 0)
		hr_log_err("analyzer: saving its state: %s", err.msg);
	analyzer_free(w->an);
	alerts_close(w->alerts);
	delivery_close(w->dl);
	rules_free(w->rules);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
