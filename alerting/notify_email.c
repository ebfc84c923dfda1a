/* notify_email.c: e-mail through an SMTP server with libcurl: smtp:// with
 * STARTTLS (required unless "starttls": false) or smtps://, optional AUTH,
 * and a plain-text RFC 5322 message, one per notification. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cfg.h"
#include "notify.h"
#include "util.h"

static const char *const keys[] = {
	"smtp", "starttls", "username", "password", "password_file", "from", "to", "timeout", "ca",
	"insecure", NULL,
};

/* A password file is a secret, not a document: a few hundred bytes. */
#define PASSWORD_CAP 4096

struct email {
	char *url;
	int starttls;
	char *username, *password;
	char *from;
	char **to;
	char *ca;
	int insecure;
	double timeout;
};

/* An address we put into headers and the SMTP envelope: something@host,
 * without white space, controls or angle brackets (no header injection). */
static int address_ok(const char *s)
{
	const char *at = strchr(s, '@');
	const unsigned char *p;

	if (at == NULL || at == s || at[1] == '\0')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' || *p == ',')
			return 0;
	return 1;
}

static void email_free(void *state)
{
	struct email *e = state;

	free(e->url);
	free(e->username);
	if (e->password != NULL)
		explicit_bzero(e->password, strlen(e->password));
	free(e->password);
	free(e->from);
	hr_strv_free(e->to);
	free(e->ca);
	free(e);
}

static void *email_setup(const cJSON *cfg, const char *path, struct hr_errs *errs)
{
	struct email *e = calloc(1, sizeof(*e));
	const char *s, *pwfile = NULL;
	char p[512];
	size_t before = errs->count + errs->dropped;
	int r, i;

	if (e == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return NULL;
	}
	e->timeout = 30;
	e->starttls = 1;
	hr_cfg_path(p, sizeof(p), path, "smtp");
	r = hr_cfg_string(cfg, "smtp", path, &s, errs);
	if (r == 0)
		hr_errs_add(errs, path, "missing \"smtp\" (smtp://host:587 or smtps://host:465)");
	if (r > 0) {
		if (strncmp(s, "smtp://", 7) != 0 && strncmp(s, "smtps://", 8) != 0)
			hr_errs_add(errs, p, "expected smtp://HOST[:PORT] or smtps://HOST[:PORT]");
		else if ((e->url = strdup(s)) == NULL)
			hr_errs_add(errs, p, "out of memory");
	}
	hr_cfg_bool(cfg, "starttls", path, &e->starttls, errs);
	if (hr_cfg_string(cfg, "username", path, &s, errs) > 0)
		e->username = strdup(s);
	r = hr_cfg_string(cfg, "password", path, &s, errs);
	if (r > 0)
		e->password = strdup(s);
	if (hr_cfg_string(cfg, "password_file", path, &pwfile, errs) > 0) {
		struct hr_err err;
		char *buf = NULL;
		size_t len = 0;

		hr_cfg_path(p, sizeof(p), path, "password_file");
		if (r > 0) {
			hr_errs_add(errs, p, "give \"password\" or \"password_file\", not both");
		} else if (hr_read_file(NULL, pwfile, &buf, &len, PASSWORD_CAP, &err) < 0) {
			hr_errs_add(errs, p, "%s", err.msg);
		} else {
			while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
				buf[--len] = '\0';
			e->password = buf;
		}
	}
	if ((e->password != NULL) != (e->username != NULL))
		hr_errs_add(errs, path, "\"username\" and a password go together");
	hr_cfg_path(p, sizeof(p), path, "from");
	r = hr_cfg_string(cfg, "from", path, &s, errs);
	if (r == 0)
		hr_errs_add(errs, path, "missing \"from\"");
	if (r > 0 && !address_ok(s))
		hr_errs_add(errs, p, "expected an address like alerts@example.org");
	if (r > 0 && address_ok(s))
		e->from = strdup(s);
	r = hr_cfg_strv(cfg, "to", path, &e->to, errs);
	if (r == 0 || (r > 0 && e->to[0] == NULL))
		hr_errs_add(errs, path, "missing \"to\" (an array of addresses)");
	for (i = 0; r > 0 && e->to[i] != NULL; i++) {
		char q[512];

		hr_cfg_path(p, sizeof(p), path, "to");
		hr_cfg_index(q, sizeof(q), p, i);
		if (!address_ok(e->to[i]))
			hr_errs_add(errs, q, "expected an address like ops@example.org");
	}
	if (hr_cfg_string(cfg, "ca", path, &s, errs) > 0) {
		hr_cfg_path(p, sizeof(p), path, "ca");
		if (access(s, R_OK) != 0)
			hr_errs_add(errs, p, "%s: %s", s, strerror(errno));
		else
			e->ca = strdup(s);
	}
	hr_cfg_bool(cfg, "insecure", path, &e->insecure, errs);
	hr_cfg_duration(cfg, "timeout", path, 0.1, 600, &e->timeout, errs);
	if (errs->count + errs->dropped > before) {
		email_free(e);
		return NULL;
	}
	return e;
}

