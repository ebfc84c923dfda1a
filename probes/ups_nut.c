/* ups_nut.c: the NUT half of the ups probe (see ups_nut.h). The protocol is
 * Network UPS Tools' docs/net-protocol.txt: one request line, answered by
 * "OK ...", "ERR CODE" or, for LIST VAR, a BEGIN/VAR.../END block whose
 * values are quoted with \" and \\ escapes. STARTTLS (docs/net-protocol.txt
 * and docs/security.txt) switches the same connection to TLS before any
 * credential is sent; here it is done with GnuTLS, verifying the server's
 * certificate against the configured CA and the host name. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "netio.h"
#include "ups_nut.h"
#include "util.h"

void ups_nut_vars_init(struct ups_nut_vars *v)
{
	memset(v, 0, sizeof(*v));
}

void ups_nut_vars_free(struct ups_nut_vars *v)
{
	if (v == NULL)
		return;
	free(v->items);
	v->items = NULL;
	v->count = v->cap = 0;
}

const char *ups_nut_vars_get(const struct ups_nut_vars *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->count; i++)
		if (strcmp(v->items[i].name, name) == 0)
			return v->items[i].value;
	return NULL;
}

static void vars_skip(struct ups_nut_vars *v, unsigned lineno)
{
	v->skipped++;
	if (v->first_bad == 0)
		v->first_bad = lineno;
}

/* Sets NAME to VALUE (a later value replaces an earlier one, as in a .seq
 * file). Names must fit and be plain; values are cut to fit, as upsd itself
 * never serves longer ones. */
static void vars_set(struct ups_nut_vars *v, const char *name, const char *value, unsigned lineno)
{
	struct ups_nut_var *it = NULL;
	size_t i, nl = strlen(name);

	if (nl == 0 || nl >= UPS_NUT_NAME_MAX) {
		vars_skip(v, lineno);
		return;
	}
	for (i = 0; i < nl; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-')) {
			vars_skip(v, lineno);
			return;
		}
	}
	for (i = 0; i < v->count; i++)
		if (strcmp(v->items[i].name, name) == 0)
			it = &v->items[i];
	if (it == NULL) {
		if (v->count >= UPS_NUT_VARS_MAX) {
			vars_skip(v, lineno);
			return;
		}
		if (v->count == v->cap) {
			size_t cap = v->cap ? v->cap * 2 : 64;
			struct ups_nut_var *n = realloc(v->items, cap * sizeof(*n));

			if (n == NULL) {
				vars_skip(v, lineno);
				return;
			}
			v->items = n;
			v->cap = cap;
		}
		it = &v->items[v->count++];
		memcpy(it->name, name, nl + 1);
	}
	hr_strlcpy(it->value, value, sizeof(it->value));
}

int ups_nut_split(const char *line, size_t len, char (*words)[UPS_NUT_VALUE_MAX], int max)
{
	size_t i = 0;
	int n = 0;

	for (;;) {
		size_t wl = 0;
		int quoted = 0;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len || line[i] == '#')
			return n;
		if (n >= max)
			return -1;
		if (line[i] == '"') {
			quoted = 1;
			i++;
		}
		for (;;) {
			char c;

			if (i >= len) {
				if (quoted)
					return -1; /* unclosed quote */
				break;
			}
			c = line[i];
			if (c == '\0')
				return -1;
			if (quoted && c == '"') {
				i++;
				break;
			}
			if (!quoted && (c == ' ' || c == '\t'))
				break;
			if (c == '\\') {
				if (++i >= len)
					return -1;
				c = line[i];
				if (c == '\0')
					return -1;
			}
			if (wl + 1 >= UPS_NUT_VALUE_MAX)
				return -1;
			words[n][wl++] = c;
			i++;
		}
		words[n][wl] = '\0';
		n++;
	}
}

/* The next line of [*p, end): sets *line and *len (without "\n" or
 * "\r\n"); returns 1, or 0 when no complete line is left (*partial is set
 * when bytes without a newline remain). */
