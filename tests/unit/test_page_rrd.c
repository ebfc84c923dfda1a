/* test_page_rrd.c: the dashboards' flush before a read (page_rrd.h) against
 * a real rrdcached that writes nothing by itself (-w 3600), with DATA/rrd
 * as its base folder: an update it holds reaches the file only through
 * page_rrd_flush, which names the file HOST/FILE; no daemon configured is a
 * no-op; a file the daemon does not know and a daemon that is gone are
 * failures, the latter asked once per request. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rrd.h>

#include "page_rrd.h"
#include "rrdcached.h"
#include "testutil.h"

#define T0 1764316800

static char top[PATH_MAX], rrddir[PATH_MAX + 16], sock[PATH_MAX + 16], addr[PATH_MAX + 32];
static char file[PATH_MAX + 64];
static pid_t daemon_pid = -1;

/* rrdcached as a child that holds every update (-w 3600): only a flush
 * writes the file. */
static int daemon_start(void)
{
	const char *extra[] = { "-w", "3600", "-f", "7200", NULL };

	daemon_pid = rrdcached_start(top, rrddir, sock, extra);
	return daemon_pid > 0 ? 0 : -1;
}

static void daemon_stop(void)
{
	rrdcached_stop(daemon_pid);
	daemon_pid = -1;
}

static int suite_init(void)
{
	const char *args[] = { "DS:load1:GAUGE:120:U:U", "RRA:AVERAGE:0.5:1:100" };
	char host[PATH_MAX + 32];

	snprintf(top, sizeof(top), "%s", tmpdir_new("page_rrd"));
	snprintf(rrddir, sizeof(rrddir), "%s/rrd", top);
	snprintf(host, sizeof(host), "%s/web1", rrddir);
	snprintf(file, sizeof(file), "%s/web1/load.rrd", rrddir);
	snprintf(sock, sizeof(sock), "%s/s.sock", top);
	snprintf(addr, sizeof(addr), "unix:%s", sock);
	if (mkdir(rrddir, 0755) < 0 || mkdir(host, 0755) < 0)
		return -1;
	if (rrd_create_r(file, 60, T0, 2, args) != 0)
		return -1;
	return daemon_start();
}

static int suite_clean(void)
{
	daemon_stop();
	rm_rf(top);
	return 0;
}

/* The file's own last update, read without any daemon. */
static time_t disk_last(void)
{
	return rrd_last_r(file);
}

/* An update the daemon keeps (it writes after an hour). */
static int cached_update(time_t t, double v)
{
	struct rrdcached *c;
	struct hr_err err;
	char val[64];
	const char *argv[3] = { "UPDATE", "web1/load.rrd", val };
	int rc;

	snprintf(val, sizeof(val), "%lld:%g", (long long)t, v);
	c = rrdcached_new(addr, &err);
	if (c == NULL)
		return -1;
	rc = rrdcached_cmd(c, 3, argv, NULL, NULL, &err);
	rrdcached_destroy(c);
	return rc;
}

static void test_no_daemon(void)
{
	struct page_env env;
	struct page_rrd pr;

	memset(&env, 0, sizeof(env));
	page_rrd_init(&pr, &env);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), 0);
	CU_ASSERT_PTR_NULL(pr.c);
	page_rrd_close(&pr);
	env.rrdcached = "";
	page_rrd_init(&pr, &env);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), 0);
	CU_ASSERT_PTR_NULL(pr.c);
	page_rrd_close(&pr);
}

static void test_flush(void)
{
	struct page_env env;
	struct page_rrd pr;

	memset(&env, 0, sizeof(env));
	env.rrdcached = addr;
	CU_ASSERT_EQUAL_FATAL(cached_update(T0 + 60, 1.5), 0);
	CU_ASSERT_EQUAL_FATAL(cached_update(T0 + 120, 2.5), 0);
	CU_ASSERT_EQUAL(disk_last(), T0);
	page_rrd_init(&pr, &env);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), 0);
	CU_ASSERT_EQUAL(disk_last(), T0 + 120);
	/* Nothing held any more: still 0, on the same connection. */
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), 0);
	CU_ASSERT_PTR_NOT_NULL(pr.c);
	/* A file the daemon cannot find is a failure, not a lost connection. */
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", "/elsewhere/web1/nothing.rrd"), -1);
	CU_ASSERT_EQUAL(pr.failed, 0);
	CU_ASSERT_EQUAL_FATAL(cached_update(T0 + 180, 3.5), 0);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), 0);
	CU_ASSERT_EQUAL(disk_last(), T0 + 180);
	page_rrd_close(&pr);
	CU_ASSERT_PTR_NULL(pr.c);
}

static void test_names(void)
{
	struct page_env env;
	struct page_rrd pr;
	char longhost[1100];

	memset(&env, 0, sizeof(env));
	env.rrdcached = addr;
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	page_rrd_init(&pr, &env);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "", file), -1);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", "/some/dir/"), -1);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, longhost, file), -1);
	CU_ASSERT_PTR_NULL(pr.c);
	page_rrd_close(&pr);
}

static void test_daemon_gone(void)
{
	struct page_env env;
	struct page_rrd pr;

	memset(&env, 0, sizeof(env));
	env.rrdcached = addr;
	daemon_stop();
	page_rrd_init(&pr, &env);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), -1);
	CU_ASSERT_EQUAL(pr.failed, 1);
	CU_ASSERT_EQUAL(pr.logged, 1);
	/* Not asked again in this request, even once it is back. */
	CU_ASSERT_EQUAL_FATAL(daemon_start(), 0);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), -1);
	page_rrd_close(&pr);
	/* The next request asks again. */
	CU_ASSERT_EQUAL_FATAL(cached_update(T0 + 240, 4.5), 0);
	page_rrd_init(&pr, &env);
	CU_ASSERT_EQUAL(page_rrd_flush(&pr, "web1", file), 0);
	CU_ASSERT_EQUAL(disk_last(), T0 + 240);
	page_rrd_close(&pr);
}

static CU_TestInfo tests[] = {
	{ "no daemon: nothing asked", test_no_daemon },
	{ "held updates reach the file", test_flush },
	{ "names that are no archive's", test_names },
	{ "daemon gone: once per request", test_daemon_gone },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite_fixture("page_rrd", suite_init, suite_clean, tests);
}
