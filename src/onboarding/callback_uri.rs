//! The Login-URI step's `amazon_callback_uri`: where `/login` redirects the
//! seller's browser. Only Amazon may be the target (no open redirect):
//! `https://` on a Seller or Vendor Central host of the marketplace table,
//! or `amazon.<tld>` / `www.amazon.<tld>` of a marketplace domain; no user
//! info, no port, no fragment. Local runs (`CONSENT_BASE_URL`) accept
//! `{CONSENT_BASE_URL}/{an Amazon host above}/…` instead, the stand-in's
//! address of that host. Source: "Website authorization workflow" (the
//! Login URI receives `amazon_callback_uri`, `amazon_state`, `selling_partner_id`).

use super::marketplace::{region_of_amazon_host, Region};
use reqwest::Url;

/// The longest `amazon_callback_uri` accepted.
pub const MAX_LEN: usize = 2048;

/// Checks `raw` and returns the parsed URL and the region of its host.
/// `Err` is a short reason for the log (never the value).
pub fn check(raw: &str, consent_base: Option<&Url>) -> Result<(Url, Region), &'static str> {
    if raw.len() > MAX_LEN {
        return Err("too long");
    }
    let url = Url::parse(raw).map_err(|_| "not an absolute URL")?;
    if url.fragment().is_some() {
        return Err("has a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("carries user info");
    }
    if let Some(base) = consent_base {
        if url.origin() == base.origin() {
            let first = url
                .path_segments()
                .and_then(|mut s| s.next())
                .unwrap_or_default()
                .to_ascii_lowercase();
            return region_of_amazon_host(&first)
                .map(|r| (url, r))
                .ok_or("under CONSENT_BASE_URL but not /{an Amazon host}/…");
        }
    }
    if url.scheme() != "https" {
        return Err("not https");
    }
    if url.port().is_some() {
        return Err("names a port");
    }
    // `domain()` is `None` for IP addresses.
    let host = url.domain().ok_or("not a domain name")?;
    let region = region_of_amazon_host(host).ok_or("not an Amazon host")?;
    Ok((url, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_hosts_accepted() {
        for (raw, region) in [
            (
                "https://sellercentral.amazon.com/apps/authorize/confirm/amzn1.sp.solution.x",
                Region::Na,
            ),
            (
                "https://SellerCentral-Europe.Amazon.com/apps/authorize/confirm?x=1",
                Region::Eu,
            ),
            ("https://www.amazon.co.jp/ap/x", Region::Fe),
            ("https://vendorcentral.amazon.me/x", Region::Eu),
            ("https://sellercentral.amazon.com:443/x", Region::Na),
        ] {
            assert_eq!(check(raw, None).map(|(_, r)| r), Ok(region), "{raw}");
        }
    }

    #[test]
    fn open_redirects_refused() {
        for raw in [
            "https://evil.example.com/apps/authorize/confirm",
            "https://sellercentral.amazon.com.evil.example.com/x",
            "https://sellercentral.amazon.com@evil.example.com/x",
            "https://user:pw@sellercentral.amazon.com/x",
            "http://sellercentral.amazon.com/apps/authorize/confirm",
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example.com/x",
            "/relative",
            r"https:\\evil.example.com\x",
            "https://sellercentral.amazon.com:8443/x",
            "https://sellercentral.amazon.com/x#frag",
            "https://52.94.236.248/x",
            "https://sellercentral.amazon.com./x",
            "https://xn--sellercentral-amazon-com.evil/x",
            "https://amazon.evil.com/x",
            "",
        ] {
            assert!(check(raw, None).is_err(), "{raw}");
        }
        assert!(check(
            &format!("https://sellercentral.amazon.com/{}", "a".repeat(MAX_LEN)),
            None
        )
        .is_err());
    }

    #[test]
    fn user_info_of_either_kind_and_the_length_boundary() {
        for raw in [
            "https://user@sellercentral.amazon.com/x",
            "https://:pw@sellercentral.amazon.com/x",
            "https://user:pw@sellercentral.amazon.com/x",
        ] {
            assert_eq!(
                check(raw, None).map(|(_, r)| r),
                Err("carries user info"),
                "{raw}"
            );
        }
        let head = "https://sellercentral.amazon.com/";
        let longest = format!("{head}{}", "a".repeat(MAX_LEN - head.len()));
        assert_eq!(longest.len(), MAX_LEN);
        assert_eq!(check(&longest, None).map(|(_, r)| r), Ok(Region::Na));
        assert_eq!(
            check(&format!("{longest}a"), None).map(|(_, r)| r),
            Err("too long")
        );
    }

    #[test]
    fn consent_base_for_local_runs() {
        let base = Url::parse("http://127.0.0.1:5555").unwrap();
        let ok = "http://127.0.0.1:5555/sellercentral.amazon.co.jp/apps/authorize/confirm";
        assert_eq!(check(ok, Some(&base)).map(|(_, r)| r), Ok(Region::Fe));
        for bad in [
            "http://127.0.0.1:5556/sellercentral.amazon.co.jp/x",
            "http://127.0.0.1:5555/evil.example.com/x",
            "http://127.0.0.1:5555/",
            "http://localhost:5555/sellercentral.amazon.com/x",
        ] {
            assert!(check(bad, Some(&base)).is_err(), "{bad}");
        }
        // Without CONSENT_BASE_URL a loopback target is refused.
        assert!(check(ok, None).is_err());
    }
}
