#!/usr/bin/env bash
# `make run`: both Lambda functions running locally against local peers.
#
#   moto (Secrets Manager + SSM)  <--  token-refresher  -->  LWA stand-in
#                                 <--  token-reader     <--  cargo lambda invoke / curl
#
# Starts, on 127.0.0.1 only, moto, the LWA stand-in and `cargo lambda watch`;
# refreshes a token, skips a fresh one, serves it (direct invoke and function
# URL), forces a refresh, then does the same for a fleet of sellers; then runs
# scripts/stories/NN-*.sh and scans everything for leaked secrets. Everything
# printed is masked (access tokens as `sha256:<8 hex>`, other secrets hidden).
# The behaviour shown here is asserted in tests/story.rs; this script checks
# only what it needs to go on. Its machinery (processes, peers, cargo lambda
# watch, invoking, logs) is scripts/demo-kit.sh. State and logs: .run/. Everything started is
# stopped on exit, on failure and on Ctrl-C.
#
#   scripts/demo.sh                 the demo (make run)
#   DEMO_CHECK=1 scripts/demo.sh    the same, failing on the first unmet step (make e2e)
#   DEMO_KEEP=1 scripts/demo.sh     leave everything running (hot reload of src/)
set -euo pipefail

SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
ROOT="$(dirname "$(dirname "$SCRIPT")")"
cd "$ROOT"
if [[ -x "$ROOT/.venv/bin/python" ]]; then
    export PATH="$ROOT/.venv/bin:$PATH"
    PY="$ROOT/.venv/bin/python"
else
    PY="$(command -v python3 || true)"
fi
HELPER=("$PY" "$ROOT/scripts/demo_aws.py")
# The caller's logging and AWS settings never reach the demo (a RUST_LOG=debug
# would flood it; an AWS_PROFILE would send the SDK to a real account).
unset RUST_LOG AWS_LAMBDA_LOG_LEVEL AWS_LAMBDA_LOG_FORMAT AWS_PROFILE AWS_DEFAULT_PROFILE \
    AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION \
    AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

# Everything this script prints, stdout and stderr, goes through the mask.
if [[ -z "${_DEMO_MASKED:-}" ]]; then
    [[ -n "$PY" ]] || { echo "demo: no python found; run 'make venv' first" >&2; exit 2; }
    export _DEMO_MASKED=1
    set +e
    bash "$SCRIPT" "$@" 2>&1 | "$PY" -u "$ROOT/scripts/demo_aws.py" mask
    exit "${PIPESTATUS[0]}"
fi

CHECK="${DEMO_CHECK:-0}"
KEEP="${DEMO_KEEP:-0}"
[[ "$CHECK" == 1 ]] && KEEP=0
RUN="$ROOT/.run"
CAP="$RUN/captures"
RUN_ID="lwa-demo-$$-$RANDOM$RANDOM"  # in the environment of everything started here
SECRET_ID="spapi/lwa/demo"
PARAMETER="/spapi/lwa/access-token"
PEER_TIMEOUT=20
BUILD_TIMEOUT=900
INVOKE_TIMEOUT=900  # the first invoke of each function runs `cargo run` (waits for cargo's lock)
STARTED_PIDS=()
PASSED=0
T0=$SECONDS

# shellcheck source=scripts/demo-kit.sh
source "$ROOT/scripts/demo-kit.sh"
preflight

echo "LWA token service: local demo (state and logs in .run/)"

# ------------------------------------------------------------------ peers, data, build

heading "Starting the local peers"
start_peer moto MOTO_PORT "$PY" tools/moto_peer.py --host 127.0.0.1 --port 0 --parent-pid $$
note "moto (Secrets Manager, SSM)  http://127.0.0.1:$MOTO_PORT"
start_peer lwa-standin LWA_PORT "$PY" tools/lwa_standin.py --host 127.0.0.1 --port 0 --parent-pid $$ --quiet
note "LWA token endpoint stand-in  http://127.0.0.1:$LWA_PORT/auth/o2/token"
export DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT"

heading "Demo credentials"
"${HELPER[@]}" register-client "http://127.0.0.1:$LWA_PORT/_control/default" | indent ||
    die "could not register the demo client with the LWA stand-in"
