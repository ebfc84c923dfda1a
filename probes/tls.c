/* tls.c: the tls probe (see tls.h). Every target gets a libcurl handshake
 * with CURLOPT_CONNECT_ONLY (no HTTP request, so SMTPS, IMAPS, LDAPS and the
 * like work too), all targets at once on one multi handle per read, so that
 * a read costs about one timeout however many targets there are.
 * The certificate must be read even when it does not verify (expired,
 * self-signed, wrong name), and libcurl's OpenSSL backend aborts a failing
 * verification inside the handshake, before CURLINFO_CERTINFO is filled. So
 * the first handshake verifies (chain against the system CAs or the
 * target's "ca", and the name); only when it fails for a verification
 * reason does a second one, with verification off, fetch the certificate.
 * Its error text is the "verify" label. latency_ms is libcurl's appconnect
 * minus namelookup time: TCP connect plus handshake of the handshake that
 * completed; as all targets share one thread it may include a little of the
 * others' handshake CPU. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cfg.h"
#include "log.h"
#include "netio.h"
#include "tls.h"
#include "util.h"

#define TLS_HOST_MAX 256
#define TLS_EXAMPLE "{\"targets\": [\"www.example.org:443\"]}"

struct tls_target {
	char *instance;   /* "host:port" (or the configured "name") */
	char *url;        /* https://NAME:PORT/, NAME the SNI name or the host */
	char *connect_to; /* "SNI:PORT:HOST:PORT" when an SNI name is set */
	char *sni;        /* the SNI name, or NULL */
	char *ca;         /* CA bundle to verify against, or NULL: the system's */
	struct hr_complain c; /* down */
};

struct tls_state {
	struct tls_target *targets;
	size_t count;
	double timeout;
};

/* One target's progress through a read. */
struct tls_run {
	struct tls_target *t;
	CURL *h;
	int phase;      /* 1: verifying handshake, 2: unverified, for the cert */
	int done;
	int up;
	double latency_ms;
	int have_expiry;
	time_t expiry;
	const char *why; /* stable reason when down, for the log */
	char verify[CURL_ERROR_SIZE];
	char errbuf[CURL_ERROR_SIZE]; /* libcurl's detailed text (with timings) */
};

static const char *const tls_allowed[] = { "targets", "timeout", "interval", NULL };
static const char *const tls_target_keys[] = { "target", "sni", "ca", "name", NULL };

static const char *const tls_months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* n digits at s into *out; 0 or -1. */
static int tls_digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "HH:MM:SS" and an optional ".digits" at *p (bounded by end); advances *p. */
static int tls_clock(const char **p, const char *end, struct tm *tm)
{
	const char *s = *p;

	if (end - s < 8 || s[2] != ':' || s[5] != ':' || tls_digits(s, 2, &tm->tm_hour) < 0 ||
	    tls_digits(s + 3, 2, &tm->tm_min) < 0 || tls_digits(s + 6, 2, &tm->tm_sec) < 0)
		return -1;
	s += 8;
	if (s < end && *s == '.') {
		const char *f = ++s;

		while (s < end && *s >= '0' && *s <= '9')
			s++;
		if (s == f)
			return -1;
	}
	*p = s;
	return 0;
}

static int tls_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tls_parse_cert_time(const char *s, size_t len, time_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s, *end = s + len;
	struct tm tm;
	time_t t;
	int i;

	memset(&tm, 0, sizeof(tm));
	tm.tm_mon = -1;
	if (len > 4 && s[4] == '-') {
		/* "2026-11-28 10:00:00 GMT" */
		if (len < 19 || tls_digits(p, 4, &tm.tm_year) < 0 || p[7] != '-' ||
		    tls_digits(p + 5, 2, &tm.tm_mon) < 0 || tls_digits(p + 8, 2, &tm.tm_mday) < 0 ||
		    p[10] != ' ')
			return -1;
		tm.tm_mon--;
		p += 11;
		if (tls_clock(&p, end, &tm) < 0)
			return -1;
	} else {
		/* "Nov 28 10:00:00 2026 GMT", "Nov  8 ..." */
		if (len < 24 || p[3] != ' ')
			return -1;
		for (i = 0; i < 12; i++)
			if (memcmp(p, tls_months[i], 3) == 0)
				tm.tm_mon = i;
		if (tm.tm_mon < 0)
			return -1;
		p += 4;
		if (p[0] == ' ' && tls_digits(p + 1, 1, &tm.tm_mday) == 0)
			;
		else if (tls_digits(p, 2, &tm.tm_mday) < 0)
			return -1;
		if (p[2] != ' ')
			return -1;
		p += 3;
		if (tls_clock(&p, end, &tm) < 0)
			return -1;
		if (end - p < 5 || p[0] != ' ' || tls_digits(p + 1, 4, &tm.tm_year) < 0)
			return -1;
		p += 5;
	}
	if (end - p != 4 || memcmp(p, " GMT", 4) != 0)
		return -1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1950)
		return -1;
	if (tm.tm_mday > mdays[tm.tm_mon] + (tm.tm_mon == 1 && tls_leap(tm.tm_year)))
		return -1;
	tm.tm_year -= 1900;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

