//! The clock seam: wall-clock time for token lifetimes and HTTP dates,
//! monotonic time for deadlines, and sleeping (retry backoff, write pacing).
//!
//! Production uses [`SystemClock`]; tests use
//! [`crate::testing::ManualClock`], whose time only moves when something
//! sleeps, so no test waits on the wall clock.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// Time as the use cases see it.
pub trait Clock: Send + Sync {
    /// Wall-clock time, UTC: token lifetimes, `Retry-After` HTTP dates, log
    /// timestamps.
    fn now(&self) -> OffsetDateTime;
    /// Monotonic time: Lambda deadlines and elapsed time.
    fn instant(&self) -> Instant;
    /// Waits `d` (retry backoff, write pacing).
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real clock: `OffsetDateTime::now_utc`, `tokio::time::Instant::now`
/// and `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn instant(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
    fn instant(&self) -> Instant {
        (**self).instant()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        (**self).sleep(d)
    }
}

impl<T: Clock + ?Sized> Clock for std::sync::Arc<T> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
    fn instant(&self) -> Instant {
        (**self).instant()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        (**self).sleep(d)
    }
}

/// The clock shared by the adapters and use cases of one process.
pub type SharedClock = std::sync::Arc<dyn Clock>;

/// The system clock as a [`SharedClock`].
pub fn system_clock() -> SharedClock {
    std::sync::Arc::new(SystemClock)
}
