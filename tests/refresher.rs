//! token-refresher against real protocol peers: moto (Secrets Manager, SSM)
//! and the LWA stand-in. Every case of `tests/cases/lwa_responses.json` and
//! `tests/cases/secrets.json` is a test here; every error path is scanned for
//! secret values.

mod common;

use common::{assert_no_leaks, cases, event, World, CLIENT_ID};
use lwa_token_service::handler::handle_refresher;
use lwa_token_service::ports::Clock;
use lwa_token_service::refresh::Outcome;
use lwa_token_service::testing::ManualClock;
use lwa_token_service::token::StoredToken;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const MARGIN: Duration = Duration::from_secs(1800);

fn case(file: &str, id: &str) -> Value {
    cases(file)
        .into_iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("case {id} not in {file}"))
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

/// A stand-in script entry from a case's `given` answer.
fn scripted(given: &Value) -> Value {
    json!({"status": given["status"], "content_type": given["content_type"], "body": given["body"]})
}

/// Runs the refresher once through the handler with `event`, returning the
/// response JSON or (errorType, message).
async fn invoke(
    world: &World,
    timeout: Duration,
    attempts: u32,
    margin: Duration,
    payload: &Value,
) -> Result<Value, (String, String)> {
    let refresher = world.refresher(timeout, attempts, margin);
    handle_refresher(&refresher, &world.profile(), payload, deadline())
        .await
        .map(|r| serde_json::to_value(r).unwrap())
        .map_err(|e| (e.error_type().as_str().to_owned(), e.to_string()))
}

fn assert_mentions(message: &str, expect: &Value) {
    for m in expect["message_mentions"].as_array().into_iter().flatten() {
        let m = m.as_str().unwrap();
        assert!(
            message.contains(m),
            "message should mention {m:?}: {message}"
        );
    }
    for m in expect["message_excludes"].as_array().into_iter().flatten() {
        let m = m.as_str().unwrap();
        assert!(
            !message.contains(m),
            "message must not contain {m:?}: {message}"
        );
    }
}

/// Runs one LWA answer case: a stale stored token exists; the stand-in
/// answers as the case says; the outcome, the number of token requests and
/// the untouched stored token are checked.
async fn lwa_case(id: &str) {
    let c = case("lwa_responses.json", id);
    let (given, expect) = (&c["given"], &c["expect"]);
    let world = World::new(id).await;
    world.create_secret(&world.credentials_json()).await;
    world.seed_token("Atza|PLANTED-OLD-ACCESS", 100).await;
    let before = world.parameter_value().await.unwrap();

    let timeout = given["LWA_TIMEOUT_MS"]
        .as_u64()
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_TIMEOUT);
    let attempts = given["LWA_MAX_ATTEMPTS"].as_u64().unwrap_or(3) as u32;
    if let Some(seq) = given["sequence"].as_array() {
        world
            .script(Value::Array(seq.iter().map(scripted).collect()))
            .await;
    } else if given["server"].is_string() {
        world
            .script(json!([{"action": "hang", "repeat": true}]))
            .await;
    } else {
        let mut s = scripted(given);
        s["repeat"] = json!(true);
        world.script(json!([s])).await;
    }

    // The retry loop's waits on virtual time; each attempt's HTTP timeout is real.
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let refresher = world.refresher_on(timeout, attempts, MARGIN, clock.clone());
    let result = handle_refresher(
        &refresher,
        &world.profile(),
        &event("scheduled.json"),
        clock.instant() + Duration::from_secs(60),
    )
    .await
    .map(|r| serde_json::to_value(r).unwrap())
    .map_err(|e| (e.error_type().as_str().to_owned(), e.to_string()));
    let requests = world.lwa_requests().await;
    let after = world.parameter_value().await.unwrap();

    if let Some(n) = expect["token_requests"].as_u64() {
        assert_eq!(requests.len() as u64, n, "{id}: token requests");
    }
    if let Some(s) = expect["returns_within_seconds"].as_u64() {
        // Every attempt ended at its timeout (the message says so) and the
        // waits between them were bounded: the worst case fits.
        let (_, message) = result.as_ref().expect_err("a hang is an error");
        assert!(
            message.contains(&format!("no answer within {} ms", timeout.as_millis())),
            "{id}: {message}"
        );
        let waited: Duration = clock.sleeps().iter().sum();
        let worst = timeout * attempts + waited;
        assert!(worst < Duration::from_secs(s), "{id}: up to {worst:?}");
    }
    match (expect["errorType"].as_str(), result) {
        (Some(error_type), Err((ty, message))) => {
            assert_eq!(ty, error_type, "{id}: {message}");
            assert_mentions(&message, expect);
            if matches!(error_type, "LwaInvalidGrant" | "LwaUnauthorizedClient") {
                // The seller's lost authorization is recorded next to the
                // token; the token itself is left as it was.
                let parse = |v: &(String, i64)| StoredToken::from_parameter_value(&v.0).unwrap();
                let (was, now) = (parse(&before), parse(&after));
                assert!(now.authorization_lost.is_some(), "{id}: the marker");
                assert_eq!(now.with_marker(None), was, "{id}: the token as it was");
            } else {
                assert_eq!(
                    after, before,
                    "{id}: a failed refresh must leave the stored token as it was"
                );
            }
            assert_no_leaks(&[&message]);
        }
        (None, Ok(response)) => {
            assert_eq!(response["outcome"], expect["outcome"], "{id}");
            assert_ne!(after, before, "{id}: the new token is stored");
            assert_eq!(after.1, before.1 + 1, "{id}: one write");
            assert_no_leaks(&[&response.to_string()]);
        }
        (want, got) => panic!("{id}: expected {want:?}, got {got:?}"),
    }
}