int tls_certinfo_expiry(const char *const *lines, size_t n, time_t *out)
{
	static const char key[] = "Expire date:";
	size_t i;

	for (i = 0; i < n; i++)
		if (lines[i] != NULL && strncmp(lines[i], key, sizeof(key) - 1) == 0)
			return tls_parse_cert_time(lines[i] + sizeof(key) - 1,
						   strlen(lines[i] + sizeof(key) - 1), out);
	return -1;
}

/* Is s a name or address that can stand in a URL's host part as it is? */
static int tls_host_ok(const char *s, int v6)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) > 253)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (v6 ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F') || c == ':' || c == '.')
		       : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			   (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return s[0] != '-' && s[0] != '.';
}

int tls_parse_target(const char *s, char *host, size_t hn, char *port, size_t pn,
		     struct hr_err *err)
{
	if (hr_split_hostport(s, host, hn, port, pn, TLS_PORT_DEFAULT) < 0)
		return hr_err_set(err, "expected HOST:PORT or [IPV6]:PORT");
	if (!tls_host_ok(host, s[0] == '['))
		return hr_err_set(err, "\"%.64s\" is not a host name or IP address", host);
	return 0;
}

static void tls_target_free(struct tls_target *t)
{
	free(t->instance);
	free(t->url);
	free(t->connect_to);
	free(t->sni);
	free(t->ca);
}

static void tls_free_state(struct tls_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->count; i++)
		tls_target_free(&st->targets[i]);
	free(st->targets);
	free(st);
}

static char *tls_strdup_printf(const char *a, const char *b, const char *c, const char *d,
			       const char *e)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + strlen(e) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s%s%s", a, b, c, d, e);
	return s;
}

/* One entry of "targets": a string or {"target", "sni", "ca", "name"}. */
static int tls_target_setup(const cJSON *e, const char *path, struct tls_target *t,
			    struct hr_errs *errs)
{
	const char *target = NULL, *sni = NULL, *ca = NULL, *name = NULL;
	char host[TLS_HOST_MAX], port[8], p[600], hp[TLS_HOST_MAX + 8];
	struct hr_err err;
	int bad = 0, v6;

