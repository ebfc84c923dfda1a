/* exec.c: the exec probe (see exec.h). Config: one object per check, keyed
 * by its name (the instance): {"command": [ARGV...], "interval": D,
 * "timeout": D, "max_output": BYTES}. Due checks run at the same time on up
 * to EXEC_PARALLEL threads, each through hr_run (no shell, own process group,
 * killed at its timeout or when its output passes max_output), so one hanging
 * plugin does not hold up the others. Output and exit codes follow the
 * Nagios plugin guidelines: https://nagios-plugins.org/doc/guidelines.html */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "exec.h"
#include "log.h"
#include "run.h"
#include "util.h"

#define EXEC_STACK (256u * 1024u)

/* ---- output and perfdata parsing (pure) ---- */

/* Units of measurement of the guidelines ("s", "us", "ms", "%", "B", "KB",
 * "MB", "TB", "c") plus "GB" and the IEC spellings. Byte multiples are 1024
 * based: monitoring-plugins' check_disk and check_swap compute "MB" as
 * 1024 * 1024 bytes (check_disk -w 100 means 100 * 1048576 bytes). */
static const struct {
	const char *uom;
	enum exec_unit unit;
	double mult;
} exec_units[] = {
	{ "s", EXEC_UNIT_SECONDS, 1 },
	{ "ms", EXEC_UNIT_SECONDS, 1e-3 },
	{ "us", EXEC_UNIT_SECONDS, 1e-6 },
	{ "%", EXEC_UNIT_PERCENT, 1 },
	{ "B", EXEC_UNIT_BYTES, 1 },
	{ "KB", EXEC_UNIT_BYTES, 1024.0 },
	{ "kB", EXEC_UNIT_BYTES, 1024.0 },
	{ "MB", EXEC_UNIT_BYTES, 1048576.0 },
	{ "GB", EXEC_UNIT_BYTES, 1073741824.0 },
	{ "TB", EXEC_UNIT_BYTES, 1099511627776.0 },
	{ "KiB", EXEC_UNIT_BYTES, 1024.0 },
	{ "MiB", EXEC_UNIT_BYTES, 1048576.0 },
	{ "GiB", EXEC_UNIT_BYTES, 1073741824.0 },
	{ "TiB", EXEC_UNIT_BYTES, 1099511627776.0 },
	{ "c", EXEC_UNIT_COUNTER, 1 },
};

