//! One ordered record shared by the fakes, so a test can pin the order of
//! calls across ports (e.g. the rotated refresh token is saved before the
//! access token is written).

use std::sync::{Arc, Mutex};

/// A call one of the fakes saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `CredentialsRead::read_document(secret_id)`.
    SecretRead(String),
    /// `CredentialsRead::read_previous_client(secret_id)` (the `AWSPREVIOUS`
    /// fallback).
    PreviousSecretRead(String),
    /// `CredentialsWrite::save_refresh_token` for this secret (attempted).
    RefreshTokenSaved(String),
    /// `SecretDiscovery::discover_into(prefix)`.
    SecretsListed(String),
    /// `TokenRead::load(parameter)`.
    TokenLoaded(String),
    /// `TokenList::load_prefix(prefix)`.
    TokensListed(String),
    /// `TokenWrite::save(parameter)` (attempted).
    TokenSaved(String),
    /// `TokenEndpoint::request_token` with this client ID.
    TokenRequested(String),
    /// `EventPublish::publish` of this detail-type (attempted).
    EventPublished(String),
}

impl Call {
    /// `true` for the calls that write (secrets or tokens).
    pub fn is_write(&self) -> bool {
        matches!(self, Call::RefreshTokenSaved(_) | Call::TokenSaved(_))
    }
}

/// The shared record; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Call>>>);

impl Journal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a call.
    pub fn push(&self, call: Call) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(call);
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Only the writes, in order.
    pub fn writes(&self) -> Vec<Call> {
        self.calls().into_iter().filter(Call::is_write).collect()
    }

    /// How many calls match `f`.
    pub fn count(&self, f: impl Fn(&Call) -> bool) -> usize {
        self.calls().iter().filter(|c| f(c)).count()
    }
}
