"""Self-test of tools/lwa_standin.py (stdlib unittest).

    python3 -m unittest tools/test_lwa_standin.py -v
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "lwa_standin.py")

CLIENT_ID = "amzn1.application-oa2-client.test1"
SECRET_A = "amzn1.oa2-cs.v1.secret-a"
SECRET_B = "amzn1.oa2-cs.v1.secret-b"
REFRESH = "Atzr|IwEBrefresh-one"
REVOKED = "Atzr|IwEBrevoked"
SCOPE = "sellingpartnerapi::notifications"
ACCESS_RE = re.compile(r"^Atza\|[A-Za-z0-9_-]{40,}$")
REFRESH_RE = re.compile(r"^Atzr\|[A-Za-z0-9_-]{40,}$")


def start_standin(*args, quiet=True):
    """Start the stand-in on a free port; return (process, port)."""
    cmd = [sys.executable, STANDIN, "--port", "0", *args]
    if quiet:
        cmd.append("--quiet")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.fullmatch(r"LISTENING (\d+)\n", line)
    if not m:
        proc.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {proc.stderr.read()}")
    return proc, int(m.group(1))


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()


def client_doc(**extra):
    doc = {
        "client_id": CLIENT_ID,
        "client_secrets": [SECRET_A, SECRET_B],
        "refresh_tokens": [REFRESH, REVOKED],
        "revoked_refresh_tokens": [REVOKED],
        "scopes": [SCOPE, "sellingpartnerapi::client_credential:rotation"],
    }
    doc.update(extra)
    return doc


class StandinTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_standin()

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)

    def setUp(self):
        # Every test gets its own namespace on the shared server.
        self.ns = "t-" + uuid.uuid4().hex[:12]
        self.configure()

    # ---- helpers

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def call(self, method, path, body=None, headers=None, conn=None, timeout=10):
        c = conn or self.conn(timeout)
        data = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            hdrs.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        raw = r.read()
        if conn is None:
            c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), raw

    def control(self, method, sub="", body=None, ns=None):
        path = f"/_control/{ns or self.ns}" + (f"/{sub}" if sub else "")
        status, _, raw = self.call(method, path, body)
        self.assertEqual(status, 200, raw)
        return json.loads(raw)

    def configure(self, **kw):
        doc = {"clients": [client_doc()]}
        doc.update(kw)
        return self.control("PUT", body=doc)

    def script(self, *responses):
        return self.control("POST", "script", {"responses": list(responses)})

    def requests(self, ns=None):
        return self.control("GET", "requests", ns=ns)["requests"]

    def token_path(self, ns=None):
        ns = ns or self.ns
        return "/auth/o2/token" if ns == "default" else f"/ns/{ns}/auth/o2/token"

    def token(self, fields=None, as_json=False, ns=None, conn=None, timeout=10, headers=None, **kw):
        fields = dict(fields or {}, **kw)
        if as_json:
            body, ct = json.dumps(fields), "application/json"
        else:
            body, ct = urllib.parse.urlencode(fields), "application/x-www-form-urlencoded;charset=UTF-8"
        hdrs = {"Content-Type": ct, "User-Agent": "standin-test/1"}
        hdrs.update(headers or {})
        status, h, raw = self.call("POST", self.token_path(ns), body, hdrs, conn=conn, timeout=timeout)
        return status, h, raw

    def refresh(self, refresh_token=REFRESH, secret=SECRET_A, **kw):
        return self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token,
             "client_id": CLIENT_ID, "client_secret": secret}, **kw)

    def assert_error(self, result, status, error, description):
        st, h, raw = result
        self.assertEqual(st, status, raw)
        self.assertEqual(h["content-type"], "application/json;charset=UTF-8")
        doc = json.loads(raw)
        self.assertEqual(doc, {"error_description": description, "error": error})

    def assert_token(self, result, expires_in=3600, refresh_token=REFRESH):
        st, h, raw = result
        self.assertEqual(st, 200, raw)
        self.assertEqual(h["content-type"], "application/json")
        doc = json.loads(raw)
        self.assertRegex(doc["access_token"], ACCESS_RE)
        self.assertEqual(doc["token_type"], "bearer")
        self.assertEqual(doc["expires_in"], expires_in)
        if refresh_token is not None:
            self.assertEqual(doc["refresh_token"], refresh_token)
        return doc

    # ---- basics

    def test_health_and_unknown_paths(self):
        st, _, raw = self.call("GET", "/_health")
        self.assertEqual((st, json.loads(raw)), (200, {"ok": True}))
        st, h, raw = self.call("GET", "/nope")
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(raw)["error"], "not_found")
        st, h, raw = self.call("GET", self.token_path())
        self.assertEqual(st, 405)
        self.assertEqual(h["allow"], "POST")
        st, _, _ = self.call("PUT", self.token_path(), b"x")
        self.assertEqual(st, 405)

    def test_form_body(self):
        doc = self.assert_token(self.refresh())
        self.assertEqual(set(doc), {"access_token", "refresh_token", "token_type", "expires_in"})
        # raw form as Amazon documents it: Atzr| percent-encoded as Atzr%7C
        body = (f"grant_type=refresh_token&refresh_token={urllib.parse.quote(REFRESH, safe='')}"
                f"&client_id={CLIENT_ID}&client_secret={SECRET_A}")
        self.assertIn("Atzr%7C", body)
        self.assert_token(self.call("POST", self.token_path(), body,
                                    {"Content-Type": "application/x-www-form-urlencoded"}))

    def test_json_body(self):
        self.assert_token(self.refresh(as_json=True))

    def test_missing_content_type_is_tried_as_form(self):
        body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": REFRESH,
                                       "client_id": CLIENT_ID, "client_secret": SECRET_A})
        c = self.conn()
        c.putrequest("POST", self.token_path(), skip_accept_encoding=True)
        c.putheader("Content-Length", str(len(body)))
        c.endheaders(body.encode())
        r = c.getresponse()
        self.assertEqual(r.status, 200, r.read())
        c.close()

    def test_second_client_secret_works(self):
        self.assert_token(self.refresh(secret=SECRET_B))

    def test_client_credentials(self):
        res = self.token(grant_type="client_credentials", scope=SCOPE, client_id=CLIENT_ID, client_secret=SECRET_A)
        doc = self.assert_token(res, refresh_token=None)
        self.assertNotIn("refresh_token", doc)
        both = SCOPE + " sellingpartnerapi::client_credential:rotation"
        self.assert_token(self.token(grant_type="client_credentials", scope=both, client_id=CLIENT_ID,
                                     client_secret=SECRET_A, as_json=True), refresh_token=None)

    def test_expires_in_from_namespace(self):
        self.configure(expires_in=1200)
        self.assert_token(self.refresh(), expires_in=1200)

    def test_keep_alive(self):
        c = self.conn()
        first = self.refresh(conn=c)
        sock = c.sock
        second = self.refresh(conn=c)
        self.assertIs(c.sock, sock, "connection was not kept alive")
        self.assert_token(first)
        self.assert_token(second)
        self.assertNotEqual(json.loads(first[2])["access_token"], json.loads(second[2])["access_token"])
        c.close()

    # ---- errors

    def test_unsupported_grant_type(self):
        want = ("unsupported_grant_type", "The authorization grant type is not supported by the authorization server")
        self.assert_error(self.token(client_id=CLIENT_ID, client_secret=SECRET_A, refresh_token=REFRESH), 400, *want)
        self.assert_error(self.token(grant_type="implicit", client_id=CLIENT_ID,
                                     client_secret=SECRET_A), 400, *want)
        # checked before the client: a bad grant type with bad credentials is still this error
        self.assert_error(self.token(grant_type="password"), 400, *want)
        # a JSON body sent as a form (wrong encoding) has no grant_type field
        body = json.dumps({"grant_type": "refresh_token", "refresh_token": REFRESH,
                           "client_id": CLIENT_ID, "client_secret": SECRET_A})
        self.assert_error(self.call("POST", self.token_path(), body,
                                    {"Content-Type": "application/x-www-form-urlencoded"}), 400, *want)

    def test_invalid_client(self):
        want = ("invalid_client", "Client authentication failed")
        self.assert_error(self.refresh(secret="wrong"), 401, *want)
        self.assert_error(self.token(grant_type="refresh_token", refresh_token=REFRESH, client_id=CLIENT_ID), 401, *want)
        self.assert_error(self.token(grant_type="refresh_token", refresh_token=REFRESH, client_secret=SECRET_A), 401, *want)
        self.assert_error(self.token(grant_type="refresh_token", refresh_token=REFRESH,
                                     client_id="amzn1.application-oa2-client.other", client_secret=SECRET_A), 401, *want)
        # checked before the refresh token
        self.assert_error(self.refresh(refresh_token="Atzr|unknown", secret="wrong"), 401, *want)
        self.assert_error(self.token(grant_type="client_credentials", scope=SCOPE, client_id=CLIENT_ID,
                                     client_secret="wrong"), 401, *want)

    def test_invalid_grant(self):
        want = ("invalid_grant", "The request has an invalid grant parameter : refresh_token. "
                                 "User may have revoked or didn't grant the permission.")
        self.assert_error(self.refresh(refresh_token="Atzr|unknown"), 400, *want)
        self.assert_error(self.refresh(refresh_token=REVOKED), 400, *want)
        self.assert_error(self.token(grant_type="refresh_token", client_id=CLIENT_ID, client_secret=SECRET_A), 400, *want)
        # revoke through the control API
        self.assert_token(self.refresh())
        self.assertEqual(self.control("POST", "revoke", {"refresh_token": REFRESH})["revoked"], 1)
        self.assert_error(self.refresh(), 400, *want)

    def test_refresh_token_of_another_client(self):
        other = {"client_id": "amzn1.application-oa2-client.two", "client_secrets": ["s2"],
                 "refresh_tokens": ["Atzr|two"]}
        self.configure(clients=[client_doc(), other])
        self.assert_error(self.refresh(refresh_token="Atzr|two"), 400, "invalid_grant",
                          "The request has an invalid grant parameter : refresh_token. "
                          "User may have revoked or didn't grant the permission.")

    def test_invalid_scope(self):
        want = ("invalid_scope", "The request has an invalid parameter : scope")
        base = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET_A}
        self.assert_error(self.token(base), 400, *want)
        self.assert_error(self.token(base, scope=""), 400, *want)
        self.assert_error(self.token(base, scope="sellingpartnerapi::migration"), 400, *want)
        self.assert_error(self.token(base, scope=SCOPE + " sellingpartnerapi::migration"), 400, *want)

    def test_empty_namespace_knows_no_client(self):
        ns = "fresh-" + uuid.uuid4().hex[:8]
        self.assert_error(self.refresh(ns=ns), 401, "invalid_client", "Client authentication failed")

    # ---- rotation

    def test_rotation(self):
        self.configure(rotate_refresh_token=True)
        doc = json.loads(self.refresh()[2])
        new = doc["refresh_token"]
        self.assertRegex(new, REFRESH_RE)
        self.assertNotEqual(new, REFRESH)
        # the new one works, and so does the old one
        newer = self.assert_token(self.refresh(refresh_token=new), refresh_token=None)["refresh_token"]
        self.assertNotIn(newer, (new, REFRESH))
        self.assert_token(self.refresh(), refresh_token=None)
        state = self.control("GET")
        self.assertIn(new, state["clients"][0]["refresh_tokens"])
        self.assertIn(REFRESH, state["clients"][0]["refresh_tokens"])

    # ---- scripted misbehaviour

    def test_scripted_status_verbatim(self):
        self.script({"status": 500, "content_type": "text/plain", "body": "Internal Server Error",
                     "headers": {"Retry-After": "1"}},
                    {"status": 429, "content_type": "application/json",
                     "body": "{\"error\":\"too_many\"}", "headers": {"Retry-After": "2"}},
                    {"status": 503, "content_type": "text/html", "body": "<html><h1>We're sorry</h1></html>"},
                    {"status": 200, "content_type": "application/json", "body": {"token_type": "bearer", "expires_in": 3600}})
        st, h, raw = self.refresh()
        self.assertEqual((st, h["content-type"], h["retry-after"], raw), (500, "text/plain", "1", b"Internal Server Error"))
        self.assertEqual(h["content-length"], str(len(raw)))
        st, h, raw = self.refresh()
        self.assertEqual((st, h["retry-after"], raw), (429, "2", b"{\"error\":\"too_many\"}"))
        st, h, raw = self.refresh()
        self.assertEqual((st, h["content-type"], raw), (503, "text/html", b"<html><h1>We're sorry</h1></html>"))
        st, h, raw = self.refresh()
        self.assertEqual((st, json.loads(raw)), (200, {"token_type": "bearer", "expires_in": 3600}))
        # queue empty: normal again
        self.assert_token(self.refresh())
        self.assertEqual(len(self.requests()), 5)

    def test_scripted_normal(self):
        self.script({"action": "normal"}, {"status": 500, "body": "x"})
        self.assert_token(self.refresh())
        self.assertEqual(self.refresh()[0], 500)
        self.assert_token(self.refresh())

    def test_scripted_hang(self):
        self.script({"action": "hang"})
        c = self.conn(timeout=1)
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.refresh(conn=c)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        c.close()
        # the hung connection does not block others, and the queue moved on
        self.assert_token(self.refresh())

    def test_hang_does_not_block_other_connections(self):
        self.script({"action": "hang", "repeat": True})
        hung = self.conn(timeout=3)
        hung.request("POST", self.token_path(), body="grant_type=refresh_token",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        time.sleep(0.2)
        t0 = time.monotonic()
        st, _, raw = self.call("GET", "/_health")
        self.assertEqual(st, 200)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(len(self.requests()), 1)
        hung.close()

    def test_scripted_reset(self):
        self.script({"action": "reset"})
        with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
            self.refresh()
        self.assert_token(self.refresh())

    def test_reset_is_a_real_rst(self):
        self.script({"action": "reset"})
        body = b"grant_type=refresh_token"
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (self.token_path().encode(), len(body), body))
        with self.assertRaises(ConnectionResetError):
            s.recv(1024)
        s.close()

    def test_scripted_close(self):
        self.script({"action": "close"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.refresh()

    def test_repeat(self):
        self.script({"status": 503, "body": "busy", "repeat": True})
        for _ in range(4):
            self.assertEqual(self.refresh()[0], 503)
        self.configure()  # PUT replaces the namespace, script included
        self.assert_token(self.refresh())

    def test_entry_delay(self):
        self.script({"action": "normal", "delay_ms": 400})
        t0 = time.monotonic()
        self.assert_token(self.refresh())
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        t0 = time.monotonic()
        self.assert_token(self.refresh())
        self.assertLess(time.monotonic() - t0, 0.3)

    def test_namespace_delay(self):
        self.configure(delay_ms=300)
        for res in (lambda: self.refresh(), lambda: self.refresh(secret="bad")):
            t0 = time.monotonic()
            res()
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_script_in_put(self):
        self.configure(script=[{"status": 500, "body": "x"}])
        self.assertEqual(self.refresh()[0], 500)
        self.assert_token(self.refresh())

    def test_bad_control_documents(self):
        path = f"/_control/{self.ns}"
        self.assertEqual(self.call("PUT", path, b"{not json")[0], 400)
        self.assertEqual(self.call("PUT", path, {"clients": [{"client_secrets": []}]})[0], 400)
        self.assertEqual(self.call("POST", path + "/script", {"responses": [{"action": "explode"}]})[0], 400)
        self.assertEqual(self.call("POST", path + "/script", {"responses": [{"body": "no status"}]})[0], 400)
        self.assertEqual(self.call("GET", path + "/nope")[0], 404)

    # ---- namespaces and the request log

    def test_namespaces_isolated(self):
        other = "t-" + uuid.uuid4().hex[:12]
        self.control("PUT", body={"clients": [{"client_id": "other", "client_secrets": ["o"],
                                               "refresh_tokens": ["Atzr|o"]}]}, ns=other)
        self.script({"status": 500, "body": "x", "repeat": True})
        # the other namespace neither sees our script nor our client
        st, _, _ = self.token(grant_type="refresh_token", refresh_token="Atzr|o", client_id="other",
                              client_secret="o", ns=other)
        self.assertEqual(st, 200)
        self.assertEqual(self.refresh(ns=other)[0], 401)
        self.assertEqual(self.refresh()[0], 500)
        self.assertEqual(len(self.requests()), 1)
        self.assertEqual(len(self.requests(ns=other)), 2)
        self.control("DELETE", ns=other)
        self.assertEqual(self.requests(ns=other), [])
        self.assertEqual(self.refresh(ns=other)[0], 401)

    def test_request_log(self):
        before = time.time()
        self.refresh()
        self.refresh(as_json=True, secret="bad")
        self.token(grant_type="client_credentials", scope=SCOPE, client_id=CLIENT_ID, client_secret=SECRET_A,
                   headers={"User-Agent": "other-agent"})
        reqs = self.requests()
        self.assertEqual([r["seq"] for r in reqs], [1, 2, 3])
        r1, r2, r3 = reqs
        for r in reqs:
            self.assertEqual(set(r), {"seq", "received_at", "path", "content_type", "body", "form", "user_agent"})
            self.assertGreaterEqual(r["received_at"], before - 1)
            self.assertEqual(r["path"], self.token_path())
        self.assertEqual(r1["content_type"], "application/x-www-form-urlencoded;charset=UTF-8")
        self.assertIn("refresh_token=Atzr%7CIwEBrefresh-one", r1["body"])
        self.assertEqual(r1["form"], {"grant_type": "refresh_token", "refresh_token": REFRESH,
                                      "client_id": CLIENT_ID, "client_secret": SECRET_A})
        self.assertEqual(r1["user_agent"], "standin-test/1")
        self.assertEqual(r2["content_type"], "application/json")
        self.assertEqual(json.loads(r2["body"])["client_secret"], "bad")
        self.assertEqual(r2["form"]["client_secret"], "bad")
        self.assertEqual(r3["form"]["scope"], SCOPE)
        self.assertEqual(r3["user_agent"], "other-agent")
        self.control("DELETE", "requests")
        self.assertEqual(self.requests(), [])
        self.configure()
        self.refresh()
        self.assertEqual([r["seq"] for r in self.requests()], [1])


class ProcessTest(unittest.TestCase):
    """CLI behaviour: --config, --port-file, --delay-ms, logging, signals, the parent watchdog."""

    def test_config_port_file_and_default_namespace(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "cfg.json")
            with open(cfg, "w") as f:
                json.dump({"clients": [client_doc()], "expires_in": 900}, f)
            port_file = os.path.join(d, "port")
            proc, port = start_standin("--config", cfg, "--port-file", port_file, quiet=False)
            try:
                with open(port_file) as f:
                    self.assertEqual(int(f.read()), port)
                t = StandinTest("test_form_body")
                t.port, t.ns = port, "default"
                res = t.refresh()
                t.assert_token(res, expires_in=900)
                access = json.loads(res[2])["access_token"]
                self.assertEqual(t.refresh(secret="wrong-secret-value")[0], 401)
                # DELETE default: it comes back from --config
                t.control("DELETE")
                t.assert_token(t.refresh(), expires_in=900)
            finally:
                stop_and_read = proc
                stop_and_read.terminate()
                out, err = stop_and_read.communicate(timeout=5)
            self.assertEqual(proc.returncode, 0)
            self.assertEqual(out, "", "stdout must hold only the LISTENING line")
            self.assertIn("POST /auth/o2/token 200", err)
            for secret_text in (SECRET_A, "wrong-secret-value", REFRESH, "IwEBrefresh", access, "Atzr%7C"):
                self.assertNotIn(secret_text, err)

    def test_bad_config_fails_fast(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"clients": [{"client_id": 5}]}')
        try:
            r = subprocess.run([sys.executable, STANDIN, "--config", f.name], capture_output=True, text=True,
                               timeout=10)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("client_id", r.stderr)

    def test_cli_delay(self):
        proc, port = start_standin("--delay-ms", "300")
        try:
            t = StandinTest("test_form_body")
            t.port, t.ns = port, "ns1"
            t0 = time.monotonic()
            t.refresh()
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        finally:
            stop(proc)

    def test_sigterm_and_sigint(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            proc, port = start_standin()
            try:
                # with a hung connection open, too
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("POST", "/_control/default/script", body=json.dumps({"responses": [{"action": "hang"}]}))
                c.getresponse().read()
                c.request("POST", "/auth/o2/token", body="grant_type=refresh_token")
                time.sleep(0.2)
                proc.send_signal(sig)
                self.assertEqual(proc.wait(5), 0)
                c.close()
            finally:
                stop(proc)

    def test_parent_watchdog(self):
        # The parent lives until the stand-in is up (however slow the
        # machine), then goes.
        parent = subprocess.Popen(["sleep", "600"])
        proc, port = start_standin("--parent-pid", str(parent.pid))
        try:
            self.assertIsNone(proc.poll())
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/_health")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
            # `parent` is deliberately not reaped first: a zombie counts as gone.
            parent.kill()
            proc.wait(10)
            self.assertEqual(proc.returncode, 0)
        finally:
            parent.wait()
            stop(proc)


if __name__ == "__main__":
    unittest.main()
