#!/usr/bin/env bash
# `make run`: both Lambda functions running locally against local peers.
#
#   moto (Secrets Manager + SSM)  <--  token-refresher  -->  LWA stand-in
#                                 <--  token-reader     <--  cargo lambda invoke / curl
#
# Starts, on 127.0.0.1 only: moto (tools/moto_peer.py), the LWA stand-in
# (tools/lwa_standin.py) and `cargo lambda watch` running the two binaries; puts a
# demo LWA client into the stand-in and its credentials into a Secrets Manager
# secret; then refreshes the token, reads it back from SSM, skips a fresh token,
# serves it to a direct invoke and over the function URL, and forces a refresh.
# Everything printed goes through a filter that replaces every access token by
# `sha256:<first 8 hex of its SHA-256>` (the `token_fingerprint` the functions
# log) and hides refresh tokens and client secrets. State and logs: .run/.
# Everything started is stopped on exit, on failure and on Ctrl-C.
#
#   scripts/demo.sh                 the demo (make run)
#   DEMO_CHECK=1 scripts/demo.sh    the same as a test (make e2e): every expectation
#                                   asserted, logs scanned for leaked secrets;
#                                   ends with "e2e: N passed, 0 failed"
#   DEMO_KEEP=1 scripts/demo.sh     leave everything running (with hot reload of
#                                   src/) and print how to invoke by hand; Ctrl-C stops
#
# Needs the project venv (`make venv`: moto, boto3, cargo-lambda) and cargo.
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

# Everything this script prints, stdout and stderr, goes through the mask.
if [[ -z "${_DEMO_MASKED:-}" ]]; then
    if [[ -z "$PY" ]]; then
        echo "demo: no python found; run 'make venv' first" >&2
        exit 2
    fi
    export _DEMO_MASKED=1
    set +e
    bash "$SCRIPT" "$@" 2>&1 | "$PY" -u "$ROOT/scripts/demo_aws.py" mask
    rc=${PIPESTATUS[0]}
    exit "$rc"
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
pretty() {
    local text
    text=$(cat)
    "$PY" -m json.tool <<<"$text" 2>/dev/null || printf '%s\n' "$text"
}

# The last lines of a log, for error messages (masked like everything else).
log_tail() {
    local file=$1 n=${2:-25}
    [[ -s "$file" ]] || return 0
    echo "   --- last lines of ${file#"$ROOT"/} ---"
    tail -n "$n" "$file" | indent
}

die() {
    echo "demo: ERROR: $*" >&2
    exit 1
}

# One expectation: `expect "what" command args...`.
expect() {
    local what=$1
    shift
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "   ✓ $what"
    else
        echo "   ✗ $what"
        [[ -n "${HINT:-}" ]] && log_tail "$HINT" 30
        if [[ "$CHECK" == 1 ]]; then
            echo "e2e: failed step: $what"; echo "e2e: $PASSED passed, 1 failed"
        else
            echo "demo: stopped: expected $what (logs in .run/)"
        fi
        exit 1
    fi
}

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
command -v curl >/dev/null || die "curl not found"
command -v setsid >/dev/null || die "setsid not found (util-linux)"

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

# ------------------------------------------------------------------ 1. peers

heading "Starting the local peers"
start_peer moto MOTO_PORT "$PY" tools/moto_peer.py --host 127.0.0.1 --port 0 --parent-pid $$
note "moto (Secrets Manager, SSM)  http://127.0.0.1:$MOTO_PORT"
start_peer lwa-standin LWA_PORT "$PY" tools/lwa_standin.py --host 127.0.0.1 --port 0 --parent-pid $$ --quiet
note "LWA token endpoint stand-in  http://127.0.0.1:$LWA_PORT/auth/o2/token"

# ------------------------------------------------------------------ 2, 3. demo data

heading "Demo credentials"
"${HELPER[@]}" register-client "http://127.0.0.1:$LWA_PORT/_control/default" | indent ||
    die "could not register the demo client with the LWA stand-in"
DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" DEMO_SECRET_ID="$SECRET_ID" \
    "${HELPER[@]}" create-secret 2>"$CAP/create-secret.err" | indent ||
    { log_tail "$CAP/create-secret.err"; die "could not create the secret in moto"; }

# ------------------------------------------------------------------ 4. build + watch

