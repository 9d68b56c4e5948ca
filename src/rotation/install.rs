//! Installing the new secret Amazon sends (the new-secret notification and
//! a waiting `AWSPENDING` version), in this order: saved as `AWSPENDING`,
//! verified with LWA, then promoted (`AWSCURRENT` re-read and written back
//! with the new secret; the old version becomes `AWSPREVIOUS`), then the
//! `AWSPENDING` label removed. See [`super::rotator`].

use super::rotator::{NotificationOutcome, Rotator, ROTATION_SCOPE};
use crate::budget::TimeBudget;
use crate::credentials::{Credentials, Grant};
use crate::lwa::{ExchangeStats, LwaError, LwaErrorCode};
use crate::ports::application_management::ApplicationManagement;
use crate::ports::secret_versions::{SecretVersions, Stage};
use crate::ports::TokenEndpoint;
use crate::rotation::error::{LwaPurpose, RotatorError};
use crate::rotation::notification::NewSecret;
use crate::rotation::rules::{self, NewSecretDecision};
use crate::secret::{fingerprint, ClientSecret};
use crate::token::rfc3339;
use time::OffsetDateTime;
use tokio::time::Instant;

impl<V: SecretVersions, E: TokenEndpoint, A: ApplicationManagement> Rotator<V, E, A> {
    pub(super) async fn on_new_secret(
        &self,
        n: &NewSecret,
        published_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<NotificationOutcome, RotatorError> {
        let current = self.current().await?;
        if n.client_id != current.client_id {
            // Decided before any other read: another app's notification is
            // never retried because of an unrelated failure.
            return Ok(NotificationOutcome::Ignored("another client ID".into()));
        }
        let pending = self.pending(&current).await?;
        // A duplicate needs no history; anything else is placed against it.
        let placement = if n.client_secret == current.client_secret {
            rules::Placement::new(None, &rules::History::default(), now)
        } else {
            let history = self.history(&current, Some(&n.client_secret)).await?;
            rules::Placement::new(published_at, &history, now)
        };
        let reference = rules::reference_expiry(&current, &placement)
            .map(rfc3339)
            .unwrap_or_default();
        let decision = rules::decide_new_secret(&current, pending.as_ref(), n, now, placement);
        if decision == NewSecretDecision::InstallOverWrongDate {
            tracing::warn!(secret_id = %self.settings.secret_id, client_secret_expires_at = %reference,
                new_secret_expires_at = %rfc3339(n.expires_at),
                "the current secret's client_secret_expires_at is later than the expiry Amazon gives the new \
                 secret, which was published after the current secret was stored: the recorded date was wrong \
                 (set by hand?); Amazon's replaces it");
        }
        match decision {
            NewSecretDecision::Foreign => {
                Ok(NotificationOutcome::Ignored("another client ID".into()))
            }
            NewSecretDecision::Stale => Ok(NotificationOutcome::Stale),
            NewSecretDecision::Implausible => Err(RotatorError::NewSecretImplausible {
                expires_at: rfc3339(n.expires_at),
            }),
            NewSecretDecision::Unordered => Err(RotatorError::NewSecretUnordered {
                secret_id: self.settings.secret_id.clone(),
                expires_at: rfc3339(n.expires_at),
                recorded: reference,
            }),
            NewSecretDecision::WaitForPending => Err(RotatorError::NewerSecretPending {
                secret_id: self.settings.secret_id.clone(),
                version_id: pending.map(|p| p.version_id).unwrap_or_default(),
            }),
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
            NewSecretDecision::Install | NewSecretDecision::InstallOverWrongDate => {
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

    pub(super) fn grantless(client_id: &str, secret: &ClientSecret) -> Credentials {
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
    pub(super) async fn verify_and_promote(
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
            .request_token(
                &Self::grantless(client_id, secret),
                // The check ends early enough for the promotion's writes.
                TimeBudget::lwa_deadline(deadline),
                &mut stats,
            )
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
    pub(super) async fn clear_pending(&self, version_id: &str) {
        if let Err(e) = self
            .versions
            .remove_stage(&self.settings.secret_id, Stage::Pending, version_id)
            .await
        {
            tracing::warn!(secret_id = %self.settings.secret_id, version_id, error = %e,
                "could not remove the AWSPENDING label; the next check removes it");
        }
    }
}
