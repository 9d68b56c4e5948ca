//! The profile secret's JSON as onboarding reads and writes it.
//!
//! Written fields: `refresh_token`, `selling_partner_id`, `region`,
//! `authorized_at` (RFC 3339 UTC) and `onboarding_used_links`, an object
//! `{link id: link expiry}`. Every other field is kept byte for byte.
//!
//! Why the used links live in the profile secret: a link is used up only by
//! a successful connection, and the connection *is* the write of this
//! secret. Recording the link id in the same `PutSecretValue` makes "stored
//! the refresh token" and "used up the link" one atomic step: there is no
//! moment when one happened without the other, no second resource to
//! create, pay for or grant IAM on, and a failed exchange or write leaves
//! the link usable. Entries are dropped once their link has expired (a
//! used, expired link is refused for its expiry anyway), so the list stays
//! as short as the links minted for one profile within 30 days.

use super::marketplace::Region;
use crate::credential_keys::REFRESH_TOKEN_KEYS;
use crate::secret::RefreshToken;
use secrecy::{ExposeSecret, SecretString};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The field recording used links.
pub const USED_LINKS: &str = "onboarding_used_links";

/// What onboarding needs to know of an existing profile secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFacts {
    /// `selling_partner_id` stored in it.
    pub selling_partner_id: Option<String>,
    /// Ids of links used for it, with their expiry.
    pub used_links: BTreeMap<String, String>,
    /// `false` when the value is not a JSON object.
    pub is_object: bool,
}

/// Reads the facts of a profile secret's `SecretString`.
pub fn facts(document: &SecretString) -> ProfileFacts {
    let Ok(serde_json::Value::Object(map)) =
        serde_json::from_str::<serde_json::Value>(document.expose_secret().trim())
    else {
        return ProfileFacts::default();
    };
    let used_links = map
        .get(USED_LINKS)
        .and_then(|v| v.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    ProfileFacts {
        selling_partner_id: map
            .get("selling_partner_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        used_links,
        is_object: true,
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .expect("a UTC time formats")
}

/// What one successful connection writes.
pub struct Connection<'a> {
    /// From the code exchange.
    pub refresh_token: &'a RefreshToken,
    /// Amazon's `selling_partner_id`.
    pub selling_partner_id: &'a str,
    /// Region of the authorization.
    pub region: Region,
    /// Now.
    pub authorized_at: OffsetDateTime,
    /// The link used up, with its expiry (none for the Login-URI flow).
    pub used_link: Option<(&'a str, OffsetDateTime)>,
}

/// The new document: `existing` (if any) with the connection's fields set,
/// every other field kept, and expired used-link entries dropped.
pub fn connected_document(existing: Option<&SecretString>, c: &Connection<'_>) -> SecretString {
    let mut map: BTreeMap<String, Box<RawValue>> = existing
        .and_then(|d| serde_json::from_str(d.expose_secret().trim()).ok())
        .unwrap_or_default();
    let raw = |s: &str| serde_json::value::to_raw_value(s).expect("a string serializes");
    let mut placed = false;
    for key in REFRESH_TOKEN_KEYS {
        if map.contains_key(*key) {
            map.insert((*key).to_owned(), raw(c.refresh_token.expose_secret()));
            placed = true;
        }
    }
    if !placed {
        map.insert("refresh_token".into(), raw(c.refresh_token.expose_secret()));
    }
    map.insert("selling_partner_id".into(), raw(c.selling_partner_id));
    map.insert("region".into(), raw(c.region.as_str()));
    map.insert("authorized_at".into(), raw(&rfc3339(c.authorized_at)));
    let mut used: BTreeMap<String, String> = existing.map(facts).unwrap_or_default().used_links;
    used.retain(|_, expiry| {
        OffsetDateTime::parse(expiry, &Rfc3339).is_ok_and(|e| e > c.authorized_at)
    });
    if let Some((id, expiry)) = c.used_link {
        used.insert(id.to_owned(), rfc3339(expiry));
    }
    if used.is_empty() {
        map.remove(USED_LINKS);
    } else {
        map.insert(
            USED_LINKS.into(),
            serde_json::value::to_raw_value(&used).expect("strings serialize"),
        );
    }
    SecretString::from(serde_json::to_string(&map).expect("raw values serialize"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn conn<'a>(rt: &'a RefreshToken, link: Option<(&'a str, OffsetDateTime)>) -> Connection<'a> {
        Connection {
            refresh_token: rt,
            selling_partner_id: "A1",
            region: Region::Eu,
            authorized_at: datetime!(2026-12-01 10:00:00.7 UTC),
            used_link: link,
        }
    }

    #[test]
    fn new_profile() {
        let rt = RefreshToken::new("Atzr|NEW");
        let d = connected_document(
            None,
            &conn(&rt, Some(("L1", datetime!(2026-12-08 10:00 UTC)))),
        );
        let v: serde_json::Value = serde_json::from_str(d.expose_secret()).unwrap();
        assert_eq!(v["refresh_token"], "Atzr|NEW");
        assert_eq!(v["selling_partner_id"], "A1");
        assert_eq!(v["region"], "eu");
        assert_eq!(v["authorized_at"], "2026-12-01T10:00:00Z");
        assert_eq!(v[USED_LINKS]["L1"], "2026-12-08T10:00:00Z");
        let f = facts(&d);
        assert_eq!(f.selling_partner_id.as_deref(), Some("A1"));
        assert!(f.used_links.contains_key("L1"));
        // The fleet reads it as a refresh-token profile (client from the app secret).
        assert!(crate::credentials::SecretDocument::parse("p", d.expose_secret()).is_ok());
    }

    #[test]
    fn update_keeps_other_fields_and_alias_keys_and_prunes_expired_links() {
        let existing = SecretString::from(
            r#"{"SP_API_REFRESH_TOKEN":"Atzr|OLD","note":{"n":1.50},"selling_partner_id":"A1",
                "onboarding_used_links":{"OLD":"2026-11-01T00:00:00Z","LIVE":"2026-12-20T00:00:00Z","BAD":"x"}}"#
                .to_owned(),
        );
        let rt = RefreshToken::new("Atzr|NEW");
        let d = connected_document(Some(&existing), &conn(&rt, None));
        let text = d.expose_secret();
        assert!(text.contains(r#""note":{"n":1.50}"#), "{text}");
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["SP_API_REFRESH_TOKEN"], "Atzr|NEW");
        assert!(v.get("refresh_token").is_none());
        assert_eq!(
            v[USED_LINKS]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            vec!["LIVE"]
        );
    }

    #[test]
    fn facts_of_odd_documents() {
        assert_eq!(
            facts(&SecretString::from("not json".to_owned())),
            ProfileFacts::default()
        );
        let f = facts(&SecretString::from(
            r#"{"selling_partner_id":7}"#.to_owned(),
        ));
        assert!(f.is_object && f.selling_partner_id.is_none());
    }
}
