//! The credentials secret: its JSON schema, the key-name aliases that existing
//! secrets use, and validation (the refresh-token write-back is
//! [`crate::rotated_refresh_token`]).
//!
//! Shape (a Secrets Manager `SecretString`, JSON object):
//!
//! ```json
//! {"client_id": "amzn1.application-oa2-client.…", "client_secret": "amzn1.oa2-cs.v1.…", "refresh_token": "Atzr|…"}
//! ```
//!
//! A grantless profile holds `scope` (space-separated LWA scopes, e.g.
//! `sellingpartnerapi::notifications`) instead of `refresh_token`; see
//! "Grantless operations" in the SP-API docs
//! (<https://developer-docs.amazon.com/sp-api/docs/grantless-operations>).
//!
//! Every error names the secret and the field, and never contains a value.

use crate::credential_keys::{credential_keys, invisible, REFRESH_TOKEN_KEYS, SCOPE_KEYS};
pub(crate) use crate::credential_keys::{CLIENT_ID_KEYS, CLIENT_SECRET_KEYS};
pub use crate::rotated_refresh_token::RefreshTokenOrigin;
use crate::secret::{ClientSecret, RefreshToken};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::fmt;

/// What the refresher sends to LWA for one profile.
#[derive(Clone)]
pub enum Grant {
    /// `grant_type=refresh_token`: a seller's authorization.
    RefreshToken(RefreshToken),
    /// `grant_type=client_credentials` with these space-separated scopes
    /// (grantless operations).
    ClientCredentials {
        /// e.g. `sellingpartnerapi::notifications`
        scope: String,
    },
}

impl Grant {
    /// The LWA `grant_type` value.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Grant::RefreshToken(_) => "refresh_token",
            Grant::ClientCredentials { .. } => "client_credentials",
        }
    }
}

/// The text without surrounding whitespace and a leading byte-order mark
/// (some editors add one).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.trim().trim_start_matches('\u{feff}').trim()
}

/// Complete LWA credentials for one profile.
#[derive(Clone)]
pub struct Credentials {
    /// LWA client ID (`amzn1.application-oa2-client.…`). Not a secret.
    pub client_id: String,
    /// LWA client secret.
    pub client_secret: ClientSecret,
    /// Refresh token or grantless scope.
    pub grant: Grant,
    /// Set for refresh-token grants.
    pub refresh_token_origin: Option<RefreshTokenOrigin>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("grant_type", &self.grant.grant_type())
            .finish()
    }
}

/// A secret's contents could not be used. The message names the secret and
/// the field, says how to fix it, and never contains a value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("credentials secret `{secret_id}`: {problem}")]
pub struct CredentialsError {
    /// Secret name or ARN.
    pub secret_id: String,
    /// What is wrong and what to do.
    pub problem: String,
}

const EXPECTED_SHAPE: &str = "store a JSON object as the SecretString, e.g. \
{\"client_id\": \"amzn1.application-oa2-client.…\", \"client_secret\": \"amzn1.oa2-cs.v1.…\", \"refresh_token\": \"Atzr|…\"} \
(for a grantless profile, \"scope\" instead of \"refresh_token\")";

/// The fields found in one secret; a profile may take its `client_id` and
/// `client_secret` from a second, shared app secret.
#[derive(Clone, Default)]
pub struct SecretDocument {
    secret_id: String,
    client_id: Option<String>,
    client_secret: Option<ClientSecret>,
    refresh_token: Option<(Vec<String>, RefreshToken)>,
    scope: Option<String>,
    document: Option<SecretString>,
}

