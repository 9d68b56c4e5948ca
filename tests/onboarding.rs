//! Seller onboarding against moto (Secrets Manager, SSM) and the LWA
//! stand-in (consent page, Login-URI step, authorization_code grant): the
//! real adapters, a browser played by reqwest, and the field cases of
//! `tests/cases/onboarding.json`.

mod common;

use common::cold::cold_start_full;
use common::{assert_no_leaks, peers, World, CLIENT_ID};
use lwa_token_service::aws::{SecretsManagerSource, SsmTokenStore};
use lwa_token_service::lwa::LwaClient;
use lwa_token_service::onboarding::exchange::LwaCodeExchange;
use lwa_token_service::onboarding::handler::handle_onboarding;
use lwa_token_service::onboarding::routes::{Onboarding, Settings};
use lwa_token_service::onboarding::secrets::SigningKey;
use lwa_token_service::onboarding::secrets_store::SecretsManagerProfiles;
use lwa_token_service::onboarding::signing::Signer;
use lwa_token_service::reader::Reader;
use reqwest::Url;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant as StdInstant};
use time::OffsetDateTime;
use tokio::time::Instant;

const SELLER_BIN: &str = env!("CARGO_BIN_EXE_seller-onboarding");
const REDIRECT: &str = "http://127.0.0.1:9/lambda-url/seller-onboarding/callback";
const KEY: &str = "integration-signing-key-of-more-than-32-characters";

type App = Onboarding<SecretsManagerProfiles, LwaCodeExchange<SecretsManagerSource>, SsmTokenStore>;

struct Env {
    world: World,
    secret_prefix: String,
    parameter_prefix: String,
    app: App,
    browser: reqwest::Client,
}

