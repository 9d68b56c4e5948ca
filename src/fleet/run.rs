//! One fleet run: read the app secret and the stored tokens, then refresh
//! each discovered profile as discovery finds it, with LWA bounded by
//! [`GatedEndpoint`] and writes paced by [`PacedStore`], and summarize.

use super::credentials::FleetCredentials;
use super::gate::GatedEndpoint;
use super::pacing::PacedStore;
use super::settings::FleetSettings;
use super::spread::effective_margin;
use super::summary::{FleetSummary, ProfileFailure, ProfileOutcome};
use crate::authorization::Loss;
use crate::bounded::within;
use crate::budget::TimeBudget;
use crate::error::{ErrorType, ServiceError};
use crate::lwa::LwaError;
use crate::ports::{
    system_clock, CredentialsLoadError, CredentialsRead, CredentialsWrite, DiscoveredSecret,
    DiscoveryError, SecretDiscovery, SharedClock, SharedEvents, StoredTokens, TokenEndpoint,
    TokenList, TokenListError, TokenRead, TokenWrite,
};
use crate::profile::{check_profile_name, Profile};
use crate::refresh::Refresher;
use futures_util::stream::{self, StreamExt};
use std::cell::{Cell, RefCell};
use std::time::Duration;
use tokio::time::Instant;

/// Discovered secrets waiting for a refresh slot.
const DISCOVERY_BUFFER: usize = 256;
/// Profiles in progress per token request in flight: while some wait on
/// LWA, others are read, written or paced, so a slow store does not idle
/// the LWA slots. Each waiting profile costs a few hundred bytes.
const IN_PROGRESS_PER_REQUEST: usize = 8;

/// The fleet use case over its ports: secrets (discovery, reads and the
/// rotated refresh token's write-back), the token endpoint, and the token
/// store (listing, reads, writes).
pub struct Fleet<D, E, S> {
    secrets: D,
    endpoint: E,
    store: S,
    settings: FleetSettings,
    margin: Duration,
    budget: TimeBudget,
    clock: SharedClock,
    events: Option<SharedEvents>,
}

