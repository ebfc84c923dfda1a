#!/bin/sh
# web_e2e.sh: the dashboards end to end in headless Chromium (Debian's
# chromium, driven over the DevTools protocol by cdp.py). A real
# headroom-central with its "web" listener on a loopback port (plain HTTP
# on loopback), users made by `headroom user add`, and five hosts of the
# demo fleet backfilled 14 days (`fleetsim --demo`). Then, as a user would:
# unauthenticated pages lead to /login; a wrong password is refused; the
# operator logs in; the overview lists the demo hosts; a host page's graphs
# load (every image decodes with a non-zero size) and its labels show (RAID
# level); the capacity page ranks db1's filling /srv/data first; an alert
# acknowledged with a comment shows acknowledged, and the admin finds the
# ack in the audit log; POSTs without the CSRF token or with a wrong one
# are refused and change nothing; a viewer gets no ack form; the API
# answers 401 without a session; logout leads back to /login. Each page's
# screenshot is kept in tests/integration/web_e2e.out/ (WEB_E2E_OUT).
# Skips (77) only when chromium or python3-websocket is missing, or when
# the central answers 404 to /login (dashboards not built in).
. "$(dirname "$0")/lib.sh"

CENTRAL="$top_builddir/headroom-central"
HEADROOM="$top_builddir/headroom"
SIM="$top_builddir/bench/fleetsim"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
OUT=${WEB_E2E_OUT:-$top_builddir/tests/integration/web_e2e.out}
need curl
[ -x "$CHROMIUM" ] || { echo "SKIP: $CHROMIUM missing (apt-get install chromium)"; exit 77; }
# cdp.py needs python3-websocket: Debian's python3 has it, a python3
# earlier in PATH (pyenv, venv) may not.
PY=""
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import websocket' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || { echo "SKIP: python3-websocket missing (apt-get install python3-websocket)"; exit 77; }

HOSTS="db1 nas1 gw1 mgmt1 web1 app1 web2"
PORT=$(free_port)
WPORT=$(free_port)
while [ "$WPORT" = "$PORT" ]; do WPORT=$(free_port); done
BASE="http://127.0.0.1:$WPORT"

"$SIM" --demo -n 7 --emit-hosts > "$T/hosts.json"
python3 -c 'import json,sys
print(json.dumps({"listen": "127.0.0.1:" + sys.argv[1], "insecure_http": True,
	"data_dir": sys.argv[2], "hosts": json.load(open(sys.argv[3])),
	"web": {"listen": "127.0.0.1:" + sys.argv[4]}}))' "$PORT" "$T/data" "$T/hosts.json" \
	"$WPORT" > "$T/central.json"
mkdir -p "$T/data"

# Users: random passwords, given on stdin.
pw() { python3 -c 'import secrets; print(secrets.token_urlsafe(15))'; }
OPER_PW=$(pw)
ADMIN_PW=$(pw)
VIEW_PW=$(pw)
for u in "oper operator $OPER_PW" "boss admin $ADMIN_PW" "watcher viewer $VIEW_PW"; do
	set -- $u
	printf '%s\n' "$3" | "$HEADROOM" user add "$1" --role "$2" --password-stdin \
		-c "$T/central.json" > "$T/user.out" 2>&1 ||
		{ cat "$T/user.out"; fail "headroom user add $1 --role $2"; }
done
check "headroom user list: the three users" sh -c \
	"'$HEADROOM' user list -c '$T/central.json' | grep -q oper && '$HEADROOM' user list -c '$T/central.json' | grep -q boss"

bg "$CENTRAL" -c "$T/central.json" 2> "$T/central.log"
wait_for 10 curl -s -o /dev/null "$BASE/login" || {
	cat "$T/central.log"
	fail "the central's web listener did not come up on $BASE"
	finish
	exit 1
}
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/login")
if [ "$code" = 404 ]; then
	echo "SKIP: headroom-central answers 404 to GET /login: this build serves no dashboards"
	exit 77
fi

# 14 days of the demo's history, ending now.
rc=0
"$SIM" --demo -n 7 --backfill 14d --url "http://127.0.0.1:$PORT/api/v1/samples" --stats \
	> "$T/sim.json" 2> "$T/sim.err" || rc=$?
check "fleetsim --demo: 14 days of 7 hosts acknowledged" sh -c \
	"[ $rc -eq 0 ] && grep -q '\"ok\": true' '$T/sim.json'"
[ $rc -eq 0 ] || cat "$T/sim.err"

