"""Seller Central's consent page, the Appstore's Login-URI step and LWA's
``authorization_code`` grant, for tools/lwa_standin.py (tests and local runs).

The stand-in serves every Amazon host under one origin: the first path segment
names the host it plays (``/sellercentral-europe.amazon.com/...``), which is
what ``CONSENT_BASE_URL`` points seller-onboarding at.

    GET  /<host>/apps/authorize/consent?application_id=&state=&redirect_uri=[&version=beta]
         the consent page: the app, the account (a text field, prefilled with the
         signed-in seller, ``A1STANDINSELLER`` unless ``?as=`` says otherwise) and an
         Authorize button (a form; no script)
    POST /<host>/apps/authorize/approve
         issues a single-use code (valid 5 minutes, tied to redirect_uri) and answers
         302 to ``redirect_uri?spapi_oauth_code=&state=&selling_partner_id=``
    GET  /<host>/appstore/authorize?login_uri=&selling_partner_id=
         the Appstore's "Authorize now": 302 to ``login_uri?amazon_callback_uri=
         <origin>/<host>/apps/authorize/confirm&amazon_state=&selling_partner_id=``
    GET  /<host>/apps/authorize/confirm?redirect_uri=&amazon_state=&state=[&version=beta]
         after the app's Login URI: checks amazon_state (issued here, 10 minutes, once)
         and shows the consent page for that seller
    GET  /_consent/codes  -> {"codes": [{"redirect_uri", "selling_partner_id", "used"}]}

Token endpoint: ``grant_type=authorization_code`` with ``code``, ``redirect_uri``,
``client_id``, ``client_secret``. A code is accepted once, within 5 minutes, with
the redirect_uri it was issued for and a registered client; the refresh token
issued joins that client's refresh tokens, so the refresher can use it. Otherwise
400 ``invalid_grant`` (LWA's text). Codes and states are shared by all namespaces.
Never logs a code, a state or a token.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
import urllib.parse

CODE_LIFETIME = 300.0
AMAZON_STATE_LIFETIME = 600.0
DEFAULT_SELLER = "A1STANDINSELLER"

ERR_INVALID_GRANT_CODE = (
    400,
    "invalid_grant",
    "The request has an invalid grant parameter : code",
)

_lock = threading.Lock()
_codes = {}  # code -> {"redirect_uri", "selling_partner_id", "issued", "used"}
_amazon_states = {}  # amazon_state -> {"selling_partner_id", "host", "issued", "used"}
_clock = [time.time]  # tests may replace the clock


def now():
    return _clock[0]()


def handles(path):
    """True for the paths this module serves."""
    parts = path.split("/")
    if path == "/_consent/codes":
        return True
    return len(parts) >= 3 and "." in parts[1] and parts[2] in ("apps", "appstore")


def _page(handler, status, title, body_html):
    doc = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body_html}</body></html>"
    )
    handler._send(status, doc, "text/html; charset=utf-8", {"Cache-Control": "no-store"})


def _redirect(handler, location):
    handler._send(302, b"", None, {"Location": location, "Cache-Control": "no-store"})


def _with_query(url, params):
    parts = urllib.parse.urlsplit(url)
    query = parts.query
    extra = urllib.parse.urlencode(params)
    query = f"{query}&{extra}" if query else extra
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _consent_page(handler, host, params, seller, seller_fixed):
    app = params.get("application_id", "")
    if not app or not params.get("state") or not params.get("redirect_uri"):
        return _page(handler, 400, "Error MD9100", "<p>The authorization request is incomplete.</p>")
    if app.startswith("amzn1.sp.solution.draft") and params.get("version") != "beta":
        return _page(handler, 400, "Error MD1000", "<p>This app is in draft: version=beta is required.</p>")
    if "#" in params["redirect_uri"]:
        return _page(handler, 400, "Error MD5110", "<p>The redirect URI has a fragment.</p>")
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in ("application_id", "state", "redirect_uri", "version")
    )
    readonly = " readonly" if seller_fixed else ""
    body = (
        f"<p>{html.escape(host)}: the app <b>{html.escape(app)}</b> asks to access your selling account.</p>"
        f'<form method="post" action="/{html.escape(host)}/apps/authorize/approve">{hidden}'
        f'<label>Account <input id="selling_partner_id" name="selling_partner_id" value="{html.escape(seller)}"{readonly}></label>'
        '<button id="authorize" type="submit">Authorize</button></form>'
    )
    _page(handler, 200, "Authorize the app", body)


def dispatch(handler, path, body):
    """Serve one request for a path `handles` accepted."""
    split = urllib.parse.urlsplit(handler.path)
    params = {k: v[0] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
    if path == "/_consent/codes":
        with _lock:
            codes = [
                {"redirect_uri": c["redirect_uri"], "selling_partner_id": c["selling_partner_id"], "used": c["used"]}
                for c in _codes.values()
            ]
        return handler._json(200, {"codes": codes})
    parts = path.split("/")
    host, rest = parts[1], "/".join(parts[2:])
    if rest == "apps/authorize/consent" and handler.command == "GET":
        return _consent_page(handler, host, params, params.get("as", DEFAULT_SELLER), False)
    if rest == "appstore/authorize" and handler.command == "GET":
        login_uri, seller = params.get("login_uri"), params.get("selling_partner_id", DEFAULT_SELLER)
        if not login_uri:
            return _page(handler, 400, "Error", "<p>login_uri is missing.</p>")
        state = secrets.token_urlsafe(24)
        with _lock:
            _amazon_states[state] = {"selling_partner_id": seller, "host": host, "issued": now(), "used": False}
        origin = f"http://{handler.headers.get('Host', '127.0.0.1')}"
        callback = f"{origin}/{host}/apps/authorize/confirm"
        return _redirect(
            handler,
            _with_query(login_uri, {"amazon_callback_uri": callback, "amazon_state": state, "selling_partner_id": seller}),
        )
    if rest == "apps/authorize/confirm" and handler.command == "GET":
        state = params.get("amazon_state", "")
        with _lock:
            entry = _amazon_states.get(state)
            ok = entry is not None and not entry["used"] and now() - entry["issued"] <= AMAZON_STATE_LIFETIME
            if ok:
                entry["used"] = True
        if not ok:
            return _page(handler, 400, "Error MD9010", "<p>The authorization session is unknown or expired.</p>")
        consent = dict(params)
        consent.setdefault("application_id", "amzn1.sp.solution.from-login-uri")
        return _consent_page(handler, host, consent, entry["selling_partner_id"], True)
    if rest == "apps/authorize/approve" and handler.command == "POST":
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
        seller = form.get("selling_partner_id") or DEFAULT_SELLER
        if not redirect_uri or not state:
            return _page(handler, 400, "Error MD9100", "<p>The authorization request is incomplete.</p>")
        code = secrets.token_urlsafe(15)
        with _lock:
            _codes[code] = {"redirect_uri": redirect_uri, "selling_partner_id": seller, "issued": now(), "used": False}
        return _redirect(
            handler,
            _with_query(redirect_uri, {"spapi_oauth_code": code, "state": state, "selling_partner_id": seller}),
        )
    return handler._json(404, {"error": "not_found", "path": path})


def exchange(ns, form, new_token):
    """The authorization_code grant in namespace `ns`: (status, JSON document)."""

    def err(e):
        status, code, desc = e
        return status, {"error_description": desc, "error": code}

    client = ns.find_client(form.get("client_id"), form.get("client_secret"))
    if client is None:
        return err((401, "invalid_client", "Client authentication failed"))
    code = form.get("code") or ""
    with _lock:
        entry = _codes.get(code)
        valid = (
            entry is not None
            and not entry["used"]
            and now() - entry["issued"] <= CODE_LIFETIME
            and entry["redirect_uri"] == form.get("redirect_uri")
        )
        if entry is not None:
            entry["used"] = True  # a code is spent by any attempt, as LWA does
    if not valid:
        return err(ERR_INVALID_GRANT_CODE)
    refresh = new_token("Atzr|")
    client.refresh_tokens.append(refresh)
    client.refresh_token_set.add(refresh)
    return 200, {
        "access_token": new_token("Atza|"),
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": ns.expires_in,
    }