#[tokio::test]
async fn case_lwa_revoked() {
    lwa_case("lwa-revoked").await;
}

#[tokio::test]
async fn case_lwa_client_secret_expired() {
    lwa_case("lwa-client-secret-expired").await;
}

#[tokio::test]
async fn case_lwa_unauthorized_client() {
    lwa_case("lwa-unauthorized-client").await;
}

#[tokio::test]
async fn case_lwa_unsupported_grant() {
    lwa_case("lwa-unsupported-grant").await;
}

#[tokio::test]
async fn case_lwa_500_then_ok() {
    lwa_case("lwa-500-then-ok").await;
}

#[tokio::test]
async fn case_lwa_maintenance_page() {
    lwa_case("lwa-maintenance-page").await;
}

#[tokio::test]
async fn case_lwa_200_without_token() {
    lwa_case("lwa-200-without-token").await;
}

#[tokio::test]
async fn case_lwa_200_empty_token() {
    lwa_case("lwa-200-empty-token").await;
}

#[tokio::test]
async fn case_lwa_hangs() {
    lwa_case("lwa-hangs").await;
}

#[tokio::test]
async fn case_lwa_expires_in_short() {
    let c = case("lwa_responses.json", "lwa-expires-in-short");
    lwa_case("lwa-expires-in-short").await;
    // The stored expiry is request time + 1200 s, and the next run refreshes again.
    let world = World::new("expires-in-short-2").await;
    world.create_secret(&world.credentials_json()).await;
    let mut s = scripted(&c["given"]);
    s["repeat"] = json!(true);
    world.script(json!([s])).await;
    let before_request = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let first = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("scheduled.json"))
        .await
        .unwrap();
    let (value, _) = world.parameter_value().await.unwrap();
    let stored = StoredToken::from_parameter_value(&value).unwrap();
    assert_eq!(
        stored.expires_at - stored.issued_at,
        time::Duration::seconds(1200)
    );
    assert!(
        stored.issued_at >= before_request,
        "issued_at is when the request was sent"
    );
    assert!(first["expires_in"].as_i64().unwrap() <= 1200);
    let second = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("scheduled.json"))
        .await
        .unwrap();
    assert_eq!(
        second["outcome"], "refreshed",
        "1200 s left is within the 1800 s margin"
    );
    assert_eq!(world.lwa_requests().await.len(), 2);
}

