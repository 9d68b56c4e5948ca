//! The `make run` story as assertions: the real `token-refresher` and
//! `token-reader` binaries under a Runtime API (tests/common/cold.rs),
//! against moto and the LWA stand-in. The demo (scripts/demo.sh) shows the
//! same steps; the checks live here.

mod common;

use common::cold::{invoke_all, Answer, READER, REFRESHER};
use common::{event, leaks, World, CLIENT_ID};
use lwa_token_service::token::StoredToken;
use serde_json::{json, Value};

fn aws_env(world: &World) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", common::peers().moto.clone()),
        ("LWA_TOKEN_URL", world.token_url().to_string()),
        ("RUST_LOG", "info".into()),
    ]
}

fn run(binary: &str, env: &[(&'static str, String)], events: Vec<Value>) -> common::cold::Invoked {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    invoke_all(binary, &env, events)
}

fn body(http: &Value) -> Value {
    serde_json::from_str(http["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn single_profile_refresh_skip_serve_and_force() {
    let world = World::new("story-single").await;
    world.create_secret(&world.credentials_json()).await;
    let mut env = aws_env(&world);
    env.push(("LWA_CREDENTIALS_SECRET_ID", world.secret_id.clone()));
    env.push(("TOKEN_PARAMETER_NAME", world.parameter.clone()));

    // 1-3: refreshed (no token yet), skipped (fresh), refreshed (forced).
    let refresher = run(
        REFRESHER,
        &env,
        vec![
            event("scheduled.json"),
            event("refresh.json"),
            event("force-refresh.json"),
        ],
    );
    let [first, second, forced] = &refresher.answers[..] else {
        unreachable!()
    };
    let (first, second, forced) = (first.ok(), second.ok(), forced.ok());
    assert_eq!(first["outcome"], "refreshed");
    assert_eq!(second["outcome"], "skipped");
    assert_eq!(second["token_fingerprint"], first["token_fingerprint"]);
    assert_eq!(forced["outcome"], "refreshed");
    assert_ne!(forced["token_fingerprint"], first["token_fingerprint"]);
    assert!(
        first.get("access_token").is_none(),
        "the refresher never answers a token"
    );
    assert_eq!(
        world.lwa_requests().await.len(),
        2,
        "skipped made no request"
    );
    assert!(
        refresher.output.contains("token refresh finished"),
        "{}",
        refresher.output
    );

    // The parameter: a SecureString holding the forced token, version 2.
    let (value, version) = world.parameter_value().await.unwrap();
    let stored = StoredToken::from_parameter_value(&value).unwrap();
    assert_eq!(
        stored.access_token.fingerprint(),
        forced["token_fingerprint"]
    );
    assert_eq!(version, 2);

    // 4-6: the reader, direct and through its function URL.
    let mut post = event("reader-url-get.json");
    post["requestContext"]["http"]["method"] = json!("POST");
    let reader = run(
        READER,
        &env,
        vec![event("reader-get.json"), event("reader-url-get.json"), post],
    );
    let direct = reader.answers[0].ok();
    assert_eq!(direct["token_type"], "bearer");
    assert_eq!(
        direct["access_token"].as_str().unwrap(),
        stored.access_token.expose_secret()
    );
    let url = reader.answers[1].ok();
    assert_eq!(url["statusCode"], 200);
    assert_eq!(url["headers"]["content-type"], "application/json");
    assert_eq!(url["headers"]["cache-control"], "no-store");
    assert_eq!(body(url)["access_token"], direct["access_token"]);
    let post = reader.answers[2].ok();
    assert_eq!(post["statusCode"], 405);
    assert_eq!(post["headers"]["allow"], "GET");

    // No secret value in anything the functions printed.
    for output in [&refresher.output, &reader.output] {
        assert_eq!(leaks(output), Vec::<String>::new(), "{output}");
    }
}

#[tokio::test]
async fn fleet_refresh_with_a_revoked_seller_then_serve_by_profile() {
    let world = World::new("story-fleet").await;
    let prefix = format!("spapi/story/{}/", world.ns);
    let parameters = format!("/spapi/story/{}/", world.ns);
    let app = format!("spapi/story-app/{}", world.ns);
    let seller = |name: &str| format!("Atzr|PLANTED-{}-{name}", world.ns);
    let (acme, globex, initech) = (seller("acme"), seller("globex"), seller("initech"));
    world
        .control_put(json!({"clients": [{
            "client_id": CLIENT_ID,
            "client_secrets": [world.client_secret],
            "refresh_tokens": [acme, globex, initech],
            "revoked_refresh_tokens": [initech],
            "scopes": ["sellingpartnerapi::notifications"],
        }]}))
        .await;
    let create = |name: String, doc: Value| {
        let secrets = world.secrets.clone();
        async move {
            secrets
                .create_secret()
                .name(name)
                .secret_string(doc.to_string())
                .send()
                .await
                .unwrap();
        }
    };
    create(
        app.clone(),
        json!({"client_id": CLIENT_ID, "client_secret": world.client_secret}),
    )
    .await;
    for (name, token) in [
        ("acme-us", &acme),
        ("globex-eu", &globex),
        ("initech-jp", &initech),
    ] {
        create(format!("{prefix}{name}"), json!({ "refresh_token": token })).await;
    }
    create(
        format!("{prefix}notifications"),
        json!({"client_id": CLIENT_ID, "client_secret": world.client_secret,
               "scope": "sellingpartnerapi::notifications"}),
    )
    .await;
    let mut env = aws_env(&world);
    env.push(("LWA_SECRET_PREFIX", prefix.clone()));
    env.push(("TOKEN_PARAMETER_PREFIX", parameters.clone()));
    env.push(("LWA_APP_SECRET_ID", app.clone()));

    let refresher = run(REFRESHER, &env, vec![event("scheduled.json")]);
    match &refresher.answers[0] {
        Answer::Err {
            error_type,
            message,
        } => {
            assert_eq!(error_type, "ProfilesFailed");
            assert!(
                message.starts_with("1 of 4 profiles failed: initech-jp (LwaInvalidGrant)"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let emf: Value = refresher
        .output
        .lines()
        .find(|l| l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap_or_else(|| panic!("no metrics line:\n{}", refresher.output));
    assert_eq!(
        (
            &emf["Refreshed"],
            &emf["Failed"],
            &emf["Deferred"],
            &emf["FunctionName"]
        ),
        (&json!(3), &json!(1), &json!(0), &json!("test"))
    );
    assert!(refresher.output.contains("fleet run finished"));

    let mut url = event("reader-url-get.json");
    url["rawQueryString"] = json!("profile=acme-us");
    let mut traversal = event("reader-url-get.json");
    traversal["rawQueryString"] = json!("profile=../../spapi/lwa/access-token");
    let reader = run(
        READER,
        &env,
        vec![
            json!({"action": "get", "profile": "acme-us"}),
            url,
            traversal,
        ],
    );
    let direct = reader.answers[0].ok();
    assert!(direct["access_token"]
        .as_str()
        .unwrap()
        .starts_with("Atza|"));
    assert_eq!(
        body(reader.answers[1].ok())["access_token"],
        direct["access_token"]
    );
    let refused = reader.answers[2].ok();
    assert_eq!(refused["statusCode"], 400);
    assert!(!refused["body"].as_str().unwrap().contains("Atza|"));
    for output in [&refresher.output, &reader.output] {
        assert_eq!(leaks(output), Vec::<String>::new(), "{output}");
    }
}
