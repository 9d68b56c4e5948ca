//! Fleet mode against moto and the LWA stand-in: discovery past one page, a
//! shared app secret, grantless profiles, isolation of failures, the
//! `invalid_client` stop, path-traversal names, and the reader's profiles.
//! The orchestration itself (pacing, deferral near the deadline, a rotated
//! app secret, discovery failing midway, …) is unit-tested over fakes on
//! virtual time in `src/fleet/run.rs`.

mod common;

use common::{assert_no_leaks, event, World, CLIENT_ID};
use lwa_token_service::aws::{SecretsManagerSource, SsmTokenStore};
use lwa_token_service::budget::TimeBudget;
use lwa_token_service::config::ReaderTarget;
use lwa_token_service::fleet::{FleetSettings, FleetSummary};
use lwa_token_service::handler::{handle_fleet, handle_reader};
use lwa_token_service::lwa::LwaClient;
use lwa_token_service::reader::Reader;
use lwa_token_service::token::StoredToken;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

struct Fleet {
    world: World,
    secret_prefix: String,
    parameter_prefix: String,
    app_secret: String,
}

impl Fleet {
    async fn new(name: &str) -> Fleet {
        let world = World::new(name).await;
        let secret_prefix = format!("spapi/fleet/{}/", world.ns);
        let parameter_prefix = format!("/spapi/fleet/{}/", world.ns);
        let app_secret = format!("spapi/app/{}", world.ns);
        Fleet {
            world,
            secret_prefix,
            parameter_prefix,
            app_secret,
        }
    }

    /// Registers the refresh tokens (and revoked ones) with the stand-in.
    async fn register(&self, refresh_tokens: &[String], revoked: &[String]) {
        let w = &self.world;
        w.control_put(json!({"clients": [{
            "client_id": CLIENT_ID,
            "client_secrets": [w.client_secret],
            "refresh_tokens": refresh_tokens.iter().chain(revoked).collect::<Vec<_>>(),
            "revoked_refresh_tokens": revoked,
            "scopes": ["sellingpartnerapi::notifications"],
        }]}))
        .await;
    }