DEMO_SECRET_ID="$SECRET_ID" "${HELPER[@]}" create-secret 2>"$CAP/create-secret.err" | indent ||
    { log_tail "$CAP/create-secret.err"; die "could not create the secret in moto"; }

heading "Building the four functions (cargo build --bins)"
build_functions

# ------------------------------------------------------------------ cargo lambda watch

heading "Starting cargo lambda watch"
WATCH_FLAGS=()
[[ "$KEEP" == 1 ]] || WATCH_FLAGS+=(--ignore-changes)
functions_env "$RUN/functions.env" "LWA_CREDENTIALS_SECRET_ID=$SECRET_ID" "TOKEN_PARAMETER_NAME=$PARAMETER" \
    "LWA_TOKEN_URL=http://127.0.0.1:$LWA_PORT/auth/o2/token"
start_watch watch "$RUN/functions.env" 9000
SINGLE_PORT=$WATCH_PORT
use_watch "$SINGLE_PORT" "$RUN/watch.log"
URL="http://127.0.0.1:$SINGLE_PORT/lambda-url/token-reader/"
note "invoke endpoint http://127.0.0.1:$SINGLE_PORT; function URL of token-reader $URL"
note "function environment (.run/functions.env):"
indent <"$RUN/functions.env" | indent

# ------------------------------------------------------------------ single profile

heading "1. token-refresher, scheduled event: no token stored yet, so it asks LWA for one"
step refresh-scheduled token-refresher scheduled.json
expect 'outcome "refreshed"' is "$(field refresh-scheduled outcome)" refreshed

heading "2. The SSM parameter it wrote (a SecureString; the token shown as its fingerprint)"
"${HELPER[@]}" parameter "$PARAMETER" 2>"$CAP/parameter.err" | pretty | indent ||
    { log_tail "$CAP/parameter.err"; die "could not read parameter $PARAMETER from moto"; }

heading "3. token-refresher again: the stored token is fresh, so LWA is not called"
step refresh-again token-refresher refresh.json
expect 'outcome "skipped"' is "$(field refresh-again outcome)" skipped

heading "4. token-reader, direct invoke, as another Lambda would call it"
step reader-get token-reader reader-get.json
expect "it answers the token" isnt "$(field reader-get access_token)" ""

heading "5. token-reader through its function URL (GET; any other method is 405)"
note "locally unsigned: cargo lambda watch does not check SigV4. Deployed, the URL is AuthType AWS_IAM:"
note "AWS answers an unsigned request 403 before the function runs (signed calls: docs/consumers.md)"
log_mark
get url-get "$URL"
get url-post "$URL" -X POST
function_log
expect "GET is answered 200" is "$(status url-get)" 200

heading "6. token-refresher, forced: a new token now"
step refresh-force token-refresher force-refresh.json
expect 'outcome "refreshed", a new token' \
    eval '[[ "$(field refresh-force outcome)" == refreshed && "$(field refresh-force token_fingerprint)" != "$(field refresh-scheduled token_fingerprint)" ]]'

# ------------------------------------------------------------------ fleet

heading "7. Fleet mode: every secret under a prefix is a profile (sellers + a grantless profile)"
"${HELPER[@]}" register-fleet "http://127.0.0.1:$LWA_PORT/_control/fleet" | indent ||
    die "could not register the fleet's client with the LWA stand-in"
"${HELPER[@]}" create-fleet-secrets 2>"$CAP/create-fleet-secrets.err" | indent ||
    { log_tail "$CAP/create-fleet-secrets.err"; die "could not create the fleet's secrets in moto"; }
# The fleet's names (the stories after this one use them too).
FLEET_SECRET_PREFIX="spapi/lwa/sellers/"
FLEET_PARAMETER_PREFIX="/spapi/lwa/sellers/"
FLEET_APP_SECRET="spapi/lwa/app"
functions_env "$RUN/functions-fleet.env" "LWA_SECRET_PREFIX=$FLEET_SECRET_PREFIX" \
    "TOKEN_PARAMETER_PREFIX=$FLEET_PARAMETER_PREFIX" "LWA_APP_SECRET_ID=$FLEET_APP_SECRET" \
    "LWA_TOKEN_URL=http://127.0.0.1:$LWA_PORT/ns/fleet/auth/o2/token"
