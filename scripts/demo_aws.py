#!/usr/bin/env python3
"""Helpers for scripts/demo.sh (run with the project venv's python).

    demo_aws.py mask                       stdin -> stdout, every token and secret masked
    demo_aws.py fp                         stdin: one value -> its fingerprint (8 hex)
    demo_aws.py free-port [PREFERRED]      a free loopback TCP port (PREFERRED if free)
    demo_aws.py port-open PORT             exit 0 when 127.0.0.1:PORT accepts connections
    demo_aws.py register-client URL        PUT the demo client into the LWA stand-in
    demo_aws.py create-secret              Secrets Manager secret in moto (env: DEMO_*)
    demo_aws.py parameter NAME             SSM parameter as JSON, token as its fingerprint
    demo_aws.py json FILE KEY              one field of a JSON document ("" if missing)
    demo_aws.py http FILE WHAT             from a `curl -i` capture: status | header NAME |
                                           body
    demo_aws.py scan FILE...               look for planted secrets and raw tokens

  Fleet part:
    demo_aws.py register-fleet URL         PUT the fleet's LWA client (seller refresh tokens,
                                           one revoked; the grantless scope) into the stand-in
    demo_aws.py create-fleet-secrets       app secret + profile secrets in moto (env: DEMO_*)
    demo_aws.py fleet-summary LOG MARK OUT the last `fleet run finished` summary and EMF line
                                           after line MARK of LOG: table on stdout, JSON -> OUT
    demo_aws.py parameters PREFIX OUT      SSM parameters under PREFIX: table (fingerprints,
                                           never tokens) on stdout, JSON -> OUT
    demo_aws.py standin-requests URL       the stand-in's token requests, by profile and grant

The demo credentials are not secret (they exist only in the local stand-ins) but
are handled as if they were: nothing here prints a token, refresh token or
client secret; `mask` is applied to everything demo.sh shows.
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


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def _access(m: re.Match) -> str:
    return "sha256:" + fingerprint(urllib.parse.unquote(m.group(0)))


def mask_text(text: str) -> str:
    text = ACCESS_RE.sub(_access, text)
    text = REFRESH_RE.sub("<refresh token hidden>", text)
    text = CLIENT_SECRET_RE.sub("<client secret hidden>", text)
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


def cmd_fp(_args):
    print(fingerprint(sys.stdin.read().strip()))
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


def cmd_port_open(args):
    try:
        socket.create_connection(("127.0.0.1", int(args[0])), timeout=1).close()
        return 0
    except OSError:
        return 1


def cmd_register_client(args):
    doc = {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secrets": [CLIENT_SECRET],
                "refresh_tokens": [REFRESH_TOKEN],
            }
        ],
        "expires_in": 3600,
    }
    req = urllib.request.Request(
        args[0], data=json.dumps(doc).encode(), method="PUT", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        state = json.load(r)  # echoes the secrets: never printed
    clients = state.get("clients", [])
    print(f"registered LWA client {clients[0]['client_id']} (1 client secret, 1 refresh token)")
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
    print(
        json.dumps(
            {
                "name": p["Name"],
                "type": p["Type"],
                "version": p["Version"],
                "value": value,
                "fingerprint": fingerprint(token),
                "token_prefix_ok": token.startswith("Atza|"),
            }
        )
    )
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


# ------------------------------------------------------------------ fleet part


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


def _decode_at(text, i):
    """The JSON value starting at text[i] (a quoted string holding JSON is unwrapped)."""
    dec = json.JSONDecoder()
    while i < len(text) and text[i] == " ":
        i += 1
    value, _ = dec.raw_decode(text, i)
    if isinstance(value, str):
        value = json.loads(value)
    return value


def _summary_from_line(line):
    """The summary in one `fleet run finished` log line, text or JSON format; None if absent."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            for holder in (obj, obj.get("fields") if isinstance(obj.get("fields"), dict) else {}):
                if "summary" in holder:
                    v = holder["summary"]
                    return (json.loads(v) if isinstance(v, str) else v), str(obj.get("level", ""))
    m = re.search(r"(?:^|\s)summary=", line)
    if not m:
        return None
    level = re.match(r"\s*(TRACE|DEBUG|INFO|WARN|ERROR)\b", line)
    try:
        return _decode_at(line, m.end()), (level.group(1) if level else "")
    except ValueError:
        return None


