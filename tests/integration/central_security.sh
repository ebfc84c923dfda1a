#!/bin/sh
# central_security.sh: the real headroom-central attacked with a raw socket
# client (rawhttp.py: python3 socket/ssl, not curl) on a loopback port:
# broken and hostile documents, host names and instances that would leave
# the data folder, bodies over the limit, stolen tokens, garbage request
# lines, half requests held open and header floods. Each must get its 4xx
# (a JSON error wherever the request reaches the ingest) and write nothing,
# while a legitimate host keeps posting with 200 in between and after.
# Then TLS with tls.client_ca: no certificate, another CA's, an expired
# one, one for another host, each refused; the host's own accepted.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
RAWHTTP="$top_srcdir/tests/integration/rawhttp.py"
need openssl rrdtool python3 sha256sum

"$HEADROOM" token new web1 > "$T/tok1" 2>/dev/null
"$HEADROOM" token new web2 > "$T/tok2" 2>/dev/null
TOK1=$(sed -n 1p "$T/tok1")
TOK2=$(sed -n 1p "$T/tok2")
HOSTS="$(sed -n 2p "$T/tok1"), $(sed -n 2p "$T/tok2")"

# DATA inside a box of its own: whatever escapes DATA lands in BOX.
BOX="$T/box"
DATA="$BOX/data"
mkdir -p "$BOX"
MAXBODY=65536

write_config() { # FILE LISTEN EXTRA
	cat > "$1" <<JSON
{"listen": "$2", $3 "data_dir": "$DATA", "max_body_bytes": $MAXBODY,
 "hosts": {$HOSTS}}
JSON
}

NOW=$(date +%s)
BASE=$((NOW - 7200))
# doc HOST SEQ [PYTHON EXPR ON d]: a valid document, changed by the expression.
doc() {
	python3 -c 'import json,os,sys
h, seq, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = {"host": h, "agent": "headroom-agent/test", "seq": seq, "interval": 10,
     "samples": [{"t": base + seq * 10, "probe": "load", "instance": "",
                  "values": {"load1": seq / 10.0, "load5": 1, "load15": 2}}]}
if len(sys.argv) > 4:
    exec(sys.argv[4])
print(json.dumps(d) if not isinstance(d, str) else d)' "$1" "$2" "$BASE" "${3:-}"
}

# Every file and folder under BOX with size and modification time, and the
# registry's rows. SQLite's own files are listed by name only (readers touch
# them), and the stale column is left out: the central marks stale hosts on
# its own clock.
snapshot() {
	find "$BOX" -mindepth 1 ! -name 'headroom.db*' -printf '%P %y %s %T@\n' | sort
	find "$BOX" -mindepth 1 -name 'headroom.db*' ! -name '*-shm' ! -name '*-wal' -printf '%P\n'
	[ ! -f "$DATA/headroom.db" ] || python3 -c 'import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for q in ("SELECT name, last_seq, last_seen, interval, first_seen FROM hosts",
          "SELECT * FROM labels", "SELECT * FROM storing"):
    for r in sorted(c.execute(q).fetchall()):
        print(r)' "$DATA/headroom.db"
}

TLSARGS=""
raw() { # rawhttp.py against the current central
	# shellcheck disable=SC2086
	python3 "$RAWHTTP" "$PORT" "$@" --out "$T/resp" $TLSARGS
}

# The legitimate host: its next batch, answered 200 and acked.
LSEQ=0
legit() { # WHEN
	LSEQ=$((LSEQ + 1))
	doc web1 "$LSEQ" > "$T/legit.json"
	check "legit web1 batch $LSEQ ($1): 200" [ "$(raw post "$TOK1" "$T/legit.json")" = 200 ]
	check "legit web1 batch $LSEQ: acked" pyjson "$T/resp" "d == {'acked': $LSEQ}"
}

# unchanged DESC: the snapshots before and after are the same.
unchanged() {
	if cmp -s "$T/before" "$T/after"; then
		ok "$1: nothing written"
	else
		fail "$1: nothing written; changed:"
		diff "$T/before" "$T/after" | head -10
	fi
}

