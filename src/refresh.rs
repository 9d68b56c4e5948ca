//! The refresh use case for one profile: is the stored token fresh enough? If
//! not, read the credentials, call LWA, save a rotated refresh token, write the
//! new access token. No AWS or HTTP types here: the ports are traits
//! ([`crate::ports`]), so this is unit-tested with in-memory fakes.
//!
//! Rules (see `CONTRACT.md`): a failed refresh never overwrites or deletes the
//! stored token; a rotated refresh token is saved before the access token is
//! written; on `invalid_client` the secret is read again once and the
//! request retried once (a rotated client secret reaches a warm function).

use crate::budget::TimeBudget;
use crate::credentials::{Credentials, Grant};
use crate::error::ServiceError;
use crate::lwa::{ExchangeStats, LwaError};
use crate::ports::{
    system_clock, CredentialsLoadError, CredentialsRead, CredentialsWrite, SharedClock,
    TokenEndpoint, TokenLoadError, TokenRead, TokenWrite,
};
use crate::profile::Profile;
use crate::token::{rfc3339, StoredToken};
use serde::Serialize;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// `refreshed` or `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// A new token was requested and stored.
    Refreshed,
    /// The stored token has more than the margin to live.
    Skipped,
}

/// The success response of `token-refresher` (never a token or secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    /// `refreshed` or `skipped`.
    pub outcome: Outcome,
    /// The parameter name.
    pub parameter: String,
    /// UTC, RFC 3339, whole seconds.
    pub expires_at: String,
    /// Whole seconds the stored token has left.
    pub expires_in: i64,
    /// First 8 hex digits of SHA-256 of the access token.
    pub token_fingerprint: String,
}

/// Why a refresh was needed, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `force: true`.
    Forced,
    /// No parameter yet.
    Missing,
    /// The parameter could not be read or parsed (the text says why).
    Unreadable(String),
    /// The stored token has this many seconds or less to live.
    Due(i64),
}

/// What one refresh came to, with its counters (also on failure, for the
/// invocation's log line).
#[derive(Debug)]
pub struct RefreshRun {
    /// The report, or the contract's error.
    pub result: Result<RefreshReport, ServiceError>,
    /// Token requests, LWA and AWS latency.
    pub stats: ExchangeStats,
    /// Why a new token was asked for; `None` when the stored one was fresh
    /// enough.
    pub reason: Option<Reason>,
}

/// A rotated refresh token that could not be saved.
struct NotPersisted {
    secret_id: String,
    detail: String,
}

/// The use case, over its three ports and a clock.
pub struct Refresher<C, E, S> {
    credentials: C,
    endpoint: E,
    store: S,
    margin: Duration,
    clock: SharedClock,
}

