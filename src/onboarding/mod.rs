//! Seller onboarding: a signed link takes a seller through Amazon's consent
//! page (website authorization workflow) or the Login-URI step, and the
//! resulting refresh token becomes a fleet profile. See `docs/onboarding.md`.
//!
//! Pure logic (one concept per file): [`marketplace`], [`signing`],
//! [`ticket`], [`state`], [`cookie`], [`query`], [`callback_uri`],
//! [`pages`], [`profile_doc`], [`config`]; the use case [`routes`] and the
//! operator's [`link`] action over the ports in [`crate::ports`]; adapters
//! [`exchange`] (LWA) and [`secrets_store`] (Secrets Manager); the Lambda
//! glue in [`handler`] and [`runtime`].

mod authorize;
mod callback;
pub mod callback_uri;
pub mod config;
pub mod cookie;
pub mod exchange;
pub mod handler;
pub mod link;
mod login;
pub mod marketplace;
pub mod pages;
pub mod profile_doc;
pub mod routes;
pub mod runtime;
pub mod secrets;
pub mod secrets_store;
pub mod signing;
pub mod state;
pub mod ticket;
