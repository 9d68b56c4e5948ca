//! The fleet's gate in front of LWA:
//! - at most `permits` token requests in flight (the concurrency bound is on
//!   LWA; reads and writes of other profiles go on beside it);
//! - a request that could not finish before the deadline is not started
//!   ([`LwaError::NotStarted`]: its profile is deferred);
//! - a client ID and client secret pair that LWA answered `invalid_client`
//!   is not sent again in this run ([`LwaError::ClientRejectedEarlier`]: no
//!   hammering with known-bad credentials); a re-read secret with a new
//!   client secret is a new pair.

use crate::budget::TimeBudget;
use crate::credentials::Credentials;
use crate::lwa::{ExchangeStats, LwaError, TokenResponse};
use crate::ports::{Clock, TokenEndpoint};
use std::cell::RefCell;
use std::collections::HashSet;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// A [`TokenEndpoint`] that bounds, times and filters the requests to the
/// one it wraps.
pub struct GatedEndpoint<'a, E> {
    inner: E,
    permits: Semaphore,
    budget: TimeBudget,
    clock: &'a dyn Clock,
    rejected: RefCell<HashSet<String>>,
}

impl<'a, E> GatedEndpoint<'a, E> {
    /// At most `concurrency` requests at once (at least one); a request
    /// starts only with room for it in `budget`.
    pub fn new(inner: E, concurrency: usize, budget: TimeBudget, clock: &'a dyn Clock) -> Self {
        Self {
            inner,
            permits: Semaphore::new(concurrency.max(1)),
            budget,
            clock,
            rejected: RefCell::new(HashSet::new()),
        }
    }
}

/// A pair's key: a fingerprint, so the set holds no secret.
fn client_key(credentials: &Credentials) -> String {
    crate::secret::fingerprint(&format!(
        "{}\u{0}{}",
        credentials.client_id,
        credentials.client_secret.expose_secret()
    ))
}

impl<E: TokenEndpoint> TokenEndpoint for GatedEndpoint<'_, E> {
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let key = client_key(credentials);
        if self.rejected.borrow().contains(&key) {
            return Err(LwaError::ClientRejectedEarlier);
        }
        // Checked after the wait for a permit: the wait may have used the time.
        if !self.budget.room_for_request(self.clock.instant(), deadline) {
            return Err(LwaError::NotStarted {
                reason: "too close to the Lambda deadline".into(),
            });
        }
        let answer = self.inner.request_token(credentials, deadline, stats).await;
        if answer.as_ref().is_err_and(LwaError::is_invalid_client) {
            self.rejected.borrow_mut().insert(key);
        }
        answer
    }
}
