//! Port: writing one token (the SSM parameter, a SecureString, overwritten).

use crate::token::StoredToken;

/// Why a token could not be written. The text is the AWS error code and
/// message with the fix; never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenSaveError {
    /// Throttled past the SDK's retries: worth another try later with the
    /// same token.
    #[error("{0}")]
    Throttled(String),
    /// Refused or failed for any other reason.
    #[error("{0}")]
    Failed(String),
}

impl TokenSaveError {
    /// `true` for [`TokenSaveError::Throttled`].
    pub fn is_throttled(&self) -> bool {
        matches!(self, TokenSaveError::Throttled(_))
    }

    /// The one-line reason.
    pub fn detail(&self) -> &str {
        match self {
            TokenSaveError::Throttled(d) | TokenSaveError::Failed(d) => d,
        }
    }
}

/// Writes the token of one parameter.
#[allow(async_fn_in_trait)]
pub trait TokenWrite {
    /// Writes `token` to `parameter` (SecureString, `Overwrite`). A failed
    /// write leaves the previous value as it was.
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError>;
}

impl<T: TokenWrite + ?Sized> TokenWrite for &T {
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError> {
        (**self).save(parameter, token).await
    }
}
