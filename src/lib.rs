//! LWA token service for the Amazon Selling Partner API.
//!
//! One place keeps a valid Login-with-Amazon (LWA) access token and hands it
//! out: `token-refresher` (scheduled) reads the credentials from Secrets
//! Manager, calls the LWA token endpoint when the stored token nears expiry
//! and writes it to an SSM SecureString parameter (one profile, or a fleet
//! of them); `token-reader` serves it to other Lambdas (direct invoke) and
//! over an IAM-authenticated function URL.
//!
//! Data flows one way: event → [`handler`] → use case ([`refresh`],
//! [`fleet`], [`reader`]) → [`ports`] (narrow traits, one per capability,
//! and the [`ports::Clock`]) → adapters ([`aws`]: Secrets Manager and SSM;
//! [`lwa`]: the token endpoint over reqwest). [`runtime`] wires them
//! together once per cold start; [`testing`] holds the fakes the tests use.

pub mod authorization;
pub mod aws;
pub mod bounded;
pub mod budget;
pub mod config;
pub mod credential_keys;
pub mod credentials;
pub mod error;
pub mod fleet;
pub mod handler;
pub mod https;
pub mod json_keys;
pub mod lwa;
pub mod onboarding;
pub mod ports;
pub mod profile;
pub mod query_string;
pub mod quote_check;
pub mod reader;
pub mod refresh;
pub mod refresh_report;
pub mod rotated_refresh_token;
pub mod runtime;
pub mod secret;
pub mod telemetry;
pub mod testing;
pub mod tls;
pub mod token;
// Client-secret rotation: `client-secret-rotator` ([`rotation`]), its SP-API
// adapter ([`spapi`]) and the refresher's previous-secret fallback.
pub mod previous_secret;
pub mod rotation;
pub mod spapi;
