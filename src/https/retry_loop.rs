//! The retry loop of every outbound call: attempts until one is done, the
//! attempts run out, or the deadline leaves no room for another.
//!
//! Each attempt gets the per-attempt timeout or the time left, whichever is
//! shorter; an attempt with less than [`MIN_ATTEMPT`] left is not started.
//! Between attempts the loop waits [`backoff`] (full jitter) or the peer's
//! `Retry-After`, whichever is longer, and stops instead when that wait and
//! one more attempt do not fit before the deadline. Waits are on the clock
//! seam ([`crate::ports::clock`]), so tests run on virtual time.

use super::backoff::backoff;
use crate::ports::SharedClock;
use std::time::Duration;
use tokio::time::Instant;

/// An attempt with less time than this before the deadline is not started.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(250);

/// What one attempt came to.
pub enum Attempt<T> {
    /// A result, success or a final error: no retry.
    Done(T),
    /// Worth another attempt.
    Retry {
        /// What went wrong (already scrubbed of secrets).
        why: String,
        /// The peer's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}

/// Why the loop ended without a result.
pub enum Stopped {
    /// The deadline left no time for a first attempt.
    NotStarted,
    /// Every attempt asked for a retry, or the deadline left no room for
    /// another: `attempts` made, `last` the last reason with why it stopped.
    GaveUp {
        /// Attempts made (at least one).
        attempts: u32,
        /// The last attempt's reason, and why no further one was made.
        last: String,
    },
}

/// How a caller retries.
pub struct RetryPolicy<'a> {
    /// At most this many attempts (at least one is made).
    pub max_attempts: u32,
    /// Each attempt's own timeout.
    pub timeout: Duration,
    /// The peer, for messages: `LWA`, `SP-API`.
    pub peer: &'a str,
    /// What an attempt is, for the retry warning: `LWA token request`.
    pub call: &'a str,
    /// Appended to the last reason when the deadline stopped the retries:
    /// says what to raise.
    pub stopped_at_deadline: &'a str,
}

/// The loop's state; the caller makes the attempts (no closure: the
/// futures stay `Send` for the Lambda runtime):
///
/// ```ignore
/// let mut retries = Retries::new(&clock, deadline, &policy);
/// while let Some(budget) = retries.next_attempt() {
///     match attempt(budget).await {
///         Attempt::Done(result) => return result,
///         Attempt::Retry { why, retry_after } => retries.failed(why, retry_after).await,
///     }
/// }
/// match retries.finish() { … }
/// ```
pub struct Retries<'a> {
    clock: &'a SharedClock,
    deadline: Instant,
    policy: &'a RetryPolicy<'a>,
    attempts: u32,
    last: String,
    over: bool,
}

impl<'a> Retries<'a> {
    /// No attempt made yet; finishing before `deadline` on `clock`.
    pub fn new(clock: &'a SharedClock, deadline: Instant, policy: &'a RetryPolicy<'a>) -> Self {
        Self {
            clock,
            deadline,
            policy,
            attempts: 0,
            last: String::new(),
            over: false,
        }
    }

    /// The next attempt's time budget (its timeout or the time left, the
    /// shorter), or `None` when there is to be no further attempt.
    pub fn next_attempt(&mut self) -> Option<Duration> {
        if self.over {
            return None;
        }
        let remaining = self
            .deadline
            .saturating_duration_since(self.clock.instant());
        if remaining < MIN_ATTEMPT {
            if self.attempts > 0 {
                self.last = format!("{}; {}", self.last, self.policy.stopped_at_deadline);
            }
            self.over = true;
            return None;
        }
        self.attempts += 1;
        Some(self.policy.timeout.min(remaining))
    }

