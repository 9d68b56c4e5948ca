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
# only what it needs to go on. State and logs: .run/. Everything started is
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

# ------------------------------------------------------------------ output helpers

heading() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
show_cmd() { printf '$ %s\n' "$*"; }
indent() { sed 's/^/   /'; }
pretty() { local t; t=$(cat); "$PY" -m json.tool <<<"$t" 2>/dev/null || printf '%s\n' "$t"; }
log_tail() {  # the last lines of a log, for error messages
    [[ -s "$1" ]] || return 0
    echo "   --- last lines of ${1#"$ROOT"/} ---"
    tail -n "${2:-25}" "$1" | indent
}
die() { echo "demo: ERROR: $*" >&2; exit 1; }

# expect "what" COMMAND...: a step the story needs to go on.
expect() {
    local what=$1
    shift
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "   ✓ $what"
        return 0
    fi
    echo "   ✗ $what"
    [[ -n "${HINT:-}" ]] && log_tail "$HINT" 30
    if [[ "$CHECK" == 1 ]]; then
        echo "e2e: failed step: $what"; echo "e2e: $PASSED passed, 1 failed"
    else
        echo "demo: stopped: expected $what (logs in .run/)"
    fi
    exit 1
}
is() { [[ "$1" == "$2" ]]; }
isnt() { [[ "$1" != "$2" ]]; }

# ------------------------------------------------------------------ process control

# PIDs of every process started by this run (they carry DEMO_RUN_ID in their
# environment, children of children included), except this shell.
marked_pids() {
    local env pid
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}
        pid=${pid%/environ}
        [[ "$pid" == "$$" ]] && continue
        grep -qzxF "DEMO_RUN_ID=$RUN_ID" "$env" 2>/dev/null && echo "$pid"
    done
    return 0
}