def cmd_fleet_summary(args):
    log, mark, out = args[0], int(args[1]), args[2]
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()[mark:]
    summary, level, emf, emf_line = None, "", None, ""
    for line in lines:
        if "fleet run finished" in line:
            found = _summary_from_line(line)
            if found and isinstance(found[0], dict):
                summary, level = found
        stripped = line.strip()
        if stripped.startswith("{") and '"_aws"' in stripped:
            try:
                doc = json.loads(stripped)
            except ValueError:
                continue
            if isinstance(doc, dict) and "_aws" in doc:
                emf, emf_line = doc, stripped
    result = {
        "found": summary is not None,
        "level": level,
        "summary": summary or {},
        "failures_brief": ",".join(
            f"{f.get('profile')}:{f.get('error_type')}" for f in (summary or {}).get("failures", [])
        ),
        "emf_found": emf is not None,
        "emf": emf or {},
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f)
    if summary is None:
        print("no `fleet run finished` line with a parsable summary in the function log")
        return 1
    print(f"fleet run summary (the `fleet run finished` log line, level {level or '?'}):")
    for key in ("profiles", "refreshed", "skipped", "failed", "deferred", "min_ttl_seconds", "token_requests"):
        v = summary.get(key)
        print(f"  {key:<16} {'-' if v is None else v}")
    failures = summary.get("failures", [])
    if failures:
        w0 = max(len("PROFILE"), *(len(str(x.get("profile"))) for x in failures))
        w1 = max(len("ERROR TYPE"), *(len(str(x.get("error_type"))) for x in failures))
        print("failed profiles:")
        print(f"  {'PROFILE':<{w0}}  {'ERROR TYPE':<{w1}}  MESSAGE")
        for x in failures:
            msg = str(x.get("message", ""))
            if x.get("profiles_affected") is not None:
                msg += f" (stopped {x['profiles_affected']} profiles)"
            print(f"  {str(x.get('profile')):<{w0}}  {str(x.get('error_type')):<{w1}}  {msg}")
    if emf is not None:
        names = [m.get("Name") for cw in emf["_aws"].get("CloudWatchMetrics", []) for m in cw.get("Metrics", [])]
        ns = ",".join(cw.get("Namespace", "") for cw in emf["_aws"].get("CloudWatchMetrics", []))
        print(f"EMF metrics line (namespace {ns}, FunctionName={emf.get('FunctionName')}):")
        print("  " + "  ".join(f"{n}={emf.get(n)}" for n in names))
        print("  " + emf_line)
    else:
        print("no EMF metrics line (a JSON line with _aws) in the function log")
    return 0


def cmd_parameters(args):
    prefix, out = args[0], args[1]
    ssm = _aws("ssm")
    path = prefix.rstrip("/") or "/"
    found = []
    kwargs = {"Path": path, "Recursive": True, "WithDecryption": True}
    while True:
        page = ssm.get_parameters_by_path(**kwargs)
        found += [p for p in page.get("Parameters", []) if p["Name"].startswith(prefix)]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    rows = []
    for p in sorted(found, key=lambda p: p["Name"]):
        try:
            value = json.loads(p["Value"])
        except ValueError:
            value = {}
        token = value.get("access_token", "") if isinstance(value, dict) else ""
        rows.append(
            {
                "name": p["Name"],
                "profile": p["Name"][len(prefix):],
                "type": p["Type"],
                "version": p["Version"],
                "fingerprint": fingerprint(token) if token else "",
                "token_prefix_ok": token.startswith("Atza|"),
                "token_type": value.get("token_type", "") if isinstance(value, dict) else "",
                "expires_at": value.get("expires_at", "") if isinstance(value, dict) else "",
                "authorization_lost": bool(isinstance(value, dict) and value.get("authorization_lost")),
            }
        )
    with open(out, "w", encoding="utf-8") as f:
        json.dump(
            {"count": len(rows), "profiles": ",".join(r["profile"] for r in rows),
             "token_profiles": ",".join(r["profile"] for r in rows if r["fingerprint"]),
             "lost_profiles": ",".join(r["profile"] for r in rows if r["authorization_lost"]),
             "parameters": rows}, f
        )
    print(f"{len(rows)} parameter(s) under {prefix}:")
    if rows:
        w = max(len("NAME"), *(len(r["name"]) for r in rows))
        print(f"  {'NAME':<{w}}  {'TYPE':<12}  VER  {'TOKEN':<15}  EXPIRES_AT")
        for r in rows:
            fp = "sha256:" + r["fingerprint"] if r["fingerprint"] else "-"
            if r["fingerprint"] and not r["token_prefix_ok"]:
                fp += " (not Atza|)"
            if r["authorization_lost"]:
                fp += " + authorization_lost"
            print(f"  {r['name']:<{w}}  {r['type']:<12}  {r['version']:>3}  {fp:<15}  {r['expires_at']}")
    return 0


def cmd_standin_requests(args):
    with urllib.request.urlopen(args[0], timeout=10) as r:
        reqs = json.load(r).get("requests", [])  # bodies hold secrets: only tallied
    by_rt = {rt: p for p, rt in SELLERS.items()}
    tally = {}
    for q in reqs:
        form = q.get("form") or {}
        grant = form.get("grant_type", "?")
        if grant == "refresh_token":
            who = by_rt.get(form.get("refresh_token"), "unknown refresh token")
        else:
            who = "scope " + form.get("scope", "?")
        tally[(grant, who)] = tally.get((grant, who), 0) + 1
    print(f"{len(reqs)} token request(s):")
    for (grant, who), n in sorted(tally.items()):
        print(f"  {n} x {grant:<18} {who}")
    return 0


COMMANDS = {
    "mask": cmd_mask,
    "fp": cmd_fp,
    "free-port": cmd_free_port,
    "port-open": cmd_port_open,
    "register-client": cmd_register_client,
    "create-secret": cmd_create_secret,
    "parameter": cmd_parameter,
    "json": cmd_json,
    "http": cmd_http,
    "scan": cmd_scan,
    "register-fleet": cmd_register_fleet,
    "create-fleet-secrets": cmd_create_fleet_secrets,
    "fleet-summary": cmd_fleet_summary,
    "parameters": cmd_parameters,
    "standin-requests": cmd_standin_requests,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    try:
        sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
    except KeyboardInterrupt:  # Ctrl-C: demo.sh reports and cleans up
        sys.exit(130)
