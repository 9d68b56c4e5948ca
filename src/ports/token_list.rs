//! Port: listing the stored tokens under a parameter prefix (fleet mode).

use super::TokenLoadError;
use crate::token::StoredToken;
use std::collections::HashMap;

/// Stored tokens under a prefix: parameter name → the token, or why its value
/// is unusable ([`TokenLoadError::Malformed`]).
pub type StoredTokens = HashMap<String, Result<StoredToken, TokenLoadError>>;

/// The listing itself failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct TokenListError {
    /// The AWS call, its error code and message, and the fix.
    pub detail: String,
}

/// Lists the tokens whose parameter name starts with a prefix.
#[allow(async_fn_in_trait)]
pub trait TokenList {
    /// Every stored token whose parameter name starts with `prefix`.
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, TokenListError>;
}

impl<T: TokenList + ?Sized> TokenList for &T {
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, TokenListError> {
        (**self).load_prefix(prefix).await
    }
}