impl<D, E, S> Fleet<D, E, S>
where
    D: SecretDiscovery + CredentialsRead + CredentialsWrite,
    E: TokenEndpoint,
    S: TokenList + TokenRead + TokenWrite,
{
    /// A fleet refreshing with `margin` (`REFRESH_MARGIN_SECONDS`, spread by
    /// [`effective_margin`]) within `budget`, on the system clock.
    pub fn new(
        secrets: D,
        endpoint: E,
        store: S,
        settings: FleetSettings,
        margin: Duration,
        budget: TimeBudget,
    ) -> Self {
        Self {
            secrets,
            endpoint,
            store,
            settings,
            margin,
            budget,
            clock: system_clock(),
            events: None,
        }
    }

    /// The same fleet publishing authorization events to `events`.
    pub fn with_events(mut self, events: Option<SharedEvents>) -> Self {
        self.events = events;
        self
    }

    /// The same fleet on `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &FleetSettings {
        &self.settings
    }

    /// The clock.
    pub fn clock(&self) -> &dyn crate::ports::Clock {
        &*self.clock
    }

    /// Runs one fleet refresh (`force`: every profile) before `deadline`.
    /// `Err` only when the run cannot start: the app secret or the stored
    /// tokens cannot be read. Per-profile failures, and a discovery failing
    /// midway, are in the summary.
    pub async fn run(&self, force: bool, deadline: Instant) -> Result<FleetSummary, ServiceError> {
        let settings = &self.settings;
        // Reads before the refreshes may take until the answer is due; a
        // refresh starts only with room for it (then deferred otherwise).
        let answer_by = TimeBudget::answer_by(deadline);
        let clock = &*self.clock;
        let app = match &settings.app_secret_id {
            Some(id) => Some(
                within(clock, answer_by, self.secrets.read_document(id))
                    .await
                    .unwrap_or_else(|late| {
                        Err(CredentialsLoadError::Unavailable(
                            late.describe("GetSecretValue", false),
                        ))
                    })
                    .map_err(|e| credentials_error(e, id))?,
            ),
            None => None,
        };
        let stored = within(
            clock,
            answer_by,
            self.store.load_prefix(&settings.parameter_prefix),
        )
        .await
        .unwrap_or_else(|late| {
            Err(TokenListError {
                detail: late.describe("GetParametersByPath", false),
            })
        })
        .map_err(|e| ServiceError::StoreFailed {
            parameter: format!("{}*", settings.parameter_prefix),
            detail: e.detail,
        })?;

        let credentials = FleetCredentials::new(&self.secrets, settings.app_secret_id.clone(), app);
        let gate = GatedEndpoint::new(
            &self.endpoint,
            settings.concurrency,
            self.budget,
            &*self.clock,
        );
        let paced = PacedStore::new(&self.store, settings.write_tps, &*self.clock);
        let refresher = Refresher::new(&credentials, &gate, &paced, self.margin)
            .with_clock(self.clock.clone())
            .with_events(self.events.clone());
        let run = Run {
            fleet: self,
            stored: &stored,
            credentials: &credentials,
            refresher: &refresher,
            force,
            deadline,
            app_rejected: RefCell::new(None),
            requests: Cell::new(0),
        };

        // Discovery feeds the refreshes as it reads: the first profiles
        // refresh while later pages are still being listed.
        let (tx, rx) = tokio::sync::mpsc::channel(DISCOVERY_BUFFER);
        let listing = async {
            let r = within(
                clock,
                answer_by,
                self.secrets.discover_into(&settings.secret_prefix, &tx),
            )
            .await
            .unwrap_or_else(|late| {
                Err(DiscoveryError {
                    detail: late.describe("ListSecrets / BatchGetSecretValue", false),
                })
            });
            drop(tx);
            r
        };
        let found = stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let refreshing = found
            .map(|found| run.profile(found))
            .buffer_unordered(settings.concurrency.max(1) * IN_PROGRESS_PER_REQUEST)
            .collect::<Vec<ProfileOutcome>>();
        let (listed, outcomes) = futures_util::future::join(listing, refreshing).await;

        let (mut summary, app_stopped) = FleetSummary::tally(outcomes, run.requests.get());
        if let Err(e) = listed {
            let e = ServiceError::CredentialsUnavailable {
                secret_id: format!("{}*", settings.secret_prefix),
                detail: e.detail,
            };
            summary.failed += 1;
            summary.add_failure(ProfileFailure {
                profile: "discovery".into(),
                error_type: e.error_type(),
                message: format!("{e} Profiles after the failure were not listed in this run."),
                profiles_affected: None,
            });
        }
        if let Some(e) = run.app_rejected.into_inner() {
            summary.add_failure(ProfileFailure {
                profile: format!(
                    "app:{}",
                    settings.app_secret_id.as_deref().unwrap_or_default()
                ),
                error_type: e.error_type(),
                message: format!(
                    "{e} Profiles that use the app secret were not refreshed in this run."
                ),
                profiles_affected: Some(app_stopped),
            });
        }
        Ok(summary)
    }
}

fn credentials_error(e: CredentialsLoadError, secret_id: &str) -> ServiceError {
    match e {
        CredentialsLoadError::Invalid(e) => ServiceError::CredentialsInvalid(e),
        CredentialsLoadError::Unavailable(detail) => ServiceError::CredentialsUnavailable {
            secret_id: secret_id.to_owned(),
            detail,
        },
    }
}

/// The state one run shares between its profiles.
struct Run<'r, D, E, S, C, G, P> {
    fleet: &'r Fleet<D, E, S>,
    stored: &'r StoredTokens,
    credentials: &'r FleetCredentials<C>,
    refresher: &'r Refresher<&'r FleetCredentials<C>, &'r G, &'r P>,
    force: bool,
    deadline: Instant,
    /// The first `invalid_client` on the shared app secret: reported once.
    app_rejected: RefCell<Option<ServiceError>>,
    requests: Cell<u32>,
}

