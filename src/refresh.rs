//! The refresh use case for one profile: is the stored token fresh enough? If
//! not, read the credentials, call LWA, save a rotated refresh token, write the
//! new access token. No AWS or HTTP types here: the ports are traits
//! ([`crate::ports`]), so this is unit-tested with in-memory fakes.
//!
//! Rules (see `CONTRACT.md`): a failed refresh never overwrites or deletes the
//! stored token; a rotated refresh token is saved before the access token is
//! written; on `invalid_client` the secret is read again once and the
//! request retried once (a rotated client secret reaches a warm function).
//! A seller's lost authorization is recorded, published and rate-limited by
//! [`crate::authorization`] around the token request.

use crate::authorization::Loss;
use crate::bounded::within;
use crate::budget::TimeBudget;
use crate::credentials::{Credentials, Grant};
use crate::error::ServiceError;
use crate::lwa::{ExchangeStats, LwaError};
use crate::ports::{
    system_clock, CredentialsLoadError, CredentialsRead, CredentialsSaveError, CredentialsWrite,
    SharedClock, SharedEvents, TokenEndpoint, TokenLoadError, TokenRead, TokenSaveError,
    TokenWrite,
};
use crate::profile::Profile;
use crate::refresh_report::report;
pub use crate::refresh_report::{Outcome, Reason, RefreshReport, RefreshRun};
use crate::token::StoredToken;
// Latencies are log figures, measured in real time; decisions use the clock.
use std::time::{Duration, Instant as StdInstant};
use tokio::time::Instant;

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
    events: Option<SharedEvents>,
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
            events: None,
        }
    }

    /// The same refresher on `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The same refresher publishing authorization events to `events`
    /// (without, a lost authorization is still recorded, never published).
    pub fn with_events(mut self, events: Option<SharedEvents>) -> Self {
        self.events = events;
        self
    }

    pub(crate) fn credentials_port(&self) -> &C {
        &self.credentials
    }

    pub(crate) fn clock_port(&self) -> &SharedClock {
        &self.clock
    }

    pub(crate) fn events_port(&self) -> Option<&SharedEvents> {
        self.events.as_ref()
    }

    /// The token store (the reader and tests share it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Refreshes `profile` if needed (or when `force`), finishing before
    /// `deadline`: every step is bounded by the time left (see
    /// [`crate::budget`]), and one that cannot finish is not started. The
    /// stored token is read even when forced: a lost authorization it records
    /// limits the token requests (`force` does not override that).
    pub async fn refresh(&self, profile: &Profile, force: bool, deadline: Instant) -> RefreshRun {
        let started = StdInstant::now();
        let by = TimeBudget::answer_by(deadline);
        let loaded = within(&*self.clock, by, self.store.load(&profile.parameter_name))
            .await
            .unwrap_or_else(|late| {
                Err(TokenLoadError::Unavailable(
                    late.describe("GetParameter", false),
                ))
            });
        let aws_latency = started.elapsed();
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
        let previous = loaded.as_ref().ok().and_then(Option::clone);
        let reason = if previous
            .as_ref()
            .is_some_and(|t| t.authorization_lost.is_some())
        {
            Reason::AuthorizationLost
        } else if force {
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
                            loss: Loss::None,
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
        let (result, loss) =
            crate::authorization::refresh_guarded(self, profile, previous, deadline, &mut stats)
                .await;
        RefreshRun {
            result,
            stats,
            reason: Some(reason),
            loss,
        }
    }

    async fn load_credentials(
        &self,
        secret_id: &str,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<Credentials, ServiceError> {
        let started = StdInstant::now();
        let by = TimeBudget::credentials_by(deadline);
        let loaded = within(&*self.clock, by, self.credentials.load(secret_id))
            .await
            .unwrap_or_else(|late| {
                Err(CredentialsLoadError::Unavailable(
                    late.describe("GetSecretValue", false),
                ))
            });
        stats.aws_latency += started.elapsed();
        loaded.map_err(|e| match e {
            CredentialsLoadError::Invalid(e) => ServiceError::CredentialsInvalid(e),
            CredentialsLoadError::Unavailable(detail) => ServiceError::CredentialsUnavailable {
                secret_id: secret_id.to_owned(),
                detail,
            },
        })
    }

    pub(crate) async fn refresh_now(
        &self,
        profile: &Profile,
        deadline: Instant,
        stats: &mut ExchangeStats,
    ) -> Result<RefreshReport, ServiceError> {
        let lwa_deadline = TimeBudget::lwa_deadline(deadline);
        // No time for the secret read, a token request and the writes: do
        // not start (the fleet defers the profile).
        let left = deadline.saturating_duration_since(self.clock.instant());
        if self.clock.instant() >= TimeBudget::credentials_by(deadline) {
            return Err(ServiceError::Lwa {
                secret_id: profile.secret_id.clone(),
                error: LwaError::NotStarted {
                    reason: format!(
                        "{} ms were left; a refresh needs the secret read, a token request and {} s for the writes",
                        left.as_millis(),
                        crate::budget::WRITE_RESERVE.as_secs()
                    ),
                },
                after_reread: false,
            });
        }
        let mut credentials = self
            .load_credentials(&profile.secret_id, deadline, stats)
            .await?;
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
            credentials = self
                .load_credentials(&profile.secret_id, deadline, stats)
                .await?;
            after_reread = true;
            answer = self
                .endpoint
                .request_token(&credentials, lwa_deadline, stats)
                .await;
            // Still refused: the previous client secret, once (CONTRACT.md).
            if answer.as_ref().is_err_and(LwaError::is_invalid_client) {
                let (id, now) = (&profile.secret_id, self.clock.now());
                if let Some((previous, token)) = crate::previous_secret::try_previous(
                    &self.credentials,
                    &self.endpoint,
                    id,
                    &credentials,
                    now,
                    lwa_deadline,
                    stats,
                )
                .await
                {
                    (credentials, answer) = (previous, Ok(token));
                }
            }
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
                let started = StdInstant::now();
                let by = TimeBudget::refresh_token_save_by(deadline);
                let saved = within(
                    &*self.clock,
                    by,
                    self.credentials.save_refresh_token(origin, returned),
                )
                .await
                .unwrap_or_else(|late| {
                    Err(CredentialsSaveError {
                        detail: late.describe("PutSecretValue", true),
                    })
                });
                stats.aws_latency += started.elapsed();
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
        let started = StdInstant::now();
        let by = TimeBudget::answer_by(deadline);
        let saved = within(
            &*self.clock,
            by,
            self.store.save(&profile.parameter_name, &token),
        )
        .await
        .unwrap_or_else(|late| Err(TokenSaveError::Failed(late.describe("PutParameter", true))));
        stats.aws_latency += started.elapsed();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Clock, CredentialsRead, TokenSaveError};
    use crate::secret::AccessToken;
    use crate::testing::{
        rejection, token_answer, Call, FakeLwa, FakeSecrets, FakeStore, Journal, ManualClock,
    };
    use std::sync::Arc;
    use time::macros::datetime;
    use time::OffsetDateTime;

    const T0: OffsetDateTime = datetime!(2026-11-30 12:00:00 UTC);
    const SECRET: &str = "spapi/lwa";
    const PARAMETER: &str = "/spapi/lwa/access-token";
    const DOC: &str = r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S1","refresh_token":"Atzr|R"}"#;
    const MARGIN: Duration = Duration::from_secs(1800);

    /// The three fakes on one journal, and a virtual clock at T0.
    struct World {
        journal: Journal,
        secrets: FakeSecrets,
        lwa: FakeLwa,
        store: FakeStore,
        clock: Arc<ManualClock>,
    }

    impl World {
        fn new(docs: &[&str]) -> Self {
            let journal = Journal::new();
            let secrets = FakeSecrets::new(&journal);
            secrets.put(SECRET, docs);
            World {
                lwa: FakeLwa::new(&journal, &["S1"]),
                store: FakeStore::new(&journal),
                secrets,
                journal,
                clock: Arc::new(ManualClock::new(T0)),
            }
        }
        fn refresher(&self) -> Refresher<&FakeSecrets, &FakeLwa, &FakeStore> {
            Refresher::new(&self.secrets, &self.lwa, &self.store, MARGIN)
                .with_clock(self.clock.clone())
        }
        async fn run(&self, force: bool) -> RefreshRun {
            let deadline = self.clock.instant() + Duration::from_secs(30);
            self.refresher().refresh(&profile(), force, deadline).await
        }
        fn stored(&self) -> Option<StoredToken> {
            self.store.get(PARAMETER)
        }
    }

    fn profile() -> Profile {
        Profile {
            name: None,
            secret_id: SECRET.into(),
            parameter_name: PARAMETER.into(),
        }
    }
    fn stored(left_seconds: i64) -> StoredToken {
        let issued = T0 - time::Duration::seconds(3600 - left_seconds);
        StoredToken::new(AccessToken::new("Atza|OLD"), "bearer", issued, 3600)
    }

    #[tokio::test]
    async fn missing_token_is_refreshed_with_the_answer_s_lifetime() {
        let w = World::new(&[DOC]);
        w.lwa
            .script([Ok(token_answer("Atza|NEW", Some("Atzr|R"), 1200, T0))]);
        let run = w.run(false).await;
        let report = run.result.unwrap();
        assert_eq!(report.outcome, Outcome::Refreshed);
        assert_eq!(report.expires_in, 1200);
        assert_eq!(report.expires_at, "2026-11-30T12:20:00Z");
        assert_eq!(report.parameter, PARAMETER);
        assert_eq!(
            report.token_fingerprint,
            AccessToken::new("Atza|NEW").fingerprint()
        );
        assert_eq!(run.stats.requests, 1);
        assert_eq!(run.reason, Some(Reason::Missing));
        let saved = w.stored().unwrap();
        assert_eq!(
            saved.expires_at - saved.issued_at,
            time::Duration::seconds(1200)
        );
        assert_eq!(
            w.journal.writes(),
            [Call::TokenSaved(PARAMETER.into())],
            "same refresh token: no secret write"
        );
    }

    #[tokio::test]
    async fn fresh_token_is_skipped_and_due_or_forced_is_refreshed() {
        let w = World::new(&[DOC]);
        w.store.put(PARAMETER, stored(1801));
        let run = w.run(false).await;
        let report = run.result.unwrap();
        assert_eq!(
            (report.outcome, report.expires_in),
            (Outcome::Skipped, 1801)
        );
        assert_eq!(run.reason, None);
        assert_eq!(w.journal.calls(), [Call::TokenLoaded(PARAMETER.into())]);

        // At exactly the margin: due.
        w.store.put(PARAMETER, stored(1800));
        let run = w.run(false).await;
        assert_eq!(run.result.unwrap().outcome, Outcome::Refreshed);
        assert_eq!(run.reason, Some(Reason::Due(1800)));

        // Forced: refreshed whatever is left (the stored token is still
        // read: a lost authorization it records limits forced runs too).
        let before = w.journal.count(|c| matches!(c, Call::TokenLoaded(_)));
        let run = w.run(true).await;
        assert_eq!(run.result.unwrap().outcome, Outcome::Refreshed);
        assert_eq!(run.reason, Some(Reason::Forced));
        assert_eq!(
            w.journal.count(|c| matches!(c, Call::TokenLoaded(_))),
            before + 1
        );
        assert_eq!(w.lwa.requests(), 2);
    }

    #[tokio::test]
    async fn unreadable_token_is_refreshed() {
        let w = World::new(&[DOC]);
        w.store.put_malformed(PARAMETER, "not JSON");
        let run = w.run(false).await;
        assert!(run.result.is_ok());
        assert_eq!(run.reason, Some(Reason::Unreadable("not JSON".into())));
        assert_eq!(
            w.stored().unwrap().access_token.expose_secret(),
            "Atza|fake-1"
        );
    }

    #[tokio::test]
    async fn invalid_client_rereads_the_secret_once() {
        let rotated = DOC.replace("S1", "S2");
        let w = World::new(&[DOC, &rotated]);
        w.lwa.accept_secret("S2");
        w.lwa.script([Err(rejection("invalid_client", 401))]);
        let run = w.run(false).await;
        assert!(run.result.is_ok());
        assert_eq!(run.stats.requests, 2);
        assert_eq!(w.journal.count(|c| matches!(c, Call::SecretRead(_))), 2);
        assert_eq!(*w.lwa.seen_secrets.borrow(), ["S1", "S2"]);

        // Still rejected: two requests, two reads, never more; nothing stored.
        let w = World::new(&[&DOC.replace("S1", "WRONG")]);
        w.store.put(PARAMETER, stored(100));
        let run = w.run(false).await;
        let err = run.result.unwrap_err();
        assert_eq!(err.error_type(), "LwaInvalidClient");
        assert!(
            err.to_string()
                .contains("also after reading the secret again"),
            "{err}"
        );
        assert_eq!(run.stats.requests, 2);
        assert_eq!(w.journal.count(|c| matches!(c, Call::SecretRead(_))), 2);
        assert!(w.journal.writes().is_empty());
        assert_eq!(w.stored(), Some(stored(100)));
    }

    #[tokio::test]
    async fn a_pair_rejected_earlier_is_read_again_too() {
        let rotated = DOC.replace("S1", "S2");
        let w = World::new(&[DOC, &rotated]);
        w.lwa.accept_secret("S2");
        w.lwa.script([Err(LwaError::ClientRejectedEarlier)]);
        let run = w.run(false).await;
        assert!(run.result.is_ok(), "{:?}", run.result);
        assert_eq!(*w.lwa.seen_secrets.borrow(), ["S1", "S2"]);
    }

    #[tokio::test]
    async fn other_rejections_are_not_retried_and_keep_the_stored_token() {
        for (error, status, ty) in [
            ("invalid_grant", 400, "LwaInvalidGrant"),
            ("unauthorized_client", 400, "LwaUnauthorizedClient"),
        ] {
            let w = World::new(&[DOC]);
            w.store.put(PARAMETER, stored(100));
            w.lwa.script([Err(rejection(error, status))]);
            let run = w.run(false).await;
            assert_eq!(run.result.unwrap_err().error_type(), ty);
            assert_eq!(run.stats.requests, 1);
            // The seller's loss is recorded next to the token, which is kept
            // (see crate::authorization for the rules).
            assert_eq!(w.journal.writes(), [Call::TokenSaved(PARAMETER.into())]);
            let kept = w.stored().unwrap();
            assert!(kept.authorization_lost.is_some());
            assert_eq!(kept.with_marker(None), stored(100));
        }
    }

    #[tokio::test]
    async fn invalid_credentials_make_no_request() {
        let w = World::new(&["Atzr|bare"]);
        let run = w.run(true).await;
        assert_eq!(run.result.unwrap_err().error_type(), "CredentialsInvalid");
        assert_eq!(run.stats.requests, 0);
        assert!(w.journal.writes().is_empty());
    }

    #[tokio::test]
    async fn unreadable_secret_is_credentials_unavailable_naming_it() {
        let w = World::new(&[DOC]);
        w.secrets.make_unreadable(SECRET);
        let e = w.run(true).await.result.unwrap_err();
        assert_eq!(e.error_type(), "CredentialsUnavailable");
        assert!(e.to_string().contains("`spapi/lwa`"), "{e}");
    }

    #[tokio::test]
    async fn rotated_refresh_token_is_saved_before_the_access_token() {
        let w = World::new(&[DOC]);
        w.lwa.rotate_refresh_tokens.set(true);
        let run = w.run(false).await;
        assert!(run.result.is_ok());
        assert_eq!(
            w.journal.writes(),
            [
                Call::RefreshTokenSaved(SECRET.into()),
                Call::TokenSaved(PARAMETER.into())
            ],
            "the refresh token first: a crash between the two leaves a usable secret"
        );
        let saved = w.secrets.current(SECRET).unwrap();
        assert!(
            saved.contains("Atzr|fake-rotated-1")
                && saved.contains("amzn1.application-oa2-client.A")
                && saved.contains("\"client_secret\":\"S1\""),
            "{saved}"
        );
        // The next run sends the rotated one.
        let doc = w.secrets.read_document(SECRET).await.unwrap();
        assert!(matches!(
            doc.into_credentials(None).unwrap().grant,
            Grant::RefreshToken(t) if t.expose_secret() == "Atzr|fake-rotated-1"
        ));
    }

    #[tokio::test]
    async fn a_lost_rotated_refresh_token_is_reported_and_the_access_token_still_stored() {
        let w = World::new(&[DOC]);
        w.lwa.rotate_refresh_tokens.set(true);
        *w.secrets.fail_saves.borrow_mut() = Some("AccessDeniedException: no".into());
        let e = w.run(false).await.result.unwrap_err();
        assert_eq!(e.error_type(), "RefreshTokenNotPersisted");
        assert!(e.to_string().contains("AccessDeniedException: no"), "{e}");
        assert_eq!(
            w.stored().unwrap().access_token.expose_secret(),
            "Atza|fake-1"
        );
        assert_eq!(
            w.journal.writes(),
            [
                Call::RefreshTokenSaved(SECRET.into()),
                Call::TokenSaved(PARAMETER.into())
            ]
        );

        // Both writes fail: the error says both.
        let w = World::new(&[DOC]);
        w.lwa.rotate_refresh_tokens.set(true);
        *w.secrets.fail_saves.borrow_mut() = Some("AccessDeniedException: no".into());
        w.store
            .fail_next_saves([TokenSaveError::Throttled("ThrottlingException: x".into())]);
        let e = w.run(false).await.result.unwrap_err();
        assert_eq!(e.error_type(), "RefreshTokenNotPersisted");
        assert!(e.to_string().contains("could not be stored"), "{e}");
        assert!(e.to_string().contains("ThrottlingException: x"), "{e}");
    }

    #[tokio::test]
    async fn store_failure_is_store_failed() {
        let w = World::new(&[DOC]);
        w.store.fail_next_saves([TokenSaveError::Failed(
            "AccessDeniedException: denied".into(),
        )]);
        let e = w.run(false).await.result.unwrap_err();
        assert_eq!(e.error_type(), "StoreFailed");
        assert!(
            e.to_string().contains("AccessDeniedException: denied"),
            "{e}"
        );
        assert!(!e.to_string().contains("Atza|"));
    }

    #[tokio::test]
    async fn the_token_request_ends_before_the_writes_reserve() {
        let w = World::new(&[DOC]);
        let deadline = w.clock.instant() + Duration::from_secs(30);
        w.refresher()
            .refresh(&profile(), true, deadline)
            .await
            .result
            .unwrap();
        assert_eq!(
            *w.lwa.deadlines.borrow(),
            [deadline - crate::budget::WRITE_RESERVE]
        );
    }

    #[tokio::test]
    async fn time_is_measured_on_the_clock() {
        let w = World::new(&[DOC]);
        w.lwa.slow(Duration::from_millis(700), w.clock.clone());
        let run = w.run(true).await;
        assert_eq!(run.stats.requests, 1);
        assert!(
            run.stats.aws_latency > Duration::ZERO,
            "the secret read and the write"
        );
        // The report is as of the answer: issued at T0 (the fake's request
        // time), 700 ms later, 3599 whole seconds left.
        assert_eq!(run.result.unwrap().expires_in, 3599);
    }

    /// Runs with `deadline_s` left; a guard (real time) turns a hang into a
    /// failure instead of a stuck test.
    async fn run_within(w: &World, force: bool, deadline_s: u64) -> (RefreshRun, Duration) {
        let start = w.clock.instant();
        let deadline = start + Duration::from_secs(deadline_s);
        let run = tokio::time::timeout(
            Duration::from_secs(5),
            w.refresher().refresh(&profile(), force, deadline),
        )
        .await
        .expect("the refresh must end by the deadline, not hang");
        let used = w.clock.instant() - start;
        assert!(
            used <= Duration::from_secs(deadline_s) - crate::budget::ANSWER_MARGIN,
            "answered {used:?} into a {deadline_s} s deadline"
        );
        (run, used)
    }

    #[tokio::test]
    async fn a_stalled_secret_read_ends_in_time_as_credentials_unavailable() {
        let w = World::new(&[DOC]);
        w.store.put(PARAMETER, stored(100));
        w.secrets.stall_reads.set(true);
        let (run, used) = run_within(&w, false, 10).await;
        let e = run.result.unwrap_err();
        assert_eq!(e.error_type(), "CredentialsUnavailable");
        let text = e.to_string();
        assert!(text.contains("GetSecretValue did not finish"), "{text}");
        assert!(
            text.contains("Lambda deadline") && text.contains("timeout"),
            "{text}"
        );
        // Stopped when a token request could no longer fit after it.
        assert_eq!(
            used,
            Duration::from_millis(10_000 - 3_000 - 250),
            "MIN_ATTEMPT"
        );
        assert_eq!(w.lwa.requests(), 0);
        assert!(w.journal.writes().is_empty());
        assert_eq!(w.stored(), Some(stored(100)));
    }

    #[tokio::test]
    async fn a_stalled_stored_token_read_ends_in_time() {
        let w = World::new(&[DOC]);
        w.store.stall_loads.set(true);
        let (run, _) = run_within(&w, false, 10).await;
        let e = run.result.unwrap_err();
        assert_eq!(e.error_type(), "LwaUnavailable");
        assert!(
            e.to_string().contains("Raise the function's timeout"),
            "{e}"
        );
        assert!(
            matches!(&run.reason, Some(Reason::Unreadable(why)) if why.contains("GetParameter did not finish")),
            "{:?}",
            run.reason
        );
        assert!(w.journal.writes().is_empty());
    }

    #[tokio::test]
    async fn a_stalled_token_write_ends_in_time_as_store_failed() {
        let w = World::new(&[DOC]);
        w.store.stall_saves.set(true);
        let (run, _) = run_within(&w, true, 10).await;
        let e = run.result.unwrap_err();
        assert_eq!(e.error_type(), "StoreFailed");
        let text = e.to_string();
        assert!(text.contains("PutParameter did not finish"), "{text}");
        assert!(text.contains("may or may not"), "{text}");
    }

    #[tokio::test]
    async fn a_stalled_refresh_token_save_leaves_time_to_store_the_access_token() {
        let w = World::new(&[DOC]);
        w.lwa.rotate_refresh_tokens.set(true);
        w.secrets.stall_saves.set(true);
        let (run, used) = run_within(&w, true, 10).await;
        let e = run.result.unwrap_err();
        assert_eq!(e.error_type(), "RefreshTokenNotPersisted");
        assert!(
            e.to_string().contains("PutSecretValue did not finish"),
            "{e}"
        );
        assert!(e.to_string().contains("was stored in"), "{e}");
        assert_eq!(
            w.stored().unwrap().access_token.expose_secret(),
            "Atza|fake-1"
        );
        assert_eq!(used, Duration::from_millis(10_000 - 500 - 1_500));
    }

    #[tokio::test]
    async fn no_refresh_is_started_without_time_for_it() {
        let w = World::new(&[DOC]);
        w.store.put(PARAMETER, stored(100));
        let (run, used) = run_within(&w, false, 3).await;
        let e = run.result.unwrap_err();
        assert_eq!(e.error_type(), "LwaUnavailable");
        let text = e.to_string();
        assert!(text.contains("no token request was made"), "{text}");
        assert!(text.contains("Raise the function's timeout"), "{text}");
        assert_eq!(used, Duration::ZERO);
        assert_eq!(w.journal.count(|c| matches!(c, Call::SecretRead(_))), 0);
        assert_eq!(w.stored(), Some(stored(100)));
    }

    #[tokio::test]
    async fn the_rotated_refresh_token_write_keeps_an_edit_made_meanwhile() {
        // The operator puts a new client secret into the secret while the
        // run is under way: the second read (just before the write) sees it.
        let edited = DOC.replace("S1", "S2");
        let w = World::new(&[DOC, &edited]);
        w.lwa.rotate_refresh_tokens.set(true);
        w.refresher()
            .refresh(
                &profile(),
                true,
                w.clock.instant() + Duration::from_secs(30),
            )
            .await
            .result
            .unwrap();
        let saved = w.secrets.current(SECRET).unwrap();
        assert!(
            saved.contains("\"client_secret\":\"S2\""),
            "reverted: {saved}"
        );
        assert!(saved.contains("Atzr|fake-rotated-1"), "{saved}");
    }
}
