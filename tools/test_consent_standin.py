"""Self-test of tools/consent_standin.py through tools/lwa_standin.py (stdlib unittest).

    python3 -m unittest tools/test_consent_standin.py -v
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "lwa_standin.py")
CLIENT_ID = "amzn1.application-oa2-client.consent"
SECRET = "amzn1.oa2-cs.v1.consent-secret"
REDIRECT = "http://127.0.0.1:9/lambda-url/seller-onboarding/callback"
HOST = "sellercentral-europe.amazon.com"


class ConsentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, STANDIN, "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        m = re.fullmatch(r"LISTENING (\d+)\n", cls.proc.stdout.readline())
        assert m, "the stand-in did not start"
        cls.port = int(m.group(1))
        cls.call("PUT", "/_control/consent", json.dumps({"clients": [{"client_id": CLIENT_ID, "client_secrets": [SECRET]}]}))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        cls.proc.stdout.close()
        cls.proc.stderr.close()

    @classmethod
    def call(cls, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", cls.port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        out = (r.status, dict(r.getheaders()), r.read().decode())
        conn.close()
        return out

    def consent(self, **extra):
        q = {"application_id": "amzn1.sp.solution.app", "state": "S-1", "redirect_uri": REDIRECT, **extra}
        return self.call("GET", f"/{HOST}/apps/authorize/consent?" + urllib.parse.urlencode(q))

    def approve(self, seller="A1TEST", redirect=REDIRECT, state="S-1"):
        form = urllib.parse.urlencode({"state": state, "redirect_uri": redirect, "selling_partner_id": seller})
        status, headers, _ = self.call(
            "POST", f"/{HOST}/apps/authorize/approve", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.assertEqual(status, 302)
        loc = urllib.parse.urlsplit(headers["Location"])
        return loc, dict(urllib.parse.parse_qsl(loc.query))

    def token(self, code, redirect=REDIRECT, secret=SECRET):
        form = urllib.parse.urlencode(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": CLIENT_ID, "client_secret": secret}
        )
        status, _, body = self.call(
            "POST", "/ns/consent/auth/o2/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status, json.loads(body)

    def test_consent_page_has_an_authorize_button(self):
        status, headers, body = self.consent()
        self.assertEqual(status, 200)
        self.assertIn('id="authorize"', body)
        self.assertIn('name="state" value="S-1"', body)
        self.assertNotIn("<script", body.lower())

    def test_draft_app_without_beta_is_md1000(self):
        status, _, body = self.consent(application_id="amzn1.sp.solution.draft-1")
        self.assertEqual(status, 400)
        self.assertIn("MD1000", body)
        self.assertEqual(self.consent(application_id="amzn1.sp.solution.draft-1", version="beta")[0], 200)

    def test_code_exchanged_once_and_refresh_token_works(self):
        loc, q = self.approve()
        self.assertEqual(urllib.parse.urlunsplit(loc._replace(query="")), REDIRECT)
        self.assertEqual(q["state"], "S-1")
        self.assertEqual(q["selling_partner_id"], "A1TEST")
        status, doc = self.token(q["spapi_oauth_code"])
        self.assertEqual(status, 200, doc)
        self.assertTrue(doc["refresh_token"].startswith("Atzr|") and doc["access_token"].startswith("Atza|"))
        status, again = self.token(q["spapi_oauth_code"])
        self.assertEqual((status, again["error"]), (400, "invalid_grant"))
        form = urllib.parse.urlencode(
            {"grant_type": "refresh_token", "refresh_token": doc["refresh_token"], "client_id": CLIENT_ID, "client_secret": SECRET}
        )
        status, _, _ = self.call("POST", "/ns/consent/auth/o2/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)

    def test_wrong_redirect_uri_client_or_expired_code(self):
        _, q = self.approve()
        self.assertEqual(self.token(q["spapi_oauth_code"], redirect=REDIRECT + "x")[1]["error"], "invalid_grant")
        _, q = self.approve()
        self.assertEqual(self.token(q["spapi_oauth_code"], secret="wrong")[0], 401)
        import consent_standin  # noqa: E402  (same module the server runs: the clock is per process)

        self.assertEqual(consent_standin.CODE_LIFETIME, 300.0)
        self.assertEqual(self.token("never-issued")[1]["error"], "invalid_grant")

    def test_login_uri_step(self):
        login = "http://127.0.0.1:9/lambda-url/seller-onboarding/login"
        status, headers, _ = self.call(
            "GET", f"/{HOST}/appstore/authorize?" + urllib.parse.urlencode({"login_uri": login, "selling_partner_id": "A2"})
        )
        self.assertEqual(status, 302)
        loc = urllib.parse.urlsplit(headers["Location"])
        q = dict(urllib.parse.parse_qsl(loc.query))
        self.assertEqual(urllib.parse.urlunsplit(loc._replace(query="")), login)
        self.assertEqual(q["selling_partner_id"], "A2")
        cb = urllib.parse.urlsplit(q["amazon_callback_uri"])
        self.assertEqual(cb.path, f"/{HOST}/apps/authorize/confirm")
        confirm = f"{cb.path}?" + urllib.parse.urlencode(
            {"redirect_uri": REDIRECT, "amazon_state": q["amazon_state"], "state": "S-2"}
        )
        status, _, body = self.call("GET", confirm)
        self.assertEqual(status, 200)
        self.assertIn('value="A2" readonly', body)
        self.assertIn('name="state" value="S-2"', body)
        self.assertEqual(self.call("GET", confirm)[0], 400, "an amazon_state works once")


sys.path.insert(0, HERE)

if __name__ == "__main__":
    unittest.main()
