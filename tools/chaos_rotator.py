"""The fault-injection suite's `client-secret-rotator` phase (registered in
tools/chaos.py as `--phase rotator`, `--rotator-invocations N`).

The real rotator binary runs under the Lambda Runtime API (tools/runtime_api.py),
talking to moto's Secrets Manager through the fault proxy (tools/fault_proxy.py)
and to the stand-in playing LWA and SP-API Application Management
(tools/lwa_standin.py, tools/spapi_appmgmt.py). This driver plays Lambda's SQS
event source mapping itself: it drains the lane's queue (moto) into its own
inbox, hands batches to the function (shuffled, with duplicates, late copies of
old new-secret notifications, foreign and malformed bodies, fresh expiry
notices), deletes what the answer does not list in `batchItemFailures`, and
moves a message that failed 10 times to its dead-letter list.

Each invocation's plan is a function of (seed, index): a direct `status`,
`check`, `rotate` or forced `rotate` with a 0.3 to 8 s deadline, or an SQS
batch with a 16 to 24 s one (sometimes 2 to 14 s: records are then not
started, by design); AWS faults on the rotator's four Secrets Manager calls;
LWA faults on its grantless token requests; SP-API faults on the rotate call
(429, 5xx, 403, "not enrolled"); and how long LWA takes to accept a new
secret (0 to 8 s).

Invariants, checked after every invocation against moto and the stand-in
directly (never through the proxy):

  deadline, no_answer, process_died   as in the other phases
  bad_error_type      an error carries one of the rotator's errorTypes
  bad_batch_answer    every itemIdentifier is a messageId of the batch
  credentials_lost    AWSCURRENT still parses, keeps client_id and the other
                      fields, and its client_secret is one LWA issued
  unverified_current  AWSCURRENT's client_secret is the previous current one,
                      or a newer one LWA accepted (a grantless request with it
                      succeeded after Amazon's acceptance delay): never an
                      unverified one, never an older one
  secret_lost         every new secret Amazon issued is installed (or was,
                      or a newer one is), waits as AWSPENDING, or is still in
                      a message not acknowledged (the queue or the DLQ)
  secret_leak         no client secret (old, new, foreign), refresh token or
                      grantless token, nor a 12+ character piece of one, in
                      any answer or log line
"""

from __future__ import annotations

import calendar
import json
import random
import time

import chaos as base
from runtime_api import Function, now_ms

ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"
OPS = ["secretsmanager.GetSecretValue", "secretsmanager.PutSecretValue",
       "secretsmanager.UpdateSecretVersionStage", "secretsmanager.ListSecretVersionIds"]
LWA_KINDS = [("500", 2), ("503_json", 1), ("429", 1.5), ("html", 1), ("malformed", 1), ("hang", 1),
             ("reset", 1.5), ("close", 1), ("slow", 1.5), ("echo", 1.5), ("invalid_client", 0.5)]
SPAPI_FAULTS = [({"status": 429, "headers": {"Retry-After": "1"}}, 2), ({"status": 500}, 2),
                ({"status": 503}, 1.5), ({"status": 403}, 1), ({"not_enrolled": True}, 1)]
ERROR_TYPES = {
    "RotationNotEnrolled", "RotationFailed", "LwaInvalidGrant", "LwaInvalidClient", "LwaUnauthorizedClient",
    "LwaInvalidScope", "LwaInvalidRequest", "LwaUnsupportedGrantType", "LwaAccessDenied", "LwaUnavailable",
    "LwaMalformedResponse", "CredentialsInvalid", "CredentialsUnavailable", "InvalidEvent",
}
INVARIANTS = ("bad_batch_answer", "unverified_current", "secret_lost")
MAX_RECEIVES = 10
BATCH_SIZE = 5
FOREIGN = "amzn1.application-oa2-client.someoneelse"


