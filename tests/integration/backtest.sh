#!/bin/sh
# backtest.sh: `headroom backtest` replays generated series through the
# analyzer's detectors: a disk filling linearly gets a forecast alert whose
# ETA brackets the truth, ahead of the 2-day mark; a log-rotation sawtooth
# without growth gets none; a load spike on a noisy daily cycle fires once,
# at its onset; bad input exits 2 with a specific message. The same on RRD
# files made by rrdtool (--rrd), and through the analyzer and the alert
# lifecycle with a rules file (--rules): the default fs rules (threshold and
# forecast) on a filling fs archive, a rules file's own spike rule on load.
. "$(dirname "$0")/lib.sh"

need python3
need rrdtool
HEADROOM="$top_builddir/headroom"

python3 - "$T" <<'PY'
import math, random, sys
t = sys.argv[1]
rng = random.Random(4)
t0 = 1700006400
# 60 days hourly, capacity 100, full at day 60 exactly.
with open(t + "/fill.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(60 * 24):
        v = 20 + 80 * i / (60 * 24) + rng.gauss(0, 0.2) + 0.5 * math.sin(2 * math.pi * i / 24)
        f.write("%d,%.4f\n" % (t0 + 3600 * i, v))
# 60 days hourly: a weekly rotation from 30 to 70, no growth.
with open(t + "/saw.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(60 * 24):
        v = 30 + 40 * ((i % (7 * 24)) / (7 * 24)) + rng.gauss(0, 0.2)
        f.write("%d,%.4f\n" % (t0 + 3600 * i, v))
# 10 days at 5 min: a daily load cycle with noise, a spike on day 8 at 14:00.
spike = t0 + 8 * 86400 + 14 * 3600
with open(t + "/load.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(10 * 288):
        ts = t0 + 300 * i
        v = 2 + 1.5 * math.sin(2 * math.pi * (ts % 86400) / 86400) + rng.gauss(0, 0.15)
        if spike <= ts < spike + 1800:
            v += 12
        f.write("%d,%.4f\n" % (ts, v))
open(t + "/truth", "w").write("%d %d\n" % (t0 + 60 * 86400, spike))
PY
read -r FULL SPIKE < "$T/truth"

"$HEADROOM" backtest --csv "$T/fill.csv" --detector forecast --capacity 100 > "$T/fill.out"
check "filling disk: a forecast alert fires" grep -q '"state": "firing", "rule": "forecast"' "$T/fill.out"
check "filling disk: its first alert comes more than 2 days early, ETA bounds around the truth" \
	python3 -c 'import json,sys
e = json.loads(open(sys.argv[1]).readline()); full = int(sys.argv[2])
ok = e["t"] < full - 2 * 86400 and e["eta_early"] <= full + 86400 and e["eta_late"] >= full - 86400 and abs(e["eta"] - full) < 2 * 86400
print("first alert %.1f days ahead, eta off by %.1f h" % ((full - e["t"]) / 86400, (e["eta"] - full) / 3600))
sys.exit(0 if ok else 1)' "$T/fill.out" "$FULL"

"$HEADROOM" backtest --csv "$T/saw.csv" --detector forecast --capacity 100 --horizon 7d > "$T/saw.out"
check "sawtooth without growth: no forecast alert" [ ! -s "$T/saw.out" ]

"$HEADROOM" backtest --csv "$T/load.csv" --detector spike > "$T/load.out"
check "load spike: one firing event" [ "$(grep -c '"state": "firing"' "$T/load.out")" -eq 1 ]
check "load spike: it fires at the onset (within 15 min)" \
	python3 -c 'import json,sys
e = [json.loads(l) for l in open(sys.argv[1]) if "firing" in l][0]
print("fired %+d s from the onset" % (e["t"] - int(sys.argv[2])))
sys.exit(0 if 0 <= e["t"] - int(sys.argv[2]) <= 900 else 1)' "$T/load.out" "$SPIKE"
check "load spike: every line is JSON with t, state, rule, eta" \
	python3 -c 'import json,sys
sys.exit(0 if all({"t","state","rule","eta"} <= set(json.loads(l)) for l in open(sys.argv[1])) else 1)' "$T/load.out"

printf 'timestamp,value\n1700000000,2\nyesterday,3\n' > "$T/bad.csv"
rc=0; "$HEADROOM" backtest --csv "$T/bad.csv" --detector spike 2> "$T/err" || rc=$?
check "bad CSV: exit 2 naming the line" sh -c "[ $rc -eq 2 ] && grep -q 'line 3: unreadable timestamp' '$T/err'"
rc=0; "$HEADROOM" backtest --csv "$T/fill.csv" --detector forecast 2> "$T/err" || rc=$?
check "forecast without --capacity: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'needs --capacity' '$T/err'"
rc=0; "$HEADROOM" backtest --csv "$T/fill.csv" --detector magic 2> "$T/err" || rc=$?
check "unknown detector: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'neither spike nor forecast' '$T/err'"
rc=0; "$HEADROOM" backtest --csv "$T/missing.csv" --detector spike 2> "$T/err" || rc=$?
check "missing file: exit 2 naming it" sh -c "[ $rc -eq 2 ] && grep -q 'missing.csv' '$T/err'"
# --- RRD files (--rrd) and the analyzer (--rules) ---
python3 - "$T" "$FULL" "$SPIKE" <<'PY'
import math, random, sys
t, full, spike = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
t0 = full - 60 * 86400
# The archives as the central names them: fs-INSTANCE.rrd and load.rrd.
with open(t + "/rrd.cmds", "w") as f:
    f.write("create %s/fs-%%2Fdata.rrd --start %d --step 3600 DS:size:GAUGE:7200:0:U "
            "DS:used:GAUGE:7200:0:U RRA:AVERAGE:0.5:1:2000 RRA:MAX:0.5:24:100\n" % (t, t0 - 3600))
    rows = []
    for i in range(59 * 24):
        v = 20 + 80 * i / (60 * 24) + rng.gauss(0, 0.2) + 0.5 * math.sin(2 * math.pi * i / 24)
        rows.append("%d:100:%.4f" % (t0 + 3600 * i, v))
    for k in range(0, len(rows), 200):
        f.write("update %s/fs-%%2Fdata.rrd %s\n" % (t, " ".join(rows[k:k + 200])))
    l0 = spike - 8 * 86400 - 14 * 3600
    f.write("create %s/load.rrd --start %d --step 300 DS:load1:GAUGE:600:0:U "
            "DS:ncpu:GAUGE:600:0:U RRA:AVERAGE:0.5:1:4000\n" % (t, l0 - 300))
    rows = []
    for i in range(10 * 288):
        ts = l0 + 300 * i
        v = 2 + 1.5 * math.sin(2 * math.pi * (ts % 86400) / 86400) + rng.gauss(0, 0.15)
        if i == 5 * 288:
            continue  # one missing row: a gap, not a zero
        if spike <= ts < spike + 1800:
            v += 12
        rows.append("%d:%.4f:4" % (ts, v))
    for k in range(0, len(rows), 200):
        f.write("update %s/load.rrd %s\n" % (t, " ".join(rows[k:k + 200])))
PY
rrdtool - < "$T/rrd.cmds" > "$T/rrd.log" 2>&1
check "rrdtool made the archives" sh -c "[ -s '$T/fs-%2Fdata.rrd' ] && [ -s '$T/load.rrd' ] && ! grep -q ERROR '$T/rrd.log'"

cat > "$T/rules.json" <<'JSON'
{"rules": [
 {"name": "spike_load", "disabled": true},
 {"name": "load_jump", "match": {"probe": "load"}, "value": "load1", "detector": "spike",
  "spike": {"direction": "up"}, "severity": "warning", "summary": "{host}: load jumped to {value}"}
]}
JSON

"$HEADROOM" backtest --rrd "$T/fs-%2Fdata.rrd" --ds used --detector forecast --capacity 100 > "$T/rfill.out"
check "--rrd --detector forecast: an alert more than 2 days ahead" \
	python3 -c 'import json,sys
e = json.loads(open(sys.argv[1]).readline()); full = int(sys.argv[2])
print("first alert %.1f days ahead" % ((full - e["t"]) / 86400))
sys.exit(0 if e["state"] == "firing" and e["t"] < full - 2 * 86400 and e["eta_early"] <= full + 86400 and e["eta_late"] >= full - 86400 else 1)' "$T/rfill.out" "$FULL"

"$HEADROOM" backtest --rrd "$T/fs-%2Fdata.rrd" --rules "$T/rules.json" > "$T/rules_fs.out"
check "--rrd --rules: the default forecast rule fires ahead, ETA bounds around the truth" \
	python3 -c 'import json,sys
ev = [json.loads(l) for l in open(sys.argv[1])]; full = int(sys.argv[2])
e = [e for e in ev if e["rule"] == "forecast_fs_used" and e["state"] == "firing"][0]
print("forecast_fs_used %.1f days ahead, eta off by %.1f h, %s, instance %s" % ((full - e["t"]) / 86400, (e["eta"] - full) / 3600, e["severity"], e["instance"]))
sys.exit(0 if e["t"] < full - 2 * 86400 and e["eta_early"] <= full + 86400 and e["eta_late"] >= full - 86400 and e["instance"] == "/data" and e["probe"] == "fs" else 1)' "$T/rules_fs.out" "$FULL"
check "--rrd --rules: fs_used fires past 90 % (warning), then past 95 % (critical)" \
	python3 -c 'import json,sys
ev = [json.loads(l) for l in open(sys.argv[1]) if "\"fs_used\"" in l]
print([(e["state"], e["severity"], round(e["value"], 1)) for e in ev])
sys.exit(0 if len(ev) == 2 and ev[0]["severity"] == "warning" and 90 < ev[0]["value"] < 92 and ev[1]["severity"] == "critical" and 95 < ev[1]["value"] < 97 else 1)' "$T/rules_fs.out"

"$HEADROOM" backtest --rrd "$T/load.rrd" --rules "$T/rules.json" > "$T/rules_load.out"
check "--rrd --rules: the file's spike rule fires once at the onset and resolves; the disabled default is silent" \
	python3 -c 'import json,sys
ev = [json.loads(l) for l in open(sys.argv[1])]; spike = int(sys.argv[2])
print([(e["rule"], e["state"], e["t"] - spike) for e in ev])
sys.exit(0 if [(e["rule"], e["state"]) for e in ev] == [("load_jump", "firing"), ("load_jump", "resolved")] and 0 <= ev[0]["t"] - spike <= 900 else 1)' "$T/rules_load.out" "$SPIKE"

"$HEADROOM" backtest --csv "$T/load.csv" --probe load --value load1 --rules "$T/rules.json" > "$T/rules_csv.out"
check "--csv --rules: the same spike from the CSV" \
	sh -c "[ \"\$(grep -c '\"state\": \"firing\", \"rule\": \"load_jump\"' '$T/rules_csv.out')\" -eq 1 ]"

rc=0; "$HEADROOM" backtest --rrd "$T/load.rrd" --ds load5 --rules "$T/rules.json" 2> "$T/err" || rc=$?
check "missing DS: exit 2 naming it" sh -c "[ $rc -eq 2 ] && grep -q 'no data source \"load5\"' '$T/err'"
printf 'not an rrd\n' > "$T/junk.rrd"
rc=0; "$HEADROOM" backtest --rrd "$T/junk.rrd" --ds used --detector spike 2> "$T/err" || rc=$?
check "unreadable RRD: exit 2 naming it" sh -c "[ $rc -eq 2 ] && grep -q 'junk.rrd' '$T/err'"
rc=0; "$HEADROOM" backtest --rrd "$T/nothere.rrd" --rules "$T/rules.json" 2> "$T/err" || rc=$?
check "missing RRD: exit 2 naming it" sh -c "[ $rc -eq 2 ] && grep -q 'nothere.rrd' '$T/err'"
printf '{"rules": [{"name": "x", "match": {"probe": "load"}, "value": "load9", "op": ">", "warning": 1}]}' > "$T/bad.json"
rc=0; "$HEADROOM" backtest --rrd "$T/load.rrd" --rules "$T/bad.json" 2> "$T/err" || rc=$?
check "bad rules file: exit 2 with the rule's JSON path" sh -c "[ $rc -eq 2 ] && grep -q 'bad.json: rules\[0\].value' '$T/err'"
printf '{"rules": [' > "$T/broken.json"
rc=0; "$HEADROOM" backtest --rrd "$T/load.rrd" --rules "$T/broken.json" 2> "$T/err" || rc=$?
check "unparsable rules file: exit 2 naming it" sh -c "[ $rc -eq 2 ] && grep -q 'broken.json' '$T/err'"
rc=0; "$HEADROOM" backtest --csv "$T/load.csv" --rules "$T/rules.json" 2> "$T/err" || rc=$?
check "--csv --rules without --probe: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'needs --probe and --value' '$T/err'"
finish