impl SecretDocument {
    /// Parses a `SecretString`. Accepts the aliases of the contract
    /// (`LWA_APP_ID`, `AppClientId`, `clientId`, …), trims surrounding
    /// whitespace of every value, and rejects empty fields, an app ID
    /// (`amzn1.sellerapps.app.…`) given as the client ID, and an access token
    /// given as the refresh token.
    pub fn parse(secret_id: &str, secret_string: &str) -> Result<Self, CredentialsError> {
        let err = |problem: String| CredentialsError {
            secret_id: secret_id.to_owned(),
            problem,
        };
        // Never show serde's message: it can quote the input.
        let value: Value = serde_json::from_str(strip_bom(secret_string))
            .map_err(|_| err(format!("the SecretString is not JSON; {EXPECTED_SHAPE}")))?;
        let Value::Object(map) = value else {
            return Err(err(format!(
                "the SecretString is JSON but not an object; {EXPECTED_SHAPE}"
            )));
        };
        crate::credential_keys::check_key_names(strip_bom(secret_string), &map).map_err(err)?;
        let field = |keys: &[&str]| -> Result<Option<(String, String)>, CredentialsError> {
            let mut found: Option<(String, String)> = None;
            for key in keys {
                let Some(v) = map.get(*key) else { continue };
                let Value::String(s) = v else {
                    return Err(err(format!(
                        "field `{key}` must be a string (it is {}); {EXPECTED_SHAPE}",
                        json_kind(v)
                    )));
                };
                let s = s.trim().to_owned();
                if s.is_empty() {
                    return Err(err(format!(
                        "field `{key}` is empty; put the value in it or remove the key"
                    )));
                }
                // Client IDs, client secrets and refresh tokens are one
                // printable word (a scope is words separated by spaces).
                let is_scope = SCOPE_KEYS.contains(key);
                if s.chars().any(|ch| {
                    ch.is_control()
                        || invisible(ch)
                        || (ch.is_whitespace() && !(is_scope && ch == ' '))
                }) {
                    return Err(err(format!(
                        "field `{key}` contains spaces, control or invisible characters; paste the value again as one line"
                    )));
                }
                if let Some((first, existing)) = &found {
                    if *existing != s {
                        return Err(err(format!(
                            "fields `{first}` and `{key}` both hold the same setting with different values; keep one"
                        )));
                    }
                } else {
                    found = Some(((*key).to_owned(), s));
                }
            }
            Ok(found)
        };
        let client_id = field(CLIENT_ID_KEYS)?;
        if let Some((key, id)) = &client_id {
            if id.starts_with("amzn1.sellerapps.app.") {
                return Err(err(format!(
                    "field `{key}` holds the app ID (amzn1.sellerapps.app.…), not the LWA client ID; \
                     copy the LWA client identifier (amzn1.application-oa2-client.…) from \
                     Developer Central > Edit App > View (LWA credentials)"
                )));
            }
        }
        let client_secret = field(CLIENT_SECRET_KEYS)?;
        let refresh_token = field(REFRESH_TOKEN_KEYS)?;
        if let Some((key, token)) = &refresh_token {
            if token.starts_with("Atza|") {
                return Err(err(format!(
                    "field `{key}` holds an access token (Atza|…), not a refresh token (Atzr|…); \
                     store the refresh token from the seller's authorization"
                )));
            }
        }
        let scope = field(SCOPE_KEYS)?;
        if let (Some((rk, _)), Some(_)) = (&refresh_token, &scope) {
            return Err(err(format!(
                "holds both `{rk}` and `scope`; a profile is either seller-authorized \
                 (refresh_token) or grantless (scope), remove one"
            )));
        }
        Ok(Self {
            secret_id: secret_id.to_owned(),
            client_id: client_id.map(|(_, v)| v),
            client_secret: client_secret.map(|(_, v)| ClientSecret::new(v)),
            refresh_token: refresh_token.map(|(_, v)| {
                let keys = REFRESH_TOKEN_KEYS
                    .iter()
                    .filter(|k| map.contains_key(**k))
                    .map(|k| (*k).to_owned())
                    .collect();
                (keys, RefreshToken::new(v))
            }),
            scope: scope.map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" ")),
            document: Some(SecretString::from(secret_string.to_owned())),
        })
    }

    /// `true` when the secret carries both `client_id` and `client_secret`.
    pub fn has_client(&self) -> bool {
        self.client_id.is_some() && self.client_secret.is_some()
    }

    /// Complete credentials from this secret alone, or with `client_id` and
    /// `client_secret` from a shared `app` secret when this one lacks them.
    pub fn into_credentials(
        self,
        app: Option<&SecretDocument>,
    ) -> Result<Credentials, CredentialsError> {
        let secret_id = self.secret_id.clone();
        let err = |problem: String| CredentialsError {
            secret_id: secret_id.clone(),
            problem,
        };
        let (client_id, client_secret) = match (self.client_id, self.client_secret, app) {
            (Some(id), Some(secret), _) => (id, secret),
            (None, None, Some(app)) if app.has_client() => (
                app.client_id.clone().unwrap_or_default(),
                app.client_secret.clone().expect("has_client"),
            ),
            (id, secret, _) => {
                let missing: Vec<&str> = [
                    id.is_none().then_some("client_id"),
                    secret.is_none().then_some("client_secret"),
                ]
                .into_iter()
                .flatten()
                .collect();
                return Err(err(format!(
                    "field `{}` is missing; {EXPECTED_SHAPE}",
                    missing.join("` and `")
                )));
            }
        };
        let (grant, origin) = match (self.refresh_token, self.scope) {
            (Some((keys, token)), None) => (
                Grant::RefreshToken(token),
                Some(RefreshTokenOrigin {
                    secret_id: self.secret_id.clone(),
                    keys,
                    document: self.document.unwrap_or_else(|| SecretString::from(String::new())),
                }),
            ),
            (None, Some(scope)) => (Grant::ClientCredentials { scope }, None),
            _ => {
                return Err(err(format!(
                    "field `refresh_token` is missing (or `scope` for a grantless profile); {EXPECTED_SHAPE}"
                )))
            }
        };
        Ok(Credentials {
            client_id,
            client_secret,
            grant,
            refresh_token_origin: origin,
        })
    }
}

