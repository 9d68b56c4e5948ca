//! [`ApplicationManagement`] over HTTPS (reqwest, the crate's one rustls
//! stack): `POST {SPAPI_ENDPOINT}/applications/2023-11-30/clientSecret`,
//! header `x-amz-access-token`, no body; `204` is success
//! (<https://developer-docs.amazon.com/sp-api/docs/application-management-api-v2023-11-30-reference>).
//!
//! SP-API error bodies are `{"errors":[{"code","message","details"}]}`.
//! `400 InvalidInput` "not enrolled for rotation notification" is
//! [`RotateCallError::NotEnrolled`]; 429, 5xx, timeouts and connection
//! errors are retried like LWA's (attempts, backoff with full jitter,
//! `Retry-After`, never past the deadline); other statuses are not. A call
//! sent and not answered in time is not repeated either: it may have gone
//! through, and a second rotation would replace the secret just issued
//! (Amazon allows one rotate call per minute).

use crate::https::{build_client, retry_after, send, Retries, RetryPolicy, Sent, Stopped};
use crate::ports::application_management::{ApplicationManagement, RotateCallError};
use crate::ports::{system_clock, SharedClock};
use crate::secret::{redact, AccessToken};
use reqwest::Url;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// The operation's path under the SP-API endpoint.
pub const ROTATE_PATH: &str = "applications/2023-11-30/clientSecret";
/// Why the retries ended early, and what to raise.
const STOPPED_AT_DEADLINE: &str = "no time for another attempt before the Lambda deadline \
     (raise the client-secret-rotator function's Timeout in template.yaml, 60 s by default, for more attempts)";

/// The SP-API client.
pub struct SpApiApplicationManagement {
    url: Url,
    timeout: Duration,
    max_attempts: u32,
    http: OnceLock<reqwest::Client>,
    clock: SharedClock,
}

type Attempt = crate::https::Attempt<Result<(), RotateCallError>>;

impl SpApiApplicationManagement {
    /// A client for `endpoint` (e.g. `https://sellingpartnerapi-na.amazon.com`;
    /// a path prefix is kept), per-attempt `timeout`, `max_attempts`.
    pub fn new(endpoint: &Url, timeout: Duration, max_attempts: u32) -> Self {
        let base = endpoint.as_str().trim_end_matches('/');
        let url =
            Url::parse(&format!("{base}/{ROTATE_PATH}")).expect("a valid base URL stays valid");
        Self {
            url,
            timeout,
            max_attempts: max_attempts.max(1),
            http: OnceLock::new(),
            clock: system_clock(),
        }
    }

    /// The same client on `clock` (deadlines and backoff sleeps).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| build_client(self.timeout))
    }

    async fn attempt(&self, token: &AccessToken, budget: Duration) -> Attempt {
        let known = [token.expose_secret()];
        let request = self
            .http()
            .post(self.url.clone())
            .header("x-amz-access-token", token.expose_secret())
            .header("accept", "application/json")
            .header("content-length", "0");
        match send(request, budget).await {
            // Sent, unanswered: it may have gone through, and a second
            // rotation would replace the secret just issued. Not repeated.
            Sent::TimedOut => Attempt::Done(Err(RotateCallError::NoAnswer {
                attempts: 0,
                detail: format!("no answer within {} ms", budget.as_millis()),
            })),
            // Nothing was sent: safe to try again.
            Sent::Failed(e) if e.is_connect() => Attempt::Retry {
                why: redact(&format!("could not connect ({e})"), &known),
                retry_after: None,
            },
            // Sent, and the answer timed out or broke off: as above.
            Sent::Failed(e) => Attempt::Done(Err(RotateCallError::NoAnswer {
                attempts: 0,
                detail: redact(&format!("the connection failed ({e})"), &known),
            })),
            Sent::Answered(a) => classify(
                a.status,
                retry_after(&a.headers, self.clock.now()),
                &a.body,
                &known,
            ),
        }
    }
}

/// `errors[0].code` and `errors[0].message`, scrubbed and shortened.
fn sp_error(body: &[u8], known: &[&str]) -> (String, String) {
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let first = v
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.get(0));
    let text = |key: &str| {
        first
            .and_then(|f| f.get(key))
            .and_then(|c| c.as_str())
            .map(|s| redact(s, known).chars().take(300).collect::<String>())
    };
    let code = text("code").unwrap_or_else(|| "unknown".to_owned());
    let message = text("message").unwrap_or_else(|| {
        if v.is_some() {
            "a JSON body without errors[0].message".to_owned()
        } else {
            format!("a {}-byte body that is not JSON", body.len())
        }
    });
    (code, message)
}

fn classify(status: u16, retry_after: Option<Duration>, body: &[u8], known: &[&str]) -> Attempt {
    if status == 204 || status == 200 {
        return Attempt::Done(Ok(()));
    }
    let (code, message) = sp_error(body, known);
    if status == 429 || status >= 500 {
        return Attempt::Retry {
            why: format!("HTTP {status} {code}: {message}"),
            retry_after,
        };
    }
    if status == 400
        && code == "InvalidInput"
        && message.to_ascii_lowercase().contains("not enrolled")
    {
        return Attempt::Done(Err(RotateCallError::NotEnrolled { message }));
    }
    Attempt::Done(Err(RotateCallError::Rejected {
        status,
        code,
        message,
    }))
}

