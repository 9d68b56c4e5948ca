//! Port: publishing what happens to a seller's authorization (`Seller
//! Authorization Lost` / `Seller Authorization Restored`), on EventBridge in
//! production (`CONTRACT.md`, "Authorization lost and restored").
//!
//! The trait returns a boxed future, like [`super::Clock::sleep`], so the
//! refresher can hold one as a [`SharedEvents`] without another type
//! parameter.

use crate::error::ErrorType;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::time::Instant;

/// The `source` of every event this service publishes.
pub const EVENT_SOURCE: &str = "spapi.lwa-token-service";

/// Which event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationEventKind {
    /// The seller's authorization is gone (published once per loss).
    Lost,
    /// The first successful refresh after a loss.
    Restored,
}

impl AuthorizationEventKind {
    /// The EventBridge `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::Lost => "Seller Authorization Lost",
            Self::Restored => "Seller Authorization Restored",
        }
    }
}

/// The event's `detail` (JSON). Never a secret: names, the errorType, a
/// message built from the contract's errors (which hold none), times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationEventDetail {
    /// Fleet profile name; omitted in single mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The token parameter.
    pub parameter: String,
    /// From the profile's secret, when it has `selling_partner_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selling_partner_id: Option<String>,
    /// From the profile's secret, when it has `region` (`na`, `eu`, `fe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `LwaInvalidGrant` or `LwaUnauthorizedClient`.
    pub error_type: ErrorType,
    /// What happened and what to do.
    pub message: String,
    /// When the loss was first seen (UTC, RFC 3339, whole seconds).
    pub since: String,
    /// Restored only: whole seconds from `since` to the restoring refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_seconds: Option<i64>,
}

/// One event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationEvent {
    /// Lost or Restored.
    pub kind: AuthorizationEventKind,
    /// The `detail`.
    pub detail: AuthorizationEventDetail,
}

/// The event was not published. The text is the AWS error code and message
/// with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct PublishError {
    /// What failed.
    pub detail: String,
}

/// Publishes authorization events.
pub trait EventPublish: Send + Sync {
    /// Publishes `event`, giving up at `deadline`.
    fn publish<'a>(
        &'a self,
        event: &'a AuthorizationEvent,
        deadline: Instant,
    ) -> Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>>;
}

/// The publisher shared by a refresher (or a fleet) and its runs.
pub type SharedEvents = Arc<dyn EventPublish>;
