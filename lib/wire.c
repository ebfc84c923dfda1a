/* wire.c: encoding and decoding the sample document (see wire.h) with
 * cJSON. The decoder is the central's gate for data from the network: it
 * checks every field against the same rules the agent's samples obey and
 * refuses the whole document, with one message naming the JSON path, at the
 * first thing it does not accept. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* --- decoding ------------------------------------------------------------ */

#define SEQ_MAX 9007199254740992.0 /* 2^53: doubles are exact up to here */

struct dec {
	struct hr_wire_limits lim;
	time_t now;
	struct hr_err *err;
};

/* Puts untrusted text into a message: quoted, at most 40 bytes of it, with
 * quotes, backslashes and anything not printable ASCII as escapes, so that
 * a message can go into a log line or an HTTP answer as it is. */
static const char *quote(char *buf, size_t n, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; s[i] != '\0' && o + 8 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* A number for a message: whole numbers in full, the rest in the shortest
 * form that reads back as the same number. */
static const char *num(char *buf, size_t n, double v)
{
	int prec;

	if (v == floor(v) && fabs(v) < 1e17) {
		snprintf(buf, n, "%.0f", v);
		return buf;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

static int has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int probe_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= HR_PROBE_MAX - 1 ||
		    !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return i > 0;
}

int hr_host_valid(const char *name)
{
	size_t i, label = 0;

	if (name[0] == '-')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= HR_HOST_MAX - 1)
			return 0;
		if (c == '.') {
			if (label == 0)
				return 0; /* leading '.', ".." */
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	/* Also refuses "" and a trailing '.': "web1." would be a second
	 * folder for the host "web1". */
	return label > 0;
}

/* Before cJSON sees the text: JSON (RFC 8259, section 7) allows no raw
 * control character in a string, and outside strings only the four
 * whitespace bytes, but cJSON takes any byte up to 0x20 as whitespace and
 * copies raw bytes into strings. A \u0000 escape would cut a string short
 * without a trace once it is a C string. Nesting is bounded here so that
 * cJSON's recursion stays shallow: the document itself is 4 levels deep. */
static int prescan(const unsigned char *p, size_t len, struct hr_err *err)
{
	size_t i, depth = 0;
	int in_string = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (in_string) {
			if (c < 0x20)
				goto bad;
			if (c == '"') {
				in_string = 0;
			} else if (c == '\\') {
				if (i + 5 < len && memcmp(p + i + 1, "u0000", 5) == 0)
					return hr_err_set(err, "(top): a string contains \\u0000 (byte %zu)", i);
				i++; /* an escaped '"' or '\\' ends nothing */
			}
			continue;
		}
		switch (c) {
		case '"':
			in_string = 1;
			break;
		case '{':
		case '[':
			if (++depth > HR_WIRE_MAX_DEPTH)
				return hr_err_set(err, "(top): nested deeper than %d levels (byte %zu)",
						  HR_WIRE_MAX_DEPTH, i);
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (c < 0x20)
				goto bad;
		}
	}
	return 0;
bad:
	return hr_err_set(err, "(top): not valid JSON (byte %zu)", i);
}

/* Sorts the members of obj into slots by name (names[i] into slots[i]).
 * Unknown and repeated keys are errors: cJSON keeps both copies of a
 * repeated key, and which one a reader takes is anybody's guess. */
static int slot_keys(const cJSON *obj, const char *path, const char *const *names,
		     size_t count, const cJSON **slots, struct hr_err *err)
{
	const cJSON *c;
	char q[200];
	size_t i;

	for (i = 0; i < count; i++)
		slots[i] = NULL;
	cJSON_ArrayForEach(c, obj) {
		for (i = 0; i < count; i++)
			if (strcmp(c->string, names[i]) == 0)
				break;
		if (i == count)
			return hr_err_set(err, "%s: unknown key %s", path, quote(q, sizeof(q), c->string));
		if (slots[i] != NULL)
			return hr_err_set(err, "%s: duplicate key \"%s\"", path, names[i]);
		slots[i] = c;
	}
	return 0;
}

/* A whole number in [lo, hi] into *out; otherwise the error "PATH: expected
 * a whole number WHAT". */
static int whole(const cJSON *j, const char *path, double lo, double hi, const char *what,
		 double *out, struct hr_err *err)
{
	double v;

	if (!cJSON_IsNumber(j))
		return hr_err_set(err, "%s: expected a whole number %s", path, what);
	v = j->valuedouble;
	if (!isfinite(v))
		return hr_err_set(err, "%s: not a finite number", path);
	if (v != floor(v) || v < lo || v > hi)
		return hr_err_set(err, "%s: expected a whole number %s", path, what);
	*out = v;
	return 0;
}

static int step_like(const struct dec *d, const cJSON *j, const char *path, unsigned *out)
{
	char what[64];
	double v;

	snprintf(what, sizeof(what), "from 1 to %u", d->lim.max_interval);
	if (whole(j, path, 1, d->lim.max_interval, what, &v, d->err) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* A string member into dst (size n), refusing control characters. */
static int text_field(const cJSON *j, const char *path, char *dst, size_t n, struct hr_err *err)
{
	size_t len;

	if (!cJSON_IsString(j))
		return hr_err_set(err, "%s: expected a string", path);
	len = strlen(j->valuestring);
	if (len >= n)
		return hr_err_set(err, "%s: longer than %zu bytes", path, n - 1);
	if (has_control(j->valuestring))
		return hr_err_set(err, "%s: contains a control character", path);
	memcpy(dst, j->valuestring, len + 1);
	return 0;
}

static int decode_values(const struct dec *d, const cJSON *obj, const char *path,
			 struct hr_sample *s)
{
	const cJSON *c;
	char p[128], q[200];
	size_t i;

	if (!cJSON_IsObject(obj))
		return hr_err_set(d->err, "%s: expected an object", path);
	cJSON_ArrayForEach(c, obj) {
		if (s->nvalues == HR_SAMPLE_VALUES)
			return hr_err_set(d->err, "%s: more than %d values", path, HR_SAMPLE_VALUES);
		if (!hr_name_valid(c->string))
			return hr_err_set(d->err, "%s: %s is not a valid value name (1-19 of A-Z, a-z, 0-9, _)",
					  path, quote(q, sizeof(q), c->string));
		for (i = 0; i < s->nvalues; i++)
			if (strcmp(s->values[i].name, c->string) == 0)
				return hr_err_set(d->err, "%s: duplicate key \"%s\"", path, c->string);
		snprintf(p, sizeof(p), "%s.%s", path, c->string);
		if (!cJSON_IsNumber(c))
			return hr_err_set(d->err, "%s: expected a number", p);
		/* cJSON reads 1e999 as infinity; RRD takes none. */
		if (!isfinite(c->valuedouble))
			return hr_err_set(d->err, "%s: not a finite number", p);
		memcpy(s->values[s->nvalues].name, c->string, strlen(c->string) + 1);
		s->values[s->nvalues++].v = c->valuedouble;
	}
	return 0;
}

static int decode_labels(const struct dec *d, const cJSON *obj, const char *path,
			 struct hr_sample *s)
{
	const cJSON *c;
	char p[128], q[200];
	size_t i;

	if (!cJSON_IsObject(obj))
		return hr_err_set(d->err, "%s: expected an object", path);
	cJSON_ArrayForEach(c, obj) {
		struct hr_label *l = &s->labels[s->nlabels];

		if (s->nlabels == HR_SAMPLE_LABELS)
			return hr_err_set(d->err, "%s: more than %d labels", path, HR_SAMPLE_LABELS);
		if (!hr_name_valid(c->string))
			return hr_err_set(d->err, "%s: %s is not a valid label name (1-19 of A-Z, a-z, 0-9, _)",
					  path, quote(q, sizeof(q), c->string));
		for (i = 0; i < s->nlabels; i++)
			if (strcmp(s->labels[i].name, c->string) == 0)
				return hr_err_set(d->err, "%s: duplicate key \"%s\"", path, c->string);
		snprintf(p, sizeof(p), "%s.%s", path, c->string);
		if (text_field(c, p, l->value, sizeof(l->value), d->err) < 0)
			return -1;
		memcpy(l->name, c->string, strlen(c->string) + 1);
		s->nlabels++;
	}
	return 0;
}

enum { SK_T, SK_PROBE, SK_INSTANCE, SK_VALUES, SK_LABELS, SK_STEP, SK_COUNT };
static const char *const sample_keys[SK_COUNT] = {
	"t", "probe", "instance", "values", "labels", "step",
};

static int decode_sample(const struct dec *d, const cJSON *obj, size_t idx, struct hr_sample *s)
{
	const cJSON *k[SK_COUNT];
	char path[48], p[64], q[200], a[40], b[40];
	double t, latest;
	int i;

	snprintf(path, sizeof(path), "samples[%zu]", idx);
	if (!cJSON_IsObject(obj))
		return hr_err_set(d->err, "%s: expected an object", path);
	if (slot_keys(obj, path, sample_keys, SK_COUNT, k, d->err) < 0)
		return -1;
	for (i = SK_T; i <= SK_VALUES; i++)
		if (k[i] == NULL)
			return hr_err_set(d->err, "%s: missing \"%s\"", path, sample_keys[i]);

	snprintf(p, sizeof(p), "%s.t", path);
	if (whole(k[SK_T], p, -INFINITY, INFINITY, "of seconds", &t, d->err) < 0)
		return -1;
	if (t < (double)d->lim.min_time)
		return hr_err_set(d->err, "%s: %s is before %s, the earliest time accepted", p,
				  num(a, sizeof(a), t), num(b, sizeof(b), (double)d->lim.min_time));
	/* The second bound also keeps the cast to time_t defined. */
	latest = (double)d->now + d->lim.max_future_s;
	if (t > latest || t > 0x1p62)
		return hr_err_set(d->err, "%s: %s is more than %u s in the future", p,
				  num(a, sizeof(a), t), d->lim.max_future_s);
	s->t = (time_t)t;

	snprintf(p, sizeof(p), "%s.probe", path);
	if (!cJSON_IsString(k[SK_PROBE]))
		return hr_err_set(d->err, "%s: expected a string", p);
	if (!probe_name_valid(k[SK_PROBE]->valuestring))
		return hr_err_set(d->err, "%s: %s is not a valid probe name (1-15 of a-z, 0-9, _)", p,
				  quote(q, sizeof(q), k[SK_PROBE]->valuestring));
	memcpy(s->probe, k[SK_PROBE]->valuestring, strlen(k[SK_PROBE]->valuestring) + 1);

	/* The store escapes whatever else an instance holds (DESIGN.md, "On
	 * disk"); a control character has no business in a file name. */
	snprintf(p, sizeof(p), "%s.instance", path);
	if (text_field(k[SK_INSTANCE], p, s->instance, sizeof(s->instance), d->err) < 0)
		return -1;

	if (k[SK_STEP] != NULL) {
		snprintf(p, sizeof(p), "%s.step", path);
		if (step_like(d, k[SK_STEP], p, &s->step) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s.values", path);
	if (decode_values(d, k[SK_VALUES], p, s) < 0)
		return -1;
	if (k[SK_LABELS] != NULL) {
		snprintf(p, sizeof(p), "%s.labels", path);
		if (decode_labels(d, k[SK_LABELS], p, s) < 0)
			return -1;
	}
	return 0;
}

enum { TK_HOST, TK_AGENT, TK_SEQ, TK_INTERVAL, TK_SAMPLES, TK_COUNT };
static const char *const top_keys[TK_COUNT] = { "host", "agent", "seq", "interval", "samples" };

static int decode_doc(const struct dec *d, const cJSON *doc, struct hr_batch *out)
{
	const cJSON *k[TK_COUNT], *c;
	char q[200], a[40];
	size_t n = 0;

	if (!cJSON_IsObject(doc))
		return hr_err_set(d->err, "(top): expected an object");
	if (slot_keys(doc, "(top)", top_keys, TK_COUNT, k, d->err) < 0)
		return -1;
	if (k[TK_HOST] == NULL)
		return hr_err_set(d->err, "(top): missing \"host\"");
	if (k[TK_SEQ] == NULL)
		return hr_err_set(d->err, "(top): missing \"seq\"");
	if (k[TK_SAMPLES] == NULL)
		return hr_err_set(d->err, "(top): missing \"samples\"");

	if (!cJSON_IsString(k[TK_HOST]))
		return hr_err_set(d->err, "host: expected a string");
	if (!hr_host_valid(k[TK_HOST]->valuestring))
		return hr_err_set(d->err, "host: %s is not a valid host name",
				  quote(q, sizeof(q), k[TK_HOST]->valuestring));
	memcpy(out->host, k[TK_HOST]->valuestring, strlen(k[TK_HOST]->valuestring) + 1);

	if (k[TK_AGENT] != NULL &&
	    text_field(k[TK_AGENT], "agent", out->agent, sizeof(out->agent), d->err) < 0)
		return -1;

	if (!cJSON_IsNumber(k[TK_SEQ]) || !isfinite(k[TK_SEQ]->valuedouble) ||
	    k[TK_SEQ]->valuedouble != floor(k[TK_SEQ]->valuedouble) || k[TK_SEQ]->valuedouble < 1)
		return hr_err_set(d->err, "seq: expected a whole number >= 1");
	if (k[TK_SEQ]->valuedouble > SEQ_MAX)
		return hr_err_set(d->err, "seq: %s is more than 2^53",
				  num(a, sizeof(a), k[TK_SEQ]->valuedouble));
	out->seq = (uint64_t)k[TK_SEQ]->valuedouble;

	if (k[TK_INTERVAL] != NULL && step_like(d, k[TK_INTERVAL], "interval", &out->interval) < 0)
		return -1;

	if (!cJSON_IsArray(k[TK_SAMPLES]))
		return hr_err_set(d->err, "samples: expected an array");
	cJSON_ArrayForEach(c, k[TK_SAMPLES])
		if (++n > d->lim.max_samples)
			return hr_err_set(d->err, "samples: more than %zu samples", d->lim.max_samples);
	if (n > 0) {
		out->samples = calloc(n, sizeof(*out->samples));
		if (out->samples == NULL)
			return hr_err_set(d->err, "(top): out of memory for %zu samples", n);
	}
	n = 0;
	cJSON_ArrayForEach(c, k[TK_SAMPLES]) {
		if (decode_sample(d, c, n, &out->samples[n]) < 0)
			return -1;
		n++;
	}
	out->n = n;
	return 0;
}

int hr_wire_decode(const char *text, size_t len, const struct hr_wire_limits *lim,
		   time_t now, struct hr_batch *out, struct hr_err *err)
{
	static const struct hr_wire_limits defaults = HR_WIRE_LIMITS_DEFAULT;
	struct dec d = { .lim = defaults, .now = now, .err = err };
	const char *end = NULL;
	cJSON *doc = NULL;
	char *copy = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (lim != NULL) {
		if (lim->max_samples != 0)
			d.lim.max_samples = lim->max_samples;
		if (lim->max_future_s != 0)
			d.lim.max_future_s = lim->max_future_s;
		if (lim->min_time != 0)
			d.lim.min_time = lim->min_time;
		if (lim->max_interval != 0)
			d.lim.max_interval = lim->max_interval;
	}
	if (text == NULL) {
		text = "";
		len = 0;
	}
	if (prescan((const unsigned char *)text, len, err) < 0)
		goto out;
	/* A private NUL-terminated copy: the text may end at len without a
	 * NUL, and with one cJSON can insist that nothing follows the
	 * document (the prescan has refused any NUL inside it). */
	copy = malloc(len + 1);
	if (copy == NULL) {
		hr_err_set(err, "(top): out of memory for %zu bytes", len);
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	doc = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
	if (doc == NULL) {
		size_t at = end != NULL && end >= copy ? (size_t)(end - copy) : 0;

		hr_err_set(err, "(top): not valid JSON (byte %zu)", at < len ? at : len);
		goto out;
	}
	rc = decode_doc(&d, doc, out);
out:
	if (rc < 0) {
		hr_batch_free(out);
		memset(out, 0, sizeof(*out));
	}
	cJSON_Delete(doc);
	free(copy);
	return rc;
}

void hr_batch_free(struct hr_batch *b)
{
	if (b == NULL)
		return;
	free(b->samples);
	b->samples = NULL;
	b->n = 0;
}
