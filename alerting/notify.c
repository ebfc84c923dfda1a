/* notify.c: what the notifiers share (see notify.h): the list of types,
 * checking and building the "notify" array, reading the Alertmanager v4
 * payload defensively, and the HTTP POST of webhook, slack and pagerduty
 * (with the whole state of the two that only POST). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cfg.h"
#include "notify.h"
#include "util.h"

static const struct notify_type *const types[] = {
	&notify_webhook, &notify_slack, &notify_pagerduty, &notify_email, &notify_exec,
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static const char *const common_keys[] = {
	"type", "name", "min_severity", "retry_max", "max_age",
};
#define NCOMMON (sizeof(common_keys) / sizeof(common_keys[0]))

/* Bounds of the reply body we keep (only for the log line). */
#define REPLY_CAP 512

static const struct notify_type *find_type(const char *name)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

/* The common keys followed by the type's, NULL-terminated, in keys (size n). */
static void all_keys(const struct notify_type *t, const char **keys, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < NCOMMON && k + 1 < n; i++)
		keys[k++] = common_keys[i];
	for (i = 0; t->keys[i] != NULL && k + 1 < n; i++)
		keys[k++] = t->keys[i];
	keys[k] = NULL;
}

/* Checks and builds one entry into nf; 0, or -1 with problems in errs. */
static int build_one(const cJSON *it, const char *p, struct notifier *nf, struct hr_errs *errs)
{
	const struct notify_type *t;
	const char *keys[32], *s;
	size_t before = errs->count + errs->dropped;

	memset(nf, 0, sizeof(*nf));
	nf->min_severity = ALERT_WARNING;
	nf->retry_max = 300;
	nf->max_age = 86400;
	if (!cJSON_IsObject(it)) {
		hr_errs_add(errs, p, "expected an object");
		return -1;
	}
	if (hr_cfg_string(it, "type", p, &s, errs) <= 0) {
		if (cJSON_GetObjectItemCaseSensitive(it, "type") == NULL)
			hr_errs_add(errs, p, "missing \"type\"");
		return -1;
	}
	t = find_type(s);
	if (t == NULL) {
		char q[512];

		hr_cfg_path(q, sizeof(q), p, "type");
		hr_errs_add(errs, q, "unknown type \"%s\" (webhook, slack, pagerduty, email, exec)",
			    s);
		return -1;
	}
	nf->type = t;
	all_keys(t, keys, sizeof(keys) / sizeof(keys[0]));
	hr_cfg_check_keys(it, p, keys, errs);
	if (hr_cfg_string(it, "name", p, &s, errs) > 0) {
		char q[512];

		hr_cfg_path(q, sizeof(q), p, "name");
		if (strlen(s) >= sizeof(nf->name) || strcmp(s, "none") == 0 || strchr(s, ',') != NULL)
			hr_errs_add(errs, q, "must be under %zu characters, without ',', and not \"none\"",
				    sizeof(nf->name));
		else
			hr_strlcpy(nf->name, s, sizeof(nf->name));
	} else {
		memcpy(nf->name, t->name, strlen(t->name) + 1);
	}
	if (hr_cfg_string(it, "min_severity", p, &s, errs) > 0 &&
	    alert_severity_parse(s, &nf->min_severity) < 0) {
		char q[512];

		hr_cfg_path(q, sizeof(q), p, "min_severity");
		hr_errs_add(errs, q, "expected \"info\", \"warning\" or \"critical\"");
	}
	hr_cfg_duration(it, "retry_max", p, 1, 86400, &nf->retry_max, errs);
	hr_cfg_duration(it, "max_age", p, 60, 365 * 86400.0, &nf->max_age, errs);
	nf->state = t->setup(it, p, errs);
	if (nf->state == NULL || errs->count + errs->dropped > before) {
		if (nf->state != NULL)
			t->free(nf->state);
		nf->state = NULL;
		return -1;
	}
	return 0;
}

struct notifier *notify_build(const cJSON *arr, const char *path, size_t *n, struct hr_errs *errs)
{
	struct notifier *v;
	const cJSON *it;
	size_t cap, j, k = 0;
	int bad = 0, idx = 0;

	*n = 0;
	if (arr == NULL)
		return NULL;
	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, path, "expected an array of {\"type\": ...}");
		return NULL;
	}
	cap = (size_t)cJSON_GetArraySize(arr);
	if (cap == 0)
		return NULL;
	v = calloc(cap, sizeof(*v));
	if (v == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(it, arr) {
		char p[512];

		hr_cfg_index(p, sizeof(p), path, idx++);
		if (build_one(it, p, &v[k], errs) < 0) {
			bad = 1;
			continue;
		}
		for (j = 0; j < k; j++) {
			if (strcmp(v[j].name, v[k].name) == 0) {
				hr_errs_add(errs, p, "name \"%s\" is used twice (give each a \"name\")",
					    v[k].name);
				bad = 1;
			}
		}
		k++;
	}
	if (bad) {
		notify_free(v, k);
		return NULL;
	}
	*n = k;
	return v;
}

