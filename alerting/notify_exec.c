/* notify_exec.c: runs a program per notification, without a shell: the
 * alert in HEADROOM_* environment variables (for a one-line script) and
 * the whole payload as JSON on standard input (for anything more). Exit
 * status 0 is delivered; anything else, a crash or the timeout retries.
 * Like lib/run.c it uses posix_spawn (the central is multithreaded) and a
 * process group of its own that is killed as a whole on timeout. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "notify.h"
#include "util.h"

extern char **environ;

static const char *const keys[] = { "command", "timeout", NULL };

/* Cut of one variable's value: a summary, not a document. */
#define ENV_VALUE_MAX 1024

struct exec {
	char **argv;
	double timeout;
};

static void exec_free(void *state)
{
	struct exec *x = state;

	hr_strv_free(x->argv);
	free(x);
}

static void *exec_setup(const cJSON *cfg, const char *path, struct hr_errs *errs)
{
	struct exec *x = calloc(1, sizeof(*x));
	size_t before = errs->count + errs->dropped;
	char p[512];
	int r;

	if (x == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return NULL;
	}
	x->timeout = 30;
	hr_cfg_path(p, sizeof(p), path, "command");
	r = hr_cfg_strv(cfg, "command", path, &x->argv, errs);
	if (r == 0 || (r > 0 && x->argv[0] == NULL))
		hr_errs_add(errs, path, "missing \"command\" ([\"/path/to/program\", \"arg\", ...])");
	else if (r > 0 && strchr(x->argv[0], '/') != NULL && access(x->argv[0], X_OK) != 0)
		hr_errs_add(errs, p, "%s: %s", x->argv[0], strerror(errno));
	hr_cfg_duration(cfg, "timeout", path, 0.1, 3600, &x->timeout, errs);
	if (errs->count + errs->dropped > before) {
		exec_free(x);
		return NULL;
	}
	return x;
}

/* Adds "NAME=value" (value made printable and cut) to v at *n. */
static int env_add(char **v, size_t *n, const char *name, const char *value)
{
	char clean[ENV_VALUE_MAX];

	hr_printable(clean, sizeof(clean), value, strlen(value));
	if (asprintf(&v[*n], "%s=%s", name, clean) < 0) {
		v[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

char **notify_exec_env(const cJSON *payload)
{
	const cJSON *alerts = notify_alerts(payload);
	const cJSON *a = alerts != NULL ? cJSON_GetArrayItem(alerts, 0) : NULL;
	char title[512], count[16], firing[16];
	char **v = calloc(20, sizeof(*v));
	size_t n = 0;
	int bad = 0;

	if (v == NULL)
		return NULL;
	notify_title(payload, title, sizeof(title));
	snprintf(count, sizeof(count), "%d", notify_count(payload, NULL));
	snprintf(firing, sizeof(firing), "%d", notify_count(payload, "firing"));
	bad |= env_add(v, &n, "HEADROOM_STATUS", notify_str(payload, "status"));
	bad |= env_add(v, &n, "HEADROOM_RECEIVER", notify_str(payload, "receiver"));
	bad |= env_add(v, &n, "HEADROOM_HOST", notify_host(payload));
	bad |= env_add(v, &n, "HEADROOM_ALERTS", count);
	bad |= env_add(v, &n, "HEADROOM_FIRING", firing);
	bad |= env_add(v, &n, "HEADROOM_TITLE", title);
	bad |= env_add(v, &n, "HEADROOM_EXTERNAL_URL", notify_str(payload, "externalURL"));
	/* The first alert, enough for most scripts. */
	bad |= env_add(v, &n, "HEADROOM_ALERTNAME", notify_label(a, "alertname"));
	bad |= env_add(v, &n, "HEADROOM_SEVERITY", notify_label(a, "severity"));
	bad |= env_add(v, &n, "HEADROOM_PROBE", notify_label(a, "probe"));
	bad |= env_add(v, &n, "HEADROOM_INSTANCE", notify_label(a, "instance"));
	bad |= env_add(v, &n, "HEADROOM_SUMMARY", notify_annotation(a, "summary"));
	bad |= env_add(v, &n, "HEADROOM_VALUE", notify_annotation(a, "value"));
	bad |= env_add(v, &n, "HEADROOM_ALERT_STATUS", notify_str(a, "status"));
	bad |= env_add(v, &n, "HEADROOM_STARTS_AT", notify_str(a, "startsAt"));
	bad |= env_add(v, &n, "HEADROOM_FINGERPRINT", notify_str(a, "fingerprint"));
	if (bad) {
		hr_strv_free(v);
		return NULL;
	}
	return v;
}

/* environ without HEADROOM_* (ours win), then ours. Caller frees the array
 * only. */
static char **env_merge(char **ours)
{
	size_t n = 0, m = 0, i, j = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	while (ours[m] != NULL)
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "HEADROOM_", 9) != 0)
			env[j++] = environ[i];
	for (i = 0; i < m; i++)
		env[j++] = ours[i];
	env[j] = NULL;
	return env;
}

static void kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
}

/* Writes the payload to the child's stdin until done, the child stops
 * reading (EPIPE: fine, it may not want it) or the deadline passes. */
static void feed(int fd, const char *json, double deadline)
{
	size_t left = strlen(json);
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };

	/* A child that exits without reading must not kill the central with
	 * SIGPIPE: block it in this thread and take it back if it came. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (left > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		double wait = deadline - hr_now_mono();
		ssize_t w;

		if (wait <= 0 || poll(&pfd, 1, (int)(wait * 1000) + 1) <= 0)
			break;
		w = write(fd, json, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		json += w;
		left -= (size_t)w;
	}
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int exec_send(void *state, const cJSON *payload, const char *json, struct hr_err *err)
{
	struct exec *x = state;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char **vars = notify_exec_env(payload), **env = NULL;
	double deadline = hr_now_mono() + x->timeout;
	int pfd[2] = { -1, -1 }, status = 0, ret = NOTIFY_RETRY, rc, done = 0;
	sigset_t none;
	pid_t pid;

	if (vars == NULL || (env = env_merge(vars)) == NULL) {
		hr_err_set(err, "out of memory");
		goto out_env;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		hr_err_errno(err, errno, "pipe");
		goto out_env;
	}
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	{
		sigset_t all;

		sigfillset(&all);
		posix_spawnattr_setsigdefault(&attr, &all);
	}
	rc = posix_spawnp(&pid, x->argv[0], &fa, &attr, x->argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pfd[0]);
	if (rc != 0) {
		close(pfd[1]);
		hr_err_errno(err, rc, "%s", x->argv[0]);
		goto out_env;
	}
	feed(pfd[1], json, deadline);
	close(pfd[1]);
	while (!done) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		if (w == pid || (w < 0 && errno != EINTR)) {
			done = 1;
			break;
		}
		if (hr_now_mono() >= deadline) {
			kill_group(pid);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			hr_err_set(err, "%s: timed out after %g s", x->argv[0], x->timeout);
			goto out_env;
		}
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		ret = NOTIFY_DELIVERED;
	else if (WIFEXITED(status))
		hr_err_set(err, "%s: exit status %d", x->argv[0], WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		hr_err_set(err, "%s: killed by signal %d", x->argv[0], WTERMSIG(status));
	else
		hr_err_set(err, "%s: lost track of it", x->argv[0]);
out_env:
	free(env);
	hr_strv_free(vars);
	return ret;
}

const struct notify_type notify_exec = {
	.name = "exec",
	.keys = keys,
	.setup = exec_setup,
	.send = exec_send,
	.free = exec_free,
};
