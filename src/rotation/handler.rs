//! Event decoding and answers of `client-secret-rotator`: SQS batches
//! (answering `batchItemFailures`, so one bad message never blocks or
//! replays the good ones) and the direct actions `check`, `rotate`, `status`.
//! Logs notifications by `notificationId` and messages by `messageId`,
//! never a body.

use crate::ports::application_management::ApplicationManagement;
use crate::ports::secret_versions::SecretVersions;
use crate::ports::TokenEndpoint;
use crate::rotation::error::RotatorError;
use crate::rotation::notification;
use crate::rotation::rotator::{NotificationOutcome, Report, Rotator};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde_json::{json, Value};
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
    /// `{"action":"check"}` or a scheduler envelope.
    Check,
    /// `{"action":"rotate"}`, optionally `"force": true`.
    Rotate {
        /// Ignore the 24 h guard.
        force: bool,
    },
    /// `{"action":"status"}`.
    Status,
}

const ACCEPTED: &str = "expected an SQS event, {\"action\":\"check\"}, {\"action\":\"status\"}, \
                        {\"action\":\"rotate\"} or {\"action\":\"rotate\",\"force\":true}";

/// `Some` when `event` is an SQS event (`Records[].eventSource` = `aws:sqs`).
pub fn sqs_event(event: &Value) -> Option<Result<SqsEvent, RotatorError>> {
    let records = event.get("Records")?;
    let all_sqs = records.as_array().is_some_and(|r| {
        r.iter()
            .all(|m| m.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
    });
    if !all_sqs {
        return Some(Err(RotatorError::InvalidEvent(format!(
            "`Records` is not a list of SQS messages (eventSource aws:sqs); {ACCEPTED}"
        ))));
    }
    Some(serde_json::from_value(event.clone()).map_err(|_| {
        RotatorError::InvalidEvent(format!(
            "the SQS event does not have the SQS shape; {ACCEPTED}"
        ))
    }))
}

/// Decodes a direct event.
pub fn parse_command(event: &Value) -> Result<Command, RotatorError> {
    let bad = |what: String| Err(RotatorError::InvalidEvent(format!("{what}; {ACCEPTED}")));
    let Value::Object(map) = event else {
        return bad("the event is not a JSON object".into());
    };
    let envelope = map.contains_key("detail-type") && map.contains_key("source");
    if !envelope {
        if let Some(key) = map
            .keys()
            .find(|k| !matches!(k.as_str(), "action" | "force"))
        {
            return bad(format!(
                "unknown key `{}`",
                key.escape_default()
                    .to_string()
                    .chars()
                    .take(40)
                    .collect::<String>()
            ));
        }
    }
    let force = match map.get("force") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return bad("`force` must be true or false".into()),
    };
    let command = match map.get("action") {
        None if envelope => Command::Check,
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
    if let Some(sqs) = sqs_event(event) {
        let response = handle_batch(rotator, &sqs?, now, deadline).await;
        return Ok(serde_json::to_value(response).expect("the batch response serializes"));
    }
    let command = parse_command(event)?;
    let report = match command {
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

/// Processes every record; lists for retry the ones that failed (and the
/// ones there was no time left to start).
pub async fn handle_batch<V, E, A>(
    rotator: &Rotator<V, E, A>,
    event: &SqsEvent,
    now: OffsetDateTime,
    deadline: Instant,
) -> SqsBatchResponse
where
    V: SecretVersions,
    E: TokenEndpoint,
    A: ApplicationManagement,
{
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let retry = if deadline.saturating_duration_since(rotator.clock().instant())
            < RECORD_RESERVE
        {
            tracing::warn!(message_id = %message_id, "not started: too little time left before the deadline; retried");
            true
        } else {
            process(
                rotator,
                &message_id,
                record.body.as_deref().unwrap_or(""),
                now,
                deadline,
            )
            .await
        };
        if retry {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
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
        Err(e) => {
            tracing::error!(message_id, error = %e,
                "message is not a client-secret notification; retried until it reaches the dead-letter queue");
            return true;
        }
    };
    match rotator.on_notification(&n, now, deadline).await {
        Ok(outcome) => {
            let outcome_text = match &outcome {
                NotificationOutcome::Ignored(why) => format!("ignored ({why})"),
                NotificationOutcome::Duplicate => "duplicate: the secret is already current".into(),
                NotificationOutcome::Stale => {
                    "stale: older than the recorded expiry; nothing replaced".into()
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
        assert!(sqs_event(&json!({"action":"check"})).is_none());
        assert!(sqs_event(&json!({"Records":[{"eventSource":"aws:s3"}]}))
            .unwrap()
            .is_err());
        let ok =
            sqs_event(&json!({"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"{}"}]}));
        assert_eq!(ok.unwrap().unwrap().records.len(), 1);
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
        let sqs = sqs_event(&event("rotation-sqs-expiry.json"))
            .unwrap()
            .unwrap();
        let n = notification::parse(sqs.records[0].body.as_deref().unwrap()).unwrap();
        assert!(matches!(n.kind, notification::Kind::Expiry(_)));
    }
}
