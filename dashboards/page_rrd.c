/* page_rrd.c: flushing an archive through rrdcached before it is read
 * (page_rrd.h). The connection is the project's own client (rrdcached.h),
 * one per request: librrd's rrdc_* calls share one process-wide connection
 * and refuse absolute paths on a TCP daemon. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "page_rrd.h"
#include "rrdcached.h"

void page_rrd_init(struct page_rrd *pr, const struct page_env *env)
{
	memset(pr, 0, sizeof(*pr));
	pr->addr = env->rrdcached != NULL && env->rrdcached[0] != '\0' ? env->rrdcached : NULL;
}

void page_rrd_close(struct page_rrd *pr)
{
	rrdcached_destroy(pr->c);
	pr->c = NULL;
}

static int page_rrd_fail(struct page_rrd *pr, const char *name, const struct hr_err *err)
{
	if (!pr->logged)
		hr_log_warnx("dashboards: %s is read without what rrdcached holds for it: %s",
			     name, err->msg);
	pr->logged = 1;
	return -1;
}

int page_rrd_flush(struct page_rrd *pr, const char *host, const char *path)
{
	const char *file = strrchr(path, '/'), *argv[2];
	struct hr_err err;
	char name[1024];
	int n, rc;

	if (pr->addr == NULL)
		return 0;
	file = file != NULL ? file + 1 : path;
	n = snprintf(name, sizeof(name), "%s/%s", host, file);
	if (n < 0 || (size_t)n >= sizeof(name) || host[0] == '\0' || file[0] == '\0') {
		hr_err_set(&err, "not an archive name");
		return page_rrd_fail(pr, path, &err);
	}
	if (pr->failed)
		return -1;
	if (pr->c == NULL) {
		pr->c = rrdcached_new(pr->addr, &err);
		if (pr->c == NULL) {
			pr->failed = 1;
			return page_rrd_fail(pr, name, &err);
		}
	}
	argv[0] = "FLUSH";
	argv[1] = name;
	rc = rrdcached_cmd(pr->c, 2, argv, NULL, NULL, &err);
	if (rc == -1)
		pr->failed = 1;
	return rc < 0 ? page_rrd_fail(pr, name, &err) : 0;
}
