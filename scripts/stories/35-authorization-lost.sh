# shellcheck shell=bash
# Story: the seller connected in story 30 revokes the app -> one "Seller
# Authorization Lost" event; the seller re-authorizes through the Login URI
# (the real path, story 30's onb_login) -> "Seller Authorization Restored".
# Sourced by scripts/demo.sh after 30-onboarding.sh (its helpers and variables
# in scope).

heading "35.1 $ONB_PROFILE revokes the app: one Seller Authorization Lost event; re-authorized, Restored"
AL=("$PY" "$ROOT/scripts/stories/authorization_lost.py")
export DEMO_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
export DEMO_LWA_CONTROL="http://127.0.0.1:$LWA_PORT/_control/fleet"
INVOKE_PORT=$FLEET_PORT
WATCH_LOG="$RUN/watch-fleet.log"
HINT="$WATCH_LOG"
AL_PARAMETER="${FLEET_PARAMETER_PREFIX}$ONB_PROFILE"
note "the refresher publishes to EVENT_BUS_NAME (here moto's \`default\` bus); a rule there sends"
note "every spapi.lwa-token-service event to an SQS queue, read below"
AL_QUEUE=$("${AL[@]}" watch-events seller-authorization 2>"$CAP/al-watch.err") ||
    { log_tail "$CAP/al-watch.err"; die "could not create the EventBridge rule and queue in moto"; }
al_events() { "${AL[@]}" events "$AL_QUEUE" "$CAP/al-events.json" | indent; }
"${AL[@]}" revoke "${FLEET_SECRET_PREFIX}$ONB_PROFILE" | indent || die "could not revoke $ONB_PROFILE's refresh token"

note "run 1 (forced: the token from the onboarding is still fresh): LWA refuses the refresh token (invalid_grant)"
log_mark
show_cmd "cargo lambda invoke --invoke-port $FLEET_PORT token-refresher --data-file events/force-refresh.json"
invoke al-run-1 token-refresher force-refresh.json >/dev/null
"${AL[@]}" marker "$AL_PARAMETER" "$CAP/al-marker.json" | indent
al_events
expect "run 1 fails with ProfilesFailed naming $ONB_PROFILE (LwaInvalidGrant)" \
    eval '[[ "$INVOKE_RC" != 0 && "$(cat "$CAP/al-run-1.err")" == *"$ONB_PROFILE (LwaInvalidGrant)"* ]]'
expect "the loss is recorded in the parameter and published: one Seller Authorization Lost event" \
    eval '[[ "$(field al-marker marker.notified)" == true && "$(field al-events kinds)" == "Seller Authorization Lost" && "$(field al-events last.detail.profile)" == "$ONB_PROFILE" ]]'

note "the seller re-authorizes through the Login URI (an email with a fresh link works as well)"
WATCH_LOG="$RUN/watch-onboarding.log"
onb_login "$ONB_SELLER" sellercentral-europe.amazon.com al-login
expect "200: connected again" is "$(http al-login-callback status)" 200
WATCH_LOG="$RUN/watch-fleet.log"
log_mark
show_cmd "cargo lambda invoke --invoke-port $FLEET_PORT token-refresher --data-file events/scheduled.json"
invoke al-run-2 token-refresher scheduled.json >/dev/null
"${AL[@]}" marker "$AL_PARAMETER" "$CAP/al-marker-2.json" | indent
al_events
expect "the scheduled run tries the new refresh token at once; the marker is gone" \
    eval '[[ "$INVOKE_RC" == 0 && "$(field al-marker-2 has_token)" == true && "$(field al-marker-2 marker)" == "{}" ]]'
expect "then one Seller Authorization Restored event with outage_seconds" \
    eval '[[ "$(field al-events kinds)" == "Seller Authorization Lost,Seller Authorization Restored" && -n "$(field al-events last.detail.outage_seconds)" ]]'
