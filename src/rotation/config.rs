//! The rotator's configuration, read once at cold start (CONTRACT.md,
//! "client-secret-rotator" → Configuration). A bad value stops the cold
//! start with one line naming the variable (`ConfigInvalid`).
//!
//! `LWA_TOKEN_URL`, `LWA_TIMEOUT_MS` and `LWA_MAX_ATTEMPTS` are checked by
//! the refresher's rules (one place for them).

use crate::config::{ConfigError, RefresherConfig};
use reqwest::Url;
use std::net::IpAddr;
use std::time::Duration;

/// The SP-API host for North America, where the rotate call goes by default.
pub const DEFAULT_SPAPI_ENDPOINT: &str = "https://sellingpartnerapi-na.amazon.com";

/// Every variable the rotator reads.
pub const VARIABLES: &[&str] = &[
    "LWA_CREDENTIALS_SECRET_ID",
    "LWA_APP_SECRET_ID",
    "SPAPI_ENDPOINT",
    "ROTATE_BEFORE_DAYS",
    "NOTIFICATION_QUEUE_ARN",
    "LWA_TOKEN_URL",
    "LWA_TIMEOUT_MS",
    "LWA_MAX_ATTEMPTS",
];

/// Typed configuration of `client-secret-rotator`.
#[derive(Debug, Clone)]
pub struct RotatorConfig {
    /// The secret with the app's `client_id` and `client_secret`.
    pub secret_id: String,
    /// SP-API base URL for the rotate call.
    pub spapi_endpoint: Url,
    /// Rotate when the secret expires within this many days (1–150, default 30).
    pub rotate_before_days: u32,
    /// `NOTIFICATION_QUEUE_ARN`.
    pub queue_arn: Option<String>,
    /// LWA token endpoint.
    pub token_url: Url,
    /// Per-attempt timeout (LWA and SP-API).
    pub timeout: Duration,
    /// Attempts for retryable failures (LWA and SP-API).
    pub max_attempts: u32,
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl RotatorConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret_id = match (get("LWA_CREDENTIALS_SECRET_ID"), get("LWA_APP_SECRET_ID")) {
            (Some(id), None) | (None, Some(id)) => id,
            (Some(_), Some(_)) => {
                return Err(err(
                    "LWA_APP_SECRET_ID",
                    "is set together with LWA_CREDENTIALS_SECRET_ID; set exactly one: the secret holding the app's \
                     client_id and client_secret (single mode: the credentials secret; fleet mode: the app secret)",
                ))
            }
            (None, None) => {
                return Err(err(
                    "LWA_CREDENTIALS_SECRET_ID",
                    "is not set; expected the secret holding the app's client_id and client_secret \
                     (or LWA_APP_SECRET_ID in fleet mode)",
                ))
            }
        };
        let days = match get("ROTATE_BEFORE_DAYS") {
            None => 30,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|d| (1..=150).contains(d))
                .ok_or_else(|| {
                    err(
                        "ROTATE_BEFORE_DAYS",
                        format!(
                            "`{}` is not a whole number from 1 to 150 (default 30); secrets live 180 days",
                            raw.escape_default().to_string().chars().take(40).collect::<String>()
                        ),
                    )
                })?,
        };
        let spapi_endpoint = spapi_endpoint(
            get("SPAPI_ENDPOINT")
                .as_deref()
                .unwrap_or(DEFAULT_SPAPI_ENDPOINT),
        )?;
        let queue_arn = get("NOTIFICATION_QUEUE_ARN");
        if let Some(arn) = &queue_arn {
            if !arn.starts_with("arn:") || !arn.contains(":sqs:") {
                return Err(err(
                    "NOTIFICATION_QUEUE_ARN",
                    "must be an SQS queue ARN such as arn:aws:sqs:us-east-1:123456789012:spapi-client-secret",
                ));
            }
        }
        // The LWA settings through the refresher's rules, with its other
        // required values satisfied (they are not the rotator's).
        let lwa = RefresherConfig::from_lookup(|name| match name {
            "LWA_TOKEN_URL" | "LWA_TIMEOUT_MS" | "LWA_MAX_ATTEMPTS" => get(name),
            "LWA_CREDENTIALS_SECRET_ID" => Some("unused".to_owned()),
            "TOKEN_PARAMETER_NAME" => Some("/unused".to_owned()),
            _ => None,
        })?;
        Ok(Self {
            secret_id,
            spapi_endpoint,
            rotate_before_days: days,
            queue_arn,
            token_url: lwa.token_url,
            timeout: lwa.lwa_timeout,
            max_attempts: lwa.lwa_max_attempts,
        })
    }
}

/// The SP-API regional hosts (North America, Europe, Far East), each also
/// with `sandbox.` in front ("SP-API endpoints",
/// <https://developer-docs.amazon.com/sp-api/docs/sp-api-endpoints>).
pub const SPAPI_HOSTS: &[&str] = &[
    "sellingpartnerapi-na.amazon.com",
    "sellingpartnerapi-eu.amazon.com",
    "sellingpartnerapi-fe.amazon.com",
];

