//! A seller's lost authorization, and its restoration (`CONTRACT.md`,
//! "Authorization lost and restored"). When LWA answers `invalid_grant` or
//! `unauthorized_client`, the refresher records an [`AuthorizationLost`]
//! marker in the stored token's JSON (the access token left as it was),
//! publishes `Seller Authorization Lost` once per loss, sends the refused
//! refresh token at most once an hour (a new one at once), and on the first
//! success publishes `Seller Authorization Restored`. The reader answers
//! `authorization_lost` once the last token has run out.
//!
//! - [`marker`] — the marker and the hourly rule;
//! - [`watch`] — the rules around one profile's token request;
//! - [`notice`] — the events' detail and the messages.

pub mod marker;
pub mod notice;
pub mod watch;

pub use marker::{AuthorizationLost, LostReason, RETRY_INTERVAL};
pub(crate) use watch::refresh_guarded;
pub use watch::Loss;
