//! The client-secret rotator's use case: record expiries, rotate before the
//! secret expires, install the new secret Amazon sends. No AWS or HTTP types:
//! it sees the ports [`SecretVersions`], [`TokenEndpoint`] and
//! [`ApplicationManagement`].
//!
//! Installing a new secret, in this order (CONTRACT.md, "client-secret-rotator"):
//! 1. save it as a new version staged `AWSPENDING` (never lost, whatever fails next);
//! 2. verify it: a `client_credentials` request with the rotation scope;
//! 3. re-read `AWSCURRENT` and write it back with the new secret as the new
//!    `AWSCURRENT` (the old version becomes `AWSPREVIOUS`; a field written
//!    meanwhile, such as a rotated refresh token, is kept), then remove the
//!    `AWSPENDING` label.
//!
//! The steps live in `install.rs` (the new secret) and `schedule.rs` (the
//! expiry notice, the rotate call and the daily check).

use crate::ports::application_management::ApplicationManagement;
use crate::ports::secret_versions::{SecretVersions, Stage, VersionValue};
use crate::ports::{system_clock, SharedClock, TokenEndpoint};
use crate::rotation::document::AppDocument;
use crate::rotation::error::RotatorError;
use crate::rotation::notification::{Kind, Notification};
use crate::rotation::rules::{self, Expiry, ExpirySource, History};
use crate::rotation::status::Status;
use crate::secret::ClientSecret;
use time::OffsetDateTime;
use tokio::time::Instant;

/// The LWA scope of the rotate call and of the new-secret check.
pub const ROTATION_SCOPE: &str = "sellingpartnerapi::client_credential:rotation";

/// The rotator's settings (from [`crate::rotation::config::RotatorConfig`]).
#[derive(Debug, Clone)]
pub struct RotatorSettings {
    /// The secret with the app's `client_id` and `client_secret`.
    pub secret_id: String,
    /// Rotate when the secret expires within this many days (1–150).
    pub rotate_before_days: u32,
    /// The queue to register in the console, for `RotationNotEnrolled`.
    pub queue_arn: Option<String>,
}

/// What one notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// Another app's client ID, or another notification type.
    Ignored(String),
    /// The secret is already current (duplicate delivery).
    Duplicate,
    /// An old notification delivered late: nothing replaced.
    Stale,
    /// The new secret was saved, verified and promoted.
    Installed,
    /// The expiry was recorded (or already known); `rotated` when a rotate
    /// call was made.
    ExpiryNoted {
        /// A rotate call was accepted.
        rotated: bool,
    },
}

/// What `rotate` and `check` did, with the status after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The status after the run.
    pub status: Status,
    /// A rotate call was accepted in this run.
    pub rotated: bool,
    /// Why no rotate call was made, when one was asked for.
    pub reason: Option<String>,
    /// A waiting `AWSPENDING` secret was promoted in this run.
    pub promoted: bool,
}

/// The use case.
pub struct Rotator<V, E, A> {
    pub(super) versions: V,
    pub(super) lwa: E,
    pub(super) app: A,
    pub(super) settings: RotatorSettings,
    pub(super) clock: SharedClock,
}

impl<V: SecretVersions, E: TokenEndpoint, A: ApplicationManagement> Rotator<V, E, A> {
    /// Wires the ports, on the system clock.
    pub fn new(versions: V, lwa: E, app: A, settings: RotatorSettings) -> Self {
        Self {
            versions,
            lwa,
            app,
            settings,
            clock: system_clock(),
        }
    }

    /// The same rotator on `clock` (the time rules are judged by).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The settings.
    pub fn settings(&self) -> &RotatorSettings {
        &self.settings
    }

    pub(super) fn unavailable(&self, detail: String) -> RotatorError {
        RotatorError::CredentialsUnavailable {
            secret_id: self.settings.secret_id.clone(),
            detail,
        }
    }

    pub(super) fn parse(&self, v: &VersionValue) -> Result<AppDocument, RotatorError> {
        AppDocument::parse(&self.settings.secret_id, &v.version_id, &v.secret_string)
            .map_err(RotatorError::CredentialsInvalid)
    }

    pub(super) async fn read(&self, stage: Stage) -> Result<Option<VersionValue>, RotatorError> {
        self.versions
            .get_stage(&self.settings.secret_id, stage)
            .await
            .map_err(|e| self.unavailable(format!("reading {}: {e}", stage.label())))
    }

    pub(super) async fn current(&self) -> Result<AppDocument, RotatorError> {
        match self.read(Stage::Current).await? {
            Some(v) => self.parse(&v),
            None => Err(self.unavailable(
                "the secret has no AWSCURRENT version; put the app's client_id and client_secret in it".into(),
            )),
        }
    }

