//! Configuration, read once at cold start from the environment. Every default
//! and every check lives here; a bad value stops the cold start with one line
//! naming the variable and what is expected.
//!
//! See the README's configuration table (and `CONTRACT.md`) for the variables.

use reqwest::Url;
use std::net::IpAddr;
use std::time::Duration;

/// The LWA token endpoint, the same for every SP-API region and the sandbox
/// (<https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api>).
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";

/// A configuration value is missing or invalid. Display is the one line the
/// operator sees: the variable, the value's problem and what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong and what is expected.
    pub problem: String,
}

fn config_err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// Settings of `token-refresher`.
#[derive(Debug, Clone)]
pub struct RefresherConfig {
    /// `LWA_CREDENTIALS_SECRET_ID`: Secrets Manager secret name or ARN.
    pub secret_id: String,
    /// `TOKEN_PARAMETER_NAME`: SSM parameter name.
    pub parameter_name: String,
    /// `LWA_TOKEN_URL`: the LWA token endpoint.
    pub token_url: Url,
    /// `TOKEN_KMS_KEY_ID`: KMS key for the SecureString; `None` = `alias/aws/ssm`.
    pub kms_key_id: Option<String>,
    /// `REFRESH_MARGIN_SECONDS` (default 1800 s): refresh when the stored
    /// token has this long or less to live.
    pub refresh_margin: Duration,
    /// `LWA_TIMEOUT_MS` (default 10 000 ms): per-attempt timeout of a token request.
    pub lwa_timeout: Duration,
    /// `LWA_MAX_ATTEMPTS` (default 3): attempts for retryable failures.
    pub lwa_max_attempts: u32,
    /// Non-fatal remarks to log once at cold start (e.g. a risky margin).
    pub warnings: Vec<String>,
}

/// Settings of `token-reader`.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// `TOKEN_PARAMETER_NAME`: SSM parameter name.
    pub parameter_name: String,
    /// `TOKEN_CACHE_SECONDS` (default 60 s): how long a warm reader serves
    /// the token from memory before reading SSM again.
    pub cache_ttl: Duration,
    /// `MIN_VALIDITY_SECONDS` (default 300 s): never return a token with
    /// less than this to live.
    pub min_validity: Duration,
}

impl RefresherConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let parameter_name = parameter_name(&env)?;
        let secret_id = env.required(
            "LWA_CREDENTIALS_SECRET_ID",
            "a Secrets Manager secret name or ARN holding the LWA credentials JSON",
        )?;
        let token_url = token_url(
            env.get("LWA_TOKEN_URL")
                .as_deref()
                .unwrap_or(DEFAULT_TOKEN_URL),
        )?;
        let kms_key_id = env.get("TOKEN_KMS_KEY_ID");
        let margin = env.integer("REFRESH_MARGIN_SECONDS", 1800, 0, u64::MAX)?;
        if margin >= 3600 {
            return Err(config_err(
                "REFRESH_MARGIN_SECONDS",
                format!(
                    "{margin} is at or above the access token's lifetime (3600 s today), so every run would \
                     refresh; expected whole seconds below 3600, e.g. 1800"
                ),
            ));
        }
        let mut warnings = Vec::new();
        if margin < 900 {
            warnings.push(format!(
                "REFRESH_MARGIN_SECONDS={margin}: with a 10-minute schedule and consumers caching the \
                 token for up to 5 minutes, a margin under 900 s can let a token lapse; 1800 is the default"
            ));
        }
        let timeout_ms = env.integer("LWA_TIMEOUT_MS", 10_000, 100, 60_000)?;
        let attempts = env.integer("LWA_MAX_ATTEMPTS", 3, 1, 10)?;
        Ok(Self {
            secret_id,
            parameter_name,
            token_url,
            kms_key_id,
            refresh_margin: Duration::from_secs(margin),
            lwa_timeout: Duration::from_millis(timeout_ms),
            lwa_max_attempts: attempts as u32,
            warnings,
        })
    }
}

impl ReaderConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let parameter_name = parameter_name(&env)?;
        let cache = env.integer("TOKEN_CACHE_SECONDS", 60, 0, 3600)?;
        let floor = env.integer("MIN_VALIDITY_SECONDS", 300, 0, 3000)?;
        Ok(Self {
            parameter_name,
            cache_ttl: Duration::from_secs(cache),
            min_validity: Duration::from_secs(floor),
        })
    }
}