# attack DESC STATUS SUBSTR RAWHTTP-ARGS...: the answer is STATUS with a JSON
# error containing SUBSTR, and nothing under BOX changed.
attack() {
	d=$1; st=$2; sub=$3
	shift 3
	snapshot > "$T/before"
	got=$(raw "$@")
	check "$d: $st" [ "$got" = "$st" ]
	if ! SUB="$sub" pyjson "$T/resp" "__import__('os').environ['SUB'] in d['error']" 2>/dev/null; then
		fail "$d: JSON error containing \"$sub\"; got: $(head -c 300 "$T/resp")"
	else
		ok "$d: JSON error containing \"$sub\""
	fi
	snapshot > "$T/after"
	unchanged "$d"
}

# protocol DESC STATUS RAWHTTP-ARGS...: refused by libmicrohttpd before the
# ingest sees it (its own HTML body), nothing written.
protocol() {
	d=$1; st=$2
	shift 2
	snapshot > "$T/before"
	got=$(raw "$@")
	check "$d: $st (got $got)" [ "$got" = "$st" ]
	snapshot > "$T/after"
	unchanged "$d"
}

# Only what the legitimate host may make: DATA/headroom.db*, its undo
# journal DATA/journal/web1.undo and files directly in DATA/rrd/web1, and
# the dashboards' key DATA/web.key (0600); nothing else in DATA, BOX or the
# test folder.
only_legit_files() {
	[ "$(ls -A "$BOX")" = data ] || return 1
	ls -A "$DATA" | grep -v -e '^rrd$' -e '^journal$' -e '^headroom\.db' -e '^web\.key$' && return 1
	[ "$(stat -c %a "$DATA/web.key")" = 600 ] || return 1
	[ "$(ls -A "$DATA/rrd")" = web1 ] || return 1
	[ ! -e "$DATA/journal" ] || [ "$(ls -A "$DATA/journal")" = web1.undo ] || return 1
	[ -z "$(find "$DATA/rrd/web1" -mindepth 1 ! -type f)" ] || return 1
	[ ! -e "$T/etc" ] && [ ! -e "$T/x" ] && [ ! -e /tmp/x ] || return 1
	return 0
}

# --- plain HTTP --------------------------------------------------------------
PORT=$(free_port)
write_config "$T/central.json" "127.0.0.1:$PORT" '"insecure_http": true,'
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
doc web1 0 > "$T/probe.json"
wait_for 10 sh -c "python3 '$RAWHTTP' $PORT post - '$T/probe.json' | grep -q 401" ||
	fail "central did not come up"
check "insecure_http is logged as a warning at start" \
	grep -q 'warning.*insecure_http is true\|insecure_http is true' "$T/central.log"
legit "first"
check "only web1's files after its first batch" only_legit_files

# Documents that are not valid: 400, the path of the problem in the message.
printf '{"host": "web1", "seq": 1' > "$T/a.json"
attack "malformed JSON" 400 "(top)" post "$TOK1" "$T/a.json"
printf 'not json at all' > "$T/a.json"
attack "not JSON" 400 "(top)" post "$TOK1" "$T/a.json"
printf '' > "$T/a.json"
attack "empty body" 400 "(top)" post "$TOK1" "$T/a.json"
printf '[1, 2, 3]' > "$T/a.json"
attack "an array, not an object" 400 "(top)" post "$TOK1" "$T/a.json"
doc web1 100 'd["seq"] = "100"' > "$T/a.json"
attack "seq as a string" 400 "seq" post "$TOK1" "$T/a.json"
doc web1 100 'd["seq"] = -1' > "$T/a.json"
attack "negative seq" 400 "seq" post "$TOK1" "$T/a.json"
doc web1 100 'd["samples"] = {}' > "$T/a.json"
attack "samples as an object" 400 "samples" post "$TOK1" "$T/a.json"
doc web1 100 'd["samples"][0]["values"]["load1"] = "high"' > "$T/a.json"
attack "a value as a string" 400 "values.load1" post "$TOK1" "$T/a.json"
doc web1 100 'd["samples"][0]["values"] = [1, 2]' > "$T/a.json"
attack "values as an array" 400 "values" post "$TOK1" "$T/a.json"
doc web1 100 'd["samples"][0]["t"] = "now"' > "$T/a.json"
attack "t as a string" 400 "t" post "$TOK1" "$T/a.json"
doc web1 100 'd["host"] = 5' > "$T/a.json"
attack "host as a number" 400 "host" post "$TOK1" "$T/a.json"
for lit in NaN Infinity -Infinity nan inf 1e999 -1e999; do
	doc web1 100 "d = json.dumps(d).replace('\"load1\": 10.0', '\"load1\": $lit')" > "$T/a.json"
	grep -q "load1\": $lit" "$T/a.json" || fail "test bug: $lit not in the document"
	attack "value $lit" 400 "" post "$TOK1" "$T/a.json"
