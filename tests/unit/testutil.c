/* testutil.c: see testutil.h. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "testutil.h"

const char *fixture(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", FIXTURES, rel);
	return buf;
}

const char *tmpdir_new(const char *tag)
{
	static char buf[PATH_MAX];
	const char *base = getenv("TMPDIR");

	snprintf(buf, sizeof(buf), "%s/hr-%s-XXXXXX", base && base[0] ? base : "/tmp", tag);
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int write_file(const char *root, const char *path, const char *data, size_t len)
{
	char full[PATH_MAX], *p;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	for (p = full + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	f = fopen(full, "wb");
	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

int run_probe(const struct probe *p, const char *root, const char *cfg_json,
	      struct hr_recsink *rec)
{
	struct probe_env env = { .root = root };
	struct hr_errs errs;
	struct hr_err err = { { 0 } };
	cJSON *cfg = NULL;
	void *state = NULL;
	size_t i;
	int rc;

	hr_errs_init(&errs);
	if (cfg_json != NULL) {
		cfg = cJSON_Parse(cfg_json);
		if (cfg == NULL) {
			fprintf(stderr, "run_probe: bad test config JSON: %s\n", cfg_json);
			return -2;
		}
	}
	if (p->setup(&env, cfg, "probes.test", &state, &errs) < 0 || hr_errs_any(&errs)) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "setup: %s\n", errs.items[i]);
		hr_errs_free(&errs);
		cJSON_Delete(cfg);
		return -2;
	}
	rc = p->read(state, &rec->sink, &err);
	if (rc < 0)
		fprintf(stderr, "read: %s\n", err.msg);
	p->teardown(state);
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	return rc;
}

/* Runs probe p `reads` times on one state with stderr sent to a file, and
 * returns how many logged lines contain needle (-1 on a setup failure). */
int probe_log_lines(const struct probe *p, const char *root, const char *cfg_json, int reads,
		    const char *needle)
{
	struct probe_env env = { .root = root };
	cJSON *cfg = cfg_json ? cJSON_Parse(cfg_json) : NULL;
	struct hr_recsink rec;
	struct hr_errs errs;
	struct hr_err err;
	char path[] = "/tmp/hr-log-XXXXXX", line[2048];
	void *state = NULL;
	int fd, saved, i, n = 0;
	FILE *f;

	hr_errs_init(&errs);
	hr_recsink_init(&rec);
	if ((cfg_json != NULL && cfg == NULL) ||
	    p->setup(&env, cfg, "probes.test", &state, &errs) < 0) {
		hr_errs_free(&errs);
		cJSON_Delete(cfg);
		return -1;
	}
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < reads; i++)
		p->read(state, &rec.sink, &err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	p->teardown(state);
	cJSON_Delete(cfg);
	hr_recsink_free(&rec);
	hr_errs_free(&errs);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	unlink(path);
	return n;
}

int probe_setup_refuses(const struct probe *p, const char *path, const char *cfg_json,
			const char *want)
{
	struct probe_env env = { .root = "/" };
	cJSON *cfg = cfg_json ? cJSON_Parse(cfg_json) : NULL;
	struct hr_errs errs;
	void *state = NULL;
	size_t j;
	int rc, found = 0;

	if (cfg_json != NULL && cfg == NULL) {
		fprintf(stderr, "probe_setup_refuses: bad test JSON: %s\n", cfg_json);
		return 0;
	}
	hr_errs_init(&errs);
	rc = p->setup(&env, cfg, path, &state, &errs);
	for (j = 0; j < errs.count; j++)
		if (strstr(errs.items[j], want) != NULL)
			found = 1;
	if (rc != -1 || state != NULL || !found) {
		fprintf(stderr, "config %s: want \"%s\", got rc %d and:\n", cfg_json ? cfg_json : "(none)",
			want, rc);
		for (j = 0; j < errs.count; j++)
			fprintf(stderr, "  %s\n", errs.items[j]);
		if (rc == 0)
			p->teardown(state);
		found = 0;
	}
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	return found;
}

double sval(const struct hr_sample *s, const char *name)
{
	const struct hr_value *v;

	if (s == NULL)
		return NAN;
	v = hr_sample_get(s, name);
	return v ? v->v : NAN;
}

int run_suite_fixture(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
		      CU_TestInfo *tests)
{
	CU_SuiteInfo suites[] = {
		{ name, init, clean, NULL, NULL, tests },
		CU_SUITE_INFO_NULL,
	};
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* A suite whose init failed ran no test: that fails the run too. */
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
		 CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}

int run_suite(const char *name, CU_TestInfo *tests)
{
	return run_suite_fixture(name, NULL, NULL, tests);
}

int errs_has(const struct hr_errs *errs, const char *want, int prefix)
{
	size_t i, n = strlen(want);

	for (i = 0; i < errs->count; i++)
		if (prefix ? strncmp(errs->items[i], want, n) == 0 : strcmp(errs->items[i], want) == 0)
			return 1;
	for (i = 0; i < errs->count; i++)
		fprintf(stderr, "  have: %s\n", errs->items[i]);
	fprintf(stderr, "  want: %s%s\n", want, prefix ? "..." : "");
	return 0;
}

static int can_connect(const char *sock)
{
	struct sockaddr_un sun;
	int fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path))
		return 0;
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

pid_t rrdcached_start(const char *dir, const char *base, const char *sock,
		      const char *const *extra)
{
	char pidfile[PATH_MAX + 16], log[PATH_MAX + 16], listen[PATH_MAX + 32];
	const char *argv[24];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	size_t n = 0, i;
	pid_t pid;
	int fd;

	snprintf(pidfile, sizeof(pidfile), "%s/rrdcached.pid", dir);
	snprintf(log, sizeof(log), "%s/rrdcached.log", dir);
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	argv[n++] = "rrdcached";
	argv[n++] = "-g";
	argv[n++] = "-l";
	argv[n++] = listen;
	argv[n++] = "-b";
	argv[n++] = base;
	argv[n++] = "-B";
	argv[n++] = "-R";
	argv[n++] = "-p";
	argv[n++] = pidfile;
	for (i = 0; extra != NULL && extra[i] != NULL && i < 8; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp("rrdcached", (char *const *)argv);
		_exit(127);
	}
	/* Bounded only for a broken run: rrdcached is up in milliseconds. */
	for (i = 0; i < 500; i++) {
		if (can_connect(sock))
			return pid;
		nanosleep(&ts, NULL);
	}
	rrdcached_stop(pid);
	return -1;
}

void rrdcached_stop(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}
