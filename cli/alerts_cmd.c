/* alerts_cmd.c: `headroom alerts`, `headroom ack`, `headroom silence`
 * (alerts_cmd.h). Each opens the central's DATA/headroom.db through the
 * lifecycle (alerts.h) without a notifier, so nothing is sent from here:
 * the central's own tick sends what an expired silence releases. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "alerts_cmd.h"
#include "cliopt.h"
#include "util.h"

struct opts {
	const char *config;
	const char *by, *comment, *match, *for_s, *until;
	int all, json;
	const char *args[2];   /* positional words after the command */
	int nargs;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom alerts [-c CENTRAL_CONFIG] [--all] [--json]\n"
		"       headroom ack ID --by NAME [--comment TEXT] [-c CENTRAL_CONFIG]\n"
		"       headroom silence add --match LABEL=GLOB[,...] (--for DURATION|--until TIME)\n"
		"                            --by NAME [--comment TEXT] [-c CENTRAL_CONFIG]\n"
		"       headroom silence list [--all] [--json] [-c CENTRAL_CONFIG]\n"
		"       headroom silence expire ID --by NAME [-c CENTRAL_CONFIG]\n");
}

/* Options anywhere after the command; -1 on a bad one (said). */
static int parse(int argc, char **argv, int first, struct opts *o)
{
	const struct cliopt opts[] = {
		{ "--all", NULL, NULL, &o->all },
		{ "--json", NULL, NULL, &o->json },
		{ "--config", "-c", &o->config, NULL },
		{ "--by", NULL, &o->by, NULL },
		{ "--comment", NULL, &o->comment, NULL },
		{ "--match", NULL, &o->match, NULL },
		{ "--for", NULL, &o->for_s, NULL },
		{ "--until", NULL, &o->until, NULL },
		{ NULL, NULL, NULL, NULL }
	};

	memset(o, 0, sizeof(*o));
	o->config = CENTRAL_CONFIG_FILE;
	return cliopt_parse(argc, argv, first, opts, o->args, 2, &o->nargs);
}

static int parse_id(const char *s, long long *id)
{
	int64_t v;

	if (s == NULL || hr_parse_i64(s, strlen(s), &v) < 0 || v <= 0) {
		fprintf(stderr, "headroom: \"%s\" is not an id (a positive number)\n",
			s != NULL ? s : "");
		return -1;
	}
	*id = (long long)v;
	return 0;
}

/* TIME: unix seconds, or UTC "YYYY-MM-DD[ T]HH:MM[:SS][Z]". */
static int parse_time(const char *s, double *t)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", NULL
	};
	size_t i;

	if (hr_parse_double(s, strlen(s), t) == 0 && isfinite(*t) && *t > 0)
		return 0;
	for (i = 0; fmts[i] != NULL; i++) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && (*end == '\0' || strcmp(end, "Z") == 0)) {
			*t = (double)timegm(&tm);
			return 0;
		}
	}
	return -1;
}

static void when(char *dst, size_t n, double t)
{
	struct tm tm;
	time_t s;

	if (!isfinite(t)) {
		hr_strlcpy(dst, "-", n);
		return;
	}
	s = (time_t)t;
	gmtime_r(&s, &tm);
	strftime(dst, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Loads the config and opens DATA/headroom.db; NULL after saying why, with
 * *code the exit code. */
static struct alerts *open_central(const struct opts *o, int *code)
{
	struct central_config cfg;
	struct alerts_params p;
	struct hr_errs errs;
	struct hr_err err;
	struct alerts *a = NULL;
	char db[PATH_MAX];
	size_t i;

	if (cliopt_central(o->config, &cfg, db, sizeof(db)) < 0) {
		*code = 2;
		return NULL;
	}
	hr_errs_init(&errs);
	alerts_params_default(&p);
	if (cfg.alerts != NULL && alerts_params_parse(cfg.alerts, "alerts", &p, &errs) < 0) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "headroom: %s: %s\n", o->config, errs.items[i]);
		*code = 2;
		goto out;
	}
	/* external_url borrows from the config; the CLI sends nothing, so
	 * it is not needed past here. */
	p.external_url = NULL;
	a = alerts_open(db, &p, NULL, &err);
	if (a == NULL) {
		fprintf(stderr, "headroom: %s\n", err.msg);
		*code = 1;
	}
out:
	hr_errs_free(&errs);
	central_config_free(&cfg);
	return a;
}

static int print_json(cJSON *doc)
{
	char *s = cJSON_Print(doc);
	int rc = 0;

	if (s == NULL || printf("%s\n", s) < 0)
		rc = 1;
	free(s);
	return rc;
}

