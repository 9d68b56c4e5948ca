//! The app's credentials secret as the rotator reads and writes it: the
//! client ID and secret (under any of the accepted key names), plus what the
//! rotator records next to them (fields the refresher ignores):
//! `client_secret_expires_at` and `client_secret_rotation_requested_at`
//! (RFC 3339 UTC). Every other field and key name is kept on write.

use crate::credentials::{CredentialsError, SecretDocument, CLIENT_ID_KEYS, CLIENT_SECRET_KEYS};
use crate::rotation::notification::parse_time;
use crate::secret::ClientSecret;
use crate::token::rfc3339;
use secrecy::{ExposeSecret, SecretString};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Recorded expiry of the client secret (set by the rotator or by hand).
pub const EXPIRES_AT: &str = "client_secret_expires_at";
/// When the last rotate call was accepted, while its new secret is awaited.
pub const REQUESTED_AT: &str = "client_secret_rotation_requested_at";

/// An expiry as recorded: RFC 3339 UTC, whole seconds unless Amazon's time
/// has milliseconds (`2026-10-28T10:00:00Z`, `2027-05-30T16:25:02.273Z`).
/// The milliseconds are kept because expiries are compared: two rotations
/// in the same second must still be told apart.
fn recorded_time(t: OffsetDateTime) -> String {
    let ms = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    ms.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| rfc3339(t))
}

/// One version of the app's secret.
#[derive(Clone)]
pub struct AppDocument {
    /// `VersionId` it was read from.
    pub version_id: String,
    /// The LWA client ID.
    pub client_id: String,
    /// The LWA client secret.
    pub client_secret: ClientSecret,
    /// `client_secret_expires_at`, when recorded.
    pub expires_at: Option<OffsetDateTime>,
    /// `client_secret_rotation_requested_at`, when recorded.
    pub rotation_requested_at: Option<OffsetDateTime>,
    secret_keys: Vec<String>,
    text: SecretString,
}

impl AppDocument {
    /// Parses one version. Errors name the secret and the field, never a value.
    pub fn parse(
        secret_id: &str,
        version_id: &str,
        text: &SecretString,
    ) -> Result<Self, CredentialsError> {
        let err = |problem: String| CredentialsError {
            secret_id: secret_id.to_owned(),
            problem,
        };
        let checked = SecretDocument::parse(secret_id, text.expose_secret())?;
        if !checked.has_client() {
            return Err(err(
                "field `client_id` or `client_secret` is missing; the rotator needs the app's LWA client ID \
                 and client secret in this secret"
                    .to_owned(),
            ));
        }
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(strip(text.expose_secret())).unwrap_or_default();
        let first = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let time = |key: &str| -> Result<Option<OffsetDateTime>, CredentialsError> {
            match map.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(serde_json::Value::String(s)) => parse_time(s).map(Some).map_err(|_| {
                    err(format!(
                        "field `{key}` is not an RFC 3339 time; write it like 2027-05-30T00:00:00Z or remove it"
                    ))
                }),
                Some(_) => Err(err(format!(
                    "field `{key}` must be a string like 2027-05-30T00:00:00Z"
                ))),
            }
        };
        Ok(Self {
            version_id: version_id.to_owned(),
            client_id: first(CLIENT_ID_KEYS),
            client_secret: ClientSecret::new(first(CLIENT_SECRET_KEYS)),
            expires_at: time(EXPIRES_AT)?,
            rotation_requested_at: time(REQUESTED_AT)?,
            secret_keys: CLIENT_SECRET_KEYS
                .iter()
                .filter(|k| map.contains_key(**k))
                .map(|k| (*k).to_owned())
                .collect(),
            text: text.clone(),
        })
    }

    /// This document with `client_secret` (under every key that held it),
    /// `client_secret_expires_at` = `expires_at` and the rotation marker
    /// removed; every other field kept byte for byte.
    pub fn with_new_secret(
        &self,
        secret: &ClientSecret,
        expires_at: OffsetDateTime,
    ) -> SecretString {
        let value = to_raw(secret.expose_secret());
        self.edit(|map| {
            for key in &self.secret_keys {
                map.insert(key.clone(), value.clone());
            }
            map.insert(EXPIRES_AT.to_owned(), to_raw(&recorded_time(expires_at)));
            map.remove(REQUESTED_AT);
        })
    }

    /// This document with `client_secret_expires_at` set.
    pub fn with_expiry(&self, expires_at: OffsetDateTime) -> SecretString {
        self.edit(|map| {
            map.insert(EXPIRES_AT.to_owned(), to_raw(&recorded_time(expires_at)));
        })
    }

    /// This document with `client_secret_rotation_requested_at` set.
    pub fn with_requested(&self, at: OffsetDateTime) -> SecretString {
        self.edit(|map| {
            map.insert(REQUESTED_AT.to_owned(), to_raw(&rfc3339(at)));
        })
    }

    fn edit(&self, f: impl FnOnce(&mut BTreeMap<String, Box<RawValue>>)) -> SecretString {
        let mut map: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(strip(self.text.expose_secret())).unwrap_or_default();
        f(&mut map);
        SecretString::from(serde_json::to_string(&map).expect("raw values serialize"))
    }
}