def make_plan(seed, index):
    """One invocation's plan, a function of (seed, index) only."""
    rng = random.Random(f"{seed}/rotator/{index}")
    event = base.weighted(rng, [("sqs", 0.5), ("check", 0.2), ("status", 0.1), ("rotate", 0.08),
                                ("rotate_force", 0.12)])
    if event == "sqs":
        span = base.weighted(rng, [((2000, 14000), 0.12), ((16000, 24000), 0.88)])
    else:
        span = base.weighted(rng, [((300, 2000), 0.2), ((2000, 8000), 0.8)])
    plan = {"event": event, "deadline_ms": int(rng.uniform(*span)), "aws": [], "lwa": [], "spapi": [],
            "accept_delay_s": rng.choice([0, 0, 0, 3, 8]),
            "batch": {"shuffle": rng.random() < 0.5, "duplicate": rng.random() < 0.3,
                      "stale": rng.random() < 0.25, "foreign": rng.random() < 0.15,
                      "malformed": rng.random() < 0.1,
                      "expiry_days": rng.choice([None, None, None, 5, 20, 45, 90])}}
    shape = rng.random()
    n_aws = 0 if shape < 0.3 else 1 if shape < 0.6 else 0 if shape < 0.8 else 2
    for _ in range(n_aws):
        plan["aws"].append({"op": rng.choice(OPS), "when": "after" if rng.random() < 0.35 else "before",
                            "kind": base.weighted(rng, base.AWS_KINDS),
                            "delay_ms": rng.choice([50, 300, 1000, 2500]), "times": rng.choice([1, 1, 2, 3, 10])})
    if 0.55 <= shape < 0.9:
        # LWA echoes only what a request sent: "echo" (a piece of the client
        # secret) only where every request sends the current one.
        kinds = LWA_KINDS if event.startswith("rotate") else [k for k in LWA_KINDS if k[0] != "echo"]
        plan["lwa"].append({"kind": base.weighted(rng, kinds), "times": rng.choice([1, 1, 2, 3, 5]),
                            "delay_ms": rng.choice([100, 800, 2500]), "piece": rng.randrange(0, 16)})
    if rng.random() < 0.3:
        entry = base.weighted(rng, SPAPI_FAULTS)
        plan["spapi"] = [entry] * rng.choice([1, 1, 2, 3])
    return plan


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class RotatorLane:
    """One rotator process with its own app secret, queue, stand-in namespace
    and fault proxy; its invocations run one after another."""

    def __init__(self, ctx, number, seed):
        self.ctx, self.number, self.phase = ctx, number, "rotator"
        rng = random.Random(f"{seed}/setup/rotator/{number}")
        self.ns = f"chaos-rotator-{number}"
        self.client_id = f"amzn1.application-oa2-client.chaosrot{number}"
        self.client_secret = base.rand_token(rng, "amzn1.oa2-cs.v1.", 40)
        self.refresh_token = base.rand_token(rng, "Atzr|")
        self.secret_id = f"chaos/rotator-{number}"
        self.proxy, self.proxy_port = base.start_peer(ctx.python, "fault_proxy.py",
                                                      "--upstream", f"http://127.0.0.1:{ctx.moto_port}")
        self.queue_url = ctx.sqs.create_queue(QueueName=f"chaos-rotator-{number}")["QueueUrl"]
        self.queue_arn = f"arn:aws:sqs:us-east-1:123456789012:chaos-rotator-{number}"
        ctx.sm.create_secret(Name=self.secret_id, SecretString=json.dumps({
            "client_id": self.client_id, "client_secret": self.client_secret, "refresh_token": self.refresh_token,
            "client_secret_expires_at": rfc3339(time.time() + rng.choice([10, 25, 40]) * 86400), "note": [1, 2]}))
        base.http_json("PUT", f"{ctx.lwa}/_control/{self.ns}", {
            "clients": [{"client_id": self.client_id, "client_secrets": [self.client_secret],
                         "refresh_tokens": [], "scopes": [ROTATION_SCOPE]}], "expires_in": 3600})
        base.http_json("PUT", f"{ctx.lwa}/_control/{self.ns}/spapi", {
            "queue_url": self.queue_url, "sqs_endpoint": f"http://127.0.0.1:{ctx.moto_port}",
            "overlap_seconds": 7 * 86400, "accept_delay_seconds": 0})
        # The stand-in's first delivery imports boto3 (a second or so): pay
        # for it now, not inside a rotate call's answer.
        base.http_json("POST", f"{ctx.lwa}/_control/{self.ns}/spapi/send-expiry",
                       {"client_id": FOREIGN, "expires_at": rfc3339(time.time())})
        ctx.sqs.purge_queue(QueueUrl=self.queue_url)
        self.env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy_port}",
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "LWA_CREDENTIALS_SECRET_ID": self.secret_id,
            "LWA_TOKEN_URL": f"{ctx.lwa}/ns/{self.ns}/auth/o2/token",
            "SPAPI_ENDPOINT": f"{ctx.lwa}/ns/{self.ns}",
            "NOTIFICATION_QUEUE_ARN": self.queue_arn,
            "ROTATE_BEFORE_DAYS": "30", "LWA_TIMEOUT_MS": "1500",
        }
        self.inbox = []  # {"id", "receipt", "body", "receives"}: received, not acknowledged
        self.dlq = []
        self.acked = []  # bodies acknowledged (late copies are re-delivered from here)
        self.delays = {}  # new secret -> seconds LWA waits before accepting it
        self.last_current = self.client_secret
        self.ever_current = {self.client_secret}
        self.seq = 0
        self.fn = None
        self.start()

    def start(self):
        self.fn = Function(self.ctx.rotator_binary, self.env)
        self.fn.take_output()

    # chaos.lwa_entries' "echo" quotes pieces of these
    def refresh_token_now(self):
        return self.refresh_token

    def drain(self):
        """Moves every visible message of the queue (moto) into the inbox."""
        while True:
            got = self.ctx.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                               VisibilityTimeout=43200, WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return
            for m in got:
                self.inbox.append({"id": m["MessageId"], "receipt": m["ReceiptHandle"], "body": m["Body"],
                                   "receives": 0})

    def stage(self, stage):
        try:
            return self.ctx.sm.get_secret_value(SecretId=self.secret_id, VersionStage=stage)["SecretString"]
        except self.ctx.sm.exceptions.ResourceNotFoundException:
            return None


