"""notify_peers.py: the receivers of tests/integration/notify.sh.

http PORT LOG CTL: an HTTP server that appends one JSON line per POST
({"path", "headers", "body"}) to LOG and answers with the status in the file
CTL (200 when missing), or 400 when the body contains "reject-me".

smtp PORT LOG CERT KEY USER PASS: an SMTP server (aiosmtpd) that requires
STARTTLS and AUTH with USER/PASS and appends one JSON line per message
({"tls", "auth", "from", "to", "data"}) to LOG.
"""
import json
import os
import sys
import time


def http(port, log, ctl):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode()
            try:
                with open(ctl) as f:
                    code = int(f.read().strip() or 200)
            except OSError:
                code = 200
            if "reject-me" in body:
                code = 400
            rec = {"path": self.path, "headers": dict(self.headers), "body": body,
                   "code": code, "t": time.time()}
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    ThreadingHTTPServer(("127.0.0.1", int(port)), H).serve_forever()


def smtp(port, log, cert, key, user, password):
    import ssl
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    def auth(server, session, envelope, mechanism, data):
        ok = data.login.decode() == user and data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            rec = {"tls": session.ssl is not None, "auth": session.authenticated,
                   "from": envelope.mail_from, "to": envelope.rcpt_tos,
                   "data": envelope.content.decode("utf-8", "replace")}
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            return "250 OK"

    c = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=ctx,
                   require_starttls=True, authenticator=auth, auth_required=True,
                   auth_require_tls=True)
    c.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    {"http": http, "smtp": smtp}[sys.argv[1]](*sys.argv[2:])