heading "Building token-refresher and token-reader (cargo build --bins)"
start build timeout "$BUILD_TIMEOUT" cargo build --bins
BUILD_PID=$STARTED_PID
waited=0
while kill -0 "$BUILD_PID" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if ((waited == 5)); then
        note "building… (a first build takes several minutes on 2 cores; log: .run/build.log)"
    elif ((waited % 60 == 0)); then
        note "still building… $((waited / 60)) min"
    fi
done
if ! wait "$BUILD_PID"; then
    log_tail "$RUN/build.log" 30
    die "cargo build failed (or took more than $((BUILD_TIMEOUT / 60)) min); see .run/build.log"
fi
note "built in $((waited)) s"

cat >"$RUN/functions.env" <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
LWA_CREDENTIALS_SECRET_ID=$SECRET_ID
TOKEN_PARAMETER_NAME=$PARAMETER
LWA_TOKEN_URL=http://127.0.0.1:$LWA_PORT/auth/o2/token
RUST_LOG=info
EOF

# Every variable the functions read: unset from the ambient environment so that
# only the env file decides the mode (single profile or fleet) and the settings.
FUNCTION_VARS=(LWA_CREDENTIALS_SECRET_ID TOKEN_PARAMETER_NAME LWA_SECRET_PREFIX TOKEN_PARAMETER_PREFIX
    LWA_APP_SECRET_ID LWA_TOKEN_URL TOKEN_KMS_KEY_ID REFRESH_MARGIN_SECONDS LWA_TIMEOUT_MS
    LWA_MAX_ATTEMPTS TOKEN_CACHE_SECONDS MIN_VALIDITY_SECONDS REFRESH_CONCURRENCY SSM_WRITE_TPS
    REFRESH_SPREAD_SECONDS RUST_LOG)

# start_watch NAME ENV_FILE PREFERRED_PORT: `cargo lambda watch` with the functions'
# environment from ENV_FILE, log .run/NAME.log. Sets WATCH_PORT.
start_watch() {
    local name=$1 env_file=$2 preferred=$3 attempt port deadline unset_args=() v
    local log="$RUN/$name.log"
    for v in "${FUNCTION_VARS[@]}"; do unset_args+=(-u "$v"); done
    WATCH_PORT=""
    for attempt in 1 2 3; do
        if [[ $attempt == 1 ]]; then port=$("${HELPER[@]}" free-port "$preferred"); else port=$("${HELPER[@]}" free-port); fi
        # The functions inherit this environment; --env-file makes the settings explicit
        # and wins over it. Ambient AWS profile/session settings are dropped.
        rm -f "$log"
        START_COMBINED=1 start "$name" env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN \
            -u AWS_SECURITY_TOKEN -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE \
            -u AWS_LAMBDA_LOG_LEVEL -u AWS_LAMBDA_LOG_FORMAT "${unset_args[@]}" AWS_EC2_METADATA_DISABLED=true \
            cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
            --env-file "$env_file" "${WATCH_FLAGS[@]}"
        local pid=$STARTED_PID
        deadline=$((SECONDS + 60))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            if grep -q "runtime_addr=127.0.0.1:$port" "$log" && tcp_open "$port"; then
                WATCH_PORT=$port
                return 0
            fi
            sleep 0.2
        done
        if grep -qi "address already in use" "$log"; then
            note "port $port was taken, trying another"
            kill -TERM -- "-$pid" 2>/dev/null || true
            continue
        fi
        log_tail "$log"
        die "cargo lambda watch ($name) did not start listening on 127.0.0.1:$port within 60 s"
    done
    die "cargo lambda watch ($name) could not find a free port"
}

heading "Starting cargo lambda watch"
WATCH_FLAGS=()
[[ "$KEEP" == 1 ]] || WATCH_FLAGS+=(--ignore-changes)
start_watch watch "$RUN/functions.env" 9000
INVOKE_PORT=$WATCH_PORT
SINGLE_PORT=$WATCH_PORT
WATCH_LOG="$RUN/watch.log"
URL="http://127.0.0.1:$INVOKE_PORT/lambda-url/token-reader/"
note "function runtime API and invoke endpoint  http://127.0.0.1:$INVOKE_PORT"
note "function URL of token-reader              $URL"
note "function environment (.run/functions.env):"
sed 's/^/     /' "$RUN/functions.env"

