/* ups_apcupsd.c: the apcupsd half of the ups probe (see ups_apcupsd.h).
 * apcupsd's NIS server (apcupsd src/apcnis.c, src/lib/apclibnis.c) answers
 * the command "status", itself sent as one record, with one record per
 * status line (apcupsd src/lib/apcstatus.c output_status) and a zero-length
 * record; a record is a 2-byte big-endian length and that many bytes. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netio.h"
#include "ups_apcupsd.h"
#include "util.h"

void ups_apcupsd_nis_init(struct ups_apcupsd_nis *d, size_t max_bytes)
{
	memset(d, 0, sizeof(*d));
	d->max_bytes = max_bytes;
}

void ups_apcupsd_nis_free(struct ups_apcupsd_nis *d)
{
	if (d == NULL)
		return;
	free(d->text);
	d->text = NULL;
	d->len = d->cap = 0;
}

/* Appends n bytes to the text, growing it (never past max_bytes + 1, as the
 * text is never longer than the raw reply). */
static int nis_append(struct ups_apcupsd_nis *d, const unsigned char *p, size_t n,
		      struct hr_err *err)
{
	if (d->len + n + 1 > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		char *t;

		while (cap < d->len + n + 1)
			cap *= 2;
		if (d->max_bytes < SIZE_MAX && cap > d->max_bytes + 1)
			cap = d->max_bytes + 1;
		t = realloc(d->text, cap);
		if (t == NULL)
			return hr_err_set(err, "out of memory for a reply of %zu bytes", cap);
		d->text = t;
		d->cap = cap;
	}
	memcpy(d->text + d->len, p, n);
	d->len += n;
	d->text[d->len] = '\0';
	return 0;
}

int ups_apcupsd_nis_feed(struct ups_apcupsd_nis *d, const void *buf, size_t n, size_t *used,
			 struct hr_err *err)
{
	const unsigned char *p = buf;
	size_t i = 0;

	*used = 0;
	if (d->failed)
		return hr_err_set(err, "reply already rejected");
	if (d->done)
		return 1;
	while (i < n) {
		size_t k;

		if (d->seen >= d->max_bytes) {
			d->failed = 1;
			return hr_err_set(err, "reply larger than %zu bytes", d->max_bytes);
		}
		if (d->hdr_have < 2) {
			d->hdr[d->hdr_have++] = p[i++];
			d->seen++;
			if (d->hdr_have < 2)
				continue;
			d->rec_left = (size_t)d->hdr[0] << 8 | d->hdr[1];
			if (d->rec_left == 0) {
				d->done = 1;
				*used = i;
				return 1;
			}
			if (d->rec_left > UPS_APCUPSD_RECORD_MAX) {
				d->failed = 1;
				*used = i;
				return hr_err_set(err, "record %u: length %zu over %d: not an apcupsd NIS reply",
						  d->records + 1, d->rec_left, UPS_APCUPSD_RECORD_MAX);
			}
			d->records++;
			continue;
		}
		k = n - i;
		if (k > d->rec_left)
			k = d->rec_left;
		if (k > d->max_bytes - d->seen)
			k = d->max_bytes - d->seen;
		if (nis_append(d, p + i, k, err) < 0) {
			d->failed = 1;
			*used = i;
			return -1;
		}
		i += k;
		d->seen += k;
		d->rec_left -= k;
		if (d->rec_left == 0)
			d->hdr_have = 0;
	}
	*used = i;
	return 0;
}

/* What the status text says, before it becomes a sample. NAN: not said. */
struct apc_status {
	int have_status;
	char status[HR_LABEL_VALUE_MAX];
	char model[HR_LABEL_VALUE_MAX];
	char apcmodel[HR_LABEL_VALUE_MAX];
	double charge, runtime_min, load, linev;
	int have_statflag;
	uint64_t statflag;
};

/* The keys this parser reads; a second line with one of them is skipped. */
enum apc_key { K_STATUS, K_MODEL, K_APCMODEL, K_BCHARGE, K_TIMELEFT, K_LOADPCT, K_LINEV,
	       K_STATFLAG, K_COUNT };
static const char *const apc_keys[K_COUNT] = {
	"STATUS", "MODEL", "APCMODEL", "BCHARGE", "TIMELEFT", "LOADPCT", "LINEV", "STATFLAG",
};

