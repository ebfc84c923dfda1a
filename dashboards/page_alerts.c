/* page_alerts.c: /alerts (open alerts, the resolved history, silences) and
 * its operator forms: POST /alerts/ack, /alerts/silence, /alerts/unsilence.
 * The lifecycle (alerts.h) checks and audits each action; the handlers
 * check the role again, validate the fields and answer 303 back to /alerts,
 * or the page with 400 and the reason. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "html.h"
#include "pages.h"
#include "pageutil.h"

#define COMMENT_MAX 500
#define MATCHERS_MAX 1000
#define SILENCE_MAX_S (366 * 86400.0)
#define HISTORY_DEFAULT 50
#define HISTORY_ALL 1000

static void silences_table(struct hbuf *b, const struct page_req *rq, const cJSON *arr, int forms)
{
	const cJSON *s;
	int rows = 0;

	cJSON_ArrayForEach(s, arr) {
		int active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "active"));
		int ended = *pu_str(s, "expired_by") || pu_num(s, "ends") <= rq->now;

		if (rows++ == 0)
			hbuf_printf(b, "<div class=\"scroll\"><table><thead><tr><th>Matchers</th>"
				       "<th>State</th><th>From</th><th>Until</th><th>By</th>"
				       "<th>Comment</th>%s</tr></thead><tbody>\n",
				    forms ? "<th></th>" : "");
		hbuf_puts(b, "<tr><td><code>");
		hbuf_esc(b, pu_str(s, "matchers"));
		hbuf_puts(b, "</code></td><td>");
		pu_badge_name(b, active ? "active" : ended ? "expired" : "pending");
		hbuf_puts(b, "</td><td>");
		html_time(b, pu_num(s, "starts"));
		hbuf_puts(b, "</td><td>");
		html_time(b, pu_num(s, "ends"));
		hbuf_puts(b, "</td><td>");
		hbuf_esc(b, pu_str(s, "by"));
		if (*pu_str(s, "expired_by")) {
			hbuf_puts(b, "<br><span class=\"muted\">ended by ");
			hbuf_esc(b, pu_str(s, "expired_by"));
			hbuf_puts(b, "</span>");
		}
		hbuf_puts(b, "</td><td>");
		hbuf_esc(b, pu_str(s, "comment"));
		hbuf_puts(b, "</td>");
		if (forms) {
			hbuf_puts(b, "<td>");
			if (!ended) {
				hbuf_printf(b, "<form class=\"inline\" method=\"post\""
					       " action=\"/alerts/unsilence\"><input type=\"hidden\""
					       " name=\"id\" value=\"%.0f\">", pu_num(s, "id"));
				html_csrf_field(b, rq);
				hbuf_puts(b, "<button type=\"submit\">Expire</button></form>");
			}
			hbuf_puts(b, "</td>");
		}
		hbuf_puts(b, "</tr>\n");
	}
	if (rows > 0)
		hbuf_puts(b, "</tbody></table></div>\n");
	else
		hbuf_puts(b, "<p class=\"muted\">No silence.</p>\n");
}

static void silence_form(struct hbuf *b, const struct page_req *rq)
{
	const char *m = page_arg(rq, "matchers");

	hbuf_puts(b, "<h3>New silence</h3>\n<form class=\"inline\" method=\"post\""
		     " action=\"/alerts/silence\">");
	html_csrf_field(b, rq);
	hbuf_puts(b, "<input name=\"matchers\" required maxlength=\"1000\" size=\"32\""
		     " placeholder=\"host=web1 rule=fs_used\" aria-label=\"matchers\"");
	if (m != NULL && strlen(m) <= MATCHERS_MAX) {
		hbuf_puts(b, " value=\"");
		hbuf_esc(b, m);
		hbuf_puts(b, "\"");
	}
	hbuf_puts(b, "><input name=\"duration\" required maxlength=\"20\" size=\"6\" value=\"2h\""
		     " aria-label=\"duration\"><input name=\"comment\" maxlength=\"500\""
		     " placeholder=\"comment\" aria-label=\"comment\">"
		     "<button type=\"submit\">Silence</button></form>\n<p class=\"muted\">Matchers:"
		     " label=glob, separated by spaces or commas (host, rule, probe, instance,"
		     " severity and the alert's labels); duration like 30m, 2h, 1d.</p>\n");
}

static const char *done_text(const char *done)
{
	if (done == NULL)
		return NULL;
	if (strcmp(done, "ack") == 0)
		return "Alert acknowledged.";
	if (strcmp(done, "silence") == 0)
		return "Silence added.";
	if (strcmp(done, "expire") == 0)
		return "Silence expired.";
	return NULL;
}

/* The page, with status (0: 200) and an error to show first (NULL: none). */
static int render(const struct page_req *rq, struct page_resp *out, int status, const char *error)
{
	struct alerts *a = rq->env->alerts;
	const char *all = page_arg(rq, "all"), *done = done_text(page_arg(rq, "done"));
	int show_all = all != NULL && strcmp(all, "1") == 0, ops = rq->role >= ROLE_OPERATOR;
	cJSON *alerts = NULL, *sil = NULL;
	struct hr_err err;
	struct hbuf b;
	int rc, n;

	if (a == NULL)
		return page_error(rq, out, 503, "the alert lifecycle is not running");
	alerts = alerts_list(a, 1, show_all ? HISTORY_ALL : HISTORY_DEFAULT, rq->now, &err);
	if (alerts == NULL)
		return page_error(rq, out, 503, err.msg);
	/* Open alerts are listed whatever their age: a second list of them
	 * (newer ended ones may push them out of the window above). */
	{
		cJSON *open = alerts_list(a, 0, 0, rq->now, &err), *it;

		if (open == NULL) {
			cJSON_Delete(alerts);
			return page_error(rq, out, 503, err.msg);
		}
		for (it = alerts->child; it != NULL;) {
			cJSON *next = it->next;
			const char *st = pu_str(it, "state");

			if (strcmp(st, "firing") == 0 || strcmp(st, "pending") == 0)
				cJSON_Delete(cJSON_DetachItemViaPointer(alerts, it));
			it = next;
		}
		while (open->child != NULL)
			cJSON_AddItemToArray(alerts, cJSON_DetachItemViaPointer(open, open->child));
		cJSON_Delete(open);
	}
	sil = alerts_silences(a, show_all, rq->now, &err);
	if (sil == NULL) {
		cJSON_Delete(alerts);
		return page_error(rq, out, 503, err.msg);
	}
	hbuf_init(&b);
	html_begin(&b, rq, "Alerts", "alerts");
	if (error != NULL) {
		hbuf_puts(&b, "<p class=\"error\" role=\"alert\">");
		hbuf_esc(&b, error);
		hbuf_puts(&b, "</p>\n");
	} else if (done != NULL) {
		hbuf_printf(&b, "<p><span class=\"badge ok\">done</span> %s</p>\n", done);
	}
	hbuf_puts(&b, "<h2>Firing and pending</h2>\n");
	if (pu_alerts_table(&b, rq, alerts, PU_OPEN, NULL, 1, ops) == 0)
		hbuf_puts(&b, "<p class=\"muted\">No open alert.</p>\n");
	hbuf_puts(&b, "<h2>Resolved</h2>\n");
	n = pu_alerts_table(&b, rq, alerts, PU_ENDED, NULL, 0, 0);
	if (n == 0)
		hbuf_puts(&b, "<p class=\"muted\">No resolved alert.</p>\n");
	if (!show_all)
		hbuf_puts(&b, "<p><a href=\"/alerts?all=1\">Older alerts and ended silences</a></p>\n");
	hbuf_printf(&b, "<h2>Silences%s</h2>\n", show_all ? "" : " (active and coming)");
	silences_table(&b, rq, sil, ops);
	if (ops)
		silence_form(&b, rq);
	html_end(&b);
	cJSON_Delete(alerts);
	cJSON_Delete(sil);
	rc = hbuf_to_resp(&b, out);
	if (rc == 0 && status != 0)
		out->status = status;
	return rc;
}

