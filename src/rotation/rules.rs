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

/// The secret's history as the rotation rules need it (read by
/// `Rotator::history` from every retained version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    /// When the current client secret value was first stored: the creation
    /// time of the oldest retained version holding it. The expiry estimate
    /// is this + [`SECRET_LIFETIME`].
    pub current_stored: Option<OffsetDateTime>,
    /// `client_secret_expires_at` as first stored with the current secret
    /// (in that oldest version): Amazon's date when the rotator installed
    /// it, unchanged by later edits of the field or expiry notices.
    pub current_first_expiry: Option<OffsetDateTime>,
    /// When the other secret asked about (a new one) was first stored, if
    /// ever.
    pub other_stored: Option<OffsetDateTime>,
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

/// The longest a new secret can live from `now`: 180 days and a day of
/// slack for clocks and delivery. A later `newClientSecretExpiryTime` is not
/// Amazon's and is never installed.
pub const MAX_NEW_SECRET_LIFETIME: Duration = Duration::days(181);

/// How far apart two AWS clocks may be (Amazon's notification publisher,
/// Secrets Manager, Lambda): a publish time within this of the current
/// secret's store cannot tell which came first, and one more than this ahead
/// of `now` is not a time to trust.
pub const MAX_CLOCK_SKEW: Duration = Duration::seconds(60);

/// When a notification was published, against when the current client
/// secret value was first stored (the creation time of the oldest retained
/// version holding it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Published more than [`MAX_CLOCK_SKEW`] after the current secret was
    /// stored: it is about the current secret (an expiry notice) or a newer
    /// one (a new secret).
    After,
    /// Published before it, or too close to it to tell: about a secret the
    /// current one replaced.
    Before,
    /// The notification has no publish time, or one more than
    /// [`MAX_CLOCK_SKEW`] in the future, or no version creation time is known.
    Unknown,
}

/// Places `published_at` against `stored_at` at `now` (see [`Order`]).
pub fn order(
    published_at: Option<OffsetDateTime>,
    stored_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Order {
    match (published_at, stored_at) {
        (Some(p), _) if p > now + MAX_CLOCK_SKEW => Order::Unknown,
        (Some(p), Some(s)) if p > s + MAX_CLOCK_SKEW => Order::After,
        (Some(_), Some(_)) => Order::Before,
        _ => Order::Unknown,
    }
}

/// Where a new-secret notification stands against the secret's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Its publish time against the current secret's first store.
    pub order: Order,
    /// Its secret was stored before the current one was (it was current, or
    /// waited as `AWSPENDING`, and has been replaced since).
    pub replaced: bool,
    /// The expiry first stored with the current secret (see
    /// [`History::current_first_expiry`]).
    pub first_expiry: Option<OffsetDateTime>,
}

impl Placement {
    /// From the notification's publish time, the secret's history and `now`.
    pub fn new(
        published_at: Option<OffsetDateTime>,
        history: &History,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            order: order(published_at, history.current_stored, now),
            replaced: matches!(
                (history.other_stored, history.current_stored),
                (Some(n), Some(c)) if n < c
            ),
            first_expiry: history.current_first_expiry,
        }
    }
}

/// What to do with a new-secret notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewSecretDecision {
    /// Another app's client ID: ignored.
    Foreign,
    /// The secret is already the current one (a duplicate delivery): nothing
    /// to write; a leftover `AWSPENDING` holding it is cleaned up.
    AlreadyCurrent,
    /// Its expiry has passed, or is more than [`MAX_NEW_SECRET_LIFETIME`]
    /// away: not a secret Amazon issued. Never saved; retried, so it ends in
    /// the dead-letter queue (and its alarm) instead of being dropped.
    Implausible,
    /// An old notification delivered late, never installed: its secret was
    /// stored before the current one and replaced since, or it expires
    /// before the current secret's reference date and was published before
    /// the current secret was stored.
    Stale,
    /// It expires before the current secret's reference date but has no
    /// publish time to tell an old notification from a wrong hand-set date.
    /// Never dropped and never installed: retried, so it ends in the
    /// dead-letter queue for the operator.
    Unordered,
    /// Older than a newer secret that waits as `AWSPENDING` (not yet accepted
    /// by LWA): never replaces it, and is not dropped either: retried until
    /// the waiting one is promoted (then it is stale) or never is (then it
    /// reaches the dead-letter queue instead of being lost).
    WaitForPending,
    /// The same secret already waits as `AWSPENDING`: verify and promote it.
    ResumePending,
    /// Save as `AWSPENDING`, verify, promote.
    Install,
    /// As [`NewSecretDecision::Install`], for a secret expiring before the
    /// current secret's reference date but published after the current
    /// secret was stored: the date is what was wrong (set by hand), and the
    /// operator is told so.
    InstallOverWrongDate,
}