/* Bits of apcupsd's ups->Status (include/defines.h) that come from the UPS
 * itself; STATFLAG prints the whole word in hex. */
#define APC_ONLINE 0x08u
#define APC_ONBATT 0x10u
#define APC_OVERLOAD 0x20u
#define APC_BATTLOW 0x40u
#define APC_REPLACEBATT 0x80u

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*s)[*len - 1]))
		(*len)--;
}

static int is_na(const char *v, size_t vlen)
{
	return hr_field_eq(v, vlen, "N/A");
}

/* "NUMBER UNIT [EXTRA...]" exactly, e.g. " 45.0 Minutes" or (before 3.14)
 * "12.4 Percent Load Capacity" when extra is "Load Capacity". The number
 * must lie in [lo, hi]. */
static int parse_quantity(const char *v, size_t vlen, const char *unit, const char *extra,
			  double lo, double hi, double *out)
{
	struct hr_fields it;
	const char *f;
	size_t flen;
	double x;

	hr_fields_init(&it, v, vlen);
	if (!hr_fields_next(&it, &f, &flen) || hr_parse_double(f, flen, &x) < 0)
		return -1;
	if (x < lo || x > hi)
		return -1;
	if (!hr_fields_next(&it, &f, &flen) || !hr_field_eq(f, flen, unit))
		return -1;
	if (hr_fields_next(&it, &f, &flen)) {
		struct hr_fields ex;
		const char *e;
		size_t elen;

		if (extra == NULL)
			return -1;
		/* the rest must be the extra words, in order */
		hr_fields_init(&ex, extra, strlen(extra));
		if (!hr_fields_next(&ex, &e, &elen) || flen != elen || memcmp(f, e, elen) != 0)
			return -1;
		while (hr_fields_next(&ex, &e, &elen))
			if (!hr_fields_next(&it, &f, &flen) || flen != elen || memcmp(f, e, elen) != 0)
				return -1;
		if (hr_fields_next(&it, &f, &flen))
			return -1;
	}
	*out = x;
	return 0;
}

/* "0x05000100" or "0x08 Status Flag" (apcupsd before 3.14). */
static int parse_statflag(const char *v, size_t vlen, uint64_t *out)
{
	struct hr_fields it;
	const char *f;
	size_t flen, i;
	uint64_t x = 0;

	hr_fields_init(&it, v, vlen);
	if (!hr_fields_next(&it, &f, &flen) || flen < 3 || flen > 18 || f[0] != '0' ||
	    (f[1] != 'x' && f[1] != 'X'))
		return -1;
	for (i = 2; i < flen; i++) {
		char c = f[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		x = x << 4 | d;
	}
	if (hr_fields_next(&it, &f, &flen)) {
		if (!hr_field_eq(f, flen, "Status") || !hr_fields_next(&it, &f, &flen) ||
		    !hr_field_eq(f, flen, "Flag") || hr_fields_next(&it, &f, &flen))
			return -1;
	}
	*out = x;
	return 0;
}

/* A key is what apcaccess prints before the colon: upper-case letters,
 * digits and inner spaces ("END APC"), at most 9 characters, padded. */
static int key_valid(const char *k, size_t klen)
{
	size_t i;

	if (klen == 0 || klen > 9 || k[0] == ' ')
		return 0;
	for (i = 0; i < klen; i++)
		if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') || k[i] == ' '))
			return 0;
	return 1;
}

/* Takes one known key's value; 0 when understood (or "N/A"), -1 when not. */
static int take_value(struct apc_status *st, enum apc_key k, const char *v, size_t vlen)
{
	switch (k) {
	case K_STATUS:
		hr_printable(st->status, sizeof(st->status), v, vlen);
		st->have_status = 1;
		return 0;
	case K_MODEL:
	case K_APCMODEL:
		if (vlen > 0 && !is_na(v, vlen))
			hr_printable(k == K_MODEL ? st->model : st->apcmodel, sizeof(st->model), v,
				     vlen);
		return 0;
	case K_STATFLAG:
		if (parse_statflag(v, vlen, &st->statflag) < 0)
			return -1;
		st->have_statflag = 1;
		return 0;
	default:
		break;
	}
	if (is_na(v, vlen))
		return 0;
	switch (k) {
	case K_BCHARGE:
		return parse_quantity(v, vlen, "Percent", NULL, 0, 100, &st->charge);
	case K_TIMELEFT:
		return parse_quantity(v, vlen, "Minutes", NULL, 0, 1e9, &st->runtime_min);
	case K_LOADPCT:
		return parse_quantity(v, vlen, "Percent", "Load Capacity", 0, 1e6, &st->load);
	case K_LINEV:
		return parse_quantity(v, vlen, "Volts", NULL, 0, 1e6, &st->linev);
	default:
		return -1;
	}
}

/* Notes a skipped line: the first one in err, the rest only counted. */
static void skip(int *skipped, struct hr_err *err, unsigned lineno, const char *why,
		 const char *line, size_t len)
{
	char shown[64];

	if ((*skipped)++ > 0)
		return;
	hr_printable(shown, sizeof(shown), line, len);
	hr_err_set(err, "line %u: %s: \"%s\"", lineno, why, shown);
}

static void status_words(const struct apc_status *st, int *known, int *commlost, int *shutdown,
			 unsigned *bits)
{
	struct hr_fields it;
	const char *f, *prev = NULL;
	size_t flen, plen = 0;
	static const struct {
		const char *word;
		unsigned bit;
	} words[] = {
		{ "ONLINE", APC_ONLINE }, { "ONBATT", APC_ONBATT }, { "OVERLOAD", APC_OVERLOAD },
		{ "LOWBATT", APC_BATTLOW }, { "REPLACEBATT", APC_REPLACEBATT },
		/* known, but no value of their own: calibration runs on battery
		 * and says ONBATT too; trim and boost are line power regulation */
		{ "CAL", 0 }, { "TRIM", 0 }, { "BOOST", 0 }, { "NOBATT", 0 },
		{ "SLAVE", 0 }, { "SLAVEDOWN", 0 },
	};
	size_t i;

	*known = *commlost = *shutdown = 0;
	*bits = 0;
	hr_fields_init(&it, st->status, strlen(st->status));
	while (hr_fields_next(&it, &f, &flen)) {
		if (hr_field_eq(f, flen, "COMMLOST"))
			*commlost = 1;
		if (hr_field_eq(f, flen, "DOWN") && prev != NULL && hr_field_eq(prev, plen, "SHUTTING"))
			*shutdown = 1;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (hr_field_eq(f, flen, words[i].word)) {
				*known = 1;
				*bits |= words[i].bit;
			}
		}
		prev = f;
		plen = flen;
	}
}