def lwa_entries(fault, lane):
    """chaos.lwa_entries, but "echo" quotes (lower-cased, percent-encoded, and
    bare) pieces of the client secret the rotator sends now: the current one."""
    if fault["kind"] != "echo":
        return base.lwa_entries(fault, lane)
    cs, p = json.loads(lane.stage("AWSCURRENT"))["client_secret"], fault["piece"]
    text = (f"The request has an invalid parameter : client_secret amzn1.oa2-cs.v1%2e{cs[16 + p:16 + p + 20].lower()} "
            f"for client secret ...{cs[20 + p:20 + p + 14]}")
    return [{"status": 400, "body": {"error": "invalid_request", "error_description": text}}] * fault["times"]


def record_event(m, receive_count):
    return {"messageId": m["id"], "receiptHandle": m.get("receipt", "chaos"), "body": m["body"],
            "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": str(int(now_ms())),
                           "SenderId": "437568002678", "ApproximateFirstReceiveTimestamp": str(int(now_ms()))},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:chaos", "awsRegion": "us-east-1"}


def build_batch(lane, plan, rng):
    """The batch's records: (entry, record); entry None = an extra the driver made up."""
    b = plan["batch"]
    chosen = lane.inbox[:BATCH_SIZE]
    if b["shuffle"]:
        chosen = rng.sample(lane.inbox, min(BATCH_SIZE, len(lane.inbox)))
    out = [(m, None) for m in chosen]
    if b["duplicate"] and chosen:
        out.append((rng.choice(chosen), None))
    lane.seq += 1
    if b["stale"] and lane.acked:
        out.append((None, {"id": f"late-{lane.number}-{lane.seq}", "body": rng.choice(lane.acked)}))
    if b["foreign"]:
        foreign = {"notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET", "payload": {
            "applicationOAuthClientNewSecret": {"clientId": FOREIGN, "newClientSecret": lane.ctx.foreign_secret,
                                                "newClientSecretExpiryTime": rfc3339(time.time() + 400 * 86400)}},
            "notificationMetadata": {"notificationId": "foreign"}}
        if rng.random() < 0.5:
            del foreign["payload"]["applicationOAuthClientNewSecret"]["newClientSecretExpiryTime"]
        out.append((None, {"id": f"foreign-{lane.number}-{lane.seq}", "body": json.dumps(foreign)}))
    if b["malformed"]:
        out.append((None, {"id": f"bad-{lane.number}-{lane.seq}", "body": "{\"Message\": \"hello\""}))
    if b["shuffle"]:
        rng.shuffle(out)
    return out


