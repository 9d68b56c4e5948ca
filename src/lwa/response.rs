//! One HTTP answer of the token endpoint, classified: a token, a final
//! rejection, or a reason to retry (with LWA's `Retry-After`). LWA's text is
//! scrubbed of the secret values sent before it reaches an error or a log.

use super::types::{LwaError, LwaErrorCode, TokenResponse};
use crate::https::retry_after;
use crate::quote_check::scrub;
use crate::secret::{AccessToken, RefreshToken};
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use time::OffsetDateTime;

/// The longest `expires_in` accepted (LWA says 3600 today).
const MAX_EXPIRES_IN: u64 = 86_400;

/// What one attempt came to: a token or a final error, or a reason to retry.
pub(crate) type Attempt = crate::https::Attempt<Result<TokenResponse, LwaError>>;

/// The media type of an answer, for messages.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "no content type".to_owned())
}

fn short(s: &str) -> String {
    const MAX: usize = 300;
    let s = s.trim();
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Turns one HTTP answer into a result or a reason to retry. `known` are the
/// values sent (secrets among them): LWA's text is scrubbed of them.
/// `requested_at` is when the request was sent; `now` is when the answer
/// came (for a `Retry-After` date).
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    requested_at: OffsetDateTime,
    now: OffsetDateTime,
    known: &[&str],
) -> Attempt {
    // LWA's text is dropped whole when it quotes a piece of what was sent.
    let clean = |t: &str| short(&scrub(t, known));
    let json: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(body).ok();
    if status == 200 {
        return Attempt::Done(parse_token(json, requested_at, &clean));
    }
    // A wrong path: retrying cannot help.
    if status == 404 || status == 405 {
        return Attempt::Done(Err(LwaError::Rejected {
            code: LwaErrorCode::InvalidRequest,
            error: if status == 404 {
                "not_found"
            } else {
                "method_not_allowed"
            }
            .to_owned(),
            description: Some(format!(
                "the URL is not a token endpoint: check that LWA_TOKEN_URL is {}",
                crate::config::DEFAULT_TOKEN_URL
            )),
            status,
        }));
    }
    let error_field = json.as_ref().and_then(|m| m.get("error"));
    let oauth_error = error_field.and_then(|e| e.as_str()).map(|error| {
        let description = json
            .as_ref()
            .and_then(|m| m.get("error_description"))
            .and_then(|d| d.as_str())
            .map(&clean)
            .filter(|d| !d.is_empty());
        // A code LWA documents is shown as is (a secret that happens to
        // contain `unauthorized` must not hide it); any other is scrubbed.
        let error = error.trim();
        let error = match LwaErrorCode::parse(error) {
            LwaErrorCode::Other(_) => clean(error),
            _ => error.to_owned(),
        };
        (error, description)
    });
    let retryable = status == 429 || status >= 500;
    match oauth_error {
        Some((error, description)) if !retryable && (400..500).contains(&status) => {
            Attempt::Done(Err(LwaError::Rejected {
                code: LwaErrorCode::parse(&error),
                error,
                description,
                status,
            }))
        }
        Some((error, description)) => Attempt::Retry {
            why: format!(
                "HTTP {status} {error}{}",
                description.map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            retry_after: retry_after(headers, now),
        },
        None => {
            let what = match (&json, error_field) {
                (Some(_), Some(_)) => {
                    format!(
                        "a {} body whose `error` is not a string",
                        content_type(headers)
                    )
                }
                (Some(_), None) => {
                    format!("a {} body without an `error` field", content_type(headers))
                }
                (None, _) if body.is_empty() => "an empty body".to_owned(),
                (None, _) => format!("a {} body (not JSON)", content_type(headers)),
            };
            let why = if (300..400).contains(&status) {
                let location = headers
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(|l| format!(" to {}", clean(l.split('?').next().unwrap_or_default())))
                    .unwrap_or_default();
                format!("HTTP {status}: a redirect{location}, which is not followed; check LWA_TOKEN_URL")
            } else {
                format!("HTTP {status} with {what}")
            };
            Attempt::Retry {
                why,
                retry_after: retry_after(headers, now),
            }
        }
    }
}

fn parse_token(
    json: Option<serde_json::Map<String, serde_json::Value>>,
    requested_at: OffsetDateTime,
    clean: &dyn Fn(&str) -> String,
) -> Result<TokenResponse, LwaError> {
    let malformed = |problem: &str| LwaError::Malformed {
        status: 200,
        problem: problem.to_owned(),
    };
    let map = json.ok_or_else(|| malformed("the body is not a JSON object"))?;
    if let Some(error) = map.get("error") {
        let shown = error
            .as_str()
            .map(clean)
            .unwrap_or_else(|| "(not a string)".into());
        return Err(malformed(&format!("the body carries error `{shown}`")));
    }
    let access_token = match map.get("access_token") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(serde_json::Value::String(_)) => return Err(malformed("access_token is empty")),
        Some(_) => return Err(malformed("access_token is not a string")),
        None => return Err(malformed("access_token is missing")),
    };
    if access_token.len() > 2048 {
        return Err(malformed(
            "access_token is longer than the 2048 bytes LWA documents",
        ));
    }
    if !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(
            "access_token contains spaces or control characters, so it cannot be sent in a header",
        ));
    }
    let expires_in = match map.get("expires_in") {
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| (1..=MAX_EXPIRES_IN).contains(n))
            .ok_or_else(|| {
                malformed(&format!(
                    "expires_in is not a whole number of seconds from 1 to {MAX_EXPIRES_IN}"
                ))
            })?,
        None => return Err(malformed("expires_in is missing")),
    };
    let token_type = match map.get("token_type") {
        None | Some(serde_json::Value::Null) => "bearer".to_owned(),
        Some(serde_json::Value::String(t)) if t.trim().eq_ignore_ascii_case("bearer") => {
            "bearer".to_owned()
        }
        Some(_) => return Err(malformed("token_type is not `bearer`")),
    };
    let refresh_token = map
        .get("refresh_token")
        .and_then(|t| t.as_str())
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .map(RefreshToken::new);
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        token_type,
        expires_in,
        refresh_token,
        requested_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use std::time::Duration;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }
    const T0: OffsetDateTime = time::macros::datetime!(2026-11-30 12:00:00 UTC);

    fn run(status: u16, ct: &str, body: &str) -> Attempt {
        classify(status, &headers(ct), body.as_bytes(), T0, T0, &["S3CRET"])
    }

    fn why(attempt: Attempt) -> String {
        match attempt {
            Attempt::Retry { why, .. } => why,
            Attempt::Done(r) => panic!("expected a retry, got {:?}", r.err()),
        }
    }

    #[test]
    fn a_retry_names_the_media_type_and_the_kind_of_body() {
        assert_eq!(
            why(run(503, "text/html; charset=utf-8", "<html>busy</html>")),
            "HTTP 503 with a text/html body (not JSON)"
        );
        assert_eq!(
            why(run(502, "text/plain", "")),
            "HTTP 502 with an empty body"
        );
        let no_type = classify(503, &HeaderMap::new(), b"busy", T0, T0, &[]);
        assert_eq!(
            why(no_type),
            "HTTP 503 with a no content type body (not JSON)"
        );
        let blank = classify(503, &headers(" ; charset=x"), b"busy", T0, T0, &[]);
        assert_eq!(
            why(blank),
            "HTTP 503 with a no content type body (not JSON)"
        );
        assert_eq!(
            why(run(500, "application/json", r#"{"message":"x"}"#)),
            "HTTP 500 with a application/json body without an `error` field"
        );
    }

    #[test]
    fn a_wrong_path_is_final_and_says_which() {
        for (status, error) in [(404, "not_found"), (405, "method_not_allowed")] {
            match run(status, "text/html", "<html>") {
                Attempt::Done(Err(LwaError::Rejected {
                    error: e,
                    status: s,
                    ..
                })) => {
                    assert_eq!((e.as_str(), s), (error, status));
                }
                other => panic!("{status}: expected a rejection, got {}", why(other)),
            }
        }
    }

    #[test]
    fn a_long_description_is_cut_at_a_character_boundary() {
        // One ASCII byte, then two-byte characters: byte 300 falls inside one.
        let text = format!("a{}", "é".repeat(200));
        let body = format!(r#"{{"error":"invalid_grant","error_description":"{text}"}}"#);
        match run(400, "application/json", &body) {
            Attempt::Done(Err(LwaError::Rejected { description, .. })) => {
                let d = description.unwrap();
                assert_eq!(d, format!("a{}…", "é".repeat(149)));
            }
            other => panic!("expected a rejection, got {}", why(other)),
        }
        // At most 300 bytes: kept whole.
        let text = "x".repeat(300);
        let body = format!(r#"{{"error":"invalid_grant","error_description":"{text}"}}"#);
        match run(400, "application/json", &body) {
            Attempt::Done(Err(LwaError::Rejected { description, .. })) => {
                assert_eq!(description.unwrap(), text)
            }
            other => panic!("expected a rejection, got {}", why(other)),
        }
    }

    #[test]
    fn an_unknown_error_code_quoting_a_sent_value_is_withheld() {
        let body = r#"{"error":"bad_S3CRET-AND-MORE"}"#;
        let got = classify(
            400,
            &headers("application/json"),
            body.as_bytes(),
            T0,
            T0,
            &["S3CRET-AND-MORE"],
        );
        match got {
            Attempt::Done(Err(LwaError::Rejected { error, .. })) => {
                assert!(!error.contains("S3CRET"), "{error}");
                assert_eq!(error, crate::quote_check::WITHHELD);
            }
            other => panic!("expected a rejection, got {}", why(other)),
        }
    }

    #[test]
    fn a_rotated_refresh_token_is_kept_only_when_usable() {
        let refresh = |value: &str| {
            let body = format!(
                r#"{{"access_token":"Atza|A","expires_in":3600,"refresh_token":{}}}"#,
                serde_json::to_string(value).unwrap()
            );
            match run(200, "application/json", &body) {
                Attempt::Done(Ok(t)) => t.refresh_token.map(|r| r.expose_secret().to_owned()),
                other => panic!("expected a token, got {}", why(other)),
            }
        };
        assert_eq!(refresh(" Atzr|NEW "), Some("Atzr|NEW".to_owned()));
        assert_eq!(refresh(""), None);
        assert_eq!(refresh("Atzr|with space"), None);
        assert_eq!(refresh("Atzr|line\nbreak"), None);
    }

    #[test]
    fn an_access_token_up_to_2048_bytes_is_accepted() {
        let ok = format!(
            r#"{{"access_token":"Atza|{}","expires_in":3600}}"#,
            "x".repeat(2043)
        );
        assert!(matches!(
            run(200, "application/json", &ok),
            Attempt::Done(Ok(_))
        ));
        let long = format!(
            r#"{{"access_token":"Atza|{}","expires_in":3600}}"#,
            "x".repeat(2044)
        );
        assert!(matches!(
            run(200, "application/json", &long),
            Attempt::Done(Err(LwaError::Malformed { .. }))
        ));
    }

    #[test]
    fn oauth_errors_are_final() {
        let cases = [
            (400, "invalid_grant", LwaErrorCode::InvalidGrant),
            (401, "invalid_client", LwaErrorCode::InvalidClient),
            (400, "unauthorized_client", LwaErrorCode::UnauthorizedClient),
            (400, "invalid_scope", LwaErrorCode::InvalidScope),
            (400, "invalid_request", LwaErrorCode::InvalidRequest),
            (
                400,
                "unsupported_grant_type",
                LwaErrorCode::UnsupportedGrantType,
            ),
            (403, "access_denied", LwaErrorCode::AccessDenied),
            (
                400,
                "something_new",
                LwaErrorCode::Other("something_new".into()),
            ),
        ];
        for (status, error, code) in cases {
            let body = format!(r#"{{"error_description":"desc","error":"{error}"}}"#);
            match run(status, "application/json;charset=UTF-8", &body) {
                Attempt::Done(Err(LwaError::Rejected {
                    code: c,
                    status: s,
                    description,
                    ..
                })) => {
                    assert_eq!(c, code);
                    assert_eq!(s, status);
                    assert_eq!(description.as_deref(), Some("desc"));
                }
                _ => panic!("{error}: expected a final rejection"),
            }
        }
    }

    #[test]
    fn server_errors_throttling_and_html_are_retried() {
        for (status, ct, body) in [
            (500, "text/plain", "Internal Server Error"),
            (503, "text/html", "<html><body>sorry</body></html>"),
            (429, "application/json", r#"{"error":"rate_limited"}"#),
            (502, "application/json", r#"{"error":"server_error"}"#),
            (403, "text/html", "<html>blocked</html>"),
        ] {
            match run(status, ct, body) {
                Attempt::Retry { why, .. } => {
                    assert!(why.contains(&status.to_string()), "{why}");
                    assert!(!why.contains("<html"), "{why}");
                }
                _ => panic!("{status} {ct}: expected a retry"),
            }
        }
    }

    #[test]
    fn text_quoting_a_piece_of_a_sent_value_is_withheld_whole() {
        const RT: &str = "Atzr|IwEBIPc3Xz9kLm2NoPq4RsTu5VwXy6Za7Bc8De9Fg0Hi";
        const CS: &str = "amzn1.oa2-cs.v1.3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d";
        for description in [
            "bad refresh_token Atzr%7ciwebipc3xz9klm2nopq4",
            "fragment Xz9kLm2NoPq4RsTu of it",
            "path /c/3F9A0C1D2E3F4A5B6C/x",
        ] {
            let body =
                format!(r#"{{"error":"invalid_request","error_description":"{description}"}}"#);
            let attempt = classify(
                400,
                &headers("application/json"),
                body.as_bytes(),
                T0,
                T0,
                &[CS, RT],
            );
            let Attempt::Done(Err(LwaError::Rejected {
                description: Some(d),
                error,
                ..
            })) = attempt
            else {
                panic!("{description}: expected a rejection");
            };
            assert_eq!(d, crate::quote_check::WITHHELD, "{description}");
            assert_eq!(error, "invalid_request");
        }
        // A documented code is never withheld, whatever the secrets hold.
        let body = r#"{"error":"unauthorized_client","error_description":"Not authorized"}"#;
        let sent = ["amzn1.oa2-cs.v1.unauthorized_client-1"];
        let attempt = classify(
            400,
            &headers("application/json"),
            body.as_bytes(),
            T0,
            T0,
            &sent,
        );
        let Attempt::Done(Err(LwaError::Rejected { code, error, .. })) = attempt else {
            panic!("expected a rejection");
        };
        assert_eq!(
            (code, error.as_str()),
            (LwaErrorCode::UnauthorizedClient, "unauthorized_client")
        );
    }

    #[test]
    fn the_classification_carries_retry_after() {
        let mut h = headers("application/json");
        h.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        match classify(429, &h, b"{}", T0, T0, &[]) {
            Attempt::Retry { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(5)))
            }
            _ => panic!("429 is retried"),
        }
    }

    #[test]
    fn token_answers() {
        let ok = r#"{"access_token":"Atza|A","refresh_token":"Atzr|R","token_type":"bearer","expires_in":1200}"#;
        match run(200, "application/json", ok) {
            Attempt::Done(Ok(t)) => {
                assert_eq!(t.expires_in, 1200);
                assert_eq!(t.access_token.expose_secret(), "Atza|A");
                assert_eq!(t.refresh_token.unwrap().expose_secret(), "Atzr|R");
            }
            _ => panic!("expected a token"),
        }
        for bad in [
            r#"{"token_type":"bearer","expires_in":3600}"#,
            r#"{"access_token":"","token_type":"bearer","expires_in":3600}"#,
            r#"{"access_token":"Atza|A","token_type":"bearer"}"#,
            r#"{"access_token":"Atza|A","expires_in":0}"#,
            r#"{"access_token":"Atza|A","expires_in":-5}"#,
            r#"{"error":"invalid_grant","error_description":"x"}"#,
            "<html>ok</html>",
        ] {
            assert!(
                matches!(
                    run(200, "application/json", bad),
                    Attempt::Done(Err(LwaError::Malformed { .. }))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn echoed_secrets_are_scrubbed() {
        let body = r#"{"error":"invalid_request","error_description":"bad client_secret=S3CRET refresh_token=Atzr|abc"}"#;
        match run(400, "application/json", body) {
            Attempt::Done(Err(e)) => {
                let shown = e.to_string();
                assert!(
                    !shown.contains("S3CRET") && !shown.contains("Atzr|abc"),
                    "{shown}"
                );
            }
            _ => panic!("expected a rejection"),
        }
        match run(
            500,
            "application/json",
            r#"{"error":"server_error","error_description":"S3CRET"}"#,
        ) {
            Attempt::Retry { why, .. } => assert!(!why.contains("S3CRET"), "{why}"),
            _ => panic!("expected a retry"),
        }
    }

    #[test]
    fn wrong_paths_are_final_and_point_at_the_url() {
        for (status, body) in [
            (404, "<html>nope</html>"),
            (404, r#"{"error":"not_found"}"#),
            (405, ""),
        ] {
            match run(status, "text/html", body) {
                Attempt::Done(Err(LwaError::Rejected {
                    description,
                    status: s,
                    ..
                })) => {
                    let d = description.unwrap_or_default();
                    assert!(d.contains("LWA_TOKEN_URL"), "{status} {body}: {d}");
                    assert_eq!(s, status);
                }
                _ => panic!("{status}: expected a final rejection"),
            }
        }
    }

    #[test]
    fn unusable_tokens_are_malformed() {
        for bad in [
            r#"{"access_token":"Atza|A","expires_in":18446744073709551615}"#,
            r#"{"access_token":"Atza|A","expires_in":86401}"#,
            r#"{"access_token":"Atza|A
B","expires_in":3600}"#,
            r#"{"access_token":"Atza|A","token_type":"mac","expires_in":3600}"#,
            r#"{"access_token":"Atza|A","token_type":7,"expires_in":3600}"#,
            r#"{"error":400}"#,
        ] {
            assert!(
                matches!(
                    run(200, "application/json", bad),
                    Attempt::Done(Err(LwaError::Malformed { .. }))
                ),
                "{bad}"
            );
        }
        match run(400, "application/json", r#"{"error":400}"#) {
            Attempt::Retry { why, .. } => assert!(why.contains("not a string"), "{why}"),
            _ => panic!("expected a retry"),
        }
    }
}
