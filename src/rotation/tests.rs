//! The rotator over in-memory fakes: every row of the contract's event
//! table, the order of steps (from the one shared journal), duplicates,
//! out-of-order and foreign notifications, malformed bodies in a mixed
//! batch, propagation delay, the 24 h guard, SP-API refusals, and a leak
//! scan of every answer and error. Field cases: tests/cases/notifications.json.

use super::fakes::*;
use super::handler::handle;
use super::rotator::{Rotator, RotatorSettings};
use crate::ports::application_management::RotateCallError;
use crate::ports::secret_versions::Stage;
use crate::ports::Clock;
use crate::testing::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::time::Instant;

const ME: &str = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef";
const OLD: &str = "amzn1.oa2-cs.v1.PLANTED-OLD";
const NEW: &str = "amzn1.oa2-cs.v1.PLANTED-NEW";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:spapi-client-secret";

struct W {
    clock: Arc<ManualClock>,
    journal: Journal,
    sm: Arc<FakeSecrets>,
    lwa: Arc<FakeLwa>,
    app: Arc<FakeApp>,
    rotator: Rotator<Arc<FakeSecrets>, Arc<FakeLwa>, Arc<FakeApp>>,
}

fn world_with(doc: Value, created: OffsetDateTime) -> W {
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

fn world() -> W {
    world_with(
        json!({"client_id": ME, "client_secret": OLD, "refresh_token": "Atzr|PLANTED-RT", "note": {"kept": [1, 2.50]}}),
        datetime!(2026-04-01 0:00 UTC),
    )
}

/// A minute from the world's (virtual) now.
fn deadline(w: &W) -> Instant {
    w.clock.instant() + Duration::from_secs(60)
}

/// Moves the world's clock to `now` (never backwards).
fn at(w: &W, now: OffsetDateTime) {
    let current = w.clock.now();
    assert!(now >= current, "the test's times go forward");
    w.clock.advance((now - current).try_into().unwrap());
}

fn journal(w: &W) -> Vec<String> {
    std::mem::take(&mut *w.journal.lock().unwrap())
}

/// Journal lines that write or call out (reads left out).
fn effects(w: &W) -> Vec<String> {
    journal(w)
        .into_iter()
        .filter(|l| !l.starts_with("sm.get"))
        .collect()
}

fn new_secret_body(client: &str, secret: &str, expires: &str, id: &str) -> String {
    json!({"notificationVersion":"1.0","notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payloadVersion":"2023-11-30",
        "eventTime":"2026-05-01T10:00:00.000Z",
        "payload":{"applicationOAuthClientNewSecret":{"clientId":client,"newClientSecret":secret,
            "newClientSecretExpiryTime":expires,"oldClientSecretExpiryTime":"2026-05-08T10:00:00.000Z"}},
        "notificationMetadata":{"notificationId":id}})
    .to_string()
}

fn expiry_body(client: &str, expires: &str, id: &str) -> String {
    json!({"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payloadVersion":"2023-11-30",
        "payload":{"applicationOAuthClientSecretExpiry":{"clientId":client,"clientSecretExpiryTime":expires,
            "clientSecretExpiryReason":"PERIODIC_ROTATION"}},"notificationMetadata":{"notificationId":id}})
    .to_string()
}

fn batch(bodies: &[&str]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"messageId": format!("m{i}"), "receiptHandle": "r", "body": b, "eventSource": "aws:sqs",
            "eventSourceARN": QUEUE, "awsRegion": "us-east-1", "attributes": {}, "messageAttributes": {}}))
        .collect();
    json!({ "Records": records })
}

