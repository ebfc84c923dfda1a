#!/usr/bin/env python3
"""Synthetic server series without anomalies, for the spike detector's
false-alarm check: every alert on them is a false alarm. Deterministic
(fixed seeds). Writes OUTDIR/NAME.csv ("timestamp,value", 5-minute steps,
28 days) and prints the relative file names, one a line.

Usage: spikes-synth.py OUTDIR
"""
import math
import os
import random
import sys

STEP = 300
DAYS = 28
T0 = 1396310400  # 2014-04-01 00:00 UTC, a Tuesday
N = DAYS * 86400 // STEP
DAY = 86400 // STEP


def flat(i, r):
    return 45.0


def quantised(i, r):
    # a process count: mostly 3, sometimes 4 or 2, integers only
    u = r.random()
    return 4.0 if u < 0.05 else 2.0 if u < 0.08 else 3.0


def daily(i, r):
    ph = 2 * math.pi * (i % DAY) / DAY
    return 50 - 20 * math.cos(ph) + r.gauss(0, 3)


def backup(i, r):
    # daily cycle plus a 30-minute backup at 02:00 at five times the load,
    # and a longer full backup on Sunday nights
    v = daily(i, r)
    slot = i % DAY
    dow = (i // DAY + 1) % 7  # 0 = Monday; T0 is a Tuesday
    if 24 <= slot < 30:
        v = 150 + r.gauss(0, 5)
    if dow == 6 and 36 <= slot < 72:
        v = 120 + r.gauss(0, 5)
    return v


def heavy(i, r):
    # bytes/s with Pareto-tailed bursts (alpha 2.5) on a daily cycle
    ph = 2 * math.pi * (i % DAY) / DAY
    base = 2e6 * (1.5 - math.cos(ph))
    return base * (0.8 + 0.4 * r.random()) + 2e5 * (r.paretovariate(2.5) - 1)


def weekly(i, r):
    # office load: busy on weekdays, quiet at weekends
    dow = (i // DAY + 1) % 7
    ph = 2 * math.pi * (i % DAY) / DAY
    amp = 5 if dow >= 5 else 30
    return 10 + amp * max(0.0, -math.cos(ph)) + r.gauss(0, 2)


def load(i, r):
    # a load average: 1-minute smoothing of a noisy daily demand, 2 decimals
    return round(max(0.0, 1.2 - 0.8 * math.cos(2 * math.pi * (i % DAY) / DAY)
                     + abs(r.gauss(0, 0.3))), 2)


SERIES = [("flat", flat), ("quantised", quantised), ("daily", daily),
          ("backup", backup), ("heavy", heavy), ("weekly", weekly), ("loadavg", load)]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for k, (name, fn) in enumerate(SERIES):
        r = random.Random(1000 + k)
        with open(os.path.join(out, name + ".csv"), "w") as f:
            f.write("timestamp,value\n")
            for i in range(N):
                f.write("%d,%.6g\n" % (T0 + i * STEP, fn(i, r)))
        print(name + ".csv")


if __name__ == "__main__":
    main()
