/* page_rrd.h: reading archives that the central writes through rrdcached.
 * The daemon holds the latest values in memory until it writes them, so a
 * page flushes each archive through it (its FLUSH answers once the file
 * has them) before librrd reads the file. The daemon knows an archive as
 * HOST/FILE relative to its base folder, which is DATA/rrd. */
#ifndef HR_PAGE_RRD_H
#define HR_PAGE_RRD_H

#include "page.h"

struct rrdcached;

/* A request's connection to env->rrdcached: none is made while no archive
 * is flushed, or when the central does not use rrdcached. */
struct page_rrd {
	const char *addr;     /* borrowed: env->rrdcached; NULL: none */
	struct rrdcached *c;  /* connected at first use */
	int failed;           /* the daemon could not be reached: not again */
	int logged;           /* a failure was logged */
};

/* Borrows env (its rrdcached must outlive pr). */
void page_rrd_init(struct page_rrd *pr, const struct page_env *env);
/* Closes the connection, if any. */
void page_rrd_close(struct page_rrd *pr);

/* Makes the daemon write what it holds for PATH, an archive of HOST
 * (DATA/rrd/HOST/FILE; only its last component is sent, as HOST/FILE).
 * 0 when there is no daemon, or the file has everything now (also when
 * the daemon holds nothing for it); -1 when the daemon could not be asked
 * or refused: the file may then miss the latest values. The first failure
 * of a request is logged, and after one that left the daemon unreached
 * later calls on pr return -1 at once (one timeout per request, not one
 * per archive). Borrows host and path. */
int page_rrd_flush(struct page_rrd *pr, const char *host, const char *path);

#endif
