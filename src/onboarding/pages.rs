//! The HTTP answers of the public function URL: small server-rendered
//! pages (no script, no input echoed, readable on a phone) and redirects,
//! each with the contract's security headers. Every error page says what
//! the seller should do next.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::OnceLock;

/// One HTTP answer, before it becomes a function URL response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(&'static str, String)>,
    /// `Set-Cookie` values.
    pub cookies: Vec<String>,
    /// The body (a page, or empty for a redirect).
    pub body: String,
}

impl HttpResponse {
    /// The value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Every page the function shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// 200: the account is connected.
    Connected,
    /// 400: the link is not one of ours.
    LinkInvalid,
    /// 410: the link has expired.
    LinkExpired,
    /// 410: the link was already used for a connection.
    LinkUsed,
    /// 400: parameters missing or malformed.
    BadRequest,
    /// 403: the `state` is forged.
    StateForged,
    /// 403: the `state` is older than 10 minutes.
    StateExpired,
    /// 403: the `state` was issued to another browser.
    OtherBrowser,
    /// 409: the profile belongs to another seller account.
    OtherSeller,
    /// 409: the profile name is taken by a secret this function did not create.
    NameTaken,
    /// 502: Amazon refused the authorization code.
    CodeRefused,
    /// 502: a failure on our side (AWS, the app's configuration).
    Unavailable,
    /// 403: `/login` for a seller without a profile, and onboarding is not open.
    NotInvited,
    /// 400: `/login` with an `amazon_callback_uri` that is not Amazon's.
    NotFromAmazon,
    /// 404: unknown path.
    NotFound,
    /// 405: not `GET`.
    MethodNotAllowed,
}

impl Page {
    /// HTTP status of the page.
    pub fn status(self) -> u16 {
        match self {
            Page::Connected => 200,
            Page::LinkInvalid | Page::BadRequest | Page::NotFromAmazon => 400,
            Page::StateForged | Page::StateExpired | Page::OtherBrowser | Page::NotInvited => 403,
            Page::NotFound => 404,
            Page::MethodNotAllowed => 405,
            Page::OtherSeller | Page::NameTaken => 409,
            Page::LinkExpired | Page::LinkUsed => 410,
            Page::CodeRefused | Page::Unavailable => 502,
        }
    }

    /// A stable name for logs and tests.
    pub fn name(self) -> &'static str {
        match self {
            Page::Connected => "connected",
            Page::LinkInvalid => "link_invalid",
            Page::LinkExpired => "link_expired",
            Page::LinkUsed => "link_used",
            Page::BadRequest => "bad_request",
            Page::StateForged => "state_forged",
            Page::StateExpired => "state_expired",
            Page::OtherBrowser => "other_browser",
            Page::OtherSeller => "other_seller",
            Page::NameTaken => "name_taken",
            Page::CodeRefused => "code_refused",
            Page::Unavailable => "unavailable",
            Page::NotInvited => "not_invited",
            Page::NotFromAmazon => "not_from_amazon",
            Page::NotFound => "not_found",
            Page::MethodNotAllowed => "method_not_allowed",
        }
    }

    /// (title, what happened, what to do next).
    fn text(self) -> (&'static str, &'static str, &'static str) {
        const ASK: &str = "Ask the person who sent you the link for a new one.";
        const AGAIN: &str =
            "Open the link you were sent again and follow the steps in this browser.";
        match self {
            Page::Connected => (
                "Your account is connected",
                "Amazon confirmed the authorization and it is saved. The app can now work with your account.",
                "You can close this page.",
            ),
            Page::LinkInvalid => ("This link is not valid", "The link is incomplete or was changed.", ASK),
            Page::LinkExpired => ("This link has expired", "Links work for a limited time only.", ASK),
            Page::LinkUsed => (
                "This link was already used",
                "An account was already connected with this link, and each link works once.",
                "Nothing more to do if that was you. To connect again, ask for a new link.",
            ),
            Page::BadRequest => (
                "Something is missing",
                "This page was opened without the details it needs.",
                AGAIN,
            ),
            Page::StateForged => (
                "This request could not be verified",
                "The sign-in details were changed or did not come from this service.",
                AGAIN,
            ),
            Page::StateExpired => (
                "This sign-in took too long",
                "For your security each sign-in must be finished within 10 minutes.",
                AGAIN,
            ),
            Page::OtherBrowser => (
                "Please use one browser",
                "The sign-in was started in a different browser (or cookies are blocked).",
                "Open the link you were sent again, in the browser where you are signed in to Seller Central, and allow cookies for this page.",
            ),
            Page::OtherSeller => (
                "This link belongs to another seller account",
                "The link was made for a different Amazon account than the one you signed in with. Nothing was changed.",
                "Sign in to Amazon with the account the link was made for, or ask for a link for this account.",
            ),
            Page::NameTaken => (
                "This connection cannot be saved",
                "The name this link saves to is already used for something else. Nothing was changed.",
                "Tell the person who sent you the link; they need to make a new one.",
            ),
            Page::CodeRefused => (
                "Amazon did not confirm the authorization",
                "The authorization code was refused, usually because it expired (codes are valid for 5 minutes).",
                "Open the link you were sent again; it still works.",
            ),
            Page::Unavailable => (
                "The connection could not be saved",
                "A temporary problem on our side stopped it.",
                "Wait a few minutes, then open the link you were sent again; it still works.",
            ),
            Page::NotInvited => (
                "Your account is not set up here yet",
                "This app connects accounts through personal links.",
                "Ask the app's provider for an onboarding link.",
            ),
            Page::NotFromAmazon => (
                "This sign-in did not come from Amazon",
                "The request was not sent by Amazon's app authorization page.",
                "Start again from the app's page in Seller Central, or ask for an onboarding link.",
            ),
            Page::NotFound => ("Page not found", "There is nothing at this address.", AGAIN),
            Page::MethodNotAllowed => (
                "Not allowed",
                "This address only opens in a browser.",
                AGAIN,
            ),
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111}h1{font-size:1.4rem}p.next{font-weight:600}";

/// `Content-Security-Policy` of every page: nothing but the one inline
/// style (by hash), no framing, no forms, no base URL.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, STYLE.as_bytes());
        format!(
            "default-src 'none'; style-src 'sha256-{}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            STANDARD.encode(digest.as_ref())
        )
    })
}

