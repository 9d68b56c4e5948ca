//! Port: reading one stored token (the SSM parameter).

use crate::token::StoredToken;

/// Why a stored token could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenLoadError {
    /// The parameter holds something that is not the token JSON; the text
    /// says what is wrong without quoting the value.
    #[error("{0}")]
    Malformed(String),
    /// AWS refused or failed; the text says why and what to do.
    #[error("{0}")]
    Unavailable(String),
}

/// Reads the token of one parameter.
#[allow(async_fn_in_trait)]
pub trait TokenRead {
    /// The stored token; `Ok(None)` when the parameter does not exist.
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError>;
}

impl<T: TokenRead + ?Sized> TokenRead for &T {
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
        (**self).load(parameter).await
    }
}
