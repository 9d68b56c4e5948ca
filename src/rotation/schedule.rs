//! Rotating before the secret expires: the expiry notification, the rotate
//! call (with the 24 h guard), and the daily check. See [`super::rotator`].

use super::rotator::{NotificationOutcome, Report, Rotator};
use crate::budget::TimeBudget;
use crate::lwa::ExchangeStats;
use crate::ports::application_management::{ApplicationManagement, RotateCallError};
use crate::ports::secret_versions::{SecretVersions, Stage};
use crate::ports::TokenEndpoint;
use crate::rotation::document::AppDocument;
use crate::rotation::error::{LwaPurpose, RotatorError};
use crate::rotation::notification::SecretExpiry;
use crate::rotation::rules;
use crate::token::rfc3339;
use time::OffsetDateTime;
use tokio::time::Instant;

impl<V: SecretVersions, E: TokenEndpoint, A: ApplicationManagement> Rotator<V, E, A> {
    pub(super) async fn on_expiry(
        &self,
        e: &SecretExpiry,
        published_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<NotificationOutcome, RotatorError> {
        let current = self.current().await?;
        if e.client_id != current.client_id {
            return Ok(NotificationOutcome::Ignored("another client ID".into()));
        }
        if e.expires_at - now > rules::MAX_NEW_SECRET_LIFETIME {
            return Err(RotatorError::ExpiryImplausible {
                expires_at: rfc3339(e.expires_at),
            });
        }
        let mut current = current;
        // An earlier date than the recorded one: is the notice about the
        // current secret (published after it was stored) or a replaced one?
        let earlier = current.expires_at.is_some_and(|r| e.expires_at < r);
        let order = if earlier {
            Some(rules::order(
                published_at,
                self.first_stored(&current).await?,
                now,
            ))
        } else {
            None
        };
        let recorded = current.expires_at.map(rfc3339).unwrap_or_default();
        if rules::records_expiry(current.expires_at, e.expires_at, order) {
            self.put(&current.with_expiry(e.expires_at), Stage::Current)
                .await?;
            if earlier {
                tracing::warn!(secret_id = %self.settings.secret_id, client_secret_expires_at = %rfc3339(e.expires_at),
                    replaced = %recorded,
                    "Amazon's expiry notice for the current client secret is earlier than the recorded \
                     client_secret_expires_at (set by hand?); recorded Amazon's date");
            } else {
                tracing::info!(secret_id = %self.settings.secret_id, client_secret_expires_at = %rfc3339(e.expires_at),
                    "recorded the client secret's expiry");
            }
            current = self.current().await?;
        } else if earlier {
            tracing::warn!(secret_id = %self.settings.secret_id, client_secret_expires_at = %recorded,
                notice_expires_at = %rfc3339(e.expires_at),
                "kept the recorded client_secret_expires_at: this earlier expiry notice was published before \
                 the current client secret was stored (about a secret it replaced), or has no eventTime");
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

    /// The rotate call with a grantless token from the current secret, then
    /// `client_secret_rotation_requested_at` recorded.
    pub(super) async fn rotate_now(
        &self,
        current: &AppDocument,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<(), RotatorError> {
        let mut stats = ExchangeStats::default();
        // The calls end early enough for the write that records the request.
        let call_deadline = TimeBudget::lwa_deadline(deadline);
        let token = self
            .lwa
            .request_token(
                &Self::grantless(&current.client_id, &current.client_secret),
                call_deadline,
                &mut stats,
            )
            .await
            .map_err(|error| RotatorError::Lwa {
                secret_id: self.settings.secret_id.clone(),
                error,
                purpose: LwaPurpose::RotateToken,
            })?;
        let answer = self
            .app
            .rotate_client_secret(&token.access_token, call_deadline)
            .await;
        match answer {
            Ok(()) => tracing::info!(secret_id = %self.settings.secret_id,
                "SP-API accepted the rotate call; the new secret arrives by the new-secret notification"),
            // It may have gone through: recorded like an accepted call, so no
            // second rotation replaces the secret it issued within 24 h.
            Err(e @ RotateCallError::NoAnswer { .. }) => {
                self.record_request(now).await;
                return Err(RotatorError::RotationFailed(e));
            }
            Err(RotateCallError::NotEnrolled { message }) => {
                return Err(RotatorError::RotationNotEnrolled {
                    sp_message: message,
                    queue_arn: self.settings.queue_arn.clone(),
                })
            }
            Err(other) => return Err(RotatorError::RotationFailed(other)),
        }
        self.record_request(now).await;
        Ok(())
    }

    /// `true` when the waiting version's secret was first stored before the
    /// current secret was.
    async fn stored_before_current(
        &self,
        current: &AppDocument,
        pending: &AppDocument,
        now: OffsetDateTime,
    ) -> Result<bool, RotatorError> {
        let history = self.history(current, Some(&pending.client_secret)).await?;
        Ok(rules::Placement::new(None, &history, now).replaced)
    }

    /// Records `client_secret_rotation_requested_at` = `now` on the current
    /// version, re-read first so nothing written meanwhile is reverted. A
    /// failure is logged, not returned: the call itself is already made.
    async fn record_request(&self, now: OffsetDateTime) {
        let recorded = match self.current().await {
            Ok(latest) => self
                .put(&latest.with_requested(now), Stage::Current)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            tracing::error!(secret_id = %self.settings.secret_id, error = %e,
                "the rotate call was made but its time could not be recorded; do not rotate again for 24 h");
        }
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
                Ok(p)
                    if p.client_id == current.client_id
                        && self.stored_before_current(&current, &p, now).await? =>
                {
                    // The current secret was stored after this one waited
                    // (pasted by hand, or installed from a newer
                    // notification): it is the newer one. Promoting the
                    // waiting one would replace it with an older secret.
                    tracing::warn!(secret_id = %self.settings.secret_id, version_id = %p.version_id,
                        "an AWSPENDING client secret stored before the current one is not promoted: the current \
                         secret is newer. Its label is removed; the version stays in the secret's history \
                         (restore it with UpdateSecretVersionStage if it was the one wanted)");
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