static int next_line(const char **p, const char *end, const char **line, size_t *len,
		     int *partial)
{
	const char *nl;

	*partial = 0;
	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL) {
		*partial = 1;
		return 0;
	}
	*line = *p;
	*len = (size_t)(nl - *p);
	if (*len > 0 && (*p)[*len - 1] == '\r')
		(*len)--;
	*p = nl + 1;
	return 1;
}

/* Does [line, len) start with the word w followed by a space or the end? */
static int starts_word(const char *line, size_t len, const char *w)
{
	size_t wl = strlen(w);

	return len >= wl && memcmp(line, w, wl) == 0 && (len == wl || line[wl] == ' ');
}

/* Is the line "END LIST VAR x" (for any x, or for ups when not NULL)? w
 * is scratch space for 5 words. */
static int is_end_line(const char *line, size_t len, const char *ups,
		       char (*w)[UPS_NUT_VALUE_MAX])
{
	int n = ups_nut_split(line, len, w, 5);

	return n == 4 && strcmp(w[0], "END") == 0 && strcmp(w[1], "LIST") == 0 &&
	       strcmp(w[2], "VAR") == 0 && (ups == NULL || strcmp(w[3], ups) == 0);
}

int ups_nut_reply_done(const char *buf, size_t len)
{
	char w[5][UPS_NUT_VALUE_MAX];
	const char *p = buf, *end = buf + len, *line;
	size_t ll;
	int partial, first = 1;

	while (next_line(&p, end, &line, &ll, &partial)) {
		if (first && starts_word(line, ll, "ERR"))
			return 1;
		first = 0;
		if (ll <= UPS_NUT_LINE_MAX && is_end_line(line, ll, NULL, w))
			return 1;
	}
	return 0;
}

/* "ERR CODE [extra]" as "upsd: ERR CODE", with the code made printable. */
static int err_reply(struct hr_err *err, const char *line, size_t len)
{
	char code[64];
	size_t i, n = 0;

	for (i = 4; i < len && n + 1 < sizeof(code); i++)
		code[n++] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '?';
	code[n] = '\0';
	return hr_err_set(err, "upsd: ERR %s", code);
}

int ups_nut_parse_list(const char *buf, size_t len, const char *ups, struct ups_nut_vars *vars,
		       struct hr_err *err)
{
	char (*w)[UPS_NUT_VALUE_MAX];
	const char *p = buf, *end = buf + len, *line;
	size_t ll;
	unsigned lineno = 0;
	int partial, begun = 0, n, rc = -1;

	w = malloc(5 * sizeof(*w));
	if (w == NULL)
		return hr_err_set(err, "out of memory");
	while (next_line(&p, end, &line, &ll, &partial)) {
		lineno++;
		if (ll > UPS_NUT_LINE_MAX) {
			hr_err_set(err, "upsd: line %u longer than %d bytes", lineno, UPS_NUT_LINE_MAX);
			goto out;
		}
		if (!begun) {
			if (starts_word(line, ll, "ERR")) {
				err_reply(err, line, ll);
				goto out;
			}
			n = ups_nut_split(line, ll, w, 5);
			if (n != 4 || strcmp(w[0], "BEGIN") != 0 || strcmp(w[1], "LIST") != 0 ||
			    strcmp(w[2], "VAR") != 0 || strcmp(w[3], ups) != 0) {
				hr_err_set(err, "upsd: reply does not begin with \"BEGIN LIST VAR %s\"",
					   ups);
				goto out;
			}
			begun = 1;
			continue;
		}
		if (is_end_line(line, ll, ups, w)) {
			rc = 0;
			goto out;
		}
		n = ups_nut_split(line, ll, w, 5);
		if (n == 4 && strcmp(w[0], "VAR") == 0 && strcmp(w[1], ups) == 0) {
			vars_set(vars, w[2], w[3], lineno);
			continue;
		}
		vars_skip(vars, lineno);
	}
	if (!begun && p == buf && len == 0)
		hr_err_set(err, "upsd: empty reply");
	else if (!begun)
		hr_err_set(err, "upsd: reply does not begin with \"BEGIN LIST VAR %s\"", ups);
	else
		hr_err_set(err, "upsd: reply ends before \"END LIST VAR %s\"", ups);
out:
	free(w);
	return rc;
}