fn to_raw(s: &str) -> Box<RawValue> {
    serde_json::value::to_raw_value(s).expect("a string serializes")
}

fn strip(text: &str) -> &str {
    text.trim().trim_start_matches('\u{feff}').trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn doc(text: &str) -> AppDocument {
        AppDocument::parse("app", "v1", &SecretString::from(text.to_owned())).unwrap()
    }

    #[test]
    fn aliases_and_recorded_fields() {
        let d = doc(
            r#"{"LWA_APP_ID":"id","LWA_CLIENT_SECRET":"amzn1.oa2-cs.v1.OLD","refresh_token":"Atzr|R",
                "client_secret_expires_at":"2027-05-30T00:00:00Z","n":1.50}"#,
        );
        assert_eq!(d.client_id, "id");
        assert_eq!(d.client_secret.expose_secret(), "amzn1.oa2-cs.v1.OLD");
        assert_eq!(d.expires_at, Some(datetime!(2027-05-30 00:00 UTC)));
        let new = d.with_new_secret(
            &ClientSecret::new("amzn1.oa2-cs.v1.NEW"),
            datetime!(2027-11-26 10:00:00.123 UTC),
        );
        let v: serde_json::Value = serde_json::from_str(new.expose_secret()).unwrap();
        assert_eq!(v["LWA_CLIENT_SECRET"], "amzn1.oa2-cs.v1.NEW");
        assert_eq!(v["LWA_APP_ID"], "id");
        assert_eq!(v["refresh_token"], "Atzr|R");
        // Milliseconds kept (two rotations in one second stay ordered).
        assert_eq!(v["client_secret_expires_at"], "2027-11-26T10:00:00.123Z");
        assert!(v.get("client_secret").is_none(), "no new key added");
        let whole = d.with_expiry(datetime!(2027-11-26 10:00:00.000_900 UTC));
        let v: serde_json::Value = serde_json::from_str(whole.expose_secret()).unwrap();
        assert_eq!(v["client_secret_expires_at"], "2027-11-26T10:00:00Z");
        assert!(
            new.expose_secret().contains("1.50"),
            "numbers kept byte for byte"
        );
    }

    /// An empty (or blank) recorded time is no time, not a malformed one.
    #[test]
    fn a_blank_recorded_time_is_none() {
        let d = doc(
            r#"{"client_id":"id","client_secret":"s","client_secret_expires_at":" ","client_secret_rotation_requested_at":""}"#,
        );
        assert_eq!((d.expires_at, d.rotation_requested_at), (None, None));
    }

    #[test]
    fn marker_set_and_cleared() {
        let d = doc(r#"{"client_id":"id","client_secret":"s"}"#);
        let marked = d.with_requested(datetime!(2026-05-01 10:00 UTC));
        let d2 = AppDocument::parse("app", "v2", &marked).unwrap();
        assert_eq!(
            d2.rotation_requested_at,
            Some(datetime!(2026-05-01 10:00 UTC))
        );
        let new = d2.with_new_secret(&ClientSecret::new("t"), datetime!(2026-10-28 10:00 UTC));
        let d3 = AppDocument::parse("app", "v3", &new).unwrap();
        assert_eq!(d3.rotation_requested_at, None);
        assert_eq!(d3.client_secret.expose_secret(), "t");
    }

    #[test]
    fn bad_recorded_time_and_missing_client() {
        let e = AppDocument::parse(
            "app",
            "v",
            &SecretString::from(r#"{"client_id":"id","client_secret":"amzn1.oa2-cs.v1.X","client_secret_expires_at":"May"}"#.to_owned()),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("client_secret_expires_at") && !e.contains("oa2-cs"),
            "{e}"
        );
        let e = AppDocument::parse(
            "app",
            "v",
            &SecretString::from(r#"{"refresh_token":"Atzr|x"}"#.to_owned()),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("client_id"), "{e}");
    }
}
