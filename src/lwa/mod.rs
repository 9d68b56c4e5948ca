//! The LWA token endpoint: request, response, error taxonomy, retry.
//!
//! `POST https://api.amazon.com/auth/o2/token`, form-urlencoded, with
//! `grant_type=refresh_token` (`refresh_token`, `client_id`, `client_secret`)
//! or `grant_type=client_credentials` (`scope`, `client_id`, `client_secret`).
//! Sources: "Connect to the Selling Partner API" (step 1, request a Login with
//! Amazon access token),
//! <https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api>,
//! and the LWA error codes of RFC 6749 §5.2.
//!
//! - [`types`] — the token, the counters, the error taxonomy;
//! - [`client`] — the reqwest adapter of [`crate::ports::TokenEndpoint`] and its retry loop;
//! - [`response`] — one HTTP answer classified;
//! - [`code_exchange`] — the `authorization_code` grant (seller onboarding).
//!
//! The HTTP client, the retry loop and backoff are [`crate::https`]'s.

pub mod client;
pub mod code_exchange;
pub mod response;
pub mod types;

pub use crate::https::backoff;
pub use client::{LwaClient, MIN_ATTEMPT, USER_AGENT};
pub use types::{ExchangeStats, LwaError, LwaErrorCode, TokenResponse};
