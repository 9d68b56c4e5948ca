//! The reqwest-based token endpoint client: one form POST per attempt, the
//! retry loop, and the deadline rules.
//!
//! Retry policy: 5xx, 429, timeouts, connection errors and non-JSON error
//! bodies are retried up to `max_attempts` with exponential backoff and full
//! jitter ([`super::retry::backoff`]), waiting at least as long as a
//! `Retry-After` header asks, and never past the deadline the caller gives.
//! LWA's own rejections (`invalid_grant`, `invalid_client`, …) are not
//! retried here.

use super::response::{classify, content_type, Attempt};
use super::retry::backoff;
use super::types::{ExchangeStats, LwaError, TokenResponse};
use crate::credentials::{Credentials, Grant};
use crate::ports::{system_clock, SharedClock, TokenEndpoint};
use crate::secret::redact;
use reqwest::header::ACCEPT;
use reqwest::Url;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::time::Instant;

/// `User-Agent` of every token request, in the form the SP-API docs ask for
/// (`AppName/Version (Language=…)`).
pub const USER_AGENT: &str = concat!(
    "spapi-lwa-token-service/",
    env!("CARGO_PKG_VERSION"),
    " (Language=Rust)"
);

/// An attempt with less time than this before the deadline is not started.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(250);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The most of an answer's body that is read.
const MAX_BODY: usize = 64 * 1024;

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
        let requested_at = self.clock.now();
        let started = self.clock.instant();
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
        stats.latency += self.clock.instant().saturating_duration_since(started);
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
            Ok(Ok((status, headers, body, false))) => classify(
                status,
                &headers,
                &body,
                requested_at,
                self.clock.now(),
                &known,
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
        let mut last = String::new();
        let mut attempts = 0;
        for attempt in 1..=self.max_attempts {
            let remaining = deadline.saturating_duration_since(self.clock.instant());
            if remaining < MIN_ATTEMPT {
                if attempt == 1 {
                    return Err(LwaError::NotStarted {
                        reason: "the deadline left no time for a request; stopped before the Lambda deadline"
                            .into(),
                    });
                }
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
                    let left = deadline.saturating_duration_since(self.clock.instant());
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
                    self.clock.sleep(delay).await;
                }
            }
        }
        Err(LwaError::Unavailable { attempts, last })
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
    format!("{kind} ({detail})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_product_and_version() {
        assert!(USER_AGENT.starts_with("spapi-lwa-token-service/0."));
        assert!(USER_AGENT.contains("Language=Rust"));
    }
}