void notify_free(struct notifier *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		if (v[i].state != NULL)
			v[i].type->free(v[i].state);
	free(v);
}

int notify_check_config(const cJSON *arr, const char *path, struct hr_errs *errs)
{
	size_t before = errs->count + errs->dropped, n;
	struct notifier *v = notify_build(arr, path, &n, errs);

	notify_free(v, n);
	return (int)(errs->count + errs->dropped - before);
}

int notify_send(const struct notifier *nf, const char *json, struct hr_err *err)
{
	cJSON *doc = cJSON_Parse(json);
	int r;

	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return hr_err_set(err, "the notification is not a JSON object");
	}
	r = nf->type->send(nf->state, doc, json, err);
	cJSON_Delete(doc);
	return r;
}

/* --- reading the payload --- */

const char *notify_str(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return cJSON_IsString(it) && it->valuestring != NULL ? it->valuestring : "";
}

const char *notify_label(const cJSON *alert, const char *key)
{
	return notify_str(cJSON_IsObject(alert) ? cJSON_GetObjectItemCaseSensitive(alert, "labels")
						: NULL, key);
}

const char *notify_annotation(const cJSON *alert, const char *key)
{
	return notify_str(cJSON_IsObject(alert)
				  ? cJSON_GetObjectItemCaseSensitive(alert, "annotations") : NULL, key);
}

const cJSON *notify_alerts(const cJSON *payload)
{
	const cJSON *a = cJSON_IsObject(payload) ? cJSON_GetObjectItemCaseSensitive(payload, "alerts")
						 : NULL;

	return cJSON_IsArray(a) ? a : NULL;
}

int notify_count(const cJSON *payload, const char *status)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, notify_alerts(payload))
		if (status == NULL || strcmp(notify_str(a, "status"), status) == 0)
			n++;
	return n;
}

const char *notify_host(const cJSON *payload)
{
	const cJSON *g = cJSON_IsObject(payload)
				 ? cJSON_GetObjectItemCaseSensitive(payload, "groupLabels") : NULL;
	const cJSON *alerts = notify_alerts(payload);
	const char *h = notify_str(g, "host");

	if (h[0] == '\0' && alerts != NULL)
		h = notify_label(cJSON_GetArrayItem(alerts, 0), "host");
	return h;
}

void notify_title(const cJSON *payload, char *dst, size_t n)
{
	const cJSON *alerts = notify_alerts(payload);
	const cJSON *first = alerts != NULL ? cJSON_GetArrayItem(alerts, 0) : NULL;
	const char *status = notify_str(payload, "status");
	int resolved = strcmp(status, "resolved") == 0;
	int count = notify_count(payload, resolved ? "resolved" : "firing");
	int total = notify_count(payload, NULL);
	const char *summary = notify_annotation(first, "summary");
	char more[32] = "";

	if (summary[0] == '\0')
		summary = notify_label(first, "alertname");
	if (total > 1)
		snprintf(more, sizeof(more), " (and %d more)", total - 1);
	snprintf(dst, n, "[%s:%d] %s: %s%s", resolved ? "RESOLVED" : "FIRING", count,
		 notify_host(payload), summary, more);
}

