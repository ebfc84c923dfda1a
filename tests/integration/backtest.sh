#!/bin/sh
# backtest.sh: `headroom backtest` replays generated series through the
# analyzer's detectors: a disk filling linearly gets a forecast alert whose
# ETA brackets the truth, ahead of the 2-day mark; a log-rotation sawtooth
# without growth gets none; a load spike on a noisy daily cycle fires once,
# at its onset; bad input exits 2 with a specific message.
. "$(dirname "$0")/lib.sh"

need python3
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
finish
