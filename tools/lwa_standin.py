#!/usr/bin/env python3
"""Stand-in for the Login with Amazon (LWA) token endpoint, for tests and local runs.

Standard library only (Python 3.11+). It implements ``POST /auth/o2/token`` the way
Amazon's endpoint behaves (form or JSON body, registered clients and refresh tokens,
the JSON error bodies and statuses), plus a control API that registers clients and
scripts misbehaviour (5xx, 429 with Retry-After, HTML bodies, malformed 200s, hangs,
connection resets). State lives in independent *namespaces* so parallel tests sharing
one server do not interfere.

Usage:
    python3 tools/lwa_standin.py [--host 127.0.0.1] [--port 0] [--port-file PATH]
                                 [--parent-pid PID] [--config FILE] [--delay-ms N] [--quiet]

On start it prints exactly one line, ``LISTENING <port>``, to stdout. Nothing else is
ever written to stdout; request logs (method, path without query, status; never a
body or a token) go to stderr unless --quiet.

Token endpoint (namespace ``default``, or ``<ns>`` created empty on first use):
    POST /auth/o2/token
    POST /ns/<ns>/auth/o2/token

Control API (JSON in and out, no auth):
    GET    /_health                      -> {"ok": true}
    PUT    /_control/<ns>                replace the namespace (log cleared); body:
           {"clients": [{"client_id": "...", "client_secrets": ["..."],
                         "refresh_tokens": ["Atzr|..."], "revoked_refresh_tokens": [],
                         "scopes": ["sellingpartnerapi::notifications"]}],
            "expires_in": 3600, "rotate_refresh_token": false, "delay_ms": 0, "script": []}
    GET    /_control/<ns>                current state (clients incl. rotated tokens, queue)
    DELETE /_control/<ns>                forget the namespace
    POST   /_control/<ns>/script         {"responses": [...]} appended to the FIFO queue
    DELETE /_control/<ns>/script         drop what is left of the queue -> {"cleared": n}
    POST   /_control/<ns>/revoke         {"refresh_token": "..."}
    GET    /_control/<ns>/requests       -> {"requests": [...]}
    GET    /_control/<ns>/issued         -> {"issued": {sha256_hex(access_token): {"at", "expires_in"}}}
    DELETE /_control/<ns>/requests       clear the request log

Script entries (each token request pops the first; an empty queue means normal):
    {"status": 500, "content_type": "text/plain", "body": "Internal Server Error",
     "headers": {"Retry-After": "1"}}      answer exactly that (a str body is sent verbatim,
                                           an object/array body is JSON-encoded)
    {"action": "hang"}                     read the request, never answer (until the client
                                           closes or 300 s pass)
    {"action": "reset"}                    read the request, then RST the connection
    {"action": "close"}                    read the request, then close cleanly (FIN), no answer
    {"action": "normal"}                   behave normally for this request
  Any entry may carry "repeat": true (never popped) and "delay_ms": N (sleep first).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import secrets
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:  # seller consent, Login-URI step and authorization_code grant (see that module)
    import consent_standin
except ImportError:  # loaded from elsewhere: the tools directory is not on sys.path
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import consent_standin
import spapi_appmgmt  # SP-API Application Management (client-secret rotation)

TOKEN_PATH = "/auth/o2/token"
NS_RE = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")
MAX_BODY = 1024 * 1024
HANG_MAX_SECONDS = 300.0
JSON_CT = "application/json;charset=UTF-8"

ERR_UNSUPPORTED_GRANT = (
    400,
    "unsupported_grant_type",
    "The authorization grant type is not supported by the authorization server",
)
ERR_INVALID_CLIENT = (401, "invalid_client", "Client authentication failed")
ERR_INVALID_GRANT = (
    400,
    "invalid_grant",
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission.",
)
ERR_INVALID_SCOPE = (400, "invalid_scope", "The request has an invalid parameter : scope")

SCRIPT_ACTIONS = ("hang", "reset", "close", "normal")


class ConfigError(ValueError):
    """A control-API or --config document that does not fit the schema."""


# --------------------------------------------------------------------------- state


def _str_list(value, what):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of strings")
    return list(value)


def _validate_script_entry(entry):
    if not isinstance(entry, dict):
        raise ConfigError("each script entry must be an object")
    if "action" in entry:
        if entry["action"] not in SCRIPT_ACTIONS:
            raise ConfigError(f"script action must be one of {', '.join(SCRIPT_ACTIONS)}")
    elif "status" in entry:
        status = entry["status"]
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ConfigError("script status must be an integer 100..599")
        headers = entry.get("headers", {})
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, (str, int)) for k, v in headers.items()
        ):
            raise ConfigError("script headers must be an object of strings")
        if "content_type" in entry and not isinstance(entry["content_type"], str):
            raise ConfigError("script content_type must be a string")
    else:
        raise ConfigError('a script entry needs "action" or "status"')
    delay = entry.get("delay_ms", 0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        raise ConfigError("script delay_ms must be a non-negative number")
    if not isinstance(entry.get("repeat", False), bool):
        raise ConfigError("script repeat must be a boolean")
    return copy.deepcopy(entry)


def _validate_script(entries):
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ConfigError("script/responses must be a list")
    return [_validate_script_entry(e) for e in entries]


class Client:
    def __init__(self, doc):
        if not isinstance(doc, dict):
            raise ConfigError("each client must be an object")
        cid = doc.get("client_id")
        if not isinstance(cid, str) or not cid:
            raise ConfigError("client_id must be a non-empty string")
        self.client_id = cid
        self.client_secrets = _str_list(doc.get("client_secrets"), "client_secrets")
        # Convenience: a single "client_secret" string is accepted too.
        if "client_secret" in doc:
            self.client_secrets += _str_list(doc["client_secret"], "client_secret")
        self.refresh_tokens = _str_list(doc.get("refresh_tokens"), "refresh_tokens")
        self.refresh_token_set = set(self.refresh_tokens)
        self.revoked = set(_str_list(doc.get("revoked_refresh_tokens"), "revoked_refresh_tokens"))
        self.scopes = _str_list(doc.get("scopes"), "scopes")

    def to_json(self):
        return {
            "client_id": self.client_id,
            "client_secrets": list(self.client_secrets),
            "refresh_tokens": list(self.refresh_tokens),
            "revoked_refresh_tokens": sorted(self.revoked),
            "scopes": list(self.scopes),
        }


class Namespace:
    def __init__(self, doc=None, default_delay_ms=0):
        doc = {} if doc is None else doc
        if not isinstance(doc, dict):
            raise ConfigError("namespace configuration must be a JSON object")
        clients = doc.get("clients", [])
        if not isinstance(clients, list):
            raise ConfigError("clients must be a list")
        self.clients = [Client(c) for c in clients]
        self.expires_in = doc.get("expires_in", 3600)
        if not isinstance(self.expires_in, int) or isinstance(self.expires_in, bool):
            raise ConfigError("expires_in must be an integer")
        self.rotate = doc.get("rotate_refresh_token", False)
        if not isinstance(self.rotate, bool):
            raise ConfigError("rotate_refresh_token must be a boolean")
        self.delay_ms = doc.get("delay_ms", default_delay_ms)
        if not isinstance(self.delay_ms, (int, float)) or isinstance(self.delay_ms, bool) or self.delay_ms < 0:
            raise ConfigError("delay_ms must be a non-negative number")
        self.script = _validate_script(doc.get("script"))
        self.requests = []
        self.seq = 0
        # SHA-256 (hex) of every access token issued -> {"at": unix time the
        # request arrived, "expires_in": n}: the fault-injection suite checks
        # stored tokens against it without this server keeping the tokens.
        self.issued = {}

    def issue(self, access_token, arrived):
        """Records an access token as issued to a request that arrived at
        `arrived` (Unix time), by its hash; returns it."""
        digest = hashlib.sha256(access_token.encode()).hexdigest()
        self.issued[digest] = {"at": arrived, "expires_in": self.expires_in}
        return access_token

    def find_client(self, client_id, client_secret):
        for c in self.clients:
            if c.client_id == client_id and client_secret in c.client_secrets:
                return c
        return None

    def to_json(self):
        return {
            "clients": [c.to_json() for c in self.clients],
            "expires_in": self.expires_in,
            "rotate_refresh_token": self.rotate,
            "delay_ms": self.delay_ms,
            "script": copy.deepcopy(self.script),
            "request_count": len(self.requests),
        }


class State:
    """All namespaces, behind one lock (every operation under it is short)."""

    def __init__(self, default_doc=None, default_delay_ms=0):
        self.lock = threading.Lock()
        self.default_delay_ms = default_delay_ms
        self.default_doc = default_doc  # what `default` is (re)created from
        self.namespaces = {}

    def _new(self, name):
        doc = self.default_doc if name == "default" else None
        return Namespace(doc, self.default_delay_ms)

    def get(self, name):
        """Return the namespace, creating it on first use. Call with the lock held."""
        ns = self.namespaces.get(name)
        if ns is None:
            ns = self.namespaces[name] = self._new(name)
        return ns


# --------------------------------------------------------------------------- HTTP


def _token(prefix):
    return prefix + secrets.token_urlsafe(48)  # 64 url-safe characters


def _parse_form(body_text, content_type):
    """LWA accepts form and JSON bodies; anything else is tried as a form."""
    ct = (content_type or "").split(";", 1)[0].strip().lower()
    if ct == "application/json" or ct.endswith("+json"):
        try:
            doc = json.loads(body_text) if body_text else {}
        except ValueError:
            return {}
        if not isinstance(doc, dict):
            return {}
        return {
            str(k): (v if isinstance(v, str) else json.dumps(v)) for k, v in doc.items() if v is not None
        }
    parsed = urllib.parse.parse_qs(body_text, keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle holds
    # the body until the client's delayed ACK (~40 ms per request).
    disable_nagle_algorithm = True
    server_version = "lwa-standin/1"

    def version_string(self):
        return self.server_version

    # ---- logging: method, path without query, status; never bodies or tokens

    def _safe_path(self):
        return urllib.parse.urlsplit(getattr(self, "path", "") or "").path

    def log_request(self, code="-", size="-"):
        if self.server.quiet:
            return
        code = getattr(code, "value", code)
        sys.stderr.write(
            "lwa-standin %s %s %s %s\n"
            % (self.address_string(), getattr(self, "command", "-"), self._safe_path(), code)
        )

    def log_error(self, format, *args):
        if self.server.quiet:
            return
        # The default messages can quote the raw request line; print only the code.
        code = args[0] if args else "-"
        sys.stderr.write("lwa-standin %s error %s %s\n" % (self.address_string(), code, self._safe_path()))

    def log_message(self, format, *args):
        pass

    # ---- plumbing

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n)

    def _send(self, status, body=b"", content_type=JSON_CT, headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            if k.lower() in ("content-length", "content-type"):
                continue
            if k.lower() == "connection" and str(v).lower() == "close":
                self.close_connection = True
            self.send_header(k, str(v))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _json(self, status, doc, headers=None):
        self._send(status, json.dumps(doc), JSON_CT, headers)

    def _dispatch(self):
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._json(400, {"error": "bad_request", "error_description": "unreadable body"})
            return
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == TOKEN_PATH:
                return self._token_endpoint("default", body)
            parts = path.split("/")
            # /ns/<ns>/auth/o2/token
            if len(parts) == 6 and parts[1] == "ns" and "/" + "/".join(parts[3:]) == TOKEN_PATH:
                if not NS_RE.match(parts[2]):
                    return self._json(404, {"error": "not_found", "message": "bad namespace name"})
                return self._token_endpoint(parts[2], body)
            if spapi_appmgmt.handles(path):
                return spapi_appmgmt.dispatch(self, path, body)
            if path == "/_health":
                if self.command in ("GET", "HEAD"):
                    return self._json(200, {"ok": True})
                return self._json(405, {"error": "method_not_allowed"}, {"Allow": "GET"})
            if len(parts) >= 3 and parts[1] == "_control":
                return self._control(parts[2:], body)
            if consent_standin.handles(path):
                return consent_standin.dispatch(self, path, body)
            return self._json(404, {"error": "not_found", "path": path})
        except _Abort:
            return

    # ---- token endpoint

    def _token_endpoint(self, ns_name, body):
        if self.command != "POST":
            return self._json(405, {"error": "method_not_allowed"}, {"Allow": "POST"})
        self.arrived = time.time()
        body_text = body.decode("utf-8", errors="replace")
        content_type = self.headers.get("Content-Type")
        form = _parse_form(body_text, content_type)
        state = self.server.state
        with state.lock:
            ns = state.get(ns_name)
            ns.seq += 1
            ns.requests.append(
                {
                    "seq": ns.seq,
                    "received_at": time.time(),
                    "path": self.path,
                    "content_type": content_type,
                    "body": body_text,
                    "form": dict(form),
                    "user_agent": self.headers.get("User-Agent"),
                }
            )
            entry = None
            if ns.script:
                entry = ns.script[0] if ns.script[0].get("repeat") else ns.script.pop(0)
                entry = copy.deepcopy(entry)
            ns_delay = ns.delay_ms
        delay = ns_delay + (entry.get("delay_ms", 0) if entry else 0)
        if delay:
            time.sleep(delay / 1000.0)
        if entry is not None:
            action = entry.get("action")
            if action == "hang":
                return self._hang()
            if action == "reset":
                return self._reset()
            if action == "close":
                self.close_connection = True
                self.log_request("close")
                return
            if action is None:
                content = entry.get("body", "")
                if not isinstance(content, str):
                    content = json.dumps(content)
                default_ct = "text/plain" if isinstance(entry.get("body", ""), str) else JSON_CT
                return self._send(
                    entry["status"],
                    content,
                    entry.get("content_type", default_ct),
                    entry.get("headers") or {},
                )
            # "normal": fall through
        status, doc = self._token_answer(ns_name, form)
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), "Cache-Control": "no-store", "Pragma": "no-cache"}
        # Errors carry LWA's "application/json;charset=UTF-8"; success plain "application/json".
        body = json.dumps(doc, separators=(",", ":"))
        self._send(status, body, JSON_CT if status != 200 else "application/json", headers)

    def _token_answer(self, ns_name, form):
        def err(e):
            status, code, desc = e
            return status, {"error_description": desc, "error": code}

        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self.server.state.lock:
                return consent_standin.exchange(self.server.state.get(ns_name), form, _token)
        if grant not in ("refresh_token", "client_credentials"):
            return err(ERR_UNSUPPORTED_GRANT)
        cid, csecret = form.get("client_id"), form.get("client_secret")
        state = self.server.state
        with state.lock:
            ns = state.get(ns_name)
            client = ns.find_client(cid, csecret) if cid and csecret else None
            if client is None:
                return err(ERR_INVALID_CLIENT)
            if grant == "refresh_token":
                rt = form.get("refresh_token")
                if not rt or rt not in client.refresh_token_set or rt in client.revoked:
                    return err(ERR_INVALID_GRANT)
                if ns.rotate:
                    rt = _token("Atzr|")
                    client.refresh_tokens.append(rt)  # the old one stays valid too
                    client.refresh_token_set.add(rt)
                return 200, {
                    "access_token": ns.issue(_token("Atza|"), self.arrived),
                    "refresh_token": rt,
                    "token_type": "bearer",
                    "expires_in": ns.expires_in,
                }
            scopes = (form.get("scope") or "").split()
            if not scopes or any(s not in client.scopes for s in scopes):
                return err(ERR_INVALID_SCOPE)
            return 200, {"access_token": ns.issue(_token("Atza|"), self.arrived), "token_type": "bearer", "expires_in": ns.expires_in}

    def _hang(self):
        """Never answer: wait until the client closes the connection (or 300 s)."""
        self.log_request("hang")
        self.close_connection = True
        conn = self.connection
        deadline = time.monotonic() + HANG_MAX_SECONDS
        try:
            while not self.server.stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                readable, _, _ = select.select([conn], [], [], min(left, 1.0))
                if readable and not conn.recv(65536):
                    break  # client closed
        except OSError:
            pass
        raise _Abort()

    def _reset(self):
        """Close abruptly so the client sees ECONNRESET instead of a response."""
        self.log_request("reset")
        self.close_connection = True
        conn = self.connection
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The buffered rfile holds a reference to the socket: release both so the
        # close really happens now (and RST goes out) instead of after finish().
        try:
            self.rfile.close()
        except OSError:
            pass
        conn.close()
        raise _Abort()

    # ---- control API

    def _read_json(self, body):
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            self._json(400, {"error": "bad_request", "message": "body is not JSON"})
            raise _Abort()
        if not isinstance(doc, dict):
            self._json(400, {"error": "bad_request", "message": "body must be a JSON object"})
            raise _Abort()
        return doc

    def _control(self, parts, body):
        name = parts[0]
        if not NS_RE.match(name):
            return self._json(404, {"error": "not_found", "message": "bad namespace name"})
        sub = "/".join(parts[1:])
        state = self.server.state
        method = self.command
        try:
            if sub == "":
                if method == "PUT":
                    ns = Namespace(self._read_json(body), state.default_delay_ms)
                    with state.lock:
                        state.namespaces[name] = ns
                        out = ns.to_json()
                    return self._json(200, out)
                if method in ("GET", "HEAD"):
                    with state.lock:
                        out = state.get(name).to_json()
                    return self._json(200, out)
                if method == "DELETE":
                    with state.lock:
                        existed = state.namespaces.pop(name, None) is not None
                    return self._json(200, {"ok": True, "existed": existed})
                return self._json(405, {"error": "method_not_allowed"}, {"Allow": "GET, PUT, DELETE"})
            if sub == "script" and method == "DELETE":
                with state.lock:
                    ns = state.get(name)
                    left, ns.script = len(ns.script), []
                return self._json(200, {"ok": True, "cleared": left})
            if sub == "script":
                if method != "POST":
                    return self._json(405, {"error": "method_not_allowed"}, {"Allow": "POST, DELETE"})
                doc = self._read_json(body)
                entries = _validate_script(doc.get("responses", []))
                with state.lock:
                    ns = state.get(name)
                    ns.script.extend(entries)
                    queued = len(ns.script)
                return self._json(200, {"ok": True, "queued": queued})
            if sub == "revoke":
                if method != "POST":
                    return self._json(405, {"error": "method_not_allowed"}, {"Allow": "POST"})
                rt = self._read_json(body).get("refresh_token")
                if not isinstance(rt, str) or not rt:
                    raise ConfigError("refresh_token must be a non-empty string")
                with state.lock:
                    n = 0
                    for c in state.get(name).clients:
                        if rt in c.refresh_tokens and rt not in c.revoked:
                            c.revoked.add(rt)
                            n += 1
                return self._json(200, {"ok": True, "revoked": n})
            if sub == "issued":
                if method in ("GET", "HEAD"):
                    with state.lock:
                        issued = copy.deepcopy(state.get(name).issued)
                    return self._json(200, {"issued": issued})
                return self._json(405, {"error": "method_not_allowed"}, {"Allow": "GET"})
            if sub == "requests":
                if method in ("GET", "HEAD"):
                    with state.lock:
                        reqs = copy.deepcopy(state.get(name).requests)
                    return self._json(200, {"requests": reqs})
                if method == "DELETE":
                    with state.lock:
                        state.get(name).requests.clear()
                    return self._json(200, {"ok": True})
                return self._json(405, {"error": "method_not_allowed"}, {"Allow": "GET, DELETE"})
        except ConfigError as e:
            return self._json(400, {"error": "bad_request", "message": str(e)})
        return self._json(404, {"error": "not_found", "path": self._safe_path()})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


spapi_appmgmt.install(Handler)


class _Abort(Exception):
    """The response was already handled (or deliberately never sent)."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, state, quiet):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.quiet = quiet
        self.stopping = threading.Event()
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, _Abort)):
            return
        if not self.quiet:
            super().handle_error(request, client_address)

    def shutdown_request(self, request):
        try:
            super().shutdown_request(request)
        except OSError:
            pass


