/* ups.c: the ups probe. It watches the UPS units named in its config, each
 * through NUT's upsd (ups_nut.c) or apcupsd's NIS server (ups_apcupsd.c),
 * and puts one sample per UPS: reachable 1 with what the daemon said, or
 * reachable 0 and nothing else when the daemon could not be asked. The
 * targets are asked at the same time, one thread each, so a read costs at
 * most one connect timeout plus one read timeout however many are dead.
 *
 * Instances: NUT "NAME@HOST" (":PORT" appended for a port other than 3493),
 * apcupsd "HOST:PORT"; an IPv6 host is written in brackets. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "netio.h"
#include "ups.h"
#include "ups_apcupsd.h"
#include "ups_nut.h"
#include "util.h"

enum ups_kind { UPS_NUT, UPS_APCUPSD };

struct ups_target {
	enum ups_kind kind;
	char instance[HR_INSTANCE_MAX];
	char name[UPS_NUT_NAME_MAX]; /* NUT ups name */
	char host[HR_INSTANCE_MAX];
	char port[8];
	char *username, *password, *ca; /* NUT only; NULL when not set */
	int starttls;
	double timeout;
	size_t max_bytes;
	struct hr_complain fail;  /* cannot ask the daemon */
	struct hr_complain note;  /* asked, but parts of the answer were skipped */
	struct hr_sample sample;  /* the result of the current read */
	pthread_t thread;
	int threaded;             /* thread runs ups_ask for this read */
};

struct ups_state {
	struct ups_target *targets;
	size_t count;
};

static const char *const ups_allowed[] = { "nut", "apcupsd", "timeout", "max_bytes",
					   "interval", NULL };
static const char *const ups_nut_keys[] = { "ups", "username", "password", "starttls", "ca",
					    NULL };

static void ups_teardown(void *state)
{
	struct ups_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->count; i++) {
		free(st->targets[i].username);
		free(st->targets[i].password);
		free(st->targets[i].ca);
	}
	free(st->targets);
	free(st);
}

/* A NUT ups name: 1-63 bytes of [A-Za-z0-9_.-], so that it is one word of
 * the protocol and needs no quoting. */
static int ups_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= UPS_NUT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* HOST as written in an instance into dst: in brackets when it is an IPv6
 * address. */
static void ups_host_fmt(char *dst, size_t n, const char *host)
{
	if (strchr(host, ':') != NULL)
		snprintf(dst, n, "[%s]", host);
	else
		snprintf(dst, n, "%s", host);
}

/* Parses "NAME@HOST[:PORT]" into t; 0 or -1. */
static int ups_parse_nut_spec(const char *spec, struct ups_target *t)
{
	const char *at = strchr(spec, '@');
	char h[HR_INSTANCE_MAX + 2];
	size_t n;

	if (at == NULL || !ups_name_ok(spec, (size_t)(at - spec)))
		return -1;
	memcpy(t->name, spec, (size_t)(at - spec));
	t->name[at - spec] = '\0';
	if (hr_split_hostport(at + 1, t->host, sizeof(t->host), t->port, sizeof(t->port),
			      UPS_NUT_PORT) < 0)
		return -1;
	ups_host_fmt(h, sizeof(h), t->host);
	n = (size_t)snprintf(t->instance, sizeof(t->instance), "%s@%s", t->name, h);
	if (strcmp(t->port, UPS_NUT_PORT) != 0)
		n = (size_t)snprintf(t->instance, sizeof(t->instance), "%s@%s:%s", t->name, h,
				     t->port);
	return n < sizeof(t->instance) ? 0 : -1;
}

/* Parses "HOST[:PORT]" of apcupsd into t; 0 or -1. */
static int ups_parse_apc_spec(const char *spec, struct ups_target *t)
{
	char h[HR_INSTANCE_MAX + 2];
	size_t n;

	if (hr_split_hostport(spec, t->host, sizeof(t->host), t->port, sizeof(t->port),
			      UPS_APCUPSD_PORT) < 0)
		return -1;
	ups_host_fmt(h, sizeof(h), t->host);
	n = (size_t)snprintf(t->instance, sizeof(t->instance), "%s:%s", h, t->port);
	return n < sizeof(t->instance) ? 0 : -1;
}

/* An optional string of a NUT target object, copied into *out. Control
 * characters would end or split a protocol line: refused. */
static int ups_cfg_text(const cJSON *obj, const char *key, const char *path, char **out,
			struct hr_errs *errs)
{
	const char *s = NULL, *c;
	char p[256];
	int r = hr_cfg_string(obj, key, path, &s, errs);

