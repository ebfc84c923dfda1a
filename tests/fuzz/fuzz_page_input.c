/* fuzz_page_input.c: libFuzzer target for the dashboards' small parsers of
 * form and query fields: pu_parse_id, pu_parse_time and pu_parse_duration
 * (dashboards/pageutil.c) and the matchers field of POST /alerts/silence
 * (dashboards/page_alerts.c matchers_norm, built here with -DHR_TESTABLE=).
 * The input, NUL-terminated, is given to each. An accepted id is the
 * field's positive decimal number exactly, an accepted time is finite,
 * an accepted duration in (0, max]; normalised matchers are exactly the
 * field's tokens ("rule=" written "alertname="), comma-separated, within
 * the buffer given. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pageutil.h"

#define FZ_MAX 4096
#define FZ_MATCHERS_MAX 1000            /* as page_alerts.c's MATCHERS_MAX */
#define FZ_NORM (FZ_MATCHERS_MAX + 256) /* page_silence_add's buffer */
#define FZ_SEPS " ,\t"

int matchers_norm(const char *in, char *dst, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- page.h, fuzz-local (web.c is not linked) -------------------------------- */

const char *page_arg(const struct page_req *rq, const char *key)
{
	(void)rq;
	(void)key;
	return NULL;
}

sqlite3 *page_db(const struct page_req *rq)
{
	(void)rq;
	return NULL;
}

int page_error(const struct page_req *rq, struct page_resp *out, int status, const char *msg)
{
	(void)rq;
	out->status = status;
	out->type = "text/plain";
	out->body = strdup(msg);
	out->len = out->body != NULL ? strlen(out->body) : 0;
	return out->body != NULL ? 0 : -1;
}

/* --- the checks ------------------------------------------------------------------ */

static void fz_numbers(const char *s)
{
	static const double maxes[] = { 366 * 86400.0, 60, 1e300 };
	char back[32];
	double t = NAN, d;
	long long id = -1;
	size_t i;

	/* an id is the field's decimal number exactly, positive */
	if (pu_parse_id(s, &id) == 0 &&
	    (id <= 0 || snprintf(back, sizeof(back), "%lld", id) < 0 || strcmp(back, s) != 0))
		abort();
	/* a time is from 1970 to the end of 9999 */
	if (pu_parse_time(s, &t) == 0 && (!isfinite(t) || t < 0 || t > 253402300799.0))
		abort();
	for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		d = NAN;
		if (pu_parse_duration(s, maxes[i], &d) == 0 && (!isfinite(d) || !(d > 0) ||
								  d > maxes[i]))
			abort();
	}
}

/* The next token of s at *p (separators FZ_SEPS), its length in *w; NULL
 * at the end. */
static const char *fz_token(const char *s, size_t *p, size_t *w)
{
	*p += strspn(s + *p, FZ_SEPS);
	*w = strcspn(s + *p, FZ_SEPS);
	return *w > 0 ? s + *p : NULL;
}

static void fz_matchers(const char *in)
{
	char buf[FZ_NORM + 64];
	const char *t, *o = buf;
	size_t p = 0, w, ol, i, used, want;
	int rc;

	if (strlen(in) > FZ_MATCHERS_MAX) /* page_silence_add refuses first */
		return;
	memset(buf, 0x5a, sizeof(buf));
	rc = matchers_norm(in, buf, FZ_NORM);
	for (i = FZ_NORM; i < sizeof(buf); i++)
		if (buf[i] != 0x5a)
			abort(); /* wrote past n */
	for (used = 0, want = 0; (t = fz_token(in, &p, &w)) != NULL; used++, p += w)
		want += (used > 0) + w + (w > 5 && strncmp(t, "rule=", 5) == 0 ? 5 : 0);
	if (rc != 0) {
		/* refused: no matcher at all, or too long for the buffer */
		if (rc != -1 || (used > 0 && want + 2 <= FZ_NORM))
			abort();
		return;
	}
	p = 0;
	used = 0;
	ol = strnlen(buf, FZ_NORM);
	if (ol == 0 || ol >= FZ_NORM || buf[0] == ',' || buf[ol - 1] == ',' ||
	    strstr(buf, ",,") != NULL || strpbrk(buf, " \t") != NULL)
		abort();
	/* token by token: the input's, in order, "rule=X" as "alertname=X" */
	while ((t = fz_token(in, &p, &w)) != NULL) {
		if (used > 0) {
			if (*o != ',')
				abort();
			o++;
		}
		if (w > 5 && strncmp(t, "rule=", 5) == 0) {
			if (strncmp(o, "alertname=", 10) != 0 || strncmp(o + 10, t + 5, w - 5) != 0)
				abort();
			o += 10 + (w - 5);
		} else {
			if (strncmp(o, t, w) != 0)
				abort();
			o += w;
		}
		used++;
		p += w;
	}
	if (used == 0 || *o != '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > FZ_MAX)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fz_numbers(s);
	fz_matchers(s);
	free(s);
	return 0;
}