/// Runs one secret case: the secret holds the case's value; the stand-in
/// knows the client; the request fields, the outcome and the messages are
/// checked.
async fn secret_case(id: &str) {
    let c = case("secrets.json", id);
    let (given, expect) = (&c["given"], &c["expect"]);
    let world = World::new(id).await;
    if let Some(s) = given["SecretString"].as_str() {
        world.create_secret(s).await;
    } else {
        world
            .secrets
            .create_secret()
            .name(&world.secret_id)
            .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(
                world.credentials_json().into_bytes(),
            ))
            .send()
            .await
            .unwrap();
    }
    // Teach the stand-in the client in this case's secret.
    if let Some(fields) = expect["request_fields"].as_object() {
        let client_id = fields
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or(CLIENT_ID);
        let secret = fields
            .get("client_secret")
            .and_then(Value::as_str)
            .unwrap_or("amzn1.oa2-cs.v1.PLACEHOLDER");
        world
            .control_put(json!({"clients": [{
                "client_id": client_id,
                "client_secrets": [secret],
                "refresh_tokens": [fields["refresh_token"]],
            }]}))
            .await;
    }
    let result = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json")).await;
    let requests = world.lwa_requests().await;
    if let Some(n) = expect["token_requests"].as_u64() {
        assert_eq!(requests.len() as u64, n, "{id}: token requests");
    }
    match (expect["errorType"].as_str(), result) {
        (Some(error_type), Err((ty, message))) => {
            assert_eq!(ty, error_type, "{id}: {message}");
            assert_mentions(&message, expect);
            assert!(
                world.parameter_value().await.is_none(),
                "{id}: nothing stored"
            );
            if id == "secret-binary" {
                assert!(message.contains("SecretString"), "{message}");
            }
            assert_no_leaks(&[&message]);
        }
        (None, Ok(response)) => {
            assert_eq!(response["outcome"], expect["outcome"], "{id}");
            assert_eq!(requests.len(), 1);
            let form = &requests[0]["form"];
            for (k, v) in expect["request_fields"].as_object().unwrap() {
                assert_eq!(&form[k], v, "{id}: request field {k}");
            }
            assert_eq!(form["grant_type"], "refresh_token");
            if let Some(raw) = expect["request_body_contains"].as_str() {
                let body = requests[0]["body"].as_str().unwrap();
                assert!(body.contains(raw), "{id}: body {body}");
            }
            assert!(requests[0]["content_type"]
                .as_str()
                .unwrap()
                .starts_with("application/x-www-form-urlencoded"));
            assert_no_leaks(&[&response.to_string()]);
        }
        (want, got) => panic!("{id}: expected {want:?}, got {got:?}"),
    }
}

#[tokio::test]
async fn case_secret_python_sp_api_layout() {
    secret_case("secret-python-sp-api-layout").await;
}

#[tokio::test]
async fn case_secret_trailing_newline() {
    secret_case("secret-trailing-newline").await;
}

#[tokio::test]
async fn case_secret_plain_text() {
    secret_case("secret-plain-text").await;
}

#[tokio::test]
async fn case_secret_missing_refresh_token() {
    secret_case("secret-missing-refresh-token").await;
}

#[tokio::test]
async fn case_secret_app_id_as_client_id() {
    secret_case("secret-app-id-as-client-id").await;
}

#[tokio::test]
async fn case_secret_binary() {
    secret_case("secret-binary").await;
}

#[tokio::test]
async fn refreshed_then_skipped_then_forced() {
    let world = World::new("cycle").await;
    world.create_secret(&world.credentials_json()).await;
    let first = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("scheduled.json"))
        .await
        .unwrap();
    assert_eq!(first["outcome"], "refreshed");
    assert_eq!(first["parameter"], world.parameter.as_str());
    let (value, version) = world.parameter_value().await.unwrap();
    let stored = StoredToken::from_parameter_value(&value).unwrap();
    assert_eq!(
        first["token_fingerprint"],
        stored.access_token.fingerprint()
    );
    assert_eq!(
        first["expires_at"],
        lwa_token_service::token::rfc3339(stored.expires_at)
    );
    assert_eq!(stored.token_type, "bearer");

    // The SSM parameter is a SecureString.
    let described = world
        .ssm
        .get_parameter()
        .name(&world.parameter)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.parameter().unwrap().r#type(),
        Some(&aws_sdk_ssm::types::ParameterType::SecureString)
    );

    let second = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap();
    assert_eq!(second["outcome"], "skipped");
    assert_eq!(second["token_fingerprint"], first["token_fingerprint"]);
    assert_eq!(
        world.lwa_requests().await.len(),
        1,
        "skipped makes no token request"
    );
    assert_eq!(
        world.parameter_value().await.unwrap().1,
        version,
        "skipped writes nothing"
    );

    let third = invoke(
        &world,
        DEFAULT_TIMEOUT,
        3,
        MARGIN,
        &event("force-refresh.json"),
    )
    .await
    .unwrap();
    assert_eq!(third["outcome"], "refreshed");
    assert_ne!(third["token_fingerprint"], first["token_fingerprint"]);
    assert_eq!(world.parameter_value().await.unwrap().1, version + 1);
    let requests = world.lwa_requests().await;
    assert!(requests[0]["user_agent"]
        .as_str()
        .unwrap()
        .starts_with("spapi-lwa-token-service/"));
    assert_no_leaks(&[&first.to_string(), &second.to_string(), &third.to_string()]);
}