/// The date a new secret is compared with: the expiry first stored with the
/// current secret (Amazon's, when the rotator installed it; later edits and
/// expiry notices do not move it), else the recorded one.
pub fn reference_expiry(current: &AppDocument, placement: &Placement) -> Option<OffsetDateTime> {
    placement.first_expiry.or(current.expires_at)
}

/// Decides what a new-secret notification does, given the current version,
/// the waiting `AWSPENDING` one (if any, and if it is for this client), the
/// time and the notification's [`Placement`].
///
/// An old notification must never replace a newer secret, and Amazon's new
/// secret must never be dropped because a hand-set `client_secret_expires_at`
/// is wrong (the secret would be lost and the old one expire). Amazon's
/// expiries order its secrets (each lives 180 days from its issue): a secret
/// expiring at or after the current one's [`reference_expiry`] is newer and
/// installed. One expiring before it is stale only when it was also
/// published before the current secret was stored; published after, the
/// reference date is the wrong one (set by hand) and it is installed; with
/// no publish time it is kept for the operator. A secret already stored and
/// replaced since is stale whatever the dates.
pub fn decide_new_secret(
    current: &AppDocument,
    pending: Option<&AppDocument>,
    n: &NewSecret,
    now: OffsetDateTime,
    placement: Placement,
) -> NewSecretDecision {
    if n.client_id != current.client_id {
        return NewSecretDecision::Foreign;
    }
    if n.client_secret == current.client_secret {
        return NewSecretDecision::AlreadyCurrent;
    }
    if n.expires_at <= now || n.expires_at - now > MAX_NEW_SECRET_LIFETIME {
        return NewSecretDecision::Implausible;
    }
    if placement.replaced {
        return NewSecretDecision::Stale;
    }
    let older = reference_expiry(current, &placement).is_some_and(|r| n.expires_at < r);
    if older {
        match placement.order {
            Order::After => {}
            Order::Before => return NewSecretDecision::Stale,
            Order::Unknown => return NewSecretDecision::Unordered,
        }
    }
    match pending.filter(|p| p.client_id == current.client_id) {
        Some(p) if p.client_secret == n.client_secret => NewSecretDecision::ResumePending,
        Some(p) if p.expires_at.is_some_and(|waiting| n.expires_at < waiting) => {
            NewSecretDecision::WaitForPending
        }
        _ if older => NewSecretDecision::InstallOverWrongDate,
        _ => NewSecretDecision::Install,
    }
}

