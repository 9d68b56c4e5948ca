//! Port: discovering the fleet's secrets by name prefix.

use super::CredentialsLoadError;
use crate::credentials::SecretDocument;
use tokio::sync::mpsc::Sender;

/// One secret found by prefix: its name, and its document or why it is
/// unusable (a per-secret error does not stop the discovery).
pub struct DiscoveredSecret {
    /// The secret's name.
    pub name: String,
    /// The parsed document, or why it cannot be used.
    pub document: Result<SecretDocument, CredentialsLoadError>,
}

/// The listing failed: the secrets after the failure were not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct DiscoveryError {
    /// The AWS call, its error code and message, and the fix.
    pub detail: String,
}

/// Finds every secret whose name starts with a prefix.
#[allow(async_fn_in_trait)]
pub trait SecretDiscovery {
    /// Sends every secret whose name starts with `prefix` (case-sensitive) to
    /// `found` as it is read, so the fleet can start on the first ones while
    /// later ones are still being listed. Stops early, with `Ok`, when
    /// `found` is closed. `Err` when the listing itself failed; what was sent
    /// before stays valid.
    async fn discover_into(
        &self,
        prefix: &str,
        found: &Sender<DiscoveredSecret>,
    ) -> Result<(), DiscoveryError>;
}

impl<T: SecretDiscovery + ?Sized> SecretDiscovery for &T {
    async fn discover_into(
        &self,
        prefix: &str,
        found: &Sender<DiscoveredSecret>,
    ) -> Result<(), DiscoveryError> {
        (**self).discover_into(prefix, found).await
    }
}
