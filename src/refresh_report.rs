//! What one refresh of one profile answers: the outcome, the contract's
//! success response (`CONTRACT.md`, token-refresher responses), why a new
//! token was asked for, and the run with its counters for the log line.
//! Never a token or secret: the access token appears only as a fingerprint.

use crate::authorization::Loss;
use crate::error::ServiceError;
use crate::lwa::ExchangeStats;
use crate::profile::Profile;
use crate::token::{rfc3339, StoredToken};
use serde::Serialize;
use time::OffsetDateTime;

/// `refreshed` or `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A new token was requested and stored.
    Refreshed,
    /// The stored token has more than the margin to live.
    Skipped,
}

/// The success response of `token-refresher` (never a token or secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// `refreshed` or `skipped`.
    pub outcome: Outcome,
    /// The parameter name.
    pub parameter: String,
    /// UTC, RFC 3339, whole seconds.
    pub expires_at: String,
    /// Whole seconds the stored token has left.
    pub expires_in: i64,
    /// First 8 hex digits of SHA-256 of the access token.
    pub token_fingerprint: String,
}

/// Why a refresh was needed, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `force: true`.
    Forced,
    /// No parameter yet.
    Missing,
    /// The parameter could not be read or parsed (the text says why).
    Unreadable(String),
    /// The stored token has this many seconds or less to live.
    Due(i64),
    /// The stored token records a lost authorization: checked every run.
    AuthorizationLost,
}

/// What one refresh came to, with its counters (also on failure, for the
/// invocation's log line).
#[derive(Debug)]
pub struct RefreshRun {
    /// The report, or the contract's error.
    pub result: Result<RefreshReport, ServiceError>,
    /// Token requests, LWA and AWS latency.
    pub stats: ExchangeStats,
    /// Why a new token was asked for; `None` when the stored one was fresh
    /// enough.
    pub reason: Option<Reason>,
    /// What the run had to do with a lost authorization.
    pub loss: Loss,
}

/// The success response for `token` as of `now`.
pub(crate) fn report(
    outcome: Outcome,
    profile: &Profile,
    token: &StoredToken,
    now: OffsetDateTime,
) -> RefreshReport {
    RefreshReport {
        outcome,
        parameter: profile.parameter_name.clone(),
        expires_at: rfc3339(token.expires_at),
        expires_in: token.seconds_left(now).max(0),
        token_fingerprint: token.access_token.fingerprint(),
    }
}