int ups_nut_parse_dev(const char *buf, size_t len, struct ups_nut_vars *vars,
		      struct hr_err *err)
{
	char (*w)[UPS_NUT_VALUE_MAX];
	char value[UPS_NUT_VALUE_MAX];
	struct hr_lines it;
	const char *line;
	size_t ll;
	int n, i;

	w = malloc(32 * sizeof(*w));
	if (w == NULL)
		return hr_err_set(err, "out of memory");
	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &ll)) {
		size_t nl, vl = 0;

		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		n = ups_nut_split(line, ll, w, 32);
		if (n == 0)
			continue;
		if (n < 0) {
			vars_skip(vars, it.lineno);
			continue;
		}
		if (strcmp(w[0], "TIMER") == 0)
			continue;
		nl = strlen(w[0]);
		if (nl < 2 || w[0][nl - 1] != ':') {
			vars_skip(vars, it.lineno);
			continue;
		}
		w[0][nl - 1] = '\0';
		/* dummy-ups joins the words after the name with one space */
		value[0] = '\0';
		for (i = 1; i < n; i++) {
			size_t l = strlen(w[i]);

			if (vl + l + 2 > sizeof(value))
				break;
			if (i > 1)
				value[vl++] = ' ';
			memcpy(value + vl, w[i], l + 1);
			vl += l;
		}
		vars_set(vars, w[0], value, it.lineno);
	}
	free(w);
	if (vars->count == 0)
		return hr_err_set(err, "no \"name: value\" line");
	return 0;
}

static const struct {
	const char *word;
	unsigned bit;
} nut_status_words[] = {
	{ "OL", UPS_NUT_ST_OL }, { "OB", UPS_NUT_ST_OB }, { "LB", UPS_NUT_ST_LB },
	{ "HB", UPS_NUT_ST_HB }, { "RB", UPS_NUT_ST_RB }, { "CHRG", UPS_NUT_ST_CHRG },
	{ "DISCHRG", UPS_NUT_ST_DISCHRG }, { "BYPASS", UPS_NUT_ST_BYPASS },
	{ "CAL", UPS_NUT_ST_CAL }, { "OFF", UPS_NUT_ST_OFF }, { "OVER", UPS_NUT_ST_OVER },
	{ "TRIM", UPS_NUT_ST_TRIM }, { "BOOST", UPS_NUT_ST_BOOST }, { "FSD", UPS_NUT_ST_FSD },
	{ "ALARM", UPS_NUT_ST_ALARM },
};

unsigned ups_nut_status_bits(const char *status, unsigned *unknown)
{
	struct hr_fields it;
	const char *f;
	size_t fl, i;
	unsigned bits = 0, unk = 0;

	hr_fields_init(&it, status, strlen(status));
	while (hr_fields_next(&it, &f, &fl)) {
		for (i = 0; i < sizeof(nut_status_words) / sizeof(nut_status_words[0]); i++)
			if (hr_field_eq(f, fl, nut_status_words[i].word))
				break;
		if (i < sizeof(nut_status_words) / sizeof(nut_status_words[0]))
			bits |= nut_status_words[i].bit;
		else
			unk++;
	}
	if (unknown != NULL)
		*unknown = unk;
	return bits;
}

/* Copies s into dst with the words joined by one space (leading, trailing
 * and repeated white space dropped). */
static void squeeze(char *dst, size_t n, const char *s)
{
	struct hr_fields it;
	const char *f;
	size_t fl, dl = 0;

	dst[0] = '\0';
	hr_fields_init(&it, s, strlen(s));
	while (hr_fields_next(&it, &f, &fl)) {
		if (dl + (dl > 0) + fl + 1 > n)
			break;
		if (dl > 0)
			dst[dl++] = ' ';
		memcpy(dst + dl, f, fl);
		dl += fl;
		dst[dl] = '\0';
	}
}

