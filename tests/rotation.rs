//! client-secret-rotator against real protocol peers: moto (Secrets Manager
//! version stages, SQS) and the stand-in playing LWA and SP-API Application
//! Management. The whole loop (expiry notice → rotate call → new-secret
//! notification through the queue → pending, verified, promoted → the
//! refresher on the new secret → the old one retired), propagation delay,
//! SP-API refusals and retries; every output and log scanned for the old and
//! the new secret.

mod common;

use common::{assert_no_leaks, peers, World, CLIENT_ID};
use lwa_token_service::aws::SecretsManagerVersions;
use lwa_token_service::lwa::LwaClient;
use lwa_token_service::ports::secret_versions::{SecretVersions, Stage};
use lwa_token_service::rotation::handler::handle;
use lwa_token_service::rotation::rotator::{Rotator, RotatorSettings};
use lwa_token_service::spapi::SpApiApplicationManagement;
use lwa_token_service::testing::ManualClock;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const ROTATION: &str = "sellingpartnerapi::client_credential:rotation";

type R = Rotator<SecretsManagerVersions, LwaClient, SpApiApplicationManagement>;

struct Rig {
    w: World,
    /// The SP-API client's clock: retry backoff sleeps are virtual.
    spapi_clock: Arc<ManualClock>,
    queue_url: String,
    rotator: R,
}

