//! Outbound HTTPS shared by the crate's two HTTP peers, LWA
//! ([`crate::lwa`]) and SP-API ([`crate::spapi`]): one reqwest client
//! configuration (rustls, no redirects, the SP-API `User-Agent`), one capped
//! read of an answer, `Retry-After`, and one retry loop bounded by the
//! Lambda deadline.
//!
//! - [`client`] — the client, one request sent and its answer read (capped);
//! - [`retry_after`] — the `Retry-After` header (seconds or an HTTP date);
//! - [`backoff`] — exponential backoff with full jitter;
//! - [`retry_loop`] — attempts until done, out of attempts or out of time.

pub mod backoff;
pub mod client;
pub mod retry_after;
pub mod retry_loop;

pub use backoff::{backoff, backoff_ceiling};
pub use client::{build_client, send, Answer, Sent, MAX_BODY, USER_AGENT};
pub use retry_after::retry_after;
pub use retry_loop::{Attempt, Retries, RetryPolicy, Stopped, MIN_ATTEMPT};
