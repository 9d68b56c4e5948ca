#!/usr/bin/env python3
"""Plays Lambda's SQS event source mapping locally, against moto and `cargo lambda watch`.

Polls an SQS queue (moto), invokes the function with a real SQS event (the shape
``aws_lambda_events::sqs::SqsEvent`` reads) through the Lambda Invoke API that
``cargo lambda watch`` serves, and then does what the mapping does with
``FunctionResponseTypes: [ReportBatchItemFailures]``:

- records not listed in ``batchItemFailures`` are deleted;
- listed records are left alone: they reappear after the visibility timeout;
- if the invocation fails (function error, unreadable answer, or an
  ``itemIdentifier`` that is not in the batch), the whole batch is left alone;
- after ``maxReceiveCount`` receives SQS itself moves a message to the dead-letter
  queue (the queue's ``RedrivePolicy``; moto implements it), as in AWS.

Usage (project venv, boto3):
    tools/sqs_event_source.py --endpoint http://127.0.0.1:<moto> --queue-url URL \\
        --invoke http://127.0.0.1:<watch>/2015-03-31/functions/client-secret-rotator/invocations \\
        [--batch-size 5] [--visibility-timeout 30] [--until-empty] [--max-polls N]

Prints one line per invocation (message IDs, deleted, retried); never a body.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request


def sqs_client(endpoint, region):
    import boto3

    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def sqs_event(messages, queue_arn, region):
    """The event Lambda sends for a batch of received messages."""
    records = []
    for m in messages:
        attrs = m.get("Attributes", {})
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attrs.get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": attrs.get("SenderId", "437568002678"),
                    "ApproximateFirstReceiveTimestamp": attrs.get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def invoke(url, event, timeout):
    """POST the event; return (ok, answer) where ok is False on a function error."""
    req = urllib.request.Request(
        url, data=json.dumps(event).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            error = r.headers.get("X-Amz-Function-Error")
            raw = r.read()
    except urllib.error.HTTPError as e:
        return False, {"errorType": f"HTTP {e.code}"}
    except (urllib.error.URLError, OSError) as e:
        return False, {"errorType": f"invoke failed: {e}"}
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        return False, {"errorType": "answer is not JSON"}
    if error or (isinstance(answer, dict) and "errorType" in answer):
        return False, answer
    return True, answer


def failed_ids(answer, batch_ids):
    """The IDs to retry, or None when the answer is not a valid batch response
    (then the whole batch is retried, as Lambda does)."""
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return None
    failures = answer.get("batchItemFailures", [])
    if not isinstance(failures, list):
        return None
    ids = set()
    for f in failures:
        ident = f.get("itemIdentifier") if isinstance(f, dict) else None
        if not ident or ident not in batch_ids:
            return None
        ids.add(ident)
    return ids


def poll_once(sqs, args, queue_arn, out=sys.stdout):
    """One receive + invoke + delete round. Returns the number of messages received."""
    got = sqs.receive_message(
        QueueUrl=args.queue_url,
        MaxNumberOfMessages=args.batch_size,
        VisibilityTimeout=args.visibility_timeout,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
    ).get("Messages", [])
    if not got:
        return 0
    ids = [m["MessageId"] for m in got]
    ok, answer = invoke(args.invoke, sqs_event(got, queue_arn, args.region), args.invoke_timeout)
    retry = failed_ids(answer, set(ids)) if ok else None
    if retry is None:
        why = answer.get("errorType") if isinstance(answer, dict) else "invalid batch response"
        out.write(f"sqs-event-source: batch {ids}: invocation failed ({why}); all retried after the visibility timeout\n")
        return len(got)
    done = [m for m in got if m["MessageId"] not in retry]
    if done:
        sqs.delete_message_batch(
            QueueUrl=args.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    out.write(
        f"sqs-event-source: batch of {len(got)}: deleted {[m['MessageId'] for m in done]}, "
        f"retried {sorted(retry)}\n"
    )
    out.flush()
    return len(got)


def main(argv=None):
    ap = argparse.ArgumentParser(description="local stand-in for Lambda's SQS event source mapping")
    ap.add_argument("--endpoint", required=True, help="SQS endpoint (moto)")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--queue-url", required=True)
    ap.add_argument("--invoke", required=True, help="the function's Invoke API URL")
    ap.add_argument("--batch-size", type=int, default=5)
    ap.add_argument("--visibility-timeout", type=int, default=30)
    ap.add_argument("--invoke-timeout", type=float, default=900)
    ap.add_argument("--until-empty", action="store_true", help="stop at the first empty receive")
    ap.add_argument("--max-polls", type=int, default=0, help="stop after N receives (0: no limit)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between empty receives")
    args = ap.parse_args(argv)

    sqs = sqs_client(args.endpoint, args.region)
    queue_arn = sqs.get_queue_attributes(QueueUrl=args.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    polls = 0
    while True:
        n = poll_once(sqs, args, queue_arn)
        polls += 1
        if (args.until_empty and n == 0) or (args.max_polls and polls >= args.max_polls):
            return 0
        if n == 0:
            time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
