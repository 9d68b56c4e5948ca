//! Configuration, read once at cold start from the environment. Every default
//! and every check lives here; a bad value stops the cold start with one line
//! naming the variable and what is expected.
//!
//! See the README's configuration table (and `CONTRACT.md`) for the variables.

pub(crate) mod env;
mod event_bus;
mod names;
mod reader;
mod refresher;
mod token_url;

pub use event_bus::DEFAULT_EVENT_BUS;
pub use names::check_parameter_name;
pub use reader::{ReaderConfig, ReaderTarget};
pub use refresher::{RefresherConfig, RefresherTarget};

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

pub(crate) fn config_err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::env::NOT_UNICODE;
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

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
        // Only LWA hosts, unless another host is explicitly allowed.
        for other in [
            "https://collector.example.com/auth/o2/token",
            "https://api.amazon.com.example.net/auth/o2/token",
            "https://amazon.com/auth/o2/token",
        ] {
            let e = refresher(&[("LWA_TOKEN_URL", Some(other))]).unwrap_err();
            assert_eq!(e.variable, "LWA_TOKEN_URL");
            let text = e.to_string();
            assert!(text.contains("not an LWA host"), "{text}");
            assert!(text.contains("LWA_TOKEN_URL_ALLOW_ANY_HOST=true"), "{text}");
            let c = refresher(&[
                ("LWA_TOKEN_URL", Some(other)),
                ("LWA_TOKEN_URL_ALLOW_ANY_HOST", Some("true")),
            ])
            .unwrap();
            assert_eq!(c.token_url.as_str(), other);
        }
        for host in ["api.amazon.com", "api.amazon.co.jp", "API.Amazon.co.uk"] {
            refresher(&[(
                "LWA_TOKEN_URL",
                Some(&format!("https://{host}/auth/o2/token")),
            )])
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        // The opt-out never allows plain http to a remote host, nor an SP-API host.
        for refused in [
            "http://collector.example.com/auth/o2/token",
            "https://sellingpartnerapi-eu.amazon.com/auth/o2/token",
        ] {
            assert!(refresher(&[
                ("LWA_TOKEN_URL", Some(refused)),
                ("LWA_TOKEN_URL_ALLOW_ANY_HOST", Some("true")),
            ])
            .is_err());
        }
        let e = refresher(&[("LWA_TOKEN_URL_ALLOW_ANY_HOST", Some("yes"))]).unwrap_err();
        assert_eq!(e.variable, "LWA_TOKEN_URL_ALLOW_ANY_HOST");
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
        // The secret prefix is the IAM fence (secret:<prefix>*): it ends with
        // a / and is not trivially short.
        for bad in [
            "a",
            "spapi",
            "ab/",
            "/spapi/",
            "spapi//x/",
            "spapi/*/",
            "!spapi/",
        ] {
            let e = RefresherConfig::from_lookup(lookup(&[
                ("LWA_SECRET_PREFIX", bad),
                ("TOKEN_PARAMETER_PREFIX", "/spapi/"),
            ]))
            .unwrap_err();
            assert_eq!(e.variable, "LWA_SECRET_PREFIX", "{bad}");
            assert!(e.to_string().contains("ending with /"), "{bad}: {e}");
        }
        for good in ["lwa/", "spapi/lwa/sellers/", "a.b@c/d-e/"] {
            RefresherConfig::from_lookup(lookup(&[
                ("LWA_SECRET_PREFIX", good),
                ("TOKEN_PARAMETER_PREFIX", "/spapi/"),
            ]))
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        }
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
