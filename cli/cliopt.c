/* cliopt.c: the option loop and the central's config for the CLI commands
 * that work on DATA/headroom.db (cliopt.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cliopt.h"

static const struct cliopt *cliopt_find(const struct cliopt *opts, const char *a)
{
	for (; opts->name != NULL; opts++)
		if (strcmp(a, opts->name) == 0 ||
		    (opts->alias != NULL && strcmp(a, opts->alias) == 0))
			return opts;
	return NULL;
}

int cliopt_parse(int argc, char **argv, int first, const struct cliopt *opts,
		 const char **args, int max, int *nargs)
{
	int i;

	*nargs = 0;
	for (i = first; i < argc; i++) {
		const char *a = argv[i];
		const struct cliopt *o = cliopt_find(opts, a);

		if (o != NULL && o->flag != NULL) {
			*o->flag = 1;
			continue;
		}
		if (o != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "headroom: %s needs a value\n", a);
				return -1;
			}
			*o->val = argv[++i];
			continue;
		}
		if (a[0] == '-' || *nargs == max) {
			fprintf(stderr, "headroom: unexpected \"%s\"\n", a);
			return -1;
		}
		args[(*nargs)++] = a;
	}
	return 0;
}

int cliopt_central(const char *path, struct central_config *cfg, char *db, size_t n)
{
	struct hr_errs errs;
	size_t i;

	hr_errs_init(&errs);
	if (central_config_load(path, cfg, &errs) < 0) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "headroom: %s: %s\n", path, errs.items[i]);
		hr_errs_free(&errs);
		return -1;
	}
	hr_errs_free(&errs);
	if ((size_t)snprintf(db, n, "%s/headroom.db", cfg->data_dir) >= n) {
		fprintf(stderr, "headroom: %s/headroom.db: path too long\n", cfg->data_dir);
		central_config_free(cfg);
		return -1;
	}
	return 0;
}
