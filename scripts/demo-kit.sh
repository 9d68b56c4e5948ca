# The machinery of scripts/demo.sh (sourced by it; not run on its own):
# output helpers, `expect`, starting and stopping processes, the local peers,
# `cargo lambda watch`, invoking the functions and reading their logs.
# Everything started carries DEMO_RUN_ID=$RUN_ID and is stopped on exit.
# shellcheck shell=bash

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

# preflight: the tools are there, no other demo runs; then the traps, .run/,
# and a watchdog that stops everything even if this shell is killed with
# SIGKILL (the peers watch --parent-pid themselves; cargo lambda watch does not).
preflight() {
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

    start watchdog bash -c '
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        for env in /proc/[0-9]*/environ; do
            pid=${env#/proc/}; pid=${pid%/environ}
            [[ $pid == $$ || $pid == $BASHPID ]] && continue
            grep -qzxF "DEMO_RUN_ID=$2" "$env" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
        done' watchdog "$$" "$RUN_ID"
}

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
        # The function's error as cargo lambda prints it, without its own
        # "Was this behavior unexpected? Start a thread in …" trailer (the
        # capture keeps it): the error is the function's, not cargo lambda's.
        awk '/^ *Was this behavior unexpected\?$/ { exit } /^ *$/ { blank = blank "\n"; next }
             { printf "%s%s\n", blank, $0; blank = "" }' "$CAP/$name.err" | indent
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

# build_functions: `cargo build --bins`, showing progress on a first (slow) build.
build_functions() {
    local waited=0
    start build timeout "$BUILD_TIMEOUT" cargo build --bins
    while kill -0 "$STARTED_PID" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        ((waited == 5)) && note "building… (a first build takes several minutes on 2 cores; log: .run/build.log)"
    done
    wait "$STARTED_PID" || { log_tail "$RUN/build.log" 30; die "cargo build failed; see .run/build.log"; }
    note "built in $waited s"
}

# leak_scan: every file under .run/ scanned for the planted secrets and raw tokens.
leak_scan() {
    local scan_files=() f leaks
    while IFS= read -r -d '' f; do scan_files+=("$f"); done < <(find "$RUN" -type f ! -name demo.pid -print0 | sort -z)
    HINT=""
    leaks=$("${HELPER[@]}" scan "${scan_files[@]}") || true
    [[ -n "$leaks" ]] && indent <<<"$leaks" | indent
    expect "no secret or raw token in ${#scan_files[@]} files" is "$leaks" ""
}
