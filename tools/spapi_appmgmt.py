"""SP-API Application Management for the LWA stand-in (tools/lwa_standin.py).

Plays ``POST /applications/2023-11-30/clientSecret`` the way Amazon documents it
("Rotate your application's client secret", Application Management API v2023-11-30):
the ``x-amz-access-token`` header must hold an access token that the stand-in issued
with ``grant_type=client_credentials`` and scope
``sellingpartnerapi::client_credential:rotation``; ``204`` on success, after which a
new client secret is issued for that client, the old ones stay valid for an overlap
(7 days by default), and the ``APPLICATION_OAUTH_CLIENT_NEW_SECRET`` notification is
sent to the configured SQS queue (moto) exactly as Amazon would send it. Standard
library plus boto3 (imported only to deliver notifications).

Routes (namespace ``default``, or ``/ns/<ns>/...`` like the token endpoint):
    POST /applications/2023-11-30/clientSecret
    PUT  /_control/<ns>/spapi      settings (merged into the current ones):
         {"enrolled": true, "overlap_seconds": 604800, "accept_delay_seconds": 0,
          "new_secret_days": 180, "queue_url": null, "sqs_endpoint": null,
          "region": "us-east-1", "script": []}
    GET  /_control/<ns>/spapi      settings, rotations (with the issued secrets: this is
                                   a test peer) and the rotate requests received
    POST /_control/<ns>/spapi/expire-old    the overlap is over: old secrets refused now
    POST /_control/<ns>/spapi/accept-new    delayed new secrets accepted now
    POST /_control/<ns>/spapi/send-expiry   {"client_id": "...", "expires_at": "RFC 3339"}
                                            sends APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY

Script entries (each rotate call pops the first): {"status": 429|500|503|403, ...}
(an SP-API error body is generated), or {"not_enrolled": true}.

Secrets the overlap retired, and new secrets inside their acceptance delay, are
refused by the token endpoint with ``invalid_client``, as LWA does.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
import time
import uuid

ROTATE_PATH = "/applications/2023-11-30/clientSecret"
ROTATION_SCOPE = "sellingpartnerapi::client_credential:rotation"
NOT_ENROLLED = "Application is not enrolled for rotation notification"
DEFAULTS = {
    "enrolled": True,
    "overlap_seconds": 7 * 86400,
    "accept_delay_seconds": 0,
    "new_secret_days": 180,
    "queue_url": None,
    "sqs_endpoint": None,
    "region": "us-east-1",
    "script": [],
}
_LOCK = threading.Lock()


class AppState:
    def __init__(self):
        self.settings = json.loads(json.dumps(DEFAULTS))
        self.tokens = {}  # access token -> (client_id, scopes)
        self.retired = {}  # (client_id, secret) -> refused from this time on
        self.not_before = {}  # (client_id, secret) -> accepted from this time on
        self.rotations = []
        self.requests = []


def _state(ns):
    st = getattr(ns, "appmgmt", None)
    if st is None:
        st = ns.appmgmt = AppState()
    return st


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _errors(code, message):
    return {"errors": [{"code": code, "message": message, "details": ""}]}


def handles(path):
    """True for the rotate path (any namespace) and the spapi control routes."""
    parts = path.split("/")
    if path == ROTATE_PATH:
        return True
    if len(parts) >= 3 and parts[1] == "ns" and "/" + "/".join(parts[3:]) == ROTATE_PATH:
        return True
    return len(parts) >= 4 and parts[1] == "_control" and parts[3] == "spapi"


def install(handler_cls):
    """Wrap the token endpoint: refuse retired and not-yet-active secrets; remember
    grantless tokens (client, scopes) for the rotate call."""
    original = handler_cls._token_answer

    def _token_answer(self, ns_name, form):
        cid, csecret = form.get("client_id"), form.get("client_secret")
        now = time.time()
        with self.server.state.lock:
            st = _state(self.server.state.get(ns_name))
            refused = (cid, csecret) in st.retired and now >= st.retired[(cid, csecret)]
            refused = refused or ((cid, csecret) in st.not_before and now < st.not_before[(cid, csecret)])
        if refused:
            return 401, {"error_description": "Client authentication failed", "error": "invalid_client"}
        status, doc = original(self, ns_name, form)
        if status == 200 and form.get("grant_type") == "client_credentials":
            with self.server.state.lock:
                st = _state(self.server.state.get(ns_name))
                st.tokens[doc["access_token"]] = (cid, (form.get("scope") or "").split())
        return status, doc

    handler_cls._token_answer = _token_answer


def dispatch(handler, path, body):
    parts = path.split("/")
    if parts[1] == "_control":
        return _control(handler, parts[2], "/".join(parts[4:]), body)
    ns_name = parts[2] if parts[1] == "ns" else "default"
    return _rotate(handler, ns_name)


def _rotate(h, ns_name):
    if h.command != "POST":
        return h._json(405, _errors("MethodNotAllowed", "Use POST"), {"Allow": "POST"})
    state = h.server.state
    token = h.headers.get("x-amz-access-token") or ""
    with state.lock:
        ns = state.get(ns_name)
        st = _state(ns)
        st.requests.append({"received_at": time.time(), "has_token": bool(token)})
        entry = st.settings["script"].pop(0) if st.settings["script"] else None
        owner = st.tokens.get(token)
        settings = dict(st.settings)
    rid = {"x-amzn-RequestId": str(uuid.uuid4())}
    if entry is not None:
        if entry.get("not_enrolled"):
            return h._json(400, _errors("InvalidInput", NOT_ENROLLED), rid)
        status = int(entry.get("status", 500))
        code = {429: "QuotaExceeded", 403: "Unauthorized", 500: "InternalFailure", 503: "ServiceUnavailable"}.get(
            status, "InvalidInput"
        )
        headers = dict(rid, **(entry.get("headers") or {}))
        return h._json(status, _errors(code, entry.get("message", f"scripted {status}")), headers)
    if owner is None or ROTATION_SCOPE not in owner[1]:
        return h._json(403, _errors("Unauthorized", "Access to requested resource is denied."), rid)
    if not settings["enrolled"]:
        return h._json(400, _errors("InvalidInput", NOT_ENROLLED), rid)
    client_id = owner[0]
    now = time.time()
    new = "amzn1.oa2-cs.v1." + secrets.token_hex(32)
    with state.lock:
        ns = state.get(ns_name)
        st = _state(ns)
        client = next((c for c in ns.clients if c.client_id == client_id), None)
        if client is None:
            return h._json(403, _errors("Unauthorized", "Access to requested resource is denied."), rid)
        for old in client.client_secrets:
            st.retired.setdefault((client_id, old), now + settings["overlap_seconds"])
        client.client_secrets.append(new)
        if settings["accept_delay_seconds"]:
            st.not_before[(client_id, new)] = now + settings["accept_delay_seconds"]
        expires = now + settings["new_secret_days"] * 86400
        rotation = {"client_id": client_id, "new_client_secret": new, "at": _iso(now), "expires_at": _iso(expires)}
        st.rotations.append(rotation)
    body = {
        "notificationVersion": "1.0",
        "notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET",
        "payloadVersion": "2023-11-30",
        "eventTime": _iso(now),
        "payload": {
            "applicationOAuthClientNewSecret": {
                "clientId": client_id,
                "newClientSecret": new,
                "newClientSecretExpiryTime": _iso(expires),
                "oldClientSecretExpiryTime": _iso(now + settings["overlap_seconds"]),
            }
        },
        "notificationMetadata": _metadata(now),
    }
    _deliver(settings, body)
    h._send(204, b"", None, rid)


def _metadata(now):
    return {
        "applicationId": "amzn1.sp.solution.00000000-0000-0000-0000-000000000000",
        "subscriptionId": str(uuid.uuid4()),
        "publishTime": _iso(now),
        "notificationId": str(uuid.uuid4()),
    }


def _deliver(settings, body):
    """Send the notification to the configured queue (moto), if any."""
    if not settings.get("queue_url"):
        return
    endpoint = settings.get("sqs_endpoint")
    region = settings.get("region") or "us-east-1"
    with _SQS_LOCK:
        sqs = _SQS_CLIENTS.get((endpoint, region))
        if sqs is None:
            import boto3  # the venv has it; only needed when a queue is configured

            sqs = boto3.client(
                "sqs",
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            _SQS_CLIENTS[(endpoint, region)] = sqs
    sqs.send_message(QueueUrl=settings["queue_url"], MessageBody=json.dumps(body))


# One SQS client per (endpoint, region): creating one takes a while, and the
# rotate call answers only after the notification is queued.
_SQS_CLIENTS = {}
_SQS_LOCK = threading.Lock()


def _control(h, ns_name, sub, body):
    state = h.server.state
    method = h.command
    if sub == "":
        if method == "PUT":
            doc = h._read_json(body)
            unknown = sorted(set(doc) - set(DEFAULTS))
            if unknown:
                return h._json(400, {"error": "bad_request", "message": f"unknown settings: {unknown}"})
            with state.lock:
                st = _state(state.get(ns_name))
                st.settings.update(json.loads(json.dumps(doc)))
                out = dict(st.settings)
            return h._json(200, out)
        if method == "GET":
            with state.lock:
                st = _state(state.get(ns_name))
                out = {"settings": st.settings, "rotations": st.rotations, "requests": st.requests}
                out = json.loads(json.dumps(out))
            return h._json(200, out)
        return h._json(405, {"error": "method_not_allowed"}, {"Allow": "GET, PUT"})
    if method != "POST":
        return h._json(405, {"error": "method_not_allowed"}, {"Allow": "POST"})
    now = time.time()
    if sub == "expire-old":
        with state.lock:
            st = _state(state.get(ns_name))
            for key in st.retired:
                st.retired[key] = min(st.retired[key], now)
            n = len(st.retired)
        return h._json(200, {"ok": True, "retired": n})
    if sub == "accept-new":
        with state.lock:
            st = _state(state.get(ns_name))
            st.not_before.clear()
        return h._json(200, {"ok": True})
    if sub == "send-expiry":
        doc = h._read_json(body)
        cid, expires_at = doc.get("client_id"), doc.get("expires_at")
        if not isinstance(cid, str) or not isinstance(expires_at, str):
            return h._json(400, {"error": "bad_request", "message": "client_id and expires_at (strings) are required"})
        with state.lock:
            settings = dict(_state(state.get(ns_name)).settings)
        if not settings.get("queue_url"):
            return h._json(400, {"error": "bad_request", "message": "no queue_url configured (PUT /_control/<ns>/spapi)"})
        body = {
            "notificationVersion": "1.0",
            "notificationType": "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY",
            "payloadVersion": "2023-11-30",
            "eventTime": _iso(now),
            "payload": {
                "applicationOAuthClientSecretExpiry": {
                    "clientId": cid,
                    "clientSecretExpiryTime": expires_at,
                    "clientSecretExpiryReason": "PERIODIC_ROTATION",
                }
            },
            "notificationMetadata": _metadata(now),
        }
        _deliver(settings, body)
        return h._json(200, {"ok": True, "notificationId": body["notificationMetadata"]["notificationId"]})
    return h._json(404, {"error": "not_found"})
