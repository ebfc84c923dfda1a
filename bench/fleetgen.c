/* fleetgen.c: the simulated fleet's samples (see fleetgen.h). Randomness is
 * a hash (splitmix64) of seed, host, time and the value's own number, never
 * a stream, so that any sample can be computed alone. A counter is a closed
 * form: a base rate plus a daily-cycle rate, integrated from FLEETGEN_T0,
 * plus a jitter worth a quarter of a second of the base rate at most (the
 * slowest rate is above that), so two samples one second or more apart never
 * go back. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fleetgen.h"
#include "util.h"
#include "wire.h"

#define DAY 86400.0
#define GIB 1073741824.0
/* Counters start at this time (2023-11-14), so that they hold values of a
 * machine that has been up a while. */
#define FLEETGEN_T0 1700000000.0

static const struct {
	const char *name;
	unsigned bit;
} fleetgen_probes[] = {
	{ "load", FLEETGEN_LOAD }, { "cpu", FLEETGEN_CPU }, { "mem", FLEETGEN_MEM },
	{ "fs", FLEETGEN_FS }, { "net", FLEETGEN_NET }, { "disk", FLEETGEN_DISK },
	{ "md", FLEETGEN_MD }, { "ups", FLEETGEN_UPS }, { "bond", FLEETGEN_BOND },
};

