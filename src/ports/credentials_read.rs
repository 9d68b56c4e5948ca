//! Port: reading LWA credentials (a Secrets Manager secret).

use crate::credentials::{Credentials, CredentialsError, SecretDocument};

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
}

impl<T: CredentialsRead + ?Sized> CredentialsRead for &T {
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError> {
        (**self).read_document(secret_id).await
    }
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        (**self).load(secret_id).await
    }
}
