//! The rotation rules, as pure functions of the recorded state and `now`.
//!
//! Sources: SP-API "Rotate your application's client secret" (secrets expire
//! every 180 days; after a rotation the old one works 7 more days; the rotate
//! call is limited to one request a minute) and CONTRACT.md
//! ("client-secret-rotator").

use crate::rotation::document::AppDocument;
use crate::rotation::notification::NewSecret;
use time::{Duration, OffsetDateTime};

/// How long an LWA client secret lives.
pub const SECRET_LIFETIME: Duration = Duration::days(180);
/// No second rotate call within this long of the last one unless forced.
pub const REQUEST_GUARD: Duration = Duration::hours(24);

/// Where the expiry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirySource {
    /// `client_secret_expires_at` in the secret (notification or by hand).
    Recorded,
    /// Creation of the oldest retained version holding the current client
    /// secret value, + 180 days.
    Estimated,
}

impl ExpirySource {
    /// `recorded` or `estimated`, as in the status answer.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpirySource::Recorded => "recorded",
            ExpirySource::Estimated => "estimated",
        }
    }
}

/// When the current client secret expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The expiry time (UTC).
    pub at: OffsetDateTime,
    /// Recorded or estimated.
    pub source: ExpirySource,
}

/// The estimate from `(created, holds the current client secret)` of every
/// retained version: the oldest holding it, + 180 days. `None` when no
/// version holds it (cannot happen for the version read as current).
pub fn estimate_expiry(versions: &[(OffsetDateTime, bool)]) -> Option<OffsetDateTime> {
    versions
        .iter()
        .filter(|(_, holds)| *holds)
        .map(|(created, _)| *created)
        .min()
        .map(|created| created + SECRET_LIFETIME)
}

/// Whole days left until `expiry`, rounded down (negative once passed).
pub fn days_left(expiry: OffsetDateTime, now: OffsetDateTime) -> i64 {
    let seconds = (expiry - now).whole_seconds();
    seconds.div_euclid(86_400)
}

/// `true` when `expiry` is within `rotate_before_days` of `now` (or passed).
pub fn rotation_due(expiry: OffsetDateTime, now: OffsetDateTime, rotate_before_days: u32) -> bool {
    expiry - now <= Duration::days(rotate_before_days.into())
}

/// The last request, when it was made less than 24 h before `now`.
pub fn recent_request(
    requested_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    requested_at.filter(|at| now - *at < REQUEST_GUARD)
}

/// What to do with a new-secret notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewSecretDecision {
    /// Another app's client ID: ignored.
    Foreign,
    /// The secret is already the current one (a duplicate delivery): nothing
    /// to write; a leftover `AWSPENDING` holding it is cleaned up.
    AlreadyCurrent,
    /// Older than the recorded expiry: an old notification delivered late,
    /// never installed.
    Stale,
    /// Older than a newer secret that waits as `AWSPENDING` (not yet accepted
    /// by LWA): never replaces it, and is not dropped either: retried until
    /// the waiting one is promoted (then it is stale) or never is (then it
    /// reaches the dead-letter queue instead of being lost).
    WaitForPending,
    /// The same secret already waits as `AWSPENDING`: verify and promote it.
    ResumePending,
    /// Save as `AWSPENDING`, verify, promote.
    Install,
}

/// Decides what a new-secret notification does, given the current version
/// and the waiting `AWSPENDING` one (if any, and if it is for this client).
pub fn decide_new_secret(
    current: &AppDocument,
    pending: Option<&AppDocument>,
    n: &NewSecret,
) -> NewSecretDecision {
    if n.client_id != current.client_id {
        return NewSecretDecision::Foreign;
    }
    if n.client_secret == current.client_secret {
        return NewSecretDecision::AlreadyCurrent;
    }
    if current
        .expires_at
        .is_some_and(|recorded| n.expires_at < recorded)
    {
        return NewSecretDecision::Stale;
    }
    match pending.filter(|p| p.client_id == current.client_id) {
        Some(p) if p.client_secret == n.client_secret => NewSecretDecision::ResumePending,
        Some(p) if p.expires_at.is_some_and(|waiting| n.expires_at < waiting) => {
            NewSecretDecision::WaitForPending
        }
        _ => NewSecretDecision::Install,
    }
}

