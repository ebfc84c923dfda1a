/* bond.h: the bond probe (one sample per Linux bonding master: how many
 * slaves it has, how many carry traffic, whether redundancy is lost), and its
 * pure /proc/net/bonding/BOND parser and sample builder, which unit tests and
 * the libFuzzer target call directly. */
#ifndef HR_PROBE_BOND_H
#define HR_PROBE_BOND_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"
#include "sample.h"

extern const struct probe probe_bond;

#define BOND_NAME_MAX 64    /* interface names (the kernel's IFNAMSIZ is 16) */
#define BOND_MODE_MAX 64
#define BOND_SLAVES_MAX 4096 /* slaves kept per bond; more are only counted */

struct bond_slave {
	char name[BOND_NAME_MAX];
	int mii_up;      /* 1: "up"; 0: any other status named; -1: not reported */
	int64_t agg_id;  /* 802.3ad aggregator ID, -1: not reported */
};

/* What one bond's status says. Fields the source does not give stay at the
 * values bond_info_init() sets. */
struct bond_info {
	char mode[BOND_MODE_MAX];         /* sysfs-style name ("active-backup",
					   * "802.3ad"), "" when not reported */
	char active_slave[BOND_NAME_MAX]; /* "" when none or not reported */
	int mii_up;                       /* the bond's own MII status, -1: unknown */
	int64_t active_agg;               /* 802.3ad active aggregator, -1: unknown */
	int slaves_known;                 /* the slave list was seen, even empty */
	struct bond_slave *slaves;
	size_t nslaves;
	size_t cap;
	unsigned dropped_slaves; /* slaves past BOND_SLAVES_MAX */
	unsigned skipped;        /* lines or values that could not be parsed */
	unsigned bad_line;       /* 1-based number of the first one, 0: none */
};

void bond_info_init(struct bond_info *b);
/* Frees the slaves and re-initialises b; b may be NULL. */
void bond_info_free(struct bond_info *b);

/* Appends a slave named [name, name+len) with unknown status. Returns its
 * index, or -1 when the name is not a valid interface name, or when memory
 * or BOND_SLAVES_MAX ran out (then it is counted in dropped_slaves). */
long bond_add_slave(struct bond_info *b, const char *name, size_t len);

/* Maps the mode text of /proc/net/bonding ("fault-tolerance (active-backup)")
 * or of sysfs bonding/mode ("active-backup 1") to the sysfs name written
 * into dst (size n); unknown text is copied as is (cut to n-1 bytes). */
void bond_mode_name(char *dst, size_t n, const char *s, size_t len);

/* Parses len bytes of /proc/net/bonding/BOND text (format: bond_main.c
 * bond_info_show_*, Documentation/networking/bonding.rst) into b, which must
 * be initialised. Keeps what it understood, counts what it did not in
 * skipped; never fails on input. Returns 0, or -1 when memory ran out. */
int bond_parse_proc(const char *buf, size_t len, struct bond_info *b);

/* Whether slave i carries traffic: 1, 0, or -1 when unknown. See bond.c. */
int bond_slave_up(const struct bond_info *b, size_t i);

/* Builds the "bond" sample for the bond name from b: values slaves,
 * slaves_up, degraded (the last two only when every slave's state is known),
 * labels mode and active_slave when known. Returns 0, or -1 when the slave
 * list is not known (then s holds no values and should not be reported). */
int bond_fill_sample(const struct bond_info *b, const char *name, struct hr_sample *s);

#endif
