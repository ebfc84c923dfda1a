# lib.sh: shared helpers of the integration scripts (sourced, POSIX sh).
# Each script gets a fresh temp folder in $T, removed on exit together with
# every process it started through `bg`.
set -eu
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
AGENT="$top_builddir/headroom-agent"
FIX="$top_srcdir/tests/fixtures"
T=$(mktemp -d "${TMPDIR:-/tmp}/hr-it-XXXXXX")
PIDS=""
failures=0
passes=0

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# bg CMD...: start CMD in the background, remember its pid in $BGPID.
bg() {
	"$@" &
	BGPID=$!
	PIDS="$PIDS $BGPID"
}

ok() { passes=$((passes + 1)); echo "ok: $*"; }
fail() { failures=$((failures + 1)); echo "FAIL: $*"; }

# check DESCRIPTION CMD...: run CMD, count it as passed when it succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds; a bound
# for a broken run, not a timing assertion.
wait_for() {
	n=$(($1 * 5))
	shift
	while [ "$n" -gt 0 ]; do
		if "$@" 2>/dev/null; then return 0; fi
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# need TOOL...: skip the script (exit 77) unless every tool is installed.
need() {
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "SKIP: $t not installed"
			exit 77
		fi
	done
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on just now
# (another process may take it before the caller binds: retry there).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# compare_rrd NAME START END: every known value of the agent's $A/NAME.rrd
# between START and END must be in the central's $C/NAME.rrd, equal (no gap,
# no duplicate: a shifted or doubled row differs). $A and $C are the
# caller's folders of archives.
compare_rrd() {
	rrdtool fetch "$A/$1.rrd" AVERAGE -r 1 -s "$2" -e "$3" > "$T/a.fetch" || return 1
	rrdtool fetch "$C/$1.rrd" AVERAGE -r 1 -s "$2" -e "$3" > "$T/c.fetch" || return 1
	python3 "$top_srcdir/tests/integration/rrdcompare.py" "$1" "$T/a.fetch" "$T/c.fetch" "$3"
}

# jq-like checks with python3: pyjson FILE EXPR (EXPR sees `d`, the doc).
pyjson() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# start_upsd DIR: NUT's upsd (Debian nut-server) with its config in DIR
# ($NUT_CONFPATH, ups.conf and upsd.users written by the caller, drivers
# started) on a free loopback port, retried when another test takes the
# port first. Sets UPSD_PORT and UPSD_PID; its log is $T/upsd.log. As root
# it stays root (-u root): the "nut" user cannot enter the 0700 temp folder.
start_upsd() {
	as=""
	[ "$(id -u)" -eq 0 ] && as="-u root"
	for try in 1 2 3 4 5; do
		UPSD_PORT=$(free_port)
		printf 'LISTEN 127.0.0.1 %s\nMAXAGE 30\n' "$UPSD_PORT" > "$1/upsd.conf"
		# shellcheck disable=SC2086
		bg /lib/nut/upsd $as -F > "$T/upsd.log" 2>&1
		UPSD_PID=$BGPID
		sleep 0.5
		if kill -0 "$UPSD_PID" 2>/dev/null && grep -q "listening on" "$T/upsd.log"; then
			return 0
		fi
		kill "$UPSD_PID" 2>/dev/null || true
	done
	echo "upsd did not start:"
	cat "$T/upsd.log"
	return 1
}

finish() {
	echo "$passes passed, $failures failed"
	[ "$failures" -eq 0 ]
}
