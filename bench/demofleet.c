/* demofleet.c: the demo fleet's samples (see demofleet.h). The everyday
 * probes come from fleetgen; each host's story is written here as a
 * function of rel = t - anchor (negative in the backfilled history), so
 * that the demo looks the same whenever it is started. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "demofleet.h"

#define DAY 86400.0
#define HOUR 3600.0
#define GB 1e9
#define TB 1e12

enum { H_DB1, H_NAS1, H_GW1, H_MGMT1, H_WEB1, H_APP1, H_WEB2, H_BACKUP1 };

static const char *const demofleet_names[DEMOFLEET_HOSTS] = {
	"db1", "nas1", "gw1", "mgmt1", "web1", "app1", "web2", "backup1",
};

/* fleetgen's host numbers of the demo hosts: away from fleetsim's own. */
#define DEMO_GEN_BASE 1000ul

/* The bond member of gw1 dies this long before the anchor. */
#define GW1_LINK_DOWN (6 * HOUR)

struct demo {
	uint64_t seed;
	unsigned long host;
	double anchor, t, rel;
};

const char *demofleet_host_name(unsigned long i)
{
	return i < DEMOFLEET_HOSTS ? demofleet_names[i] : NULL;
}

static double noise(const struct demo *d, unsigned k)
{
	return fleetgen_noise(d->seed, DEMO_GEN_BASE + d->host, (time_t)d->t, 500 + k);
}

/* The fraction of the day at t, shifted by off seconds: 0 at midnight. */
static double day_frac(double t, double off)
{
	double f = fmod(t + off, DAY);

	return (f < 0 ? f + DAY : f) / DAY;
}

