/* notify.h: the notifiers of headroom-central, one file each
 * (alerting/notify_TYPE.c), as static tables listed in one array. Each turns
 * the Alertmanager v4 payload of one notification (see the alerting contract)
 * into its own format and hands it on: webhook, slack, pagerduty, email,
 * exec. The persistent queue in front of them is delivery.h. */
#ifndef HR_NOTIFY_H
#define HR_NOTIFY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "err.h"

struct curl_slist;

/* What send() says about one notification. */
#define NOTIFY_DELIVERED 0
#define NOTIFY_RETRY 1    /* network error, timeout, HTTP 5xx/408/429, exit != 0 */
#define NOTIFY_DROP (-1)  /* permanent: HTTP 4xx, SMTP 5xx; retrying cannot help */

#define NOTIFY_NAME_MAX 64

/* One kind of notifier. */
struct notify_type {
	const char *name;
	/* The keys it accepts besides the common ones (type, name,
	 * min_severity, retry_max, max_age); NULL-terminated. */
	const char *const *keys;
	/* Checks cfg (an object whose keys are already known good) and builds
	 * the notifier's state; every problem goes to errs with its path under
	 * path. Returns the state, or NULL when there were problems. */
	void *(*setup)(const cJSON *cfg, const char *path, struct hr_errs *errs);
	/* Delivers one notification: payload is the parsed document, json its
	 * text. Borrows both. Returns NOTIFY_*; err says why when not
	 * delivered. Must not crash on any JSON. */
	int (*send)(void *state, const cJSON *payload, const char *json, struct hr_err *err);
	void (*free)(void *state);
};

extern const struct notify_type notify_webhook, notify_slack, notify_pagerduty, notify_email,
	notify_exec;

/* One configured receiver. */
struct notifier {
	char name[NOTIFY_NAME_MAX];
	const struct notify_type *type;
	enum alert_severity min_severity; /* default warning */
	double retry_max;                 /* backoff cap, seconds (default 300) */
	double max_age;                   /* a notification older is dropped (default 24 h) */
	void *state;
};

/* Checks the "notify" array at path (the central's config): each entry's
 * type, its keys (unknown ones are errors), values, and that the names are
 * unique. Problems go to errs; returns their number. */
int notify_check_config(const cJSON *arr, const char *path, struct hr_errs *errs);

/* Builds the receivers of the "notify" array (arr may be NULL: none).
 * Returns a new array of *n receivers (caller frees with notify_free), or
 * NULL with the problems in errs (also NULL with *n 0 and no problem when
 * there are none). */
struct notifier *notify_build(const cJSON *arr, const char *path, size_t *n, struct hr_errs *errs);
void notify_free(struct notifier *v, size_t n);

/* Parses json and sends it through nf. A text that is not a JSON object is
 * dropped (NOTIFY_DROP). */
int notify_send(const struct notifier *nf, const char *json, struct hr_err *err);

/* --- helpers for the notify_*.c files, and what their tests check --- */

/* obj[key] when it is a string, else "" (never NULL: payloads from a future
 * version or a broken one must not crash a notifier). */
const char *notify_str(const cJSON *obj, const char *key);
/* payload.alerts[i].labels[key] / .annotations[key], or "". */
const char *notify_label(const cJSON *alert, const char *key);
const char *notify_annotation(const cJSON *alert, const char *key);
/* The "alerts" array, or NULL. */
const cJSON *notify_alerts(const cJSON *payload);
/* Counts the alerts of payload with status (NULL: all). */
int notify_count(const cJSON *payload, const char *status);
/* The host of the notification: groupLabels.host, or the first alert's. */
const char *notify_host(const cJSON *payload);
/* "[FIRING:2] web1: SUMMARY" (the first alert's summary, "and N more"). */
void notify_title(const cJSON *payload, char *dst, size_t n);
/* One line per alert: "[critical] web1 disk_full: SUMMARY (since T)". A new
 * string; caller frees with free(). NULL on allocation failure. */
char *notify_lines(const cJSON *payload);

/* HTTP(S) POST settings shared by webhook, slack and pagerduty: "url",
 * "headers" {name: value}, "ca" (a file), "insecure" (skip certificate
 * checks), "timeout" (default 10 s). */
struct notify_http {
	char *url;
	struct curl_slist *headers;
	char *ca;
	int insecure;
	double timeout;
};
/* The keys it reads, for a type's key list. */
#define NOTIFY_HTTP_KEYS "url", "headers", "ca", "insecure", "timeout"
/* Parses them from cfg; default_url is used when "url" is absent (NULL:
 * "url" is required). 0, or -1 with problems in errs. */
int notify_http_parse(const cJSON *cfg, const char *path, const char *default_url,
		      struct notify_http *h, struct hr_errs *errs);
void notify_http_free(struct notify_http *h);
/* The whole state of a type that only POSTs (webhook, slack), in the
 * shape of notify_type's setup and free: a new struct notify_http parsed
 * from cfg with "url" required. NULL with the problems in errs. Caller
 * frees with notify_http_destroy, which accepts NULL. */
void *notify_http_setup(const cJSON *cfg, const char *path, struct hr_errs *errs);
void notify_http_destroy(void *state);
/* POSTs body as application/json. Returns NOTIFY_*: 2xx delivered, 408,
 * 429, 5xx and transport errors retry, other statuses drop. */
int notify_http_post(const struct notify_http *h, const char *body, struct hr_err *err);

/* Payload transformations, public for the tests. Each returns a new string
 * (caller frees with free()), or NULL on allocation failure. */
/* Slack incoming webhook: {"text": TITLE "\n" LINES}. */
char *notify_slack_body(const cJSON *payload);
/* PagerDuty Events API v2 event for one alert of payload. */
char *notify_pagerduty_event(const cJSON *payload, const cJSON *alert, const char *routing_key);
/* An RFC 5322 message (CRLF line ends) with Date (from now), Message-ID,
 * From, To, Subject and a text body listing the alerts. to is
 * NULL-terminated. */
char *notify_email_message(const cJSON *payload, const char *from, char *const *to, double now);
/* The HEADROOM_* variables of exec ("NAME=value" strings, NULL-terminated);
 * caller frees with hr_strv_free(). */
char **notify_exec_env(const cJSON *payload);

#endif
