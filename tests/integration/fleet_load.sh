#!/bin/sh
# fleet_load.sh: a real headroom-central (plain HTTP on a loopback port,
# data in the temp folder, hosts from `fleetsim --emit-hosts`) under a
# simulated fleet: 50 hosts backfilling 2 h at 60 s in batches of 30 and a
# few live seconds, two hosts with every probe. Then every host's archives
# hold what fleetsim says it posted last (rrdtool lastupdate) and the whole
# history (rrdtool fetch against fleetsim --print); no 5xx; a rerun of the
# same history is acknowledged and stored once; 503 is retried with the
# same seq; a refusal (401) stops the run with a message. Nothing is timed.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
SIM="$top_builddir/bench/fleetsim"
need rrdtool sqlite3 python3

N=50
SEED=42
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/api/v1/samples"
NOW=$(date +%s)
END=$((NOW - NOW % 60 - 60))

"$SIM" --emit-hosts -n "$N" --seed "$SEED" > "$T/hosts.json"
"$SIM" --emit-hosts -n 2 --prefix full --seed "$SEED" > "$T/hosts_full.json"
check "--emit-hosts: one valid token_sha256 per host" python3 -c 'import json,re,sys
h=json.load(open(sys.argv[1]))
sys.exit(0 if len(h) == 50 and "sim0001" in h and "sim0050" in h and
	all(re.fullmatch("[0-9a-f]{64}", v["token_sha256"]) for v in h.values()) else 1)' "$T/hosts.json"
python3 -c 'import json,sys
h=json.load(open(sys.argv[1])); h.update(json.load(open(sys.argv[2])))
print(json.dumps({"listen": sys.argv[3], "insecure_http": True, "data_dir": sys.argv[4],
	"hosts": h}))' "$T/hosts.json" "$T/hosts_full.json" "127.0.0.1:$PORT" "$T/data" > "$T/central.json"

bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$PORT" ||
	fail "central did not come up"

# The fleet: 2 h of history, then live for a few seconds.
rc=0
"$SIM" -n "$N" --seed "$SEED" --probes load,md --interval 60 --backfill 2h --batch 30 \
	--end "$END" --live 3 --url "$URL" --stats --expect "$T/expect.jsonl" \
	> "$T/stats.json" 2> "$T/sim.err" || rc=$?
check "fleetsim: exit 0" [ "$rc" -eq 0 ]
check "fleetsim: every host's 4 history batches acknowledged, no error" pyjson "$T/stats.json" \
	'd["ok"] and d["batches"] >= 50 * 4 and d["errors"] == {} and d["values"] >= 50 * 120 * 13'
check "fleetsim: the expectation names every host" python3 -c 'import json,sys
hosts={json.loads(l)["host"] for l in open(sys.argv[1])}
sys.exit(0 if len(hosts) == 50 else 1)' "$T/expect.jsonl"

# lastupdate of each file: the last acknowledged sample, value for value.
cat > "$T/lastupdate.py" <<'PY'
import json, subprocess, sys

data, expect = sys.argv[1], sys.argv[2]
bad = 0
n = 0
for line in open(expect):
    e = json.loads(line)
    inst = "".join(c if c.isalnum() or c in "_.-" else "%%%02X" % ord(c)
                   for c in e["instance"])
    if inst.startswith("."):
        inst = "%2E" + inst[1:]
    name = e["probe"] + ("-" + inst if inst else "") + ".rrd"
    path = "%s/rrd/%s/%s" % (data, e["host"], name)
    try:
        out = subprocess.run(["rrdtool", "lastupdate", path], capture_output=True,
                             text=True, check=True).stdout.split("\n")
    except (subprocess.CalledProcessError, OSError) as ex:
        print("%s: %s" % (path, ex))
        bad += 1
        continue
    names = out[0].split()
    t, _, vals = out[2].partition(":")
    got = dict(zip(names, (float(v) for v in vals.split())))
    if int(t) != e["t"]:
        print("%s: last update %s, posted %d" % (path, t, e["t"]))
        bad += 1
    for k, v in e["values"].items():
        if k not in got or abs(got[k] - v) > 1e-9 * max(1.0, abs(v)):
            print("%s: %s is %s, posted %r" % (path, k, got.get(k), v))
            bad += 1
    n += 1