	if (r <= 0)
		return r;
	hr_cfg_path(p, sizeof(p), path, key);
	for (c = s; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			hr_errs_add(errs, p, "must not hold control characters");
			return -1;
		}
	}
	if (strlen(s) >= UPS_NUT_VALUE_MAX) {
		hr_errs_add(errs, p, "longer than %d bytes", UPS_NUT_VALUE_MAX - 1);
		return -1;
	}
	*out = strdup(s);
	if (*out == NULL) {
		hr_errs_add(errs, p, "out of memory");
		return -1;
	}
	return 1;
}

/* One item of "nut": a string or an object. 0, or -1 (errors added). */
static int ups_cfg_nut(const cJSON *item, const char *ipath, struct ups_target *t,
		       struct hr_errs *errs)
{
	const char *spec = NULL;
	char p[256];
	int bad = 0, r;

	if (cJSON_IsString(item) && item->valuestring != NULL) {
		if (ups_parse_nut_spec(item->valuestring, t) < 0) {
			hr_errs_add(errs, ipath, "expected NAME@HOST[:PORT]");
			return -1;
		}
		return 0;
	}
	if (!cJSON_IsObject(item)) {
		hr_errs_add(errs, ipath, "expected \"NAME@HOST[:PORT]\" or an object");
		return -1;
	}
	if (hr_cfg_check_keys(item, ipath, ups_nut_keys, errs) > 0)
		bad = 1;
	r = hr_cfg_string(item, "ups", ipath, &spec, errs);
	hr_cfg_path(p, sizeof(p), ipath, "ups");
	if (r == 0) {
		hr_errs_add(errs, ipath, "missing \"ups\" (NAME@HOST[:PORT])");
		bad = 1;
	} else if (r < 0) {
		bad = 1;
	} else if (ups_parse_nut_spec(spec, t) < 0) {
		hr_errs_add(errs, p, "expected NAME@HOST[:PORT]");
		bad = 1;
	}
	if (ups_cfg_text(item, "username", ipath, &t->username, errs) < 0)
		bad = 1;
	if (ups_cfg_text(item, "password", ipath, &t->password, errs) < 0)
		bad = 1;
	if (hr_cfg_bool(item, "starttls", ipath, &t->starttls, errs) < 0)
		bad = 1;
	if (ups_cfg_text(item, "ca", ipath, &t->ca, errs) < 0)
		bad = 1;
	if ((t->username == NULL) != (t->password == NULL) &&
	    cJSON_GetObjectItemCaseSensitive(item, t->username ? "password" : "username") == NULL) {
		hr_errs_add(errs, ipath, "\"username\" and \"password\" go together");
		bad = 1;
	}
	if (t->ca != NULL) {
		hr_cfg_path(p, sizeof(p), ipath, "ca");
		if (!t->starttls) {
			hr_errs_add(errs, p, "needs \"starttls\": true");
			bad = 1;
		} else if (access(t->ca, R_OK) != 0) {
			hr_errs_add(errs, p, "cannot read %s: %s", t->ca, strerror(errno));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* Adds the targets of array KEY ("nut" or "apcupsd"). Returns 0 or -1. */
static int ups_cfg_list(const cJSON *cfg, const char *key, const char *path,
			struct ups_state *st, size_t max, struct hr_errs *errs)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg, key), *item;
	char apath[256], ipath[300];
	int bad = 0, i = 0;

	if (arr == NULL)
		return 0;
	hr_cfg_path(apath, sizeof(apath), path, key);
	if (!cJSON_IsArray(arr)) {
		hr_errs_add(errs, apath, "expected an array");
		return -1;
	}
	cJSON_ArrayForEach(item, arr) {
		struct ups_target *t;
		size_t j;

		hr_cfg_index(ipath, sizeof(ipath), apath, i++);
		if (st->count >= max) {
			hr_errs_add(errs, ipath, "more than %zu UPS targets", max);
			return -1;
		}
		t = &st->targets[st->count];
		memset(t, 0, sizeof(*t));
		if (strcmp(key, "nut") == 0) {
			t->kind = UPS_NUT;
			if (ups_cfg_nut(item, ipath, t, errs) < 0) {
				st->count++; /* so that teardown frees its strings */
				bad = 1;
				continue;
			}
		} else {
			t->kind = UPS_APCUPSD;
			if (!cJSON_IsString(item) || item->valuestring == NULL ||
			    ups_parse_apc_spec(item->valuestring, t) < 0) {
				hr_errs_add(errs, ipath, "expected HOST[:PORT]");
				bad = 1;
				continue;
			}
		}
		for (j = 0; j < st->count; j++) {
			if (st->targets[j].kind == t->kind &&
			    strcmp(st->targets[j].instance, t->instance) == 0) {
				hr_errs_add(errs, ipath, "\"%s\" is listed twice", t->instance);
				bad = 1;
			}
		}
		st->count++;
	}
	return bad ? -1 : 0;
}

static int ups_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	struct ups_state *st = NULL;
	double timeout = UPS_TIMEOUT_DEFAULT, maxb = UPS_MAX_BYTES_DEFAULT;
	size_t i, max = UPS_TARGETS_MAX;
	int bad = 0;

