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

/// Which profiles the refresher serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefresherTarget {
    /// `LWA_CREDENTIALS_SECRET_ID` + `TOKEN_PARAMETER_NAME`: one profile.
    Single {
        /// Secrets Manager secret name or ARN.
        secret_id: String,
        /// SSM parameter name.
        parameter_name: String,
    },
    /// `LWA_SECRET_PREFIX` + `TOKEN_PARAMETER_PREFIX`: every secret whose
    /// name starts with the prefix is a profile.
    Fleet(FleetConfig),
}

/// Fleet-mode settings of `token-refresher`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// `LWA_SECRET_PREFIX`: secret-name prefix; the rest of a name is the profile name.
    pub secret_prefix: String,
    /// `TOKEN_PARAMETER_PREFIX`: a profile's token lives at this prefix + its name.
    pub parameter_prefix: String,
    /// `LWA_APP_SECRET_ID`: the app's `client_id` and `client_secret`, for
    /// profiles whose secret holds only a refresh token or a scope.
    pub app_secret_id: Option<String>,
    /// `REFRESH_CONCURRENCY` (default 8): profiles refreshed at once.
    pub concurrency: usize,
    /// `SSM_WRITE_TPS` (default 3, PutParameter's default quota): the pace of
    /// writes, per second; 0 = unpaced.
    pub write_tps: u32,
    /// `REFRESH_SPREAD_SECONDS` (default 600: the schedule interval; 0 = off):
    /// the fleet is split into (3600 − margin) / this phases that refresh in
    /// different runs (see `fleet::effective_margin`), so a fleet refreshed
    /// together does not come due together again.
    pub spread: Duration,
}

/// Settings of `token-refresher`.
#[derive(Debug, Clone)]
pub struct RefresherConfig {
    /// One profile or a fleet.
    pub target: RefresherTarget,
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

/// Which tokens the reader serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderTarget {
    /// `TOKEN_PARAMETER_NAME`: one parameter.
    Single(String),
    /// `TOKEN_PARAMETER_PREFIX`: prefix + the caller's `profile`.
    Fleet(String),
}

/// Settings of `token-reader`.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// One parameter or a fleet prefix.
    pub target: ReaderTarget,
    /// `TOKEN_CACHE_SECONDS` (default 60 s): how long a warm reader serves
    /// the token from memory before reading SSM again.
    pub cache_ttl: Duration,
    /// `MIN_VALIDITY_SECONDS` (default 300 s): never return a token with
    /// less than this to live.
    pub min_validity: Duration,
}

/// Every variable either function reads (checked for valid UTF-8).
const VARIABLES: &[&str] = &[
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
];

/// Marks a variable whose value is not UTF-8.
const NOT_UNICODE: &str = "\u{0}not-unicode";

fn process_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => Some(NOT_UNICODE.to_owned()),
    }
}

