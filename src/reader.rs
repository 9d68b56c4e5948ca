//! Serving the stored token: a memory cache in front of SSM and a validity
//! floor. No AWS or HTTP types here.
//!
//! A warm reader serves from memory while the cached token is younger than
//! `TOKEN_CACHE_SECONDS` and has more than `MIN_VALIDITY_SECONDS` to live;
//! otherwise it reads the parameter again. It never returns a token below
//! the floor.

use crate::bounded::within;
use crate::ports::{system_clock, SharedClock, TokenLoadError, TokenRead};
use crate::token::{rfc3339, StoredToken};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// The token as handed to callers. This is the one response that carries an
/// access token.
#[derive(Serialize)]
pub struct TokenAnswer {
    /// The LWA access token (`Atza|…`).
    pub access_token: String,
    /// `bearer`.
    pub token_type: String,
    /// UTC, RFC 3339, whole seconds.
    pub expires_at: String,
    /// Whole seconds left at the moment of answering.
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field(
                "token_fingerprint",
                &crate::secret::fingerprint(&self.access_token),
            )
            .field("expires_at", &self.expires_at)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Why no token can be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// No usable token: the message says whether the parameter is missing,
    /// unreadable or stale, and to look at the refresher. Safe for callers.
    Unavailable(String),
    /// AWS failed. The detail is for the log only, never for an HTTP caller.
    Upstream(String),
    /// The seller's authorization is lost and no token with enough time is
    /// left: the message names the fix (re-authorize the seller). Safe for
    /// callers.
    AuthorizationLost(String),
}

/// A served token, and whether it came from memory.
#[derive(Debug)]
pub struct Served {
    /// What the caller gets.
    pub answer: TokenAnswer,
    /// `true` when served from the warm cache without reading SSM.
    pub from_memory: bool,
}

struct Cached {
    token: StoredToken,
    fetched_at: OffsetDateTime,
}

/// The reader use case over a [`TokenRead`] port. One cache entry per
/// parameter (fleet mode serves many).
pub struct Reader<S> {
    store: S,
    cache_ttl: Duration,
    min_validity: Duration,
    cache: Mutex<HashMap<String, Cached>>,
    clock: SharedClock,
}

impl<S: TokenRead> Reader<S> {
    /// A reader with the cache age and validity floor of
    /// [`crate::config::ReaderConfig`], on the system clock.
    pub fn new(store: S, cache_ttl: Duration, min_validity: Duration) -> Self {
        Self {
            store,
            cache_ttl,
            min_validity,
            cache: Mutex::new(HashMap::new()),
            clock: system_clock(),
        }
    }

    /// The same reader on `clock` (cache age, time left).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn usable(&self, token: &StoredToken, now: OffsetDateTime) -> bool {
        token.seconds_left(now) > self.min_validity.as_secs() as i64
    }

    /// The token of `parameter` now, from memory when fresh enough, else
    /// from SSM (however long that takes).
    pub async fn get(&self, parameter: &str) -> Result<Served, ReadError> {
        self.read(parameter, None).await
    }

    /// [`Reader::get`], with the SSM read stopped at `until` (the Lambda
    /// deadline less the answer margin): a stalled read becomes
    /// [`ReadError::Upstream`] in time.
    pub async fn get_before(&self, parameter: &str, until: Instant) -> Result<Served, ReadError> {
        self.read(parameter, Some(until)).await
    }

    async fn read(&self, parameter: &str, until: Option<Instant>) -> Result<Served, ReadError> {
        let now = self.clock.now();
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = cache.get(parameter) {
                let age = now - c.fetched_at;
                if age >= time::Duration::ZERO && age < self.cache_ttl && self.usable(&c.token, now)
                {
                    return Ok(Served {
                        answer: answer(&c.token, now),
                        from_memory: true,
                    });
                }
            }
        }
        let loaded = match until {
            None => self.store.load(parameter).await,
            Some(until) => within(&*self.clock, until, self.store.load(parameter))
                .await
                .unwrap_or_else(|late| {
                    Err(TokenLoadError::Unavailable(
                        late.describe("GetParameter", false),
                    ))
                }),
        };
        let token = match loaded {
            Ok(Some(token)) => token,
            Ok(None) => {
                return Err(ReadError::Unavailable(format!(
                    "parameter `{parameter}` does not exist: the token-refresher has not stored a token there \
                     yet. Check the name (in fleet mode, the profile name and that its secret exists under the \
                     secret prefix), that the refresher is scheduled, and its logs"
                )))
            }
            Err(TokenLoadError::Malformed(why)) => {
                return Err(ReadError::Unavailable(format!(
                    "parameter `{parameter}` is unreadable ({why}); force a refresh with the token-refresher \
                     ({{\"action\":\"refresh\",\"force\":true}}), which rewrites it"
                )))
            }
            Err(TokenLoadError::Unavailable(detail)) => return Err(ReadError::Upstream(detail)),
        };
        if let (Some(marker), false) = (&token.authorization_lost, self.usable(&token, now)) {
            return Err(ReadError::AuthorizationLost(
                crate::authorization::notice::reader_message(parameter, marker, &token),
            ));
        }
        if !self.usable(&token, now) {
            let left = token.seconds_left(now);
            let state = if left <= 0 {
                format!("expired at {} ({} s ago)", rfc3339(token.expires_at), -left)
            } else {
                format!(
                    "expires at {} ({left} s left, below MIN_VALIDITY_SECONDS={})",
                    rfc3339(token.expires_at),
                    self.min_validity.as_secs()
                )
            };
            return Err(ReadError::Unavailable(format!(
                "the token in parameter `{parameter}` {state}; it was issued at {} and has not been refreshed \
                 since: look at the token-refresher's errors and logs",
                rfc3339(token.issued_at)
            )));
        }
        let served = answer(&token, now);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(
            parameter.to_owned(),
            Cached {
                token,
                fetched_at: now,
            },
        );
        Ok(Served {
            answer: served,
            from_memory: false,
        })
    }
}

