#!/bin/sh
# central_crash.sh: the real headroom-central killed with SIGKILL again and
# again while three hosts post numbered batches, and started again each
# time. The client acts as an agent does: a batch that did not get a 200 is
# sent again until it does. Afterwards every RRD file reads (rrdtool info
# and fetch), the registry passes SQLite's integrity_check, every batch that
# got a 200 is in the archives with its values, no batch was refused (a
# batch left half-stored by a kill must be taken on its resend), and the
# registry's last_seq of each host is its last acknowledged seq.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
need rrdtool python3
KILLS=${HR_CRASH_KILLS:-10} # more for a longer hunt
HOSTS_N="h1 h2 h3"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOSTS=""
for h in $HOSTS_N; do
	"$HEADROOM" token new "$h" > "$T/tok.$h" 2>/dev/null
	HOSTS="$HOSTS${HOSTS:+, }$(sed -n 2p "$T/tok.$h")"
done
DATA="$T/data"
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$PORT", "insecure_http": true, "data_dir": "$DATA",
 "hosts": {$HOSTS}}
JSON

# The client: one thread per host, batches 1, 2, ... each with five
# archives' samples, t = BASE + 10 * seq, values derived from host and seq.
# A batch is sent until it gets 200 (connection refused or reset, 503:
# again after a pause); any other answer is logged in $T/refused. Stops
# after the batch in flight once $T/stop exists. Writes "HOST SEQ" for
# every 200 to $T/acked.
cat > "$T/client.py" <<'PY'
import http.client, json, os, sys, threading, time
port, t, base = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
hosts = sys.argv[4:]
lock = threading.Lock()
acked = open(t + "/acked", "a")
refused = open(t + "/refused", "a")

def batch(h, seq):
    ts = base + 10 * seq
    hv = hosts.index(h) * 1000
    s = [{"t": ts, "probe": "load", "instance": "",
          "values": {"load1": hv + seq, "load5": seq / 4.0, "load15": 1}}]
    for i in range(4):
        s.append({"t": ts, "probe": "crash", "instance": "i%d" % i,
                  "values": {"a": hv + seq + i, "b": -seq}})
    return json.dumps({"host": h, "agent": "crash-test", "seq": seq,
                       "interval": 10, "samples": s})

def run(h):
    tok = open(t + "/tok." + h).readline().strip()
    seq = 0
    while not os.path.exists(t + "/stop"):
        seq += 1
        body = batch(h, seq)
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("POST", "/api/v1/samples", body,
                          {"Authorization": "Bearer " + tok,
                           "Content-Type": "application/json"})
                r = c.getresponse()
                st, data = r.status, r.read()
                c.close()
            except (OSError, http.client.HTTPException):
                st, data = None, b""
            if st == 200:
                with lock:
                    acked.write("%s %d\n" % (h, seq))
                    acked.flush()
                break
            if st not in (None, 503):
                with lock:
                    refused.write("%s %d %s %s\n" % (h, seq, st, data.decode(errors="replace")))
                    refused.flush()
                break
            time.sleep(0.05)

ths = [threading.Thread(target=run, args=(h,)) for h in hosts]
for th in ths:
    th.start()
for th in ths:
    th.join()
PY

start_central() {
	bg "$CENTRAL" -c "$T/central.json" 2>> "$T/central.log"
	CPID=$BGPID
	wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" ||
		fail "central did not come up"
}

: > "$T/acked"
: > "$T/refused"
NOW=$(date +%s)
BASE=$((NOW - NOW % 10 - 86400))
start_central
bg python3 "$T/client.py" "$PORT" "$T" "$BASE" $HOSTS_N
CLIENT=$BGPID
wait_for 30 sh -c "[ \$(wc -l < '$T/acked') -ge 6 ]" || fail "no batch acknowledged"
# Killed at varied moments: 30 to 400 ms apart, some batches stored between.
i=0
while [ "$i" -lt "$KILLS" ]; do
	i=$((i + 1))
	sleep "$(python3 -c "import random; print(random.uniform(0.03, 0.4))")"
	n_before=$(wc -l < "$T/acked")
	kill -KILL "$CPID"
	wait "$CPID" 2>/dev/null || true
	echo "kill $i after $n_before acknowledged batches"
	start_central
done
# More batches after the last restart, then the client stops.
n=$(wc -l < "$T/acked")
wait_for 60 sh -c "[ \$(wc -l < '$T/acked') -ge $((n + 6)) ]" || fail "no batch after the last restart"
touch "$T/stop"
rc=0; wait "$CLIENT" || rc=$?
check "client exited 0" [ "$rc" -eq 0 ]
kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM after $KILLS kills: exit 0" [ "$rc" -eq 0 ]

echo "acknowledged: $(wc -l < "$T/acked") batches"
check "no batch refused (a resend after a kill is taken): $(head -c 500 "$T/refused")" \
	[ ! -s "$T/refused" ]