impl RefresherConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        env.check_unicode()?;
        let single = env.get("LWA_CREDENTIALS_SECRET_ID").is_some()
            || env.get("TOKEN_PARAMETER_NAME").is_some();
        let fleet =
            env.get("LWA_SECRET_PREFIX").is_some() || env.get("TOKEN_PARAMETER_PREFIX").is_some();
        let target = if fleet && !single {
            RefresherTarget::Fleet(fleet_config(&env)?)
        } else {
            if fleet {
                let var = if env.get("LWA_SECRET_PREFIX").is_some() {
                    "LWA_SECRET_PREFIX"
                } else {
                    "TOKEN_PARAMETER_PREFIX"
                };
                return Err(config_err(
                    var,
                    "is set together with LWA_CREDENTIALS_SECRET_ID / TOKEN_PARAMETER_NAME; set either the single-profile \
                     pair or the fleet prefixes (LWA_SECRET_PREFIX and TOKEN_PARAMETER_PREFIX), not both",
                ));
            }
            let secret_id = env.required(
                "LWA_CREDENTIALS_SECRET_ID",
                "a Secrets Manager secret name or ARN holding the LWA credentials JSON \
                 (or, for fleet mode, LWA_SECRET_PREFIX and TOKEN_PARAMETER_PREFIX)",
            )?;
            RefresherTarget::Single {
                parameter_name: parameter_name(&env)?,
                secret_id,
            }
        };
        let token_url = token_url(
            env.get("LWA_TOKEN_URL")
                .as_deref()
                .unwrap_or(DEFAULT_TOKEN_URL),
        )?;
        let kms_key_id = env.get("TOKEN_KMS_KEY_ID");
        let margin = env.integer("REFRESH_MARGIN_SECONDS", 1800, 0, 3599, |v| {
            (v >= 3600).then(|| {
                format!(
                    "{v} is at or above the access token's lifetime (3600 s today), so every run would refresh; \
                     expected whole seconds below 3600, e.g. 1800"
                )
            })
        })?;
        let mut warnings = Vec::new();
        if margin < 900 {
            warnings.push(format!(
                "REFRESH_MARGIN_SECONDS={margin}: with a 10-minute schedule and consumers caching the \
                 token for up to 5 minutes, a margin under 900 s can let a token lapse; 1800 is the default"
            ));
        }
        if margin > 3000 {
            warnings.push(format!(
                "REFRESH_MARGIN_SECONDS={margin}: a 3600 s token has at most 3000 s left at the next run of a \
                 10-minute schedule, so every run will call LWA; 1800 is the default"
            ));
        }
        let timeout_ms = env.integer("LWA_TIMEOUT_MS", 10_000, 100, 60_000, |_| None)?;
        let attempts = env.integer("LWA_MAX_ATTEMPTS", 3, 1, 10, |_| None)?;
        Ok(Self {
            target,
            token_url,
            kms_key_id,
            refresh_margin: Duration::from_secs(margin),
            lwa_timeout: Duration::from_millis(timeout_ms),
            lwa_max_attempts: attempts as u32,
            warnings,
        })
    }
}

fn fleet_config<F: Fn(&str) -> Option<String>>(
    env: &Env<'_, F>,
) -> Result<FleetConfig, ConfigError> {
    let secret_prefix = env.required(
        "LWA_SECRET_PREFIX",
        "the secret-name prefix of the fleet's profiles, e.g. spapi/lwa/sellers/ (fleet mode needs it with TOKEN_PARAMETER_PREFIX)",
    )?;
    let parameter_prefix = parameter_prefix(env)?;
    Ok(FleetConfig {
        secret_prefix,
        parameter_prefix,
        app_secret_id: env.get("LWA_APP_SECRET_ID"),
        concurrency: env.integer("REFRESH_CONCURRENCY", 8, 1, 64, |_| None)? as usize,
        write_tps: env.integer("SSM_WRITE_TPS", 3, 0, 1000, |_| None)? as u32,
        spread: Duration::from_secs(env.integer("REFRESH_SPREAD_SECONDS", 600, 0, 3000, |_| None)?),
    })
}

