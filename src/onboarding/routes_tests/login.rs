//! `/login`: the Login-URI step, open onboarding, no open redirect.

use super::*;

#[tokio::test]
async fn login_sets_its_parameters_once_whatever_the_callback_uri_carries() {
    let a = app();
    a.profiles.map.borrow_mut().insert(
        "acme-de".into(),
        (
            "{}".into(),
            Some(ProfileTags {
                selling_partner_id: "A1".into(),
                region: Region::Eu,
            }),
        ),
    );
    let cb = "https://sellercentral-europe.amazon.com/apps/authorize/confirm/x?keep=1\
              &redirect_uri=https%3A%2F%2Fevil.example%2Fcallback&state=EVIL&amazon_state=EVIL&version=beta";
    let o = get(&a, "/login", &login_query(cb, "A1"), None, NOW).await;
    assert_eq!(o.response.status, 302, "{:?}", o.detail);
    let location = Url::parse(o.response.header("location").unwrap()).unwrap();
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    let all = |k: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(all("redirect_uri"), [REDIRECT]);
    assert_eq!(all("amazon_state"), ["amz-STATE-1"]);
    assert_eq!(all("state").len(), 1);
    assert_ne!(all("state"), ["EVIL"]);
    assert!(all("version").is_empty(), "not a draft app: {pairs:?}");
    assert_eq!(all("keep"), ["1"], "Amazon's own parameters are kept");
}

#[tokio::test]
async fn login_for_a_known_seller_redirects_back_to_amazon() {
    let a = app();
    a.profiles.map.borrow_mut().insert(
        "acme-de".into(),
        (
            "{}".into(),
            Some(ProfileTags {
                selling_partner_id: "A1".into(),
                region: Region::Eu,
            }),
        ),
    );
    let cb =
        "https://sellercentral-europe.amazon.com/apps/authorize/confirm/amzn1.sp.solution.app-1";
    let o = get(&a, "/login", &login_query(cb, "A1"), None, NOW).await;
    assert_eq!(o.response.status, 302, "{:?}", o.detail);
    let location = Url::parse(o.response.header("location").unwrap()).unwrap();
    assert!(location.as_str().starts_with(cb));
    let q: HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert_eq!(q["amazon_state"], "amz-STATE-1");
    assert!(!q.contains_key("version"));
    let cookie = o.response.cookies[0]
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let cookie = BrowserCookie::new(cookie);
    let state = OAuthState::new(q["state"].clone());
    // Another seller completing this login: refused.
    let o = callback(&a, &state, &cookie, "A2").await;
    assert_page(&o, Page::OtherSeller);
    let o = callback(&a, &state, &cookie, "A1").await;
    assert_eq!(o.outcome, "connected", "{:?}", o.detail);
    let v: serde_json::Value = serde_json::from_str(&a.profiles.map.borrow()["acme-de"].0).unwrap();
    assert_eq!(v["refresh_token"], "Atzr|PLANTED-RT-0");
    // Unknown in the region of that host: not invited.
    let o = get(
        &a,
        "/login",
        &login_query("https://sellercentral.amazon.com/x", "A1"),
        None,
        NOW,
    )
    .await;
    assert_page(&o, Page::NotInvited);
}

#[tokio::test]
async fn open_onboarding_names_new_profiles_and_draft_adds_beta() {
    let mut s = settings();
    s.open = true;
    s.draft = true;
    let a = app_with(s);
    let o = get(
        &a,
        "/login",
        &login_query(
            "https://sellercentral.amazon.co.jp/apps/authorize/confirm",
            "A9",
        ),
        None,
        NOW,
    )
    .await;
    assert_eq!(o.response.status, 302);
    let location = Url::parse(o.response.header("location").unwrap()).unwrap();
    assert!(location
        .query_pairs()
        .any(|(k, v)| k == "version" && v == "beta"));
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let claims = super::state::verify(
        a.signer(),
        &OAuthState::new(state),
        Some(&BrowserCookie::new(
            o.response.cookies[0]
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1,
        )),
        NOW,
    )
    .unwrap();
    assert_eq!(claims.profile, "A9-fe");
    assert_eq!(claims.region, Region::Fe);
}

#[tokio::test]
async fn open_redirects_are_refused_field_cases() {
    let mut s = settings();
    s.open = true;
    let a = app_with(s);
    for cb in [
        "https://evil.example.com/apps/authorize/confirm",
        "https://sellercentral.amazon.com.evil.example.com/x",
        "https://sellercentral.amazon.com@evil.example.com/x",
        "http://sellercentral.amazon.com/apps/authorize/confirm",
        "javascript:alert(1)",
    ] {
        let o = get(&a, "/login", &login_query(cb, "A1"), None, NOW).await;
        assert_page(&o, Page::NotFromAmazon);
        assert!(o.response.cookies.is_empty());
        assert!(!o.response.body.contains("evil"));
    }
}
