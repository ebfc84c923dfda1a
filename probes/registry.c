/* registry.c: the list of compiled-in probes. Adding a probe means one file
 * in probes/, one header line here and one entry below. */
#include "config.h"

#include <string.h>

#include "probe.h"

extern const struct probe probe_load, probe_cpu, probe_mem, probe_psi, probe_fs,
	probe_disk, probe_md, probe_net, probe_bond, probe_ups, probe_smart, probe_backup,
	probe_tls, probe_exec, probe_agent;

const struct probe *const probes[] = {
	&probe_load, &probe_cpu, &probe_mem, &probe_psi, &probe_fs,
	&probe_disk, &probe_md, &probe_net, &probe_bond,
	&probe_ups, &probe_smart, &probe_backup, &probe_tls, &probe_exec,
	&probe_agent,
	NULL,
};

const struct probe *probe_find(const char *name)
{
	size_t i;

	for (i = 0; probes[i] != NULL; i++)
		if (strcmp(probes[i]->name, name) == 0)
			return probes[i];
	return NULL;
}
