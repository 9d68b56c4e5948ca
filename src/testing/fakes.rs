//! In-memory fakes of every port, sharing one [`Journal`]. Test-only.
//!
//! - [`FakeSecrets`]: credentials secrets by name ([`CredentialsRead`],
//!   [`CredentialsWrite`], [`SecretDiscovery`]);
//! - [`FakeStore`]: token parameters ([`TokenRead`], [`TokenWrite`],
//!   [`TokenList`]);
//! - [`FakeLwa`]: an LWA that knows client secrets and refresh tokens
//!   ([`TokenEndpoint`]), optionally scripted and slow on a clock.

use super::journal::{Call, Journal};
use crate::credentials::{Credentials, Grant, RefreshTokenOrigin, SecretDocument};
use crate::lwa::{ExchangeStats, LwaError, LwaErrorCode, TokenResponse};
use crate::ports::{
    CredentialsLoadError, CredentialsRead, CredentialsSaveError, CredentialsWrite,
    DiscoveredSecret, DiscoveryError, SecretDiscovery, SharedClock, StoredTokens, TokenEndpoint,
    TokenList, TokenListError, TokenLoadError, TokenRead, TokenSaveError, TokenWrite,
};
use crate::secret::{AccessToken, RefreshToken};
use crate::token::StoredToken;
use secrecy::ExposeSecret;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;

/// Credentials secrets by name. A secret with several queued values hands
/// them out in turn (a rotation between two reads); the last one stays.
#[derive(Default)]
pub struct FakeSecrets {
    /// The journal the calls go to.
    pub journal: Journal,
    secrets: RefCell<BTreeMap<String, VecDeque<String>>>,
    unreadable: RefCell<HashSet<String>>,
    /// Every `save_refresh_token` fails with this AWS text.
    pub fail_saves: RefCell<Option<String>>,
    /// Discovery fails after sending this many secrets.
    pub discovery_fails_after: Cell<Option<usize>>,
    /// Reads never answer (a stalled connection).
    pub stall_reads: Cell<bool>,
    /// `save_refresh_token` never answers.
    pub stall_saves: Cell<bool>,
    /// Discovery never answers after sending what it found.
    pub stall_discovery: Cell<bool>,
    /// The `AWSPREVIOUS` value of each secret (the previous-secret fallback).
    pub previous: RefCell<BTreeMap<String, String>>,
}

impl FakeSecrets {
    /// No secrets, writing to `journal`.
    pub fn new(journal: &Journal) -> Self {
        Self {
            journal: journal.clone(),
            ..Self::default()
        }
    }

    /// Sets `name` to `values` (read in turn; the last one stays).
    pub fn put(&self, name: &str, values: &[&str]) {
        self.secrets.borrow_mut().insert(
            name.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
    }

    /// Reads and discovery of `name` fail (a per-secret error).
    pub fn make_unreadable(&self, name: &str) {
        self.unreadable.borrow_mut().insert(name.to_owned());
    }

    /// The value the next read of `name` gets.
    pub fn current(&self, name: &str) -> Option<String> {
        self.secrets.borrow().get(name)?.front().cloned()
    }

    fn read(&self, name: &str) -> Result<String, CredentialsLoadError> {
        if self.unreadable.borrow().contains(name) {
            return Err(CredentialsLoadError::Unavailable(
                "AccessDeniedException: KMS refused to decrypt (fake)".into(),
            ));
        }
        let mut secrets = self.secrets.borrow_mut();
        let values = secrets.get_mut(name).ok_or_else(|| {
            CredentialsLoadError::Unavailable(
                "ResourceNotFoundException: no such secret (fake)".into(),
            )
        })?;
        Ok(if values.len() > 1 {
            values.pop_front().expect("not empty")
        } else {
            values.front().cloned().unwrap_or_default()
        })
    }
}

impl CredentialsRead for FakeSecrets {
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError> {
        self.journal.push(Call::SecretRead(secret_id.to_owned()));
        if self.stall_reads.get() {
            std::future::pending::<()>().await;
        }
        let text = self.read(secret_id)?;
        SecretDocument::parse(secret_id, &text).map_err(CredentialsLoadError::Invalid)
    }

