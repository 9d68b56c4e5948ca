"""The onboarding phase of the fault-injection suite (tools/chaos.py): the
real `seller-onboarding` binary under the Runtime API, Secrets Manager and
SSM behind the fault proxy, the LWA stand-in playing Seller Central, the
Appstore and the `authorization_code` grant.

Each planned invocation is one request: an operator's `link` (direct
invoke), or a function URL request to `/authorize`, `/login` or
`/callback`, with a random deadline (100 ms to 8 s), AWS faults on the
operations that route makes and, for `/callback`, LWA faults on the code
exchange. The steps that lead to the planned request (a link, `/authorize`
or the Appstore step and `/login`, the consent page's Authorize) run first
without faults. Invariants, checked against moto and the stand-in directly:

  deadline        the answer came before the deadline (a 5xx page under
                  injected faults is fine; a timeout never is)
  no_answer       an answer came at all
  process_died    the process is still running
  bad_status      a function URL request got a page or a redirect (never a
                  function error), with a status of the contract; a 5xx
                  only when a fault was injected or the deadline was short
  secret_leak     no code, state, ticket, browser cookie, refresh or access
                  token, client secret or signing key (nor a 12-character
                  piece of one) in any page, header or log line; `state`
                  only in `Location`, the cookie only in `Set-Cookie`, the
                  ticket only in the operator's link answer
  profile_lost    an existing profile's secret is never deleted, and its
                  refresh token is replaced only by one the stand-in issued
                  in that invocation's exchange, with every other field
                  kept; when no exchange succeeded the secret and the token
                  parameter are exactly as they were

Run with `make chaos` (all phases) or
`.venv/bin/python tools/chaos.py --phase onboarding [--onboarding-invocations N]`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onboarding_local import ticket as mint_ticket  # noqa: E402
from runtime_api import Function, now_ms  # noqa: E402

PHASE = "onboarding"
APPLICATION_ID = "amzn1.sp.solution.chaos-app"
HOST = "sellercentral-europe.amazon.com"
# Not listening: the function never calls its own URL; the stand-in
# redirects the "browser" (this harness) there, and we hand the request to
# the function ourselves.
BASE = "http://127.0.0.1:9/lambda-url/seller-onboarding"
STATUSES = {200, 302, 400, 403, 404, 405, 409, 410, 502, 503}
SM = "secretsmanager."
OPS = {
    "authorize": [SM + "DescribeSecret", SM + "GetSecretValue"],
    "login": [SM + "ListSecrets"],
    "callback": [SM + "DescribeSecret", SM + "GetSecretValue", SM + "CreateSecret", SM + "PutSecretValue",
                 SM + "ListSecrets", "AmazonSSM.GetParameter", "AmazonSSM.PutParameter"],
    "link": [SM + "GetSecretValue"],
}
LWA_KINDS = [("500", 2), ("503_json", 1), ("429", 1), ("html", 1), ("malformed", 1), ("hang", 1.5),
             ("reset", 1.5), ("close", 1), ("slow", 1.5), ("echo", 1.5), ("refused", 1.5)]


def make_plan(seed, index):
    """One invocation's plan, a function of (seed, index) only."""
    import chaos as c

    rng = random.Random(f"{seed}/{PHASE}/{index}")
    route = c.weighted(rng, [("link", 0.1), ("authorize", 0.25), ("login", 0.2), ("callback", 0.45)])
    deadline_ms = int(rng.uniform(*c.weighted(rng, [((100, 1000), 0.25), ((1000, 3000), 0.35),
                                                    ((3000, 8000), 0.4)])))
    # Whose request: the lane's existing seller (p0), a new profile, or
    # (callback) the existing profile claimed by another seller.
    who = c.weighted(rng, [("existing", 0.55), ("new", 0.35), ("other_seller", 0.1)])
    via = "login" if rng.random() < 0.35 else "link"
    aws, lwa = [], []
    shape = rng.random()
    n_aws = 0 if shape < 0.25 else 1 if shape < 0.65 else 2
    for _ in range(n_aws):
        aws.append({"op": rng.choice(OPS[route]), "when": "after" if rng.random() < 0.35 else "before",
                    "kind": c.weighted(rng, c.AWS_KINDS), "delay_ms": rng.choice([50, 300, 1000, 2500]),
                    "times": rng.choice([1, 1, 2, 3, 10])})
    if route == "callback" and rng.random() < 0.5:
        lwa.append({"kind": c.weighted(rng, LWA_KINDS), "times": rng.choice([1, 1, 2]),
                    "delay_ms": rng.choice([100, 800, 2500]), "piece": rng.randrange(0, 8)})
    marketplace = rng.choice(["DE", "de", "UK", "us", "jp", "XX"])
    return {"route": route, "deadline_ms": deadline_ms, "who": who, "via": via, "aws": aws, "lwa": lwa,
            "marketplace": marketplace}


