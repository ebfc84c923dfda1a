/* alert.h: what the analyzer says about one series, handed to the alert
 * lifecycle (alerts.h). An observation is a plain value: the rule that
 * judged, the series (host, probe, instance), whether the condition holds
 * now and how bad it is, the evidence (value, forecast times) and the
 * labels that route it. The lifecycle turns a stream of observations into
 * alerts (pending, firing, resolved) keyed by rule/host/instance. */
#ifndef HR_ALERT_H
#define HR_ALERT_H

#include <stddef.h>

#include "sample.h"
#include "wire.h"

enum alert_severity {
	ALERT_INFO = 0,     /* shown and logged, never paged by default */
	ALERT_WARNING = 1,
	ALERT_CRITICAL = 2
};

#define ALERT_RULE_MAX 64
#define ALERT_LABELS 16
#define ALERT_LABEL_NAME_MAX 32
#define ALERT_LABEL_VALUE_MAX 128
#define ALERT_SUMMARY_MAX 256
#define ALERT_ROUTE_MAX 64

struct alert_label {
	char name[ALERT_LABEL_NAME_MAX];
	char value[ALERT_LABEL_VALUE_MAX];
};

struct alert_obs {
	char rule[ALERT_RULE_MAX];
	char host[HR_HOST_MAX];
	char probe[HR_PROBE_MAX];
	char instance[HR_INSTANCE_MAX];
	int active;                   /* the condition holds at t */
	enum alert_severity severity; /* how bad, when active */
	double t;                     /* unix seconds: the sample's or the
				       * evaluation's time */
	double value;                 /* the value judged (NAN: none) */
	double eta, eta_early, eta_late; /* forecast exhaustion times (unix
				       * seconds; NAN when not a forecast,
				       * INFINITY when not due) */
	double for_s;                 /* the rule's "for": seconds the condition
				       * must hold before the alert fires */
	int event;                    /* 1: an onset-only detector (spikes): the
				       * detector itself says when it ends, the
				       * lifecycle applies no "for" */
	char summary[ALERT_SUMMARY_MAX]; /* one line for a human */
	char route[ALERT_ROUTE_MAX];  /* the rule's route ("": the default) */
	size_t nlabels;
	struct alert_label labels[ALERT_LABELS]; /* the rule's labels (e.g.
				       * redundancy), then the instance's */
};

/* "info", "warning", "critical". */
const char *alert_severity_name(enum alert_severity s);
/* Parses one of those names; 0, or -1 when s is none of them. */
int alert_severity_parse(const char *s, enum alert_severity *out);

/* Starts an observation of RULE about host/probe/instance (instance may be
 * NULL for ""): inactive, value/eta NAN, no labels. Strings too long are
 * cut. */
void alert_obs_init(struct alert_obs *o, const char *rule, const char *host,
		    const char *probe, const char *instance);
/* Adds or replaces a label; -1 when the name is not 1-31 characters of
 * [A-Za-z0-9_] or all ALERT_LABELS are taken (the value is cut). */
int alert_obs_label(struct alert_obs *o, const char *name, const char *value);
/* The label's value, or NULL. */
const char *alert_obs_get_label(const struct alert_obs *o, const char *name);

#endif
