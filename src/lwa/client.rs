//! The reqwest-based token endpoint client: one form POST per attempt, the
//! retry loop, and the deadline rules.
//!
//! Retry policy: 5xx, 429, timeouts, connection errors and non-JSON error
//! bodies are retried up to `max_attempts` with exponential backoff and full
//! jitter ([`crate::https::backoff`]), waiting at least as long as a
//! `Retry-After` header asks, and never past the deadline the caller gives.
//! LWA's own rejections (`invalid_grant`, `invalid_client`, …) are not
//! retried here.

use super::response::{classify, content_type, Attempt};
use super::types::{ExchangeStats, LwaError, TokenResponse};
use crate::credentials::{Credentials, Grant};
use crate::https::{build_client, send, Retries, RetryPolicy, Sent, Stopped, MAX_BODY};
pub use crate::https::{MIN_ATTEMPT, USER_AGENT};
use crate::ports::{system_clock, SharedClock, TokenEndpoint};
use crate::quote_check::scrub;
use reqwest::header::ACCEPT;
use reqwest::Url;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// Why the retries ended early, and what to raise.
const STOPPED_AT_DEADLINE: &str =
    "no time for another attempt before the Lambda deadline (raise the \
     function's timeout, template parameter RefresherTimeoutSeconds, for more attempts)";

/// The reqwest-based client. The HTTP client (TLS roots and all) is built on
/// first use, not at cold start.
pub struct LwaClient {
    pub(super) url: Url,
    pub(super) timeout: Duration,
    max_attempts: u32,
    http: OnceLock<reqwest::Client>,
    pub(super) clock: SharedClock,
}

impl LwaClient {
    /// A client for `url` with a per-attempt `timeout` and up to
    /// `max_attempts` attempts for retryable failures, on the system clock.
    pub fn new(url: Url, timeout: Duration, max_attempts: u32) -> Self {
        Self {
            url,
            timeout,
            max_attempts: max_attempts.max(1),
            http: OnceLock::new(),
            clock: system_clock(),
        }
    }

    /// The same client on `clock` (deadlines, backoff sleeps, `Retry-After`
    /// dates).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| build_client(self.timeout))
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
        let requested_at = self.clock.now();
        // Latency is a log figure, measured in real time (the clock is for
        // decisions; a virtual one does not move while a request travels).
        let started = std::time::Instant::now();
        stats.requests += 1;
        let request = self
            .http()
            .post(self.url.clone())
            .header(ACCEPT, "application/json")
            .form(&form);
        let sent = send(request, budget).await;
        stats.latency += started.elapsed();
        self.settle(sent, budget, requested_at, &known)
    }

    /// One request's outcome as an [`Attempt`]: the answer classified, or a
    /// reason to retry (scrubbed of the `known` values sent).
    pub(super) fn settle(
        &self,
        sent: Sent,
        budget: Duration,
        requested_at: time::OffsetDateTime,
        known: &[&str],
    ) -> Attempt {
        match sent {
            Sent::TimedOut => Attempt::Retry {
                why: format!("no answer within {} ms", budget.as_millis()),
                retry_after: None,
            },
            Sent::Failed(e) => Attempt::Retry {
                why: scrub(&describe_transport_error(&e, budget), known),
                retry_after: None,
            },
            Sent::Answered(a) if a.truncated => Attempt::Retry {
                why: format!(
                    "HTTP {} with a {} body over {MAX_BODY} bytes",
                    a.status,
                    content_type(&a.headers)
                ),
                retry_after: None,
            },
            Sent::Answered(a) => classify(
                a.status,
                &a.headers,
                &a.body,
                requested_at,
                self.clock.now(),
                known,
            ),
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
        let policy = RetryPolicy {
            max_attempts: self.max_attempts,
            timeout: self.timeout,
            peer: "LWA",
            call: "LWA token request",
            stopped_at_deadline: STOPPED_AT_DEADLINE,
        };
        let mut retries = Retries::new(&self.clock, deadline, &policy);
        while let Some(budget) = retries.next_attempt() {
            match self.attempt(credentials, budget, stats).await {
                Attempt::Done(result) => return result,
                Attempt::Retry { why, retry_after } => retries.failed(why, retry_after).await,
            }
        }
        match retries.finish() {
            Stopped::NotStarted => Err(LwaError::NotStarted {
                reason:
                    "the deadline left no time for a request; stopped before the Lambda deadline"
                        .into(),
            }),
            Stopped::GaveUp { attempts, last } => Err(LwaError::Unavailable { attempts, last }),
        }
    }
}