async fn setup(name: &str, open: bool) -> Env {
    let world = World::new(name).await;
    let secret_prefix = format!("spapi/onb/{}/", world.ns);
    let parameter_prefix = format!("/spapi/onb/{}/", world.ns);
    let app_secret = format!("spapi/onb-app/{}", world.ns);
    world
        .secrets
        .create_secret()
        .name(&app_secret)
        .secret_string(
            json!({"client_id": CLIENT_ID, "client_secret": world.client_secret}).to_string(),
        )
        .send()
        .await
        .unwrap();
    let settings = Settings {
        application_id: "amzn1.sp.solution.integration".into(),
        draft: false,
        redirect_uri: REDIRECT.into(),
        authorize_url: REDIRECT.replace("/callback", "/authorize"),
        parameter_prefix: parameter_prefix.clone(),
        open,
        consent_base: Some(Url::parse(&peers().lwa).unwrap()),
        secure_cookies: false,
    };
    let app = Onboarding::new(
        settings,
        Signer::new(&SigningKey::new(KEY)),
        SecretsManagerProfiles::new(world.sdk.clone(), secret_prefix.clone()),
        LwaCodeExchange::new(
            LwaClient::new(world.token_url(), Duration::from_secs(5), 1),
            app_secret,
            SecretsManagerSource::new(world.sdk.clone()),
        ),
        SsmTokenStore::new(world.sdk.clone(), None),
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Env {
        world,
        secret_prefix,
        parameter_prefix,
        app,
        browser,
    }
}

/// A function URL event (payload 2.0) for `url` (path and query used).
fn url_event(url: &str, cookie: Option<&str>) -> Value {
    let u = Url::parse(url).unwrap();
    let mut e = json!({
        "version": "2.0", "rawPath": u.path(), "rawQueryString": u.query().unwrap_or(""),
        "headers": {"host": "127.0.0.1"},
        "requestContext": {"http": {"method": "GET", "path": u.path()}},
        "isBase64Encoded": false
    });
    if let Some(c) = cookie {
        e["cookies"] = json!([c]);
    }
    e
}

struct Answer {
    status: i64,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
    raw: String,
}

impl Env {
    async fn call(&self, url: &str, cookie: Option<&str>) -> Answer {
        let v = handle_onboarding(
            &self.app,
            &url_event(url, cookie),
            OffsetDateTime::now_utc(),
            Instant::now() + Duration::from_secs(20),
        )
        .await
        .unwrap();
        Answer {
            status: v["statusCode"].as_i64().unwrap(),
            location: v["headers"]["location"].as_str().map(str::to_owned),
            cookie: v["cookies"][0]
                .as_str()
                .map(|c| c.split(';').next().unwrap().to_owned()),
            body: v["body"].as_str().unwrap_or_default().to_owned(),
            raw: v.to_string(),
        }
    }

    async fn link(&self, profile: &str, marketplace: &str) -> String {
        let v = handle_onboarding(
            &self.app,
            &json!({"action":"link","profile":profile,"marketplace":marketplace}),
            OffsetDateTime::now_utc(),
            Instant::now(),
        )
        .await
        .unwrap();
        v["url"].as_str().unwrap().to_owned()
    }

    /// The stand-in's consent page, then its Authorize button as `seller`:
    /// the callback URL Amazon sends the browser to.
    async fn consent(&self, consent_url: &str, seller: &str) -> String {
        let page = self.browser.get(consent_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"authorize\""));
        let form: HashMap<String, String> = Url::parse(consent_url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| {
                ["state", "redirect_uri", "application_id", "version"].contains(&k.as_str())
            })
            .chain([("selling_partner_id".to_owned(), seller.to_owned())])
            .collect();
        let host = Url::parse(consent_url)
            .unwrap()
            .path_segments()
            .unwrap()
            .next()
            .unwrap()
            .to_owned();
        let r = self
            .browser
            .post(format!("{}/{host}/apps/authorize/approve", peers().lwa))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        r.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn secret(&self, profile: &str) -> Option<(Value, Vec<(String, String)>)> {
        let name = format!("{}{profile}", self.secret_prefix);
        let v = self
            .world
            .secrets
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .ok()?;
        let d = self
            .world
            .secrets
            .describe_secret()
            .secret_id(&name)
            .send()
            .await
            .ok()?;
        let tags = d
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
            .collect();
        Some((
            serde_json::from_str(v.secret_string().unwrap()).unwrap(),
            tags,
        ))
    }
}

#[tokio::test]
async fn a_link_connects_a_seller_and_the_reader_serves_the_token() {
    let env = setup("onb-flow", false).await;
    let seller = format!("A1{}", env.world.ns.len());
    let link = env.link("acme-de", "DE").await;
    assert!(link.starts_with("http://127.0.0.1:9/lambda-url/seller-onboarding/authorize?ticket="));
    let a = env.call(&link, None).await;
    assert_eq!(a.status, 302, "{}", a.body);
    let consent = a.location.unwrap();
    assert!(consent.starts_with(&format!(
        "{}/sellercentral-europe.amazon.com/apps/authorize/consent?",
        peers().lwa
    )));
    let cookie = a.cookie.unwrap();
    let callback = env.consent(&consent, &seller).await;
    assert!(callback.starts_with(REDIRECT));
    let started = StdInstant::now();
    let c = env.call(&callback, Some(&cookie)).await;
    let took = started.elapsed();
    assert_eq!(c.status, 200, "{}", c.body);
    assert!(c.body.contains("Your account is connected"));
    eprintln!("callback with AWS and LWA round trips: {took:?}");

    let (doc, tags) = env.secret("acme-de").await.unwrap();
    assert!(doc["refresh_token"].as_str().unwrap().starts_with("Atzr|"));
    assert_eq!(doc["selling_partner_id"], seller.as_str());
    assert_eq!(doc["region"], "eu");
    assert!(tags.contains(&("spapi:selling-partner-id".into(), seller.clone())));
    assert!(tags.contains(&("spapi:region".into(), "eu".into())));
    // The access token from the exchange is served at once.
    let reader = Reader::new(
        SsmTokenStore::new(env.world.sdk.clone(), None),
        Duration::ZERO,
        Duration::from_secs(300),
    );
    let served = reader
        .get(&format!("{}acme-de", env.parameter_prefix))
        .await
        .unwrap();
    assert!(served.answer.access_token.starts_with("Atza|"));
    // The exchange LWA saw: the registered redirect URI, the app's client.
    let reqs = env.world.lwa_requests().await;
    let form = &reqs.last().unwrap()["form"];
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["client_id"], CLIENT_ID);

    // Single use: the callback again, and the link again, answer 410.
    assert_eq!(env.call(&callback, Some(&cookie)).await.status, 410);
    assert_eq!(env.call(&link, None).await.status, 410);

    // The seller is found by tag: the Login-URI step (yearly re-authorization).
    let start = format!(
        "{}/sellercentral-europe.amazon.com/appstore/authorize?{}",
        peers().lwa,
        serde_urlencoded(&[
            ("login_uri", &REDIRECT.replace("/callback", "/login")),
            ("selling_partner_id", &seller)
        ])
    );
    let r = env.browser.get(&start).send().await.unwrap();
    let login = r.headers()["location"].to_str().unwrap().to_owned();
    let l = env.call(&login, None).await;
    assert_eq!(l.status, 302, "{}", l.body);
    let confirm = l.location.unwrap();
    assert!(confirm.starts_with(&format!(
        "{}/sellercentral-europe.amazon.com/apps/authorize/confirm?",
        peers().lwa
    )));
    let callback = env.consent(&confirm, &seller).await;
    let c = env.call(&callback, Some(&l.cookie.unwrap())).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let (doc2, _) = env.secret("acme-de").await.unwrap();
    assert_ne!(doc2["refresh_token"], doc["refresh_token"]);
    assert_no_leaks(&[&a_raw(&[&c])]);
}