def lwa_entries(fault, code, client_secret):
    import chaos as c

    kind = fault["kind"]
    if kind == "echo":
        # LWA quoting what it was sent: a piece of the code and of the client secret.
        p = fault["piece"]
        text = (f"The request has an invalid grant parameter : code {code[p:p + 14]} "
                f"for client secret ...{client_secret[16 + p:16 + p + 14]}")
        e = {"status": 400, "body": {"error": "invalid_grant", "error_description": text}}
    elif kind == "refused":
        e = {"status": 400, "body": {"error": "invalid_grant",
                                     "error_description": "The request has an invalid grant parameter : code"}}
    else:
        return c.lwa_entries(fault, None)
    return [e] * fault["times"]


def url_event(path, query, cookie=None):
    e = {"version": "2.0", "rawPath": path, "rawQueryString": query, "headers": {"host": "127.0.0.1"},
         "requestContext": {"http": {"method": "GET", "path": path}}, "isBase64Encoded": False}
    if cookie:
        e["cookies"] = [cookie]
    return e


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def location_of(req):
    """The Location of the stand-in's redirect for `req`."""
    try:
        urllib.request.build_opener(NoRedirect).open(req, timeout=30)
    except urllib.error.HTTPError as e:
        if e.code in (301, 302, 303, 307):
            return e.headers["Location"]
        raise
    raise RuntimeError("the stand-in did not redirect")


