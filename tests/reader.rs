//! token-reader against moto: direct invokes and function URL requests built
//! from the checked-in events, every unavailable state, an AWS failure, and a
//! scan of everything logged.

mod common;

use common::{assert_no_leaks, event, World};
use lwa_token_service::aws::{LazySdkConfig, SsmTokenStore};
use lwa_token_service::config::ReaderTarget;
use lwa_token_service::handler::handle_reader;
use lwa_token_service::ports::Clock;
use lwa_token_service::reader::Reader;
use lwa_token_service::testing::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn reader(world: &World) -> Reader<SsmTokenStore> {
    Reader::new(
        SsmTokenStore::new(world.sdk.clone(), None),
        Duration::from_secs(60),
        Duration::from_secs(300),
    )
}

fn single(world: &World) -> ReaderTarget {
    ReaderTarget::Single(world.parameter.clone())
}

fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name].as_str()
}

fn body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn direct_invoke_and_url_get_serve_the_token() {
    let world = World::new("reader-ok").await;
    // On a clock that stands still, so `expires_in` is exact however slow moto is.
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    world
        .seed_token_at("Atza|PLANTED-SERVED", 3000, clock.now())
        .await;
    let r = reader(&world).with_clock(clock.clone());

    let direct = handle_reader(&r, &single(&world), event("reader-get.json"))
        .await
        .unwrap();
    assert_eq!(direct["access_token"], "Atza|PLANTED-SERVED");
    assert_eq!(direct["token_type"], "bearer");
    assert_eq!(direct["expires_in"], 3000);
    assert!(direct["expires_at"].as_str().unwrap().ends_with('Z'));
    let empty = handle_reader(&r, &single(&world), json!({})).await.unwrap();
    assert_eq!(empty["access_token"], "Atza|PLANTED-SERVED");

    let http = handle_reader(&r, &single(&world), event("reader-url-get.json"))
        .await
        .unwrap();
    assert_eq!(http["statusCode"], 200);
    assert_eq!(header(&http, "content-type"), Some("application/json"));
    assert_eq!(header(&http, "cache-control"), Some("no-store"));
    assert_eq!(http["isBase64Encoded"], false);
    let b = body(&http);
    assert_eq!(b["access_token"], "Atza|PLANTED-SERVED");
    assert_eq!(b["token_type"], "bearer");
    // The token is in the responses, and nowhere in the logs.
    assert_no_leaks(&[]);
}

#[tokio::test]
async fn other_methods_are_405_with_allow_get() {
    let world = World::new("reader-405").await;
    world.seed_token("Atza|PLANTED-X", 3000).await;
    let r = reader(&world);
    let http = handle_reader(&r, &single(&world), event("reader-url-post.json"))
        .await
        .unwrap();
    assert_eq!(http["statusCode"], 405);
    assert_eq!(header(&http, "allow"), Some("GET"));
    assert!(!http["body"].as_str().unwrap().contains("Atza|"));
    for method in ["PUT", "DELETE", "HEAD", "PATCH"] {
        let mut e = event("reader-url-get.json");
        e["requestContext"]["http"]["method"] = json!(method);
        let http = handle_reader(&r, &single(&world), e).await.unwrap();
        assert_eq!(http["statusCode"], 405, "{method}");
    }
}

