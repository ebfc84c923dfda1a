#!/bin/sh
# central_rrdcached.sh: headroom-central writing through a real rrdcached
# (started here on a UNIX socket, -b BASE -B -R): the agent's document lands
# in BASE/HOST/*.rrd with its values once flushed, nothing under DATA/rrd;
# a batch older than the archives is refused (400) through the daemon too; a
# new value becomes a new DS; rrdcached stopped: 503 and nothing acked,
# restarted: the same batch stored. And a host posting with interval 1 that
# stops is marked stale in the registry, and fresh again when it posts. And
# the dashboards (series API, /graph, a host's page) read through the daemon:
# they show what it has not written to the file yet.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
NE="$FIX/node_exporter/root"
need curl rrdtool rrdcached sha256sum python3

# One value from the registry (python3's sqlite3: the CLI may be missing).
db() {
	python3 -c 'import sqlite3,sys
r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
print("" if r is None else r[0])' "$T/data/headroom.db" "$1"
}

SOCK="$T/rrdcached.sock"
BASE="$T/base"
mkdir -p "$BASE" "$T/journal"
start_rrdcached() {
	bg rrdcached -g -F -l "unix:$SOCK" -b "$BASE" -B -R -p "$T/rrdcached.pid" \
		-j "$T/journal" -o "$T/rrdcached.log"
	RPID=$BGPID
	wait_for 10 python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$SOCK" ||
		fail "rrdcached does not answer"
}
stop_rrdcached() {
	kill -TERM "$RPID"
	wait "$RPID" 2>/dev/null || true
	rm -f "$SOCK"
}
flush() { # REL: the daemon writes what it holds for BASE/REL
	python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(("FLUSH " + sys.argv[2] + "\n").encode())
sys.exit(0 if s.makefile().readline().startswith("0 ") else 1)' "$SOCK" "$1"
}
# lastupdate FILE DS: "TIME VALUE" of DS at the file's last update (the
# value as python3 prints the number, to compare with the document's).
lastupdate() {
	rrdtool lastupdate "$1" | python3 -c 'import sys
lines=[l.split() for l in sys.stdin if l.strip()]
names=lines[0]; t,vals=lines[-1][0].rstrip(":"),lines[-1][1:]
v=vals[names.index(sys.argv[1])] if sys.argv[1] in names else "none"
print(t, v if v in ("none", "U") else repr(float(v)))' "$2"
}

"$HEADROOM" token new web1 > "$T/tok1" 2>/dev/null
"$HEADROOM" token new web2 > "$T/tok2" 2>/dev/null
TOK1=$(sed -n 1p "$T/tok1")
TOK2=$(sed -n 1p "$T/tok2")
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/api/v1/samples"
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$PORT", "insecure_http": true, "data_dir": "$T/data",
 "rrdcached": "unix:$SOCK",
 "hosts": {$(sed -n 2p "$T/tok1"), $(sed -n 2p "$T/tok2")}}
JSON

printf '{"host": "web1", "data_dir": "%s/agent"}' "$T" > "$T/agent.json"
"$AGENT" --once --json -c "$T/agent.json" --root "$NE" --only load,mem > "$T/doc1.json"
SEQ=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seq"])' "$T/doc1.json")
T1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"][0]["t"])' "$T/doc1.json")
LOAD1=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(repr(float([s for s in d["samples"] if s["probe"] == "load"][0]["values"]["load1"])))' "$T/doc1.json")
# The batch with seq moved by $2, samples by $3 s, and values added ($4: JSON).
shift_doc() {
	extra='{}'
	[ $# -lt 4 ] || extra=$4
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); d["seq"]+=int(sys.argv[2])
for s in d["samples"]:
    s["t"]+=int(sys.argv[3])
    if s["probe"] == "load": s["values"].update(json.loads(sys.argv[4]))
print(json.dumps(d))' "$1" "$2" "$3" "$extra"
}
post() { # TOKEN FILE: prints the status; the body in $T/resp
	curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $1" \
		--data-binary "@$2" "$URL" || true
}

