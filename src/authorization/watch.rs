//! The rules around one profile's token request while its seller's
//! authorization may be lost (`CONTRACT.md`, "Authorization lost and
//! restored"):
//!
//! - a refresh refused with `invalid_grant` / `unauthorized_client` records
//!   the marker first (the access token kept), then publishes `Seller
//!   Authorization Lost` and records `notified: true`; a failed publish
//!   leaves `notified: false` and a later run publishes;
//! - while the secret holds the refused refresh token, one token request per
//!   [`super::RETRY_INTERVAL`] at most (`force` does not override); another
//!   refresh token is tried at once, and refused again only moves the
//!   marker's fingerprint and `last_attempt_at` (nothing published);
//! - the first success stores the token without the marker and publishes
//!   `Seller Authorization Restored` with `outage_seconds`.

use super::marker::{AuthorizationLost, LostReason};
use super::notice::{lost_event, refresher_message, restored_event};
use crate::credentials::SecretDocument;
use crate::error::ServiceError;
use crate::lwa::ExchangeStats;
use crate::ports::{
    AuthorizationEvent, CredentialsLoadError, CredentialsRead, CredentialsWrite, TokenEndpoint,
    TokenRead, TokenWrite,
};
use crate::profile::Profile;
use crate::refresh::{RefreshReport, Refresher};
use crate::token::StoredToken;
use std::time::Duration;
use tokio::time::Instant;

/// Kept back from the Lambda deadline when publishing, for the marker write
/// that follows.
const PUBLISH_RESERVE: Duration = Duration::from_secs(1);

/// What one refresh had to do with a lost authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loss {
    /// Nothing: no marker before, none now.
    #[default]
    None,
    /// The loss was first seen in this run (fleet: counted `failed`).
    Began,
    /// A loss recorded earlier lasts (fleet: counted `authorization_lost`).
    Continues,
    /// The first success after a loss.
    Restored,
}

/// The token request of [`Refresher::refresh_with`] under the rules above.
/// `previous` is the stored token as read (with its marker, if any).
pub(crate) async fn refresh_guarded<C, E, S>(
    refresher: &Refresher<C, E, S>,
    profile: &Profile,
    previous: Option<StoredToken>,
    deadline: Instant,
    stats: &mut ExchangeStats,
) -> (Result<RefreshReport, ServiceError>, Loss)
where
    C: CredentialsRead + CredentialsWrite,
    E: TokenEndpoint,
    S: TokenRead + TokenWrite,
{
    let watch = Watch {
        refresher,
        profile,
        deadline,
    };
    match previous.as_ref().and_then(|t| t.authorization_lost.clone()) {
        None => watch.unmarked(previous, stats).await,
        Some(marker) => watch.marked(previous, marker, stats).await,
    }
}

struct Watch<'a, C, E, S> {
    refresher: &'a Refresher<C, E, S>,
    profile: &'a Profile,
    deadline: Instant,
}

