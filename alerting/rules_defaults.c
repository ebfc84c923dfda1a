/* rules_defaults.c: the built-in rules (29 of them) as JSON text, and
 * their parse into a rule set: the defaults go through the very parser a
 * rules file does (rules_parse_doc), so a default can never be a rule that
 * a user could not have written. */
#include "config.h"

#include <stdlib.h>

#include "cfg.h"
#include "rules.h"
#include "rules_int.h"

/* --- the defaults ---------------------------------------------------------- */

/* The list. Lost redundancy carries "redundancy" (raid, network,
 * power, server) so that it is routed and reported as one class. */
static const char defaults_json[] =
"{\"rules\": ["
"{\"name\": \"md_degraded\", \"match\": {\"probe\": \"md\"}, \"value\": \"degraded\","
" \"op\": \">=\", \"critical\": 1, \"labels\": {\"redundancy\": \"raid\"},"
" \"summary\": \"{host}: RAID {instance} degraded\"},"
"{\"name\": \"md_failed_member\", \"match\": {\"probe\": \"md\"}, \"value\": \"failed\","
" \"op\": \">\", \"warning\": 0, \"labels\": {\"redundancy\": \"raid\"},"
" \"summary\": \"{host}: RAID {instance} has {value} failed member(s)\"},"
"{\"name\": \"md_sync\", \"match\": {\"probe\": \"md\"}, \"value\": \"sync_percent\","
" \"op\": \">=\", \"warning\": 0, \"severity\": \"info\", \"route\": \"none\","
" \"labels\": {\"redundancy\": \"raid\"},"
" \"summary\": \"{host}: RAID {instance} resync or check running, {value}% done\"},"
"{\"name\": \"bond_degraded\", \"match\": {\"probe\": \"bond\"}, \"value\": \"degraded\","
" \"op\": \">=\", \"warning\": 1, \"labels\": {\"redundancy\": \"network\"},"
" \"summary\": \"{host}: bond {instance} degraded (a member link is down)\"},"
"{\"name\": \"link_carrier_lost\", \"match\": {\"probe\": \"net\"}, \"value\": \"carrier\","
" \"detector\": \"change\", \"change\": \"fell\", \"reset\": \"7d\","
" \"labels\": {\"redundancy\": \"network\"},"
" \"summary\": \"{host}: link {instance} lost carrier\"},"
"{\"name\": \"link_speed_dropped\", \"match\": {\"probe\": \"net\"},"
" \"value\": \"speed_mbps\", \"detector\": \"change\", \"change\": \"drop\","
" \"min_delta\": 1, \"reset\": \"7d\", \"labels\": {\"redundancy\": \"network\"},"
" \"summary\": \"{host}: link {instance} speed dropped to {value} Mb/s\"},"
"{\"name\": \"ups_on_battery\", \"match\": {\"probe\": \"ups\"}, \"value\": \"on_battery\","
" \"op\": \">=\", \"warning\": 1, \"for\": 0, \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} on battery\"},"
"{\"name\": \"ups_low_battery\", \"match\": {\"probe\": \"ups\"}, \"value\": \"low_battery\","
" \"op\": \">=\", \"critical\": 1, \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} battery low, shutdown imminent\"},"
"{\"name\": \"ups_replace_battery\", \"match\": {\"probe\": \"ups\"},"
" \"value\": \"replace_battery\", \"op\": \">=\", \"warning\": 1,"
" \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} asks for a battery replacement\"},"
"{\"name\": \"ups_unreachable\", \"match\": {\"probe\": \"ups\"}, \"value\": \"reachable\","
" \"op\": \"<\", \"warning\": 1, \"for\": \"1m\", \"labels\": {\"redundancy\": \"power\"},"
" \"summary\": \"{host}: UPS {instance} unreachable\"},"
"{\"name\": \"smart_unhealthy\", \"match\": {\"probe\": \"smart\"}, \"value\": \"healthy\","
" \"op\": \"<\", \"critical\": 1,"
" \"summary\": \"{host}: disk {instance} fails its SMART health check\"},"
"{\"name\": \"smart_pending_growing\", \"match\": {\"probe\": \"smart\"},"
" \"value\": \"pending\", \"detector\": \"change\", \"change\": \"increase\","
" \"min_delta\": 1, \"reset\": \"7d\","
" \"summary\": \"{host}: disk {instance} pending sectors growing, now {value}\"},"
"{\"name\": \"smart_reallocated_growing\", \"match\": {\"probe\": \"smart\"},"
" \"value\": \"reallocated\", \"detector\": \"change\", \"change\": \"increase\","
" \"min_delta\": 1, \"reset\": \"7d\","
" \"summary\": \"{host}: disk {instance} reallocated sectors growing, now {value}\"},"
"{\"name\": \"backup_stale\", \"match\": {\"probe\": \"backup\"}, \"value\": \"ok\","
" \"op\": \"<\", \"warning\": 1,"
" \"summary\": \"{host}: backup {instance} is stale or missing\"},"
"{\"name\": \"tls_expiring\", \"match\": {\"probe\": \"tls\"}, \"value\": \"expiry_days\","
" \"op\": \"<\", \"warning\": 14, \"critical\": 7,"
" \"summary\": \"{host}: TLS certificate of {instance} expires in {value} days\"},"
"{\"name\": \"host_stale\", \"detector\": \"stale\", \"severity\": \"critical\","
" \"labels\": {\"redundancy\": \"server\"},"
" \"summary\": \"{host}: no data from this host (stale)\"},"
"{\"name\": \"fs_used\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
" \"divide_by\": \"size\", \"scale\": 100, \"op\": \">\", \"warning\": 90, \"critical\": 95,"
" \"clear\": {\"warning\": 88, \"critical\": 93},"
" \"summary\": \"{host}: {instance} is {value}% full\"},"
"{\"name\": \"fs_inodes_used\", \"match\": {\"probe\": \"fs\"}, \"value\": \"inodes_used\","
" \"divide_by\": \"inodes\", \"scale\": 100, \"op\": \">\", \"warning\": 90,"
" \"critical\": 95, \"clear\": {\"warning\": 88, \"critical\": 93},"
" \"summary\": \"{host}: {instance} has used {value}% of its inodes\"},"
"{\"name\": \"spike_load\", \"match\": {\"probe\": \"load\"}, \"value\": \"load1\","
" \"divide_by\": \"ncpu\", \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: load spike, {value} per CPU\"},"
"{\"name\": \"spike_cpu_busy\", \"match\": {\"probe\": \"cpu\"}, \"value\": \"busy\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: CPU busy spike, {value}%\"},"
"{\"name\": \"spike_pressure\", \"match\": {\"probe\": \"psi\"}, \"value\": \"some_avg10\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: {instance} pressure spike, {value}% stalled\"},"
"{\"name\": \"spike_disk_util\", \"match\": {\"probe\": \"disk\"}, \"value\": \"util\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: disk {instance} utilisation spike, {value}%\"},"
"{\"name\": \"spike_disk_read\", \"match\": {\"probe\": \"disk\"}, \"value\": \"read_bytes\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: disk {instance} read spike, {value} B/s\"},"
"{\"name\": \"spike_disk_write\", \"match\": {\"probe\": \"disk\"},"
" \"value\": \"write_bytes\", \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: disk {instance} write spike, {value} B/s\"},"
"{\"name\": \"spike_net_rx\", \"match\": {\"probe\": \"net\"}, \"value\": \"rx_bytes\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: {instance} receive spike, {value} B/s\"},"
"{\"name\": \"spike_net_tx\", \"match\": {\"probe\": \"net\"}, \"value\": \"tx_bytes\","
" \"detector\": \"spike\", \"spike\": {\"direction\": \"up\"},"
" \"summary\": \"{host}: {instance} transmit spike, {value} B/s\"},"
"{\"name\": \"forecast_fs_used\", \"match\": {\"probe\": \"fs\"}, \"value\": \"used\","
" \"detector\": \"forecast\", \"forecast\": {\"capacity_value\": \"size\"},"
" \"summary\": \"{host}: {instance} will be full soon\"},"
"{\"name\": \"forecast_fs_inodes\", \"match\": {\"probe\": \"fs\"},"
" \"value\": \"inodes_used\", \"detector\": \"forecast\","
" \"forecast\": {\"capacity_value\": \"inodes\"},"
" \"summary\": \"{host}: {instance} will run out of inodes soon\"},"
"{\"name\": \"forecast_mem_used\", \"match\": {\"probe\": \"mem\"}, \"value\": \"used\","
" \"detector\": \"forecast\", \"forecast\": {\"capacity_value\": \"total\"},"
" \"summary\": \"{host}: memory will run out soon\"}"
"]}";

struct rules *rules_defaults_into(struct hr_errs *errs)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	cJSON *doc;

	if (rs == NULL) {
		hr_errs_add(errs, "rules", "out of memory");
		return NULL;
	}
	doc = hr_cfg_parse(defaults_json, sizeof(defaults_json) - 1, errs);
	if (doc == NULL || rules_parse_doc(doc, 1, rs, errs) < 0) {
		cJSON_Delete(doc);
		rules_free(rs);
		return NULL;
	}
	cJSON_Delete(doc);
	return rs;
}

struct rules *rules_defaults(struct hr_err *err)
{
	struct hr_errs errs;
	struct rules *rs;

	hr_errs_init(&errs);
	rs = rules_defaults_into(&errs);
	if (rs == NULL)
		hr_err_set(err, "built-in rules: %s",
			   errs.count ? errs.items[0] : "out of memory");
	hr_errs_free(&errs);
	return rs;
}