class Lane:
    """One seller-onboarding process with its own prefixes, keys, stand-in
    namespace and fault proxy."""

    def __init__(self, ctx, number, seed):
        import chaos as c

        self.ctx, self.number, self.phase = ctx, number, PHASE
        rng = random.Random(f"{seed}/setup/{PHASE}/{number}")
        self.ns = f"chaos-{PHASE}-{number}"
        self.client_id = "amzn1.application-oa2-client.chaos-onb"
        self.client_secret = c.rand_token(rng, "amzn1.oa2-cs.v1.", 40)
        self.key = c.rand_token(rng, "", 64)
        self.open = number % 2 == 1
        base = f"chaos/{PHASE}-{number}"
        self.prefix, self.parameter_prefix = f"{base}/p/", f"/chaos/{PHASE}-{number}/"
        self.proxy, self.proxy_port = c.start_peer(ctx.python, "fault_proxy.py",
                                                   "--upstream", f"http://127.0.0.1:{ctx.moto_port}")
        sm = ctx.sm
        sm.create_secret(Name=f"{base}/signing-key", SecretString=self.key)
        sm.create_secret(Name=f"{base}/app", SecretString=json.dumps(
            {"client_id": self.client_id, "client_secret": self.client_secret}))
        # The existing seller: a profile as onboarding writes it, with a field
        # of the operator's that must survive every re-authorization.
        self.seller = f"A1CHAOS{number}EXISTING"
        self.first_rt = c.rand_token(rng, "Atzr|")
        sm.create_secret(Name=self.prefix + "p0", SecretString=json.dumps(
            {"refresh_token": self.first_rt, "selling_partner_id": self.seller, "region": "eu",
             "authorized_at": "2026-12-01T00:00:00Z", "operator_note": "keep me"}),
            Tags=[{"Key": "spapi:selling-partner-id", "Value": self.seller}, {"Key": "spapi:region", "Value": "eu"}])
        c.http_json("PUT", f"{ctx.lwa}/_control/{self.ns}", {
            "clients": [{"client_id": self.client_id, "client_secrets": [self.client_secret],
                         "refresh_tokens": [self.first_rt]}], "expires_in": 3600})
        self.env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy_port}",
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "LWA_SECRET_PREFIX": self.prefix, "TOKEN_PARAMETER_PREFIX": self.parameter_prefix,
            "LWA_APP_SECRET_ID": f"{base}/app", "SPAPI_APPLICATION_ID": APPLICATION_ID,
            "ONBOARDING_SIGNING_SECRET_ID": f"{base}/signing-key",
            "ONBOARDING_REDIRECT_URI": f"{BASE}/callback", "CONSENT_BASE_URL": ctx.lwa,
            "LWA_TOKEN_URL": f"{ctx.lwa}/ns/{self.ns}/auth/o2/token", "LWA_TIMEOUT_MS": "1500",
            "ONBOARDING_OPEN": "true" if self.open else "false",
            # chaos scans every line at DEBUG; tools/onboarding_timing.py runs at INFO
            "AWS_LAMBDA_LOG_LEVEL": getattr(ctx, "log_level", "DEBUG"),
        }
        self.binary = ctx.onboarding_binary
        self.fn = None
        self.start()

    def start(self):
        self.fn = Function(self.binary, self.env)
        self.fn.take_output()

    def rules(self, rules):
        import chaos as c

        c.http_json("PUT", f"http://127.0.0.1:{self.proxy_port}/_fault/rules", {"rules": rules})

    def profiles(self):
        """profile secret name -> (SecretString, token parameter value or None), from moto directly."""
        sm, ssm, out = self.ctx.sm, self.ctx.ssm, {}
        for page in sm.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": [self.prefix]}]):
            for s in page["SecretList"]:
                name = s["Name"]
                if not name.startswith(self.prefix):
                    continue
                value = sm.get_secret_value(SecretId=name)["SecretString"]
                parameter = self.parameter_prefix + name[len(self.prefix):]
                try:
                    token = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
                except ssm.exceptions.ParameterNotFound:
                    token = None
                out[name] = (value, token)
        return out

    def lwa_state(self):
        import chaos as c

        return c.http_json("GET", f"{self.ctx.lwa}/_control/{self.ns}")["clients"][0]["refresh_tokens"]

    def call(self, event, deadline_ms=20000):
        """(kind, answered_at, answer dict or None, deadline, output)."""
        import chaos as c

        deadline = now_ms() + deadline_ms
        kind, at, body = self.fn.invoke(event, deadline, deadline_ms / 1000 + c.WAIT_PAST_DEADLINE_S)
        answer = None
        if body:
            try:
                answer = json.loads(body.decode("utf-8", "replace"))
            except ValueError:
                answer = {"raw": body.decode("utf-8", "replace")}
        return kind, at, answer, deadline, self.fn.take_output()


def cookie_of(answer):
    for c in (answer or {}).get("cookies") or []:
        return c.split(";", 1)[0]
    return None


def location(answer):
    return ((answer or {}).get("headers") or {}).get("location")


def query_of(url):
    return urllib.parse.urlsplit(url).query