fn a_raw(answers: &[&Answer]) -> String {
    answers
        .iter()
        .map(|a| a.raw.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn serde_urlencoded(pairs: &[(&str, &String)]) -> String {
    let mut u = Url::parse("http://x/").unwrap();
    for (k, v) in pairs {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.query().unwrap().to_owned()
}

#[tokio::test]
async fn field_cases() {
    let env = setup("onb-cases", true).await;
    let path = format!("{}/tests/cases/onboarding.json", env!("CARGO_MANIFEST_DIR"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap().clone();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut outputs = Vec::new();
    let base = REDIRECT.replace("/callback", "");

    // open-redirect-*: /login refuses every non-Amazon amazon_callback_uri.
    for (name, target) in [
        (
            "open-redirect-evil-host",
            "https://evil.example.com/apps/authorize/confirm",
        ),
        (
            "open-redirect-lookalike",
            "https://sellercentral.amazon.com.evil.example.com/x",
        ),
        (
            "open-redirect-userinfo",
            "https://sellercentral.amazon.com@evil.example.com/x",
        ),
        (
            "open-redirect-plain-http",
            "http://sellercentral.amazon.com/apps/authorize/confirm",
        ),
        ("open-redirect-scheme", "javascript:alert(1)"),
    ] {
        assert!(names.contains(&name), "{name}");
        let url = format!(
            "{base}/login?{}",
            serde_urlencoded(&[
                ("amazon_callback_uri", &target.to_owned()),
                ("amazon_state", &"x".to_owned()),
                ("selling_partner_id", &"A1".to_owned())
            ])
        );
        let a = env.call(&url, None).await;
        assert!((400..500).contains(&a.status), "{name}: {}", a.status);
        assert!(a.location.is_none(), "{name}");
        assert!(!a.body.contains("evil"), "{name}");
        outputs.push(a.raw);
    }

    // state-from-another-browser: 403, no exchange, nothing written.
    assert!(names.contains(&"state-from-another-browser"));
    let link = env.link("cases-a", "US").await;
    let a = env.call(&link, None).await;
    let callback = env.consent(&a.location.unwrap(), "A1CASES").await;
    let before = env.world.lwa_requests().await.len();
    let other = env.call(&callback, None).await;
    assert_eq!(other.status, 403);
    assert!(other.body.contains("browser"));
    assert_eq!(
        env.world.lwa_requests().await.len(),
        before,
        "no code exchange"
    );
    assert!(env.secret("cases-a").await.is_none(), "nothing written");

    // code-expired: LWA refuses the code (spent above? no: it was never sent):
    // spend it first, then the seller's callback gets invalid_grant -> 502, link still works.
    assert!(names.contains(&"code-expired"));
    let cookie = a.cookie.unwrap();
    let code = Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "spapi_oauth_code")
        .unwrap()
        .1
        .into_owned();
    let spend = env
        .browser
        .post(env.world.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT_ID),
            ("client_secret", &env.world.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(spend.status(), 200);
    let expired = env.call(&callback, Some(&cookie)).await;
    assert_eq!(expired.status, 502);
    assert!(expired.body.contains("Open the link you were sent again"));
    assert!(env.secret("cases-a").await.is_none());
    let again = env.call(&link, None).await;
    assert_eq!(again.status, 302, "the link still works");

    // draft-app: version=beta on the consent URL when SPAPI_APP_DRAFT=true
    // (covered with the pages in the unit tests; here the stand-in's MD1000).
    assert!(names.contains(&"draft-app"));
    let draft = env
        .browser
        .get(format!("{}/sellercentral.amazon.com/apps/authorize/consent?application_id=amzn1.sp.solution.draft-x&state=s&redirect_uri=r", peers().lwa))
        .send()
        .await
        .unwrap();
    assert!(draft.text().await.unwrap().contains("MD1000"));

    // huge-and-repeated-params: 4xx, short, no echo.
    assert!(names.contains(&"huge-and-repeated-params"));
    let huge = "S".repeat(100_000);
    for q in [
        format!("state={huge}&spapi_oauth_code=c&selling_partner_id=A1"),
        "state=a&state=b&spapi_oauth_code=c&selling_partner_id=A1".to_owned(),
        "state=%00&spapi_oauth_code=c%0d%0aX:1&selling_partner_id=A1".to_owned(),
    ] {
        let a = env
            .call(&format!("{base}/callback?{q}"), Some(&cookie))
            .await;
        assert!((400..500).contains(&a.status), "{}", a.status);
        assert!(a.body.len() < 2048 && !a.body.contains("SSSS"));
        outputs.push(a.raw);
    }

    // profile-owned-by-another-seller: 409, secret unchanged.
    assert!(names.contains(&"profile-owned-by-another-seller"));
    let link = env.link("acme-de", "DE").await;
    let a = env.call(&link, None).await;
    let cookie = a.cookie.unwrap();
    let cb = env.consent(&a.location.unwrap(), "A1OWNER").await;
    assert_eq!(env.call(&cb, Some(&cookie)).await.status, 200);
    let (owned, _) = env.secret("acme-de").await.unwrap();
    let link = env.link("acme-de", "DE").await;
    let a = env.call(&link, None).await;
    let cb = env.consent(&a.location.unwrap(), "A2INTRUDER").await;
    let r = env.call(&cb, a.cookie.as_deref()).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("another seller account"));
    assert_eq!(env.secret("acme-de").await.unwrap().0, owned);
    outputs.push(r.raw);

    assert_eq!(names.len(), 10, "every case has a test above");
    let refs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    assert_no_leaks(&refs);
}

#[tokio::test]
async fn a_hand_made_profile_is_not_matched_or_reused() {
    let env = setup("onb-hand", true).await;
    let name = format!("{}hand", env.secret_prefix);
    let original =
        json!({"refresh_token": "Atzr|PLANTED-HAND", "selling_partner_id": "A1HAND"}).to_string();
    env.world
        .secrets
        .create_secret()
        .name(&name)
        .secret_string(&original)
        .send()
        .await
        .unwrap();
    let link = env.link("hand", "US").await;
    let a = env.call(&link, None).await;
    assert_eq!(a.status, 409);
    // Not found by seller either (no tags): /login for A1HAND creates A1HAND-na.
    let url = format!(
        "{}/login?{}",
        REDIRECT.replace("/callback", ""),
        serde_urlencoded(&[
            (
                "amazon_callback_uri",
                &format!(
                    "{}/sellercentral.amazon.com/apps/authorize/confirm",
                    peers().lwa
                )
            ),
            ("amazon_state", &"s".to_owned()),
            ("selling_partner_id", &"A1HAND".to_owned()),
        ])
    );
    let l = env.call(&url, None).await;
    assert_eq!(l.status, 302);
    let state = Url::parse(&l.location.unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    assert!(!state.is_empty());
    let v = env
        .world
        .secrets
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(v.secret_string().unwrap(), original);
}

#[test]
fn cold_start_refuses_a_short_or_missing_signing_key() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let world = rt.block_on(World::new("onb-cold"));
    let short = format!("spapi/onb-key-short/{}", world.ns);
    rt.block_on(
        world
            .secrets
            .create_secret()
            .name(&short)
            .secret_string("too-short")
            .send(),
    )
    .unwrap();
    let good = format!("spapi/onb-key/{}", world.ns);
    rt.block_on(
        world
            .secrets
            .create_secret()
            .name(&good)
            .secret_string(KEY)
            .send(),
    )
    .unwrap();
    let base = |key: &str| -> Vec<(&'static str, Option<String>)> {
        vec![
            ("LWA_CREDENTIALS_SECRET_ID", None),
            ("TOKEN_PARAMETER_NAME", None),
            ("AWS_ENDPOINT_URL", Some(peers().moto.clone())),
            ("AWS_ACCESS_KEY_ID", Some("testing".into())),
            ("AWS_SECRET_ACCESS_KEY", Some("testing".into())),
            ("LWA_SECRET_PREFIX", Some("spapi/onb/".into())),
            ("TOKEN_PARAMETER_PREFIX", Some("/spapi/onb/".into())),
            ("LWA_APP_SECRET_ID", Some("spapi/app".into())),
            ("SPAPI_APPLICATION_ID", Some("amzn1.sp.solution.x".into())),
            (
                "ONBOARDING_REDIRECT_URI",
                Some("https://x.lambda-url.us-east-1.on.aws/callback".into()),
            ),
            ("ONBOARDING_SIGNING_SECRET_ID", Some(key.to_owned())),
        ]
    };
    for (key, ok) in [
        (short.as_str(), false),
        ("spapi/onb-key/missing", false),
        (good.as_str(), true),
    ] {
        let mut env = base(key);
        // Lambda may set it; the runtime would warn about it at every cold
        // start (the refresher and reader remove it the same way).
        env.push(("AWS_LAMBDA_MAX_CONCURRENCY", Some("4".into())));
        let (_, output, report) = cold_start_full(SELLER_BIN, &env);
        if ok {
            assert!(common::cold::started(&report), "{output}");
            assert!(
                !output.contains("AWS_LAMBDA_MAX_CONCURRENCY"),
                "no concurrency warning at the cold start: {output}"
            );
            // A payload nested too deep is InvalidEvent, not the runtime's
            // own deserialization error.
            let pairs: Vec<(&str, String)> = env
                .iter()
                .filter_map(|(k, v)| v.clone().map(|v| (*k, v)))
                .collect();
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let deep = format!(
                r#"{{"action":"link","x":{}{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            );
            let inv = common::invoke::invoke_once(SELLER_BIN, &refs, &deep, 3_000);
            assert_eq!(inv.body["errorType"], "InvalidEvent", "{}", inv.body);
        } else {
            let (path, body) = report.expect("an init error");
            assert_eq!(path, "/2018-06-01/runtime/init/error", "{output}");
            assert_eq!(body["errorType"], "ConfigInvalid");
            let m = body["errorMessage"].as_str().unwrap();
            assert!(m.contains("ONBOARDING_SIGNING_SECRET_ID"), "{m}");
            assert!(!m.contains("too-short"), "{m}");
        }
    }
    let (_, output, report) = cold_start_full(
        SELLER_BIN,
        &[
            ("LWA_CREDENTIALS_SECRET_ID", None::<String>),
            ("TOKEN_PARAMETER_NAME", None),
        ],
    );
    let (_, body) = report.expect("an init error");
    assert_eq!(body["errorType"], "ConfigInvalid", "{output}");
    assert!(body["errorMessage"]
        .as_str()
        .unwrap()
        .contains("LWA_SECRET_PREFIX"));
}
