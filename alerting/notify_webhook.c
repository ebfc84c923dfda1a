/* notify_webhook.c: the generic webhook. It posts the Alertmanager v4
 * payload unchanged, so that receivers written for Alertmanager (chat
 * bridges, incident tools) work with headroom as they are. */
#include "config.h"

#include "notify.h"

static const char *const keys[] = { NOTIFY_HTTP_KEYS, NULL };

static int webhook_send(void *state, const cJSON *payload, const char *json, struct hr_err *err)
{
	(void)payload;
	return notify_http_post(state, json, err);
}

const struct notify_type notify_webhook = {
	.name = "webhook",
	.keys = keys,
	.setup = notify_http_setup,
	.send = webhook_send,
	.free = notify_http_destroy,
};
