#!/bin/sh
# alert_ups.sh: the whole chain of an alert, with real peers on loopback:
# NUT's upsd and dummy-ups → headroom-agent (ups probe, pushing every
# $HR_INTERVAL s) → headroom-central (ingest, analyzer, default rules,
# lifecycle, delivery) → a webhook receiver (notify_peers.py). The UPS goes
# on battery: the receiver gets an Alertmanager-style "firing" payload for
# ups_on_battery (warning, redundancy=power, host ups1); it comes back on
# line: "resolved". `headroom alerts` shows the alert. The time from the
# .dev rewrite to the webhook is printed with the sampling interval, once
# per run ($HR_RUNS, default 1; bench/README.md: `make bench-latency`
# runs it with the agent's default interval); never asserted.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
UPSD=/lib/nut/upsd
DRV=/lib/nut/dummy-ups
INTERVAL=${HR_INTERVAL:-2}
RUNS=${HR_RUNS:-1}
GROUP_WAIT=${HR_GROUP_WAIT:-1s}
need python3 curl
if [ ! -x "$UPSD" ] || [ ! -x "$DRV" ]; then
	echo "NUT's upsd and dummy-ups are missing (apt-get install nut-server)"
	exit 1
fi

# --- upsd with one dummy-ups UPS "walk" -------------------------------------
N="$T/nut"
mkdir -p "$N/state"
export NUT_CONFPATH="$N" NUT_STATEPATH="$N/state"
AS=""
[ "$(id -u)" -eq 0 ] && AS="-u root"
STAGE=0
# stage STATUS CHARGE: rewrite the .dev file (a new mtime: dummy-ups rereads)
# and print the time of the change.
stage() {
	STAGE=$((STAGE + 1))
	printf 'ups.mfr: Acme\nups.model: Walker 1500\nups.status: %s\nbattery.charge: %s\nbattery.runtime: 1800\nups.load: 20\n' \
		"$1" "$2" > "$N/walk.dev.new"
	touch -d "@$(($(date +%s) - 1000 + STAGE))" "$N/walk.dev.new"
	mv "$N/walk.dev.new" "$N/walk.dev"
	python3 -c 'import time; print("%.3f" % time.time())'
}
stage OL 100 > /dev/null
printf '[walk]\n\tdriver = dummy-ups\n\tport = %s/walk.dev\n' "$N" > "$N/ups.conf"
printf '[mon]\n\tpassword = s3cret\n\tupsmon secondary\n' > "$N/upsd.users"
chmod 600 "$N/upsd.users"
bg "$DRV" -a walk $AS -F -i 1 > "$T/driver.log" 2>&1
start_upsd "$N" || exit 1
UPORT=$UPSD_PORT

# --- the webhook receiver -----------------------------------------------------
HPORT=$(free_port)
bg python3 "$top_srcdir/tests/integration/notify_peers.py" http "$HPORT" "$T/hook.log" "$T/hook.ctl"
wait_for 10 curl -s -o /dev/null -d x "http://127.0.0.1:$HPORT/probe" || { echo "receiver did not start"; exit 1; }
rm -f "$T/hook.log"

# --- central and agent ---------------------------------------------------------
"$HEADROOM" token new ups1 > "$T/tok" 2>/dev/null
TOKEN=$(sed -n 1p "$T/tok")
CPORT=$(free_port)
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$CPORT", "insecure_http": true, "data_dir": "$T/central",
 "hosts": {$(sed -n 2p "$T/tok")},
 "notify": [{"type": "webhook", "name": "hook", "url": "http://127.0.0.1:$HPORT/hook"}],
 "alerts": {"group_wait": "$GROUP_WAIT", "outage_window": "2s"}}
JSON
check "the central's config with notify and alerts is valid" \
	"$CENTRAL" --check-config -c "$T/central.json"
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$CPORT/" || { cat "$T/central.log"; exit 1; }
cat > "$T/agent.json" <<JSON
{"host": "ups1", "interval": $INTERVAL, "data_dir": "$T/agent",
 "central": [{"url": "http://127.0.0.1:$CPORT", "token": "$TOKEN"}],
 "probes": {"load": false, "cpu": false, "mem": false, "psi": false, "fs": false,
            "disk": false, "md": false, "net": false, "bond": false,
            "ups": {"nut": ["walk@127.0.0.1:$UPORT"], "timeout": "2s"}}}