/* Sets value NAME from variable VAR when it holds a number; returns 1 when
 * the variable is present but not a number. */
static unsigned map_number(const struct ups_nut_vars *vars, const char *var, struct hr_sample *s,
			   const char *name)
{
	const char *v = ups_nut_vars_get(vars, var);
	char t[UPS_NUT_VALUE_MAX];
	double d;

	if (v == NULL)
		return 0;
	squeeze(t, sizeof(t), v);
	if (hr_parse_double(t, strlen(t), &d) < 0)
		return 1;
	hr_sample_set(s, name, d);
	return 0;
}

unsigned ups_nut_map(const struct ups_nut_vars *vars, struct hr_sample *s)
{
	char status[UPS_NUT_VALUE_MAX], model[UPS_NUT_VALUE_MAX], mfr[UPS_NUT_VALUE_MAX];
	char full[2 * UPS_NUT_VALUE_MAX];
	const char *v;
	unsigned bad = 0, bits, unknown;

	v = ups_nut_vars_get(vars, "ups.status");
	if (v != NULL) {
		squeeze(status, sizeof(status), v);
		if (status[0] != '\0')
			hr_sample_label(s, "status", status);
		bits = ups_nut_status_bits(status, &unknown);
		if (bits != 0) {
			hr_sample_set(s, "online", (bits & UPS_NUT_ST_OL) != 0);
			hr_sample_set(s, "on_battery", (bits & UPS_NUT_ST_OB) != 0);
			hr_sample_set(s, "low_battery",
				      (bits & (UPS_NUT_ST_LB | UPS_NUT_ST_FSD)) != 0);
			hr_sample_set(s, "replace_battery", (bits & UPS_NUT_ST_RB) != 0);
			hr_sample_set(s, "overload", (bits & UPS_NUT_ST_OVER) != 0);
		}
	}
	bad += map_number(vars, "battery.charge", s, "charge_percent");
	bad += map_number(vars, "battery.runtime", s, "runtime_s");
	bad += map_number(vars, "ups.load", s, "load_percent");
	bad += map_number(vars, "input.voltage", s, "input_voltage");

	v = ups_nut_vars_get(vars, "ups.model");
	if (v == NULL || v[0] == '\0')
		v = ups_nut_vars_get(vars, "device.model");
	model[0] = '\0';
	if (v != NULL)
		squeeze(model, sizeof(model), v);
	v = ups_nut_vars_get(vars, "ups.mfr");
	if (v == NULL || v[0] == '\0')
		v = ups_nut_vars_get(vars, "device.mfr");
	mfr[0] = '\0';
	if (v != NULL)
		squeeze(mfr, sizeof(mfr), v);
	if (model[0] != '\0') {
		size_t ml = strlen(mfr);

		if (ml > 0 && strncasecmp(model, mfr, ml) != 0)
			snprintf(full, sizeof(full), "%s %s", mfr, model);
		else
			hr_strlcpy(full, model, sizeof(full));
		hr_sample_label(s, "model", full);
	}
	return bad;
}

/* --- the connection ------------------------------------------------------ */

/* One conversation with upsd: the socket, TLS once STARTTLS succeeded, and
 * the bytes received and not yet consumed. */
struct nut_conn {
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	int tls_up;      /* the handshake finished */
	double deadline; /* for everything after the connect */
	char *buf;
	size_t len, cap;
	size_t max_bytes;
};

static int conn_wait(struct nut_conn *c, short events, struct hr_err *err)
{
	for (;;) {
		double left = c->deadline - hr_now_mono();
		struct pollfd p = { .fd = c->fd, .events = events };
		int r;

		if (left <= 0)
			return hr_err_set(err, "upsd: no answer within the timeout");
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hr_err_errno(err, errno, "poll");
		if (r > 0)
			return 0;
	}
}