impl SecretDocument {
    /// First 8 hex digits of the SHA-256 of the refresh token (of the scope
    /// for a grantless profile): tells whether the secret still holds the
    /// value LWA refused, without keeping it. `None` when it holds neither.
    pub fn grant_fingerprint(&self) -> Option<String> {
        match (&self.refresh_token, &self.scope) {
            (Some((_, token)), _) => Some(crate::secret::fingerprint(token.expose_secret())),
            (None, Some(scope)) => Some(crate::secret::fingerprint(scope)),
            (None, None) => None,
        }
    }

    /// A descriptive, non-secret string field of the secret, such as
    /// `selling_partner_id` or `region` (written by seller onboarding).
    /// `None` for a credential key, a missing or non-string field, or a value
    /// that is not 1 to 64 of `A-Z a-z 0-9 _ . -` (it is shown in events).
    pub fn label(&self, key: &str) -> Option<String> {
        if credential_keys().any(|k| k.eq_ignore_ascii_case(key)) {
            return None;
        }
        let text = self.document.as_ref()?;
        let value: Value = serde_json::from_str(strip_bom(text.expose_secret())).ok()?;
        let v = value.get(key)?.as_str()?.trim();
        let plain = (1..=64).contains(&v.len())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        plain.then(|| v.to_owned())
    }
}

/// Parses a single-profile secret into complete credentials.
pub fn parse_credentials(
    secret_id: &str,
    secret_string: &str,
) -> Result<Credentials, CredentialsError> {
    SecretDocument::parse(secret_id, secret_string)?.into_credentials(None)
}

/// The error for a secret that holds `SecretBinary` instead of `SecretString`.
pub fn binary_secret_error(secret_id: &str) -> CredentialsError {
    CredentialsError {
        secret_id: secret_id.to_owned(),
        problem: format!(
            "holds SecretBinary; the credentials must be a SecretString. {EXPECTED_SHAPE}"
        ),
    }
}

