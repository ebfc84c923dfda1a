/* admin.h: the admins' pages: the audit log (GET /audit, GET
 * /api/v1/audit) and user management (GET/POST /admin/users). web.c's
 * route table requires ROLE_ADMIN for all of them. */
#ifndef HR_ADMIN_H
#define HR_ADMIN_H

#include "page.h"

#define ADMIN_AUDIT_PAGE 100   /* rows per page of the audit log */

/* GET /audit[?before=ID][&action=A][&who=W]: newest first. */
int admin_audit(const struct page_req *rq, struct page_resp *out);
/* GET /api/v1/audit with the same arguments: {"entries": [{"id", "t",
 * "who", "action", "subject", "detail"}...], "next_before": ID|null}. */
int admin_api_audit(const struct page_req *rq, struct page_resp *out);
/* GET /admin/users: the users with forms to add, change role, set the
 * password, delete and make an API token; the API tokens (label, last
 * use) with a form to revoke each. */
int admin_users(const struct page_req *rq, struct page_resp *out);
/* POST /admin/users with op=add|del|role|passwd|token and name (, role,
 * password, label), or op=revoke and id (an API token's): 303 back to
 * /admin/users?done=OP; a new token is shown once on the answer itself;
 * bad input: 400 with the page and why. */
int admin_users_post(const struct page_req *rq, struct page_resp *out);

#endif
