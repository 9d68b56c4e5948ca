//! Hostile input on every parameter, and no secret in any page or log detail.

use super::*;

#[tokio::test]
async fn hostile_values_on_every_parameter_are_4xx_pages_without_echo() {
    let mut s = settings();
    s.open = true;
    let a = app();
    let open = app_with(s);
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let good_state = enc(state.expose_secret());
    let cb = enc("https://sellercentral.amazon.com/x");
    let huge = "A".repeat(100_000);
    let hostile = [
        huge.as_str(),
        "%00",
        "%0d%0aLocation:%20https://evil.example.com",
        "%",
        "%C3%28",
        "<script>alert(1)</script>",
        "..%2F..%2Fetc",
        "%E2%80%AE",
        "",
    ];
    let routes: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("/authorize", vec![("ticket", t.clone())]),
        (
            "/callback",
            vec![
                ("spapi_oauth_code", CODE.into()),
                ("state", good_state.clone()),
                ("selling_partner_id", "A1".into()),
            ],
        ),
        (
            "/login",
            vec![
                ("amazon_callback_uri", cb.clone()),
                ("amazon_state", "s".into()),
                ("selling_partner_id", "A1".into()),
            ],
        ),
    ];
    for (path, params) in &routes {
        for i in 0..params.len() {
            for bad in hostile
                .iter()
                .map(|h| h.to_string())
                .chain([format!("{}&{}={}", params[i].1, params[i].0, params[i].1)])
            {
                let query: Vec<String> = params
                    .iter()
                    .enumerate()
                    .map(|(j, (k, v))| {
                        if i == j {
                            format!("{k}={bad}")
                        } else {
                            format!("{k}={v}")
                        }
                    })
                    .collect();
                let query = query.join("&");
                if params[i].0 == "amazon_state" && bad == "..%2F..%2Fetc" {
                    continue; // opaque base64-like value of Amazon's, returned encoded
                }
                for app in [&a, &open] {
                    let o = get(app, path, &query, Some(&cookie), NOW).await;
                    let st = o.response.status;
                    assert!(
                        (400..500).contains(&st),
                        "{path} {}={:.40}: {st} {:?}",
                        params[i].0,
                        bad,
                        o.detail
                    );
                    assert!(o.response.header("location").is_none());
                    assert!(o.response.body.len() < 2048);
                    assert!(
                        !o.response.body.contains("script>alert")
                            && !o.response.body.contains("evil")
                    );
                    if let Some(d) = &o.detail {
                        assert!(!d.contains(&huge[..100]) && !d.contains("evil"), "{d}");
                    }
                }
            }
        }
    }
    assert!(a.exchange.calls.borrow().is_empty());
    assert!(a.profiles.map.borrow().is_empty());
}

#[tokio::test]
async fn no_secret_in_any_page_or_log_detail() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let mut outcomes = vec![
        get(&a, "/callback", &callback_query(&state, "A1"), None, NOW).await,
        callback(&a, &state, &cookie, "A1").await,
        callback(&a, &state, &cookie, "A1").await,
        get(&a, "/authorize", &format!("ticket={t}"), Some(&cookie), NOW).await,
    ];
    *a.exchange.answer.borrow_mut() = Err(LwaError::Unavailable {
        attempts: 1,
        last: "x".into(),
    });
    outcomes.push(callback(&a, &state, &cookie, "A1").await);
    for o in &outcomes {
        let text = format!(
            "{} {:?} {:?}",
            o.response.body, o.detail, o.response.headers
        );
        for secret in [
            t.as_str(),
            state.expose_secret(),
            CODE,
            cookie.expose_secret(),
            "PLANTED",
            KEY,
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
