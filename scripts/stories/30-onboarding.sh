# shellcheck shell=bash
# Story: seller onboarding (sourced by scripts/demo.sh after the fleet part).
#
# An operator mints a link; the seller's browser (curl with a cookie jar here;
# tests/browser/ drives a real Chromium) follows it to the consent page (the
# LWA stand-in plays Seller Central), clicks Authorize, and lands on the
# function's callback: the refresh token becomes the fleet profile `umbrella-de`
# and its first access token is served by the reader at once. Then the link is
# used up, another browser is refused, and the seller re-authorizes through the
# Login URI (what Amazon's Appstore and the yearly renewal use).

ONB="$PY $ROOT/tools/onboarding_local.py"
ONB_PROFILE="umbrella-de"
ONB_SELLER="A1DEMOUMBRELLA"
ONB_LWA="http://127.0.0.1:$LWA_PORT"

# onb_login SELLER HOST NAME: the Login-URI path as Amazon drives it, in the cookie
# jar's browser: the stand-in's Appstore step (HOST: the seller's Seller Central)
# -> /login -> the confirm page's Authorize -> /callback. Captures
# $CAP/NAME.http (the /login answer) and $CAP/NAME-callback.http.
onb_login() {
    local seller=$1 host=$2 name=$3 login confirm callback
    login=$($ONB appstore "$ONB_LWA" "$host" "$ONB_BASE/login" "$seller") ||
        die "the stand-in's Appstore did not redirect"
    note "Amazon opens the Login URI: ${login%%\?*}?amazon_callback_uri=…&amazon_state=…&selling_partner_id=$seller"
    log_mark
    curl -s -i --max-time 120 -c "$ONB_JAR" -b "$ONB_JAR" "$login" | tr -d '\r' >"$CAP/$name.http" || true
    ONB_CONFIRM=$(http "$name" header location)
    expect "302 back to Amazon (the seller was found by tag)" \
        eval '[[ "$(http '"$name"' status)" == 302 && "$ONB_CONFIRM" == "$ONB_LWA/'"$host"'/apps/authorize/confirm?"* ]]'
    curl -s --max-time 60 "$ONB_CONFIRM" >"$CAP/$name-confirm.html" || true
    callback=$($ONB approve "$ONB_CONFIRM" "$seller") || die "the confirm page's Authorize did not redirect"
    note "the seller clicks Authorize; Amazon redirects to ${callback%%\?*}?spapi_oauth_code=…&state=…"
    curl -s -i --max-time 120 -c "$ONB_JAR" -b "$ONB_JAR" "$callback" | tr -d '\r' >"$CAP/$name-callback.http" || true
    function_log
    note "the page: $(http "$name-callback" status) $(grep -o '<h1>[^<]*' "$CAP/$name-callback.http" | sed 's/<h1>//')"
}

heading "30.1 Seller onboarding: a third cargo lambda watch runs seller-onboarding with the fleet's prefixes"
# The redirect URI names the watch's port, so pick the port first and check it was used.
for attempt in 1 2 3; do
    ONB_PORT=$("${HELPER[@]}" free-port 9003)
    cat >"$RUN/functions-onboarding.env" <<ENV
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
RUST_LOG=info
ENV
    if [[ $attempt == 1 ]]; then
        ONB_MOTO="http://127.0.0.1:$MOTO_PORT" ONB_LWA="$ONB_LWA" ONB_NS=fleet ONB_PORT="$ONB_PORT" \
            ONB_SECRET_PREFIX="$FLEET_SECRET_PREFIX" ONB_PARAMETER_PREFIX="$FLEET_PARAMETER_PREFIX" \
            ONB_APP_SECRET="$FLEET_APP_SECRET" ONB_CREATE_APP_SECRET=0 \
            $ONB setup "$RUN/functions-onboarding.env" 2>"$CAP/onboarding-setup.err" ||
            { log_tail "$CAP/onboarding-setup.err"; die "could not set up onboarding (signing secret)"; }
        ONB_ENV_TAIL=$(tail -n 8 "$RUN/functions-onboarding.env")
    else
        printf '%s\n' "${ONB_ENV_TAIL//:$ONB_OLD_PORT\//:$ONB_PORT/}" >>"$RUN/functions-onboarding.env"
    fi
    start_watch watch-onboarding "$RUN/functions-onboarding.env" "$ONB_PORT"
    [[ "$WATCH_PORT" == "$ONB_PORT" ]] && break
    note "port $ONB_PORT was taken meanwhile; starting again on another"
    kill -TERM -- "-$STARTED_PID" 2>/dev/null || true
    ONB_OLD_PORT=$ONB_PORT
