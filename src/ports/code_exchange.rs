//! The LWA `authorization_code` grant as seller onboarding sees it: one
//! exchange of Amazon's `spapi_oauth_code` for a refresh token and a first
//! access token. Source: "Website authorization workflow", step 5 (exchange
//! the code: `grant_type=authorization_code`, `code`, `redirect_uri`,
//! `client_id`, `client_secret`).

use crate::lwa::LwaError;
use crate::onboarding::secrets::AuthCode;
use crate::secret::{AccessToken, RefreshToken};
use time::OffsetDateTime;
use tokio::time::Instant;

/// A successful exchange.
pub struct CodeGrant {
    /// The seller's refresh token (`Atzr|…`).
    pub refresh_token: RefreshToken,
    /// A first access token (`Atza|…`).
    pub access_token: AccessToken,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// When the request was sent.
    pub requested_at: OffsetDateTime,
}

/// Why the exchange failed.
#[derive(Debug, Clone)]
pub enum ExchangeError {
    /// LWA answered (or could not be reached); see [`LwaError`].
    Lwa(LwaError),
    /// The app's client ID and secret could not be read; one line.
    AppCredentials(String),
}

/// The code exchange port.
#[allow(async_fn_in_trait)]
pub trait CodeExchange {
    /// Exchanges `code` (sent with `redirect_uri`, exactly as registered)
    /// once, finishing before `deadline`. Never retried: a code is single use.
    async fn exchange(
        &self,
        code: &AuthCode,
        redirect_uri: &str,
        deadline: Instant,
    ) -> Result<CodeGrant, ExchangeError>;
}

impl<T: CodeExchange + ?Sized> CodeExchange for &T {
    async fn exchange(
        &self,
        code: &AuthCode,
        redirect_uri: &str,
        deadline: Instant,
    ) -> Result<CodeGrant, ExchangeError> {
        (**self).exchange(code, redirect_uri, deadline).await
    }
}
