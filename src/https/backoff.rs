//! The retry policy's delays: exponential backoff with full jitter.

use std::time::Duration;

/// The first retry waits up to this long.
pub const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// No retry waits longer than this (unless `Retry-After` asks for more).
pub const BACKOFF_CAP: Duration = Duration::from_secs(4);

/// The ceiling of the delay after failed attempt number `attempt` (1-based):
/// `min(cap, base * 2^(attempt-1))`.
pub fn backoff_ceiling(attempt: u32) -> Duration {
    BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP)
}

/// Full jitter: a random delay in `[0, backoff_ceiling(attempt)]`
/// (AWS Architecture Blog, "Exponential Backoff And Jitter").
pub fn backoff(attempt: u32) -> Duration {
    backoff_ceiling(attempt).mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_from_the_base_up_to_the_cap() {
        let ms = |a| backoff_ceiling(a).as_millis();
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(40)],
            [250, 500, 1000, 2000, 4000, 4000, 4000]
        );
        assert_eq!(backoff_ceiling(0), BACKOFF_BASE);
    }

    #[test]
    fn backoff_is_full_jitter_under_the_ceiling() {
        fastrand::seed(7);
        let mut seen_above_half = false;
        for attempt in 1..20 {
            for _ in 0..50 {
                let d = backoff(attempt);
                assert!(d <= backoff_ceiling(attempt));
                seen_above_half |= d > backoff_ceiling(attempt) / 2;
            }
        }
        assert!(seen_above_half, "jitter spans the whole range");
        // Not always zero.
        assert!((0..20).any(|_| backoff(3) > Duration::ZERO));
    }
}
