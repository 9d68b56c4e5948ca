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

use crate::credentials::{Credentials, Grant};
use crate::lwa::{ExchangeStats, LwaError, LwaErrorCode};
use crate::ports::application_management::{ApplicationManagement, RotateCallError};
use crate::ports::secret_versions::{SecretVersions, Stage, VersionValue};
use crate::ports::{system_clock, SharedClock, TokenEndpoint};
use crate::rotation::document::AppDocument;
use crate::rotation::error::{LwaPurpose, RotatorError};
use crate::rotation::notification::{Kind, NewSecret, Notification, SecretExpiry};
use crate::rotation::rules::{self, Expiry, ExpirySource, NewSecretDecision};
use crate::rotation::status::Status;
use crate::secret::{fingerprint, ClientSecret};
use crate::token::rfc3339;
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
    versions: V,
    lwa: E,
    app: A,
    settings: RotatorSettings,
    clock: SharedClock,
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

    fn unavailable(&self, detail: String) -> RotatorError {
        RotatorError::CredentialsUnavailable {
            secret_id: self.settings.secret_id.clone(),
            detail,
        }
    }

    fn parse(&self, v: &VersionValue) -> Result<AppDocument, RotatorError> {
        AppDocument::parse(&self.settings.secret_id, &v.version_id, &v.secret_string)
            .map_err(RotatorError::CredentialsInvalid)
    }

    async fn read(&self, stage: Stage) -> Result<Option<VersionValue>, RotatorError> {
        self.versions
            .get_stage(&self.settings.secret_id, stage)
            .await
            .map_err(|e| self.unavailable(format!("reading {}: {e}", stage.label())))
    }

    async fn current(&self) -> Result<AppDocument, RotatorError> {
        match self.read(Stage::Current).await? {
            Some(v) => self.parse(&v),
            None => Err(self.unavailable(
                "the secret has no AWSCURRENT version; put the app's client_id and client_secret in it".into(),
            )),
        }
    }

    /// The waiting `AWSPENDING` version, if it holds a usable document with
    /// a secret other than the current one.
    async fn pending(&self, current: &AppDocument) -> Result<Option<AppDocument>, RotatorError> {
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

    async fn put(
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

    /// When the current secret expires: recorded, else estimated from the
    /// oldest retained version holding its value.
    pub async fn expiry(&self, current: &AppDocument) -> Result<Expiry, RotatorError> {
        if let Some(at) = current.expires_at {
            return Ok(Expiry {
                at,
                source: ExpirySource::Recorded,
            });
        }
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
            let holds = if info.version_id == current.version_id {
                true
            } else {
                match self.versions.get_version(id, &info.version_id).await {
                    Ok(v) => self
                        .parse(&v)
                        .is_ok_and(|d| d.client_secret == current.client_secret),
                    Err(_) => false, // deleted meanwhile: not retained
                }
            };
            seen.push((created, holds));
        }
        rules::estimate_expiry(&seen)
            .map(|at| Expiry { at, source: ExpirySource::Estimated })
            .ok_or_else(|| self.unavailable(
                "no version creation date to estimate the expiry from; set client_secret_expires_at by hand".into(),
            ))
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

    async fn status_of(
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
            Kind::Expiry(e) => self.on_expiry(e, now, deadline).await,
            Kind::NewSecret(s) => self.on_new_secret(s, deadline).await,
        }
    }

    async fn on_expiry(
        &self,
        e: &SecretExpiry,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<NotificationOutcome, RotatorError> {
        let current = self.current().await?;
        if e.client_id != current.client_id {
            return Ok(NotificationOutcome::Ignored("another client ID".into()));
        }
        let mut current = current;
        if rules::records_expiry(current.expires_at, e.expires_at) {
            self.put(&current.with_expiry(e.expires_at), Stage::Current)
                .await?;
            tracing::info!(secret_id = %self.settings.secret_id, client_secret_expires_at = %rfc3339(e.expires_at),
                "recorded the client secret's expiry");
            current = self.current().await?;
        }
        let expiry = current.expires_at.unwrap_or(e.expires_at);
        let due = rules::rotation_due(expiry, now, self.settings.rotate_before_days);
        let rotated = due
            && rules::recent_request(current.rotation_requested_at, now).is_none()
            && self.pending(&current).await?.is_none();
        if rotated {
            self.rotate_now(&current, now, deadline).await?;
        }
        Ok(NotificationOutcome::ExpiryNoted { rotated })
    }

    async fn on_new_secret(
        &self,
        n: &NewSecret,
        deadline: Instant,
    ) -> Result<NotificationOutcome, RotatorError> {
        let current = self.current().await?;
        let pending = self.pending(&current).await?;
        match rules::decide_new_secret(&current, pending.as_ref(), n) {
            NewSecretDecision::Foreign => {
                Ok(NotificationOutcome::Ignored("another client ID".into()))
            }
            NewSecretDecision::Stale => Ok(NotificationOutcome::Stale),
            NewSecretDecision::AlreadyCurrent => {
                if let Some(p) = pending.filter(|p| p.client_secret == current.client_secret) {
                    self.clear_pending(&p.version_id).await;
                }
                Ok(NotificationOutcome::Duplicate)
            }
            NewSecretDecision::ResumePending => {
                let p = pending.expect("ResumePending has a pending version");
                self.verify_and_promote(
                    &current.client_id,
                    &n.client_secret,
                    n.expires_at,
                    &p.version_id,
                    deadline,
                )
                .await?;
                Ok(NotificationOutcome::Installed)
            }
            NewSecretDecision::Install => {
                let version_id = self
                    .put(
                        &current.with_new_secret(&n.client_secret, n.expires_at),
                        Stage::Pending,
                    )
                    .await?;
                tracing::info!(secret_id = %self.settings.secret_id, version_id = %version_id,
                    secret_fingerprint = %fingerprint(n.client_secret.expose_secret()),
                    "saved the new client secret as AWSPENDING");
                self.verify_and_promote(
                    &current.client_id,
                    &n.client_secret,
                    n.expires_at,
                    &version_id,
                    deadline,
                )
                .await?;
                Ok(NotificationOutcome::Installed)
            }
        }
    }

    fn grantless(client_id: &str, secret: &ClientSecret) -> Credentials {
        Credentials {
            client_id: client_id.to_owned(),
            client_secret: secret.clone(),
            grant: Grant::ClientCredentials {
                scope: ROTATION_SCOPE.to_owned(),
            },
            refresh_token_origin: None,
        }
    }

    /// Steps 2 and 3: verify the `AWSPENDING` secret, then promote it.
    async fn verify_and_promote(
        &self,
        client_id: &str,
        secret: &ClientSecret,
        expires_at: OffsetDateTime,
        pending_version: &str,
        deadline: Instant,
    ) -> Result<(), RotatorError> {
        let mut stats = ExchangeStats::default();
        match self
            .lwa
            .request_token(&Self::grantless(client_id, secret), deadline, &mut stats)
            .await
        {
            Ok(_) => {}
            Err(LwaError::Rejected {
                code: LwaErrorCode::InvalidClient,
                ..
            }) => {
                return Err(RotatorError::NewSecretNotAccepted {
                    secret_id: self.settings.secret_id.clone(),
                    version_id: pending_version.to_owned(),
                })
            }
            Err(error) => {
                return Err(RotatorError::Lwa {
                    secret_id: self.settings.secret_id.clone(),
                    error,
                    purpose: LwaPurpose::Verify,
                })
            }
        }
        // Re-read: whatever was written since step 1 is kept.
        let current = self.current().await?;
        if current.client_secret != *secret {
            let id = self
                .put(&current.with_new_secret(secret, expires_at), Stage::Current)
                .await?;
            tracing::info!(secret_id = %self.settings.secret_id, version_id = %id,
                secret_fingerprint = %fingerprint(secret.expose_secret()),
                client_secret_expires_at = %rfc3339(expires_at),
                "LWA accepted the new client secret; it is now AWSCURRENT (the old one is AWSPREVIOUS)");
        }
        self.clear_pending(pending_version).await;
        Ok(())
    }

    /// Removes the `AWSPENDING` label; a failure only leaves a label the next
    /// check removes (the secret is already promoted).
    async fn clear_pending(&self, version_id: &str) {
        if let Err(e) = self
            .versions
            .remove_stage(&self.settings.secret_id, Stage::Pending, version_id)
            .await
        {
            tracing::warn!(secret_id = %self.settings.secret_id, version_id, error = %e,
                "could not remove the AWSPENDING label; the next check removes it");
        }
    }

    /// The rotate call with a grantless token from the current secret, then
    /// `client_secret_rotation_requested_at` recorded.
    async fn rotate_now(
        &self,
        current: &AppDocument,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<(), RotatorError> {
        let mut stats = ExchangeStats::default();
        let token = self
            .lwa
            .request_token(
                &Self::grantless(&current.client_id, &current.client_secret),
                deadline,
                &mut stats,
            )
            .await
            .map_err(|error| RotatorError::Lwa {
                secret_id: self.settings.secret_id.clone(),
                error,
                purpose: LwaPurpose::RotateToken,
            })?;
        self.app
            .rotate_client_secret(&token.access_token, deadline)
            .await
            .map_err(|e| match e {
                RotateCallError::NotEnrolled { message } => RotatorError::RotationNotEnrolled {
                    sp_message: message,
                    queue_arn: self.settings.queue_arn.clone(),
                },
                other => RotatorError::RotationFailed(other),
            })?;
        tracing::info!(secret_id = %self.settings.secret_id,
            "SP-API accepted the rotate call; the new secret arrives by the new-secret notification");
        // Re-read so nothing written meanwhile is reverted.
        let latest = self.current().await?;
        if let Err(e) = self.put(&latest.with_requested(now), Stage::Current).await {
            tracing::error!(secret_id = %self.settings.secret_id, error = %e,
                "the rotate call was accepted but its time could not be recorded; do not rotate again for 24 h");
        }
        Ok(())
    }

    /// `{"action":"rotate"}`: rotate now, unless a request was made in the
    /// last 24 h and not `force`.
    pub async fn rotate(
        &self,
        force: bool,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<Report, RotatorError> {
        let current = self.current().await?;
        let recent = rules::recent_request(current.rotation_requested_at, now);
        let (rotated, reason) = match recent {
            Some(at) if !force => (false, Some(format!(
                "a rotation was requested at {} (less than 24 h ago); its new secret arrives by notification. \
                 Send {{\"action\":\"rotate\",\"force\":true}} to rotate again anyway", rfc3339(at)))),
            _ => {
                self.rotate_now(&current, now, deadline).await?;
                (true, None)
            }
        };
        let status = self.status(now).await?;
        Ok(Report {
            status,
            rotated,
            reason,
            promoted: false,
        })
    }

    /// `{"action":"check"}`: promote a waiting `AWSPENDING` secret once LWA
    /// accepts it; rotate when the expiry is within `ROTATE_BEFORE_DAYS` and
    /// no request was made in the last 24 h; report the status.
    pub async fn check(
        &self,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<Report, RotatorError> {
        let current = self.current().await?;
        let mut promoted = false;
        if let Some(p) = self.read(Stage::Pending).await? {
            match self.parse(&p) {
                Ok(p)
                    if p.client_id == current.client_id
                        && p.client_secret == current.client_secret =>
                {
                    self.clear_pending(&p.version_id).await
                }
                Ok(p) if p.client_id == current.client_id => {
                    let expires = p.expires_at.unwrap_or(now + rules::SECRET_LIFETIME);
                    match self
                        .verify_and_promote(
                            &p.client_id,
                            &p.client_secret,
                            expires,
                            &p.version_id,
                            deadline,
                        )
                        .await
                    {
                        Ok(()) => promoted = true,
                        Err(e @ RotatorError::NewSecretNotAccepted { .. }) => {
                            tracing::warn!(error_type = e.error_type().as_str(), error = %e, "pending secret not accepted yet")
                        }
                        Err(e) => return Err(e),
                    }
                }
                _ => {}
            }
        }
        let current = if promoted {
            self.current().await?
        } else {
            current
        };
        let pending = self
            .pending(&current)
            .await?
            .is_some_and(|p| p.client_secret != current.client_secret);
        let status = self.status_of(&current, pending, now).await?;
        let mut report = Report {
            status,
            rotated: false,
            reason: None,
            promoted,
        };
        let due = rules::rotation_due(
            report.status.expiry.at,
            now,
            self.settings.rotate_before_days,
        );
        if due && !pending && rules::recent_request(current.rotation_requested_at, now).is_none() {
            self.rotate_now(&current, now, deadline).await?;
            report.rotated = true;
            report.status = self.status(now).await?;
        }
        Ok(report)
    }
}