static void set_flags(struct hr_sample *s, unsigned bits)
{
	hr_sample_set(s, "online", (bits & APC_ONLINE) ? 1 : 0);
	hr_sample_set(s, "on_battery", (bits & APC_ONBATT) ? 1 : 0);
	hr_sample_set(s, "low_battery", (bits & APC_BATTLOW) ? 1 : 0);
	hr_sample_set(s, "replace_battery", (bits & APC_REPLACEBATT) ? 1 : 0);
	hr_sample_set(s, "overload", (bits & APC_OVERLOAD) ? 1 : 0);
}

static void to_sample(const struct apc_status *st, struct hr_sample *s)
{
	int known, commlost, shutdown;
	unsigned bits;

	hr_sample_label(s, "status", st->status);
	if (st->model[0] != '\0')
		hr_sample_label(s, "model", st->model);
	else if (st->apcmodel[0] != '\0')
		hr_sample_label(s, "model", st->apcmodel);

	status_words(st, &known, &commlost, &shutdown, &bits);
	/* apcupsd writes COMMLOST in place of every other word: it has lost
	 * the UPS, and the numbers it still prints are from before. */
	if (commlost)
		return;
	if (shutdown) {
		/* "SHUTTING DOWN" also replaces the words, but the UPS is
		 * still talking: its bits are in STATFLAG. */
		if (st->have_statflag)
			set_flags(s, (unsigned)(st->statflag & 0xffu));
	} else if (known) {
		set_flags(s, bits);
	}
	if (!isnan(st->charge))
		hr_sample_set(s, "charge_percent", st->charge);
	if (!isnan(st->runtime_min))
		hr_sample_set(s, "runtime_s", st->runtime_min * 60);
	if (!isnan(st->load))
		hr_sample_set(s, "load_percent", st->load);
	if (!isnan(st->linev))
		hr_sample_set(s, "input_voltage", st->linev);
}

