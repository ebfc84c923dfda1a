/* run.c: posix_spawn with pipes, poll and a deadline (see run.h).
 * posix_spawn rather than fork+exec: the agent is multithreaded, and between
 * fork and exec only async-signal-safe calls are allowed; posix_spawn sets the
 * process group, signal mask and dispositions and the descriptors for us. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

#define ERROUT_CAP 4096

extern char **environ;

/* environ with LC_ALL=C and without LANG/LC_*: plugins print numbers with a
 * decimal point whatever the host's locale. Caller frees the array only. */
static char **env_c_locale(void)
{
	size_t n = 0, i, j = 0;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_", 3) != 0 && strncmp(environ[i], "LANG=", 5) != 0 &&
		    strncmp(environ[i], "LANGUAGE=", 9) != 0)
			env[j++] = environ[i];
	env[j++] = (char *)"LC_ALL=C";
	env[j] = NULL;
	return env;
}

/* Appends up to `len` bytes to *buf (of *used bytes, capacity cap), growing
 * it; returns 1 when the cap was passed (the rest is dropped). */
static int buf_append(char **buf, size_t *used, size_t *size, size_t cap, const char *data,
		      size_t len)
{
	int over = 0;

	if (*used + len > cap) {
		len = cap - *used;
		over = 1;
	}
	if (*used + len + 1 > *size) {
		size_t nsize = *size ? *size : 4096;
		char *n;

		while (nsize < *used + len + 1)
			nsize *= 2;
		if (nsize > cap + 1)
			nsize = cap + 1;
		n = realloc(*buf, nsize);
		if (n == NULL)
			return 1;
		*buf = n;
		*size = nsize;
	}
	memcpy(*buf + *used, data, len);
	*used += len;
	(*buf)[*used] = '\0';
	return over;
}

/* Resolves argv[0] like execvp would (PATH search when it has no '/') into
 * dst, so that "no such program" is an error of ours before spawning: where
 * posix_spawn falls back to fork (under valgrind, for one), an exec failure
 * would only show as exit status 127. */
static int find_program(const char *name, char *dst, size_t n, struct hr_err *err)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(name, '/') != NULL) {
		if (access(name, X_OK) != 0)
			return hr_err_errno(err, errno, "run %s", name);
		if (hr_strlcpy(dst, name, n) >= n)
			return hr_err_set(err, "run %s: path too long", name);
		return 0;
	}
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0';) {
		const char *e = strchr(p, ':');
		size_t dl = e ? (size_t)(e - p) : strlen(p);

		if (dl > 0 && (size_t)snprintf(dst, n, "%.*s/%s", (int)dl, p, name) < n &&
		    access(dst, X_OK) == 0)
			return 0;
		p += dl;
		if (*p == ':')
			p++;
	}
	return hr_err_errno(err, ENOENT, "run %s (PATH %s)", name, path);
}

static void kill_group(pid_t pid)
{
	/* The child is its own group leader (POSIX_SPAWN_SETPGROUP). */
	if (kill(-pid, SIGKILL) < 0)
		kill(pid, SIGKILL);
}

int hr_run(const char *const *argv, double timeout, size_t cap, struct hr_run_result *res,
	   struct hr_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	size_t out_size = 0, err_size = 0;
	double deadline = hr_now_mono() + timeout;
	sigset_t none, dfl;
	char **env = NULL, prog[4096];
	pid_t pid = -1;
	int rc = -1, e, wstatus = 0, reaped = 0;

	memset(res, 0, sizeof(*res));
	if (find_program(argv[0], prog, sizeof(prog), err) < 0)
		return -1;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		hr_err_errno(err, errno, "run %s: pipe", argv[0]);
		goto out;
	}
	env = env_c_locale();
	if (env == NULL) {
		hr_err_errno(err, ENOMEM, "run %s", argv[0]);
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn(&pid, prog, &fa, &attr, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		hr_err_errno(err, e, "run %s", argv[0]);
		pid = -1;
		goto out;
	}
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;

	while (outp[0] >= 0 || errp[0] >= 0) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		double left = deadline - hr_now_mono();
		char chunk[8192];

		if (left <= 0) {
			res->timed_out = 1;
			kill_group(pid);
			break;
		}
		if (outp[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		if (errp[0] >= 0)
			pfd[n++] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		if (poll(pfd, n, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			kill_group(pid);
			break;
		}
		for (nfds_t i = 0; i < n; i++) {
			ssize_t r;
			int is_out = pfd[i].fd == outp[0];

			if (pfd[i].revents == 0)
				continue;
			r = read(pfd[i].fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				close(pfd[i].fd);
				if (is_out)
					outp[0] = -1;
				else
					errp[0] = -1;
				continue;
			}
			if (is_out) {
				if (buf_append(&res->out, &res->out_len, &out_size, cap, chunk,
					       (size_t)r)) {
					res->truncated = 1;
					kill_group(pid);
				}
			} else {
				/* Extra standard error is dropped, not fatal. */
				buf_append(&res->errout, &res->errout_len, &err_size, ERROUT_CAP,
					   chunk, (size_t)r);
			}
		}
		if (res->truncated)
			break;
	}
	/* Output closed: wait for the exit, still within the deadline. */
	while (!reaped) {
		pid_t w = waitpid(pid, &wstatus, WNOHANG);

		if (w == pid) {
			reaped = 1;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (hr_now_mono() >= deadline && !res->timed_out) {
			res->timed_out = 1;
			kill_group(pid);
		}
		if (res->timed_out || res->truncated) {
			waitpid(pid, &wstatus, 0);
			reaped = 1;
			break;
		}
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (reaped) {
		if (WIFEXITED(wstatus)) {
			res->exited = 1;
			res->status = WEXITSTATUS(wstatus);
		} else if (WIFSIGNALED(wstatus)) {
			res->signal = WTERMSIG(wstatus);
		}
	}
	if (res->out == NULL && (res->out = calloc(1, 1)) == NULL) {
		hr_err_errno(err, ENOMEM, "run %s", argv[0]);
		goto out;
	}
	if (res->errout == NULL && (res->errout = calloc(1, 1)) == NULL) {
		hr_err_errno(err, ENOMEM, "run %s", argv[0]);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		hr_run_result_free(res);
	free(env);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return rc;
}

void hr_run_result_free(struct hr_run_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->errout);
	res->out = res->errout = NULL;
	res->out_len = res->errout_len = 0;
}

void hr_run_describe(const struct hr_run_result *res, double timeout, size_t cap, char *buf,
		     size_t n)
{
	if (res->timed_out)
		snprintf(buf, n, "timed out after %g s", timeout);
	else if (res->truncated)
		snprintf(buf, n, "output over %zu bytes", cap);
	else if (res->exited)
		snprintf(buf, n, "exit status %d", res->status);
	else
		snprintf(buf, n, "killed by signal %d", res->signal);
}