JSON
bg "$AGENT" -c "$T/agent.json" 2> "$T/agent.log"
APID=$BGPID
check "the central stores the UPS's samples" \
	wait_for 30 sh -c "ls '$T/central/rrd/ups1/' 2>/dev/null | grep -q '^ups-'"
# The first samples say "on line": the analyzer has seen the series.
sleep $((INTERVAL * 2))

# hooked STATUS N: the receiver has at least N payloads with an alert
# ups_on_battery in STATUS; prints the time the Nth arrived.
hooked() {
	python3 - "$T/hook.log" "$1" "$2" <<'PY'
import json, sys
status, n = sys.argv[2], int(sys.argv[3])
seen = []
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        d = json.loads(r["body"])
        for a in d.get("alerts", []):
            if a["labels"].get("alertname") == "ups_on_battery" and a["status"] == status:
                seen.append((r["t"], a, d))
except FileNotFoundError:
    pass
if len(seen) < n:
    sys.exit(1)
t, a, d = seen[n - 1]
lab = a["labels"]
ok = (lab.get("host") == "ups1" and lab.get("severity") == "warning" and
      lab.get("redundancy") == "power" and lab.get("instance", "").startswith("walk@") and
      d.get("receiver") == "hook" and d.get("version") == "4" and "startsAt" in a)
if not ok:
    print("  unexpected payload:", json.dumps(d)[:600], file=sys.stderr)
    sys.exit(2)
print("%.3f" % t)
PY
}

i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	t0=$(stage "OB DISCHRG" 90)
	if wait_for $((INTERVAL * 10 + 30)) hooked firing "$i" > "$T/t1"; then
		ok "run $i: on battery → a firing ups_on_battery webhook (warning, redundancy=power)"
		python3 -c 'import sys; t0, t1, iv = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("latency: on battery -> webhook %.2f s = %.2f sampling intervals (interval %g s)" % (t1 - t0, (t1 - t0) / iv, iv))' \
			"$t0" "$(cat "$T/t1")" "$INTERVAL"
	else
		fail "run $i: no firing webhook for ups_on_battery"
		cat "$T/hook.log" 2>/dev/null | head -5
		tail -20 "$T/central.log"
		break
	fi
	t0=$(stage "OL CHRG" 95)
	if wait_for $((INTERVAL * 10 + 30)) hooked resolved "$i" > "$T/t1"; then
		ok "run $i: back on line → the webhook says resolved"
	else
		fail "run $i: no resolved webhook"
		break
	fi
done

# The agent stops: after 5 of its intervals the host is stale (the central
# looks every 10 s), host_stale fires (one host of one: not an outage of
# the central's ingest) and reaches the receiver.
kill "$APID"
hooked_rule() {
	python3 - "$T/hook.log" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(json.loads(line)["body"])
    for a in d.get("alerts", []):
        if a["labels"].get("alertname") == sys.argv[2] and a["status"] == sys.argv[3] \
           and a["labels"].get("host") == "ups1":
            sys.exit(0)
sys.exit(1)
PY
}
check "the agent stopped: host_stale fires for ups1 and is notified" \
	wait_for $((INTERVAL * 5 + 60)) hooked_rule host_stale firing
check "no database lock between the registry and the alerts" \
	sh -c "! grep -q 'database is locked' '$T/central.log'"

"$HEADROOM" alerts --all -c "$T/central.json" > "$T/alerts.out" 2>&1 || true
check "headroom alerts lists the resolved ups_on_battery alert" \
	grep -q "ups_on_battery.*resolved\|resolved.*ups_on_battery" "$T/alerts.out"
check "the central logged the alert's changes" grep -q "alert firing: ups_on_battery ups1" "$T/central.log"
kill "$CPID"
rc=0; wait "$CPID" || rc=$?
check "the central stops with 0 (state saved)" [ "$rc" -eq 0 ]
check "the analyzer's state is in headroom.db" \
	sh -c "sqlite3 '$T/central/headroom.db' 'select count(*) from analyzer_state' | grep -qv '^0$'"
finish
