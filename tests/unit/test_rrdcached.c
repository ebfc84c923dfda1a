/* test_rrdcached.c: rrdstore through a real rrdcached, started by the test
 * on a UNIX socket in a temporary folder (-b BASE -B -R, journal, flush at
 * shutdown) and stopped after: files land in BASE/HOST with the same
 * archives as the file backend makes, a new value becomes a new DS with the
 * old data kept, the last update is known before any flush, and a daemon
 * that goes away fails the calls until it is back, on the same store. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rrd.h>

#include "rrdcached.h"
#include "rrdstore.h"
#include "testutil.h"

#define T0 1764316800

static char top[PATH_MAX], base[PATH_MAX + 16], sock[PATH_MAX + 16], addr[PATH_MAX + 32];
static pid_t daemon_pid = -1;

/* rrdcached as a child, with a journal (-F flushes it at exit). */
static int daemon_start(void)
{
	char journal[PATH_MAX + 16];
	const char *extra[] = { "-F", "-j", journal, NULL };

	snprintf(journal, sizeof(journal), "%s/journal", top);
	mkdir(journal, 0755);
	daemon_pid = rrdcached_start(top, base, sock, extra);
	return daemon_pid > 0 ? 0 : -1;
}

static void daemon_stop(void)
{
	rrdcached_stop(daemon_pid);
	daemon_pid = -1;
}

static int suite_init(void)
{
	snprintf(top, sizeof(top), "%s", tmpdir_new("rrdcached"));
	snprintf(base, sizeof(base), "%s/base", top);
	snprintf(sock, sizeof(sock), "%s/s.sock", top);
	snprintf(addr, sizeof(addr), "unix:%s", sock);
	if (mkdir(base, 0755) < 0)
		return -1;
	return daemon_start();
}

static int suite_clean(void)
{
	daemon_stop();
	rm_rf(top);
	return 0;
}

static void sample(struct hr_sample *s, const char *probe, const char *instance, time_t t,
		   const char *const *names, const double *v, size_t n)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	snprintf(s->probe, sizeof(s->probe), "%s", probe);
	snprintf(s->instance, sizeof(s->instance), "%s", instance);
	s->t = t;
	for (i = 0; i < n; i++) {
		snprintf(s->values[i].name, sizeof(s->values[i].name), "%s", names[i]);
		s->values[i].v = v[i];
	}
	s->nvalues = n;
}

/* Asks the daemon to write what it holds for REL. */
static int flush(const char *rel)
{
	struct hr_err err;
	struct rrdcached *c = rrdcached_new(addr, &err);
	const char *argv[2] = { "FLUSH", rel };
	int rc;

	if (c == NULL)
		return -1;
	rc = rrdcached_cmd(c, 2, argv, NULL, NULL, &err);
	if (rc != 0)
		fprintf(stderr, "  flush %s: %s\n", rel, err.msg);
	rrdcached_destroy(c);
	return rc;
}

/* DS names (joined by ' ') and the value of one DS at the last update. */
static time_t lastupdate(const char *path, char *names, size_t n, const char *ds, double *v)
{
	char **nm = NULL, **vals = NULL;
	unsigned long cnt = 0, i;
	time_t last = 0;
	size_t len = 0;

	*v = NAN;
	names[0] = '\0';
	if (rrd_lastupdate_r(path, &last, &cnt, &nm, &vals) != 0)
		return 0;
	for (i = 0; i < cnt; i++) {
		len += (size_t)snprintf(names + len, n - len, "%s%s", i ? " " : "", nm[i]);
		if (strcmp(nm[i], ds) == 0 && strcmp(vals[i], "U") != 0)
			*v = strtod(vals[i], NULL);
		free(nm[i]);
		free(vals[i]);
	}
	free(nm);
	free(vals);
	return last;
}

static void test_refuses(void)
{
	static const char *const bad_dirs[] = { "", "/abs", "..", "../x", "a/../b", "a//b", "./a", "a/" };
	struct hr_err err;
	size_t i;

	for (i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		CU_ASSERT_PTR_NULL(rrdstore_new_rrdcached(addr, bad_dirs[i], &err));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a folder inside rrdcached's base"));
	}
	CU_ASSERT_PTR_NULL(rrdstore_new_rrdcached("", "web1", &err));
	CU_ASSERT_PTR_NULL(rrdstore_new_rrdcached("unix:", "web1", &err));
	CU_ASSERT_PTR_NULL(rrdstore_new_rrdcached("host:", "web1", &err));
	CU_ASSERT_PTR_NULL(rrdstore_new_rrdcached("[::1", "web1", &err));
	rrdstore_destroy(rrdstore_new_rrdcached("127.0.0.1:42217", "web1", &err));
	rrdstore_destroy(rrdstore_new_rrdcached("[::1]:42217", "a/b", &err));
}