struct Env<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Env<'_, F> {
    /// The trimmed value; empty counts as unset.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str, expected: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| config_err(name, format!("is not set; expected {expected}")))
    }

    fn integer(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let range = if max == u64::MAX {
            format!("a whole number of at least {min}")
        } else {
            format!("a whole number from {min} to {max}")
        };
        let value: u64 = raw.parse().map_err(|_| {
            config_err(
                name,
                format!("`{raw}` is not a number; expected {range} (default {default})"),
            )
        })?;
        if value < min || value > max {
            return Err(config_err(
                name,
                format!("{value} is out of range; expected {range} (default {default})"),
            ));
        }
        Ok(value)
    }
}

/// `TOKEN_PARAMETER_NAME`, checked against SSM's naming rules
/// (<https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html>).
fn parameter_name<F: Fn(&str) -> Option<String>>(env: &Env<'_, F>) -> Result<String, ConfigError> {
    let name = env.required(
        "TOKEN_PARAMETER_NAME",
        "an SSM parameter name such as /spapi/lwa/access-token",
    )?;
    check_parameter_name(&name).map_err(|p| config_err("TOKEN_PARAMETER_NAME", p))?;
    Ok(name)
}

/// Checks an SSM parameter name: letters, digits, `_ . - /`, at most 1011
/// characters, at most 15 levels, no `//`, not starting with `aws` or `ssm`.
pub fn check_parameter_name(name: &str) -> Result<(), String> {
    let expected = "expected an SSM parameter name of letters, digits and _ . - / such as /spapi/lwa/access-token";
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(format!(
            "`{}` contains {c:?}; {expected}",
            name.escape_default()
        ));
    }
    if name.len() > 1011 {
        return Err(format!(
            "is {} characters long; at most 1011 are allowed",
            name.len()
        ));
    }
    if name.contains("//") || (name.len() > 1 && name.ends_with('/')) || name == "/" {
        return Err(format!("`{name}` has an empty path segment; {expected}"));
    }
    if name.split('/').filter(|s| !s.is_empty()).count() > 15 {
        return Err(format!("`{name}` has more than 15 levels; SSM allows 15"));
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(format!(
            "`{name}` starts with aws or ssm, which SSM reserves; {expected}"
        ));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(format!(
            "`{name}` is a hierarchy and must start with /; {expected}"
        ));
    }
    Ok(())
}

