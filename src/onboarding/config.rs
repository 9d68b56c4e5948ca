//! `seller-onboarding`'s configuration, read once at cold start. The
//! fleet and LWA variables are checked by the refresher's own parser (the
//! same rules and messages); the onboarding variables here. A bad value is
//! a [`ConfigError`] naming the variable (errorType `ConfigInvalid`).

use crate::config::{ConfigError, RefresherConfig, RefresherTarget};
use reqwest::Url;
use std::net::IpAddr;
use std::time::Duration;

/// The shortest signing key accepted, characters.
pub const MIN_KEY_CHARS: usize = 32;

/// Settings of `seller-onboarding`.
#[derive(Debug, Clone)]
pub struct OnboardingConfig {
    /// `LWA_SECRET_PREFIX`.
    pub secret_prefix: String,
    /// `TOKEN_PARAMETER_PREFIX`.
    pub parameter_prefix: String,
    /// `LWA_APP_SECRET_ID` (required here).
    pub app_secret_id: String,
    /// `LWA_TOKEN_URL`.
    pub token_url: Url,
    /// `TOKEN_KMS_KEY_ID`.
    pub kms_key_id: Option<String>,
    /// `LWA_TIMEOUT_MS`: the code exchange's timeout.
    pub lwa_timeout: Duration,
    /// `SPAPI_APPLICATION_ID`.
    pub application_id: String,
    /// `SPAPI_APP_DRAFT`: add `version=beta`.
    pub draft: bool,
    /// `ONBOARDING_SIGNING_SECRET_ID`.
    pub signing_secret_id: String,
    /// `ONBOARDING_REDIRECT_URI`, exactly as registered.
    pub redirect_uri: Url,
    /// `ONBOARDING_OPEN`.
    pub open: bool,
    /// `CONSENT_BASE_URL` (local runs).
    pub consent_base: Option<Url>,
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn flag(get: &dyn Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match get(name).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(err(name, "must be true or false (default false)")),
    }
}

impl OnboardingConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|n| std::env::var(n).ok())
    }

    /// Reads settings through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |n: &str| {
            get(n)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        for (name, example) in [
            ("LWA_SECRET_PREFIX", "the fleet's secret-name prefix, e.g. spapi/lwa/sellers/"),
            ("TOKEN_PARAMETER_PREFIX", "the fleet's parameter prefix, e.g. /spapi/lwa/sellers/"),
            (
                "LWA_APP_SECRET_ID",
                "the secret with the app's client_id and client_secret (the code exchange needs them)",
            ),
        ] {
            if get(name).is_none() {
                return Err(err(
                    match name {
                        "LWA_SECRET_PREFIX" => "LWA_SECRET_PREFIX",
                        "TOKEN_PARAMETER_PREFIX" => "TOKEN_PARAMETER_PREFIX",
                        _ => "LWA_APP_SECRET_ID",
                    },
                    format!("is not set; seller-onboarding works in fleet mode only: expected {example}"),
                ));
            }
        }
        // The fleet and LWA variables, checked as the refresher checks them.
        const SHARED: &[&str] = &[
            "LWA_SECRET_PREFIX",
            "TOKEN_PARAMETER_PREFIX",
            "LWA_APP_SECRET_ID",
            "LWA_TOKEN_URL",
            "TOKEN_KMS_KEY_ID",
            "LWA_TIMEOUT_MS",
        ];
        let shared =
            RefresherConfig::from_lookup(|n| if SHARED.contains(&n) { get(n) } else { None })?;
        let RefresherTarget::Fleet(fleet) = shared.target else {
            return Err(err("LWA_SECRET_PREFIX", "fleet mode is required"));
        };
        let application_id = get("SPAPI_APPLICATION_ID").ok_or_else(|| {
            err(
                "SPAPI_APPLICATION_ID",
                "is not set; expected the app ID (amzn1.sp.solution.… or amzn1.sellerapps.app.…) from the \
                 developer console's app list",
            )
        })?;
        if application_id.starts_with("amzn1.application-oa2-client.") {
            return Err(err(
                "SPAPI_APPLICATION_ID",
                "holds the LWA client ID; expected the app ID (amzn1.sp.solution.… or amzn1.sellerapps.app.…)",
            ));
        }
        if !(application_id.starts_with("amzn1.sp.solution.")
            || application_id.starts_with("amzn1.sellerapps.app."))
            || !application_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            || application_id.len() > 200
        {
            return Err(err(
                "SPAPI_APPLICATION_ID",
                "is not an app ID; expected amzn1.sp.solution.… or amzn1.sellerapps.app.… (letters, digits, . and -)",
            ));
        }
        let signing_secret_id = get("ONBOARDING_SIGNING_SECRET_ID").ok_or_else(|| {
            err(
                "ONBOARDING_SIGNING_SECRET_ID",
                format!(
                    "is not set; expected the name or ARN of a secret whose SecretString is the signing key \
                     (at least {MIN_KEY_CHARS} characters; the template generates one)"
                ),
            )
        })?;
        let redirect_uri = redirect_uri(get("ONBOARDING_REDIRECT_URI"))?;
        let consent_base = match get("CONSENT_BASE_URL") {
            None => None,
            Some(raw) => {
                let url = Url::parse(&raw).ok().filter(|u| {
                    u.scheme() == "http"
                        && u.host_str().is_some_and(is_loopback)
                        && u.path() == "/"
                        && u.query().is_none()
                        && u.username().is_empty()
                });
                Some(url.ok_or_else(|| {
                    err(
                        "CONSENT_BASE_URL",
                        "must be an http:// loopback origin such as http://127.0.0.1:5555 (local runs only); \
                         leave it unset in AWS",
                    )
                })?)
            }
        };
        Ok(Self {
            secret_prefix: fleet.secret_prefix,
            parameter_prefix: fleet.parameter_prefix,
            app_secret_id: fleet.app_secret_id.unwrap_or_default(),
            token_url: shared.token_url,
            kms_key_id: shared.kms_key_id,
            lwa_timeout: shared.lwa_timeout,
            application_id,
            draft: flag(&get, "SPAPI_APP_DRAFT")?,
            signing_secret_id,
            redirect_uri,
            open: flag(&get, "ONBOARDING_OPEN")?,
            consent_base,
        })
    }

    /// The links' base: the redirect URI with `callback` replaced by
    /// `authorize` (the function URL's origin in AWS, plus the local
    /// `/lambda-url/<function>` prefix under `cargo lambda watch`).
    pub fn authorize_url(&self) -> String {
        let s = self.redirect_uri.as_str();
        format!("{}authorize", &s[..s.len() - "callback".len()])
    }

    /// `true` when cookies may carry `Secure` (an https redirect URI).
    pub fn secure_cookies(&self) -> bool {
        self.redirect_uri.scheme() == "https"
    }
}