impl ReaderConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        env.check_unicode()?;
        let target = match (env.get("TOKEN_PARAMETER_NAME"), env.get("TOKEN_PARAMETER_PREFIX")) {
            (Some(_), Some(_)) => {
                return Err(config_err(
                    "TOKEN_PARAMETER_PREFIX",
                    "is set together with TOKEN_PARAMETER_NAME; set TOKEN_PARAMETER_NAME for one token or \
                     TOKEN_PARAMETER_PREFIX for a fleet, not both",
                ))
            }
            (None, Some(_)) => ReaderTarget::Fleet(parameter_prefix(&env)?),
            _ => ReaderTarget::Single(parameter_name(&env)?),
        };
        let cache = env.integer("TOKEN_CACHE_SECONDS", 60, 0, 3600, |_| None)?;
        let floor = env.integer("MIN_VALIDITY_SECONDS", 300, 0, 3000, |_| None)?;
        Ok(Self {
            target,
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

    fn check_unicode(&self) -> Result<(), ConfigError> {
        for name in VARIABLES {
            if (self.0)(name).as_deref() == Some(NOT_UNICODE) {
                return Err(config_err(name, "is not valid UTF-8; set it to plain text"));
            }
        }
        Ok(())
    }

    fn required(&self, name: &'static str, expected: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| config_err(name, format!("is not set; expected {expected}")))
    }

    /// A whole number in `min..=max`; `explain` may give a better message
    /// for an out-of-range value.
    fn integer(
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
fn shown(raw: &str) -> String {
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

/// `TOKEN_PARAMETER_NAME`, checked against SSM's naming rules
/// (<https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html>).
fn parameter_name<F: Fn(&str) -> Option<String>>(env: &Env<'_, F>) -> Result<String, ConfigError> {
    let name = env.required(
        "TOKEN_PARAMETER_NAME",
        "an SSM parameter name such as /spapi/lwa/access-token \
         (or TOKEN_PARAMETER_PREFIX for fleet mode)",
    )?;
    check_parameter_name(&name).map_err(|p| config_err("TOKEN_PARAMETER_NAME", p))?;
    Ok(name)
}

/// `TOKEN_PARAMETER_PREFIX`: a hierarchy that a profile name completes, e.g.
/// `/spapi/lwa/sellers/`.
fn parameter_prefix<F: Fn(&str) -> Option<String>>(
    env: &Env<'_, F>,
) -> Result<String, ConfigError> {
    const VAR: &str = "TOKEN_PARAMETER_PREFIX";
    let prefix = env.required(
        VAR,
        "an SSM parameter path prefix such as /spapi/lwa/sellers/",
    )?;
    if !prefix.starts_with('/') {
        return Err(config_err(
            VAR,
            format!(
                "`{}` must start with /, e.g. /spapi/lwa/sellers/",
                shown(&prefix)
            ),
        ));
    }
    check_parameter_name(&format!("{prefix}profile")).map_err(|p| config_err(VAR, p))?;
    Ok(prefix)
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
/// an SP-API host (a common copy-paste from third-party pages); no
/// credentials, query or fragment. Messages show the URL without userinfo
/// or query, so a secret put there is not echoed.
fn token_url(raw: &str) -> Result<Url, ConfigError> {
    const VAR: &str = "LWA_TOKEN_URL";
    let url = Url::parse(raw)
        .map_err(|_| config_err(VAR, format!("is not a URL; expected {DEFAULT_TOKEN_URL}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_err(
            VAR,
            format!("must not carry credentials (user:password@); they come from the secret. Expected {DEFAULT_TOKEN_URL}"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config_err(
            VAR,
            format!("must not have a query string or fragment; expected {DEFAULT_TOKEN_URL}"),
        ));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let safe = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    );
    if host.contains("sellingpartnerapi") {
        return Err(config_err(
            VAR,
            format!(
                "`{}` is an SP-API host; LWA tokens come from {DEFAULT_TOKEN_URL} for every region and the sandbox",
                shown(&safe)
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
                    "`{}` uses plain http, which would send the client secret unencrypted; expected https \
                     ({DEFAULT_TOKEN_URL}); http is accepted only for a loopback host in local runs",
                    shown(&safe)
                ),
            ))
        }
        other => {
            return Err(config_err(
                VAR,
                format!("scheme `{}` is not supported; expected https ({DEFAULT_TOKEN_URL})", shown(other)),
            ))
        }
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
                .starts_with("REFRESH_MARGIN_SECONDS: `30m` is not a whole number"),
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

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn messages_never_echo_url_secrets_and_stay_one_line() {
        for url in [
            "http://id:amzn1.oa2-cs.v1.PLANTED@api.amazon.com/auth/o2/token",
            "https://id:amzn1.oa2-cs.v1.PLANTED@sellingpartnerapi-na.amazon.com/auth/o2/token",
            "https://api.amazon.com/auth/o2/token?client_secret=PLANTED",
            "https://sandbox.sellingpartnerapi-na.amazon.com/auth/o2/token?x=PLANTED",
            "not a url PLANTED\nsecond line",
        ] {
            let e = refresher(&[("LWA_TOKEN_URL", Some(url))]).unwrap_err();
            let m = e.to_string();
            assert!(!m.contains("PLANTED") && !m.contains('\n'), "{url}: {m}");
        }
        let e = refresher(&[(
            "LWA_TOKEN_URL",
            Some("https://sandbox.sellingpartnerapi-na.amazon.com/auth/o2/token"),
        )])
        .unwrap_err();
        assert!(e.to_string().contains(DEFAULT_TOKEN_URL), "{e}");
        let e = refresher(&[("LWA_MAX_ATTEMPTS", Some("99999999999999999999"))]).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = refresher(&[("LWA_MAX_ATTEMPTS", Some("3\nx"))]).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
        let e = refresher(&[("LWA_TIMEOUT_MS", Some(NOT_UNICODE))]).unwrap_err();
        assert_eq!(e.variable, "LWA_TIMEOUT_MS");
        assert!(e.to_string().contains("UTF-8"));
        assert_eq!(
            refresher(&[("REFRESH_MARGIN_SECONDS", Some("3300"))])
                .unwrap()
                .warnings
                .len(),
            1
        );
    }

    #[test]
    fn fleet_mode() {
        let c = RefresherConfig::from_lookup(lookup(&[
            ("LWA_SECRET_PREFIX", "spapi/lwa/sellers/"),
            ("TOKEN_PARAMETER_PREFIX", "/spapi/lwa/sellers/"),
            ("LWA_APP_SECRET_ID", "spapi/lwa/app"),
            ("SSM_WRITE_TPS", "0"),
        ]))
        .unwrap();
        match c.target {
            RefresherTarget::Fleet(f) => {
                assert_eq!(f.secret_prefix, "spapi/lwa/sellers/");
                assert_eq!(f.parameter_prefix, "/spapi/lwa/sellers/");
                assert_eq!(f.app_secret_id.as_deref(), Some("spapi/lwa/app"));
                assert_eq!(
                    (f.concurrency, f.write_tps, f.spread.as_secs()),
                    (8, 0, 600)
                );
            }
            other => panic!("{other:?}"),
        }
        let e =
            RefresherConfig::from_lookup(lookup(&[("LWA_SECRET_PREFIX", "spapi/")])).unwrap_err();
        assert_eq!(e.variable, "TOKEN_PARAMETER_PREFIX");
        let e = RefresherConfig::from_lookup(lookup(&[
            ("LWA_SECRET_PREFIX", "spapi/"),
            ("TOKEN_PARAMETER_PREFIX", "/spapi/"),
            ("LWA_CREDENTIALS_SECRET_ID", "x"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
        let e = RefresherConfig::from_lookup(lookup(&[
            ("LWA_SECRET_PREFIX", "spapi/"),
            ("TOKEN_PARAMETER_PREFIX", "spapi/"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "TOKEN_PARAMETER_PREFIX");
        let r =
            ReaderConfig::from_lookup(lookup(&[("TOKEN_PARAMETER_PREFIX", "/spapi/lwa/sellers/")]))
                .unwrap();
        assert_eq!(r.target, ReaderTarget::Fleet("/spapi/lwa/sellers/".into()));
        let e = ReaderConfig::from_lookup(lookup(&[
            ("TOKEN_PARAMETER_PREFIX", "/a/"),
            ("TOKEN_PARAMETER_NAME", "/a/b"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("not both"));
        let e = ReaderConfig::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(e.variable, "TOKEN_PARAMETER_NAME");
    }
}
