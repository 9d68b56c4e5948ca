//! The `authorization_lost` marker: what the refresher records in the stored
//! token's JSON, next to the token fields, when a seller's authorization is
//! gone (`CONTRACT.md`, "Authorization lost and restored").
//!
//! Shape (all times UTC, RFC 3339, whole seconds):
//!
//! ```json
//! "authorization_lost": {"error_type":"LwaInvalidGrant","since":"2026-12-01T10:00:00Z",
//!   "last_attempt_at":"2026-12-01T10:00:00Z","refresh_token_fingerprint":"3f2a9c1d","notified":true}
//! ```
//!
//! Only LWA's `invalid_grant` and `unauthorized_client` mean the seller's
//! authorization is gone (Amazon SP-API docs, "Authorization errors"); an
//! `invalid_client` is the app's client secret, for every seller at once,
//! and is not recorded here.

use crate::error::{ErrorType, ServiceError};
use crate::token::rfc3339;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// While the secret holds the refused refresh token, one token request per
/// this long at most.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(3600);

/// The LWA answers that mean the seller's authorization is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LostReason {
    /// `invalid_grant`: the seller revoked the app, or never granted it.
    LwaInvalidGrant,
    /// `unauthorized_client`: LWA refuses this client for the seller's grant.
    LwaUnauthorizedClient,
}

impl LostReason {
    /// The reason for a refresh failure, when it is one of the two.
    pub fn of(error: &ServiceError) -> Option<Self> {
        match error.error_type() {
            ErrorType::LwaInvalidGrant => Some(Self::LwaInvalidGrant),
            ErrorType::LwaUnauthorizedClient => Some(Self::LwaUnauthorizedClient),
            _ => None,
        }
    }

    /// The contract's errorType.
    pub fn error_type(self) -> ErrorType {
        match self {
            Self::LwaInvalidGrant => ErrorType::LwaInvalidGrant,
            Self::LwaUnauthorizedClient => ErrorType::LwaUnauthorizedClient,
        }
    }
}

/// The marker. Never holds a secret: the refresh token appears only as its
/// fingerprint (first 8 hex digits of its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationLost {
    /// Why: `LwaInvalidGrant` or `LwaUnauthorizedClient`.
    pub error_type: LostReason,
    /// When the loss was first seen.
    #[serde(with = "utc")]
    pub since: OffsetDateTime,
    /// When a token request was last refused.
    #[serde(with = "utc")]
    pub last_attempt_at: OffsetDateTime,
    /// Fingerprint of the refresh token LWA refused.
    pub refresh_token_fingerprint: String,
    /// `true` once the `Seller Authorization Lost` event was published.
    pub notified: bool,
}

impl AuthorizationLost {
    /// A loss first seen `at`, of the refresh token with `fingerprint`; not
    /// yet published.
    pub fn new(error_type: LostReason, at: OffsetDateTime, fingerprint: String) -> Self {
        let at = whole(at);
        Self {
            error_type,
            since: at,
            last_attempt_at: at,
            refresh_token_fingerprint: fingerprint,
            notified: false,
        }
    }

    /// The earliest time the same refresh token may be sent again.
    pub fn next_attempt_at(&self) -> OffsetDateTime {
        self.last_attempt_at + RETRY_INTERVAL
    }

    /// Whether a token request may be sent `now` with a refresh token of
    /// `fingerprint`: at once for another refresh token (the seller
    /// re-authorized), else once [`RETRY_INTERVAL`] has passed since the
    /// last refused one.
    pub fn may_try(&self, fingerprint: &str, now: OffsetDateTime) -> bool {
        fingerprint != self.refresh_token_fingerprint || now >= self.next_attempt_at()
    }

    /// The same loss, refused again `at` with the refresh token of
    /// `fingerprint` (the `since` and `notified` of the loss kept).
    pub fn refused_again(
        &self,
        error_type: LostReason,
        at: OffsetDateTime,
        fingerprint: String,
    ) -> Self {
        Self {
            error_type,
            since: self.since,
            last_attempt_at: whole(at),
            refresh_token_fingerprint: fingerprint,
            notified: self.notified,
        }
    }

    /// Whole seconds from `since` to `now` (0 if the clock went back).
    pub fn outage_seconds(&self, now: OffsetDateTime) -> i64 {
        (now - self.since).whole_seconds().max(0)
    }

    /// One sentence for messages: since when, why, and when the next token
    /// request is made.
    pub fn describe(&self) -> String {
        format!(
            "the seller's authorization is lost since {} ({}; last refused at {}, refresh token fingerprint {}); \
             while the secret holds that refresh token, one token request is made per hour at most: the next at or \
             after {}, or on the next run once the secret holds a new refresh token",
            rfc3339(self.since),
            self.error_type.error_type(),
            rfc3339(self.last_attempt_at),
            self.refresh_token_fingerprint,
            rfc3339(self.next_attempt_at()),
        )
    }
}

fn whole(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 ns is valid")
}

/// RFC 3339 UTC whole seconds in and out.
mod utc {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .ok()
            .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
            .filter(|t| (2000..=9000).contains(&t.year()))
            .ok_or_else(|| {
                serde::de::Error::custom("a time is not RFC 3339 between the years 2000 and 9000")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);

    #[test]
    fn shape_is_the_contract_s() {
        let mut m = AuthorizationLost::new(LostReason::LwaInvalidGrant, T0, "3f2a9c1d".into());
        m.notified = true;
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"error_type":"LwaInvalidGrant","since":"2026-12-01T10:00:00Z","last_attempt_at":"2026-12-01T10:00:00Z","refresh_token_fingerprint":"3f2a9c1d","notified":true}"#
        );
        let back: AuthorizationLost =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<AuthorizationLost>(
            r#"{"error_type":"LwaInvalidClient","since":"2026-12-01T10:00:00Z","last_attempt_at":"2026-12-01T10:00:00Z","refresh_token_fingerprint":"x","notified":true}"#
        )
        .is_err(), "invalid_client is not a seller's loss");
    }

    #[test]
    fn the_same_refresh_token_waits_an_hour_another_goes_at_once() {
        let m = AuthorizationLost::new(LostReason::LwaInvalidGrant, T0, "aaaa".into());
        assert!(!m.may_try("aaaa", T0 + Duration::from_secs(3599)));
        assert!(m.may_try("aaaa", T0 + Duration::from_secs(3600)));
        assert!(m.may_try("bbbb", T0 + Duration::from_secs(1)));
        let again = m.refused_again(
            LostReason::LwaUnauthorizedClient,
            T0 + Duration::from_secs(60),
            "bbbb".into(),
        );
        assert_eq!((again.since, again.notified), (T0, false));
        assert_eq!(again.next_attempt_at(), T0 + Duration::from_secs(3660));
        assert_eq!(again.outage_seconds(T0 + Duration::from_secs(90)), 90);
        assert_eq!(again.outage_seconds(T0 - Duration::from_secs(90)), 0);
        let d = again.describe();
        assert!(
            d.contains("since 2026-12-01T10:00:00Z") && d.contains("after 2026-12-01T11:01:00Z"),
            "{d}"
        );
    }
}
