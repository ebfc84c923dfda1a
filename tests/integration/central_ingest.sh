#!/bin/sh
# central_ingest.sh: the real headroom-central on a loopback port, plain HTTP
# (insecure_http) and TLS (a self-signed certificate made with openssl),
# fed with headroom-agent's own --once --json output through curl: 200 and
# the RRD files, every 4xx with nothing written, a resend stored once,
# SIGHUP for a new host, `headroom token new`, and SIGTERM exiting 0.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
NE="$FIX/node_exporter/root"
need curl openssl rrdtool sha256sum sqlite3 python3

# Tokens from the real CLI; the hash line goes into the config as printed.
"$HEADROOM" token new web1 > "$T/tok1" 2>/dev/null
"$HEADROOM" token new web2 > "$T/tok2" 2>/dev/null
TOK1=$(sed -n 1p "$T/tok1")
TOK2=$(sed -n 1p "$T/tok2")
HASH1=$(printf '%s' "$TOK1" | sha256sum | cut -d' ' -f1)
check "token new: 64 hex digits" sh -c "printf '%s' '$TOK1' | grep -Eq '^[0-9a-f]{64}$'"
check "token new: line 2 holds the token's sha256" \
	grep -qx "\"web1\": {\"token_sha256\": \"$HASH1\"}" "$T/tok1"
check "token new: two tokens differ" [ "$TOK1" != "$TOK2" ]
rc=0; "$HEADROOM" token new ../etc > /dev/null 2>&1 || rc=$?
check "token new: invalid host name exits 2" [ "$rc" -eq 2 ]

# A config: DATA, hosts web1 and web2 (the lines as printed), small bodies.
write_config() { # FILE LISTEN EXTRA HOSTS
	cat > "$1" <<JSON
{"listen": "$2", $3 "data_dir": "$T/data", "max_body_bytes": 65536,
 "hosts": {$4}}
JSON
}
HOSTS="$(sed -n 2p "$T/tok1"), $(sed -n 2p "$T/tok2")"

# Real agent output for web1 and, with another host name, web3.
printf '{"host": "web1", "data_dir": "%s/agent"}' "$T" > "$T/agent.json"
"$AGENT" --once --json -c "$T/agent.json" --root "$NE" --only load,mem,md > "$T/doc1.json"
printf '{"host": "web3", "data_dir": "%s/agent"}' "$T" > "$T/agent3.json"
"$AGENT" --once --json -c "$T/agent3.json" --root "$NE" --only load > "$T/doc3.json"
SEQ=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seq"])' "$T/doc1.json")
# The same batch with its seq moved by $2 and its samples by $3 seconds.
shift_doc() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); d["seq"]+=int(sys.argv[2])
for s in d["samples"]: s["t"]+=int(sys.argv[3])
print(json.dumps(d))' "$1" "$2" "$3"
}

# post URL TOKEN FILE [CURL ARGS...]: prints the status; the body in $T/resp.
post() {
	u=$1; tk=$2; f=$3; shift 3
	if [ -n "$tk" ]; then
		curl -s -o "$T/resp" -w '%{http_code}' "$@" -H "Authorization: Bearer $tk" \
			-H 'Content-Type: application/json' --data-binary "@$f" "$u" || true
	else
		curl -s -o "$T/resp" -w '%{http_code}' "$@" \
			-H 'Content-Type: application/json' --data-binary "@$f" "$u" || true
	fi
}

snapshot() { (cd "$T/data" 2>/dev/null && find . -type f -name '*.rrd' | sort | xargs -r ls -l --time-style=+%s.%N) > "$1"; }

# --- --check-config ------------------------------------------------------
printf '{"listen": "nope", "hosts": {"a/b": {"token_sha256": "12"}}, "x": 1}' > "$T/bad.json"
rc=0; "$CENTRAL" --check-config -c "$T/bad.json" > "$T/check.out" 2>&1 || rc=$?
check "--check-config of a broken config exits 2" [ "$rc" -eq 2 ]
check "--check-config names every problem by its path" sh -c \
	"grep -q 'listen: ' '$T/check.out' && grep -q 'hosts.a/b: ' '$T/check.out' && grep -q 'x: unknown key' '$T/check.out' && grep -q 'tls: missing' '$T/check.out'"

# --- plain HTTP -------------------------------------------------------------
PORT=$(free_port)
URL="http://127.0.0.1:$PORT/api/v1/samples"
write_config "$T/central.json" "127.0.0.1:$PORT" '"insecure_http": true,' "$HOSTS"
check "--check-config of a good config exits 0" "$CENTRAL" --check-config -c "$T/central.json"
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" || fail "central did not come up"
check "insecure_http is logged as a warning" grep -q 'insecure_http is true' "$T/central.log"