/// Whether an expiry notification's time replaces the recorded one: set when
/// none is recorded, moved later, never earlier (a notice about an already
/// replaced secret, delivered late, must not trigger another rotation; fix a
/// wrong hand-set value by editing or removing the field).
pub fn records_expiry(recorded: Option<OffsetDateTime>, notified: OffsetDateTime) -> bool {
    recorded.is_none_or(|r| notified > r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ClientSecret;
    use secrecy::SecretString;
    use time::macros::datetime;

    fn doc(secret: &str, expires: Option<&str>) -> AppDocument {
        let mut v = serde_json::json!({"client_id": "me", "client_secret": secret});
        if let Some(e) = expires {
            v["client_secret_expires_at"] = e.into();
        }
        AppDocument::parse("app", "v", &SecretString::from(v.to_string())).unwrap()
    }
    fn note(client: &str, secret: &str, expires: OffsetDateTime) -> NewSecret {
        NewSecret {
            client_id: client.into(),
            client_secret: ClientSecret::new(secret),
            expires_at: expires,
            old_expires_at: None,
        }
    }

    #[test]
    fn estimate_uses_oldest_version_holding_the_value() {
        let v = [
            (datetime!(2026-01-01 0:00 UTC), false),
            (datetime!(2026-02-01 0:00 UTC), true),
            (datetime!(2026-03-01 0:00 UTC), true),
        ];
        assert_eq!(estimate_expiry(&v), Some(datetime!(2026-07-31 0:00 UTC)));
        assert_eq!(estimate_expiry(&v[..1]), None);
    }

    #[test]
    fn days_and_due() {
        let now = datetime!(2026-05-01 10:00 UTC);
        assert_eq!(days_left(now + Duration::days(10), now), 10);
        assert_eq!(days_left(now + Duration::hours(239), now), 9);
        assert_eq!(days_left(now - Duration::hours(1), now), -1);
        assert!(rotation_due(now + Duration::days(30), now, 30));
        assert!(!rotation_due(
            now + Duration::days(30) + Duration::seconds(1),
            now,
            30
        ));
        assert!(rotation_due(now - Duration::days(1), now, 1));
    }

    #[test]
    fn guard_is_24_hours() {
        let now = datetime!(2026-05-02 10:00 UTC);
        let at = datetime!(2026-05-01 10:00:01 UTC);
        assert_eq!(recent_request(Some(at), now), Some(at));
        assert_eq!(recent_request(Some(now - REQUEST_GUARD), now), None);
        assert_eq!(recent_request(None, now), None);
    }

    #[test]
    fn new_secret_decisions() {
        let exp = datetime!(2026-10-28 10:00 UTC);
        let cur = doc("old", Some("2026-05-08T10:00:00Z"));
        assert_eq!(
            decide_new_secret(&cur, None, &note("other", "x", exp)),
            NewSecretDecision::Foreign
        );
        assert_eq!(
            decide_new_secret(&cur, None, &note("me", "old", exp)),
            NewSecretDecision::AlreadyCurrent
        );
        assert_eq!(
            decide_new_secret(&cur, None, &note("me", "new", exp)),
            NewSecretDecision::Install
        );
        // Older than recorded: an old notification delivered late.
        let installed = doc("new", Some("2026-10-28T10:00:00Z"));
        assert_eq!(
            decide_new_secret(
                &installed,
                None,
                &note("me", "older", datetime!(2026-05-08 10:00 UTC))
            ),
            NewSecretDecision::Stale
        );
        let pending = doc("new", Some("2026-10-28T10:00:00Z"));
        assert_eq!(
            decide_new_secret(&cur, Some(&pending), &note("me", "new", exp)),
            NewSecretDecision::ResumePending
        );
        assert_eq!(
            decide_new_secret(
                &cur,
                Some(&pending),
                &note("me", "mid", datetime!(2026-09-01 0:00 UTC))
            ),
            NewSecretDecision::WaitForPending
        );
        assert_eq!(
            decide_new_secret(
                &cur,
                Some(&pending),
                &note("me", "newer", datetime!(2026-11-01 0:00 UTC))
            ),
            NewSecretDecision::Install
        );
    }

    /// "Older" is strict: a different secret whose expiry equals the recorded
    /// one, or the waiting one's, is not an old notification delivered late.
    #[test]
    fn only_a_strictly_older_expiry_is_stale_or_waits() {
        let at = datetime!(2026-10-28 10:00 UTC);
        let cur = doc("old", Some("2026-10-28T10:00:00Z"));
        assert_eq!(
            decide_new_secret(&cur, None, &note("me", "new", at)),
            NewSecretDecision::Install
        );
        let cur = doc("old", Some("2026-05-08T10:00:00Z"));
        let pending = doc("new", Some("2026-10-28T10:00:00Z"));
        assert_eq!(
            decide_new_secret(&cur, Some(&pending), &note("me", "other", at)),
            NewSecretDecision::Install
        );
    }

    #[test]
    fn expiry_only_moves_later() {
        let r = datetime!(2026-10-28 10:00 UTC);
        assert!(records_expiry(None, r));
        assert!(records_expiry(Some(r), r + Duration::days(1)));
        assert!(!records_expiry(Some(r), r));
        assert!(!records_expiry(Some(r), r - Duration::days(170)));
    }
}