impl<C, E, S> Watch<'_, C, E, S>
where
    C: CredentialsRead + CredentialsWrite,
    E: TokenEndpoint,
    S: TokenRead + TokenWrite,
{
    /// No loss recorded: a plain refresh; a seller's refusal begins one.
    async fn unmarked(
        &self,
        previous: Option<StoredToken>,
        stats: &mut ExchangeStats,
    ) -> (Result<RefreshReport, ServiceError>, Loss) {
        let result = self
            .refresher
            .refresh_now(self.profile, self.deadline, stats)
            .await;
        let reason = match &result {
            Err(e) => LostReason::of(e),
            Ok(_) => None,
        };
        let (Some(reason), Err(error)) = (reason, &result) else {
            return (result, Loss::None);
        };
        let said = error.to_string();
        let now = self.refresher.clock_port().now();
        let doc = self.document(stats).await.ok();
        let fingerprint = doc
            .as_ref()
            .and_then(SecretDocument::grant_fingerprint)
            .unwrap_or_else(|| "unknown".to_owned());
        let mut marker = AuthorizationLost::new(reason, now, fingerprint);
        // The marker first: without it, no event (the next run, seeing none,
        // records and publishes then).
        if let Err(detail) = self.record(previous.as_ref(), &marker).await {
            let message = format!(
                "{said} The lost authorization could not be recorded in `{}` ({detail}); the next run tries again \
                 and publishes the `Seller Authorization Lost` event then.",
                self.profile.parameter_name
            );
            return (Err(lost(reason, message)), Loss::Began);
        }
        let event = self
            .notify(&mut marker, previous.as_ref(), doc.as_ref(), &said)
            .await;
        let message = refresher_message(
            self.profile,
            Some(&said),
            &marker,
            previous.as_ref(),
            &event,
        );
        (Err(lost(reason, message)), Loss::Began)
    }

    /// A loss recorded earlier: the hourly rule, a new refresh token at
    /// once, restoration on success.
    async fn marked(
        &self,
        previous: Option<StoredToken>,
        mut marker: AuthorizationLost,
        stats: &mut ExchangeStats,
    ) -> (Result<RefreshReport, ServiceError>, Loss) {
        let clock = self.refresher.clock_port();
        let doc = match self.document(stats).await {
            Ok(doc) => doc,
            Err(e) => return (Err(e), Loss::None),
        };
        let fingerprint = doc.grant_fingerprint().unwrap_or_default();
        if !marker.may_try(&fingerprint, clock.now()) {
            let event = self
                .notify(&mut marker, previous.as_ref(), Some(&doc), "")
                .await;
            let message = refresher_message(self.profile, None, &marker, previous.as_ref(), &event);
            return (Err(lost(marker.error_type, message)), Loss::Continues);
        }
        let result = self
            .refresher
            .refresh_now(self.profile, self.deadline, stats)
            .await;
        let stored_anew = match &result {
            Ok(_) => true,
            // The access token was stored; only the rotated refresh token was not.
            Err(ServiceError::RefreshTokenNotPersisted { store_failure, .. }) => {
                store_failure.is_none()
            }
            Err(_) => false,
        };
        if stored_anew {
            let event = restored_event(self.profile, Some(&doc), &marker, clock.now());
            match self.publish(&event).await {
                Ok(()) => tracing::info!(
                    parameter = %self.profile.parameter_name,
                    outage_seconds = event.detail.outage_seconds.unwrap_or_default(),
                    "seller authorization restored; event published"
                ),
                Err(e) => tracing::error!(
                    parameter = %self.profile.parameter_name,
                    error = %e,
                    "seller authorization restored; the Seller Authorization Restored event could not be published"
                ),
            }
            let loss = if result.is_ok() {
                Loss::Restored
            } else {
                Loss::None
            };
            return (result, loss);
        }
        let Some(reason) = result.as_ref().err().and_then(LostReason::of) else {
            // Another failure (LWA down, the store): the marker stays as it was.
            return (result, Loss::None);
        };
        let said = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        marker = marker.refused_again(reason, clock.now(), fingerprint);
        let event = match self.record(previous.as_ref(), &marker).await {
            Ok(()) => {
                self.notify(&mut marker, previous.as_ref(), Some(&doc), &said)
                    .await
            }
            Err(detail) => format!(
                "The new refusal could not be recorded ({detail}); the next run may ask LWA again."
            ),
        };
        let message = refresher_message(
            self.profile,
            Some(&said),
            &marker,
            previous.as_ref(),
            &event,
        );
        (Err(lost(reason, message)), Loss::Continues)
    }

    /// Publishes `Seller Authorization Lost` unless `marker` says it was,
    /// and records `notified: true`. Returns the sentence for the message.
    async fn notify(
        &self,
        marker: &mut AuthorizationLost,
        previous: Option<&StoredToken>,
        doc: Option<&SecretDocument>,
        said: &str,
    ) -> String {
        if marker.notified {
            return "The `Seller Authorization Lost` event was published when the loss began."
                .to_owned();
        }
        let message = if said.is_empty() {
            marker.describe()
        } else {
            said.to_owned()
        };
        let event = lost_event(self.profile, doc, marker, message);
        if let Err(e) = self.publish(&event).await {
            tracing::error!(
                parameter = %self.profile.parameter_name,
                error = %e,
                "the Seller Authorization Lost event could not be published; the next run tries again"
            );
            return format!(
                "The `Seller Authorization Lost` event could not be published ({e}); the next run tries again."
            );
        }
        marker.notified = true;
        if let Err(detail) = self.record(previous, marker).await {
            tracing::error!(
                parameter = %self.profile.parameter_name,
                detail = %detail,
                "published the Seller Authorization Lost event but could not record it; a later run may publish it again"
            );
        }
        tracing::warn!(
            parameter = %self.profile.parameter_name,
            since = %crate::token::rfc3339(marker.since),
            error_type = %marker.error_type.error_type(),
            "seller authorization lost; event published"
        );
        "The `Seller Authorization Lost` event was published.".to_owned()
    }

    async fn publish(&self, event: &AuthorizationEvent) -> Result<(), crate::ports::PublishError> {
        let Some(events) = self.refresher.events_port() else {
            return Err(crate::ports::PublishError {
                detail: "no event publisher is configured".to_owned(),
            });
        };
        let deadline = self
            .deadline
            .checked_sub(PUBLISH_RESERVE)
            .unwrap_or(self.deadline);
        events.publish(event, deadline).await
    }

    /// Writes `marker` into the stored token (or alone, without one).
    async fn record(
        &self,
        previous: Option<&StoredToken>,
        marker: &AuthorizationLost,
    ) -> Result<(), String> {
        let value = match previous.filter(|t| t.has_token()) {
            Some(t) => t.clone().with_marker(Some(marker.clone())),
            None => StoredToken::marker_only(marker.clone()),
        };
        self.refresher
            .store()
            .save(&self.profile.parameter_name, &value)
            .await
            .map_err(|e| e.detail().to_owned())
    }

    /// The profile's own secret document (its refresh token's fingerprint,
    /// `selling_partner_id`, `region`).
    async fn document(&self, stats: &mut ExchangeStats) -> Result<SecretDocument, ServiceError> {
        let clock = self.refresher.clock_port();
        let started = clock.instant();
        let read = self
            .refresher
            .credentials_port()
            .read_document(&self.profile.secret_id)
            .await;
        stats.aws_latency += clock.instant().saturating_duration_since(started);
        read.map_err(|e| match e {
            CredentialsLoadError::Invalid(e) => ServiceError::CredentialsInvalid(e),
            CredentialsLoadError::Unavailable(detail) => ServiceError::CredentialsUnavailable {
                secret_id: self.profile.secret_id.clone(),
                detail,
            },
        })
    }
}