/// Moto's SQS over its JSON protocol (no SQS SDK in the crate).
async fn sqs(w: &World, action: &str, body: Value) -> Value {
    let r = w
        .http
        .post(&peers().moto)
        .header("x-amz-target", format!("AmazonSQS.{action}"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=x")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "SQS {action}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn standin(w: &World, method: reqwest::Method, path: &str, body: Value) -> Value {
    let r = w
        .http
        .request(
            method,
            format!("{}/_control/{}/spapi{path}", peers().lwa, w.ns),
        )
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "stand-in spapi control {path}: {}",
        r.status()
    );
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

async fn rig(name: &str) -> Rig {
    let w = World::new(name).await;
    w.control_put(
        json!({"clients": [{"client_id": CLIENT_ID, "client_secrets": [w.client_secret],
        "refresh_tokens": [w.refresh_token], "scopes": [ROTATION]}]}),
    )
    .await;
    w.create_secret(&w.credentials_json()).await;
    let queue_url = sqs(
        &w,
        "CreateQueue",
        json!({"QueueName": w.ns.replace('.', "-")}),
    )
    .await["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    standin(
        &w,
        reqwest::Method::PUT,
        "",
        json!({"queue_url": queue_url, "sqs_endpoint": peers().moto}),
    )
    .await;
    let spapi_clock = Arc::new(ManualClock::starting_now());
    let rotator = Rotator::new(
        SecretsManagerVersions::new(w.sdk.clone()),
        LwaClient::new(w.token_url(), Duration::from_secs(5), 2),
        SpApiApplicationManagement::new(
            &format!("{}/ns/{}", peers().lwa, w.ns).parse().unwrap(),
            // A rotate call without an answer is not repeated: give the
            // stand-in (which delivers the notification to moto before it
            // answers) time even on a loaded machine.
            Duration::from_secs(30),
            3,
        )
        .with_clock(spapi_clock.clone()),
        RotatorSettings {
            secret_id: w.secret_id.clone(),
            rotate_before_days: 30,
            queue_arn: Some("arn:aws:sqs:us-east-1:123456789012:spapi-client-secret".into()),
        },
    );
    Rig {
        w,
        spapi_clock,
        queue_url,
        rotator,
    }
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

impl Rig {
    async fn run(&self, event: Value) -> Result<Value, (String, String)> {
        let out = handle(&self.rotator, &event, deadline()).await;
        let text = match &out {
            Ok(v) => v.to_string(),
            Err(e) => format!("{e} {e:?}"),
        };
        assert_no_leaks(&[&text]);
        out.map_err(|e| (e.error_type().as_str().to_owned(), e.to_string()))
    }

    /// Receives what the queue holds and hands it to the function as Lambda's
    /// event source mapping would; deletes what succeeded.
    async fn deliver(&self) -> (usize, Vec<String>) {
        let got = sqs(
            &self.w,
            "ReceiveMessage",
            json!({"QueueUrl": self.queue_url, "MaxNumberOfMessages": 10,
            "VisibilityTimeout": 0, "WaitTimeSeconds": 0}),
        )
        .await;
        let messages = got["Messages"].as_array().cloned().unwrap_or_default();
        let records: Vec<Value> = messages
            .iter()
            .map(|m| json!({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}))
            .collect();
        let out = self.run(json!({ "Records": records })).await.unwrap();
        let failed: Vec<String> = out["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
            .collect();
        for m in &messages {
            if !failed.iter().any(|f| m["MessageId"] == *f) {
                sqs(
                    &self.w,
                    "DeleteMessage",
                    json!({"QueueUrl": self.queue_url, "ReceiptHandle": m["ReceiptHandle"]}),
                )
                .await;
            }
        }
        (messages.len(), failed)
    }

    async fn stage(&self, stage: Stage) -> Option<Value> {
        let v = SecretsManagerVersions::new(self.w.sdk.clone());
        let got = v.get_stage(&self.w.secret_id, stage).await.unwrap()?;
        Some(serde_json::from_str(got.secret_string.expose_secret()).unwrap())
    }

    async fn new_secret(&self) -> String {
        let state = standin(&self.w, reqwest::Method::GET, "", json!({})).await;
        state["rotations"].as_array().unwrap().last().unwrap()["new_client_secret"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn rotations(&self) -> usize {
        standin(&self.w, reqwest::Method::GET, "", json!({})).await["rotations"]
            .as_array()
            .unwrap()
            .len()
    }
}

#[tokio::test]
async fn moto_matches_the_real_staging_rules() {
    let r = rig("stages").await;
    let v = SecretsManagerVersions::new(r.w.sdk.clone());
    let id = &r.w.secret_id;
    let doc = |n: u32| {
        SecretString::from(
            json!({"client_id": CLIENT_ID, "client_secret": format!("s{n}")}).to_string(),
        )
    };
    assert!(
        v.get_stage(id, Stage::Pending).await.unwrap().is_none(),
        "no label: Ok(None)"
    );
    let pending = v.put_version(id, &doc(2), Stage::Pending).await.unwrap();
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        r.w.client_secret,
        "AWSPENDING moves nothing else"
    );
    assert_eq!(
        r.stage(Stage::Pending).await.unwrap()["client_secret"],
        "s2"
    );
    v.put_version(id, &doc(3), Stage::Current).await.unwrap();
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        "s3"
    );
    assert_eq!(
        r.stage(Stage::Previous).await.unwrap()["client_secret"],
        r.w.client_secret
    );
    assert_eq!(
        r.stage(Stage::Pending).await.unwrap()["client_secret"],
        "s2",
        "other labels stay"
    );
    v.remove_stage(id, Stage::Pending, &pending).await.unwrap();
    assert!(v.get_stage(id, Stage::Pending).await.unwrap().is_none());
    let list = v.list_versions(id).await.unwrap();
    assert_eq!(list.len(), 3, "deprecated versions are listed");
    assert!(list.iter().all(|i| i.created.is_some()));
    // Moving AWSCURRENT with UpdateSecretVersionStage (moto needs the peer's patch).
    let current = list
        .iter()
        .find(|i| i.stages.iter().any(|s| s == "AWSCURRENT"))
        .unwrap()
        .version_id
        .clone();
    r.w.secrets
        .update_secret_version_stage()
        .secret_id(id)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&pending)
        .remove_from_version_id(&current)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        "s2"
    );
    v.put_version(id, &doc(4), Stage::Current).await.unwrap();
    let list = v.list_versions(id).await.unwrap();
    let labelled = list
        .iter()
        .filter(|i| i.stages.iter().any(|s| s == "AWSCURRENT"))
        .count();
    assert_eq!(labelled, 1, "AWSCURRENT is on one version only");
}

#[tokio::test]
async fn the_whole_rotation_loop() {
    let r = rig("loop").await;
    let status = r.run(json!({"action":"status"})).await.unwrap();
    assert_eq!(status["expiry_source"], "estimated");
    assert!(
        matches!(status["days_left"].as_i64(), Some(179 | 180)),
        "{status}"
    );
    assert_eq!(status["pending_secret"], false);

    // Amazon's expiry notice, 10 days out → recorded, one rotate call.
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let expires = lwa_token_service::token::rfc3339(expires);
    standin(
        &r.w,
        reqwest::Method::POST,
        "/send-expiry",
        json!({"client_id": CLIENT_ID, "expires_at": expires}),
    )
    .await;
    assert_eq!(r.deliver().await, (1, vec![]));
    assert_eq!(r.rotations().await, 1);
    let current = r.stage(Stage::Current).await.unwrap();
    assert_eq!(current["client_secret_expires_at"], expires);
    assert!(current["client_secret_rotation_requested_at"].is_string());

    // The new-secret notification Amazon sent → saved, verified, promoted.
    let new = r.new_secret().await;
    assert_eq!(r.deliver().await, (1, vec![]));
    let current = r.stage(Stage::Current).await.unwrap();
    assert_eq!(current["client_secret"], new);
    assert_eq!(
        current["refresh_token"], r.w.refresh_token,
        "every other field kept"
    );
    assert!(current.get("client_secret_rotation_requested_at").is_none());
    assert_eq!(
        r.stage(Stage::Previous).await.unwrap()["client_secret"],
        r.w.client_secret
    );
    assert!(r.stage(Stage::Pending).await.is_none());
    let lwa = r.w.lwa_requests().await;
    let verify = lwa
        .iter()
        .find(|q| q["form"]["client_secret"] == new.as_str())
        .expect("verified with LWA");
    assert_eq!(verify["form"]["grant_type"], "client_credentials");
    assert_eq!(verify["form"]["scope"], ROTATION);

    // The refresher now uses the new secret; after the overlap the old one is refused.
    let refresher =
        r.w.refresher(Duration::from_secs(5), 2, Duration::from_secs(1800));
    let run = refresher.refresh(&r.w.profile(), true, deadline()).await;
    run.result.expect("refresh with the new secret");
    assert_eq!(
        r.w.lwa_requests().await.last().unwrap()["form"]["client_secret"],
        new.as_str()
    );
    standin(&r.w, reqwest::Method::POST, "/expire-old", json!({})).await;
    let run = refresher.refresh(&r.w.profile(), true, deadline()).await;
    run.result
        .expect("still fine after the old secret is retired");

    // Duplicate delivery of the status/check afterwards: nothing to do.
    let check = r.run(json!({"action":"check"})).await.unwrap();
    assert_eq!(
        (check["rotated"].clone(), check["expiry_source"].clone()),
        (json!(false), json!("recorded"))
    );
    assert!(check["days_left"].as_i64().unwrap() >= 179);
    assert_no_leaks(&[]);
}

#[tokio::test]
async fn a_new_secret_amazon_has_not_activated_yet_waits_as_pending() {
    let r = rig("delay").await;
    standin(
        &r.w,
        reqwest::Method::PUT,
        "",
        json!({"accept_delay_seconds": 3600}),
    )
    .await;
    r.run(json!({"action":"rotate"})).await.unwrap();
    let new = r.new_secret().await;
    let (n, failed) = r.deliver().await;
    assert_eq!((n, failed.len()), (1, 1), "retried");
    assert_eq!(r.stage(Stage::Pending).await.unwrap()["client_secret"], new);
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        r.w.client_secret
    );
    assert_eq!(
        r.run(json!({"action":"status"})).await.unwrap()["pending_secret"],
        true
    );
    standin(&r.w, reqwest::Method::POST, "/accept-new", json!({})).await;
    assert_eq!(r.deliver().await, (1, vec![]), "the redelivery installs it");
    assert_eq!(r.stage(Stage::Current).await.unwrap()["client_secret"], new);
    assert!(r.stage(Stage::Pending).await.is_none());
}

#[tokio::test]
async fn sp_api_refusals_and_retries() {
    let r = rig("refusals").await;
    standin(&r.w, reqwest::Method::PUT, "", json!({"enrolled": false})).await;
    let (kind, message) = r.run(json!({"action":"rotate"})).await.unwrap_err();
    assert_eq!(kind, "RotationNotEnrolled");
    assert!(
        message.contains("Notification Preferences") && message.contains("arn:aws:sqs:"),
        "{message}"
    );
    assert!(r
        .stage(Stage::Current)
        .await
        .unwrap()
        .get("client_secret_rotation_requested_at")
        .is_none());

    standin(
        &r.w,
        reqwest::Method::PUT,
        "",
        json!({"enrolled": true, "script": [{"status": 403}]}),
    )
    .await;
    let (kind, message) = r.run(json!({"action":"rotate"})).await.unwrap_err();
    assert_eq!(kind, "RotationFailed");
    assert!(message.contains("HTTP 403 Unauthorized"), "{message}");

    standin(
        &r.w,
        reqwest::Method::PUT,
        "",
        json!({"script": [{"status": 503}, {"status": 429, "headers": {"Retry-After": "0"}}]}),
    )
    .await;
    let out = r.run(json!({"action":"rotate"})).await.unwrap();
    assert_eq!(out["rotated"], true);
    let state = standin(&r.w, reqwest::Method::GET, "", json!({})).await;
    assert_eq!(
        state["requests"].as_array().unwrap().len(),
        5,
        "not enrolled, 403, then 503, 429, 204"
    );
    assert_eq!(r.rotations().await, 1);
    assert_eq!(
        r.spapi_clock.sleeps().len(),
        2,
        "one backoff after the 503, one after the 429"
    );
    let again = r.run(json!({"action":"rotate"})).await.unwrap();
    assert_eq!(again["rotated"], false, "24 h guard");
    assert_eq!(r.rotations().await, 1);
}

#[tokio::test]
async fn a_malformed_body_is_retried_and_never_logged() {
    let r = rig("malformed").await;
    let captured = common::TestLogs::start();
    let body = r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{"applicationOAuthClientNewSecret":{"newClientSecret":"amzn1.oa2-cs.v1.PLANTED-MALFORMED""#;
    sqs(
        &r.w,
        "SendMessage",
        json!({"QueueUrl": r.queue_url, "MessageBody": body}),
    )
    .await;
    let (n, failed) = r.deliver().await;
    assert_eq!(
        (n, failed.len()),
        (1, 1),
        "listed for retry (the dead-letter queue takes it after maxReceiveCount)"
    );
    let logs = captured.text();
    assert!(logs.contains(&failed[0]), "logged by messageId");
    assert!(
        !logs.contains("PLANTED-MALFORMED"),
        "the body is never logged"
    );
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        r.w.client_secret
    );
}

/// The refresher's fallback, on real Secrets Manager version stages: a new
/// secret pasted by hand before Amazon accepts it.
#[tokio::test]
async fn the_refresher_falls_back_to_the_previous_secret() {
    let r = rig("fallback").await;
    let pasted = format!("amzn1.oa2-cs.v1.PLANTED-PASTED-{}", r.w.ns);
    let doc = |expires: Option<&str>| {
        let mut v = json!({"client_id": CLIENT_ID, "client_secret": r.w.client_secret, "refresh_token": r.w.refresh_token});
        if let Some(e) = expires {
            v["client_secret_expires_at"] = json!(e);
        }
        v
    };
    let put = |v: Value| {
        r.w.secrets
            .put_secret_value()
            .secret_id(&r.w.secret_id)
            .secret_string(v.to_string())
            .send()
    };
    // AWSPREVIOUS: the old secret, recorded to expire in the future.
    put(doc(Some("2099-01-01T00:00:00Z"))).await.unwrap();
    let mut new = doc(None);
    new["client_secret"] = json!(pasted);
    put(new.clone()).await.unwrap();
    let versions = || async {
        SecretsManagerVersions::new(r.w.sdk.clone())
            .list_versions(&r.w.secret_id)
            .await
            .unwrap()
            .len()
    };
    let before = versions().await;
    let refresher =
        r.w.refresher(Duration::from_secs(5), 1, Duration::from_secs(1800));
    let run = refresher.refresh(&r.w.profile(), true, deadline()).await;
    let report = run.result.expect("refreshed with the previous secret");
    assert_no_leaks(&[&serde_json::to_string(&report).unwrap()]);
    let sent: Vec<Value> =
        r.w.lwa_requests()
            .await
            .iter()
            .map(|q| q["form"]["client_secret"].clone())
            .collect();
    assert_eq!(sent.last().unwrap(), &json!(r.w.client_secret));
    assert_eq!(versions().await, before, "nothing written to the secret");
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        pasted
    );

    // Past its recorded expiry, the previous secret is not tried.
    put(doc(Some("2020-01-01T00:00:00Z"))).await.unwrap();
    put(new).await.unwrap();
    let requests = r.w.lwa_requests().await.len();
    let run = refresher.refresh(&r.w.profile(), true, deadline()).await;
    let e = run.result.expect_err("no fallback");
    assert_eq!(e.error_type().as_str(), "LwaInvalidClient");
    assert_eq!(
        r.w.lwa_requests().await.len(),
        requests + 2,
        "current twice (re-read), previous never"
    );
    assert_no_leaks(&[&e.to_string()]);
}

/// Against moto's version dates and the stand-in's notifications: a
/// notification of an earlier rotation delivered after a later one is
/// installed is stale, and the real version dates and stages carry it. A
/// hand-set date is covered by the unit tests (src/rotation/tests_ordering.rs),
/// on a clock that can move past the clock-skew allowance without waiting.
#[tokio::test]
async fn a_late_notification_of_an_earlier_rotation_is_stale_against_moto() {
    let r = rig("ordering").await;
    r.run(json!({"action":"rotate"})).await.unwrap();
    let first = r.new_secret().await;
    assert_eq!(r.deliver().await, (1, vec![]));
    let current = r.stage(Stage::Current).await.unwrap();
    assert_eq!(current["client_secret"], first);

    // A second rotation, then the first notification delivered again late.
    r.run(json!({"action":"rotate","force":true}))
        .await
        .unwrap();
    let second = r.new_secret().await;
    assert_eq!(r.deliver().await, (1, vec![]));
    let state = standin(&r.w, reqwest::Method::GET, "", json!({})).await;
    let one = &state["rotations"][0];
    let late = json!({"notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET", "eventTime": one["at"],
        "payload": {"applicationOAuthClientNewSecret": {"clientId": CLIENT_ID,
            "newClientSecret": first, "newClientSecretExpiryTime": one["expires_at"]}},
        "notificationMetadata": {"notificationId": "late-1"}});
    let out = r
        .run(json!({"Records": [{"messageId": "late", "body": late.to_string(), "eventSource": "aws:sqs"}]}))
        .await
        .unwrap();
    assert_eq!(out["batchItemFailures"], json!([]), "acknowledged as stale");
    assert_eq!(
        r.stage(Stage::Current).await.unwrap()["client_secret"],
        second
    );
}
