//! Function URL requests (payload format 2.0) to the reader: `GET` only,
//! `?profile=` in fleet mode, JSON answers with `cache-control: no-store`.
//! An AWS failure is a bare 502: its detail goes to the log only.

use super::reader::resolve_parameter;
use crate::config::ReaderTarget;
use crate::ports::TokenRead;
use crate::query_string::{decode, QueryError, MAX_QUERY};
use crate::reader::{ReadError, Reader};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse;
use serde_json::{json, Value};
use tokio::time::Instant;

/// `true` for a function URL request (it has `requestContext.http`).
pub fn is_function_url_event(event: &Value) -> bool {
    event
        .get("requestContext")
        .and_then(|c| c.get("http"))
        .is_some_and(Value::is_object)
}

/// The `profile` query parameter of a function URL request, read from
/// `rawQueryString` and percent-decoded (`%2D` is `-`); a `profile` value
/// that does not decode is refused, other parameters are not looked at.
/// Given more than once it is refused (Lambda joins repeated values with
/// commas in `queryStringParameters`; `rawQueryString` keeps them apart).
/// Without `rawQueryString` (hand-made events), `queryStringParameters`.
fn query_profile(event: &Value) -> Result<Option<String>, String> {
    let Some(raw) = event.get("rawQueryString").and_then(Value::as_str) else {
        return Ok(event
            .pointer("/queryStringParameters/profile")
            .and_then(Value::as_str)
            .map(str::to_owned));
    };
    if raw.len() > MAX_QUERY {
        return Err(format!("{}; send ?profile=<name>", QueryError::TooLong));
    }
    let mut found = None;
    for pair in raw.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(k).as_deref() != Ok("profile") {
            continue;
        }
        if found.is_some() {
            return Err("`profile` is given more than once; give it once".to_owned());
        }
        let value = decode(v).map_err(|e| {
            format!("`profile`: {e}; send ?profile=<name> with the name percent-encoded")
        })?;
        found = Some(value);
    }
    Ok(found)
}

/// Answers one function URL request; the SSM read, if any, ends by `until`.
pub async fn handle_url_request<S: TokenRead>(
    reader: &Reader<S>,
    target: &ReaderTarget,
    event: &Value,
    until: Option<Instant>,
) -> LambdaFunctionUrlResponse {
    let method = event
        .pointer("/requestContext/http/method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !method.eq_ignore_ascii_case("GET") {
        let mut response = http_response(
            405,
            &json!({"error": "method_not_allowed", "message": "use GET"}),
        );
        response
            .headers
            .insert("allow", HeaderValue::from_static("GET"));
        return response;
    }
    let profile = query_profile(event);
    let parameter = match profile.and_then(|p| resolve_parameter(target, p.as_deref())) {
        Ok(p) => p,
        Err(message) => {
            return http_response(
                400,
                &json!({"error": "invalid_profile", "message": message}),
            )
        }
    };
    let served = match until {
        Some(until) => reader.get_before(&parameter, until).await,
        None => reader.get(&parameter).await,
    };
    match served {
        Ok(served) => http_response(
            200,
            &serde_json::to_value(served.answer).expect("serializes"),
        ),
        Err(ReadError::Unavailable(message)) => {
            tracing::error!(error_type = "TokenUnavailable", error = %message, "no usable token");
            http_response(
                503,
                &json!({"error": "token_unavailable", "message": message}),
            )
        }
        Err(ReadError::AuthorizationLost(message)) => {
            tracing::error!(error_type = "AuthorizationLost", error = %message, "seller authorization lost");
            http_response(
                503,
                &json!({"error": "authorization_lost", "message": message}),
            )
        }
        Err(ReadError::Upstream(detail)) => {
            tracing::error!(parameter = %parameter, detail = %detail, "could not read the token parameter");
            http_response(502, &json!({"error": "upstream_unavailable"}))
        }
    }
}

fn http_response(status: i64, body: &Value) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(body.to_string());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn reader_event_shapes() {
        assert!(is_function_url_event(&event("reader-url-get.json")));
        assert!(is_function_url_event(&event("reader-url-post.json")));
        assert!(!is_function_url_event(&event("reader-get.json")));
        assert!(!is_function_url_event(&json!({})));
        assert!(!is_function_url_event(
            &json!({"requestContext": {"http": 1}})
        ));
    }

    #[test]
    fn the_profile_comes_from_the_raw_query_else_the_parsed_one() {
        assert_eq!(
            query_profile(
                &json!({"queryStringParameters": {"profile": "a"}, "rawQueryString": "profile=b"})
            ),
            Ok(Some("b".into()))
        );
        assert_eq!(
            query_profile(&json!({"queryStringParameters": {"profile": "a"}})),
            Ok(Some("a".into()))
        );
        assert_eq!(
            query_profile(&json!({"rawQueryString": "x=1&profile=b"})),
            Ok(Some("b".into()))
        );
        assert_eq!(
            query_profile(&json!({"rawQueryString": "profile"})),
            Ok(Some("".into()))
        );
        assert_eq!(query_profile(&json!({"rawQueryString": "x=1"})), Ok(None));
        assert_eq!(query_profile(&json!({})), Ok(None));
    }

    #[test]
    fn a_profile_given_twice_is_refused() {
        for event in [
            json!({"rawQueryString": "profile=p0&profile=x"}),
            json!({"queryStringParameters": {"profile": "p0,x"}, "rawQueryString": "profile=p0&profile=x"}),
        ] {
            assert_eq!(
                query_profile(&event),
                Err("`profile` is given more than once; give it once".to_owned())
            );
        }
    }

    #[test]
    fn the_raw_profile_is_percent_decoded_and_a_bad_escape_refused() {
        assert_eq!(
            query_profile(&json!({"rawQueryString": "profile=acme%2Dde&x=%41"})),
            Ok(Some("acme-de".into()))
        );
        for raw in ["profile=acme%2", "profile=%ZZ", "x=1&profile=a%00b"] {
            let e = query_profile(&json!({ "rawQueryString": raw })).unwrap_err();
            assert!(e.contains("not validly encoded"), "{raw}: {e}");
            assert!(!e.contains("acme"), "never echoed: {e}");
        }
        // Junk in other parameters is not looked at.
        assert_eq!(
            query_profile(&json!({"rawQueryString": "a=%00&b&%ZZ=1&profile=p1"})),
            Ok(Some("p1".into()))
        );
        assert_eq!(
            query_profile(&json!({"rawQueryString": "a=%00&b"})),
            Ok(None)
        );
    }

    #[test]
    fn a_raw_query_of_the_longest_length_is_read_and_a_longer_one_refused() {
        let at = |len: usize| {
            let raw = format!("profile=p1&x={}", "a".repeat(len - "profile=p1&x=".len()));
            assert_eq!(raw.len(), len);
            query_profile(&json!({ "rawQueryString": raw }))
        };
        assert_eq!(at(MAX_QUERY), Ok(Some("p1".into())));
        assert!(at(MAX_QUERY + 1).unwrap_err().contains("too long"));
    }
}
