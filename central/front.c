/* front.c: one listener, two handlers: the ingest's path to the ingest,
 * the rest to the dashboards (front.h). The choice is made on a request's
 * first call and kept in a small per-connection record that also carries
 * the chosen handler's own per-request pointer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "front.h"

#define INGEST_PATH "/api/v1/samples"

struct front_conn {
	int web;     /* this request is the dashboards' */
	void *inner; /* the handler's own con_cls */
};

enum MHD_Result front_mhd_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct front *f = cls;
	struct front_conn *c = *con_cls;

	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return MHD_NO;
		c->web = f->web != NULL && strcmp(url, INGEST_PATH) != 0;
		*con_cls = c;
	}
	if (c->web)
		return web_mhd_access(f->web, conn, url, method, version, upload, upload_size,
				      &c->inner);
	return ingest_mhd_access(f->in, conn, url, method, version, upload, upload_size,
				 &c->inner);
}

void front_mhd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct front *f = cls;
	struct front_conn *c = *con_cls;

	if (c == NULL)
		return;
	if (c->web)
		web_mhd_completed(f->web, conn, &c->inner, toe);
	else
		ingest_mhd_completed(f->in, conn, &c->inner, toe);
	free(c);
	*con_cls = NULL;
}