# invoke NAME FUNCTION EVENT: raw response -> $CAP/NAME.json, errors -> $CAP/NAME.err.
# EVENT is a file under events/ or, starting with `{`, the event itself.
# Sets INVOKE_RC. The response is kept raw only for the refresher (it never holds a
# token: the leak scan checks that); reader answers are stored masked.
invoke() {
    local name=$1 fn=$2 event=$3 raw data
    if [[ "$event" == "{"* ]]; then
        data=(--data-ascii "$event")
        show_cmd "cargo lambda invoke $fn --data-ascii '$event'"
    else
        data=(--data-file "events/$event")
        show_cmd "cargo lambda invoke $fn --data-file events/$event"
    fi
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
        pretty <"$CAP/$name.json" | indent
    fi
}
field() { "${HELPER[@]}" json "$CAP/$1.json" "$2"; }
# The function's own log lines since the last mark (cargo lambda's and cargo's
# are left out; so are lines matching the optional extended regex $1).
log_mark() { LOG_MARK=$(wc -l <"$WATCH_LOG"); }
function_log() {
    local lines
    lines=$(tail -n +"$((LOG_MARK + 1))" "$WATCH_LOG" | grep -vE \
        '^ *(INFO|WARN|ERROR|DEBUG) (spawning|starting|terminating|action constructed|outcome resolved|process group|response failed)|^ *(Blocking|Finished|Running|Compiling|Building|Fresh|warning:)|^$' |
        if [[ -n "${1:-}" ]]; then grep -vE -- "$1"; else cat; fi || true)
    [[ -n "$lines" ]] && { echo "   function log:"; sed 's/^ */     /' <<<"$lines"; }
    return 0
}
is() { [[ "$1" == "$2" ]]; }
isnt() { [[ "$1" != "$2" ]]; }
ok_rc() { [[ "$1" == 0 ]]; }
HINT="$RUN/watch.log"

# ------------------------------------------------------------------ 5a. refresh

heading "1. token-refresher, scheduled event: no token stored yet, so it asks LWA for one"
log_mark
invoke refresh-scheduled token-refresher scheduled.json
function_log
expect "$LAST_FN answered without an error" ok_rc "$INVOKE_RC"
FP1=$(field refresh-scheduled token_fingerprint)
expect 'outcome is "refreshed"' is "$(field refresh-scheduled outcome)" refreshed
expect "the response holds a fingerprint, not a token" \
    eval '[[ "$FP1" =~ ^[0-9a-f]{8}$ && -z "$(field refresh-scheduled access_token)" ]]'

# ------------------------------------------------------------------ 5b. parameter

heading "2. The SSM parameter it wrote (get_parameter WithDecryption=True; token shown as its fingerprint)"
DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" "${HELPER[@]}" parameter "$PARAMETER" \
    >"$CAP/parameter-1.json" 2>"$CAP/parameter-1.err" ||
    { log_tail "$CAP/parameter-1.err"; die "could not read parameter $PARAMETER from moto"; }
PARAM_FP1=$(field parameter-1 fingerprint)
note "name:    $(field parameter-1 name)"
note "type:    $(field parameter-1 type)"
note "version: $(field parameter-1 version)"
note "value:   $(field parameter-1 value)"
expect "it is a SecureString" is "$(field parameter-1 type)" SecureString
expect "the stored token is an LWA access token (it starts with Atza)" is "$(field parameter-1 token_prefix_ok)" true
expect "its fingerprint sha256:$PARAM_FP1 matches the refresher's token_fingerprint $FP1" is "$PARAM_FP1" "$FP1"

# ------------------------------------------------------------------ 5c. skip

heading "3. token-refresher again ({\"action\":\"refresh\"}): the stored token is fresh, so LWA is not called"
log_mark
invoke refresh-again token-refresher refresh.json
function_log
expect "$LAST_FN answered without an error" ok_rc "$INVOKE_RC"
expect 'outcome is "skipped"' is "$(field refresh-again outcome)" skipped

# ------------------------------------------------------------------ 5d. reader, direct

heading "4. token-reader, direct invoke ({\"action\":\"get\"}) as another Lambda would call it"
log_mark
invoke reader-get token-reader reader-get.json
function_log
expect "$LAST_FN answered without an error" ok_rc "$INVOKE_RC"
expect "it answers the stored token (sha256:$FP1)" is "$(field reader-get access_token)" "sha256:$FP1"
expect 'token_type is "bearer"' is "$(field reader-get token_type)" bearer

# ------------------------------------------------------------------ 5e. function URL

