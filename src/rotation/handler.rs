//! Event decoding and answers of `client-secret-rotator`: SQS batches
//! (answering `batchItemFailures`, so one bad message never blocks or
//! replays the good ones) and the direct actions `check`, `rotate`, `status`.
//! Logs notifications by `notificationId` and messages by `messageId`,
//! never a body.

use crate::bounded::{within, Late};
use crate::budget::TimeBudget;
use crate::ports::application_management::ApplicationManagement;
use crate::ports::secret_versions::SecretVersions;
use crate::ports::TokenEndpoint;
use crate::rotation::error::RotatorError;
use crate::rotation::notification::{self, NotANotification};
use crate::rotation::rotator::{NotificationOutcome, Report, Rotator};
use crate::rotation::sqs::{sqs_records, BatchAnswer, SqsRecord, ACCEPTED};
use serde_json::{json, Map, Value};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// A record is not started with less time than this before the deadline: it
/// is listed for retry instead (the next delivery gets a whole invocation).
/// Enough for the reads, one LWA check and the promotion's writes.
pub const RECORD_RESERVE: Duration = Duration::from_secs(15);

/// What an event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `{"action":"check"}` or an EventBridge "Scheduled Event".
    Check,
    /// `{"action":"rotate"}`, optionally `"force": true`.
    Rotate {
        /// Ignore the 24 h guard.
        force: bool,
    },
    /// `{"action":"status"}`.
    Status,
}

/// The keys of an EventBridge event ("Amazon EventBridge events", event
/// structure reference): an EventBridge rule's or Scheduler's "Scheduled
/// Event" carries these and nothing else.
const ENVELOPE_KEYS: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

fn shown(key: &str) -> String {
    key.escape_default().to_string().chars().take(40).collect()
}

/// An event with `detail-type` or `source` must be a genuine EventBridge
/// "Scheduled Event" (from `aws.events` or `aws.scheduler`, only the
/// envelope's keys); it then means `check`. The template's own schedule sends
/// `{"action":"check"}` instead.
fn scheduled_event(map: &Map<String, Value>) -> Result<Command, String> {
    const FIX: &str = "an EventBridge event is accepted only as a \"Scheduled Event\" from aws.events or \
                       aws.scheduler with the envelope's own fields; to run an action, send it directly, \
                       e.g. {\"action\":\"check\"}";
    if let Some(key) = map.keys().find(|k| !ENVELOPE_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key `{}` in an EventBridge event ({FIX})",
            shown(key)
        ));
    }
    if map.get("detail-type").and_then(Value::as_str) != Some("Scheduled Event") {
        return Err(format!("`detail-type` must be \"Scheduled Event\" ({FIX})"));
    }
    if !matches!(
        map.get("source").and_then(Value::as_str),
        Some("aws.events" | "aws.scheduler")
    ) {
        return Err(format!(
            "`source` must be \"aws.events\" or \"aws.scheduler\" ({FIX})"
        ));
    }
    match map.get("detail") {
        None => {}
        // A schedule's detail is `{}`: an action there would be ignored, so
        // it is refused rather than run as `check`.
        Some(Value::Object(d)) if d.is_empty() => {}
        Some(Value::Object(_)) => {
            return Err(format!(
                "`detail` of a Scheduled Event must be empty (an action there is not run) ({FIX})"
            ))
        }
        Some(_) => return Err(format!("`detail` must be a JSON object ({FIX})")),
    }
    Ok(Command::Check)
}

/// Decodes a direct event: only the keys `action` and `force`, or a genuine
/// EventBridge "Scheduled Event" (see `scheduled_event`).
pub fn parse_command(event: &Value) -> Result<Command, RotatorError> {
    let bad = |what: String| Err(RotatorError::InvalidEvent(format!("{what}; {ACCEPTED}")));
    let Value::Object(map) = event else {
        return bad("the event is not a JSON object".into());
    };
    if map.contains_key("detail-type") || map.contains_key("source") {
        return scheduled_event(map).or_else(bad);
    }
    if let Some(key) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "action" | "force"))
    {
        return bad(format!("unknown key `{}`", shown(key)));
    }
    let force = match map.get("force") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return bad("`force` must be true or false".into()),
    };
    let command = match map.get("action") {
        Some(Value::String(a)) if a == "check" => Command::Check,
        Some(Value::String(a)) if a == "status" => Command::Status,
        Some(Value::String(a)) if a == "rotate" => Command::Rotate {
            force: force.unwrap_or(false),
        },
        None => return bad("`action` is missing".into()),
        Some(Value::String(_)) => return bad("unknown `action`".into()),
        Some(_) => return bad("`action` must be a string".into()),
    };
    if force.is_some() && !matches!(command, Command::Rotate { .. }) {
        return bad("`force` goes only with {\"action\":\"rotate\"}".into());
    }
    Ok(command)
}

