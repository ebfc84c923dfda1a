/* html.h: a growable text buffer and the HTML pieces every page shares
 * (escaping, the layout around a page's content, the style sheet), and
 * handing a page or a JSON document to the response. */
#ifndef HR_HTML_H
#define HR_HTML_H

#include <stdarg.h>
#include <stddef.h>

#include "page.h"

struct cJSON;

struct hbuf {
	char *s;      /* NUL-terminated; NULL until the first append */
	size_t len, cap;
	int oom;      /* an append failed: the content is incomplete */
};

void hbuf_init(struct hbuf *b);
void hbuf_free(struct hbuf *b);
void hbuf_add(struct hbuf *b, const char *s, size_t n);
void hbuf_puts(struct hbuf *b, const char *s);
void hbuf_printf(struct hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped for text and attribute values. */
void hbuf_esc(struct hbuf *b, const char *s);
/* s percent-encoded for a URL query value or path segment. */
void hbuf_url(struct hbuf *b, const char *s);
/* Hands the buffer to out (body, len; type HTML) and resets b. -1 when an
 * append had failed (b freed). */
int hbuf_to_resp(struct hbuf *b, struct page_resp *out);
/* Hands doc (taken over: freed; may be NULL) to out printed unformatted as
 * application/json. -1 on no memory (or doc NULL). */
int html_json(struct page_resp *out, struct cJSON *doc);

/* The page's head, header with navigation (what rq->role may see, the
 * user and a logout form with the CSRF token) and the opening of <main>.
 * title is escaped; active names the nav item to mark ("overview",
 * "capacity", "alerts", "audit", "users"; NULL none). */
void html_begin(struct hbuf *b, const struct page_req *rq, const char *title,
		const char *active);
/* The hidden form field "csrf" with rq's CSRF token (value empty without
 * one), which web.c checks on every POST. */
void html_csrf_field(struct hbuf *b, const struct page_req *rq);
/* Closes <main> and the document. */
void html_end(struct hbuf *b);

/* Relative time "in 3 d 4 h", "5 min ago" of t against now. */
void html_reltime(struct hbuf *b, double t, double now);
/* A UTC time "2026-11-28 14:05". */
void html_time(struct hbuf *b, double t);
/* A number with a binary (bytes) or SI suffix: "1.5 GiB", "2.3 k". */
void html_bytes(struct hbuf *b, double v);
void html_num(struct hbuf *b, double v);

/* GET /static/style.css: the one style sheet (no other static files). */
int html_style(const struct page_req *rq, struct page_resp *out);

#endif