heading "5. token-reader through its function URL"
show_cmd "curl -s -i $URL"
log_mark
raw=$(curl -s -i --max-time 120 "$URL") || true
printf '%s\n' "$raw" | "${HELPER[@]}" mask | tr -d '\r' >"$CAP/url-get.http"
unset raw
indent <"$CAP/url-get.http"
echo
function_log
http() { "${HELPER[@]}" http "$CAP/$1.http" "${@:2}"; }
"${HELPER[@]}" http "$CAP/url-get.http" body >"$CAP/url-get.json"
expect "status 200" is "$(http url-get status)" 200
expect "Content-Type: application/json" eval '[[ "$(http url-get header content-type)" == application/json* ]]'
expect "Cache-Control: no-store" is "$(http url-get header cache-control)" no-store
expect "the body holds the stored token (sha256:$FP1)" is "$(field url-get access_token)" "sha256:$FP1"

show_cmd "curl -s -i -X POST $URL"
log_mark
curl -s -i --max-time 120 -X POST -H 'content-type: application/json' -d '{"action":"get"}' "$URL" |
    tr -d '\r' >"$CAP/url-post.http" || true
indent <"$CAP/url-post.http"
echo
function_log
expect "status 405" is "$(http url-post status)" 405
expect "Allow: GET" is "$(http url-post header allow)" GET

# ------------------------------------------------------------------ 5f. force

heading "6. token-refresher, forced ({\"action\":\"refresh\",\"force\":true}): a new token now"
log_mark
invoke refresh-force token-refresher force-refresh.json
function_log
FP2=$(field refresh-force token_fingerprint)
expect "$LAST_FN answered without an error" ok_rc "$INVOKE_RC"
expect 'outcome is "refreshed"' is "$(field refresh-force outcome)" refreshed
expect "a new token: sha256:$FP2, was sha256:$FP1" eval '[[ "$FP2" =~ ^[0-9a-f]{8}$ && "$FP2" != "$FP1" ]]'
DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" "${HELPER[@]}" parameter "$PARAMETER" \
    >"$CAP/parameter-2.json" 2>"$CAP/parameter-2.err" ||
    { log_tail "$CAP/parameter-2.err"; die "could not read parameter $PARAMETER from moto"; }
note "parameter now: version $(field parameter-2 version), value $(field parameter-2 value)"
expect "SSM holds the new token (version $(field parameter-2 version))" \
    eval '[[ "$(field parameter-2 fingerprint)" == "$FP2" && "$(field parameter-2 version)" -gt "$(field parameter-1 version)" ]]'

# ------------------------------------------------------------------ 7. fleet mode

heading "7. Fleet mode: every secret under a prefix is a profile (sellers + a grantless profile)"
FLEET_SECRET_PREFIX="spapi/lwa/sellers/"
FLEET_PARAMETER_PREFIX="/spapi/lwa/sellers/"
FLEET_APP_SECRET="spapi/lwa/app"
"${HELPER[@]}" register-fleet "http://127.0.0.1:$LWA_PORT/_control/fleet" | indent ||
    die "could not register the fleet's client with the LWA stand-in"
DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" "${HELPER[@]}" create-fleet-secrets \
    2>"$CAP/create-fleet-secrets.err" | indent ||
    { log_tail "$CAP/create-fleet-secrets.err"; die "could not create the fleet's secrets in moto"; }

# The same peers; the fleet's token requests go to their own stand-in namespace.
cat >"$RUN/functions-fleet.env" <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
LWA_SECRET_PREFIX=$FLEET_SECRET_PREFIX
TOKEN_PARAMETER_PREFIX=$FLEET_PARAMETER_PREFIX
LWA_APP_SECRET_ID=$FLEET_APP_SECRET
LWA_TOKEN_URL=http://127.0.0.1:$LWA_PORT/ns/fleet/auth/o2/token
RUST_LOG=info
EOF
note "a second cargo lambda watch runs both functions in fleet mode (log: .run/watch-fleet.log)"
start_watch watch-fleet "$RUN/functions-fleet.env" 9001
FLEET_PORT=$WATCH_PORT
INVOKE_PORT=$FLEET_PORT
WATCH_LOG="$RUN/watch-fleet.log"
HINT="$WATCH_LOG"
FLEET_URL="http://127.0.0.1:$FLEET_PORT/lambda-url/token-reader/"
note "invoke endpoint  http://127.0.0.1:$FLEET_PORT, function URL of token-reader $FLEET_URL"
note "function environment (.run/functions-fleet.env):"
sed 's/^/     /' "$RUN/functions-fleet.env"