async fn run(
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

fn assert_no_secret(text: &str) {
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

fn failures(v: &Value) -> Vec<String> {
    v["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

#[tokio::test]
async fn new_secret_is_saved_then_verified_then_promoted() {
    let w = world();
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00.000Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    let log = journal(&w);
    let writes: Vec<&String> = log.iter().filter(|l| !l.starts_with("sm.get")).collect();
    assert_eq!(
        writes,
        [
            "sm.put AWSPENDING v2 secret=PLANTED-NEW",
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-NEW -> ok",
            "sm.put AWSCURRENT v3 secret=PLANTED-NEW",
            "sm.remove AWSPENDING v2",
        ]
    );
    // AWSCURRENT is read again between the check and the promotion.
    let verify = log.iter().position(|l| l.starts_with("lwa")).unwrap();
    let promote = log
        .iter()
        .position(|l| l.starts_with("sm.put AWSCURRENT"))
        .unwrap();
    assert!(
        log[verify..promote]
            .iter()
            .any(|l| l == "sm.get AWSCURRENT"),
        "{log:?}"
    );
    let cur = w.sm.current();
    assert_eq!(cur["client_secret"], NEW);
    assert_eq!(cur["client_secret_expires_at"], "2026-10-28T10:00:00Z");
    assert_eq!(cur["refresh_token"], "Atzr|PLANTED-RT");
    assert_eq!(cur["note"], json!({"kept": [1, 2.50]}));
    let prev: Value = serde_json::from_str(&w.sm.text(Stage::Previous).unwrap()).unwrap();
    assert_eq!(
        prev["client_secret"], OLD,
        "the old secret stays as AWSPREVIOUS"
    );
    assert!(w.sm.text(Stage::Pending).is_none());

    // The same notification again: nothing written, not retried.
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00.000Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.count(), 3);
}

#[tokio::test]
async fn new_secret_not_accepted_yet_stays_pending_and_is_retried() {
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    let body = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert_eq!(
        effects(&w),
        [
            "sm.put AWSPENDING v2 secret=PLANTED-NEW",
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-NEW -> refused"
        ]
    );
    assert_eq!(
        w.sm.current()["client_secret"],
        OLD,
        "the current secret stays"
    );
    // Status shows the waiting secret.
    let status = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(status["pending_secret"], true);
    journal(&w);
    // Amazon accepts it; the redelivery promotes without saving it again.
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert_eq!(
        effects(&w),
        [
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-NEW -> ok",
            "sm.put AWSCURRENT v3 secret=PLANTED-NEW",
            "sm.remove AWSPENDING v2"
        ]
    );
}

#[tokio::test]
async fn check_promotes_a_waiting_secret() {
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(
        (out["promoted"].clone(), out["pending_secret"].clone()),
        (json!(false), json!(true))
    );
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    journal(&w);
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(out["promoted"], true);
    assert_eq!(out["pending_secret"], false);
    assert_eq!(out["client_secret_expires_at"], "2026-10-28T10:00:00Z");
    assert_eq!(out["rotated"], false, "178 days left: no rotation");
    assert_eq!(w.sm.current()["client_secret"], NEW);
    assert!(!effects(&w).iter().any(|l| l.starts_with("spapi")));
}

#[tokio::test]
async fn a_write_between_verify_and_promote_is_kept() {
    let w = world();
    let sm = w.sm.clone();
    *w.lwa.after_success.lock().unwrap() = Some(Box::new(move || {
        let doc = json!({"client_id": ME, "client_secret": OLD, "refresh_token": "Atzr|PLANTED-RT2", "note": 1});
        sm.write(&doc.to_string(), Stage::Current);
    }));
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    let cur = w.sm.current();
    assert_eq!(cur["client_secret"], NEW);
    assert_eq!(
        cur["refresh_token"], "Atzr|PLANTED-RT2",
        "the refresher's write is not reverted"
    );
}

#[tokio::test]
async fn foreign_other_type_and_malformed_in_one_batch() {
    let w = world();
    let foreign = new_secret_body(
        "amzn1.application-oa2-client.ffff",
        NEW,
        "2026-10-28T10:00:00Z",
        "n-2",
    );
    let other = r#"{"notificationType":"ANY_OFFER_CHANGED","payload":{}}"#;
    let good = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-3");
    let out = run(
        &w,
        batch(&[
            &foreign,
            "{\"Message\": \"hello\"",
            other,
            &format!("{{{NEW}"),
            &good,
        ]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(
        failures(&out),
        ["m1", "m3"],
        "only the malformed bodies are retried"
    );
    assert_eq!(
        w.sm.current()["client_secret"],
        NEW,
        "the good record after the bad ones was processed"
    );
}

#[tokio::test]
async fn a_late_older_notification_never_replaces_a_newer_secret() {
    let w = world();
    run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    journal(&w);
    let older = new_secret_body(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-OLDER",
        "2026-06-01T00:00:00Z",
        "n-0",
    );
    let out = run(&w, batch(&[&older]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.current()["client_secret"], NEW);
}

#[tokio::test]
async fn an_older_notification_waits_for_a_newer_pending_secret_and_is_not_lost() {
    // A newer secret waits as AWSPENDING (LWA does not accept it yet).
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    let newer = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    run(&w, batch(&[&newer]), NOW).await.unwrap();
    journal(&w);
    // An older one arrives: nothing written, and it is retried, not dropped.
    let older = new_secret_body(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-OLDER",
        "2026-06-01T00:00:00Z",
        "n-0",
    );
    let out = run(&w, batch(&[&older]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], OLD);
    // Once the newer one is promoted, the older is stale and acknowledged.
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    run(&w, batch(&[&newer]), NOW).await.unwrap();
    journal(&w);
    let out = run(&w, batch(&[&older]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.current()["client_secret"], NEW);
}

#[tokio::test]
async fn a_failed_save_writes_nothing_and_is_retried() {
    let w = world();
    *w.sm.fail_put.lock().unwrap() = Some(Stage::Pending);
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(
        !effects(&w).iter().any(|l| l.starts_with("lwa")),
        "not verified before it is saved"
    );
    assert_eq!(w.sm.current()["client_secret"], OLD);
    // A failed promotion leaves the secret saved as AWSPENDING.
    *w.sm.fail_put.lock().unwrap() = Some(Stage::Current);
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert_eq!(w.sm.current()["client_secret"], OLD);
    let pending: Value = serde_json::from_str(&w.sm.text(Stage::Pending).unwrap()).unwrap();
    assert_eq!(pending["client_secret"], NEW);
}

#[tokio::test]
async fn expiry_notice_records_and_rotates_once_in_24_hours() {
    let w = world();
    let out = run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-11T10:00:00Z", "n-3")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    assert_eq!(
        effects(&w),
        [
            "sm.put AWSCURRENT v2 secret=PLANTED-OLD",
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-OLD -> ok",
            "spapi.rotate token=grantless -> 204",
            "sm.put AWSCURRENT v3 secret=PLANTED-OLD",
        ]
    );
    let cur = w.sm.current();
    assert_eq!(cur["client_secret_expires_at"], "2026-05-11T10:00:00Z");
    assert_eq!(
        cur["client_secret_rotation_requested_at"],
        "2026-05-01T10:00:00Z"
    );
    // A second notice within 24 h: no call; 25 h later: a new request.
    let later = NOW + time::Duration::hours(23);
    run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-11T10:00:00Z", "n-3b")]),
        later,
    )
    .await
    .unwrap();
    assert!(!effects(&w).iter().any(|l| l.starts_with("spapi")));
    let out = run(&w, json!({"action":"rotate"}), later).await.unwrap();
    assert_eq!(out["rotated"], false);
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("2026-05-01T10:00:00Z"),
        "{out}"
    );
    assert!(out["reason"].as_str().unwrap().contains("force"), "{out}");
    assert!(effects(&w).is_empty());
    let out = run(&w, json!({"action":"rotate","force":true}), later)
        .await
        .unwrap();
    assert_eq!(out["rotated"], true);
    assert!(effects(&w)
        .iter()
        .any(|l| l == "spapi.rotate token=grantless -> 204"));
    let out = run(
        &w,
        json!({"action":"check"}),
        NOW + time::Duration::hours(48),
    )
    .await
    .unwrap();
    assert_eq!(
        out["rotated"], true,
        "due and the last request is over 24 h old: {out}"
    );
}

#[tokio::test]
async fn expiry_notice_far_out_is_only_recorded() {
    let w = world();
    let body = json!({"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payloadVersion":"2030-01-01",
        "payload":{"applicationOAuthClientSecretExpiry":{"clientId":ME,"clientSecretExpiryTime":"2026-08-01T10:00:00Z",
        "clientSecretExpiryReason":"SOMETHING_NEW","extra":{"a":1}}}}).to_string();
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert_eq!(effects(&w), ["sm.put AWSCURRENT v2 secret=PLANTED-OLD"]);
    let status = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(status["expiry_source"], "recorded");
    assert_eq!(status["days_left"], 92);
    // Foreign expiry notices are ignored.
    run(
        &w,
        batch(&[&expiry_body(
            "amzn1.application-oa2-client.ffff",
            "2026-05-02T00:00:00Z",
            "n",
        )]),
        NOW,
    )
    .await
    .unwrap();
    assert!(effects(&w).is_empty());
}

#[tokio::test]
async fn status_estimates_from_the_oldest_version_holding_the_secret() {
    let w = world(); // created 2026-04-01
                     // An unrelated write later (a rotated refresh token) does not move it.
    *w.sm.now.lock().unwrap() = datetime!(2026-04-20 0:00 UTC);
    w.sm.write(
        &json!({"client_id": ME, "client_secret": OLD, "refresh_token": "Atzr|PLANTED-RT2"})
            .to_string(),
        Stage::Current,
    );
    let status = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(
        status,
        json!({"client_id": ME, "client_secret_expires_at": "2026-09-28T00:00:00Z", "expiry_source": "estimated",
               "days_left": 149, "rotation_requested_at": null, "pending_secret": false})
    );
    // The check rotates once the estimate is within 30 days.
    let out = run(
        &w,
        json!({"action":"check"}),
        datetime!(2026-08-30 0:00 UTC),
    )
    .await
    .unwrap();
    assert_eq!(out["rotated"], true);
    assert_eq!(out["rotation_requested_at"], "2026-08-30T00:00:00Z");
}

#[tokio::test]
async fn rotate_not_enrolled_and_failed() {
    let w = world();
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::NotEnrolled {
            message: "Application is not enrolled for rotation notification".into(),
        });
    let e = run(&w, json!({"action":"rotate"}), NOW).await.unwrap_err();
    assert_eq!(e.error_type(), "RotationNotEnrolled");
    let m = e.to_string();
    assert!(
        m.contains("Notification Preferences") && m.contains(QUEUE) && m.contains("not enrolled"),
        "{m}"
    );
    assert_eq!(w.sm.count(), 1, "the secret is unchanged");
    // From an expiry notice it is reported, not retried.
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::NotEnrolled {
            message: "not enrolled".into(),
        });
    let out = run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-11T10:00:00Z", "n-3")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::Rejected {
            status: 403,
            code: "Unauthorized".into(),
            message: "Access to requested resource is denied.".into(),
        });
    let e = run(&w, json!({"action":"rotate","force":true}), NOW)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "RotationFailed");
    assert!(
        e.to_string()
            .contains("HTTP 403 Unauthorized: Access to requested resource is denied."),
        "{e}"
    );
    // 5xx exhausted: retried from SQS.
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::Unavailable {
            attempts: 3,
            last: "HTTP 503".into(),
        });
    let out = run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-12T10:00:00Z", "n-4")]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    // LWA refusing the current secret for the grantless token.
    w.lwa.script.lock().unwrap().push_back(invalid_client());
    let e = run(&w, json!({"action":"rotate","force":true}), NOW)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "LwaInvalidClient");
}

