//! Probes that try to break the service, by subject: odd LWA answers, odd
//! stored values, odd secrets, odd events, the deadline and write failures,
//! odd configuration. Every test here states what the contract asks for.

mod common;

use common::{assert_no_leaks, cold, event, World, CLIENT_ID};
use lwa_token_service::aws::SsmTokenStore;
use lwa_token_service::config::ReaderTarget;
use lwa_token_service::handler::handle_refresher;
use lwa_token_service::reader::Reader;

/// A reader with its one parameter, as a single-profile deployment has it.
struct R {
    reader: Reader<SsmTokenStore>,
    target: ReaderTarget,
}

async fn handle_reader(
    r: &R,
    event: Value,
) -> Result<Value, lwa_token_service::error::ServiceError> {
    lwa_token_service::handler::handle_reader(&r.reader, &r.target, event).await
}
use lwa_token_service::https::backoff_ceiling;
use lwa_token_service::ports::Clock;
use lwa_token_service::testing::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const TIMEOUT: Duration = Duration::from_secs(10);
const MARGIN: Duration = Duration::from_secs(1800);

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

async fn invoke(world: &World, attempts: u32, payload: &Value) -> Result<Value, (String, String)> {
    let refresher = world.refresher(TIMEOUT, attempts, MARGIN);
    handle_refresher(&refresher, &world.profile(), payload, deadline())
        .await
        .map(|r| serde_json::to_value(r).unwrap())
        .map_err(|e| (e.error_type().as_str().to_owned(), e.to_string()))
}

fn reader(world: &World) -> R {
    R {
        reader: Reader::new(
            SsmTokenStore::new(world.sdk.clone(), None),
            Duration::from_secs(60),
            Duration::from_secs(300),
        ),
        target: ReaderTarget::Single(world.parameter.clone()),
    }
}

async fn put_raw_parameter(world: &World, value: &str) {
    world
        .ssm
        .put_parameter()
        .name(&world.parameter)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    lwa_token_service::token::rfc3339(t)
}

// ---------------------------------------------------------------- LWA answers

#[tokio::test]
async fn huge_expires_in_is_malformed_not_a_panic() {
    let world = World::new("brk-huge-expires").await;
    world.create_secret(&world.credentials_json()).await;
    world.seed_token("Atza|PLANTED-OLD", 100).await;
    let before = world.parameter_value().await;
    world
        .script(json!([{"status": 200, "content_type": "application/json",
            "body": "{\"access_token\":\"Atza|PLANTED-NEW\",\"token_type\":\"bearer\",\"expires_in\":18446744073709551615}",
            "repeat": true}]))
        .await;
    // The contract: 200 without a usable expires_in is LwaMalformedResponse
    // and the stored token is left as it was. Today: panic (time overflow).
    let result = tokio::spawn(async move {
        let r = invoke(&world, 3, &json!({})).await;
        (r, world)
    })
    .await;
    let (r, world) = result.expect("the refresher panicked on expires_in = u64::MAX");
    let (ty, message) = r.expect_err("a lifetime of 584 billion years is not usable");
    assert_eq!(ty, "LwaMalformedResponse", "{message}");
    assert_eq!(world.parameter_value().await, before);
}

#[tokio::test]
async fn access_token_with_a_newline_is_malformed() {
    let world = World::new("brk-token-newline").await;
    world.create_secret(&world.credentials_json()).await;
    world.seed_token("Atza|PLANTED-OLD", 100).await;
    let before = world.parameter_value().await;
    world
        .script(json!([{"status": 200, "content_type": "application/json",
            "body": "{\"access_token\":\"Atza|PLANTED-A\\nB\",\"token_type\":\"bearer\",\"expires_in\":3600}"}]))
        .await;
    let result = invoke(&world, 3, &json!({})).await;
    // A token with a control character cannot go into an x-amz-access-token
    // header: it is not a usable access_token.
    match result {
        Err((ty, _)) => assert_eq!(ty, "LwaMalformedResponse"),
        Ok(v) => {
            // Worse: it was stored, and the reader now cannot read what was stored.
            let r = reader(&world);
            let served = handle_reader(&r, json!({})).await;
            panic!(
                "stored a token with a newline ({v}); the reader then answers {:?}; parameter before {:?}",
                served.map_err(|e| e.to_string()),
                before.map(|b| b.1)
            );
        }
    }
}

#[tokio::test]
async fn lwa_error_description_that_echoes_a_secret_is_not_repeated() {
    let world = World::new("brk-echo").await;
    world.create_secret(&world.credentials_json()).await;
    let body = json!({
        "error": "invalid_request",
        "error_description": format!(
            "Malformed request: client_secret={} refresh_token={}",
            world.client_secret, world.refresh_token
        ),
    })
    .to_string();
    world
        .script(json!([{"status": 400, "content_type": "application/json", "body": body}]))
        .await;
    let (ty, message) = invoke(&world, 3, &json!({})).await.unwrap_err();
    assert_eq!(ty, "LwaInvalidRequest");
    // "no secret: never a client secret, refresh token ... in any log line, error or response"
    assert_no_leaks(&[&message]);
}

