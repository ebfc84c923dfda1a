/* cliopt.h: what the central-side commands (`headroom alerts|ack|silence`,
 * `headroom user`) share: their option loop, driven by a table of the
 * options, and reading the central's config named by -c for the path of
 * DATA/headroom.db. Errors are said on stderr as "headroom: ...". */
#ifndef HR_CLIOPT_H
#define HR_CLIOPT_H

#include <stddef.h>

#include "central_config.h"

/* One option. Exactly one of val and flag is set. */
struct cliopt {
	const char *name;    /* "--by"; NULL ends the table */
	const char *alias;   /* another spelling ("-c" for "--config"), or NULL */
	const char **val;    /* takes the next word as its value (borrowed from argv) */
	int *flag;           /* set to 1 when given; takes no value */
};

/* Reads argv[first..argc-1]: options anywhere, as in opts; any other word
 * not starting with '-' is a positional one, put into args[*nargs] (at most
 * max of them; *nargs is set to how many). Values and args borrow argv.
 * 0, or -1 after saying why ("X needs a value", "unexpected \"X\""). */
int cliopt_parse(int argc, char **argv, int first, const struct cliopt *opts,
		 const char **args, int max, int *nargs);

/* Loads the central's config from path into cfg (caller frees with
 * central_config_free on 0 only) and writes DATA/headroom.db into db (size
 * n). 0, or -1 after saying why (the exit code is then 2). */
int cliopt_central(const char *path, struct central_config *cfg, char *db, size_t n);

#endif