	if (cJSON_IsString(e) && e->valuestring != NULL && e->valuestring[0] != '\0') {
		target = e->valuestring;
	} else if (cJSON_IsObject(e)) {
		if (hr_cfg_check_keys(e, path, tls_target_keys, errs) > 0)
			bad = 1;
		if (hr_cfg_string(e, "target", path, &target, errs) == 0) {
			hr_errs_add(errs, path, "missing \"target\": HOST:PORT");
			bad = 1;
		}
		if (hr_cfg_string(e, "sni", path, &sni, errs) < 0 ||
		    hr_cfg_string(e, "ca", path, &ca, errs) < 0 ||
		    hr_cfg_string(e, "name", path, &name, errs) < 0)
			bad = 1;
	} else {
		hr_errs_add(errs, path, "expected \"HOST:PORT\" or {\"target\": \"HOST:PORT\", "
			    "\"sni\": NAME, \"ca\": FILE}");
		return -1;
	}
	if (target != NULL && tls_parse_target(target, host, sizeof(host), port, sizeof(port),
					       &err) < 0) {
		hr_cfg_path(p, sizeof(p), path, "target");
		hr_errs_add(errs, cJSON_IsObject(e) ? p : path, "%s", err.msg);
		bad = 1;
	}
	if (sni != NULL && !tls_host_ok(sni, 0)) {
		hr_cfg_path(p, sizeof(p), path, "sni");
		hr_errs_add(errs, p, "expected a DNS name");
		bad = 1;
	}
	if (ca != NULL && access(ca, R_OK) < 0) {
		hr_cfg_path(p, sizeof(p), path, "ca");
		hr_errs_add(errs, p, "%s: %s", ca, strerror(errno));
		bad = 1;
	}
	if (name != NULL && strlen(name) >= HR_INSTANCE_MAX) {
		hr_cfg_path(p, sizeof(p), path, "name");
		hr_errs_add(errs, p, "longer than %d bytes", HR_INSTANCE_MAX - 1);
		bad = 1;
	}
	if (bad)
		return -1;
	v6 = strchr(host, ':') != NULL;
	snprintf(hp, sizeof(hp), v6 ? "[%s]" : "%s", host);
	if (name != NULL)
		t->instance = strdup(name);
	else
		t->instance = tls_strdup_printf(hp, ":", port, "", "");
	if (sni != NULL) {
		t->sni = strdup(sni);
		t->url = tls_strdup_printf("https://", sni, ":", port, "/");
		/* connect to the target, but name (SNI, Host, verification) sni */
		snprintf(p, sizeof(p), "%s:%s:%s:%s", sni, port, hp, port);
		t->connect_to = strdup(p);
	} else {
		t->url = tls_strdup_printf("https://", hp, ":", port, "/");
	}
	if (ca != NULL)
		t->ca = strdup(ca);
	if (t->instance == NULL || t->url == NULL || (sni != NULL && (t->sni == NULL ||
	    t->connect_to == NULL)) || (ca != NULL && t->ca == NULL)) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	return 0;
}

static pthread_once_t tls_curl_once = PTHREAD_ONCE_INIT;
static CURLcode tls_curl_init_rc;

/* libcurl 7.88's curl_global_init is not thread-safe; setup runs on the
 * main thread, and the once guard keeps a second setup from repeating it. */
static void tls_curl_init(void)
{
	tls_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int tls_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	const cJSON *arr, *e;
	struct tls_state *st;
	char p[512], pi[560];
	size_t n, i, j;
	int bad = 0, idx = 0;

	(void)env; /* remote services: nothing under the root */
	if (cfg == NULL || !cJSON_IsObject(cfg)) {
		hr_errs_add(errs, path, "no targets configured: expected %s", TLS_EXAMPLE);
		return -1;
	}
	if (hr_cfg_check_keys(cfg, path, tls_allowed, errs) > 0)
		bad = 1;
	hr_cfg_path(p, sizeof(p), path, "targets");
	arr = cJSON_GetObjectItemCaseSensitive(cfg, "targets");
	if (arr == NULL) {
		hr_errs_add(errs, path, "no targets configured: expected %s", TLS_EXAMPLE);
		return -1;
	}
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
		hr_errs_add(errs, p, "expected a non-empty array of \"HOST:PORT\" or "
			    "{\"target\": ...}");
		return -1;
	}
	n = (size_t)cJSON_GetArraySize(arr);
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->targets = calloc(n, sizeof(*st->targets))) == NULL) {
		free(st);
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->timeout = TLS_TIMEOUT_DEFAULT;
	if (hr_cfg_duration(cfg, "timeout", path, 0.1, 300, &st->timeout, errs) < 0)
		bad = 1;
	cJSON_ArrayForEach(e, arr) {
		struct tls_target *t = &st->targets[st->count];

		hr_cfg_index(pi, sizeof(pi), p, idx++);
		if (tls_target_setup(e, pi, t, errs) < 0) {
			tls_target_free(t);
			memset(t, 0, sizeof(*t));
			bad = 1;
			continue;
		}
		for (j = 0; j < st->count; j++)
			if (strcmp(st->targets[j].instance, t->instance) == 0)
				break;
		if (j < st->count) {
			hr_errs_add(errs, pi, "\"%s\" is listed twice (give one a \"name\")",
				    t->instance);
			tls_target_free(t);
			memset(t, 0, sizeof(*t));
			bad = 1;
			continue;
		}
		st->count++;
	}
	if (!bad) {
		pthread_once(&tls_curl_once, tls_curl_init);
		if (tls_curl_init_rc != CURLE_OK) {
			hr_errs_add(errs, path, "libcurl: %s",
				    curl_easy_strerror(tls_curl_init_rc));
			bad = 1;
		}
	}
	if (bad) {
		tls_free_state(st);
		return -1;
	}
	for (i = 0; i < st->count; i++)
		hr_log_debug("probe tls: %s: %s%s%s", st->targets[i].instance, st->targets[i].url,
			     st->targets[i].connect_to ? " via " : "",
			     st->targets[i].connect_to ? st->targets[i].connect_to : "");
	*state = st;
	return 0;
}

