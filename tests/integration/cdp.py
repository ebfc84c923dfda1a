"""cdp.py: a small Chrome DevTools Protocol driver for the end-to-end tests
of the dashboards (tests/integration/web_e2e.sh): headless Chromium
(Debian's /usr/bin/chromium) started with a private profile, one page per
browser context (its own cookies), navigation that waits for the load
event, JavaScript evaluation, forms filled and submitted, PNG screenshots.
Only the standard library and python3-websocket; no npm, no Selenium."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

import websocket

START_TIMEOUT = 30  # seconds for Chromium to say its DevTools port
CALL_TIMEOUT = 30   # seconds for one command's answer or one page load


class CDPError(Exception):
    pass


class Browser:
    """Headless Chromium with a DevTools connection to the browser target.
    Pages attach to it in flat mode (sessionId on each message)."""

    def __init__(self, chromium="/usr/bin/chromium", width=1280, height=900):
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="hr-cdp-")
        args = [chromium, "--headless=new", "--remote-debugging-port=0",
                "--user-data-dir=" + self.profile, "--no-first-run",
                "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--password-store=basic", "--window-size=%d,%d" % (width, height)]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium's sandbox refuses root
        args.append("about:blank")
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.next_id = 0
        self.events = []
        try:
            self.ws = websocket.create_connection(self._ws_url(), timeout=CALL_TIMEOUT,
                                                  suppress_origin=True)
        except Exception:
            self.close()
            raise

    def _ws_url(self):
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CDPError("chromium exited with %d; its log: %s" %
                               (self.proc.returncode, self.log_text()))
            try:
                with open(port_file) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].strip() and lines[1].strip():
                    return "ws://127.0.0.1:%s%s" % (lines[0].strip(), lines[1].strip())
            except FileNotFoundError:
                pass
            time.sleep(0.1)
        raise CDPError("chromium did not write %s; its log: %s" % (port_file, self.log_text()))

    def log_text(self):
        try:
            with open(os.path.join(self.profile, "chromium.log"), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def call(self, method, params=None, session=None):
        """Sends one command and returns its result; events that arrive
        meanwhile are kept for wait_event."""
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            m = self._recv(deadline, method)
            if m.get("id") == mid:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def _recv(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise CDPError("no answer to %s within %d s" % (what, CALL_TIMEOUT))
        self.ws.settimeout(left)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise CDPError("no answer to %s within %d s" % (what, CALL_TIMEOUT))

    def wait_event(self, method, session, timeout=CALL_TIMEOUT):
        """The first kept or coming event METHOD of SESSION (consumed)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method and e.get("sessionId") == session:
                    return self.events.pop(i)
            m = self._recv(deadline, method)
            if "method" in m:
                self.events.append(m)

    def drop_events(self, session):
        self.events = [e for e in self.events if e.get("sessionId") != session]

    def new_page(self):
        """A page in a browser context of its own (no cookies shared)."""
        ctx = self.call("Target.createBrowserContext")["browserContextId"]
        tid = self.call("Target.createTarget", {"url": "about:blank",
                                                "browserContextId": ctx})["targetId"]
        sid = self.call("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        page = Page(self, sid)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": self.width, "height": self.height, "deviceScaleFactor": 1,
            "mobile": False})
        return page

    def close(self):
        try:
            if getattr(self, "ws", None) is not None:
                try:
                    self.call("Browser.close")
                except Exception:
                    pass
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    def call(self, method, params=None):
        return self.b.call(method, params, self.session)

    def _after_load(self, action):
        """Runs action() (which starts a navigation) and waits for the new
        document's load event."""
        self.b.drop_events(self.session)
        action()
        self.b.wait_event("Page.loadEventFired", self.session)

    def goto(self, url):
        def nav():
            r = self.call("Page.navigate", {"url": url})
            if r.get("errorText"):
                raise CDPError("navigate %s: %s" % (url, r["errorText"]))
        self._after_load(nav)

    def eval(self, expr):
        """The value of the JavaScript expression expr (promises awaited)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError("evaluate: %s" % d.get("exception", {}).get("description",
                                                                       d.get("text")))
        return r.get("result", {}).get("value")

    def url(self):
        return self.eval("location.href")

    def path(self):
        return self.eval("location.pathname")

    def text(self):
        return self.eval("document.body ? document.body.innerText : ''")

    def submit(self, form_selector, fields):
        """Fills the named fields of the form selected by form_selector and
        submits it as a user would (requestSubmit: the form's own submit
        button, validation, the browser's cookies), then waits for the page
        the answer leads to (a 303 is followed)."""
        js = """(function(sel, fields) {
            const f = document.querySelector(sel);
            if (!f) throw new Error('no form ' + sel);
            for (const [k, v] of Object.entries(fields)) {
                const e = f.elements.namedItem(k);
                if (!e) throw new Error('form ' + sel + ' has no field ' + k);
                e.value = v;
            }
            setTimeout(() => f.requestSubmit ? f.requestSubmit() : f.submit(), 0);
            return true;
        })(%s, %s)""" % (json.dumps(form_selector), json.dumps(fields))
        self._after_load(lambda: self.eval(js))

    def images(self):
        """[src, naturalWidth, naturalHeight] of every <img> once each has
        finished loading (decoded, or failed: width 0). Lazy images are
        made eager first: below the fold they would never load."""
        return self.eval("""Promise.all(Array.from(document.images).map(i => {
            i.loading = 'eager';
            return i.decode().then(() => [i.src, i.naturalWidth, i.naturalHeight],
                                   () => [i.src, i.naturalWidth, i.naturalHeight]);
        }))""")

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m.get("contentSize")
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "scale": 1,
                              "width": max(1, min(size["width"], 4000)),
                              "height": max(1, min(size["height"], 12000))}
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return len(data)
