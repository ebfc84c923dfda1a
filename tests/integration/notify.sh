#!/bin/sh
# notify.sh: the notifiers against real peers on loopback: an HTTP receiver
# standing in for a webhook, Slack and PagerDuty, an SMTP server with
# STARTTLS and AUTH (python3-aiosmtpd), and an exec hook; then a receiver
# that answers 500, goes away, and comes back after the delivery process
# was killed with -9: it gets every notification, in order, except the one
# it refuses with 400, which is dropped with a log line.
. "$top_srcdir/tests/integration/lib.sh"
need openssl sqlite3
PY=/usr/bin/python3
DRIVER="$top_builddir/tests/integration/notify_driver"
PEERS="$top_srcdir/tests/integration/notify_peers.py"
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "SKIP: python3-aiosmtpd not installed"
	exit 77
fi

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null

# payload FINGERPRINT STATUS ALERTNAME: one Alertmanager v4 notification.
payload() {
	if [ "$2" = resolved ]; then ends=2026-11-28T17:00:00Z; else ends=0001-01-01T00:00:00Z; fi
	printf '{"version":"4","groupKey":"{}:{host=\\"web1\\"}","truncatedAlerts":0,"status":"%s","receiver":"","groupLabels":{"host":"web1"},"commonLabels":{"host":"web1"},"commonAnnotations":{},"externalURL":"","alerts":[{"status":"%s","labels":{"alertname":"%s","host":"web1","probe":"fs","instance":"/var","severity":"critical"},"annotations":{"summary":"/var is %s"},"startsAt":"2026-11-28T16:00:00Z","endsAt":"%s","generatorURL":"","fingerprint":"%s"}]}\n' \
		"$2" "$2" "$3" "$3" "$ends" "$1"
}

# --- every notifier once, against real peers ---
HP=$(free_port)
SP=$(free_port)
bg "$PY" "$PEERS" http "$HP" "$T/http.log" "$T/http.ctl"
bg "$PY" "$PEERS" smtp "$SP" "$T/smtp.log" "$T/cert.pem" "$T/key.pem" alice s3cret
printf 's3cret\n' > "$T/pw"
cat > "$T/hook.sh" <<EOS
#!/bin/sh
env | grep '^HEADROOM_' | sort > "$T/hook.env"
cat > "$T/hook.stdin"
EOS
chmod +x "$T/hook.sh"
cat > "$T/c1.json" <<EOS
{"notify": [
 {"type": "webhook", "name": "ops", "url": "http://127.0.0.1:$HP/hook", "headers": {"X-Token": "t0k"}},
 {"type": "slack", "url": "http://127.0.0.1:$HP/slack"},
 {"type": "pagerduty", "url": "http://127.0.0.1:$HP/pd", "routing_key": "RK1"},
 {"type": "email", "smtp": "smtp://127.0.0.1:$SP", "username": "alice", "password_file": "$T/pw",
  "ca": "$T/cert.pem", "from": "headroom@example.org", "to": ["ops@example.org", "dba@example.org"]},
 {"type": "exec", "command": ["$T/hook.sh"], "timeout": "10s"}
]}
EOS
wait_for 10 sh -c "$PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $HP)); socket.create_connection((\"127.0.0.1\", $SP))'"
payload 00000000000000a1 firing disk_full > "$T/p1"
payload 00000000000000a1 resolved disk_full > "$T/p2"
{ printf -- '- critical '; cat "$T/p1"; printf -- '- critical '; cat "$T/p2"; } > "$T/in1"
t0=$($PY -c 'import time; print(time.time())')
check "all receivers delivered" "$DRIVER" "$T/q1.db" "$T/c1.json" 60 < "$T/in1"
check "webhook: the payload as queued, receiver filled, header sent" "$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
hook = [r for r in recs if r["path"] == "/hook"]
want = [json.loads(open(p).read()) for p in sys.argv[2:4]]
for w in want: w["receiver"] = "ops"
assert [json.loads(r["body"]) for r in hook] == want, hook
assert all(r["headers"]["X-Token"] == "t0k" and r["headers"]["Content-Type"] == "application/json" for r in hook)
' "$T/http.log" "$T/p1" "$T/p2"
check "slack: one text per notification with the alert line" "$PY" -c '
import json, sys
recs = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if json.loads(l)["path"] == "/slack"]
assert len(recs) == 2 and list(recs[0]) == ["text"], recs
assert recs[0]["text"] == "[FIRING:1] web1: /var is disk_full\n[critical] web1 disk_full: /var is disk_full (since 2026-11-28T16:00:00Z)\n", recs[0]
assert recs[1]["text"].startswith("[RESOLVED:1] web1:"), recs[1]
' "$T/http.log"
check "pagerduty: trigger then resolve with the fingerprint as dedup_key" "$PY" -c '
import json, sys
ev = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if json.loads(l)["path"] == "/pd"]
assert [e["event_action"] for e in ev] == ["trigger", "resolve"], ev
assert all(e["dedup_key"] == "00000000000000a1" and e["routing_key"] == "RK1" for e in ev)
p = ev[0]["payload"]
assert p["summary"] == "/var is disk_full" and p["source"] == "web1" and p["severity"] == "critical"
assert p["custom_details"]["labels"]["instance"] == "/var"
' "$T/http.log"
check "email: over STARTTLS with AUTH, headers and body" "$PY" -c '
import json, sys, email
m = [json.loads(l) for l in open(sys.argv[1])]
assert len(m) == 2 and all(x["tls"] and x["auth"] for x in m), m
assert m[0]["from"] == "headroom@example.org" and m[0]["to"] == ["ops@example.org", "dba@example.org"]
msg = email.message_from_string(m[0]["data"])
assert msg["Subject"] == "[FIRING:1] web1: /var is disk_full", msg["Subject"]
assert msg["Date"] and msg["Message-ID"].endswith("@headroom>") and msg["To"] == "ops@example.org, dba@example.org"
assert "[critical] web1 disk_full: /var is disk_full" in msg.get_payload()
assert email.message_from_string(m[1]["data"])["Subject"].startswith("[RESOLVED:1]")
' "$T/smtp.log"
check "exec: environment and the payload on stdin" "$PY" -c '
import json, sys
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]))
assert env["HEADROOM_STATUS"] == "resolved" and env["HEADROOM_HOST"] == "web1", env
assert env["HEADROOM_ALERTS"] == "1" and env["HEADROOM_ALERTNAME"] == "disk_full", env
assert env["HEADROOM_FINGERPRINT"] == "00000000000000a1" and env["HEADROOM_RECEIVER"] == "exec", env
d = json.load(open(sys.argv[2]))
assert d["receiver"] == "exec" and d["alerts"][0]["status"] == "resolved"
' "$T/hook.env" "$T/hook.stdin"
"$PY" -c '
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1])]
print("first HTTP delivery %.0f ms after the driver started" % ((min(t) - float(sys.argv[2])) * 1000))
' "$T/http.log" "$t0"

