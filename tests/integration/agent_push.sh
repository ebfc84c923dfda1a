#!/bin/sh
# agent_push.sh: headroom-agent at a 1 s interval pushing to the real
# headroom-central: over plain HTTP (insecure_http, with the agent's warning),
# over TLS verified against a CA made here with openssl, and against a
# central whose certificate the configured CA did not sign: that one is
# refused and logged, and the batches stay in the spool.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
NE="$FIX/node_exporter/root"
need openssl rrdtool sha256sum python3 curl

"$HEADROOM" token new web1 > "$T/tok" 2>/dev/null
"$HEADROOM" token new web2 > "$T/tok2" 2>/dev/null
TOK=$(sed -n 1p "$T/tok")
TOK2=$(sed -n 1p "$T/tok2")
HOSTLINE="$(sed -n 2p "$T/tok"), $(sed -n 2p "$T/tok2")"

# central_config FILE PORT EXTRA DATA
central_config() {
	cat > "$1" <<JSON
{"listen": "127.0.0.1:$2", $3 "data_dir": "$4", "hosts": {$HOSTLINE}}
JSON
}
# agent_config FILE DATA URL EXTRA [HOST TOKEN]
agent_config() {
	cat > "$1" <<JSON
{"host": "${5:-web1}", "interval": 1, "data_dir": "$2",
 "central": [{"url": "$3", "token": "${6:-$TOK}" $4}],
 "probes": {"fs": false, "md": false, "net": false, "bond": false, "psi": false, "disk": false}}
JSON
}
# newest RRD DS: the newest known value of DS in RRD (a script, so that the
# checks' `sh -c` can run it too).
cat > "$T/newest" <<'SH'
#!/bin/sh
rrdtool fetch "$1" AVERAGE -r 1 -s -20 | awk -v ds="$2" '
	NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) c = i + 1 }
	NR > 2 && $c != "-nan" { v = $c } END { if (v == "") exit 1; print v + 0 }'
SH
chmod +x "$T/newest"
newest() { "$T/newest" "$@"; }

# --- config: the push keys are validated with their JSON path -------------
agent_config "$T/bad.json" "$T/x" "http://127.0.0.1:1/api/v1/samples" ""
python3 - "$T/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["spool_fsync"] = "sometimes"
d["push_backoff_max"] = "forever"
d["central"].append(dict(d["central"][0]))
json.dump(d, open(sys.argv[1], "w"))
PY
rc=0; "$AGENT" --check-config -c "$T/bad.json" > "$T/check.out" 2>&1 || rc=$?
check "--check-config refuses bad push keys (exit 2)" [ "$rc" -eq 2 ]
check "spool_fsync: named with the allowed values" grep -q 'spool_fsync: expected "always", "batched" or "never"' "$T/check.out"
check "push_backoff_max: named" grep -q 'push_backoff_max: ' "$T/check.out"
check "the same central twice: named by its path" grep -q 'central\[1\]\.url: the same central twice' "$T/check.out"
agent_config "$T/good.json" "$T/x" "http://127.0.0.1:1/api/v1/samples" ""
sed -i 's/"interval": 1,/"interval": 1, "spool_fsync": "always", "push_backoff_max": "30s",/' "$T/good.json"
check "--check-config accepts spool_fsync and push_backoff_max" "$AGENT" --check-config -c "$T/good.json"

# --- plain HTTP -----------------------------------------------------------
PORT=$(free_port)
central_config "$T/central.json" "$PORT" '"insecure_http": true,' "$T/cdata"
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/" || fail "central did not come up"
# DESIGN.md's form: the central's base URL; the agent posts to its
# /api/v1/samples (the TLS part below gives the full path).
agent_config "$T/agent.json" "$T/adata" "http://127.0.0.1:$PORT" ""
bg "$AGENT" -c "$T/agent.json" --root "$NE" 2> "$T/agent.log"
AG=$BGPID
check "plain http:// is logged as a warning" wait_for 10 grep -q 'plain http' "$T/agent.log"
check "samples arrive in DATA/rrd/web1 on the central" wait_for 30 \
	sh -c "[ -f '$T/cdata/rrd/web1/load.rrd' ] && [ -f '$T/cdata/rrd/web1/mem.rrd' ]"