#[tokio::test]
async fn error_as_a_number_is_described_truthfully() {
    let world = World::new("brk-error-number").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(json!([{"status": 400, "content_type": "application/json",
            "body": "{\"error\":400,\"error_description\":\"bad\"}", "repeat": true}]))
        .await;
    let (ty, message) = invoke(&world, 2, &json!({})).await.unwrap_err();
    assert_eq!(ty, "LwaUnavailable", "{message}");
    assert!(
        !message.contains("without an `error` field"),
        "the body has an `error` field (a number), the message says it has none: {message}"
    );
}

#[tokio::test]
async fn token_type_other_than_bearer_is_not_stored_as_a_usable_token() {
    let world = World::new("brk-token-type").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(json!([{"status": 200, "content_type": "application/json",
            "body": "{\"access_token\":\"Atza|PLANTED-MAC\",\"token_type\":\"mac\",\"expires_in\":3600}"}]))
        .await;
    let r = invoke(&world, 3, &json!({})).await;
    let (ty, _) = r.expect_err("a mac token is not what callers send as x-amz-access-token");
    assert_eq!(ty, "LwaMalformedResponse");
}

#[tokio::test]
async fn huge_token_type_is_malformed_not_store_failed() {
    let world = World::new("brk-token-type-huge").await;
    world.create_secret(&world.credentials_json()).await;
    world.seed_token("Atza|PLANTED-OLD", 100).await;
    let body = json!({"access_token": "Atza|PLANTED-A", "token_type": "b".repeat(5000), "expires_in": 3600})
        .to_string();
    world
        .script(json!([{"status": 200, "content_type": "application/json", "body": body}]))
        .await;
    let (ty, message) = invoke(&world, 3, &json!({})).await.unwrap_err();
    assert_eq!(
        ty, "LwaMalformedResponse",
        "the fault is LWA's answer, not the parameter store: {message}"
    );
}

#[tokio::test]
async fn odd_lwa_answers_are_classified_and_leave_the_token() {
    let cases: Vec<(Value, &str, usize)> = vec![
        (
            json!({"status": 200, "content_type": "text/html", "body": "<html>ok</html>"}),
            "LwaMalformedResponse",
            1,
        ),
        (
            json!({"status": 200, "content_type": "application/json", "body": ""}),
            "LwaMalformedResponse",
            1,
        ),
        (
            json!({"status": 200, "body": "{\"access_token\":\"Atza|PLANTED-F\",\"expires_in\":3600.5}"}),
            "LwaMalformedResponse",
            1,
        ),
        (
            json!({"status": 200, "body": "{\"access_token\":\"Atza|PLANTED-F\",\"expires_in\":-1}"}),
            "LwaMalformedResponse",
            1,
        ),
        (
            json!({"status": 200, "body": format!("{{\"access_token\":\"Atza|{}\",\"expires_in\":3600}}", "A".repeat(3000))}),
            "LwaMalformedResponse",
            1,
        ),
        (
            json!({"status": 200, "body": "{\"access_token\":12,\"expires_in\":3600}"}),
            "LwaMalformedResponse",
            1,
        ),
        (
            json!({"status": 401, "content_type": "text/html", "body": "<html>denied</html>", "repeat": true}),
            "LwaUnavailable",
            3,
        ),
        (
            json!({"status": 500, "body": "", "repeat": true}),
            "LwaUnavailable",
            3,
        ),
        (
            json!({"status": 403, "content_type": "application/json", "body": "{\"error\":\"access_denied\"}"}),
            "LwaAccessDenied",
            1,
        ),
        (
            json!({"status": 400, "content_type": "application/json", "body": "{\"error\":\"invalid_scope\"}"}),
            "LwaInvalidScope",
            1,
        ),
        (
            json!({"status": 429, "body": "slow down", "headers": {"Retry-After": "-5"}, "repeat": true}),
            "LwaUnavailable",
            3,
        ),
        (
            json!({"action": "close", "repeat": true}),
            "LwaUnavailable",
            3,
        ),
    ];
    for (i, (entry, ty, n)) in cases.into_iter().enumerate() {
        let world = World::new(&format!("pass-lwa-{i}")).await;
        world.create_secret(&world.credentials_json()).await;
        world.seed_token("Atza|PLANTED-OLD", 100).await;
        let before = world.parameter_value().await;
        world.script(json!([entry])).await;
        let (got, message) = invoke(&world, 3, &json!({})).await.unwrap_err();
        assert_eq!(got, ty, "case {i}: {message}");
        assert_eq!(world.lwa_requests().await.len(), n, "case {i}");
        assert_eq!(world.parameter_value().await, before, "case {i}");
        assert!(!message.contains("<html"), "{message}");
        assert_no_leaks(&[&message]);
    }
    // expires_in as a string is accepted.
    let world = World::new("pass-lwa-str").await;
    world.create_secret(&world.credentials_json()).await;
    world.script(json!([{"status": 200, "body": "{\"access_token\":\"Atza|PLANTED-S\",\"expires_in\":\"1200\"}"}])).await;
    assert_eq!(
        invoke(&world, 3, &json!({})).await.unwrap()["outcome"],
        "refreshed"
    );
}