    async fn create(&self, name: &str, value: &Value) {
        self.world
            .secrets
            .create_secret()
            .name(name)
            .secret_string(value.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
    }

    async fn app(&self, client_secret: &str) {
        self.create(
            &self.app_secret,
            &json!({"client_id": CLIENT_ID, "client_secret": client_secret}),
        )
        .await;
    }

    async fn seller(&self, name: &str, refresh_token: &str) {
        self.create(
            &format!("{}{name}", self.secret_prefix),
            &json!({ "refresh_token": refresh_token }),
        )
        .await;
    }

    fn settings(&self, concurrency: usize, write_tps: u32) -> FleetSettings {
        FleetSettings {
            secret_prefix: self.secret_prefix.clone(),
            parameter_prefix: self.parameter_prefix.clone(),
            app_secret_id: Some(self.app_secret.clone()),
            concurrency,
            write_tps,
            spread: Duration::from_secs(600),
        }
    }

    async fn run(
        &self,
        settings: &FleetSettings,
        payload: &Value,
        deadline: Instant,
    ) -> Result<FleetSummary, (String, String)> {
        self.run_within(settings, TIMEOUT, payload, deadline).await
    }

    async fn run_within(
        &self,
        settings: &FleetSettings,
        timeout: Duration,
        payload: &Value,
        deadline: Instant,
    ) -> Result<FleetSummary, (String, String)> {
        let fleet = lwa_token_service::fleet::Fleet::new(
            SecretsManagerSource::new(self.world.sdk.clone()),
            LwaClient::new(self.world.token_url(), timeout, 2),
            SsmTokenStore::new(self.world.sdk.clone(), None),
            settings.clone(),
            Duration::from_secs(1800),
            TimeBudget::new(timeout),
        );
        handle_fleet(&fleet, "token-refresher", payload, deadline)
            .await
            .map_err(|e| (e.error_type().as_str().to_owned(), e.to_string()))
    }

    async fn stored(&self, profile: &str) -> Option<StoredToken> {
        let out = self
            .world
            .ssm
            .get_parameter()
            .name(format!("{}{profile}", self.parameter_prefix))
            .with_decryption(true)
            .send()
            .await
            .ok()?;
        StoredToken::from_parameter_value(out.parameter()?.value()?).ok()
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(120)
}

fn token(fleet: &Fleet, i: usize) -> String {
    format!("Atzr|PLANTED-{}-{i}", fleet.world.ns)
}

#[tokio::test]
async fn discovers_past_one_page_with_a_shared_app_secret_and_grantless() {
    let fleet = Fleet::new("fleet-discover").await;
    let tokens: Vec<String> = (0..25).map(|i| token(&fleet, i)).collect();
    fleet.register(&tokens, &[]).await;
    fleet.app(&fleet.world.client_secret).await;
    for (i, t) in tokens.iter().enumerate() {
        fleet.seller(&format!("seller-{i:02}"), t).await;
    }
    fleet
        .create(
            &format!("{}notifications", fleet.secret_prefix),
            &json!({"client_id": CLIENT_ID, "client_secret": fleet.world.client_secret,
                    "scope": "sellingpartnerapi::notifications"}),
        )
        .await;
    // A secret that merely shares the start of the prefix is not a profile.
    fleet
        .create(
            &format!("{}x", fleet.secret_prefix.trim_end_matches('/')),
            &json!({"refresh_token": "Atzr|PLANTED-OTHER"}),
        )
        .await;

    let summary = fleet
        .run(&fleet.settings(8, 0), &event("scheduled.json"), deadline())
        .await
        .unwrap();
    assert_eq!(summary.profiles, 26, "{summary:?}");
    assert_eq!(
        (summary.refreshed, summary.failed, summary.deferred),
        (26, 0, 0),
        "{summary:?}"
    );
    assert_eq!(summary.token_requests, 26);
    assert!(summary.min_ttl_seconds.unwrap() > 3500);
    for i in [0, 13, 24] {
        assert!(fleet.stored(&format!("seller-{i:02}")).await.is_some());
    }
    assert!(fleet.stored("notifications").await.is_some());
    let requests = fleet.world.lwa_requests().await;
    assert!(requests
        .iter()
        .any(|r| r["form"]["grant_type"] == "client_credentials"
            && r["form"]["scope"] == "sellingpartnerapi::notifications"));

    // The next run skips them all, without a token request.
    let again = fleet
        .run(&fleet.settings(8, 0), &event("refresh.json"), deadline())
        .await
        .unwrap();
    assert_eq!(
        (again.skipped, again.refreshed, again.token_requests),
        (26, 0, 0)
    );
    assert_no_leaks(&[&serde_json::to_string(&summary).unwrap()]);
}

#[tokio::test]
async fn one_failing_profile_never_stops_the_others() {
    let fleet = Fleet::new("fleet-isolation").await;
    let logs = common::TestLogs::start();
    let good: Vec<String> = (0..4).map(|i| token(&fleet, i)).collect();
    let revoked = vec![token(&fleet, 99)];
    fleet.register(&good, &revoked).await;
    fleet.app(&fleet.world.client_secret).await;
    for (i, t) in good.iter().enumerate() {
        fleet.seller(&format!("ok-{i}"), t).await;
    }
    fleet.seller("revoked", &revoked[0]).await;
    fleet
        .create(
            &format!("{}broken", fleet.secret_prefix),
            &json!("not an object"),
        )
        .await;

    let (ty, message) = fleet
        .run(&fleet.settings(3, 0), &event("scheduled.json"), deadline())
        .await
        .unwrap_err();
    assert_eq!(ty, "ProfilesFailed");
    assert!(message.contains("revoked (LwaInvalidGrant)"), "{message}");
    assert!(message.contains("broken (CredentialsInvalid)"), "{message}");
    assert!(message.starts_with("2 of 6 profiles failed"), "{message}");
    for i in 0..4 {
        assert!(
            fleet.stored(&format!("ok-{i}")).await.is_some(),
            "ok-{i} refreshed"
        );
    }
    // No token: only the lost authorization is recorded.
    let revoked_value = fleet.stored("revoked").await.expect("the marker");
    assert!(!revoked_value.has_token() && revoked_value.authorization_lost.is_some());
    let logs = logs.text();
    let finished = logs
        .lines()
        .find(|l| l.contains("fleet run finished"))
        .unwrap_or_else(|| panic!("no summary line in this test's logs:\n{logs}"));
    // The summary line carries each failure's message and fix.
    assert!(
        finished.contains("error_type=ProfilesFailed")
            && finished.contains(r#""profile":"revoked""#)
            && finished.contains("re-authorize"),
        "{finished}"
    );
    assert_no_leaks(&[&message]);
}

#[tokio::test]
async fn invalid_client_on_the_app_secret_stops_its_profiles_once() {
    let fleet = Fleet::new("fleet-invalid-client").await;
    let tokens: Vec<String> = (0..12).map(|i| token(&fleet, i)).collect();
    fleet.register(&tokens, &[]).await;
    fleet.app("amzn1.oa2-cs.v1.PLANTED-WRONG").await;
    for (i, t) in tokens.iter().enumerate() {
        fleet.seller(&format!("s-{i:02}"), t).await;
    }
    let (ty, message) = fleet
        .run(&fleet.settings(2, 0), &event("scheduled.json"), deadline())
        .await
        .unwrap_err();
    assert_eq!(ty, "ProfilesFailed");
    let requests = fleet.world.lwa_requests().await.len();
    // At most the profiles in flight (2) each ask twice (after re-reading the secret).
    assert!(
        requests <= 4,
        "LWA was hammered with known-bad credentials: {requests} requests"
    );
    assert!(
        message.contains(&format!(
            "app:{} (LwaInvalidClient, stopped",
            fleet.app_secret
        )),
        "{message}"
    );
    assert_eq!(
        message.matches("LwaInvalidClient").count(),
        1,
        "reported once: {message}"
    );
    assert!(message.starts_with("12 of 12 profiles failed"), "{message}");
    assert_no_leaks(&[&message]);
}

#[tokio::test]
async fn traversal_names_are_refused_and_nothing_is_written_outside_the_prefix() {
    let fleet = Fleet::new("fleet-traversal").await;
    let t = token(&fleet, 1);
    fleet.register(std::slice::from_ref(&t), &[]).await;
    fleet.app(&fleet.world.client_secret).await;
    fleet.seller("..", &t).await;
    fleet.seller("a/../../escape", &t).await;
    fleet.seller("good", &t).await;
    let (ty, message) = fleet
        .run(&fleet.settings(4, 0), &event("scheduled.json"), deadline())
        .await
        .unwrap_err();
    assert_eq!(ty, "ProfilesFailed");
    assert!(message.contains("(CredentialsInvalid)"), "{message}");
    assert!(fleet.stored("good").await.is_some());
    let all = fleet
        .world
        .ssm
        .describe_parameters()
        .max_results(50)
        .send()
        .await
        .unwrap();
    for p in all.parameters() {
        let name = p.name().unwrap_or_default();
        assert!(!name.contains("escape") && !name.ends_with("/.."), "{name}");
    }
}

#[tokio::test]
async fn reader_serves_profiles_and_refuses_traversal() {
    let fleet = Fleet::new("fleet-reader").await;
    let t = token(&fleet, 1);
    fleet.register(std::slice::from_ref(&t), &[]).await;
    fleet.app(&fleet.world.client_secret).await;
    fleet.seller("acme", &t).await;
    fleet
        .run(&fleet.settings(2, 0), &json!({}), deadline())
        .await
        .unwrap();
    let reader = Reader::new(
        SsmTokenStore::new(fleet.world.sdk.clone(), None),
        Duration::from_secs(60),
        Duration::from_secs(300),
    );
    let target = ReaderTarget::Fleet(fleet.parameter_prefix.clone());
    let direct = handle_reader(
        &reader,
        &target,
        json!({"action": "get", "profile": "acme"}),
    )
    .await
    .unwrap();
    assert!(direct["access_token"]
        .as_str()
        .unwrap()
        .starts_with("Atza|"));
    for bad in [
        json!({"action": "get"}),
        json!({"profile": "../acme"}),
        json!({"profile": "a/b"}),
        json!({"profile": 5}),
    ] {
        let e = handle_reader(&reader, &target, bad.clone())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
    }
    let mut url = event("reader-url-get.json");
    url["rawQueryString"] = json!("profile=acme");
    url["queryStringParameters"] = json!({"profile": "acme"});
    assert_eq!(
        handle_reader(&reader, &target, url).await.unwrap()["statusCode"],
        200
    );
    for q in ["profile=..%2F..%2Fspapi", "", "profile="] {
        let mut url = event("reader-url-get.json");
        url["rawQueryString"] = json!(q);
        let http = handle_reader(&reader, &target, url).await.unwrap();
        assert_eq!(http["statusCode"], 400, "{q}");
    }
    let mut url = event("reader-url-get.json");
    url["queryStringParameters"] = json!({"profile": "../../spapi/lwa/access-token"});
    assert_eq!(
        handle_reader(&reader, &target, url).await.unwrap()["statusCode"],
        400
    );
    let missing = handle_reader(&reader, &target, json!({"profile": "nobody"}))
        .await
        .unwrap_err();
    assert_eq!(missing.error_type(), "TokenUnavailable");
}

#[tokio::test]
async fn a_revoked_seller_fails_the_run_once_then_is_counted_apart_until_restored() {
    use common::events::EventSink;
    let fleet = Fleet::new("fleet-auth-lost").await;
    let sink = EventSink::new(&fleet.world).await;
    let good = token(&fleet, 1);
    let gone = token(&fleet, 2);
    let renewed = token(&fleet, 3);
    fleet
        .register(
            &[good.clone(), renewed.clone()],
            std::slice::from_ref(&gone),
        )
        .await;
    fleet.app(&fleet.world.client_secret).await;
    fleet.seller("ok", &good).await;
    let gone_secret = format!("{}gone", fleet.secret_prefix);
    fleet
        .create(
            &gone_secret,
            &json!({"refresh_token": gone, "selling_partner_id": "A2GONE", "region": "na"}),
        )
        .await;
    let settings = fleet.settings(2, 0);
    let run = |payload: Value| {
        let fleet = &fleet;
        let settings = &settings;
        let events = sink.publisher(&fleet.world);
        async move {
            let f = lwa_token_service::fleet::Fleet::new(
                SecretsManagerSource::new(fleet.world.sdk.clone()),
                LwaClient::new(fleet.world.token_url(), TIMEOUT, 2),
                SsmTokenStore::new(fleet.world.sdk.clone(), None),
                settings.clone(),
                Duration::from_secs(1800),
                TimeBudget::new(TIMEOUT),
            )
            .with_events(Some(events));
            handle_fleet(&f, "token-refresher", &payload, deadline())
                .await
                .map_err(|e| (e.error_type().as_str().to_owned(), e.to_string()))
        }
    };

    // The run the loss begins: failed, ProfilesFailed.
    let (ty, message) = run(event("scheduled.json")).await.unwrap_err();
    assert_eq!(ty, "ProfilesFailed");
    assert!(message.contains("gone (LwaInvalidGrant)"), "{message}");
    let events = sink.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail-type"], "Seller Authorization Lost");
    let d = &events[0]["detail"];
    assert_eq!(
        (&d["profile"], &d["selling_partner_id"], &d["region"]),
        (&json!("gone"), &json!("A2GONE"), &json!("na"))
    );
    assert_eq!(d["parameter"], format!("{}gone", fleet.parameter_prefix));

    // Later runs (forced, even): not failed, counted apart, no token request
    // for the refused refresh token, nothing published.
    let requests = fleet.world.lwa_requests().await.len();
    let summary = run(event("force-refresh.json")).await.unwrap();
    assert_eq!((summary.failed, summary.refreshed), (0, 1), "{summary:?}");
    assert_eq!(summary.authorization_lost.count, 1);
    assert_eq!(summary.authorization_lost.profiles, ["gone"]);
    assert_eq!(
        fleet.world.lwa_requests().await.len(),
        requests + 1,
        "only `ok`"
    );
    assert_eq!(sink.events().await.len(), 1);

    // Re-authorized: the new refresh token is tried in the next run.
    fleet
        .world
        .secrets
        .put_secret_value()
        .secret_id(&gone_secret)
        .secret_string(
            json!({"refresh_token": renewed, "selling_partner_id": "A2GONE", "region": "na"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let summary = run(event("scheduled.json")).await.unwrap();
    assert_eq!(
        (summary.refreshed, summary.authorization_lost.count),
        (1, 0),
        "{summary:?}"
    );
    let restored = fleet.stored("gone").await.unwrap();
    assert!(restored.has_token() && restored.authorization_lost.is_none());
    let events = sink.events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["detail-type"], "Seller Authorization Restored");
    assert_eq!(events[1]["detail"]["profile"], "gone");
    let shown: Vec<String> = events.iter().map(Value::to_string).collect();
    let mut all: Vec<&str> = shown.iter().map(String::as_str).collect();
    all.push(&message);
    assert_no_leaks(&all);
}
