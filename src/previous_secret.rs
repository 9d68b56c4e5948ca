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
use crate::rotation::document::AppDocument;
use crate::secret::ClientSecret;
use secrecy::SecretString;
use time::OffsetDateTime;

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
}