/// Whether an expiry notification's time replaces the recorded one: set when
/// none is recorded, moved later; moved earlier only when the notice was
/// published after the current secret was stored (`order` is
/// [`Order::After`]: it is about the current secret, so a hand-set date later
/// than the truth is corrected). A notice about an already replaced secret,
/// delivered late, never moves it earlier (it would trigger another rotation).
/// `order` is needed only when `notified` is earlier than `recorded`.
pub fn records_expiry(
    recorded: Option<OffsetDateTime>,
    notified: OffsetDateTime,
    order: Option<Order>,
) -> bool {
    match recorded {
        None => true,
        Some(r) if notified > r => true,
        Some(r) => notified < r && order == Some(Order::After),
    }
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

    /// When the notifications of these tests are decided.
    const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);

    /// Published after the current secret was stored, never stored before.
    const AFTER: Placement = Placement {
        order: Order::After,
        replaced: false,
        first_expiry: None,
    };

    fn at(order: Order) -> Placement {
        Placement { order, ..AFTER }
    }

    fn decide(
        cur: &AppDocument,
        pending: Option<&AppDocument>,
        n: &NewSecret,
    ) -> NewSecretDecision {
        decide_new_secret(cur, pending, n, NOW, AFTER)
    }

    #[test]
    fn new_secret_decisions() {
        let exp = datetime!(2026-10-28 10:00 UTC);
        let cur = doc("old", Some("2026-05-08T10:00:00Z"));
        assert_eq!(
            decide(&cur, None, &note("other", "x", exp)),
            NewSecretDecision::Foreign
        );
        assert_eq!(
            decide(&cur, None, &note("me", "old", exp)),
            NewSecretDecision::AlreadyCurrent
        );
        assert_eq!(
            decide(&cur, None, &note("me", "new", exp)),
            NewSecretDecision::Install
        );
        let pending = doc("new", Some("2026-10-28T10:00:00Z"));
        assert_eq!(
            decide(&cur, Some(&pending), &note("me", "new", exp)),
            NewSecretDecision::ResumePending
        );
        assert_eq!(
            decide(
                &cur,
                Some(&pending),
                &note("me", "mid", datetime!(2026-09-01 0:00 UTC))
            ),
            NewSecretDecision::WaitForPending
        );
        assert_eq!(
            decide(
                &cur,
                Some(&pending),
                &note("me", "newer", datetime!(2026-10-29 0:00 UTC))
            ),
            NewSecretDecision::Install
        );
    }

    /// Older than the recorded expiry: stale only when published before the
    /// current secret was stored; published after it, the recorded expiry is
    /// the wrong one (set by hand) and the secret is installed; unknown, it
    /// is kept for the operator.
    #[test]
    fn an_older_expiry_is_stale_only_when_published_before_the_current_secret() {
        let installed = doc("new", Some("2026-10-28T10:00:00Z"));
        let older = note("me", "older", datetime!(2026-05-08 10:00 UTC));
        let with = |p| decide_new_secret(&installed, None, &older, NOW, p);
        assert_eq!(with(at(Order::Before)), NewSecretDecision::Stale);
        assert_eq!(
            with(at(Order::After)),
            NewSecretDecision::InstallOverWrongDate
        );
        assert_eq!(with(at(Order::Unknown)), NewSecretDecision::Unordered);
        // Published after, and a newer secret waits: the waiting rule still holds.
        let pending = doc("newest", Some("2026-06-01T00:00:00Z"));
        assert_eq!(
            decide_new_secret(&installed, Some(&pending), &older, NOW, AFTER),
            NewSecretDecision::WaitForPending
        );
    }

    /// A secret expiring at or after the current one is newer by Amazon's
    /// dates, whenever it was published (two notifications delivered late
    /// in one batch: the newer one comes second, after the older was
    /// stored).
    #[test]
    fn a_later_expiry_is_installed_whenever_it_was_published() {
        let cur = doc("old", Some("2026-10-28T10:00:00Z"));
        let newer = note("me", "new", datetime!(2026-10-28 10:01:01 UTC));
        for order in [Order::After, Order::Before, Order::Unknown] {
            assert_eq!(
                decide_new_secret(&cur, None, &newer, NOW, at(order)),
                NewSecretDecision::Install,
                "{order:?}"
            );
        }
    }

    /// The reference is the expiry first stored with the current secret, not
    /// the recorded one, which an expiry notice or a hand edit may have moved.
    #[test]
    fn the_reference_is_the_expiry_first_stored_with_the_current_secret() {
        let moved = doc("current", Some("2026-05-20T00:00:00Z"));
        let older = note("me", "older", datetime!(2026-10-28 10:00 UTC));
        let placement = Placement {
            order: Order::Before,
            replaced: false,
            first_expiry: Some(datetime!(2026-10-28 10:01 UTC)),
        };
        assert_eq!(
            reference_expiry(&moved, &placement),
            Some(datetime!(2026-10-28 10:01 UTC))
        );
        assert_eq!(
            decide_new_secret(&moved, None, &older, NOW, placement),
            NewSecretDecision::Stale
        );
        // Without a first-stored date, the recorded one.
        assert_eq!(
            reference_expiry(&moved, &AFTER),
            Some(datetime!(2026-05-20 0:00 UTC))
        );
    }

    /// A secret already stored before the current one, and replaced since, is
    /// stale whatever the dates say.
    #[test]
    fn a_replaced_secret_is_stale_whatever_the_dates() {
        let cur = doc("old", Some("2026-05-08T10:00:00Z"));
        let new = note("me", "new", datetime!(2026-10-28 10:00 UTC));
        for order in [Order::After, Order::Before, Order::Unknown] {
            let p = Placement {
                order,
                replaced: true,
                first_expiry: None,
            };
            assert_eq!(
                decide_new_secret(&cur, None, &new, NOW, p),
                NewSecretDecision::Stale
            );
        }
    }

    #[test]
    fn placement_from_the_history() {
        let t = datetime!(2026-05-01 9:00 UTC);
        let later = t + MAX_CLOCK_SKEW + Duration::milliseconds(1);
        let e = datetime!(2026-10-28 10:00 UTC);
        let h = |current: Option<OffsetDateTime>, other: Option<OffsetDateTime>| History {
            current_stored: current,
            current_first_expiry: Some(e),
            other_stored: other,
        };
        assert_eq!(
            Placement::new(Some(later), &h(Some(t), Some(t - Duration::days(1))), NOW),
            Placement {
                order: Order::After,
                replaced: true,
                first_expiry: Some(e),
            }
        );
        assert!(!Placement::new(None, &h(Some(t), Some(t)), NOW).replaced);
        assert!(!Placement::new(None, &h(Some(t), Some(later)), NOW).replaced);
        assert!(!Placement::new(None, &h(Some(t), None), NOW).replaced);
        assert!(!Placement::new(None, &h(None, Some(t)), NOW).replaced);
    }

    #[test]
    fn order_is_after_only_when_published_a_clock_skew_after_the_store() {
        let t = datetime!(2026-05-01 10:00 UTC);
        let now = t + Duration::hours(1);
        let skew = MAX_CLOCK_SKEW;
        let ms = Duration::milliseconds(1);
        assert_eq!(order(Some(t + skew + ms), Some(t), now), Order::After);
        assert_eq!(order(Some(t + skew), Some(t), now), Order::Before);
        assert_eq!(order(Some(t + ms), Some(t), now), Order::Before);
        assert_eq!(order(Some(t), Some(t + ms), now), Order::Before);
        assert_eq!(order(None, Some(t), now), Order::Unknown);
        assert_eq!(order(Some(t), None, now), Order::Unknown);
        // A publish time in the future (beyond the skew) is not trusted.
        assert_eq!(order(Some(now + skew), Some(t), now), Order::After);
        assert_eq!(order(Some(now + skew + ms), Some(t), now), Order::Unknown);
    }

    #[test]
    fn a_secret_already_expired_or_living_more_than_181_days_is_implausible() {
        let cur = doc("old", None);
        let at = |d: Duration| decide(&cur, None, &note("me", "new", NOW + d));
        assert_eq!(at(MAX_NEW_SECRET_LIFETIME), NewSecretDecision::Install);
        assert_eq!(
            at(MAX_NEW_SECRET_LIFETIME + Duration::seconds(1)),
            NewSecretDecision::Implausible
        );
        assert_eq!(at(Duration::days(180)), NewSecretDecision::Install);
        assert_eq!(at(Duration::seconds(1)), NewSecretDecision::Install);
        assert_eq!(at(Duration::ZERO), NewSecretDecision::Implausible);
        assert_eq!(at(-Duration::days(1)), NewSecretDecision::Implausible);
    }

    /// "Older" is strict: a different secret whose expiry equals the recorded
    /// one, or the waiting one's, is not an old notification delivered late.
    #[test]
    fn only_a_strictly_older_expiry_is_stale_or_waits() {
        let at = datetime!(2026-10-28 10:00 UTC);
        let cur = doc("old", Some("2026-10-28T10:00:00Z"));
        for order in [Order::After, Order::Before, Order::Unknown] {
            assert_eq!(
                decide_new_secret(&cur, None, &note("me", "new", at), NOW, self::at(order)),
                NewSecretDecision::Install,
                "{order:?}"
            );
        }
        let cur = doc("old", Some("2026-05-08T10:00:00Z"));
        let pending = doc("new", Some("2026-10-28T10:00:00Z"));
        assert_eq!(
            decide(&cur, Some(&pending), &note("me", "other", at)),
            NewSecretDecision::Install
        );
    }

    #[test]
    fn expiry_moves_later_and_earlier_only_for_the_current_secret() {
        let r = datetime!(2026-10-28 10:00 UTC);
        let earlier = r - Duration::days(170);
        assert!(records_expiry(None, r, None));
        assert!(records_expiry(Some(r), r + Duration::days(1), None));
        assert!(!records_expiry(Some(r), r, Some(Order::After)));
        assert!(!records_expiry(Some(r), earlier, None));
        assert!(!records_expiry(Some(r), earlier, Some(Order::Before)));
        assert!(!records_expiry(Some(r), earlier, Some(Order::Unknown)));
        assert!(records_expiry(Some(r), earlier, Some(Order::After)));
    }
}