impl ApplicationManagement for SpApiApplicationManagement {
    async fn rotate_client_secret(
        &self,
        token: &AccessToken,
        deadline: Instant,
    ) -> Result<(), RotateCallError> {
        let policy = RetryPolicy {
            max_attempts: self.max_attempts,
            timeout: self.timeout,
            peer: "SP-API",
            call: "SP-API rotate call",
            stopped_at_deadline: STOPPED_AT_DEADLINE,
        };
        let mut retries = Retries::new(&self.clock, deadline, &policy);
        while let Some(budget) = retries.next_attempt() {
            match self.attempt(token, budget).await {
                Attempt::Done(Err(RotateCallError::NoAnswer { detail, .. })) => {
                    let attempts = retries.attempts();
                    return Err(RotateCallError::NoAnswer { attempts, detail });
                }
                Attempt::Done(result) => return result,
                Attempt::Retry { why, retry_after } => retries.failed(why, retry_after).await,
            }
        }
        match retries.finish() {
            Stopped::NotStarted => Err(RotateCallError::Unavailable {
                attempts: 0,
                last: "the deadline left no time for a request".to_owned(),
            }),
            Stopped::GaveUp { attempts, last } => {
                Err(RotateCallError::Unavailable { attempts, last })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock;
    use crate::testing::http::{Reply, Server};
    use crate::testing::ManualClock;
    use std::sync::Arc;

    fn done(status: u16, body: &str) -> Result<(), RotateCallError> {
        match classify(status, None, body.as_bytes(), &["Atza|SECRET"]) {
            Attempt::Done(r) => r,
            Attempt::Retry { why, .. } => panic!("retry: {why}"),
        }
    }

    #[test]
    fn answers() {
        assert_eq!(done(204, ""), Ok(()));
        let not_enrolled = r#"{"errors":[{"code":"InvalidInput","message":"Application is not enrolled for rotation notification","details":""}]}"#;
        assert!(matches!(
            done(400, not_enrolled),
            Err(RotateCallError::NotEnrolled { .. })
        ));
        let e = done(
            403,
            r#"{"errors":[{"code":"Unauthorized","message":"Access denied for Atza|SECRET"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SP-API answered HTTP 403 Unauthorized: Access denied for [redacted]"
        );
        let e = done(
            400,
            r#"{"errors":[{"code":"InvalidInput","message":"something else"}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, RotateCallError::Rejected { status: 400, .. }));
        let e = done(404, "<html>").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        for status in [429, 500, 503] {
            assert!(matches!(
                classify(status, None, b"", &[]),
                Attempt::Retry { .. }
            ));
        }
    }

    fn on_virtual_time(
        server: &Server,
        timeout: Duration,
    ) -> (SpApiApplicationManagement, Instant) {
        let clock = Arc::new(ManualClock::starting_now());
        let client =
            SpApiApplicationManagement::new(&server.url(), timeout, 3).with_clock(clock.clone());
        (client, clock.instant() + Duration::from_secs(30))
    }

    #[tokio::test]
    async fn a_server_error_is_retried_until_the_call_is_accepted() {
        let server = Server::start(vec![
            Reply::json(
                503,
                r#"{"errors":[{"code":"ServiceUnavailable","message":"busy"}]}"#,
            ),
            Reply::status(204, ""),
        ]);
        let (c, deadline) = on_virtual_time(&server, Duration::from_secs(5));
        let token = AccessToken::new("Atza|GRANTLESS");
        assert_eq!(c.rotate_client_secret(&token, deadline).await, Ok(()));
        assert_eq!(server.requests(), 2);
    }

    #[tokio::test]
    async fn a_call_sent_and_not_answered_is_not_repeated() {
        // It may have gone through: a second call would rotate again.
        let server = Server::start(vec![Reply::hang(), Reply::status(204, "")]);
        let (c, deadline) = on_virtual_time(&server, Duration::from_millis(300));
        let token = AccessToken::new("Atza|GRANTLESS");
        match c.rotate_client_secret(&token, deadline).await {
            Err(e @ RotateCallError::NoAnswer { attempts: 1, .. }) => {
                assert!(
                    e.to_string()
                        .contains("It was not repeated, because it may have gone through"),
                    "{e}"
                );
            }
            other => panic!("expected NoAnswer after 1 attempt, got {other:?}"),
        }
        assert_eq!(server.requests(), 1);
    }

    #[test]
    fn url_keeps_a_path_prefix() {
        let c = SpApiApplicationManagement::new(
            &Url::parse("http://127.0.0.1:9/ns/x/").unwrap(),
            Duration::from_secs(1),
            1,
        );
        assert_eq!(
            c.url.as_str(),
            "http://127.0.0.1:9/ns/x/applications/2023-11-30/clientSecret"
        );
    }
}