cleanup() {
    local rc=$? pid i left
    trap - EXIT INT TERM
    set +e
    # Process groups first (cargo lambda watch stops its function instances on
    # SIGTERM; each instance runs in its own process group), newest first.
    for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM -- "-${STARTED_PIDS[i]}" 2>/dev/null || kill -TERM "${STARTED_PIDS[i]}" 2>/dev/null
    done
    # Then anything else carrying the marker; SIGKILL what is left after ~5 s.
    for i in $(seq 50); do
        left=$(marked_pids)
        [[ -z "$left" ]] && break
        [[ $i == 1 || $i == 25 ]] && kill -TERM $left 2>/dev/null
        sleep 0.1
    done
    left=$(marked_pids)
    [[ -n "$left" ]] && kill -KILL $left 2>/dev/null
    rm -f "$RUN/demo.pid"
    if [[ $rc != 0 && ${#STARTED_PIDS[@]} -gt 0 ]]; then
        echo "demo: stopped everything it started (exit status $rc); logs are in .run/" >&2
    fi
    exit "$rc"
}

# start NAME COMMAND...: in its own session/process group, with the run marker.
# stdout -> .run/NAME.out (START_COMBINED=1: .run/NAME.log too), stderr -> .run/NAME.log.
# Sets STARTED_PID.
start() {
    local name=$1 out
    shift
    out="$RUN/$name.out"
    [[ "${START_COMBINED:-0}" == 1 ]] && out="$RUN/$name.log"
    env DEMO_RUN_ID="$RUN_ID" setsid "$@" >"$out" 2>>"$RUN/$name.log" </dev/null &
    STARTED_PID=$!
    STARTED_PIDS+=("$STARTED_PID")
}

# start_peer NAME VAR COMMAND...: start a peer and read its `LISTENING <port>` line.
start_peer() {
    local name=$1 var=$2 line="" deadline
    shift 2
    start "$name" "$@"
    deadline=$((SECONDS + PEER_TIMEOUT))
    while :; do
        if [[ -s "$RUN/$name.out" ]]; then
            IFS= read -r line <"$RUN/$name.out" || true
            if [[ "$line" =~ ^LISTENING\ ([0-9]+)$ ]]; then
                printf -v "$var" '%s' "${BASH_REMATCH[1]}"
                return 0
            fi
            if [[ $(wc -l <"$RUN/$name.out") -ge 1 ]]; then  # a whole first line, not ours
                log_tail "$RUN/$name.log"
                die "$name printed '$line' instead of 'LISTENING <port>'"
            fi
        fi
        if ! kill -0 "$STARTED_PID" 2>/dev/null; then
            log_tail "$RUN/$name.log"
            die "$name exited before printing 'LISTENING <port>' (command: $*)"
        fi
        if ((SECONDS >= deadline)); then
            log_tail "$RUN/$name.log"
            die "$name did not print 'LISTENING <port>' within ${PEER_TIMEOUT} s (command: $*)"
        fi
        sleep 0.1
    done
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------ preflight

[[ -n "$PY" ]] && "$PY" -c 'import boto3, moto' 2>/dev/null ||
    die "the project venv is missing or incomplete (needs boto3 and moto[server]): run 'make venv'"
command -v cargo >/dev/null || die "cargo not found (install Rust: https://rustup.rs)"
cargo lambda --version >/dev/null 2>&1 ||
    die "'cargo lambda' not found: run 'make venv' (it installs the pinned cargo-lambda into .venv/bin)"
for tool in curl setsid; do command -v $tool >/dev/null || die "$tool not found"; done

mkdir -p "$RUN"
if [[ -f "$RUN/demo.pid" ]] && other=$(cat "$RUN/demo.pid") && [[ -n "$other" ]] &&
    kill -0 "$other" 2>/dev/null && grep -q demo.sh "/proc/$other/cmdline" 2>/dev/null; then
    die "another demo is running (pid $other); stop it first (Ctrl-C in its terminal)"
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$CAP" "$RUN"/*.log "$RUN"/*.out "$RUN"/*.env
mkdir -p "$CAP"
echo $$ >"$RUN/demo.pid"

# Stops everything even if this shell is killed with SIGKILL (the peers watch
# --parent-pid themselves; cargo lambda watch does not).
start watchdog bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}; pid=${pid%/environ}
        [[ $pid == $$ || $pid == $BASHPID ]] && continue
        grep -qzxF "DEMO_RUN_ID=$2" "$env" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
    done' watchdog "$$" "$RUN_ID"

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

heading "Building token-refresher and token-reader (cargo build --bins)"
start build timeout "$BUILD_TIMEOUT" cargo build --bins
waited=0
while kill -0 "$STARTED_PID" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    ((waited == 5)) && note "building… (a first build takes several minutes on 2 cores; log: .run/build.log)"
done
wait "$STARTED_PID" || { log_tail "$RUN/build.log" 30; die "cargo build failed; see .run/build.log"; }
note "built in $waited s"

# ------------------------------------------------------------------ cargo lambda watch

# Every variable the functions read: unset from the ambient environment so that
# only the env file decides the mode (single profile or fleet) and the settings.
FUNCTION_VARS=(LWA_CREDENTIALS_SECRET_ID TOKEN_PARAMETER_NAME LWA_SECRET_PREFIX TOKEN_PARAMETER_PREFIX
    LWA_APP_SECRET_ID LWA_TOKEN_URL TOKEN_KMS_KEY_ID REFRESH_MARGIN_SECONDS LWA_TIMEOUT_MS
    LWA_MAX_ATTEMPTS TOKEN_CACHE_SECONDS MIN_VALIDITY_SECONDS REFRESH_CONCURRENCY SSM_WRITE_TPS
    REFRESH_SPREAD_SECONDS)

# functions_env FILE LINE...: the functions' environment: moto, then each LINE.
functions_env() {
    local file=$1
    shift
    printf '%s\n' "AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing RUST_LOG=info "$@" >"$file"
}

# start_watch NAME ENV_FILE PREFERRED_PORT: `cargo lambda watch` with the functions'
# environment from ENV_FILE, log .run/NAME.log. Sets WATCH_PORT.
start_watch() {
    local name=$1 env_file=$2 preferred=$3 attempt port pid deadline unset_args=() v
    local log="$RUN/$name.log"
    for v in "${FUNCTION_VARS[@]}"; do unset_args+=(-u "$v"); done
    WATCH_PORT=""
    for attempt in 1 2 3; do
        port=$("${HELPER[@]}" free-port "$preferred")
        if [[ "$port" != "$preferred" ]]; then
            note "port $preferred is busy (another cargo lambda watch?): using $port instead;" \
                "the commands below say --invoke-port $port"
            preferred=$port
        fi
        rm -f "$log"
        START_COMBINED=1 start "$name" env "${unset_args[@]}" AWS_EC2_METADATA_DISABLED=true \
            cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
            --env-file "$env_file" "${WATCH_FLAGS[@]}"
        pid=$STARTED_PID
        deadline=$((SECONDS + 60))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            if grep -q "runtime_addr=127.0.0.1:$port" "$log" && tcp_open "$port"; then
                WATCH_PORT=$port
                return 0
            fi
            sleep 0.2
        done
        if grep -qi "address already in use" "$log"; then
            note "port $port was taken meanwhile, trying another"
            kill -TERM -- "-$pid" 2>/dev/null || true
            preferred=0
            continue
        fi
        log_tail "$log"
        die "cargo lambda watch ($name) did not start listening on 127.0.0.1:$port within 60 s"
    done
    die "cargo lambda watch ($name) could not find a free port"
}

# use_watch PORT LOG: where `invoke` and `function_log` go.
use_watch() { INVOKE_PORT=$1; WATCH_LOG=$2; HINT=$2; }

# invoke NAME FUNCTION EVENT: raw response -> $CAP/NAME.json, errors -> $CAP/NAME.err.
# EVENT is a file under events/ or, starting with `{`, the event itself.
# Sets INVOKE_RC. Reader answers (tokens) are stored masked.
invoke() {
    local name=$1 fn=$2 event=$3 raw data
    if [[ "$event" == "{"* ]]; then data=(--data-ascii "$event"); else data=(--data-file "events/$event"); fi
    show_cmd "cargo lambda invoke --invoke-port $INVOKE_PORT $fn ${data[0]} '${data[1]}'"
    LAST_FN=$fn
    INVOKE_RC=0
    raw=$(timeout "$INVOKE_TIMEOUT" cargo lambda invoke "$fn" --invoke-address 127.0.0.1 \
        --invoke-port "$INVOKE_PORT" "${data[@]}" 2>"$CAP/$name.err") || INVOKE_RC=$?
    if [[ "$fn" == token-reader ]]; then
        printf '%s\n' "$raw" | "${HELPER[@]}" mask >"$CAP/$name.json"
    else
        printf '%s\n' "$raw" >"$CAP/$name.json"
    fi
    if [[ $INVOKE_RC != 0 ]]; then
        echo "   the invocation failed (exit status $INVOKE_RC):"
        indent <"$CAP/$name.err"
    else
        # Masked on screen (an onboarding link is a bearer capability); the
        # capture keeps the whole answer.
        pretty <"$CAP/$name.json" | "${HELPER[@]}" mask | indent
    fi
}
field() { "${HELPER[@]}" json "$CAP/$1.json" "$2"; }
# get NAME URL [CURL ARGS]: `curl -i` of a function URL, masked -> $CAP/NAME.http, shown.
get() {
    show_cmd "curl -s -i${3:+ ${*:3}} '$2'"
    curl -s -i --max-time 120 "${@:3}" "$2" | "${HELPER[@]}" mask | tr -d '\r' >"$CAP/$1.http" || true
    indent <"$CAP/$1.http"
    echo
}
http() { "${HELPER[@]}" http "$CAP/$1.http" "${@:2}"; }  # http NAME status | header H | body
status() { http "$1" status; }
ok_rc() { [[ "$1" == 0 ]]; }
# The function's own log lines since the last mark (cargo's and cargo lambda's left
# out; so are lines matching the optional extended regex $1).
log_mark() { LOG_MARK=$(wc -l <"$WATCH_LOG"); }
function_log() {
    local lines
    lines=$(tail -n +"$((LOG_MARK + 1))" "$WATCH_LOG" | grep -vE \
        '^ *(INFO|WARN|ERROR|DEBUG) (spawning|starting|terminating|action constructed|outcome resolved|process group|response failed)|^ *(Blocking|Finished|Running|Compiling|Building|Fresh|warning:)|^$' |
        if [[ -n "${1:-}" ]]; then grep -vE -- "$1"; else cat; fi || true)
    [[ -n "$lines" ]] && { echo "   function log:"; sed 's/^ */     /' <<<"$lines"; }
    return 0
}
# step NAME FUNCTION EVENT: `invoke`, with the function's log lines shown.
step() { log_mark; invoke "$@"; function_log; }

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
scan_files=()
while IFS= read -r -d '' f; do scan_files+=("$f"); done < <(find "$RUN" -type f ! -name demo.pid -print0 | sort -z)
HINT=""
leaks=$("${HELPER[@]}" scan "${scan_files[@]}") || true
[[ -n "$leaks" ]] && indent <<<"$leaks" | indent
expect "no secret or raw token in ${#scan_files[@]} files" is "$leaks" ""

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
LWA stand-in requests: curl -s http://127.0.0.1:$LWA_PORT/_control/default/requests
AWS (moto): AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
Function logs: tail -f .run/watch.log .run/watch-fleet.log
Press Ctrl-C to stop everything.
MSG
    trap 'exit 0' INT TERM
    while :; do sleep 1; done
fi
