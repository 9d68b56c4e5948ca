#!/usr/bin/env python3
"""Helpers of the client-secret rotation story (scripts/stories/20-rotation.sh).

Secrets are only ever printed as fingerprints (first 8 hex digits of SHA-256).

    demo_rotation.py setup MOTO_URL LWA_URL      queue + dead-letter queue in moto, rotation
                                                 scope for the demo client, stand-in wired to
                                                 the queue; prints QUEUE_URL and QUEUE_ARN lines
    demo_rotation.py versions MOTO_URL SECRET_ID the secret's versions: stages, client-secret
                                                 fingerprint, recorded fields
    demo_rotation.py try-secret LWA_URL WHICH    a client_credentials request with the demo's
                                                 original secret (WHICH=original) or the newest
                                                 one the stand-in issued (WHICH=new)
    demo_rotation.py last-secret LWA_URL         fingerprint of the client secret in the stand-in's
                                                 last token request
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_aws import CLIENT_ID, CLIENT_SECRET  # noqa: E402

ROTATION = "sellingpartnerapi::client_credential:rotation"


def fp(value):
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def aws(service, endpoint):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def http(method, url, doc=None, form=None):
    data, headers = None, {}
    if doc is not None:
        data, headers = json.dumps(doc).encode(), {"content-type": "application/json"}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers = {"content-type": "application/x-www-form-urlencoded"}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def cmd_setup(moto, lwa):
    sqs = aws("sqs", moto)
    dlq = sqs.create_queue(QueueName="spapi-client-secret-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="spapi-client-secret",
        Attributes={"VisibilityTimeout": "120",
                    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _, state = http("GET", f"{lwa}/_control/default")
    for c in state["clients"]:
        if c["client_id"] == CLIENT_ID and ROTATION not in c["scopes"]:
            c["scopes"].append(ROTATION)
    http("PUT", f"{lwa}/_control/default", {k: state[k] for k in ("clients", "expires_in")})
    http("PUT", f"{lwa}/_control/default/spapi", {"queue_url": queue, "sqs_endpoint": moto})
    print(f"QUEUE_URL={queue}")
    print(f"QUEUE_ARN={arn}")


def cmd_versions(moto, secret_id):
    sm = aws("secretsmanager", moto)
    versions = sm.list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)["Versions"]
    for v in sorted(versions, key=lambda v: v["CreatedDate"]):
        doc = json.loads(sm.get_secret_value(SecretId=secret_id, VersionId=v["VersionId"])["SecretString"])
        stages = ",".join(v.get("VersionStages", [])) or "-"
        extra = " ".join(f"{k}={doc[k]}" for k in ("client_secret_expires_at", "client_secret_rotation_requested_at")
                         if k in doc)
        print(f"{v['VersionId'][:8]}  {stages:<12} client_secret sha256:{fp(doc['client_secret'])} {extra}".rstrip())


def newest_secret(lwa):
    _, state = http("GET", f"{lwa}/_control/default/spapi")
    return state["rotations"][-1]["new_client_secret"]


def cmd_try_secret(lwa, which):
    secret = CLIENT_SECRET if which == "original" else newest_secret(lwa)
    status, doc = http("POST", f"{lwa}/auth/o2/token", form={"grant_type": "client_credentials", "scope": ROTATION,
                                                              "client_id": CLIENT_ID, "client_secret": secret})
    outcome = "a token" if status == 200 else doc.get("error")
    print(f"client secret sha256:{fp(secret)} -> HTTP {status} {outcome}")


def cmd_last_secret(lwa):
    _, doc = http("GET", f"{lwa}/_control/default/requests")
    form = doc["requests"][-1]["form"]
    print(f"sha256:{fp(form.get('client_secret', ''))}")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"setup": cmd_setup, "versions": cmd_versions, "try-secret": cmd_try_secret,
     "last-secret": cmd_last_secret}[cmd](*args)
