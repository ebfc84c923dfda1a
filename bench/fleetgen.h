/* fleetgen.h: the simulated fleet of bench/fleetsim and bench/rrdraw. Every
 * value is a pure function of (seed, host index, time), so that two programs
 * (or two runs) given the same seed produce the same samples: the load test
 * recomputes what it posted, and the ingest bench writes the very samples
 * through the central, raw librrd and rrdcached. Metric names are DESIGN.md's;
 * levels follow daily cycles with noise, counters grow with them and never
 * go back. */
#ifndef HR_FLEETGEN_H
#define HR_FLEETGEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "sample.h"

/* The probes a simulated host has, as bits of a mask. */
enum {
	FLEETGEN_LOAD = 1u << 0,
	FLEETGEN_CPU = 1u << 1,
	FLEETGEN_MEM = 1u << 2,
	FLEETGEN_FS = 1u << 3,   /* "/" flat, "/var/log" sawtooth, "/srv" filling */
	FLEETGEN_NET = 1u << 4,  /* eth0, eth1 */
	FLEETGEN_DISK = 1u << 5, /* sda, sdb */
	FLEETGEN_MD = 1u << 6,   /* md0; a few hosts degraded */
	FLEETGEN_UPS = 1u << 7,  /* every 10th host */
	FLEETGEN_BOND = 1u << 8, /* every 4th host */
	FLEETGEN_ALL = (1u << 9) - 1,
	/* Not a probe: counters without their jitter and rounding, so that
	 * rates over a few seconds are as steady as over minutes (the demo
	 * backfills at 5 minutes and goes on live every 10 s). */
	FLEETGEN_SMOOTH = 1u << 9,
};

/* Samples one host gives per interval, at most. */
#define FLEETGEN_MAX_SAMPLES 16
/* Host names: PREFIX + a number of at least 4 digits; the prefix is capped
 * so that every name stays a valid host name. */
#define FLEETGEN_PREFIX_MAX 32
#define FLEETGEN_TOKEN_HEX 65 /* 64 hex digits and the NUL */

/* Parses a comma-separated list of the probe names above ("load,cpu",
 * "all") into *mask. -1 (err filled) on an unknown name or an empty list. */
int fleetgen_parse_probes(const char *list, unsigned *mask, struct hr_err *err);

/* Is prefix usable for host names (1-32 of letters, digits and '-', not
 * starting with '-')? */
int fleetgen_prefix_valid(const char *prefix);

/* The name of host i (0-based) of a fleet: "sim0001" for i 0 with prefix
 * "sim". dst of at least FLEETGEN_PREFIX_MAX + 21 bytes. */
void fleetgen_host_name(char *dst, size_t n, const char *prefix, unsigned long i);

/* The host's token: 64 hex digits of SHA-256("fleetsim:SEED:HOST"), into
 * hex (FLEETGEN_TOKEN_HEX bytes); sum, when not NULL, gets the SHA-256 of
 * that token text (32 bytes), what the central's token_sha256 holds. 0, or
 * -1 when GnuTLS fails. */
int fleetgen_token(uint64_t seed, const char *host, char *hex, unsigned char *sum);

/* Uniform in [0, 1) for value k of host i at time t: the generator's own
 * noise, for scenarios built on top of it (demofleet.c). */
double fleetgen_noise(uint64_t seed, unsigned long i, time_t t, unsigned k);

/* The samples of host i at time t (the probes of mask the host has), into
 * out (room for FLEETGEN_MAX_SAMPLES); returns how many. t is the sample's
 * time; counters are consistent across any times of one host (t2 > t1 by at
 * least one interval gives larger or equal counters). */
size_t fleetgen_samples(uint64_t seed, unsigned mask, unsigned long i, time_t t,
			struct hr_sample *out);

#endif
