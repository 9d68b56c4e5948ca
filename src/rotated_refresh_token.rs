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

use crate::credentials::{rotated, strip_bom, RefreshTokenOrigin};
use crate::secret::RefreshToken;
use secrecy::SecretString;
use serde_json::{Map, Value};

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
    use secrecy::ExposeSecret;

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
