//! The time budget of a refresh: the one rule for "is there time for this?".
//!
//! A refresh is a token request followed by writes (PutSecretValue for a
//! rotated refresh token, PutParameter for the access token). The writes
//! keep [`WRITE_RESERVE`] back from the Lambda deadline, so the token
//! request must end by `deadline − WRITE_RESERVE` ([`TimeBudget::lwa_deadline`]);
//! a request is started only while a whole attempt (`LWA_TIMEOUT_MS`) still
//! fits before then ([`TimeBudget::room_for_request`]). Fleet mode defers a
//! profile to the next run when there is no room
//! ([`TimeBudget::room_for_refresh`]).

use std::time::Duration;
use tokio::time::Instant;

/// Time kept back from the Lambda deadline for the writes after the token
/// request (PutSecretValue, PutParameter).
pub const WRITE_RESERVE: Duration = Duration::from_secs(3);

/// How long the parts of one refresh may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBudget {
    /// One token request attempt (`LWA_TIMEOUT_MS`).
    pub request: Duration,
}

impl TimeBudget {
    /// A budget for token requests of `request` each.
    pub fn new(request: Duration) -> Self {
        Self { request }
    }

    /// When the token request must be done: the Lambda `deadline` less
    /// [`WRITE_RESERVE`] (the deadline itself if it is closer than that to
    /// the start of monotonic time).
    pub fn lwa_deadline(deadline: Instant) -> Instant {
        deadline.checked_sub(WRITE_RESERVE).unwrap_or(deadline)
    }

    /// `true` when a whole request attempt still fits before `lwa_deadline`.
    pub fn room_for_request(&self, now: Instant, lwa_deadline: Instant) -> bool {
        lwa_deadline.saturating_duration_since(now) >= self.request
    }

    /// `true` when a whole refresh (request, then the writes) still fits
    /// before the Lambda `deadline`.
    pub fn room_for_refresh(&self, now: Instant, deadline: Instant) -> bool {
        self.room_for_request(now, Self::lwa_deadline(deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_needs_a_request_and_the_write_reserve() {
        let b = TimeBudget::new(Duration::from_secs(10));
        let now = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(TimeBudget::lwa_deadline(now + s(20)), now + s(17));
        assert!(b.room_for_refresh(now, now + s(13)));
        assert!(!b.room_for_refresh(now, now + s(13) - Duration::from_millis(1)));
        assert!(b.room_for_request(now, now + s(10)));
        assert!(!b.room_for_request(now, now + s(9)));
        assert!(!b.room_for_request(now + s(1), now));
    }
}