static int conn_send(struct nut_conn *c, const char *s, size_t len, struct hr_err *err)
{
	if (c->tls == NULL)
		return hr_write_all(c->fd, s, len, c->deadline, err);
	while (len > 0) {
		ssize_t w = gnutls_record_send(c->tls, s, len);

		if (w > 0) {
			s += w;
			len -= (size_t)w;
			continue;
		}
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
			if (conn_wait(c, gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN,
				      err) < 0)
				return -1;
			continue;
		}
		return hr_err_set(err, "TLS write: %s", gnutls_strerror((int)w));
	}
	return 0;
}

/* Reads more bytes into c->buf (at most max_bytes in all). 0, or -1 on end
 * of stream, error, timeout or a full buffer. */
static int conn_fill(struct nut_conn *c, struct hr_err *err)
{
	ssize_t r;
	size_t room;

	if (c->len >= c->max_bytes)
		return hr_err_set(err, "upsd: reply larger than %zu bytes", c->max_bytes);
	if (c->cap - c->len < 4096 && c->cap < c->max_bytes) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *n;

		if (cap > c->max_bytes)
			cap = c->max_bytes;
		n = realloc(c->buf, cap);
		if (n == NULL)
			return hr_err_set(err, "out of memory");
		c->buf = n;
		c->cap = cap;
	}
	room = c->cap - c->len;
	if (c->tls == NULL) {
		r = hr_read_some(c->fd, c->buf + c->len, room, c->deadline, err);
		if (r < 0) {
			if (strcmp(err->msg, "read timed out") == 0)
				hr_err_set(err, "upsd: no answer within the timeout");
			return -1;
		}
	} else {
		for (;;) {
			r = gnutls_record_recv(c->tls, c->buf + c->len, room);
			if (r >= 0)
				break;
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
				if (conn_wait(c, POLLIN, err) < 0)
					return -1;
				continue;
			}
			return hr_err_set(err, "TLS read: %s", gnutls_strerror((int)r));
		}
	}
	if (r == 0)
		return hr_err_set(err, "upsd: connection closed before the reply ended");
	c->len += (size_t)r;
	return 0;
}

/* Reads one reply line into line (NUL-terminated, without the newline) and
 * consumes it. Bytes after it are an error: every request here waits for
 * its answer, so a server that sends more is not following the protocol
 * (and before TLS they could be injected). */
static int conn_line(struct nut_conn *c, char *line, size_t n, struct hr_err *err)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl != NULL) {
			size_t ll = (size_t)(nl - c->buf);

			if (nl + 1 != c->buf + c->len)
				return hr_err_set(err, "upsd: unexpected data after the reply");
			if (ll > 0 && c->buf[ll - 1] == '\r')
				ll--;
			if (ll >= n)
				return hr_err_set(err, "upsd: reply line too long");
			memcpy(line, c->buf, ll);
			line[ll] = '\0';
			if (memchr(line, '\0', ll) != NULL)
				return hr_err_set(err, "upsd: NUL byte in the reply");
			c->len = 0;
			return 0;
		}
		if (c->len > UPS_NUT_LINE_MAX)
			return hr_err_set(err, "upsd: reply line longer than %d bytes",
					  UPS_NUT_LINE_MAX);
		if (conn_fill(c, err) < 0)
			return -1;
	}
}

/* Sends one request line and expects an "OK" line back; ERR is reported
 * as "upsd: ERR CODE" after what (e.g. "USERNAME"). */
static int conn_command(struct nut_conn *c, const char *req, const char *what,
			struct hr_err *err)
{
	char line[UPS_NUT_LINE_MAX + 1];

	if (conn_send(c, req, strlen(req), err) < 0 || conn_line(c, line, sizeof(line), err) < 0)
		return -1;
	if (starts_word(line, strlen(line), "OK"))
		return 0;
	if (starts_word(line, strlen(line), "ERR"))
		err_reply(err, line, strlen(line));
	else
		hr_err_set(err, "upsd: unexpected answer to %s", what);
	if (strncmp(err->msg, "upsd: ERR", 9) == 0) {
		char m[HR_ERR_MAX];

		hr_strlcpy(m, err->msg, sizeof(m));
		hr_err_set(err, "%s: %s", what, m);
	}
	return -1;
}