/// `SPAPI_ENDPOINT`: `https://` on an SP-API host ([`SPAPI_HOSTS`], or its
/// sandbox), or a loopback host (`http://` only there, for local runs); no
/// credentials, query or fragment. The rotate call carries a token that can
/// rotate the app's client secret, so it goes nowhere else.
fn spapi_endpoint(raw: &str) -> Result<Url, ConfigError> {
    const VAR: &str = "SPAPI_ENDPOINT";
    let expected = format!("expected an SP-API endpoint such as {DEFAULT_SPAPI_ENDPOINT}");
    let url = Url::parse(raw).map_err(|_| err(VAR, format!("is not a URL; {expected}")))?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(err(
            VAR,
            format!("must not carry credentials, a query or a fragment; {expected}"),
        ));
    }
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let lower = host.to_ascii_lowercase();
    let regional = lower.trim_end_matches('.');
    let spapi_host = SPAPI_HOSTS
        .iter()
        .any(|h| regional == *h || regional.strip_prefix("sandbox.") == Some(*h));
    match url.scheme() {
        "https" if spapi_host || loopback => Ok(url),
        "https" => Err(err(
            VAR,
            format!(
                "`{}` is not an SP-API host ({}, or sandbox. in front); the rotate call's token can rotate \
                 the app's client secret, so it is sent nowhere else. {expected}",
                crate::config::env::shown(host),
                SPAPI_HOSTS.join(", ")
            ),
        )),
        "http" if loopback => Ok(url),
        _ => Err(err(
            VAR,
            format!("must use https (http only for a loopback host in local runs); {expected}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<RotatorConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RotatorConfig::from_lookup(|n| map.get(n).cloned())
    }

    #[test]
    fn defaults() {
        let c = config(&[("LWA_CREDENTIALS_SECRET_ID", "spapi/lwa")]).unwrap();
        assert_eq!(c.secret_id, "spapi/lwa");
        assert_eq!(c.rotate_before_days, 30);
        assert_eq!(
            c.spapi_endpoint.as_str(),
            "https://sellingpartnerapi-na.amazon.com/"
        );
        assert_eq!(c.token_url.as_str(), "https://api.amazon.com/auth/o2/token");
        assert_eq!(c.max_attempts, 3);
        assert!(c.queue_arn.is_none());
        let c = config(&[("LWA_APP_SECRET_ID", "app"), ("ROTATE_BEFORE_DAYS", "150")]).unwrap();
        assert_eq!((c.secret_id.as_str(), c.rotate_before_days), ("app", 150));
    }

    #[test]
    fn errors_name_the_variable() {
        for (pairs, var) in [
            (vec![], "LWA_CREDENTIALS_SECRET_ID"),
            (
                vec![
                    ("LWA_CREDENTIALS_SECRET_ID", "a"),
                    ("LWA_APP_SECRET_ID", "b"),
                ],
                "LWA_APP_SECRET_ID",
            ),
            (
                vec![("LWA_APP_SECRET_ID", "a"), ("ROTATE_BEFORE_DAYS", "0")],
                "ROTATE_BEFORE_DAYS",
            ),
            (
                vec![("LWA_APP_SECRET_ID", "a"), ("ROTATE_BEFORE_DAYS", "151")],
                "ROTATE_BEFORE_DAYS",
            ),
            (
                vec![("LWA_APP_SECRET_ID", "a"), ("ROTATE_BEFORE_DAYS", "x")],
                "ROTATE_BEFORE_DAYS",
            ),
            (
                vec![
                    ("LWA_APP_SECRET_ID", "a"),
                    ("SPAPI_ENDPOINT", "http://sellingpartnerapi-na.amazon.com"),
                ],
                "SPAPI_ENDPOINT",
            ),
            (
                vec![
                    ("LWA_APP_SECRET_ID", "a"),
                    ("SPAPI_ENDPOINT", "https://u:p@x.example"),
                ],
                "SPAPI_ENDPOINT",
            ),
            (
                vec![
                    ("LWA_APP_SECRET_ID", "a"),
                    ("NOTIFICATION_QUEUE_ARN", "my-queue"),
                ],
                "NOTIFICATION_QUEUE_ARN",
            ),
            (
                vec![
                    ("LWA_APP_SECRET_ID", "a"),
                    ("LWA_TOKEN_URL", "http://api.amazon.com/auth/o2/token"),
                ],
                "LWA_TOKEN_URL",
            ),
            (
                vec![("LWA_APP_SECRET_ID", "a"), ("LWA_MAX_ATTEMPTS", "0")],
                "LWA_MAX_ATTEMPTS",
            ),
        ] {
            let e = config(&pairs).unwrap_err();
            assert_eq!(e.variable, var, "{pairs:?}: {e}");
            assert!(!e.to_string().contains('\n'));
        }
        let ok = config(&[
            ("LWA_APP_SECRET_ID", "a"),
            ("SPAPI_ENDPOINT", "http://127.0.0.1:9/ns/x"),
        ])
        .unwrap();
        assert_eq!(ok.spapi_endpoint.as_str(), "http://127.0.0.1:9/ns/x");
    }

    #[test]
    fn the_rotate_call_goes_only_to_an_spapi_host_or_loopback() {
        for good in [
            "https://sellingpartnerapi-na.amazon.com",
            "https://sellingpartnerapi-eu.amazon.com/",
            "https://SellingPartnerAPI-FE.amazon.com.",
            "https://sandbox.sellingpartnerapi-na.amazon.com",
            "https://127.0.0.1:8443",
        ] {
            let c = config(&[("LWA_APP_SECRET_ID", "a"), ("SPAPI_ENDPOINT", good)]);
            assert!(c.is_ok(), "{good}");
        }
        for bad in [
            "https://sellingpartnerapi-na.amazon.com.example.net",
            "https://example.com",
            "https://sellingpartnerapi-xx.amazon.com",
            "https://evil.sandbox.sellingpartnerapi-na.amazon.com",
        ] {
            let e = config(&[("LWA_APP_SECRET_ID", "a"), ("SPAPI_ENDPOINT", bad)]).unwrap_err();
            assert_eq!(e.variable, "SPAPI_ENDPOINT");
            assert!(
                e.to_string()
                    .contains("is not an SP-API host (sellingpartnerapi-na.amazon.com"),
                "{e}"
            );
        }
    }
}
