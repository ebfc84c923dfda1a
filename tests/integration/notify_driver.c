/* notify_driver.c: headroom-central's delivery queue (delivery.h) as a
 * process of its own, for tests/integration/notify.sh: opens DB with the
 * "notify" array of CONFIG, starts the workers, queues one notification per
 * line of FILE or standard input ("ROUTE SEVERITY PAYLOAD", ROUTE "-" for
 * ""; a file because a background job's standard input is /dev/null), and
 * after the end of input waits until the queue is empty (exit 0) or
 * SECONDS have passed (exit 1). kill -9 it to play a crash. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "delivery.h"
#include "log.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct hr_errs errs;
	struct hr_err err;
	struct delivery *d;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	double until;
	cJSON *cfg;
	FILE *in = stdin;
	int rc = 1;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: notify_driver DB CONFIG SECONDS [FILE]\n");
		return 2;
	}
	if (argc == 5 && (in = fopen(argv[4], "r")) == NULL)
		hr_fatal("%s: cannot open", argv[4]);
	hr_log_init("notify_driver", 0, HR_LOG_DEBUG);
	hr_errs_init(&errs);
	cfg = hr_cfg_load(argv[2], &errs);
	if (cfg == NULL)
		hr_fatal("%s: %s", argv[2], errs.count > 0 ? errs.items[0] : "bad");
	d = delivery_open(argv[1], cJSON_GetObjectItem(cfg, "notify"), &err);
	if (d == NULL)
		hr_fatal("%s", err.msg);
	if (delivery_start(d, &err) < 0)
		hr_fatal("%s", err.msg);
	while ((len = getline(&line, &cap, in)) > 0) {
		char *route = line, *sev, *payload;
		enum alert_severity s;

		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		sev = strchr(route, ' ');
		payload = sev != NULL ? strchr(sev + 1, ' ') : NULL;
		if (payload == NULL)
			hr_fatal("bad line: %s", line);
		*sev++ = '\0';
		*payload++ = '\0';
		if (alert_severity_parse(sev, &s) < 0)
			hr_fatal("bad severity: %s", sev);
		if (delivery_route(d, strcmp(route, "-") == 0 ? "" : route, s, payload, &err) < 0)
			hr_fatal("%s", err.msg);
		printf("queued\n");
		fflush(stdout);
	}
	free(line);
	if (in != stdin)
		fclose(in);
	until = hr_now_mono() + atof(argv[3]);
	while (hr_now_mono() < until) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		if (delivery_pending(d, NULL) == 0) {
			rc = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	delivery_close(d);
	cJSON_Delete(cfg);
	hr_errs_free(&errs);
	return rc;
}
