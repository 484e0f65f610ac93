#!/usr/bin/env python3
"""A real webhook receiver for jcorr's integration tests.

Listens on 127.0.0.1 (HTTP, or HTTPS with --tls-cert/--tls-key, optionally requiring
a client certificate signed by --client-ca), logs every request as one JSON line
(headers, body, the status it answered, whether the X-Jcorr-Signature verified),
and answers as told: a scripted sequence of statuses, a Retry-After header, a body,
or a stall before answering. It writes its port to --port-file once it listens.
"""
import argparse
import email.utils
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(secret: bytes, headers, body: bytes, max_age: int = 300) -> bool:
    """How a receiver checks a jcorr webhook (the same code is in docs/webhooks.md)."""
    timestamp = headers.get("X-Jcorr-Timestamp", "")
    signature = headers.get("X-Jcorr-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
        return False
    expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--responses", default="", help="comma-separated statuses for the first requests")
    ap.add_argument("--default-status", type=int, default=200)
    ap.add_argument("--retry-after", default=None, help="Retry-After on 429 and 503 answers")
    ap.add_argument("--body", default="", help="body of non-2xx answers")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds to stall before answering")
    ap.add_argument("--close-silently", action="store_true",
                    help="close each connection after answering, without Connection: close")
    ap.add_argument("--secret-file", default=None)
    ap.add_argument("--tls-cert", default=None)
    ap.add_argument("--tls-key", default=None)
    ap.add_argument("--client-ca", default=None)
    args = ap.parse_args()

    script = [int(s) for s in args.responses.split(",") if s.strip()]
    secret = open(args.secret_file, "rb").read().strip() if args.secret_file else None
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                n = count[0]
                count[0] += 1
            status = script[n] if n < len(script) else args.default_status
            peer = None
            if isinstance(self.connection, ssl.SSLSocket):
                cert = self.connection.getpeercert()
                if cert:
                    peer = dict(x[0] for x in cert.get("subject", ()))
            entry = {
                "time": time.time(),  # when the request arrived
                "n": n,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "status": status,
                "signature_ok": verify(secret, self.headers, body) if secret is not None else None,
                "client_cert": peer,
                "client_port": self.client_address[1],
            }
            with lock:
                log.write(json.dumps(entry) + "\n")
            if args.delay:
                time.sleep(args.delay)
            reply = b"ok" if 200 <= status < 300 else args.body.encode()
            self.send_response(status)
            if args.retry_after is not None and status in (429, 503):
                value = args.retry_after
                if value.startswith("date+"):  # an HTTP-date that many seconds ahead
                    value = email.utils.formatdate(time.time() + float(value[5:]), usegmt=True)
                self.send_header("Retry-After", value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            if args.close_silently:  # as a server whose keep-alive idle timeout ran out
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