print("%d files checked" % n)
sys.exit(1 if bad or n == 0 else 0)
PY
check "every host's files: rrdtool lastupdate is the last posted sample" \
	python3 "$T/lastupdate.py" "$T/data" "$T/expect.jsonl"
check "50 hosts with load and md archives" sh -c \
	"[ \$(ls '$T/data/rrd' | grep -c '^sim') -eq 50 ] && [ \$(ls '$T'/data/rrd/sim*/load.rrd | wc -l) -eq 50 ] && [ \$(ls '$T'/data/rrd/sim*/md-md0.rrd | wc -l) -eq 50 ]"

# The history itself: every 60 s row of sim0007's load1 over the 2 h is the
# value fleetsim generates for that time.
"$SIM" --print -n 7 --seed "$SEED" --probes load --interval 60 --backfill 2h --batch 30 \
	--end "$END" > "$T/print.jsonl"
rrdtool fetch "$T/data/rrd/sim0007/load.rrd" AVERAGE -r 60 -s $((END - 7200)) -e "$END" \
	> "$T/fetch.txt"
check "rrdtool fetch: 120 rows of sim0007's load1 equal the generated history" python3 -c 'import json,sys
want={}
for line in open(sys.argv[1]):
    d=json.loads(line)
    if d["host"] == "sim0007":
        for s in d["samples"]:
            want[s["t"]]=s["values"]["load1"]
lines=open(sys.argv[2]).read().split("\n")
col=lines[0].split().index("load1")
got={}
for l in lines[2:]:
    if ":" in l:
        t,_,v=l.partition(":")
        got[int(t)]=float(v.split()[col])
ok=[t for t in want if t in got and abs(got[t]-want[t]) <= 1e-9*max(1,abs(want[t]))]
print(len(want), "generated,", len(ok), "equal")
sys.exit(0 if len(want) == 120 and len(ok) == 120 else 1)' "$T/print.jsonl" "$T/fetch.txt"

# Two hosts with every probe: each probe's files and the labels.
rc=0
"$SIM" -n 2 --prefix full --seed "$SEED" --interval 60 --backfill 30m --batch 10 --end "$END" \
	--url "$URL" --stats --expect "$T/expect_full.jsonl" > "$T/stats_full.json" 2>> "$T/sim.err" || rc=$?
check "every probe: exit 0, no error" sh -c "[ $rc -eq 0 ] && grep -q '\"errors\": {}' '$T/stats_full.json'"
check "every probe: lastupdate of each file is the last posted sample" \
	python3 "$T/lastupdate.py" "$T/data" "$T/expect_full.jsonl"
check "every probe: fs, net, disk, md, ups and bond files of full0001" sh -c \
	"cd '$T/data/rrd/full0001' && [ -f fs-%2F.rrd ] && [ -f fs-%2Fvar%2Flog.rrd ] && [ -f fs-%2Fsrv.rrd ] && [ -f net-eth1.rrd ] && [ -f disk-sdb.rrd ] && [ -f md-md0.rrd ] && [ -f ups-ups%40localhost.rrd ] && [ -f cpu.rrd ] && [ -f mem.rrd ] && [ -f ../full0002/bond-bond0.rrd ]"
check "every probe: labels in the registry" sh -c \
	"[ \"\$(sqlite3 '$T/data/headroom.db' \"SELECT value FROM labels WHERE host='full0001' AND probe='fs' AND instance='/srv' AND name='fstype'\")\" = xfs ]"

# The same history again: acknowledged as resends, nothing stored twice.
ls -l --time-style=+%s.%N "$T/data/rrd/sim0001" > "$T/before"
rc=0
"$SIM" -n "$N" --seed "$SEED" --probes load,md --interval 60 --backfill 2h --batch 30 \
	--end "$END" --url "$URL" --stats > "$T/stats2.json" 2>> "$T/sim.err" || rc=$?
check "rerun of the same history: every batch acknowledged" sh -c \
	"[ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"ok\"] and d[\"batches\"] == 200 and d[\"errors\"] == {} else 1)' '$T/stats2.json'"
ls -l --time-style=+%s.%N "$T/data/rrd/sim0001" > "$T/after"
check "rerun: sim0001's files untouched" cmp -s "$T/before" "$T/after"

