//! The `authorization_code` grant (seller onboarding): one form POST with
//! `grant_type=authorization_code`, `code`, `redirect_uri`, `client_id`,
//! `client_secret` ("Website authorization workflow", step 5), answered and
//! classified exactly as a refresh ([`super::response::classify`]: the same
//! error taxonomy, scrubbing and size limits), on this client's URL,
//! timeout, HTTP client (no redirects) and clock.
//!
//! Sent once, never retried: a code is single use, so after a timeout a
//! second try could only fail (`invalid_grant`) while the first may have
//! succeeded. A retryable failure is `Unavailable` with one attempt.

use super::client::{LwaClient, MIN_ATTEMPT};
use super::response::Attempt;
use super::types::LwaError;
use crate::https::send;
use crate::onboarding::secrets::AuthCode;
use crate::ports::code_exchange::CodeGrant;
use crate::secret::ClientSecret;
use reqwest::header::ACCEPT;
use tokio::time::Instant;

impl LwaClient {
    /// Exchanges `code` for a refresh token and a first access token,
    /// finishing before `deadline`. `redirect_uri` must be the one the
    /// consent page was given, exactly.
    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &ClientSecret,
        code: &AuthCode,
        redirect_uri: &str,
        deadline: Instant,
    ) -> Result<CodeGrant, LwaError> {
        let remaining = deadline.saturating_duration_since(self.clock.instant());
        if remaining < MIN_ATTEMPT {
            return Err(LwaError::NotStarted {
                reason: "the deadline left no time for the code exchange".into(),
            });
        }
        let budget = self.timeout.min(remaining);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.expose_secret()),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("client_secret", client_secret.expose_secret()),
        ];
        let known = [code.expose_secret(), client_secret.expose_secret()];
        let requested_at = self.clock.now();
        let request = self
            .http()
            .post(self.url.clone())
            .header(ACCEPT, "application/json")
            .form(&form);
        let attempt = self.settle(send(request, budget).await, budget, requested_at, &known);
        settle(attempt)
    }
}

/// One attempt's outcome as the exchange's result: a grant needs a refresh
/// token; a retryable failure is final here.
fn settle(attempt: Attempt) -> Result<CodeGrant, LwaError> {
    match attempt {
        Attempt::Done(Ok(t)) => {
            let refresh_token = t.refresh_token.ok_or_else(|| LwaError::Malformed {
                status: 200,
                problem: "refresh_token is missing (an authorization_code grant must return one)"
                    .into(),
            })?;
            Ok(CodeGrant {
                refresh_token,
                access_token: t.access_token,
                token_type: t.token_type,
                expires_in: t.expires_in,
                requested_at: t.requested_at,
            })
        }
        Attempt::Done(Err(e)) => Err(e),
        Attempt::Retry { why, .. } => Err(LwaError::Unavailable {
            attempts: 1,
            last: why,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lwa::response::classify;
    use crate::lwa::LwaErrorCode;
    use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
    use time::OffsetDateTime;

    fn run(status: u16, body: &str) -> Result<CodeGrant, LwaError> {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let t = OffsetDateTime::UNIX_EPOCH;
        settle(classify(
            status,
            &h,
            body.as_bytes(),
            t,
            t,
            &["CODE123", "S3CRET"],
        ))
    }

    #[test]
    fn grant_and_the_error_taxonomy() {
        let g = run(200, r#"{"access_token":"Atza|A","refresh_token":"Atzr|R","token_type":"bearer","expires_in":3600}"#).unwrap();
        assert_eq!(g.refresh_token.expose_secret(), "Atzr|R");
        assert_eq!(g.access_token.expose_secret(), "Atza|A");
        assert_eq!(g.expires_in, 3600);
        match run(
            400,
            r#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : code CODE123"}"#,
        ) {
            Err(LwaError::Rejected {
                code,
                description,
                status,
                ..
            }) => {
                assert_eq!(code, LwaErrorCode::InvalidGrant);
                assert_eq!(status, 400);
                assert!(!description.unwrap().contains("CODE123"));
            }
            _ => panic!("expected a rejection"),
        }
        assert!(matches!(
            run(
                401,
                r#"{"error":"invalid_client","error_description":"S3CRET"}"#
            ),
            Err(LwaError::Rejected {
                code: LwaErrorCode::InvalidClient,
                ..
            })
        ));
        for (s, b) in [
            (500, "oops"),
            (429, r#"{"error":"slow_down"}"#),
            (400, "<html>"),
        ] {
            match run(s, b) {
                Err(LwaError::Unavailable { attempts: 1, .. }) => {}
                other => panic!("{s} {b}: {:?}", other.err()),
            }
        }
        for b in [
            r#"{"access_token":"Atza|A","expires_in":3600}"#,
            r#"{"refresh_token":"Atzr|R","expires_in":3600}"#,
            r#"{"access_token":"Atza|A","refresh_token":"Atzr|R"}"#,
            "[]",
        ] {
            assert!(
                matches!(run(200, b), Err(LwaError::Malformed { .. })),
                "{b}"
            );
        }
    }
}
