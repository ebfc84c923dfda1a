#!/bin/sh
# agent_crash.sh: the agent killed with SIGKILL 15 times, at varied moments,
# while it spools with its central down, and restarted each time; then the
# central comes up. Afterwards every start opened the spool without reporting
# damage (a torn tail from a kill mid-write is cut off, never misread), the
# spool drains, and the central holds every row that the agent's own archives
# hold (the spool is written before the local archives, so a read in flight
# at a kill can only be missing from both, or be on the central alone).
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
NE="$FIX/node_exporter/root"
need rrdtool python3 curl
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$HEADROOM" token new web1 > "$T/tok" 2>/dev/null
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$PORT", "insecure_http": true, "data_dir": "$T/cdata",
 "hosts": {$(sed -n 2p "$T/tok")}}
JSON
# spool_fsync "never": only the agent crashes here, not the machine, so the
# page cache keeps what was written; the kill lands in the write itself.
cat > "$T/agent.json" <<JSON
{"host": "web1", "interval": 1, "data_dir": "$T/adata", "push_backoff_max": "3s",
 "spool_fsync": "never",
 "central": [{"url": "http://127.0.0.1:$PORT/api/v1/samples", "token": "$(sed -n 1p "$T/tok")"}],
 "probes": {"fs": false, "md": false, "net": false, "bond": false, "psi": false, "disk": false}}
JSON
A="$T/adata/rrd/web1"
C="$T/cdata/rrd/web1"


START=$(date +%s)
i=0
for d in 0.3 1.7 0.9 2.2 0.5 1.3 2.9 0.7 1.1 2.5 0.4 1.9 0.8 1.5 3.1; do
	i=$((i + 1))
	bg "$AGENT" -c "$T/agent.json" --root "$NE" 2>> "$T/agent.log"
	sleep "$d"
	kill -KILL "$BGPID"
	wait "$BGPID" 2>/dev/null || true
	# A start in the same second as the kill reads that second again; a
	# batch spooled just before the kill but not yet in the local archives
	# would then be spooled twice, and the central refuses the second copy.
	sleep 1
done
echo "agent killed $i times"
check "spool segments written while the central was down" sh -c "ls '$T/adata/spool/' | grep -q '\.seg$'"

bg "$AGENT" -v -c "$T/agent.json" --root "$NE" 2> "$T/final.log"
AG=$BGPID
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
# Drained: every segment acknowledged, and so deleted. (The agent's own
# archives are read only once it has stopped: librrd locks a file while it
# is read, and a write that meets the lock fails.)
check "the spool drains once the central is up" wait_for 60 sh -c \
	"! ls '$T/adata/spool/' | grep -q '\.seg$'"
sleep 2
END=$(($(date +%s) - 3))
kill -TERM "$AG"
rc=0; wait "$AG" || rc=$?
check "agent SIGTERM: exit 0" [ "$rc" -eq 0 ]
check "the central has caught up" wait_for 30 sh -c "[ \$(rrdtool last '$C/load.rrd') -ge $END ]"
torn=$(cat "$T/agent.log" "$T/final.log" | grep -c 'incomplete record' || true)
echo "torn tails cut off at open: $torn"
check "no start reported a damaged spool" sh -c \
	"! cat '$T/agent.log' '$T/final.log' | grep -Eq 'damaged|records lost|dropped'"
for p in load mem cpu agent; do
	check "central holds every row of the agent's $p" compare_rrd "$p" "$START" "$END"
done
check "no batch refused" sh -c "! grep -q refused '$T/final.log'"
if [ "$failures" -ne 0 ]; then
	[ -z "${HR_KEEP:-}" ] || cp -a "$T" "$HR_KEEP"
	echo "--- agent.log"; grep -v ' acked: ' "$T/agent.log" | tail -n 30
	echo "--- final.log"; grep -v ' acked: ' "$T/final.log" | tail -n 30
	echo "--- central.log"; tail -n 30 "$T/central.log"
fi
finish