/* Appends WORD to dst as one protocol word: in quotes, with " and \
 * escaped. -1 when it does not fit. */
static int quote_word(char *dst, size_t n, const char *word)
{
	size_t dl = strlen(dst);

	if (dl + 1 >= n)
		return -1;
	dst[dl++] = '"';
	for (; *word != '\0'; word++) {
		if (*word == '"' || *word == '\\') {
			if (dl + 1 >= n)
				return -1;
			dst[dl++] = '\\';
		}
		if (dl + 1 >= n)
			return -1;
		dst[dl++] = *word;
	}
	if (dl + 3 > n)
		return -1;
	dst[dl++] = '"';
	dst[dl++] = '\n';
	dst[dl] = '\0';
	return 0;
}

/* GnuTLS writes with sendmsg(), which raises SIGPIPE when upsd has gone:
 * write with MSG_NOSIGNAL instead, so that a closing server cannot kill the
 * agent whatever its signal settings. */
static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	return send((int)(intptr_t)ptr, data, len, MSG_NOSIGNAL);
}

static int is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Runs the TLS handshake on c->fd, verifying the certificate against the CA
 * file (or the system's trust store) and the host name. */
static int conn_tls(struct nut_conn *c, const struct ups_nut_target *t, struct hr_err *err)
{
	int r;

	r = gnutls_certificate_allocate_credentials(&c->cred);
	if (r < 0)
		return hr_err_set(err, "TLS: %s", gnutls_strerror(r));
	if (t->ca != NULL) {
		r = gnutls_certificate_set_x509_trust_file(c->cred, t->ca, GNUTLS_X509_FMT_PEM);
		if (r <= 0)
			return hr_err_set(err, "TLS: CA file %s: %s", t->ca,
					  r == 0 ? "no certificate" : gnutls_strerror(r));
	} else {
		r = gnutls_certificate_set_x509_system_trust(c->cred);
		if (r <= 0)
			return hr_err_set(err, "TLS: no system CA certificates");
	}
	r = gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (r < 0) {
		c->tls = NULL;
		return hr_err_set(err, "TLS: %s", gnutls_strerror(r));
	}
	if ((r = gnutls_set_default_priority(c->tls)) < 0 ||
	    (r = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred)) < 0)
		return hr_err_set(err, "TLS: %s", gnutls_strerror(r));
	if (!is_ip_literal(t->host))
		gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, t->host, strlen(t->host));
	/* the handshake fails unless the chain verifies and names t->host */
	gnutls_session_set_verify_cert(c->tls, t->host, 0);
	gnutls_transport_set_int(c->tls, c->fd);
	gnutls_transport_set_push_function(c->tls, tls_push);
	gnutls_handshake_set_timeout(c->tls, 0);
	for (;;) {
		r = gnutls_handshake(c->tls);
		if (r == GNUTLS_E_SUCCESS) {
			c->tls_up = 1;
			return 0;
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (conn_wait(c, gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN,
				      err) < 0)
				return -1;
			continue;
		}
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t out = { NULL, 0 };
			unsigned status = gnutls_session_get_verify_cert_status(c->tls);

			if (gnutls_certificate_verification_status_print(
				    status, GNUTLS_CRT_X509, &out, 0) == 0) {
				size_t l = strlen((char *)out.data);

				while (l > 0 && out.data[l - 1] == ' ')
					out.data[--l] = '\0';
				hr_err_set(err, "TLS: server certificate: %s", (char *)out.data);
				gnutls_free(out.data);
				return -1;
			}
		}
		if (gnutls_error_is_fatal(r))
			return hr_err_set(err, "TLS handshake: %s", gnutls_strerror(r));
	}
}