# The demo's stories raise the alerts they are there for, and the
# sawtooth none.
"$HEADROOM" alerts --json -c "$T/central.json" > "$T/alerts.json"
"$HEADROOM" alerts --all --json -c "$T/central.json" > "$T/alerts_all.json"
for want in "forecast_fs_used db1 /srv/data" "md_degraded nas1 md1" "bond_degraded gw1 bond0" \
	"link_carrier_lost gw1 eth1" "ups_on_battery mgmt1 rack1@localhost" \
	"tls_expiring web1 www.example.org:443" "spike_load app1 -"; do
	set -- $want
	check "demo: $1 firing on $2 $3" pyjson "$T/alerts.json" "any(a['rule'] == '$1' and \
		a['host'] == '$2' and a['instance'] == '${3#-}' and a['state'] == 'firing' for a in d)"
done
check "demo: web2's /var/log sawtooth never raised an alert" pyjson "$T/alerts_all.json" \
	"not any(a['host'] == 'web2' and a['probe'] == 'fs' for a in d)"

rm -rf "$OUT"
mkdir -p "$OUT"
cat > "$T/e2e.py" <<'PY'
import json
import sys

sys.path.insert(0, sys.argv[1])
import cdp

base, out, hosts = sys.argv[2], sys.argv[3], sys.argv[4].split()
users = json.loads(sys.argv[5])
fails = 0


def check(what, cond, detail=""):
    global fails
    if cond:
        print("ok: " + what)
    else:
        fails += 1
        print("FAIL: " + what + (": " + str(detail) if detail != "" else ""))


def shot(page, name):
    n = page.screenshot("%s/%s.png" % (out, name))
    check("screenshot %s.png (%d bytes)" % (name, n), n > 1000)


def login(page, user):
    page.goto(base + "/login")
    page.submit("form:has(input[name=password])",
                {"username": user, "password": users[user]})


def row_text(page, rule, instance):
    """The text of the first table row naming rule and instance."""
    return page.eval("""(function(rule, inst) {
        for (const tr of document.querySelectorAll('tbody tr'))
            if (tr.innerText.includes(rule) && tr.innerText.includes(inst))
                return tr.innerText;
        return null;
    })(%s, %s)""" % (json.dumps(rule), json.dumps(instance)))


def ack_id(page, rule, instance):
    return page.eval("""(function(rule, inst) {
        for (const tr of document.querySelectorAll('tbody tr')) {
            const f = tr.querySelector('form[action="/alerts/ack"]');
            if (f && tr.innerText.includes(rule) && tr.innerText.includes(inst))
                return f.elements.namedItem('id').value;
        }
        return null;
    })(%s, %s)""" % (json.dumps(rule), json.dumps(instance)))


def post(page, path, fields):
    """POSTs fields from the page (its cookies), without following a
    redirect: the status, 0 for a redirect (opaque)."""
    return page.eval("""fetch(%s, {method: 'POST', redirect: 'manual',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'},
        body: new URLSearchParams(%s).toString()}).then(r => r.status)"""
                     % (json.dumps(path), json.dumps(fields)))


