# shellcheck shell=bash
# Story: the app's LWA client secret rotated with no human step (docs/rotation.md).
# Sourced by scripts/demo.sh (see README.md here). Secrets appear only as
# fingerprints (sha256:<first 8 hex>).

heading "20. Client-secret rotation (client-secret-rotator)"
ROT=("$PY" "$ROOT/scripts/demo_rotation.py")
note "moto gets a Standard queue (+ dead-letter queue) for Amazon's notifications; the stand-in"
note "plays SP-API Application Management and delivers its notifications to that queue"
rotation_setup=$("${ROT[@]}" setup "http://127.0.0.1:$MOTO_PORT" "http://127.0.0.1:$LWA_PORT") ||
    die "could not set up the notification queue"
QUEUE_URL=$(sed -n 's/^QUEUE_URL=//p' <<<"$rotation_setup")
QUEUE_ARN=$(sed -n 's/^QUEUE_ARN=//p' <<<"$rotation_setup")
note "queue $QUEUE_ARN"

{
    echo "AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT"
    echo "AWS_REGION=us-east-1"
    echo "AWS_ACCESS_KEY_ID=testing"
    echo "AWS_SECRET_ACCESS_KEY=testing"
    echo "LWA_CREDENTIALS_SECRET_ID=$SECRET_ID"
    echo "TOKEN_PARAMETER_NAME=$PARAMETER"
    echo "LWA_TOKEN_URL=http://127.0.0.1:$LWA_PORT/auth/o2/token"
    echo "SPAPI_ENDPOINT=http://127.0.0.1:$LWA_PORT"
    echo "NOTIFICATION_QUEUE_ARN=$QUEUE_ARN"
    echo "RUST_LOG=info"
} >"$RUN/functions-rotation.env"
start_watch watch-rotation "$RUN/functions-rotation.env" 9002
SAVED_INVOKE_PORT=$INVOKE_PORT
SAVED_WATCH_LOG=$WATCH_LOG
INVOKE_PORT=$WATCH_PORT
ROTATION_PORT=$WATCH_PORT
WATCH_LOG="$RUN/watch-rotation.log"
HINT="$RUN/watch-rotation.log"
note "another cargo lambda watch runs the rotator and the refresher (log: .run/watch-rotation.log)"

heading "20.1 Status: how long the client secret has left"
log_mark
invoke rotation-status client-secret-rotator '{"action":"status"}'
function_log
expect "estimated from when the secret was stored (+180 days)" is "$(field rotation-status expiry_source)" estimated
note "days left: $(field rotation-status days_left)"

heading "20.2 Amazon's expiry notice (10 days out) arrives in the queue"
expires=$("$PY" -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) + d.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
show_cmd "curl -X POST http://127.0.0.1:$LWA_PORT/_control/default/spapi/send-expiry  (sent as Amazon would)"
curl -s -X POST -H 'content-type: application/json' \
    -d "{\"client_id\":\"amzn1.application-oa2-client.demo\",\"expires_at\":\"$expires\"}" \
    "http://127.0.0.1:$LWA_PORT/_control/default/spapi/send-expiry" >/dev/null ||
    die "the stand-in could not send the expiry notification"
note "tools/sqs_event_source.py plays Lambda's SQS event source mapping: it polls the queue, invokes"
note "the rotator with the SQS event and deletes what succeeded. The rotator records the expiry and,"
note "10 days being within ROTATE_BEFORE_DAYS, calls POST /applications/2023-11-30/clientSecret;"
note "Amazon (the stand-in) sends the new secret, which the next poll hands over: saved as"
note "AWSPENDING, verified with LWA, promoted to AWSCURRENT"
log_mark
show_cmd "tools/sqs_event_source.py --queue-url $QUEUE_URL --invoke …/client-secret-rotator/invocations --until-empty"
"$PY" tools/sqs_event_source.py --endpoint "http://127.0.0.1:$MOTO_PORT" --queue-url "$QUEUE_URL" \
    --invoke "http://127.0.0.1:$INVOKE_PORT/2015-03-31/functions/client-secret-rotator/invocations" \
    --visibility-timeout 120 --until-empty --invoke-timeout "$INVOKE_TIMEOUT" 2>&1 | indent
function_log
"${ROT[@]}" versions "http://127.0.0.1:$MOTO_PORT" "$SECRET_ID" >"$CAP/rotation-versions.txt"
note "the secret's versions, oldest first:"
indent <"$CAP/rotation-versions.txt"
new_fp=$("${ROT[@]}" try-secret "http://127.0.0.1:$LWA_PORT" new | sed -n 's/^client secret sha256:\([0-9a-f]*\).*/\1/p')
expect "the new secret (sha256:$new_fp) is AWSCURRENT" grep -q "AWSCURRENT .*sha256:$new_fp" "$CAP/rotation-versions.txt"
expect "the old one is AWSPREVIOUS and nothing is left AWSPENDING" \
    eval 'grep -q AWSPREVIOUS "$CAP/rotation-versions.txt" && ! grep -q AWSPENDING "$CAP/rotation-versions.txt"'

heading "20.3 The refresher refreshes with the new secret"
log_mark
invoke rotation-refresh token-refresher force-refresh.json
function_log
expect "outcome refreshed" is "$(field rotation-refresh outcome)" refreshed
expect "LWA saw the new client secret" is "$("${ROT[@]}" last-secret "http://127.0.0.1:$LWA_PORT")" "sha256:$new_fp"

heading "20.4 Seven days later Amazon retires the old secret; nothing breaks"
curl -s -X POST "http://127.0.0.1:$LWA_PORT/_control/default/spapi/expire-old" >/dev/null
"${ROT[@]}" try-secret "http://127.0.0.1:$LWA_PORT" original | tee "$CAP/rotation-old.txt" | indent
expect "the old secret is refused (invalid_client)" grep -q "401 invalid_client" "$CAP/rotation-old.txt"
log_mark
invoke rotation-refresh-after token-refresher force-refresh.json
function_log
expect "the refresher is still fine" is "$(field rotation-refresh-after outcome)" refreshed
invoke rotation-status-after client-secret-rotator '{"action":"status"}'
expect "the expiry is now the one Amazon sent with the new secret" is "$(field rotation-status-after expiry_source)" recorded

INVOKE_PORT=$SAVED_INVOKE_PORT
WATCH_LOG=$SAVED_WATCH_LOG