int fleetgen_parse_probes(const char *list, unsigned *mask, struct hr_err *err)
{
	const char *p = list;
	size_t i, len;

	*mask = 0;
	while (*p != '\0') {
		len = strcspn(p, ",");
		if (len == 0) {
			/* "a,,b" and a trailing comma: nothing between */
		} else if (len == 3 && strncmp(p, "all", 3) == 0) {
			*mask |= FLEETGEN_ALL;
		} else {
			for (i = 0; i < sizeof(fleetgen_probes) / sizeof(fleetgen_probes[0]); i++)
				if (strlen(fleetgen_probes[i].name) == len &&
				    strncmp(p, fleetgen_probes[i].name, len) == 0)
					break;
			if (i == sizeof(fleetgen_probes) / sizeof(fleetgen_probes[0]))
				return hr_err_set(err, "unknown probe \"%.*s\" (load, cpu, mem, fs, net, "
						  "disk, md, ups, bond or all)", (int)len, p);
			*mask |= fleetgen_probes[i].bit;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (*mask == 0)
		return hr_err_set(err, "no probe named");
	return 0;
}

int fleetgen_prefix_valid(const char *prefix)
{
	size_t i, n = strlen(prefix);

	if (n == 0 || n > FLEETGEN_PREFIX_MAX || prefix[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = prefix[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

void fleetgen_host_name(char *dst, size_t n, const char *prefix, unsigned long i)
{
	snprintf(dst, n, "%s%04lu", prefix, i + 1);
}

int fleetgen_token(uint64_t seed, const char *host, char *hex, unsigned char *sum)
{
	char text[HR_HOST_MAX + 48];
	unsigned char tok[32];
	int len;

	len = snprintf(text, sizeof(text), "fleetsim:%llu:%s", (unsigned long long)seed, host);
	if (len < 0 || (size_t)len >= sizeof(text))
		return -1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, (size_t)len, tok) < 0)
		return -1;
	hr_hex(hex, tok, sizeof(tok));
	/* As the central sees it: the hash of the token's hex text. */
	if (sum != NULL && gnutls_hash_fast(GNUTLS_DIG_SHA256, hex, 64, sum) < 0)
		return -1;
	return 0;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The generator of one host at one time: its hash inputs and its profile. */
struct gen {
	uint64_t seed;
	unsigned long host;
	double t;
	uint64_t hkey;  /* seed and host mixed */
	unsigned ncpu;
	double mem_total;
	double phase;   /* the host's daily-cycle offset, radians */
	double busy;    /* how loaded the host is, 0.1 .. 0.6 */
	int smooth;     /* FLEETGEN_SMOOTH: counters without jitter or rounding */
};

/* Uniform in [0, 1): a property of the host when t is ignored (k only). */
static double host_u(const struct gen *g, unsigned k)
{
	return (double)(mix(g->hkey ^ mix(k)) >> 11) / 9007199254740992.0;
}

/* Uniform in [0, 1) for value k at time t. */
static double noise(const struct gen *g, double t, unsigned k)
{
	return (double)(mix(g->hkey ^ mix((uint64_t)(int64_t)t * 1315423911u + k)) >> 11) /
	       9007199254740992.0;
}

/* The daily cycle, 0 .. 1, peaking in the afternoon (with the host's
 * offset). */
static double day(const struct gen *g, double t)
{
	return 0.5 + 0.5 * sin(2.0 * M_PI * t / DAY + g->phase);
}

/* The integral of day() from FLEETGEN_T0 to t. */
static double day_integral(const struct gen *g, double t)
{
	double w = 2.0 * M_PI / DAY;

	return 0.5 * (t - FLEETGEN_T0) -
	       0.5 / w * (cos(w * t + g->phase) - cos(w * FLEETGEN_T0 + g->phase));
}

/* A counter growing at base + cyc * day() per second (base > 0, and
 * base + cyc above base / 4), with its jitter. */
static double counter(const struct gen *g, double base, double cyc, unsigned k)
{
	return base * (g->t - FLEETGEN_T0) + cyc * day_integral(g, g->t) +
	       (g->smooth ? 0 : 0.25 * base * noise(g, g->t, k));
}

static double utilisation(const struct gen *g, double t)
{
	return g->busy * (0.3 + 1.2 * day(g, t)) * (0.9 + 0.2 * noise(g, t, 1));
}

static void gen_load(const struct gen *g, struct hr_sample *s)
{
	double n = g->ncpu;

	hr_sample_init(s, "load", "");
	hr_sample_set(s, "load1", n * utilisation(g, g->t));
	hr_sample_set(s, "load5", n * utilisation(g, g->t - 150));
	hr_sample_set(s, "load15", n * utilisation(g, g->t - 450));
	hr_sample_set(s, "ncpu", n);
	hr_sample_set(s, "procs_running", floor(1 + n * utilisation(g, g->t)));
	hr_sample_set(s, "procs_total", floor(120 + 200 * host_u(g, 2) + 30 * noise(g, g->t, 2)));
}

/* CPU seconds in USER_HZ ticks, as /proc/stat gives them. */
static double ticks(const struct gen *g, double seconds)
{
	return g->smooth ? seconds : floor(seconds * 100.0) / 100.0;
}

/* A counter of whole units (bytes, operations, milliseconds). */
static double whole(const struct gen *g, double v)
{
	return g->smooth ? v : floor(v);
}

static void gen_cpu(const struct gen *g, struct hr_sample *s)
{
	double n = g->ncpu, b = g->busy;

	/* Busy time follows the daily cycle; idle is the rest of n CPU
	 * seconds per second: n - busy rates, integrated alike. */
	hr_sample_init(s, "cpu", "");
	hr_sample_set(s, "user", ticks(g, counter(g, n * b * 0.2, n * b * 0.5, 10)));
	hr_sample_set(s, "nice", ticks(g, counter(g, n * 0.001, 0, 11)));
	hr_sample_set(s, "system", ticks(g, counter(g, n * b * 0.06, n * b * 0.15, 12)));
	hr_sample_set(s, "idle", ticks(g, counter(g, n * (1 - b * 0.3), -n * b * 0.7, 13)));
	hr_sample_set(s, "iowait", ticks(g, counter(g, n * b * 0.01, n * b * 0.03, 14)));
	hr_sample_set(s, "irq", ticks(g, counter(g, n * 0.002, 0, 15)));
	hr_sample_set(s, "softirq", ticks(g, counter(g, n * 0.004, n * b * 0.01, 16)));
	hr_sample_set(s, "steal", ticks(g, counter(g, n * 0.0005, 0, 17)));
}

static void gen_mem(const struct gen *g, struct hr_sample *s)
{
	double total = g->mem_total;
	double used = total * (0.25 + 0.3 * day(g, g->t) * g->busy * 2 + 0.05 * noise(g, g->t, 20));

	hr_sample_init(s, "mem", "");
	hr_sample_set(s, "total", total);
	hr_sample_set(s, "available", floor(total - used));
	hr_sample_set(s, "used", floor(used));
	hr_sample_set(s, "swap_total", 2 * GIB);
	hr_sample_set(s, "swap_used", floor(GIB * 0.05 * (1 + host_u(g, 21)) + 4096 * noise(g, g->t, 21)));
}

static void fs_values(struct hr_sample *s, double size, double used)
{
	hr_sample_set(s, "size", size);
	hr_sample_set(s, "used", floor(used));
	hr_sample_set(s, "avail", floor(size * 0.95 - used > 0 ? size * 0.95 - used : 0));
	hr_sample_set(s, "inodes", floor(size / 16384));
	hr_sample_set(s, "inodes_used", floor(used / 65536));
}

static size_t gen_fs(const struct gen *g, struct hr_sample *s)
{
	double t = g->t, size, used, period, frac;

	/* "/": flat, a little noise. */
	hr_sample_init(&s[0], "fs", "/");
	size = 50e9;
	fs_values(&s[0], size, size * (0.2 + 0.2 * host_u(g, 30)) + 50e6 * noise(g, t, 30));
	hr_sample_label(&s[0], "fstype", "ext4");
	hr_sample_label(&s[0], "device", "/dev/md0");

	/* "/var/log": grows through the day, falls at the nightly rotation. */
	hr_sample_init(&s[1], "fs", "/var/log");
	size = 20e9;
	frac = fmod(t + 86400.0 * host_u(g, 31), DAY) / DAY;
	fs_values(&s[1], size, size * (0.05 + 0.25 * frac) + 10e6 * noise(g, t, 31));
	hr_sample_label(&s[1], "fstype", "ext4");
	hr_sample_label(&s[1], "device", "/dev/md1");

	/* "/srv": fills steadily over weeks (30-120 days from 40 % to 98 %),
	 * then is cleaned up and fills again. */
	hr_sample_init(&s[2], "fs", "/srv");
	size = 2e12;
	period = DAY * (30 + 90 * host_u(g, 32));
	frac = fmod(t - FLEETGEN_T0 + period * host_u(g, 33), period) / period;
	used = size * (0.4 + 0.58 * frac) + 100e6 * noise(g, t, 32);
	fs_values(&s[2], size, used);
	hr_sample_label(&s[2], "fstype", "xfs");
	hr_sample_label(&s[2], "device", "/dev/sdb1");
	return 3;
}

static size_t gen_net(const struct gen *g, struct hr_sample *s)
{
	static const char *const ifs[2] = { "eth0", "eth1" };
	size_t i;

	for (i = 0; i < 2; i++) {
		double scale = (i == 0 ? 2e6 : 2e5) * (0.5 + host_u(g, 40 + (unsigned)i)) * g->busy * 4;
		unsigned k = 40 + 10 * (unsigned)i;

		hr_sample_init(&s[i], "net", ifs[i]);
		hr_sample_set(&s[i], "up", 1);
		hr_sample_set(&s[i], "carrier", 1);
		hr_sample_set(&s[i], "speed_mbps", i == 0 ? 10000 : 1000);
		hr_sample_set(&s[i], "rx_bytes", whole(g, counter(g, scale * 0.3, scale * 1.4, k)));
		hr_sample_set(&s[i], "tx_bytes", whole(g, counter(g, scale * 0.2, scale * 0.8, k + 1)));
		hr_sample_set(&s[i], "rx_errors", whole(g, counter(g, 1e-5, 0, k + 2)));
		hr_sample_set(&s[i], "tx_errors", 0);
		hr_sample_set(&s[i], "rx_dropped", whole(g, counter(g, 1e-3, 2e-3, k + 3)));
		hr_sample_set(&s[i], "tx_dropped", 0);
	}
	return 2;
}

static size_t gen_disk(const struct gen *g, struct hr_sample *s)
{
	static const char *const devs[2] = { "sda", "sdb" };
	size_t i;

	for (i = 0; i < 2; i++) {
		double scale = (i == 0 ? 1e6 : 4e6) * g->busy;
		unsigned k = 60 + 10 * (unsigned)i;

		hr_sample_init(&s[i], "disk", devs[i]);
		hr_sample_set(&s[i], "read_bytes", whole(g, counter(g, scale * 0.5, scale * 2, k)));
		hr_sample_set(&s[i], "write_bytes", whole(g, counter(g, scale * 0.8, scale, k + 1)));
		hr_sample_set(&s[i], "reads", whole(g, counter(g, scale / 8192, scale / 4096, k + 2)));
		hr_sample_set(&s[i], "writes", whole(g, counter(g, scale / 4096, scale / 8192, k + 3)));
		hr_sample_set(&s[i], "io_ms", whole(g, counter(g, 2 * g->busy, 20 * g->busy, k + 4)));
	}
	return 2;
}

static void gen_md(const struct gen *g, struct hr_sample *s)
{
	/* One host in 40 runs with a failed disk. */
	int degraded = host_u(g, 80) < 0.025;

	hr_sample_init(s, "md", "md0");
	hr_sample_set(s, "disks", 2);
	hr_sample_set(s, "active", degraded ? 1 : 2);
	hr_sample_set(s, "failed", degraded ? 1 : 0);
	hr_sample_set(s, "spare", 0);
	hr_sample_set(s, "missing", degraded ? 1 : 0);
	hr_sample_set(s, "degraded", degraded);
	hr_sample_set(s, "sync_percent", -1);
	hr_sample_label(s, "level", "raid1");
	hr_sample_label(s, "state", degraded ? "clean, degraded" : "clean");
	hr_sample_label(s, "sync_action", "idle");
}

static void gen_ups(const struct gen *g, struct hr_sample *s)
{
	hr_sample_init(s, "ups", "ups@localhost");
	hr_sample_set(s, "reachable", 1);
	hr_sample_set(s, "online", 1);
	hr_sample_set(s, "on_battery", 0);
	hr_sample_set(s, "low_battery", 0);
	hr_sample_set(s, "replace_battery", 0);
	hr_sample_set(s, "overload", 0);
	hr_sample_set(s, "charge_percent", 100);
	hr_sample_set(s, "runtime_s", floor(2400 - 900 * day(g, g->t) + 60 * noise(g, g->t, 90)));
	hr_sample_set(s, "load_percent", floor(20 + 25 * day(g, g->t) + 3 * noise(g, g->t, 91)));
	hr_sample_set(s, "input_voltage", 228 + 4 * noise(g, g->t, 92));
	hr_sample_label(s, "status", "OL");
	hr_sample_label(s, "model", "Smart-UPS 1500");
}

static void gen_bond(struct hr_sample *s)
{
	hr_sample_init(s, "bond", "bond0");
	hr_sample_set(s, "slaves", 2);
	hr_sample_set(s, "slaves_up", 2);
	hr_sample_set(s, "degraded", 0);
	hr_sample_label(s, "mode", "active-backup");
	hr_sample_label(s, "active_slave", "eth0");
}

double fleetgen_noise(uint64_t seed, unsigned long i, time_t t, unsigned k)
{
	struct gen g;

	g.hkey = mix(seed ^ mix((uint64_t)i + 0x100000000ULL));
	return noise(&g, (double)t, k);
}

size_t fleetgen_samples(uint64_t seed, unsigned mask, unsigned long i, time_t t,
			struct hr_sample *out)
{
	static const unsigned cpus[] = { 2, 4, 4, 8, 8, 16, 32 };
	struct gen g;
	size_t n = 0, k;

	g.seed = seed;
	g.host = i;
	g.t = (double)t;
	g.hkey = mix(seed ^ mix((uint64_t)i + 0x100000000ULL));
	g.ncpu = cpus[(size_t)(host_u(&g, 0) * (sizeof(cpus) / sizeof(cpus[0])))];
	g.mem_total = GIB * g.ncpu * (host_u(&g, 3) < 0.5 ? 2 : 4);
	g.phase = 2.0 * M_PI * (0.55 + 0.1 * host_u(&g, 4));
	g.busy = 0.1 + 0.5 * host_u(&g, 5);
	g.smooth = (mask & FLEETGEN_SMOOTH) != 0;

	if (mask & FLEETGEN_LOAD)
		gen_load(&g, &out[n++]);
	if (mask & FLEETGEN_CPU)
		gen_cpu(&g, &out[n++]);
	if (mask & FLEETGEN_MEM)
		gen_mem(&g, &out[n++]);
	if (mask & FLEETGEN_FS)
		n += gen_fs(&g, &out[n]);
	if (mask & FLEETGEN_NET)
		n += gen_net(&g, &out[n]);
	if (mask & FLEETGEN_DISK)
		n += gen_disk(&g, &out[n]);
	if (mask & FLEETGEN_MD)
		gen_md(&g, &out[n++]);
	if ((mask & FLEETGEN_UPS) && i % 10 == 0)
		gen_ups(&g, &out[n++]);
	if ((mask & FLEETGEN_BOND) && i % 4 == 1)
		gen_bond(&out[n++]);
	for (k = 0; k < n; k++)
		out[k].t = t;
	return n;
}
