/* notify_pagerduty.c: PagerDuty Events API v2
 * (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/): one
 * event per alert, "trigger" or "resolve", with the alert's fingerprint as
 * dedup_key so that a resolve closes the incident its trigger opened and a
 * repeat updates it rather than opening another. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "notify.h"
#include "util.h"

#define PD_URL "https://events.pagerduty.com/v2/enqueue"
/* The API cuts summaries at 1024 characters. */
#define PD_SUMMARY_MAX 1024

static const char *const keys[] = { NOTIFY_HTTP_KEYS, "routing_key", NULL };

struct pd {
	struct notify_http http;
	char *routing_key;
};

/* A copy of obj's key when it is an object, {} otherwise. */
static cJSON *copy_object(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsObject(it) ? cJSON_Duplicate(it, 1) : cJSON_CreateObject();
}

char *notify_pagerduty_event(const cJSON *payload, const cJSON *alert, const char *routing_key)
{
	int resolved = strcmp(notify_str(alert, "status"), "resolved") == 0;
	const char *sev = notify_label(alert, "severity");
	const char *summary = notify_annotation(alert, "summary");
	const char *host = notify_label(alert, "host");
	const char *url = notify_str(payload, "externalURL");
	cJSON *ev = cJSON_CreateObject(), *p, *details;
	char sum[PD_SUMMARY_MAX + 1];
	char *out = NULL;

	if (ev == NULL)
		return NULL;
	if (cJSON_AddStringToObject(ev, "routing_key", routing_key) == NULL ||
	    cJSON_AddStringToObject(ev, "event_action", resolved ? "resolve" : "trigger") == NULL)
		goto out;
	if (notify_str(alert, "fingerprint")[0] != '\0' &&
	    cJSON_AddStringToObject(ev, "dedup_key", notify_str(alert, "fingerprint")) == NULL)
		goto out;
	if (resolved)
		goto print;
	if (summary[0] == '\0')
		summary = notify_label(alert, "alertname");
	if (strcmp(sev, "critical") != 0 && strcmp(sev, "warning") != 0)
		sev = strcmp(sev, "error") == 0 ? "error" : "info";
	hr_strlcpy(sum, summary[0] != '\0' ? summary : "headroom alert", sizeof(sum));
	p = cJSON_AddObjectToObject(ev, "payload");
	if (p == NULL || cJSON_AddStringToObject(p, "summary", sum) == NULL ||
	    cJSON_AddStringToObject(p, "source", host[0] != '\0' ? host : "headroom") == NULL ||
	    cJSON_AddStringToObject(p, "severity", sev) == NULL)
		goto out;
	if (notify_str(alert, "startsAt")[0] != '\0' &&
	    cJSON_AddStringToObject(p, "timestamp", notify_str(alert, "startsAt")) == NULL)
		goto out;
	if (notify_label(alert, "probe")[0] != '\0' &&
	    cJSON_AddStringToObject(p, "component", notify_label(alert, "probe")) == NULL)
		goto out;
	if (notify_label(alert, "alertname")[0] != '\0' &&
	    cJSON_AddStringToObject(p, "class", notify_label(alert, "alertname")) == NULL)
		goto out;
	details = cJSON_AddObjectToObject(p, "custom_details");
	if (details == NULL)
		goto out;
	cJSON_AddItemToObject(details, "labels", copy_object(alert, "labels"));
	cJSON_AddItemToObject(details, "annotations", copy_object(alert, "annotations"));
	if (cJSON_AddStringToObject(ev, "client", "headroom") == NULL)
		goto out;
	if (url[0] != '\0' && cJSON_AddStringToObject(ev, "client_url", url) == NULL)
		goto out;
print:
	out = cJSON_PrintUnformatted(ev);
out:
	cJSON_Delete(ev);
	return out;
}

static void pd_free(void *state)
{
	struct pd *pd = state;

	notify_http_free(&pd->http);
	free(pd->routing_key);
	free(pd);
}

static void *pd_setup(const cJSON *cfg, const char *path, struct hr_errs *errs)
{
	struct pd *pd = calloc(1, sizeof(*pd));
	const char *s;
	int r;

	if (pd == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return NULL;
	}
	if (notify_http_parse(cfg, path, PD_URL, &pd->http, errs) < 0) {
		free(pd);
		return NULL;
	}
	r = hr_cfg_string(cfg, "routing_key", path, &s, errs);
	if (r == 0)
		hr_errs_add(errs, path, "missing \"routing_key\" (the integration key)");
	if (r <= 0 || (pd->routing_key = strdup(s)) == NULL) {
		pd_free(pd);
		return NULL;
	}
	return pd;
}

/* One event per alert. A failure part-way retries the whole notification:
 * the events already accepted are sent again, which dedup_key makes
 * harmless. */
static int pd_send(void *state, const cJSON *payload, const char *json, struct hr_err *err)
{
	struct pd *pd = state;
	const cJSON *a;
	int sent = 0;

	(void)json;
	cJSON_ArrayForEach(a, notify_alerts(payload)) {
		char *ev = notify_pagerduty_event(payload, a, pd->routing_key);
		int r;

		if (ev == NULL)
			return hr_err_set(err, "out of memory"), NOTIFY_RETRY;
		r = notify_http_post(&pd->http, ev, err);
		free(ev);
		if (r != NOTIFY_DELIVERED)
			return r;
		sent++;
	}
	if (sent == 0)
		return hr_err_set(err, "the notification has no alerts"), NOTIFY_DROP;
	return NOTIFY_DELIVERED;
}

const struct notify_type notify_pagerduty = {
	.name = "pagerduty",
	.keys = keys,
	.setup = pd_setup,
	.send = pd_send,
	.free = pd_free,
};
