//! Lambda glue of `seller-onboarding`: a function URL request (payload
//! format 2.0) goes to [`Onboarding::handle`] and comes back as a function
//! URL response; any other event is the operators' `link` action. One log
//! line per invocation: route, status, outcome, why, and the time spent in
//! our own code apart from the AWS and LWA round trips. Never the query,
//! a cookie, a header or the body.

use super::cookie::binding_cookie;
use super::link::link;
use super::routes::{Onboarding, Request};
use crate::error::ServiceError;
use crate::ports::code_exchange::CodeExchange;
use crate::ports::profile_store::ProfileStore;
use crate::ports::{TokenRead, TokenWrite};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse;
use serde_json::Value;
use std::time::Instant as StdInstant;
use time::OffsetDateTime;
use tokio::time::Instant;

fn is_function_url_event(event: &Value) -> bool {
    event
        .get("requestContext")
        .and_then(|c| c.get("http"))
        .is_some_and(Value::is_object)
}

/// The request's cookie pairs: the event's `cookies` list and any `Cookie`
/// header, split at `;`.
fn cookie_pairs(event: &Value) -> Vec<&str> {
    let mut pairs: Vec<&str> = event
        .get("cookies")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(h) = event.pointer("/headers/cookie").and_then(Value::as_str) {
        pairs.extend(h.split(';'));
    }
    pairs
}

/// Handles one invocation.
pub async fn handle_onboarding<P: ProfileStore, X: CodeExchange, S: TokenRead + TokenWrite>(
    app: &Onboarding<P, X, S>,
    event: &Value,
    now: OffsetDateTime,
    deadline: Instant,
) -> Result<Value, ServiceError> {
    let started = StdInstant::now();
    if !is_function_url_event(event) {
        let result = link(app.signer(), &app.settings().authorize_url, event, now);
        match &result {
            Ok(v) => tracing::info!(
                kind = "direct",
                action = "link",
                profile = v["profile"].as_str().unwrap_or_default(),
                region = v["region"].as_str().unwrap_or_default(),
                expires_at = v["expires_at"].as_str().unwrap_or_default(),
                "onboarding link minted"
            ),
            Err(e) => {
                tracing::error!(kind = "direct", error_type = %e.error_type(), error = %e, "invalid event")
            }
        }
        return result;
    }
    let str_at = |p: &str| event.pointer(p).and_then(Value::as_str).unwrap_or_default();
    let request = Request {
        method: str_at("/requestContext/http/method"),
        path: str_at("/rawPath"),
        query: str_at("/rawQueryString"),
    };
    let cookie = binding_cookie(cookie_pairs(event), app.settings().secure_cookies);
    let outcome = app.handle(request, cookie, now, deadline).await;
    let total = started.elapsed();
    let route = match app.settings().route(request.path) {
        p @ ("/authorize" | "/callback" | "/login") => p,
        _ => "other",
    };
    let own_us = total.saturating_sub(outcome.io).as_micros() as u64;
    let io_ms = (outcome.io.as_secs_f64() * 10_000.0).round() / 10.0;
    let status = outcome.response.status;
    let detail = outcome.detail.as_deref().unwrap_or("");
    if status >= 500 {
        tracing::error!(
            kind = "function_url",
            route,
            status,
            outcome = outcome.outcome,
            detail,
            own_us,
            io_ms,
            "onboarding request"
        );
    } else if status >= 400 {
        tracing::warn!(
            kind = "function_url",
            route,
            status,
            outcome = outcome.outcome,
            detail,
            own_us,
            io_ms,
            "onboarding request"
        );
    } else {
        tracing::info!(
            kind = "function_url",
            route,
            status,
            outcome = outcome.outcome,
            detail,
            own_us,
            io_ms,
            "onboarding request"
        );
    }
    Ok(to_function_url_response(outcome.response))
}