#[tokio::test]
async fn outcome_serializes_lowercase() {
    assert_eq!(serde_json::to_value(Outcome::Skipped).unwrap(), "skipped");
}

#[tokio::test]
async fn rotated_refresh_token_is_saved_with_the_same_key_names() {
    let world = World::new("rotation").await;
    world
        .control_put(json!({"clients": [{
            "client_id": CLIENT_ID,
            "client_secrets": [world.client_secret],
            "refresh_tokens": [world.refresh_token],
        }], "rotate_refresh_token": true}))
        .await;
    let doc = json!({"LWA_APP_ID": CLIENT_ID, "LWA_CLIENT_SECRET": world.client_secret,
                     "SP_API_REFRESH_TOKEN": world.refresh_token, "seller": "acme"});
    world.create_secret(&doc.to_string()).await;
    let r = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "refreshed");
    let saved: Value = serde_json::from_str(&world.secret_string().await).unwrap();
    assert_eq!(saved["LWA_APP_ID"], CLIENT_ID);
    assert_eq!(saved["LWA_CLIENT_SECRET"], world.client_secret.as_str());
    assert_eq!(saved["seller"], "acme");
    let rotated = saved["SP_API_REFRESH_TOKEN"].as_str().unwrap();
    assert_ne!(
        rotated, world.refresh_token,
        "the rotated refresh token replaced the old one"
    );
    assert!(rotated.starts_with("Atzr|"));
    assert_eq!(
        saved.as_object().unwrap().len(),
        4,
        "no key added or renamed"
    );
    assert!(world.parameter_value().await.is_some());
    // The next forced refresh uses the rotated token.
    invoke(
        &world,
        DEFAULT_TIMEOUT,
        3,
        MARGIN,
        &event("force-refresh.json"),
    )
    .await
    .unwrap();
    let requests = world.lwa_requests().await;
    assert_eq!(requests[1]["form"]["refresh_token"], rotated);
    assert_no_leaks(&[]);
}

#[tokio::test]
async fn missing_secret_is_credentials_unavailable() {
    let world = World::new("no-secret").await;
    world.seed_token("Atza|PLANTED-KEEP", 10).await;
    let before = world.parameter_value().await;
    let (ty, message) = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap_err();
    assert_eq!(ty, "CredentialsUnavailable");
    assert!(
        message.contains(&world.secret_id) && message.contains("ResourceNotFoundException"),
        "{message}"
    );
    assert_eq!(world.lwa_requests().await.len(), 0);
    assert_eq!(world.parameter_value().await, before);
    assert_no_leaks(&[&message]);
}

#[tokio::test]
async fn unreadable_stored_value_is_replaced() {
    let world = World::new("unreadable").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .ssm
        .put_parameter()
        .name(&world.parameter)
        .value("not json")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let r = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "refreshed");
    let (value, _) = world.parameter_value().await.unwrap();
    StoredToken::from_parameter_value(&value).unwrap();
}

