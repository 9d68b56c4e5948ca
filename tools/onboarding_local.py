#!/usr/bin/env python3
"""Local set-up of seller-onboarding against moto and the LWA stand-in (the browser
test and the `make run` story use it; run with the project venv's python).

    onboarding_local.py setup ENV_FILE   create the app and signing secrets in moto,
                                         register the app's LWA client in the stand-in,
                                         and append the function's variables to ENV_FILE
    onboarding_local.py ticket KEY PROFILE MARKETPLACE EXPIRES_UNIX
                                         a link ticket signed with KEY (tests: an expired link)
    onboarding_local.py approve CONSENT_URL SELLER
                                         the seller's click on the stand-in consent page's
                                         Authorize button: prints where Amazon redirects (the
                                         callback URL)
    onboarding_local.py appstore LWA_URL HOST LOGIN_URI SELLER
                                         the Appstore's "Authorize now": prints where it sends
                                         the browser (the app's Login URI with amazon_*)
    onboarding_local.py show-profile SECRET_NAME
                                         the profile secret's fields and tags (refresh token as
                                         its fingerprint)

Settings come from the environment:
    ONB_MOTO      http://127.0.0.1:<moto port>
    ONB_LWA       http://127.0.0.1:<stand-in port>
    ONB_NS        the stand-in namespace of the app's client (default: onboarding)
    ONB_PORT      the cargo lambda watch port serving seller-onboarding
    ONB_SECRET_PREFIX, ONB_PARAMETER_PREFIX, ONB_APP_SECRET
                  fleet prefixes and app secret (defaults under spapi/onboarding/)
    ONB_CREATE_APP_SECRET  1 (default): create the app secret; 0: it exists already

The signing key is random and never printed; the client secret is a local stand-in's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

CLIENT_ID = "amzn1.application-oa2-client.onboarding-local"
CLIENT_SECRET = "amzn1.oa2-cs.v1.LOCAL-ONBOARDING-SECRET-7e1d"
APPLICATION_ID = "amzn1.sp.solution.local-onboarding"


def settings():
    ns = os.environ.get("ONB_NS", "onboarding")
    return {
        "moto": os.environ["ONB_MOTO"],
        "lwa": os.environ["ONB_LWA"],
        "ns": ns,
        "port": os.environ["ONB_PORT"],
        "secret_prefix": os.environ.get("ONB_SECRET_PREFIX", f"spapi/onboarding/{ns}/sellers/"),
        "parameter_prefix": os.environ.get("ONB_PARAMETER_PREFIX", f"/spapi/onboarding/{ns}/sellers/"),
        "app_secret": os.environ.get("ONB_APP_SECRET", f"spapi/onboarding/{ns}/app"),
        "signing_secret": f"spapi/onboarding/{ns}/signing-key",
    }


def secretsmanager(endpoint):
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def setup(env_file):
    s = settings()
    sm = secretsmanager(s["moto"])
    key = secrets.token_urlsafe(48)  # 64 characters, as the template generates
    sm.create_secret(Name=s["signing_secret"], SecretString=key)
    if os.environ.get("ONB_CREATE_APP_SECRET", "1") == "1":
        sm.create_secret(
            Name=s["app_secret"], SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        )
        doc = {"clients": [{"client_id": CLIENT_ID, "client_secrets": [CLIENT_SECRET]}]}
        req = urllib.request.Request(
            f"{s['lwa']}/_control/{s['ns']}", data=json.dumps(doc).encode(), method="PUT",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(req, timeout=10).read()
    lines = {
        "LWA_SECRET_PREFIX": s["secret_prefix"],
        "TOKEN_PARAMETER_PREFIX": s["parameter_prefix"],
        "LWA_APP_SECRET_ID": s["app_secret"],
        "LWA_TOKEN_URL": f"{s['lwa']}/ns/{s['ns']}/auth/o2/token",
        "SPAPI_APPLICATION_ID": APPLICATION_ID,
        "ONBOARDING_SIGNING_SECRET_ID": s["signing_secret"],
        "ONBOARDING_REDIRECT_URI": f"http://127.0.0.1:{s['port']}/lambda-url/seller-onboarding/callback",
        "CONSENT_BASE_URL": s["lwa"],
    }
    with open(env_file, "a", encoding="utf-8") as f:
        for k, v in lines.items():
            f.write(f"{k}={v}\n")
    return key


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ticket(key, profile, marketplace, expires_unix, account="seller", link_id=None, issued_unix=None):
    """A link ticket as seller-onboarding signs it (src/onboarding/signing.rs, ticket.rs);
    issued one hour before it expires unless `issued_unix` says otherwise."""
    issued = int(expires_unix) - 3600 if issued_unix is None else int(issued_unix)
    claims = {"p": profile, "m": marketplace, "a": account, "x": int(expires_unix), "i": link_id or b64(os.urandom(16)), "n": issued}
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    tag = hmac.new(key.encode(), b"spapi-onboarding-ticket-v1\n" + payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{b64(tag)}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _location(req):
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(req, timeout=30)
    except urllib.error.HTTPError as e:
        if e.code in (301, 302, 303, 307):
            return e.headers["Location"]
        raise
    raise RuntimeError("no redirect")


def approve(consent_url, seller):
    split = urllib.parse.urlsplit(consent_url)
    q = dict(urllib.parse.parse_qsl(split.query))
    host = split.path.split("/")[1]
    form = {k: v for k, v in q.items() if k in ("state", "redirect_uri", "application_id", "version")}
    form["selling_partner_id"] = seller
    url = f"{split.scheme}://{split.netloc}/{host}/apps/authorize/approve"
    return _location(urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST"))


def appstore(lwa, host, login_uri, seller):
    q = urllib.parse.urlencode({"login_uri": login_uri, "selling_partner_id": seller})
    return _location(urllib.request.Request(f"{lwa}/{host}/appstore/authorize?{q}"))


def show_profile(name):
    sm = secretsmanager(os.environ["ONB_MOTO"])
    doc = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name).get("Tags", [])}
    for k in ("refresh_token",):
        if k in doc:
            doc[k] = "sha256:" + hashlib.sha256(doc[k].encode()).hexdigest()[:8]
    print(json.dumps({"secret": name, "value": doc, "tags": tags}, indent=2, sort_keys=True))


def main(argv):
    if len(argv) == 2 and argv[0] == "setup":
        setup(argv[1])
        return 0
    if len(argv) == 3 and argv[0] == "approve":
        print(approve(argv[1], argv[2]))
        return 0
    if len(argv) == 5 and argv[0] == "appstore":
        print(appstore(*argv[1:]))
        return 0
    if len(argv) == 2 and argv[0] == "show-profile":
        show_profile(argv[1])
        return 0
    if len(argv) == 5 and argv[0] == "ticket":
        print(ticket(argv[1], argv[2], argv[3], argv[4]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
