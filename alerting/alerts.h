/* alerts.h: the alert lifecycle. The analyzer's observations (alert.h)
 * become alerts keyed by rule/host/instance (the dedupe key): pending →
 * firing → resolved, with the rule's "for", flap damping, repeats,
 * per-host grouping of notifications, inhibition, silences and acks, all
 * kept in SQLite (tables alert_*, silence, and audit via audit.h) so that a
 * restart neither loses an alert nor notifies it twice.
 *
 * Notifications: a transition marks its alert "due" in the same transaction
 * that records it; when the host's group has waited group_wait, one
 * transaction turns the due alerts of that host into one outbox row per
 * route (an Alertmanager webhook payload, version 4) and clears the marks.
 * Outbox rows go to the notifier outside the lock, oldest first, and are
 * deleted when it returns 0 (at least once: a failure is retried on the next
 * tick, rows left by a crash go out on the first tick or observation after
 * the next open; a host's rows keep their order).
 *
 * Suppression (recorded, shown in the listing's "status", not notified):
 * - silenced: a silence's matchers all match the alert's labels;
 * - inhibited: a "host_stale" alert (the rule name, by convention the stale
 *   detector's) fires for the same host; or it is a host_stale alert of an
 *   ingest outage (below);
 * - flapping: the key changed state (to firing or to resolved) flap_changes
 *   times within flap_window: one notification says so (annotation
 *   "flapping": "true"), then nothing until the key has had no change for
 *   flap_window; then its current state is sent when it differs from what
 *   the receivers were told;
 * - route "none": recorded only.
 * A resolution is sent whenever the receivers were told the alert fired,
 * silenced or not (it does not page, and it closes incidents); only
 * flapping defers it. Info alerts go to the notifier like the others: the
 * receivers' min_severity decides.
 *
 * Ingest outage: host_stale notifications wait outage_window after firing.
 * When then at least outage_min_hosts hosts, and at least outage_fraction of
 * the hosts (the hosts with a live alert, or the count given with
 * alerts_set_host_count when larger), have a host_stale alert that began
 * firing within outage_window of the newest one, it is the central's own
 * ingest that is out: one alert "central_ingest_outage" (critical, host
 * ALERTS_CENTRAL_HOST) fires instead and every host_stale alert is
 * inhibited while it does. It resolves when fewer than outage_min_hosts
 * hosts are stale; host_stale alerts still firing then are notified.
 *
 * Thread-safe: one lock; callbacks (notifier, event hook) are called
 * without it. Times are unix seconds passed in by the caller. */
#ifndef HR_ALERTS_H
#define HR_ALERTS_H

#include <cjson/cJSON.h>

#include "alert.h"
#include "err.h"

#define ALERTS_STALE_RULE "host_stale"
#define ALERTS_OUTAGE_RULE "central_ingest_outage"
#define ALERTS_CENTRAL_HOST "_central" /* not a valid host name: no clash */

struct alerts_params {
	double group_wait;      /* changes of one host are gathered this long (2 s) */
	double repeat_interval; /* a firing, unacked alert is sent again (4 h) */
	double flap_window;     /* 1 h */
	int flap_changes;       /* changes within flap_window = flapping (6) */
	double resolve_hold;    /* an inactive condition resolves after this
				 * long (0: at once, the rule's hysteresis) */
	double outage_fraction; /* 0.5 */
	int outage_min_hosts;   /* 3 */
	double outage_window;   /* 120 s */
	const char *external_url; /* borrowed; NULL: "" */
};

/* The defaults above. */
void alerts_params_default(struct alerts_params *p);

/* Reads central.json's "alerts" object obj (at JSON path path) into p,
 * which holds the defaults: keys group_wait, repeat_interval, flap_window,
 * resolve_hold, outage_window (durations: seconds or "90s", "4h"),
 * flap_changes, outage_min_hosts (integers), outage_fraction (0-1],
 * external_url (string; borrowed from obj). Every problem is added to errs;
 * 0, or -1 when there was any (p may be partly changed). */
int alerts_params_parse(const cJSON *obj, const char *path, struct alerts_params *p,
			struct hr_errs *errs);

/* Delivers one notification: payload_json is one group (borrowed), severity
 * the highest among its alerts. 0 when taken over; -1 with err: retried. */
struct alerts_notifier {
	int (*send)(void *ctx, const char *route, enum alert_severity severity,
		    const char *payload_json, struct hr_err *err);
	void *ctx;
};