static void test_write_and_add_ds(void)
{
	static const char *const two[] = { "load1", "load5" };
	static const char *const three[] = { "load1", "load5", "load15" };
	static const double v1[] = { 1.5, 0.5 }, v2[] = { 2.5, 0.75 }, v3[] = { 3.5, 1, 0.25 };
	struct rrdstore *st, *again;
	struct hr_sample s;
	struct hr_err err;
	char path[PATH_MAX * 2], names[256];
	time_t last;
	double v;

	st = rrdstore_new_rrdcached(addr, "web1", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	sample(&s, "load", "", T0, two, v1, 2);
	CU_ASSERT_EQUAL(rrdstore_last(st, &s, &last, &err), 0);
	CU_ASSERT_EQUAL(last, 0); /* no file yet, none made */
	snprintf(path, sizeof(path), "%s/web1/load.rrd", base);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 0);
	CU_ASSERT_EQUAL(access(path, F_OK), 0); /* CREATE writes at once */
	sample(&s, "load", "", T0 + 10, two, v2, 2);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 0);
	/* The agent's rule is kept: at or before the last update, 1. */
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 1);
	/* A fresh store learns the last update from the daemon, which holds
	 * T0 + 10 before any flush. */
	again = rrdstore_new_rrdcached(addr, "web1", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(again);
	CU_ASSERT_EQUAL(rrdstore_last(again, &s, &last, &err), 0);
	CU_ASSERT_EQUAL(last, T0 + 10);
	rrdstore_destroy(again);
	/* A new value: a DS added through CREATE -r/-t, old data kept. */
	sample(&s, "load", "", T0 + 20, three, v3, 3);
	if (rrdstore_write(st, &s, 10, &err) != 0)
		fprintf(stderr, "  add DS: %s\n", err.msg);
	CU_ASSERT_EQUAL(flush("web1/load.rrd"), 0);
	CU_ASSERT_EQUAL(lastupdate(path, names, sizeof(names), "load15", &v), T0 + 20);
	CU_ASSERT_STRING_EQUAL(names, "load1 load5 load15");
	CU_ASSERT_DOUBLE_EQUAL(v, 0.25, 1e-9);
	lastupdate(path, names, sizeof(names), "load1", &v);
	CU_ASSERT_DOUBLE_EQUAL(v, 3.5, 1e-9);
	{
		/* The value at T0 + 10, written before the DS was added: the
		 * first row after start. */
		time_t start = T0, end = T0 + 10;
		unsigned long step = 10, nds = 0, i;
		char **dsn = NULL;
		rrd_value_t *data = NULL;

		CU_ASSERT_EQUAL_FATAL(rrd_fetch_r(path, "AVERAGE", &start, &end, &step, &nds, &dsn,
						  &data), 0);
		CU_ASSERT_EQUAL(step, 10);
		CU_ASSERT_EQUAL(nds, 3);
		CU_ASSERT_DOUBLE_EQUAL(data[0], 2.5, 1e-9);
		for (i = 0; i < nds; i++)
			free(dsn[i]);
		free(dsn);
		free(data);
	}
	rrdstore_destroy(st);
}

/* The same archives as the file backend: every "step", "rra[...]" shape
 * and "ds[...]" rule key of rrd_info equal. */
