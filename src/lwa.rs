//! The LWA token endpoint client: request, response, error taxonomy, retry.
//!
//! `POST https://api.amazon.com/auth/o2/token`, form-urlencoded, with
//! `grant_type=refresh_token` (`refresh_token`, `client_id`, `client_secret`)
//! or `grant_type=client_credentials` (`scope`, `client_id`, `client_secret`).
//! Sources: "Connect to the Selling Partner API" (step 1, request a Login with
//! Amazon access token),
//! <https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api>,
//! and the LWA error codes of RFC 6749 §5.2.
//!
//! Retry policy: 5xx, 429, timeouts, connection errors and non-JSON error
//! bodies are retried up to `max_attempts` with exponential backoff and full
//! jitter (base 250 ms, cap 4 s), waiting at least as long as a `Retry-After`
//! header asks, and never past the deadline the caller gives. LWA's own
//! rejections (`invalid_grant`, `invalid_client`, …) are not retried here.

use crate::credentials::{Credentials, Grant};
use crate::secret::{redact, AccessToken, RefreshToken};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Url;
use std::sync::OnceLock;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// `User-Agent` of every token request, in the form the SP-API docs ask for
/// (`AppName/Version (Language=…)`).
pub const USER_AGENT: &str = concat!(
    "spapi-lwa-token-service/",
    env!("CARGO_PKG_VERSION"),
    " (Language=Rust)"
);

const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(4);
/// An attempt with less time than this before the deadline is not started.
const MIN_ATTEMPT: Duration = Duration::from_millis(250);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The most of an answer's body that is read.
const MAX_BODY: usize = 64 * 1024;
/// The longest `expires_in` accepted (LWA says 3600 today).
const MAX_EXPIRES_IN: u64 = 86_400;

/// A successful answer of the token endpoint.
pub struct TokenResponse {
    /// `access_token` (`Atza|…`).
    pub access_token: AccessToken,
    /// `token_type`, `bearer` when LWA leaves it out.
    pub token_type: String,
    /// `expires_in`, seconds (3600 today; never assumed).
    pub expires_in: u64,
    /// `refresh_token`, when LWA returns one (it may differ from the one sent).
    pub refresh_token: Option<RefreshToken>,
    /// When the successful request was sent (UTC).
    pub requested_at: OffsetDateTime,
}

/// Counters of one refresh, for the invocation's log line.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExchangeStats {
    /// HTTP requests sent to the token endpoint.
    pub requests: u32,
    /// Time spent waiting on the token endpoint, all attempts together.
    pub latency: Duration,
    /// Time spent waiting on AWS (Secrets Manager and SSM calls, including
    /// the SDK's first-use set-up).
    pub aws_latency: Duration,
}

/// LWA's `error` codes (RFC 6749 §5.2 plus `access_denied`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LwaErrorCode {
    /// The refresh token is revoked, expired or was never granted.
    InvalidGrant,
    /// Wrong or expired client ID / client secret.
    InvalidClient,
    /// The client may not use this grant.
    UnauthorizedClient,
    /// A scope is unknown or not allowed for the app.
    InvalidScope,
    /// A parameter is missing or malformed.
    InvalidRequest,
    /// The `grant_type` is not supported (often: body not form-encoded).
    UnsupportedGrantType,
    /// The request was denied.
    AccessDenied,
    /// Any other code LWA may add; treated like `invalid_request`.
    Other(String),
}

