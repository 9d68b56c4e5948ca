//! The stored token: what the refresher writes to the SSM parameter and the
//! reader serves.
//!
//! Shape (the parameter's SecureString value, JSON object, all times UTC,
//! RFC 3339, whole seconds):
//!
//! ```json
//! {"access_token":"Atza|…","token_type":"bearer","expires_at":"2026-11-30T12:32:48Z","issued_at":"2026-11-30T11:32:48Z"}
//! ```
//!
//! `issued_at` is when the token request was sent; `expires_at` is that plus
//! LWA's `expires_in`.
//!
//! While a seller's authorization is lost, the refresher adds an
//! `authorization_lost` object ([`AuthorizationLost`]) next to these fields;
//! with no token stored yet the object is stored alone, which readers treat
//! as no token ([`StoredToken::has_token`]).

use crate::authorization::AuthorizationLost;
use crate::secret::AccessToken;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An access token with its lifetime, as stored in the parameter.
#[derive(Clone, PartialEq)]
pub struct StoredToken {
    /// The LWA access token.
    pub access_token: AccessToken,
    /// Always `bearer` today.
    pub token_type: String,
    /// When the token stops working (UTC, whole seconds).
    pub expires_at: OffsetDateTime,
    /// When the token request was sent (UTC, whole seconds).
    pub issued_at: OffsetDateTime,
    /// Set while the seller's authorization is lost.
    pub authorization_lost: Option<AuthorizationLost>,
}

impl fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredToken")
            .field("token_fingerprint", &self.access_token.fingerprint())
            .field("expires_at", &rfc3339(self.expires_at))
            .field("authorization_lost", &self.authorization_lost)
            .finish()
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    access_token: &'a str,
    token_type: &'a str,
    expires_at: &'a str,
    issued_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorization_lost: Option<&'a AuthorizationLost>,
}

/// The marker stored alone (no token yet).
#[derive(Serialize)]
struct MarkerOnly<'a> {
    authorization_lost: &'a AuthorizationLost,
}

/// Owned on the way in: a JSON string with escapes (`\/`, `\"`) cannot be
/// borrowed.
#[derive(Deserialize)]
struct WireIn {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_at: Option<String>,
    issued_at: Option<String>,
    #[serde(default)]
    authorization_lost: Option<AuthorizationLost>,
}

/// The longest lifetime a stored token may claim. LWA tokens live 3600 s;
/// anything beyond a day is corrupt, not a reason to stop refreshing.
pub const MAX_LIFETIME_SECONDS: i64 = 86_400;

impl StoredToken {
    /// Builds a token issued at `issued_at` (truncated to whole seconds) that
    /// lives `expires_in_seconds`.
    pub fn new(
        access_token: AccessToken,
        token_type: &str,
        issued_at: OffsetDateTime,
        expires_in_seconds: u64,
    ) -> Self {
        let issued_at = whole_seconds(issued_at);
        Self {
            access_token,
            token_type: token_type.to_owned(),
            expires_at: issued_at
                .checked_add(time::Duration::seconds(
                    expires_in_seconds.min(MAX_LIFETIME_SECONDS as u64) as i64,
                ))
                .unwrap_or(issued_at),
            issued_at,
            authorization_lost: None,
        }
    }

