#!/bin/sh
# user_cli.sh: `headroom user add|del|passwd|list|token` against the
# central's DATA/headroom.db, found through the central's config as an
# admin runs them: passwords from stdin end up as yescrypt hashes that
# crypt(3) accepts; a token is printed once and stored only as its SHA-256;
# a password change or deletion ends the user's sessions; every change is
# audited as cli:LOGIN; bad input exits 2 and changes nothing, a runtime
# failure (the user exists or does not) exits 1.
. "$(dirname "$0")/lib.sh"
need sqlite3 python3

HR="$top_builddir/headroom"
DB="$T/data/headroom.db"
mkdir -p "$T/data"
cat > "$T/central.json" <<JSON
{"insecure_http": true, "data_dir": "$T/data"}
JSON
C="-c $T/central.json"
me=$(id -un)

# crypt(3) through python's ctypes: 0 when PASSWORD matches NAME's hash.
pwcheck() {
	h=$(sqlite3 "$DB" "SELECT hash FROM users WHERE name = '$1'")
	python3 -c 'import ctypes,sys
c = ctypes.CDLL("libcrypt.so.1"); c.crypt.restype = ctypes.c_char_p
h = sys.argv[2].encode()
sys.exit(0 if c.crypt(sys.argv[1].encode(), h) == h else 1)' "$2" "$h"
}

rc=0; printf 'a good password\n' | "$HR" user add alice --role admin --password-stdin $C || rc=$?
check "add: exit 0" [ "$rc" -eq 0 ]
check "the database is made in data_dir" [ -f "$DB" ]
check "the hash is yescrypt" [ "$(sqlite3 "$DB" "SELECT substr(hash, 1, 3) FROM users WHERE name = 'alice'")" = '$y$' ]
check "the password matches the hash" pwcheck alice 'a good password'
check "a wrong password does not match" eval "! pwcheck alice 'another password'"
check "add audited as cli:$me" [ "$(sqlite3 "$DB" \
	"SELECT count(*) FROM audit WHERE action = 'user.add' AND who = 'cli:$me' AND subject = 'alice' AND detail = 'admin'")" -eq 1 ]

rc=0; printf 'a good password\n' | "$HR" user add alice --role viewer --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "add of an existing user: exit 1" [ "$rc" -eq 1 ]
check "add of an existing user: said" grep -q "exists" "$T/out"
rc=0; printf 'a good password\n' | "$HR" user add 'bad/name' --role viewer --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "a bad name: exit 2" [ "$rc" -eq 2 ]
rc=0; printf 'a good password\n' | "$HR" user add bob --role root --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "a bad role: exit 2" [ "$rc" -eq 2 ]
rc=0; printf 'short\n' | "$HR" user add bob --role viewer --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "a short password: exit 2" [ "$rc" -eq 2 ]
check "a short password: said" grep -q "too short" "$T/out"
rc=0; printf 'a good password\n' | "$HR" user add bob --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "add without --role: exit 2" [ "$rc" -eq 2 ]
rc=0; printf 'a good password\n' | "$HR" user add bob --role viewer $C > "$T/out" 2>&1 || rc=$?
check "no --password-stdin and no terminal: exit 2" [ "$rc" -eq 2 ]
rc=0; "$HR" user add bob --role viewer --password-stdin $C < /dev/null > "$T/out" 2>&1 || rc=$?
check "an empty stdin: exit 2" [ "$rc" -eq 2 ]
check "bad input added nobody" [ "$(sqlite3 "$DB" "SELECT count(*) FROM users")" -eq 1 ]

printf 'bobs password\n' | "$HR" user add bob --role viewer --password-stdin $C
"$HR" user list $C > "$T/out"
check "list: a header and both users" [ "$(wc -l < "$T/out")" -eq 3 ]
check "list: alice is an admin" grep -q "^alice  *admin  *[0-9-]* [0-9:]*Z$" "$T/out"
check "list: bob is a viewer" grep -q "^bob  *viewer " "$T/out"

rc=0; "$HR" user token bob --label "nightly report" $C > "$T/tok" || rc=$?
check "token: exit 0" [ "$rc" -eq 0 ]
tok=$(cat "$T/tok")
check "token: hrt_ and 43 base64url characters" sh -c "printf '%s' '$tok' | grep -Eq '^hrt_[A-Za-z0-9_-]{43}$'"
sum=$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)
check "token: only its SHA-256 is stored" [ "$(sqlite3 "$DB" \
	"SELECT count(*) FROM api_tokens WHERE name = 'bob' AND token_sha256 = '$sum' AND label = 'nightly report'")" -eq 1 ]
check "token: the token itself is nowhere in the database" sh -c "! grep -q '${tok#hrt_}' '$DB'"
rc=0; "$HR" user token nobody $C > "$T/out" 2>&1 || rc=$?
check "token for an unknown user: exit 1" [ "$rc" -eq 1 ]

# a session of bob's (as the central makes them) ends with a new password
sqlite3 "$DB" "INSERT INTO sessions VALUES ('$(printf x | sha256sum | cut -d' ' -f1)', 'bob', 1, 'c', 0, 0, 9e9, 'p:00')"
rc=0; printf 'bobs new password\n' | "$HR" user passwd bob --password-stdin $C || rc=$?
check "passwd: exit 0" [ "$rc" -eq 0 ]
check "passwd: the new password matches" pwcheck bob 'bobs new password'
check "passwd: bob's sessions are gone" [ "$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE user = 'bob'")" -eq 0 ]
rc=0; printf 'x\n' | "$HR" user passwd bob --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "passwd with a short password: exit 2" [ "$rc" -eq 2 ]
check "passwd with a short password changed nothing" pwcheck bob 'bobs new password'
rc=0; printf 'a good password\n' | "$HR" user passwd nobody --password-stdin $C > "$T/out" 2>&1 || rc=$?
check "passwd of an unknown user: exit 1" [ "$rc" -eq 1 ]

rc=0; "$HR" user del bob $C || rc=$?
check "del: exit 0" [ "$rc" -eq 0 ]
check "del: bob and his tokens are gone" [ "$(sqlite3 "$DB" \
	"SELECT (SELECT count(*) FROM users WHERE name = 'bob') + (SELECT count(*) FROM api_tokens)")" -eq 0 ]
rc=0; "$HR" user del bob $C > "$T/out" 2>&1 || rc=$?
check "del again: exit 1" [ "$rc" -eq 1 ]
check "audit: every change by cli:$me" [ "$(sqlite3 "$DB" \
	"SELECT group_concat(action, ' ') FROM (SELECT action FROM audit WHERE who = 'cli:$me' ORDER BY id)")" \
	= "user.add user.add token.new user.passwd user.del" ]

rc=0; "$HR" user list -c "$T/missing.json" > "$T/out" 2>&1 || rc=$?
check "a missing config: exit 2" [ "$rc" -eq 2 ]
rc=0; "$HR" user frobnicate $C > "$T/out" 2>&1 || rc=$?
check "an unknown command: exit 2" [ "$rc" -eq 2 ]
finish
