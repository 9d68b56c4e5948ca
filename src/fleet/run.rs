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
