//! `/authorize`: a valid link becomes the consent redirect (hosts, vendor, draft, local).

use super::*;

#[tokio::test]
async fn authorize_redirects_to_the_consent_page() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, location) = authorize(&a, &t).await;
    assert_eq!(location.host_str(), Some("sellercentral-europe.amazon.com"));
    assert_eq!(location.scheme(), "https");
    assert_eq!(location.path(), "/apps/authorize/consent");
    let q: HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["application_id"], "amzn1.sp.solution.app-1");
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert!(!q.contains_key("version"));
    assert!(!state.expose_secret().is_empty() && !cookie.expose_secret().is_empty());
    let o = get(&a, "/authorize", &format!("ticket={t}"), None, NOW).await;
    let set = &o.response.cookies[0];
    assert!(
        set.starts_with("__Host-spapi-onboarding=")
            && set.contains("HttpOnly")
            && set.contains("Secure")
            && set.contains("SameSite=Lax")
    );
    assert_eq!(o.response.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(o.response.header("cache-control"), Some("no-store"));
    // The same browser keeps its cookie.
    let again = get(&a, "/authorize", &format!("ticket={t}"), Some(&cookie), NOW).await;
    assert!(again.response.cookies[0].contains(cookie.expose_secret()));
}

#[tokio::test]
async fn vendor_draft_and_local_consent_hosts() {
    let mut s = settings();
    s.draft = true;
    let a = app_with(s.clone());
    let t = ticket(&a, "acme-jp", "jp", Account::Vendor, NOW);
    let (_, _, location) = authorize(&a, &t).await;
    assert_eq!(location.host_str(), Some("vendorcentral.amazon.co.jp"));
    assert!(location
        .query_pairs()
        .any(|(k, v)| k == "version" && v == "beta"));
    s.consent_base = Some(Url::parse("http://127.0.0.1:5555").unwrap());
    let a = app_with(s);
    let t = ticket(&a, "acme-us", "US", Account::Seller, NOW);
    let (_, _, location) = authorize(&a, &t).await;
    assert_eq!(
        location.as_str().split('?').next().unwrap(),
        "http://127.0.0.1:5555/sellercentral.amazon.com/apps/authorize/consent"
    );
}
