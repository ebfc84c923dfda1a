/* pages.h: the dashboards' pages and JSON API, one function per route
 * (web.c's route table names them). Each reads the registry, the alert
 * lifecycle and the analyzer's forecasts through page_env. */
#ifndef HR_PAGES_H
#define HR_PAGES_H

#include "page.h"

int page_overview(const struct page_req *rq, struct page_resp *out);    /* GET / */
int page_capacity(const struct page_req *rq, struct page_resp *out);    /* GET /capacity */
int page_host(const struct page_req *rq, struct page_resp *out);        /* GET /hosts/NAME */
int page_alerts(const struct page_req *rq, struct page_resp *out);      /* GET /alerts */
int page_alert_ack(const struct page_req *rq, struct page_resp *out);   /* POST /alerts/ack (operator) */
int page_silence_add(const struct page_req *rq, struct page_resp *out); /* POST /alerts/silence (operator) */
int page_silence_expire(const struct page_req *rq, struct page_resp *out); /* POST /alerts/unsilence (operator) */

int api_hosts(const struct page_req *rq, struct page_resp *out);        /* GET /api/v1/hosts[/NAME] */
int api_series(const struct page_req *rq, struct page_resp *out);       /* GET /api/v1/series */
int api_alerts(const struct page_req *rq, struct page_resp *out);       /* GET /api/v1/alerts */
int api_alert_ack(const struct page_req *rq, struct page_resp *out);    /* POST /api/v1/alerts/ack (operator) */
int api_forecasts(const struct page_req *rq, struct page_resp *out);    /* GET /api/v1/forecasts */

#endif