# Wrong credentials are the server's final word (SMTP 535): dropped, logged.
cat > "$T/c3.json" <<EOS
{"notify": [{"type": "email", "smtp": "smtp://127.0.0.1:$SP", "username": "alice", "password": "wrong",
  "ca": "$T/cert.pem", "from": "headroom@example.org", "to": ["ops@example.org"]}]}
EOS
check "email: refused AUTH drops the notification" \
	"$DRIVER" "$T/q3.db" "$T/c3.json" 60 "$T/in1" 2> "$T/driver_auth.err"
check "email: the refusal is logged" grep -q 'notify email: notification .* refused, dropped: .*SMTP 535' "$T/driver_auth.err"
check "email: nothing more was accepted" sh -c "[ \$(wc -l < '$T/smtp.log') -eq 2 ]"

# --- a receiver down (500s, then a closed port), a crash, and back ---
DP=$(free_port)
echo 500 > "$T/down.ctl"
bg "$PY" "$PEERS" http "$DP" "$T/down.log" "$T/down.ctl"
RECV=$BGPID
cat > "$T/c2.json" <<EOS
{"notify": [{"type": "webhook", "name": "flaky", "url": "http://127.0.0.1:$DP/", "retry_max": "2s", "timeout": "2s"}]}
EOS
: > "$T/in2"
for n in n1 n2 reject-me n4 n5; do
	printf -- 'flaky warning ' >> "$T/in2"
	payload "00000000000000$(printf %s "$n" | od -An -tx1 | tr -d ' \n' | cut -c1-2)" firing "$n" >> "$T/in2"
done
bg "$DRIVER" "$T/q2.db" "$T/c2.json" 600 "$T/in2" 2> "$T/driver2.err"
DRV=$BGPID
check "the receiver sees retries while it answers 500" \
	wait_for 20 sh -c "[ \$(wc -l < '$T/down.log') -ge 2 ]"
kill "$RECV"; wait "$RECV" 2>/dev/null || true
check "a closed port is retried too" \
	wait_for 20 grep -q "cannot deliver, retrying: .*Couldn't connect" "$T/driver2.err"
check "failures are logged once per reason, not per attempt" \
	sh -c "[ \$(grep -c 'cannot deliver, retrying: HTTP 500' '$T/driver2.err') -eq 1 ]"
kill -9 "$DRV"; wait "$DRV" 2>/dev/null || true
check "nothing is lost by kill -9" sh -c "[ \$(sqlite3 '$T/q2.db' 'SELECT COUNT(*) FROM delivery_queue') -eq 5 ]"
check "the last error is kept with the row" \
	sh -c "sqlite3 '$T/q2.db' 'SELECT last_error FROM delivery_queue ORDER BY id LIMIT 1' | grep -q ."
echo 200 > "$T/down.ctl"
bg "$PY" "$PEERS" http "$DP" "$T/down.log" "$T/down.ctl"
check "after the restart every row leaves the queue" \
	"$DRIVER" "$T/q2.db" "$T/c2.json" 120 < /dev/null 2> "$T/driver3.err"
check "delivered in order, each once; the 400 tried once and dropped" "$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
names = [json.loads(r["body"])["alerts"][0]["labels"]["alertname"] for r in recs]
ok = [n for r, n in zip(recs, names) if r["code"] == 200]
assert ok == ["n1", "n2", "n4", "n5"], ok
rej = [i for i, n in enumerate(names) if n == "reject-me"]
assert len(rej) == 1 and recs[rej[0]]["code"] == 400, names
assert names.index("n4") > rej[0] and names.index("n2") < rej[0]
assert all(json.loads(r["body"])["receiver"] == "flaky" for r in recs)
' "$T/down.log"
check "the refusal is logged" grep -q 'notify flaky: notification .* refused, dropped: HTTP 400' "$T/driver3.err"
finish