    async fn read_previous_client(
        &self,
        secret_id: &str,
    ) -> Result<Option<crate::previous_secret::PreviousClient>, CredentialsLoadError> {
        self.journal
            .push(Call::PreviousSecretRead(secret_id.to_owned()));
        Ok(self.previous.borrow().get(secret_id).and_then(|text| {
            crate::previous_secret::PreviousClient::parse(
                secret_id,
                &secrecy::SecretString::from(text.clone()),
            )
        }))
    }
}

impl CredentialsWrite for FakeSecrets {
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), CredentialsSaveError> {
        self.journal
            .push(Call::RefreshTokenSaved(origin.secret_id.clone()));
        if self.stall_saves.get() {
            std::future::pending::<()>().await;
        }
        if let Some(detail) = self.fail_saves.borrow().clone() {
            return Err(CredentialsSaveError { detail });
        }
        // As the adapter: the current value, only the refresh token changed.
        let current = self.current(&origin.secret_id).unwrap_or_default();
        match crate::rotated_refresh_token::rewrite_current(origin, &current, new) {
            crate::rotated_refresh_token::RefreshTokenRewrite::Document(d) => {
                let document = d.expose_secret().to_owned();
                self.put(&origin.secret_id, &[&document]);
                Ok(())
            }
            crate::rotated_refresh_token::RefreshTokenRewrite::TokenChangedMeanwhile => Ok(()),
            crate::rotated_refresh_token::RefreshTokenRewrite::NotAnObject => {
                Err(CredentialsSaveError {
                    detail: "not a JSON object (fake)".into(),
                })
            }
        }
    }
}

impl SecretDiscovery for FakeSecrets {
    async fn discover_into(
        &self,
        prefix: &str,
        found: &Sender<DiscoveredSecret>,
    ) -> Result<(), DiscoveryError> {
        self.journal.push(Call::SecretsListed(prefix.to_owned()));
        let names: Vec<String> = self
            .secrets
            .borrow()
            .keys()
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect();
        for (i, name) in names.into_iter().enumerate() {
            if self.discovery_fails_after.get() == Some(i) {
                return Err(DiscoveryError {
                    detail: format!("ListSecrets with name prefix `{prefix}`: ThrottlingException: Rate exceeded (fake)"),
                });
            }
            let document = self.read(&name).and_then(|text| {
                SecretDocument::parse(&name, &text).map_err(CredentialsLoadError::Invalid)
            });
            if found
                .send(DiscoveredSecret { name, document })
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        if self.stall_discovery.get() {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// Token parameters by name.
#[derive(Default)]
pub struct FakeStore {
    /// The journal the calls go to.
    pub journal: Journal,
    tokens: RefCell<BTreeMap<String, Result<StoredToken, String>>>,
    save_failures: RefCell<VecDeque<TokenSaveError>>,
    /// Every `load` fails with this.
    pub fail_loads: RefCell<Option<TokenLoadError>>,
    /// `load_prefix` fails with this.
    pub fail_list: RefCell<Option<TokenListError>>,
    /// `load` and `load_prefix` never answer (a stalled connection).
    pub stall_loads: Cell<bool>,
    /// `save` never answers.
    pub stall_saves: Cell<bool>,
}

impl FakeStore {
    /// No parameters, writing to `journal`.
    pub fn new(journal: &Journal) -> Self {
        Self {
            journal: journal.clone(),
            ..Self::default()
        }
    }

    /// Stores `token` at `parameter`.
    pub fn put(&self, parameter: &str, token: StoredToken) {
        self.tokens
            .borrow_mut()
            .insert(parameter.to_owned(), Ok(token));
    }

    /// Stores an unreadable value at `parameter` (`why` is the parse error).
    pub fn put_malformed(&self, parameter: &str, why: &str) {
        self.tokens
            .borrow_mut()
            .insert(parameter.to_owned(), Err(why.to_owned()));
    }

    /// The next saves fail with these, in turn.
    pub fn fail_next_saves(&self, failures: impl IntoIterator<Item = TokenSaveError>) {
        self.save_failures.borrow_mut().extend(failures);
    }

    /// The readable token at `parameter`.
    pub fn get(&self, parameter: &str) -> Option<StoredToken> {
        self.tokens.borrow().get(parameter)?.as_ref().ok().cloned()
    }

    /// How many parameters hold a value.
    pub fn len(&self) -> usize {
        self.tokens.borrow().len()
    }

    /// `true` when no parameter holds a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TokenRead for FakeStore {
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
        self.journal.push(Call::TokenLoaded(parameter.to_owned()));
        if self.stall_loads.get() {
            std::future::pending::<()>().await;
        }
        if let Some(e) = self.fail_loads.borrow().clone() {
            return Err(e);
        }
        match self.tokens.borrow().get(parameter) {
            None => Ok(None),
            Some(Ok(t)) => Ok(Some(t.clone())),
            Some(Err(why)) => Err(TokenLoadError::Malformed(why.clone())),
        }
    }
}

impl TokenWrite for FakeStore {
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError> {
        self.journal.push(Call::TokenSaved(parameter.to_owned()));
        if self.stall_saves.get() {
            std::future::pending::<()>().await;
        }
        if let Some(e) = self.save_failures.borrow_mut().pop_front() {
            return Err(e);
        }
        self.put(parameter, token.clone());
        Ok(())
    }
}

impl TokenList for FakeStore {
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, TokenListError> {
        self.journal.push(Call::TokensListed(prefix.to_owned()));
        if self.stall_loads.get() {
            std::future::pending::<()>().await;
        }
        if let Some(e) = self.fail_list.borrow().clone() {
            return Err(e);
        }
        Ok(self
            .tokens
            .borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone().map_err(TokenLoadError::Malformed)))
            .collect())
    }
}

/// An LWA that accepts the client secrets it knows and refresh tokens not
/// revoked; scripted answers come first. Each request takes `latency` on
/// the clock, when one is given.
#[derive(Default)]
pub struct FakeLwa {
    /// The journal the calls go to.
    pub journal: Journal,
    client_secrets: RefCell<HashSet<String>>,
    revoked: RefCell<HashSet<String>>,
    scripted: RefCell<VecDeque<Result<TokenResponse, LwaError>>>,
    /// Answer with a new refresh token each time.
    pub rotate_refresh_tokens: Cell<bool>,
    /// The time each request takes on `clock`.
    pub latency: Cell<Duration>,
    clock: RefCell<Option<SharedClock>>,
    issued: Cell<u32>,
    /// The client secrets sent, in order.
    pub seen_secrets: RefCell<Vec<String>>,
    /// The `lwa_deadline` of each request, in order.
    pub deadlines: RefCell<Vec<Instant>>,
}

impl FakeLwa {
    /// An LWA that knows `client_secrets`, writing to `journal`.
    pub fn new(journal: &Journal, client_secrets: &[&str]) -> Self {
        let lwa = Self {
            journal: journal.clone(),
            ..Self::default()
        };
        for s in client_secrets {
            lwa.accept_secret(s);
        }
        lwa
    }

