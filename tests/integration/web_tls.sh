#!/bin/sh
# web_tls.sh: the dashboards' own TLS listener ("web": {"listen", "tls"})
# beside a main listener that requires client certificates (tls.client_ca):
# GET /login over HTTPS verified against the CA, plain HTTP to that port not
# served, the session cookie of POST /login marked Secure; the web listener
# never asks for a client certificate (curl without one is served, no
# CertificateRequest in the handshake) while the main one still refuses a
# batch without one and takes the host's own.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
NE="$FIX/node_exporter/root"
need curl openssl python3

# ca NAME: a CA. cert NAME SUBJ EXT: a key and a certificate ca signs.
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" \
		-days 2 -subj "/CN=$1" 2>/dev/null
}
cert() {
	openssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" \
		-subj "$2" 2>/dev/null
	printf '%s\n' "$3" > "$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -out "$T/$1.pem" -days 2 -extfile "$T/$1.ext" 2>/dev/null
}
ca ca
cert server /CN=localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
cert web1 /CN=web1 "subjectAltName=DNS:web1
extendedKeyUsage=clientAuth"
for c in ca server web1; do
	[ -s "$T/$c.pem" ] || { fail "openssl: no certificate $c"; finish; exit 1; }
done

"$HEADROOM" token new web1 > "$T/tok1" 2>/dev/null
TOK1=$(sed -n 1p "$T/tok1")
PORT=$(free_port)
WPORT=$(free_port)
while [ "$WPORT" = "$PORT" ]; do WPORT=$(free_port); done
MAIN="https://127.0.0.1:$PORT"
WEB="https://127.0.0.1:$WPORT"
mkdir -p "$T/data"
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$PORT", "data_dir": "$T/data",
 "tls": {"cert": "$T/server.pem", "key": "$T/server.key", "client_ca": "$T/ca.pem"},
 "web": {"listen": "127.0.0.1:$WPORT",
         "tls": {"cert": "$T/server.pem", "key": "$T/server.key"}},
 "hosts": {$(sed -n 2p "$T/tok1")}}
JSON
check "--check-config passes" "$CENTRAL" --check-config -c "$T/central.json"
PW=$(python3 -c 'import secrets; print(secrets.token_urlsafe(15))')
printf '%s\n' "$PW" | "$HEADROOM" user add viewer1 --role viewer --password-stdin \
	-c "$T/central.json" > "$T/user.out" 2>&1 || { cat "$T/user.out"; fail "headroom user add viewer1"; }

bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null --cacert "$T/ca.pem" "$WEB/login" ||
	fail "the central's web listener did not come up"
check "the start names the dashboards on https" grep -q "dashboards also on https://127.0.0.1:$WPORT" "$T/central.log"

# The web listener: HTTPS, verified against the CA, no client certificate.
check "GET /login over HTTPS (--cacert, no client certificate): 200" \
	[ "$(curl -s -o "$T/login.html" -w '%{http_code}' --cacert "$T/ca.pem" "$WEB/login")" = 200 ]
check "it is the login form" grep -q 'name="password"' "$T/login.html"
check "without the CA the certificate is not trusted" sh -c \
	"! curl -s -o /dev/null '$WEB/login'"
check "plain HTTP to the web TLS port is not served" sh -c \
	"! curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$WPORT/login' | grep -q '^[1-5]'"
code=$(curl -s -o /dev/null -D "$T/login.hdr" -w '%{http_code}' --cacert "$T/ca.pem" \
	--data-urlencode username=viewer1 --data-urlencode "password=$PW" "$WEB/login" || true)
check "POST /login over HTTPS: 303" [ "$code" = 303 ]
check "its session cookie is Secure, HttpOnly, SameSite=Strict" python3 -c 'import sys
c=[l.split(":",1)[1] for l in open(sys.argv[1]) if l.lower().startswith("set-cookie:")]
a=[p.strip() for p in c[0].split(";")] if len(c) == 1 else []
sys.exit(0 if "Secure" in a and "HttpOnly" in a and "SameSite=Strict" in a else 1)' "$T/login.hdr"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" -c "$T/jar" \
	--data-urlencode username=viewer1 --data-urlencode "password=$PW" "$WEB/login" || true)
check "the session works over HTTPS: GET / 200" \
	[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.pem" -b "$T/jar" "$WEB/")" = 200 ]
check "a wrong password over HTTPS: 401 and no cookie" sh -c \
	"[ \"\$(curl -s -o /dev/null -D '$T/bad.hdr' -w '%{http_code}' --cacert '$T/ca.pem' \
	--data-urlencode username=viewer1 --data-urlencode password=wrong '$WEB/login')\" = 401 ] &&
	! grep -qi '^set-cookie:' '$T/bad.hdr'"

# Whether the server asks for a client certificate is in the handshake:
# a CertificateRequest names the CAs it accepts.
handshake() { # PORT: what openssl s_client tells of the handshake
	openssl s_client -connect "127.0.0.1:$1" -CAfile "$T/ca.pem" -servername localhost \
		< /dev/null 2>&1 || true
}
handshake "$WPORT" > "$T/web.hs"
handshake "$PORT" > "$T/main.hs"
check "web listener: the handshake verifies" grep -q 'Verify return code: 0 (ok)' "$T/web.hs"
check "web listener: no client certificate asked for" sh -c \
	"grep -q 'No client certificate CA names sent' '$T/web.hs' &&
	! grep -q 'Acceptable client certificate CA names' '$T/web.hs' &&
	! grep -q 'Requested Signature Algorithms' '$T/web.hs'"
check "main listener: a client certificate from the CA asked for" sh -c \
	"grep -A1 'Acceptable client certificate CA names' '$T/main.hs' | grep -q 'CN *= *ca'"

# The main listener still requires one for ingest.
printf '{"host": "web1", "data_dir": "%s/agent"}' "$T" > "$T/agent.json"
"$AGENT" --once --json -c "$T/agent.json" --root "$NE" --only load > "$T/doc.json"
post() { # EXTRA CURL ARGS...: prints the status; the body in $T/resp
	curl -s -o "$T/resp" -w '%{http_code}' --cacert "$T/ca.pem" -H "Authorization: Bearer $TOK1" \
		--data-binary "@$T/doc.json" "$@" "$MAIN/api/v1/samples" || true
}
check "main listener, no client certificate: 401" [ "$(post)" = 401 ]
check "401 says a client certificate is required" pyjson "$T/resp" "'client certificate required' in d['error']"
check "nothing stored" [ ! -e "$T/data/rrd/web1" ]
check "main listener, web1's certificate: 200" [ "$(post --cert "$T/web1.pem" --key "$T/web1.key")" = 200 ]
check "stored" [ -f "$T/data/rrd/web1/load.rrd" ]
check "the web listener serves no ingest" sh -c \
	"[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/ca.pem' -H 'Authorization: Bearer $TOK1' \
	--data-binary '@$T/doc.json' '$WEB/api/v1/samples')\" != 200 ]"

kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]
finish