done
[[ "$WATCH_PORT" == "$ONB_PORT" ]] || die "could not start seller-onboarding on a port matching its redirect URI"
INVOKE_PORT=$ONB_PORT
WATCH_LOG="$RUN/watch-onboarding.log"
HINT="$WATCH_LOG"
ONB_BASE="http://127.0.0.1:$ONB_PORT/lambda-url/seller-onboarding"
note "function URL of seller-onboarding  $ONB_BASE/  (redirect URI $ONB_BASE/callback)"
note "Seller Central is played by the stand-in: CONSENT_BASE_URL=$ONB_LWA"
note "function environment (.run/functions-onboarding.env; the signing key is a generated secret in moto):"
sed 's/^/     /' "$RUN/functions-onboarding.env"

heading "30.2 The operator mints a link for profile $ONB_PROFILE (marketplace DE)"
show_cmd "make onboard-link PROFILE=$ONB_PROFILE MARKETPLACE=DE LOCAL_PORT=$ONB_PORT   # the same, via make"
log_mark
invoke onboard-link seller-onboarding "{\"action\":\"link\",\"profile\":\"$ONB_PROFILE\",\"marketplace\":\"DE\"}"
function_log
expect "$LAST_FN answered without an error" ok_rc "$INVOKE_RC"
ONB_LINK=$(field onboard-link url)
# The link is a bearer capability: shown fingerprinted, kept whole in a file.
ONB_LINK_FILE="$RUN/onboarding-link.txt"
(umask 077 && printf '%s\n' "$ONB_LINK" >"$ONB_LINK_FILE")
note "the link (shown shortened; whole in ${ONB_LINK_FILE#"$ROOT"/}): $(printf '%s' "$ONB_LINK" | "${HELPER[@]}" mask)"
expect "a link to $ONB_BASE/authorize, region eu" \
    eval '[[ "$ONB_LINK" == "$ONB_BASE/authorize?ticket="* && "$(field onboard-link region)" == eu ]]'

heading "30.3 The seller opens it (curl with a cookie jar plays the browser)"
ONB_JAR="$RUN/onboarding-cookies.txt"
rm -f "$ONB_JAR"
show_cmd "curl -i -c jar '<the link>'"
log_mark
curl -s -i --max-time 600 -c "$ONB_JAR" -b "$ONB_JAR" "$ONB_LINK" | tr -d '\r' >"$CAP/onb-authorize.http" || true
function_log
ONB_CONSENT=$(http onb-authorize header location)
note "status $(http onb-authorize status), Location: ${ONB_CONSENT%%\?*}?application_id=…&state=…&redirect_uri=…"
note "Set-Cookie: $(grep -i '^set-cookie:' "$CAP/onb-authorize.http" | sed 's/^[^:]*: //; s/=[^;]*/=…/')"
expect "302 to Seller Central's consent page" \
    eval '[[ "$(http onb-authorize status)" == 302 && "$ONB_CONSENT" == "$ONB_LWA/sellercentral-europe.amazon.com/apps/authorize/consent?"* ]]'
expect "Referrer-Policy: no-referrer, Cache-Control: no-store" \
    eval '[[ "$(http onb-authorize header referrer-policy)" == no-referrer && "$(http onb-authorize header cache-control)" == no-store ]]'
expect "a browser-binding cookie (HttpOnly, SameSite=Lax)" \
    grep -qiE '^set-cookie: spapi-onboarding=[^;]+;.*HttpOnly; SameSite=Lax' "$CAP/onb-authorize.http"
