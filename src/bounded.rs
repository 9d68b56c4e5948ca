//! One step (an AWS call, with the SDK's own retries inside it) bounded by
//! the time left before an instant, on the clock seam.
//!
//! The contract: every invocation answers before its Lambda deadline,
//! whatever AWS does (a stall, dropped connections, throttling). The SDK's
//! own timeouts are fixed (see [`crate::aws::LazySdkConfig`]), so each use
//! case wraps every call in [`within`] with the latest instant the call may
//! end and still leave time for what follows (see [`crate::budget`]). A
//! call cut off is dropped, which cancels the request; whether a write
//! reached AWS is then unknown, and the message says so.

use crate::ports::Clock;
use std::future::Future;
use std::task::Poll;
use std::time::Duration;
use tokio::time::Instant;

/// A step did not end before its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Late {
    /// The time the step was given; zero when it was not started.
    pub allowed: Duration,
}

impl Late {
    /// `true` when there was no time left to start the step at all.
    pub fn not_started(&self) -> bool {
        self.allowed.is_zero()
    }

    /// One line for an error message: which `operation` (e.g.
    /// `GetSecretValue`) did not finish, that the Lambda deadline was the
    /// reason, and what to raise. `write` adds that the write may or may
    /// not have happened.
    pub fn describe(&self, operation: &str, write: bool) -> String {
        if self.not_started() {
            return format!(
                "{operation} was not started: too close to the Lambda deadline. Raise the function's timeout \
                 (template parameter RefresherTimeoutSeconds for the refresher)"
            );
        }
        format!(
            "{operation} did not finish within the {} ms left for it before the Lambda deadline, so it was \
             stopped{}. Raise the function's timeout (template parameter RefresherTimeoutSeconds for the \
             refresher) if this repeats, and check the network path to AWS (VPC endpoints, NAT)",
            self.allowed.as_millis(),
            if write {
                " (the write may or may not have reached AWS)"
            } else {
                ""
            }
        )
    }
}

/// Runs `step` until it ends or `until` comes, on `clock`. A step is not
/// started when `until` has passed (`Err` with a zero `allowed`). The timer
/// is created only if the step does not end at once, so steps that answer
/// immediately (in-memory fakes) leave no sleep on a test clock.
pub async fn within<T>(
    clock: &dyn Clock,
    until: Instant,
    step: impl Future<Output = T>,
) -> Result<T, Late> {
    let allowed = until.saturating_duration_since(clock.instant());
    if allowed.is_zero() {
        return Err(Late { allowed });
    }
    let mut step = std::pin::pin!(step);
    let mut timer = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = step.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        let timer = timer.get_or_insert_with(|| clock.sleep(allowed));
        timer.as_mut().poll(cx).map(|()| Err(Late { allowed }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ManualClock;
    use time::macros::datetime;

    #[tokio::test]
    async fn a_step_ends_or_is_stopped_at_its_bound() {
        let clock = ManualClock::new(datetime!(2026-11-30 12:00:00 UTC));
        let until = clock.instant() + Duration::from_secs(2);

        // Ends at once: no timer at all.
        assert_eq!(within(&clock, until, async { 7 }).await, Ok(7));
        assert!(clock.sleeps().is_empty());

        // Ends before the bound (a 500 ms step on the clock).
        let step = async {
            clock.sleep(Duration::from_millis(500)).await;
            8
        };
        assert_eq!(within(&clock, until, step).await, Ok(8));
        assert_eq!(clock.elapsed(), Duration::from_millis(500));

        // Never ends: stopped when the 1.5 s left have passed.
        let late = within(&clock, until, std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(late.allowed, Duration::from_millis(1500));
        assert_eq!(clock.elapsed(), Duration::from_secs(2));
        let text = late.describe("GetSecretValue", false);
        assert!(
            text.contains("GetSecretValue did not finish within the 1500 ms"),
            "{text}"
        );
        assert!(
            text.contains("Lambda deadline") && text.contains("timeout"),
            "{text}"
        );
        assert!(late
            .describe("PutParameter", true)
            .contains("may or may not"));

        // Past the bound: not started.
        let mut started = false;
        let late = within(&clock, until, async { started = true })
            .await
            .unwrap_err();
        assert!(late.not_started() && !started);
        assert!(late
            .describe("GetParameter", false)
            .contains("GetParameter was not started"));
    }
}
