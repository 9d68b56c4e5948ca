#!/usr/bin/env python3
"""Helpers for scripts/demo.sh (run with the project venv's python).

    demo_aws.py mask                       stdin -> stdout, every token and secret masked
    demo_aws.py free-port [PREFERRED]      a free loopback TCP port (PREFERRED if free)
    demo_aws.py register-client URL        PUT the demo client into the LWA stand-in
    demo_aws.py create-secret              Secrets Manager secret in moto (env: DEMO_*)
    demo_aws.py parameter NAME             SSM parameter as JSON, token as its fingerprint
    demo_aws.py json FILE KEY              one field of a JSON document ("" if missing)
    demo_aws.py http FILE WHAT             from a `curl -i` capture: status | header NAME | body
    demo_aws.py scan FILE...               look for planted secrets and raw tokens
    demo_aws.py register-fleet URL         PUT the fleet's LWA client (seller refresh tokens,
                                           one revoked; the grantless scope) into the stand-in
    demo_aws.py create-fleet-secrets       app secret + profile secrets in moto (env: DEMO_*)

The demo credentials are not secret (they exist only in the local stand-ins) but
are handled as if they were: nothing here prints a token, refresh token or
client secret; `mask` is applied to everything demo.sh shows. What the demo
shows is asserted in tests/story.rs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import sys
import urllib.parse
import urllib.request

CLIENT_ID = "amzn1.application-oa2-client.demo"
CLIENT_SECRET = "amzn1.oa2-cs.v1.DEMO-CLIENT-SECRET-5f2c"
REFRESH_TOKEN = "Atzr|DEMO-REFRESH-TOKEN-9d41"
# Fleet mode: an app secret (the same demo client) and seller profiles holding only
# a refresh token; initech-jp's has been revoked in the stand-in. The grantless
# profile holds the client and a scope.
APP_SECRET_ID = "spapi/lwa/app"
SELLER_PREFIX = "spapi/lwa/sellers/"
SELLERS = {
    "acme-us": "Atzr|DEMO-RT-ACME-US-31c7",
    "globex-eu": "Atzr|DEMO-RT-GLOBEX-EU-84e0",
    "initech-jp": "Atzr|DEMO-RT-INITECH-JP-REVOKED-b25a",
}
REVOKED = {"initech-jp"}
GRANTLESS_PROFILE = "notifications"
GRANTLESS_SCOPE = "sellingpartnerapi::notifications"

PLANTED = ("DEMO-CLIENT-SECRET-5f2c", "DEMO-REFRESH-TOKEN-9d41") + tuple(
    rt.split("|", 1)[1] for rt in SELLERS.values()
)

# Token characters: anything up to a quote, whitespace, backslash or JSON/list
# punctuation. `Atza%7C` is the form-encoded spelling.
_TOKEN_TAIL = r"[^\s\"'\\,;}\]<>]+"
ACCESS_RE = re.compile(r"Atza(?:\||%7[Cc])" + _TOKEN_TAIL)
REFRESH_RE = re.compile(r"Atzr(?:\||%7[Cc])" + _TOKEN_TAIL)
CLIENT_SECRET_RE = re.compile(r"amzn1\.oa2-cs\.v1\." + _TOKEN_TAIL)
# An onboarding link's ticket is a bearer capability: shown as a fingerprint.
TICKET_RE = re.compile(r"(?<=ticket=)[A-Za-z0-9_\-.%]+")


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def _access(m: re.Match) -> str:
    return "sha256:" + fingerprint(urllib.parse.unquote(m.group(0)))


def mask_text(text: str) -> str:
    text = ACCESS_RE.sub(_access, text)
    text = REFRESH_RE.sub("<refresh token hidden>", text)
    text = CLIENT_SECRET_RE.sub("<client secret hidden>", text)
    text = TICKET_RE.sub(lambda m: f"<hidden, sha256:{fingerprint(m.group(0))}>", text)
    for planted in PLANTED:
        text = text.replace(planted, "<hidden>")
    return text


def _label(planted: str) -> str:
    if planted == PLANTED[0]:
        return "the demo client secret"
    if planted == PLANTED[1]:
        return "the demo refresh token"
    for profile, rt in SELLERS.items():
        if rt.endswith(planted):
            return f"{profile}'s refresh token"
    return "a planted secret"


def cmd_mask(_args):
    # Keep going on Ctrl-C: the demo's cleanup still writes through this filter.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout
    for line in iter(sys.stdin.readline, ""):
        out.write(mask_text(line))
        out.flush()
    return 0


def cmd_free_port(args):
    for port in ([int(args[0])] if args else []) + [0]:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            print(s.getsockname()[1])
            return 0
        except OSError:
            continue
        finally:
            s.close()
    return 1


def cmd_register_client(args):
    doc = {"client_id": CLIENT_ID, "client_secrets": [CLIENT_SECRET], "refresh_tokens": [REFRESH_TOKEN]}
    state = _put_json(args[0], {"clients": [doc], "expires_in": 3600})
    print(f"registered LWA client {state['clients'][0]['client_id']} (1 client secret, 1 refresh token)")
    return 0


def _aws(service):
    import boto3  # slow import: only for the commands that need it

    return boto3.client(
        service,
        endpoint_url=os.environ["DEMO_AWS_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def cmd_create_secret(_args):
    name = os.environ["DEMO_SECRET_ID"]
    value = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
    arn = _aws("secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    print(f"created secret {name} ({arn})")
    print('  SecretString = {"client_id": "' + CLIENT_ID + '", "client_secret": "<hidden>", "refresh_token": "<hidden>"}')
    return 0


def cmd_parameter(args):
    p = _aws("ssm").get_parameter(Name=args[0], WithDecryption=True)["Parameter"]
    value = json.loads(p["Value"])
    token = value.get("access_token", "")
    value["access_token"] = "sha256:" + fingerprint(token)
    print(json.dumps({"name": p["Name"], "type": p["Type"], "version": p["Version"], "value": value}))
    return 0


def cmd_json(args):
    path, key = args
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        print("")
        return 0
    cur = doc
    for part in key.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    print("" if cur is None else (cur if isinstance(cur, str) else json.dumps(cur)))
    return 0


def _parse_http(raw: str):
    raw = raw.replace("\r\n", "\n")
    # curl -i may show interim responses (100 Continue): keep the last head.
    head, _, body = raw.partition("\n\n")
    while re.match(r"HTTP/\S+ 1\d\d", head) and body.startswith("HTTP/"):
        head, _, body = body.partition("\n\n")
    lines = head.split("\n")
    status = lines[0].split()[1] if lines and len(lines[0].split()) > 1 else ""
    headers = {}
    for line in lines[1:]:
        k, sep, v = line.partition(":")
        if sep:
            headers.setdefault(k.strip().lower(), v.strip())
    return status, headers, body


def cmd_http(args):
    path, what = args[0], args[1]
    with open(path, encoding="utf-8", errors="replace") as f:
        status, headers, body = _parse_http(f.read())
    if what == "status":
        print(status)
    elif what == "header":
        print(headers.get(args[2].lower(), ""))
    elif what == "body":
        sys.stdout.write(body)
    return 0


def cmd_scan(args):
    bad = []
    for path in args:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        for label, n in (
            *((_label(p), text.count(p)) for p in PLANTED),
            ("a raw access token (Atza)", sum(text.count("Atza" + sep) for sep in ("|", "%7C", "%7c"))),
            ("a raw refresh token (Atzr)", sum(text.count("Atzr" + sep) for sep in ("|", "%7C", "%7c"))),
            ("a client secret (amzn1.oa2-cs)", text.count("amzn1.oa2-cs.")),
        ):
            if n:
                bad.append(f"{path}: {label}, {n} time(s)")
    for line in bad:
        print(line)
    return 1 if bad else 0


def _put_json(url, doc):
    req = urllib.request.Request(
        url, data=json.dumps(doc).encode(), method="PUT", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)  # echoes the secrets: never printed


def cmd_register_fleet(args):
    doc = {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secrets": [CLIENT_SECRET],
                "refresh_tokens": list(SELLERS.values()),
                "revoked_refresh_tokens": [SELLERS[p] for p in sorted(REVOKED)],
                "scopes": [GRANTLESS_SCOPE],
            }
        ],
        "expires_in": 3600,
    }
    state = _put_json(args[0], doc)
    client = state["clients"][0]
    print(
        f"LWA stand-in namespace {args[0].rstrip('/').rsplit('/', 1)[1]}: client {client['client_id']} with "
        f"{len(client['refresh_tokens'])} seller refresh tokens ({len(client['revoked_refresh_tokens'])} revoked: "
        f"{', '.join(sorted(REVOKED))}) and scope {', '.join(client['scopes'])}"
    )
    return 0


def cmd_create_fleet_secrets(_args):
    sm = _aws("secretsmanager")
    rows = []
    app = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    sm.create_secret(Name=APP_SECRET_ID, SecretString=json.dumps(app))
    rows.append((APP_SECRET_ID, "app (shared client)", '{"client_id": "' + CLIENT_ID + '", "client_secret": "<hidden>"}'))
    for profile, rt in SELLERS.items():
        sm.create_secret(Name=SELLER_PREFIX + profile, SecretString=json.dumps({"refresh_token": rt}))
        kind = "seller (refresh token revoked)" if profile in REVOKED else "seller"
        rows.append((SELLER_PREFIX + profile, kind, '{"refresh_token": "<hidden>"}'))
    grantless = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": GRANTLESS_SCOPE}
    sm.create_secret(Name=SELLER_PREFIX + GRANTLESS_PROFILE, SecretString=json.dumps(grantless))
    rows.append(
        (
            SELLER_PREFIX + GRANTLESS_PROFILE,
            "grantless",
            '{"client_id": "' + CLIENT_ID + '", "client_secret": "<hidden>", "scope": "' + GRANTLESS_SCOPE + '"}',
        )
    )
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"created {len(rows)} secrets in Secrets Manager:")
    for name, kind, shown in rows:
        print(f"  {name:<{w0}}  {kind:<{w1}}  {shown}")
    return 0


COMMANDS = {
    "mask": cmd_mask,
    "free-port": cmd_free_port,
    "register-client": cmd_register_client,
    "create-secret": cmd_create_secret,
    "parameter": cmd_parameter,
    "json": cmd_json,
    "http": cmd_http,
    "scan": cmd_scan,
    "register-fleet": cmd_register_fleet,
    "create-fleet-secrets": cmd_create_fleet_secrets,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
    except KeyboardInterrupt:  # Ctrl-C: demo.sh reports and cleans up
        sys.exit(130)