check "the agent probe reaches the central with its push values" wait_for 30 \
	sh -c "rrdtool info '$T/cdata/rrd/web1/agent.rrd' 2>/dev/null | grep -q 'ds\[push_latency_ms\]'"
check "load on the central is the fixture's 0.21" wait_for 30 \
	sh -c "[ \"\$('$T/newest' '$T/cdata/rrd/web1/load.rrd' load1 2>/dev/null)\" = 0.21 ]"
check "the central keeps up: its newest load row follows the agent's" wait_for 30 \
	sh -c "[ \$(rrdtool last '$T/cdata/rrd/web1/load.rrd') -ge \$(( \$(rrdtool last '$T/adata/rrd/web1/load.rrd') - 2 )) ]"
check "spool folder with a cursor for the central" sh -c "ls '$T/adata/spool/' | grep -q '^cursor\.c-[0-9a-f]\{16\}$'"

# SIGHUP: the same centrals keep the pusher; a changed spool key reopens it.
kill -HUP "$AG"
check "SIGHUP with the same config: reloaded" wait_for 30 grep -q 'reloaded: host web1' "$T/agent.log"
check "the pusher is kept (started once)" [ "$(grep -c 'push: to ' "$T/agent.log")" -eq 1 ]
sed -i 's/"interval": 1,/"interval": 1, "spool_fsync": "always",/' "$T/agent.json"
kill -HUP "$AG"
check "SIGHUP with spool_fsync changed: the pusher is reopened" wait_for 30 \
	sh -c "[ \$(grep -c 'push: to ' '$T/agent.log') -eq 2 ]"
last=$(rrdtool last "$T/cdata/rrd/web1/load.rrd")
check "samples still arrive after the reloads" wait_for 30 \
	sh -c "[ \$(rrdtool last '$T/cdata/rrd/web1/load.rrd') -gt $last ]"
check "no batch refused across the reloads" sh -c "! grep -q refused '$T/agent.log'"
kill -TERM "$AG"
rc=0; wait "$AG" || rc=$?
check "agent SIGTERM: exit 0" [ "$rc" -eq 0 ]
check "agent stopped cleanly" grep -q 'stopped' "$T/agent.log"
kill -TERM "$CPID"; wait "$CPID" || true
PIDS=""

# --- TLS: a CA, a server certificate it signs, a second unrelated CA ------
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 1 -subj /CN=other-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 1 \
	-extfile srv.ext 2>/dev/null
cd - >/dev/null
PORT=$(free_port)
central_config "$T/tls.json" "$PORT" "\"tls\": {\"cert\": \"$T/srv.pem\", \"key\": \"$T/srv.key\"}," "$T/tdata"
bg "$CENTRAL" -c "$T/tls.json" 2> "$T/tls.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null --cacert "$T/ca.pem" "https://127.0.0.1:$PORT/" || fail "TLS central did not come up"
URL="https://127.0.0.1:$PORT/api/v1/samples"

agent_config "$T/agent2.json" "$T/a2data" "$URL" ", \"ca\": \"$T/ca.pem\""
bg "$AGENT" -c "$T/agent2.json" --root "$NE" 2> "$T/agent2.log"
AG=$BGPID
check "TLS: samples arrive, verified against \"ca\"" wait_for 30 test -f "$T/tdata/rrd/web1/load.rrd"
check "TLS: no plain-http warning" sh -c "! grep -q 'plain http' '$T/agent2.log'"
kill -TERM "$AG"
rc=0; wait "$AG" || rc=$?
check "TLS agent SIGTERM: exit 0" [ "$rc" -eq 0 ]

# The wrong CA: refused, logged, and the batches pile up in the spool.
agent_config "$T/agent3.json" "$T/a3data" "$URL" ", \"ca\": \"$T/other.pem\"" web2 "$TOK2"
bg "$AGENT" -c "$T/agent3.json" --root "$NE" 2> "$T/agent3.log"
AG=$BGPID
check "wrong CA: the agent refuses the central and logs it" wait_for 30 \
	grep -Eq "push https://127.0.0.1:$PORT/api/v1/samples: .*(certificate|SSL|issuer)" "$T/agent3.log"
