//! The browser-binding cookie: `HttpOnly`, `SameSite=Lax` (sent on the
//! top-level redirect back from Amazon, not on cross-site subrequests),
//! `Path=/`, 15 minutes; `Secure` with the `__Host-` prefix on https (in
//! AWS), plain on a loopback http redirect URI (local runs, where a
//! browser may refuse `Secure` cookies).

use super::secrets::BrowserCookie;
use super::state::is_cookie_shape;

/// Cookie name on https.
pub const SECURE_NAME: &str = "__Host-spapi-onboarding";
/// Cookie name on loopback http.
pub const LOCAL_NAME: &str = "spapi-onboarding";

fn name(secure: bool) -> &'static str {
    if secure {
        SECURE_NAME
    } else {
        LOCAL_NAME
    }
}

/// The `Set-Cookie` value for `cookie`.
pub fn set_cookie(cookie: &BrowserCookie, secure: bool) -> String {
    format!(
        "{}={}; Path=/; Max-Age=900; HttpOnly; SameSite=Lax{}",
        name(secure),
        cookie.expose_secret(),
        if secure { "; Secure" } else { "" }
    )
}

/// Our cookie among a request's cookie pairs (`name=value`, as the
/// function URL event's `cookies` list or a split `Cookie` header gives
/// them): the first of our name with the shape of a value we set.
pub fn binding_cookie<'a>(
    pairs: impl IntoIterator<Item = &'a str>,
    secure: bool,
) -> Option<BrowserCookie> {
    let wanted = name(secure);
    pairs
        .into_iter()
        .take(64)
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, v)| *n == wanted && is_cookie_shape(v))
        .map(|(_, v)| BrowserCookie::new(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes() {
        let c = BrowserCookie::new("A".repeat(43));
        let s = set_cookie(&c, true);
        assert!(s.starts_with("__Host-spapi-onboarding=AAAA"));
        for a in [
            "Path=/",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Max-Age=900",
        ] {
            assert!(s.contains(a), "{s}");
        }
        let l = set_cookie(&c, false);
        assert!(l.starts_with("spapi-onboarding=") && !l.contains("Secure"));
    }

    #[test]
    fn reading() {
        let v = "b".repeat(43);
        let pair = format!("spapi-onboarding={v}");
        let c =
            binding_cookie(["other=1", "spapi-onboarding=short", pair.as_str()], false).unwrap();
        assert_eq!(c.expose_secret(), v);
        assert!(binding_cookie([pair.as_str()], true).is_none());
        assert!(binding_cookie(["spapi-onboarding=<script>"], false).is_none());
        assert!(binding_cookie(std::iter::empty(), false).is_none());
    }
}
