/* main.c: headroom, the operator's command.
 * `headroom token new HOST` makes a random 32-byte token for HOST's agent
 * and prints it, with the line that the central's "hosts" takes: the
 * central keeps only the token's SHA-256.
 * `headroom backtest ...` replays a series through the analyzer's
 * detectors (backtest.c).
 * `headroom alerts|ack|silence ...` show and act on the central's alerts
 * (alerts_cmd.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "alerts_cmd.h"
#include "user_cmd.h"
#include "backtest.h"
#include "util.h"
#include "wire.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headroom token new HOST\n"
		"       headroom backtest (--csv FILE | --rrd FILE [--ds NAME] [--cf AVERAGE|MAX]\n"
		"                          [--start T] [--end T])\n"
		"                         (--detector spike|forecast [--capacity N] [--horizon DURATION]\n"
		"                          | --rules FILE [--probe P] [--instance I] [--value NAME])\n"
		"       headroom alerts [-c CENTRAL_CONFIG] [--all] [--json]\n"
		"       headroom ack ID --by NAME [--comment TEXT] [-c CENTRAL_CONFIG]\n"
		"       headroom silence add --match LABEL=GLOB[,...] (--for DURATION|--until TIME)\n"
		"                            --by NAME [--comment TEXT] [-c CENTRAL_CONFIG]\n"
		"       headroom silence list [--all] [--json] [-c CENTRAL_CONFIG]\n"
		"       headroom silence expire ID --by NAME [-c CENTRAL_CONFIG]\n"
		"       headroom user add NAME --role viewer|operator|admin [--password-stdin]\n"
		"                         [-c CENTRAL_CONFIG]\n"
		"       headroom user del|passwd|token NAME [--password-stdin] [--label LABEL]\n"
		"                         [-c CENTRAL_CONFIG]\n"
		"       headroom user list [-c CENTRAL_CONFIG]\n"
		"\n"
		"  token new HOST   print a new token for HOST's agent (line 1) and the\n"
		"                   entry for \"hosts\" in central.json (line 2)\n"
		"  backtest         replay a series through the analyzer, one JSON line\n"
		"                   per alert event\n"
		"  alerts           list the central's open alerts (--all: also ended ones)\n"
		"  ack, silence     acknowledge an alert; add, list or expire a silence\n"
		"  user             manage the dashboards' users and their API tokens\n");
}

static int token_new(const char *host)
{
	unsigned char tok[32], sum[32];
	char tok_hex[65], sum_hex[65];
	size_t got = 0;

	if (!hr_host_valid(host)) {
		fprintf(stderr, "headroom: \"%s\" is not a valid host name (letters, digits, '-', '.'; at most 253)\n", host);
		return 2;
	}
	while (got < sizeof(tok)) {
		ssize_t r = getrandom(tok + got, sizeof(tok) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "headroom: getrandom: %s\n", strerror(errno));
			return 1;
		}
		got += (size_t)r;
	}
	hr_hex(tok_hex, tok, sizeof(tok));
	/* The hash is over the token as the agent sends it: the hex text. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, tok_hex, strlen(tok_hex), sum) < 0) {
		fprintf(stderr, "headroom: cannot compute SHA-256\n");
		return 1;
	}
	hr_hex(sum_hex, sum, sizeof(sum));
	printf("%s\n\"%s\": {\"token_sha256\": \"%s\"}\n", tok_hex, host, sum_hex);
	fprintf(stderr, "headroom: line 1 is %s's token (\"token\" in its agent.json \"central\" entry);\n"
		"headroom: add line 2 to \"hosts\" in central.json and send the central SIGHUP\n", host);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("headroom %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "backtest") == 0)
		return backtest_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "alerts") == 0 || strcmp(argv[1], "ack") == 0 ||
			  strcmp(argv[1], "silence") == 0))
		return alerts_cmd_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "user") == 0)
		return user_cmd_main(argc - 1, argv + 1);
	if (argc == 4 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "new") == 0)
		return token_new(argv[3]);
	usage(stderr);
	return 2;
}
