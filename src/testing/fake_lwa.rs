//! [`FakeLwa`]: an LWA token endpoint in memory ([`TokenEndpoint`]), and
//! helpers to script its answers. Test-only.

use super::journal::{Call, Journal};
use crate::credentials::{Credentials, Grant};
use crate::lwa::{ExchangeStats, LwaError, LwaErrorCode, TokenResponse};
use crate::ports::{SharedClock, TokenEndpoint};
use crate::secret::{AccessToken, RefreshToken};
use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

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