int page_alerts(const struct page_req *rq, struct page_resp *out)
{
	return render(rq, out, 0, NULL);
}

static int done(struct page_resp *out, const char *what)
{
	snprintf(out->location, sizeof(out->location), "/alerts?done=%s", what);
	out->status = 303;
	return 0;
}

/* The checks every form shares: 0 when the form may go on, else 1 with
 * out filled (an error page for a missing role or lifecycle, the alerts
 * page with the reason for a bad form) and *rc what the handler returns. */
static int form_refused(const struct page_req *rq, struct page_resp *out, int *rc)
{
	const char *c = page_arg(rq, "comment");

	if (rq->role < ROLE_OPERATOR || rq->user == NULL || *rq->user == '\0')
		*rc = page_error(rq, out, 403, "acknowledging and silencing need the operator role");
	else if (rq->env->alerts == NULL)
		*rc = page_error(rq, out, 503, "the alert lifecycle is not running");
	else if (c != NULL && strlen(c) > COMMENT_MAX)
		*rc = render(rq, out, 400, "the comment is too long (500 characters at most)");
	else
		return 0;
	return 1;
}

int page_alert_ack(const struct page_req *rq, struct page_resp *out)
{
	const char *comment = page_arg(rq, "comment");
	struct hr_err err;
	long long id;
	int rc;

	if (form_refused(rq, out, &rc))
		return rc;
	if (pu_parse_id(page_arg(rq, "id"), &id) < 0)
		return render(rq, out, 400, "id must be an alert's number");
	if (alerts_ack(rq->env->alerts, id, rq->user, comment != NULL && *comment ? comment : NULL,
		       rq->now, &err) < 0)
		return render(rq, out, 400, err.msg);
	return done(out, "ack");
}