static int exec_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int exec_is_alnum(char c)
{
	return exec_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int exec_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Length of the decimal number at the start of s: [+-]digits[.digits] with
 * at least one digit, then an optional exponent; 0 when there is none. */
static size_t exec_number_len(const char *s, size_t len)
{
	size_t i = 0, j, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && exec_is_digit(s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && exec_is_digit(s[i]); i++)
			digits++;
	if (digits == 0)
		return 0;
	/* An 'e' not followed by digits is a unit's letter, not an exponent. */
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		j = i + 1;
		if (j < len && (s[j] == '-' || s[j] == '+'))
			j++;
		if (j < len && exec_is_digit(s[j])) {
			while (j < len && exec_is_digit(s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

/* The value field: a number and an optional unit, or "U". */
static int exec_parse_value(const char *s, size_t len, struct exec_perf *p)
{
	size_t n, i, u;
	double mult = 1;

	if (len == 1 && s[0] == 'U') {
		p->known = 0;
		p->unit = EXEC_UNIT_NONE;
		return 0;
	}
	n = exec_number_len(s, len);
	if (n == 0 || hr_parse_double(s, n, &p->value) < 0)
		return -1;
	/* Letters, '%' and '/' (or UTF-8, as in "°C") only: "1,5" and "1.2.3"
	 * are garbage, not 1 with an odd unit. */
	if (len - n >= EXEC_UOM_MAX)
		return -1;
	for (i = n; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '%' ||
		      s[i] == '/' || (unsigned char)s[i] >= 0x80))
			return -1;
	memcpy(p->uom, s + n, len - n);
	p->uom[len - n] = '\0';
	p->known = 1;
	p->unit = len == n ? EXEC_UNIT_NONE : EXEC_UNIT_OTHER;
	for (u = 0; len > n && u < sizeof(exec_units) / sizeof(exec_units[0]); u++) {
		if (strcmp(p->uom, exec_units[u].uom) == 0) {
			p->unit = exec_units[u].unit;
			mult = exec_units[u].mult;
			break;
		}
	}
	p->value *= mult;
	return isfinite(p->value) ? 0 : -1;
}

int exec_parse_perf_item(const char *s, size_t len, struct exec_perf *p)
{
	size_t i = 0, o = 0, v;

	memset(p, 0, sizeof(*p));
	if (len == 0)
		return -1;
	if (s[0] == '\'') {
		/* 'label with spaces'=1, a quote written as two. */
		for (i = 1;; i++) {
			if (i >= len)
				return -1;
			if (s[i] == '\'') {
				if (i + 1 < len && s[i + 1] == '\'') {
					i++;
				} else {
					i++;
					break;
				}
			}
			if (s[i] == '\0')
				return -1;
			if (o < EXEC_LABEL_MAX - 1)
				p->label[o++] = s[i];
		}
		if (i >= len || s[i] != '=')
			return -1;
	} else {
		for (; i < len && s[i] != '='; i++) {
			if (s[i] == '\'' || s[i] == '\0')
				return -1;
			if (o < EXEC_LABEL_MAX - 1)
				p->label[o++] = s[i];
		}
		if (i >= len)
			return -1;
	}
	if (o == 0)
		return -1;
	p->label[o] = '\0';
	i++; /* '=' */
	/* Thresholds, min and max after the first ';' are not kept. */
	for (v = i; v < len && s[v] != ';'; v++)
		;
	if (v == i)
		return -1;
	return exec_parse_value(s + i, v - i, p);
}

/* Splits [p, end) into space-separated items, honouring quoted labels. */
static void exec_parse_perfdata(const char *p, const char *end, struct exec_output *o)
{
	struct exec_perf item;

	while (p < end) {
		const char *start;

		while (p < end && exec_is_space(*p))
			p++;
		if (p == end)
			break;
		start = p;
		if (*p == '\'') {
			for (p++; p < end; p++) {
				if (*p != '\'')
					continue;
				if (p + 1 < end && p[1] == '\'') {
					p++;
					continue;
				}
				p++;
				break;
			}
		}
		while (p < end && !exec_is_space(*p))
			p++;
		if (exec_parse_perf_item(start, (size_t)(p - start), &item) < 0) {
			if (o->bad++ == 0)
				hr_printable(o->first_bad, sizeof(o->first_bad), start,
					     (size_t)(p - start));
			continue;
		}
		if (item.unit == EXEC_UNIT_OTHER && o->odd_units++ == 0)
			hr_printable(o->first_odd, sizeof(o->first_odd), item.uom,
				     strlen(item.uom));
		if (o->count == EXEC_PERF_MAX) {
			o->dropped++;
			continue;
		}
		o->items[o->count++] = item;
	}
}

void exec_parse_output(const char *buf, size_t len, struct exec_output *out)
{
	struct hr_lines it;
	const char *line, *bar, *end;
	size_t l;
	int in_perf = 0;

	memset(out, 0, sizeof(*out));
	hr_lines_init(&it, buf, len);
	if (!hr_lines_next(&it, &line, &l))
		return;
	end = line + l;
	bar = memchr(line, '|', l);
	if (bar != NULL) {
		exec_parse_perfdata(bar + 1, end, out);
		end = bar;
	}
	while (line < end && (exec_is_space(*line) || *line == '\0'))
		line++;
	while (end > line && (exec_is_space(end[-1]) || end[-1] == '\0'))
		end--;
	hr_printable(out->text, sizeof(out->text), line, (size_t)(end - line));
	/* Long text; its first '|' starts perfdata that runs to the end. */
	while (hr_lines_next(&it, &line, &l)) {
		if (in_perf) {
			exec_parse_perfdata(line, line + l, out);
			continue;
		}
		bar = memchr(line, '|', l);
		if (bar != NULL) {
			in_perf = 1;
			exec_parse_perfdata(bar + 1, line + l, out);
		}
	}
}

/* The label's alphanumeric runs joined by '_', at most HR_NAME_MAX-1. */
static size_t exec_sanitise(const char *label, char *dst)
{
	size_t o = 0;
	int gap = 0;

	for (; *label != '\0' && o < HR_NAME_MAX - 1; label++) {
		if (!exec_is_alnum(*label)) {
			gap = 1;
			continue;
		}
		if (gap && o > 0) {
			dst[o++] = '_';
			if (o == HR_NAME_MAX - 1)
				break;
		}
		gap = 0;
		dst[o++] = *label;
	}
	while (o > 0 && dst[o - 1] == '_')
		o--;
	dst[o] = '\0';
	return o;
}

static int exec_ends_with(const char *s, size_t len, const char *tail)
{
	size_t t = strlen(tail);

	return len > t && strcmp(s + len - t, tail) == 0;
}

void exec_value_name(const char *label, enum exec_unit unit, const struct hr_sample *s,
		     char *dst)
{
	char base[HR_NAME_MAX], ext[16];
	const char *suffix = "";
	size_t len, avail;
	unsigned n;

	len = exec_sanitise(label, base);
	if (len == 0)
		len = hr_strlcpy(base, strcmp(label, "/") == 0 ? "root" : "value", sizeof(base));
	if (unit == EXEC_UNIT_COUNTER) {
		suffix = "_total";
		if (exec_ends_with(base, len, "_total"))
			base[len -= 6] = '\0';
	} else if (exec_ends_with(base, len, "_total")) {
		/* Only a 'c' unit makes a counter (the schema reads *_total so). */
		base[len -= 2] = '\0';
	}
	for (n = 1;; n++) {
		ext[0] = '\0';
		if (n > 1)
			snprintf(ext, sizeof(ext), "_%u", n);
		avail = HR_NAME_MAX - 1 - strlen(ext) - strlen(suffix);
		len = strlen(base);
		if (len > avail)
			len = avail;
		while (len > 1 && base[len - 1] == '_')
			len--;
		/* len + ext + suffix <= HR_NAME_MAX - 1 by avail above. */
		memcpy(dst, base, len);
		memcpy(dst + len, ext, strlen(ext));
		len += strlen(ext);
		memcpy(dst + len, suffix, strlen(suffix) + 1);
		if (strcmp(dst, "state") != 0 && hr_sample_get(s, dst) == NULL)
			return;
	}
}

void exec_sample_perf(const struct exec_output *o, struct hr_sample *s)
{
	char name[HR_NAME_MAX];
	size_t i;

	for (i = 0; i < o->count; i++) {
		if (!o->items[i].known)
			continue;
		if (s->nvalues == HR_SAMPLE_VALUES) {
			s->truncated++;
			continue;
		}
		exec_value_name(o->items[i].label, o->items[i].unit, s, name);
		hr_sample_set(s, name, o->items[i].value);
	}
}

/* ---- the probe ---- */

struct exec_check {
	char *name;             /* instance: the config key */
	char **argv;            /* NULL-terminated */
	unsigned interval;      /* seconds; 0: every read of the probe */
	double timeout;
	size_t max_output;
	double last_start;      /* monotonic time of the last run */
	int ran;
	struct hr_complain c_run;  /* could not run, or ended badly */
	struct hr_complain c_perf; /* garbage perfdata, odd units, too many */
	/* this read's run, filled by a worker */
	int due;
	int rc;
	struct hr_err err;
	struct hr_run_result res;
};

struct exec_state {
	struct exec_check *checks;
	size_t count;
	/* a read's queue of due checks */
	pthread_mutex_t lock;
	size_t next;
};

static const char *const exec_check_keys[] = { "command", "interval", "timeout", "max_output",
					       NULL };

static void exec_check_free(struct exec_check *c)
{
	size_t i;

	free(c->name);
	for (i = 0; c->argv != NULL && c->argv[i] != NULL; i++)
		free(c->argv[i]);
	free(c->argv);
	hr_run_result_free(&c->res);
	memset(c, 0, sizeof(*c));
}

static void exec_free_state(struct exec_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->count; i++)
		exec_check_free(&st->checks[i]);
	free(st->checks);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Letters, digits, '_', '-' and '.': the name goes into file names. */
static int exec_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!exec_is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return i > 0 && i < HR_INSTANCE_MAX;
}

/* "command": argv[0] non-empty; later arguments may be "" (a plugin may
 * take an empty text). */
static int exec_cfg_command(const cJSON *obj, const char *path, struct exec_check *c,
			    struct hr_errs *errs)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(obj, "command"), *e;
	char p[600];
	size_t n = 0;

	hr_cfg_path(p, sizeof(p), path, "command");
	if (cmd == NULL) {
		hr_errs_add(errs, path, "missing \"command\": the plugin and its arguments, like [\"/usr/lib/nagios/plugins/check_procs\", \"-w\", \"250\"]");
		return -1;
	}
	if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
		hr_errs_add(errs, p, "expected a non-empty array of strings");
		return -1;
	}
	cJSON_ArrayForEach(e, cmd) {
		if (!cJSON_IsString(e) || e->valuestring == NULL ||
		    (n == 0 && e->valuestring[0] == '\0')) {
			char pi[620];

			hr_cfg_index(pi, sizeof(pi), p, (int)n);
			hr_errs_add(errs, pi, n == 0 ? "expected the plugin's path or name"
						     : "expected a string");
			return -1;
		}
		n++;
	}
	c->argv = calloc(n + 1, sizeof(*c->argv));
	if (c->argv == NULL)
		goto oom;
	n = 0;
	cJSON_ArrayForEach(e, cmd) {
		c->argv[n] = strdup(e->valuestring);
		if (c->argv[n++] == NULL)
			goto oom;
	}
	return 0;
oom:
	hr_errs_add(errs, p, "out of memory");
	return -1;
}

/* Validates one check's object into c; 0 or -1 (errs filled). probe_iv is
 * the probe's own interval when the config sets it, else 0. */
static int exec_check_setup(const cJSON *obj, const char *path, double probe_iv,
			    struct exec_check *c, struct hr_errs *errs)
{
	double iv = 0, out = EXEC_OUTPUT_DEFAULT;
	char p[600];
	int bad = 0;

	if (!exec_name_ok(obj->string)) {
		hr_errs_add(errs, path, "a check's name must be 1-%d letters, digits, '_', '-' or '.'",
			    HR_INSTANCE_MAX - 1);
		bad = 1;
	}
	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, path, "expected an object like {\"command\": [\"/usr/lib/nagios/plugins/check_procs\", \"-w\", \"250\"], \"interval\": 60}");
		return -1;
	}
	if (hr_cfg_check_keys(obj, path, exec_check_keys, errs) > 0)
		bad = 1;
	if (exec_cfg_command(obj, path, c, errs) < 0)
		bad = 1;
	hr_cfg_path(p, sizeof(p), path, "interval");
	if (hr_cfg_duration(obj, "interval", path, 1, 86400, &iv, errs) < 0) {
		bad = 1;
	} else if (iv != floor(iv)) {
		hr_errs_add(errs, p, "must be a whole number of seconds");
		bad = 1;
	} else if (iv > 0 && probe_iv > 0 && iv < probe_iv) {
		/* The probe runs a check at most once per read. */
		hr_errs_add(errs, p, "%gs is shorter than the probe's interval %gs", iv, probe_iv);
		bad = 1;
	}
	c->interval = (unsigned)iv;
	c->timeout = EXEC_TIMEOUT_DEFAULT;
	if (hr_cfg_duration(obj, "timeout", path, EXEC_TIMEOUT_MIN, EXEC_TIMEOUT_MAX, &c->timeout,
			    errs) < 0)
		bad = 1;
	hr_cfg_path(p, sizeof(p), path, "max_output");
	if (hr_cfg_number(obj, "max_output", path, EXEC_OUTPUT_MIN, EXEC_OUTPUT_MAX, &out, errs) < 0) {
		bad = 1;
	} else if (out != floor(out)) {
		hr_errs_add(errs, p, "must be a whole number of bytes");
		bad = 1;
	}
	c->max_output = (size_t)out;
	if (bad)
		return -1;
	c->name = strdup(obj->string);
	if (c->name == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	return 0;
}