impl LwaErrorCode {
    pub(crate) fn parse(code: &str) -> Self {
        match code {
            "invalid_grant" => Self::InvalidGrant,
            "invalid_client" => Self::InvalidClient,
            "unauthorized_client" => Self::UnauthorizedClient,
            "invalid_scope" => Self::InvalidScope,
            "invalid_request" => Self::InvalidRequest,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "access_denied" => Self::AccessDenied,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Why a token exchange failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LwaError {
    /// LWA answered with an OAuth error: not retried.
    #[error("LWA answered HTTP {status} {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        /// The parsed `error`.
        code: LwaErrorCode,
        /// The raw `error` value.
        error: String,
        /// `error_description`, when given (Amazon's text, never a secret).
        description: Option<String>,
        /// HTTP status.
        status: u16,
    },
    /// Retryable failures until attempts or time ran out.
    #[error(
        "the LWA token endpoint did not give a token after {attempts} attempt(s); last: {last}"
    )]
    Unavailable {
        /// Requests sent.
        attempts: u32,
        /// The last failure, e.g. `HTTP 503 with a text/html body (not JSON)`.
        last: String,
    },
    /// HTTP 200 without a usable token.
    #[error("LWA answered HTTP {status} without a usable token: {problem}")]
    Malformed {
        /// HTTP status.
        status: u16,
        /// What is missing or wrong (never a value).
        problem: String,
    },
}

/// The token endpoint, as the refresh use case sees it.
#[allow(async_fn_in_trait)]
pub trait TokenEndpoint {
    /// One exchange, with this client's retries, finishing before `deadline`.
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError>;
}

impl<T: TokenEndpoint + ?Sized> TokenEndpoint for &T {
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError> {
        (**self).request_token(credentials, deadline, stats).await
    }
}

/// The reqwest-based client. The HTTP client (TLS roots and all) is built on
/// first use, not at cold start.
pub struct LwaClient {
    url: Url,
    timeout: Duration,
    max_attempts: u32,
    http: OnceLock<reqwest::Client>,
}

enum Attempt {
    Done(Result<TokenResponse, LwaError>),
    Retry {
        why: String,
        retry_after: Option<Duration>,
    },
}

impl LwaClient {
    /// A client for `url` with a per-attempt `timeout` and up to
    /// `max_attempts` attempts for retryable failures.
    pub fn new(url: Url, timeout: Duration, max_attempts: u32) -> Self {
        Self {
            url,
            timeout,
            max_attempts: max_attempts.max(1),
            http: OnceLock::new(),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            let mut builder = reqwest::Client::builder();
            if let Some(certs) = crate::tls::ca_bundle()
                .and_then(|pem| reqwest::Certificate::from_pem_bundle(pem).ok())
                .filter(|c| !c.is_empty())
            {
                builder = builder.tls_certs_only(certs);
            }
            builder
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
                .timeout(self.timeout)
                .user_agent(USER_AGENT)
                .build()
                .expect("a rustls client with default settings builds")
        })
    }

    async fn attempt(
        &self,
        credentials: &Credentials,
        budget: Duration,
        stats: &mut ExchangeStats,
    ) -> Attempt {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", credentials.grant.grant_type())];
        match &credentials.grant {
            Grant::RefreshToken(token) => form.push(("refresh_token", token.expose_secret())),
            Grant::ClientCredentials { scope } => form.push(("scope", scope)),
        }
        form.push(("client_id", &credentials.client_id));
        form.push(("client_secret", credentials.client_secret.expose_secret()));

        // The secret values sent: LWA's text is scrubbed of them.
        let mut known = vec![credentials.client_secret.expose_secret()];
        if let Grant::RefreshToken(token) = &credentials.grant {
            known.push(token.expose_secret());
        }
        let requested_at = OffsetDateTime::now_utc();
        let started = Instant::now();
        stats.requests += 1;
        let sent = async {
            let response = self
                .http()
                .post(self.url.clone())
                .header(ACCEPT, "application/json")
                .form(&form)
                .send()
                .await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            // LWA's answers are a few hundred bytes; never buffer more than
            // MAX_BODY of whatever else answers.
            let mut response = response;
            let mut body = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY {
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((status, headers, body, truncated))
        };
        let outcome = tokio::time::timeout(budget, sent).await;
        stats.latency += started.elapsed();
        match outcome {
            Err(_) => Attempt::Retry {
                why: format!("no answer within {} ms", budget.as_millis()),
                retry_after: None,
            },
            Ok(Err(e)) => Attempt::Retry {
                why: redact(&describe_transport_error(&e, budget), &known),
                retry_after: None,
            },
            Ok(Ok((status, headers, _, true))) => Attempt::Retry {
                why: format!(
                    "HTTP {status} with a {} body over {MAX_BODY} bytes",
                    content_type(&headers)
                ),
                retry_after: None,
            },
            Ok(Ok((status, headers, body, false))) => {
                classify(status, &headers, &body, requested_at, &known)
            }
        }
    }
}

