"""Self-test of tools/sqs_event_source.py against moto and a fake function.

    .venv/bin/python -m unittest tools/test_sqs_event_source.py -v
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import types
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sqs_event_source as ses  # noqa: E402
from test_lwa_standin import stop  # noqa: E402


class FakeFunction(BaseHTTPRequestHandler):
    """Records events; fails the records whose body contains "bad"."""

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.events.append(event)
        if self.server.crash:
            body = json.dumps({"errorType": "Boom", "errorMessage": "x"}).encode()
            self.send_response(200)
            self.send_header("X-Amz-Function-Error", "Unhandled")
        else:
            failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "bad" in r["body"]]
            body = json.dumps({"batchItemFailures": failed}).encode()
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class EventSourceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = subprocess.Popen([sys.executable, os.path.join(HERE, "moto_peer.py"), "--port", "0"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = re.fullmatch(r"LISTENING (\d+)\n", cls.moto.stdout.readline()).group(1)
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.sqs = ses.sqs_client(cls.endpoint, "us-east-1")
        cls.fn = ThreadingHTTPServer(("127.0.0.1", 0), FakeFunction)
        cls.fn.events, cls.fn.crash = [], False
        threading.Thread(target=cls.fn.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.fn.shutdown()
        stop(cls.moto)

    def setUp(self):
        name = "q-" + uuid.uuid4().hex[:8]
        dlq = self.sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queue = self.sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})},
        )["QueueUrl"]
        self.dlq = dlq
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.fn.events.clear()
        self.fn.crash = False

    def args(self, visibility):
        return types.SimpleNamespace(
            queue_url=self.queue, batch_size=10, visibility_timeout=visibility, region="us-east-1",
            invoke=f"http://127.0.0.1:{self.fn.server_address[1]}/2015-03-31/functions/f/invocations",
            invoke_timeout=10,
        )

    def count(self, url):
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                             "ApproximateNumberOfMessagesNotVisible"])
        a = attrs["Attributes"]
        return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])

    def test_successes_deleted_failures_retried_then_dead_lettered(self):
        for body in ("good-1", "bad-1", "good-2"):
            self.sqs.send_message(QueueUrl=self.queue, MessageBody=body)
        out = io.StringIO()
        self.assertEqual(ses.poll_once(self.sqs, self.args(0), self.arn, out), 3)
        [event] = self.fn.events
        self.assertEqual({r["eventSource"] for r in event["Records"]}, {"aws:sqs"})
        self.assertEqual({r["eventSourceARN"] for r in event["Records"]}, {self.arn})
        self.assertNotIn("good-1", out.getvalue(), "bodies are never printed")
        self.assertEqual(self.count(self.queue), 1, "only the failed record is left")
        # Visibility timeout 0: it reappears at once; its second failure is its last.
        self.assertEqual(ses.poll_once(self.sqs, self.args(0), self.arn, out), 1)
        self.assertEqual(self.fn.events[-1]["Records"][0]["attributes"]["ApproximateReceiveCount"], "2")
        self.assertEqual(ses.poll_once(self.sqs, self.args(0), self.arn, out), 0)
        self.assertEqual(self.count(self.dlq), 1, "moved to the dead-letter queue after maxReceiveCount")

    def test_a_failed_invocation_retries_the_whole_batch_after_the_visibility_timeout(self):
        self.sqs.send_message(QueueUrl=self.queue, MessageBody="good")
        self.fn.crash = True
        out = io.StringIO()
        self.assertEqual(ses.poll_once(self.sqs, self.args(30), self.arn, out), 1)
        self.assertIn("invocation failed", out.getvalue())
        self.assertEqual(ses.poll_once(self.sqs, self.args(30), self.arn, out), 0, "invisible until the timeout")
        self.assertEqual(self.count(self.queue), 1)

    def test_answers(self):
        self.assertEqual(ses.failed_ids({"batchItemFailures": []}, {"a"}), set())
        self.assertEqual(ses.failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a", "b"}), {"a"})
        self.assertIsNone(ses.failed_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, {"a"}))
        self.assertIsNone(ses.failed_ids({"batchItemFailures": [{}]}, {"a"}))
        self.assertEqual(ses.failed_ids(None, {"a"}), set())


if __name__ == "__main__":
    unittest.main()
