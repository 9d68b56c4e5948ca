//! Probes that the service survives today (kept as regression tests): odd LWA answers, odd stored values,
//! odd secrets, odd events, odd configuration. Every test here states what
//! the contract asks for.

mod common;

use common::{assert_no_leaks, event, World};
use lwa_token_service::aws::{LazySdkConfig, SsmTokenStore};
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
use serde_json::{json, Value};
use std::time::{Duration, Instant as StdInstant};
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
        .map_err(|e| (e.error_type().to_owned(), e.to_string()))
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

// ================================================================ probes that pass today

#[tokio::test]
async fn pass_odd_secrets_are_credentials_invalid_naming_the_field_without_values() {
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

#[tokio::test]
async fn pass_lwa_oddities_are_classified() {
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
async fn pass_slow_answer_beyond_the_timeout_returns_in_time() {
    let world = World::new("pass-slow").await;
    world.create_secret(&world.credentials_json()).await;
    world
        .script(json!([{"action": "normal", "delay_ms": 3000, "repeat": true}]))
        .await;
    let refresher = world.refresher(Duration::from_millis(500), 2, MARGIN);
    let started = StdInstant::now();
    let e = handle_refresher(&refresher, &world.profile(), &json!({}), deadline())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "LwaUnavailable");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let huge = World::new("pass-ra-huge").await;
    huge.create_secret(&huge.credentials_json()).await;
    huge.script(json!([{"status": 429, "body": "x", "headers": {"Retry-After": "99999999999999999999"}, "repeat": true}])).await;
    let started = StdInstant::now();
    let e = invoke(&huge, 3, &json!({})).await.unwrap_err();
    assert_eq!(e.0, "LwaUnavailable");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn pass_events() {
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
async fn pass_stored_values() {
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

#[test]
fn pass_config_values() {
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

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let world = World::new("brk-retry-date").await;
    world.create_secret(&world.credentials_json()).await;
    // Warm moto and the SDK first so the date below is still in the future
    // when the 429 arrives.
    invoke(&world, 3, &json!({})).await.unwrap();
    let fmt = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .unwrap();
    let when = (time::OffsetDateTime::now_utc() + time::Duration::seconds(3))
        .format(&fmt)
        .unwrap();
    world
        .script(json!([{"status": 429, "content_type": "application/json",
            "body": "{\"error\":\"too_many_requests\"}", "headers": {"Retry-After": when}}]))
        .await;
    let r = invoke(&world, 3, &json!({"action": "refresh", "force": true}))
        .await
        .unwrap();
    assert_eq!(r["outcome"], "refreshed");
    let requests = world.lwa_requests().await;
    let gap =
        requests[2]["received_at"].as_f64().unwrap() - requests[1]["received_at"].as_f64().unwrap();
    assert!(
        gap >= 1.5,
        "Retry-After: {when} was not honoured: gap {gap}"
    );
}

// Sanity probe kept for the record: the dead-endpoint reader path.
#[tokio::test]
async fn reader_dead_endpoint_still_502() {
    let world = World::new("brk-502").await;
    let dead = LazySdkConfig::from_config(common::sdk_config("http://127.0.0.1:9"));
    let r = R {
        reader: Reader::new(
            SsmTokenStore::new(dead, None),
            Duration::from_secs(60),
            Duration::from_secs(300),
        ),
        target: ReaderTarget::Single(world.parameter.clone()),
    };
    let started = StdInstant::now();
    let http = handle_reader(&r, event("reader-url-get.json"))
        .await
        .unwrap();
    assert_eq!(http["statusCode"], 502);
    assert!(started.elapsed() < Duration::from_secs(20));
}