/* Uniform in [-0.5, 0.5), one value a day: how busy the day was. */
static double day_noise(const struct demo *d, unsigned k)
{
	return fleetgen_noise(d->seed, DEMO_GEN_BASE + d->host, (time_t)(floor(d->t / DAY) * DAY),
			      600 + k) - 0.5;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* One fs sample; reserved is the fraction of size only root may use
 * (ext4's 5 %), which avail leaves out. */
static void fs_sample(struct hr_sample *s, const char *mount, const char *fstype,
		      const char *device, double size, double used, double reserved)
{
	double avail = size * (1 - reserved) - used;

	used = clamp(floor(used), 0, size);
	hr_sample_init(s, "fs", mount);
	hr_sample_set(s, "size", size);
	hr_sample_set(s, "used", used);
	hr_sample_set(s, "avail", floor(avail > 0 ? avail : 0));
	hr_sample_set(s, "inodes", floor(size / 16384));
	hr_sample_set(s, "inodes_used", floor(used / 262144));
	hr_sample_label(s, "fstype", fstype);
	hr_sample_label(s, "device", device);
}

/* "/": slow growth, years from full; "/var/log": grows through the day,
 * falls at the rotation just after midnight (steep on web2, mild
 * elsewhere, never near the 90 % threshold). */
static size_t gen_base_fs(const struct demo *d, struct hr_sample *s)
{
	double size = 50 * GB, days = (d->rel + 60 * DAY) / DAY, lo, hi, f;

	fs_sample(&s[0], "/", "ext4", "/dev/md0", size,
		  size * (0.30 + 0.02 * (double)d->host + 0.0004 * days) + 40e6 * noise(d, 1),
		  0.05);
	size = 20 * GB;
	lo = d->host == H_WEB2 ? 0.12 : 0.05;
	hi = d->host == H_WEB2 ? 0.80 : 0.25;
	f = day_frac(d->t, -600.0 - 60.0 * (double)d->host);
	fs_sample(&s[1], "/var/log", "ext4", "/dev/md0", size,
		  size * (lo + (hi - lo) * f) + 20e6 * noise(d, 2), 0.05);
	return 2;
}

/* db1's /srv/data (4 TB xfs): filled at 0.9 % a day for 35 days, cleaned
 * up to 10 % 25 days before now, since then filling at 3 % a day: full 5
 * days after now, and full it stays. */
static void gen_db1_data(const struct demo *d, struct hr_sample *s)
{
	double size = 4 * TB, frac;

	if (d->rel < -25 * DAY)
		frac = 0.80 - 0.009 * (-25 * DAY - d->rel) / DAY;
	else
		frac = 1.0 - 0.03 * (5 * DAY - d->rel) / DAY;
	frac += 0.003 * sin(2 * M_PI * day_frac(d->t, 0)) + 0.001 * noise(d, 3) +
		0.01 * day_noise(d, 1);
	fs_sample(s, "/srv/data", "xfs", "/dev/md1", size, size * clamp(frac, 0.05, 1.0), 0);
}

static void md_sample(struct hr_sample *s, const char *name, const char *level, double disks,
		      double failed, double sync, const char *action)
{
	hr_sample_init(s, "md", name);
	hr_sample_set(s, "disks", disks);
	hr_sample_set(s, "active", disks - failed);
	hr_sample_set(s, "failed", failed);
	hr_sample_set(s, "spare", 0);
	hr_sample_set(s, "missing", 0);
	hr_sample_set(s, "degraded", failed > 0 ? 1 : 0);
	hr_sample_set(s, "sync_percent", sync);
	hr_sample_label(s, "level", level);
	hr_sample_label(s, "state", failed > 0 ? "clean, degraded" :
			sync >= 0 ? "clean, checking" : "clean");
	hr_sample_label(s, "sync_action", action);
}

/* nas1's md1: RAID 6 of 6 disks; a monthly check 20 days ago (6 hours),
 * a member failed 2 days and 3 hours ago. */
static void gen_nas1_md1(const struct demo *d, struct hr_sample *s)
{
	double check = -20 * DAY, fail = -(2 * DAY + 3 * HOUR);

	if (d->rel >= check && d->rel < check + 6 * HOUR)
		md_sample(s, "md1", "raid6", 6, 0, floor(100 * (d->rel - check) / (6 * HOUR)),
			  "check");
	else
		md_sample(s, "md1", "raid6", 6, d->rel >= fail ? 1 : 0, -1, "idle");
}

/* nas1: a share growing slowly (about 160 days from full) and md1. */
static void gen_nas1(const struct demo *d, struct hr_sample *s)
{
	double size = 8 * TB;

	fs_sample(&s[0], "/srv/share", "xfs", "/dev/md1", size,
		  size * (0.55 + 0.002 * (d->rel + 60 * DAY) / DAY + 0.002 * day_noise(d, 2)), 0);
	gen_nas1_md1(d, &s[1]);
}

/* gw1: eth1, bond0's backup member, lost its carrier: link down, counters
 * frozen at that time. */
static void gen_gw1_link(const struct demo *d, struct hr_sample *eth1, struct hr_sample *s)
{
	struct hr_sample frozen[FLEETGEN_MAX_SAMPLES];
	size_t k;
	int down = d->rel >= -GW1_LINK_DOWN;

	if (down) {
		/* eth0 and eth1 at the time it went down */
		if (fleetgen_samples(d->seed, FLEETGEN_NET | FLEETGEN_SMOOTH,
				     DEMO_GEN_BASE + d->host, (time_t)(d->anchor - GW1_LINK_DOWN),
				     frozen) == 2)
			for (k = 0; k < frozen[1].nvalues; k++)
				hr_sample_set(eth1, frozen[1].values[k].name,
					      frozen[1].values[k].v);
		hr_sample_set(eth1, "up", 0);
		hr_sample_set(eth1, "carrier", 0);
	}
	hr_sample_init(s, "bond", "bond0");
	hr_sample_set(s, "slaves", 2);
	hr_sample_set(s, "slaves_up", down ? 1 : 2);
	hr_sample_set(s, "degraded", down ? 1 : 0);
	hr_sample_label(s, "mode", "active-backup");
	hr_sample_label(s, "active_slave", "eth0");
}

/* The battery's charge after m minutes on battery, and m minutes after
 * power came back from an outage that left it at c. */
static double ups_drain(double m)
{
	return clamp(100 - 1.2 * m, 35, 100);
}

static double ups_recharge(double c, double m)
{
	return clamp(c + 0.5 * m, 0, 100);
}

/* mgmt1 watches the rack's UPS: a 12-minute outage 20 days ago, and on
 * battery since 5 minutes before now. */
static void gen_mgmt1_ups(const struct demo *d, struct hr_sample *s)
{
	double o1 = -20 * DAY + 14 * HOUR, o1_len = 12 * 60, o2 = -300;
	double charge = 100, load = floor(28 + 4 * noise(d, 10));
	int ob = 0;
	const char *status = "OL";

	if (d->rel >= o2) {
		ob = 1;
		charge = ups_drain((d->rel - o2) / 60);
	} else if (d->rel >= o1 && d->rel < o1 + o1_len) {
		ob = 1;
		charge = ups_drain((d->rel - o1) / 60);
	} else if (d->rel >= o1 + o1_len) {
		charge = ups_recharge(ups_drain(o1_len / 60), (d->rel - o1 - o1_len) / 60);
	}
	if (ob)
		status = "OB DISCHRG";
	else if (charge < 100)
		status = "OL CHRG";
	charge = floor(charge);
	hr_sample_init(s, "ups", "rack1@localhost");
	hr_sample_set(s, "reachable", 1);
	hr_sample_set(s, "online", ob ? 0 : 1);
	hr_sample_set(s, "on_battery", ob);
	hr_sample_set(s, "low_battery", 0);
	hr_sample_set(s, "replace_battery", 0);
	hr_sample_set(s, "overload", 0);
	hr_sample_set(s, "charge_percent", charge);
	hr_sample_set(s, "runtime_s", floor(charge * 30 * 28 / load));
	hr_sample_set(s, "load_percent", load);
	hr_sample_set(s, "input_voltage", ob ? 0 : floor(2290 + 30 * noise(d, 11)) / 10);
	hr_sample_label(s, "status", status);
	hr_sample_label(s, "model", "Smart-UPS 1500");
}

static void tls_sample(const struct demo *d, struct hr_sample *s, const char *target,
		       double days, unsigned k)
{
	hr_sample_init(s, "tls", target);
	hr_sample_set(s, "expiry_days", floor(days * 10) / 10);
	hr_sample_set(s, "up", 1);
	hr_sample_set(s, "latency_ms", floor(180 + 60 * noise(d, k)) / 10);
}

/* web1: www's certificate expires 10 days after now (no renewal); api's
 * is renewed every 60 days for 90, so it never comes near. */
static size_t gen_web1_tls(const struct demo *d, struct hr_sample *s)
{
	double since = fmod(d->rel + 30 * DAY, 60 * DAY);

	tls_sample(d, &s[0], "www.example.org:443", (10 * DAY - d->rel) / DAY, 20);
	if (since < 0)
		since += 60 * DAY;
	tls_sample(d, &s[1], "api.example.org:443", 90 - since / DAY, 21);
	return 2;
}

/* app1: a 6-minute load burst every hour, the first covering now (so that
 * the backfill's last sample is one), later ones seen live. A burst lasts
 * longer than the archive's 5-minute step, so the detector, which takes
 * one sample a step, sees each. */
static void gen_app1_load(const struct demo *d, struct hr_sample *load)
{
	const struct hr_value *ncpu = hr_sample_get(load, "ncpu");
	double n = ncpu != NULL ? ncpu->v : 4, ph = d->rel + 240;

	if (ph < 0 || fmod(ph, HOUR) >= 360)
		return;
	hr_sample_set(load, "load1", n * (3.5 + 0.4 * noise(d, 30)));
	hr_sample_set(load, "load5", n * (1.8 + 0.2 * noise(d, 31)));
	hr_sample_set(load, "load15", n * (1.0 + 0.1 * noise(d, 32)));
	hr_sample_set(load, "procs_running", floor(n * 4 + 3 * noise(d, 33)));
}

/* backup1: "nightly" at 01:30 and "offsite" at 03:00 each day, a store
 * growing with them (about 130 days from full), two SMART disks. */
static size_t gen_backup1(const struct demo *d, struct hr_sample *s)
{
	static const char *const names[2] = { "nightly", "offsite" };
	static const char *const disks[2] = { "sda", "sdb" };
	double at[2] = { 1.5 * HOUR, 3 * HOUR }, size = 10 * TB, days = (d->rel + 60 * DAY) / DAY;
	size_t i;

	fs_sample(&s[0], "/srv/backup", "xfs", "/dev/sdc1", size,
		  size * (0.40 + 0.0035 * days + 0.002 * day_frac(d->t, -1.5 * HOUR) +
			  0.003 * day_noise(d, 3)), 0);
	for (i = 0; i < 2; i++) {
		double age = day_frac(d->t, -at[i]) * DAY;

		hr_sample_init(&s[1 + i], "backup", names[i]);
		hr_sample_set(&s[1 + i], "age_s", floor(age));
		hr_sample_set(&s[1 + i], "size_bytes",
			      floor((i == 0 ? 180 : 60) * GB * (1 + 0.004 * floor(days))));
		hr_sample_set(&s[1 + i], "ok", age < 26 * HOUR ? 1 : 0);
	}
	for (i = 0; i < 2; i++) {
		hr_sample_init(&s[3 + i], "smart", disks[i]);
		hr_sample_set(&s[3 + i], "healthy", 1);
		hr_sample_set(&s[3 + i], "temperature_c",
			      floor(33 + 4 * sin(2 * M_PI * day_frac(d->t, -8 * HOUR)) +
				    (double)i + noise(d, 40 + (unsigned)i)));
		hr_sample_set(&s[3 + i], "reallocated", 0);
		hr_sample_set(&s[3 + i], "pending", 0);
		hr_sample_set(&s[3 + i], "power_on_hours",
			      floor(21000 + 3000 * (double)i + (d->t - 1.7e9) / HOUR));
	}
	return 5;
}

size_t demofleet_samples(uint64_t seed, unsigned long i, time_t anchor, time_t t,
			 struct hr_sample *out)
{
	struct demo d;
	size_t n, k;

	if (i >= DEMOFLEET_HOSTS)
		return 0;
	d.seed = seed;
	d.host = i;
	d.anchor = (double)anchor;
	d.t = (double)t;
	d.rel = d.t - d.anchor;
	/* load, cpu, mem, net eth0 and eth1, disk sda and sdb: 7 */
	n = fleetgen_samples(seed, FLEETGEN_LOAD | FLEETGEN_CPU | FLEETGEN_MEM | FLEETGEN_NET |
			     FLEETGEN_DISK | FLEETGEN_SMOOTH, DEMO_GEN_BASE + i, t, out);
	n += gen_base_fs(&d, &out[n]);
	md_sample(&out[n++], "md0", "raid1", 2, 0, -1, "idle");
	switch (i) {
	case H_DB1: gen_db1_data(&d, &out[n++]); break;
	case H_NAS1: gen_nas1(&d, &out[n]); n += 2; break;
	case H_GW1: gen_gw1_link(&d, &out[4], &out[n++]); break;
	case H_MGMT1: gen_mgmt1_ups(&d, &out[n++]); break;
	case H_WEB1: n += gen_web1_tls(&d, &out[n]); break;
	case H_APP1: gen_app1_load(&d, &out[0]); break;
	case H_BACKUP1: n += gen_backup1(&d, &out[n]); break;
	default: break;
	}
	for (k = 0; k < n; k++)
		out[k].t = t;
	return n;
}
