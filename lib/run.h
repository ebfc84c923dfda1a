/* run.h: running an outside command (smartctl, a Nagios plugin) with a
 * timeout and a cap on its output, without a shell. The command runs in a
 * process group of its own with the default signal mask and LC_ALL=C; on
 * timeout or when its output passes the cap the whole group is killed, so a
 * plugin that hangs or floods never stalls or bloats the agent. */
#ifndef HR_RUN_H
#define HR_RUN_H

#include <stddef.h>

#include "err.h"

struct hr_run_result {
	char *out;       /* standard output, NUL-terminated (caller frees with
			  * hr_run_result_free) */
	size_t out_len;
	char *errout;    /* standard error, at most 4 KiB, NUL-terminated */
	size_t errout_len;
	int exited;      /* 1: exited normally; status holds the exit code */
	int status;      /* exit code 0-255 when exited */
	int signal;      /* the signal that ended it, when not exited */
	int timed_out;   /* killed because it ran past the timeout */
	int truncated;   /* killed because its output passed the cap */
};

/* Runs argv[0] (looked up in PATH when it has no '/') with argv, standard
 * input from /dev/null, for at most timeout seconds, keeping at most cap
 * bytes of standard output. Returns 0 when the command ran (whatever its exit
 * status, timeout or truncation: see res), -1 with err filled when it could
 * not be started at all (no such program, no permission). res is always
 * initialised; caller frees it with hr_run_result_free(). Thread-safe. */
int hr_run(const char *const *argv, double timeout, size_t cap, struct hr_run_result *res,
	   struct hr_err *err);

/* Frees the output buffers; res may be zeroed. */
void hr_run_result_free(struct hr_run_result *res);

/* Describes how the command ended ("exit status 2", "killed by signal 9",
 * "timed out after 5 s", "output over 65536 bytes") into buf. */
void hr_run_describe(const struct hr_run_result *res, double timeout, size_t cap, char *buf,
		     size_t n);

#endif
