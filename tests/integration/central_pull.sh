#!/bin/sh
# central_pull.sh: headroom-central pulling over SSH from the real OpenSSH
# sshd on a loopback port (host and client keys made by ssh-keygen, its own
# sshd_config), the remote command being this build's headroom-agent
# --once --json against the fixture root. Checks: hashed and plain
# "[127.0.0.1]:PORT" known_hosts entries are pulled and stored; a changed
# and an unknown host key are refused with the server's SHA256 fingerprint
# and nothing stored; a document of another host, a failing command and an
# oversized output are refused; a closed port and a port that never speaks
# are logged once each and do not stop the good hosts from being pulled
# again; a forced command in authorized_keys; SIGHUP with new entries;
# SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
NE="$FIX/node_exporter/root"
SSHD=/usr/sbin/sshd
need ssh-keygen ssh-keyscan rrdtool python3 curl
if [ ! -x "$SSHD" ]; then
	echo "SKIP: $SSHD not installed (openssh-server)"
	exit 77
fi
# sshd insists on root for privilege separation and for logging a user in.
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: sshd needs root (privilege separation): run as root to test SSH pull"
	exit 77
fi
[ -d /run/sshd ] || mkdir -p /run/sshd

# --- sshd with its own host key and config --------------------------------
S="$T/ssh"
mkdir -p "$S"
chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -C hostkey -f "$S/host_ed25519"
ssh-keygen -q -t ecdsa -b 256 -N '' -C hostkey -f "$S/host_ecdsa"
ssh-keygen -q -t ed25519 -N '' -C other -f "$S/other_ed25519"
ssh-keygen -q -t ed25519 -N '' -C central -f "$S/client"
# ECDSA in PEM form: libssh2 1.10 leaks a BIGNUM per login with an ECDSA
# key in OpenSSH's own format (ed25519 keys in it are fine).
ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C forced -f "$S/client_forced"
SPORT=$(free_port)
cat > "$S/sshd_config" <<EOF
Port $SPORT
ListenAddress 127.0.0.1
HostKey $S/host_ed25519
HostKey $S/host_ecdsa
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
EOF
# The agent configs the remote commands use: one host name each.
for h in db1 db2 db4 db5 db6 db7 db8 bad1; do
	printf '{"host": "%s", "data_dir": "%s/agent-%s"}' "$h" "$T" "$h" > "$T/agent-$h.json"
done
printf '{"host": "intruder", "data_dir": "%s/agent-x"}' "$T" > "$T/agent-db3.json"
{
	cat "$S/client.pub"
	printf 'command="%s --once --json -c %s/agent-db4.json --root %s --only load",restrict %s\n' \
		"$AGENT" "$T" "$NE" "$(cat "$S/client_forced.pub")"
} > "$S/authorized_keys"
if ! "$SSHD" -t -f "$S/sshd_config" 2> "$T/sshd-t.err"; then
	echo "SKIP: sshd refuses its test config: $(cat "$T/sshd-t.err")"
	exit 77
fi
bg "$SSHD" -D -e -f "$S/sshd_config" 2> "$T/sshd.log"
wait_for 10 ssh-keyscan -p "$SPORT" 127.0.0.1 > /dev/null || fail "sshd did not come up"

# known_hosts as OpenSSH writes them: hashed by ssh-keyscan -H, plain
# "[127.0.0.1]:PORT" from the .pub file, a wrong key, another host only.
ssh-keyscan -H -t ed25519 -p "$SPORT" 127.0.0.1 > "$S/kh_hashed" 2> /dev/null
check "ssh-keyscan -H wrote a hashed entry" grep -q '^|1|' "$S/kh_hashed"
printf '[127.0.0.1]:%s %s\n' "$SPORT" "$(cut -d' ' -f1,2 "$S/host_ed25519.pub")" > "$S/kh_plain"
printf '[127.0.0.1]:%s %s\n' "$SPORT" "$(cut -d' ' -f1,2 "$S/host_ecdsa.pub")" > "$S/kh_ecdsa"
printf '[127.0.0.1]:%s %s\n' "$SPORT" "$(cut -d' ' -f1,2 "$S/other_ed25519.pub")" > "$S/kh_wrong"
printf '[127.0.0.2]:%s %s\n' "$SPORT" "$(cut -d' ' -f1,2 "$S/host_ed25519.pub")" > "$S/kh_unknown"
FP=$(ssh-keygen -l -E sha256 -f "$S/host_ed25519.pub" | cut -d' ' -f2)
check "ssh-keygen printed a SHA256 fingerprint" sh -c "echo '$FP' | grep -q '^SHA256:'"

