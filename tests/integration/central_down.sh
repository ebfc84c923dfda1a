#!/bin/sh
# central_down.sh: the issue's outage test (about 2.5 minutes). The agent
# samples every second and pushes to the real central; the central is stopped
# (SIGTERM) for two minutes and started again; once the agent's spool has
# drained (its agent probe says batches_spooled 0), the central's archives
# must hold every row the agent's own archives hold, equal, over the whole
# window: no gap, no duplicate. Prints what it compared and what the replay
# cost (requests, samples per second, the agent's CPU time).
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
NE="$FIX/node_exporter/root"
OUTAGE=${OUTAGE:-120}
need rrdtool python3 curl
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$HEADROOM" token new web1 > "$T/tok" 2>/dev/null
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$PORT", "insecure_http": true, "data_dir": "$T/cdata",
 "hosts": {$(sed -n 2p "$T/tok")}}
JSON
# A short backoff cap so that the test does not wait minutes for the retry
# after the central is back; everything else as shipped.
cat > "$T/agent.json" <<JSON
{"host": "web1", "interval": 1, "data_dir": "$T/adata", "push_backoff_max": "5s",
 "central": [{"url": "http://127.0.0.1:$PORT/api/v1/samples", "token": "$(sed -n 1p "$T/tok")"}],
 "probes": {"fs": false, "md": false, "net": false, "bond": false, "psi": false, "disk": false}}
JSON
A="$T/adata/rrd/web1"
C="$T/cdata/rrd/web1"


bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" || fail "central did not come up"
bg "$AGENT" -v -c "$T/agent.json" --root "$NE" 2> "$T/agent.log"
AG=$BGPID
check "the central gets the agent's samples" wait_for 30 test -f "$C/agent.rrd"
START=$(($(date +%s) + 1))
sleep 5

kill -TERM "$CPID"
wait "$CPID" || true
echo "central stopped for $OUTAGE s"
sleep "$OUTAGE"
# The test reads the agent's archives only once it has stopped: librrd
# locks a file while it is read, and a write that meets the lock fails.
check "the outage's batches wait in the spool" sh -c "ls '$T/adata/spool/' | grep -q '\.seg$'"
check "the outage is logged once" [ "$(grep -c 'data kept in the spool' "$T/agent.log")" -le 2 ]
before=$(grep -c ' acked: ' "$T/agent.log" || true)
cpu0=$(awk '{ print $14 + $15 }' "/proc/$AG/stat")
t0=$(date +%s.%N)
bg "$CENTRAL" -c "$T/central.json" 2>> "$T/central.log"
CPID=$BGPID
# Drained: every segment acknowledged by the central, and so deleted.
check "the spool drains once the central is back" wait_for 120 sh -c \
	"! ls '$T/adata/spool/' | grep -q '\.seg$'"
t1=$(date +%s.%N)
cpu1=$(awk '{ print $14 + $15 }' "/proc/$AG/stat")
after=$(grep -c ' acked: ' "$T/agent.log" || true)
sleep 2
END=$(($(date +%s) - 3))
kill -TERM "$AG"
rc=0; wait "$AG" || rc=$?
check "agent SIGTERM: exit 0" [ "$rc" -eq 0 ]
check "the central has caught up to the end of the window" wait_for 30 sh -c \
	"[ \$(rrdtool last '$C/load.rrd') -ge $END ] && [ \$(rrdtool last '$C/agent.rrd') -ge $END ]"
check "the agent's own archive saw the backlog (batches_spooled > $((OUTAGE / 2)))" sh -c \
	"rrdtool fetch '$A/agent.rrd' AVERAGE -r 1 -s $START -e $END | awk 'NR == 1 { for (i = 1; i <= NF; i++) if (\$i == \"batches_spooled\") c = i + 1 } NR > 2 && \$c != \"-nan\" && \$c + 0 > $((OUTAGE / 2)) { f = 1 } END { exit !f }'"

# The replay, from the agent's debug log: one line per acknowledged request.
grep ' acked: ' "$T/agent.log" | sed -n "$((before + 1)),${after}p" > "$T/replay" || true
python3 - "$T/replay" "$t0" "$t1" "$cpu0" "$cpu1" "$(getconf CLK_TCK)" <<'PY'
import re, sys
reqs = [tuple(map(float, re.search(r'acked: (\d+) records, (\d+) samples, (\d+) bytes, ([\d.]+) ms', l).groups()))
        for l in open(sys.argv[1])]
big = [r for r in reqs if r[0] > 1]
rec = sum(r[0] for r in reqs); smp = sum(r[1] for r in reqs); ms = sum(r[3] for r in reqs)
wall = float(sys.argv[3]) - float(sys.argv[2])
cpu = (float(sys.argv[5]) - float(sys.argv[4])) / float(sys.argv[6])
print("replay: %d requests (%d merged) for %d records, %d samples, %.0f KiB; largest %d records"
      % (len(reqs), len(big), rec, smp, sum(r[2] for r in reqs) / 1024, max([r[0] for r in reqs] or [0])))
if ms > 0:
    print("replay: %.0f ms in requests: %.0f samples/s while sending" % (ms, smp / ms * 1000))
print("replay: central start to drained %.1f s (includes the backoff wait); agent CPU %.2f s"
      % (wall, cpu))
PY

for p in load mem cpu agent; do
	check "central equals agent for $p from $START to $END" compare_rrd "$p" "$START" "$END"
done
rows=$(cat "$T/a.fetch.rows" 2>/dev/null || echo 0)
check "the window spans the outage ($rows agent rows of agent.rrd)" [ "$rows" -gt "$OUTAGE" ]
check "no batch refused (no duplicate, no bad record)" sh -c \
	"! grep -q 'refused' '$T/agent.log' && ! grep -q 'answered 400' '$T/central.log'"
check "no local archive write failed" sh -c "! grep -q 'store: ' '$T/agent.log'"
if [ "$failures" -ne 0 ]; then
	[ -z "${HR_KEEP:-}" ] || cp -a "$T" "$HR_KEEP"
	echo "--- agent.log"; grep -v ' acked: ' "$T/agent.log" | tail -n 30
	echo "--- central.log"; tail -n 30 "$T/central.log"
fi
finish