#define EXEC_CFG_EXAMPLE "expected {\"NAME\": {\"command\": [\"/usr/lib/nagios/plugins/check_procs\", \"-w\", \"250\"], \"interval\": 60}}"

static int exec_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		      void **state, struct hr_errs *errs)
{
	struct exec_state *st = NULL;
	struct hr_errs ignore;
	const cJSON *it;
	double probe_iv = 0;
	size_t n = 0;
	int bad = 0;

	(void)env; /* plugins see the real system; the root is for /proc */
	if (cfg != NULL && cJSON_IsObject(cfg))
		cJSON_ArrayForEach(it, cfg)
			if (it->string != NULL && strcmp(it->string, "interval") != 0)
				n++;
	if (n == 0) {
		hr_errs_add(errs, path, "no checks configured: " EXEC_CFG_EXAMPLE);
		return -1;
	}
	/* The agent checks "interval" itself; here it only bounds the checks'. */
	hr_errs_init(&ignore);
	if (hr_cfg_duration(cfg, "interval", path, 1, 86400, &probe_iv, &ignore) != 1)
		probe_iv = 0;
	hr_errs_free(&ignore);

	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->checks = calloc(n, sizeof(*st->checks))) == NULL) {
		free(st);
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	pthread_mutex_init(&st->lock, NULL);
	cJSON_ArrayForEach(it, cfg) {
		char p[600];

		if (it->string == NULL || strcmp(it->string, "interval") == 0)
			continue;
		hr_cfg_path(p, sizeof(p), path, it->string);
		if (hr_cfg_dup_key(cfg, it)) {
			hr_errs_add(errs, p, "duplicate key");
			bad = 1;
			continue;
		}
		if (exec_check_setup(it, p, probe_iv, &st->checks[st->count], errs) < 0) {
			exec_check_free(&st->checks[st->count]);
			bad = 1;
			continue;
		}
		st->count++;
	}
	if (bad) {
		exec_free_state(st);
		return -1;
	}
	*state = st;
	return 0;
}