int ups_apcupsd_parse(const char *text, size_t len, struct hr_sample *s, struct hr_err *err)
{
	struct apc_status st;
	struct hr_lines it;
	const char *line, *first = NULL;
	size_t llen, firstlen = 0;
	int seen[K_COUNT] = { 0 };
	int skipped = 0;

	memset(&st, 0, sizeof(st));
	st.charge = st.runtime_min = st.load = st.linev = NAN;
	if (err != NULL)
		err->msg[0] = '\0';
	hr_lines_init(&it, text, len);
	while (hr_lines_next(&it, &line, &llen)) {
		const char *colon, *k, *v;
		size_t klen, vlen, i;

		k = line;
		klen = llen;
		trim(&k, &klen);
		if (klen == 0)
			continue;
		if (first == NULL) {
			first = k;
			firstlen = klen;
		}
		colon = memchr(line, ':', llen);
		if (colon == NULL) {
			skip(&skipped, err, it.lineno, "not KEY : value", line, llen);
			continue;
		}
		k = line;
		klen = (size_t)(colon - line);
		while (klen > 0 && k[klen - 1] == ' ')
			klen--;
		if (!key_valid(k, klen)) {
			skip(&skipped, err, it.lineno, "not KEY : value", line, llen);
			continue;
		}
		v = colon + 1;
		vlen = llen - (size_t)(v - line);
		trim(&v, &vlen);
		for (i = 0; i < K_COUNT; i++)
			if (hr_field_eq(k, klen, apc_keys[i]))
				break;
		if (i == K_COUNT)
			continue; /* a key we do not use */
		if (seen[i]++) {
			skip(&skipped, err, it.lineno, "key seen twice", line, llen);
			continue;
		}
		if (take_value(&st, (enum apc_key)i, v, vlen) < 0)
			skip(&skipped, err, it.lineno, "cannot parse value", line, llen);
	}
	if (!st.have_status) {
		char shown[64];

		if (first == NULL)
			return hr_err_set(err, "empty reply, no STATUS line");
		hr_printable(shown, sizeof(shown), first, firstlen);
		return hr_err_set(err, "no STATUS line in the reply (it starts \"%s\")", shown);
	}
	to_sample(&st, s);
	if (skipped > 1 && err != NULL) {
		struct hr_err note;

		hr_err_set(&note, "%s (and %d more skipped lines)", err->msg, skipped - 1);
		*err = note;
	}
	return skipped;
}

int ups_apcupsd_query(const char *host, const char *port, double connect_timeout,
		      double read_timeout, size_t max_bytes, struct hr_sample *s,
		      struct hr_err *err)
{
	/* the command, framed like every record: length 6, "status" */
	static const char cmd[] = { 0, 6, 's', 't', 'a', 't', 'u', 's' };
	struct ups_apcupsd_nis d;
	struct hr_err e;
	unsigned char buf[4096];
	double deadline;
	int fd, r = -1;

	ups_apcupsd_nis_init(&d, max_bytes);
	fd = hr_tcp_connect(host, port, connect_timeout, err);
	if (fd < 0)
		return -1;
	deadline = hr_now_mono() + read_timeout;
	if (hr_write_all(fd, cmd, sizeof(cmd), deadline, &e) < 0) {
		hr_err_set(err, "%s:%s: sending status: %s", host, port, e.msg);
		goto out;
	}
	for (;;) {
		ssize_t n = hr_read_some(fd, buf, sizeof(buf), deadline, &e);
		size_t used;
		int f;

		if (n < 0) {
			hr_err_set(err, "%s:%s: %s after %zu bytes of reply (limit %g s)", host, port,
				   e.msg, d.seen, read_timeout);
			goto out;
		}
		if (n == 0) {
			hr_err_set(err, "%s:%s: connection closed after %u records, before the end record",
				   host, port, d.records);
			goto out;
		}
		f = ups_apcupsd_nis_feed(&d, buf, (size_t)n, &used, &e);
		if (f < 0) {
			hr_err_set(err, "%s:%s: %s", host, port, e.msg);
			goto out;
		}
		if (f == 1)
			break;
	}
	if (ups_apcupsd_parse(d.text ? d.text : "", d.len, s, &e) < 0) {
		hr_err_set(err, "%s:%s: %s", host, port, e.msg);
		goto out;
	}
	if (err != NULL)
		*err = e; /* "" or the note about skipped lines, unprefixed */
	r = 0;
out:
	close(fd);
	ups_apcupsd_nis_free(&d);
	return r;
}
