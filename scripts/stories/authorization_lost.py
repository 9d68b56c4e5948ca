#!/usr/bin/env python3
"""Helpers for the story 35-authorization-lost.sh (run with the project venv's python).

    authorization_lost.py watch-events NAME         an SQS queue NAME and a rule on moto's default
                                                     event bus sending it every spapi.lwa-token-service
                                                     event; prints the queue URL
    authorization_lost.py events QUEUE_URL OUT       the events delivered so far (kept in OUT, JSON):
                                                     a table on stdout (never a secret: there is none)
    authorization_lost.py revoke SECRET_ID           the seller revokes the app: the refresh token in
                                                     that profile secret is revoked in the LWA stand-in
                                                     (printed as its fingerprint)
    authorization_lost.py marker PARAMETER OUT       the parameter's authorization_lost object -> OUT

Environment: DEMO_AWS_ENDPOINT (moto), DEMO_LWA_CONTROL (the stand-in's /_control/fleet URL).
Nothing here prints a refresh token: they are shown as fingerprints.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import demo_aws  # noqa: E402  (the demo's AWS client and fleet constants)

SOURCE = "spapi.lwa-token-service"


def cmd_watch_events(args):
    name = args[0]
    sqs = demo_aws._aws("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = demo_aws._aws("events")
    events.put_rule(Name=name, EventBusName="default", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=name, EventBusName="default", Targets=[{"Id": "queue", "Arn": arn}])
    print(url)
    return 0


def cmd_events(args):
    url, out = args
    try:
        with open(out, encoding="utf-8") as f:
            seen = json.load(f)["events"]
    except (OSError, ValueError, KeyError):
        seen = []
    sqs = demo_aws._aws("sqs")
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
        if not got:
            break
        seen += [json.loads(m["Body"]) for m in got]
    kinds = [e.get("detail-type", "") for e in seen]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"count": len(seen), "kinds": ",".join(kinds), "events": seen,
                   "last": seen[-1] if seen else {}}, f)
    print(f"{len(seen)} event(s) delivered by the rule:")
    for e in seen:
        d = e.get("detail", {})
        extra = f" outage_seconds={d['outage_seconds']}" if "outage_seconds" in d else ""
        print(f"  {e.get('detail-type')}: profile={d.get('profile')} selling_partner_id={d.get('selling_partner_id')} "
              f"region={d.get('region')} error_type={d.get('error_type')} since={d.get('since')}{extra}")
    return 0


def cmd_revoke(args):
    secret_id = args[0]
    doc = json.loads(demo_aws._aws("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    token = doc["refresh_token"]  # never printed
    req = urllib.request.Request(
        os.environ["DEMO_LWA_CONTROL"] + "/revoke", data=json.dumps({"refresh_token": token}).encode(),
        method="POST", headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        revoked = json.load(r)["revoked"]
    if revoked != 1:
        sys.stderr.write(f"the stand-in did not know {secret_id}'s refresh token\n")
        return 1
    print(f"revoked in the LWA stand-in: {secret_id}'s refresh token sha256:{demo_aws.fingerprint(token)}")
    return 0


def cmd_marker(args):
    parameter, out = args
    p = demo_aws._aws("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
    value = json.loads(p["Value"])
    marker = value.get("authorization_lost") or {}
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"has_token": "access_token" in value, "marker": marker}, f)
    token = "an access token" if "access_token" in value else "no access token"
    print(f"{parameter} (version {p['Version']}): {token}, authorization_lost = {json.dumps(marker) if marker else 'none'}")
    return 0


COMMANDS = {"watch-events": cmd_watch_events, "events": cmd_events, "revoke": cmd_revoke, "marker": cmd_marker}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
