/* demofleet.h: the fleet of `fleetsim --demo` (`./quickstart demo` and the
 * dashboards' end-to-end test): eight named hosts, each telling one story
 * headroom is there to see, told relative to an anchor time (the demo's
 * "now", the end of its backfill), whatever the day the demo runs:
 *   db1      /srv/data cleaned up 25 days ago, full about 5 days after now
 *   nas1     RAID 6 md1 degraded for 2 days (a resync check 20 days ago)
 *   gw1      bond0 with a dead member: eth1 lost its carrier 6 hours ago
 *   mgmt1    the rack's UPS on battery since 5 minutes before now (and a
 *            short outage 20 days ago)
 *   web1     www.example.org's certificate expires 10 days after now
 *   app1     load spikes: a 6-minute burst every hour, one at now
 *   web2     a steep daily sawtooth on /var/log (rotation), never alerting
 *   backup1  nightly and off-site backups, SMART disks, a growing store
 * Every host also has load, cpu, mem, net, disk (from fleetgen), "/" and a
 * mild /var/log sawtooth, and a healthy RAID 1 md0. Values are a pure
 * function of (seed, host, anchor, t); names are DESIGN.md's. */
#ifndef HR_DEMOFLEET_H
#define HR_DEMOFLEET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fleetgen.h"
#include "sample.h"

#define DEMOFLEET_HOSTS 8
/* Samples one demo host gives per interval, at most (fleetsim's scratch is
 * sized for FLEETGEN_MAX_SAMPLES). */
#define DEMOFLEET_MAX_SAMPLES FLEETGEN_MAX_SAMPLES

/* The name of demo host i (0-based), or NULL when i >= DEMOFLEET_HOSTS. */
const char *demofleet_host_name(unsigned long i);

/* The samples of demo host i at time t, anchor being the demo's now, into
 * out (room for DEMOFLEET_MAX_SAMPLES); returns how many (0 when i is out
 * of range). Counters never go back between two times of one host. */
size_t demofleet_samples(uint64_t seed, unsigned long i, time_t anchor, time_t t,
			 struct hr_sample *out);

#endif