check "wrong CA: the agent keeps spooling (batches_spooled grows past 3)" wait_for 30 \
	sh -c "v=\$('$T/newest' '$T/a3data/rrd/web2/agent.rrd' batches_spooled) && [ \"\${v%.*}\" -gt 3 ]"
check "wrong CA: the refusal is logged once, not every retry" \
	[ "$(grep -c 'push https' "$T/agent3.log")" -eq 1 ]
check "wrong CA: segments in the spool" sh -c "ls '$T/a3data/spool/' | grep -q '\.seg$'"
kill -TERM "$AG"
rc=0; wait "$AG" || rc=$?
check "wrong-CA agent SIGTERM: exit 0" [ "$rc" -eq 0 ]

# The same spool with the right CA, restarted at once: the backlog is
# delivered, and the current slot read again at the start is not sent twice.
agent_config "$T/agent3.json" "$T/a3data" "$URL" ", \"ca\": \"$T/ca.pem\"" web2 "$TOK2"
bg "$AGENT" -c "$T/agent3.json" --root "$NE" 2> "$T/agent3b.log"
AG=$BGPID
check "right CA afterwards: the spooled backlog is delivered (batches_spooled 0)" wait_for 60 \
	sh -c "[ \"\$('$T/newest' '$T/a3data/rrd/web2/agent.rrd' batches_spooled)\" = 0 ]"
check "right CA afterwards: web2's archives on the central" test -f "$T/tdata/rrd/web2/load.rrd"
check "nothing refused on the way" sh -c "! grep -q refused '$T/agent3b.log'"
kill -TERM "$AG"
wait "$AG" || true
kill -TERM "$CPID"
wait "$CPID" || true
PIDS=""

# --- TLS with client certificates (tls.client_ca) ---------------------------
cd "$T"
openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=web1 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > cli.ext
openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 1 \
	-extfile cli.ext 2>/dev/null
cd - >/dev/null
PORT=$(free_port)
central_config "$T/mtls.json" "$PORT" \
	"\"tls\": {\"cert\": \"$T/srv.pem\", \"key\": \"$T/srv.key\", \"client_ca\": \"$T/ca.pem\"}," "$T/mdata"
bg "$CENTRAL" -c "$T/mtls.json" 2> "$T/mtls.log"
CPID=$BGPID
wait_for 10 sh -c "curl -s -o /dev/null --cacert '$T/ca.pem' 'https://127.0.0.1:$PORT/'; [ \$? -ne 7 ]" ||
	fail "client-certificate central did not come up"
URL="https://127.0.0.1:$PORT/api/v1/samples"
agent_config "$T/agent4.json" "$T/a4data" "$URL" \
	", \"ca\": \"$T/ca.pem\", \"cert\": \"$T/cli.pem\", \"key\": \"$T/cli.key\""
bg "$AGENT" -c "$T/agent4.json" --root "$NE" 2> "$T/agent4.log"
AG=$BGPID
check "client certificate: presented, and the samples arrive" wait_for 30 test -f "$T/mdata/rrd/web1/load.rrd"
kill -TERM "$AG"
wait "$AG" || true
agent_config "$T/agent5.json" "$T/a5data" "$URL" ", \"ca\": \"$T/ca.pem\"" web2 "$TOK2"
bg "$AGENT" -c "$T/agent5.json" --root "$NE" 2> "$T/agent5.log"
AG=$BGPID
check "no client certificate: 401 logged as a configuration problem" wait_for 30 \
	grep -q "push $URL: 401 .*refuses" "$T/agent5.log"
check "no client certificate: nothing stored for web2" [ ! -e "$T/mdata/rrd/web2" ]
kill -TERM "$AG"
wait "$AG" || true
kill -TERM "$CPID"
wait "$CPID" || true
PIDS=""
if [ "$failures" -ne 0 ]; then
	for f in agent agent2 agent3 agent3b agent4 agent5 central tls mtls; do
		echo "--- $f.log"; tail -n 30 "$T/$f.log" 2>/dev/null || true
	done
fi
finish
