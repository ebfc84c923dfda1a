/* wire.c: encoding the sample document (see wire.h) with cJSON. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "wire.h"

/* cJSON 1.7.15 prints numbers with 15 significant digits whenever its
 * epsilon comparison calls that close enough, which changes large counters
 * (9007199254740991 comes back as ...990). Print the shortest form that
 * reads back exactly instead, as a raw JSON number. */
static cJSON *add_number(cJSON *obj, const char *name, double v)
{
	char buf[32];
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return cJSON_AddRawToObject(obj, name, buf);
}

static cJSON *sample_to_json(const struct hr_sample *s)
{
	cJSON *o = cJSON_CreateObject(), *values, *labels;
	size_t i;

	if (o == NULL)
		return NULL;
	if (add_number(o, "t", (double)s->t) == NULL ||
	    cJSON_AddStringToObject(o, "probe", s->probe) == NULL ||
	    cJSON_AddStringToObject(o, "instance", s->instance) == NULL ||
	    (values = cJSON_AddObjectToObject(o, "values")) == NULL ||
	    (labels = cJSON_AddObjectToObject(o, "labels")) == NULL)
		goto fail;
	/* Only instances with an interval of their own (exec checks) say so;
	 * the others have the document's "interval". */
	if (s->step != 0 && add_number(o, "step", s->step) == NULL)
		goto fail;
	for (i = 0; i < s->nvalues; i++)
		if (add_number(values, s->values[i].name, s->values[i].v) == NULL)
			goto fail;
	for (i = 0; i < s->nlabels; i++)
		if (cJSON_AddStringToObject(labels, s->labels[i].name, s->labels[i].value) == NULL)
			goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

char *hr_wire_encode(const char *host, uint64_t seq, unsigned interval,
		     const struct hr_sample *samples, size_t n, int pretty, struct hr_err *err)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	char *out = NULL;
	size_t i;

	if (doc == NULL ||
	    cJSON_AddStringToObject(doc, "host", host) == NULL ||
	    cJSON_AddStringToObject(doc, "agent", "headroom-agent/" PACKAGE_VERSION) == NULL ||
	    add_number(doc, "seq", (double)seq) == NULL ||
	    cJSON_AddNumberToObject(doc, "interval", interval) == NULL ||
	    (arr = cJSON_AddArrayToObject(doc, "samples")) == NULL) {
		hr_err_set(err, "wire: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		cJSON *o = sample_to_json(&samples[i]);

		if (o == NULL) {
			hr_err_set(err, "wire: out of memory");
			goto out;
		}
		cJSON_AddItemToArray(arr, o);
	}
	out = pretty ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
	if (out == NULL)
		hr_err_set(err, "wire: out of memory");
out:
	cJSON_Delete(doc);
	return out;
}