/* A worker: runs due checks off the shared queue until none is left. */
static void *exec_worker(void *arg)
{
	struct exec_state *st = arg;

	for (;;) {
		struct exec_check *c = NULL;

		pthread_mutex_lock(&st->lock);
		while (st->next < st->count && !st->checks[st->next].due)
			st->next++;
		if (st->next < st->count)
			c = &st->checks[st->next++];
		pthread_mutex_unlock(&st->lock);
		if (c == NULL)
			return NULL;
		c->rc = hr_run((const char *const *)c->argv, c->timeout, c->max_output, &c->res,
			       &c->err);
	}
}

/* Runs every due check, up to EXEC_PARALLEL at once: the reading thread is
 * one worker, the others are threads of their own. When a thread cannot be
 * made the ones that exist (at least this one) do the work. */
static void exec_run_due(struct exec_state *st, size_t ndue)
{
	pthread_t th[EXEC_PARALLEL - 1];
	pthread_attr_t attr;
	size_t i, nth = 0, want = ndue < EXEC_PARALLEL ? ndue - 1 : EXEC_PARALLEL - 1;

	st->next = 0;
	if (want > 0 && pthread_attr_init(&attr) == 0) {
		pthread_attr_setstacksize(&attr, EXEC_STACK);
		for (i = 0; i < want; i++) {
			if (pthread_create(&th[nth], &attr, exec_worker, st) != 0)
				break;
			nth++;
		}
		pthread_attr_destroy(&attr);
	}
	exec_worker(st);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
}