note "a second cargo lambda watch runs both functions in fleet mode (.run/functions-fleet.env)"
start_watch watch-fleet "$RUN/functions-fleet.env" 9001
FLEET_PORT=$WATCH_PORT
use_watch "$FLEET_PORT" "$RUN/watch-fleet.log"
FLEET_URL="http://127.0.0.1:$FLEET_PORT/lambda-url/token-reader/"

heading "8. token-refresher, fleet mode: three refreshed; initech-jp's refresh token was revoked"
note "expected to fail: a fleet run that leaves a profile without a fresh token ends in an error"
note "(ProfilesFailed), so Lambda's Errors metric and alarms see it; the other three are stored"
step fleet-refresh token-refresher scheduled.json
expect "it fails with ProfilesFailed, naming initech-jp (LwaInvalidGrant)" \
    eval '[[ "$(cat "$CAP/fleet-refresh.err")" == *ProfilesFailed*"initech-jp (LwaInvalidGrant)"* ]]'

heading "9. token-reader in fleet mode: the caller names the profile"
step fleet-reader-get token-reader '{"action":"get","profile":"acme-us"}'
expect "it answers acme-us's token" isnt "$(field fleet-reader-get access_token)" ""
log_mark
get fleet-url-traversal "${FLEET_URL}?profile=../../spapi/lwa/access-token"
function_log
expect "a path in the profile is refused (400)" is "$(status fleet-url-traversal)" 400

# ------------------------------------------------------------------ stories
# More stories (client-secret rotation, seller onboarding) live in
# scripts/stories/NN-name.sh and are sourced here, in order, with every helper
# above (heading, note, show_cmd, expect, start_watch, invoke, field, die) and
# the peers' ports (MOTO_PORT, LWA_PORT), RUN, CAP, PY, HELPER and CHECK in scope.
for story in "$ROOT"/scripts/stories/[0-9]*.sh; do
    [[ -e "$story" ]] || continue
    # shellcheck source=/dev/null
    source "$story"
done

# ------------------------------------------------------------------ leak scan

heading "Secrets in logs and responses"
note "the planted client secret and refresh tokens, and any raw access or refresh token, in every"
note "file under .run/ (function and peer logs, captured answers; reader answers are stored masked)"
leak_scan

echo
echo "All steps done in $((SECONDS - T0)) s. Logs: .run/watch.log, .run/watch-fleet.log, .run/moto.log, .run/lwa-standin.log"
[[ "$CHECK" == 1 ]] && echo "e2e: $PASSED passed, 0 failed"

if [[ "$KEEP" == 1 ]]; then
    inv="cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port"
    cat <<MSG

Everything is still running (cargo lambda watch reloads the functions when src/ changes).
In another terminal:
  cd $ROOT
  export PATH="$ROOT/.venv/bin:\$PATH"
single profile (.run/functions.env):
  $inv $SINGLE_PORT token-refresher --data-file events/force-refresh.json
  $inv $SINGLE_PORT token-reader --data-file events/reader-get.json      (prints a real token)
  curl -i $URL
fleet (.run/functions-fleet.env):
  $inv $FLEET_PORT token-refresher --data-file events/force-refresh.json
  $inv $FLEET_PORT token-reader --data-ascii '{"action":"get","profile":"globex-eu"}'
  curl -i '${FLEET_URL}?profile=notifications'
MSG
    [[ -n "${ROTATION_PORT:-}" ]] && cat <<MSG
client-secret-rotator (.run/functions-rotation.env):
  $inv $ROTATION_PORT client-secret-rotator --data-ascii '{"action":"status"}'
MSG
    [[ -n "${ONB_PORT:-}" ]] && cat <<MSG
seller-onboarding (.run/functions-onboarding.env): mint a link, open it in a browser
(the stand-in's consent page has an Authorize button), then read the seller's token:
  make onboard-link PROFILE=hooli-uk MARKETPLACE=UK LOCAL_PORT=$ONB_PORT
  $inv $FLEET_PORT token-reader --data-ascii '{"action":"get","profile":"hooli-uk"}'
MSG
    cat <<MSG
LWA stand-in requests (they show the demo's planted client secret): curl -s http://127.0.0.1:$LWA_PORT/_control/default/requests
AWS (moto): AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
Function logs: tail -f .run/watch*.log
Press Ctrl-C to stop everything.
MSG
    trap 'exit 0' INT TERM
    while :; do sleep 1; done
fi
