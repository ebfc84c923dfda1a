/* ups.h: the ups probe. One sample per configured UPS, from NUT's upsd
 * (ups_nut.c) or apcupsd's NIS server (ups_apcupsd.c), with reachable 0 and
 * nothing else when the daemon cannot be asked within the timeouts. */
#ifndef HR_PROBE_UPS_H
#define HR_PROBE_UPS_H

#include "probe.h"

extern const struct probe probe_ups;

#define UPS_TIMEOUT_DEFAULT 2.0    /* seconds, connect and read each */
#define UPS_TIMEOUT_MAX 30.0
#define UPS_MAX_BYTES_DEFAULT 65536
#define UPS_TARGETS_MAX 64

#endif
