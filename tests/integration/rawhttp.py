#!/usr/bin/env python3
"""rawhttp.py: the integration tests' raw HTTP/1.1 client (sockets, no curl),
so that a test can send exactly the bytes an attacker would: broken request
lines, bodies that lie about their length, half requests, header floods.

usage: rawhttp.py PORT MODE [ARGS] [--tls CA] [--cert CERT --key KEY] [--out FILE]
  post TOKEN FILE      POST FILE to /api/v1/samples ("-" as TOKEN: none)
  chunked TOKEN FILE   the same with Transfer-Encoding: chunked (4 KiB chunks)
  lie TOKEN N          declares Content-Length N, sends 1 KiB and the answer
  raw FILE             sends FILE's bytes as they are, then half-closes
  slow N TOKEN FILE    holds N connections that sent half a header each, then
                       POSTs FILE with TOKEN while they are held; prints that
                       status, then waits until the server has closed every
                       held connection (prints "held N closed C answered A")
  flood NHDR TOKEN     a POST with NHDR headers of 100 bytes each
Prints the status code, or "closed" when the server closed without an
answer, and writes the response body to --out (default: none). Exit 0."""
import socket
import ssl
import sys

HOST = "127.0.0.1"
PATH = "/api/v1/samples"


def connect(port, o):
    s = socket.create_connection((HOST, port), timeout=60)
    if o.get("tls"):
        ctx = ssl.create_default_context(cafile=o["tls"])
        if o.get("cert"):
            ctx.load_cert_chain(o["cert"], o["key"])
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s


def head(token, extra=()):
    h = ["POST %s HTTP/1.1" % PATH, "Host: %s" % HOST,
         "Content-Type: application/json", "Connection: close"]
    if token != "-":
        h.append("Authorization: Bearer %s" % token)
    h.extend(extra)
    return ("\r\n".join(h) + "\r\n\r\n").encode()


def read_reply(s):
    """(status or None, body bytes): reads until the server closes or the
    declared Content-Length is complete."""
    data = b""
    try:
        while True:
            if b"\r\n\r\n" in data:
                hdr, _, rest = data.partition(b"\r\n\r\n")
                cl = None
                for line in hdr.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        cl = int(v.strip())
                if cl is not None and len(rest) >= cl:
                    break
            c = s.recv(65536)
            if not c:
                break
            data += c
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError, socket.timeout):
        pass
    if not data.startswith(b"HTTP/1."):
        return None, b""
    hdr, _, body = data.partition(b"\r\n\r\n")
    return int(hdr.split(b" ")[1]), body


def send_all(s, b):
    try:
        s.sendall(b)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass  # the server may answer and close before reading it all


def finish(status, body, o):
    if o.get("out"):
        with open(o["out"], "wb") as f:
            f.write(body)
    print("closed" if status is None else status)


def main():
    args, o = [], {}
    argv = sys.argv[1:]
    while argv:
        a = argv.pop(0)
        if a in ("--tls", "--cert", "--key", "--out"):
            o[a[2:]] = argv.pop(0)
        else:
            args.append(a)
    port, mode = int(args[0]), args[1]
    if mode in ("post", "chunked"):
        token, body = args[2], open(args[3], "rb").read()
        s = connect(port, o)
        if mode == "post":
            send_all(s, head(token, ["Content-Length: %d" % len(body)]) + body)
        else:
            send_all(s, head(token, ["Transfer-Encoding: chunked"]))
            for i in range(0, len(body), 4096):
                c = body[i:i + 4096]
                send_all(s, b"%x\r\n%s\r\n" % (len(c), c))
            send_all(s, b"0\r\n\r\n")
        finish(*read_reply(s), o)
    elif mode == "lie":
        token, n = args[2], int(args[3])
        s = connect(port, o)
        send_all(s, head(token, ["Content-Length: %d" % n]) + b"{" * 1024)
        finish(*read_reply(s), o)
    elif mode == "raw":
        s = connect(port, o)
        send_all(s, open(args[2], "rb").read())
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finish(*read_reply(s), o)
    elif mode == "flood":
        n, token = int(args[2]), args[3]
        extra = ["X-Flood-%06d: %s" % (i, "a" * 80) for i in range(n)]
        s = connect(port, o)
        send_all(s, head(token, extra + ["Content-Length: 2"]) + b"{}")
        finish(*read_reply(s), o)
    elif mode == "slow":
        n, token, body = int(args[2]), args[3], open(args[4], "rb").read()
        held = []
        for i in range(n):
            s = connect(port, o)
            # Half a header: the request line and part of one field.
            send_all(s, b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            held.append(s)
        s = connect(port, o)
        send_all(s, head(token, ["Content-Length: %d" % len(body)]) + body)
        finish(*read_reply(s), o)
        closed = answered = 0
        for h in held:
            h.settimeout(120)  # a bound for a broken run
            data = b""
            try:
                while True:
                    c = h.recv(65536)
                    if not c:
                        closed += 1
                        break
                    data += c
            except (ConnectionResetError, ssl.SSLError):
                closed += 1
            except socket.timeout:
                pass
            answered += data.startswith(b"HTTP/1.")
        print("held %d closed %d answered %d" % (n, closed, answered))
    else:
        sys.exit("rawhttp.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