static int cmd_alerts(const struct opts *o)
{
	struct hr_err err;
	struct alerts *a;
	cJSON *l, *it;
	int code = 0;

	if (o->nargs != 0 || o->by != NULL || o->match != NULL) {
		usage(stderr);
		return 2;
	}
	a = open_central(o, &code);
	if (a == NULL)
		return code;
	l = alerts_list(a, o->all, 0, hr_now_wall(), &err);
	alerts_close(a);
	if (l == NULL) {
		fprintf(stderr, "headroom: %s\n", err.msg);
		return 1;
	}
	if (o->json) {
		code = print_json(l);
		cJSON_Delete(l);
		return code;
	}
	printf("%-6s %-9s %-8s %-20s %-22s %-16s %-21s %s\n", "ID", "STATUS", "SEVERITY", "HOST",
	       "ALERT", "INSTANCE", "SINCE", "SUMMARY");
	cJSON_ArrayForEach(it, l) {
		char since[32];
		double t = num(it, "fired");

		when(since, sizeof(since), isfinite(t) ? t : num(it, "started"));
		printf("%-6.0f %-9s %-8s %-20s %-22s %-16s %-21s %s\n", num(it, "id"),
		       str(it, "status"), str(it, "severity"), str(it, "host"), str(it, "rule"),
		       str(it, "instance")[0] != '\0' ? str(it, "instance") : "-", since,
		       str(it, "summary"));
		if (str(it, "acked_by")[0] != '\0') {
			when(since, sizeof(since), num(it, "acked_at"));
			printf("       acked by %s at %s%s%s\n", str(it, "acked_by"), since,
			       str(it, "ack_comment")[0] != '\0' ? ": " : "",
			       str(it, "ack_comment"));
		}
	}
	cJSON_Delete(l);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_ack(const struct opts *o)
{
	struct hr_err err;
	struct alerts *a;
	long long id;
	int code = 0;

	if (o->nargs != 1 || o->by == NULL || o->match != NULL) {
		usage(stderr);
		return 2;
	}
	if (parse_id(o->args[0], &id) < 0)
		return 2;
	a = open_central(o, &code);
	if (a == NULL)
		return code;
	if (alerts_ack(a, id, o->by, o->comment, hr_now_wall(), &err) < 0) {
		fprintf(stderr, "headroom: %s\n", err.msg);
		code = 1;
	} else {
		printf("alert %lld acknowledged by %s\n", id, o->by);
	}
	alerts_close(a);
	return code;
}

static int cmd_silence(const struct opts *o)
{
	const char *verb = o->nargs > 0 ? o->args[0] : "";
	struct hr_err err;
	struct alerts *a;
	double now = hr_now_wall(), ends = NAN;
	long long id = 0;
	int code = 0;

	if (strcmp(verb, "add") == 0) {
		if (o->nargs != 1 || o->by == NULL || o->match == NULL ||
		    (o->for_s == NULL) == (o->until == NULL)) {
			usage(stderr);
			return 2;
		}
		if (o->for_s != NULL) {
			double d;

			if (hr_parse_duration(o->for_s, &d) < 0 || d <= 0) {
				fprintf(stderr, "headroom: --for \"%s\": expected a duration such as"
					" 90m, 2h, 1d\n", o->for_s);
				return 2;
			}
			ends = now + d;
		} else if (parse_time(o->until, &ends) < 0 || ends <= now) {
			fprintf(stderr, "headroom: --until \"%s\": expected a future time (unix"
				" seconds or YYYY-MM-DDTHH:MM[:SS]Z, UTC)\n", o->until);
			return 2;
		}
	} else if (strcmp(verb, "expire") == 0) {
		if (o->nargs != 2 || o->by == NULL) {
			usage(stderr);
			return 2;
		}
		if (parse_id(o->args[1], &id) < 0)
			return 2;
	} else if (strcmp(verb, "list") != 0 || o->nargs != 1) {
		usage(stderr);
		return 2;
	}
	a = open_central(o, &code);
	if (a == NULL)
		return code;
	if (strcmp(verb, "add") == 0) {
		if (alerts_silence_add(a, o->match, now, ends, o->by, o->comment, &id, &err) < 0) {
			fprintf(stderr, "headroom: %s\n", err.msg);
			/* a bad matcher is the user's input; the rest is runtime */
			code = strncmp(err.msg, "matchers", 8) == 0 || strncmp(err.msg, "who", 3) == 0 ? 2 : 1;
		} else {
			char until[32];

			when(until, sizeof(until), ends);
			printf("silence %lld until %s\n", id, until);
		}
	} else if (strcmp(verb, "expire") == 0) {
		if (alerts_silence_expire(a, id, o->by, now, &err) < 0) {
			fprintf(stderr, "headroom: %s\n", err.msg);
			code = 1;
		} else {
			printf("silence %lld expired by %s\n", id, o->by);
		}
	} else {
		cJSON *l = alerts_silences(a, o->all, now, &err), *it;

		if (l == NULL) {
			fprintf(stderr, "headroom: %s\n", err.msg);
			code = 1;
		} else if (o->json) {
			code = print_json(l);
		} else {
			printf("%-6s %-7s %-21s %-21s %-12s %s\n", "ID", "ACTIVE", "STARTS", "ENDS",
			       "BY", "MATCHERS");
			cJSON_ArrayForEach(it, l) {
				char s1[32], s2[32];

				when(s1, sizeof(s1), num(it, "starts"));
				when(s2, sizeof(s2), num(it, "ends"));
				printf("%-6.0f %-7s %-21s %-21s %-12s %s%s%s\n", num(it, "id"),
				       cJSON_IsTrue(cJSON_GetObjectItem(it, "active")) ? "yes" : "no",
				       s1, s2, str(it, "by"), str(it, "matchers"),
				       str(it, "comment")[0] != '\0' ? "  # " : "", str(it, "comment"));
			}
		}
		cJSON_Delete(l);
	}
	alerts_close(a);
	return code;
}

int alerts_cmd_main(int argc, char **argv)
{
	struct opts o;

	if (argc < 1)
		return 2;
	if (parse(argc, argv, 1, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "alerts") == 0)
		return cmd_alerts(&o);
	if (strcmp(argv[0], "ack") == 0)
		return cmd_ack(&o);
	if (strcmp(argv[0], "silence") == 0)
		return cmd_silence(&o);
	usage(stderr);
	return 2;
}