fn redirect_uri(raw: Option<String>) -> Result<Url, ConfigError> {
    const VAR: &str = "ONBOARDING_REDIRECT_URI";
    const EXPECTED: &str = "expected this function's URL + /callback, e.g. \
        https://abc.lambda-url.eu-west-1.on.aws/callback, exactly as registered as the app's OAuth Redirect URI";
    let raw = raw.ok_or_else(|| err(VAR, format!("is not set; {EXPECTED}")))?;
    let url = Url::parse(&raw).map_err(|_| err(VAR, format!("is not a URL; {EXPECTED}")))?;
    let loopback = url.host_str().is_some_and(is_loopback);
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
        return Err(err(
            VAR,
            format!(
                "must be https:// (http:// only for a loopback host in local runs); {EXPECTED}"
            ),
        ));
    }
    if !url.path().ends_with("/callback") {
        return Err(err(VAR, format!("must end with /callback; {EXPECTED}")));
    }
    if url.query().is_some() || url.fragment().is_some() || raw.contains('#') {
        return Err(err(
            VAR,
            format!(
                "must not have a query or fragment (Amazon refuses a fragment: MD5110); {EXPECTED}"
            ),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(VAR, format!("must not carry user info; {EXPECTED}")));
    }
    Ok(url)
}

/// Checks a signing key read from `ONBOARDING_SIGNING_SECRET_ID`.
pub fn check_signing_key(value: &str) -> Result<(), ConfigError> {
    let n = value.chars().count();
    if n < MIN_KEY_CHARS {
        return Err(err(
            "ONBOARDING_SIGNING_SECRET_ID",
            format!(
                "the secret's value has {n} characters; the signing key needs at least {MIN_KEY_CHARS} \
                 (e.g. aws secretsmanager get-random-password --password-length 64)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("LWA_SECRET_PREFIX", "spapi/lwa/sellers/"),
            ("TOKEN_PARAMETER_PREFIX", "/spapi/lwa/sellers/"),
            ("LWA_APP_SECRET_ID", "spapi/lwa/app"),
            ("SPAPI_APPLICATION_ID", "amzn1.sp.solution.abc-123"),
            ("ONBOARDING_SIGNING_SECRET_ID", "spapi/onboarding/key"),
            (
                "ONBOARDING_REDIRECT_URI",
                "https://abc.lambda-url.eu-west-1.on.aws/callback",
            ),
        ]
    }

    fn load(
        changes: &[(&'static str, Option<&'static str>)],
    ) -> Result<OnboardingConfig, ConfigError> {
        let mut env: std::collections::HashMap<&str, &str> = base().into_iter().collect();
        for (k, v) in changes {
            match v {
                Some(v) => env.insert(k, v),
                None => env.remove(k),
            };
        }
        OnboardingConfig::from_lookup(|n| env.get(n).map(|v| (*v).to_owned()))
    }

    #[test]
    fn defaults() {
        let c = load(&[]).unwrap();
        assert!(!c.draft && !c.open && c.consent_base.is_none());
        assert_eq!(
            c.authorize_url(),
            "https://abc.lambda-url.eu-west-1.on.aws/authorize"
        );
        assert!(c.secure_cookies());
        assert_eq!(c.token_url.as_str(), "https://api.amazon.com/auth/o2/token");
        let local = load(&[
            (
                "ONBOARDING_REDIRECT_URI",
                Some("http://127.0.0.1:9002/lambda-url/seller-onboarding/callback"),
            ),
            ("CONSENT_BASE_URL", Some("http://127.0.0.1:5555")),
            ("SPAPI_APP_DRAFT", Some("TRUE")),
        ])
        .unwrap();
        assert_eq!(
            local.authorize_url(),
            "http://127.0.0.1:9002/lambda-url/seller-onboarding/authorize"
        );
        assert!(!local.secure_cookies() && local.draft);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (changes, var) in [
            (vec![("LWA_SECRET_PREFIX", None)], "LWA_SECRET_PREFIX"),
            (
                vec![("TOKEN_PARAMETER_PREFIX", None)],
                "TOKEN_PARAMETER_PREFIX",
            ),
            (vec![("LWA_APP_SECRET_ID", None)], "LWA_APP_SECRET_ID"),
            (
                vec![("TOKEN_PARAMETER_PREFIX", Some("spapi"))],
                "TOKEN_PARAMETER_PREFIX",
            ),
            (
                vec![("LWA_TOKEN_URL", Some("http://api.amazon.com/auth/o2/token"))],
                "LWA_TOKEN_URL",
            ),
            (vec![("SPAPI_APPLICATION_ID", None)], "SPAPI_APPLICATION_ID"),
            (
                vec![(
                    "SPAPI_APPLICATION_ID",
                    Some("amzn1.application-oa2-client.x"),
                )],
                "SPAPI_APPLICATION_ID",
            ),
            (
                vec![("SPAPI_APPLICATION_ID", Some("amzn1.sp.solution.<x>"))],
                "SPAPI_APPLICATION_ID",
            ),
            (
                vec![("ONBOARDING_SIGNING_SECRET_ID", None)],
                "ONBOARDING_SIGNING_SECRET_ID",
            ),
            (
                vec![("ONBOARDING_REDIRECT_URI", None)],
                "ONBOARDING_REDIRECT_URI",
            ),
            (
                vec![(
                    "ONBOARDING_REDIRECT_URI",
                    Some("http://example.com/callback"),
                )],
                "ONBOARDING_REDIRECT_URI",
            ),
            (
                vec![("ONBOARDING_REDIRECT_URI", Some("https://x.example/cb"))],
                "ONBOARDING_REDIRECT_URI",
            ),
            (
                vec![(
                    "ONBOARDING_REDIRECT_URI",
                    Some("https://x.example/callback#f"),
                )],
                "ONBOARDING_REDIRECT_URI",
            ),
            (
                vec![(
                    "ONBOARDING_REDIRECT_URI",
                    Some("https://x.example/callback?a=1"),
                )],
                "ONBOARDING_REDIRECT_URI",
            ),
            (vec![("SPAPI_APP_DRAFT", Some("yes"))], "SPAPI_APP_DRAFT"),
            (vec![("ONBOARDING_OPEN", Some("1"))], "ONBOARDING_OPEN"),
            (
                vec![("CONSENT_BASE_URL", Some("https://sellercentral.amazon.com"))],
                "CONSENT_BASE_URL",
            ),
            (
                vec![("CONSENT_BASE_URL", Some("http://127.0.0.1:5555/x"))],
                "CONSENT_BASE_URL",
            ),
        ] {
            let e = load(&changes).unwrap_err();
            assert_eq!(e.variable, var, "{changes:?}: {e}");
        }
    }

    #[test]
    fn signing_key_length() {
        assert!(check_signing_key(&"k".repeat(32)).is_ok());
        let e = check_signing_key(&"k".repeat(31)).unwrap_err();
        assert_eq!(e.variable, "ONBOARDING_SIGNING_SECRET_ID");
        assert!(e.to_string().contains("31 characters"));
        assert!(!e.to_string().contains("kkkk"));
    }
}
