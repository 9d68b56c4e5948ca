//! Port: the LWA token endpoint.

use crate::credentials::Credentials;
use crate::lwa::{ExchangeStats, LwaError, TokenResponse};
use tokio::time::Instant;

/// The token endpoint, as the refresh use case sees it.
#[allow(async_fn_in_trait)]
pub trait TokenEndpoint {
    /// One exchange, with the endpoint's own retries, finishing before
    /// `deadline`. Counts requests and latency into `stats`.
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError>;
}

impl<T: TokenEndpoint + ?Sized> TokenEndpoint for &T {
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError> {
        (**self).request_token(credentials, deadline, stats).await
    }
}