# --------------------------------------------------------------------------- process


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    # A zombie (exited, not yet reaped) still answers kill(0): treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] not in (b"Z", b"X")
    except (OSError, ValueError):
        return True


def start_parent_watchdog(parent_pid, interval=0.25):
    """Exit the whole process soon after `parent_pid` is gone."""
    initial_ppid = os.getppid()

    def watch():
        while True:
            # A changed ppid means our parent died; only meaningful if it was the watched pid.
            if (initial_ppid == parent_pid and os.getppid() != initial_ppid) or not _pid_alive(parent_pid):
                try:
                    sys.stderr.write(f"lwa-standin: parent {parent_pid} is gone, exiting\n")
                    sys.stderr.flush()
                finally:
                    os._exit(0)
            time.sleep(interval)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def main(argv=None):
    ap = argparse.ArgumentParser(description="LWA token endpoint stand-in")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--parent-pid", type=int)
    ap.add_argument("--config", help="JSON namespace document loaded into `default`")
    ap.add_argument("--delay-ms", type=float, default=0.0, help="default delay_ms of every namespace")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    if args.parent_pid is not None:
        start_parent_watchdog(args.parent_pid)

    default_doc = None
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as f:
                default_doc = json.load(f)
            Namespace(default_doc)  # validate now: fail fast with a clear line
        except (OSError, ValueError) as e:
            sys.stderr.write(f"lwa-standin: --config {args.config}: {e}\n")
            return 2
    delay = int(args.delay_ms) if float(args.delay_ms).is_integer() else args.delay_ms
    state = State(default_doc, delay)

    server = Server((args.host, args.port), state, args.quiet)
    port = server.server_address[1]

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.port_file:
        tmp = f"{args.port_file}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()
    if not args.quiet:
        sys.stderr.write(f"lwa-standin: listening on {args.host}:{port}\n")

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
