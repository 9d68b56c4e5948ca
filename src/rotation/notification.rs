//! The two SP-API notifications about the app's client secret, as they arrive
//! in SQS message bodies ("Rotate your application's client secret" and the
//! Notifications API's `APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY` /
//! `APPLICATION_OAUTH_CLIENT_NEW_SECRET`,
//! <https://developer-docs.amazon.com/sp-api/docs/notification-type-values>).
//!
//! There are no official schemas, only samples, so parsing is lenient:
//! unknown fields are ignored, times are RFC 3339 with or without fractional
//! seconds, and `payloadVersion` is not branched on. Error texts name the
//! field that is missing or wrong, never a value (the body holds a secret).

use crate::secret::ClientSecret;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `notificationType` of the expiry notification.
pub const EXPIRY_TYPE: &str = "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY";
/// `notificationType` of the new-secret notification.
pub const NEW_SECRET_TYPE: &str = "APPLICATION_OAUTH_CLIENT_NEW_SECRET";

/// `payload.applicationOAuthClientSecretExpiry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretExpiry {
    /// `clientId`.
    pub client_id: String,
    /// `clientSecretExpiryTime`.
    pub expires_at: OffsetDateTime,
    /// `clientSecretExpiryReason` (e.g. `PERIODIC_ROTATION`), when given.
    pub reason: Option<String>,
}

/// `payload.applicationOAuthClientNewSecret`.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// `clientId`.
    pub client_id: String,
    /// `newClientSecret`.
    pub client_secret: ClientSecret,
    /// `newClientSecretExpiryTime`.
    pub expires_at: OffsetDateTime,
    /// `oldClientSecretExpiryTime`, when given.
    pub old_expires_at: Option<OffsetDateTime>,
}

/// What a notification is about.
#[derive(Debug, Clone)]
pub enum Kind {
    /// `APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY`.
    Expiry(SecretExpiry),
    /// `APPLICATION_OAUTH_CLIENT_NEW_SECRET`.
    NewSecret(NewSecret),
    /// Any other `notificationType` (ignored by the rotator).
    Other(String),
}

/// One parsed notification.
#[derive(Debug, Clone)]
pub struct Notification {
    /// `notificationMetadata.notificationId` (`-` when absent): what logs name.
    pub id: String,
    /// When Amazon published it: `eventTime`, else
    /// `notificationMetadata.publishTime`; `None` when neither is a time.
    /// Orders a new-secret or expiry notification against the current
    /// secret (see [`crate::rotation::rules`]).
    pub published_at: Option<OffsetDateTime>,
    /// The payload.
    pub kind: Kind,
}

/// Why a body is not a usable notification (names the field, never a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a client-secret notification: {what}")]
pub struct NotANotification {
    /// What is missing or wrong (a field name, never a value).
    pub what: String,
    /// `notificationMetadata.notificationId`, when readable (`-` otherwise).
    pub id: String,
    /// The payload's `clientId`, when an expiry or new-secret notification
    /// has one (a non-empty string) but is otherwise malformed: a foreign
    /// client's is ignored, not retried.
    pub client_id: Option<String>,
}

/// The longest client secret accepted from a notification (LWA's are about
/// 80 characters: `amzn1.oa2-cs.v1.` and 64 hex digits).
pub const MAX_SECRET_LEN: usize = 512;
/// How every LWA client secret begins.
pub const SECRET_PREFIX: &str = "amzn1.oa2-cs.";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    notification_type: Option<serde_json::Value>,
    event_time: Option<serde_json::Value>,
    payload: Option<serde_json::Value>,
    notification_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    notification_id: Option<serde_json::Value>,
    publish_time: Option<serde_json::Value>,
}

/// A time field that may be absent or malformed (lenient: `None`).
fn optional_time(v: Option<&serde_json::Value>) -> Option<OffsetDateTime> {
    v.and_then(|v| v.as_str()).and_then(|s| parse_time(s).ok())
}

/// `newClientSecret` as the refresher will send it: one word of printable
/// ASCII starting `amzn1.oa2-cs.`, at most [`MAX_SECRET_LEN`] characters.
/// Anything else is never saved: installed, it would break every token
/// request.
fn new_client_secret(
    p: &serde_json::Map<String, serde_json::Value>,
) -> Result<ClientSecret, String> {
    const KEY: &str = "newClientSecret";
    let raw = string(p, KEY)?;
    if raw.len() > MAX_SECRET_LEN
        || raw.ends_with('.')
        || !raw.starts_with(SECRET_PREFIX)
        || !raw.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(format!(
            "`{KEY}` is not an LWA client secret (one word of printable ASCII starting \
             {SECRET_PREFIX}, at most {MAX_SECRET_LEN} characters)"
        ));
    }
    Ok(ClientSecret::new(raw))
}

