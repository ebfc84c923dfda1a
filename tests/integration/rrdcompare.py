#!/usr/bin/env python3
"""rrdcompare.py NAME AGENT.fetch CENTRAL.fetch END: every known value of
the agent's `rrdtool fetch` output up to END must be in the central's, equal.
Prints what it compared, writes the row count to AGENT.fetch.rows, exits 0
when something was compared and nothing is missing or different."""
import sys
def load(f):
    lines = open(f).read().splitlines()
    ds = lines[0].split()
    rows = {}
    for l in lines[2:]:
        t, rest = l.split(':', 1)
        rows[int(t)] = dict(zip(ds, rest.split()))
    return rows
a, c = load(sys.argv[2]), load(sys.argv[3])
rows = vals = miss = diff = 0
for t, v in sorted(a.items()):
    if t > int(sys.argv[4]):
        continue   # fetch may add a row past the end
    known = {k: x for k, x in v.items() if 'nan' not in x}
    if not known:
        continue
    rows += 1
    for k, x in known.items():
        vals += 1
        y = c.get(t, {}).get(k, '-nan')
        if 'nan' in y:
            miss += 1
            if miss <= 5: print("  %s: %d %s missing on the central" % (sys.argv[1], t, k))
        elif float(x) != float(y):
            diff += 1
            if diff <= 5: print("  %s: %d %s: agent %s, central %s" % (sys.argv[1], t, k, x, y))
print("%s: %d rows, %d values compared; %d missing, %d differ" % (sys.argv[1], rows, vals, miss, diff))
open(sys.argv[2] + ".rows", "w").write("%d\n" % rows)
sys.exit(0 if rows > 0 and miss == 0 and diff == 0 else 1)