    /// The marker stored alone: no token. It never counts as usable (it
    /// expired at the Unix epoch) and [`StoredToken::has_token`] is `false`.
    pub fn marker_only(marker: AuthorizationLost) -> Self {
        Self {
            access_token: AccessToken::new(""),
            token_type: String::new(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
            issued_at: OffsetDateTime::UNIX_EPOCH,
            authorization_lost: Some(marker),
        }
    }

    /// `false` for a marker stored alone ([`StoredToken::marker_only`]).
    pub fn has_token(&self) -> bool {
        !self.access_token.is_empty()
    }

    /// The same token with `marker` set (or removed with `None`).
    pub fn with_marker(mut self, marker: Option<AuthorizationLost>) -> Self {
        self.authorization_lost = marker;
        self
    }

    /// Whole seconds left at `now`; negative once expired.
    pub fn seconds_left(&self, now: OffsetDateTime) -> i64 {
        (self.expires_at - now).whole_seconds()
    }

    /// The parameter value (contains the access token: only the SSM write
    /// may call this).
    pub fn to_parameter_value(&self) -> String {
        if let (false, Some(marker)) = (self.has_token(), &self.authorization_lost) {
            return serde_json::to_string(&MarkerOnly {
                authorization_lost: marker,
            })
            .expect("plain values serialize");
        }
        serde_json::to_string(&Wire {
            access_token: self.access_token.expose_secret(),
            token_type: &self.token_type,
            expires_at: &rfc3339(self.expires_at),
            issued_at: &rfc3339(self.issued_at),
            authorization_lost: self.authorization_lost.as_ref(),
        })
        .expect("plain strings serialize")
    }

    /// Parses a parameter value. The error says what is wrong without
    /// quoting the value.
    pub fn from_parameter_value(value: &str) -> Result<Self, String> {
        let wire: WireIn = serde_json::from_str(value).map_err(|e| {
            format!(
                "the value is not the token JSON object (access_token, token_type, expires_at, issued_at): {} at line {} column {}",
                match e.classify() {
                    serde_json::error::Category::Data => "a field is missing or has the wrong type",
                    serde_json::error::Category::Eof => "it ends early",
                    _ => "it is not JSON",
                },
                e.line(),
                e.column()
            )
        })?;
        let marker = wire.authorization_lost;
        let (access_token, token_type, expires_at, issued_at) = match (
            wire.access_token,
            wire.token_type,
            wire.expires_at,
            wire.issued_at,
        ) {
            (Some(a), Some(t), Some(e), Some(i)) => (a, t, e, i),
            (None, None, None, None) if marker.is_some() => {
                return Ok(Self::marker_only(marker.expect("checked")))
            }
            (a, t, e, i) => {
                let missing: Vec<&str> = [
                    a.is_none().then_some("access_token"),
                    t.is_none().then_some("token_type"),
                    e.is_none().then_some("expires_at"),
                    i.is_none().then_some("issued_at"),
                ]
                .into_iter()
                .flatten()
                .collect();
                return Err(format!(
                        "the value is not the token JSON object (access_token, token_type, expires_at, issued_at): \
                         `{}` missing",
                        missing.join("`, `")
                    ));
            }
        };
        if access_token.is_empty() {
            return Err("access_token is empty".into());
        }
        if !access_token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("access_token contains spaces or control characters".into());
        }
        let time = |field: &str, v: &str| {
            OffsetDateTime::parse(v, &Rfc3339)
                .ok()
                .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
                .filter(|t| (2000..=9000).contains(&t.year()))
                .ok_or_else(|| {
                    // Named, never quoted: a misplaced token would be echoed.
                    format!(
                        "{field} is not an RFC 3339 time between the years 2000 and 9000 such as 2026-11-30T12:32:48Z"
                    )
                })
        };
        let expires_at = time("expires_at", &expires_at)?;
        let issued_at = time("issued_at", &issued_at)?;
        let lifetime = (expires_at - issued_at).whole_seconds();
        if !(0..=MAX_LIFETIME_SECONDS).contains(&lifetime) {
            return Err(format!(
                "expires_at is {lifetime} s after issued_at; a token lives at most {MAX_LIFETIME_SECONDS} s"
            ));
        }
        Ok(Self {
            access_token: AccessToken::new(access_token),
            token_type,
            expires_at,
            issued_at,
            authorization_lost: marker,
        })
    }
}

