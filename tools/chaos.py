#!/usr/bin/env python3
"""Fault-injection suite: the real `token-refresher` binary under a Lambda
Runtime API (tools/runtime_api.py), talking to moto through a fault-injecting
proxy (tools/fault_proxy.py) and to the LWA stand-in (tools/lwa_standin.py),
over a seeded random plan of invocations, single-profile and fleet mode; then
`token-reader` the same way (direct invokes and function URL requests, with
SSM faults and, now and then, a stored value that is not a token).

Each invocation gets a random deadline, a random event and, often, faults:
AWS operations failing before or after the request reached moto (500,
ThrottlingException, dropped connection, delay, a stall that never answers)
and LWA misbehaving (5xx, 429 with Retry-After, HTML and malformed bodies,
hangs, resets, an error text echoing a secret). After every invocation these
invariants are checked against moto directly (never through the proxy):

  deadline          the answer came before the invocation's deadline
  no_answer         an answer came at all (the harness waits 30 s past it)
  process_died      the process is still running
  bad_error_type    an error answer carries one of the contract's errorTypes
  token_invalid     the stored token is the contract's JSON, holds an access
                    token the stand-in issued, and its expires_at is the
                    request time + expires_in
  expires_backwards expires_at never goes backwards
  failed_changed    a failed invocation (or a profile a fleet run lists as
                    failed) leaves the stored token as it was, unless a fault
                    after forwarding a PutParameter explains the change
  answer_mismatch   `skipped` left the token alone; `refreshed` stored the
                    token whose fingerprint it answered
  credentials_lost  the credentials secret still parses and its refresh
                    token is one the stand-in accepts
  secret_leak       no client secret, refresh token or access token (nor a
                    12+ character piece of one, raw or percent-encoded, any
                    case) in any answer or log line

Usage (with the project venv: boto3 comes with moto):
    .venv/bin/python tools/chaos.py [--seed N] [--invocations 1000] [--fleet-invocations 200]
                                    [--lanes 4] [--binary target/debug/token-refresher]
                                    [--reader-invocations 200]
                                    [--onboarding-invocations 200]   (tools/chaos_onboarding.py)
                                    [--phase single|fleet|reader --only I] [--json FILE] [--max-violations N]

Exit status 0 when no invariant was violated, 1 otherwise. Every violation
prints the seed, phase and invocation index, and the command that replays
that invocation's plan on fresh state.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runtime_api import Function, now_ms  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT_ID = "amzn1.application-oa2-client.chaos"
SCOPE = "sellingpartnerapi::notifications"
FLEET_PROFILES = 4  # + one grantless profile
WAIT_PAST_DEADLINE_S = 30

CONTRACT_ERROR_TYPES = {
    "LwaInvalidGrant", "LwaInvalidClient", "LwaUnauthorizedClient", "LwaInvalidScope",
    "LwaInvalidRequest", "LwaUnsupportedGrantType", "LwaAccessDenied", "LwaUnavailable",
    "LwaMalformedResponse", "CredentialsInvalid", "CredentialsUnavailable", "StoreFailed",
    "RefreshTokenNotPersisted", "InvalidEvent", "ProfilesFailed",
}

SINGLE_OPS = ["secretsmanager.GetSecretValue", "AmazonSSM.GetParameter",
              "AmazonSSM.PutParameter", "secretsmanager.PutSecretValue"]
FLEET_OPS = ["secretsmanager.GetSecretValue", "secretsmanager.ListSecrets",
             "secretsmanager.BatchGetSecretValue", "AmazonSSM.GetParametersByPath",
             "AmazonSSM.PutParameter", "secretsmanager.PutSecretValue"]
AWS_KINDS = [("500", 2), ("throttle", 2), ("drop", 2), ("delay", 2), ("stall", 1.5)]
LWA_KINDS = [("500", 2), ("503_json", 1), ("429", 1.5), ("html", 1), ("malformed", 1),
             ("hang", 1.5), ("reset", 1.5), ("close", 1), ("slow", 1.5), ("echo", 1.5),
             ("invalid_client", 0.5)]


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


# ---------------------------------------------------------------- the plan


def make_plan(seed, phase, index):
    """One invocation's plan, a function of (seed, phase, index) only."""
    rng = random.Random(f"{seed}/{phase}/{index}")
    if phase == "reader":
        return make_reader_plan(rng)
    if phase == "single":
        deadline = weighted(rng, [((150, 1500), 0.1), ((1500, 3500), 0.2), ((3500, 8000), 0.7)])
    else:
        deadline = weighted(rng, [((300, 3000), 0.2), ((3000, 6000), 0.4), ((6000, 10000), 0.4)])
    deadline_ms = int(rng.uniform(*deadline))
    event = weighted(rng, [({}, 0.35), ({"action": "refresh", "force": True}, 0.4),
                           ({"action": "refresh"}, 0.1),
                           ({"version": "0", "id": "chaos", "detail-type": "Scheduled Event",
                             "source": "aws.scheduler", "account": "123456789012",
                             "time": "2026-12-01T00:00:00Z", "region": "us-east-1",
                             "resources": [], "detail": {}}, 0.15)])
    ops = SINGLE_OPS if phase == "single" else FLEET_OPS
    aws, lwa = [], []
    shape = rng.random()
    n_aws = 0 if shape < 0.3 else 1 if shape < 0.6 else 0 if shape < 0.8 else 2
    n_lwa = 1 if 0.6 <= shape < 0.95 else 0
    for _ in range(n_aws):
        aws.append({
            "op": rng.choice(ops),
            "when": "after" if rng.random() < 0.35 else "before",
            "kind": weighted(rng, AWS_KINDS),
            "delay_ms": rng.choice([50, 300, 1000, 2500]),
            "times": rng.choice([1, 1, 2, 3, 10]),
        })
    for _ in range(n_lwa):
        lwa.append({"kind": weighted(rng, LWA_KINDS), "times": rng.choice([1, 1, 2, 3, 5]),
                    "delay_ms": rng.choice([100, 800, 2500]), "piece": rng.randrange(0, 16)})
    return {"deadline_ms": deadline_ms, "event": event, "aws": aws, "lwa": lwa}


