#!/usr/bin/env python3
"""The callback's own work: run `seller-onboarding` (a release build by
default) under the local Runtime API against moto and the LWA stand-in, drive
the onboarding flow as story 30 does (a link -> /authorize -> the consent
page's Authorize -> /callback; the Appstore step -> /login -> confirm ->
/callback) ROUNDS times, and print min / median / max of the `own_us` log
field (time in our own code, apart from the AWS and LWA round trips) per
route.

    .venv/bin/python tools/onboarding_timing.py [--rounds 20] [--binary target/release/seller-onboarding]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos  # noqa: E402  (peers and helpers)
import chaos_onboarding as onb  # noqa: E402
from onboarding_local import ticket as mint_ticket  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def own_us(output):
    """(route, own_us) of each request line in the function's JSON log."""
    out = []
    for line in output.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        fields = doc.get("fields", doc)
        if "own_us" in fields and "route" in fields:
            out.append((fields["route"], int(fields["own_us"]), fields.get("status")))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "seller-onboarding"))
    args = ap.parse_args()
    import boto3

    ctx = chaos.Ctx()
    ctx.seed, ctx.python = 1, sys.executable
    ctx.onboarding_binary = os.path.abspath(args.binary)
    moto, ctx.moto_port = chaos.start_peer(ctx.python, "moto_peer.py")
    lwa, lwa_port = chaos.start_peer(ctx.python, "lwa_standin.py", "--quiet")
    ctx.lwa = f"http://127.0.0.1:{lwa_port}"
    kw = dict(endpoint_url=f"http://127.0.0.1:{ctx.moto_port}", region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ctx.sm, ctx.ssm = boto3.client("secretsmanager", **kw), boto3.client("ssm", **kw)
    ctx.log_level = "INFO"  # as deployed (chaos scans DEBUG lines)
    lane = onb.Lane(ctx, 1, 1)  # an odd lane: ONBOARDING_OPEN, so /login takes new sellers
    samples = {}
    # The first request of the process builds the SDK and HTTPS clients:
    # shown apart, not in the figures.
    now = int(time.time())
    t = mint_ticket(lane.key, "warm-up", "DE", now + 600, issued_unix=now)
    first = own_us(lane.call(onb.url_event("/lambda-url/seller-onboarding/authorize", "ticket=" + t))[4])
    try:
        for r in range(args.rounds):
            for via in ("link", "login"):
                plan = {"route": "callback", "who": "new", "via": via}
                prepared = onb.prepare(lane, plan, r * 2 + (via == "login"), [])
                if prepared is None:
                    raise SystemExit(f"round {r}: the {via} steps failed")
                event, facts = prepared
                kind, _, answer, _, out = lane.call(event)
                if kind != "response" or answer.get("statusCode") != 200:
                    raise SystemExit(f"round {r}: callback answered {kind} {answer and answer.get('statusCode')}")
                for route, us, _ in own_us(facts.get("prep_output", "") + out):
                    samples.setdefault(route, []).append(us)
            # /authorize alone (a fresh link, no consent)
            now = int(time.time())
            t = mint_ticket(lane.key, f"t{r}", "DE", now + 600, issued_unix=now)
            out = lane.call(onb.url_event("/lambda-url/seller-onboarding/authorize", "ticket=" + t))[4]
            for route, us, _ in own_us(out):
                samples.setdefault(route, []).append(us)
    finally:
        lane.fn.stop()
        lane.proxy.kill()
        moto.kill()
        lwa.kill()
    print(f"seller-onboarding own_us ({os.path.relpath(ctx.onboarding_binary, ROOT)}, {args.rounds} rounds)")
    for route, us, _ in first:
        print(f"  first request of the process ({route}): {us / 1000:.2f} ms (SDK and HTTPS clients built)")
    for route in sorted(samples):
        v = sorted(samples[route])
        print(f"  {route:<10} n={len(v):<3} min {v[0] / 1000:.2f} ms  median {statistics.median(v) / 1000:.2f} ms  "
              f"max {v[-1] / 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
