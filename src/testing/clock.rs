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
/// through [`ManualClock::advance`] or a `sleep`. A `sleep(d)` ends without
/// real waiting, with the clock moved to at least (time of the call + `d`),
/// and sleepers end in the order of their wake-up times: a sleep whose
/// wake-up is not the earliest pending one yields until the earlier ones
/// have ended (or were dropped), so a timer racing a step that itself waits
/// on the clock (pacing, backoff) fires only at its own time. Sleepers side
/// by side end at the latest wake-up, never at the sum. Every requested
/// sleep is recorded ([`ManualClock::sleeps`]).
pub struct ManualClock {
    /// Sleeps longer than this never end (see [`ManualClock::with_wake_limit`]).
    wake_limit: Option<Duration>,
    base_wall: OffsetDateTime,
    base_instant: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    elapsed: Duration,
    sleeps: Vec<Duration>,
    /// Pending sleeps: id -> wake-up (elapsed time).
    pending: std::collections::BTreeMap<u64, Duration>,
    next_id: u64,
}

impl ManualClock {
    /// A clock whose wall time starts at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            wake_limit: None,
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

    /// Sleeps longer than `limit` never end and are not recorded. For tests
    /// against real peers: real I/O takes real time, which a virtual timer
    /// cannot see, so the deadline bounds around AWS calls (tens of seconds)
    /// would fire at once; with a limit between the retry sleeps a test
    /// watches and those bounds, only the retry sleeps run on virtual time.
    pub fn with_wake_limit(mut self, limit: Duration) -> Self {
        self.wake_limit = Some(limit);
        self
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
        if self.wake_limit.is_some_and(|limit| d > limit) {
            return Box::pin(std::future::pending());
        }
        let (id, wake) = {
            let mut s = self.state();
            s.sleeps.push(d);
            let wake = s.elapsed + d;
            let id = s.next_id;
            s.next_id += 1;
            s.pending.insert(id, wake);
            (id, wake)
        };
        Box::pin(VirtualSleep {
            clock: self,
            id,
            wake,
            earliest_polls: 0,
        })
    }
}

/// Polls in a row in which a sleep must be the earliest pending one before
/// it ends: the tasks it let run meanwhile (one woken by a lock another
/// sleeper released, say) get the chance to ask for their own, earlier,
/// sleeps first.
const EARLIEST_POLLS: u32 = 3;

/// Yields (so other tasks run) until its wake-up is the earliest pending
/// one, then moves the clock to `wake`.
struct VirtualSleep<'a> {
    clock: &'a ManualClock,
    id: u64,
    wake: Duration,
    earliest_polls: u32,
}

impl Future for VirtualSleep<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let earliest = {
            let s = self.clock.state();
            !s.pending.values().any(|&w| w < self.wake)
        };
        self.earliest_polls = if earliest { self.earliest_polls + 1 } else { 0 };
        if self.earliest_polls <= EARLIEST_POLLS {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut s = self.clock.state();
        s.elapsed = s.elapsed.max(self.wake);
        s.pending.remove(&self.id);
        Poll::Ready(())
    }
}

impl Drop for VirtualSleep<'_> {
    fn drop(&mut self) {
        self.clock.state().pending.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[tokio::test]
    async fn a_timer_fires_only_after_earlier_sleeps_of_other_tasks() {
        // A step that waits 1 s on the clock, raced against a 10 s timer: the
        // step ends first, at 1 s; the dropped timer moves nothing.
        let c = ManualClock::new(datetime!(2026-11-30 12:00:00 UTC));
        let step = async {
            c.sleep(Duration::from_secs(1)).await;
            "step"
        };
        let timer = async {
            c.sleep(Duration::from_secs(10)).await;
            "timer"
        };
        let winner = tokio::select! {
            biased;
            t = timer => t,
            s = step => s,
        };
        assert_eq!(winner, "step");
        assert_eq!(c.elapsed(), Duration::from_secs(1));
        // Nothing pending is left behind by the dropped timer.
        c.sleep(Duration::from_secs(2)).await;
        assert_eq!(c.elapsed(), Duration::from_secs(3));
    }

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