#[tokio::test]
async fn a_slow_answer_is_abandoned_at_the_timeout() {
    let world = World::new("pass-slow").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(json!([{"action": "normal", "delay_ms": 3000, "repeat": true}]))
        .await;
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let refresher = world.refresher_on(Duration::from_millis(500), 2, MARGIN, clock.clone());
    let deadline = clock.instant() + Duration::from_secs(60);
    let e = handle_refresher(&refresher, &world.profile(), &json!({}), deadline)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "LwaUnavailable");
    assert!(
        e.to_string()
            .contains("after 2 attempt(s); last: no answer within 500 ms"),
        "{e}"
    );
    assert_eq!(world.lwa_requests().await.len(), 2);
    // A Retry-After too large to read is ignored: the usual backoff, no hang.
    let huge = World::new("pass-ra-huge").await;
    huge.create_secret(&huge.credentials_json()).await;
    huge.script(json!([{"status": 429, "body": "x", "headers": {"Retry-After": "99999999999999999999"}, "repeat": true}])).await;
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let refresher = huge.refresher_on(TIMEOUT, 3, MARGIN, clock.clone());
    let deadline = clock.instant() + Duration::from_secs(60);
    let e = handle_refresher(&refresher, &huge.profile(), &json!({}), deadline)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "LwaUnavailable");
    assert_eq!(huge.lwa_requests().await.len(), 3);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    for (n, d) in sleeps.iter().enumerate() {
        assert!(*d <= backoff_ceiling(n as u32 + 1), "{sleeps:?}");
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let world = World::new("brk-retry-date").await;
    world.create_secret(&world.credentials_json()).await;
    // Virtual time: the date is exactly 3 s after the clock's now, and the
    // clock does not move while the answer travels.
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let fmt = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .unwrap();
    let when = (clock.now() + time::Duration::seconds(3))
        .format(&fmt)
        .unwrap();
    world
        .script(json!([{"status": 429, "content_type": "application/json",
            "body": "{\"error\":\"too_many_requests\"}", "headers": {"Retry-After": when}}]))
        .await;
    let refresher = world.refresher_on(TIMEOUT, 3, MARGIN, clock.clone());
    let r = handle_refresher(
        &refresher,
        &world.profile(),
        &json!({"action": "refresh", "force": true}),
        clock.instant() + Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(r.outcome, lwa_token_service::refresh::Outcome::Refreshed);
    assert_eq!(world.lwa_requests().await.len(), 2);
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(3)],
        "Retry-After: {when} was not honoured exactly"
    );
}

#[tokio::test]
async fn a_404_from_a_wrong_token_url_points_at_the_url_not_the_secret() {
    // What the stand-in (and many JSON APIs) answer for a wrong path.
    let world = World::new("brk-404").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(json!([{"status": 404, "content_type": "application/json",
            "body": "{\"error\":\"not_found\",\"path\":\"/auth/o2/tokn\"}"}]))
        .await;
    let (ty, message) = invoke(&world, 3, &json!({})).await.unwrap_err();
    assert!(
        message.contains("LWA_TOKEN_URL"),
        "{ty}: a 404 means the URL is wrong; the message sends the operator to the secret: {message}"
    );
}

// ---------------------------------------------------------------- stored values

#[tokio::test]
async fn stored_token_with_json_escapes_is_readable() {
    // Valid JSON as any JSON encoder may write it (PHP, many Java encoders
    // escape "/"; the refresher itself escapes control characters).
    let world = World::new("brk-escaped").await;
    let now = time::OffsetDateTime::now_utc();
    let value = format!(
        r#"{{"access_token":"Atza|PLANTED-ESC\/x","token_type":"bearer","expires_at":"{}","issued_at":"{}"}}"#,
        rfc3339(now + time::Duration::seconds(3000)),
        rfc3339(now - time::Duration::seconds(600))
    );
    put_raw_parameter(&world, &value).await;
    let r = reader(&world);
    let served = handle_reader(&r, json!({}))
        .await
        .map_err(|e| e.to_string());
    let served = served.expect("a valid token JSON with an escaped / must be served");
    assert_eq!(served["access_token"], "Atza|PLANTED-ESC/x");
}