    /// The waiting `AWSPENDING` version, if it holds a usable document with
    /// a secret other than the current one.
    pub(super) async fn pending(
        &self,
        current: &AppDocument,
    ) -> Result<Option<AppDocument>, RotatorError> {
        let Some(v) = self.read(Stage::Pending).await? else {
            return Ok(None);
        };
        match self.parse(&v) {
            Ok(p) if p.client_id == current.client_id => Ok(Some(p)),
            _ => {
                tracing::warn!(secret_id = %self.settings.secret_id, version_id = %v.version_id,
                    "the AWSPENDING version is not a new secret for this app; ignoring it");
                Ok(None)
            }
        }
    }

    pub(super) async fn put(
        &self,
        document: &secrecy::SecretString,
        stage: Stage,
    ) -> Result<String, RotatorError> {
        self.versions
            .put_version(&self.settings.secret_id, document, stage)
            .await
            .map_err(|e| {
                self.unavailable(format!("writing a version staged {}: {e}", stage.label()))
            })
    }

    /// Whether `client_id` is another app's: not the current version's
    /// `client_id` (read now).
    pub async fn is_foreign(&self, client_id: &str) -> Result<bool, RotatorError> {
        Ok(self.current().await?.client_id != client_id)
    }

    /// When the current secret expires: recorded, else estimated from the
    /// oldest retained version holding its value.
    pub async fn expiry(&self, current: &AppDocument) -> Result<Expiry, RotatorError> {
        if let Some(at) = current.expires_at {
            return Ok(Expiry {
                at,
                source: ExpirySource::Recorded,
            });
        }
        self.first_stored(current)
            .await?
            .map(|stored| Expiry { at: stored + rules::SECRET_LIFETIME, source: ExpirySource::Estimated })
            .ok_or_else(|| self.unavailable(
                "no version creation date to estimate the expiry from; set client_secret_expires_at by hand".into(),
            ))
    }

    /// When the current client secret value was first stored: the creation
    /// time of the oldest retained version (deprecated ones included) that
    /// holds it; `None` when no version has a creation time.
    pub async fn first_stored(
        &self,
        current: &AppDocument,
    ) -> Result<Option<OffsetDateTime>, RotatorError> {
        Ok(self.history(current, None).await?.current_stored)
    }

    /// The secret's history as seen from the current version and `other` (a
    /// new secret, if given). Reads every retained version.
    pub async fn history(
        &self,
        current: &AppDocument,
        other: Option<&ClientSecret>,
    ) -> Result<History, RotatorError> {
        let id = &self.settings.secret_id;
        let list = self
            .versions
            .list_versions(id)
            .await
            .map_err(|e| self.unavailable(format!("listing versions: {e}")))?;
        let mut seen = Vec::new();
        for info in list {
            let Some(created) = info.created else {
                continue;
            };
            let doc = if info.version_id == current.version_id {
                Some(current.clone())
            } else {
                match self.versions.get_version(id, &info.version_id).await {
                    Ok(v) => self.parse(&v).ok(),
                    Err(_) => None, // deleted meanwhile: not retained
                }
            };
            if let Some(doc) = doc {
                seen.push((created, doc));
            }
        }
        seen.sort_by_key(|(created, _)| *created);
        let first = |secret: &ClientSecret| seen.iter().find(|(_, d)| d.client_secret == *secret);
        let mine = first(&current.client_secret);
        Ok(History {
            current_stored: mine.map(|(created, _)| *created),
            current_first_expiry: mine.and_then(|(_, d)| d.expires_at),
            other_stored: other.and_then(first).map(|(created, _)| *created),
        })
    }

    /// The status at `now`.
    pub async fn status(&self, now: OffsetDateTime) -> Result<Status, RotatorError> {
        let current = self.current().await?;
        let pending = self.pending(&current).await?;
        self.status_of(
            &current,
            pending.is_some_and(|p| p.client_secret != current.client_secret),
            now,
        )
        .await
    }

    pub(super) async fn status_of(
        &self,
        current: &AppDocument,
        pending: bool,
        now: OffsetDateTime,
    ) -> Result<Status, RotatorError> {
        let expiry = self.expiry(current).await?;
        Ok(Status::new(
            &current.client_id,
            expiry,
            current.rotation_requested_at,
            pending,
            now,
        ))
    }

    /// Handles one notification.
    pub async fn on_notification(
        &self,
        n: &Notification,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<NotificationOutcome, RotatorError> {
        match &n.kind {
            Kind::Other(kind) => Ok(NotificationOutcome::Ignored(format!(
                "notification type {kind}"
            ))),
            Kind::Expiry(e) => self.on_expiry(e, n.published_at, now, deadline).await,
            Kind::NewSecret(s) => self.on_new_secret(s, n.published_at, now, deadline).await,
        }
    }
}