/// Parses an SQS message body.
pub fn parse(body: &str) -> Result<Notification, NotANotification> {
    let bad = |what: String, id: &str, client_id: Option<&String>| NotANotification {
        what,
        id: id.to_owned(),
        client_id: client_id.cloned(),
    };
    // Never show serde's message: it can quote the body.
    let envelope: Envelope = serde_json::from_str(body.trim_start_matches('\u{feff}'))
        .map_err(|_| bad("the body is not a JSON object".into(), "-", None))?;
    let metadata = envelope.notification_metadata.as_ref();
    let id = metadata
        .and_then(|m| m.notification_id.as_ref())
        .and_then(|v| v.as_str().map(short_id))
        .unwrap_or_else(|| "-".to_owned());
    let published_at = optional_time(envelope.event_time.as_ref())
        .or_else(|| optional_time(metadata.and_then(|m| m.publish_time.as_ref())));
    let Some(serde_json::Value::String(kind)) = envelope.notification_type else {
        return Err(bad(
            "`notificationType` is missing or not a string".into(),
            &id,
            None,
        ));
    };
    let key = match kind.as_str() {
        EXPIRY_TYPE => "applicationOAuthClientSecretExpiry",
        NEW_SECRET_TYPE => "applicationOAuthClientNewSecret",
        other => {
            return Ok(Notification {
                id,
                published_at,
                kind: Kind::Other(short_id(other)),
            })
        }
    };
    let p = payload(&envelope.payload, key).map_err(|what| bad(what, &id, None))?;
    // The client ID first: a malformed notification for another app is
    // recognised as foreign (and ignored) by it.
    let client_id = string(p, "clientId").map_err(|what| bad(what, &id, None))?;
    let fields = || -> Result<Kind, String> {
        Ok(if kind == EXPIRY_TYPE {
            Kind::Expiry(SecretExpiry {
                client_id: client_id.clone(),
                expires_at: time_field(p, "clientSecretExpiryTime")?,
                reason: p
                    .get("clientSecretExpiryReason")
                    .and_then(|v| v.as_str())
                    .map(short_id),
            })
        } else {
            Kind::NewSecret(NewSecret {
                client_id: client_id.clone(),
                client_secret: new_client_secret(p)?,
                expires_at: time_field(p, "newClientSecretExpiryTime")?,
                old_expires_at: p
                    .get("oldClientSecretExpiryTime")
                    .and_then(|v| v.as_str())
                    .and_then(|s| parse_time(s).ok()),
            })
        })
    };
    match fields() {
        Ok(kind) => Ok(Notification {
            id,
            published_at,
            kind,
        }),
        Err(what) => Err(bad(what, &id, Some(&client_id))),
    }
}

/// An identifier from outside as it may appear in a log line: printable
/// ASCII, at most 100 characters.
fn short_id(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect()
}

fn payload<'a>(
    payload: &'a Option<serde_json::Value>,
    key: &str,
) -> Result<&'a serde_json::Map<String, serde_json::Value>, String> {
    payload
        .as_ref()
        .and_then(|p| p.get(key))
        .and_then(|v| v.as_object())
        .ok_or_else(|| format!("`payload.{key}` is missing or not an object"))
}

fn string(p: &serde_json::Map<String, serde_json::Value>, key: &str) -> Result<String, String> {
    p.get(key)
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("`{key}` is missing, empty or not a string"))
}