/* A handle for r's current phase; NULL when libcurl cannot make one. */
static CURL *tls_handle(struct tls_run *r, struct curl_slist *connect_to, double timeout)
{
	long ms = (long)(timeout * 1000);
	int verify = r->phase == 1;
	CURL *h = curl_easy_init();

	if (h == NULL)
		return NULL;
	r->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, r->t->url);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	/* a fresh handshake every time: a resumed session sends no certificate */
	curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	/* not every TLS service speaks HTTP: offer no application protocol */
	curl_easy_setopt(h, CURLOPT_SSL_ENABLE_ALPN, 0L);
	/* the service itself, never a proxy from the environment */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (verify && r->t->ca != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, r->t->ca);
	if (connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
	return h;
}

/* Did the handshake fail for a reason a second, unverified one gets past? */
static int tls_verify_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_CRL_BADFILE ||
	       rc == CURLE_SSL_INVALIDCERTSTATUS;
}

/* Takes latency and the leaf's expiry from a completed handshake. */
static void tls_collect(struct tls_run *r)
{
	struct curl_certinfo *ci = NULL;
	curl_off_t lookup = 0, app = 0;

	r->up = 1;
	if (curl_easy_getinfo(r->h, CURLINFO_APPCONNECT_TIME_T, &app) == CURLE_OK && app > 0) {
		/* connect + handshake; name lookup is not the service's time */
		if (curl_easy_getinfo(r->h, CURLINFO_NAMELOOKUP_TIME_T, &lookup) != CURLE_OK ||
		    lookup < 0 || lookup > app)
			lookup = 0;
		r->latency_ms = (double)(app - lookup) / 1000.0;
	} else {
		r->latency_ms = -1;
	}
	if (curl_easy_getinfo(r->h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci != NULL &&
	    ci->num_of_certs > 0) {
		struct curl_slist *l;

		/* the first certificate of the chain is the server's own */
		for (l = ci->certinfo[0]; l != NULL && !r->have_expiry; l = l->next) {
			const char *line = l->data;

			if (tls_certinfo_expiry(&line, 1, &r->expiry) == 0)
				r->have_expiry = 1;
		}
	}
}

/* Handles a finished transfer; may start r's second phase on multi (then
 * returns 1, else 0). */
static int tls_finished(CURLM *multi, struct tls_run *r, CURLcode rc,
			 struct curl_slist *connect_to, double timeout)
{
	curl_multi_remove_handle(multi, r->h);
	if (rc == CURLE_OK) {
		tls_collect(r);
		if (r->phase == 1)
			hr_strlcpy(r->verify, "ok", sizeof(r->verify));
	} else if (r->phase == 1 && tls_verify_error(rc)) {
		hr_strlcpy(r->verify, r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc),
			   sizeof(r->verify));
		curl_easy_cleanup(r->h);
		r->phase = 2;
		r->h = tls_handle(r, connect_to, timeout);
		if (r->h != NULL && curl_multi_add_handle(multi, r->h) == CURLM_OK)
			return 1;
		r->why = "cannot start a second handshake";
		hr_strlcpy(r->errbuf, r->why, sizeof(r->errbuf));
	} else {
		r->why = curl_easy_strerror(rc);
		if (r->errbuf[0] == '\0')
			hr_strlcpy(r->errbuf, r->why, sizeof(r->errbuf));
	}
	if (r->h != NULL)
		curl_easy_cleanup(r->h);
	r->h = NULL;
	r->done = 1;
	return 0;
}

