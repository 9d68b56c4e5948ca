//! The Lambda deadline, as a monotonic instant on the clock.

use crate::ports::Clock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use tokio::time::Instant;

/// A deadline this close to the Unix epoch is a relative allowance.
const RELATIVE_BELOW: Duration = Duration::from_secs(86_400);

/// Converts the Lambda deadline (`Lambda-Runtime-Deadline-Ms`, Unix epoch
/// milliseconds) to a monotonic instant on `clock`. A value within a day of
/// the epoch is taken as the time left instead: `cargo lambda watch` sends a
/// fixed allowance (600 000 ms) rather than a timestamp. A deadline in the
/// past is now.
pub fn deadline_instant(deadline: SystemTime, clock: &dyn Clock) -> Instant {
    let since_epoch = deadline.duration_since(UNIX_EPOCH).unwrap_or_default();
    let left = if since_epoch < RELATIVE_BELOW {
        since_epoch
    } else {
        let left = OffsetDateTime::from(deadline) - clock.now();
        left.try_into().unwrap_or_default()
    };
    clock.instant() + left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ManualClock;
    use time::macros::datetime;

    #[test]
    fn deadlines_absolute_and_cargo_lambda_relative() {
        let clock = ManualClock::new(datetime!(2026-11-30 12:00:00 UTC));
        let now = clock.instant();
        let wall = SystemTime::from(datetime!(2026-11-30 12:00:00 UTC));
        let d = |t: SystemTime| deadline_instant(t, &clock) - now;
        assert_eq!(
            d(wall + Duration::from_millis(30_250)),
            Duration::from_millis(30_250)
        );
        assert_eq!(
            d(UNIX_EPOCH + Duration::from_millis(600_000)),
            Duration::from_secs(600)
        );
        assert_eq!(d(wall - Duration::from_secs(5)), Duration::ZERO);
        // One day after the epoch is already a timestamp (long past).
        assert_eq!(d(UNIX_EPOCH + RELATIVE_BELOW), Duration::ZERO);
    }
}