def run_invocation(ctx, lane, index, stats):
    plan = make_plan(ctx.seed, index)
    rng = random.Random(f"{ctx.seed}/rotator/{index}/batch")
    lwa, proxy = ctx.lwa, f"http://127.0.0.1:{lane.proxy_port}"
    base.http_json("DELETE", f"{lwa}/_control/{lane.ns}/script")
    base.http_json("PUT", f"{lwa}/_control/{lane.ns}/spapi", {"script": plan["spapi"],
                                                            "accept_delay_seconds": plan["accept_delay_s"]})
    rotations_before = len(base.http_json("GET", f"{lwa}/_control/{lane.ns}/spapi")["rotations"])
    batch = []
    if plan["event"] == "sqs":
        if plan["batch"]["expiry_days"] is not None:
            base.http_json("POST", f"{lwa}/_control/{lane.ns}/spapi/send-expiry", {
                "client_id": lane.client_id, "expires_at": rfc3339(time.time() + plan["batch"]["expiry_days"] * 86400)})
        lane.drain()
        batch = build_batch(lane, plan, rng)
        for m in {id(m): m for m, _ in batch if m is not None}.values():
            m["receives"] += 1
        event = {"Records": [record_event(m or extra, (m or {}).get("receives", 1)) for m, extra in batch]}
    else:
        event = {"check": {"action": "check"}, "status": {"action": "status"}, "rotate": {"action": "rotate"},
                 "rotate_force": {"action": "rotate", "force": True}}[plan["event"]]
    base.http_json("PUT", f"{proxy}/_fault/rules", {"rules": plan["aws"]})
    script = [e for f in plan["lwa"] for e in lwa_entries(f, lane)]
    if script:
        base.http_json("POST", f"{lwa}/_control/{lane.ns}/script", {"responses": script})
    deadline = now_ms() + plan["deadline_ms"]
    kind, at, body = lane.fn.invoke(event, deadline, plan["deadline_ms"] / 1000 + base.WAIT_PAST_DEADLINE_S)
    applied = base.http_json("GET", f"{proxy}/_fault/log")["applied"]
    left = base.http_json("DELETE", f"{lwa}/_control/{lane.ns}/script")["cleared"]
    base.http_json("PUT", f"{proxy}/_fault/rules", {"rules": []})
    spapi = base.http_json("GET", f"{lwa}/_control/{lane.ns}/spapi")
    base.http_json("PUT", f"{lwa}/_control/{lane.ns}/spapi", {"script": []})
    spapi_used = plan["spapi"][:len(plan["spapi"]) - len(spapi["settings"]["script"])]
    for r in spapi["rotations"][rotations_before:]:
        lane.delays[r["new_client_secret"]] = plan["accept_delay_s"]
    output = lane.fn.take_output()
    alive = lane.fn.alive()
    violations = []

    def violate(invariant, detail):
        violations.append((invariant, detail))

    text = body.decode("utf-8", "replace") if body else ""
    answer = {}
    if kind is None:
        outcome = "no_answer"
        violate("no_answer", f"no answer {base.WAIT_PAST_DEADLINE_S} s past the deadline")
    else:
        try:
            answer = json.loads(text)
        except ValueError:
            answer = {}
        if kind == "error":
            outcome = answer.get("errorType", "?")
            if outcome not in ERROR_TYPES:
                violate("bad_error_type", f"errorType {outcome[:80]!r}")
        elif plan["event"] == "sqs":
            n = len(answer.get("batchItemFailures", []))
            outcome = "sqs:all done" if n == 0 else "sqs:some retried"
        else:
            outcome = f"{plan['event']}:ok"
        if at - deadline > 0:
            violate("deadline", f"answered {at - deadline:.0f} ms after the deadline ({plan['deadline_ms']} ms allowed)")
    if not alive:
        violate("process_died", f"exit status {lane.fn.proc.returncode}")

    # the event source mapping's side
    if plan["event"] == "sqs":
        ids = {(m or extra)["id"] for m, extra in batch}
        failed = None
        if kind == "response":
            items = answer.get("batchItemFailures")
            if not isinstance(items, list):
                violate("bad_batch_answer", "no batchItemFailures list")
            else:
                failed = {i.get("itemIdentifier") for i in items if isinstance(i, dict)}
                strays = failed - ids
                if strays:
                    violate("bad_batch_answer", f"itemIdentifiers not in the batch: {sorted(map(str, strays))[:3]}")
                    failed = None  # Lambda fails the whole batch
        for m, _ in batch:
            if m is None or m not in lane.inbox:
                continue
            if failed is not None and m["id"] not in failed:
                lane.ctx.sqs.delete_message(QueueUrl=lane.queue_url, ReceiptHandle=m["receipt"])
                lane.inbox.remove(m)
                lane.acked.append(m["body"])
            elif m["receives"] >= MAX_RECEIVES:
                lane.inbox.remove(m)
                lane.dlq.append(m)
    lane.drain()  # a rotate call's new-secret notification

    # the app secret
    state = base.http_json("GET", f"{lwa}/_control/{lane.ns}")
    issued = next(c["client_secrets"] for c in state["clients"] if c["client_id"] == lane.client_id)
    rotations = spapi["rotations"]
    order = {r["new_client_secret"]: i for i, r in enumerate(rotations)}
    order[lane.client_secret] = -1
    current_text, pending_text = lane.stage("AWSCURRENT"), lane.stage("AWSPENDING")
    try:
        cur = json.loads(current_text)
        cur_secret = cur["client_secret"]
        if cur.get("client_id") != lane.client_id or cur.get("refresh_token") != lane.refresh_token \
                or cur.get("note") != [1, 2]:
            violate("credentials_lost", "AWSCURRENT lost its client_id or another field")
        if cur_secret not in issued:
            violate("credentials_lost", "AWSCURRENT holds a client secret LWA never issued")
        elif cur_secret != lane.last_current:
            if order.get(cur_secret, -1) < order.get(lane.last_current, -1):
                violate("unverified_current", "an older client secret replaced a newer one as AWSCURRENT")
            accepted_from = next((calendar.timegm(time.strptime(r["at"][:19], "%Y-%m-%dT%H:%M:%S"))
                                  for r in rotations if r["new_client_secret"] == cur_secret), 0)
            accepted_from += lane.delays.get(cur_secret, 0) - 1
            requests = base.http_json("GET", f"{lwa}/_control/{lane.ns}/requests")["requests"]
            verified = any(r["form"].get("client_secret") == cur_secret
                           and r["form"].get("grant_type") == "client_credentials"
                           and r["received_at"] >= accepted_from for r in requests)
            if not verified:
                violate("unverified_current", "AWSCURRENT holds a new client secret LWA never accepted")
            lane.last_current = cur_secret
            lane.ever_current.add(cur_secret)
    except (ValueError, TypeError, KeyError):
        violate("credentials_lost", "AWSCURRENT is no longer the app's JSON")
        cur_secret = None
    pending_secret = None
    if pending_text:
        try:
            pending_secret = json.loads(pending_text).get("client_secret")
        except (ValueError, AttributeError):
            pass
    newest_installed = max((order.get(s, -1) for s in lane.ever_current), default=-1)
    for _ in range(20):  # a delivery may still be on its way (the rotate call was cut off)
        held = " ".join(m["body"] for m in lane.inbox + lane.dlq)
        missing = [i for i, r in enumerate(rotations) if not (
            r["new_client_secret"] in lane.ever_current or i < newest_installed
            or r["new_client_secret"] == pending_secret or r["new_client_secret"] in held)]
        if not missing:
            break
        time.sleep(0.1)
        lane.drain()
    for i in missing:
        violate("secret_lost", f"new client secret of rotation {i} is neither installed, pending nor queued")

    # secrets in any output
    known = list(issued) + [lane.refresh_token, ctx.foreign_secret]
    for where, t in (("answer", text), ("log", output)):
        found = base.leaks(t, known)
        if found:
            violate("secret_leak", f"{where}: {found[:3]}")

    record(ctx, stats, lane, index, plan, outcome, applied, left, spapi_used, kind, at, deadline, violations)
    if kind is None or not alive:
        lane.fn.stop()
        lane.start()