#[tokio::test]
async fn labelled_oldest_version_is_store_failed_and_says_how_to_fix() {
    let world = World::new("labelled").await;
    world.create_secret(&world.credentials_json()).await;
    for _ in 0..100 {
        world.seed_token("Atza|PLANTED-OLD", 100).await;
    }
    world
        .ssm
        .label_parameter_version()
        .name(&world.parameter)
        .parameter_version(1)
        .labels("pinned")
        .send()
        .await
        .unwrap();
    let before = world.parameter_value().await;
    let (ty, message) = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap_err();
    assert_eq!(ty, "StoreFailed", "{message}");
    assert!(
        message.contains("ParameterMaxVersionLimitExceeded") && message.contains("unlabel"),
        "{message}"
    );
    assert_eq!(world.parameter_value().await, before);
    assert_no_leaks(&[&message]);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let world = World::new("retry-after").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(json!([{"status": 429, "content_type": "application/json",
                        "body": "{\"error\":\"too_many_requests\"}", "headers": {"Retry-After": "1"}}]))
        .await;
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let refresher = world.refresher_on(DEFAULT_TIMEOUT, 3, MARGIN, clock.clone());
    let deadline = clock.instant() + Duration::from_secs(60);
    let r = handle_refresher(
        &refresher,
        &world.profile(),
        &event("refresh.json"),
        deadline,
    )
    .await
    .unwrap();
    assert_eq!(r.outcome, Outcome::Refreshed);
    assert_eq!(world.lwa_requests().await.len(), 2);
    // Backoff after a first failure is at most 250 ms: the wait is LWA's.
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(1)],
        "the second request waited exactly Retry-After"
    );
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_gives_up_early() {
    let world = World::new("retry-after-long").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(
            json!([{"status": 503, "content_type": "text/plain", "body": "busy",
                        "headers": {"Retry-After": "120"}, "repeat": true}]),
        )
        .await;
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let refresher = world.refresher_on(DEFAULT_TIMEOUT, 3, MARGIN, clock.clone());
    let err = handle_refresher(
        &refresher,
        &world.profile(),
        &event("refresh.json"),
        clock.instant() + Duration::from_secs(60),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "LwaUnavailable");
    assert!(err.to_string().contains("retry after 120 s"), "{err}");
    assert!(
        clock.sleeps().is_empty(),
        "gave up at once: {:?}",
        clock.sleeps()
    );
    assert_eq!(world.lwa_requests().await.len(), 1);
}

#[tokio::test]
async fn connection_reset_is_retried() {
    let world = World::new("reset").await;
    world.create_secret(&world.credentials_json()).await;
    world.script(json!([{"action": "reset"}])).await;
    let r = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "refreshed");
    assert_eq!(world.lwa_requests().await.len(), 2);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let world = World::new("redirect").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(
            json!([{"status": 302, "content_type": "text/html", "body": "moved",
                        "headers": {"Location": "http://127.0.0.1:1/elsewhere"}, "repeat": true}]),
        )
        .await;
    let (ty, message) = invoke(&world, DEFAULT_TIMEOUT, 2, MARGIN, &event("refresh.json"))
        .await
        .unwrap_err();
    assert_eq!(ty, "LwaUnavailable");
    assert!(
        message.contains("redirect") && message.contains("LWA_TOKEN_URL"),
        "{message}"
    );
    assert_eq!(world.lwa_requests().await.len(), 2);
}

#[tokio::test]
async fn invalid_events_are_refused_before_any_work() {
    let world = World::new("invalid-event").await;
    world.create_secret(&world.credentials_json()).await;
    for payload in [
        json!({"action": "delete"}),
        json!([]),
        json!("refresh"),
        json!({"force": "yes"}),
    ] {
        let (ty, message) = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &payload)
            .await
            .unwrap_err();
        assert_eq!(ty, "InvalidEvent", "{payload}: {message}");
    }
    assert_eq!(world.lwa_requests().await.len(), 0);
    assert!(world.parameter_value().await.is_none());
}

#[tokio::test]
async fn grantless_profile_uses_client_credentials() {
    let world = World::new("grantless").await;
    world
        .create_secret(
            &json!({"client_id": CLIENT_ID, "client_secret": world.client_secret,
                    "scope": "sellingpartnerapi::notifications"})
            .to_string(),
        )
        .await;
    let r = invoke(&world, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "refreshed");
    let form = &world.lwa_requests().await[0]["form"];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "sellingpartnerapi::notifications");
    assert!(form.get("refresh_token").is_none());

    let bad = World::new("grantless-bad-scope").await;
    bad.create_secret(
        &json!({"client_id": CLIENT_ID, "client_secret": bad.client_secret,
                "scope": "sellingpartnerapi::migration"})
        .to_string(),
    )
    .await;
    let (ty, message) = invoke(&bad, DEFAULT_TIMEOUT, 3, MARGIN, &event("refresh.json"))
        .await
        .unwrap_err();
    assert_eq!(ty, "LwaInvalidScope", "{message}");
    assert_no_leaks(&[&message]);
}