def prepare(lane, plan, index, secrets_seen):
    """The steps before the planned request, without faults: (event, extra
    facts) or None when a step did not go as expected (not a violation:
    counted under `prep`)."""
    route, who, via = plan["route"], plan["who"], plan["via"]
    profile = "p0" if who in ("existing", "other_seller") else f"n{index}"
    seller = {"existing": lane.seller, "new": f"A1CHAOSNEW{lane.number}X{index}",
              "other_seller": f"A1CHAOSOTHER{index}"}[who]
    facts = {"profile": profile, "seller": seller}
    if route == "link":
        return {"action": "link", "profile": profile, "marketplace": plan["marketplace"]}, facts
    now = int(time.time())
    if route == "authorize" or (route == "callback" and via == "link"):
        t = mint_ticket(lane.key, profile, "DE", now + 3600, issued_unix=now)
        secrets_seen.append(t)
        event = url_event("/lambda-url/seller-onboarding/authorize", "ticket=" + t)
        if route == "authorize":
            return event, facts
        kind, _, answer, _, out = lane.call(event)
        facts["prep_output"] = out
        if kind != "response" or answer.get("statusCode") != 302:
            return None
        consent = location(answer)
    else:
        login_uri = f"{BASE}/login"
        q = urllib.parse.urlencode({"login_uri": login_uri, "selling_partner_id": seller})
        login = location_of(urllib.request.Request(f"{lane.ctx.lwa}/{HOST}/appstore/authorize?{q}"))
        event = url_event("/lambda-url/seller-onboarding/login", query_of(login))
        if route == "login":
            return event, facts
        kind, _, answer, _, out = lane.call(event)
        facts["prep_output"] = out
        if kind != "response" or answer.get("statusCode") != 302:
            return None
        consent = location(answer)
        # The confirm page (spends amazon_state), then the same Authorize form.
        urllib.request.urlopen(consent, timeout=30).read()
    cookie = cookie_of(answer)
    if cookie:
        secrets_seen.append(cookie.split("=", 1)[1])
    q = dict(urllib.parse.parse_qsl(query_of(consent)))
    secrets_seen.append(q.get("state", ""))
    form = {k: v for k, v in q.items() if k in ("state", "redirect_uri", "application_id", "version")}
    form["selling_partner_id"] = seller
    approve = f"{lane.ctx.lwa}/{HOST}/apps/authorize/approve"
    callback = location_of(urllib.request.Request(approve, data=urllib.parse.urlencode(form).encode(), method="POST"))
    cq = dict(urllib.parse.parse_qsl(query_of(callback)))
    facts["code"] = cq.get("spapi_oauth_code", "")
    secrets_seen.append(facts["code"])
    return url_event("/lambda-url/seller-onboarding/callback", query_of(callback), cookie), facts


def check_leaks(where, text, known, violate):
    import chaos as c

    found = c.leaks(text, [k for k in known if k and len(k) >= 12])
    if found:
        violate("secret_leak", f"{where}: {found[:3]}")