    /// The attempt asked for a retry: waits the backoff (or `retry_after`,
    /// the longer) when another attempt is allowed and fits before the
    /// deadline; otherwise ends the loop, saying why.
    pub async fn failed(&mut self, why: String, retry_after: Option<Duration>) {
        self.last = why;
        if self.attempts >= self.policy.max_attempts.max(1) {
            self.over = true;
            return;
        }
        let delay = backoff(self.attempts).max(retry_after.unwrap_or_default());
        let left = self
            .deadline
            .saturating_duration_since(self.clock.instant());
        if delay + MIN_ATTEMPT > left {
            self.last = match retry_after {
                Some(ra) if ra + MIN_ATTEMPT > left => format!(
                    "{}; {} asked to retry after {} s, later than the Lambda deadline allows",
                    self.last,
                    self.policy.peer,
                    ra.as_secs()
                ),
                _ => format!("{}; {}", self.last, self.policy.stopped_at_deadline),
            };
            self.over = true;
            return;
        }
        tracing::warn!(attempt = self.attempts, reason = %self.last,
            delay_ms = delay.as_millis() as u64, "{} failed, retrying", self.policy.call);
        self.clock.sleep(delay).await;
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How the loop ended without a result.
    pub fn finish(self) -> Stopped {
        if self.attempts == 0 {
            Stopped::NotStarted
        } else {
            Stopped::GaveUp {
                attempts: self.attempts,
                last: self.last,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Clock;
    use crate::testing::ManualClock;
    use std::sync::Arc;

    const STOPPED: &str = "raise the timeout";

    fn policy(max_attempts: u32) -> RetryPolicy<'static> {
        RetryPolicy {
            max_attempts,
            timeout: Duration::from_secs(10),
            peer: "LWA",
            call: "LWA token request",
            stopped_at_deadline: STOPPED,
        }
    }

    fn clock() -> (Arc<ManualClock>, SharedClock) {
        let manual = Arc::new(ManualClock::starting_now());
        let shared: SharedClock = manual.clone();
        (manual, shared)
    }

    #[test]
    fn each_attempt_gets_its_timeout_or_the_time_left() {
        let (manual, shared) = clock();
        let p = policy(3);
        let mut r = Retries::new(&shared, shared.instant() + Duration::from_secs(12), &p);
        assert_eq!(r.next_attempt(), Some(Duration::from_secs(10)));
        manual.advance(Duration::from_secs(9));
        assert_eq!(r.next_attempt(), Some(Duration::from_secs(3)));
        assert_eq!(r.attempts(), 2);
    }

    #[test]
    fn no_time_for_a_first_attempt_is_not_started() {
        let (_, shared) = clock();
        let p = policy(3);
        let mut r = Retries::new(&shared, shared.instant() + MIN_ATTEMPT / 2, &p);
        assert_eq!(r.next_attempt(), None);
        assert!(matches!(r.finish(), Stopped::NotStarted));
    }

    #[test]
    fn running_out_of_time_after_an_attempt_says_what_to_raise() {
        let (manual, shared) = clock();
        let p = policy(3);
        let mut r = Retries::new(&shared, shared.instant() + Duration::from_secs(5), &p);
        assert!(r.next_attempt().is_some());
        // The attempt itself used the time (a real clock can overshoot).
        manual.advance(Duration::from_secs(5) - MIN_ATTEMPT / 2);
        assert_eq!(r.next_attempt(), None);
        assert_eq!(r.next_attempt(), None, "over stays over");
        match r.finish() {
            Stopped::GaveUp { attempts, last } => {
                assert_eq!(attempts, 1);
                assert_eq!(last, format!("; {STOPPED}"));
            }
            Stopped::NotStarted => panic!("an attempt was made"),
        }
    }

    #[tokio::test]
    async fn the_last_allowed_attempt_ends_the_loop_without_a_wait() {
        let (manual, shared) = clock();
        let p = policy(2);
        let mut r = Retries::new(&shared, shared.instant() + Duration::from_secs(60), &p);
        assert!(r.next_attempt().is_some());
        r.failed("HTTP 503".into(), None).await;
        assert_eq!(manual.sleeps().len(), 1);
        assert!(r.next_attempt().is_some());
        r.failed("HTTP 502".into(), None).await;
        assert_eq!(manual.sleeps().len(), 1, "no wait after the last attempt");
        assert_eq!(r.next_attempt(), None);
        match r.finish() {
            Stopped::GaveUp { attempts, last } => {
                assert_eq!((attempts, last.as_str()), (2, "HTTP 502"))
            }
            Stopped::NotStarted => panic!("attempts were made"),
        }
    }

    #[tokio::test]
    async fn a_retry_after_beyond_the_deadline_is_named() {
        let (manual, shared) = clock();
        let p = policy(3);
        let mut r = Retries::new(&shared, shared.instant() + Duration::from_secs(5), &p);
        assert!(r.next_attempt().is_some());
        r.failed("HTTP 429".into(), Some(Duration::from_secs(30)))
            .await;
        assert!(manual.sleeps().is_empty());
        assert_eq!(r.next_attempt(), None);
        match r.finish() {
            Stopped::GaveUp { last, .. } => assert_eq!(
                last,
                "HTTP 429; LWA asked to retry after 30 s, later than the Lambda deadline allows"
            ),
            Stopped::NotStarted => panic!("an attempt was made"),
        }
    }
}
