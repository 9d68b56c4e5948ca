//! What the token endpoint answers: the token, the counters of an exchange,
//! and the error taxonomy (RFC 6749 §5.2 plus the service's own cases).

use crate::secret::{AccessToken, RefreshToken};
use std::time::Duration;
use time::OffsetDateTime;

/// A successful answer of the token endpoint (`Debug` shows no token).
#[derive(Debug)]
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
    /// The code of an `error` value.
    pub fn parse(code: &str) -> Self {
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
    /// Retryable failures until attempts or time ran out (at least one
    /// request was sent).
    #[error(
        "the LWA token endpoint did not give a token after {attempts} attempt(s); last: {last}"
    )]
    Unavailable {
        /// Requests sent (1 or more).
        attempts: u32,
        /// The last failure, e.g. `HTTP 503 with a text/html body (not JSON)`.
        last: String,
    },
    /// No request was sent: the deadline left no time for one. In fleet mode
    /// the profile is deferred to the next run.
    #[error("no token request was sent: {reason}")]
    NotStarted {
        /// Why, e.g. `the deadline left no time for a request`.
        reason: String,
    },
    /// Not sent: LWA answered `invalid_client` for this client ID and
    /// client secret earlier in the same run (fleet mode never sends a
    /// known-bad pair twice).
    #[error("not sent again: LWA answered invalid_client for this client ID and client secret earlier in this run")]
    ClientRejectedEarlier,
    /// HTTP 200 without a usable token.
    #[error("LWA answered HTTP {status} without a usable token: {problem}")]
    Malformed {
        /// HTTP status.
        status: u16,
        /// What is missing or wrong (never a value).
        problem: String,
    },
}

impl LwaError {
    /// `true` when the client ID and client secret were refused
    /// (`invalid_client` now, or earlier in this run): reading the secret
    /// again may help, a rotated client secret being the usual cause.
    pub fn is_invalid_client(&self) -> bool {
        matches!(
            self,
            LwaError::Rejected {
                code: LwaErrorCode::InvalidClient,
                ..
            } | LwaError::ClientRejectedEarlier
        )
    }
}
