/* user_cmd.c: `headroom user` (user_cmd.h). Opens DATA/headroom.db from
 * the central's config as `headroom alerts` does and changes it through
 * users.c, which writes the audit rows. Passwords come from stdin
 * (--password-stdin, one line) or, on a terminal, from a prompt without
 * echo; never from the command line, where other users could read them. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cliopt.h"
#include "user_cmd.h"
#include "users.h"
#include "util.h"

struct opts {
	const char *config, *role, *label;
	int pw_stdin;
	const char *args[2];
	int nargs;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom user add NAME --role viewer|operator|admin [--password-stdin]\n"
		"                         [-c CENTRAL_CONFIG]\n"
		"       headroom user del NAME [-c CENTRAL_CONFIG]\n"
		"       headroom user passwd NAME [--password-stdin] [-c CENTRAL_CONFIG]\n"
		"       headroom user list [-c CENTRAL_CONFIG]\n"
		"       headroom user token NAME [--label LABEL] [-c CENTRAL_CONFIG]\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	const struct cliopt opts[] = {
		{ "--password-stdin", NULL, NULL, &o->pw_stdin },
		{ "--config", "-c", &o->config, NULL },
		{ "--role", NULL, &o->role, NULL },
		{ "--label", NULL, &o->label, NULL },
		{ NULL, NULL, NULL, NULL }
	};

	memset(o, 0, sizeof(*o));
	o->config = CENTRAL_CONFIG_FILE;
	return cliopt_parse(argc, argv, 1, opts, o->args, 2, &o->nargs);
}

/* Loads the config and opens DATA/headroom.db with the users' tables;
 * NULL after saying why, with *code the exit code. */
static sqlite3 *open_db(const struct opts *o, int *code)
{
	struct central_config cfg;
	struct hr_err err;
	sqlite3 *db = NULL;
	char path[PATH_MAX];

	if (cliopt_central(o->config, &cfg, path, sizeof(path)) < 0) {
		*code = 2;
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "headroom: %s: %s\n", path,
			db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	if (users_init(db, &err) < 0) {
		fprintf(stderr, "headroom: %s: %s\n", path, err.msg);
		goto fail;
	}
	goto out;
fail:
	sqlite3_close(db);
	db = NULL;
	*code = 1;
out:
	central_config_free(&cfg);
	return db;
}

/* "cli:LOGIN" for the audit log: who ran the command (under sudo, the
 * user who ran sudo). */
static void actor(char *dst, size_t n)
{
	const char *sudo = getenv("SUDO_USER");
	const struct passwd *pw = getpwuid(getuid());
	const char *name = sudo != NULL && sudo[0] != '\0' ? sudo : pw != NULL ? pw->pw_name : NULL;

	if (name != NULL)
		snprintf(dst, n, "cli:%.64s", name);
	else
		snprintf(dst, n, "cli:uid%u", (unsigned)getuid());
}

/* One line from f into buf (USERS_PW_MAX + 2 bytes) without its end; -1
 * at EOF without a line or on a line too long. */
static int read_line(FILE *f, char *buf, size_t n)
{
	size_t len;

	if (fgets(buf, (int)n, f) == NULL)
		return -1;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(f))
		return -1;   /* longer than the buffer */
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 0;
}

static int prompt(const char *what, char *buf, size_t n)
{
	struct termios old, quiet;
	int rc;

	fprintf(stderr, "%s", what);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return -1;
	rc = read_line(stdin, buf, n);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return rc;
}