/* Appends s to f with bare LF turned into CRLF and other controls but TAB
 * dropped: SMTP wants CRLF lines (RFC 5321 2.3.8). */
static void put_crlf(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\r\n", f);
		else if ((unsigned char)*s >= ' ' || *s == '\t')
			fputc(*s, f);
	}
}

char *notify_email_message(const cJSON *payload, const char *from, char *const *to, double now)
{
	char title[512], subject[512], date[64], *lines, *buf = NULL;
	time_t t = (time_t)now;
	unsigned char rnd[8] = { 0 };
	size_t len = 0, i;
	struct tm tm;
	FILE *f;

	notify_title(payload, title, sizeof(title));
	/* Header text must be one line of ASCII (RFC 5322 2.2). */
	hr_printable(subject, sizeof(subject), title, strlen(title));
	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		memcpy(rnd, &now, sizeof(rnd) < sizeof(now) ? sizeof(rnd) : sizeof(now));
	lines = notify_lines(payload);
	if (lines == NULL)
		return NULL;
	f = open_memstream(&buf, &len);
	if (f == NULL) {
		free(lines);
		return NULL;
	}
	fprintf(f, "Date: %s\r\n", date);
	fprintf(f, "Message-ID: <%lld.", (long long)t);
	for (i = 0; i < sizeof(rnd); i++)
		fprintf(f, "%02x", rnd[i]);
	fprintf(f, "@headroom>\r\nFrom: %s\r\nTo: ", from);
	for (i = 0; to[i] != NULL; i++)
		fprintf(f, "%s%s", i > 0 ? ", " : "", to[i]);
	fprintf(f, "\r\nSubject: %s\r\n", subject);
	fputs("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	      "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n", f);
	fprintf(f, "X-Headroom-Status: %s\r\n\r\n",
		strcmp(notify_str(payload, "status"), "resolved") == 0 ? "resolved" : "firing");
	put_crlf(f, lines);
	if (notify_str(payload, "externalURL")[0] != '\0') {
		fputs("\r\n", f);
		put_crlf(f, notify_str(payload, "externalURL"));
		fputs("\r\n", f);
	}
	free(lines);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_message(char *dst, size_t size, size_t nmemb, void *userp)
{
	struct upload *u = userp;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
	(void)data;
	(void)userp;
	return size * nmemb;
}

static int email_send(void *state, const cJSON *payload, const char *json, struct hr_err *err)
{
	struct email *e = state;
	struct curl_slist *rcpt = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct upload up;
	long code = 0;
	char *msg;
	CURLcode rc;
	CURL *c;
	int ret = NOTIFY_RETRY;
	size_t i;

	(void)json;
	msg = notify_email_message(payload, e->from, e->to, hr_now_wall());
	c = curl_easy_init();
	if (msg == NULL || c == NULL) {
		hr_err_set(err, "out of memory");
		goto out;
	}
	for (i = 0; e->to[i] != NULL; i++) {
		struct curl_slist *l = curl_slist_append(rcpt, e->to[i]);

		if (l == NULL) {
			hr_err_set(err, "out of memory");
			goto out;
		}
		rcpt = l;
	}
	up.p = msg;
	up.left = strlen(msg);
	curl_easy_setopt(c, CURLOPT_URL, e->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, e->from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(e->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (e->starttls && strncmp(e->url, "smtp://", 7) == 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (e->username != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, e->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, e->password);
	}
	if (e->ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->ca);
	if (e->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		ret = NOTIFY_DELIVERED;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	hr_err_set(err, "%s (SMTP %ld)", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc), code);
	/* A 5xx reply is the server's final word (RFC 5321 4.2.1): wrong
	 * credentials, a refused address. 4xx and no reply are transient. */
	ret = code >= 500 && code < 600 ? NOTIFY_DROP : NOTIFY_RETRY;
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(msg);
	return ret;
}

const struct notify_type notify_email = {
	.name = "email",
	.keys = keys,
	.setup = email_setup,
	.send = email_send,
	.free = email_free,
};
