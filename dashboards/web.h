/* web.h: the dashboards' side of headroom-central: every request that is
 * not the ingest's POST /api/v1/samples. Sessions (login form, cookie),
 * API tokens, CSRF, roles, failed-login throttling and the route table
 * live in web.c; pages.h and graph.h draw. */
#ifndef HR_WEB_H
#define HR_WEB_H

#include <microhttpd.h>

#include "err.h"
#include "page.h"

struct web;

/* A new dashboards handler sharing env (copied; its pointers borrowed:
 * they must outlive the web). Creates the tables it needs in env->db_path
 * and the pseudonymisation key DATA/web.key (0600) when missing. NULL
 * with err. */
struct web *web_new(const struct page_env *env, struct hr_err *err);
void web_free(struct web *w);

/* libmicrohttpd access handler and completion callback (cls: the web). */
enum MHD_Result web_mhd_access(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls);
void web_mhd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		       enum MHD_RequestTerminationCode toe);

#endif
