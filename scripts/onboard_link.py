#!/usr/bin/env python3
"""Mint a seller's onboarding link (`make onboard-link PROFILE=acme-de MARKETPLACE=DE`).

Invokes seller-onboarding with {"action":"link",...} and prints the link, its expiry
and region. Where the function runs:
    LOCAL_PORT=9003        the local demo's cargo lambda watch (DEMO_KEEP=1 make run prints it)
    FUNCTION=name-or-arn   a deployed function (AWS credentials and region from the usual chain)
    STACK=stack-name       a deployed stack: the function is its OnboardingFunctionName output
Optional: ACCOUNT=vendor (default seller), VALID_HOURS=1..720 (default 168).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def fail(msg):
    sys.stderr.write(f"onboard-link: {msg}\n")
    sys.exit(2)


def main():
    env = {k: os.environ.get(k, "").strip() for k in ("PROFILE", "MARKETPLACE", "ACCOUNT", "VALID_HOURS", "STACK", "FUNCTION", "LOCAL_PORT")}
    if not env["PROFILE"] or not env["MARKETPLACE"]:
        fail("set PROFILE and MARKETPLACE, e.g. make onboard-link PROFILE=acme-de MARKETPLACE=DE")
    event = {"action": "link", "profile": env["PROFILE"], "marketplace": env["MARKETPLACE"]}
    if env["ACCOUNT"]:
        event["account"] = env["ACCOUNT"]
    if env["VALID_HOURS"]:
        if not env["VALID_HOURS"].isdigit():
            fail("VALID_HOURS must be a whole number from 1 to 720")
        event["valid_hours"] = int(env["VALID_HOURS"])
    payload = json.dumps(event).encode()
    if env["LOCAL_PORT"]:
        url = f"http://127.0.0.1:{env['LOCAL_PORT']}/2015-03-31/functions/seller-onboarding/invocations"
        req = urllib.request.Request(url, data=payload, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=900) as r:
                out = json.loads(r.read())
        except urllib.error.HTTPError as e:
            # The function answered with an error: say what it said.
            try:
                body = json.loads(e.read() or b"null") or {}
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("errorType"):
                fail(f"{body.get('errorType')}: {body.get('errorMessage', '')}")
            fail(f"the local function at {url} answered HTTP {e.code}")
        except OSError as e:
            fail(f"could not reach the local function at {url}: {e}")
    else:
        try:
            import boto3
        except ImportError:
            fail("boto3 is missing: run `make venv`")
        import botocore.exceptions as bx
        # boto3 reads AWS_DEFAULT_REGION; the AWS CLI and the Rust SDK also AWS_REGION.
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        session = boto3.session.Session(region_name=region)
        function = env["FUNCTION"]
        try:
            if not function:
                if not env["STACK"]:
                    fail("set STACK (deployed stack), FUNCTION (function name) or LOCAL_PORT (local demo)")
                stack = session.client("cloudformation").describe_stacks(StackName=env["STACK"])["Stacks"][0]
                outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
                function = outputs.get("OnboardingFunctionName") or fail(
                    f"stack {env['STACK']} has no OnboardingFunctionName output (deploy with the onboarding parameters set)")
            r = session.client("lambda").invoke(FunctionName=function, Payload=payload)
        except bx.NoRegionError:
            fail("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) to the stack's region")
        except bx.NoCredentialsError:
            fail("no AWS credentials: configure them (aws configure, AWS_PROFILE or the AWS_* variables)")
        except bx.ClientError as e:
            err = e.response.get("Error", {})
            fail(f"AWS answered {err.get('Code', '?')}: {err.get('Message', '')} "
                 "(check STACK or FUNCTION, the region and your IAM permissions)")
        out = json.loads(r["Payload"].read() or b"null")
        if r.get("FunctionError"):
            fail(f"{out.get('errorType')}: {out.get('errorMessage')}")
    if not isinstance(out, dict) or "url" not in out:
        fail(f"unexpected answer: {out.get('errorType', '') if isinstance(out, dict) else ''} "
             f"{out.get('errorMessage', '') if isinstance(out, dict) else out}")
    print(out["url"])
    sys.stderr.write(f"profile {out['profile']} ({out['region']}, {out.get('account', 'seller')}), valid until {out['expires_at']}; "
                     "send it to the seller: it works once\n")


if __name__ == "__main__":
    main()