#[test]
fn the_leak_scan_finds_values_and_ignores_guidance() {
    use common::leaks;
    assert_eq!(leaks("token Atza|abc123 here").len(), 1);
    assert_eq!(leaks("refresh Atzr|x").len(), 1);
    assert_eq!(leaks("secret amzn1.oa2-cs.v1.abcdef").len(), 1);
    assert_eq!(leaks("marker PLANTED-CS").len(), 1);
    assert!(leaks(
        "store the refresh token (Atzr|…), not an access token (Atza|…); amzn1.oa2-cs.v1.…"
    )
    .is_empty());
}

/// The stored value's `authorization_lost` object, if any.
async fn marker_of(world: &World) -> Option<Value> {
    let (value, _) = world.parameter_value().await?;
    let v: Value = serde_json::from_str(&value).unwrap();
    v.get("authorization_lost").cloned()
}

#[tokio::test]
async fn a_revoked_seller_is_published_once_and_restored_by_a_new_refresh_token() {
    use common::events::EventSink;
    use lwa_token_service::aws::{EventBridgePublisher, SsmTokenStore};
    use lwa_token_service::config::ReaderTarget;
    use lwa_token_service::handler::handle_reader;
    use lwa_token_service::reader::Reader;
    use std::sync::Arc;

    let world = World::new("auth-lost").await;
    let sink = EventSink::new(&world).await;
    let seller = |refresh_token: &str| {
        json!({"client_id": CLIENT_ID, "client_secret": world.client_secret, "refresh_token": refresh_token,
               "selling_partner_id": "A1SELLER", "region": "eu"})
        .to_string()
    };
    world.create_secret(&seller(&world.refresh_token)).await;
    world.seed_token("Atza|PLANTED-OLD-ACCESS", 100).await;
    let renewed = format!("Atzr|PLANTED-RENEWED-{}", world.ns);
    let lwa = |revoked: &[&str]| {
        json!({"clients": [{"client_id": CLIENT_ID, "client_secrets": [world.client_secret],
                            "refresh_tokens": [world.refresh_token, renewed], "revoked_refresh_tokens": revoked}]})
    };
    world.control_put(lwa(&[&world.refresh_token])).await;
    let mut said = Vec::new();

    // The loss is recorded; publishing to a bus that does not exist fails,
    // so `notified` stays false.
    let missing = EventBridgePublisher::new(world.sdk.clone(), format!("missing-{}", world.ns));
    let refresher = world
        .refresher(DEFAULT_TIMEOUT, 3, MARGIN)
        .with_events(Some(Arc::new(missing)));
    let e = handle_refresher(&refresher, &world.profile(), &json!({}), deadline())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "LwaInvalidGrant");
    assert!(e.to_string().contains("could not be published"), "{e}");
    said.push(e.to_string());
    let marker = marker_of(&world).await.expect("the marker");
    assert_eq!(marker["notified"], false);
    assert_eq!(marker["error_type"], "LwaInvalidGrant");

    // The next run (forced, even) sends no token request for the refused
    // refresh token and publishes the event.
    let refresher = world
        .refresher(DEFAULT_TIMEOUT, 3, MARGIN)
        .with_events(Some(sink.publisher(&world)));
    for _ in 0..2 {
        let e = handle_refresher(
            &refresher,
            &world.profile(),
            &event("force-refresh.json"),
            deadline(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.error_type(), "LwaInvalidGrant");
        let m = e.to_string();
        assert!(
            m.contains("No token request was made") && m.contains("re-authorize"),
            "{m}"
        );
        said.push(m);
    }
    assert_eq!(world.lwa_requests().await.len(), 1);
    assert_eq!(marker_of(&world).await.unwrap()["notified"], true);
    let events = sink.events().await;
    assert_eq!(events.len(), 1, "published once: {events:?}");
    assert_eq!(events[0]["detail-type"], "Seller Authorization Lost");
    assert_eq!(events[0]["source"], "spapi.lwa-token-service");
    let detail = &events[0]["detail"];
    assert_eq!(detail["parameter"], world.parameter.as_str());
    assert_eq!(
        (
            &detail["selling_partner_id"],
            &detail["region"],
            &detail["error_type"]
        ),
        (&json!("A1SELLER"), &json!("eu"), &json!("LwaInvalidGrant"))
    );
    assert_eq!(detail["since"], marker["since"]);
    assert!(detail.get("profile").is_none(), "single mode: {detail}");

    // The last token has less than MIN_VALIDITY_SECONDS left: the reader
    // names the loss and the fix.
    let reader = Reader::new(
        SsmTokenStore::new(world.sdk.clone(), None),
        Duration::from_secs(60),
        Duration::from_secs(300),
    );
    let target = ReaderTarget::Single(world.parameter.clone());
    let e = handle_reader(&reader, &target, json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "AuthorizationLost");
    assert!(e.to_string().contains("onboarding link"), "{e}");
    let http = handle_reader(&reader, &target, event("reader-url-get.json"))
        .await
        .unwrap();
    assert_eq!(http["statusCode"], 503);
    let body: Value = serde_json::from_str(http["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"], "authorization_lost");
    said.push(e.to_string());
    said.push(http.to_string());

    // Re-authorized: a new refresh token in the secret is tried at once.
    world
        .secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(seller(&renewed))
        .send()
        .await
        .unwrap();
    let report = handle_refresher(&refresher, &world.profile(), &json!({}), deadline())
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Refreshed);
    assert_eq!(world.lwa_requests().await.len(), 2);
    assert!(marker_of(&world).await.is_none(), "the marker is removed");
    let events = sink.events().await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1]["detail-type"], "Seller Authorization Restored");
    assert!(events[1]["detail"]["outage_seconds"].as_i64().unwrap() >= 0);
    assert!(handle_reader(&reader, &target, json!({})).await.is_ok());

    let shown: Vec<String> = events.iter().map(Value::to_string).collect();
    let all: Vec<&str> = said.iter().chain(&shown).map(String::as_str).collect();
    assert_no_leaks(&all);
}