def make_reader_plan(rng):
    deadline_ms = int(rng.uniform(*weighted(rng, [((100, 1000), 0.3), ((1000, 4000), 0.7)])))
    event = weighted(rng, [({}, 0.3), ({"action": "get"}, 0.2), ("url", 0.5)])
    aws = []
    if rng.random() < 0.6:
        aws.append({"op": "AmazonSSM.GetParameter", "when": rng.choice(["before", "after"]),
                    "kind": weighted(rng, AWS_KINDS), "delay_ms": rng.choice([50, 300, 1000, 2500]),
                    "times": rng.choice([1, 2, 3, 10])})
    # now and then the stored value is not a token: a token where expires_at belongs
    stored = "bad" if rng.random() < 0.1 else "good"
    return {"deadline_ms": deadline_ms, "event": event, "aws": aws, "lwa": [], "stored": stored}


def lwa_entries(fault, lane):
    """The stand-in script entries for one planned LWA fault."""
    kind = fault["kind"]
    if kind == "500":
        e = {"status": 500, "content_type": "text/plain", "body": "Internal Server Error"}
    elif kind == "503_json":
        e = {"status": 503, "body": {"error": "server_error", "error_description": "Service unavailable"}}
    elif kind == "429":
        e = {"status": 429, "headers": {"Retry-After": "1"},
             "body": {"error": "slow_down", "error_description": "Rate exceeded"}}
    elif kind == "html":
        e = {"status": 502, "content_type": "text/html", "body": "<html><body>Bad gateway</body></html>"}
    elif kind == "malformed":
        e = {"status": 200, "body": {"token_type": "bearer", "expires_in": 3600}}
    elif kind in ("hang", "reset", "close"):
        e = {"action": kind}
    elif kind == "slow":
        e = {"action": "normal", "delay_ms": fault["delay_ms"]}
    elif kind == "echo":
        # LWA quoting what it was sent: a lower-case, percent-encoded piece
        # of the refresh token and a bare piece of the client secret.
        p = fault["piece"]
        rt, cs = lane.refresh_token_now(), lane.client_secret
        text = (f"The request has an invalid parameter : refresh_token Atzr%7c{rt[5 + p:5 + p + 20].lower()} "
                f"for client secret ...{cs[16 + p:16 + p + 14]}")
        e = {"status": 400, "body": {"error": "invalid_request", "error_description": text}}
    elif kind == "invalid_client":
        e = {"status": 401, "body": {"error": "invalid_client", "error_description": "Client authentication failed"}}
    else:
        raise ValueError(kind)
    return [e] * fault["times"]


