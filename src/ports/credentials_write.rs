//! Port: saving credentials: the rotated refresh token LWA may return.

use crate::credentials::RefreshTokenOrigin;
use crate::secret::RefreshToken;

/// The secret could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct CredentialsSaveError {
    /// AWS error code and message (never the secret's value).
    pub detail: String,
}

/// Writes a rotated refresh token back to its secret.
#[allow(async_fn_in_trait)]
pub trait CredentialsWrite {
    /// Writes the secret of `origin` with `new` under every key that held
    /// the old refresh token, every other field kept (`PutSecretValue`).
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), CredentialsSaveError>;
}

impl<T: CredentialsWrite + ?Sized> CredentialsWrite for &T {
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), CredentialsSaveError> {
        (**self).save_refresh_token(origin, new).await
    }
}