#[tokio::test]
async fn no_record_is_started_without_time_left() {
    let w = world();
    let out = handle(
        &w.rotator,
        &batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        w.clock.instant() + Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(effects(&w).is_empty());
}

#[tokio::test]
async fn invalid_events() {
    let w = world();
    for e in [
        json!({"action":"refresh"}),
        json!("x"),
        json!({"Records": [{"eventSource": "aws:sns"}]}),
    ] {
        assert_eq!(
            run(&w, e, NOW).await.unwrap_err().error_type(),
            "InvalidEvent"
        );
    }
}

/// Every case of tests/cases/notifications.json, in order, on one world.
#[tokio::test]
async fn field_cases() {
    let file: Value =
        serde_json::from_str(include_str!("../../tests/cases/notifications.json")).unwrap();
    let w = world_with(
        json!({"client_id": ME, "client_secret": "amzn1.oa2-cs.v1.<old>", "refresh_token": "Atzr|<rt>"}),
        datetime!(2026-04-01 0:00 UTC),
    );
    w.lwa
        .accepted
        .lock()
        .unwrap()
        .insert("amzn1.oa2-cs.v1.<new>".into());
    w.lwa
        .accepted
        .lock()
        .unwrap()
        .insert("amzn1.oa2-cs.v1.<old>".into());
    let mut previous_body = String::new();
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let now = case["given"]["now"]
            .as_str()
            .map(|s| super::notification::parse_time(s).unwrap())
            .unwrap_or(NOW);
        let body = match &case["given"] {
            Value::String(_) => previous_body.clone(), // "the case above delivered again"
            g => match &g["body"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                b => b.to_string(),
            },
        };
        journal(&w);
        let versions_before = w.sm.count();
        if name == "rotate-not-enrolled" {
            let a = &case["given"]["spapi_answer"]["body"]["errors"][0];
            w.app
                .script
                .lock()
                .unwrap()
                .push_back(RotateCallError::NotEnrolled {
                    message: a["message"].as_str().unwrap().into(),
                });
            let e = run(&w, json!({"action":"rotate","force":true}), now)
                .await
                .unwrap_err();
            assert_eq!(e.error_type(), "RotationNotEnrolled", "{name}");
            assert!(
                e.to_string().contains("Notification Preferences") && e.to_string().contains(QUEUE)
            );
            assert_eq!(w.sm.count(), versions_before, "{name}: secret unchanged");
            continue;
        }
        let out = run(
            &w,
            batch(&[
                &body,
                &expiry_body(
                    "amzn1.application-oa2-client.ffff",
                    "2026-05-02T00:00:00Z",
                    "x",
                ),
            ]),
            now,
        )
        .await
        .unwrap();
        let done = effects(&w);
        match name {
            "new-secret-for-this-app" => {
                assert!(failures(&out).is_empty(), "{name}");
                assert_eq!(done.len(), 4, "{name}: {done:?}");
                assert!(done[0].starts_with("sm.put AWSPENDING") && done[1].contains("-> ok"));
                let cur = w.sm.current();
                assert_eq!(cur["client_secret"], "amzn1.oa2-cs.v1.<new>");
                assert_eq!(cur["refresh_token"], "Atzr|<rt>");
                assert_eq!(cur["client_secret_expires_at"], "2026-10-28T10:00:00Z");
            }
            "same-new-secret-delivered-twice" | "new-secret-for-another-app" => {
                assert!(failures(&out).is_empty(), "{name}");
                assert!(done.is_empty(), "{name}: {done:?}");
            }
            "expiry-notice-10-days-out" => {
                // Recorded expiry is the new secret's; a notice that moves it earlier
                // is stale, so this case runs on a fresh world.
                let w2 = world_with(
                    json!({"client_id": ME, "client_secret": "amzn1.oa2-cs.v1.<old>"}),
                    datetime!(2026-04-01 0:00 UTC),
                );
                w2.lwa
                    .accepted
                    .lock()
                    .unwrap()
                    .insert("amzn1.oa2-cs.v1.<old>".into());
                let out = run(&w2, batch(&[&body]), now).await.unwrap();
                assert!(failures(&out).is_empty());
                assert_eq!(
                    w2.sm.current()["client_secret_expires_at"],
                    "2026-05-11T10:00:00Z"
                );
                let calls = |w: &W| {
                    effects(w)
                        .iter()
                        .filter(|l| l.starts_with("spapi.rotate"))
                        .count()
                };
                assert_eq!(calls(&w2), 1, "{name}: one rotate call");
                run(&w2, batch(&[&body]), now + time::Duration::hours(1))
                    .await
                    .unwrap();
                assert_eq!(calls(&w2), 0, "{name}: no second call within 24 h");
            }
            "expiry-notice-without-milliseconds-and-unknown-fields" => {
                assert!(failures(&out).is_empty(), "{name}");
                // Earlier than the recorded expiry of the newly installed secret: kept as is.
                assert_eq!(
                    w.sm.current()["client_secret_expires_at"],
                    "2026-10-28T10:00:00Z"
                );
                let fresh = world();
                let out = run(&fresh, batch(&[&body]), now).await.unwrap();
                assert!(failures(&out).is_empty());
                assert_eq!(
                    fresh.sm.current()["client_secret_expires_at"],
                    "2026-08-01T10:00:00Z"
                );
            }
            "not-a-notification" => {
                assert_eq!(failures(&out), ["m0"], "{name}");
                assert!(done.is_empty());
            }
            other => panic!("case {other} has no test: add one"),
        }
        previous_body = body;
    }
}

