//! Paced writes: PutParameter has a per-account quota of a few calls per
//! second, so a fleet's writes are spread out, and a throttled write is
//! retried with the same token (LWA is not asked again).

use crate::lwa::backoff;
use crate::ports::{Clock, TokenLoadError, TokenRead, TokenSaveError, TokenWrite};
use crate::token::StoredToken;
use std::cell::Cell;
use std::time::Duration;
use tokio::time::Instant;

/// Attempts of a throttled write.
pub const WRITE_ATTEMPTS: u32 = 4;
/// The fixed part of the wait after throttled attempt `n`: `n` times this
/// (plus [`backoff`]).
pub const THROTTLE_STEP: Duration = Duration::from_millis(500);

/// Paces writes: one `save` start per `1/tps` seconds; throttled writes are
/// retried up to [`WRITE_ATTEMPTS`] times.
pub struct PacedStore<'c, S> {
    inner: S,
    interval: Option<Duration>,
    next: Cell<Option<Instant>>,
    clock: &'c dyn Clock,
}

impl<'c, S> PacedStore<'c, S> {
    /// `tps` writes per second on `clock`; 0 = unpaced.
    pub fn new(inner: S, tps: u32, clock: &'c dyn Clock) -> Self {
        Self {
            inner,
            interval: (tps > 0).then(|| Duration::from_secs(1) / tps),
            next: Cell::new(None),
            clock,
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Waits for this write's slot: the first at once, each next one
    /// `1/tps` after the previous one's.
    async fn slot(&self) {
        if let Some(interval) = self.interval {
            let now = self.clock.instant();
            let slot = self.next.get().map_or(now, |n| n.max(now));
            self.next.set(Some(slot + interval));
            let wait = slot.saturating_duration_since(now);
            if !wait.is_zero() {
                self.clock.sleep(wait).await;
            }
        }
    }
}

impl<S: TokenRead> TokenRead for PacedStore<'_, S> {
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
        self.inner.load(parameter).await
    }
}

impl<S: TokenWrite> TokenWrite for PacedStore<'_, S> {
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.slot().await;
            match self.inner.save(parameter, token).await {
                Err(e) if e.is_throttled() && attempt < WRITE_ATTEMPTS => {
                    let wait = THROTTLE_STEP * attempt + backoff(attempt);
                    tracing::warn!(
                        parameter,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "PutParameter throttled; retrying the write"
                    );
                    self.clock.sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessToken;
    use crate::testing::ManualClock;
    use std::cell::RefCell;

    fn token() -> StoredToken {
        StoredToken::new(
            AccessToken::new("Atza|x"),
            "bearer",
            time::macros::datetime!(2026-11-30 12:00:00 UTC),
            3600,
        )
    }

    /// Records when each write starts, and fails the first `throttled` ones.
    struct Writes<'c> {
        clock: &'c ManualClock,
        at: RefCell<Vec<Duration>>,
        throttled: u32,
    }
    impl TokenWrite for Writes<'_> {
        async fn save(&self, _: &str, _: &StoredToken) -> Result<(), TokenSaveError> {
            self.at.borrow_mut().push(self.clock.elapsed());
            if self.at.borrow().len() as u32 <= self.throttled {
                Err(TokenSaveError::Throttled(
                    "ThrottlingException: Rate exceeded".into(),
                ))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn writes_are_paced() {
        let clock = ManualClock::starting_now();
        let writes = Writes {
            clock: &clock,
            at: RefCell::default(),
            throttled: 0,
        };
        let store = PacedStore::new(&writes, 20, &clock);
        for _ in 0..5 {
            store.save("/p", &token()).await.unwrap();
        }
        let ms: Vec<u128> = writes.at.borrow().iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [0, 50, 100, 150, 200], "5 writes at 20 TPS");
        // Side by side, the slots are the same.
        let clock = ManualClock::starting_now();
        let writes = Writes {
            clock: &clock,
            at: RefCell::default(),
            throttled: 0,
        };
        let store = PacedStore::new(&writes, 4, &clock);
        let t = token();
        futures_util::future::join_all((0..3).map(|_| store.save("/p", &t))).await;
        assert_eq!(
            clock.sleeps(),
            [Duration::from_millis(250), Duration::from_millis(500)]
        );
        assert_eq!(clock.elapsed(), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn reads_pass_through_unpaced() {
        let clock = ManualClock::starting_now();
        let store = crate::testing::FakeStore::new(&crate::testing::Journal::default());
        store.put("/p", token());
        let paced = PacedStore::new(&store, 1, &clock);
        for _ in 0..3 {
            let loaded = paced.load("/p").await.unwrap().expect("stored");
            assert_eq!(
                loaded.access_token.fingerprint(),
                token().access_token.fingerprint()
            );
        }
        assert!(paced.load("/other").await.unwrap().is_none());
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn unpaced_writes_never_wait() {
        let clock = ManualClock::starting_now();
        let writes = Writes {
            clock: &clock,
            at: RefCell::default(),
            throttled: 0,
        };
        let store = PacedStore::new(&writes, 0, &clock);
        for _ in 0..3 {
            store.save("/p", &token()).await.unwrap();
        }
        assert!(clock.sleeps().is_empty());
    }

    #[tokio::test]
    async fn throttled_writes_are_retried_without_a_new_token() {
        let clock = ManualClock::starting_now();
        let writes = Writes {
            clock: &clock,
            at: RefCell::default(),
            throttled: 2,
        };
        let store = PacedStore::new(&writes, 0, &clock);
        store.save("/p", &token()).await.unwrap();
        assert_eq!(writes.at.borrow().len(), 3);
        // After throttled attempt n: n × 500 ms plus up to the backoff ceiling.
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 2);
        for (n, s) in sleeps.iter().enumerate() {
            let n = n as u32 + 1;
            assert!(*s >= THROTTLE_STEP * n, "{sleeps:?}");
            assert!(
                *s <= THROTTLE_STEP * n + crate::https::backoff_ceiling(n),
                "{sleeps:?}"
            );
        }

        // Throttled every time: WRITE_ATTEMPTS attempts, then the error.
        let clock = ManualClock::starting_now();
        let writes = Writes {
            clock: &clock,
            at: RefCell::default(),
            throttled: u32::MAX,
        };
        let store = PacedStore::new(&writes, 0, &clock);
        let e = store.save("/p", &token()).await.unwrap_err();
        assert!(e.is_throttled());
        assert_eq!(writes.at.borrow().len() as u32, WRITE_ATTEMPTS);
    }
}