#[tokio::test]
async fn far_future_expiry_with_negative_offset_does_not_crash_the_reader() {
    let world = World::new("brk-far-future").await;
    put_raw_parameter(
        &world,
        r#"{"access_token":"Atza|PLANTED-FAR","token_type":"bearer","expires_at":"9999-12-31T23:59:59-01:00","issued_at":"2026-11-30T11:32:48Z"}"#,
    )
    .await;
    let r = reader(&world);
    let url = tokio::spawn(async move { handle_reader(&r, event("reader-url-get.json")).await })
        .await
        .map_err(|e| format!("{e}"));
    // 503 token_unavailable (unreadable) is the contract's answer for a
    // value the reader cannot use; a panic is not.
    let response = url.expect("the reader panicked on a stored expires_at beyond year 9999 UTC");
    assert_eq!(response.unwrap()["statusCode"], 503);
}

#[tokio::test]
async fn expired_token_dated_year_zero_with_offset_does_not_crash_the_reader() {
    let world = World::new("brk-year-zero").await;
    put_raw_parameter(
        &world,
        r#"{"access_token":"Atza|PLANTED-OLD","token_type":"bearer","expires_at":"0000-01-01T00:00:00+01:00","issued_at":"0000-01-01T00:00:00+01:00"}"#,
    )
    .await;
    let r = reader(&world);
    let result = tokio::spawn(async move {
        handle_reader(&r, json!({}))
            .await
            .map_err(|e| e.error_type())
    })
    .await
    .map_err(|e| format!("{e}"));
    let result = result.expect("the reader panicked on a stored date before year 0 UTC");
    assert_eq!(result.unwrap_err(), "TokenUnavailable");
}

#[tokio::test]
async fn far_future_expiry_with_negative_offset_does_not_crash_the_refresher() {
    let world = World::new("brk-far-future-refresher").await;
    world.create_secret(&world.credentials_json()).await;
    put_raw_parameter(
        &world,
        r#"{"access_token":"Atza|PLANTED-FAR","token_type":"bearer","expires_at":"9999-12-31T23:59:59-01:00","issued_at":"2026-11-30T11:32:48Z"}"#,
    )
    .await;
    let result = tokio::spawn(async move { invoke(&world, 3, &event("scheduled.json")).await })
        .await
        .map_err(|e| format!("{e}"));
    let _ = result.expect("the scheduled refresher panicked on the stored value, on every run");
}

