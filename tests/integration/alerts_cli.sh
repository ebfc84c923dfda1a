#!/bin/sh
# alerts_cli.sh: `headroom alerts`, `ack` and `silence` against the
# central's DATA/headroom.db, found through the central's config as an
# operator runs them: the first command creates the database in data_dir;
# an alert firing there (written as the central's lifecycle writes it) is
# listed, acknowledged with a comment, silenced and the silence expired;
# every human action is in the audit table with its author; bad input
# exits 2, an unknown id 1, and changes nothing.
. "$(dirname "$0")/lib.sh"
need sqlite3 python3

HR="$top_builddir/headroom"
DB="$T/data/headroom.db"
mkdir -p "$T/data"
cat > "$T/central.json" <<JSON
{"insecure_http": true, "data_dir": "$T/data"}
JSON

rc=0; "$HR" alerts -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "alerts on a new data_dir: exit 0" [ "$rc" -eq 0 ]
check "the database is made in data_dir" [ -f "$DB" ]
check "no alerts listed (a header only)" [ "$(wc -l < "$T/out")" -eq 1 ]

now=$(date +%s)
sqlite3 "$DB" "INSERT INTO alert_alerts (key, rule, host, probe, instance, route, labels,
	state, severity, event, for_s, started, fired, summary, sent, sent_sev, last_sent, due,
	flap_note, live) VALUES ('fs_full' || char(31) || 'web1' || char(31) || '/var', 'fs_full',
	'web1', 'fs', '/var', '', '{\"fstype\":\"ext4\"}', 'firing', 2, 0, 0, $now, $now,
	'web1: /var at 97%', 1, 2, $now, 0, 0, 1);"
id=$(sqlite3 "$DB" "SELECT max(id) FROM alert_alerts")

"$HR" alerts -c "$T/central.json" > "$T/out"
cat "$T/out"
check "the firing alert is listed" grep -q "^$id  *firing  *critical  *web1  *fs_full  */var" "$T/out"
"$HR" alerts -c "$T/central.json" --json > "$T/out.json"
check "--json: id, state, fingerprint" pyjson "$T/out.json" \
	"d[0]['id'] == $id and d[0]['state'] == 'firing' and len(d[0]['fingerprint']) == 16"

rc=0; "$HR" ack "$id" -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "ack without --by: exit 2" [ "$rc" -eq 2 ]
rc=0; "$HR" ack 99999 --by alice -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "ack of an unknown id: exit 1" [ "$rc" -eq 1 ]
check "ack of an unknown id: said" grep -q "no such open alert" "$T/out"
rc=0; "$HR" ack "$id" --by alice --comment "disk ordered" -c "$T/central.json" || rc=$?
check "ack: exit 0" [ "$rc" -eq 0 ]
check "ack: the row has who and the comment" \
	[ "$(sqlite3 "$DB" "SELECT acked_by || '|' || ack_comment FROM alert_alerts WHERE id = $id")" = "alice|disk ordered" ]
"$HR" alerts -c "$T/central.json" > "$T/out"
check "the listing says acked, and by whom" grep -q "acked by alice" "$T/out"
check "ack audited with who and comment" [ "$(sqlite3 "$DB" \
	"SELECT count(*) FROM audit WHERE action = 'ack' AND who = 'alice' AND detail = 'disk ordered' AND subject LIKE 'alert $id %'")" -eq 1 ]

rc=0; "$HR" silence add --match "host web1" --for 2h --by bob -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "silence with a bad matcher: exit 2" [ "$rc" -eq 2 ]
rc=0; "$HR" silence add --match host=web1 --for soon --by bob -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "silence with a bad duration: exit 2" [ "$rc" -eq 2 ]
rc=0; "$HR" silence add --match host=web1 --until 2001-01-01T00:00Z --by bob -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "silence ending in the past: exit 2" [ "$rc" -eq 2 ]
check "no silence made by bad input" [ "$(sqlite3 "$DB" "SELECT count(*) FROM silence")" -eq 0 ]

"$HR" silence add --match "host=web*,alertname=fs_*" --for 2h --by bob --comment "disk swap" \
	-c "$T/central.json" > "$T/out"
check "silence add prints its id" grep -q "^silence [0-9][0-9]* until " "$T/out"
sid=$(sed -n 's/^silence \([0-9]*\) .*/\1/p' "$T/out")
"$HR" alerts -c "$T/central.json" --json > "$T/out.json"
check "the alert shows as silenced" pyjson "$T/out.json" "d[0]['status'] == 'silenced'"
"$HR" silence list -c "$T/central.json" > "$T/out"
check "silence list shows it active" grep -q "^$sid  *yes .* bob  *host=web\*,alertname=fs_\*  # disk swap" "$T/out"
later=$(( $(date +%s) + 86400 ))
"$HR" silence add --match instance=/srv --until "$later" --by bob -c "$T/central.json" > /dev/null
check "--until in unix seconds" [ "$(sqlite3 "$DB" "SELECT count(*) FROM silence WHERE ends = $later")" -eq 1 ]

rc=0; "$HR" silence expire "$sid" -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "expire without --by: exit 2" [ "$rc" -eq 2 ]
"$HR" silence expire "$sid" --by carol -c "$T/central.json"
rc=0; "$HR" silence expire "$sid" --by carol -c "$T/central.json" > "$T/out" 2>&1 || rc=$?
check "expiring it again: exit 1" [ "$rc" -eq 1 ]
"$HR" silence list -c "$T/central.json" > "$T/out"
check "an expired silence leaves the list" sh -c "! grep -q '^$sid ' '$T/out'"
"$HR" silence list --all --json -c "$T/central.json" > "$T/out.json"
check "--all lists it, expired by carol" pyjson "$T/out.json" \
	"[s['expired_by'] for s in d if s['id'] == $sid] == ['carol']"
"$HR" alerts -c "$T/central.json" --json > "$T/out.json"
check "the alert is acked again, not silenced" pyjson "$T/out.json" "d[0]['status'] == 'acked'"

check "audit: silence add by bob (2), expire by carol (1)" [ "$(sqlite3 "$DB" \
	"SELECT group_concat(action || ':' || who, ' ') FROM (SELECT action, who FROM audit WHERE action LIKE 'silence%' ORDER BY id)")" \
	= "silence add:bob silence add:bob silence expire:carol" ]

rc=0; "$HR" alerts -c "$T/missing.json" > "$T/out" 2>&1 || rc=$?
check "a missing config: exit 2" [ "$rc" -eq 2 ]
finish