def run_invocation(ctx, lane, index, stats):
    import chaos as c

    plan = make_plan(ctx.seed, index)
    lwa = ctx.lwa
    lane.rules([])
    c.http_json("DELETE", f"{lwa}/_control/{lane.ns}/script")
    seen = []
    violations = []

    def violate(invariant, detail):
        violations.append((invariant, detail))

    prepared = prepare(lane, plan, index, seen)
    if prepared is None:
        with stats.lock:
            stats.outcomes[f"{PHASE}:prep failed"] += 1
        return
    event, facts = prepared
    check_leaks("log (preparing steps)", facts.get("prep_output", ""), [lane.key, lane.client_secret] + seen, violate)
    if plan["lwa"]:
        script = [e for f in plan["lwa"] for e in lwa_entries(f, facts.get("code", ""), lane.client_secret)]
        c.http_json("POST", f"{lwa}/_control/{lane.ns}/script", {"responses": script})
    before, rts_before = lane.profiles(), set(lane.lwa_state())
    lane.rules(plan["aws"])
    kind, at, answer, deadline, output = lane.call(event, plan["deadline_ms"])
    applied = c.http_json("GET", f"http://127.0.0.1:{lane.proxy_port}/_fault/log")["applied"]
    lane.rules([])
    left = c.http_json("DELETE", f"{lwa}/_control/{lane.ns}/script")["cleared"]
    after, rts_after = lane.profiles(), lane.lwa_state()
    alive = lane.fn.alive()
    issued = [t for t in rts_after if t not in rts_before]
    lwa_consumed = sum(f["times"] for f in plan["lwa"]) - left
    faulted = bool(applied) or lwa_consumed > 0

    # the answer
    if kind is None:
        outcome = "no_answer"
        violate("no_answer", f"no answer {c.WAIT_PAST_DEADLINE_S} s past the deadline")
    else:
        if at - deadline > 0:
            violate("deadline", f"answered {at - deadline:.0f} ms after the deadline ({plan['deadline_ms']} ms allowed)")
        if plan["route"] == "link":
            outcome = "link " + (answer.get("errorType", "?") if kind == "error" else "minted")
            if kind == "error" and answer.get("errorType") != "InvalidEvent":
                violate("bad_status", f"link: errorType {str(answer.get('errorType'))[:60]!r}")
            if kind == "response":
                t = urllib.parse.parse_qs(query_of(answer.get("url", ""))).get("ticket", [""])[0]
                seen.append(t)
        else:
            status = answer.get("statusCode") if kind == "response" else None
            outcome = f"{plan['route']} {status if status is not None else 'error ' + str(answer.get('errorType'))}"
            if status not in STATUSES:
                violate("bad_status", f"{plan['route']}: {kind} {str(status or answer)[:80]}")
            elif status >= 500 and not faulted and plan["deadline_ms"] >= 3000:
                violate("bad_status", f"{plan['route']}: {status} without any fault injected")
            # secrets in the page and headers (state only in Location, the
            # cookie only in Set-Cookie)
            headers = dict(answer.get("headers") or {})
            headers.pop("location", None)
            check_leaks("page", str(answer.get("body", "")) + json.dumps(headers), [lane.key, lane.client_secret]
                        + seen + issued + list(rts_before), violate)
            loc = location(answer) or ""
            check_leaks("Location", loc, [lane.key, lane.client_secret, facts.get("code", "")] + issued
                        + list(rts_before), violate)
    # secrets in the log (the operator's link answer carries its ticket by design)
    check_leaks("log", output, [lane.key, lane.client_secret] + seen + issued + list(rts_before), violate)
    if not alive:
        violate("process_died", f"exit status {lane.fn.proc.returncode}")

    # nothing lost
    for name, (value, token) in before.items():
        if name not in after:
            violate("profile_lost", f"{name} was deleted")
            continue
        new_value, new_token = after[name]
        if new_value == value:
            if not issued and new_token != token:
                violate("profile_lost", f"{name}: no exchange succeeded but its token parameter changed")
            continue
        if not issued:
            violate("profile_lost", f"{name}: no exchange succeeded but the secret changed")
            continue
        try:
            old_doc, new_doc = json.loads(value), json.loads(new_value)
        except ValueError:
            violate("profile_lost", f"{name}: no longer JSON")
            continue
        if new_doc.get("refresh_token") not in issued:
            violate("profile_lost", f"{name}: refresh token replaced by one no exchange issued")
        for k, v in old_doc.items():
            if k not in ("refresh_token", "authorized_at", "onboarding_used_links") and new_doc.get(k) != v:
                violate("profile_lost", f"{name}: field {k} not kept")
    for name in after:
        if name not in before:
            try:
                rt = json.loads(after[name][0]).get("refresh_token")
            except ValueError:
                rt = None
            if rt not in issued:
                violate("profile_lost", f"{name} created without a refresh token from this exchange")

    c.record(ctx, stats, lane, PHASE, index, plan, outcome, applied, plan["lwa"], left, kind, at, deadline,
             violations)
    if kind is None or not alive:
        lane.fn.stop()
        lane.start()


def run_phase(ctx, indices, lanes, stats):
    import threading

    if not indices:
        return
    ctx.onboarding_binary = os.path.join(os.path.dirname(ctx.binary), "seller-onboarding")
    if not os.path.exists(ctx.onboarding_binary):
        raise SystemExit(f"chaos: {ctx.onboarding_binary} not found (cargo build --bin seller-onboarding)")
    lanes_ = [Lane(ctx, n, ctx.seed) for n in range(min(lanes, len(indices)))]
    # Warm-up without faults: a debug build's first AWS call builds its HTTPS client.
    for lane in lanes_:
        t = mint_ticket(lane.key, "p0", "DE", int(time.time()) + 600, issued_unix=int(time.time()))
        lane.call(url_event("/lambda-url/seller-onboarding/authorize", "ticket=" + t))

    def work(lane, mine):
        for i in mine:
            run_invocation(ctx, lane, i, stats)

    threads = []
    for n, lane in enumerate(lanes_):
        t = threading.Thread(target=work, args=(lane, indices[n::len(lanes_)]), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    for lane in lanes_:
        lane.fn.stop()
        lane.proxy.kill()

