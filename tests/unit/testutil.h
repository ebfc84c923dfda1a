/* testutil.h: shared pieces of the CUnit suites: fixture paths, running a
 * probe once against a fixture root into a recording sink, a real
 * rrdcached as a child, and a main() helper that runs a suite and turns
 * failures into an exit status. */
#ifndef HR_TESTUTIL_H
#define HR_TESTUTIL_H

#include <math.h>
#include <sys/types.h>

#include <CUnit/CUnit.h>

#include "probe.h"
#include "sample.h"

/* FIXTURES "/" rel, in a static buffer (valid until the next call). */
const char *fixture(const char *rel);

/* Makes a new empty folder under $TMPDIR (or /tmp) and returns its path in
 * a static buffer. rm_rf removes a folder tree. */
const char *tmpdir_new(const char *tag);
void rm_rf(const char *path);
/* Writes len bytes to ROOT+PATH, creating parent folders. 0 or -1. */
int write_file(const char *root, const char *path, const char *data, size_t len);

/* Runs probe p once: setup with the JSON config text cfg_json (NULL: no
 * config) against root, read into rec, teardown. Returns read()'s result,
 * or -2 when setup failed. */
int run_probe(const struct probe *p, const char *root, const char *cfg_json,
	      struct hr_recsink *rec);

/* Runs probe p `reads` times on one state (config cfg_json, NULL for none)
 * with stderr sent to a file, and returns how many logged lines contain
 * needle (-1 when setup fails): how the suites check that a problem is
 * logged once, not every interval. */
int probe_log_lines(const struct probe *p, const char *root, const char *cfg_json, int reads,
		    const char *needle);

/* Runs p's setup with the JSON config cfg_json (NULL: none) under path and
 * returns 1 when it refuses it with a problem containing want (no state
 * made); otherwise prints what it said and returns 0. */
int probe_setup_refuses(const struct probe *p, const char *path, const char *cfg_json,
			const char *want);

/* 1 when one of errs' problems is want (prefix: starts with want);
 * otherwise prints what errs holds and what was wanted, and returns 0. */
int errs_has(const struct hr_errs *errs, const char *want, int prefix);

/* A value of a sample, or NAN when the sample lacks it (or s is NULL). */
double sval(const struct hr_sample *s, const char *name);

/* Runs the suite name with its tests (CU_TestInfo array ending in
 * CU_TEST_INFO_NULL) and returns 0 when all pass, 1 otherwise. */
int run_suite(const char *name, CU_TestInfo *tests);
/* The same with the suite's init and clean functions (either may be NULL). */
int run_suite_fixture(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
		      CU_TestInfo *tests);

/* rrdcached as a child in the foreground: listening on the unix socket
 * sock, base folder base (-B -R), its pid file and log (rrdcached.log) in
 * dir, plus the NULL-terminated extra arguments (at most 8: -F, -j DIR,
 * -w SECS ...). Returns its pid once the socket answers, or -1. Stop it
 * with rrdcached_stop (a pid <= 0 is ignored). */
pid_t rrdcached_start(const char *dir, const char *base, const char *sock,
		      const char *const *extra);
void rrdcached_stop(pid_t pid);

#define ASSERT_VAL(s, name, expected) do { \
	CU_ASSERT_DOUBLE_EQUAL(sval((s), (name)), (expected), 1e-9 * (1 + fabs((double)(expected)))); \
	} while (0)
#define ASSERT_NO_VAL(s, name) do { CU_ASSERT(isnan(sval((s), (name)))); } while (0)

#endif
