//! token-refresher: the previous client secret as a fallback (CONTRACT.md,
//! "token-refresher: the previous client secret as a fallback").
//!
//! When LWA answers `invalid_client` with the current client secret (after
//! the re-read), and the secret's `AWSPREVIOUS` version holds the same
//! `client_id`, a different `client_secret`, and a recorded
//! `client_secret_expires_at` that has not passed (or none), that secret is
//! tried once. On success the run succeeds, a warning names the secret and
//! what to check, and the EMF metric `PreviousClientSecretUsed` = 1 is
//! printed. Nothing is written to the secret. After a rotation Amazon keeps
//! the old secret valid 7 more days; this also saves a user who pasted a new
//! secret by hand before Amazon accepted it.

use crate::credentials::Credentials;
use crate::lwa::{ExchangeStats, TokenResponse};
use crate::ports::{CredentialsRead, TokenEndpoint};
use crate::rotation::document::AppDocument;
use crate::secret::ClientSecret;
use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::time::Instant;

/// The client of the secret's `AWSPREVIOUS` version.
#[derive(Clone)]
pub struct PreviousClient {
    /// `client_id` (under any accepted key name).
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: ClientSecret,
    /// `client_secret_expires_at`, when recorded.
    pub expires_at: Option<OffsetDateTime>,
}

impl PreviousClient {
    /// Reads the `AWSPREVIOUS` version's `SecretString`; `None` when it holds
    /// no usable client (then there is nothing to fall back to).
    pub fn parse(secret_id: &str, text: &SecretString) -> Option<Self> {
        let doc = AppDocument::parse(secret_id, "AWSPREVIOUS", text).ok()?;
        Some(Self {
            client_id: doc.client_id,
            client_secret: doc.client_secret,
            expires_at: doc.expires_at,
        })
    }
}

/// The credentials to try once, or `None` when the previous version does
/// not qualify: another client ID, the same secret, or a recorded expiry
/// at or before `now`.
pub fn fallback_credentials(
    current: &Credentials,
    previous: &PreviousClient,
    now: OffsetDateTime,
) -> Option<Credentials> {
    let qualifies = previous.client_id == current.client_id
        && previous.client_secret != current.client_secret
        && !previous.client_secret.is_empty()
        && previous.expires_at.is_none_or(|at| at > now);
    qualifies.then(|| Credentials {
        client_secret: previous.client_secret.clone(),
        // Nothing is written to the secret: no rotated refresh token is saved.
        refresh_token_origin: None,
        ..current.clone()
    })
}

/// The fallback itself, for the refresher after `invalid_client` with the
/// current secret (re-read): reads `AWSPREVIOUS`, and if it qualifies,
/// requests a token with it once. On success: the warning, the
/// `PreviousClientSecretUsed` metric, and the credentials used (without a
/// refresh-token origin, so nothing is written to the secret) with LWA's
/// answer. `None` when there is nothing to try or LWA refused it too (the
/// caller reports the current secret's error).
pub async fn try_previous<C: CredentialsRead, E: TokenEndpoint>(
    source: &C,
    endpoint: &E,
    secret_id: &str,
    current: &Credentials,
    now: OffsetDateTime,
    deadline: Instant,
    stats: &mut ExchangeStats,
) -> Option<(Credentials, TokenResponse)> {
    let previous = match source.read_previous_client(secret_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(secret_id, error = %e, "could not read the AWSPREVIOUS version for the previous-secret fallback");
            return None;
        }
    };
    let Some(credentials) = fallback_credentials(current, &previous, now) else {
        tracing::info!(secret_id, "the AWSPREVIOUS version does not qualify for the fallback (another client ID, the same secret, or past its recorded expiry)");
        return None;
    };
    match endpoint.request_token(&credentials, deadline, stats).await {
        Ok(answer) => {
            tracing::warn!(
                secret_id,
                previous_client_secret_used = true,
                "{}",
                warning(secret_id)
            );
            let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|_| "token-refresher".into());
            println!("{}", emf_line(&function, now));
            Some((credentials, answer))
        }
        Err(e) => {
            tracing::warn!(secret_id, error = %e, "LWA refused the previous client secret (AWSPREVIOUS) too");
            None
        }
    }
}

/// The warning after a successful fallback (names the secret, never a value).
pub fn warning(secret_id: &str) -> String {
    format!(
        "LWA refused the current client secret in secret `{secret_id}` (invalid_client) and accepted the previous \
         one (AWSPREVIOUS): the token was refreshed with it. Check that the current client_secret is the one the \
         Solution Provider Portal shows (a new secret can take minutes to be accepted; the previous one stops \
         working 7 days after a rotation). Nothing was written to the secret"
    )
}

