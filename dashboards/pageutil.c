/* pageutil.c: badges, host links, the alerts table, and time and duration
 * parsing shared by the pages and the API (see pageutil.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet.h"
#include "pageutil.h"

void pu_badge(struct hbuf *b, int level)
{
	const char *name = fleet_health_name(level);

	if (name == NULL) {
		hbuf_puts(b, "<span class=\"muted\" title=\"not monitored\">–</span>");
		return;
	}
	pu_badge_name(b, name);
}

void pu_badge_name(struct hbuf *b, const char *name)
{
	static const struct { const char *name, *cls; } map[] = {
		{ "ok", "ok" }, { "warning", "warning" }, { "critical", "critical" },
		{ "info", "info" }, { "firing", "critical" }, { "pending", "warning" },
		{ "resolved", "ok" }, { "cleared", "ok" }, { "stale", "stale" },
		{ "acked", "info" }, { "silenced", "stale" }, { "inhibited", "stale" },
		{ "flapping", "warning" }, { "active", "info" }, { "expired", "stale" },
		{ "none", "ok" },
	};
	const char *cls = "stale";
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			cls = map[i].cls;
	hbuf_printf(b, "<span class=\"badge %s\">", cls);
	hbuf_esc(b, name);
	hbuf_puts(b, "</span>");
}

const char *pu_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : "";
}

double pu_num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int sev_rank(const char *sev)
{
	return strcmp(sev, "critical") == 0 ? 2 : strcmp(sev, "warning") == 0 ? 1 : 0;
}

static int wanted(const cJSON *al, enum pu_alerts which, const char *host)
{
	const char *state = pu_str(al, "state");

	if (host != NULL && strcmp(pu_str(al, "host"), host) != 0)
		return 0;
	switch (which) {
	case PU_FIRING: return strcmp(state, "firing") == 0;
	case PU_OPEN: return strcmp(state, "firing") == 0 || strcmp(state, "pending") == 0;
	case PU_ENDED: return strcmp(state, "resolved") == 0 || strcmp(state, "cleared") == 0;
	}
	return 0;
}

void pu_host_link(struct hbuf *b, const char *host)
{
	hbuf_puts(b, "<a href=\"/hosts/");
	hbuf_url(b, host);
	hbuf_puts(b, "\">");
	hbuf_esc(b, host);
	hbuf_puts(b, "</a>");
}

static void alert_row(struct hbuf *b, const struct page_req *rq, const cJSON *al,
		      enum pu_alerts which, const char *host, int forms)
{
	const char *status = pu_str(al, "status"), *state = pu_str(al, "state");
	double since = which == PU_ENDED ? pu_num(al, "ended") :
		       isfinite(pu_num(al, "fired")) ? pu_num(al, "fired") : pu_num(al, "started");
	double eta = pu_num(al, "eta");

	hbuf_puts(b, "<tr><td>");
	pu_badge_name(b, pu_str(al, "severity"));
	hbuf_puts(b, "</td>");
	if (host == NULL) {
		hbuf_puts(b, "<td>");
		pu_host_link(b, pu_str(al, "host"));
		hbuf_puts(b, "</td>");
	}
	hbuf_puts(b, "<td>");
	hbuf_esc(b, pu_str(al, "rule"));
	if (*pu_str(al, "instance")) {
		hbuf_puts(b, " <span class=\"muted\">");
		hbuf_esc(b, pu_str(al, "instance"));
		hbuf_puts(b, "</span>");
	}
	hbuf_puts(b, "</td><td>");
	hbuf_esc(b, pu_str(al, "summary"));
	if (isfinite(eta)) {
		hbuf_puts(b, " <span class=\"muted\">(full ");
		html_reltime(b, eta, rq->now);
		hbuf_puts(b, ")</span>");
	}
	if (*pu_str(al, "acked_by")) {
		hbuf_puts(b, "<br><span class=\"muted\">acked by ");
		hbuf_esc(b, pu_str(al, "acked_by"));
		if (*pu_str(al, "ack_comment")) {
			hbuf_puts(b, ": ");
			hbuf_esc(b, pu_str(al, "ack_comment"));
		}
		hbuf_puts(b, "</span>");
	}
	hbuf_puts(b, "</td><td>");
	pu_badge_name(b, strcmp(status, state) != 0 ? status : state);
	hbuf_puts(b, "</td><td title=\"");
	html_time(b, since);
	hbuf_puts(b, " UTC\">");
	html_reltime(b, since, rq->now);
	hbuf_puts(b, "</td>");
	if (forms) {
		hbuf_puts(b, "<td>");
		if (which != PU_ENDED && !*pu_str(al, "acked_by") && rq->csrf != NULL) {
			hbuf_printf(b, "<form class=\"inline\" method=\"post\" action=\"/alerts/ack\">"
				       "<input type=\"hidden\" name=\"id\" value=\"%.0f\">",
				    pu_num(al, "id"));
			html_csrf_field(b, rq);
			hbuf_puts(b, "<input name=\"comment\" maxlength=\"500\" placeholder=\"comment\""
				     " aria-label=\"comment\"><button type=\"submit\">Ack</button>"
				     "</form>");
		}
		hbuf_puts(b, "</td>");
	}
	hbuf_puts(b, "</tr>\n");
}

int pu_alerts_table(struct hbuf *b, const struct page_req *rq, const cJSON *arr,
		    enum pu_alerts which, const char *host, int by_severity, int forms)
{
	const cJSON *al;
	int rows = 0, pass;

	forms = forms && rq->role >= ROLE_OPERATOR;
	for (pass = by_severity ? 2 : 0; pass >= 0; pass--) {
		cJSON_ArrayForEach(al, arr) {
			if (!wanted(al, which, host) ||
			    (by_severity && sev_rank(pu_str(al, "severity")) != pass))
				continue;
			if (rows++ == 0) {
				hbuf_puts(b, "<div class=\"scroll\"><table><thead><tr><th>Severity</th>");
				if (host == NULL)
					hbuf_puts(b, "<th>Host</th>");
				hbuf_printf(b, "<th>Rule</th><th>Summary</th><th>State</th><th>%s</th>%s"
					       "</tr></thead><tbody>\n",
					    which == PU_ENDED ? "Ended" : "Since",
					    forms ? "<th>Acknowledge</th>" : "");
			}
			alert_row(b, rq, al, which, host, forms);
		}
	}
	if (rows > 0)
		hbuf_puts(b, "</tbody></table></div>\n");
	return rows;
}

int pu_parse_id(const char *s, long long *id)
{
	char *end;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18)
		return -1;
	errno = 0;
	*id = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int pu_parse_time(const char *s, double *t)
{
	struct tm tm;
	char *end;
	int y, mo, d, h = 0, mi = 0;
	time_t tt;

	if (s == NULL || *s == '\0' || strlen(s) > 32)
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		double v;

		errno = 0;
		v = strtod(s, &end);
		if (errno != 0 || *end != '\0' || v > 253402300799.0)
			return -1;
		*t = v;
		return 0;
	}
	/* YYYY-MM-DD[( |T)HH:MM], digits checked one by one. */
	if (strlen(s) != 10 && strlen(s) != 16)
		return -1;
	for (y = 0; s[y]; y++) {
		int digit = y != 4 && y != 7 && y != 10 && y != 13;

		if (digit ? !isdigit((unsigned char)s[y]) :
		    (y == 10 ? (s[y] != 'T' && s[y] != ' ') : s[y] != (y == 13 ? ':' : '-')))
			return -1;
	}
	y = (int)strtol(s, NULL, 10);
	mo = (int)strtol(s + 5, NULL, 10);
	d = (int)strtol(s + 8, NULL, 10);
	if (strlen(s) == 16) {
		h = (int)strtol(s + 11, NULL, 10);
		mi = (int)strtol(s + 14, NULL, 10);
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tt = timegm(&tm);
	if (tt == (time_t)-1 || tm.tm_mday != d)
		return -1;
	*t = (double)tt;
	return 0;
}

int pu_parse_duration(const char *s, double max, double *secs)
{
	static const struct { char c; double mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
	};
	char *end;
	double v, mult = 1;
	size_t i, n, dots;

	if (s == NULL || !isdigit((unsigned char)*s) || strlen(s) > 20)
		return -1;
	/* A plain decimal and at most one unit letter: strtod alone would
	 * also take "0x10m" or "1e2h". */
	n = strspn(s, "0123456789.");
	for (i = 0, dots = 0; i < n; i++)
		dots += s[i] == '.';
	if (dots > 1 || (s[n] != '\0' && s[n + 1] != '\0'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !isfinite(v))
		return -1;
	if (*end != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (*end == units[i].c)
				mult = units[i].mult;
		if (end[1] != '\0' || (mult == 1 && *end != 's'))
			return -1;
	}
	v *= mult;
	if (!(v >= 1) || v > max) /* a second at least */
		return -1;
	*secs = v;
	return 0;
}
