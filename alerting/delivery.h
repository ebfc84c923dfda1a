/* delivery.h: the persistent queue between the alert lifecycle and the
 * notifiers (notify.h). A notification is routed to receivers, stored as one
 * row per receiver in SQLite (table delivery_queue) and then delivered per
 * receiver strictly in order: the oldest row is delivered, or dropped as
 * permanently refused, before the next is tried, so a receiver that was down
 * for an hour gets every notification afterwards, in order. Receivers are
 * independent: each has a thread of its own, so a slow or dead one never
 * holds back another. A failed attempt is retried with exponential backoff
 * and full jitter (1 s up to the receiver's retry_max, default 5 min) for as
 * long as the notification is younger than its max_age (default 24 h).
 *
 * Thread-safe: one lock, never held while a notifier sends. */
#ifndef HR_DELIVERY_H
#define HR_DELIVERY_H

#include <cjson/cJSON.h>

#include "alert.h"
#include "err.h"

struct delivery;

/* Opens the queue on the SQLite file db_path (created when missing;
 * ":memory:" for a private one) with the receivers of notify_arr (the
 * config's "notify" array, borrowed; NULL: none). Rows queued for a receiver
 * that is no longer configured are kept (and logged once, here). NULL with
 * err when the database or the config is unusable. Caller frees with
 * delivery_close. No thread runs until delivery_start. Initialises libcurl
 * (curl_global_init, not thread-safe): call it before starting other
 * threads that use libcurl. */
struct delivery *delivery_open(const char *db_path, const cJSON *notify_arr, struct hr_err *err);

/* Queues payload_json (an Alertmanager v4 payload, borrowed) for every
 * receiver that route selects ("" every one, "none" nobody, else a comma
 * list of names) and whose min_severity severity reaches; each copy gets
 * its receiver's name in "receiver". Returns 0 once the rows are committed
 * (also when no receiver is selected), -1 with err when they could not be
 * stored (the caller keeps the notification and tries again). Wakes the
 * workers at once. The _at form takes the time of queueing (backtest and
 * tests); delivery_route uses the wall clock. */
int delivery_route(struct delivery *d, const char *route, enum alert_severity severity,
		   const char *payload_json, struct hr_err *err);
int delivery_route_at(struct delivery *d, const char *route, enum alert_severity severity,
		      const char *payload_json, double now, struct hr_err *err);

/* delivery_route with a void * handle, the shape of struct alerts_notifier's
 * send (alerts.h), so that the central wires them without glue code. */
int delivery_send(void *d, const char *route, enum alert_severity severity,
		  const char *payload_json, struct hr_err *err);

/* Starts one worker thread per receiver. 0, or -1 with err (the threads
 * already started run until delivery_close). */
int delivery_start(struct delivery *d, struct hr_err *err);

/* Synchronously, without threads (tests, backtest): for every receiver,
 * sends its due rows in order at time now until one fails or none is due.
 * Returns how many rows left the queue (delivered or dropped). Not to be
 * mixed with delivery_start. */
int delivery_run_once(struct delivery *d, double now);

/* Rows queued for receiver (NULL: for all), -1 on a database error. */
int delivery_pending(struct delivery *d, const char *receiver);

/* Stops the workers (waiting for a send in progress, at most its timeout),
 * closes the database and frees d; the queue stays on disk. d may be NULL. */
void delivery_close(struct delivery *d);

/* The wait before attempt attempts + 1, after attempts (>= 1) failures: the
 * cap min(retry_max, 2^attempts) s, and u in [0, 1) picks uniformly within
 * [1 s, cap] (full jitter keeps many receivers that failed together from
 * retrying in lockstep). */
double delivery_backoff(unsigned attempts, double retry_max, double u);

#endif