# ---------------------------------------------------------------- peers


def start_peer(python, script, *extra):
    p = subprocess.Popen([python, os.path.join(ROOT, "tools", script), "--port", "0",
                          "--parent-pid", str(os.getpid()), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = p.stdout.readline().decode().strip()
    if not line.startswith("LISTENING "):
        raise SystemExit(f"chaos: {script} did not start: {line!r}")
    return p, int(line.split()[1])


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"{}")


def rand_token(rng, prefix, n=48):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


# ---------------------------------------------------------------- lanes


class Lane:
    """One function process with its own secret(s), parameter(s), stand-in
    namespace and fault proxy; invocations of a lane run one after another."""

    def __init__(self, ctx, phase, number, seed):
        self.ctx, self.phase, self.number = ctx, phase, number
        rng = random.Random(f"{seed}/setup/{phase}/{number}")
        self.ns = f"chaos-{phase}-{number}"
        self.client_secret = rand_token(rng, "amzn1.oa2-cs.v1.", 40)
        # Short lifetimes: a token is due again 5 to 15 s after it was stored.
        self.expires_in = rng.choice([45, 90, 150])
        self.margin = self.expires_in - rng.choice([5, 10, 15])
        self.rotate = number % 2 == 1
        self.proxy, self.proxy_port = start_peer(ctx.python, "fault_proxy.py",
                                                 "--upstream", f"http://127.0.0.1:{ctx.moto_port}")
        base = f"chaos/{phase}-{number}"
        sm = ctx.sm
        if phase == "reader":
            self.profiles = {None: (None, f"/chaos/{phase}-{number}/token")}
            self.token = rand_token(rng, "Atza|", 60)
            self.good = json.dumps({"access_token": self.token, "token_type": "bearer",
                                    "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3000)),
                                    "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))})
            self.bad = json.dumps({"access_token": self.token, "token_type": "bearer",
                                   "expires_at": self.token, "issued_at": self.token})
            self.put(self.good)
            self.env = {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy_port}",
                "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true",
                "TOKEN_PARAMETER_NAME": self.profiles[None][1],
                "TOKEN_CACHE_SECONDS": "0", "MIN_VALIDITY_SECONDS": "60",
            }
            self.binary = ctx.reader_binary
            self.last_expires = {}
            self.fn = None
            self.start()
            return
        self.binary = ctx.binary
        if phase == "single":
            self.secret_id = base
            self.profiles = {None: (base, f"/chaos/{phase}-{number}/token")}
            rts = [rand_token(rng, "Atzr|")]
            sm.create_secret(Name=base, SecretString=json.dumps(
                {"client_id": CLIENT_ID, "client_secret": self.client_secret, "refresh_token": rts[0]}))
        else:
            self.app_secret = f"{base}-app"
            sm.create_secret(Name=self.app_secret, SecretString=json.dumps(
                {"client_id": CLIENT_ID, "client_secret": self.client_secret}))
            self.profiles, rts = {}, []
            for k in range(FLEET_PROFILES + 1):
                name = f"p{k}"
                secret = f"{base}/{name}"
                if k < FLEET_PROFILES:
                    rts.append(rand_token(rng, "Atzr|"))
                    doc = {"refresh_token": rts[-1]}
                else:
                    doc = {"scope": SCOPE}
                sm.create_secret(Name=secret, SecretString=json.dumps(doc))
                self.profiles[name] = (secret, f"/chaos/{phase}-{number}/{name}")
        http_json("PUT", f"{ctx.lwa}/_control/{self.ns}", {
            "clients": [{"client_id": CLIENT_ID, "client_secrets": [self.client_secret],
                         "refresh_tokens": rts, "scopes": [SCOPE]}],
            "expires_in": self.expires_in, "rotate_refresh_token": self.rotate})
        self.env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy_port}",
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "LWA_TOKEN_URL": f"{ctx.lwa}/ns/{self.ns}/auth/o2/token",
            "REFRESH_MARGIN_SECONDS": str(self.margin),
            "LWA_TIMEOUT_MS": "1500",
        }
        if phase == "single":
            self.env.update({"LWA_CREDENTIALS_SECRET_ID": self.secret_id,
                             "TOKEN_PARAMETER_NAME": self.profiles[None][1]})
        else:
            self.env.update({"LWA_SECRET_PREFIX": f"{base}/", "TOKEN_PARAMETER_PREFIX": f"/chaos/{phase}-{number}/",
                             "LWA_APP_SECRET_ID": self.app_secret, "REFRESH_CONCURRENCY": "2",
                             "SSM_WRITE_TPS": "0", "REFRESH_SPREAD_SECONDS": "0"})
        self.last_expires = {}
        self.fn = None
        self.start()

    def start(self):
        self.fn = Function(self.binary, self.env)
        self.fn.take_output()

    def put(self, value):
        self.ctx.ssm.put_parameter(Name=self.profiles[None][1], Value=value, Type="SecureString", Overwrite=True)

    def refresh_token_now(self):
        secret = self.profiles[None][0] if self.phase == "single" else self.profiles["p0"][0]
        return json.loads(self.ctx.sm.get_secret_value(SecretId=secret)["SecretString"])["refresh_token"]

    def stored(self):
        """parameter -> its value (None when absent), read from moto directly."""
        out = {}
        for _, (_, parameter) in self.profiles.items():
            try:
                out[parameter] = self.ctx.ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
            except self.ctx.ssm.exceptions.ParameterNotFound:
                out[parameter] = None
        return out

    def secrets(self):
        out = {}
        for _, (secret, _) in self.profiles.items():
            out[secret] = self.ctx.sm.get_secret_value(SecretId=secret)["SecretString"]
        return out


