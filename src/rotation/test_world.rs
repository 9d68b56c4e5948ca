//! The world the rotator's unit tests share: the rotator over in-memory
//! fakes that write one journal (so tests assert the order of steps across
//! Secrets Manager, LWA and SP-API), event builders, and the leak scan every
//! answer and error goes through. The tests, by subject: `tests_install.rs`
//! (the new secret: saved, verified, promoted; duplicates, late and waiting
//! notifications), `tests_schedule.rs` (expiry notices, the rotate call, the
//! 24 h guard, the daily check, the status), `tests_events.rs` (batches and
//! direct events, hostile input, deadlines) and `tests_cases.rs` (every field
//! case of tests/cases/notifications.json).

pub(super) use super::fakes::*;
pub(super) use super::handler::handle;
pub(super) use super::rotator::{Rotator, RotatorSettings};
pub(super) use crate::ports::application_management::RotateCallError;
pub(super) use crate::ports::secret_versions::Stage;
pub(super) use crate::ports::Clock;
pub(super) use crate::testing::ManualClock;
pub(super) use serde_json::{json, Value};
pub(super) use std::sync::Arc;
pub(super) use std::time::Duration;
pub(super) use time::macros::datetime;
pub(super) use time::OffsetDateTime;
pub(super) use tokio::time::Instant;

pub(super) const ME: &str = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";
pub(super) const OLD: &str = "amzn1.oa2-cs.v1.PLANTED-OLD";
pub(super) const NEW: &str = "amzn1.oa2-cs.v1.PLANTED-NEW";
pub(super) const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:spapi-client-secret";

pub(super) struct W {
    pub(super) clock: Arc<ManualClock>,
    pub(super) journal: Journal,
    pub(super) sm: Arc<FakeSecrets>,
    pub(super) lwa: Arc<FakeLwa>,
    pub(super) app: Arc<FakeApp>,
    pub(super) rotator: Rotator<Arc<FakeSecrets>, Arc<FakeLwa>, Arc<FakeApp>>,
}

pub(super) fn world_with(doc: Value, created: OffsetDateTime) -> W {
    let journal: Journal = Default::default();
    let sm = FakeSecrets::new(journal.clone(), &doc.to_string(), created);
    let lwa = FakeLwa::new(journal.clone(), &[OLD, NEW]);
    let app = FakeApp::new(journal.clone());
    let clock = Arc::new(ManualClock::new(NOW));
    let rotator = Rotator::new(
        sm.clone(),
        lwa.clone(),
        app.clone(),
        RotatorSettings {
            secret_id: "spapi/app".into(),
            rotate_before_days: 30,
            queue_arn: Some(QUEUE.into()),
        },
    )
    .with_clock(clock.clone());
    W {
        clock,
        journal,
        sm,
        lwa,
        app,
        rotator,
    }
}

pub(super) fn world() -> W {
    world_with(
        json!({"client_id": ME, "client_secret": OLD, "refresh_token": "Atzr|PLANTED-RT", "note": {"kept": [1, 2.50]}}),
        datetime!(2026-04-01 0:00 UTC),
    )
}

/// A minute from the world's (virtual) now.
pub(super) fn deadline(w: &W) -> Instant {
    w.clock.instant() + Duration::from_secs(60)
}

/// Moves the world's clock to `now` (never backwards).
pub(super) fn at(w: &W, now: OffsetDateTime) {
    let current = w.clock.now();
    assert!(now >= current, "the test's times go forward");
    w.clock.advance((now - current).try_into().unwrap());
    // Versions written from now on are created now, as in Secrets Manager.
    *w.sm.now.lock().unwrap() = now;
}

pub(super) fn journal(w: &W) -> Vec<String> {
    std::mem::take(&mut *w.journal.lock().unwrap())
}

/// Journal lines that write or call out (reads left out).
pub(super) fn effects(w: &W) -> Vec<String> {
    journal(w)
        .into_iter()
        .filter(|l| !l.starts_with("sm.get"))
        .collect()
}

pub(super) fn new_secret_body(client: &str, secret: &str, expires: &str, id: &str) -> String {
    new_secret_published(
        client,
        secret,
        expires,
        id,
        Some("2026-05-01T10:00:00.000Z"),
    )
}

/// A new-secret notification with `eventTime` = `published` (none when `None`).
pub(super) fn new_secret_published(
    client: &str,
    secret: &str,
    expires: &str,
    id: &str,
    published: Option<&str>,
) -> String {
    let mut v = json!({"notificationVersion":"1.0","notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payloadVersion":"2023-11-30",
        "payload":{"applicationOAuthClientNewSecret":{"clientId":client,"newClientSecret":secret,
            "newClientSecretExpiryTime":expires,"oldClientSecretExpiryTime":"2026-05-08T10:00:00.000Z"}},
        "notificationMetadata":{"notificationId":id}});
    if let Some(at) = published {
        v["eventTime"] = at.into();
    }
    v.to_string()
}

/// An expiry notification with `eventTime` = `published`.
pub(super) fn expiry_published(client: &str, expires: &str, id: &str, published: &str) -> String {
    let mut v: Value = serde_json::from_str(&expiry_body(client, expires, id)).unwrap();
    v["eventTime"] = published.into();
    v.to_string()
}

pub(super) fn expiry_body(client: &str, expires: &str, id: &str) -> String {
    json!({"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payloadVersion":"2023-11-30",
        "payload":{"applicationOAuthClientSecretExpiry":{"clientId":client,"clientSecretExpiryTime":expires,
            "clientSecretExpiryReason":"PERIODIC_ROTATION"}},"notificationMetadata":{"notificationId":id}})
    .to_string()
}

pub(super) fn batch(bodies: &[&str]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"messageId": format!("m{i}"), "receiptHandle": "r", "body": b, "eventSource": "aws:sqs",
            "eventSourceARN": QUEUE, "awsRegion": "us-east-1", "attributes": {}, "messageAttributes": {}}))
        .collect();
    json!({ "Records": records })
}

pub(super) async fn run(
    w: &W,
    event: Value,
    now: OffsetDateTime,
) -> Result<Value, super::error::RotatorError> {
    at(w, now);
    let out = handle(&w.rotator, &event, deadline(w)).await;
    let text = match &out {
        Ok(v) => v.to_string(),
        Err(e) => format!("{e} {e:?}"),
    };
    assert_no_secret(&text);
    out
}

pub(super) fn assert_no_secret(text: &str) {
    for s in [
        OLD,
        NEW,
        "PLANTED-OLD",
        "PLANTED-NEW",
        "Atzr|",
        "Atza|",
        "amzn1.oa2-cs.v1.P",
    ] {
        assert!(!text.contains(s), "secret value {s} in output: {text}");
    }
}

pub(super) fn failures(v: &Value) -> Vec<String> {
    v["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

pub(super) const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

pub(super) fn raw_batch(records: Value) -> Value {
    let mut records = records;
    for r in records.as_array_mut().unwrap() {
        r["eventSource"] = json!("aws:sqs");
    }
    json!({ "Records": records })
}
