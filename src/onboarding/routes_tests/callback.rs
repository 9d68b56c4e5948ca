//! `/callback`: the `state` rules, the code exchange, the writes and what a failure leaves.

use super::*;

#[tokio::test]
async fn callback_connects_the_seller_once() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let later = NOW + time::Duration::minutes(3);
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1SELLER"),
        Some(&cookie),
        later,
    )
    .await;
    assert_eq!(o.response.status, 200, "{:?}", o.detail);
    assert_eq!(o.outcome, "connected");
    assert!(o.response.body.contains("connected"));
    assert_eq!(
        a.exchange.calls.borrow()[0],
        (CODE.to_owned(), REDIRECT.to_owned())
    );
    let (doc, tags) = a.profiles.map.borrow()["acme-de"].clone();
    assert_eq!(
        tags,
        Some(ProfileTags {
            selling_partner_id: "A1SELLER".into(),
            region: Region::Eu
        })
    );
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["refresh_token"], "Atzr|PLANTED-RT-0");
    assert_eq!(v["selling_partner_id"], "A1SELLER");
    assert_eq!(v["region"], "eu");
    assert_eq!(v["authorized_at"], "2026-12-01T10:03:00Z");
    let saved = a.tokens.get("/spapi/lwa/sellers/acme-de").unwrap();
    assert_eq!(saved.access_token.expose_secret(), "Atza|PLANTED-AT-0");
    assert_eq!(saved.expires_at, NOW + time::Duration::seconds(3600));
    // Used up: the same callback again, and the link itself, answer 410.
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1SELLER"),
        Some(&cookie),
        later,
    )
    .await;
    assert_page(&o, Page::LinkUsed);
    let o = get(&a, "/authorize", &format!("ticket={t}"), None, later).await;
    assert_page(&o, Page::LinkUsed);
    assert_eq!(
        a.exchange.calls.borrow().len(),
        1,
        "no exchange for a used link"
    );
    // A new link for the same profile and seller re-authorizes (update).
    let t2 = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (s2, c2, _) = authorize(&a, &t2).await;
    let o = get(
        &a,
        "/callback",
        &callback_query(&s2, "A1SELLER"),
        Some(&c2),
        later,
    )
    .await;
    assert_eq!(o.outcome, "connected", "{:?}", o.detail);
    let (doc, _) = a.profiles.map.borrow()["acme-de"].clone();
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["refresh_token"], "Atzr|PLANTED-RT-1");
    assert_eq!(v["onboarding_used_links"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn a_reauthorization_keeps_the_refreshers_lost_marker_for_its_restored_event() {
    use crate::authorization::marker::{AuthorizationLost, LostReason};
    use crate::token::StoredToken;
    let a = app();
    let parameter = "/spapi/lwa/sellers/acme-de";
    let lost = AuthorizationLost::new(LostReason::LwaInvalidGrant, NOW, "0badf00d".into());
    a.tokens.put(
        parameter,
        StoredToken::new(
            crate::secret::AccessToken::new("Atza|OLD"),
            "bearer",
            NOW,
            3600,
        )
        .with_marker(Some(lost.clone())),
    );
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = callback(&a, &state, &cookie, "A1SELLER").await;
    assert_eq!(o.outcome, "connected", "{:?}", o.detail);
    let saved = a.tokens.get(parameter).unwrap();
    assert_eq!(saved.access_token.expose_secret(), "Atza|PLANTED-AT-0");
    assert_eq!(saved.authorization_lost, Some(lost));
}

#[tokio::test]
async fn a_refused_code_leaves_the_link_usable() {
    let a = app();
    *a.exchange.answer.borrow_mut() = Err(LwaError::Rejected {
        code: LwaErrorCode::InvalidGrant,
        error: "invalid_grant".into(),
        description: Some("The request has an invalid grant parameter : code".into()),
        status: 400,
    });
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = callback(&a, &state, &cookie, "A1").await;
    assert_page(&o, Page::CodeRefused);
    assert!(o.response.body.contains("5 minutes") && o.response.body.contains("again"));
    assert!(a.profiles.map.borrow().is_empty() && a.tokens.is_empty());
    *a.exchange.answer.borrow_mut() = Err(LwaError::Unavailable {
        attempts: 1,
        last: "x".into(),
    });
    let o = callback(&a, &state, &cookie, "A1").await;
    assert_page(&o, Page::Unavailable);
    *a.exchange.answer.borrow_mut() = Ok(());
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = callback(&a, &state, &cookie, "A1").await;
    assert_eq!(o.outcome, "connected");
}

#[tokio::test]
async fn state_rules_signature_expiry_and_browser() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let q = callback_query(&state, "A1");
    assert_page(
        &get(&a, "/callback", &q, None, NOW).await,
        Page::OtherBrowser,
    );
    let other = super::state::new_cookie();
    assert_page(
        &get(&a, "/callback", &q, Some(&other), NOW).await,
        Page::OtherBrowser,
    );
    let expired = NOW + time::Duration::minutes(10);
    assert_page(
        &get(&a, "/callback", &q, Some(&cookie), expired).await,
        Page::StateExpired,
    );
    let other_key = Onboarding::new(
        settings(),
        Signer::new(&SigningKey::new("another key, also 32 characters long")),
        Profiles::default(),
        Exchange::default(),
        FakeStore::default(),
    );
    assert_page(
        &get(&other_key, "/callback", &q, Some(&cookie), NOW).await,
        Page::StateForged,
    );
    let mangled = callback_query(&OAuthState::new("not-a-state"), "A1");
    assert_page(
        &get(&a, "/callback", &mangled, Some(&cookie), NOW).await,
        Page::BadRequest,
    );
    assert!(
        a.exchange.calls.borrow().is_empty(),
        "no exchange without a valid state"
    );
    assert!(a.profiles.map.borrow().is_empty());
}

#[tokio::test]
async fn aws_failures_are_502_pages_and_a_token_write_failure_still_connects() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    *a.profiles.fail.borrow_mut() = true;
    assert_page(
        &get(&a, "/authorize", &format!("ticket={t}"), None, NOW).await,
        Page::Unavailable,
    );
    assert_page(
        &callback(&a, &state, &cookie, "A1").await,
        Page::Unavailable,
    );
    *a.profiles.fail.borrow_mut() = false;
    a.tokens
        .fail_next_saves([TokenSaveError::Failed("AccessDeniedException".into())]);
    let o = callback(&a, &state, &cookie, "A1").await;
    assert_eq!(o.outcome, "connected");
    assert!(o.detail.unwrap().contains("refresher's next run"));
}
