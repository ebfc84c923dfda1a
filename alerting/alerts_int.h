/* alerts_int.h: the lifecycle's private parts, shared by alerts.c (state
 * machine), alerts_store.c (SQLite), alerts_outbox.c (notifications) and
 * alerts_silence.c (silences, inhibition, acks). Only these files include
 * it; alerts.h is the interface. Functions expect a->mu held unless noted. */
#ifndef HR_ALERTS_INT_H
#define HR_ALERTS_INT_H

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

#include "alerts.h"

#define KEY_MAX (ALERT_RULE_MAX + HR_HOST_MAX + HR_INSTANCE_MAX + 2)
#define BUCKETS 4096
#define FLAP_MAX 64        /* flap_changes at most */
#define SILENCE_MATCHERS 16
#define WHO_MAX 64

enum astate { ST_PENDING, ST_FIRING, ST_RESOLVED, ST_CLEARED };
/* The states' names, as stored and shown: "pending", "firing", ... */
extern const char *const alerts_state_names[4];
/* What the receivers were last told about an alert. */
enum sent { SENT_NONE, SENT_FIRING, SENT_RESOLVED };

struct track;
struct hostent;

struct alert {
	long long id;
	struct track *tr;
	struct hostent *he;
	char rule[ALERT_RULE_MAX], host[HR_HOST_MAX], probe[HR_PROBE_MAX];
	char instance[HR_INSTANCE_MAX], route[ALERT_ROUTE_MAX], summary[ALERT_SUMMARY_MAX];
	size_t nlabels;
	struct alert_label labels[ALERT_LABELS];
	enum astate state;
	enum alert_severity sev, sent_sev;
	int event, sent, flap_note, dirty;
	double for_s, started, fired, ended;
	double value, eta, eta_early, eta_late;
	double inactive_since;     /* resolve_hold: NAN while active */
	double due;                /* 0, or when a change made it need a look */
	double last_sent, written;
	char acked_by[WHO_MAX];    /* "" not acked */
	double acked_at;
	struct alert *next;        /* the live list, in creation order */
};

/* One dedupe key: its flap counters and its open alert. */
struct track {
	char key[KEY_MAX];
	double changes[FLAP_MAX];  /* times of recent changes, oldest first */
	int nch, flapping;
	double last_change;
	struct alert *open;
	struct track *hnext;
};

struct hostent {
	char name[HR_HOST_MAX];
	int nlive, stale;          /* live alerts; firing host_stale alerts */
	int flush;                 /* tick: its group is due */
	struct hostent *hnext;
};

struct matcher {
	char name[ALERT_LABEL_NAME_MAX];
	char glob[ALERT_LABEL_VALUE_MAX];
};

struct silence {
	long long id;
	double starts, ends;
	size_t nm;
	struct matcher m[SILENCE_MATCHERS];
};

struct alerts {
	pthread_mutex_t mu;
	pthread_mutex_t send_mu;   /* one deliverer at a time keeps host order */
	sqlite3 *db;
	sqlite3_stmt *save;        /* alerts_save_alert's, prepared on first use */
	struct alerts_params p;
	struct alerts_notifier n;
	int has_notifier;
	void (*hook)(void *, const struct alert_event *);
	void *hook_ctx;
	struct track *tracks[BUCKETS];
	struct hostent *hosts[BUCKETS];
	int nhosts_live, host_count;
	struct alert *live, *live_tail;
	struct silence *sil;
	size_t nsil;
	long long data_version;
	long long outbox_n;        /* rows waiting, roughly: a hint only */
	int send_hold;             /* a send failed: wait for the next tick */
	int send_failing;          /* logged once */
	double last_prune;
};

/* --- alerts.c: memory --------------------------------------------------------- */

/* Writes the dedupe key of rule/host/instance into key (KEY_MAX bytes). */
void alerts_make_key(char *key, const char *rule, const char *host, const char *instance);
/* The key's track, created when missing; NULL when out of memory. */
struct track *alerts_track_get(struct alerts *a, const char *key);
/* The host's entry, created when missing; NULL when out of memory. */
struct hostent *alerts_host_get(struct alerts *a, const char *name);
int alerts_is_stale_rule(const struct alert *al);
int alerts_is_outage(const struct alert *al);
/* Appends al (taken over) to the live list. */
void alerts_live_add(struct alerts *a, struct alert *al);
/* Unlinks al from the live list and its track, and frees it. */
void alerts_live_remove(struct alerts *a, struct alert *al);
/* Counts al's host's firing host_stale alerts up or down by delta. */
void alerts_stale_count(struct alert *al, int delta);
/* The firing ingest-outage alert, or NULL. */
struct alert *alerts_outage_alert(struct alerts *a);

/* --- alerts_store.c: SQLite ----------------------------------------------------- */

/* Opens db_path into a->db, creates the tables and loads memory from them
 * (without the lock: a is not shared yet). -1 with err; the caller closes. */
int alerts_db_open(struct alerts *a, const char *db_path, struct hr_err *err);
/* A column as a number (NULL: NAN) or as text (NULL: ""; valid until the
 * next step). */
double alerts_col_num(sqlite3_stmt *st, int i);
const char *alerts_col_text(sqlite3_stmt *st, int i);
/* BEGIN IMMEDIATE; and COMMIT when ok is 0, else ROLLBACK and -1. */
int alerts_db_begin(struct alerts *a, struct hr_err *err);
int alerts_db_end(struct alerts *a, int ok, struct hr_err *err);
/* "alert ID rule/host[/instance]", the audit's subject, into dst. */
void alerts_subject(char *dst, size_t n, const struct alert *al);
/* Writes al's row (a new row and al->id when id is 0), all but the ack,
 * with its live flag; clears dirty. */
int alerts_save_alert(struct alerts *a, struct alert *al, int live, struct hr_err *err);
/* Writes the key's flap counters. */
int alerts_save_track(struct alerts *a, const struct track *t, struct hr_err *err);
/* Audits action on al at t by the system; detail may be NULL. */
int alerts_audit_alert(struct alerts *a, const struct alert *al, double t, const char *action,
		       const char *detail, struct hr_err *err);
/* Forgets keys with nothing open and no recent change (memory and rows). */
int alerts_track_free_unused(struct alerts *a, double now, struct hr_err *err);

/* --- alerts_outbox.c: notifications ------------------------------------------- */

/* t as RFC 3339 UTC into dst; t not finite or <= 0: year 1 (Go's zero). */
void alerts_rfc3339(char *dst, size_t n, double t);
/* Sends (to the outbox) what host's due alerts need, one payload per
 * route, and clears their marks; part of the caller's transaction. */
int alerts_flush_host(struct alerts *a, struct hostent *he, double now, struct hr_err *err);
/* Hands the outbox rows to the notifier, oldest first. Called WITHOUT
 * a->mu; takes it and send_mu itself. from_tick: also after a failure. */
void alerts_deliver(struct alerts *a, int from_tick);

/* --- alerts_silence.c: suppression ------------------------------------------------ */

/* Why al is not notified now ("route none", "inhibited", "silenced"), or
 * NULL. Flapping is handled by the caller. */
const char *alerts_suppressed(const struct alerts *a, const struct alert *al, double now);
/* A host_stale alert waits outage_window before its first notification. */
int alerts_held(const struct alerts *a, const struct alert *al, double now);
/* Ends (and audits) the silences whose end has come. */
int alerts_silences_expire_due(struct alerts *a, double now, struct hr_err *err);
/* Reads silences and acks again when another connection committed. */
int alerts_reload_if_changed(struct alerts *a, struct hr_err *err);

#endif
