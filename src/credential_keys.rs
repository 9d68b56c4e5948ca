//! The key names of a credentials secret (CONTRACT.md, "Secret format": the
//! canonical names and the aliases existing secrets use) and the checks on
//! them: a credential key given twice, or a near miss of one (another case,
//! spaces or invisible characters in it), is refused before any value is
//! read, because it is ambiguous which value was meant, and because writers
//! update the exact key only.

/// Accepted key names per field, in order of preference. The first of each
/// list is the canonical name.
pub(crate) const CLIENT_ID_KEYS: &[&str] = &[
    "client_id",
    "lwa_app_id",
    "LWA_APP_ID",
    "AppClientId",
    "clientId",
];
/// See [`CLIENT_ID_KEYS`].
pub(crate) const CLIENT_SECRET_KEYS: &[&str] = &[
    "client_secret",
    "lwa_client_secret",
    "LWA_CLIENT_SECRET",
    "AppClientSecret",
    "clientSecret",
];
/// See [`CLIENT_ID_KEYS`].
pub(crate) const REFRESH_TOKEN_KEYS: &[&str] = &[
    "refresh_token",
    "sp_api_refresh_token",
    "SP_API_REFRESH_TOKEN",
    "refreshToken",
];
/// See [`CLIENT_ID_KEYS`].
pub(crate) const SCOPE_KEYS: &[&str] = &["scope"];

/// Every credential key name, of every field.
pub(crate) fn credential_keys() -> impl Iterator<Item = &'static str> + Clone {
    CLIENT_ID_KEYS
        .iter()
        .chain(CLIENT_SECRET_KEYS)
        .chain(REFRESH_TOKEN_KEYS)
        .chain(SCOPE_KEYS)
        .copied()
}

/// Zero-width and other invisible format characters (U+00AD, U+200B–U+200F,
/// U+2060–U+2064, U+FEFF) that copying from a web page or editor can add.
pub(crate) fn invisible(ch: char) -> bool {
    matches!(ch, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// Checks the key names of a secret's JSON object (`text` is its source,
/// for repeated keys, which a parsed map no longer shows). `Err` is the
/// problem, naming the key and the fix, never a value.
pub(crate) fn check_key_names(
    text: &str,
    map: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    // serde_json keeps the last of a repeated key: refuse the ambiguity.
    for key in crate::json_keys::repeated_keys(text) {
        if credential_keys().any(|k| k == key) {
            return Err(format!("key `{key}` appears more than once; keep one"));
        }
    }
    // A known key in another case, or with invisible characters or spaces
    // in it, is a typo, not an unknown extra field. Next to the real key it
    // is refused too, whatever its value: writers update the real key only,
    // so the two would disagree after the first write.
    for key in map.keys() {
        if credential_keys().any(|k| k == key) {
            continue;
        }
        let bare: String = key
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control() && !invisible(*c))
            .collect();
        let Some(known) = credential_keys().find(|k| k.eq_ignore_ascii_case(&bare)) else {
            continue;
        };
        return Err(if map.contains_key(known) {
            format!(
                "keys `{}` and `{known}` name the same field (they differ only in case, spaces or invisible \
                 characters); key names are exact: keep `{known}` with the right value and remove the other",
                key.escape_default()
            )
        } else {
            format!(
                "key `{}` is not a known key; key names are exact (case, no spaces or invisible characters): \
                 rename it to `{known}`",
                key.escape_default()
            )
        });
    }
    Ok(())
}