	(void)env;
	if (cfg == NULL || !cJSON_IsObject(cfg)) {
		hr_errs_add(errs, path, "expected an object with \"nut\" and/or \"apcupsd\" targets");
		return -1;
	}
	if (hr_cfg_check_keys(cfg, path, ups_allowed, errs) > 0)
		bad = 1;
	if (hr_cfg_duration(cfg, "timeout", path, 0.01, UPS_TIMEOUT_MAX, &timeout, errs) < 0)
		bad = 1;
	if (hr_cfg_number(cfg, "max_bytes", path, 1024, 16 << 20, &maxb, errs) < 0) {
		bad = 1;
	} else if (maxb != (double)(size_t)maxb) {
		char p[256];

		hr_cfg_path(p, sizeof(p), path, "max_bytes");
		hr_errs_add(errs, p, "expected a whole number of bytes");
		bad = 1;
	}
	st = calloc(1, sizeof(*st));
	if (st != NULL)
		st->targets = calloc(max, sizeof(*st->targets));
	if (st == NULL || st->targets == NULL) {
		hr_errs_add(errs, path, "out of memory");
		ups_teardown(st);
		return -1;
	}
	if (ups_cfg_list(cfg, "nut", path, st, max, errs) < 0)
		bad = 1;
	if (ups_cfg_list(cfg, "apcupsd", path, st, max, errs) < 0)
		bad = 1;
	if (st->count == 0 && !bad) {
		hr_errs_add(errs, path, "no UPS to watch: list targets in \"nut\" or \"apcupsd\"");
		bad = 1;
	}
	if (bad) {
		ups_teardown(st);
		return -1;
	}
	for (i = 0; i < st->count; i++) {
		st->targets[i].timeout = timeout;
		st->targets[i].max_bytes = (size_t)maxb;
	}
	*state = st;
	return 0;
}

/* Asks one target and leaves its sample in t->sample. */
static void *ups_ask(void *arg)
{
	struct ups_target *t = arg;
	struct hr_err err = { { 0 } };
	int rc;

	hr_sample_init(&t->sample, "ups", t->instance);
	if (t->kind == UPS_NUT) {
		struct ups_nut_target nt = {
			.ups = t->name, .host = t->host, .port = t->port,
			.username = t->username, .password = t->password,
			.starttls = t->starttls, .ca = t->ca,
		};

		rc = ups_nut_query(&nt, t->timeout, t->timeout, t->max_bytes, &t->sample, &err);
	} else {
		rc = ups_apcupsd_query(t->host, t->port, t->timeout, t->timeout, t->max_bytes,
				       &t->sample, &err);
	}
	if (rc < 0) {
		/* nothing of a failed conversation is trusted */
		hr_sample_init(&t->sample, "ups", t->instance);
		hr_sample_set(&t->sample, "reachable", 0);
		/* both clients' messages begin with the target */
		hr_complain(&t->fail, "probe ups: %s", err.msg);
		return NULL;
	}
	hr_sample_set(&t->sample, "reachable", 1);
	hr_complain_clear(&t->fail, "probe ups: %s: reachable again", t->instance);
	if (err.msg[0] != '\0')
		hr_complain(&t->note, "probe ups: %s: %s", t->instance, err.msg);
	else
		hr_complain_clear(&t->note, "probe ups: %s: answer read in full again",
				  t->instance);
	return NULL;
}

static int ups_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct ups_state *st = state;
	size_t i;

	(void)err;
	for (i = 0; i < st->count; i++) {
		struct ups_target *t = &st->targets[i];

		t->threaded = st->count > 1 && pthread_create(&t->thread, NULL, ups_ask, t) == 0;
		if (!t->threaded)
			ups_ask(t); /* one target, or no thread to be had */
	}
	for (i = 0; i < st->count; i++) {
		if (st->targets[i].threaded)
			pthread_join(st->targets[i].thread, NULL);
		hr_sink_put(sink, &st->targets[i].sample);
	}
	return 0;
}

const struct probe probe_ups = {
	.name = "ups",
	.core = 0,
	.setup = ups_setup,
	.read = ups_read,
	.teardown = ups_teardown,
};
