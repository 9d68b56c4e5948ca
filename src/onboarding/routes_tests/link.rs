//! Link and `state` validity at the routes: signature, expiry, issue time.

use super::*;

#[tokio::test]
async fn link_rules_signature_and_expiry() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let late = NOW + time::Duration::hours(168);
    assert_page(
        &get(&a, "/authorize", &format!("ticket={t}"), None, late).await,
        Page::LinkExpired,
    );
    let mut forged = t.clone();
    forged.replace_range(2..3, if &t[2..3] == "A" { "B" } else { "A" });
    assert_page(
        &get(&a, "/authorize", &format!("ticket={forged}"), None, NOW).await,
        Page::LinkInvalid,
    );
    assert_page(
        &get(&a, "/authorize", "", None, NOW).await,
        Page::LinkInvalid,
    );
    assert_page(
        &get(
            &a,
            "/authorize",
            &format!("ticket={t}&ticket={t}"),
            None,
            NOW,
        )
        .await,
        Page::LinkInvalid,
    );
}

#[tokio::test]
async fn links_and_states_issued_in_the_future_get_the_tampered_pages() {
    let a = app();
    let skew = crate::onboarding::signing::MAX_CLOCK_SKEW;
    let second = time::Duration::seconds(1);
    // A link minted by a clock 60 s ahead is accepted; 61 s is not, and is
    // answered with the page of a tampered link.
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW + skew);
    let o = get(&a, "/authorize", &format!("ticket={t}"), None, NOW).await;
    assert_eq!(o.response.status, 302, "{:?}", o.detail);
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW + skew + second);
    assert_page(
        &get(&a, "/authorize", &format!("ticket={t}"), None, NOW).await,
        Page::LinkInvalid,
    );
    // A state handed out 61 s "later" than the callback's clock: the page
    // of a forged state, and no exchange.
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let o = get(
        &a,
        "/authorize",
        &format!("ticket={t}"),
        None,
        NOW + skew + second,
    )
    .await;
    assert_eq!(o.response.status, 302);
    let location = Url::parse(o.response.header("location").unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let set = &o.response.cookies[0];
    let cookie = BrowserCookie::new(set.split(';').next().unwrap().split_once('=').unwrap().1);
    let q = callback_query(&OAuthState::new(state), "A1");
    assert_page(
        &get(&a, "/callback", &q, Some(&cookie), NOW).await,
        Page::StateForged,
    );
    assert!(a.exchange.calls.borrow().is_empty());
    // The same state one second later is within the skew: connected.
    let o = get(&a, "/callback", &q, Some(&cookie), NOW + second).await;
    assert_eq!(o.response.status, 200, "{:?}", o.detail);
}
