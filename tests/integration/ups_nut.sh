#!/bin/sh
# ups_nut.sh: the ups probe against NUT's real upsd and dummy-ups driver
# (Debian nut-server), config and state in a temp folder, upsd on a free
# loopback port. A .dev file walks OL -> OB DISCHRG -> OB LB -> OL CHRG RB ->
# OL OVER and every step's sample is checked; every dump in
# tests/fixtures/ups/nut is served through its own dummy-ups and its status,
# charge and runtime must come out as the file says; USERNAME/PASSWORD are
# accepted; STARTTLS to this upsd (no certificate configured: it answers ERR
# FEATURE-NOT-CONFIGURED) gives reachable 0, never clear text; a stopped
# upsd gives reachable 0 within the timeout.
. "$(dirname "$0")/lib.sh"

UPSD=/lib/nut/upsd
DRV=/lib/nut/dummy-ups
if [ ! -x "$UPSD" ] || [ ! -x "$DRV" ]; then
	echo "NUT's upsd and dummy-ups are missing (apt-get install nut-server)"
	exit 1
fi
command -v python3 >/dev/null || { echo "python3 missing"; exit 1; }

N="$T/nut"
mkdir -p "$N/state"
export NUT_CONFPATH="$N" NUT_STATEPATH="$N/state"
# As root (CI), upsd and the drivers would switch to the "nut" user, which
# cannot enter our 0700 temp folder: keep them as root with -u.
AS=""
[ "$(id -u)" -eq 0 ] && AS="-u root"

# stage STATUS CHARGE RUNTIME LOAD: rewrite the walking UPS's .dev file; a
# new mtime each time, so that dummy-ups reads it again.
STAGE=0
stage() {
	STAGE=$((STAGE + 1))
	cat > "$N/walk.dev.new" <<EOF
# written by ups_nut.sh, stage $STAGE
ups.mfr: Acme
ups.model: Walker 1500
ups.status: $1
battery.charge: $2
battery.runtime: $3
ups.load: $4
input.voltage: 230.5
EOF
	touch -d "@$(($(date +%s) - 100 + STAGE))" "$N/walk.dev.new"
	mv "$N/walk.dev.new" "$N/walk.dev"
}
stage "OL" 100 1800 20