fn to_function_url_response(r: super::pages::HttpResponse) -> Value {
    let mut headers = HeaderMap::new();
    for (name, value) in &r.headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(r.status);
    response.headers = headers;
    response.body = Some(r.body);
    response.cookies = r.cookies;
    serde_json::to_value(response).expect("a response serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onboarding::routes::Settings;
    use crate::onboarding::secrets::SigningKey;
    use crate::onboarding::signing::Signer;
    use crate::ports::code_exchange::{CodeGrant, ExchangeError};
    use crate::ports::profile_store::{ProfileStoreError, ProfileTags, StoredProfile};
    use crate::testing::FakeStore;
    use secrecy::SecretString;

    struct NoProfiles;
    impl ProfileStore for NoProfiles {
        async fn find_by_seller(
            &self,
            _: &str,
            _: crate::onboarding::marketplace::Region,
        ) -> Result<Option<String>, ProfileStoreError> {
            Ok(None)
        }
        async fn read(&self, _: &str) -> Result<Option<StoredProfile>, ProfileStoreError> {
            Ok(None)
        }
        async fn create(
            &self,
            _: &str,
            _: &SecretString,
            _: &ProfileTags,
        ) -> Result<(), ProfileStoreError> {
            Ok(())
        }
        async fn update(
            &self,
            _: &str,
            _: &SecretString,
            _: &ProfileTags,
        ) -> Result<(), ProfileStoreError> {
            Ok(())
        }
    }
    struct NoExchange;
    impl CodeExchange for NoExchange {
        async fn exchange(
            &self,
            _: &crate::onboarding::secrets::AuthCode,
            _: &str,
            _: Instant,
        ) -> Result<CodeGrant, ExchangeError> {
            Err(ExchangeError::AppCredentials("none".into()))
        }
    }

    fn app() -> Onboarding<NoProfiles, NoExchange, FakeStore> {
        Onboarding::new(
            Settings {
                application_id: "amzn1.sp.solution.x".into(),
                draft: false,
                redirect_uri: "https://x.lambda-url.eu-west-1.on.aws/callback".into(),
                authorize_url: "https://x.lambda-url.eu-west-1.on.aws/authorize".into(),
                parameter_prefix: "/p/".into(),
                open: false,
                consent_base: None,
                secure_cookies: true,
            },
            Signer::new(&SigningKey::new("0123456789abcdef0123456789abcdef")),
            NoProfiles,
            NoExchange,
            FakeStore::default(),
        )
    }

    fn event(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn the_link_event_mints_a_link() {
        let now = OffsetDateTime::now_utc();
        let v = handle_onboarding(&app(), &event("onboarding-link.json"), now, Instant::now())
            .await
            .unwrap();
        assert!(v["url"]
            .as_str()
            .unwrap()
            .starts_with("https://x.lambda-url.eu-west-1.on.aws/authorize?ticket="));
        let e = handle_onboarding(
            &app(),
            &serde_json::json!({"action": "get"}),
            now,
            Instant::now(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
    }

    #[tokio::test]
    async fn function_url_requests_become_function_url_responses() {
        let now = OffsetDateTime::now_utc();
        let v = handle_onboarding(
            &app(),
            &event("onboarding-url-authorize.json"),
            now,
            Instant::now(),
        )
        .await
        .unwrap();
        assert_eq!(v["statusCode"], 400);
        assert_eq!(v["headers"]["referrer-policy"], "no-referrer");
        assert_eq!(v["headers"]["cache-control"], "no-store");
        assert_eq!(v["headers"]["x-content-type-options"], "nosniff");
        assert!(v["body"]
            .as_str()
            .unwrap()
            .contains("This link is not valid"));
        assert!(!v["body"].as_str().unwrap().contains("not-a-valid-ticket"));
        let mut post = event("onboarding-url-authorize.json");
        post["requestContext"]["http"]["method"] = "POST".into();
        let v = handle_onboarding(&app(), &post, now, Instant::now())
            .await
            .unwrap();
        assert_eq!(v["statusCode"], 405);
        assert_eq!(v["headers"]["allow"], "GET");
    }

    #[test]
    fn cookies_from_the_list_and_the_header() {
        let e = serde_json::json!({"cookies": ["a=1", "b=2"], "headers": {"cookie": "c=3; d=4"}});
        assert_eq!(cookie_pairs(&e), vec!["a=1", "b=2", "c=3", " d=4"]);
        assert!(cookie_pairs(&serde_json::json!({})).is_empty());
    }
}