b = cdp.Browser()
try:
    # Unauthenticated: pages lead to the login form, the API says 401.
    p = b.new_page()
    for path in ("/", "/capacity", "/hosts/db1", "/alerts", "/audit"):
        p.goto(base + path)
        check("unauthenticated %s leads to /login" % path, p.path() == "/login", p.url())
    check("the login form has username and password fields",
          p.eval("!!document.querySelector('form input[name=username]') && "
                 "!!document.querySelector('form input[name=password][type=password]')"))
    shot(p, "01-login")
    check("GET /api/v1/hosts without a session: 401",
          p.eval("fetch('/api/v1/hosts').then(r => r.status)") == 401)
    p.submit("form:has(input[name=password])", {"username": "oper", "password": "wrong-" + users["oper"]})
    check("a wrong password: still the login page", p.path() == "/login", p.url())
    shot(p, "02-login-refused")

    # The operator.
    login(p, "oper")
    check("login: the overview", p.path() == "/", p.url())
    missing = [h for h in hosts
               if not p.eval("!!document.querySelector('a[href=\"/hosts/%s\"]')" % h)]
    check("the overview lists every demo host (%s)" % " ".join(hosts), not missing, missing)
    shot(p, "03-overview")

    for h in ("db1", "nas1"):
        p.goto(base + "/hosts/" + h)
        check("/hosts/%s: the host page" % h, p.path() == "/hosts/" + h and h in p.text(), p.url())
        imgs = p.images()
        bad = [i for i in imgs if not (i[1] > 0 and i[2] > 0)]
        check("/hosts/%s: %d graphs, each decodes with a non-zero size" % (h, len(imgs)),
              len(imgs) > 0 and not bad, bad[:3])
        shot(p, "04-host-" + h)
    check("/hosts/nas1 shows the RAID level label (raid6)", "raid6" in p.text())

    p.goto(base + "/capacity")
    first = p.eval("(document.querySelector('tbody tr') || {}).innerText || ''")
    check("/capacity ranks db1's /srv/data first, with a forecast of when it is full",
          "db1" in first and "/srv/data" in first and "not growing" not in first and
          "learning" not in first and ("warning" in first or "critical" in first),
          first.replace("\n", " | ")[:200])
    imgs = p.images()
    check("/capacity: its small graphs decode", len(imgs) > 0 and all(i[1] > 0 for i in imgs),
          imgs[:2])
    shot(p, "05-capacity")

    p.goto(base + "/alerts")
    shot(p, "06-alerts")
    aid = ack_id(p, "md_degraded", "md1")
    other = ack_id(p, "bond_degraded", "bond0")
    check("/alerts: nas1's md_degraded has an ack form", aid is not None)
    check("/alerts: gw1's bond_degraded has an ack form", other is not None)
    if aid is not None:
        p.eval("document.querySelector('form[action=\"/alerts/ack\"] input[name=id][value=\"%s\"]')"
               ".form.id = 'e2e-ack'" % aid)
        p.submit("#e2e-ack", {"comment": "e2e: disk replacement ordered"})
        check("ack: back on /alerts", p.path() == "/alerts", p.url())
        row = row_text(p, "md_degraded", "md1") or ""
        check("ack: the alert shows acknowledged by oper with the comment",
              "acked by oper" in row and "disk replacement ordered" in row, row[:200])
        check("ack: no ack form left for it", ack_id(p, "md_degraded", "md1") is None)
        shot(p, "07-alerts-acked")
    if other is not None:
        st = post(p, "/alerts/ack", {"id": other, "comment": "no token"})
        check("POST /alerts/ack without csrf: refused (%s)" % st, st in (400, 403), st)
        st = post(p, "/alerts/ack", {"id": other, "comment": "forged", "csrf": "0" * 43})
        check("POST /alerts/ack with a wrong csrf: refused (%s)" % st, st in (400, 403), st)
        p.goto(base + "/alerts")
        check("the refused POSTs acknowledged nothing",
              ack_id(p, "bond_degraded", "bond0") == other and
              "acked by" not in (row_text(p, "bond_degraded", "bond0") or ""))
        st = post(p, "/logout", {})
        check("POST /logout without csrf: refused (%s)" % st, st in (400, 403), st)
    st = p.eval("fetch('/audit', {redirect: 'manual'}).then(r => r.status)")
    check("the operator may not read /audit (%s)" % st, st == 403, st)

    # A viewer sees the alerts but gets no form, and a POST is refused.
    v = b.new_page()
    login(v, "watcher")
    v.goto(base + "/alerts")
    check("viewer: /alerts without ack forms",
          v.path() == "/alerts" and not v.eval("!!document.querySelector('form[action=\"/alerts/ack\"]')"))
    csrf = v.eval("(document.querySelector('input[name=csrf]') || {}).value || ''")
    if other is not None:
        st = post(v, "/alerts/ack", {"id": other, "comment": "viewer", "csrf": csrf})
        check("viewer: POST /alerts/ack with its csrf: refused (%s)" % st, st == 403, st)

    # The admin reads the audit log.
    a = b.new_page()
    login(a, "boss")
    a.goto(base + "/audit")
    check("admin: /audit", a.path() == "/audit", a.url())
    audit = a.eval("Array.from(document.querySelectorAll('tbody tr')).map(r => r.innerText)") or []
    acks = [r for r in audit if "oper" in r and "ack" in r.lower()]
    check("audit: the ack by oper is logged", len(acks) >= 1, audit[:5])
    check("audit: logins are logged", any("login" in r.lower() for r in audit), audit[:5])
    shot(a, "08-audit")

    # Logout.
    p.goto(base + "/")
    p.submit("form[action=\"/logout\"]", {})
    check("logout: the login page", p.path() == "/login", p.url())
    p.goto(base + "/")
    check("after logout / leads to /login again", p.path() == "/login", p.url())
finally:
    b.close()
print("%d browser checks failed" % fails)
sys.exit(1 if fails else 0)
PY
USERS=$(python3 -c 'import json,sys; print(json.dumps({"oper": sys.argv[1], "boss": sys.argv[2], "watcher": sys.argv[3]}))' \
	"$OPER_PW" "$ADMIN_PW" "$VIEW_PW")
check "the dashboards in headless Chromium (screenshots in $OUT)" \
	"$PY" "$T/e2e.py" "$top_srcdir/tests/integration" "$BASE" "$OUT" "$HOSTS" "$USERS"
if [ "$failures" -gt 0 ]; then
	echo "--- central log (last 30 lines)"
	tail -n 30 "$T/central.log"
fi
finish