check "the kills happened while batches were stored" [ "$(wc -l < "$T/acked")" -gt 20 ]

# Every archive reads.
find "$DATA/rrd" -name '*.rrd' | sort > "$T/rrds"
check "15 archives (3 hosts x 5)" [ "$(wc -l < "$T/rrds")" -eq 15 ]
bad=""
while read -r f; do
	rrdtool info "$f" > /dev/null 2>&1 || bad="$bad info:$f"
	rrdtool fetch "$f" AVERAGE -s "$BASE" -e "$((BASE + 100))" > /dev/null 2>&1 || bad="$bad fetch:$f"
done < "$T/rrds"
check "every archive passes rrdtool info and fetch${bad:+:$bad}" [ -z "$bad" ]
check "no temporary files left in DATA/rrd" sh -c "[ -z \"\$(find '$DATA/rrd' -type f ! -name '*.rrd')\" ]"
check "registry: PRAGMA integrity_check is ok" python3 -c "
import sqlite3, sys
c = sqlite3.connect('$DATA/headroom.db')
r = c.execute('PRAGMA integrity_check').fetchall()
sys.exit(0 if r == [('ok',)] else 1)"

# Every acknowledged batch is in the archives with its values; last_seq is
# the last acknowledged seq (nothing stored twice: RRD refuses an update at
# or before its last, and the registry is where a resend is recognised).
check "every acknowledged batch is in the archives, with its values" python3 - "$T" "$DATA" "$BASE" $HOSTS_N <<'PY'
import subprocess, sys, sqlite3
t, data, base = sys.argv[1], sys.argv[2], int(sys.argv[3])
hosts = sys.argv[4:]
acked = {}
for line in open(t + "/acked"):
    h, seq = line.split()
    acked.setdefault(h, []).append(int(seq))
bad = 0

def fetch(f, last):
    out = subprocess.run(["rrdtool", "fetch", f, "AVERAGE", "-r", "10", "-s", str(base),
                          "-e", str(base + 10 * last)], capture_output=True, text=True,
                         check=True).stdout
    rows = {}
    for line in out.splitlines()[2:]:
        ts, _, vals = line.partition(":")
        rows[int(ts)] = [float(v) for v in vals.split()]
    return rows

db = sqlite3.connect(data + "/headroom.db")
for h in hosts:
    seqs = acked.get(h, [])
    if seqs != list(range(1, len(seqs) + 1)):
        print("%s: acknowledged out of order or with gaps" % h); bad += 1
    if not seqs:
        continue
    hv = hosts.index(h) * 1000
    rows = fetch("%s/rrd/%s/load.rrd" % (data, h), max(seqs))
    inst = [fetch("%s/rrd/%s/crash-i%d.rrd" % (data, h, i), max(seqs)) for i in range(4)]
    def same(got, want):
        return got is not None and all(abs(a - b) < 1e-9 for a, b in zip(got, want))

    # Per archive: the wrong seqs, and whether they hold the next seq's
    # values (the archive's history moved one step back in time).
    archives = [("load", rows, lambda q: [hv + q, q / 4.0, 1])]
    archives += [("crash-i%d" % i, inst[i], lambda q, i=i: [hv + q + i, -q]) for i in range(4)]
    for name, got, want in archives:
        wrong = [q for q in seqs if not same(got.get(base + 10 * q), want(q))]
        if not wrong:
            continue
        # A history moved one step back is what a kill inside librrd's
        # update (rows written, last update not yet) did before the undo
        # journal rolled such an update back: named, and failed as
        # anything else wrong.
        shifted = all(same(got.get(base + 10 * q), want(q + 1)) for q in wrong)
        bad += 1
        print("%s %s: %d of %d acknowledged batches wrong (seqs %d..%d)%s; seq %d holds %s, want %s"
              % (h, name, len(wrong), len(seqs), wrong[0], wrong[-1],
                 ", each holding the next seq's values: the history moved one step" if shifted else "",
                 wrong[0], got.get(base + 10 * wrong[0]), want(wrong[0])))
    r = db.execute("SELECT last_seq FROM hosts WHERE name = ?", (h,)).fetchone()
    if r is None or r[0] != max(seqs):
        print("%s: last_seq %s, last acknowledged %d" % (h, r, max(seqs))); bad += 1
sys.exit(1 if bad else 0)
PY
check "the log tells of batches left half-stored, if any, and nothing else odd" \
	sh -c "! grep -q 'error' '$T/central.log'"
echo "batches found half-stored after a kill: $(grep -c 'half-stored' "$T/central.log" || true)"
echo "updates rolled back from the undo journal: $(grep -c 'rolled back an interrupted update' "$T/central.log" || true)"
check "one undo journal per host in DATA/journal" \
	sh -c "[ \$(find '$DATA/journal' -name '*.undo' | wc -l) -eq 3 ]"
finish