async fn unavailable(world: &World, needle: &str) {
    let r = reader(world);
    let http = handle_reader(&r, &single(world), event("reader-url-get.json"))
        .await
        .unwrap();
    assert_eq!(http["statusCode"], 503);
    assert_eq!(header(&http, "content-type"), Some("application/json"));
    let b = body(&http);
    assert_eq!(b["error"], "token_unavailable");
    let message = b["message"].as_str().unwrap();
    assert!(message.contains(needle), "{message}");
    assert!(message.contains(&world.parameter), "{message}");

    let err = handle_reader(&r, &single(world), json!({"action": "get"}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "TokenUnavailable");
    assert!(err.to_string().contains(needle), "{err}");
    assert_no_leaks(&[&http.to_string(), &err.to_string()]);
}

#[tokio::test]
async fn missing_parameter_is_503() {
    let world = World::new("reader-missing").await;
    unavailable(&world, "does not exist").await;
}

#[tokio::test]
async fn malformed_value_is_503() {
    let world = World::new("reader-malformed").await;
    world
        .ssm
        .put_parameter()
        .name(&world.parameter)
        .value(r#"{"access_token":"Atza|PLANTED-BROKEN"}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    unavailable(&world, "unreadable").await;
}

#[tokio::test]
async fn expired_token_is_503() {
    let world = World::new("reader-expired").await;
    world.seed_token("Atza|PLANTED-EXPIRED", -120).await;
    unavailable(&world, "expired at").await;
}

#[tokio::test]
async fn token_below_the_floor_is_503() {
    let world = World::new("reader-floor").await;
    world.seed_token("Atza|PLANTED-LOW", 200).await;
    unavailable(&world, "below MIN_VALIDITY_SECONDS=300").await;
}

#[tokio::test]
async fn aws_failure_is_502_without_detail() {
    let world = World::new("reader-502").await;
    let logs = common::TestLogs::start();
    // An endpoint where nothing listens: every SSM call fails.
    let dead = LazySdkConfig::from_config(common::sdk_config("http://127.0.0.1:9"));
    let r = Reader::new(
        SsmTokenStore::new(dead, None),
        Duration::from_secs(60),
        Duration::from_secs(300),
    );
    let http = handle_reader(&r, &single(&world), event("reader-url-get.json"))
        .await
        .unwrap();
    assert_eq!(http["statusCode"], 502);
    assert_eq!(body(&http), json!({"error": "upstream_unavailable"}));
    let logged = logs.text();
    assert!(
        logged.contains("could not read the token parameter")
            && logged.contains(&world.parameter)
            && logged.contains("could not reach the AWS endpoint"),
        "the detail goes to the log: {logged}"
    );
    let err = handle_reader(&r, &single(&world), json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "TokenUnavailable");
    assert_no_leaks(&[&http.to_string()]);
}

#[tokio::test]
async fn invalid_direct_events() {
    let world = World::new("reader-invalid").await;
    let r = reader(&world);
    for payload in [
        json!({"action": "put"}),
        json!({"token": "x"}),
        json!([1]),
        json!(5),
    ] {
        let err = handle_reader(&r, &single(&world), payload.clone())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "InvalidEvent", "{payload}");
    }
}

#[tokio::test]
async fn a_refreshed_token_is_picked_up_after_the_cache_age() {
    let world = World::new("reader-cache").await;
    world.seed_token("Atza|PLANTED-FIRST", 3000).await;
    let clock = Arc::new(ManualClock::starting_now().with_wake_limit(Duration::from_secs(30)));
    let r = Reader::new(
        SsmTokenStore::new(world.sdk.clone(), None),
        Duration::from_secs(60),
        Duration::from_secs(300),
    )
    .with_clock(clock.clone());
    assert_eq!(
        handle_reader(&r, &single(&world), json!({})).await.unwrap()["access_token"],
        "Atza|PLANTED-FIRST"
    );
    world.seed_token("Atza|PLANTED-SECOND", 3500).await;
    assert_eq!(
        handle_reader(&r, &single(&world), json!({})).await.unwrap()["access_token"],
        "Atza|PLANTED-FIRST",
        "served from memory inside TOKEN_CACHE_SECONDS"
    );
    clock.advance(Duration::from_secs(59));
    assert_eq!(
        handle_reader(&r, &single(&world), json!({})).await.unwrap()["access_token"],
        "Atza|PLANTED-FIRST",
        "59 s later, still from memory"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        handle_reader(&r, &single(&world), json!({})).await.unwrap()["access_token"],
        "Atza|PLANTED-SECOND"
    );
}