fn answer(token: &StoredToken, now: OffsetDateTime) -> TokenAnswer {
    TokenAnswer {
        access_token: token.access_token.expose_secret().to_owned(),
        token_type: token.token_type.clone(),
        expires_at: rfc3339(token.expires_at),
        expires_in: token.seconds_left(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::AccessToken;
    use crate::testing::{Call, FakeStore, Journal, ManualClock};
    use std::sync::Arc;
    use time::macros::datetime;

    #[test]
    fn debug_of_an_answer_shows_the_fingerprint_not_the_token() {
        let answer = TokenAnswer {
            access_token: "Atza|SERVED".into(),
            token_type: "bearer".into(),
            expires_at: "2026-12-01T10:00:00Z".into(),
            expires_in: 1200,
        };
        let fingerprint = crate::secret::fingerprint("Atza|SERVED");
        assert_eq!(
            format!("{answer:?}"),
            format!(
                "TokenAnswer {{ token_fingerprint: {fingerprint:?}, expires_at: \"2026-12-01T10:00:00Z\", expires_in: 1200 }}"
            )
        );
    }

    const T0: OffsetDateTime = datetime!(2026-11-30 12:00:00 UTC);

    fn token(expires_in: u64) -> StoredToken {
        StoredToken::new(AccessToken::new("Atza|T"), "bearer", T0, expires_in)
    }
    /// A store holding `t` at `/p`, if any.
    fn store(t: Option<StoredToken>) -> FakeStore {
        let s = FakeStore::new(&Journal::new());
        if let Some(t) = t {
            s.put("/p", t);
        }
        s
    }
    fn reads(s: &FakeStore) -> usize {
        s.journal.count(|c| matches!(c, Call::TokenLoaded(_)))
    }
    /// A reader on a virtual clock at T0, with a 60 s cache and a 300 s floor.
    fn reader(s: &FakeStore) -> (Reader<&FakeStore>, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(T0));
        let r = Reader::new(s, Duration::from_secs(60), Duration::from_secs(300))
            .with_clock(clock.clone());
        (r, clock)
    }
    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[tokio::test]
    async fn serves_from_memory_within_the_cache_age() {
        let s = store(Some(token(3600)));
        s.put("/q", token(3600));
        let (r, clock) = reader(&s);
        let served = r.get("/p").await.unwrap();
        assert!(!served.from_memory);
        let a = served.answer;
        assert_eq!((a.expires_in, a.access_token.as_str()), (3600, "Atza|T"));
        assert_eq!(a.expires_at, "2026-11-30T13:00:00Z");
        clock.advance(secs(59));
        let served = r.get("/p").await.unwrap();
        assert!(served.from_memory);
        assert_eq!(
            served.answer.expires_in, 3541,
            "seconds left at the moment of answering"
        );
        assert_eq!(reads(&s), 1);
        clock.advance(secs(1));
        assert!(
            !r.get("/p").await.unwrap().from_memory,
            "read again once the cache age is reached"
        );
        assert_eq!(reads(&s), 2);
        // Each parameter has its own entry.
        assert!(!r.get("/q").await.unwrap().from_memory);
        assert!(r.get("/p").await.unwrap().from_memory);
    }

    #[tokio::test]
    async fn rereads_when_the_cached_token_nears_the_floor() {
        let s = store(Some(token(330)));
        let (r, clock) = reader(&s);
        r.get("/p").await.unwrap();
        // 29 s later: 301 s left, still above the floor.
        clock.advance(secs(29));
        assert!(r.get("/p").await.unwrap().from_memory);
        // 31 s later: 299 s left: not served from memory; SSM still has the
        // old token, so it is refused.
        clock.advance(secs(2));
        let e = r.get("/p").await.unwrap_err();
        assert_eq!(reads(&s), 2);
        match e {
            ReadError::Unavailable(m) => assert!(
                m.contains("MIN_VALIDITY_SECONDS") && m.contains("token-refresher"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        // The refresher wrote a new one: served.
        s.put(
            "/p",
            StoredToken::new(AccessToken::new("Atza|N"), "bearer", T0 + secs(31), 3600),
        );
        clock.advance(secs(1));
        let served = r.get("/p").await.unwrap();
        assert!(!served.from_memory);
        assert_eq!(served.answer.access_token, "Atza|N");
    }

    #[tokio::test]
    async fn a_token_exactly_at_the_floor_is_refused() {
        let s = store(Some(token(300)));
        let (r, _) = reader(&s);
        assert!(matches!(r.get("/p").await, Err(ReadError::Unavailable(_))));
        let s = store(Some(token(301)));
        let (r, _) = reader(&s);
        assert_eq!(r.get("/p").await.unwrap().answer.expires_in, 301);
    }

    #[tokio::test]
    async fn unavailable_says_why() {
        let malformed = store(None);
        malformed.put_malformed("/p", "not JSON");
        let cases = [
            (store(None), "does not exist"),
            (malformed, "unreadable (not JSON)"),
            (
                store(Some(token(100))),
                "expired at 2026-11-30T12:01:40Z (100 s ago)",
            ),
            (
                store(Some(token(400))),
                "expires at 2026-11-30T12:06:40Z (200 s left",
            ),
        ];
        for (s, needle) in cases {
            let (r, clock) = reader(&s);
            clock.advance(secs(200));
            match r.get("/p").await.unwrap_err() {
                ReadError::Unavailable(m) => {
                    assert!(m.contains(needle) && m.contains("`/p`"), "{m}")
                }
                other => panic!("{other:?}"),
            }
        }
        let s = store(None);
        *s.fail_loads.borrow_mut() = Some(TokenLoadError::Unavailable(
            "AccessDeniedException: no".into(),
        ));
        assert_eq!(
            reader(&s).0.get("/p").await.unwrap_err(),
            ReadError::Upstream("AccessDeniedException: no".into())
        );
    }

    #[tokio::test]
    async fn a_lost_authorization_is_named_once_the_last_token_runs_out() {
        use crate::authorization::{AuthorizationLost, LostReason};
        let marker = AuthorizationLost::new(LostReason::LwaInvalidGrant, T0, "3f2a9c1d".into());
        // Still time left: served.
        let s = store(Some(token(3600).with_marker(Some(marker.clone()))));
        let (r, clock) = reader(&s);
        assert!(r.get("/p").await.is_ok());
        // Below the floor: authorization_lost with the fix.
        clock.advance(secs(3301));
        match r.get("/p").await.unwrap_err() {
            ReadError::AuthorizationLost(m) => assert!(
                m.contains("lost since 2026-11-30T12:00:00Z")
                    && m.contains("LwaInvalidGrant")
                    && m.contains("re-authorize the app")
                    && m.contains("onboarding link"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        // The marker alone: no token at all.
        let s = store(Some(StoredToken::marker_only(marker)));
        let (r, _) = reader(&s);
        match r.get("/p").await.unwrap_err() {
            ReadError::AuthorizationLost(m) => {
                assert!(m.contains("no token was ever stored"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stalled_read_ends_in_time_as_an_aws_failure() {
        use crate::ports::Clock;
        struct Stalled;
        impl TokenRead for Stalled {
            async fn load(&self, _: &str) -> Result<Option<StoredToken>, TokenLoadError> {
                std::future::pending().await
            }
        }
        let clock = Arc::new(ManualClock::new(T0));
        let r = Reader::new(Stalled, secs(60), secs(300)).with_clock(clock.clone());
        let until = clock.instant() + Duration::from_millis(1500);
        let result = tokio::time::timeout(secs(5), r.get_before("/p", until))
            .await
            .expect("must end by `until`, not hang");
        let Err(ReadError::Upstream(detail)) = result else {
            panic!("expected an AWS failure")
        };
        assert!(
            detail.contains("GetParameter did not finish within the 1500 ms"),
            "{detail}"
        );
        assert_eq!(clock.elapsed(), Duration::from_millis(1500));
    }
}
