#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of moto, for the fault-injection suite
(tools/chaos.py). Standard library only (Python 3.11+).

Every request is forwarded to the upstream (moto) unchanged, unless a fault
rule matches its operation. The operation is the ``X-Amz-Target`` header of the
AWS JSON protocol that Secrets Manager and SSM use (``secretsmanager.GetSecretValue``,
``AmazonSSM.PutParameter``), or the ``Action`` of a query-protocol request.

Usage:
    python3 tools/fault_proxy.py --upstream http://127.0.0.1:<moto> [--host 127.0.0.1]
                                 [--port 0] [--parent-pid PID] [--quiet]

On start it prints exactly one line, ``LISTENING <port>``, to stdout.

Control API (JSON; paths under /_fault/ are never forwarded):
    PUT    /_fault/rules   {"rules": [RULE, ...]}   replace the rules, clear the log
    GET    /_fault/log     -> {"applied": [{"op", "kind", "when"}...], "requests": {op: n}}
    DELETE /_fault/log     clear the log (rules stay)

A RULE:
    {"op": "AmazonSSM.PutParameter" | "*",
     "when": "before" | "after",      before: the upstream never sees the request;
                                      after: forwarded (a write happens), then the fault
     "kind": "500" | "throttle" | "drop" | "delay" | "stall",
     "delay_ms": 800,                 for "delay"
     "times": 1}                      how many matching requests it hits; -1 = every one

    500       HTTP 500 with an InternalFailure JSON body
    throttle  HTTP 400 ThrottlingException ("Rate exceeded"), as both services send it
    drop      the connection is reset (RST), no response
    delay     wait delay_ms, then behave normally (after: forward first, then wait)
    stall     never answer: hold the connection until the client closes it (or 300 s)

The first matching rule with hits left is applied; each application is logged.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("500", "throttle", "drop", "delay", "stall")
WHENS = ("before", "after")
STALL_MAX_SECONDS = 300.0
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"}


class RuleError(ValueError):
    """A rule that does not fit the schema."""


def validate_rule(rule):
    if not isinstance(rule, dict):
        raise RuleError("each rule must be an object")
    if not isinstance(rule.get("op"), str) or not rule["op"]:
        raise RuleError("rule op must be an operation name or *")
    if rule.get("when", "before") not in WHENS:
        raise RuleError("rule when must be before or after")
    if rule.get("kind") not in KINDS:
        raise RuleError(f"rule kind must be one of {', '.join(KINDS)}")
    times = rule.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times == 0 or times < -1:
        raise RuleError("rule times must be a positive integer or -1")
    delay = rule.get("delay_ms", 0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        raise RuleError("rule delay_ms must be a non-negative number")
    return {"op": rule["op"], "when": rule.get("when", "before"), "kind": rule["kind"],
            "delay_ms": delay, "times": times}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.applied = []
        self.requests = {}

    def take(self, op):
        """The rule to apply to one request of `op`, if any (its count is used up)."""
        with self.lock:
            self.requests[op] = self.requests.get(op, 0) + 1
            for rule in self.rules:
                if rule["times"] != 0 and rule["op"] in (op, "*"):
                    if rule["times"] > 0:
                        rule["times"] -= 1
                    self.applied.append({"op": op, "kind": rule["kind"], "when": rule["when"]})
                    return dict(rule)
        return None


def operation(headers, path, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    if "Action" in query:
        return query["Action"][0]
    if body and b"Action=" in body:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return "unknown"


class Abort(Exception):
    """The connection was deliberately dropped or stalled."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, content_type="application/x-amz-json-1.1", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _error(self, status, code, message):
        body = json.dumps({"__type": code, "message": message}).encode()
        self._send(status, body, headers=[("x-amzn-RequestId", "fault-proxy"), ("x-amzn-ErrorType", code)])

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()
        except OSError:
            pass
        self.connection.close()
        raise Abort()

    def _stall(self):
        self.close_connection = True
        conn = self.connection
        until = time.monotonic() + STALL_MAX_SECONDS
        try:
            while not self.server.stopping.is_set():
                left = until - time.monotonic()
                if left <= 0:
                    break
                readable, _, _ = select.select([conn], [], [], min(left, 0.5))
                if readable and not conn.recv(65536):
                    break
        except OSError:
            pass
        raise Abort()

    def _fault(self, rule):
        kind = rule["kind"]
        if kind == "500":
            self._error(500, "InternalFailure", "injected fault: internal error")
        elif kind == "throttle":
            self._error(400, "ThrottlingException", "Rate exceeded")
        elif kind == "drop":
            self._drop()
        elif kind == "stall":
            self._stall()

    def _forward(self, body):
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_HEADERS], data
        finally:
            conn.close()

    def _relay(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _dispatch(self):
        try:
            body = self._read_body()
            if self.path.startswith("/_fault/"):
                return self._control(body)
            op = operation(self.headers, self.path, body)
            rule = self.server.state.take(op)
            if rule and rule["when"] == "before":
                if rule["kind"] == "delay":
                    time.sleep(rule["delay_ms"] / 1000)
                else:
                    return self._fault(rule)
            try:
                status, headers, data = self._forward(body)
            except (OSError, http.client.HTTPException) as e:
                return self._error(502, "ProxyUpstreamError", f"upstream unreachable: {type(e).__name__}")
            if rule and rule["when"] == "after":
                if rule["kind"] == "delay":
                    time.sleep(rule["delay_ms"] / 1000)
                else:
                    return self._fault(rule)
            self._relay(status, headers, data)
        except Abort:
            return
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True

    def _control(self, body):
        state = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_fault/rules" and self.command == "PUT":
            try:
                doc = json.loads(body or b"{}")
                rules = [validate_rule(r) for r in doc.get("rules", [])]
            except (ValueError, AttributeError) as e:
                return self._send(400, json.dumps({"error": str(e)}).encode(), "application/json")
            with state.lock:
                state.rules = rules
                state.applied = []
                state.requests = {}
            return self._send(200, b'{"ok":true}', "application/json")
        if path == "/_fault/log" and self.command == "GET":
            with state.lock:
                doc = {"applied": list(state.applied), "requests": dict(state.requests)}
            return self._send(200, json.dumps(doc).encode(), "application/json")
        if path == "/_fault/log" and self.command == "DELETE":
            with state.lock:
                state.applied = []
                state.requests = {}
            return self._send(200, b'{"ok":true}', "application/json")
        return self._send(404, b'{"error":"not_found"}', "application/json")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, upstream):
        self.state = State()
        self.upstream = urllib.parse.urlsplit(upstream)
        self.stopping = threading.Event()
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, Abort, OSError)):
            return
        super().handle_error(request, client_address)


def start_parent_watchdog(parent_pid, interval=0.25):
    def watch():
        while True:
            try:
                os.kill(parent_pid, 0)
                with open(f"/proc/{parent_pid}/stat", "rb") as f:
                    stat = f.read()
                if stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] in (b"Z", b"X"):
                    os._exit(0)
            except ProcessLookupError:
                os._exit(0)
            except (OSError, ValueError):
                pass
            time.sleep(interval)

    threading.Thread(target=watch, daemon=True).start()


def main(argv=None):
    ap = argparse.ArgumentParser(description="fault-injecting proxy in front of moto")
    ap.add_argument("--upstream", required=True, help="http://host:port of moto")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--parent-pid", type=int)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.parent_pid is not None:
        start_parent_watchdog(args.parent_pid)
    server = Server((args.host, args.port), args.upstream)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"LISTENING {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
