"""Loopback servers for the Python tests, besides moto and tests/fixtures/fixture_server.py.

ScriptedServer answers each ACM PCA request by a marker found anywhere in its
JSON body, so one server serves every test and thread without shared state:

    "acmpca-test:error:CODE"     HTTP 400 {"__type": CODE, "message": ...}
    "acmpca-test:status:N"       HTTP N with a JSON error body "ScriptedStatusN"
    "acmpca-test:stall:SECONDS"  answers {} after SECONDS
    "acmpca-test:drop"           closes the connection without answering
    "acmpca-test:big"            HTTP 200 with a 20 MiB JSON body (over the size cap)
    anything else                HTTP 200 {}

Before any marker, every request is checked as the service would check it
(tests/fixtures/aws_check.py: POST /, X-Amz-Target of a model operation, the
JSON content type, a valid SigV4 signature by the test credentials) and
refused with the service's typed error otherwise; ScriptedServer(checked=False)
is for the tests that deliberately send something else.

It records the last 200 requests it received (headers and body), for tests
that check what went on the wire. stalled_port() is a listening port whose accept queue
is full, so connecting to it times out.
"""
import collections
import json
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aws_check  # tests/fixtures, on sys.path by conftest.py

MARKER = re.compile(r"acmpca-test:(\w+)(?::([\w.]+))?")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def _send(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "scripted-" + uuid.uuid4().hex[:12])
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        refusal = None
        if server.checked:
            try:
                aws_check.check_request(self.command, self.path, self.headers, raw)
            except aws_check.Refusal as r:
                refusal = r
        with server.lock:
            server.count += 1
            server.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": raw.decode("utf-8", "replace"),
                                    "target": self.headers.get("X-Amz-Target", ""),
                                    "refused": refusal and refusal.code})
        if refusal:
            return self._send(refusal.status, {"__type": refusal.code,
                                               "message": refusal.message})
        m = MARKER.search(raw.decode("utf-8", "replace"))
        action, arg = (m.group(1), m.group(2)) if m else ("ok", None)
        if action == "error":
            return self._send(400, {"__type": arg, "message": "scripted %s" % arg})
        if action == "status":
            return self._send(int(arg), {"__type": "ScriptedStatus%s" % arg,
                                         "message": "scripted status"})
        if action == "stall":
            time.sleep(float(arg))
            return self._send(200, {})
        if action == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if action == "big":
            blob = b'{"Policy": "' + b"x" * (20 << 20) + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            try:
                self.wfile.write(blob)
            except OSError:
                pass
            return None
        return self._send(200, {})

    do_GET = do_PUT = do_DELETE = do_POST


class ScriptedServer:
    def __init__(self, checked=True):
        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.checked = checked
        self.httpd.lock = threading.Lock()
        # Bounded: the leak test sends thousands of requests to this same process.
        self.httpd.requests = collections.deque(maxlen=200)
        self.httpd.count = 0
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def requests(self):
        with self.httpd.lock:
            return list(self.httpd.requests)

    @property
    def count(self):
        """How many ACM PCA requests arrived in all."""
        with self.httpd.lock:
            return self.httpd.count

    def clear(self):
        with self.httpd.lock:
            self.httpd.requests.clear()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class StalledPort:
    """A listening socket whose accept queue is full: new connections time out."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)
        time.sleep(0.1)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        for c in self.fillers:
            c.close()
        self.sock.close()