check "POST of the agent's document: 200" [ "$(post "$URL" "$TOK1" "$T/doc1.json")" = 200 ]
check "answer is {\"acked\": SEQ}" pyjson "$T/resp" "d == {'acked': $SEQ}"
check "load archive under DATA/rrd/web1" [ -f "$T/data/rrd/web1/load.rrd" ]
check "mem archive under DATA/rrd/web1" [ -f "$T/data/rrd/web1/mem.rrd" ]
check "md archives under DATA/rrd/web1" sh -c "ls '$T/data/rrd/web1/' | grep -q '^md-md'"
T1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["samples"][0]["t"])' "$T/doc1.json")
check "rrdtool last is the sample's time" [ "$(rrdtool last "$T/data/rrd/web1/load.rrd")" = "$T1" ]
check "registry in DATA/headroom.db" [ -f "$T/data/headroom.db" ]

snapshot "$T/before"
check "resend of the same batch: 200" [ "$(post "$URL" "$TOK1" "$T/doc1.json")" = 200 ]
check "resend acked with its seq" pyjson "$T/resp" "d == {'acked': $SEQ}"
shift_doc "$T/doc1.json" 0 10 > "$T/same_seq_later.json"
check "same seq, later samples: 200" [ "$(post "$URL" "$TOK1" "$T/same_seq_later.json")" = 200 ]
check "resend writes nothing (rrdtool last unchanged)" [ "$(rrdtool last "$T/data/rrd/web1/load.rrd")" = "$T1" ]

# Every refusal, each followed by the check that nothing changed.
printf '{"host": "web1", "seq": 1' > "$T/broken.json"
python3 -c 'import sys; sys.stdout.write("{" + " " * 70000 + "}")' > "$T/big.json"
shift_doc "$T/doc1.json" 1 10 | sed 's/"host": "web1"/"host": "..\/..\/etc"/' > "$T/badhost.json"
shift_doc "$T/doc1.json" 1 10 | sed 's/"load1": [0-9.e+-]*/"load1": "high"/' > "$T/badtype.json"
shift_doc "$T/doc1.json" 1 10 > "$T/next.json"
check "no token: 401" [ "$(post "$URL" "" "$T/next.json")" = 401 ]
check "401 answer is a JSON error" pyjson "$T/resp" '"Authorization" in d["error"]'
check "unknown token: 401" [ "$(post "$URL" "0000$TOK1" "$T/next.json")" = 401 ]
check "token of web2 for web1's batch: 403" [ "$(post "$URL" "$TOK2" "$T/next.json")" = 403 ]
check "malformed JSON: 400" [ "$(post "$URL" "$TOK1" "$T/broken.json")" = 400 ]
check "400 names the JSON path" pyjson "$T/resp" 'd["error"].startswith("(top): ")'
check "host name with a path: 400" [ "$(post "$URL" "$TOK1" "$T/badhost.json")" = 400 ]
check "a string value: 400 naming samples[i].values.load1" sh -c \
	"[ \"\$(curl -s -o '$T/resp' -w '%{http_code}' -H 'Authorization: Bearer $TOK1' --data-binary @'$T/badtype.json' '$URL')\" = 400 ] && grep -q 'values.load1' '$T/resp'"
check "body over max_body_bytes (Content-Length): 413" [ "$(post "$URL" "$TOK1" "$T/big.json")" = 413 ]
check "body over max_body_bytes (chunked): 413" \
	[ "$(post "$URL" "$TOK1" "$T/big.json" -H 'Transfer-Encoding: chunked')" = 413 ]
