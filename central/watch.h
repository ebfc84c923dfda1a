/* watch.h: the central's alerting, wired: the rules (the config's file or
 * the defaults), the analyzer that judges every stored sample, the alert
 * lifecycle it reports to and the notifiers' delivery queue, all in
 * DATA/headroom.db; plus a thread that does what time alone does (alerts
 * firing after "for", repeats, forecasts of silent series, saving state). */
#ifndef HR_WATCH_H
#define HR_WATCH_H

#include "central_config.h"
#include "ingest.h"

struct watch;

/* Builds and starts everything for cfg (borrowed: it must outlive the
 * watch). NULL with err (nothing left running) when the rules, the
 * database or a notifier cannot be set up. Caller stops with watch_stop. */
struct watch *watch_start(const struct central_config *cfg, struct hr_err *err);

/* The ingest's observer (ingest.h) feeding the analyzer. */
void watch_observer(struct watch *w, struct ingest_observer *obs);

/* What the dashboards read: the lifecycle, the analyzer and the rules
 * (valid until watch_stop). */
struct alerts *watch_alerts(struct watch *w);
struct analyzer *watch_analyzer(struct watch *w);
const struct rules *watch_rules(struct watch *w);

/* Tells the lifecycle how many hosts the central knows (for the ingest
 * outage fraction). */
void watch_set_host_count(struct watch *w, int n);

/* Records in the audit log (DATA/headroom.db) that the config FILE was
 * loaded at start ("config.load"), taken on SIGHUP ("config.reload") or
 * refused ("config.refused"), with the file's SHA-256 and what (may be
 * NULL) in the detail, so that every config in force is on record. A
 * failure is logged, not returned. */
void watch_audit_config(struct watch *w, const char *action, const char *file,
			const char *what);

/* Stops the tick thread, saves the analyzer's state, closes the lifecycle
 * and the delivery queue (undelivered notifications stay queued on disk).
 * Call after the ingest has stopped feeding it. w may be NULL. */
void watch_stop(struct watch *w);

#endif