/// `2026-11-30T12:32:48Z`: UTC, whole seconds.
/// Never panics: a time that cannot be shown in UTC is shown as
/// `out-of-range` (stored values are checked on the way in, so this is a
/// last line of defence).
pub fn rfc3339(t: OffsetDateTime) -> String {
    whole_seconds(t)
        .checked_to_offset(time::UtcOffset::UTC)
        .and_then(|u| u.format(&Rfc3339).ok())
        .unwrap_or_else(|| "out-of-range".to_owned())
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).expect("0 ns is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trip_and_shape() {
        let t = StoredToken::new(
            AccessToken::new("Atza|T"),
            "bearer",
            datetime!(2026-11-30 11:32:48.900 UTC),
            3600,
        );
        let v = t.to_parameter_value();
        assert_eq!(
            v,
            r#"{"access_token":"Atza|T","token_type":"bearer","expires_at":"2026-11-30T12:32:48Z","issued_at":"2026-11-30T11:32:48Z"}"#
        );
        assert_eq!(StoredToken::from_parameter_value(&v).unwrap(), t);
        assert_eq!(t.seconds_left(datetime!(2026-11-30 12:00:00 UTC)), 1968);
    }

    #[test]
    fn malformed_values_are_described_without_the_value() {
        for bad in [
            "Atza|MARKER",
            r#"{"access_token":"Atza|MARKER"}"#,
            r#"{"access_token":"Atza|MARKER","token_type":"bearer","expires_at":"soon","issued_at":"2026-11-30T11:32:48Z"}"#,
            r#"{"access_token":"","token_type":"bearer","expires_at":"2026-11-30T12:32:48Z","issued_at":"2026-11-30T11:32:48Z"}"#,
            r#"{"access_token":"Atza|MARKER","token_type":"bearer","expires_at":"9999-12-31T23:59:59-01:00","issued_at":"2026-11-30T11:32:48Z"}"#,
            r#"{"access_token":"Atza|MARKER","token_type":"bearer","expires_at":"0000-01-01T00:00:00+01:00","issued_at":"0000-01-01T00:00:00+01:00"}"#,
            r#"{"access_token":"Atza|MARKER","token_type":"bearer","expires_at":"3026-11-30T12:32:48Z","issued_at":"2026-11-30T11:32:48Z"}"#,
            r#"{"access_token":"Atza|MA
RKER","token_type":"bearer","expires_at":"2026-11-30T12:32:48Z","issued_at":"2026-11-30T11:32:48Z"}"#,
            // A token where a time belongs: named, never echoed.
            r#"{"access_token":"Atza|MARKER","token_type":"bearer","expires_at":"Atza|MARKER","issued_at":"2026-11-30T11:32:48Z"}"#,
            r#"{"access_token":"Atza|MARKER","token_type":"bearer","expires_at":"2026-11-30T12:32:48Z","issued_at":"Atza|MARKER"}"#,
        ] {
            let e = StoredToken::from_parameter_value(bad).unwrap_err();
            assert!(!e.contains("MARKER"), "{e}");
        }
    }

    #[test]
    fn escapes_offsets_and_extremes() {
        let v = r#"{"access_token":"Atza|x\/y","token_type":"bearer","expires_at":"2026-11-30T13:32:48+01:00","issued_at":"2026-11-30T11:32:48Z"}"#;
        let t = StoredToken::from_parameter_value(v).unwrap();
        assert_eq!(t.access_token.expose_secret(), "Atza|x/y");
        assert_eq!(rfc3339(t.expires_at), "2026-11-30T12:32:48Z");
        // Quotes and backslashes survive the round trip.
        let t = StoredToken::new(
            AccessToken::new("Atza|a\"b\\c"),
            "bearer",
            datetime!(2026-11-30 11:32:48 UTC),
            3600,
        );
        assert_eq!(
            StoredToken::from_parameter_value(&t.to_parameter_value()),
            Ok(t)
        );
        let t = StoredToken::new(
            AccessToken::new("Atza|a\"b"),
            "bearer",
            OffsetDateTime::now_utc(),
            u64::MAX,
        );
        assert_eq!(
            (t.expires_at - t.issued_at).whole_seconds(),
            MAX_LIFETIME_SECONDS
        );
        assert_eq!(
            rfc3339(datetime!(9999-12-31 23:59:59 -01:00)),
            "out-of-range"
        );
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        let t = StoredToken::new(
            AccessToken::new("Atza|MARKER"),
            "bearer",
            datetime!(2026-12-01 10:00:00 UTC),
            60,
        );
        let fingerprint = crate::secret::fingerprint("Atza|MARKER");
        assert_eq!(
            format!("{t:?}"),
            format!(
                "StoredToken {{ token_fingerprint: {fingerprint:?}, expires_at: \"2026-12-01T10:01:00Z\", authorization_lost: None }}"
            )
        );
    }

    #[test]
    fn the_marker_rides_along_or_alone() {
        use crate::authorization::{AuthorizationLost, LostReason};
        let marker = AuthorizationLost::new(
            LostReason::LwaInvalidGrant,
            datetime!(2026-12-01 10:00:00 UTC),
            "3f2a9c1d".into(),
        );
        let t = StoredToken::new(
            AccessToken::new("Atza|T"),
            "bearer",
            datetime!(2026-11-30 11:32:48 UTC),
            3600,
        )
        .with_marker(Some(marker.clone()));
        let v = t.to_parameter_value();
        assert_eq!(
            v,
            r#"{"access_token":"Atza|T","token_type":"bearer","expires_at":"2026-11-30T12:32:48Z","issued_at":"2026-11-30T11:32:48Z","authorization_lost":{"error_type":"LwaInvalidGrant","since":"2026-12-01T10:00:00Z","last_attempt_at":"2026-12-01T10:00:00Z","refresh_token_fingerprint":"3f2a9c1d","notified":false}}"#
        );
        assert_eq!(StoredToken::from_parameter_value(&v).unwrap(), t);

        let alone = StoredToken::marker_only(marker.clone());
        let v = alone.to_parameter_value();
        assert_eq!(
            v,
            r#"{"authorization_lost":{"error_type":"LwaInvalidGrant","since":"2026-12-01T10:00:00Z","last_attempt_at":"2026-12-01T10:00:00Z","refresh_token_fingerprint":"3f2a9c1d","notified":false}}"#
        );
        let back = StoredToken::from_parameter_value(&v).unwrap();
        assert!(!back.has_token());
        assert_eq!(back.authorization_lost, Some(marker));
        assert!(
            back.seconds_left(OffsetDateTime::now_utc()) < 0,
            "never usable"
        );

        // Without the marker, a partial token is still malformed.
        let e = StoredToken::from_parameter_value(r#"{"access_token":"Atza|MARKER"}"#).unwrap_err();
        assert!(
            e.contains("`token_type`, `expires_at`, `issued_at` missing"),
            "{e}"
        );
        assert!(StoredToken::from_parameter_value("{}").is_err());
    }
}