/// A CloudWatch EMF line with `PreviousClientSecretUsed` = 1 (Count),
/// namespace `SpApiLwaTokenService`, dimension `FunctionName`.
pub fn emf_line(function_name: &str, now: OffsetDateTime) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": "SpApiLwaTokenService",
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": "PreviousClientSecretUsed", "Unit": "Count"}],
            }],
        },
        "FunctionName": function_name,
        "PreviousClientSecretUsed": 1,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::parse_credentials;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-05-03 10:00 UTC);

    fn current() -> Credentials {
        parse_credentials(
            "s",
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.NEW","refresh_token":"Atzr|R"}"#,
        )
        .unwrap()
    }
    fn previous(doc: &str) -> Option<PreviousClient> {
        PreviousClient::parse("s", &SecretString::from(doc.to_owned()))
    }

    #[test]
    fn qualifies_inside_the_overlap() {
        let p = previous(
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.OLD","refresh_token":"Atzr|R","client_secret_expires_at":"2026-05-08T10:00:00Z"}"#,
        )
        .unwrap();
        let c = fallback_credentials(&current(), &p, NOW).expect("qualifies");
        assert_eq!(c.client_secret.expose_secret(), "amzn1.oa2-cs.v1.OLD");
        assert_eq!(c.client_id, "A");
        assert!(
            c.refresh_token_origin.is_none(),
            "never writes to the secret"
        );
        // No recorded expiry: tried too.
        let p = previous(r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.OLD"}"#).unwrap();
        assert!(fallback_credentials(&current(), &p, NOW).is_some());
    }

    #[test]
    fn refused_after_the_recorded_expiry_or_when_it_does_not_match() {
        for doc in [
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.OLD","client_secret_expires_at":"2026-05-03T10:00:00Z"}"#,
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.OLD","client_secret_expires_at":"2026-01-01T00:00:00Z"}"#,
            r#"{"client_id":"B","client_secret":"amzn1.oa2-cs.v1.OLD"}"#,
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.NEW"}"#,
        ] {
            let p = previous(doc).unwrap();
            assert!(fallback_credentials(&current(), &p, NOW).is_none(), "{doc}");
        }
        assert!(previous("not json").is_none());
        assert!(previous(r#"{"refresh_token":"Atzr|R"}"#).is_none());
    }

    #[test]
    fn messages_hold_no_secret() {
        let w = warning("spapi/lwa");
        assert!(w.contains("spapi/lwa") && w.contains("AWSPREVIOUS") && !w.contains("oa2-cs"));
        let m: serde_json::Value = serde_json::from_str(&emf_line("f", NOW)).unwrap();
        assert_eq!(m["PreviousClientSecretUsed"], 1);
    }

    /// The refresher over the shared fakes: the current secret is refused,
    /// the previous one maybe accepted.
    mod refresher {
        use crate::ports::Clock;
        use crate::profile::Profile;
        use crate::refresh::{RefreshRun, Refresher};
        use crate::testing::{Call, FakeLwa, FakeSecrets, FakeStore, Journal, ManualClock};
        use std::sync::Arc;
        use std::time::Duration;
        use time::macros::datetime;

        const ID: &str = "spapi/lwa";
        const NEW_DOC: &str = r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.PLANTED-NEW","refresh_token":"Atzr|PLANTED-R"}"#;

        struct W {
            journal: Journal,
            secrets: FakeSecrets,
            lwa: FakeLwa,
            store: FakeStore,
            clock: Arc<ManualClock>,
        }

        fn world(previous: &str) -> W {
            let journal = Journal::new();
            let secrets = FakeSecrets::new(&journal);
            secrets.put(ID, &[NEW_DOC]);
            secrets
                .previous
                .borrow_mut()
                .insert(ID.into(), previous.into());
            W {
                lwa: FakeLwa::new(&journal, &["amzn1.oa2-cs.v1.PLANTED-OLD"]),
                store: FakeStore::new(&journal),
                secrets,
                journal,
                clock: Arc::new(ManualClock::new(datetime!(2026-05-03 10:00 UTC))),
            }
        }

        async fn run(w: &W) -> RefreshRun {
            let profile = Profile {
                name: None,
                secret_id: ID.into(),
                parameter_name: "/p".into(),
            };
            Refresher::new(&w.secrets, &w.lwa, &w.store, Duration::from_secs(1800))
                .with_clock(w.clock.clone())
                .refresh(&profile, true, w.clock.instant() + Duration::from_secs(30))
                .await
        }

        fn old(expires: &str) -> String {
            serde_json::json!({"client_id": "A", "client_secret": "amzn1.oa2-cs.v1.PLANTED-OLD",
                "refresh_token": "Atzr|PLANTED-R", "client_secret_expires_at": expires})
            .to_string()
        }

        #[tokio::test]
        async fn works_inside_the_overlap_and_never_writes_to_the_secret() {
            let w = world(&old("2026-05-08T10:00:00Z"));
            w.lwa.rotate_refresh_tokens.set(true); // even a rotated refresh token is not saved
            let run = run(&w).await;
            let report = run.result.expect("refreshed with the previous secret");
            assert_eq!(format!("{:?}", report.outcome), "Refreshed");
            assert_eq!(
                *w.lwa.seen_secrets.borrow(),
                [
                    "amzn1.oa2-cs.v1.PLANTED-NEW",
                    "amzn1.oa2-cs.v1.PLANTED-NEW",
                    "amzn1.oa2-cs.v1.PLANTED-OLD"
                ],
                "current, current after the re-read, then the previous once"
            );
            assert_eq!(
                w.journal.writes(),
                [Call::TokenSaved("/p".into())],
                "nothing written to the secret"
            );
            assert_eq!(w.secrets.current(ID).as_deref(), Some(NEW_DOC));
            let previous_reads = w
                .journal
                .count(|c| matches!(c, Call::PreviousSecretRead(_)));
            assert_eq!(
                previous_reads, 1,
                "AWSPREVIOUS read once, after the re-read"
            );
        }

        #[tokio::test]
        async fn refused_after_the_recorded_expiry() {
            let w = world(&old("2026-05-03T09:59:59Z"));
            let run = run(&w).await;
            let e = run
                .result
                .expect_err("no fallback past the recorded expiry");
            assert_eq!(e.error_type().as_str(), "LwaInvalidClient");
            assert_eq!(w.lwa.requests(), 2, "the previous secret is not tried");
            assert!(w.journal.writes().is_empty());
            let text = format!("{e} {e:?}");
            assert!(!text.contains("PLANTED"), "{text}");
        }

        #[tokio::test]
        async fn not_tried_for_another_client_and_refused_once_only() {
            let w = world(r#"{"client_id":"B","client_secret":"amzn1.oa2-cs.v1.PLANTED-OLD"}"#);
            assert!(run(&w).await.result.is_err());
            assert_eq!(w.lwa.requests(), 2);
            // The previous secret refused too: one try, then the current secret's error.
            let w = world(&old("2026-05-08T10:00:00Z"));
            let refusing = FakeLwa::new(&w.journal, &[]);
            let w = W { lwa: refusing, ..w };
            let e = run(&w).await.result.expect_err("both refused");
            assert_eq!(e.error_type().as_str(), "LwaInvalidClient");
            assert_eq!(w.lwa.requests(), 3);
        }
    }

    #[tokio::test]
    async fn fleet_profiles_fall_back_to_the_app_secrets_previous_version() {
        use crate::fleet::credentials::FleetCredentials;
        use crate::ports::CredentialsRead;
        use crate::testing::{FakeSecrets, Journal};
        let secrets = FakeSecrets::new(&Journal::new());
        secrets.put("sellers/acme", &[r#"{"refresh_token":"Atzr|R"}"#]);
        secrets.put(
            "app",
            &[r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.NEW"}"#],
        );
        let fleet = FleetCredentials::new(&secrets, Some("app".into()), None);
        assert!(fleet
            .read_previous_client("sellers/acme")
            .await
            .unwrap()
            .is_none());
        secrets.previous.borrow_mut().insert(
            "app".into(),
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.OLD"}"#.into(),
        );
        let p = fleet
            .read_previous_client("sellers/acme")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.client_secret.expose_secret(), "amzn1.oa2-cs.v1.OLD");
        // A profile with its own previous client uses that one.
        secrets.previous.borrow_mut().insert(
            "sellers/acme".into(),
            r#"{"client_id":"A","client_secret":"amzn1.oa2-cs.v1.OWN","refresh_token":"Atzr|R"}"#
                .into(),
        );
        let p = fleet
            .read_previous_client("sellers/acme")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.client_secret.expose_secret(), "amzn1.oa2-cs.v1.OWN");
    }
}