def record(ctx, stats, lane, index, plan, outcome, applied, lwa_left, spapi_used, kind, at, deadline, violations):
    with stats.lock:
        stats.invocations["rotator"] += 1
        stats.outcomes[f"rotator:{outcome}"] += 1
        for a in applied:
            stats.faults[f"aws {a['kind']} {a['when']}"] += 1
        consumed = sum(f["times"] for f in plan["lwa"]) - lwa_left
        for f in plan["lwa"]:
            n = min(f["times"], consumed)
            consumed -= n
            if n:
                stats.faults[f"lwa {f['kind']}"] += n
        for e in spapi_used:
            stats.faults["spapi " + ("not_enrolled" if e.get("not_enrolled") else str(e["status"]))] += 1
        if kind is not None:
            over = at - deadline
            if over > stats.worst_overrun_ms:
                stats.worst_overrun_ms, stats.worst_overrun_at = over, ("rotator", index)
            if over > 0:
                stats.overruns += 1
            if stats.closest_ms is None or -over < stats.closest_ms:
                stats.closest_ms = -over
        for inv, detail in violations:
            stats.violations[inv] += 1
            if len(stats.examples) < ctx.max_examples:
                stats.examples.append(("rotator", index, inv, detail))
                shown = {k: plan[k] for k in ("event", "deadline_ms", "aws", "lwa", "spapi", "accept_delay_s")}
                print(f"VIOLATION {inv}: {detail}\n  seed {ctx.seed}, rotator invocation {index} "
                      f"(lane {lane.number}); plan {json.dumps(shown)}\n"
                      f"  reproduce: .venv/bin/python tools/chaos.py --seed {ctx.seed} --phase rotator --only {index}",
                      flush=True)


