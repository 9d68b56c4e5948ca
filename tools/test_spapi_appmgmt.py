"""Self-test of the stand-in's SP-API Application Management (tools/spapi_appmgmt.py).

    .venv/bin/python -m unittest tools/test_spapi_appmgmt.py -v

The queue tests start moto (tools/moto_peer.py) and need boto3 (the project venv).
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
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_lwa_standin import start_standin, stop  # noqa: E402

CLIENT_ID = "amzn1.application-oa2-client.rotation"
OLD = "amzn1.oa2-cs.v1.old-secret"
ROTATION = "sellingpartnerapi::client_credential:rotation"


class AppMgmtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_standin()

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)

    def call(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        raw = r.read()
        c.close()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode()
        return r.status, doc

    def setUp(self):
        self.ns = "t-" + uuid.uuid4().hex[:8]
        status, _ = self.call(
            "PUT",
            f"/_control/{self.ns}",
            {"clients": [{"client_id": CLIENT_ID, "client_secrets": [OLD], "refresh_tokens": ["Atzr|r"],
                          "scopes": [ROTATION, "sellingpartnerapi::notifications"]}]},
        )
        self.assertEqual(status, 200)

    def token(self, secret=OLD, scope=ROTATION):
        form = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "scope": scope, "client_id": CLIENT_ID, "client_secret": secret}
        )
        status, doc = self.call("POST", f"/ns/{self.ns}/auth/o2/token", form,
                                {"Content-Type": "application/x-www-form-urlencoded"})
        return status, doc

    def rotate(self, token):
        headers = {"x-amz-access-token": token} if token else {}
        return self.call("POST", f"/ns/{self.ns}/applications/2023-11-30/clientSecret", "", headers)

    def settings(self, **doc):
        status, _ = self.call("PUT", f"/_control/{self.ns}/spapi", doc)
        self.assertEqual(status, 200)

    def state(self):
        return self.call("GET", f"/_control/{self.ns}/spapi")[1]

    def test_needs_a_grantless_rotation_token(self):
        self.assertEqual(self.rotate(None)[0], 403)
        self.assertEqual(self.rotate("Atza|made-up")[0], 403)
        _, doc = self.token(scope="sellingpartnerapi::notifications")
        status, body = self.rotate(doc["access_token"])
        self.assertEqual(status, 403)
        self.assertEqual(body["errors"][0]["code"], "Unauthorized")
        self.assertEqual(self.state()["rotations"], [])

    def test_rotation_issues_a_new_secret_and_retires_the_old_after_the_overlap(self):
        _, doc = self.token()
        status, body = self.rotate(doc["access_token"])
        self.assertEqual((status, body), (204, None))
        rotations = self.state()["rotations"]
        self.assertEqual(len(rotations), 1)
        new = rotations[0]["new_client_secret"]
        self.assertRegex(new, r"^amzn1\.oa2-cs\.v1\.[0-9a-f]{64}$")
        self.assertEqual(self.token(new)[0], 200)
        self.assertEqual(self.token(OLD)[0], 200, "the old secret works during the overlap")
        self.call("POST", f"/_control/{self.ns}/spapi/expire-old", {})
        status, err = self.token(OLD)
        self.assertEqual((status, err["error"]), (401, "invalid_client"))
        self.assertEqual(self.token(new)[0], 200)

    def test_new_secret_can_be_accepted_late(self):
        self.settings(accept_delay_seconds=3600)
        _, doc = self.token()
        self.assertEqual(self.rotate(doc["access_token"])[0], 204)
        new = self.state()["rotations"][0]["new_client_secret"]
        self.assertEqual(self.token(new)[0], 401)
        self.call("POST", f"/_control/{self.ns}/spapi/accept-new", {})
        self.assertEqual(self.token(new)[0], 200)

    def test_not_enrolled_and_scripted_failures(self):
        self.settings(enrolled=False)
        _, doc = self.token()
        status, body = self.rotate(doc["access_token"])
        self.assertEqual(status, 400)
        self.assertEqual(body["errors"][0]["code"], "InvalidInput")
        self.assertIn("not enrolled for rotation notification", body["errors"][0]["message"])
        self.settings(enrolled=True, script=[{"status": 429, "headers": {"Retry-After": "0"}}, {"status": 503},
                                             {"not_enrolled": True}])
        self.assertEqual(self.rotate(doc["access_token"])[0], 429)
        self.assertEqual(self.rotate(doc["access_token"])[0], 503)
        self.assertEqual(self.rotate(doc["access_token"])[0], 400)
        self.assertEqual(self.rotate(doc["access_token"])[0], 204)
        self.assertEqual(len(self.state()["requests"]), 5)

    def test_unknown_settings_are_refused(self):
        status, body = self.call("PUT", f"/_control/{self.ns}/spapi", {"overlap": 1})
        self.assertEqual(status, 400)
        self.assertIn("overlap", body["message"])


class QueueDeliveryTest(unittest.TestCase):
    """The notifications reach a moto SQS queue, shaped like Amazon's samples."""

    @classmethod
    def setUpClass(cls):
        cls.moto = subprocess.Popen([sys.executable, os.path.join(HERE, "moto_peer.py"), "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        m = re.fullmatch(r"LISTENING (\d+)\n", cls.moto.stdout.readline())
        cls.moto_url = f"http://127.0.0.1:{m.group(1)}"
        cls.proc, cls.port = start_standin()
        import boto3

        cls.sqs = boto3.client("sqs", endpoint_url=cls.moto_url, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)
        stop(cls.moto)

    call = AppMgmtTest.call
    token = AppMgmtTest.token
    rotate = AppMgmtTest.rotate

    def setUp(self):
        AppMgmtTest.setUp(self)
        self.queue = self.sqs.create_queue(QueueName=self.ns)["QueueUrl"]
        self.call("PUT", f"/_control/{self.ns}/spapi", {"queue_url": self.queue, "sqs_endpoint": self.moto_url})

    def receive(self):
        out = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]

    def test_new_secret_notification(self):
        _, doc = self.token()
        self.assertEqual(self.rotate(doc["access_token"])[0], 204)
        [note] = self.receive()
        self.assertEqual(note["notificationType"], "APPLICATION_OAUTH_CLIENT_NEW_SECRET")
        p = note["payload"]["applicationOAuthClientNewSecret"]
        self.assertEqual(p["clientId"], CLIENT_ID)
        new = self.call("GET", f"/_control/{self.ns}/spapi")[1]["rotations"][0]["new_client_secret"]
        self.assertEqual(p["newClientSecret"], new)
        for key in ("newClientSecretExpiryTime", "oldClientSecretExpiryTime"):
            self.assertRegex(p[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertTrue(note["notificationMetadata"]["notificationId"])

    def test_expiry_notification_on_request(self):
        status, _ = self.call("POST", f"/_control/{self.ns}/spapi/send-expiry",
                              {"client_id": CLIENT_ID, "expires_at": "2026-05-11T10:00:00Z"})
        self.assertEqual(status, 200)
        [note] = self.receive()
        self.assertEqual(note["notificationType"], "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY")
        self.assertEqual(note["payload"]["applicationOAuthClientSecretExpiry"]["clientSecretExpiryTime"],
                         "2026-05-11T10:00:00Z")


if __name__ == "__main__":
    unittest.main()