heading "8. token-refresher, fleet mode, scheduled event: initech-jp's refresh token was revoked"
log_mark
invoke fleet-refresh token-refresher scheduled.json
FLEET_MARK=$LOG_MARK
function_log 'fleet run finished|^ *\{.*"_aws"'
FLEET_ERR=$(cat "$CAP/fleet-refresh.err")
FLEET_ERROR_TYPE=""
[[ "$FLEET_ERR" == *ProfilesFailed* ]] && FLEET_ERROR_TYPE=ProfilesFailed
echo
"${HELPER[@]}" fleet-summary "$WATCH_LOG" "$FLEET_MARK" "$CAP/fleet-summary.json" | indent || true
sf() { field fleet-summary "$1"; }
echo
expect "the invocation failed (exit status $INVOKE_RC)" isnt "$INVOKE_RC" 0
expect "with errorType ProfilesFailed" is "$FLEET_ERROR_TYPE" ProfilesFailed
expect "the error message names initech-jp (LwaInvalidGrant)" \
    eval '[[ "$FLEET_ERR" == *"initech-jp (LwaInvalidGrant)"* ]]'
expect "the function logged the \`fleet run finished\` summary" is "$(sf found)" true
expect "4 profiles found (the app secret is not one)" is "$(sf summary.profiles)" 4
expect "refreshed=3 (acme-us, globex-eu, notifications)" is "$(sf summary.refreshed)" 3
expect "failed=1" is "$(sf summary.failed)" 1
expect "deferred=0" is "$(sf summary.deferred)" 0
expect "the one failure is initech-jp, LwaInvalidGrant" is "$(sf failures_brief)" "initech-jp:LwaInvalidGrant"
expect "the EMF line reports Refreshed=3 Failed=1 Deferred=0" \
    eval '[[ "$(sf emf_found)" == true && "$(sf emf.Refreshed)" == 3 && "$(sf emf.Failed)" == 1 && "$(sf emf.Deferred)" == 0 ]]'
"${HELPER[@]}" standin-requests "http://127.0.0.1:$LWA_PORT/_control/fleet/requests" >"$CAP/fleet-standin.txt" ||
    die "could not read the LWA stand-in's request log"
note "the LWA stand-in saw:"
indent <"$CAP/fleet-standin.txt"
STANDIN_N=$(head -n1 "$CAP/fleet-standin.txt" | cut -d' ' -f1)
expect "token_requests=$(sf summary.token_requests) in the summary, as the stand-in counted ($STANDIN_N)" \
    is "$(sf summary.token_requests)" "$STANDIN_N"

heading "9. The fleet's SSM parameters under $FLEET_PARAMETER_PREFIX (tokens shown as fingerprints)"
DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT" "${HELPER[@]}" parameters "$FLEET_PARAMETER_PREFIX" \
    "$CAP/fleet-parameters.json" 2>"$CAP/fleet-parameters.err" | indent ||
    { log_tail "$CAP/fleet-parameters.err"; die "could not list the parameters under $FLEET_PARAMETER_PREFIX"; }
pf() { field fleet-parameters "$1"; }
acme_fp=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((p["fingerprint"] for p in d["parameters"] if p["profile"]=="acme-us"), ""))' "$CAP/fleet-parameters.json")
expect "three tokens: acme-us, globex-eu, notifications (none for initech-jp)" \
    is "$(pf token_profiles)" "acme-us,globex-eu,notifications"
expect "initech-jp's parameter records only its lost authorization" is "$(pf lost_profiles)" "initech-jp"
expect "each a SecureString holding an LWA access token or the authorization_lost marker" "$PY" -c \
    'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if all(p["type"]=="SecureString" and (p["token_prefix_ok"] or p["authorization_lost"]) for p in d["parameters"]) else 1)' \
    "$CAP/fleet-parameters.json"

heading "10. token-reader in fleet mode (TOKEN_PARAMETER_PREFIX): the caller names the profile"
log_mark
invoke fleet-reader-get token-reader '{"action":"get","profile":"acme-us"}'
function_log
expect "$LAST_FN answered without an error" ok_rc "$INVOKE_RC"
expect "it answers acme-us's token (sha256:$acme_fp)" is "$(field fleet-reader-get access_token)" "sha256:$acme_fp"

