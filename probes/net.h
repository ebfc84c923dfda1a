/* net.h: the net probe (one sample per network interface: link state,
 * speed and traffic counters from /sys/class/net and /proc/net/dev), and its
 * pure /proc/net/dev parser, which unit tests call directly. */
#ifndef HR_PROBE_NET_H
#define HR_PROBE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "probe.h"

extern const struct probe probe_net;

/* Longest interface name kept (the kernel's IFNAMSIZ is 16 with the NUL;
 * the headroom is for odd captures). Longer names are skipped. */
#define NET_NAME_MAX 64

/* The counters of one /proc/net/dev line that the probe reports. */
struct net_dev_row {
	char name[NET_NAME_MAX];
	uint64_t rx_bytes, rx_errors, rx_dropped;
	uint64_t tx_bytes, tx_errors, tx_dropped;
};

/* All interface lines of one /proc/net/dev, in file order. */
struct net_dev {
	struct net_dev_row *rows;
	size_t count;
	size_t cap;
	unsigned skipped;  /* lines that were neither headers nor whole rows */
	unsigned bad_line; /* 1-based number of the first skipped line, 0: none */
};

void net_dev_init(struct net_dev *d);
/* Frees the rows; d may be NULL. d can be parsed into again after. */
void net_dev_free(struct net_dev *d);

/* Parses len bytes of /proc/net/dev text into d (which must be initialised;
 * rows are appended). A row is taken only when its name is sane and all 16
 * counters parse; anything else is skipped and counted, so a garbled or
 * truncated line never yields a made-up number. A name seen twice keeps its
 * first row. Returns 0, or -1 when memory ran out (d keeps what it had). */
int net_dev_parse(const char *buf, size_t len, struct net_dev *d);

/* The row of interface name, or NULL. Borrowed from d. */
const struct net_dev_row *net_dev_find(const struct net_dev *d, const char *name);

#endif