# A refusal stops the run: tokens of another seed are unknown (401).
rc=0
"$SIM" -n 3 --seed 999 --probes load --backfill 10m --end "$END" --url "$URL" \
	> /dev/null 2> "$T/sim401.err" || rc=$?
check "unknown tokens: exit 1 with the status and the central's message" sh -c \
	"[ $rc -eq 1 ] && grep -q 'HTTP 401' '$T/sim401.err' && grep -q 'unknown token' '$T/sim401.err'"

# 503: a file where sim0050's folder goes makes its store fail; fleetsim
# retries the same batch, then gives up after --max-tries.
python3 -c 'import json,sys
c=json.load(open(sys.argv[1]))
c["hosts"].update(json.loads(sys.stdin.read()))
json.dump(c, open(sys.argv[1], "w"))' "$T/central.json" <<EOF
$("$SIM" --emit-hosts -n 1 --prefix blocked --seed "$SEED")
EOF
kill -HUP "$CPID"
wait_for 10 grep -q 'reloaded: 53 hosts' "$T/central.log" || fail "central did not reload"
: > "$T/data/rrd/blocked0001"
rc=0
"$SIM" -n 1 --prefix blocked --seed "$SEED" --probes load --backfill 5m --end "$END" \
	--url "$URL" --max-tries 3 --stats > "$T/stats503.json" 2> "$T/sim503.err" || rc=$?
check "503: retried with the same seq, then given up (exit 1)" sh -c \
	"[ $rc -eq 1 ] && grep -q 'giving up after 3 tries' '$T/sim503.err' && grep -q '\"503\": 3' '$T/stats503.json'"
rm -f "$T/data/rrd/blocked0001"
rc=0
"$SIM" -n 1 --prefix blocked --seed "$SEED" --probes load --backfill 5m --end "$END" \
	--url "$URL" --stats > "$T/stats503b.json" 2>> "$T/sim503.err" || rc=$?
check "503: once the store works again the same batch is stored" sh -c \
	"[ $rc -eq 0 ] && [ \"\$(rrdtool last '$T/data/rrd/blocked0001/load.rrd')\" = $END ]"

check "no 5xx but the three provoked ones" [ "$(grep -c 'answered 5' "$T/central.log")" -eq 3 ]
kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "central: SIGTERM, exit 0" [ "$rc" -eq 0 ]

# TLS: the same fleet code over HTTPS, verified with --cacert.
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
		-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	PORT=$(free_port)
	python3 -c 'import json,sys
c=json.load(open(sys.argv[1])); del c["insecure_http"]
c["listen"]=sys.argv[2]; c["tls"]={"cert": sys.argv[3], "key": sys.argv[4]}
c["data_dir"]=sys.argv[5]
json.dump(c, open(sys.argv[6], "w"))' "$T/central.json" "127.0.0.1:$PORT" "$T/cert.pem" "$T/key.pem" \
		"$T/tlsdata" "$T/tls.json"
	bg "$CENTRAL" -c "$T/tls.json" 2> "$T/tls.log"
	CPID=$BGPID
	wait_for 10 python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$PORT" ||
		fail "TLS central did not come up"
	rc=0
	"$SIM" -n 3 --seed "$SEED" --probes load --backfill 10m --end "$END" \
		--url "https://127.0.0.1:$PORT/api/v1/samples" --cacert "$T/cert.pem" --stats \
		> "$T/stats_tls.json" 2> "$T/sim_tls.err" || rc=$?
	check "HTTPS with --cacert: every batch acknowledged" sh -c \
		"[ $rc -eq 0 ] && [ \"\$(rrdtool last '$T/tlsdata/rrd/sim0003/load.rrd')\" = $END ]"
	rc=0
	"$SIM" -n 1 --seed "$SEED" --probes load --backfill 10m --end "$END" --max-tries 1 \
		--url "https://127.0.0.1:$PORT/api/v1/samples" > /dev/null 2> "$T/sim_tls2.err" || rc=$?
	check "HTTPS without the CA: refused, exit 1" [ "$rc" -eq 1 ]
	kill -TERM "$CPID"
	wait "$CPID" || true
fi
finish