impl<D, E, S, C, G, P> Run<'_, D, E, S, C, G, P>
where
    C: CredentialsRead + CredentialsWrite,
    G: TokenEndpoint,
    P: TokenRead + TokenWrite,
{
    /// What one discovered secret comes to.
    async fn profile(&self, found: DiscoveredSecret) -> ProfileOutcome {
        let settings = &self.fleet.settings;
        let clock = &self.fleet.clock;
        if settings.is_app_secret(&found.name) {
            return ProfileOutcome::Ignored; // the app secret itself may live under the prefix
        }
        let name = found.name[settings.secret_prefix.len()..].to_owned();
        if let Err(why) = check_profile_name(&name) {
            return ProfileOutcome::Failed {
                failure: ProfileFailure {
                    profile: name.escape_default().to_string(),
                    error_type: ErrorType::CredentialsInvalid,
                    message: format!(
                        "secret `{}`: {why}; rename the secret (the profile name becomes part of the parameter name)",
                        found.name.escape_default()
                    ),
                    profiles_affected: None,
                },
                ttl: None,
            };
        }
        let parameter = format!("{}{name}", settings.parameter_prefix);
        let doc = match found.document {
            Ok(doc) => doc,
            Err(e) => {
                let error = credentials_error(e, &found.name);
                return ProfileOutcome::Failed {
                    failure: ProfileFailure::of(name, &error),
                    ttl: None,
                };
            }
        };
        let uses_app = !doc.has_client();
        self.credentials.prefetch(found.name.clone(), doc);
        let now = clock.now();
        let loaded = match self.stored.get(&parameter) {
            None => Ok(None),
            Some(Ok(t)) => Ok(Some(t.clone())),
            Some(Err(why)) => Err(why.clone()),
        };
        let old_ttl = loaded
            .as_ref()
            .ok()
            .and_then(|t| t.as_ref())
            .map(|t| t.seconds_left(now).max(0));
        if uses_app && self.app_rejected.borrow().is_some() {
            return ProfileOutcome::AppStopped { ttl: old_ttl };
        }
        if !self
            .fleet
            .budget
            .room_for_refresh(clock.instant(), self.deadline)
        {
            return ProfileOutcome::Deferred { ttl: old_ttl };
        }
        let profile = Profile {
            name: Some(name.clone()),
            secret_id: found.name,
            parameter_name: parameter,
        };
        let margin = effective_margin(
            &name,
            now.unix_timestamp(),
            self.fleet.margin,
            settings.spread,
        );
        let run = self
            .refresher
            .refresh_with(&profile, loaded, self.force, margin, self.deadline)
            .await;
        self.requests.set(self.requests.get() + run.stats.requests);
        if run.loss == Loss::Continues && run.result.is_err() {
            // Counted as failed once, when the loss began; not again.
            return ProfileOutcome::AuthorizationLost {
                profile: name,
                ttl: old_ttl,
            };
        }
        match run.result {
            Ok(report) => ProfileOutcome::Done {
                outcome: report.outcome,
                ttl: report.expires_in,
            },
            Err(ServiceError::Lwa {
                error: LwaError::NotStarted { .. },
                ..
            }) => ProfileOutcome::Deferred { ttl: old_ttl },
            Err(e) if uses_app && e.error_type() == ErrorType::LwaInvalidClient => {
                // Reported once, for the app; profiles in flight count as stopped.
                self.app_rejected.borrow_mut().get_or_insert(e);
                ProfileOutcome::AppStopped { ttl: old_ttl }
            }
            Err(e) => {
                tracing::warn!(profile = %name, error_type = %e.error_type(), error = %e, "profile refresh failed");
                ProfileOutcome::Failed {
                    failure: ProfileFailure::of(name, &e),
                    ttl: old_ttl,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Clock, TokenSaveError};
    use crate::refresh::Outcome;
    use crate::secret::AccessToken;
    use crate::testing::{Call, FakeLwa, FakeSecrets, FakeStore, Journal, ManualClock};
    use crate::token::StoredToken;
    use std::sync::Arc;
    use time::macros::datetime;
    use time::OffsetDateTime;

    const T0: OffsetDateTime = datetime!(2026-11-30 12:00:00 UTC);
    const APP: &str = "spapi/app";
    const APP_DOC: &str = r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S1"}"#;
    const REQUEST: Duration = Duration::from_millis(500);

    struct World {
        journal: Journal,
        secrets: FakeSecrets,
        lwa: FakeLwa,
        store: FakeStore,
        clock: Arc<ManualClock>,
        settings: FleetSettings,
    }

    impl World {
        /// An app secret and `sellers` seller profiles (`s-0`, `s-1`, …).
        fn new(sellers: usize) -> Self {
            let journal = Journal::new();
            let w = World {
                secrets: FakeSecrets::new(&journal),
                lwa: FakeLwa::new(&journal, &["S1"]),
                store: FakeStore::new(&journal),
                clock: Arc::new(ManualClock::new(T0)),
                settings: FleetSettings {
                    secret_prefix: "spapi/fleet/".into(),
                    parameter_prefix: "/spapi/fleet/".into(),
                    app_secret_id: Some(APP.into()),
                    concurrency: 2,
                    write_tps: 0,
                    spread: Duration::ZERO,
                },
                journal,
            };
            w.secrets.put(APP, &[APP_DOC]);
            w.lwa.slow(Duration::ZERO, w.clock.clone());
            for i in 0..sellers {
                w.seller(&format!("s-{i}"));
            }
            w
        }
        fn seller(&self, name: &str) {
            self.secrets.put(
                &format!("spapi/fleet/{name}"),
                &[&format!(r#"{{"refresh_token":"Atzr|{name}"}}"#)],
            );
        }
        async fn run_until(&self, deadline_in: Duration) -> Result<FleetSummary, ServiceError> {
            let fleet = Fleet::new(
                &self.secrets,
                &self.lwa,
                &self.store,
                self.settings.clone(),
                Duration::from_secs(1800),
                TimeBudget::new(REQUEST),
            )
            .with_clock(self.clock.clone());
            fleet.run(false, self.clock.instant() + deadline_in).await
        }
        async fn run(&self) -> FleetSummary {
            self.run_until(Duration::from_secs(60)).await.unwrap()
        }
        fn token(&self, profile: &str) -> Option<StoredToken> {
            self.store.get(&format!("/spapi/fleet/{profile}"))
        }
    }

    fn counts(s: &FleetSummary) -> (usize, usize, usize, usize, usize) {
        (s.profiles, s.refreshed, s.skipped, s.failed, s.deferred)
    }

    #[tokio::test]
    async fn every_profile_is_refreshed_with_the_app_secret_and_then_skipped() {
        let w = World::new(5);
        let s = w.run().await;
        assert_eq!(counts(&s), (5, 5, 0, 0, 0), "{s:?}");
        assert_eq!((s.token_requests, s.min_ttl_seconds), (5, Some(3600)));
        assert!(s.failures.is_empty() && s.error().is_none());
        assert!(w.token("s-4").is_some());
        // The app secret is read once at the start, and again by no one.
        assert_eq!(w.journal.count(|c| *c == Call::SecretRead(APP.into())), 1);
        let again = w.run().await;
        assert_eq!(counts(&again), (5, 0, 5, 0, 0));
        assert_eq!(again.token_requests, 0);
    }

    #[tokio::test]
    async fn one_failing_profile_never_stops_the_others() {
        let w = World::new(4);
        w.lwa.revoke("Atzr|s-1");
        w.secrets.put("spapi/fleet/broken", &["\"not an object\""]);
        w.store
            .fail_next_saves([TokenSaveError::Failed("AccessDeniedException: x".into())]);
        let s = w.run().await;
        assert_eq!(counts(&s), (5, 2, 0, 3, 0), "{s:?}");
        let failed: Vec<(&str, ErrorType)> = s
            .failures
            .iter()
            .map(|f| (f.profile.as_str(), f.error_type))
            .collect();
        assert_eq!(failed.len(), 3);
        assert!(failed.contains(&("broken", ErrorType::CredentialsInvalid)));
        assert!(failed.contains(&("s-1", ErrorType::LwaInvalidGrant)));
        assert!(failed.iter().any(|f| f.1 == ErrorType::StoreFailed));
        // No token for either; the revoked seller's parameter holds only the
        // authorization_lost marker.
        assert!(w.token("broken").is_none());
        let revoked = w.token("s-1").expect("the marker");
        assert!(!revoked.has_token() && revoked.authorization_lost.is_some());
        assert_eq!(s.min_ttl_seconds, Some(0));
        let e = s.error().unwrap();
        assert!(e.to_string().starts_with("3 of 5 profiles failed"), "{e}");
    }

    #[tokio::test]
    async fn invalid_client_on_the_app_secret_stops_its_profiles_once() {
        let w = World::new(12);
        w.secrets.put(APP, &[&APP_DOC.replace("S1", "WRONG")]);
        // Both requests in flight at once.
        w.lwa.slow(Duration::from_millis(100), w.clock.clone());
        let s = w.run().await;
        assert_eq!(counts(&s), (12, 0, 0, 12, 0), "{s:?}");
        // One request per profile in flight (2); their re-reads find the same
        // pair, which the gate does not send again.
        assert_eq!(w.lwa.requests(), 2, "{:?}", w.lwa.seen_secrets.borrow());
        assert_eq!(s.failures.len(), 1, "{:?}", s.failures);
        let f = &s.failures[0];
        assert_eq!(f.profile, format!("app:{APP}"));
        assert_eq!(f.error_type, ErrorType::LwaInvalidClient);
        assert_eq!(f.profiles_affected, Some(12));
        assert!(
            f.message.contains("were not refreshed in this run"),
            "{}",
            f.message
        );
        assert!(w.store.is_empty());
    }

    #[tokio::test]
    async fn a_pair_rejected_once_is_not_sent_again_for_other_profiles() {
        let w = World::new(0);
        let own = r#"{"client_id":"amzn1.application-oa2-client.B","client_secret":"BAD","refresh_token":"Atzr|x"}"#;
        w.secrets.put("spapi/fleet/a", &[own]);
        w.secrets.put("spapi/fleet/b", &[own]);
        let mut settings = w.settings.clone();
        settings.concurrency = 1;
        let w = World { settings, ..w };
        let s = w.run().await;
        assert_eq!(counts(&s), (2, 0, 0, 2, 0));
        assert_eq!(w.lwa.requests(), 1, "the known-bad pair went to LWA once");
        assert!(s
            .failures
            .iter()
            .all(|f| f.error_type == ErrorType::LwaInvalidClient && f.profiles_affected.is_none()));
    }

    #[tokio::test]
    async fn a_rotated_app_secret_is_picked_up_mid_run() {
        let w = World::new(3);
        // The run starts with the old client secret; the secret then holds the new one.
        w.secrets
            .put(APP, &[&APP_DOC.replace("S1", "OLD"), APP_DOC]);
        let mut settings = w.settings.clone();
        settings.concurrency = 1;
        let w = World { settings, ..w };
        let s = w.run().await;
        assert_eq!(counts(&s), (3, 3, 0, 0, 0), "{s:?}");
        assert_eq!(*w.lwa.seen_secrets.borrow(), ["OLD", "S1", "S1", "S1"]);
    }

    #[tokio::test]
    async fn the_app_secret_under_the_prefix_is_not_a_profile() {
        for app_id in [
            "spapi/fleet/app".to_owned(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:spapi/fleet/app-AbCdEf"
                .to_owned(),
        ] {
            let w = World::new(2);
            w.secrets.put(&app_id, &[APP_DOC]);
            w.secrets.put("spapi/fleet/app", &[APP_DOC]);
            let mut settings = w.settings.clone();
            settings.app_secret_id = Some(app_id.clone());
            let w = World { settings, ..w };
            let s = w.run().await;
            assert_eq!(counts(&s), (2, 2, 0, 0, 0), "{app_id}: {s:?}");
            assert!(w.token("app").is_none());
        }
    }

    #[tokio::test]
    async fn discovery_failing_midway_keeps_what_was_found() {
        let w = World::new(4);
        w.secrets.discovery_fails_after.set(Some(2));
        let s = w.run().await;
        assert_eq!(counts(&s), (2, 2, 0, 1, 0), "{s:?}");
        assert_eq!(s.failures.len(), 1);
        let f = &s.failures[0];
        assert_eq!(
            (f.profile.as_str(), f.error_type),
            ("discovery", ErrorType::CredentialsUnavailable)
        );
        assert!(
            f.message.contains("ThrottlingException")
                && f.message.contains("not listed in this run"),
            "{}",
            f.message
        );
    }

    #[tokio::test]
    async fn a_secret_that_cannot_be_read_fails_alone() {
        // BatchGetSecretValue's per-secret errors.
        let w = World::new(3);
        w.secrets.make_unreadable("spapi/fleet/s-1");
        let s = w.run().await;
        assert_eq!(counts(&s), (3, 2, 0, 1, 0), "{s:?}");
        assert_eq!(s.failures[0].profile, "s-1");
        assert_eq!(s.failures[0].error_type, ErrorType::CredentialsUnavailable);
        assert!(
            s.failures[0].message.contains("KMS"),
            "{}",
            s.failures[0].message
        );
    }

    #[tokio::test]
    async fn names_that_could_escape_the_prefix_are_refused() {
        let w = World::new(1);
        w.seller("../../escape");
        w.seller(".hidden");
        let s = w.run().await;
        assert_eq!(counts(&s), (3, 1, 0, 2, 0), "{s:?}");
        assert!(s
            .failures
            .iter()
            .all(|f| f.error_type == ErrorType::CredentialsInvalid
                && f.message.contains("rename the secret")));
        assert_eq!(w.store.len(), 1);
        assert_eq!(w.lwa.requests(), 1);
    }

    #[tokio::test]
    async fn profiles_not_reached_before_the_deadline_are_deferred() {
        // One request at a time, 400 ms each; a request needs 500 ms before
        // the writes' reserve; the deadline leaves 1.5 s before the reserve:
        // requests start at 0, 0.4 and 0.8 s; at 1.2 s only 0.3 s is left.
        let w = World::new(6);
        w.lwa.slow(Duration::from_millis(400), w.clock.clone());
        let mut settings = w.settings.clone();
        settings.concurrency = 1;
        let w = World { settings, ..w };
        let deadline_in = crate::budget::WRITE_RESERVE + Duration::from_millis(1500);
        let s = w.run_until(deadline_in).await.unwrap();
        assert_eq!(counts(&s), (6, 3, 0, 0, 3), "{s:?}");
        assert_eq!((w.lwa.requests(), s.token_requests), (3, 3));
        assert!(s.error().is_none(), "deferral is not a failure");
        assert_eq!(s.min_ttl_seconds, Some(0), "the deferred have no token yet");
        // The next run does the rest.
        let next = w.run().await;
        assert_eq!(counts(&next), (6, 3, 3, 0, 0), "{next:?}");
    }

    #[tokio::test]
    async fn no_refresh_starts_without_room_for_one() {
        let w = World::new(3);
        w.store.put(
            "/spapi/fleet/s-0",
            StoredToken::new(AccessToken::new("Atza|old"), "bearer", T0, 100),
        );
        let s = w
            .run_until(crate::budget::WRITE_RESERVE + REQUEST - Duration::from_millis(1))
            .await
            .unwrap();
        assert_eq!(counts(&s), (3, 0, 0, 0, 3), "{s:?}");
        assert_eq!(w.lwa.requests(), 0);
        assert_eq!(s.min_ttl_seconds, Some(0));
        // Exactly enough room: refreshed.
        let w = World::new(1);
        let s = w
            .run_until(crate::budget::WRITE_RESERVE + REQUEST)
            .await
            .unwrap();
        assert_eq!(counts(&s), (1, 1, 0, 0, 0), "{s:?}");
    }

    #[tokio::test]
    async fn the_run_fails_whole_only_when_it_cannot_start() {
        let w = World::new(2);
        w.secrets.make_unreadable(APP);
        let e = w.run_until(Duration::from_secs(60)).await.unwrap_err();
        assert_eq!(e.error_type(), ErrorType::CredentialsUnavailable);
        assert!(e.to_string().contains(APP), "{e}");

        let w = World::new(2);
        *w.store.fail_list.borrow_mut() = Some(crate::ports::TokenListError {
            detail: "GetParametersByPath /spapi/fleet: AccessDeniedException".into(),
        });
        let e = w.run_until(Duration::from_secs(60)).await.unwrap_err();
        assert_eq!(e.error_type(), ErrorType::StoreFailed);
        assert!(e.to_string().contains("/spapi/fleet/*"), "{e}");
        assert_eq!(w.lwa.requests(), 0);
    }

    #[tokio::test]
    async fn stored_tokens_decide_and_unreadable_ones_are_refreshed() {
        let w = World::new(3);
        let issued = T0 - time::Duration::seconds(1000);
        w.store.put(
            "/spapi/fleet/s-0",
            StoredToken::new(AccessToken::new("Atza|a"), "bearer", issued, 3600),
        );
        w.store.put_malformed("/spapi/fleet/s-1", "not JSON");
        let s = w.run().await;
        assert_eq!(counts(&s), (3, 2, 1, 0, 0), "{s:?}");
        assert_eq!(s.min_ttl_seconds, Some(2600));
        assert_eq!(w.lwa.requests(), 2);
    }

    #[tokio::test]
    async fn throttled_writes_are_paced_and_retried_with_the_same_token() {
        let w = World::new(3);
        w.store
            .fail_next_saves([TokenSaveError::Throttled("ThrottlingException".into())]);
        let mut settings = w.settings.clone();
        settings.write_tps = 2;
        let w = World { settings, ..w };
        let s = w.run().await;
        assert_eq!(counts(&s), (3, 3, 0, 0, 0), "{s:?}");
        assert_eq!(w.lwa.requests(), 3, "no new token for a throttled write");
        assert_eq!(w.journal.count(|c| matches!(c, Call::TokenSaved(_))), 4);
        assert!(
            w.clock.elapsed() >= Duration::from_secs(1),
            "4 writes at 2 per second"
        );
    }

    #[tokio::test]
    async fn grantless_profiles_and_own_credentials_need_no_app_secret() {
        let w = World::new(0);
        w.secrets.put(
            "spapi/fleet/notifications",
            &[r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S1","scope":"sellingpartnerapi::notifications"}"#],
        );
        let mut settings = w.settings.clone();
        settings.app_secret_id = None;
        let w = World { settings, ..w };
        let s = w.run().await;
        assert_eq!(counts(&s), (1, 1, 0, 0, 0), "{s:?}");
        assert_eq!(w.journal.count(|c| *c == Call::SecretRead(APP.into())), 0);
        // A seller without a client and without an app secret: a clear error.
        w.seller("lonely");
        let s = w.run().await;
        assert_eq!(s.failures[0].error_type, ErrorType::CredentialsInvalid);
        assert!(
            s.failures[0].message.contains("client_id"),
            "{}",
            s.failures[0].message
        );
    }

    #[test]
    fn done_outcomes_carry_the_report_s_ttl() {
        // The summary's min TTL comes from each report's expires_in.
        let (s, _) = FleetSummary::tally(
            vec![ProfileOutcome::Done {
                outcome: Outcome::Refreshed,
                ttl: 42,
            }],
            1,
        );
        assert_eq!(s.min_ttl_seconds, Some(42));
    }
}

/// Deadline bounds of the fleet's AWS calls (stalled reads, discovery).
#[cfg(test)]
mod deadline_tests {
    use super::*;
    use crate::ports::Clock;
    use crate::testing::{FakeLwa, FakeSecrets, FakeStore, Journal, ManualClock};
    use std::sync::Arc;
    use time::macros::datetime;

    const APP: &str = r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S1"}"#;

    struct World {
        secrets: FakeSecrets,
        lwa: FakeLwa,
        store: FakeStore,
        clock: Arc<ManualClock>,
    }

    impl World {
        fn new() -> Self {
            let journal = Journal::new();
            let secrets = FakeSecrets::new(&journal);
            secrets.put("app", &[APP]);
            secrets.put("sellers/a", &[r#"{"refresh_token":"Atzr|A"}"#]);
            World {
                lwa: FakeLwa::new(&journal, &["S1"]),
                store: FakeStore::new(&journal),
                secrets,
                clock: Arc::new(ManualClock::new(datetime!(2026-11-30 12:00:00 UTC))),
            }
        }

        /// One run with 10 s left; a real-time guard turns a hang into a
        /// failure. Returns the result and the virtual time it took.
        async fn run(&self) -> (Result<super::super::FleetSummary, ServiceError>, Duration) {
            let settings = FleetSettings {
                secret_prefix: "sellers/".into(),
                parameter_prefix: "/t/".into(),
                app_secret_id: Some("app".into()),
                concurrency: 2,
                write_tps: 0,
                spread: Duration::ZERO,
            };
            let fleet = Fleet::new(
                &self.secrets,
                &self.lwa,
                &self.store,
                settings,
                Duration::from_secs(1800),
                TimeBudget::new(Duration::from_secs(1)),
            )
            .with_clock(self.clock.clone());
            let start = self.clock.instant();
            let deadline = start + Duration::from_secs(10);
            let result = tokio::time::timeout(Duration::from_secs(5), fleet.run(true, deadline))
                .await
                .expect("the run must end by the deadline, not hang");
            let used = self.clock.instant() - start;
            assert!(used <= Duration::from_millis(9_500), "{used:?}");
            (result, used)
        }
    }

    #[tokio::test]
    async fn stalled_reads_before_the_refreshes_end_in_time() {
        let w = World::new();
        w.secrets.stall_reads.set(true);
        let e = w.run().await.0.unwrap_err();
        assert_eq!(e.error_type(), ErrorType::CredentialsUnavailable);
        assert!(
            e.to_string().contains("GetSecretValue did not finish"),
            "{e}"
        );

        let w = World::new();
        w.store.stall_loads.set(true);
        let e = w.run().await.0.unwrap_err();
        assert_eq!(e.error_type(), ErrorType::StoreFailed);
        assert!(
            e.to_string().contains("GetParametersByPath did not finish"),
            "{e}"
        );
        assert!(w.store.is_empty());
    }

    #[tokio::test]
    async fn a_stalled_listing_ends_in_time_and_keeps_what_was_refreshed() {
        let w = World::new();
        w.secrets.stall_discovery.set(true);
        let (summary, _) = w.run().await;
        let summary = summary.unwrap();
        assert_eq!(summary.refreshed, 1, "{summary:?}");
        let failure = summary
            .failures
            .iter()
            .find(|f| f.profile == "discovery")
            .expect("a discovery failure");
        assert!(
            failure
                .message
                .contains("ListSecrets / BatchGetSecretValue did not finish"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("Lambda deadline"),
            "{}",
            failure.message
        );
    }
}