/* The new password into pw (USERS_PW_MAX + 2 bytes); 2 after saying why. */
static int get_password(const struct opts *o, char *pw, size_t n)
{
	char again[USERS_PW_MAX + 2];
	struct hr_err err;

	if (o->pw_stdin) {
		if (read_line(stdin, pw, n) < 0) {
			fprintf(stderr, "headroom: no password on stdin (one line of at most %d"
				" characters)\n", USERS_PW_MAX);
			return 2;
		}
	} else if (isatty(STDIN_FILENO)) {
		if (prompt("Password: ", pw, n) < 0 || prompt("Again: ", again, sizeof(again)) < 0) {
			fprintf(stderr, "headroom: cannot read the password\n");
			return 2;
		}
		if (strcmp(pw, again) != 0) {
			explicit_bzero(again, sizeof(again));
			fprintf(stderr, "headroom: the passwords differ\n");
			return 2;
		}
		explicit_bzero(again, sizeof(again));
	} else {
		fprintf(stderr, "headroom: stdin is not a terminal: give --password-stdin\n");
		return 2;
	}
	if (users_password_ok(pw, &err) < 0) {
		fprintf(stderr, "headroom: %s\n", err.msg);
		return 2;
	}
	return 0;
}

static int list_row(void *arg, const char *name, enum page_role role, double created,
		    double changed)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)created;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	printf("%-32s %-9s %s\n", name, users_role_name(role), when);
	return 0;
}

int user_cmd_main(int argc, char **argv)
{
	char pw[USERS_PW_MAX + 2], who[80], token[USERS_TOKEN_SIZE];
	const char *cmd, *name;
	enum page_role role = ROLE_NONE;
	struct hr_err err;
	struct opts o;
	sqlite3 *db;
	int code = 0, rc;

	if (argc < 2 || parse(argc, argv, &o) < 0 || o.nargs < 1) {
		usage(stderr);
		return 2;
	}
	cmd = o.args[0];
	name = o.nargs > 1 ? o.args[1] : NULL;
	if (strcmp(cmd, "list") == 0 ? o.nargs != 1 : o.nargs != 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "add") != 0 && strcmp(cmd, "del") != 0 && strcmp(cmd, "passwd") != 0 &&
	    strcmp(cmd, "list") != 0 && strcmp(cmd, "token") != 0) {
		fprintf(stderr, "headroom: no such user command: %s\n", cmd);
		usage(stderr);
		return 2;
	}
	if (name != NULL && !users_name_ok(name)) {
		fprintf(stderr, "headroom: \"%s\" is not a user name (1-%d of A-Z a-z 0-9 . _ @ -)\n",
			name, USERS_NAME_MAX);
		return 2;
	}
	if ((o.role != NULL) != (strcmp(cmd, "add") == 0) ||
	    (o.label != NULL && strcmp(cmd, "token") != 0) ||
	    (o.pw_stdin && strcmp(cmd, "add") != 0 && strcmp(cmd, "passwd") != 0)) {
		usage(stderr);
		return 2;
	}
	if (o.role != NULL && users_role_parse(o.role, &role) < 0) {
		fprintf(stderr, "headroom: no such role: %s (viewer, operator, admin)\n", o.role);
		return 2;
	}
	pw[0] = '\0';
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "passwd") == 0) {
		code = get_password(&o, pw, sizeof(pw));
		if (code != 0)
			goto out;
	}
	db = open_db(&o, &code);
	if (db == NULL)
		goto out;
	actor(who, sizeof(who));
	if (strcmp(cmd, "add") == 0)
		rc = users_add(db, who, name, role, pw, &err);
	else if (strcmp(cmd, "del") == 0)
		rc = users_del(db, who, name, &err);
	else if (strcmp(cmd, "passwd") == 0)
		rc = users_passwd(db, who, name, pw, &err);
	else if (strcmp(cmd, "token") == 0) {
		rc = users_token_new(db, who, name, o.label, token, &err);
		if (rc == 0) {
			printf("%s\n", token);
			explicit_bzero(token, sizeof(token));
		}
	} else {
		printf("%-32s %-9s %s\n", "NAME", "ROLE", "CREATED");
		rc = users_list(db, list_row, NULL, &err);
	}
	sqlite3_close(db);
	if (rc < 0) {
		fprintf(stderr, "headroom: %s\n", err.msg);
		code = 1;
	} else if (fflush(stdout) != 0) {
		code = 1;
	}
out:
	explicit_bzero(pw, sizeof(pw));
	return code;
}