{
	printf '[walk]\n\tdriver = dummy-ups\n\tport = %s/walk.dev\n' "$N"
	printf '[tlsups]\n\tdriver = dummy-ups\n\tport = %s/walk.dev\n' "$N"
} > "$N/ups.conf"
DUMPS=""
i=0
for f in "$FIX"/ups/nut/*.dev; do
	i=$((i + 1))
	cp "$f" "$N/d$i.dev"
	printf '[d%s]\n\tdriver = dummy-ups\n\tport = %s/d%s.dev\n' "$i" "$N" "$i" >> "$N/ups.conf"
	DUMPS="$DUMPS d$i"
done
printf '[mon]\n\tpassword = s3cret\n\tupsmon secondary\n' > "$N/upsd.users"
chmod 600 "$N/upsd.users"

for u in walk tlsups $DUMPS; do
	bg "$DRV" -a "$u" $AS -F -i 1
done > "$T/drivers.log" 2>&1

start_upsd "$N" || exit 1
PORT=$UPSD_PORT

NUT_LIST="\"walk@127.0.0.1:$PORT\",
 {\"ups\": \"tlsups@127.0.0.1:$PORT\", \"starttls\": true, \"ca\": \"$FIX/ups/nut/tls/ca.pem\"}"
first=1
for u in $DUMPS; do
	if [ -n "$first" ]; then
		# one target logs in: upsd accepts USERNAME/PASSWORD before LIST VAR
		NUT_LIST="$NUT_LIST, {\"ups\": \"$u@127.0.0.1:$PORT\", \"username\": \"mon\", \"password\": \"s3cret\"}"
		first=""
	else
		NUT_LIST="$NUT_LIST, \"$u@127.0.0.1:$PORT\""
	fi
done
cat > "$T/agent.json" <<JSON
{"host": "ups1", "data_dir": "$T/data",
 "probes": {"ups": {"nut": [$NUT_LIST], "timeout": "2s"}}}
JSON

# once: one sample document of the ups probe into $T/once.json
once() {
	"$AGENT" --once --json --only ups -c "$T/agent.json" > "$T/once.json" 2>> "$T/agent.log"
}

# sample_is INST PYEXPR: the latest document has the sample INST and PYEXPR
# holds for it (v: values, l: labels).
cat > "$T/sample.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = [x for x in d["samples"] if x["probe"] == "ups" and x["instance"] == sys.argv[2]]
if len(s) != 1:
    sys.exit(1)
v, l = s[0]["values"], s[0]["labels"]
ok = eval(sys.argv[3])
if not ok and len(sys.argv) > 4:
    print("  got", sys.argv[2], v, l)
sys.exit(0 if ok else 1)
PY
sample_is() { python3 "$T/sample.py" "$T/once.json" "$1" "$2" ${3:-}; }
reaches() { once && sample_is "$1" "l.get('status') == '$2'"; }

W="walk@127.0.0.1:$PORT"
check "upsd and dummy-ups serve the walking UPS" wait_for 20 reaches "$W" "OL"
check "OL: online, charged, model with maker" sample_is "$W" \
	"v == {'reachable': 1, 'online': 1, 'on_battery': 0, 'low_battery': 0, 'replace_battery': 0, 'overload': 0, 'charge_percent': 100, 'runtime_s': 1800, 'load_percent': 20, 'input_voltage': 230.5} and l == {'status': 'OL', 'model': 'Acme Walker 1500'}" show

stage "OB DISCHRG" 80 1500 25
check "OB DISCHRG arrives" wait_for 20 reaches "$W" "OB DISCHRG"
check "OB DISCHRG: on battery, runtime in seconds" sample_is "$W" \
	"v['online'] == 0 and v['on_battery'] == 1 and v['low_battery'] == 0 and v['charge_percent'] == 80 and v['runtime_s'] == 1500" show

stage "OB LB" 9 120 25
check "OB LB arrives" wait_for 20 reaches "$W" "OB LB"
check "OB LB: on battery, low battery" sample_is "$W" \
	"v['on_battery'] == 1 and v['low_battery'] == 1 and v['replace_battery'] == 0 and v['charge_percent'] == 9 and v['runtime_s'] == 120" show

stage "OL CHRG RB" 30 600 25
check "OL CHRG RB arrives" wait_for 20 reaches "$W" "OL CHRG RB"
check "OL CHRG RB: online, replace battery" sample_is "$W" \
	"v['online'] == 1 and v['on_battery'] == 0 and v['low_battery'] == 0 and v['replace_battery'] == 1 and v['overload'] == 0 and v['charge_percent'] == 30" show

stage "OL OVER" 100 900 120
check "OL OVER arrives" wait_for 20 reaches "$W" "OL OVER"
check "OL OVER: online, overload" sample_is "$W" \
	"v['online'] == 1 and v['overload'] == 1 and v['replace_battery'] == 0 and v['load_percent'] == 120" show

check "STARTTLS refused by upsd: reachable 0 and nothing else" sample_is "tlsups@127.0.0.1:$PORT" \
	"v == {'reachable': 1 - 1} and l == {}" show
check "the refusal is logged" grep -q "tlsups@127.0.0.1:$PORT: STARTTLS: upsd: ERR FEATURE-NOT-CONFIGURED" "$T/agent.log"

# Every dump served by dummy-ups: status, flags, charge and runtime as the
# file says ('#' starts an annotation; words are joined by one space).
cat > "$T/dump.py" <<'PY'
import json, re, sys
doc, inst, path = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(doc))
s = [x for x in d["samples"] if x["probe"] == "ups" and x["instance"] == inst]
if len(s) != 1:
    print("  no sample", inst); sys.exit(1)
v, l = s[0]["values"], s[0]["labels"]
want = {}
for line in open(path, encoding="utf-8", errors="replace"):
    m = re.match(r"^([a-z0-9._]+):(.*)$", line.rstrip("\n"))
    if m:
        words = []
        for w in m.group(2).split():
            if w.startswith("#"):
                break
            words.append(w)
        want[m.group(1)] = " ".join(words)
ok = v.get("reachable") == 1
st = want.get("ups.status", "")
if not st and "ups.status" not in want and "status" in l:
    st = l["status"]  # dummy-ups says "OL" for a UPS whose dump has no status
if st:
    ws = st.split()
    ok = ok and l.get("status") == st
    ok = ok and v.get("online") == ("OL" in ws) and v.get("on_battery") == ("OB" in ws)
    ok = ok and v.get("low_battery") == ("LB" in ws or "FSD" in ws)
    ok = ok and v.get("replace_battery") == ("RB" in ws) and v.get("overload") == ("OVER" in ws)
else:
    ok = ok and "online" not in v
for var, name in (("battery.charge", "charge_percent"), ("battery.runtime", "runtime_s")):
    try:
        x = float(want[var])
    except (KeyError, ValueError):
        x = None
    ok = ok and v.get(name) == x
if not ok:
    print("  got", inst, v, l, "want", {k: want.get(k) for k in ("ups.status", "battery.charge", "battery.runtime")})
sys.exit(0 if ok else 1)
PY
once
i=0
for f in "$FIX"/ups/nut/*.dev; do
	i=$((i + 1))
	check "served $(basename "$f")" python3 "$T/dump.py" "$T/once.json" "d$i@127.0.0.1:$PORT" "$N/d$i.dev"
done
check "the logged-in target was read" sample_is "d1@127.0.0.1:$PORT" "v['reachable'] == 1"

# upsd gone: reachable 0 for every target, within the timeout.
kill "$UPSD_PID"
wait "$UPSD_PID" 2>/dev/null || true
start=$(date +%s)
once
took=$(($(date +%s) - start))
check "upsd stopped: reachable 0 and nothing else" sample_is "$W" "v == {'reachable': 0} and l == {}" show
check "upsd stopped: the read took at most the timeouts ($took s)" [ "$took" -le 5 ]

finish
