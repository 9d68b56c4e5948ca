//! Writing a rotated refresh token back into its secret without reverting
//! anything written meanwhile.
//!
//! The refresher reads the secret at the start of a run and LWA may answer
//! with a new refresh token. Writing back the document read at the start
//! would silently undo an operator's edit made in between (a new client
//! secret, say). So the adapter reads the secret again just before writing
//! and changes only the refresh token in that current value; if the refresh
//! token itself changed meanwhile (a re-authorization), the current one is
//! kept.

use crate::credentials::strip_bom;
use crate::secret::RefreshToken;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

/// Where a refresh token came from, so a rotated one can be written back
/// under the same key, with every other field kept.
#[derive(Clone)]
pub struct RefreshTokenOrigin {
    /// Secret name or ARN the token was read from.
    pub secret_id: String,
    /// The keys the token was stored under (`refresh_token`,
    /// `SP_API_REFRESH_TOKEN`, …; more than one when aliases repeat it).
    pub keys: Vec<String>,
    pub(crate) document: SecretString,
}

impl RefreshTokenOrigin {
    /// The secret's JSON with the refresh token replaced by `new` under every
    /// key that held it; every other field kept byte for byte (numbers too).
    pub fn rotated_document(&self, new: &RefreshToken) -> SecretString {
        rotated(self.document.expose_secret(), &self.keys, new)
    }

    /// The refresh token as read (under the first of [`Self::keys`]).
    pub fn sent_refresh_token(&self) -> Option<String> {
        let text = strip_bom(self.document.expose_secret());
        let map: serde_json::Map<String, Value> = serde_json::from_str(text).ok()?;
        map.get(self.keys.first()?)?.as_str().map(str::to_owned)
    }
}

/// `document` with `new` under every key of `keys`; every other field kept
/// byte for byte (numbers too).
pub(crate) fn rotated(document: &str, keys: &[String], new: &RefreshToken) -> SecretString {
    use serde_json::value::RawValue;
    let text = strip_bom(document);
    let mut map: std::collections::BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(text).unwrap_or_default();
    let value = serde_json::value::to_raw_value(new.expose_secret()).expect("a string serializes");
    for key in keys {
        map.insert(key.clone(), value.clone());
    }
    SecretString::from(serde_json::to_string(&map).expect("raw values serialize"))
}

/// What writing a rotated refresh token into the secret's current value
/// comes to.
pub enum RefreshTokenRewrite {
    /// The current document with only the refresh token replaced: write it.
    Document(SecretString),
    /// The secret's refresh token is no longer the one that was sent (it was
    /// replaced meanwhile): write nothing, keep it.
    TokenChangedMeanwhile,
    /// The current value is not a JSON object: write nothing.
    NotAnObject,
}

/// `current` (the secret's value now) with the refresh token under the
/// origin's keys replaced by `new`, every other field as it is now.
pub fn rewrite_current(
    origin: &RefreshTokenOrigin,
    current: &str,
    new: &RefreshToken,
) -> RefreshTokenRewrite {
    let Ok(map) = serde_json::from_str::<Map<String, Value>>(strip_bom(current)) else {
        return RefreshTokenRewrite::NotAnObject;
    };
    let sent = origin.sent_refresh_token();
    let unchanged = origin.keys.iter().all(|key| {
        map.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .is_some_and(|now| Some(now) == sent.as_deref().map(str::trim))
    });
    if !unchanged {
        return RefreshTokenRewrite::TokenChangedMeanwhile;
    }
    RefreshTokenRewrite::Document(rotated(current, &origin.keys, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::SecretDocument;

    fn origin(doc: &str) -> RefreshTokenOrigin {
        SecretDocument::parse("s", doc)
            .unwrap()
            .into_credentials(None)
            .unwrap()
            .refresh_token_origin
            .unwrap()
    }

    const READ: &str = r#"{"client_id":"id","client_secret":"OLD","refresh_token":"Atzr|R1"}"#;

    #[test]
    fn an_edit_made_meanwhile_is_kept() {
        let now = r#"{"client_id":"id","client_secret":"NEW","refresh_token":"Atzr|R1","note":1}"#;
        let RefreshTokenRewrite::Document(doc) =
            rewrite_current(&origin(READ), now, &RefreshToken::new("Atzr|R2"))
        else {
            panic!("expected a document");
        };
        let v: Value = serde_json::from_str(doc.expose_secret()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"client_id":"id","client_secret":"NEW","refresh_token":"Atzr|R2","note":1})
        );
    }

    #[test]
    fn a_refresh_token_replaced_meanwhile_or_a_broken_value_is_not_touched() {
        let now = r#"{"client_id":"id","client_secret":"OLD","refresh_token":"Atzr|REAUTH"}"#;
        assert!(matches!(
            rewrite_current(&origin(READ), now, &RefreshToken::new("Atzr|R2")),
            RefreshTokenRewrite::TokenChangedMeanwhile
        ));
        assert!(matches!(
            rewrite_current(&origin(READ), "not json", &RefreshToken::new("Atzr|R2")),
            RefreshTokenRewrite::NotAnObject
        ));
    }
}