static void test_same_layout(void)
{
	static const char *const names[] = { "read_bytes", "util" };
	static const double v[] = { 100, 0.5 };
	struct rrdstore *cached, *files;
	struct hr_sample s;
	struct hr_err err;
	char dir[PATH_MAX + 16], a[PATH_MAX * 2], b[PATH_MAX * 2];
	rrd_info_t *ia, *ib, *p, *q;
	int compared = 0;

	snprintf(dir, sizeof(dir), "%s/direct", top);
	cached = rrdstore_new_rrdcached(addr, "web2", &err);
	files = rrdstore_new(dir, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cached);
	CU_ASSERT_PTR_NOT_NULL_FATAL(files);
	sample(&s, "disk", "sda", T0, names, v, 2);
	CU_ASSERT_EQUAL(rrdstore_write(cached, &s, 60, &err), 0);
	CU_ASSERT_EQUAL(rrdstore_write(files, &s, 60, &err), 0);
	snprintf(a, sizeof(a), "%s/web2/disk-sda.rrd", base);
	snprintf(b, sizeof(b), "%s/disk-sda.rrd", dir);
	ia = rrd_info_r(a);
	ib = rrd_info_r(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ia);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ib);
	for (p = ia, q = ib; p != NULL && q != NULL; p = p->next, q = q->next) {
		CU_ASSERT_STRING_EQUAL(p->key, q->key);
		if (strcmp(p->key, q->key) != 0)
			break;
		if (strcmp(p->key, "step") == 0 || strstr(p->key, ".rows") ||
		    strstr(p->key, ".pdp_per_row") || strstr(p->key, ".minimal_heartbeat")) {
			CU_ASSERT_EQUAL(p->value.u_cnt, q->value.u_cnt);
			compared++;
		} else if (strstr(p->key, ".cf") || strstr(p->key, "].type")) {
			CU_ASSERT_STRING_EQUAL(p->value.u_str, q->value.u_str);
			compared++;
		}
	}
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_PTR_NULL(q);
	CU_ASSERT(compared > 10);
	rrd_info_free(ia);
	rrd_info_free(ib);
	rrdstore_destroy(cached);
	rrdstore_destroy(files);
}

/* Down: every call fails and nothing is written; up again (a new
 * process, new socket): the same store writes, without being remade. */
static void test_restart(void)
{
	static const char *const one[] = { "degraded" };
	static const double v0[] = { 0 }, v1[] = { 1 };
	struct rrdstore *st, *fresh;
	struct hr_sample s;
	struct hr_err err;
	char path[PATH_MAX * 2], names[64];
	time_t last;
	double v;

	st = rrdstore_new_rrdcached(addr, "web3", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	sample(&s, "md", "md0", T0, one, v0, 1);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 0);
	daemon_stop();
	sample(&s, "md", "md0", T0 + 10, one, v1, 1);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rrdcached"));
	fresh = rrdstore_new_rrdcached(addr, "web3", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
	CU_ASSERT_EQUAL(rrdstore_last(fresh, &s, &last, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot connect"));
	rrdstore_destroy(fresh);
	snprintf(path, sizeof(path), "%s/web3/md-md0.rrd", base);
	CU_ASSERT_EQUAL(lastupdate(path, names, sizeof(names), "degraded", &v), T0);
	CU_ASSERT_EQUAL_FATAL(daemon_start(), 0);
	CU_ASSERT_EQUAL(rrdstore_write(st, &s, 10, &err), 0);
	CU_ASSERT_EQUAL(flush("web3/md-md0.rrd"), 0);
	CU_ASSERT_EQUAL(lastupdate(path, names, sizeof(names), "degraded", &v), T0 + 10);
	CU_ASSERT_DOUBLE_EQUAL(v, 1, 1e-9);
	rrdstore_destroy(st);
}

/* A long run of samples (a replayed hour) goes through in commands that
 * fit rrdcached's buffer, every value in place. */
static void test_long_run(void)
{
	static const char *const names[] = { "user", "nice", "system", "idle", "iowait",
					      "irq", "softirq", "steal" };
	struct hr_sample s[120];
	const struct hr_sample *p[120];
	struct rrdstore *st;
	struct hr_err err;
	char path[PATH_MAX * 2], dsn[256];
	double v[8], got;
	size_t i, k;

	st = rrdstore_new_rrdcached(addr, "web4", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (i = 0; i < 120; i++) {
		for (k = 0; k < 8; k++)
			v[k] = 1234567.0625 * (double)(i + 1) + (double)k;
		sample(&s[i], "cpu", "", T0 + 10 * (time_t)(i + 1), names, v, 8);
		p[i] = &s[i];
	}
	if (rrdstore_write_run(st, p, 120, 10, &err) != 0)
		fprintf(stderr, "  write_run: %s\n", err.msg);
	CU_ASSERT_EQUAL(flush("web4/cpu.rrd"), 0);
	snprintf(path, sizeof(path), "%s/web4/cpu.rrd", base);
	CU_ASSERT_EQUAL(lastupdate(path, dsn, sizeof(dsn), "steal", &got), T0 + 1200);
	CU_ASSERT_DOUBLE_EQUAL(got, 1234567.0625 * 120 + 7, 1e-6);
	rrdstore_destroy(st);
}

static CU_TestInfo tests[] = {
	{ "bad folders and addresses refused", test_refuses },
	{ "write, last update, add a DS", test_write_and_add_ds },
	{ "same archives as librrd files", test_same_layout },
	{ "daemon down, then back", test_restart },
	{ "a long run in commands that fit", test_long_run },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite_fixture("rrdcached", suite_init, suite_clean, tests);
}