sed "s|\"unix:$SOCK\"|\"host:\"|" "$T/central.json" > "$T/bad.json"
rc=0; "$CENTRAL" --check-config -c "$T/bad.json" > "$T/check.out" 2>&1 || rc=$?
check "--check-config: a malformed rrdcached address exits 2, naming the key" \
	sh -c "[ $rc -eq 2 ] && grep -q 'rrdcached: ' '$T/check.out'"
check "--check-config: the good one passes (daemon not asked)" "$CENTRAL" --check-config -c "$T/central.json"

start_rrdcached
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" || fail "central did not come up"
check "no \"not implemented\" warning for rrdcached" sh -c "! grep -q 'rrdcached.*not implemented' '$T/central.log'"
check "the start names rrdcached" grep -q "through rrdcached at unix:$SOCK" "$T/central.log"

check "POST through rrdcached: 200" [ "$(post "$TOK1" "$T/doc1.json")" = 200 ]
check "acked with its seq" pyjson "$T/resp" "d == {'acked': $SEQ}"
check "files in rrdcached's base: BASE/web1/load.rrd, mem.rrd" \
	sh -c "[ -f '$BASE/web1/load.rrd' ] && [ -f '$BASE/web1/mem.rrd' ]"
check "nothing under DATA/rrd" [ ! -e "$T/data/rrd" ]
check "FLUSH" flush web1/load.rrd
check "rrdtool lastupdate: the sample's time and load1" \
	[ "$(lastupdate "$BASE/web1/load.rrd" load1)" = "$T1 $LOAD1" ]
check "the DS of the load probe" sh -c \
	"rrdtool lastupdate '$BASE/web1/load.rrd' | head -1 | grep -q 'load1 load5 load15'"
check "rrdcached's archives have the layout of the file backend (2-day native)" sh -c \
	"rrdtool info '$BASE/web1/load.rrd' | grep -q '^rra\\[0\\].pdp_per_row = 1\$'"

# Older than the archive, through the daemon: 400, nothing acked.
shift_doc "$T/doc1.json" 1 0 > "$T/same_t.json"
check "a new seq at the archive's last update: 400" [ "$(post "$TOK1" "$T/same_t.json")" = 400 ]
check "400 names the sample, t and the last update" \
	pyjson "$T/resp" "'is not after the archive\\'s last update $T1' in d['error'] and d['error'].startswith('samples[')"
check "registry last_seq unchanged" [ "$(db "SELECT last_seq FROM hosts WHERE name='web1'")" = "$SEQ" ]

# A new value: a DS added to the file through the daemon.
shift_doc "$T/doc1.json" 1 10 '{"extra": 7}' > "$T/extra.json"
check "a batch with a new value: 200" [ "$(post "$TOK1" "$T/extra.json")" = 200 ]
flush web1/load.rrd
check "the new value is a new DS, written" [ "$(lastupdate "$BASE/web1/load.rrd" extra)" = "$((T1 + 10)) 7.0" ]
check "the old DS still written" [ "$(lastupdate "$BASE/web1/load.rrd" load1)" = "$((T1 + 10)) $LOAD1" ]

# rrdcached down: 503, nothing acked; up again: the same batch is stored.
stop_rrdcached
shift_doc "$T/doc1.json" 2 20 > "$T/next.json"
check "rrdcached stopped: 503" [ "$(post "$TOK1" "$T/next.json")" = 503 ]
check "503 says retry later" pyjson "$T/resp" "'retry later' in d['error']"
check "nothing acked: last_seq unchanged" [ "$(db "SELECT last_seq FROM hosts WHERE name='web1'")" = "$((SEQ + 1))" ]
check "the failure is logged with the daemon's address" grep -q "cannot connect to unix:$SOCK" "$T/central.log"
start_rrdcached
check "rrdcached back: the same batch 200" [ "$(post "$TOK1" "$T/next.json")" = 200 ]
check "acked with its seq" pyjson "$T/resp" "d == {'acked': $((SEQ + 2))}"
flush web1/load.rrd
check "and stored" [ "$(lastupdate "$BASE/web1/load.rrd" load1)" = "$((T1 + 20)) $LOAD1" ]
check "recovery is logged" grep -q 'web1: storing again' "$T/central.log"

