/* pageutil.h: small pieces the pages and the JSON API share: state badges,
 * host links, the alerts table, reading fields of alerts_list()'s JSON and
 * parsing the times and durations a request may carry. (Answering with
 * JSON is html_json, html.h, which web.c and admin.c use too.) */
#ifndef HR_PAGEUTIL_H
#define HR_PAGEUTIL_H

#include <cjson/cJSON.h>

#include "html.h"
#include "page.h"

/* A badge for a fleet health level (FLEET_OK...), "–" for FLEET_NA. */
void pu_badge(struct hbuf *b, int level);
/* A badge for a severity or state name ("critical", "firing", ...). */
void pu_badge_name(struct hbuf *b, const char *name);
/* A link to host's page (/hosts/HOST) with its name as the text. */
void pu_host_link(struct hbuf *b, const char *host);

/* A string / number field of o; "" / NAN when absent or of another type. */
const char *pu_str(const cJSON *o, const char *name);
double pu_num(const cJSON *o, const char *name);

/* Which alerts pu_alerts_table shows. */
enum pu_alerts {
	PU_FIRING,   /* state firing */
	PU_OPEN,     /* pending and firing */
	PU_ENDED     /* resolved and cleared */
};
/* A table of the alerts of arr (alerts_list) that are `which`, of host
 * (NULL: all hosts; the host column is left out then), critical first
 * when `by_severity`; with ack forms for an operator when `forms`. Returns
 * how many rows were written (nothing at all when 0). */
int pu_alerts_table(struct hbuf *b, const struct page_req *rq, const cJSON *arr,
		    enum pu_alerts which, const char *host, int by_severity, int forms);

/* Parses an id (an alert's or a silence's): a positive decimal number of
 * at most 18 digits, no sign or leading zero. 0, or -1. */
int pu_parse_id(const char *s, long long *id);
/* Parses a time: unix seconds, or a UTC date "YYYY-MM-DD" optionally with
 * "THH:MM" or " HH:MM". 0, or -1. */
int pu_parse_time(const char *s, double *t);
/* Parses a duration: seconds, or a number with s, m, h, d, w ("2h", "90m").
 * 0, or -1 (also when not in (0, max]). */
int pu_parse_duration(const char *s, double max, double *secs);

#endif
