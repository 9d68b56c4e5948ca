//! Port: reading LWA credentials (a Secrets Manager secret).

use crate::credentials::{Credentials, CredentialsError, SecretDocument};
use crate::previous_secret::PreviousClient;

/// Why a credentials load failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialsLoadError {
    /// The contents are unusable (the error names the secret and the field).
    #[error("{0}")]
    Invalid(CredentialsError),
    /// The secret cannot be read; the text says why and what to do.
    #[error("{0}")]
    Unavailable(String),
}

/// Reads credentials secrets.
#[allow(async_fn_in_trait)]
pub trait CredentialsRead {
    /// One secret's document as stored; its fields may be partial (a fleet
    /// profile may hold only a refresh token).
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError>;

    /// Complete credentials for one profile. By default: the document of
    /// `secret_id` alone must hold them all.
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        self.read_document(secret_id)
            .await?
            .into_credentials(None)
            .map_err(CredentialsLoadError::Invalid)
    }

    /// The client of the secret's `AWSPREVIOUS` version, for the
    /// previous-secret fallback ([`crate::previous_secret`]); `Ok(None)` when
    /// there is none. By default: none.
    async fn read_previous_client(
        &self,
        secret_id: &str,
    ) -> Result<Option<PreviousClient>, CredentialsLoadError> {
        let _ = secret_id;
        Ok(None)
    }
}

impl<T: CredentialsRead + ?Sized> CredentialsRead for &T {
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError> {
        (**self).read_document(secret_id).await
    }
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        (**self).load(secret_id).await
    }
    async fn read_previous_client(
        &self,
        secret_id: &str,
    ) -> Result<Option<PreviousClient>, CredentialsLoadError> {
        (**self).read_previous_client(secret_id).await
    }
}