/* Printable ASCII only, cut to fit: error texts may quote what a server sent. */
static void tls_label(struct hr_sample *s, const char *name, const char *v)
{
	char buf[HR_LABEL_VALUE_MAX];
	size_t i;

	for (i = 0; v[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	buf[i] = '\0';
	hr_sample_label(s, name, buf);
}

static int tls_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct tls_state *st = state;
	struct tls_run *runs;
	struct curl_slist **cto;
	CURLM *multi;
	double deadline;
	size_t i;
	int running = 0, rc = 0;

	runs = calloc(st->count, sizeof(*runs));
	cto = calloc(st->count, sizeof(*cto));
	multi = curl_multi_init();
	if (runs == NULL || cto == NULL || multi == NULL) {
		rc = hr_err_set(err, "out of memory");
		goto out;
	}
	for (i = 0; i < st->count; i++) {
		struct tls_run *r = &runs[i];

		r->t = &st->targets[i];
		r->phase = 1;
		if (r->t->connect_to != NULL &&
		    (cto[i] = curl_slist_append(NULL, r->t->connect_to)) == NULL) {
			r->why = "out of memory";
			hr_strlcpy(r->errbuf, r->why, sizeof(r->errbuf));
			r->done = 1;
			continue;
		}
		r->h = tls_handle(r, cto[i], st->timeout);
		if (r->h == NULL || curl_multi_add_handle(multi, r->h) != CURLM_OK) {
			curl_easy_cleanup(r->h);
			r->h = NULL;
			r->why = "libcurl cannot make a handle";
			hr_strlcpy(r->errbuf, r->why, sizeof(r->errbuf));
			r->done = 1;
		}
	}
	/* Every handle carries its own timeouts, so this ends within about
	 * two timeouts (a verifying and an unverified handshake); the deadline
	 * only guards against a libcurl that forgets one. */
	deadline = hr_now_mono() + 2 * st->timeout + 5;
	for (;;) {
		CURLMsg *m;
		int left, added = 0;

		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			char *priv = NULL;
			struct tls_run *r;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			r = (struct tls_run *)(void *)priv;
			if (r != NULL)
				added += tls_finished(multi, r, m->data.result, cto[r - runs],
						      st->timeout);
		}
		for (i = 0; i < st->count && runs[i].done; i++)
			;
		if (i == st->count || (running == 0 && !added) || hr_now_mono() > deadline)
			break;
		if (curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	for (i = 0; i < st->count; i++) {
		struct tls_run *r = &runs[i];
		struct hr_sample s;

		if (r->h != NULL) { /* the multi loop broke off */
			curl_multi_remove_handle(multi, r->h);
			curl_easy_cleanup(r->h);
			r->h = NULL;
			r->why = "libcurl multi interface failed";
			hr_strlcpy(r->errbuf, r->why, sizeof(r->errbuf));
			r->up = 0;
		}
		hr_sample_init(&s, "tls", r->t->instance);
		hr_sample_set(&s, "up", r->up);
		if (r->up) {
			if (r->latency_ms >= 0)
				hr_sample_set(&s, "latency_ms", r->latency_ms);
			if (r->have_expiry)
				hr_sample_set(&s, "expiry_days",
					      ((double)r->expiry - hr_now_wall()) / 86400.0);
			tls_label(&s, "verify", r->verify);
			hr_complain_clear(&r->t->c, "probe tls: %s: up again", r->t->instance);
		} else {
			tls_label(&s, "error", r->errbuf);
			/* libcurl's text carries timings ("after 3 ms"), which would
			 * make every read's message new: log its stable reason */
			hr_complain(&r->t->c, "probe tls: %s: down: %s", r->t->instance,
				    r->why ? r->why : "no handshake");
		}
		hr_sink_put(sink, &s);
	}
out:
	if (multi != NULL)
		curl_multi_cleanup(multi);
	for (i = 0; cto != NULL && i < st->count; i++)
		curl_slist_free_all(cto[i]);
	free(cto);
	free(runs);
	return rc;
}

static void tls_teardown(void *state)
{
	tls_free_state(state);
}

const struct probe probe_tls = {
	.name = "tls",
	.core = 0,
	.default_interval = 60,
	.setup = tls_setup,
	.read = tls_read,
	.teardown = tls_teardown,
};