struct alerts;

/* Opens the lifecycle on the SQLite file db_path (created when missing;
 * ":memory:" for a private one), creates its tables and loads the open
 * alerts, flap counters, due marks and silences. p is copied (its
 * external_url borrowed); n is copied, NULL: record only (the outbox is
 * then neither filled nor emptied: a second process such as the CLI can
 * open the central's file). NULL with err on failure. Caller frees with
 * alerts_close. */
struct alerts *alerts_open(const char *db_path, const struct alerts_params *p,
			   const struct alerts_notifier *n, struct hr_err *err);
/* Closes; a NULL a is fine. Undelivered outbox rows stay for the next open. */
void alerts_close(struct alerts *a);

/* Tells the number of hosts the central knows (its registry), for the
 * ingest-outage fraction. */
void alerts_set_host_count(struct alerts *a, int n);

/* Takes one judged sample (borrowed). Cheap when nothing changes: an
 * inactive observation of a key with no open alert is a lookup in memory.
 * 0, or -1 with err when the database failed: the transaction is rolled
 * back; memory may keep the change, and the alert's next write (each write
 * is its whole row) records it. */
int alerts_observe(struct alerts *a, const struct alert_obs *o, struct hr_err *err);

/* Does what time alone does: pending alerts whose "for" has passed fire,
 * resolve holds end, groups whose wait is over are sent, repeats fall due,
 * flapping and silences expire, acks and silences made by other processes
 * are read, the outbox is delivered. Call about once a second. 0 or -1. */
int alerts_tick(struct alerts *a, double now, struct hr_err *err);

/* One state change, for the hook. Strings are borrowed for the call. */
struct alert_event {
	long long id;
	const char *rule, *host, *instance;
	const char *state; /* "pending", "firing", "resolved", "cleared"
			    * (a pending alert whose condition ended) */
	enum alert_severity severity;
	double t, value, eta, eta_early, eta_late;
	const char *summary;
};
/* fn(ctx, ev) is called for every state change, after the change is
 * committed and without the lock. fn NULL: none. */
void alerts_set_event_hook(struct alerts *a, void (*fn)(void *ctx, const struct alert_event *ev),
			   void *ctx);

/* Acknowledges the open (pending or firing) alert ID: by who (non-empty),
 * with comment (may be NULL), at now. An acked alert is not repeated. -1
 * with err when there is no such open alert. Audited. */
int alerts_ack(struct alerts *a, long long id, const char *who, const char *comment, double now,
	       struct hr_err *err);

/* Adds a silence: matchers "label=glob,label=glob" (all must match; labels
 * alertname, host, probe, instance, severity and the alert's own labels;
 * globs per fnmatch(3)), from starts to ends (ends > starts), by who
 * (non-empty), with comment (may be NULL). *id gets its id (id may be
 * NULL). -1 with err for bad matchers or times. Audited. */
int alerts_silence_add(struct alerts *a, const char *matchers, double starts, double ends,
		       const char *who, const char *comment, long long *id, struct hr_err *err);
/* Ends silence ID at now (it must not have ended). Audited. */
int alerts_silence_expire(struct alerts *a, long long id, const char *who, double now,
			  struct hr_err *err);

/* The alerts as a new JSON array, newest first (caller frees with
 * cJSON_Delete): the open ones, and with all also the ended ones (at most
 * limit of them, 0: 1000). Each: id, rule, host, probe, instance, state
 * ("pending", "firing", "resolved", "cleared"), status (state, or
 * "silenced", "inhibited", "flapping", "acked" for an open alert that is
 * not notified for that reason), severity, started, fired, ended, value,
 * eta, eta_early, eta_late, summary, route, labels, fingerprint, acked_by,
 * acked_at, ack_comment. NULL with err. */
cJSON *alerts_list(struct alerts *a, int all, int limit, double now, struct hr_err *err);
/* The silences as a new JSON array (id, matchers, starts, ends, by,
 * comment, active), the ones not ended at now, and with all the others. */
cJSON *alerts_silences(struct alerts *a, int all, double now, struct hr_err *err);

/* The dedupe key's fingerprint: 16 hex digits of a 64-bit FNV-1a hash of
 * rule, host and instance, into out (17 bytes). Stable across versions. */
void alerts_fingerprint(const char *rule, const char *host, const char *instance, char out[17]);

#endif
