//! One fleet run: read the app secret and the stored tokens, then refresh
//! each discovered profile as discovery finds it, with LWA bounded by
//! [`GatedEndpoint`] and writes paced by [`PacedStore`], and summarize.

use super::credentials::FleetCredentials;
use super::gate::GatedEndpoint;
use super::pacing::PacedStore;
use super::settings::FleetSettings;
use super::spread::effective_margin;
use super::summary::{FleetSummary, ProfileFailure, ProfileOutcome};
use crate::budget::TimeBudget;
use crate::error::{ErrorType, ServiceError};
use crate::lwa::LwaError;
use crate::ports::{
    system_clock, CredentialsLoadError, CredentialsRead, CredentialsWrite, DiscoveredSecret,
    SecretDiscovery, SharedClock, StoredTokens, TokenEndpoint, TokenList, TokenRead, TokenWrite,
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
        }
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
        let app = match &settings.app_secret_id {
            Some(id) => Some(
                self.secrets
                    .read_document(id)
                    .await
                    .map_err(|e| credentials_error(e, id))?,
            ),
            None => None,
        };
        let stored = self
            .store
            .load_prefix(&settings.parameter_prefix)
            .await
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
        let refresher =
            Refresher::new(&credentials, &gate, &paced, self.margin).with_clock(self.clock.clone());
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
            let r = self
                .secrets
                .discover_into(&settings.secret_prefix, &tx)
                .await;
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
