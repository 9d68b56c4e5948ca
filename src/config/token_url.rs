//! `LWA_TOKEN_URL`: the one token endpoint, checked so a secret never
//! travels unencrypted or to the wrong host.

use super::env::shown;
use super::{config_err, ConfigError, DEFAULT_TOKEN_URL};
use reqwest::Url;
use std::net::IpAddr;

/// The hosts of the LWA token endpoint (Login with Amazon's regional
/// endpoints: North America, Europe, Far East). The SP-API docs name
/// `https://api.amazon.com/auth/o2/token` for every region.
pub const LWA_HOSTS: &[&str] = &["api.amazon.com", "api.amazon.co.uk", "api.amazon.co.jp"];

/// `LWA_TOKEN_URL_ALLOW_ANY_HOST`: `true` lets `LWA_TOKEN_URL` name a host
/// outside [`LWA_HOSTS`]; unset or `false` does not; anything else is an
/// error.
pub(super) fn allow_any_host(raw: Option<&str>) -> Result<bool, ConfigError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(config_err(
            "LWA_TOKEN_URL_ALLOW_ANY_HOST",
            "expected true or false (true lets LWA_TOKEN_URL name a host that is not an LWA host)",
        )),
    }
}

/// `LWA_TOKEN_URL`: `https://` on an LWA host ([`LWA_HOSTS`]), any other
/// `https://` host only with `allow_any_host` (the client secret goes
/// wherever this points), `http://` for a loopback host only (local runs
/// and tests); never an SP-API host (a common copy-paste from third-party
/// pages); no credentials, query or fragment. Messages show the URL without
/// userinfo or query, so a secret put there is not echoed.
pub(super) fn token_url(raw: &str, allow_any_host: bool) -> Result<Url, ConfigError> {
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
        "https"
            if allow_any_host
                || is_loopback(&host)
                || LWA_HOSTS.contains(&host.trim_end_matches('.')) => {}
        "https" => {
            return Err(config_err(
                VAR,
                format!(
                    "`{}` is not an LWA host ({}); the client secret and refresh token are sent to this URL. \
                     Use {DEFAULT_TOKEN_URL}, or set LWA_TOKEN_URL_ALLOW_ANY_HOST=true if another host is intended",
                    shown(&safe),
                    LWA_HOSTS.join(", ")
                ),
            ))
        }
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
