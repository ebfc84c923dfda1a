/* notify_webhook.c: the generic webhook. It posts the Alertmanager v4
 * payload unchanged, so that receivers written for Alertmanager (chat
 * bridges, incident tools) work with headroom as they are. */
#include "config.h"

#include <stdlib.h>

#include "notify.h"

static const char *const keys[] = { NOTIFY_HTTP_KEYS, NULL };

static void *webhook_setup(const cJSON *cfg, const char *path, struct hr_errs *errs)
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

static int webhook_send(void *state, const cJSON *payload, const char *json, struct hr_err *err)
{
	(void)payload;
	return notify_http_post(state, json, err);
}

static void webhook_free(void *state)
{
	notify_http_free(state);
	free(state);
}

const struct notify_type notify_webhook = {
	.name = "webhook",
	.keys = keys,
	.setup = webhook_setup,
	.send = webhook_send,
	.free = webhook_free,
};