# ---------------------------------------------------------------- checks


TOKEN_RE = re.compile(r"atz[ar](\||%7c)[a-z0-9]", re.IGNORECASE)
CS_RE = re.compile(r"amzn1\.oa2-cs\.v1\.[a-z0-9]", re.IGNORECASE)


def leaks(text, secrets):
    """Secret values (or 12+ character pieces of them) in `text`."""
    found = []
    low = text.lower()
    for m in TOKEN_RE.finditer(text):
        found.append(text[m.start():m.start() + 24])
    for m in CS_RE.finditer(text):
        found.append(text[m.start():m.start() + 24])
    for s in secrets:
        body = s.split("|", 1)[-1] if "|" in s else s.rsplit(".", 1)[-1]
        body = body.lower()
        for i in range(0, max(1, len(body) - 11)):
            piece = body[i:i + 12]
            if len(piece) == 12 and piece in low:
                found.append(f"piece of a secret: {piece[:4]}…")
                break
    return found


def parse_rfc3339(s):
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def check_token(value, issued):
    """Why a stored value is not a valid, issued token (None if it is)."""
    try:
        doc = json.loads(value)
    except ValueError:
        return "not JSON"
    if not isinstance(doc, dict):
        return "not an object"
    tok = doc.get("access_token")
    if not isinstance(tok, str):
        if "authorization_lost" in doc:
            return None
        return "no access_token"
    if doc.get("token_type") != "bearer":
        return f"token_type {doc.get('token_type')!r}"
    h = hashlib.sha256(tok.encode()).hexdigest()
    rec = issued.get(h)
    if rec is None:
        return "access_token was never issued by the stand-in"
    try:
        exp, iat = parse_rfc3339(doc["expires_at"]), parse_rfc3339(doc["issued_at"])
    except (KeyError, ValueError, TypeError):
        return "expires_at/issued_at missing or not RFC 3339 whole seconds"
    want = rec["at"] + rec["expires_in"]
    if not (want - 3 <= exp <= want + 2):
        return f"expires_at is {exp - want:+.1f} s off the issue time + expires_in"
    if abs((exp - iat) - rec["expires_in"]) > 1:
        return "expires_at - issued_at is not expires_in"
    return None


def token_fingerprint(value):
    try:
        return hashlib.sha256(json.loads(value)["access_token"].encode()).hexdigest()[:8]
    except (ValueError, KeyError, TypeError):
        return None


def expires_at(value):
    try:
        return parse_rfc3339(json.loads(value)["expires_at"])
    except (ValueError, KeyError, TypeError):
        return None


FAILED_PROFILE_RE = re.compile(r"(?:^|[:,] )([A-Za-z0-9_.\-:/]+) \((\w+)(?:, stopped \d+ profiles)?\)")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.invocations = collections.Counter()
        self.faults = collections.Counter()
        self.outcomes = collections.Counter()
        self.violations = collections.Counter()
        self.examples = []
        self.worst_overrun_ms = 0.0
        self.worst_overrun_at = None
        self.overruns = 0
        self.closest_ms = None  # the least time left at an answer