/// Handles one invocation; the rules are judged at the rotator's clock's
/// `now()` at its start.
pub async fn handle<V, E, A>(
    rotator: &Rotator<V, E, A>,
    event: &Value,
    deadline: Instant,
) -> Result<Value, RotatorError>
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    let now = rotator.clock().now();
    if let Some(records) = sqs_records(event) {
        return handle_batch(rotator, &records?, now, deadline)
            .await
            .into_result();
    }
    let command = parse_command(event)?;
    // Secrets Manager calls carry only the SDK's timeouts (LWA and SP-API
    // calls end by the LWA deadline): the whole action ends in time.
    let clock = rotator.clock().clone();
    match within(
        &*clock,
        TimeBudget::answer_by(deadline),
        // Boxed: the nested futures are too deep for the layout query otherwise.
        Box::pin(run(rotator, &command, now, deadline)),
    )
    .await
    {
        Ok(answer) => answer,
        Err(late) => Err(too_late(rotator, late)),
    }
}

/// The error of an action cut off at the deadline.
pub fn too_late<V, E, A>(rotator: &Rotator<V, E, A>, late: Late) -> RotatorError
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    RotatorError::CredentialsUnavailable {
        secret_id: rotator.settings().secret_id.clone(),
        detail: format!(
            "a Secrets Manager call did not finish within the {} ms left before the Lambda deadline, so the \
             run was stopped (a write may or may not have reached AWS; a new secret saved as AWSPENDING stays \
             and the next check continues). Raise the function's timeout if this repeats, and check the \
             network path to AWS (VPC endpoints, NAT)",
            late.allowed.as_millis()
        ),
    }
}

async fn run<V, E, A>(
    rotator: &Rotator<V, E, A>,
    command: &Command,
    now: OffsetDateTime,
    deadline: Instant,
) -> Result<Value, RotatorError>
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    let report = match *command {
        Command::Status => {
            let status = rotator.status(now).await?;
            tracing::info!(
                action = "status",
                days_left = status.days_left,
                "client secret status"
            );
            return Ok(status.to_json());
        }
        Command::Check => rotator.check(now, deadline).await?,
        Command::Rotate { force } => rotator.rotate(force, now, deadline).await?,
    };
    tracing::info!(action = ?command, rotated = report.rotated, promoted = report.promoted,
        days_left = report.status.days_left, "client secret check finished");
    Ok(report_json(&report))
}

fn report_json(report: &Report) -> Value {
    let mut v = report.status.to_json();
    v["rotated"] = json!(report.rotated);
    v["promoted"] = json!(report.promoted);
    if let Some(reason) = &report.reason {
        v["reason"] = json!(reason);
    }
    v
}

/// Processes every record; answers the ones to retry (those that failed and
/// those there was no time left to start), by `messageId`, or the whole
/// batch when one of them has none (see [`crate::rotation::sqs`]).
pub async fn handle_batch<V, E, A>(
    rotator: &Rotator<V, E, A>,
    records: &[SqsRecord],
    now: OffsetDateTime,
    deadline: Instant,
) -> BatchAnswer
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    let mut retries = Vec::new();
    for record in records {
        let message_id = record.message_id.as_deref().unwrap_or("-");
        let retry = if deadline.saturating_duration_since(rotator.clock().instant())
            < RECORD_RESERVE
        {
            tracing::warn!(message_id = %message_id, "not started: too little time left before the deadline; retried");
            true
        } else {
            match &record.body {
                Some(body) => {
                    let clock = rotator.clock().clone();
                    let work = Box::pin(process(rotator, message_id, body, now, deadline));
                    within(&*clock, TimeBudget::answer_by(deadline), work)
                        .await
                        .unwrap_or_else(|late| {
                            tracing::error!(message_id = %message_id, error = %too_late(rotator, late),
                                "record cut off at the deadline; retried");
                            true
                        })
                }
                None => {
                    tracing::error!(message_id = %message_id,
                        "the SQS record's `body` is missing or not a string; retried until it reaches the dead-letter queue");
                    true
                }
            }
        };
        if retry {
            retries.push(record.message_id.clone());
        }
    }
    BatchAnswer::from_retries(retries)
}

/// A body that is not a usable notification: ignored when its client ID
/// shows it is another app's (whatever else is wrong with it), else retried
/// until it reaches the dead-letter queue.
async fn malformed<V, E, A>(
    rotator: &Rotator<V, E, A>,
    message_id: &str,
    e: &NotANotification,
) -> bool
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    if let Some(client_id) = &e.client_id {
        match rotator.is_foreign(client_id).await {
            Ok(true) => {
                tracing::info!(message_id, notification_id = %e.id, outcome = "ignored (another client ID)",
                    "malformed notification for another app's client ID; not retried");
                return false;
            }
            Ok(false) => {}
            Err(read) => {
                tracing::error!(message_id, notification_id = %e.id, error_type = read.error_type().as_str(),
                    error = %read, "malformed notification; cannot tell whose it is; retried");
                return true;
            }
        }
    }
    tracing::error!(message_id, notification_id = %e.id, error = %e,
        "message is not a usable client-secret notification; retried until it reaches the dead-letter queue");
    true
}