# Sanity: OpenSSH's own client gets the document with this setup.
ssh -o BatchMode=yes -o UserKnownHostsFile="$S/kh_hashed" -o StrictHostKeyChecking=yes \
	-i "$S/client" -p "$SPORT" root@127.0.0.1 \
	"$AGENT --once --json -c $T/agent-db1.json --root $NE --only load" > "$T/ssh.json" 2> "$T/ssh.err" \
	|| fail "ssh itself cannot run the agent: $(cat "$T/ssh.err")"
check "ssh runs the agent remotely" pyjson "$T/ssh.json" 'd["host"] == "db1"'

# db7's "agent" prints the same document every time: its seq never grows.
"$AGENT" --once --json -c "$T/agent-db7.json" --root "$NE" --only load > "$T/fixed-db7.json"

# A port that accepts and never speaks, and a closed one.
BPORT=$(free_port)
bg python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$BPORT"
CPORT=$(free_port)

# --- the central ------------------------------------------------------------
HPORT=$(free_port)
agent_cmd() { # HOST [PROBES]: the remote command as a JSON array
	printf '["%s", "--once", "--json", "-c", "%s/agent-%s.json", "--root", "%s", "--only", "%s"]' \
		"$AGENT" "$T" "$1" "$NE" "${2:-load,mem}"
}
entry() { # HOST PORT KNOWN_HOSTS KEY COMMAND [EXTRA]
	printf '{"host": "%s", "url": "ssh://root@127.0.0.1:%s", "key": "%s", "known_hosts": "%s", "command": %s, "interval": 2, "timeout": "2s"%s}' \
		"$1" "$2" "$4" "$3" "$5" "${6:-}"
}
PULL="$(entry db1 "$SPORT" "$S/kh_hashed" "$S/client" "$(agent_cmd db1)"),
 $(entry db2 "$SPORT" "$S/kh_plain" "$S/client" "$(agent_cmd db2 load)"),
 $(entry bad1 "$SPORT" "$S/kh_wrong" "$S/client" "$(agent_cmd bad1)"),
 $(entry bad2 "$SPORT" "$S/kh_unknown" "$S/client" "$(agent_cmd db1)"),
 $(entry db3 "$SPORT" "$S/kh_plain" "$S/client" "$(agent_cmd db3)"),
 $(entry db4 "$SPORT" "$S/kh_plain" "$S/client_forced" '["headroom-agent", "--once", "--json"]'),
 $(entry db5 "$SPORT" "$S/kh_plain" "$S/client" '"echo broken agent >&2; exit 3"'),
 $(entry db6 "$SPORT" "$S/kh_plain" "$S/client" '["head", "-c", "70000", "/dev/zero"]'),
 $(entry db8 "$SPORT" "$S/kh_ecdsa" "$S/client" "$(agent_cmd db8 load)"),
 $(entry db7 "$SPORT" "$S/kh_plain" "$S/client" "[\"cat\", \"$T/fixed-db7.json\"]"),
 $(entry dead1 "$CPORT" "$S/kh_plain" "$S/client" "$(agent_cmd db1)"),
 $(entry dead2 "$BPORT" "$S/kh_plain" "$S/client" "$(agent_cmd db1)")"
cat > "$T/central.json" <<JSON
{"listen": "127.0.0.1:$HPORT", "insecure_http": true, "data_dir": "$T/data",
 "max_body_bytes": 65536, "pull": [$PULL]}
JSON
check "--check-config accepts the pull entries" "$CENTRAL" --check-config -c "$T/central.json"
bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
CPID=$BGPID
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HPORT/" || fail "central did not come up"
check "no \"not implemented\" warning for pull" sh -c "! grep -q 'pull.*not implemented' '$T/central.log'"

LOAD1="$T/data/rrd/db1/load.rrd"
wait_for 30 test -f "$T/data/rrd/db1/mem.rrd" || fail "db1 was not pulled: $(cat "$T/central.log")"
wait_for 30 test -f "$LOAD1" || true
check "hashed known_hosts: db1's load archive" [ -f "$LOAD1" ]
check "hashed known_hosts: db1's mem archive" [ -f "$T/data/rrd/db1/mem.rrd" ]
wait_for 30 test -f "$T/data/rrd/db2/load.rrd" || true
check "plain [127.0.0.1]:PORT known_hosts: db2's load archive" [ -f "$T/data/rrd/db2/load.rrd" ]
wait_for 30 test -f "$T/data/rrd/db8/load.rrd" || true
check "sshd with two host keys, known_hosts with only its ECDSA one: db8 stored" \
	[ -f "$T/data/rrd/db8/load.rrd" ]