#[tokio::test]
async fn odd_stored_values_are_token_unavailable() {
    let world = World::new("pass-stored").await;
    let now = time::OffsetDateTime::now_utc();
    let plus = |s: i64| now + time::Duration::seconds(s);
    // Non-UTC offset, in range: served, answered in UTC.
    let off = (plus(3000)).to_offset(time::macros::offset!(+05:30));
    let v = format!(
        r#"{{"access_token":"Atza|PLANTED-O","token_type":"bearer","expires_at":"{}","issued_at":"{}","extra":1}}"#,
        off.format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
        rfc3339(plus(-600))
    );
    put_raw_parameter(&world, &v).await;
    let a = handle_reader(&reader(&world), json!({})).await.unwrap();
    assert!(a["expires_at"].as_str().unwrap().ends_with('Z'));
    for bad in [
        r#"{"access_token":"Atza|PLANTED-M","token_type":"bearer","expires_at":"2026-11-30T12:00:00Z"}"#.to_owned(),
        r#"{"access_token":5,"token_type":"bearer","expires_at":"x","issued_at":"y"}"#.to_owned(),
        r#"[1,2]"#.to_owned(),
        format!(r#"{{"access_token":"Atza|PLANTED-P","token_type":"bearer","expires_at":"{}","issued_at":"{}"}}"#, rfc3339(plus(-10)), rfc3339(plus(-3610))),
        format!(r#"{{"access_token":"Atza|PLANTED-P","token_type":"bearer","expires_at":"{}","issued_at":"{}"}}"#, rfc3339(plus(100)), rfc3339(plus(-3500))),
    ] {
        put_raw_parameter(&world, &bad).await;
        let r = reader(&world);
        let e = handle_reader(&r, json!({})).await.unwrap_err();
        assert_eq!(e.error_type(), "TokenUnavailable", "{bad}");
        let http = handle_reader(&r, event("reader-url-get.json")).await.unwrap();
        assert_eq!(http["statusCode"], 503, "{bad}");
        assert_no_leaks(&[&e.to_string(), &http.to_string()]);
    }
}

// ---------------------------------------------------------------- secrets

#[tokio::test]
async fn rotation_with_two_refresh_token_aliases_keeps_the_secret_usable() {
    let world = World::new("brk-rotate-aliases").await;
    world
        .control_put(json!({"clients": [{
            "client_id": CLIENT_ID,
            "client_secrets": [world.client_secret],
            "refresh_tokens": [world.refresh_token],
        }], "rotate_refresh_token": true}))
        .await;
    // Accepted today: the same value under two aliases.
    let doc = json!({"client_id": CLIENT_ID, "client_secret": world.client_secret,
                     "refresh_token": world.refresh_token, "SP_API_REFRESH_TOKEN": world.refresh_token});
    world.create_secret(&doc.to_string()).await;
    let first = invoke(&world, 3, &event("refresh.json")).await.unwrap();
    assert_eq!(first["outcome"], "refreshed");
    // The next run must still work with the secret the service wrote.
    let second = invoke(&world, 3, &event("force-refresh.json")).await;
    assert!(
        second.is_ok(),
        "after its own rotation write-back the secret is refused: {second:?}"
    );
}

#[tokio::test]
async fn rotation_keeps_other_fields_exactly() {
    let world = World::new("brk-rotate-bignum").await;
    world
        .control_put(json!({"clients": [{
            "client_id": CLIENT_ID,
            "client_secrets": [world.client_secret],
            "refresh_tokens": [world.refresh_token],
        }], "rotate_refresh_token": true}))
        .await;
    let doc = format!(
        r#"{{"client_id":"{CLIENT_ID}","client_secret":"{}","refresh_token":"{}","merchant_number":123456789012345678901234567890}}"#,
        world.client_secret, world.refresh_token
    );
    world.create_secret(&doc).await;
    invoke(&world, 3, &event("refresh.json")).await.unwrap();
    let saved = world.secret_string().await;
    assert!(
        saved.contains("123456789012345678901234567890"),
        "\"every other field ... kept\": merchant_number was rewritten: {}",
        saved.split("merchant_number").nth(1).unwrap_or("")
    );
}

#[tokio::test]
async fn secret_with_a_byte_order_mark_is_accepted_or_explained() {
    let world = World::new("brk-bom").await;
    world
        .control_put(json!({"clients": [{
            "client_id": CLIENT_ID, "client_secrets": [world.client_secret],
            "refresh_tokens": [world.refresh_token]}]}))
        .await;
    world
        .create_secret(&format!("\u{feff}{}", world.credentials_json()))
        .await;
    match invoke(&world, 3, &json!({})).await {
        Ok(v) => assert_eq!(v["outcome"], "refreshed"),
        Err((ty, message)) => {
            assert_eq!(ty, "CredentialsInvalid");
            assert!(
                message.contains("BOM") || message.to_lowercase().contains("byte order mark"),
                "the secret is JSON with a BOM; the message only says it is not JSON: {message}"
            );
        }
    }
}

#[tokio::test]
async fn key_in_another_case_is_named_in_the_error() {
    let world = World::new("brk-key-case").await;
    let doc = json!({"Client_Id": CLIENT_ID, "client_secret": world.client_secret,
                     "refresh_token": world.refresh_token});
    world.create_secret(&doc.to_string()).await;
    let (ty, message) = invoke(&world, 3, &json!({})).await.unwrap_err();
    assert_eq!(ty, "CredentialsInvalid");
    assert!(
        message.contains("Client_Id"),
        "the secret has `Client_Id`; the message says only that client_id is missing: {message}"
    );
}

#[tokio::test]
async fn odd_secrets_are_credentials_invalid_naming_the_field_without_values() {
    let cs = "amzn1.oa2-cs.v1.PLANTED-X";
    let rt = "Atzr|PLANTED-Y";
    let cases: Vec<(String, &str)> = vec![
        (format!(r#"{{"client_id":{{"a":1}},"client_secret":"{cs}","refresh_token":"{rt}"}}"#), "client_id"),
        (format!(r#"{{"client_id":["x"],"client_secret":"{cs}","refresh_token":"{rt}"}}"#), "client_id"),
        (format!(r#"{{"client_id":"id","client_secret":12,"refresh_token":"{rt}"}}"#), "client_secret"),
        (format!(r#"{{"client_id":"id","client_secret":"{cs}","refresh_token":true}}"#), "refresh_token"),
        (format!(r#"{{"client_id":"id","client_secret":"{cs}","refresh_token":null}}"#), "refresh_token"),
        (format!(r#"{{"client_id":"   ","client_secret":"{cs}","refresh_token":"{rt}"}}"#), "client_id"),
        (format!(r#"{{"client_id":"id","client_secret":"\t\n","refresh_token":"{rt}"}}"#), "client_secret"),
        (serde_json::to_string(&format!(r#"{{"client_id":"id","client_secret":"{cs}","refresh_token":"{rt}"}}"#)).unwrap(), "client_id"),
        (format!("// c\n{{\"client_id\":\"id\",\"client_secret\":\"{cs}\",\"refresh_token\":\"{rt}\"}}"), "client_id"),
        (format!(r#"{{"credentials":{{"client_id":"id","client_secret":"{cs}","refresh_token":"{rt}"}}}}"#), "client_id"),
        ("   ".to_owned(), "client_id"),
        (format!(r#"{{"client_id":"amzn1.sellerapps.app.1","client_secret":"{cs}","refresh_token":"{rt}"}}"#), "amzn1.application-oa2-client"),
        (format!(r#"{{"client_id":"id","client_secret":"{cs}","refresh_token":"Atza|PLANTED-Z"}}"#), "refresh_token"),
    ];
    for (doc, needle) in cases {
        let e = lwa_token_service::credentials::parse_credentials("s", &doc).unwrap_err();
        let m = e.to_string();
        assert!(m.contains(needle), "{doc}: {m}");
        assert!(!m.contains("PLANTED"), "{doc}: {m}");
    }
    // Accepted: unicode and very long values, duplicate same-valued aliases.
    let long = "é".repeat(20_000);
    let doc =
        json!({"client_id": "id", "client_secret": long, "refresh_token": "Atzr|ü"}).to_string();
    lwa_token_service::credentials::parse_credentials("s", &doc).unwrap();
}

// ---------------------------------------------------------------- events

#[tokio::test]
async fn eventbridge_envelope_with_another_action_is_invalid() {
    let world = World::new("brk-eb-action").await;
    world.create_secret(&world.credentials_json()).await;
    let mut e = event("scheduled.json");
    e["action"] = json!("delete");
    let r = invoke(&world, 3, &e).await;
    assert_eq!(
        r.map_err(|(t, _)| t).unwrap_err(),
        "InvalidEvent",
        "\"any other action ... error InvalidEvent\""
    );
}

#[tokio::test]
async fn huge_unknown_key_is_not_echoed_whole() {
    let world = World::new("brk-huge-key").await;
    let key = "k".repeat(200_000);
    let mut m = serde_json::Map::new();
    m.insert(key, json!(1));
    let (ty, message) = invoke(&world, 3, &Value::Object(m)).await.unwrap_err();
    assert_eq!(ty, "InvalidEvent");
    assert!(
        message.len() < 2_000,
        "error message (and log line) is {} bytes",
        message.len()
    );
}

#[tokio::test]
async fn odd_events_are_invalid_and_other_methods_405() {
    let world = World::new("pass-events").await;
    world.create_secret(&world.credentials_json()).await;
    for bad in [
        json!({"action": "REFRESH"}),
        json!({"action": "refresh", "force": 1}),
        json!(null),
        json!(true),
        json!({"action": null}),
    ] {
        assert_eq!(
            invoke(&world, 3, &bad).await.unwrap_err().0,
            "InvalidEvent",
            "{bad}"
        );
    }
    world.seed_token("Atza|PLANTED-R", 3000).await;
    let r = reader(&world);
    for (method, status) in [
        ("get", 200),
        ("HEAD", 405),
        ("OPTIONS", 405),
        ("", 405),
        ("GET ", 405),
    ] {
        let mut e = event("reader-url-get.json");
        e["requestContext"]["http"]["method"] = json!(method);
        e["rawQueryString"] = json!("a=%00&b");
        e["body"] = json!("AAAA");
        e["isBase64Encoded"] = json!(true);
        let http = handle_reader(&r, e).await.unwrap();
        assert_eq!(http["statusCode"], status, "{method:?}");
    }
    // A profile on a single-token reader is refused, traversal or not.
    let mut e = event("reader-url-get.json");
    e["rawQueryString"] = json!("profile=../../x");
    let http = handle_reader(&r, e).await.unwrap();
    assert_eq!(http["statusCode"], 400);
    assert!(!http["body"].as_str().unwrap().contains("Atza|"));
    for bad in [
        json!(null),
        json!("get"),
        json!({"action": "GET"}),
        json!({"action": "get", "x": 1}),
    ] {
        assert_eq!(
            handle_reader(&r, bad.clone())
                .await
                .unwrap_err()
                .error_type(),
            "InvalidEvent",
            "{bad}"
        );
    }
    assert_no_leaks(&[]);
}

#[tokio::test]
async fn a_single_token_reader_refuses_a_profile_by_name() {
    // The contract's `profile` field is known to every reader: a
    // single-token reader refuses it with what to do (not "unknown field"),
    // whatever the profile, and serves nothing.
    let world = World::new("brk-fleet-profile").await;
    world.seed_token("Atza|PLANTED-P", 3000).await;
    let r = reader(&world);
    for profile in ["../../other", "acme"] {
        let e = handle_reader(&r, json!({"action": "get", "profile": profile}))
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent", "{e}");
        assert!(
            e.to_string()
                .contains("serves one token (TOKEN_PARAMETER_NAME); remove `profile`"),
            "{e}"
        );
    }
    // Without the profile it serves the token.
    assert_eq!(
        handle_reader(&r, json!({"action": "get"})).await.unwrap()["access_token"],
        "Atza|PLANTED-P"
    );
}

// ---------------------------------------------------------------- deadline

#[tokio::test]
async fn a_lambda_timeout_too_short_for_the_request_is_explained() {
    let world = World::new("brk-short-deadline").await;
    world.create_secret(&world.credentials_json()).await;
    let refresher = world.refresher(TIMEOUT, 3, MARGIN);
    let err = handle_refresher(
        &refresher,
        &world.profile(),
        &json!({}),
        Instant::now() + Duration::from_secs(3),
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert_eq!(world.lwa_requests().await.len(), 0);
    assert!(
        message.to_lowercase().contains("timeout") && !message.contains("usually temporary"),
        "no request was possible because the Lambda timeout is too short; the message blames the endpoint: {message}"
    );
}

// ---------------------------------------------------------------- configuration

#[test]
fn token_url_with_credentials_is_refused_without_echoing_them() {
    for url in [
        "http://amzn1.application-oa2-client.x:amzn1.oa2-cs.v1.PLANTED-CS@api.amazon.com/auth/o2/token",
        "https://amzn1.application-oa2-client.x:amzn1.oa2-cs.v1.PLANTED-CS@sellingpartnerapi-na.amazon.com/auth/o2/token",
    ] {
        let (output, report) = cold::cold_start(cold::REFRESHER, &[("LWA_TOKEN_URL", Some(url))]);
        assert!(!cold::started(&report), "{url}: must fail");
        let reported = report.map(|(_, b)| b.to_string()).unwrap_or_default();
        assert!(
            !output.contains("PLANTED") && !reported.contains("PLANTED"),
            "the client secret in the URL's userinfo is echoed into the log and the init error:\n{output}"
        );
    }
}

#[test]
fn sandbox_sp_api_host_is_refused() {
    let (output, report) = cold::cold_start(
        cold::REFRESHER,
        &[(
            "LWA_TOKEN_URL",
            Some("https://sandbox.sellingpartnerapi-na.amazon.com/auth/o2/token"),
        )],
    );
    assert!(
        !cold::started(&report),
        "the sandbox SP-API host was accepted as the token endpoint\n{output}"
    );
    assert!(
        output.contains("https://api.amazon.com/auth/o2/token"),
        "{output}"
    );
}

#[test]
fn overflowing_number_is_called_out_of_range_not_not_a_number() {
    let (output, report) = cold::cold_start(
        cold::REFRESHER,
        &[("LWA_MAX_ATTEMPTS", Some("99999999999999999999"))],
    );
    assert!(!cold::started(&report));
    let line = output
        .lines()
        .find(|l| l.contains("invalid configuration"))
        .unwrap_or_default();
    assert!(
        line.contains("LWA_MAX_ATTEMPTS") && !line.contains("is not a number"),
        "{line}"
    );
}

#[test]
fn non_utf8_token_url_is_not_silently_replaced_by_the_default() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let bad = OsString::from_vec(b"http://127.0.0.1:9/\xff".to_vec());
    let (output, report) = cold::cold_start(cold::REFRESHER, &[("LWA_TOKEN_URL", Some(bad))]);
    assert!(
        !cold::started(&report),
        "an invalid LWA_TOKEN_URL was ignored and the production endpoint used\n{output}"
    );
}

#[test]
fn config_error_is_one_line_even_for_a_value_with_a_newline() {
    let (output, report) = cold::cold_start(
        cold::REFRESHER,
        &[("LWA_TOKEN_URL", Some("not a url\nsecond line"))],
    );
    assert!(!cold::started(&report));
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 1, "{output:?}");
}

#[test]
fn fleet_mode_reader_starts_with_a_parameter_prefix() {
    let (output, report) = cold::cold_start(
        cold::READER,
        &[
            ("TOKEN_PARAMETER_NAME", None),
            ("TOKEN_PARAMETER_PREFIX", Some("/spapi/lwa/")),
        ],
    );
    assert!(
        cold::started(&report),
        "fleet mode (TOKEN_PARAMETER_PREFIX replaces TOKEN_PARAMETER_NAME) is refused\n{output}"
    );
}

#[test]
fn fleet_mode_refresher_starts_with_prefixes() {
    let (output, report) = cold::cold_start(
        cold::REFRESHER,
        &[
            ("TOKEN_PARAMETER_NAME", None),
            ("LWA_CREDENTIALS_SECRET_ID", None),
            ("TOKEN_PARAMETER_PREFIX", Some("/spapi/lwa/")),
            ("LWA_SECRET_PREFIX", Some("spapi/lwa/")),
        ],
    );
    assert!(
        cold::started(&report),
        "fleet mode (LWA_SECRET_PREFIX + TOKEN_PARAMETER_PREFIX) is refused\n{output}"
    );
}

#[test]
fn margin_that_refreshes_on_every_scheduled_run_warns() {
    use lwa_token_service::config::RefresherConfig;
    let c = RefresherConfig::from_lookup(|k| match k {
        "LWA_CREDENTIALS_SECRET_ID" => Some("spapi/lwa".into()),
        "TOKEN_PARAMETER_NAME" => Some("/p".into()),
        "REFRESH_MARGIN_SECONDS" => Some("3300".into()),
        _ => None,
    })
    .unwrap();
    assert!(
        !c.warnings.is_empty(),
        "3300 s margin with a 3600 s token and the default rate(10 minutes) schedule refreshes on every run; no warning"
    );
}

#[tokio::test]
async fn token_url_with_a_secret_in_the_query_is_refused_and_not_echoed() {
    use lwa_token_service::config::RefresherConfig;
    use lwa_token_service::lwa::{ExchangeStats, LwaClient};
    use lwa_token_service::ports::TokenEndpoint;
    let url = "https://127.0.0.1:9/auth/o2/token?client_secret=amzn1.oa2-cs.v1.PLANTED-Q";
    let e = RefresherConfig::from_lookup(|n| match n {
        "LWA_CREDENTIALS_SECRET_ID" => Some("spapi/lwa".into()),
        "TOKEN_PARAMETER_NAME" => Some("/p".into()),
        "LWA_TOKEN_URL" => Some(url.into()),
        _ => None,
    })
    .expect_err("a token URL with a query string is refused");
    assert_eq!(e.variable, "LWA_TOKEN_URL");
    assert!(e.to_string().contains("query string"), "{e}");
    assert!(!e.to_string().contains("PLANTED"), "{e}");
    // And should such a URL reach the client, its errors do not echo it.
    let client = LwaClient::new(url.parse().unwrap(), Duration::from_millis(500), 1);
    let creds = lwa_token_service::credentials::parse_credentials(
        "s",
        r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"amzn1.oa2-cs.v1.PLANTED-S","refresh_token":"Atzr|PLANTED-R"}"#,
    )
    .unwrap();
    let mut stats = ExchangeStats::default();
    let e = client
        .request_token(&creds, Instant::now() + Duration::from_secs(5), &mut stats)
        .await
        .expect_err("nothing listens on port 9");
    assert_eq!(stats.requests, 1, "the request was tried: {e}");
    assert!(
        !e.to_string().contains("PLANTED"),
        "the URL (with the client secret in its query) is echoed into the error and log: {e}"
    );
}

#[test]
fn odd_config_values_name_the_variable() {
    use lwa_token_service::config::{ReaderConfig, RefresherConfig};
    let refresher = |k: &'static str, v: &'static str| {
        RefresherConfig::from_lookup(move |n| match n {
            n if n == k => Some(v.into()),
            "LWA_CREDENTIALS_SECRET_ID" => Some("spapi/lwa".into()),
            "TOKEN_PARAMETER_NAME" => Some("/p".into()),
            _ => None,
        })
    };
    for bad_url in [
        "http://localhost.evil.com/t",
        "http://127.0.0.1.nip.io/t",
        "https://u:p@api.amazon.com/t",
        "https://api.amazon.com@evil.com/t",
        "ftp://api.amazon.com/t",
        "file:///etc/passwd",
        "https://sellingpartnerapi-eu.amazon.com/auth/o2/token",
        "http://0.0.0.0/t",
        "http://[::ffff:127.0.0.1]/t",
    ] {
        let e = refresher("LWA_TOKEN_URL", bad_url).unwrap_err();
        assert_eq!(e.variable, "LWA_TOKEN_URL", "{bad_url}");
    }
    for ok_url in [
        "HTTPS://API.AMAZON.COM/auth/o2/token",
        "  https://api.amazon.com/auth/o2/token  ",
        "http://[::1]:9/t",
        "HTTP://LOCALHOST:9/t",
        "http://127.0.0.2/t",
    ] {
        refresher("LWA_TOKEN_URL", ok_url).unwrap_or_else(|e| panic!("{ok_url}: {e}"));
    }
    for (var, bad) in [
        ("REFRESH_MARGIN_SECONDS", "-1"),
        ("REFRESH_MARGIN_SECONDS", "١٢٠٠"),
        ("REFRESH_MARGIN_SECONDS", "1e3"),
        ("LWA_TIMEOUT_MS", "99"),
        ("LWA_TIMEOUT_MS", "60001"),
        ("LWA_TIMEOUT_MS", "10s"),
        ("LWA_MAX_ATTEMPTS", "0"),
        ("LWA_MAX_ATTEMPTS", "11"),
        ("LWA_MAX_ATTEMPTS", "3.0"),
        ("TOKEN_PARAMETER_NAME", "/a//b"),
        ("TOKEN_PARAMETER_NAME", "/ssm/x"),
        ("TOKEN_PARAMETER_NAME", "a/b"),
        ("TOKEN_PARAMETER_NAME", "/a b"),
    ] {
        let e = refresher(var, bad).unwrap_err();
        assert_eq!(e.variable, var, "{var}={bad}: {e}");
        assert!(
            e.to_string().contains("expected") || e.to_string().contains("SSM"),
            "{e}"
        );
    }
    for (var, bad) in [
        ("TOKEN_CACHE_SECONDS", "3601"),
        ("MIN_VALIDITY_SECONDS", "3001"),
        ("MIN_VALIDITY_SECONDS", "-5"),
        ("TOKEN_CACHE_SECONDS", " "),
    ] {
        let r = ReaderConfig::from_lookup(|n| match n {
            "TOKEN_PARAMETER_NAME" => Some("/p".into()),
            n if n == var => Some(bad.into()),
            _ => None,
        });
        if bad.trim().is_empty() {
            assert!(r.is_ok());
        } else {
            assert_eq!(r.unwrap_err().variable, var);
        }
    }
}
