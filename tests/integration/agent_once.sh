#!/bin/sh
# agent_once.sh: headroom-agent --once --json against the captured /proc and
# /sys trees (tests/fixtures/*/root), --only, --check-config and usage errors.
. "$(dirname "$0")/lib.sh"

NE="$FIX/node_exporter/root"
cat > "$T/agent.json" <<JSON
{"host": "web1", "data_dir": "$T/data", "probes": {"fs": false}}
JSON

rc=0
"$AGENT" --once --json -c "$T/agent.json" --root "$NE" > "$T/once.json" 2> "$T/once.err" || rc=$?
check "--once --json exits 0" [ "$rc" -eq 0 ]
check "document has host, agent, seq, interval" pyjson "$T/once.json" \
	'd["host"] == "web1" and d["agent"].startswith("headroom-agent/") and d["seq"] > 0 and d["interval"] == 10'
check "every sample has t, probe, instance, numeric values, string labels" pyjson "$T/once.json" \
	'all(isinstance(s["t"], int) and s["t"] > 1500000000 and isinstance(s["probe"], str) and isinstance(s["instance"], str) and all(isinstance(v, (int, float)) for v in s["values"].values()) and all(isinstance(v, str) for v in s["labels"].values()) for s in d["samples"])'
for p in load cpu mem psi md net bond agent; do
	check "probe $p reported from the fixture root" pyjson "$T/once.json" \
		"any(s['probe'] == '$p' for s in d['samples'])"
done
check "fs: false turns fs off" pyjson "$T/once.json" 'not any(s["probe"] == "fs" for s in d["samples"])'
check "load from the fixture's loadavg" pyjson "$T/once.json" \
	'[s["values"]["load1"] for s in d["samples"] if s["probe"] == "load"] == [0.21]'
check "bond int: one of two slaves down is degraded" pyjson "$T/once.json" \
	'[ (s["values"]["slaves"], s["values"]["slaves_up"], s["values"]["degraded"]) for s in d["samples"] if s["probe"] == "bond" and s["instance"] == "int"] == [(2, 1, 1)]'
check "md arrays from mdstat, each with a level label" pyjson "$T/once.json" \
	'len([s for s in d["samples"] if s["probe"] == "md"]) >= 10'
check "psi has cpu, io and memory" pyjson "$T/once.json" \
	'sorted(s["instance"] for s in d["samples"] if s["probe"] == "psi") == ["cpu", "io", "memory"]'

"$AGENT" --once --json -c "$T/agent.json" --root "$NE" --only load,mem > "$T/only.json"
check "--only load,mem gives just those" pyjson "$T/only.json" \
	'sorted(set(s["probe"] for s in d["samples"])) == ["load", "mem"]'

"$AGENT" --once -c "$T/agent.json" --root "$NE" --only load > "$T/once.txt"
check "--once without --json prints readable lines" grep -q '^load load1=0.21 ' "$T/once.txt"

# The real machine: whatever it has, the document is valid and has load.
"$AGENT" --once --json -c "$T/agent.json" --only load,cpu,mem,net,disk > "$T/real.json"
check "--once on this machine" pyjson "$T/real.json" 'any(s["probe"] == "load" for s in d["samples"])'

# --check-config: every problem with its JSON path, exit 2.
cat > "$T/bad.json" <<'JSON'
{"host": "a/b", "interval": "soon", "colour": "blue",
 "central": [{"url": "https://c:8443"}],
 "probes": {"nosuch": true, "fs": {"exclude": "/snap"}, "md": {"bogus": 1}}}
JSON
rc=0
"$AGENT" --check-config -c "$T/bad.json" > "$T/check.out" 2>&1 || rc=$?
check "--check-config on a broken config exits 2" [ "$rc" -eq 2 ]
for want in 'colour: unknown key' 'host: "a/b" is not a valid host name' \
	'interval: expected a duration' 'central\[0\]: missing "token"' 'probes.nosuch: unknown probe'; do
	check "--check-config reports: $want" grep -q "$want" "$T/check.out"
done
rc=0
cat > "$T/probebad.json" <<'JSON'
{"host": "web1", "probes": {"fs": {"exclude": "/snap"}, "md": {"bogus": 1}}}
JSON
"$AGENT" --check-config -c "$T/probebad.json" > "$T/check2.out" 2>&1 || rc=$?
check "probe keys are checked by the probe" [ "$rc" -eq 2 ]
check "probes.md.bogus reported" grep -q 'probes.md.bogus: unknown key' "$T/check2.out"
check "probes.fs.exclude type reported" grep -q 'probes.fs.exclude' "$T/check2.out"
check "--check-config on a good config exits 0" "$AGENT" --check-config -c "$T/agent.json"
check "the shipped example config is valid" "$AGENT" --check-config -c "$top_srcdir/dist/agent.json.example"
rc=0; "$AGENT" --check-config -c "$T/missing.json" > /dev/null 2>&1 || rc=$?
check "a missing config file exits 2" [ "$rc" -eq 2 ]
printf '{"host": ' > "$T/trunc.json"
rc=0; "$AGENT" --check-config -c "$T/trunc.json" > "$T/trunc.out" 2>&1 || rc=$?
check "truncated JSON exits 2 with a message" sh -c "[ $rc -eq 2 ] && grep -q 'not valid JSON' '$T/trunc.out'"

# Usage errors exit 2.
for args in "--json" "--bogus" "--once --check-config" "--root relative --once" "extra"; do
	rc=0
	# shellcheck disable=SC2086
	"$AGENT" $args > /dev/null 2>&1 || rc=$?
	check "usage error exits 2: $args" [ "$rc" -eq 2 ]
done
rc=0; "$AGENT" --once -c "$T/agent.json" --only nosuch > /dev/null 2>&1 || rc=$?
check "--only with an unknown probe exits 2" [ "$rc" -eq 2 ]
finish