ONB_CALLBACK=$($ONB approve "$ONB_CONSENT" "$ONB_SELLER") || die "the consent page's Authorize did not redirect"
note "the seller clicks Authorize as $ONB_SELLER; Amazon redirects to ${ONB_CALLBACK%%\?*}?spapi_oauth_code=…&state=…&selling_partner_id=$ONB_SELLER"
log_mark
curl -s -i --max-time 600 -c "$ONB_JAR" -b "$ONB_JAR" "$ONB_CALLBACK" | tr -d '\r' >"$CAP/onb-callback.http" || true
function_log
note "the page: $(grep -o '<h1>[^<]*' "$CAP/onb-callback.http" | sed 's/<h1>//')"
expect "200: the seller is connected" \
    eval '[[ "$(http onb-callback status)" == 200 ]] && grep -q "Your account is connected" "$CAP/onb-callback.http"'
expect "the page has nosniff and a Content-Security-Policy" \
    eval '[[ "$(http onb-callback header x-content-type-options)" == nosniff && "$(http onb-callback header content-security-policy)" == "default-src '"'"'none'"'"'"* ]]'

heading "30.4 The profile secret ${FLEET_SECRET_PREFIX}$ONB_PROFILE (tagged; refresh token as its fingerprint)"
ONB_MOTO="http://127.0.0.1:$MOTO_PORT" $ONB show-profile "${FLEET_SECRET_PREFIX}$ONB_PROFILE" \
    >"$CAP/onb-profile.json" 2>"$CAP/onb-profile.err" || { log_tail "$CAP/onb-profile.err"; die "no profile secret"; }
indent <"$CAP/onb-profile.json"
expect "tagged spapi:selling-partner-id=$ONB_SELLER and spapi:region=eu" \
    eval '[[ "$(field onb-profile tags.spapi:selling-partner-id)" == "$ONB_SELLER" && "$(field onb-profile tags.spapi:region)" == eu ]]'

heading "30.5 token-reader serves the new seller's token at once (the exchange's access token)"
log_mark
invoke onb-reader token-reader "{\"action\":\"get\",\"profile\":\"$ONB_PROFILE\"}"
function_log
expect "$LAST_FN answered with an access token" \
    eval '[[ "$INVOKE_RC" == 0 && "$(field onb-reader access_token)" == sha256:* ]]'

heading "30.6 The link is used up; another browser is refused"
log_mark
curl -s -i --max-time 120 "$ONB_LINK" | tr -d '\r' >"$CAP/onb-reused.http" || true
curl -s -i --max-time 120 "$ONB_CALLBACK" | tr -d '\r' >"$CAP/onb-other-browser.http" || true
function_log
note "the link again:              $(http onb-reused status) $(grep -o '<h1>[^<]*' "$CAP/onb-reused.http" | sed 's/<h1>//')"
note "the callback without cookie: $(http onb-other-browser status) $(grep -o '<h1>[^<]*' "$CAP/onb-other-browser.http" | sed 's/<h1>//')"
expect "410 for the used link, 403 for another browser" \
    eval '[[ "$(http onb-reused status)" == 410 && "$(http onb-other-browser status)" == 403 ]]'

heading "30.7 Re-authorization through the Login URI (the Appstore, and every 365 days)"
onb_login "$ONB_SELLER" sellercentral-europe.amazon.com onb-login
ONB_MOTO="http://127.0.0.1:$MOTO_PORT" $ONB show-profile "${FLEET_SECRET_PREFIX}$ONB_PROFILE" >"$CAP/onb-profile2.json"
expect "connected again with a new refresh token ($(field onb-profile value.refresh_token) -> $(field onb-profile2 value.refresh_token))" \
    eval '[[ "$(http onb-login-callback status)" == 200 && "$(field onb-profile2 value.refresh_token)" != "$(field onb-profile value.refresh_token)" ]]'
note "more: docs/onboarding.md; in DEMO_KEEP=1 runs: make onboard-link PROFILE=… MARKETPLACE=… LOCAL_PORT=$ONB_PORT"
