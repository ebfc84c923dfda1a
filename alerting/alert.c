/* alert.c: the observation value type (alert.h). */
#include <math.h>
#include <string.h>

#include "alert.h"
#include "util.h"

static const char *const severity_names[] = {"info", "warning", "critical"};

const char *alert_severity_name(enum alert_severity s)
{
	if ((unsigned)s >= sizeof(severity_names) / sizeof(severity_names[0]))
		return "unknown";
	return severity_names[s];
}

int alert_severity_parse(const char *s, enum alert_severity *out)
{
	unsigned i;

	for (i = 0; i < sizeof(severity_names) / sizeof(severity_names[0]); i++) {
		if (strcmp(s, severity_names[i]) == 0) {
			*out = (enum alert_severity)i;
			return 0;
		}
	}
	return -1;
}

void alert_obs_init(struct alert_obs *o, const char *rule, const char *host,
		    const char *probe, const char *instance)
{
	memset(o, 0, sizeof(*o));
	hr_strlcpy(o->rule, rule, sizeof(o->rule));
	hr_strlcpy(o->host, host, sizeof(o->host));
	hr_strlcpy(o->probe, probe, sizeof(o->probe));
	hr_strlcpy(o->instance, instance != NULL ? instance : "", sizeof(o->instance));
	o->value = NAN;
	o->eta = o->eta_early = o->eta_late = NAN;
}

static int label_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= ALERT_LABEL_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

int alert_obs_label(struct alert_obs *o, const char *name, const char *value)
{
	size_t i;

	if (!label_name_ok(name))
		return -1;
	for (i = 0; i < o->nlabels; i++) {
		if (strcmp(o->labels[i].name, name) == 0)
			break;
	}
	if (i == o->nlabels) {
		if (o->nlabels == ALERT_LABELS)
			return -1;
		o->nlabels++;
		hr_strlcpy(o->labels[i].name, name, sizeof(o->labels[i].name));
	}
	hr_strlcpy(o->labels[i].value, value, sizeof(o->labels[i].value));
	return 0;
}

const char *alert_obs_get_label(const struct alert_obs *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nlabels; i++) {
		if (strcmp(o->labels[i].name, name) == 0)
			return o->labels[i].value;
	}
	return NULL;
}