fn time_field(
    p: &serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Result<OffsetDateTime, String> {
    let raw = string(p, key)?;
    parse_time(&raw).map_err(|_| format!("`{key}` is not an RFC 3339 time"))
}

/// RFC 3339 with or without fractional seconds (`2024-03-03T22:06:39.224Z`,
/// `2026-05-11T10:00:00Z`, offsets other than `Z`), in UTC.
pub fn parse_time(raw: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339).map(|t| t.to_offset(time::UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NEW: &str = r#"{"notificationVersion":"1.0","notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payloadVersion":"2023-11-30",
 "eventTime":"2024-01-10T22:09:17.180Z",
 "payload":{"applicationOAuthClientNewSecret":{"clientId":"amzn1.application-oa2-client.A",
   "newClientSecret":"amzn1.oa2-cs.v1.NEW","newClientSecretExpiryTime":"2024-07-08T22:09:17.198Z",
   "oldClientSecretExpiryTime":"2024-01-17T22:09:17.180Z"}},
 "notificationMetadata":{"applicationId":"x","subscriptionId":"y","publishTime":"z","notificationId":"n-9"}}"#;

    #[test]
    fn new_secret_sample() {
        let n = parse(NEW).unwrap();
        assert_eq!(n.id, "n-9");
        let Kind::NewSecret(s) = n.kind else {
            panic!("kind")
        };
        assert_eq!(s.client_id, "amzn1.application-oa2-client.A");
        assert_eq!(s.client_secret.expose_secret(), "amzn1.oa2-cs.v1.NEW");
        assert_eq!(s.expires_at, datetime!(2024-07-08 22:09:17.198 UTC));
        assert_eq!(
            s.old_expires_at,
            Some(datetime!(2024-01-17 22:09:17.180 UTC))
        );
        // The secret never shows through Debug.
        assert!(!format!("{s:?}").contains("NEW\""));
        assert!(!format!("{s:?}").contains("v1.NEW"));
    }

    #[test]
    fn expiry_without_millis_other_version_unknown_fields() {
        let body = r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payloadVersion":"2099-01-01","extra":[1],
          "payload":{"applicationOAuthClientSecretExpiry":{"clientId":"c","clientSecretExpiryTime":"2026-08-01T12:00:00+02:00",
          "clientSecretExpiryReason":"SOMETHING_NEW","extra":{"a":1}}}}"#;
        let n = parse(body).unwrap();
        assert_eq!(n.id, "-");
        let Kind::Expiry(e) = n.kind else { panic!() };
        assert_eq!(e.expires_at, datetime!(2026-08-01 10:00:00 UTC));
        assert_eq!(e.reason.as_deref(), Some("SOMETHING_NEW"));
    }

    #[test]
    fn other_types_and_bad_bodies() {
        let n = parse(r#"{"notificationType":"ANY_OFFER_CHANGED","payload":{}}"#).unwrap();
        assert!(matches!(n.kind, Kind::Other(t) if t == "ANY_OFFER_CHANGED"));
        for (body, field) in [
            (r#"{"Message": "hello""#, "JSON"),
            ("[1]", "JSON object"),
            (r#"{"payload":{}}"#, "notificationType"),
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{}}"#,
                "applicationOAuthClientNewSecret",
            ),
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{"applicationOAuthClientNewSecret":{"clientId":"c","newClientSecret":"amzn1.oa2-cs.v1.S","newClientSecretExpiryTime":"soon"}}}"#,
                "newClientSecretExpiryTime",
            ),
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{"applicationOAuthClientNewSecret":{"clientId":"c","newClientSecret":"","newClientSecretExpiryTime":"2024-01-01T00:00:00Z"}}}"#,
                "newClientSecret",
            ),
        ] {
            let e = parse(body).unwrap_err().to_string();
            assert!(e.contains(field), "{body}: {e}");
            assert!(!e.contains("amzn1.oa2-cs"), "{e}");
        }
    }

    #[test]
    fn a_malformed_notification_still_names_its_client() {
        for (body, client) in [
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","notificationMetadata":{"notificationId":"n-7"},
                  "payload":{"applicationOAuthClientNewSecret":{"clientId":" c-other ","newClientSecret":7}}}"#,
                Some("c-other"),
            ),
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","notificationMetadata":{"notificationId":"n-7"},
                  "payload":{"applicationOAuthClientSecretExpiry":{"clientId":"c-other","clientSecretExpiryTime":null}}}"#,
                Some("c-other"),
            ),
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","notificationMetadata":{"notificationId":"n-7"},
                  "payload":{"applicationOAuthClientSecretExpiry":{"clientId":5}}}"#,
                None,
            ),
            (
                r#"{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","notificationMetadata":{"notificationId":"n-7"}}"#,
                None,
            ),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(e.client_id.as_deref(), client, "{body}");
            assert_eq!(e.id, "n-7");
        }
    }

    #[test]
    fn published_at_is_event_time_else_publish_time() {
        assert_eq!(
            parse(NEW).unwrap().published_at,
            Some(datetime!(2024-01-10 22:09:17.180 UTC))
        );
        let only_publish = r#"{"notificationType":"X","notificationMetadata":{"publishTime":"2024-01-10T22:09:18Z"}}"#;
        assert_eq!(
            parse(only_publish).unwrap().published_at,
            Some(datetime!(2024-01-10 22:09:18 UTC))
        );
        let neither = r#"{"notificationType":"X","eventTime":"yesterday","notificationMetadata":{"publishTime":5}}"#;
        assert_eq!(parse(neither).unwrap().published_at, None);
    }

    #[test]
    fn a_new_secret_must_look_like_an_lwa_client_secret() {
        let with = |secret: &str| NEW.replace("amzn1.oa2-cs.v1.NEW", secret);
        for bad in [
            "amzn1.oa2-cs.v1.PLANTED\\r\\nX: 1",
            "amzn1.oa2-cs.v1.PLANTED x",
            "PLANTED-no-prefix",
            "amzn1.oa2-cs.",
            "amzn1.oa2-cs.v1.",
            "amzn1.oa2-cs.v1.PLANTED\\u00e9",
        ] {
            let e = parse(&with(bad)).unwrap_err();
            assert!(
                e.what
                    .contains("`newClientSecret` is not an LWA client secret"),
                "{bad}: {e}"
            );
            assert!(!e.to_string().contains("PLANTED"), "{e}");
            assert_eq!(
                e.client_id.as_deref(),
                Some("amzn1.application-oa2-client.A")
            );
        }
        let longest = format!("amzn1.oa2-cs.v1.{}", "a".repeat(MAX_SECRET_LEN - 16));
        assert!(parse(&with(&longest)).is_ok());
        assert!(parse(&with(&format!("{longest}a"))).is_err());
    }
}