wait_for 30 test -f "$T/data/rrd/db4/load.rrd" || true
check "forced command in authorized_keys: db4's load archive" [ -f "$T/data/rrd/db4/load.rrd" ]

# The dead hosts have had their timeouts; db1 keeps being pulled.
wait_for 30 grep -q 'pull: dead2' "$T/central.log" || true
L1=$(rrdtool last "$LOAD1")
wait_for 30 sh -c "[ \"\$(rrdtool last '$LOAD1')\" -gt '$L1' ]" || true
L2=$(rrdtool last "$LOAD1")
check "db1 is pulled again while the dead hosts time out" [ "$L2" -gt "$L1" ]
wait_for 30 sh -c "[ \"\$(rrdtool last '$LOAD1')\" -gt '$L2' ]" || true
check "and again" [ "$(rrdtool last "$LOAD1")" -gt "$L2" ]

check "changed host key: refused with the server's fingerprint and the file" \
	grep -q "pull: bad1 .*CHANGED.*$FP.*kh_wrong" "$T/central.log"
check "unknown host key: refused with the server's fingerprint" \
	grep -q "pull: bad2 .*UNKNOWN.*ssh-ed25519 $FP.*kh_unknown" "$T/central.log"
check "another host's document: refused (403)" \
	grep -q 'pull: db3 .*refused (403).*intruder' "$T/central.log"
check "failing command: exit status and stderr logged" \
	grep -q 'pull: db5 .*exited 3: broken agent' "$T/central.log"
check "output over max_body_bytes: refused" \
	grep -q 'pull: db6 .*over 65536 bytes' "$T/central.log"
check "a document whose seq does not grow: stored once, then logged" sh -c \
	"[ -f '$T/data/rrd/db7/load.rrd' ] && grep -q 'pull: db7 .*seq [0-9]* is not above the last one' '$T/central.log'"
check "closed port: logged" grep -q 'pull: dead1 .*connect.*Connection refused' "$T/central.log"
check "silent port: logged as a timeout" grep -q 'pull: dead2 .*SSH handshake: no answer within the timeout' "$T/central.log"
for h in bad1 bad2 db3 intruder db5 db6 dead1 dead2; do
	check "nothing stored for $h" [ ! -e "$T/data/rrd/$h" ]
done
for h in bad1 dead1 dead2; do
	check "$h's failure logged once, not every interval" \
		[ "$(grep -c "pull: $h " "$T/central.log")" -eq 1 ]
done

# SIGHUP: bad1 now with the right known_hosts; it recovers and is stored.
sed "s|$S/kh_wrong|$S/kh_plain|" "$T/central.json" > "$T/central2.json"
mv "$T/central2.json" "$T/central.json"
kill -HUP "$CPID"
wait_for 30 test -f "$T/data/rrd/bad1/load.rrd" || true
check "SIGHUP: the new known_hosts is used, bad1 stored" [ -f "$T/data/rrd/bad1/load.rrd" ]
L3=$(rrdtool last "$LOAD1")
wait_for 30 sh -c "[ \"\$(rrdtool last '$LOAD1')\" -gt '$L3' ]" || true
check "SIGHUP: db1 still pulled" [ "$(rrdtool last "$LOAD1")" -gt "$L3" ]

# --check-config names each pull problem by its JSON path.
cat > "$T/bad.json" <<JSON
{"insecure_http": true, "hosts": {"web1": {"token_sha256": "$(printf '%064d' 0)"}},
 "pull": [{"host": "web1", "url": "ssh://root@[::1", "key": "$S/nokey", "known_hosts": "$S/kh_plain"},
  {"host": "x", "url": "ssh://a@b:0", "key": "$S/client", "known_hosts": "$S/kh_plain", "command": [], "interval": "soon", "port": 1}]}
JSON
rc=0; "$CENTRAL" --check-config -c "$T/bad.json" > "$T/check.out" 2>&1 || rc=$?
check "--check-config of broken pull entries exits 2" [ "$rc" -eq 2 ]
for want in 'pull\[0\].host: "web1" is also in "hosts"' "pull\[0\].url: no ']'" \
	"pull\[0\].key: cannot read" 'pull\[1\].url: bad port' 'pull\[1\].command: expected at least one' \
	'pull\[1\].interval: expected a duration' 'pull\[1\].port: unknown key'; do
	check "--check-config reports: $want" grep -q "$want" "$T/check.out"
done

kill -TERM "$CPID"
rc=0; wait "$CPID" || rc=$?
check "SIGTERM: exits 0 (pulls in flight cut off)" [ "$rc" -eq 0 ]
finish