static void conn_close(struct nut_conn *c)
{
	if (c->tls != NULL) {
		if (c->tls_up)
			gnutls_bye(c->tls, GNUTLS_SHUT_WR); /* non-blocking: best effort */
		gnutls_deinit(c->tls);
	}
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
}

static int nut_talk(struct nut_conn *c, const struct ups_nut_target *t, struct hr_sample *s,
		    struct hr_err *err)
{
	struct ups_nut_vars vars;
	char req[3 * UPS_NUT_VALUE_MAX];
	int rc = -1;

	ups_nut_vars_init(&vars);
	if (t->starttls) {
		if (conn_command(c, "STARTTLS\n", "STARTTLS", err) < 0)
			goto out;
		if (conn_tls(c, t, err) < 0)
			goto out;
	}
	if (t->username != NULL) {
		hr_strlcpy(req, "USERNAME ", sizeof(req));
		if (quote_word(req, sizeof(req), t->username) < 0) {
			hr_err_set(err, "user name too long");
			goto out;
		}
		if (conn_command(c, req, "USERNAME", err) < 0)
			goto out;
		hr_strlcpy(req, "PASSWORD ", sizeof(req));
		if (quote_word(req, sizeof(req), t->password != NULL ? t->password : "") < 0) {
			hr_err_set(err, "password too long");
			goto out;
		}
		if (conn_command(c, req, "PASSWORD", err) < 0)
			goto out;
	}
	snprintf(req, sizeof(req), "LIST VAR %s\n", t->ups);
	if (conn_send(c, req, strlen(req), err) < 0)
		goto out;
	while (!ups_nut_reply_done(c->buf, c->len)) {
		const char *nl = c->len ? memrchr(c->buf, '\n', c->len) : NULL;
		size_t tail = nl ? c->len - (size_t)(nl + 1 - c->buf) : c->len;

		if (tail > UPS_NUT_LINE_MAX) {
			hr_err_set(err, "upsd: reply line longer than %d bytes", UPS_NUT_LINE_MAX);
			goto out;
		}
		if (conn_fill(c, err) < 0)
			goto out;
	}
	if (ups_nut_parse_list(c->buf, c->len, t->ups, &vars, err) < 0)
		goto out;
	ups_nut_map(&vars, s);
	/* polite, not awaited: upsd answers "OK Goodbye" and closes */
	conn_send(c, "LOGOUT\n", 7, &(struct hr_err){ { 0 } });
	rc = 0;
out:
	ups_nut_vars_free(&vars);
	return rc;
}

int ups_nut_query(const struct ups_nut_target *t, double connect_timeout, double read_timeout,
		  size_t max_bytes, struct hr_sample *s, struct hr_err *err)
{
	struct nut_conn c = { .fd = -1, .max_bytes = max_bytes };
	struct hr_sample tmp = *s;
	char m[HR_ERR_MAX];
	int rc = -1;

	c.fd = hr_tcp_connect(t->host, t->port, connect_timeout, err);
	if (c.fd < 0)
		goto out;
	c.deadline = hr_now_mono() + read_timeout;
	if (nut_talk(&c, t, &tmp, err) < 0)
		goto out;
	*s = tmp;
	err->msg[0] = '\0'; /* netio leaves a note even when it connects */
	rc = 0;
out:
	conn_close(&c);
	if (rc < 0) {
		char hp[HR_INSTANCE_MAX];
		const char *msg = m;

		/* netio's messages already name HOST:PORT */
		hr_strlcpy(m, err->msg, sizeof(m));
		snprintf(hp, sizeof(hp), "%s:%s: ", t->host, t->port);
		if (strncmp(m, hp, strlen(hp)) == 0)
			msg += strlen(hp);
		if (strchr(t->host, ':') != NULL)
			hr_err_set(err, "%s@[%s]:%s: %s", t->ups, t->host, t->port, msg);
		else
			hr_err_set(err, "%s@%s:%s: %s", t->ups, t->host, t->port, msg);
	}
	return rc;
}