/* HR_TESTABLE: static here; tests/fuzz/fuzz_page_input.c builds this file
 * with -DHR_TESTABLE= to reach matchers_norm. */
#ifndef HR_TESTABLE
#define HR_TESTABLE static
#endif

/* "host=web1 rule=fs_used" or "host=web1,rule=fs_used" into the
 * lifecycle's "host=web1,alertname=fs_used" (rule is alertname) in dst
 * (size n, NUL-terminated). 0, or -1 when there is no matcher or dst is
 * too small. */
HR_TESTABLE int matchers_norm(const char *in, char *dst, size_t n);
HR_TESTABLE int matchers_norm(const char *in, char *dst, size_t n)
{
	size_t len = 0;
	const char *p = in;

	while (*p) {
		size_t w;

		p += strspn(p, " ,\t");
		w = strcspn(p, " ,\t");
		if (w == 0)
			break;
		if (w > 5 && strncmp(p, "rule=", 5) == 0) {
			if (len + 10 + (w - 5) + 2 > n)
				return -1;
			len += (size_t)snprintf(dst + len, n - len, "%salertname=%.*s",
						len ? "," : "", (int)(w - 5), p + 5);
		} else {
			if (len + w + 2 > n)
				return -1;
			len += (size_t)snprintf(dst + len, n - len, "%s%.*s", len ? "," : "",
						(int)w, p);
		}
		p += w;
	}
	return len > 0 ? 0 : -1;
}

int page_silence_add(const struct page_req *rq, struct page_resp *out)
{
	const char *m = page_arg(rq, "matchers"), *comment = page_arg(rq, "comment");
	char norm[MATCHERS_MAX + 256];
	struct hr_err err;
	double dur;
	int rc;

	if (form_refused(rq, out, &rc))
		return rc;
	if (m == NULL || strlen(m) > MATCHERS_MAX || matchers_norm(m, norm, sizeof(norm)) < 0)
		return render(rq, out, 400, "matchers: give one or more label=glob");
	if (pu_parse_duration(page_arg(rq, "duration"), SILENCE_MAX_S, &dur) < 0)
		return render(rq, out, 400, "duration: a number with s, m, h, d or w, up to a year");
	if (alerts_silence_add(rq->env->alerts, norm, rq->now, rq->now + dur, rq->user,
			       comment != NULL && *comment ? comment : NULL, NULL, &err) < 0)
		return render(rq, out, 400, err.msg);
	return done(out, "silence");
}

int page_silence_expire(const struct page_req *rq, struct page_resp *out)
{
	struct hr_err err;
	long long id;
	int rc;

	if (form_refused(rq, out, &rc))
		return rc;
	if (pu_parse_id(page_arg(rq, "id"), &id) < 0)
		return render(rq, out, 400, "id must be a silence's number");
	if (alerts_silence_expire(rq->env->alerts, id, rq->user, rq->now, &err) < 0)
		return render(rq, out, 400, err.msg);
	return done(out, "expire");
}