def run_reader_invocation(ctx, lane, index, stats):
    plan = make_plan(ctx.seed, "reader", index)
    http_json("PUT", f"http://127.0.0.1:{lane.proxy_port}/_fault/rules", {"rules": []})
    lane.put(lane.bad if plan["stored"] == "bad" else lane.good)
    http_json("PUT", f"http://127.0.0.1:{lane.proxy_port}/_fault/rules", {"rules": plan["aws"]})
    event = ctx.url_event if plan["event"] == "url" else plan["event"]
    deadline = now_ms() + plan["deadline_ms"]
    kind, at, body = lane.fn.invoke(event, deadline, plan["deadline_ms"] / 1000 + WAIT_PAST_DEADLINE_S)
    applied = http_json("GET", f"http://127.0.0.1:{lane.proxy_port}/_fault/log")["applied"]
    http_json("PUT", f"http://127.0.0.1:{lane.proxy_port}/_fault/rules", {"rules": []})
    output = lane.fn.take_output()
    alive = lane.fn.alive()
    violations = []
    text = body.decode("utf-8", "replace") if body else ""
    if kind is None:
        outcome = "no_answer"
        violations.append(("no_answer", f"no answer {WAIT_PAST_DEADLINE_S} s past the deadline"))
    else:
        try:
            answer = json.loads(text)
        except ValueError:
            answer = {}
        token_answer = False
        if kind == "error":
            outcome = answer.get("errorType", "?")
            if outcome not in ("TokenUnavailable", "InvalidEvent", "AuthorizationLost"):
                violations.append(("bad_error_type", f"errorType {outcome[:80]!r}"))
        elif plan["event"] == "url":
            status = answer.get("statusCode")
            outcome = f"http {status}"
            if status not in (200, 502, 503):
                violations.append(("bad_error_type", f"HTTP status {status}"))
            if status == 200:
                token_answer = True
                got = json.loads(answer.get("body") or "{}").get("access_token")
                if got != lane.token or plan["stored"] == "bad":
                    violations.append(("answer_mismatch", "HTTP 200 without the stored token"))
        else:
            outcome = "token"
            token_answer = True
            if answer.get("access_token") != lane.token or plan["stored"] == "bad":
                violations.append(("answer_mismatch", "answered something else than the stored token"))
        if at - deadline > 0:
            violations.append(("deadline", f"answered {at - deadline:.0f} ms after the deadline "
                                           f"({plan['deadline_ms']} ms allowed)"))
        if not token_answer:
            found = leaks(text, [lane.token])
            if found:
                violations.append(("secret_leak", f"answer: {found[:3]}"))
    found = leaks(output, [lane.token])
    if found:
        violations.append(("secret_leak", f"log: {found[:3]}"))
    if not alive:
        violations.append(("process_died", f"exit status {lane.fn.proc.returncode}"))
    record(ctx, stats, lane, "reader", index, plan, outcome, applied, [], 0, kind, at, deadline, violations)
    if kind is None or not alive:
        lane.fn.stop()
        lane.start()


def record(ctx, stats, lane, phase, index, plan, outcome, applied, lwa_plan, lwa_left, kind, at, deadline, violations):
    with stats.lock:
        stats.invocations[phase] += 1
        stats.outcomes[f"{phase}:{outcome}"] += 1
        for a in applied:
            stats.faults[f"aws {a['kind']} {a['when']}"] += 1
        planned = sum(f["times"] for f in lwa_plan)
        consumed = planned - lwa_left
        for f in lwa_plan:
            n = min(f["times"], consumed)
            consumed -= n
            if n:
                stats.faults[f"lwa {f['kind']}"] += n
        if kind is not None:
            over = at - deadline
            if over > stats.worst_overrun_ms:
                stats.worst_overrun_ms = over
                stats.worst_overrun_at = (phase, index)
            if over > 0:
                stats.overruns += 1
            if stats.closest_ms is None or -over < stats.closest_ms:
                stats.closest_ms = -over
        for inv, detail in violations:
            stats.violations[inv] += 1
            if len(stats.examples) < ctx.max_examples:
                stats.examples.append((phase, index, inv, detail))
                shown = {k: plan[k] for k in ("deadline_ms", "aws", "lwa", "stored") if k in plan}
                print(f"VIOLATION {inv}: {detail}\n  seed {ctx.seed}, {phase} invocation {index} (lane {lane.number}); "
                      f"plan {json.dumps(shown)}\n"
                      f"  reproduce: .venv/bin/python tools/chaos.py --seed {ctx.seed} --phase {phase} --only {index}",
                      flush=True)