# Stale: web2 posts with interval 1 and stops.
printf '{"host": "web2", "data_dir": "%s/agent2"}' "$T" > "$T/agent2.json"
"$AGENT" --once --json -c "$T/agent2.json" --root "$NE" --only load > "$T/doc2.json"
python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); d["interval"]=1
for s in d["samples"]: s.pop("step", None)
print(json.dumps(d))' "$T/doc2.json" > "$T/doc2i.json"
check "web2 with interval 1: 200" [ "$(post "$TOK2" "$T/doc2i.json")" = 200 ]
check "web2 is fresh" [ "$(db "SELECT stale FROM hosts WHERE name='web2'")" = 0 ]
wait_for 30 [ "$(db "SELECT stale FROM hosts WHERE name='web2'")" = 1 ] || true
check "web2 marked stale" [ "$(db "SELECT stale FROM hosts WHERE name='web2'")" = 1 ]
check "marked after 5 intervals or more without data" \
	[ "$(db "SELECT stale_since - last_seen >= 5 FROM hosts WHERE name='web2'")" = 1 ]
check "logged: host web2 is stale" grep -q 'host web2 is stale: no data for [0-9]* s' "$T/central.log"
shift_doc "$T/doc2i.json" 1 1 > "$T/doc2n.json"
check "web2 posts again: 200" [ "$(post "$TOK2" "$T/doc2n.json")" = 200 ]
check "web2 fresh again" [ "$(db "SELECT stale FROM hosts WHERE name='web2'")" = 0 ]
check "logged: host web2 reports again" grep -q 'host web2 reports again' "$T/central.log"
check "stale logged once" [ "$(grep -c 'host web2 is stale' "$T/central.log")" = 1 ]

kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]
stop_rrdcached

# The dashboards read through rrdcached: a daemon that writes nothing by
# itself (-w 3600) with the central's DATA/rrd as its base. The series API,
# /graph and a host's page flush what it holds first: each shows the batch
# just stored while the file on disk did not have it before.
SOCK="$T/rrdcached2.sock"
BASE="$T/data2/rrd"
mkdir -p "$BASE" "$T/journal2"
bg rrdcached -g -w 3600 -f 7200 -l "unix:$SOCK" -b "$BASE" -B -R -p "$T/rrdcached2.pid" \
	-j "$T/journal2" -o "$T/rrdcached2.log"
RPID=$BGPID
wait_for 10 python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$SOCK" ||
	fail "rrdcached -w 3600 does not answer"
PORT=$(free_port)
WPORT=$(free_port)
while [ "$WPORT" = "$PORT" ]; do WPORT=$(free_port); done
URL="http://127.0.0.1:$PORT/api/v1/samples"
WEB="http://127.0.0.1:$WPORT"
cat > "$T/central2.json" <<JSON
{"listen": "127.0.0.1:$PORT", "insecure_http": true, "data_dir": "$T/data2",
 "rrdcached": "unix:$SOCK", "web": {"listen": "127.0.0.1:$WPORT"},
 "hosts": {$(sed -n 2p "$T/tok1")}}
JSON
VPW=$(python3 -c 'import secrets; print(secrets.token_urlsafe(15))')
printf '%s\n' "$VPW" | "$HEADROOM" user add viewer1 --role viewer --password-stdin \
	-c "$T/central2.json" > "$T/user.out" 2>&1 || { cat "$T/user.out"; fail "headroom user add viewer1"; }
bg "$CENTRAL" -c "$T/central2.json" 2> "$T/central2.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null "$WEB/login" || fail "central (web listener) did not come up"
check "POST /login as a viewer: 303 with a session cookie" [ "$(curl -s -o /dev/null -w '%{http_code}' \
	-c "$T/jar" --data-urlencode username=viewer1 --data-urlencode "password=$VPW" "$WEB/login")" = 303 ]