/// `LWA_TOKEN_URL`: `https://`, or `http://` for a loopback host only; never
/// the SP-API host (a common copy-paste from third-party pages).
fn token_url(raw: &str) -> Result<Url, ConfigError> {
    const VAR: &str = "LWA_TOKEN_URL";
    let url = Url::parse(raw).map_err(|_| {
        config_err(
            VAR,
            format!("`{raw}` is not a URL; expected {DEFAULT_TOKEN_URL}"),
        )
    })?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if host.starts_with("sellingpartnerapi") {
        return Err(config_err(
            VAR,
            format!(
                "`{raw}` is an SP-API host; LWA tokens come from {DEFAULT_TOKEN_URL} for every region and the sandbox"
            ),
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(config_err(
                VAR,
                format!(
                    "`{raw}` uses plain http, which would send the client secret unencrypted; expected https \
                     ({DEFAULT_TOKEN_URL}); http is accepted only for a loopback host in local runs"
                ),
            ))
        }
        other => {
            return Err(config_err(
                VAR,
                format!("scheme `{other}` is not supported; expected https ({DEFAULT_TOKEN_URL})"),
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_err(
            VAR,
            "must not carry credentials in the URL; they come from the secret",
        ));
    }
    Ok(url)
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn refresher(pairs: &[(&str, Option<&str>)]) -> Result<RefresherConfig, ConfigError> {
        let mut env: HashMap<String, String> = [
            ("LWA_CREDENTIALS_SECRET_ID", "spapi/lwa"),
            ("TOKEN_PARAMETER_NAME", "/spapi/lwa/access-token"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            match v {
                Some(v) => env.insert((*k).to_owned(), (*v).to_owned()),
                None => env.remove(*k),
            };
        }
        RefresherConfig::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = refresher(&[]).unwrap();
        assert_eq!(c.token_url.as_str(), DEFAULT_TOKEN_URL);
        assert_eq!(c.refresh_margin, Duration::from_secs(1800));
        assert_eq!(c.lwa_timeout, Duration::from_millis(10_000));
        assert_eq!(c.lwa_max_attempts, 3);
        assert!(c.kms_key_id.is_none());
        assert!(c.warnings.is_empty());
        let r =
            ReaderConfig::from_lookup(|k| (k == "TOKEN_PARAMETER_NAME").then(|| "/p".to_owned()))
                .unwrap();
        assert_eq!(r.cache_ttl, Duration::from_secs(60));
        assert_eq!(r.min_validity, Duration::from_secs(300));
    }

    #[test]
    fn token_url_rules() {
        let e = refresher(&[(
            "LWA_TOKEN_URL",
            Some("https://sellingpartnerapi-na.amazon.com/auth/o2/token"),
        )])
        .unwrap_err();
        assert_eq!(e.variable, "LWA_TOKEN_URL");
        assert!(
            e.to_string()
                .contains("https://api.amazon.com/auth/o2/token"),
            "{e}"
        );
        let e = refresher(&[("LWA_TOKEN_URL", Some("http://api.amazon.com/auth/o2/token"))])
            .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
        for ok in [
            "http://127.0.0.1:9001/auth/o2/token",
            "http://localhost/x",
            "http://[::1]:80/t",
            "https://api.amazon.co.uk/auth/o2/token",
        ] {
            refresher(&[("LWA_TOKEN_URL", Some(ok))]).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert!(refresher(&[("LWA_TOKEN_URL", Some("not a url"))]).is_err());
        assert!(refresher(&[("LWA_TOKEN_URL", Some("ftp://api.amazon.com/x"))]).is_err());
    }

    #[test]
    fn numbers_are_checked_and_named() {
        let e = refresher(&[("REFRESH_MARGIN_SECONDS", Some("30m"))]).unwrap_err();
        assert_eq!(e.variable, "REFRESH_MARGIN_SECONDS");
        assert!(
            e.to_string()
                .starts_with("REFRESH_MARGIN_SECONDS: `30m` is not a number"),
            "{e}"
        );
        let e = refresher(&[("REFRESH_MARGIN_SECONDS", Some("7200"))]).unwrap_err();
        assert!(e.to_string().contains("every run"), "{e}");
        let c = refresher(&[("REFRESH_MARGIN_SECONDS", Some("300"))]).unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(
            refresher(&[("LWA_TIMEOUT_MS", Some("0"))])
                .unwrap_err()
                .variable,
            "LWA_TIMEOUT_MS"
        );
        assert_eq!(
            refresher(&[("LWA_MAX_ATTEMPTS", Some("-1"))])
                .unwrap_err()
                .variable,
            "LWA_MAX_ATTEMPTS"
        );
        assert_eq!(
            refresher(&[("LWA_MAX_ATTEMPTS", Some(" 5 "))])
                .unwrap()
                .lwa_max_attempts,
            5
        );
    }

    #[test]
    fn required_values() {
        let e = refresher(&[("TOKEN_PARAMETER_NAME", None)]).unwrap_err();
        assert_eq!(e.variable, "TOKEN_PARAMETER_NAME");
        assert!(
            e.to_string()
                .starts_with("TOKEN_PARAMETER_NAME: is not set"),
            "{e}"
        );
        let e = refresher(&[("LWA_CREDENTIALS_SECRET_ID", Some("  "))]).unwrap_err();
        assert_eq!(e.variable, "LWA_CREDENTIALS_SECRET_ID");
        assert!(refresher(&[("TOKEN_KMS_KEY_ID", Some(""))])
            .unwrap()
            .kms_key_id
            .is_none());
    }

    #[test]
    fn parameter_names() {
        for ok in ["/spapi/lwa/access-token", "token", "/a.b_c-d/e"] {
            check_parameter_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "/a//b", "/aws/x", "ssm-x", "/a b", "/a/", "a/b", "/a\n", "/",
        ] {
            assert!(check_parameter_name(bad).is_err(), "{bad}");
        }
    }
}