/// One record; `true` when it must be delivered again.
async fn process<V, E, A>(
    rotator: &Rotator<V, E, A>,
    message_id: &str,
    body: &str,
    now: OffsetDateTime,
    deadline: Instant,
) -> bool
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    let n = match notification::parse(body) {
        Ok(n) => n,
        Err(e) => return malformed(rotator, message_id, &e).await,
    };
    match rotator.on_notification(&n, now, deadline).await {
        Ok(outcome) => {
            let outcome_text = match &outcome {
                NotificationOutcome::Ignored(why) => format!("ignored ({why})"),
                NotificationOutcome::Duplicate => "duplicate: the secret is already current".into(),
                NotificationOutcome::Stale => {
                    "stale: its secret expires before the recorded client_secret_expires_at and it was \
                     published before the current secret was stored; nothing replaced"
                        .into()
                }
                NotificationOutcome::Installed => {
                    "installed: new secret verified and promoted".into()
                }
                NotificationOutcome::ExpiryNoted { rotated } => {
                    format!(
                        "expiry noted{}",
                        if *rotated {
                            "; rotate call accepted"
                        } else {
                            ""
                        }
                    )
                }
            };
            tracing::info!(message_id, notification_id = %n.id, outcome = %outcome_text, "notification handled");
            false
        }
        Err(e) => {
            let retry = e.retry_message();
            tracing::error!(message_id, notification_id = %n.id, error_type = e.error_type().as_str(), error = %e, retry,
                "notification failed");
            retry
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(
            parse_command(&json!({"action":"check"})).unwrap(),
            Command::Check
        );
        assert_eq!(
            parse_command(&json!({"action":"status"})).unwrap(),
            Command::Status
        );
        assert_eq!(
            parse_command(&json!({"action":"rotate"})).unwrap(),
            Command::Rotate { force: false }
        );
        assert_eq!(
            parse_command(&json!({"action":"rotate","force":true})).unwrap(),
            Command::Rotate { force: true }
        );
        assert_eq!(
            parse_command(
                &json!({"detail-type":"Scheduled Event","source":"aws.scheduler","detail":{}})
            )
            .unwrap(),
            Command::Check
        );
        for bad in [
            json!({}),
            json!([]),
            json!({"action":"refresh"}),
            json!({"action":"check","force":true}),
            json!({"action":"rotate","force":"yes"}),
            json!({"action":"status","x":1}),
            json!({"action":1}),
        ] {
            let e = parse_command(&bad).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
        }
    }

    #[test]
    fn an_eventbridge_envelope_is_checked_like_any_direct_event() {
        // A genuine EventBridge rule's scheduled event: check.
        let rule = json!({"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
            "source":"aws.events","account":"123456789012","time":"2026-05-01T10:00:00Z","region":"us-east-1",
            "resources":["arn:aws:events:us-east-1:123456789012:rule/daily"],"detail":{}});
        assert_eq!(parse_command(&rule).unwrap(), Command::Check);
        for (event, field) in [
            // An action smuggled into an envelope is not obeyed.
            (
                json!({"detail-type":"Scheduled Event","source":"aws.scheduler","action":"rotate","force":true}),
                "`action`",
            ),
            (
                json!({"detail-type":"Scheduled Event","source":"aws.events","bogus":1}),
                "`bogus`",
            ),
            (
                json!({"detail-type":"Object Created","source":"aws.events"}),
                "`detail-type`",
            ),
            (
                json!({"detail-type":"Scheduled Event","source":"my.app"}),
                "`source`",
            ),
            (json!({"source":"aws.events"}), "`detail-type`"),
            (
                json!({"detail-type":"Scheduled Event","source":"aws.events","detail":"x"}),
                "`detail`",
            ),
            (
                json!({"detail-type":"Scheduled Event","source":"aws.events","detail":{"action":"rotate","force":true}}),
                "`detail` of a Scheduled Event must be empty",
            ),
        ] {
            let e = parse_command(&event).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent", "{event}");
            let m = e.to_string();
            assert!(m.contains(field), "{event}: {m}");
            assert!(m.contains("{\"action\":\"check\"}"), "names the fix: {m}");
        }
    }

    #[test]
    fn checked_in_events() {
        let event = |f: &str| -> Value {
            let path = format!("{}/events/{f}", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        assert_eq!(
            parse_command(&event("rotation-check.json")).unwrap(),
            Command::Check
        );
        assert_eq!(
            parse_command(&event("rotation-status.json")).unwrap(),
            Command::Status
        );
        let sqs = sqs_records(&event("rotation-sqs-expiry.json"))
            .unwrap()
            .unwrap();
        let n = notification::parse(sqs[0].body.as_deref().unwrap()).unwrap();
        assert!(matches!(n.kind, notification::Kind::Expiry(_)));
    }
}
