#!/bin/sh
# rules_check.sh: `headroom-central --check-config` with a rules file, as an
# operator runs it: a good file (defaults overridden and turned off, a rule
# of its own) exits 0 and prints nothing; a broken one exits 2 and names
# every problem by the rules file and its JSON path; a missing one too.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"

config() { # RULESFILE
	cat > "$T/central.json" <<JSON
{"insecure_http": true, "data_dir": "$T/data", "rules": "$1"}
JSON
}

cat > "$T/good.json" <<'JSON'
{"rules": [
  {"name": "fs_used", "match": {"host": "web*", "probe": "fs", "instance": "/var*",
   "labels": {"fstype": "ext*"}}, "value": "used", "divide_by": "size", "scale": 100,
   "warning": 85, "critical": 95, "clear": {"warning": 80, "critical": 93},
   "for": "2m", "summary": "{host}: {instance} at {value}%", "route": "pager"},
  {"name": "md_sync", "disabled": true},
  {"name": "load_spike_db", "match": {"host": "db*", "probe": "load"}, "value": "load1",
   "divide_by": "ncpu", "detector": "spike",
   "spike": {"direction": "up", "roll_window": "3h", "warmup": "1d"}},
  {"name": "pool_full", "match": {"probe": "exec", "instance": "zpool"}, "value": "alloc",
   "detector": "forecast", "forecast": {"capacity": 1e12, "warning": "14d", "critical": "3d"}}
]}
JSON
config "$T/good.json"
rc=0; "$CENTRAL" --check-config -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "good rules: exit 0" [ "$rc" -eq 0 ]
check "good rules: nothing printed" [ ! -s "$T/out" ]

cat > "$T/bad.json" <<'JSON'
{"rules": [
  {"name": "fs_used", "match": {"probe": "fs"}, "value": "used", "warning": 90, "op": "=>"},
  {"name": "x", "match": {"probe": "fs"}, "value": "used", "warning": 90, "for": "2 min"},
  {"name": "x", "match": {"probe": "filesystem"}, "value": "used", "warning": 1},
  {"name": "cap", "match": {"probe": "fs"}, "value": "used", "detector": "forecast",
   "forecast": {"capacity": 1e9, "warning": "1d", "critical": "3d"}}
]}
JSON
config "$T/bad.json"
rc=0; "$CENTRAL" --check-config -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
cat "$T/out"
check "bad rules: exit 2" [ "$rc" -eq 2 ]
check "bad rules: rules[0].op named, with both files" \
	grep -q "^$T/central.json: $T/bad.json: rules\[0\]\.op: \"=>\" is not one of" "$T/out"
check "bad rules: rules[1].for named" grep -q "bad.json: rules\[1\]\.for: expected a duration" "$T/out"
check "bad rules: duplicate name named" grep -q "bad.json: rules\[2\]\.name: \"x\" is also" "$T/out"
check "bad rules: unknown probe named" grep -q "bad.json: rules\[2\]\.match\.probe: unknown probe" "$T/out"
check "bad rules: forecast horizon named" grep -q "bad.json: rules\[3\]\.forecast\.critical: " "$T/out"
check "bad rules: one line per problem" [ "$(wc -l < "$T/out")" -eq 5 ]

config "$T/missing.json"
rc=0; "$CENTRAL" --check-config -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "missing rules file: exit 2" [ "$rc" -eq 2 ]
check "missing rules file: named" grep -q "missing.json" "$T/out"

# The daemon refuses to start on a broken rules file, with the same words.
config "$T/bad.json"
rc=0; "$CENTRAL" -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "daemon with bad rules: does not start" [ "$rc" -ne 0 ]
check "daemon with bad rules: says why" grep -q "rules\[0\]\.op" "$T/out"

finish
