//! The [`CodeExchange`] adapter: the app's client ID and secret from
//! `LWA_APP_SECRET_ID` (read on every exchange: connections are rare, and a
//! rotated client secret is picked up at once), then
//! [`LwaClient::exchange_code`].

use crate::credentials::SecretDocument;
use crate::lwa::LwaClient;
use crate::onboarding::secrets::AuthCode;
use crate::ports::code_exchange::{CodeExchange, CodeGrant, ExchangeError};
use crate::ports::{CredentialsLoadError, CredentialsRead};
use tokio::time::Instant;

/// The exchange adapter.
pub struct LwaCodeExchange<C> {
    client: LwaClient,
    app_secret_id: String,
    secrets: C,
}

impl<C: CredentialsRead> LwaCodeExchange<C> {
    /// Exchanges through `client` with the app's credentials from
    /// `app_secret_id`, read through `secrets`.
    pub fn new(client: LwaClient, app_secret_id: String, secrets: C) -> Self {
        Self {
            client,
            app_secret_id,
            secrets,
        }
    }
}

impl<C: CredentialsRead> CodeExchange for LwaCodeExchange<C> {
    async fn exchange(
        &self,
        code: &AuthCode,
        redirect_uri: &str,
        deadline: Instant,
    ) -> Result<CodeGrant, ExchangeError> {
        let id = &self.app_secret_id;
        let app = self.secrets.read_document(id).await.map_err(|e| match e {
            CredentialsLoadError::Invalid(e) => ExchangeError::AppCredentials(e.to_string()),
            CredentialsLoadError::Unavailable(d) => ExchangeError::AppCredentials(format!(
                "could not read LWA_APP_SECRET_ID `{id}`: {d}"
            )),
        })?;
        // The app secret holds client_id and client_secret only; borrow the
        // credentials' validation by pairing it with a placeholder grant.
        let creds = SecretDocument::parse("-", r#"{"scope":"-"}"#)
            .and_then(|d| d.into_credentials(Some(&app)))
            .map_err(|_| {
                ExchangeError::AppCredentials(format!(
                    "LWA_APP_SECRET_ID `{id}` must hold the app's client_id and client_secret"
                ))
            })?;
        self.client
            .exchange_code(
                &creds.client_id,
                &creds.client_secret,
                code,
                redirect_uri,
                deadline,
            )
            .await
            .map_err(ExchangeError::Lwa)
    }
}
