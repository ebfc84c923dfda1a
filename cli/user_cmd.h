/* user_cmd.h: `headroom user add|del|passwd|list|token`: the dashboards'
 * users and API tokens in the SQLite file DATA/headroom.db named by the
 * central's config (dashboards/users.h). Changes are audited as
 * "cli:LOGIN" and take effect in the running central at once. */
#ifndef HR_USER_CMD_H
#define HR_USER_CMD_H

/* Runs `headroom user ARGS...` (argv[0] is "user"). Returns the exit code:
 * 0, 1 runtime failure (the database, the user exists or does not), 2
 * usage, config or bad input (said on stderr). */
int user_cmd_main(int argc, char **argv);

#endif
