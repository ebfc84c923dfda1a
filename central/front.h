/* front.h: the main listener's dispatcher. POST /api/v1/samples (and any
 * other request to that path) goes to the ingest; everything else to the
 * dashboards (web.h), when there are any. Each connection keeps the
 * handler it started with. */
#ifndef HR_FRONT_H
#define HR_FRONT_H

#include <microhttpd.h>

#include "ingest.h"
#include "web.h"

struct front {
	struct ingest *in;
	struct web *web; /* NULL: everything goes to the ingest */
};

/* libmicrohttpd access handler and completion callback (cls: a struct
 * front that outlives the daemon). */
enum MHD_Result front_mhd_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls);
void front_mhd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe);

#endif
