/* alerts_cmd.h: `headroom alerts`, `headroom ack` and `headroom silence`:
 * the operator's view of and actions on the central's alerts, in the
 * SQLite file DATA/headroom.db named by the central's config (alerts.h).
 * The running central reads acks and silences made here on its next tick. */
#ifndef HR_ALERTS_CMD_H
#define HR_ALERTS_CMD_H

/* Runs `headroom alerts|ack|silence ARGS...` (argv[0] is the command).
 * Returns the exit code: 0, 1 runtime failure (the database, no such alert
 * or silence), 2 usage or config error (said on stderr). */
int alerts_cmd_main(int argc, char **argv);

#endif
