"""A minimal Lambda Runtime API (2018-06-01) for one function process, and a
wrapper that runs a function binary under it. Standard library only.

Used by the fault-injection suite (tools/chaos.py): each invocation gets a
deadline in milliseconds, and the time the answer arrived is recorded on this
side, so "answered before the deadline" is measured as Lambda would.
"""

from __future__ import annotations

import http.server
import json
import os
import queue
import socketserver
import subprocess
import threading
import time
import uuid


def now_ms():
    return time.time() * 1000.0


class RuntimeApi:
    """Serves `/runtime/invocation/next` from a queue of events and records
    each answer as (kind, request id, answered-at ms, body)."""

    def __init__(self):
        self.events = queue.Queue()
        self.results = queue.Queue()
        self.init_error = None
        self.polled = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                try:
                    self.send_response(status)
                    for k, v in headers:
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # the process is gone

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self._reply(404)
                api.polled.set()
                item = api.events.get()
                if item is None:
                    self.close_connection = True
                    return self._reply(500, b"{}")
                payload, rid, deadline_ms = item
                self._reply(200, json.dumps(payload).encode(), [
                    ("Lambda-Runtime-Aws-Request-Id", rid),
                    ("Lambda-Runtime-Deadline-Ms", str(int(deadline_ms))),
                    ("Lambda-Runtime-Invoked-Function-Arn",
                     "arn:aws:lambda:us-east-1:123456789012:function:chaos"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                    ("Content-Type", "application/json"),
                ])

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                at = now_ms()
                if "/init/error" in self.path:
                    api.init_error = body
                    api.polled.set()
                    return self._reply(202, b"{}")
                parts = self.path.split("/")
                self._reply(202, b"{}")
                api.results.put((parts[-1], parts[-2], at, body))

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.events.put(None)
        self.server.shutdown()
        self.server.server_close()


class Function:
    """A function process under its own Runtime API; its output is kept
    (`take_output()` returns what arrived since the last call)."""

    def __init__(self, binary, env):
        self.api = RuntimeApi()
        full = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.api.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "chaos",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
            **env,
        }
        self._out = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen([binary], env=full, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.api.polled.wait(60):
            raise RuntimeError(f"{binary} never polled the Runtime API")
        if self.api.init_error:
            raise RuntimeError(f"init error: {self.api.init_error[:300]!r}")

    def _read(self):
        for line in self.proc.stdout:
            with self._lock:
                self._out.append(line.decode("utf-8", "replace"))

    def take_output(self):
        with self._lock:
            out, self._out = self._out, []
        return "".join(out)

    def alive(self):
        return self.proc.poll() is None

    def invoke(self, payload, deadline_ms, wait_s):
        """Hands out one event with `deadline_ms` (Unix ms) and waits up to
        `wait_s` for its answer: (kind, answered_at_ms, body) with kind
        `response` or `error`; (None, None, None) if none came (or the
        process died)."""
        rid = str(uuid.uuid4())
        self.api.events.put((payload, rid, deadline_ms))
        until = time.monotonic() + wait_s
        while True:
            try:
                kind, got, at, body = self.api.results.get(timeout=0.05)
            except queue.Empty:
                if time.monotonic() > until or not self.alive():
                    return None, None, None
                continue
            if got == rid:
                return kind, at, body

    def stop(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.api.close()
