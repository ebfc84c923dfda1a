/* agentstats.h: the agent's own health counters, updated by the scheduler,
 * spool and pusher threads and read by the `agent` probe. */
#ifndef HR_AGENTSTATS_H
#define HR_AGENTSTATS_H

#include <stdatomic.h>

struct hr_agent_stats {
	atomic_ullong samples;          /* samples taken since start */
	atomic_ullong batches_spooled;  /* batches waiting in the spool */
	atomic_ullong spool_bytes;      /* bytes in the spool */
	atomic_ullong push_latency_us;  /* latency of the last push */
	atomic_ullong dropped_samples;  /* samples lost: refused, or spool full */
	atomic_int pushing;             /* 1 once a pusher runs (values then mean something) */
};

#endif