/// A malformed new-secret or expiry notification whose client ID is another
/// app's is acknowledged (never retried into the dead-letter queue); one for
/// this app is retried.
#[tokio::test]
async fn a_malformed_notification_for_another_app_is_ignored() {
    let w = world();
    let other = "amzn1.application-oa2-client.ffff";
    let new_secret = |client: &str, fields: Value| {
        let mut p = json!({"clientId": client});
        p.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        json!({"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET",
            "payload":{"applicationOAuthClientNewSecret": p},"notificationMetadata":{"notificationId":"n-x"}})
        .to_string()
    };
    let foreign_no_secret = new_secret(
        other,
        json!({"newClientSecretExpiryTime": "2026-10-28T10:00:00Z"}),
    );
    let foreign_bad_time = new_secret(
        other,
        json!({"newClientSecret": NEW, "newClientSecretExpiryTime": 5}),
    );
    let foreign_expiry = json!({"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY",
        "payload":{"applicationOAuthClientSecretExpiry":{"clientId":other,"clientSecretExpiryTime":"soon"}}})
    .to_string();
    let mine_bad_time = new_secret(
        ME,
        json!({"newClientSecret": NEW, "newClientSecretExpiryTime": "soon"}),
    );
    let out = run(
        &w,
        batch(&[
            &foreign_no_secret,
            &foreign_bad_time,
            &foreign_expiry,
            &mine_bad_time,
        ]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(
        failures(&out),
        ["m3"],
        "only this app's malformed one is retried"
    );
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.count(), 1);
}

fn raw_batch(records: Value) -> Value {
    let mut records = records;
    for r in records.as_array_mut().unwrap() {
        r["eventSource"] = json!("aws:sqs");
    }
    json!({ "Records": records })
}

/// Records are read one by one: a `body` that is not a string fails only its
/// own record; the good ones are processed.
#[tokio::test]
async fn a_record_of_the_wrong_shape_fails_only_itself() {
    let w = world();
    let good = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = run(
        &w,
        raw_batch(json!([
            {"messageId": "m0", "body": 42},
            {"messageId": "m1", "body": {"notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET"}},
            {"messageId": "m2", "body": null},
            {"messageId": "m3"},
            {"messageId": "m4", "body": good, "attributes": 7},
        ])),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0", "m1", "m2", "m3"]);
    assert_eq!(
        w.sm.current()["client_secret"],
        NEW,
        "the good record was installed"
    );
}

/// A record to retry that cannot be named (no `messageId`, or not a string)
/// fails the whole batch on purpose (Lambda redelivers all of it), never by
/// an empty `itemIdentifier`; a nameless record that succeeds needs no name.
#[tokio::test]
async fn a_nameless_record_to_retry_fails_the_whole_batch() {
    let w = world();
    let good = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    for nameless in [
        json!({"body": "not json"}),
        json!({"messageId": 5, "body": "not json"}),
        json!({"messageId": "", "body": "not json"}),
        json!({"messageId": null, "body": 1}),
    ] {
        let e = run(
            &w,
            raw_batch(json!([{"messageId": "m0", "body": good}, nameless])),
            NOW,
        )
        .await
        .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
        assert!(e.to_string().contains("whole batch"), "{e}");
    }
    assert_eq!(
        w.sm.current()["client_secret"],
        NEW,
        "the good record was installed"
    );
    let out = run(
        &w,
        raw_batch(json!([{"body": good}, {"messageId": 5, "body": good}])),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty(), "{out}");
}

/// Secrets Manager calls carry only the SDK's own timeouts: a stalled one is
/// cut off before the Lambda deadline. A direct action answers
/// `CredentialsUnavailable`; in a batch, the record (and any not started) is
/// retried.
#[tokio::test]
async fn a_stalled_secrets_manager_call_is_cut_off_before_the_deadline() {
    let w = world();
    *w.sm.stall_reads.lock().unwrap() = true;
    let by = deadline(&w);
    let e = handle(&w.rotator, &json!({"action":"status"}), by)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "CredentialsUnavailable");
    assert!(e.to_string().contains("Lambda deadline"), "{e}");
    assert!(w.clock.instant() < by, "answered before the deadline");

    let w = world();
    *w.sm.stall_reads.lock().unwrap() = true;
    let by = deadline(&w);
    let body = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = handle(&w.rotator, &batch(&[&body, &body]), by)
        .await
        .unwrap();
    assert_eq!(failures(&out), ["m0", "m1"]);
    assert!(w.clock.instant() < by, "answered before the deadline");
}