/* The first line of standard error, trimmed and printable, into dst. */
static void exec_errout_line(const struct hr_run_result *r, char *dst, size_t n)
{
	const char *s = r->errout != NULL ? r->errout : "";
	size_t len = r->errout != NULL ? r->errout_len : 0;
	const char *nl = memchr(s, '\n', len);

	if (nl != NULL)
		len = (size_t)(nl - s);
	while (len > 0 && exec_is_space(s[len - 1]))
		len--;
	hr_printable(dst, n, s, len);
}

/* Makes the sample of one check that ran (or failed to start). */
static void exec_check_sample(struct exec_check *c, struct hr_sink *sink,
			      struct exec_output *o)
{
	const struct hr_run_result *r = &c->res;
	char why[HR_ERR_MAX], errline[96];
	char lab[HR_LABEL_VALUE_MAX];
	struct hr_sample s;
	size_t lost = 0;
	int state;

	memset(o, 0, sizeof(*o));
	hr_sample_init(&s, "exec", c->name);
	s.step = c->interval;
	why[0] = '\0';
	if (c->rc < 0) {
		/* Not started at all: no such program, no permission. */
		hr_strlcpy(why, c->err.msg, sizeof(why));
		state = 3;
	} else if (r->exited && !r->timed_out && !r->truncated && r->status <= 3) {
		state = r->status;
	} else {
		hr_run_describe(r, c->timeout, c->max_output, why, sizeof(why));
		state = 3;
	}
	hr_sample_set(&s, "state", state);
	if (c->rc == 0) {
		exec_parse_output(r->out, r->out_len, o);
		if (o->text[0] != '\0')
			hr_sample_label(&s, "output", o->text);
		/* Output cut by a timeout or the cap may end mid-number: only a
		 * plugin that ended by itself gives values. */
		if (r->exited && !r->timed_out && !r->truncated) {
			exec_sample_perf(o, &s);
			lost = s.truncated;
		} else {
			memset(o, 0, sizeof(*o));
		}
	}
	if (why[0] != '\0') {
		exec_errout_line(r, errline, sizeof(errline));
		if (errline[0] != '\0' && c->rc == 0) {
			size_t l = strlen(why);

			snprintf(why + l, sizeof(why) - l, ": %s", errline);
		}
		hr_strlcpy(lab, why, sizeof(lab));
		hr_sample_label(&s, "error", lab);
		hr_complain(&c->c_run, "probe exec: %s: %s: %s", c->name, c->argv[0], why);
	} else {
		hr_complain_clear(&c->c_run, "probe exec: %s: runs again (exit status %d)", c->name,
				  state);
	}
	if (o->bad > 0 || o->odd_units > 0 || o->dropped > 0 || lost > 0) {
		char msg[HR_ERR_MAX];
		size_t l = 0;

		msg[0] = '\0';
		if (o->bad > 0)
			l += (size_t)snprintf(msg + l, sizeof(msg) - l, "; %zu item(s) skipped, not 'label'=value[UOM][;...] (first '%s')",
					      o->bad, o->first_bad);
		if (o->odd_units > 0 && l < sizeof(msg))
			l += (size_t)snprintf(msg + l, sizeof(msg) - l, "; %zu with an unknown unit kept as is (first '%s')",
					      o->odd_units, o->first_odd);
		if (o->dropped + lost > 0 && l < sizeof(msg))
			snprintf(msg + l, sizeof(msg) - l, "; %zu value(s) past the limit of %d dropped",
				 o->dropped + lost, HR_SAMPLE_VALUES - 1);
		hr_complain(&c->c_perf, "probe exec: %s: perfdata: %s", c->name, msg + 2);
	} else if (c->rc == 0 && r->exited) {
		hr_complain_clear(&c->c_perf, "probe exec: %s: perfdata parses again", c->name);
	}
	hr_sink_put(sink, &s);
}