check "unknown token with a huge body: 401 before the body" [ "$(post "$URL" "x" "$T/big.json")" = 401 ]
check "GET: 405" [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 405 ]
check "other path: 404" [ "$(post "http://127.0.0.1:$PORT/api/v1/other" "$TOK1" "$T/next.json")" = 404 ]
snapshot "$T/after"
check "nothing written by any of these (files, sizes, times)" cmp -s "$T/before" "$T/after"
check "nothing for web2 or ../../etc" sh -c "[ ! -e '$T/data/rrd/web2' ] && [ ! -e '$T/data/etc' ] && [ ! -e '$T/etc' ]"

check "next seq: 200" [ "$(post "$URL" "$TOK1" "$T/next.json")" = 200 ]
check "next seq is written" [ "$(rrdtool last "$T/data/rrd/web1/load.rrd")" = "$((T1 + 10))" ]
check "registry last_seq follows" sh -c \
	"[ \"\$(sqlite3 '$T/data/headroom.db' \"SELECT last_seq FROM hosts WHERE name='web1'\")\" = $((SEQ + 1)) ]"

# The same new batch five times at once: every copy acknowledged, stored once.
shift_doc "$T/doc1.json" 5 50 > "$T/burst.json"
CURLS=""
for i in 1 2 3 4 5; do
	curl -s -o "$T/burst.$i" -w '%{http_code}' -H "Authorization: Bearer $TOK1" \
		--data-binary "@$T/burst.json" "$URL" > "$T/burst.code.$i" &
	CURLS="$CURLS $!"
done
for p in $CURLS; do
	wait "$p" || true
done
check "five concurrent copies of a batch: all 200" \
	[ "$(cat "$T"/burst.code.* | tr -d '\n')" = 200200200200200 ]
check "and stored once: last_seq and rrdtool last" sh -c \
	"[ \"\$(sqlite3 '$T/data/headroom.db' \"SELECT last_seq FROM hosts WHERE name='web1'\")\" = $((SEQ + 5)) ] && [ \"\$(rrdtool last '$T/data/rrd/web1/load.rrd')\" = $((T1 + 50)) ]"

# SIGHUP: web3 added to the hosts.
"$HEADROOM" token new web3 > "$T/tok3" 2>/dev/null
TOK3=$(sed -n 1p "$T/tok3")
check "unknown host web3 before reload: 401" [ "$(post "$URL" "$TOK3" "$T/doc3.json")" = 401 ]
write_config "$T/central.json" "127.0.0.1:$PORT" '"insecure_http": true,' "$HOSTS, $(sed -n 2p "$T/tok3")"
kill -HUP "$CPID"
wait_for 10 grep -q 'reloaded: 3 hosts' "$T/central.log" || true
check "web3 after SIGHUP: 200" [ "$(post "$URL" "$TOK3" "$T/doc3.json")" = 200 ]
check "web3's archive" [ -f "$T/data/rrd/web3/load.rrd" ]
printf '{"listen": ' > "$T/central.json"
kill -HUP "$CPID"
wait_for 10 grep -q 'reload refused' "$T/central.log" || true
check "a broken config on SIGHUP is refused, the old hosts stay" \
	[ "$(post "$URL" "$TOK1" "$T/doc1.json")" = 200 ]
# Every config in force, and the refused one, is in the audit log with its
# SHA-256 (the good one's as it was: the file now holds the broken text).
sqlite3 "$T/data/headroom.db" "SELECT action, subject, detail FROM audit WHERE action LIKE 'config.%' ORDER BY id" > "$T/audit.txt"
check "audit: config.load, config.reload (3 hosts), config.refused" python3 -c 'import sys, hashlib
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
acts = [r[0] for r in rows]
broken = hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest()
ok = acts == ["config.load", "config.reload", "config.refused"] and all(r[1] == sys.argv[2] for r in rows)
ok = ok and "3 hosts" in rows[1][2] and ("sha256 " + broken) in rows[2][2] and broken not in rows[1][2]
sys.exit(0 if ok else 1)' "$T/audit.txt" "$T/central.json"

kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]

# --- TLS ------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null
PORT=$(free_port)
URL="https://127.0.0.1:$PORT/api/v1/samples"
write_config "$T/tls.json" "127.0.0.1:$PORT" \
	"\"tls\": {\"cert\": \"$T/cert.pem\", \"key\": \"$T/key.pem\"}," "$HOSTS"
bg "$CENTRAL" -c "$T/tls.json" 2> "$T/tls.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null --cacert "$T/cert.pem" "https://127.0.0.1:$PORT/" ||
	fail "TLS central did not come up"
check "no insecure warning with TLS" sh -c "! grep -q insecure_http '$T/tls.log'"
shift_doc "$T/doc1.json" 6 60 > "$T/tls_doc.json"
check "HTTPS POST verified against the cert: 200" \
	[ "$(post "$URL" "$TOK1" "$T/tls_doc.json" --cacert "$T/cert.pem")" = 200 ]
check "HTTPS batch is written" [ "$(rrdtool last "$T/data/rrd/web1/load.rrd")" = "$((T1 + 60))" ]
check "HTTPS token of web2 for web1's batch: 403" [ "$(post "$URL" "$TOK2" "$T/tls_doc.json" --cacert "$T/cert.pem" -o /dev/null)" = 403 ]
check "plain HTTP to the TLS port is not served" sh -c \
	"! curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$PORT/api/v1/samples' | grep -q '^[1-5]'"
kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM (TLS): exit 0" [ "$rc" -eq 0 ]

finish