    /// Accepts `client_secret` from now on.
    pub fn accept_secret(&self, client_secret: &str) {
        self.client_secrets
            .borrow_mut()
            .insert(client_secret.to_owned());
    }

    /// Answers `invalid_grant` to `refresh_token`.
    pub fn revoke(&self, refresh_token: &str) {
        self.revoked.borrow_mut().insert(refresh_token.to_owned());
    }

    /// The next answers, before any computed one.
    pub fn script(&self, answers: impl IntoIterator<Item = Result<TokenResponse, LwaError>>) {
        self.scripted.borrow_mut().extend(answers);
    }

    /// Each request takes `latency` on `clock`.
    pub fn slow(&self, latency: Duration, clock: SharedClock) {
        self.latency.set(latency);
        *self.clock.borrow_mut() = Some(clock);
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.seen_secrets.borrow().len()
    }

    fn requested_at(&self) -> time::OffsetDateTime {
        match &*self.clock.borrow() {
            Some(c) => c.now(),
            None => time::OffsetDateTime::now_utc(),
        }
    }
}

/// A token answer: `access` lives `expires_in` seconds from `requested_at`.
pub fn token_answer(
    access: &str,
    refresh: Option<&str>,
    expires_in: u64,
    requested_at: time::OffsetDateTime,
) -> TokenResponse {
    TokenResponse {
        access_token: AccessToken::new(access),
        token_type: "bearer".into(),
        expires_in,
        refresh_token: refresh.map(RefreshToken::new),
        requested_at,
    }
}

/// An OAuth rejection as LWA sends it.
pub fn rejection(code: &str, status: u16) -> LwaError {
    LwaError::Rejected {
        code: LwaErrorCode::parse(code),
        error: code.into(),
        description: None,
        status,
    }
}

impl TokenEndpoint for FakeLwa {
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError> {
        self.journal
            .push(Call::TokenRequested(credentials.client_id.clone()));
        self.deadlines.borrow_mut().push(deadline);
        stats.requests += 1;
        let secret = credentials.client_secret.expose_secret().to_owned();
        self.seen_secrets.borrow_mut().push(secret.clone());
        let clock = self.clock.borrow().clone();
        if let Some(clock) = clock {
            clock.sleep(self.latency.get()).await;
        }
        let requested_at = self.requested_at();
        if let Some(answer) = self.scripted.borrow_mut().pop_front() {
            return answer;
        }
        if !self.client_secrets.borrow().contains(&secret) {
            return Err(rejection("invalid_client", 401));
        }
        let sent = match &credentials.grant {
            Grant::RefreshToken(t) => Some(t.expose_secret().to_owned()),
            Grant::ClientCredentials { .. } => None,
        };
        if sent
            .as_ref()
            .is_some_and(|t| self.revoked.borrow().contains(t))
        {
            return Err(rejection("invalid_grant", 400));
        }
        let n = self.issued.get() + 1;
        self.issued.set(n);
        let refresh = match (&sent, self.rotate_refresh_tokens.get()) {
            (Some(_), true) => Some(format!("Atzr|fake-rotated-{n}")),
            (sent, _) => sent.clone(),
        };
        Ok(token_answer(
            &format!("Atza|fake-{n}"),
            refresh.as_deref(),
            3600,
            requested_at,
        ))
    }
}