done
for f in host seq samples; do
	doc web1 100 "del d['$f']" > "$T/a.json"
	attack "missing \"$f\"" 400 "$f" post "$TOK1" "$T/a.json"
done
for f in t probe values; do
	doc web1 100 "del d['samples'][0]['$f']" > "$T/a.json"
	attack "missing samples[0].$f" 400 "$f" post "$TOK1" "$T/a.json"
done
legit "after the broken documents"

# Host names that would be paths: refused by the decoder, for any token.
LONG=$(python3 -c 'print("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62)')
for h in .. . a/b ../../etc /etc "" "$LONG" 'web1/../web2' '-web1' 'web1 ' 'wéb1'; do
	H="$h" doc web1 100 "d['host'] = os.environ['H']" > "$T/a.json"
	attack "host name \"$(printf '%.20s' "$h")\" (${#h} chars)" 400 "host" post "$TOK1" "$T/a.json"
done
# A NUL inside a string is refused before any field is looked at.
doc web1 100 "d = json.dumps(d).replace('\"web1\"', '\"web1\\\\u0000x\"')" > "$T/a.json"
grep -q 'web1\\u0000x' "$T/a.json" || fail "test bug: no \\u0000 in the document"
attack "host name \"web1\\u0000x\"" 400 "u0000" post "$TOK1" "$T/a.json"
legit "after the host names"

# Instances are the legitimate host's own: stored, but escaped into a file
# name inside DATA/rrd/web1, never a path.
n_before=$(ls "$DATA/rrd/web1" | wc -l)
LSEQ=$((LSEQ + 1))
doc web1 "$LSEQ" 'd["samples"] = [dict(d["samples"][0], probe="disk", instance=i, values={"r": 1}) for i in ("../../x", "/etc/passwd", "..", ".", "a/../../../x", "%2F..")]' > "$T/inst.json"
check "instances \"../../x\", \"/etc/passwd\", ...: 200" [ "$(raw post "$TOK1" "$T/inst.json")" = 200 ]
check "six escaped files in DATA/rrd/web1" [ "$(ls "$DATA/rrd/web1" | wc -l)" -eq "$((n_before + 6))" ]
check "instance files are named disk-... and hold the value" sh -c \
	"ls '$DATA/rrd/web1' | grep '^disk-' | while read -r f; do rrdtool info \"$DATA/rrd/web1/\$f\" > /dev/null || exit 1; done"
check "nothing outside DATA/rrd/web1 (BOX, DATA, DATA/rrd, /tmp/x)" only_legit_files
check "no /etc/passwd touched" sh -c "[ \"\$(stat -c %Y /etc/passwd)\" -lt $NOW ]"
legit "after the instances"

# Bodies over the limit: the declared length, chunked, and a lie.
python3 -c 'import sys; sys.stdout.write("{" + " " * 70000 + "}")' > "$T/big.json"
attack "body over the limit, Content-Length" 413 "body over $MAXBODY" post "$TOK1" "$T/big.json"
attack "body over the limit, chunked" 413 "body over $MAXBODY" chunked "$TOK1" "$T/big.json"
attack "Content-Length of 10 GB, 1 KiB sent" 413 "body over" lie "$TOK1" 10000000000
protocol "Content-Length beyond 64 bits" 413 lie "$TOK1" 99999999999999999999999
doc web1 100 > "$T/ok.json"
attack "a valid batch chunked over the limit without a token" 401 "Authorization" chunked - "$T/big.json"
legit "after the big bodies"

# Time: far in the future (and before 2000) is refused.
doc web1 100 "d['samples'][0]['t'] = $NOW + 86400 * 365" > "$T/a.json"
attack "t a year in the future" 400 "t" post "$TOK1" "$T/a.json"
doc web1 100 "d['samples'][0]['t'] = 2 ** 62" > "$T/a.json"
attack "t at 2^62" 400 "t" post "$TOK1" "$T/a.json"
doc web1 100 "d['samples'][0]['t'] = 5" > "$T/a.json"
attack "t in 1970" 400 "t" post "$TOK1" "$T/a.json"