show_cmd "curl -s -i '${FLEET_URL}?profile=acme-us'"
log_mark
raw=$(curl -s -i --max-time 120 "${FLEET_URL}?profile=acme-us") || true
printf '%s\n' "$raw" | "${HELPER[@]}" mask | tr -d '\r' >"$CAP/fleet-url-get.http"
unset raw
indent <"$CAP/fleet-url-get.http"
echo
function_log
"${HELPER[@]}" http "$CAP/fleet-url-get.http" body >"$CAP/fleet-url-get.json"
expect "status 200" is "$(http fleet-url-get status)" 200
expect "the body holds acme-us's token (sha256:$acme_fp)" is "$(field fleet-url-get access_token)" "sha256:$acme_fp"

show_cmd "curl -s -i '${FLEET_URL}?profile=../../spapi/lwa/access-token'"
log_mark
raw=$(curl -s -i --max-time 120 "${FLEET_URL}?profile=../../spapi/lwa/access-token") || true
printf '%s\n' "$raw" | "${HELPER[@]}" mask | tr -d '\r' >"$CAP/fleet-url-traversal.http"
unset raw
indent <"$CAP/fleet-url-traversal.http"
echo
function_log
"${HELPER[@]}" http "$CAP/fleet-url-traversal.http" body >"$CAP/fleet-url-traversal.json"
expect "a path in the profile is refused: status 400" is "$(http fleet-url-traversal status)" 400
expect "no token in the answer" eval '[[ -z "$(field fleet-url-traversal access_token)" ]]'

# ------------------------------------------------------------------ stories
# More stories (client-secret rotation, seller onboarding) live in
# scripts/stories/NN-name.sh and are sourced here, in order, with every helper
# above (heading, note, show_cmd, expect, start_watch, invoke, field, die) and
# the peers' ports (MOTO_PORT, LWA_PORT), RUN, CAP, PY and HELPER in scope.
for story in "$ROOT"/scripts/stories/[0-9]*.sh; do
    [[ -e "$story" ]] || continue
    # shellcheck source=/dev/null
    source "$story"
done

# ------------------------------------------------------------------ 11. leak scan

heading "Secrets in logs and responses"
note "looking for the demo client secret, every planted refresh token (the single profile's and"
note "the sellers'), and any raw access (Atza) or refresh (Atzr) token, in .run/: the function"
note "logs of both watches, the peers' logs and every captured response (reader answers are"
note "stored masked, so any raw token there is a leak)"
scan_files=()
while IFS= read -r -d '' f; do
    scan_files+=("$f")
done < <(find "$RUN" -type f ! -name demo.pid -print0 | sort -z)
HINT=""
leaks=$("${HELPER[@]}" scan "${scan_files[@]}") || true
[[ -n "$leaks" ]] && sed 's/^/     /' <<<"$leaks"
expect "no secret or raw token in ${#scan_files[@]} files" is "$leaks" ""

echo
echo "All steps done in $((SECONDS - T0)) s. Logs: .run/watch.log and .run/watch-fleet.log (functions), .run/moto.log, .run/lwa-standin.log"
if [[ "$CHECK" == 1 ]]; then
    echo "e2e: $PASSED passed, 0 failed"
fi

if [[ "$KEEP" == 1 ]]; then
    inv="cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port"
    cat <<EOF

Everything is still running (cargo lambda watch reloads the functions when src/ changes).
Try, from $ROOT with .venv/bin on PATH:
  single profile (.run/functions.env):
  $inv $SINGLE_PORT token-refresher --data-file events/force-refresh.json
  $inv $SINGLE_PORT token-reader --data-file events/reader-get.json        (prints a real token)
  curl -i $URL
  curl -s http://127.0.0.1:$LWA_PORT/_control/default/requests  (the LWA stand-in's request log)
  fleet (.run/functions-fleet.env):
  $inv $FLEET_PORT token-refresher --data-file events/force-refresh.json
  $inv $FLEET_PORT token-reader --data-ascii '{"action":"get","profile":"globex-eu"}'  (a real token)
  curl -i '${FLEET_URL}?profile=notifications'
  curl -s http://127.0.0.1:$LWA_PORT/_control/fleet/requests
  AWS: endpoint http://127.0.0.1:$MOTO_PORT, region us-east-1, access key testing / testing
Function logs: tail -f .run/watch.log .run/watch-fleet.log
Press Ctrl-C to stop everything.
EOF
    trap 'exit 0' INT TERM
    while :; do sleep 1; done
fi