char *notify_lines(const cJSON *payload)
{
	const cJSON *a;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(a, notify_alerts(payload)) {
		const char *summary = notify_annotation(a, "summary");
		int resolved = strcmp(notify_str(a, "status"), "resolved") == 0;

		fprintf(f, "%s[%s] %s %s: %s (since %s", resolved ? "RESOLVED " : "",
			notify_label(a, "severity"), notify_label(a, "host"),
			notify_label(a, "alertname"), summary[0] != '\0' ? summary : "-",
			notify_str(a, "startsAt"));
		if (resolved)
			fprintf(f, ", resolved %s", notify_str(a, "endsAt"));
		fputs(")\n", f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- HTTP --- */

static int url_ok(const char *url)
{
	CURLU *u;
	int ok;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return 0;
	u = curl_url();
	if (u == NULL)
		return 0;
	ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok;
}

int notify_http_parse(const cJSON *cfg, const char *path, const char *default_url,
		      struct notify_http *h, struct hr_errs *errs)
{
	const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(cfg, "headers"), *it;
	const char *s = NULL;
	char p[512];
	int r, bad = 0;

	memset(h, 0, sizeof(*h));
	h->timeout = 10;
	r = hr_cfg_string(cfg, "url", path, &s, errs);
	bad |= r < 0;
	if (r == 0 && default_url == NULL) {
		hr_errs_add(errs, path, "missing \"url\"");
		bad = 1;
	}
	if (r <= 0)
		s = default_url;
	hr_cfg_path(p, sizeof(p), path, "url");
	if (s != NULL && !url_ok(s)) {
		hr_errs_add(errs, p, "expected an http:// or https:// URL");
		bad = 1;
	}
	if (s != NULL && (h->url = strdup(s)) == NULL)
		bad = 1;
	if (hr_cfg_string(cfg, "ca", path, &s, errs) > 0) {
		hr_cfg_path(p, sizeof(p), path, "ca");
		if (access(s, R_OK) != 0) {
			hr_errs_add(errs, p, "%s: %s", s, strerror(errno));
			bad = 1;
		} else if ((h->ca = strdup(s)) == NULL) {
			bad = 1;
		}
	}
	bad |= hr_cfg_bool(cfg, "insecure", path, &h->insecure, errs) < 0;
	bad |= hr_cfg_duration(cfg, "timeout", path, 0.1, 600, &h->timeout, errs) < 0;
	if (hdrs != NULL && !cJSON_IsObject(hdrs)) {
		hr_cfg_path(p, sizeof(p), path, "headers");
		hr_errs_add(errs, p, "expected an object of \"Name\": \"value\"");
		bad = 1;
	}
	if (!cJSON_IsObject(hdrs))
		hdrs = NULL;
	cJSON_ArrayForEach(it, hdrs) {
		char line[1024], q[512];
		struct curl_slist *l;

		hr_cfg_path(p, sizeof(p), path, "headers");
		hr_cfg_path(q, sizeof(q), p, it->string);
		if (!cJSON_IsString(it) || it->string[0] == '\0' ||
		    strpbrk(it->string, ": \t\r\n") != NULL || strpbrk(it->valuestring, "\r\n") != NULL) {
			hr_errs_add(errs, q, "expected a header name without ':' or spaces, "
				    "and a one-line string value");
			bad = 1;
			continue;
		}
		if ((size_t)snprintf(line, sizeof(line), "%s: %s", it->string, it->valuestring) >=
		    sizeof(line)) {
			hr_errs_add(errs, q, "too long");
			bad = 1;
			continue;
		}
		l = curl_slist_append(h->headers, line);
		if (l == NULL) {
			bad = 1;
			continue;
		}
		h->headers = l;
	}
	if (bad) {
		notify_http_free(h);
		return -1;
	}
	return 0;
}

void notify_http_free(struct notify_http *h)
{
	free(h->url);
	free(h->ca);
	curl_slist_free_all(h->headers);
	memset(h, 0, sizeof(*h));
}

void *notify_http_setup(const cJSON *cfg, const char *path, struct hr_errs *errs)
{
	struct notify_http *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return NULL;
	}
	if (notify_http_parse(cfg, path, NULL, h, errs) < 0) {
		free(h);
		return NULL;
	}
	return h;
}

void notify_http_destroy(void *state)
{
	if (state == NULL)
		return;
	notify_http_free(state);
	free(state);
}

struct reply {
	char buf[REPLY_CAP];
	size_t len;
};

/* Keeps the start of the reply for the log line; the rest is read and
 * dropped, so a huge reply costs nothing. */
static size_t keep_reply(char *data, size_t size, size_t nmemb, void *userp)
{
	struct reply *r = userp;
	size_t n = size * nmemb, room = sizeof(r->buf) - 1 - r->len;

	if (room > 0) {
		size_t k = n < room ? n : room;

		memcpy(r->buf + r->len, data, k);
		r->len += k;
	}
	r->buf[r->len] = '\0';
	return n;
}

int notify_http_post(const struct notify_http *h, const char *body, struct hr_err *err)
{
	struct curl_slist *hdrs = NULL, *l;
	struct reply reply = { .len = 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret;

	c = curl_easy_init();
	if (c == NULL)
		return hr_err_set(err, "cannot start libcurl"), NOTIFY_RETRY;
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	for (l = h->headers; l != NULL && hdrs != NULL; l = l->next) {
		struct curl_slist *n = curl_slist_append(hdrs, l->data);

		if (n == NULL) {
			curl_slist_free_all(hdrs);
			hdrs = NULL;
		} else {
			hdrs = n;
		}
	}
	if (hdrs == NULL) {
		curl_easy_cleanup(c);
		hr_err_set(err, "out of memory");
		return NOTIFY_RETRY;
	}
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(h->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "headroom-central/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (h->ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca);
	if (h->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		hr_err_set(err, "%s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		ret = NOTIFY_RETRY;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		ret = NOTIFY_DELIVERED;
		goto out;
	}
	{
		char shown[REPLY_CAP];

		hr_printable(shown, sizeof(shown), reply.buf, reply.len);
		hr_err_set(err, "HTTP %ld: %s", status, shown);
	}
	ret = status == 408 || status == 429 || status >= 500 ? NOTIFY_RETRY : NOTIFY_DROP;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}