/// "null", "a boolean", "a number", … : a JSON value's kind, for messages
/// that must not quote the value.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Credentials {
        parse_credentials("lwa/test", s).expect("valid")
    }

    #[test]
    fn a_credential_key_given_twice_is_refused_before_any_use() {
        let e = bad(
            r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"Atzr|ONE","refresh_token":"Atzr|TWO"}"#,
        );
        assert_eq!(
            e,
            "credentials secret `lwa/test`: key `refresh_token` appears more than once; keep one"
        );
        // Also behind another repeated key.
        let e = bad(
            r#"{"note":"a","note":"b","client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"Atzr|ONE","refresh_token":"Atzr|TWO"}"#,
        );
        assert!(
            e.ends_with("key `refresh_token` appears more than once; keep one"),
            "{e}"
        );
        // An unrelated key repeated is left alone.
        ok(
            r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"Atzr|R","note":"a","note":"b"}"#,
        );
    }

    #[test]
    fn a_value_with_inner_spaces_or_line_breaks_is_refused() {
        for (doc, key) in [
            (
                r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"Atzr|a\nb"}"#,
                "refresh_token",
            ),
            (
                r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S 2","refresh_token":"Atzr|R"}"#,
                "client_secret",
            ),
            (
                r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"Atzr|R\u200b"}"#,
                "refresh_token",
            ),
            (
                r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"\ufeffAtzr|R"}"#,
                "refresh_token",
            ),
            (
                r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","scope":"sellingpartnerapi::notifications\u0000"}"#,
                "scope",
            ),
        ] {
            let e = bad(doc);
            assert!(
                e.contains(&format!(
                    "field `{key}` contains spaces, control or invisible characters"
                )),
                "{e}"
            );
            assert!(!e.contains("Atzr|a") && !e.contains("S 2"), "{e}");
        }
        // A scope is space-separated words.
        ok(
            r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","scope":"sellingpartnerapi::notifications sellingpartnerapi::client_credential:rotation"}"#,
        );
    }

    #[test]
    fn debug_names_the_client_and_grant_and_hides_the_secrets() {
        let c = ok(
            r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"amzn1.oa2-cs.v1.S3CRET","refresh_token":"Atzr|R3FRESH"}"#,
        );
        assert_eq!(
            format!("{c:?}"),
            format!(
                "Credentials {{ client_id: \"amzn1.application-oa2-client.A\", client_secret: {:?}, grant_type: \"refresh_token\" }}",
                c.client_secret
            )
        );
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("S3CRET") && !shown.contains("R3FRESH"),
            "{shown}"
        );
    }
    fn bad(s: &str) -> String {
        parse_credentials("lwa/test", s)
            .expect_err("invalid")
            .to_string()
    }
    fn refresh(c: &Credentials) -> &str {
        match &c.grant {
            Grant::RefreshToken(t) => t.expose_secret(),
            _ => panic!("not a refresh-token grant"),
        }
    }

    #[test]
    fn canonical_and_alias_layouts() {
        let c = ok(
            r#"{"client_id":"amzn1.application-oa2-client.A","client_secret":"S","refresh_token":"Atzr|R"}"#,
        );
        assert_eq!(c.client_id, "amzn1.application-oa2-client.A");
        assert_eq!(refresh(&c), "Atzr|R");
        for doc in [
            r#"{"LWA_APP_ID":"id","LWA_CLIENT_SECRET":"S","SP_API_REFRESH_TOKEN":"Atzr|R"}"#,
            r#"{"lwa_app_id":"id","lwa_client_secret":"S","sp_api_refresh_token":"Atzr|R"}"#,
            r#"{"AppClientId":"id","AppClientSecret":"S","refresh_token":"Atzr|R"}"#,
            r#"{"clientId":"id","clientSecret":"S","refreshToken":"Atzr|R"}"#,
        ] {
            let c = ok(doc);
            assert_eq!(c.client_id, "id", "{doc}");
            assert_eq!(c.client_secret.expose_secret(), "S");
            assert_eq!(refresh(&c), "Atzr|R");
        }
    }

    #[test]
    fn whitespace_is_trimmed() {
        let c = ok("{\"client_id\":\"id\\n\",\"client_secret\":\" S\",\"refresh_token\":\"Atzr|R\\r\\n\"}\n");
        assert_eq!(c.client_id, "id");
        assert_eq!(c.client_secret.expose_secret(), "S");
        assert_eq!(refresh(&c), "Atzr|R");
    }

    #[test]
    fn plain_text_names_the_fields_and_hides_the_value() {
        let m = bad("Atzr|PLACEHOLDER-MARKER-1");
        for f in [
            "client_id",
            "client_secret",
            "refresh_token",
            "lwa/test",
            "SecretString",
        ] {
            assert!(m.contains(f), "{m}");
        }
        assert!(!m.contains("MARKER"), "{m}");
        let m = bad(r#"["Atzr|MARKER"]"#);
        assert!(m.contains("not an object") && !m.contains("MARKER"), "{m}");
    }

    #[test]
    fn empty_missing_and_wrong_type_fields() {
        let m = bad(r#"{"client_id":"id","client_secret":"MARKER-2","refresh_token":""}"#);
        assert!(
            m.contains("refresh_token") && m.contains("empty") && !m.contains("MARKER"),
            "{m}"
        );
        let m = bad(r#"{"client_id":"id","refresh_token":"Atzr|MARKER"}"#);
        assert!(
            m.contains("client_secret") && m.contains("missing") && !m.contains("MARKER"),
            "{m}"
        );
        let m = bad(r#"{"client_id":"id","client_secret":"S"}"#);
        assert!(m.contains("refresh_token") && m.contains("missing"), "{m}");
        let m = bad(r#"{"client_id":7,"client_secret":"MARKER","refresh_token":"Atzr|MARKER"}"#);
        assert!(
            m.contains("client_id") && m.contains("number") && !m.contains("MARKER"),
            "{m}"
        );
    }

    #[test]
    fn app_id_and_access_token_are_refused() {
        let m = bad(
            r#"{"client_id":"amzn1.sellerapps.app.X","client_secret":"S","refresh_token":"Atzr|R"}"#,
        );
        assert!(m.contains("amzn1.application-oa2-client"), "{m}");
        let m = bad(r#"{"client_id":"id","client_secret":"S","refresh_token":"Atza|MARKER"}"#);
        assert!(m.contains("access token") && !m.contains("MARKER"), "{m}");
    }

    #[test]
    fn conflicting_aliases_are_refused() {
        let m = bad(
            r#"{"client_id":"a","LWA_APP_ID":"b","client_secret":"S","refresh_token":"Atzr|R"}"#,
        );
        assert!(m.contains("client_id") && m.contains("LWA_APP_ID"), "{m}");
        ok(r#"{"client_id":"a","LWA_APP_ID":"a","client_secret":"S","refresh_token":"Atzr|R"}"#);
    }

    #[test]
    fn grantless_scope() {
        let c = ok(
            r#"{"client_id":"id","client_secret":"S","scope":" sellingpartnerapi::notifications  sellingpartnerapi::client_credential:rotation "}"#,
        );
        match c.grant {
            Grant::ClientCredentials { scope } => assert_eq!(
                scope,
                "sellingpartnerapi::notifications sellingpartnerapi::client_credential:rotation"
            ),
            _ => panic!("expected grantless"),
        }
        assert!(c.refresh_token_origin.is_none());
        let m =
            bad(r#"{"client_id":"id","client_secret":"S","scope":"x","refresh_token":"Atzr|R"}"#);
        assert!(m.contains("scope") && m.contains("refresh_token"), "{m}");
    }

    #[test]
    fn app_secret_supplies_the_client() {
        let app =
            SecretDocument::parse("app", r#"{"client_id":"id","client_secret":"S"}"#).unwrap();
        let profile = SecretDocument::parse("p", r#"{"refresh_token":"Atzr|R"}"#).unwrap();
        let c = profile.into_credentials(Some(&app)).unwrap();
        assert_eq!(c.client_id, "id");
        assert_eq!(c.client_secret.expose_secret(), "S");
        assert_eq!(c.refresh_token_origin.unwrap().secret_id, "p");
    }

    #[test]
    fn a_client_is_both_id_and_secret() {
        let doc = |text: &str| SecretDocument::parse("s", text).unwrap();
        assert!(doc(r#"{"client_id":"id","client_secret":"S"}"#).has_client());
        assert!(!doc(r#"{"client_id":"id"}"#).has_client());
        assert!(!doc(r#"{"client_secret":"S"}"#).has_client());
        assert!(!doc(r#"{"refresh_token":"Atzr|R"}"#).has_client());
        // An app secret without its client secret completes nothing: the
        // profile's error names what is missing.
        let app = doc(r#"{"client_id":"id"}"#);
        let e = doc(r#"{"refresh_token":"Atzr|R"}"#)
            .into_credentials(Some(&app))
            .unwrap_err();
        assert!(
            e.to_string().contains("`client_id` and `client_secret`"),
            "{e}"
        );
        // A profile with half a client does not borrow the app's other half.
        let full = doc(r#"{"client_id":"id","client_secret":"S"}"#);
        let e = doc(r#"{"client_id":"mine","refresh_token":"Atzr|R"}"#)
            .into_credentials(Some(&full))
            .unwrap_err();
        assert!(
            e.to_string().contains("field `client_secret` is missing"),
            "{e}"
        );
    }

    #[test]
    fn rotation_keeps_key_names_and_other_fields() {
        let c = ok(
            r#"{"LWA_APP_ID":"id","LWA_CLIENT_SECRET":"S","SP_API_REFRESH_TOKEN":"Atzr|old","note":"x"}"#,
        );
        let doc = c
            .refresh_token_origin
            .unwrap()
            .rotated_document(&RefreshToken::new("Atzr|new"));
        let v: Value = serde_json::from_str(doc.expose_secret()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"LWA_APP_ID":"id","LWA_CLIENT_SECRET":"S","SP_API_REFRESH_TOKEN":"Atzr|new","note":"x"})
        );
    }

    #[test]
    fn rotation_updates_every_alias_and_keeps_numbers() {
        let c = ok(
            r#"{"refresh_token":"Atzr|old","SP_API_REFRESH_TOKEN":"Atzr|old","client_id":"id","client_secret":"S","merchant":123456789012345678901234567890}"#,
        );
        let doc = c
            .refresh_token_origin
            .unwrap()
            .rotated_document(&RefreshToken::new("Atzr|new"));
        let text = doc.expose_secret();
        assert!(text.contains("123456789012345678901234567890"), "{text}");
        let again = ok(text);
        assert_eq!(refresh(&again), "Atzr|new");
    }

    #[test]
    fn bom_and_key_case() {
        let c = ok(
            "\u{feff}{\"client_id\":\"id\",\"client_secret\":\"S\",\"refresh_token\":\"Atzr|R\"}",
        );
        assert_eq!(c.client_id, "id");
        let m = bad(r#"{"Client_Id":"id","client_secret":"S","refresh_token":"Atzr|R"}"#);
        assert!(m.contains("Client_Id") && m.contains("client_id"), "{m}");
        // Next to the real key it is refused whatever its value (the
        // writers update the real key only; the two would then disagree).
        for doc in [
            r#"{"client_id":"id","Client_Id":"id","client_secret":"S","refresh_token":"Atzr|R"}"#,
            r#"{"client_id":"id","client_secret":"OLD","Client_Secret":"NEW","refresh_token":"Atzr|R"}"#,
            "{\"client_id\":\"id\",\"client_secret\":\"S\",\"client_secret\\u200b\":\"OTHER\",\"refresh_token\":\"Atzr|R\"}",
            r#"{"client_id":"id","client_secret":"S","refresh_token":"Atzr|R","refresh_token ":"Atzr|OTHER"}"#,
        ] {
            let m = bad(doc);
            assert!(m.contains("name the same field"), "{doc}: {m}");
            assert!(!m.contains("OLD") && !m.contains("OTHER"), "{m}");
        }
        // Alone, it is named with the key to rename it to.
        let m = bad(
            "{\"client_id\":\"id\",\"client_secret\\u200b\":\"S\",\"refresh_token\":\"Atzr|R\"}",
        );
        assert!(m.contains("rename it to `client_secret`"), "{m}");
    }

    #[test]
    fn debug_redacts() {
        let c = ok(r#"{"client_id":"id","client_secret":"MARKER","refresh_token":"Atzr|MARKER"}"#);
        let shown = format!("{c:?}");
        assert!(!shown.contains("MARKER"), "{shown}");
    }

    #[test]
    fn labels_and_the_grant_fingerprint() {
        let doc = SecretDocument::parse(
            "s",
            r#"{"refresh_token":"abc","selling_partner_id":"A1B2C3","region":"eu","note":"a b","n":5}"#,
        )
        .unwrap();
        assert_eq!(doc.grant_fingerprint().as_deref(), Some("ba7816bf"));
        assert_eq!(doc.label("selling_partner_id").as_deref(), Some("A1B2C3"));
        assert_eq!(doc.label("region").as_deref(), Some("eu"));
        for none in ["note", "n", "missing", "refresh_token", "Refresh_Token"] {
            assert_eq!(doc.label(none), None, "{none}");
        }
        let grantless = SecretDocument::parse("s", r#"{"scope":"abc"}"#).unwrap();
        assert_eq!(grantless.grant_fingerprint().as_deref(), Some("ba7816bf"));
        let app = SecretDocument::parse("s", r#"{"client_id":"x","client_secret":"y"}"#).unwrap();
        assert_eq!(app.grant_fingerprint(), None);
    }
}