static int exec_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct exec_state *st = state;
	struct exec_output *o;
	double now = hr_now_mono();
	size_t i, ndue = 0;

	for (i = 0; i < st->count; i++) {
		struct exec_check *c = &st->checks[i];
		/* Reads come every probe interval with some jitter: a check of
		 * 60 s that ran 59.98 s ago is due, not 70 s from now. */
		double slack = c->interval / 20.0 < 1 ? c->interval / 20.0 : 1;

		c->due = !c->ran || c->interval == 0 || now - c->last_start >= c->interval - slack;
		if (!c->due)
			continue;
		c->ran = 1;
		c->last_start = now;
		ndue++;
	}
	if (ndue == 0)
		return 0;
	o = malloc(sizeof(*o));
	if (o == NULL)
		return hr_err_set(err, "probe exec: out of memory");
	exec_run_due(st, ndue);
	for (i = 0; i < st->count; i++) {
		struct exec_check *c = &st->checks[i];

		if (!c->due)
			continue;
		exec_check_sample(c, sink, o);
		hr_run_result_free(&c->res);
		memset(&c->res, 0, sizeof(c->res));
		c->due = 0;
	}
	free(o);
	return 0;
}

static void exec_teardown(void *state)
{
	exec_free_state(state);
}

const struct probe probe_exec = {
	.name = "exec",
	.core = 0,
	.default_interval = 0,
	.setup = exec_setup,
	.read = exec_read,
	.teardown = exec_teardown,
};
