#!/bin/sh
# agent_daemon.sh: headroom-agent in the foreground at a 1 s interval:
# archives appear with the contract's layout and the fixture's values; a
# source that hangs (a FIFO as /proc/loadavg: open() blocks, like a stale NFS
# mount) does not stop the other probes and recovers; SIGHUP with a broken
# config is refused and the old config keeps running; SIGHUP with a good one
# applies it; SIGTERM stops cleanly with exit status 0.
. "$(dirname "$0")/lib.sh"

command -v rrdtool >/dev/null || { echo "rrdtool missing (apt-get install rrdtool)"; exit 1; }
NE="$FIX/node_exporter/root"
R="$T/root"
mkdir -p "$R/proc"
cp "$NE/proc/stat" "$NE/proc/meminfo" "$NE/proc/diskstats" "$R/proc/"
mkfifo "$R/proc/loadavg"
D="$T/data/rrd/web1"

write_config() { # $1: extra probes JSON
	cat > "$T/agent.json" <<JSON
{"host": "web1", "interval": 1, "data_dir": "$T/data", "root": "$R",
 "probes": {"fs": false, "md": false, "net": false, "bond": false, "psi": false,
            "disk": $1}}
JSON
}
write_config false
bg "$AGENT" -c "$T/agent.json" 2> "$T/agent.log"
AG=$BGPID

check "archives for cpu, mem and agent appear" wait_for 30 \
	sh -c "[ -f '$D/cpu.rrd' ] && [ -f '$D/mem.rrd' ] && [ -f '$D/agent.rrd' ]"
check "archive step is the 1 s interval" sh -c "rrdtool info '$D/mem.rrd' | grep -q '^step = 1$'"
check "counters are DDERIVE with min 0" sh -c \
	"rrdtool info '$D/cpu.rrd' | grep -q '^ds\[user\].type = \"DDERIVE\"' && rrdtool info '$D/cpu.rrd' | grep -q '^ds\[user\].min = 0'"
check "levels are GAUGE with heartbeat 2 x step" sh -c \
	"rrdtool info '$D/mem.rrd' | grep -q '^ds\[total\].type = \"GAUGE\"' && rrdtool info '$D/mem.rrd' | grep -q '^ds\[total\].minimal_heartbeat = 2'"
total=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' "$R/proc/meminfo")
mem_total_ok() {
	rrdtool fetch "$D/mem.rrd" AVERAGE -r 1 -s -30 |
		awk -v want="$total" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "total") c = i + 1 }
			NR > 2 && $c != "-nan" && $c + 0 == want + 0 { found = 1 } END { exit !found }'
}
check "mem total fetched back equals the fixture's MemTotal" wait_for 30 mem_total_ok

# The hanging source: load is stuck, the others go on.
check "the stuck probe is reported" wait_for 30 grep -q "probe load: read has not returned" "$T/agent.log"
last1=$(rrdtool last "$D/mem.rrd")
check "other probes keep writing while load hangs" wait_for 30 \
	sh -c "[ \$(rrdtool last '$D/mem.rrd') -gt $last1 ]"
check "no load archive while its source hangs" [ ! -f "$D/load.rrd" ]
printf '0.50 0.40 0.30 2/100 42\n' > "$R/proc/loadavg"
printf '0.50 0.40 0.30 2/100 42\n' > "$T/loadavg" && mv "$T/loadavg" "$R/proc/loadavg"
check "the stuck probe recovers" wait_for 30 grep -q "probe load: read returned" "$T/agent.log"
check "load archive after recovery" wait_for 30 test -f "$D/load.rrd"

# SIGHUP with a broken config: refused, the old one keeps running.
printf '{"host": "web1", "interval": ' > "$T/agent.json"
kill -HUP "$AG"
check "a broken config is refused on SIGHUP" wait_for 30 grep -q "reload refused" "$T/agent.log"
last2=$(rrdtool last "$D/mem.rrd")
check "the old config keeps running" wait_for 30 sh -c "[ \$(rrdtool last '$D/mem.rrd') -gt $last2 ]"
check "the agent is still alive" kill -0 "$AG"

# SIGHUP with a good config that turns disk on.
write_config true
kill -HUP "$AG"
check "a good config is applied on SIGHUP" wait_for 30 grep -q "reloaded: host web1" "$T/agent.log"
check "the newly enabled probe writes its archives" wait_for 30 sh -c "ls '$D'/disk-*.rrd >/dev/null 2>&1"

kill -TERM "$AG"
rc=0
wait "$AG" || rc=$?
PIDS=""
check "SIGTERM exits 0" [ "$rc" -eq 0 ]
check "SIGTERM logs a clean stop" grep -q "stopped" "$T/agent.log"
check "no error lines besides the expected ones" sh -c \
	"! grep 'error' '$T/agent.log' | grep -v 'reload refused'"
[ "$failures" -eq 0 ] || { echo "--- agent log"; cat "$T/agent.log"; }
finish
