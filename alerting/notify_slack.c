/* notify_slack.c: a Slack incoming webhook (also understood by Mattermost
 * and Rocket.Chat): {"text": ...}, a title line and one line per alert. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "notify.h"

static const char *const keys[] = { NOTIFY_HTTP_KEYS, NULL };

char *notify_slack_body(const cJSON *payload)
{
	char title[512], *lines, *text = NULL, *out;
	cJSON *doc;

	notify_title(payload, title, sizeof(title));
	lines = notify_lines(payload);
	if (lines == NULL || asprintf(&text, "%s\n%s", title, lines) < 0)
		text = NULL;
	free(lines);
	if (text == NULL)
		return NULL;
	doc = cJSON_CreateObject();
	if (doc == NULL || cJSON_AddStringToObject(doc, "text", text) == NULL) {
		cJSON_Delete(doc);
		free(text);
		return NULL;
	}
	free(text);
	out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return out;
}

static int slack_send(void *state, const cJSON *payload, const char *json, struct hr_err *err)
{
	char *body = notify_slack_body(payload);
	int r;

	(void)json;
	if (body == NULL)
		return hr_err_set(err, "out of memory"), NOTIFY_RETRY;
	r = notify_http_post(state, body, err);
	free(body);
	return r;
}

const struct notify_type notify_slack = {
	.name = "slack",
	.keys = keys,
	.setup = notify_http_setup,
	.send = slack_send,
	.free = notify_http_destroy,
};