#[tokio::test]
async fn the_rotated_refresh_token_write_keeps_an_edit_made_meanwhile() {
    use lwa_token_service::aws::SecretsManagerSource;
    use lwa_token_service::ports::{CredentialsRead, CredentialsWrite};
    use lwa_token_service::secret::RefreshToken;
    let world = World::new("rotation-edit").await;
    let doc = json!({"client_id": CLIENT_ID, "client_secret": world.client_secret,
                     "refresh_token": world.refresh_token});
    world.create_secret(&doc.to_string()).await;
    let source = SecretsManagerSource::new(world.sdk.clone());
    let credentials = source.load(&world.secret_id).await.unwrap();
    // While the run waits on LWA, an operator installs a new client secret.
    let edited = json!({"client_id": CLIENT_ID, "client_secret": "edited-client-secret",
                        "refresh_token": world.refresh_token, "note": "rotated by hand"});
    world
        .secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(edited.to_string())
        .send()
        .await
        .unwrap();
    let origin = credentials.refresh_token_origin.as_ref().unwrap();
    source
        .save_refresh_token(origin, &RefreshToken::new("Atzr|rotated"))
        .await
        .unwrap();
    let saved: Value = serde_json::from_str(&world.secret_string().await).unwrap();
    assert_eq!(
        saved,
        json!({"client_id": CLIENT_ID, "client_secret": "edited-client-secret",
               "refresh_token": "Atzr|rotated", "note": "rotated by hand"}),
        "only the refresh token changed"
    );

    // A refresh token replaced meanwhile (a re-authorization) is kept.
    let reauthorized = json!({"client_id": CLIENT_ID, "client_secret": "edited-client-secret",
                              "refresh_token": "Atzr|reauthorized"});
    world
        .secrets
        .put_secret_value()
        .secret_id(&world.secret_id)
        .secret_string(reauthorized.to_string())
        .send()
        .await
        .unwrap();
    source
        .save_refresh_token(origin, &RefreshToken::new("Atzr|rotated-2"))
        .await
        .unwrap();
    let saved: Value = serde_json::from_str(&world.secret_string().await).unwrap();
    assert_eq!(saved, reauthorized);
}