/// Headers on every response.
fn base_headers() -> Vec<(&'static str, String)> {
    vec![
        ("referrer-policy", "no-referrer".to_owned()),
        ("cache-control", "no-store".to_owned()),
    ]
}

/// A page response.
pub fn page(page: Page) -> HttpResponse {
    let (title, what, next) = page.text();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><h1>{title}</h1><p>{what}</p><p class=\"next\">{next}</p></body></html>\n"
    );
    let mut headers = base_headers();
    headers.push(("content-type", "text/html; charset=utf-8".to_owned()));
    headers.push(("x-content-type-options", "nosniff".to_owned()));
    headers.push(("x-frame-options", "DENY".to_owned()));
    headers.push((
        "content-security-policy",
        content_security_policy().to_owned(),
    ));
    if page == Page::MethodNotAllowed {
        headers.push(("allow", "GET".to_owned()));
    }
    HttpResponse {
        status: page.status(),
        headers,
        cookies: Vec::new(),
        body,
    }
}

/// A `302` to `location`, setting `cookies`.
pub fn redirect(location: String, cookies: Vec<String>) -> HttpResponse {
    let mut headers = base_headers();
    headers.push(("location", location));
    HttpResponse {
        status: 302,
        headers,
        cookies,
        body: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Page] = &[
        Page::Connected,
        Page::LinkInvalid,
        Page::LinkExpired,
        Page::LinkUsed,
        Page::BadRequest,
        Page::StateForged,
        Page::StateExpired,
        Page::OtherBrowser,
        Page::OtherSeller,
        Page::NameTaken,
        Page::CodeRefused,
        Page::Unavailable,
        Page::NotInvited,
        Page::NotFromAmazon,
        Page::NotFound,
        Page::MethodNotAllowed,
    ];

    #[test]
    fn every_page_has_headers_a_next_step_and_no_script() {
        for p in ALL {
            let r = page(*p);
            assert_eq!(r.status, p.status());
            assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
            assert_eq!(r.header("cache-control"), Some("no-store"));
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            assert!(r.header("content-type").unwrap().starts_with("text/html"));
            let csp = r.header("content-security-policy").unwrap();
            assert!(
                csp.starts_with("default-src 'none'") && csp.contains("frame-ancestors 'none'")
            );
            assert!(!r.body.to_lowercase().contains("<script"));
            assert!(r.body.contains("viewport"));
            assert!(r.body.contains("class=\"next\""));
            assert!(r.body.len() < 2048, "{}", p.name());
        }
        assert_eq!(page(Page::MethodNotAllowed).header("allow"), Some("GET"));
    }

    #[test]
    fn csp_hash_matches_the_style() {
        // printf '%s' "$STYLE" | openssl dgst -sha256 -binary | base64
        let csp = content_security_policy();
        let hash = csp
            .split("'sha256-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, STYLE.as_bytes());
        assert_eq!(STANDARD.decode(hash).unwrap(), digest.as_ref());
    }

    #[test]
    fn redirects_carry_the_base_headers() {
        let r = redirect("https://x/".into(), vec!["c=1".into()]);
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("https://x/"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
}
