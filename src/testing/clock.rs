//! A virtual clock for tests: time stands still until something sleeps, and
//! a sleep moves it forward at once.

use crate::ports::Clock;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// Test-only [`Clock`] on virtual time. `now()` and `instant()` start at the
/// given wall-clock time and at the moment of creation; they advance only
/// through [`ManualClock::advance`] or a `sleep`. A `sleep(d)` wakes at
/// once, with the clock moved to at least (time of the call + `d`): sleepers
/// running side by side end at the latest wake-up, never at the sum.
/// Every requested sleep is recorded ([`ManualClock::sleeps`]).
pub struct ManualClock {
    base_wall: OffsetDateTime,
    base_instant: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    elapsed: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock whose wall time starts at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            base_wall: start,
            base_instant: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    /// A clock starting at the real current time (whole seconds).
    pub fn starting_now() -> Self {
        Self::new(
            OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .expect("0 ns is valid"),
        )
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.state().elapsed += d;
    }

    /// Virtual time elapsed since creation.
    pub fn elapsed(&self) -> Duration {
        self.state().elapsed
    }

    /// Every sleep requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state().sleeps.clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.base_wall + self.elapsed()
    }

    fn instant(&self) -> Instant {
        self.base_instant + self.elapsed()
    }

    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let wake = {
            let mut s = self.state();
            s.sleeps.push(d);
            s.elapsed + d
        };
        Box::pin(VirtualSleep {
            clock: self,
            wake,
            yielded: false,
        })
    }
}

/// Yields once (so other tasks run), then moves the clock to `wake`.
struct VirtualSleep<'a> {
    clock: &'a ManualClock,
    wake: Duration,
    yielded: bool,
}

impl Future for VirtualSleep<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut s = self.clock.state();
        s.elapsed = s.elapsed.max(self.wake);
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn sleeps_move_virtual_time_only() {
        let c = ManualClock::new(datetime!(2026-11-30 12:00:00 UTC));
        let i0 = c.instant();
        c.sleep(Duration::from_secs(3)).await;
        assert_eq!(c.now(), datetime!(2026-11-30 12:00:03 UTC));
        assert_eq!(c.instant() - i0, Duration::from_secs(3));
        // Side by side: the clock ends at the latest wake-up.
        futures_util::future::join(
            c.sleep(Duration::from_secs(2)),
            c.sleep(Duration::from_secs(5)),
        )
        .await;
        assert_eq!(c.elapsed(), Duration::from_secs(8));
        c.advance(Duration::from_millis(500));
        assert_eq!(c.elapsed(), Duration::from_millis(8500));
        assert_eq!(
            c.sleeps(),
            vec![
                Duration::from_secs(3),
                Duration::from_secs(2),
                Duration::from_secs(5)
            ]
        );
    }
}
