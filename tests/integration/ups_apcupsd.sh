#!/bin/sh
# ups_apcupsd.sh: the ups probe against the real apcupsd (Debian's 3.14.14),
# run in the foreground without a UPS, its NIS server on loopback:
# - UPSTYPE test (apcupsd's built-in TEST driver: fixed values, ONLINE);
# - UPSTYPE net reading a recorded status (the corpus's ONBATT Smart-UPS 700)
#   from a small NIS server: the real daemon re-serves it;
# - the same with the battery low: the real daemon goes "SHUTTING DOWN"
#   (its apccontrol is a stub here that only logs);
# - UPSTYPE net towards a dead port: COMMLOST, nothing but the status;
# - no daemon at all: reachable 0.
# apcupsd and nut-client conflict in Debian (both provide ups-monitor): when
# apcupsd is not installed, an unpacked package is used from
# HR_APCUPSD_ROOT (apt-get download apcupsd; dpkg-deb -x apcupsd_*.deb DIR).
. "$(dirname "$0")/lib.sh"

APCUPSD=""
for c in "${HR_APCUPSD_ROOT:-/nonexistent}/sbin/apcupsd" "$top_srcdir/var/cache/apcupsd/sbin/apcupsd" \
	/sbin/apcupsd /usr/sbin/apcupsd \
	"$(command -v apcupsd || true)"; do
	if [ -n "$c" ] && [ -x "$c" ]; then APCUPSD=$c; break; fi
done
if [ -z "$APCUPSD" ]; then
	echo "apcupsd missing: apt-get install apcupsd (it conflicts with nut-client;"
	echo "then: apt-get download apcupsd && dpkg-deb -x apcupsd_*.deb DIR, and set"
	echo "HR_APCUPSD_ROOT=DIR; it needs libusb-0.1-4 and libwrap0)"
	exit 1
fi
if ! "$APCUPSD" -V >/dev/null 2>&1; then
	echo "$APCUPSD does not run (missing libusb-0.1-4 or libwrap0?)"
	exit 1
