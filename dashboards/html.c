/* html.c: the buffer every page writes into, escaping, and the layout and
 * style sheet all pages share. The design: one readable column on a phone,
 * a wider grid on a laptop; colour only for states (ok, warning, critical,
 * info, stale). No scripts. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "html.h"

void hbuf_init(struct hbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void hbuf_free(struct hbuf *b)
{
	free(b->s);
	hbuf_init(b);
}

static int grow(struct hbuf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < need)
		cap *= 2;
	p = realloc(b->s, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->s = p;
	b->cap = cap;
	return 0;
}

void hbuf_add(struct hbuf *b, const char *s, size_t n)
{
	if (grow(b, n) < 0)
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void hbuf_puts(struct hbuf *b, const char *s)
{
	hbuf_add(b, s, strlen(s));
}

void hbuf_printf(struct hbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (grow(b, 128) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->s[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (grow(b, (size_t)n) < 0) {
			b->s[b->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void hbuf_esc(struct hbuf *b, const char *s)
{
	const char *p, *start;

	if (s == NULL)
		return;
	for (p = start = s; *p; p++) {
		const char *rep;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		hbuf_add(b, start, (size_t)(p - start));
		hbuf_puts(b, rep);
		start = p + 1;
	}
	hbuf_add(b, start, (size_t)(p - start));
}

void hbuf_url(struct hbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p; p++) {
		char c[3];

		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			c[0] = (char)*p;
			hbuf_add(b, c, 1);
			continue;
		}
		c[0] = '%';
		c[1] = hex[*p >> 4];
		c[2] = hex[*p & 15];
		hbuf_add(b, c, 3);
	}
}

int hbuf_to_resp(struct hbuf *b, struct page_resp *out)
{
	if (b->oom) {
		hbuf_free(b);
		return -1;
	}
	if (b->s == NULL)
		hbuf_puts(b, "");
	if (b->oom)
		return -1;
	out->body = b->s;
	out->len = b->len;
	out->type = "text/html; charset=utf-8";
	hbuf_init(b);
	return 0;
}

int html_json(struct page_resp *out, cJSON *doc)
{
	char *s = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if (s == NULL)
		return -1;
	out->body = s;
	out->len = strlen(s);
	out->type = "application/json";
	return 0;
}

static void nav_item(struct hbuf *b, const char *href, const char *name, const char *label,
		     const char *active)
{
	hbuf_printf(b, "<a href=\"%s\"%s>%s</a>", href,
		    active != NULL && strcmp(active, name) == 0 ? " aria-current=\"page\"" : "",
		    label);
}

void html_csrf_field(struct hbuf *b, const struct page_req *rq)
{
	hbuf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	hbuf_esc(b, rq->csrf);
	hbuf_puts(b, "\">");
}

void html_begin(struct hbuf *b, const struct page_req *rq, const char *title, const char *active)
{
	hbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		     "<link rel=\"stylesheet\" href=\"/static/style.css\"><title>");
	hbuf_esc(b, title);
	hbuf_puts(b, " · headroom</title></head>\n<body><header><a class=\"brand\" href=\"/\">"
		     "headroom</a>");
	if (rq != NULL && rq->user != NULL) {
		hbuf_puts(b, "<nav>");
		nav_item(b, "/", "overview", "Fleet", active);
		nav_item(b, "/capacity", "capacity", "Capacity", active);
		nav_item(b, "/alerts", "alerts", "Alerts", active);
		if (rq->role >= ROLE_ADMIN) {
			nav_item(b, "/audit", "audit", "Audit", active);
			nav_item(b, "/admin/users", "users", "Users", active);
		}
		hbuf_puts(b, "</nav><form class=\"who\" method=\"post\" action=\"/logout\">"
			     "<span>");
		hbuf_esc(b, rq->user);
		hbuf_puts(b, "</span>");
		if (rq->csrf != NULL)
			html_csrf_field(b, rq);
		hbuf_puts(b, "<button type=\"submit\">Log out</button></form>");
	}
	hbuf_puts(b, "</header>\n<main>\n<h1>");
	hbuf_esc(b, title);
	hbuf_puts(b, "</h1>\n");
}

void html_end(struct hbuf *b)
{
	hbuf_puts(b, "</main></body></html>\n");
}

static void span(struct hbuf *b, double s)
{
	static const struct { double secs; const char *unit; } u[] = {
		{ 86400.0 * 365, "y" }, { 86400.0, "d" }, { 3600.0, "h" }, { 60.0, "min" },
	};
	size_t i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (s >= u[i].secs) {
			double whole = floor(s / u[i].secs);
			double rest = s - whole * u[i].secs;

			if (i + 1 < sizeof(u) / sizeof(u[0]) && whole < 10 &&
			    rest >= u[i + 1].secs)
				hbuf_printf(b, "%.0f %s %.0f %s", whole, u[i].unit,
					    floor(rest / u[i + 1].secs), u[i + 1].unit);
			else
				hbuf_printf(b, "%.0f %s", whole, u[i].unit);
			return;
		}
	}
	hbuf_printf(b, "%.0f s", s < 0 ? 0 : s);
}

void html_reltime(struct hbuf *b, double t, double now)
{
	if (!isfinite(t)) {
		hbuf_puts(b, "never");
		return;
	}
	if (t >= now) {
		hbuf_puts(b, "in ");
		span(b, t - now);
	} else {
		span(b, now - t);
		hbuf_puts(b, " ago");
	}
}

void html_time(struct hbuf *b, double t)
{
	struct tm tm;
	time_t tt;
	char s[32];

	if (!isfinite(t) || t < 0 || t > 253402300799.0) {
		hbuf_puts(b, "–");
		return;
	}
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
	hbuf_puts(b, s);
}

static void scaled(struct hbuf *b, double v, double base, const char *const *suffix, size_t n)
{
	size_t i = 0;
	double a = fabs(v);

	if (!isfinite(v)) {
		hbuf_puts(b, "–");
		return;
	}
	while (a >= base && i + 1 < n) {
		a /= base;
		v /= base;
		i++;
	}
	if (a != 0 && a < 10 && floor(a) != a)
		hbuf_printf(b, "%.2g%s%s", v, *suffix[i] ? " " : "", suffix[i]);
	else
		hbuf_printf(b, "%.3g%s%s", v, *suffix[i] ? " " : "", suffix[i]);
}

void html_bytes(struct hbuf *b, double v)
{
	static const char *const sfx[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

	scaled(b, v, 1024.0, sfx, sizeof(sfx) / sizeof(sfx[0]));
}

void html_num(struct hbuf *b, double v)
{
	static const char *const sfx[] = { "", "k", "M", "G", "T", "P" };

	scaled(b, v, 1000.0, sfx, sizeof(sfx) / sizeof(sfx[0]));
}

static const char style_css[] =
	":root{--bg:#f7f7f5;--fg:#1d232a;--muted:#5d6670;--line:#d9dcdf;--card:#fff;"
	"--ok:#1f7a3f;--warn:#9a6200;--crit:#b3261e;--info:#2d5fa8;--stale:#6b6f75}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
	"background:var(--bg);color:var(--fg)}\n"
	"header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;"
	"padding:.6rem 1rem;background:#1d232a;color:#fff}\n"
	"header a{color:#dfe6ee;text-decoration:none}\n"
	"header a[aria-current]{color:#fff;border-bottom:2px solid #7fb0ff}\n"
	".brand{font-weight:700;color:#fff!important;letter-spacing:.02em}\n"
	"nav{display:flex;flex-wrap:wrap;gap:1rem;flex:1}\n"
	".who{display:flex;gap:.5rem;align-items:center;margin:0}\n"
	".who span{color:#c6ced8}\n"
	"main{max-width:1200px;margin:0 auto;padding:1rem}\n"
	"h1{font-size:1.4rem;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\n"
	"table{border-collapse:collapse;width:100%;background:var(--card);"
	"border:1px solid var(--line)}\n"
	"th,td{padding:.4rem .6rem;border-bottom:1px solid var(--line);text-align:left;"
	"vertical-align:top}\n"
	"th{font-weight:600;color:var(--muted);font-size:.85rem}\n"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	".scroll{overflow-x:auto}\n"
	".badge{display:inline-block;padding:0 .45rem;border-radius:.7rem;font-size:.8rem;"
	"font-weight:600;color:#fff;background:var(--muted)}\n"
	".ok{background:var(--ok)}.warning{background:var(--warn)}.critical{background:var(--crit)}"
	".info{background:var(--info)}.stale{background:var(--stale)}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.75rem}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:.4rem;"
	"padding:.75rem}\n"
	".graphs{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:.75rem}\n"
	".graphs img{width:100%;height:auto;background:#fff;border:1px solid var(--line)}\n"
	".muted{color:var(--muted)}.error{color:var(--crit);font-weight:600}\n"
	"form.inline{display:inline-flex;gap:.3rem;flex-wrap:wrap;margin:0}\n"
	"input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid var(--line);"
	"border-radius:.3rem}\n"
	"button{background:#2d5fa8;color:#fff;border-color:#2d5fa8;cursor:pointer}\n"
	".login{max-width:22rem;margin:3rem auto;background:var(--card);padding:1.5rem;"
	"border:1px solid var(--line);border-radius:.4rem}\n"
	".login label{display:block;margin:.6rem 0 .2rem}.login input{width:100%}\n"
	".login button{margin-top:1rem;width:100%}\n"
	"@media (max-width:640px){main{padding:.5rem}th,td{padding:.3rem}"
	".hide-sm{display:none}}\n";

int html_style(const struct page_req *rq, struct page_resp *out)
{
	(void)rq;
	out->body = strdup(style_css);
	if (out->body == NULL)
		return -1;
	out->len = sizeof(style_css) - 1;
	out->type = "text/css; charset=utf-8";
	out->cache_s = 3600;
	return 0;
}
