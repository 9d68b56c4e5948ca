//! `LWA_TOKEN_URL`: the one token endpoint, checked so a secret never
//! travels unencrypted or to the wrong host.

use super::env::shown;
use super::{config_err, ConfigError, DEFAULT_TOKEN_URL};
use reqwest::Url;
use std::net::IpAddr;

/// `LWA_TOKEN_URL`: `https://`, or `http://` for a loopback host only; never
/// an SP-API host (a common copy-paste from third-party pages); no
/// credentials, query or fragment. Messages show the URL without userinfo
/// or query, so a secret put there is not echoed.
pub(super) fn token_url(raw: &str) -> Result<Url, ConfigError> {
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
