#!/bin/sh
# exec_plugins.sh: headroom-agent --once --json with the exec probe running
# the real Nagios plugins of Debian's monitoring-plugins-basic next to one
# that hangs and one that floods, and --check-config on broken exec configs.
. "$(dirname "$0")/lib.sh"

P=/usr/lib/nagios/plugins
if [ ! -x "$P/check_dummy" ] || [ ! -x "$P/check_load" ] || [ ! -x "$P/check_disk" ]; then
	echo "FAIL: $P/check_dummy, check_load, check_disk missing: apt-get install monitoring-plugins-basic"
	exit 1
fi

cat > "$T/agent.json" <<JSON
{"host": "web1", "data_dir": "$T/data", "probes": {"exec": {
  "load": {"command": ["$P/check_load", "-w", "1000,1000,1000", "-c", "2000,2000,2000"]},
  "disk": {"command": ["$P/check_disk", "-w", "10%", "-c", "5%", "-p", "/"], "interval": 60},
  "crit": {"command": ["$P/check_dummy", "2", "on fire"]},
  "hang": {"command": ["sleep", "60"], "timeout": 1},
  "flood": {"command": ["yes"], "max_output": 4096}}}}
JSON

check "--check-config accepts the exec config" "$AGENT" --check-config -c "$T/agent.json"
start=$(date +%s)
rc=0
"$AGENT" --once --json --only exec -c "$T/agent.json" > "$T/once.json" 2> "$T/once.err" || rc=$?
took=$(($(date +%s) - start))
check "--once --only exec exits 0" [ "$rc" -eq 0 ]
check "a hanging plugin holds the read up only to its timeout ($took s)" [ "$took" -le 6 ]
check "one sample per check" pyjson "$T/once.json" \
	'sorted(s["instance"] for s in d["samples"] if s["probe"] == "exec") == ["crit", "disk", "flood", "hang", "load"]'
ex() { printf '[s for s in d["samples"] if s["probe"] == "exec" and s["instance"] == "%s"][0]' "$1"; }
check "check_load: OK with load1, load5, load15" pyjson "$T/once.json" \
	"(lambda s: s['values']['state'] == 0 and all(s['values'][k] >= 0 for k in ('load1', 'load5', 'load15')) and s['labels']['output'].startswith('LOAD OK'))($(ex load))"
check "check_disk: used bytes of / as 'root'" pyjson "$T/once.json" \
	"(lambda s: s['values']['root'] > 0 and s['values']['state'] in (0, 1, 2))($(ex disk))"
check "check_dummy 2: CRITICAL with its text" pyjson "$T/once.json" \
	"(lambda s: s['values']['state'] == 2 and s['labels']['output'] == 'CRITICAL: on fire')($(ex crit))"
check "hang: UNKNOWN, timed out" pyjson "$T/once.json" \
	"(lambda s: s['values']['state'] == 3 and s['labels']['error'] == 'timed out after 1 s')($(ex hang))"
check "flood: UNKNOWN, output cut" pyjson "$T/once.json" \
	"(lambda s: s['values']['state'] == 3 and s['labels']['error'] == 'output over 4096 bytes')($(ex flood))"
check "the hang is logged" grep -q 'probe exec: hang: sleep: timed out after 1 s' "$T/once.err"

cat > "$T/bad.json" <<'JSON'
{"host": "web1", "probes": {"exec": {"interval": 60,
  "procs": {"command": [], "timeout": 900},
  "bad name": {"command": ["x"]},
  "slow": {"command": ["x"], "interval": 30, "colour": "red"}}}}
JSON
rc=0
"$AGENT" --check-config -c "$T/bad.json" > "$T/check.out" 2>&1 || rc=$?
check "--check-config on a broken exec config exits 2" [ "$rc" -eq 2 ]
for want in 'probes.exec.procs.command: expected a non-empty array of strings' \
	'probes.exec.procs.timeout: duration 900s is out of range' \
	"probes.exec.bad name: a check's name must be" \
	"probes.exec.slow.interval: 30s is shorter than the probe's interval 60s" \
	'probes.exec.slow.colour: unknown key'; do
	check "--check-config reports: $want" grep -q "$want" "$T/check.out"
done
printf '{"host": "web1", "probes": {"exec": {}}}' > "$T/empty.json"
rc=0
"$AGENT" --check-config -c "$T/empty.json" > "$T/empty.out" 2>&1 || rc=$?
check "exec with no checks is an error" sh -c "[ $rc -eq 2 ] && grep -q 'probes.exec: no checks configured' '$T/empty.out'"
finish