# Tokens.
doc web2 1 > "$T/web2.json"
attack "web1's token posting web2's batch" 403 "web1" post "$TOK1" "$T/web2.json"
attack "no token" 401 "Authorization" post - "$T/ok.json"
attack "unknown token" 401 "unknown token" post "0$TOK1" "$T/ok.json"
attack "a token of 300 characters" 401 "" post "$(python3 -c 'print("a" * 300)')" "$T/ok.json"
check "the 403 is logged with both hosts" grep -q 'token of web1 sent a document of host web2' "$T/central.log"
legit "after the tokens"

# Request lines and headers that are not HTTP: libmicrohttpd's own answers.
# A line that is not a request line at all is dropped unanswered.
printf 'GARBAGE\r\n\r\n' > "$T/r"
protocol "garbage request line" closed raw "$T/r"
printf 'POST /api/v1/samples\r\n\r\n' > "$T/r"
protocol "request line without a version" 400 raw "$T/r"
printf 'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/r"
# Paths other than the ingest's are the dashboards': their HTML answers.
protocol "unknown method on / (the dashboards)" 405 raw "$T/r"
printf 'GARBAGE /api/v1/samples HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/r"
attack "unknown method on the ingest path" 405 "POST" raw "$T/r"
printf 'POST /api/v1/samples HTTP/9.9\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}' > "$T/r"
protocol "HTTP/9.9" 505 raw "$T/r"
# Both lengths: chunked wins (RFC 9112 section 6.3), so the 2 bytes
# declared are not read as a body: an empty document.
printf 'POST /api/v1/samples HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{}' "$TOK1" > "$T/r"
attack "Content-Length and chunked together" 400 "(top)" raw "$T/r"
python3 -c 'import sys; sys.stdout.buffer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(500) + b"\r\n\r\n")' > "$T/r"
protocol "binary junk (a TLS hello on the plain port)" closed raw "$T/r"
python3 -c 'import sys; sys.stdout.write("POST /" + "a" * 100000 + " HTTP/1.1\r\nHost: x\r\n\r\n")' > "$T/r"
protocol "a request line of 100 kB" 414 raw "$T/r"
printf 'POST /api/v1/samples HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}' "$TOK1" > "$T/r"
protocol "two Content-Length headers" 400 raw "$T/r"
printf 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/r"
protocol "GET /../../etc/passwd" 404 raw "$T/r"
printf 'GET /api/v1/samples HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/r"
attack "GET of the ingest path" 405 "POST" raw "$T/r"
protocol "a header flood (2000 headers)" 431 flood 2000 "$TOK1"
legit "after the protocol attacks"

# Half requests held open: the legitimate host is served meanwhile, and the
# server closes each held connection (its idle timeout) without storing.
doc web1 $((LSEQ + 1)) > "$T/legit.json"
raw slow 200 "$TOK1" "$T/legit.json" > "$T/slow.out"
LSEQ=$((LSEQ + 1))
check "legit batch while 200 half requests are held: 200" [ "$(sed -n 1p "$T/slow.out")" = 200 ]
check "the server closed all 200 held connections" grep -q '^held 200 closed 200 ' "$T/slow.out"
legit "after the half requests"

check "only web1's files after every attack" only_legit_files
check "no archive for web2" [ ! -e "$DATA/rrd/web2" ]
check "web1's last update is its last batch" \
	[ "$(rrdtool last "$DATA/rrd/web1/load.rrd")" = "$((BASE + LSEQ * 10))" ]
kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "still running after the attacks, SIGTERM: exit 0" [ "$rc" -eq 0 ]

