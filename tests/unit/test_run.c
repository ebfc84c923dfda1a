/* test_run.c: running outside commands: output, exit status, standard
 * error, and the three ways a plugin misbehaves (hangs, floods, is missing).
 * Uses the real /bin/sh, sleep and yes. */
#include "config.h"

#include <string.h>

#include "run.h"
#include "testutil.h"

static void test_output_and_status(void)
{
	const char *argv[] = { "sh", "-c", "echo 'OK - fine|a=1'; echo oops >&2; exit 2", NULL };
	struct hr_run_result r;
	struct hr_err err;
	char why[64];

	CU_ASSERT_EQUAL_FATAL(hr_run(argv, 10, 4096, &r, &err), 0);
	CU_ASSERT_STRING_EQUAL(r.out, "OK - fine|a=1\n");
	CU_ASSERT_EQUAL(r.out_len, 14);
	CU_ASSERT_STRING_EQUAL(r.errout, "oops\n");
	CU_ASSERT(r.exited);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_FALSE(r.timed_out);
	CU_ASSERT_FALSE(r.truncated);
	hr_run_describe(&r, 10, 4096, why, sizeof(why));
	CU_ASSERT_STRING_EQUAL(why, "exit status 2");
	hr_run_result_free(&r);
}

static void test_locale_and_stdin(void)
{
	const char *argv[] = { "sh", "-c", "echo \"$LC_ALL\"; cat", NULL };
	struct hr_run_result r;
	struct hr_err err;

	CU_ASSERT_EQUAL_FATAL(hr_run(argv, 10, 4096, &r, &err), 0);
	/* LC_ALL=C, and stdin is /dev/null so cat ends at once. */
	CU_ASSERT_STRING_EQUAL(r.out, "C\n");
	CU_ASSERT_EQUAL(r.status, 0);
	hr_run_result_free(&r);
}

static void test_hang(void)
{
	/* The child and its own child (same process group) are both killed. */
	const char *argv[] = { "sh", "-c", "sleep 60 & echo started; sleep 60", NULL };
	struct hr_run_result r;
	struct hr_err err;
	char why[64];

	CU_ASSERT_EQUAL_FATAL(hr_run(argv, 0.3, 4096, &r, &err), 0);
	CU_ASSERT(r.timed_out);
	CU_ASSERT_FALSE(r.exited);
	CU_ASSERT_EQUAL(r.signal, 9);
	CU_ASSERT_STRING_EQUAL(r.out, "started\n");
	hr_run_describe(&r, 0.3, 4096, why, sizeof(why));
	CU_ASSERT_STRING_EQUAL(why, "timed out after 0.3 s");
	hr_run_result_free(&r);
}

static void test_flood(void)
{
	const char *argv[] = { "yes", "flood", NULL };
	struct hr_run_result r;
	struct hr_err err;

	CU_ASSERT_EQUAL_FATAL(hr_run(argv, 30, 10000, &r, &err), 0);
	CU_ASSERT(r.truncated);
	CU_ASSERT_EQUAL(r.out_len, 10000);
	CU_ASSERT_EQUAL(strlen(r.out), 10000);
	CU_ASSERT_FALSE(r.timed_out);
	hr_run_result_free(&r);
}

static void test_missing(void)
{
	const char *argv[] = { "/nonexistent/check_nothing", NULL };
	const char *argv2[] = { "no-such-program-anywhere", NULL };
	struct hr_run_result r;
	struct hr_err err;

	CU_ASSERT_EQUAL(hr_run(argv, 1, 100, &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "No such file"));
	CU_ASSERT_PTR_NULL(r.out);
	CU_ASSERT_EQUAL(hr_run(argv2, 1, 100, &r, &err), -1);
	hr_run_result_free(&r);
}

static void test_signal(void)
{
	const char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct hr_run_result r;
	struct hr_err err;

	CU_ASSERT_EQUAL_FATAL(hr_run(argv, 10, 100, &r, &err), 0);
	CU_ASSERT_FALSE(r.exited);
	CU_ASSERT_EQUAL(r.signal, 15);
	hr_run_result_free(&r);
}

static CU_TestInfo tests[] = {
	{ "output, standard error and exit status", test_output_and_status },
	{ "C locale and no standard input", test_locale_and_stdin },
	{ "a hanging command is killed with its children", test_hang },
	{ "a flood is cut at the cap", test_flood },
	{ "a missing program", test_missing },
	{ "killed by a signal", test_signal },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("run", tests);
}