def run_invocation(ctx, lane, phase, index, stats):
    if phase == "reader":
        return run_reader_invocation(ctx, lane, index, stats)
    plan = make_plan(ctx.seed, phase, index)
    lwa = ctx.lwa
    http_json("DELETE", f"{lwa}/_control/{lane.ns}/script")
    http_json("PUT", f"http://127.0.0.1:{lane.proxy_port}/_fault/rules", {"rules": plan["aws"]})
    script = [e for f in plan["lwa"] for e in lwa_entries(f, lane)]
    if script:
        http_json("POST", f"{lwa}/_control/{lane.ns}/script", {"responses": script})
    before = lane.stored()
    deadline = now_ms() + plan["deadline_ms"]
    kind, at, body = lane.fn.invoke(plan["event"], deadline, plan["deadline_ms"] / 1000 + WAIT_PAST_DEADLINE_S)
    applied = http_json("GET", f"http://127.0.0.1:{lane.proxy_port}/_fault/log")["applied"]
    left = http_json("DELETE", f"{lwa}/_control/{lane.ns}/script")["cleared"]
    http_json("PUT", f"http://127.0.0.1:{lane.proxy_port}/_fault/rules", {"rules": []})
    issued = http_json("GET", f"{lwa}/_control/{lane.ns}/issued")["issued"]
    state = http_json("GET", f"{lwa}/_control/{lane.ns}")
    after = lane.stored()
    secrets_now = lane.secrets()
    output = lane.fn.take_output()
    alive = lane.fn.alive()

    violations = []

    def violate(invariant, detail):
        violations.append((invariant, detail))

    # outcome
    error_type, message, answer = None, "", None
    if kind is None:
        outcome = "no_answer"
        violate("no_answer", f"no answer {WAIT_PAST_DEADLINE_S} s past the deadline")
    else:
        text = body.decode("utf-8", "replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = {}
        if kind == "response":
            outcome = answer.get("outcome", "?") if isinstance(answer, dict) else "?"
        else:
            error_type = answer.get("errorType", "?")
            message = answer.get("errorMessage", "")
            outcome = error_type
            if error_type not in CONTRACT_ERROR_TYPES:
                violate("bad_error_type", f"errorType {error_type[:80]!r}")
        overrun = at - deadline
        if overrun > 0:
            violate("deadline", f"answered {overrun:.0f} ms after the deadline ({plan['deadline_ms']} ms allowed)")
    if not alive:
        violate("process_died", f"exit status {lane.fn.proc.returncode}")

    # stored tokens
    rt_ok = {t for c in state["clients"] for t in c["refresh_tokens"] if t not in set(c["revoked_refresh_tokens"])}
    put_after = any(a["op"] == "AmazonSSM.PutParameter" and a["when"] == "after" for a in applied)
    failed_profiles = set()
    if phase == "fleet" and error_type == "ProfilesFailed":
        for m in FAILED_PROFILE_RE.finditer(message.split(". Refreshed")[0]):
            if not m.group(1).startswith("app:") and m.group(2) != "RefreshTokenNotPersisted":
                failed_profiles.add(m.group(1))
    for name, (secret, parameter) in lane.profiles.items():
        old, new = before[parameter], after[parameter]
        if new is not None:
            why = check_token(new, issued)
            if why:
                violate("token_invalid", f"{parameter}: {why}")
            exp = expires_at(new)
            last = lane.last_expires.get(parameter)
            if exp is not None and last is not None and exp < last:
                violate("expires_backwards", f"{parameter}: {last:.0f} -> {exp:.0f}")
            if exp is not None:
                lane.last_expires[parameter] = max(exp, last or exp)
        elif old is not None:
            violate("failed_changed", f"{parameter} was deleted")
        changed = old != new
        if phase == "single":
            if kind == "error" and changed and not put_after and error_type != "RefreshTokenNotPersisted":
                violate("failed_changed", f"{error_type} but {parameter} changed")
            if kind == "response" and outcome == "skipped" and changed and not put_after:
                violate("answer_mismatch", "skipped but the token changed")
            if kind == "response" and outcome == "refreshed" and new is not None:
                if token_fingerprint(new) != answer.get("token_fingerprint"):
                    violate("answer_mismatch", "refreshed, but the stored token is not the one answered")
        elif name in failed_profiles and changed and not put_after:
            violate("failed_changed", f"profile {name} failed but {parameter} changed")
        elif kind == "error" and error_type != "ProfilesFailed" and changed and not put_after:
            violate("failed_changed", f"{error_type} but {parameter} changed")
        # the credentials secret
        try:
            doc = json.loads(secrets_now[secret])
            if "refresh_token" in doc and doc["refresh_token"] not in rt_ok:
                violate("credentials_lost", f"{secret}: its refresh token is not one LWA accepts")
            if phase == "single" and doc.get("client_secret") != lane.client_secret:
                violate("credentials_lost", f"{secret}: client_secret changed")
        except (ValueError, TypeError):
            violate("credentials_lost", f"{secret}: no longer JSON")

    # secrets in any output
    known = [lane.client_secret] + sorted(rt_ok)
    for where, text in (("answer", body.decode("utf-8", "replace") if body else ""), ("log", output)):
        found = leaks(text, known)
        if found:
            violate("secret_leak", f"{where}: {found[:3]}")

    record(ctx, stats, lane, phase, index, plan, outcome, applied, plan["lwa"], left, kind, at, deadline, violations)
    if kind is None or not alive:
        lane.fn.stop()
        lane.start()


# ---------------------------------------------------------------- main


class Ctx:
    pass


def run_phase(ctx, phase, indices, lanes, stats):
    if not indices:
        return
    lanes_ = [Lane(ctx, phase, n, ctx.seed) for n in range(min(lanes, len(indices)))]
    # The first invocation of every lane runs without faults or a tight
    # deadline: the refresher's is a forced refresh (later checks compare
    # against a stored token); and a debug build's first AWS call spends a
    # few hundred ms of CPU building its HTTPS client, which a release build
    # does in milliseconds.
    for lane in lanes_:
        event = {} if phase == "reader" else {"action": "refresh", "force": True}
        lane.fn.invoke(event, now_ms() + 20000, 40)
        lane.fn.take_output()
        for p, v in lane.stored().items():
            if v is not None and expires_at(v) is not None:
                lane.last_expires[p] = expires_at(v)

    def work(lane, mine):
        for i in mine:
            run_invocation(ctx, lane, phase, i, stats)
            done = sum(stats.invocations.values())
            if ctx.progress and done % 100 == 0:
                print(f"chaos: {done} invocations…", file=sys.stderr, flush=True)

    threads = []
    for n, lane in enumerate(lanes_):
        mine = indices[n::len(lanes_)]
        t = threading.Thread(target=work, args=(lane, mine), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    for lane in lanes_:
        lane.fn.stop()
        lane.proxy.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--invocations", type=int, default=1000)
    ap.add_argument("--fleet-invocations", type=int, default=200)
    ap.add_argument("--reader-invocations", type=int, default=200)
    ap.add_argument("--lanes", type=int, default=4)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "debug", "token-refresher"))
    ap.add_argument("--reader-binary", help="default: token-reader next to --binary")
    ap.add_argument("--rotator-invocations", type=int, default=200,
                    help="client-secret-rotator invocations (tools/chaos_rotator.py)")
    ap.add_argument("--onboarding-invocations", type=int, default=200,
                    help="seller-onboarding requests (tools/chaos_onboarding.py)")
    ap.add_argument("--phase", choices=["single", "fleet", "reader", "rotator", "onboarding"])
    ap.add_argument("--only", type=int, help="replay one invocation's plan (with --phase) on fresh state")
    ap.add_argument("--json", help="write the figures here as JSON")
    ap.add_argument("--max-violations", type=int, default=25, help="violations printed in full")
    args = ap.parse_args()

    ctx = Ctx()
    ctx.seed = args.seed if args.seed is not None else random.randrange(1, 10**6)
    ctx.binary = os.path.abspath(args.binary)
    ctx.reader_binary = os.path.abspath(args.reader_binary or os.path.join(os.path.dirname(ctx.binary), "token-reader"))
    ctx.python = sys.executable
    ctx.max_examples = args.max_violations
    ctx.progress = args.only is None
    if not os.path.exists(ctx.binary):
        raise SystemExit(f"chaos: {ctx.binary} not found (cargo build --bin token-refresher)")
    import boto3  # from the venv (moto depends on it)

    moto, ctx.moto_port = start_peer(ctx.python, "moto_peer.py")
    lwa, lwa_port = start_peer(ctx.python, "lwa_standin.py", "--quiet")
    ctx.lwa = f"http://127.0.0.1:{lwa_port}"
    kw = dict(endpoint_url=f"http://127.0.0.1:{ctx.moto_port}", region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ctx.sm, ctx.ssm = boto3.client("secretsmanager", **kw), boto3.client("ssm", **kw)

    with open(os.path.join(ROOT, "events", "reader-url-get.json")) as f:
        ctx.url_event = json.load(f)
    stats = Stats()
    started = time.time()
    print(f"chaos: seed {ctx.seed}, binary {os.path.relpath(ctx.binary, ROOT)}", flush=True)
    try:
        if args.only is not None and args.phase == "rotator":
            import chaos_rotator
            print(json.dumps(chaos_rotator.make_plan(ctx.seed, args.only), indent=1))
            chaos_rotator.run_phase(ctx, [args.only], 1, stats)
        elif args.only is not None:
            phase = args.phase or "single"
            if phase == "onboarding":
                import chaos_onboarding
                print(json.dumps(chaos_onboarding.make_plan(ctx.seed, args.only), indent=1))
                chaos_onboarding.run_phase(ctx, [args.only], 1, stats)
            else:
                print(json.dumps(make_plan(ctx.seed, phase, args.only), indent=1))
                run_phase(ctx, phase, [args.only], 1, stats)
        else:
            if args.phase in (None, "single"):
                run_phase(ctx, "single", list(range(args.invocations)), args.lanes, stats)
            if args.phase in (None, "fleet"):
                run_phase(ctx, "fleet", list(range(args.fleet_invocations)), args.lanes, stats)
            if args.phase in (None, "reader"):
                run_phase(ctx, "reader", list(range(args.reader_invocations)), args.lanes, stats)
            if args.phase in (None, "rotator"):
                import chaos_rotator
                chaos_rotator.run_phase(ctx, list(range(args.rotator_invocations)), args.lanes, stats)
            if args.phase in (None, "onboarding"):
                import chaos_onboarding
                chaos_onboarding.run_phase(ctx, list(range(args.onboarding_invocations)), args.lanes, stats)
    finally:
        moto.kill()
        lwa.kill()
    elapsed = time.time() - started
    report(ctx, stats, elapsed, args)
    return 1 if stats.violations else 0


def report(ctx, stats, elapsed, args):
    print(f"\nchaos figures (seed {ctx.seed}, {elapsed:.0f} s)")
    print(f"  invocations        {sum(stats.invocations.values())} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(stats.invocations.items()))})")
    print(f"  faults injected    {sum(stats.faults.values())}")
    for k, v in sorted(stats.faults.items()):
        print(f"    {k:<22} {v}")
    print("  outcomes")
    for k, v in sorted(stats.outcomes.items()):
        print(f"    {k:<36} {v}")
    print(f"  violations         {sum(stats.violations.values())}")
    for k in ("deadline", "no_answer", "process_died", "bad_error_type", "token_invalid", "expires_backwards",
              "failed_changed", "answer_mismatch", "credentials_lost", "secret_leak",
              "bad_batch_answer", "unverified_current", "secret_lost", "bad_status", "profile_lost"):
        print(f"    {k:<22} {stats.violations.get(k, 0)}")
    where = f" ({stats.worst_overrun_at[0]} invocation {stats.worst_overrun_at[1]})" if stats.worst_overrun_at else ""
    print(f"  worst overrun      {max(0.0, stats.worst_overrun_ms):.0f} ms past the deadline{where}; "
          f"{stats.overruns} answers late")
    if stats.closest_ms is not None and stats.closest_ms >= 0:
        print(f"  closest answer     {stats.closest_ms:.0f} ms before its deadline")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": ctx.seed, "elapsed_s": elapsed, "invocations": dict(stats.invocations),
                       "faults": dict(stats.faults), "outcomes": dict(stats.outcomes),
                       "violations": dict(stats.violations), "worst_overrun_ms": max(0.0, stats.worst_overrun_ms),
                       "late_answers": stats.overruns, "closest_ms": stats.closest_ms}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