# --- TLS with client certificates --------------------------------------------
# ca NAME: a CA. cert NAME CA SUBJ EXT [DAYS]: a key and a certificate it signs.
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
		-days 2 -subj "/CN=$1" 2>/dev/null
}
cert() {
	openssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" \
		-subj "$3" 2>/dev/null
	printf '%s\n' "$4" > "$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" \
		-CAcreateserial -out "$T/$1.pem" -days 2 -extfile "$T/$1.ext" 2>/dev/null
}
ca ca1
ca ca2
cert server ca1 /CN=localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
CLIENT="extendedKeyUsage=clientAuth"
cert web1 ca1 /CN=web1 "subjectAltName=DNS:web1
$CLIENT"
cert web2 ca1 /CN=web2 "subjectAltName=DNS:web2
$CLIENT"
cert web1cn ca1 /CN=web1 "$CLIENT"
cert mixed ca1 /CN=web1 "subjectAltName=DNS:web2
$CLIENT"
cert web1long ca1 /CN=web1 "subjectAltName=DNS:web1.example.org
$CLIENT"
cert foreign ca2 /CN=web1 "subjectAltName=DNS:web1
$CLIENT"
cert server1 ca1 /CN=web1 "subjectAltName=DNS:web1
extendedKeyUsage=serverAuth"
# An expired one: openssl ca takes explicit dates.
mkdir -p "$T/ca1db"
: > "$T/ca1db/index"
cat > "$T/ca1.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $T/ca1db/index
new_certs_dir = $T/ca1db
serial = $T/ca1db/serial
default_md = sha256
policy = p
[p]
commonName = supplied
EOF
echo 01 > "$T/ca1db/serial"
openssl req -newkey rsa:2048 -nodes -keyout "$T/expired.key" -out "$T/expired.csr" \
	-subj /CN=web1 2>/dev/null
openssl ca -batch -config "$T/ca1.cnf" -cert "$T/ca1.pem" -keyfile "$T/ca1.key" \
	-in "$T/expired.csr" -out "$T/expired.pem" -startdate 20200101000000Z \
	-enddate 20200102000000Z -extfile "$T/web1.ext" > /dev/null 2>&1 ||
	fail "openssl ca: cannot make an expired certificate"
for c in server web1 web2 web1cn mixed foreign server1 expired; do
	[ -s "$T/$c.pem" ] || fail "openssl: no certificate $c"
done

PORT=$(free_port)
write_config "$T/tls.json" "127.0.0.1:$PORT" \
	"\"tls\": {\"cert\": \"$T/server.pem\", \"key\": \"$T/server.key\", \"client_ca\": \"$T/ca1.pem\"},"
bg "$CENTRAL" -c "$T/tls.json" 2> "$T/tls.log"
CPID=$BGPID
wait_for 10 sh -c "python3 '$RAWHTTP' $PORT post - '$T/probe.json' --tls '$T/ca1.pem' | grep -q 401" ||
	fail "TLS central did not come up"
check "client certificates: logged as required" grep -q 'client certificates from .* required' "$T/tls.log"
check "no \"not requested or verified\" warning" sh -c "! grep -q 'not requested or verified' '$T/tls.log'"
check "no insecure_http warning with TLS" sh -c "! grep -q insecure_http '$T/tls.log'"

TLSARGS="--tls $T/ca1.pem --cert $T/web1.pem --key $T/web1.key"
legit "TLS, web1's certificate and token"
TLSARGS="--tls $T/ca1.pem"
attack "TLS without a client certificate" 401 "client certificate required" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/foreign.pem --key $T/foreign.key"
attack "TLS, web1's certificate from another CA" 401 "client certificate not accepted" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/expired.pem --key $T/expired.key"
attack "TLS, web1's expired certificate" 401 "expired" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/server1.pem --key $T/server1.key"
attack "TLS, web1's certificate for servers only" 401 "client certificate not accepted" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/web2.pem --key $T/web2.key"
attack "TLS, web2's certificate with web1's token" 403 "nor the CN is web1" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/web1.pem --key $T/web1.key"
attack "TLS, web1's certificate with web2's token and batch" 403 "nor the CN is web2" post "$TOK2" "$T/web2.json"
attack "TLS, web1's certificate, unknown token" 401 "unknown token" post "0$TOK1" "$T/ok.json"
attack "TLS, web1's certificate and token, web2's batch" 403 "web1" post "$TOK1" "$T/web2.json"
TLSARGS="--tls $T/ca1.pem --cert $T/mixed.pem --key $T/mixed.key"
attack "TLS, CN web1 but DNS name web2" 403 "nor the CN is web1" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/web1long.pem --key $T/web1long.key"
attack "TLS, DNS name web1.example.org for host web1" 403 "nor the CN is web1" post "$TOK1" "$T/ok.json"
TLSARGS="--tls $T/ca1.pem --cert $T/web1cn.pem --key $T/web1cn.key"
legit "TLS, web1's certificate with a CN and no DNS name"
TLSARGS="--tls $T/ca1.pem --cert $T/web1.pem --key $T/web1.key"
legit "TLS, after the refusals"
check "only web1's files after the TLS attacks" only_legit_files
kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM (TLS): exit 0" [ "$rc" -eq 0 ]

finish