pub(super) fn describe_transport_error(e: &reqwest::Error, budget: Duration) -> String {
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
    // The URL is configuration: its origin says where the request went; its
    // path is left out, so a path that happens to share a piece with a sent
    // value does not get the whole text withheld.
    if let Some(url) = e.url() {
        let origin = url.origin().ascii_serialization();
        detail = detail.replace(url.as_str(), &format!("{origin} (LWA_TOKEN_URL)"));
    }
    format!("{kind} ({detail})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::parse_credentials;
    use crate::ports::Clock;
    use crate::testing::http::{Reply, Server};
    use crate::testing::ManualClock;
    use std::sync::Arc;

    fn credentials() -> Credentials {
        parse_credentials(
            "s",
            r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"amzn1.oa2-cs.v1.SECRET","refresh_token":"Atzr|R"}"#,
        )
        .unwrap()
    }

    const OK: &str = r#"{"access_token":"Atza|A","token_type":"bearer","expires_in":3600}"#;

    /// A client of `server` on a virtual clock, and the deadline `left` away.
    fn client(
        server: &Server,
        attempts: u32,
        left: Duration,
    ) -> (LwaClient, Arc<ManualClock>, Instant) {
        let clock = Arc::new(ManualClock::starting_now());
        let client = LwaClient::new(server.url(), Duration::from_secs(10), attempts)
            .with_clock(clock.clone());
        let deadline = clock.instant() + left;
        (client, clock, deadline)
    }

    async fn ask(
        client: &LwaClient,
        deadline: Instant,
    ) -> (Result<TokenResponse, LwaError>, ExchangeStats) {
        let mut stats = ExchangeStats::default();
        let r = client
            .request_token(&credentials(), deadline, &mut stats)
            .await;
        (r, stats)
    }

    #[test]
    fn user_agent_names_product_and_version() {
        assert!(USER_AGENT.starts_with("spapi-lwa-token-service/0."));
        assert!(USER_AGENT.contains("Language=Rust"));
    }

    #[tokio::test]
    async fn a_server_error_is_retried_after_a_jittered_backoff() {
        let server = Server::start(vec![Reply::status(503, "busy"), Reply::json(200, OK)]);
        let (c, clock, deadline) = client(&server, 3, Duration::from_secs(30));
        let (r, stats) = ask(&c, deadline).await;
        assert_eq!(r.unwrap().access_token.expose_secret(), "Atza|A");
        assert_eq!((stats.requests, server.requests()), (2, 2));
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 1);
        assert!(sleeps[0] <= crate::https::backoff_ceiling(1), "{sleeps:?}");
        // The form carries the grant and the client.
        let body = server.bodies().remove(0);
        assert!(
            body.contains("grant_type=refresh_token") && body.contains("client_id=amzn1"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn retry_after_is_waited_exactly_when_longer_than_the_backoff() {
        let server = Server::start(vec![
            Reply::status(429, "slow down").header("Retry-After", "2"),
            Reply::json(200, OK),
        ]);
        let (c, clock, deadline) = client(&server, 3, Duration::from_secs(30));
        assert!(ask(&c, deadline).await.0.is_ok());
        assert_eq!(clock.sleeps(), [Duration::from_secs(2)]);
    }

    #[tokio::test]
    async fn a_wait_is_taken_only_when_an_attempt_still_fits_after_it() {
        // Retry-After 2 s + the shortest attempt (250 ms) fit exactly in 2.25 s.
        let server = Server::start(vec![
            Reply::status(429, "x").header("Retry-After", "2"),
            Reply::json(200, OK),
        ]);
        let (c, clock, deadline) = client(&server, 3, Duration::from_millis(2250));
        assert!(ask(&c, deadline).await.0.is_ok());
        assert_eq!(clock.sleeps(), [Duration::from_secs(2)]);
        // One millisecond less: no wait, no second request, and the reason.
        let server = Server::start(vec![Reply::status(429, "x").header("Retry-After", "2")]);
        let (c, clock, deadline) = client(&server, 3, Duration::from_millis(2249));
        let (r, stats) = ask(&c, deadline).await;
        match r {
            Err(LwaError::Unavailable { attempts: 1, last }) => assert!(
                last.contains("retry after 2 s, later than the Lambda deadline allows"),
                "{last}"
            ),
            other => panic!("{:?}", other.err()),
        }
        assert_eq!(stats.requests, 1);
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn a_short_retry_after_does_not_take_the_blame_for_the_deadline() {
        // Retry-After: 0 fits; it is the backoff that does not: the reason
        // says the deadline, not LWA's wait.
        let server = Server::start(vec![Reply::status(429, "x").header("Retry-After", "0")]);
        let (c, _, deadline) = client(&server, 3, MIN_ATTEMPT);
        fastrand::seed(7);
        match ask(&c, deadline).await.0 {
            Err(LwaError::Unavailable { attempts: 1, last }) => {
                assert!(last.ends_with(STOPPED_AT_DEADLINE), "{last}");
                assert!(!last.contains("retry after"), "{last}");
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn no_request_starts_with_less_than_the_shortest_attempt_left() {
        let server = Server::start(vec![Reply::json(200, OK)]);
        let (c, _, deadline) = client(&server, 3, MIN_ATTEMPT - Duration::from_millis(1));
        let (r, stats) = ask(&c, deadline).await;
        assert!(
            matches!(r, Err(LwaError::NotStarted { .. })),
            "{:?}",
            r.err()
        );
        assert_eq!((stats.requests, server.requests()), (0, 0));
        // Exactly the shortest attempt left: sent.
        let (c, _, deadline) = client(&server, 3, MIN_ATTEMPT);
        assert!(ask(&c, deadline).await.0.is_ok());
    }

    #[tokio::test]
    async fn attempts_are_counted_and_bounded() {
        let server = Server::start(vec![Reply::status(502, "bad gateway").repeat()]);
        let (c, clock, deadline) = client(&server, 3, Duration::from_secs(60));
        let (r, stats) = ask(&c, deadline).await;
        match r {
            Err(LwaError::Unavailable { attempts, last }) => {
                assert_eq!(attempts, 3);
                assert!(last.contains("HTTP 502"), "{last}");
            }
            other => panic!("{:?}", other.err()),
        }
        assert_eq!((stats.requests, server.requests()), (3, 3));
        assert_eq!(clock.sleeps().len(), 2, "no wait after the last attempt");
        // One attempt allowed: no wait at all.
        let (c, clock, deadline) = client(&server, 1, Duration::from_secs(60));
        ask(&c, deadline).await.0.unwrap_err();
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn an_attempt_gets_no_more_than_the_time_left() {
        // The server never answers; 300 ms are left, the timeout is 10 s.
        let server = Server::start(vec![Reply::hang()]);
        let (c, _, deadline) = client(&server, 1, Duration::from_millis(300));
        match ask(&c, deadline).await.0 {
            Err(LwaError::Unavailable { last, .. }) => {
                assert!(last.contains("no answer within 300 ms"), "{last}")
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_described_without_secrets() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // closed again when the listener drops
        let url = format!("http://127.0.0.1:{port}/auth/o2/token")
            .parse()
            .unwrap();
        let clock = Arc::new(ManualClock::starting_now());
        let c = LwaClient::new(url, Duration::from_secs(5), 1).with_clock(clock.clone());
        match ask(&c, clock.instant() + Duration::from_secs(30)).await.0 {
            Err(LwaError::Unavailable { attempts: 1, last }) => {
                assert!(last.starts_with("could not connect ("), "{last}");
                assert!(last.contains(&format!("127.0.0.1:{port}")), "{last}");
                assert!(
                    !last.contains("SECRET") && !last.contains("Atzr|R"),
                    "{last}"
                );
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn an_oversized_body_is_not_read_whole() {
        let big = "x".repeat(MAX_BODY + 1);
        let server = Server::start(vec![Reply::status(500, &big)]);
        let (c, _, deadline) = client(&server, 1, Duration::from_secs(30));
        match ask(&c, deadline).await.0 {
            Err(LwaError::Unavailable { last, .. }) => {
                assert!(last.contains("over 65536 bytes"), "{last}")
            }
            other => panic!("{:?}", other.err()),
        }
        // Exactly the limit is read.
        let body = format!("{OK}{}", " ".repeat(MAX_BODY - OK.len()));
        let server = Server::start(vec![Reply::json(200, &body)]);
        let (c, _, deadline) = client(&server, 1, Duration::from_secs(30));
        assert!(ask(&c, deadline).await.0.is_ok());
    }

    #[tokio::test]
    async fn a_form_post_with_our_user_agent_that_never_follows_a_redirect() {
        let server = Server::start(vec![
            Reply::status(302, "").header("Location", "http://127.0.0.1:1/elsewhere?x=1")
        ]);
        let (c, _, deadline) = client(&server, 1, Duration::from_secs(30));
        match ask(&c, deadline).await.0 {
            Err(LwaError::Unavailable { last, .. }) => assert!(
                last.contains("a redirect to http://127.0.0.1:1/elsewhere, which is not followed"),
                "{last}"
            ),
            other => panic!("{:?}", other.err()),
        }
        let head = server.heads().remove(0);
        assert!(head.starts_with("POST /auth/o2/token "), "{head}");
        assert!(
            head.contains(&format!("user-agent: {USER_AGENT}")),
            "{head}"
        );
        assert!(head.contains("accept: application/json"), "{head}");
        assert!(
            head.contains("content-type: application/x-www-form-urlencoded"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn the_request_time_is_the_clock_s_and_latency_adds_up() {
        let server = Server::start(vec![Reply::status(500, ""), Reply::json(200, OK)]);
        let (c, clock, deadline) = client(&server, 2, Duration::from_secs(30));
        let (t, stats) = ask(&c, deadline).await;
        assert_eq!(t.unwrap().requested_at, clock.now());
        assert!(stats.latency > Duration::ZERO);
        let mut more = stats;
        c.request_token(&credentials(), deadline, &mut more)
            .await
            .unwrap_err();
        assert!(more.latency > stats.latency, "added, not replaced");
        assert_eq!(more.requests, 4, "2 + 2 attempts");
    }
}
