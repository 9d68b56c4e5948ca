# shellcheck shell=bash
# Story: a seller revokes the app -> one "Seller Authorization Lost" event; the
# seller re-authorizes -> "Seller Authorization Restored". Sourced by
# scripts/demo.sh in fleet mode (its helpers and variables in scope).

heading "18. A seller revokes the app: one Seller Authorization Lost event, then Restored"
AL=("$PY" "$ROOT/scripts/stories/authorization_lost.py")
export DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
export DEMO_LWA_CONTROL="http://127.0.0.1:$LWA_PORT/_control/fleet"
INVOKE_PORT=$FLEET_PORT
WATCH_LOG="$RUN/watch-fleet.log"
HINT="$WATCH_LOG"
AL_PARAMETER="${FLEET_PARAMETER_PREFIX}hooli-uk"
note "the refresher publishes to EVENT_BUS_NAME (here moto's \`default\` bus); a rule there sends"
note "every spapi.lwa-token-service event to an SQS queue, read below"
AL_QUEUE=$("${AL[@]}" watch-events seller-authorization 2>"$CAP/al-watch.err") ||
    { log_tail "$CAP/al-watch.err"; die "could not create the EventBridge rule and queue in moto"; }
al_events() { "${AL[@]}" events "$AL_QUEUE" "$CAP/al-events.json" | indent; }
"${AL[@]}" seller hooli-uk HOOLI-UK-1 revoked | indent ||
    die "could not create the hooli-uk profile"

note "run 1: LWA refuses hooli-uk's refresh token (invalid_grant)"
log_mark
show_cmd "cargo lambda invoke --invoke-port $FLEET_PORT token-refresher --data-file events/scheduled.json"
invoke al-run-1 token-refresher scheduled.json >/dev/null
"${AL[@]}" marker "$AL_PARAMETER" "$CAP/al-marker.json" | indent
al_events
expect "run 1 fails with ProfilesFailed naming hooli-uk (LwaInvalidGrant)" \
    eval '[[ "$INVOKE_RC" != 0 && "$(cat "$CAP/al-run-1.err")" == *"hooli-uk (LwaInvalidGrant)"* ]]'
expect "the loss is recorded in the parameter, published (notified=true)" \
    eval '[[ "$(field al-marker marker.error_type)" == LwaInvalidGrant && "$(field al-marker marker.notified)" == true ]]'
expect "one Seller Authorization Lost event, for hooli-uk" \
    eval '[[ "$(field al-events kinds)" == "Seller Authorization Lost" && "$(field al-events last.detail.profile)" == hooli-uk ]]'

note "run 2 (forced): no token request for the refused refresh token, nothing published, the run succeeds"
log_mark
show_cmd "cargo lambda invoke --invoke-port $FLEET_PORT token-refresher --data-file events/force-refresh.json"
invoke al-run-2 token-refresher force-refresh.json >/dev/null
al_events
expect "run 2 succeeds; hooli-uk is counted under authorization_lost, not failed" \
    eval '[[ "$INVOKE_RC" == 0 && "$(field al-run-2 authorization_lost.profiles)" == *hooli-uk* && "$(field al-run-2 failed)" == 0 ]]'
expect "still one event" is "$(field al-events count)" 1

note "the seller re-authorizes: the Login-URI path stores a new refresh token in hooli-uk's secret"
"${AL[@]}" seller hooli-uk HOOLI-UK-2 | indent || die "could not update the hooli-uk profile"
log_mark
show_cmd "cargo lambda invoke --invoke-port $FLEET_PORT token-refresher --data-file events/scheduled.json"
invoke al-run-3 token-refresher scheduled.json >/dev/null
"${AL[@]}" marker "$AL_PARAMETER" "$CAP/al-marker-3.json" | indent
al_events
expect "run 3 tries the new refresh token at once and stores a token without the marker" \
    eval '[[ "$INVOKE_RC" == 0 && "$(field al-marker-3 has_token)" == true && "$(field al-marker-3 marker)" == "{}" ]]'
expect "then a Seller Authorization Restored event with outage_seconds" \
    eval '[[ "$(field al-events kinds)" == "Seller Authorization Lost,Seller Authorization Restored" && -n "$(field al-events last.detail.outage_seconds)" ]]'