def run_phase(ctx, indices, lanes, stats):
    """Runs the rotator invocations `indices` over `lanes` lanes."""
    import os
    import threading

    import boto3

    if not indices:
        return
    ctx.rotator_binary = os.path.join(os.path.dirname(ctx.binary), "client-secret-rotator")
    if not os.path.exists(ctx.rotator_binary):
        raise SystemExit(f"chaos: {ctx.rotator_binary} not found (cargo build --bins)")
    ctx.sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{ctx.moto_port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    ctx.foreign_secret = base.rand_token(random.Random(f"{ctx.seed}/foreign"), "amzn1.oa2-cs.v1.", 40)
    lanes_ = [RotatorLane(ctx, n, ctx.seed) for n in range(min(lanes, len(indices)))]
    # The first invocation of a lane runs without faults (a debug build's
    # first AWS call spends a few hundred ms building its HTTPS client).
    for lane in lanes_:
        lane.fn.invoke({"action": "status"}, now_ms() + 20000, 40)
        lane.fn.take_output()

    def work(lane, mine):
        for i in mine:
            run_invocation(ctx, lane, i, stats)

    threads = [threading.Thread(target=work, args=(lane, indices[n::len(lanes_)]), daemon=True)
               for n, lane in enumerate(lanes_)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for lane in lanes_:
        lane.fn.stop()
        lane.proxy.kill()
    with stats.lock:
        stats.outcomes["rotator:rotations by SP-API"] += sum(
            len(base.http_json("GET", f"{ctx.lwa}/_control/{lane.ns}/spapi")["rotations"]) for lane in lanes_)
        stats.outcomes["rotator:messages in the DLQ"] += sum(len(lane.dlq) for lane in lanes_)
        stats.outcomes["rotator:messages still queued"] += sum(len(lane.inbox) for lane in lanes_)
