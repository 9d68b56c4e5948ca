//! Whose profile it is: another seller's or a hand-made profile is never written (409).

use super::*;

#[tokio::test]
async fn profile_owned_by_another_seller_is_left_unchanged() {
    let a = app();
    let original = r#"{"refresh_token":"Atzr|PLANTED-OLD","selling_partner_id":"A1"}"#;
    a.profiles.map.borrow_mut().insert(
        "acme-de".into(),
        (
            original.into(),
            Some(ProfileTags {
                selling_partner_id: "A1".into(),
                region: Region::Eu,
            }),
        ),
    );
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = callback(&a, &state, &cookie, "A2").await;
    assert_page(&o, Page::OtherSeller);
    assert!(o.response.body.contains("another seller account"));
    assert_eq!(a.profiles.map.borrow()["acme-de"].0, original);
    assert!(a.exchange.calls.borrow().is_empty());
    // A region other than the profile's: refused too.
    let t = ticket(&a, "acme-de", "US", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = callback(&a, &state, &cookie, "A1").await;
    assert_page(&o, Page::NameTaken);
}

#[tokio::test]
async fn a_hand_made_profile_is_not_reused() {
    let a = app();
    let original = r#"{"client_id":"x","client_secret":"amzn1.oa2-cs.v1.PLANTED","refresh_token":"Atzr|PLANTED"}"#;
    a.profiles
        .map
        .borrow_mut()
        .insert("acme-de".into(), (original.into(), None));
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    assert_page(
        &get(&a, "/authorize", &format!("ticket={t}"), None, NOW).await,
        Page::NameTaken,
    );
    // Made by hand between /authorize and /callback: refused there too.
    let b = app();
    let t = ticket(&b, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&b, &t).await;
    b.profiles
        .map
        .borrow_mut()
        .insert("acme-de".into(), (original.into(), None));
    let o = callback(&b, &state, &cookie, "A1").await;
    assert_page(&o, Page::NameTaken);
    assert_eq!(b.profiles.map.borrow()["acme-de"].0, original);
}

#[tokio::test]
async fn the_owner_is_checked_in_the_tags_and_in_the_document() {
    // Tags name A1, the document names nobody; and the document names A1
    // while the tags name the consenting seller: both refused for A2.
    for (doc, tagged) in [
        (r#"{"refresh_token":"Atzr|PLANTED-OLD"}"#, "A1"),
        (
            r#"{"refresh_token":"Atzr|PLANTED-OLD","selling_partner_id":"A1"}"#,
            "A2",
        ),
    ] {
        let a = app();
        a.profiles.map.borrow_mut().insert(
            "acme-de".into(),
            (
                doc.into(),
                Some(ProfileTags {
                    selling_partner_id: tagged.into(),
                    region: Region::Eu,
                }),
            ),
        );
        let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
        let (state, cookie, _) = authorize(&a, &t).await;
        let o = callback(&a, &state, &cookie, "A2").await;
        assert_page(&o, Page::OtherSeller);
        assert_eq!(a.profiles.map.borrow()["acme-de"].0, doc);
        assert!(a.exchange.calls.borrow().is_empty());
    }
}