impl TokenEndpoint for LwaClient {
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError> {
        let mut last = String::from("the deadline left no time for a request");
        let mut attempts = 0;
        for attempt in 1..=self.max_attempts {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < MIN_ATTEMPT {
                last = format!("{last}; stopped before the Lambda deadline");
                break;
            }
            attempts = attempt;
            match self
                .attempt(credentials, self.timeout.min(remaining), stats)
                .await
            {
                Attempt::Done(result) => return result,
                Attempt::Retry { why, retry_after } => {
                    last = why;
                    if attempt == self.max_attempts {
                        break;
                    }
                    let delay = backoff(attempt).max(retry_after.unwrap_or_default());
                    let left = deadline.saturating_duration_since(Instant::now());
                    if delay + MIN_ATTEMPT > left {
                        last = match retry_after {
                            Some(ra) if ra + MIN_ATTEMPT > left => format!(
                                "{last}; LWA asked to retry after {} s, later than the Lambda deadline allows",
                                ra.as_secs()
                            ),
                            _ => format!("{last}; stopped before the Lambda deadline"),
                        };
                        break;
                    }
                    tracing::warn!(attempt, reason = %last, delay_ms = delay.as_millis() as u64, "LWA token request failed, retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
        Err(LwaError::Unavailable { attempts, last })
    }
}

/// Full jitter: a random delay in `[0, min(cap, base * 2^(attempt-1))]`
/// (AWS Architecture Blog, "Exponential Backoff And Jitter").
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(fastrand::f64())
}

fn describe_transport_error(e: &reqwest::Error, budget: Duration) -> String {
    // reqwest's Display names the URL (no secret: credentials travel in the
    // body); keep the source chain for the operator.
    let kind = if e.is_timeout() {
        format!("no answer within {} ms", budget.as_millis())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the connection failed".to_owned()
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    format!("{kind} ({detail})")
}

/// Reads `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(3600)));
    }
    let when = OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (when - OffsetDateTime::now_utc())
        .whole_seconds()
        .clamp(0, 3600);
    Some(Duration::from_secs(secs as u64))
}

fn content_type(headers: &HeaderMap) -> String {
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
fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    requested_at: OffsetDateTime,
    known: &[&str],
) -> Attempt {
    let clean = |t: &str| short(&redact(t, known));
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
        (clean(error.trim()), description)
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
            retry_after: retry_after(headers),
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
                retry_after: retry_after(headers),
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
    use reqwest::header::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }
    fn run(status: u16, ct: &str, body: &str) -> Attempt {
        classify(
            status,
            &headers(ct),
            body.as_bytes(),
            OffsetDateTime::now_utc(),
            &["S3CRET"],
        )
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
    fn retry_after_seconds_and_date() {
        let mut h = headers("text/plain");
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = OffsetDateTime::now_utc() + time::Duration::seconds(30);
        let date = later
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let d = retry_after(&h).unwrap();
        assert!((28..=30).contains(&d.as_secs()), "{d:?}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
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
                Attempt::Done(Err(LwaError::Rejected { description, .. })) => {
                    let d = description.unwrap_or_default();
                    assert!(
                        d.contains("LWA_TOKEN_URL") || body.contains("not_found"),
                        "{d}"
                    );
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

    #[test]
    fn backoff_is_bounded_full_jitter() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP);
            assert!(d <= BACKOFF_BASE * 2u32.pow(attempt.min(10) - 1));
        }
    }

    #[test]
    fn user_agent_names_product_and_version() {
        assert!(USER_AGENT.starts_with("spapi-lwa-token-service/0."));
        assert!(USER_AGENT.contains("Language=Rust"));
    }
}
