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