fi

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# A NIS server that answers every "status" with the records of file $1 and
# writes its port to $2.
cat > "$T/nis.py" <<'PY'
import socket, struct, sys, threading
text = open(sys.argv[1], "rb").read()
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
def recvn(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            return None
        b += x
    return b
def serve(c):
    with c:
        c.settimeout(60)
        while True:
            h = recvn(c, 2)
            cmd = h and recvn(c, struct.unpack(">H", h)[0])
            if not cmd:
                return
            out = b""
            if cmd.startswith(b"status"):
                for l in text.splitlines(keepends=True):
                    out += struct.pack(">H", len(l)) + l
            else:
                out += struct.pack(">H", 16) + b"Invalid command\n"
            c.sendall(out + b"\0\0")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# start_apcupsd NAME UPSTYPE DEVICE: runs apcupsd with everything in
# $T/NAME; its NIS port goes to $T/NAME/nisport.
start_apcupsd() {
	d="$T/$1"
	mkdir -p "$d"
	# apccontrol would shut the machine down: this one only logs
	printf '#!/bin/sh\necho "$@" >> "%s/apccontrol.log"\nexit 99\n' "$d" > "$d/apccontrol"
	chmod +x "$d/apccontrol"
	port=$(free_port)
	echo "$port" > "$d/nisport"
	cat > "$d/apcupsd.conf" <<CONF
## apcupsd.conf v1.1 ##
UPSNAME $1
UPSCABLE smart
UPSTYPE $2
DEVICE $3
LOCKFILE $d
SCRIPTDIR $d
PWRFAILDIR $d
NOLOGINDIR $d
NETSERVER on
NISIP 127.0.0.1
NISPORT $port
EVENTSFILE $d/events
STATTIME 0
UPSCLASS standalone
UPSMODE disable
ONBATTERYDELAY 0
POLLTIME 1
CONF
	bg "$APCUPSD" -b -f "$d/apcupsd.conf" -P "$d/apcupsd.pid"
}

# once NAME TARGET: the agent's ups sample of TARGET into $T/NAME.json.
once() {
	cat > "$T/$1-agent.json" <<JSON
{"host": "it", "data_dir": "$T/data", "probes": {"ups": {"apcupsd": ["$2"], "timeout": "2s"}}}
JSON
	"$AGENT" --once --json --only ups -c "$T/$1-agent.json" > "$T/$1.json" 2> "$T/$1.err"
}

# ups NAME EXPR: EXPR over v (values) and l (labels) of the single ups sample.
ups() {
	pyjson "$T/$1.json" "(lambda s: (lambda v, l: $2)(s['values'], s['labels']))([x for x in d['samples'] if x['probe'] == 'ups'][0])"
}

# until_ups SECONDS NAME TARGET EXPR: query until EXPR holds (the daemon
# needs a moment to start and to poll).
until_ups() {
	n=$(($1 * 2))
	while [ "$n" -gt 0 ]; do
		if once "$2" "$3" && ups "$2" "$4" 2>/dev/null; then return 0; fi
		sleep 0.5
		n=$((n - 1))
	done
	return 1
}

SRC="$FIX/ups/apcupsd/apcupsd_examples_SmartUPS700.status"
sed -e 's/^STATUS   : ONBATT $/STATUS   : ONBATT LOWBATT/' \
	-e 's/^STATFLAG : 0x10 Status Flag/STATFLAG : 0x50 Status Flag/' \
	-e 's/^BCHARGE  : 074.0/BCHARGE  : 004.0/' "$SRC" > "$T/lowbatt.status"

bg python3 "$T/nis.py" "$SRC" "$T/nis-onbatt.port"
bg python3 "$T/nis.py" "$T/lowbatt.status" "$T/nis-lowbatt.port"
wait_for 10 test -s "$T/nis-onbatt.port" || { echo "NIS test server did not start"; exit 1; }
wait_for 10 test -s "$T/nis-lowbatt.port" || { echo "NIS test server did not start"; exit 1; }
dead=$(free_port)

start_apcupsd test test ""
start_apcupsd onbatt net "127.0.0.1:$(cat "$T/nis-onbatt.port")"
start_apcupsd lowbatt net "127.0.0.1:$(cat "$T/nis-lowbatt.port")"
start_apcupsd commlost net "127.0.0.1:$dead"

TEST="127.0.0.1:$(cat "$T/test/nisport")"
check "TEST driver: reachable and ONLINE" until_ups 20 test "$TEST" \
	"v['reachable'] == 1 and l['status'] == 'ONLINE NOBATT'"
check "TEST driver: its fixed values, TIMELEFT minutes in seconds" ups test \
	"v == {'reachable': 1, 'online': 1, 'on_battery': 0, 'low_battery': 0, 'replace_battery': 0, 'overload': 0, 'charge_percent': 100, 'runtime_s': 72000, 'load_percent': 40.5, 'input_voltage': 229.5}"
check "TEST driver: model label" ups test "l['model'] == 'Test Driver'"
check "instance is host:port" pyjson "$T/test.json" \
	"[s['instance'] for s in d['samples'] if s['probe'] == 'ups'] == ['$TEST']"

ONB="127.0.0.1:$(cat "$T/onbatt/nisport")"
check "recorded ONBATT status through the real daemon" until_ups 20 onbatt "$ONB" \
	"v.get('on_battery') == 1"
check "ONBATT: the recorded numbers" ups onbatt \
	"v == {'reachable': 1, 'online': 0, 'on_battery': 1, 'low_battery': 0, 'replace_battery': 0, 'overload': 0, 'charge_percent': 74, 'runtime_s': 1020, 'load_percent': 27, 'input_voltage': 7.1} and l['model'] == 'SMART-UPS 700'"

LOW="127.0.0.1:$(cat "$T/lowbatt/nisport")"
check "battery low: the real daemon says SHUTTING DOWN" until_ups 30 lowbatt "$LOW" \
	"l['status'] == 'SHUTTING DOWN'"
check "SHUTTING DOWN: flags from STATFLAG, numbers kept" ups lowbatt \
	"v == {'reachable': 1, 'online': 0, 'on_battery': 1, 'low_battery': 1, 'replace_battery': 0, 'overload': 0, 'charge_percent': 4, 'runtime_s': 1020, 'load_percent': 27, 'input_voltage': 7.1}"
check "the stub apccontrol was asked to shut down" grep -q doshutdown "$T/lowbatt/apccontrol.log"

CL="127.0.0.1:$(cat "$T/commlost/nisport")"
check "UPS unreachable for apcupsd: COMMLOST" until_ups 20 commlost "$CL" \
	"l['status'] == 'COMMLOST'"
check "COMMLOST: reachable and nothing else" ups commlost "v == {'reachable': 1}"

# stop the TEST daemon: now nobody listens there
kill "$(cat "$T/test/apcupsd.pid")" 2>/dev/null || true
check "daemon gone: reachable 0" until_ups 20 gone "$TEST" "v == {'reachable': 0}"

finish