fn lost(reason: LostReason, message: String) -> ServiceError {
    ServiceError::SellerAuthorizationLost { reason, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorization::RETRY_INTERVAL;
    use crate::lwa::LwaError;
    use crate::ports::{AuthorizationEventKind, Clock, SharedEvents};
    use crate::refresh::RefreshRun;
    use crate::secret::{fingerprint, AccessToken};
    use crate::testing::{
        rejection, Call, FakeEvents, FakeLwa, FakeSecrets, FakeStore, Journal, ManualClock,
    };
    use std::sync::Arc;
    use time::macros::datetime;
    use time::OffsetDateTime;

    const T0: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);
    const SECRET: &str = "spapi/sellers/acme";
    const PARAMETER: &str = "/spapi/sellers/acme";
    const MARGIN: Duration = Duration::from_secs(1800);
    const LOST: &str = "Seller Authorization Lost";
    const RESTORED: &str = "Seller Authorization Restored";

    fn doc(refresh_token: &str) -> String {
        format!(
            r#"{{"client_id":"amzn1.application-oa2-client.A","client_secret":"S1","refresh_token":"{refresh_token}","selling_partner_id":"A1SELLER","region":"eu"}}"#
        )
    }

    struct World {
        journal: Journal,
        secrets: FakeSecrets,
        lwa: FakeLwa,
        store: FakeStore,
        events: Arc<FakeEvents>,
        clock: Arc<ManualClock>,
    }

    impl World {
        /// A seller whose refresh token `Atzr|R` LWA refuses, with a stored
        /// token of 100 s left.
        fn revoked() -> Self {
            let journal = Journal::new();
            let w = World {
                secrets: FakeSecrets::new(&journal),
                lwa: FakeLwa::new(&journal, &["S1"]),
                store: FakeStore::new(&journal),
                events: Arc::new(FakeEvents::new(&journal)),
                clock: Arc::new(ManualClock::new(T0)),
                journal,
            };
            w.secrets.put(SECRET, &[&doc("Atzr|R")]);
            w.lwa.revoke("Atzr|R");
            w.store.put(PARAMETER, stored(100));
            w
        }
        async fn run(&self, force: bool) -> RefreshRun {
            let events: SharedEvents = self.events.clone();
            let refresher = Refresher::new(&self.secrets, &self.lwa, &self.store, MARGIN)
                .with_clock(self.clock.clone())
                .with_events(Some(events));
            let deadline = self.clock.instant() + Duration::from_secs(30);
            refresher.refresh(&profile(), force, deadline).await
        }
        fn marker(&self) -> AuthorizationLost {
            self.store
                .get(PARAMETER)
                .and_then(|t| t.authorization_lost)
                .expect("a marker")
        }
        fn kinds(&self) -> Vec<&'static str> {
            self.events
                .published()
                .iter()
                .map(|e| e.kind.detail_type())
                .collect()
        }
        fn later(&self, seconds: u64) {
            self.clock.advance(Duration::from_secs(seconds));
        }
    }

    fn profile() -> Profile {
        Profile {
            name: Some("acme".into()),
            secret_id: SECRET.into(),
            parameter_name: PARAMETER.into(),
        }
    }
    fn stored(left_seconds: i64) -> StoredToken {
        let issued = T0 - time::Duration::seconds(3600 - left_seconds);
        StoredToken::new(AccessToken::new("Atza|OLD"), "bearer", issued, 3600)
    }
    fn error_of(run: &RefreshRun) -> &ServiceError {
        run.result.as_ref().expect_err("a failure")
    }

    #[tokio::test]
    async fn a_loss_is_recorded_first_published_once_and_retried_hourly() {
        let w = World::revoked();
        let run = w.run(false).await;
        assert_eq!(run.loss, Loss::Began);
        let e = error_of(&run);
        assert_eq!(e.error_type(), "LwaInvalidGrant");
        let m = e.to_string();
        for needle in [
            "invalid_grant",
            "lost since 2026-12-01T10:00:00Z",
            "at or after 2026-12-01T11:00:00Z",
            "re-authorize",
            "onboarding link",
            "event was published",
        ] {
            assert!(m.contains(needle), "{needle}: {m}");
        }
        // The marker first, then the event, then `notified`.
        assert_eq!(
            w.journal
                .calls()
                .into_iter()
                .filter(|c| matches!(c, Call::TokenSaved(_) | Call::EventPublished(_)))
                .collect::<Vec<_>>(),
            [
                Call::TokenSaved(PARAMETER.into()),
                Call::EventPublished(LOST.into()),
                Call::TokenSaved(PARAMETER.into()),
            ]
        );
        let kept = w.store.get(PARAMETER).unwrap();
        assert_eq!(
            kept.clone().with_marker(None),
            stored(100),
            "the access token as it was"
        );
        let marker = w.marker();
        assert_eq!(
            marker,
            AuthorizationLost {
                error_type: LostReason::LwaInvalidGrant,
                since: T0,
                last_attempt_at: T0,
                refresh_token_fingerprint: fingerprint("Atzr|R"),
                notified: true,
            }
        );
        let event = &w.events.published()[0];
        assert_eq!(event.kind, AuthorizationEventKind::Lost);
        let d = &event.detail;
        assert_eq!(
            (
                d.profile.as_deref(),
                d.parameter.as_str(),
                d.selling_partner_id.as_deref(),
                d.region.as_deref()
            ),
            (Some("acme"), PARAMETER, Some("A1SELLER"), Some("eu"))
        );
        assert_eq!(
            (d.since.as_str(), d.outage_seconds),
            ("2026-12-01T10:00:00Z", None)
        );
        assert!(
            d.message.contains("invalid_grant") && !d.message.contains("Atzr|R"),
            "{}",
            d.message
        );

        // Ten minutes later, even forced: no token request, nothing published.
        w.later(600);
        let run = w.run(true).await;
        assert_eq!((run.loss, w.lwa.requests()), (Loss::Continues, 1));
        let m = error_of(&run).to_string();
        assert_eq!(error_of(&run).error_type(), "LwaInvalidGrant");
        assert!(
            m.contains("No token request was made") && m.contains("11:00:00Z"),
            "{m}"
        );
        assert_eq!(w.kinds(), [LOST]);
        assert_eq!(w.marker(), marker, "unchanged: nothing written");

        // An hour after the refusal: one request, refused again.
        w.later(3000);
        let run = w.run(false).await;
        assert_eq!((run.loss, w.lwa.requests()), (Loss::Continues, 2));
        assert_eq!(w.marker().last_attempt_at, T0 + RETRY_INTERVAL);
        assert_eq!(w.marker().since, T0);
        assert_eq!(w.kinds(), [LOST], "published once per loss");
    }

    #[tokio::test]
    async fn a_new_refresh_token_is_tried_at_once_and_restores() {
        let w = World::revoked();
        w.run(false).await;
        w.later(300);
        w.secrets.put(SECRET, &[&doc("Atzr|NEW")]);
        let run = w.run(false).await;
        assert_eq!(run.loss, Loss::Restored);
        assert!(run.result.is_ok(), "{:?}", run.result);
        assert_eq!(w.lwa.requests(), 2);
        let token = w.store.get(PARAMETER).unwrap();
        assert!(token.authorization_lost.is_none(), "the marker is removed");
        assert_eq!(token.access_token.expose_secret(), "Atza|fake-1");
        assert_eq!(w.kinds(), [LOST, RESTORED]);
        let restored = &w.events.published()[1].detail;
        assert_eq!(restored.outage_seconds, Some(300));
        assert_eq!(restored.since, "2026-12-01T10:00:00Z");

        // Fresh again: skipped, nothing more published.
        let run = w.run(false).await;
        assert_eq!((run.loss, w.kinds().len()), (Loss::None, 2));
    }

    #[tokio::test]
    async fn a_new_refresh_token_refused_again_moves_the_fingerprint_only() {
        let w = World::revoked();
        w.run(false).await;
        w.later(120);
        w.secrets.put(SECRET, &[&doc("Atzr|NEW")]);
        w.lwa.revoke("Atzr|NEW");
        let run = w.run(false).await;
        assert_eq!((run.loss, w.lwa.requests()), (Loss::Continues, 2));
        let marker = w.marker();
        assert_eq!(marker.refresh_token_fingerprint, fingerprint("Atzr|NEW"));
        assert_eq!(
            (marker.since, marker.last_attempt_at),
            (T0, T0 + Duration::from_secs(120))
        );
        assert!(marker.notified);
        assert_eq!(w.kinds(), [LOST]);
        // And that one now waits its hour too.
        w.later(60);
        w.run(false).await;
        assert_eq!(w.lwa.requests(), 2);
    }

    #[tokio::test]
    async fn a_failed_publish_leaves_notified_false_and_the_next_run_publishes() {
        let w = World::revoked();
        w.events.fail_next(1);
        let run = w.run(false).await;
        assert_eq!(run.loss, Loss::Began);
        assert!(error_of(&run)
            .to_string()
            .contains("could not be published"));
        assert!(!w.marker().notified);
        assert_eq!(w.journal.count(|c| matches!(c, Call::TokenSaved(_))), 1);
        assert!(w.kinds().is_empty());

        w.later(600);
        let run = w.run(false).await;
        assert_eq!((run.loss, w.lwa.requests()), (Loss::Continues, 1));
        assert!(w.marker().notified);
        assert_eq!(w.kinds(), [LOST]);
        w.later(600);
        w.run(false).await;
        assert_eq!(w.kinds(), [LOST]);
    }

    #[tokio::test]
    async fn without_a_stored_token_the_marker_is_stored_alone() {
        let w = World::revoked();
        w.store.put_malformed(PARAMETER, "gone");
        let journal = Journal::new();
        let store = FakeStore::new(&journal);
        let w = World { store, ..w };
        let run = w.run(false).await;
        assert_eq!(run.loss, Loss::Began);
        let value = w.store.get(PARAMETER).unwrap();
        assert!(!value.has_token());
        assert!(value
            .to_parameter_value()
            .starts_with(r#"{"authorization_lost":"#));
        let text = error_of(&run).to_string();
        assert!(text.contains("No token is stored"), "{text}");
        assert!(!text.contains("left as it was"), "no contradiction: {text}");
        // Read back as a marker: the next run waits.
        w.later(60);
        assert_eq!(w.run(false).await.loss, Loss::Continues);
        assert_eq!(w.lwa.requests(), 1);
    }

    #[tokio::test]
    async fn unauthorized_client_is_a_loss_invalid_client_and_outages_are_not() {
        let w = World::revoked();
        w.lwa.script([Err(rejection("unauthorized_client", 400))]);
        let run = w.run(false).await;
        assert_eq!(error_of(&run).error_type(), "LwaUnauthorizedClient");
        assert_eq!(w.marker().error_type, LostReason::LwaUnauthorizedClient);

        // invalid_client is the app's: no marker, no event.
        let w = World::revoked();
        w.secrets
            .put(SECRET, &[&doc("Atzr|R").replace("S1", "WRONG")]);
        let run = w.run(false).await;
        assert_eq!(
            (error_of(&run).error_type(), run.loss),
            (crate::error::ErrorType::LwaInvalidClient, Loss::None)
        );
        assert!(w.store.get(PARAMETER).unwrap().authorization_lost.is_none());
        assert!(w.kinds().is_empty());

        // An outage during a loss leaves the marker as it was.
        let w = World::revoked();
        w.run(false).await;
        let before = w.marker();
        w.later(3600);
        w.lwa.script([Err(LwaError::Unavailable {
            attempts: 3,
            last: "HTTP 503".into(),
        })]);
        let run = w.run(false).await;
        assert_eq!(
            (error_of(&run).error_type(), run.loss),
            (crate::error::ErrorType::LwaUnavailable, Loss::None)
        );
        assert_eq!(w.marker(), before);
    }
}
