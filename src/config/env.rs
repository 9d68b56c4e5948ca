//! Reading variables: trimmed, empty as unset, checked for UTF-8, numbers
//! in range; values shown in messages escaped and short.

use super::{config_err, ConfigError};

/// Every variable either function reads (checked for valid UTF-8).
pub(super) const VARIABLES: &[&str] = &[
    "LWA_CREDENTIALS_SECRET_ID",
    "TOKEN_PARAMETER_NAME",
    "LWA_TOKEN_URL",
    "TOKEN_KMS_KEY_ID",
    "REFRESH_MARGIN_SECONDS",
    "LWA_TIMEOUT_MS",
    "LWA_MAX_ATTEMPTS",
    "TOKEN_CACHE_SECONDS",
    "MIN_VALIDITY_SECONDS",
    "LWA_SECRET_PREFIX",
    "TOKEN_PARAMETER_PREFIX",
    "LWA_APP_SECRET_ID",
    "REFRESH_CONCURRENCY",
    "SSM_WRITE_TPS",
    "REFRESH_SPREAD_SECONDS",
    "EVENT_BUS_NAME",
    "LWA_TOKEN_URL_ALLOW_ANY_HOST",
];

/// Marks a variable whose value is not UTF-8.
pub(super) const NOT_UNICODE: &str = "\u{0}not-unicode";

pub(super) fn process_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => Some(NOT_UNICODE.to_owned()),
    }
}

pub(super) struct Env<'a, F: Fn(&str) -> Option<String>>(pub(super) &'a F);

impl<F: Fn(&str) -> Option<String>> Env<'_, F> {
    /// The trimmed value; empty counts as unset.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn check_unicode(&self) -> Result<(), ConfigError> {
        for name in VARIABLES {
            if (self.0)(name).as_deref() == Some(NOT_UNICODE) {
                return Err(config_err(name, "is not valid UTF-8; set it to plain text"));
            }
        }
        Ok(())
    }

    pub(super) fn required(
        &self,
        name: &'static str,
        expected: &str,
    ) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| config_err(name, format!("is not set; expected {expected}")))
    }

    /// A whole number in `min..=max`; `explain` may give a better message
    /// for an out-of-range value.
    pub(super) fn integer(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
        explain: impl Fn(u64) -> Option<String>,
    ) -> Result<u64, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let range = format!("a whole number from {min} to {max} (default {default})");
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(config_err(
                name,
                format!("`{}` is not a whole number; expected {range}", shown(&raw)),
            ));
        }
        let value = raw.parse::<u64>().ok().filter(|v| (min..=max).contains(v));
        match value {
            Some(v) => Ok(v),
            None => {
                let parsed = raw.parse::<u64>().unwrap_or(u64::MAX);
                Err(config_err(
                    name,
                    explain(parsed).unwrap_or_else(|| {
                        format!("{} is out of range; expected {range}", shown(&raw))
                    }),
                ))
            }
        }
    }
}

/// A value as shown in a message: one line, at most 100 characters.
pub(crate) fn shown(raw: &str) -> String {
    let escaped = raw.escape_default().to_string();
    if escaped.len() > 100 {
        let mut end = 100;
        while !escaped.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &escaped[..end])
    } else {
        escaped
    }
}