get() { # PATH OUT: prints the status
	curl -s -b "$T/jar" -o "$2" -w '%{http_code}' "$WEB$1" || true
}
# disk_last FILE: the file's last update as the file itself has it (no
# daemon asked: RRDCACHED_ADDRESS unset).
disk_last() { env -u RRDCACHED_ADDRESS rrdtool info "$1" | sed -n 's/^last_update = //p'; }
RRD="$BASE/web1/load.rrd"
# Three batches, a minute apart, ending 3 minutes before the sample's time.
for k in 0 1 2; do
	shift_doc "$T/doc1.json" "$k" "$((60 * k - 300))" > "$T/w$k.json"
	check "w=3600: batch $k through rrdcached: 200" [ "$(post "$TOK1" "$T/w$k.json")" = 200 ]
done
check "the file on disk misses the batches (only created)" [ "$(disk_last "$RRD")" -lt "$((T1 - 300))" ]
S="/api/v1/series?host=web1&probe=load&instance=&ds=load1&start=$((T1 - 900))&end=$((T1 + 60))"
check "GET /api/v1/series: 200" [ "$(get "$S" "$T/series.json")" = 200 ]
check "its points have the load1 just stored" pyjson "$T/series.json" \
	"d['ds'] == ['load1'] and any(p[1] is not None and abs(p[1] - $LOAD1) < 1e-9 for p in d['points'])"
check "the file was flushed: its last update is the last batch's" [ "$(disk_last "$RRD")" = "$((T1 - 180))" ]
check "GET /api/v1/series (the list): 200" [ "$(get "/api/v1/series?host=web1" "$T/list.json")" = 200 ]
check "the list's last_update is the last batch's" pyjson "$T/list.json" \
	"[s['last_update'] for s in d['series'] if s['probe'] == 'load'] == [$((T1 - 180))]"

shift_doc "$T/doc1.json" 3 -120 > "$T/w3.json"
check "w=3600: one more batch: 200" [ "$(post "$TOK1" "$T/w3.json")" = 200 ]
check "the file on disk misses it" [ "$(disk_last "$RRD")" = "$((T1 - 180))" ]
G="/graph?host=web1&probe=load&view=load&start=$((T1 - 900))&end=$((T1 + 60))&fmt=svg&h=200"
check "GET /graph (svg): 200" [ "$(get "$G" "$T/graph.svg")" = 200 ]
check "an SVG" grep -q '<svg' "$T/graph.svg"
check "GET /graph: after it the file has the batch" [ "$(disk_last "$RRD")" = "$((T1 - 120))" ]
shift_doc "$T/doc1.json" 4 -60 > "$T/w4.json"
check "w=3600: one more batch: 200" [ "$(post "$TOK1" "$T/w4.json")" = 200 ]
check "GET /graph (png): 200" [ "$(get "/graph?host=web1&probe=load&view=load" "$T/graph.png")" = 200 ]
check "a PNG" python3 -c 'import sys; sys.exit(0 if open(sys.argv[1], "rb").read(8) == b"\x89PNG\r\n\x1a\n" else 1)' "$T/graph.png"
check "the file has that batch" [ "$(disk_last "$RRD")" = "$((T1 - 60))" ]
shift_doc "$T/doc1.json" 5 0 > "$T/w5.json"
check "w=3600: the last batch: 200" [ "$(post "$TOK1" "$T/w5.json")" = 200 ]
check "the file on disk misses it" [ "$(disk_last "$RRD")" = "$((T1 - 60))" ]
check "GET /hosts/web1: 200" [ "$(get "/hosts/web1" "$T/host.html")" = 200 ]
check "with its latest values" grep -q 'Latest values' "$T/host.html"
check "GET /hosts/web1: after it the file has the last batch" [ "$(disk_last "$RRD")" = "$T1" ]
check "no flush failure logged" sh -c "! grep -q 'read without what rrdcached holds' '$T/central2.log'"

# rrdcached gone: the pages still answer, from the files, and say why once.
stop_rrdcached
check "rrdcached stopped: GET /api/v1/series still 200" [ "$(get "$S" "$T/series2.json")" = 200 ]
check "rrdcached stopped: GET /graph still 200" [ "$(get "$G" "$T/graph2.svg")" = 200 ]
check "the flush failure is logged with the daemon's address" \
	grep -q "read without what rrdcached holds for it: rrdcached: cannot connect to unix:$SOCK" "$T/central2.log"
kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]
finish