impl<C, E, S> Refresher<C, E, S>
where
    C: CredentialsRead + CredentialsWrite,
    E: TokenEndpoint,
    S: TokenRead + TokenWrite,
{
    /// Refreshes when the stored token has `margin` or less to live; on the
    /// system clock.
    pub fn new(credentials: C, endpoint: E, store: S, margin: Duration) -> Self {
        Self {
            credentials,
            endpoint,
            store,
            margin,
            clock: system_clock(),
        }
    }

    /// The same refresher on `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The token store (the reader and tests share it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Refreshes `profile` if needed (or when `force`), finishing before
    /// `deadline`.
    pub async fn refresh(&self, profile: &Profile, force: bool, deadline: Instant) -> RefreshRun {
        let mut aws_latency = Duration::ZERO;
        let loaded = if force {
            Ok(None)
        } else {
            let started = self.clock.instant();
            let loaded = self.store.load(&profile.parameter_name).await;
            aws_latency = self.clock.instant().saturating_duration_since(started);
            loaded
        };
        let mut run = self
            .refresh_with(profile, loaded, force, self.margin, deadline)
            .await;
        run.stats.aws_latency += aws_latency;
        run
    }

    /// Like [`Refresher::refresh`] with the stored token already read (fleet
    /// mode reads them in batches) and this profile's own `margin`.
    pub async fn refresh_with(
        &self,
        profile: &Profile,
        loaded: Result<Option<StoredToken>, TokenLoadError>,
        force: bool,
        margin: Duration,
        deadline: Instant,
    ) -> RefreshRun {
        let mut stats = ExchangeStats::default();
        let reason = if force {
            Reason::Forced
        } else {
            match loaded {
                Ok(Some(token)) => {
                    let now = self.clock.now();
                    let left = token.seconds_left(now);
                    if left > margin.as_secs() as i64 {
                        return RefreshRun {
                            result: Ok(report(Outcome::Skipped, profile, &token, now)),
                            stats,
                            reason: None,
                        };
                    }
                    Reason::Due(left)
                }
                Ok(None) => Reason::Missing,
                Err(TokenLoadError::Malformed(why)) | Err(TokenLoadError::Unavailable(why)) => {
                    Reason::Unreadable(why)
                }
            }
        };
        let result = self.refresh_now(profile, deadline, &mut stats).await;
        RefreshRun {
            result,
            stats,
            reason: Some(reason),
        }
    }

    async fn load_credentials(
        &self,
        secret_id: &str,
        stats: &mut ExchangeStats,
    ) -> Result<Credentials, ServiceError> {
        let started = self.clock.instant();
        let loaded = self.credentials.load(secret_id).await;
        stats.aws_latency += self.clock.instant().saturating_duration_since(started);
        loaded.map_err(|e| match e {
            CredentialsLoadError::Invalid(e) => ServiceError::CredentialsInvalid(e),
            CredentialsLoadError::Unavailable(detail) => ServiceError::CredentialsUnavailable {
                secret_id: secret_id.to_owned(),
                detail,
            },
        })
    }

    async fn refresh_now(
        &self,
        profile: &Profile,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<RefreshReport, ServiceError> {
        let lwa_deadline = TimeBudget::lwa_deadline(deadline);
        let mut credentials = self.load_credentials(&profile.secret_id, stats).await?;
        let mut after_reread = false;
        let mut answer = self
            .endpoint
            .request_token(&credentials, lwa_deadline, stats)
            .await;
        if answer.as_ref().is_err_and(LwaError::is_invalid_client) {
            tracing::warn!(
                secret_id = %profile.secret_id,
                "LWA answered invalid_client; reading the secret again once in case the client secret was rotated"
            );
            credentials = self.load_credentials(&profile.secret_id, stats).await?;
            after_reread = true;
            answer = self
                .endpoint
                .request_token(&credentials, lwa_deadline, stats)
                .await;
        }
        let answer = answer.map_err(|error| ServiceError::Lwa {
            secret_id: profile.secret_id.clone(),
            error,
            after_reread,
        })?;

        // A rotated refresh token is saved before the access token is written.
        let mut not_persisted = None;
        if let (Grant::RefreshToken(sent), Some(returned), Some(origin)) = (
            &credentials.grant,
            &answer.refresh_token,
            &credentials.refresh_token_origin,
        ) {
            if sent != returned {
                let started = self.clock.instant();
                let saved = self.credentials.save_refresh_token(origin, returned).await;
                stats.aws_latency += self.clock.instant().saturating_duration_since(started);
                match saved {
                    Ok(()) => {
                        tracing::info!(secret_id = %origin.secret_id, "saved the rotated refresh token")
                    }
                    Err(e) => {
                        not_persisted = Some(NotPersisted {
                            secret_id: origin.secret_id.clone(),
                            detail: e.detail,
                        })
                    }
                }
            }
        }

        let token = StoredToken::new(
            answer.access_token,
            &answer.token_type,
            answer.requested_at,
            answer.expires_in,
        );
        let started = self.clock.instant();
        let saved = self.store.save(&profile.parameter_name, &token).await;
        stats.aws_latency += self.clock.instant().saturating_duration_since(started);
        match (saved, not_persisted) {
            (Ok(()), None) => {}
            (saved, Some(lost)) => {
                return Err(ServiceError::RefreshTokenNotPersisted {
                    secret_id: lost.secret_id,
                    parameter: profile.parameter_name.clone(),
                    detail: lost.detail,
                    store_failure: saved.err().map(|e| e.detail().to_owned()),
                })
            }
            (Err(e), None) => {
                return Err(ServiceError::StoreFailed {
                    parameter: profile.parameter_name.clone(),
                    detail: e.detail().to_owned(),
                })
            }
        }
        Ok(report(
            Outcome::Refreshed,
            profile,
            &token,
            self.clock.now(),
        ))
    }
}

fn report(
    outcome: Outcome,
    profile: &Profile,
    token: &StoredToken,
    now: OffsetDateTime,
) -> RefreshReport {
    RefreshReport {
        outcome,
        parameter: profile.parameter_name.clone(),
        expires_at: rfc3339(token.expires_at),
        expires_in: token.seconds_left(now).max(0),
        token_fingerprint: token.access_token.fingerprint(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{RefreshTokenOrigin, SecretDocument};
    use crate::lwa::{LwaErrorCode, TokenResponse};
    use crate::ports::{CredentialsSaveError, TokenSaveError};
    use crate::secret::{AccessToken, RefreshToken};
    use std::cell::RefCell;
    use std::collections::VecDeque;

    #[derive(Default)]
    struct FakeSecrets {
        documents: RefCell<VecDeque<String>>,
        loads: RefCell<u32>,
        saved: RefCell<Vec<String>>,
        fail_save: bool,
    }
    impl CredentialsRead for FakeSecrets {
        async fn read_document(
            &self,
            secret_id: &str,
        ) -> Result<SecretDocument, CredentialsLoadError> {
            *self.loads.borrow_mut() += 1;
            let mut docs = self.documents.borrow_mut();
            let doc = if docs.len() > 1 {
                docs.pop_front().unwrap()
            } else {
                docs[0].clone()
            };
            SecretDocument::parse(secret_id, &doc).map_err(CredentialsLoadError::Invalid)
        }
    }
    impl CredentialsWrite for FakeSecrets {
        async fn save_refresh_token(
            &self,
            origin: &RefreshTokenOrigin,
            new: &RefreshToken,
        ) -> Result<(), CredentialsSaveError> {
            if self.fail_save {
                return Err(CredentialsSaveError {
                    detail: "AccessDeniedException: no".into(),
                });
            }
            use secrecy::ExposeSecret;
            self.saved
                .borrow_mut()
                .push(origin.rotated_document(new).expose_secret().to_owned());
            Ok(())
        }
    }

    /// (access token, refresh token, expires_in) or an error.
    type Scripted = Result<(&'static str, Option<&'static str>, u64), LwaError>;

    struct FakeLwa {
        answers: RefCell<VecDeque<Scripted>>,
        seen_secrets: RefCell<Vec<String>>,
    }
    impl TokenEndpoint for FakeLwa {
        async fn request_token(
            &self,
            credentials: &Credentials,
            _deadline: Instant,
            stats: &mut ExchangeStats,
        ) -> Result<TokenResponse, LwaError> {
            stats.requests += 1;
            self.seen_secrets
                .borrow_mut()
                .push(credentials.client_secret.expose_secret().to_owned());
            let (access, refresh, expires_in) = self
                .answers
                .borrow_mut()
                .pop_front()
                .expect("scripted answer")?;
            Ok(TokenResponse {
                access_token: AccessToken::new(access),
                token_type: "bearer".into(),
                expires_in,
                refresh_token: refresh.map(RefreshToken::new),
                requested_at: OffsetDateTime::now_utc(),
            })
        }
    }

    #[derive(Default)]
    struct FakeStore {
        value: RefCell<Option<StoredToken>>,
        malformed: bool,
        fail_save: bool,
        saves: RefCell<u32>,
    }
    impl TokenRead for FakeStore {
        async fn load(&self, _parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
            if self.malformed {
                return Err(TokenLoadError::Malformed("not JSON".into()));
            }
            Ok(self.value.borrow().clone())
        }
    }
    impl TokenWrite for FakeStore {
        async fn save(&self, _parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError> {
            *self.saves.borrow_mut() += 1;
            if self.fail_save {
                return Err(TokenSaveError::Failed(
                    "AccessDeniedException: denied".into(),
                ));
            }
            *self.value.borrow_mut() = Some(token.clone());
            Ok(())
        }
    }

    const DOC: &str = r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S1","refresh_token":"Atzr|R"}"#;

    fn profile() -> Profile {
        Profile {
            name: None,
            secret_id: "spapi/lwa".into(),
            parameter_name: "/spapi/lwa/access-token".into(),
        }
    }
    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }
    fn secrets(docs: &[&str]) -> FakeSecrets {
        FakeSecrets {
            documents: RefCell::new(docs.iter().map(|d| d.to_string()).collect()),
            ..Default::default()
        }
    }
    fn lwa(answers: Vec<Scripted>) -> FakeLwa {
        FakeLwa {
            answers: RefCell::new(answers.into()),
            seen_secrets: RefCell::default(),
        }
    }
    fn rejected(code: LwaErrorCode, error: &str, status: u16) -> LwaError {
        LwaError::Rejected {
            code,
            error: error.into(),
            description: None,
            status,
        }
    }
    fn stored(left_seconds: i64) -> StoredToken {
        let issued = OffsetDateTime::now_utc() - time::Duration::seconds(3600 - left_seconds);
        StoredToken::new(AccessToken::new("Atza|OLD"), "bearer", issued, 3600)
    }

    #[tokio::test]
    async fn missing_token_is_refreshed_with_the_answer_s_lifetime() {
        let (s, l, st) = (
            secrets(&[DOC]),
            lwa(vec![Ok(("Atza|NEW", Some("Atzr|R"), 1200))]),
            FakeStore::default(),
        );
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res,
            stats,
            reason,
        } = r.refresh(&profile(), false, deadline()).await;
        let report = res.unwrap();
        assert_eq!(report.outcome, Outcome::Refreshed);
        assert!((1198..=1200).contains(&report.expires_in), "{report:?}");
        assert_eq!(
            report.token_fingerprint,
            AccessToken::new("Atza|NEW").fingerprint()
        );
        assert_eq!(stats.requests, 1);
        assert_eq!(reason, Some(Reason::Missing));
        let saved = st.value.borrow().clone().unwrap();
        assert_eq!(
            saved.expires_at - saved.issued_at,
            time::Duration::seconds(1200)
        );
        assert!(
            s.saved.borrow().is_empty(),
            "same refresh token: no secret write"
        );
    }

    #[tokio::test]
    async fn fresh_token_is_skipped_and_due_or_forced_is_refreshed() {
        let (s, l, st) = (secrets(&[DOC]), lwa(vec![]), FakeStore::default());
        *st.value.borrow_mut() = Some(stored(2000));
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res, stats, ..
        } = r.refresh(&profile(), false, deadline()).await;
        assert_eq!(res.unwrap().outcome, Outcome::Skipped);
        assert_eq!((stats.requests, *s.loads.borrow()), (0, 0));

        let l = lwa(vec![
            Ok(("Atza|NEW", None, 3600)),
            Ok(("Atza|NEW2", None, 3600)),
        ]);
        *st.value.borrow_mut() = Some(stored(1800));
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res,
            reason,
            ..
        } = r.refresh(&profile(), false, deadline()).await;
        assert_eq!(res.unwrap().outcome, Outcome::Refreshed);
        assert!(
            matches!(reason, Some(Reason::Due(1799..=1800))),
            "{reason:?}"
        );
        let RefreshRun {
            result: res,
            reason,
            ..
        } = r.refresh(&profile(), true, deadline()).await;
        assert_eq!(res.unwrap().outcome, Outcome::Refreshed);
        assert_eq!(reason, Some(Reason::Forced));
    }

    #[tokio::test]
    async fn unreadable_token_is_refreshed() {
        let (s, l) = (secrets(&[DOC]), lwa(vec![Ok(("Atza|NEW", None, 3600))]));
        let st = FakeStore {
            malformed: true,
            ..Default::default()
        };
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res,
            reason,
            ..
        } = r.refresh(&profile(), false, deadline()).await;
        assert!(res.is_ok());
        assert!(matches!(reason, Some(Reason::Unreadable(_))));
    }

    #[tokio::test]
    async fn invalid_client_rereads_the_secret_once() {
        let rotated = DOC.replace("S1", "S2");
        let s = secrets(&[DOC, &rotated]);
        let l = lwa(vec![
            Err(rejected(LwaErrorCode::InvalidClient, "invalid_client", 401)),
            Ok(("Atza|NEW", None, 3600)),
        ]);
        let st = FakeStore::default();
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res, stats, ..
        } = r.refresh(&profile(), false, deadline()).await;
        assert!(res.is_ok());
        assert_eq!(stats.requests, 2);
        assert_eq!(*s.loads.borrow(), 2);
        assert_eq!(*l.seen_secrets.borrow(), vec!["S1", "S2"]);

        // Still rejected: two requests, two reads, never more; nothing stored.
        let s = secrets(&[DOC]);
        let l = lwa(vec![
            Err(rejected(LwaErrorCode::InvalidClient, "invalid_client", 401)),
            Err(rejected(LwaErrorCode::InvalidClient, "invalid_client", 401)),
        ]);
        let st = FakeStore::default();
        *st.value.borrow_mut() = Some(stored(100));
        let before = st.value.borrow().clone();
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res, stats, ..
        } = r.refresh(&profile(), false, deadline()).await;
        let err = res.unwrap_err();
        assert_eq!(err.error_type(), "LwaInvalidClient");
        assert!(
            err.to_string()
                .contains("also after reading the secret again"),
            "{err}"
        );
        assert_eq!(
            (stats.requests, *s.loads.borrow(), *st.saves.borrow()),
            (2, 2, 0)
        );
        assert_eq!(*st.value.borrow(), before);
    }

    #[tokio::test]
    async fn other_rejections_are_not_retried_and_keep_the_stored_token() {
        for (code, error, status, ty) in [
            (
                LwaErrorCode::InvalidGrant,
                "invalid_grant",
                400,
                "LwaInvalidGrant",
            ),
            (
                LwaErrorCode::UnauthorizedClient,
                "unauthorized_client",
                400,
                "LwaUnauthorizedClient",
            ),
        ] {
            let (s, l, st) = (
                secrets(&[DOC]),
                lwa(vec![Err(rejected(code, error, status))]),
                FakeStore::default(),
            );
            *st.value.borrow_mut() = Some(stored(100));
            let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
            let RefreshRun {
                result: res, stats, ..
            } = r.refresh(&profile(), false, deadline()).await;
            assert_eq!(res.unwrap_err().error_type(), ty);
            assert_eq!(stats.requests, 1);
            assert_eq!(*st.saves.borrow(), 0);
            assert_eq!(
                st.value
                    .borrow()
                    .as_ref()
                    .unwrap()
                    .access_token
                    .expose_secret(),
                "Atza|OLD"
            );
        }
    }

    #[tokio::test]
    async fn invalid_credentials_make_no_request() {
        let (s, l, st) = (secrets(&["Atzr|bare"]), lwa(vec![]), FakeStore::default());
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun {
            result: res, stats, ..
        } = r.refresh(&profile(), true, deadline()).await;
        assert_eq!(res.unwrap_err().error_type(), "CredentialsInvalid");
        assert_eq!(stats.requests, 0);
    }

    #[tokio::test]
    async fn rotated_refresh_token_is_saved_before_the_access_token() {
        let (s, l, st) = (
            secrets(&[DOC]),
            lwa(vec![Ok(("Atza|NEW", Some("Atzr|ROTATED"), 3600))]),
            FakeStore::default(),
        );
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun { result: res, .. } = r.refresh(&profile(), false, deadline()).await;
        assert!(res.is_ok());
        let saved = s.saved.borrow().clone();
        assert_eq!(saved.len(), 1);
        assert!(
            saved[0].contains("Atzr|ROTATED")
                && saved[0].contains("amzn1.application-oa2-client.A")
        );

        // The secret write fails: the access token is still stored, and the error says so.
        let s = FakeSecrets {
            fail_save: true,
            ..secrets(&[DOC])
        };
        let l = lwa(vec![Ok(("Atza|NEW", Some("Atzr|ROTATED"), 3600))]);
        let st = FakeStore::default();
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun { result: res, .. } = r.refresh(&profile(), false, deadline()).await;
        assert_eq!(res.unwrap_err().error_type(), "RefreshTokenNotPersisted");
        assert_eq!(
            st.value
                .borrow()
                .as_ref()
                .unwrap()
                .access_token
                .expose_secret(),
            "Atza|NEW"
        );
    }

    #[tokio::test]
    async fn store_failure_is_store_failed() {
        let (s, l) = (secrets(&[DOC]), lwa(vec![Ok(("Atza|NEW", None, 3600))]));
        let st = FakeStore {
            fail_save: true,
            ..Default::default()
        };
        let r = Refresher::new(&s, &l, &st, Duration::from_secs(1800));
        let RefreshRun { result: res, .. } = r.refresh(&profile(), false, deadline()).await;
        let e = res.unwrap_err();
        assert_eq!(e.error_type(), "StoreFailed");
        assert!(!e.to_string().contains("Atza|NEW"));
    }
}
