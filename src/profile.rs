//! A profile: one credentials secret and one token parameter. Fleet mode
//! names each profile after its secret (the secret name less
//! `LWA_SECRET_PREFIX`); the name becomes part of the parameter name, so it
//! is checked before any use.

/// One credentials source and one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Profile name in fleet mode; `None` for the single-profile setup.
    pub name: Option<String>,
    /// Secrets Manager secret name or ARN with the credentials.
    pub secret_id: String,
    /// SSM parameter the token goes to.
    pub parameter_name: String,
}

/// Longest profile name accepted.
pub const MAX_PROFILE_NAME: usize = 128;

/// Checks a profile name: 1 to 128 of `A-Z a-z 0-9 _ . -`, starting with a
/// letter or digit, without `..`. Nothing that could reach another parameter
/// path (`/`, `..`, control characters) passes. `Err` says what is wrong.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    let expected =
        "expected 1 to 128 letters, digits, `_`, `.` or `-`, starting with a letter or digit";
    if name.is_empty() || name.len() > MAX_PROFILE_NAME {
        return Err(format!(
            "profile name has {} characters; {expected}",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "profile name `{}` contains {c:?}; {expected}",
            name.escape_default()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || name.contains("..") {
        return Err(format!("profile name `{name}` is not allowed; {expected}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names() {
        for ok in ["seller-1", "ACME_eu.2", "a", "9x", &"x".repeat(128)] {
            check_profile_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "..",
            "a/../b",
            "a/b",
            "a//b",
            ".hidden",
            "-x",
            "_x",
            "a..b",
            "a\nb",
            "a b",
            "é",
            &"x".repeat(129),
        ] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
    }
}
