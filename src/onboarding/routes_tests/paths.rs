//! Methods, paths, the local path prefix, and the deadline every route answers by.

use super::*;

#[tokio::test]
async fn methods_paths_and_the_local_prefix() {
    let a = app();
    let r = Request {
        method: "POST",
        path: "/callback",
        query: "",
    };
    let o = a.handle(r, None, NOW, Instant::now()).await;
    assert_page(&o, Page::MethodNotAllowed);
    assert_eq!(o.response.header("allow"), Some("GET"));
    assert_page(&get(&a, "/", "", None, NOW).await, Page::NotFound);
    assert_page(&get(&a, "/callback/", "", None, NOW).await, Page::NotFound);
    // Locally (cargo lambda watch) the redirect URI carries the
    // function's path prefix; a raw path still under it (an emulator that
    // forwards the path as is; the pinned cargo lambda removes it, see the
    // next test) is routed without it.
    let mut local = settings();
    local.redirect_uri = "http://127.0.0.1:9002/lambda-url/seller-onboarding/callback".into();
    local.secure_cookies = false;
    let l = app_with(local);
    let t = ticket(&l, "acme-de", "DE", Account::Seller, NOW);
    let o = get(
        &l,
        "/lambda-url/seller-onboarding/authorize",
        &format!("ticket={t}"),
        None,
        NOW,
    )
    .await;
    assert_eq!(o.response.status, 302);
    assert_eq!(l.settings().route("/lambda-url/seller-onboarding"), "/");
    // Another function's prefix is not ours.
    let o = get(
        &l,
        "/lambda-url/other/authorize",
        &format!("ticket={t}"),
        None,
        NOW,
    )
    .await;
    assert_page(&o, Page::NotFound);
}

#[tokio::test]
async fn production_does_not_strip_a_lambda_url_prefix() {
    // In AWS the redirect URI is the function URL's origin + /callback:
    // nothing is stripped, so `/lambda-url/x/authorize` is no route.
    let a = app();
    assert_eq!(a.settings().base_path(), "");
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    for path in [
        "/lambda-url/x/authorize",
        "/lambda-url/seller-onboarding/authorize",
        "/lambda-url/x/callback",
        "/lambda-url/x/login",
    ] {
        let o = get(&a, path, &format!("ticket={t}"), None, NOW).await;
        assert_page(&o, Page::NotFound);
    }
    let o = get(&a, "/authorize", &format!("ticket={t}"), None, NOW).await;
    assert_eq!(o.response.status, 302);
}

#[tokio::test]
async fn locally_the_function_sees_the_path_aws_would_send() {
    // `cargo lambda watch` (pinned in requirements-dev.txt) removes
    // `/lambda-url/<function>` itself before it builds the event: the demo's
    // `GET …/lambda-url/seller-onboarding/authorize` arrives with rawPath
    // `/authorize`, exactly as `GET /authorize` on a function URL in AWS. So
    // a bare route must be served under the local redirect URI too, and
    // every raw path is routed the same under both redirect URIs, except one
    // still carrying our prefix (an emulator or proxy that forwards the path
    // as is): stripped locally, 404 in AWS.
    let aws = settings();
    let mut local = settings();
    local.redirect_uri = "http://127.0.0.1:9002/lambda-url/seller-onboarding/callback".into();
    local.secure_cookies = false;
    for raw in [
        "/authorize",
        "/callback",
        "/login",
        "/",
        "",
        "/authorize/",
        "/lambda-url/x/authorize",
        "/lambda-url/seller-onboardingx/authorize",
    ] {
        assert_eq!(local.route(raw), aws.route(raw), "{raw:?}");
    }
    let prefixed = "/lambda-url/seller-onboarding/authorize";
    assert_eq!(local.route(prefixed), "/authorize");
    assert_eq!(aws.route(prefixed), prefixed);
    // The demo's request, as the function receives it.
    let l = app_with(local);
    let t = ticket(&l, "acme-de", "DE", Account::Seller, NOW);
    let o = get(&l, "/authorize", &format!("ticket={t}"), None, NOW).await;
    assert_eq!(o.response.status, 302);
}

#[test]
fn strip_base_removes_only_that_prefix() {
    assert_eq!(strip_base("", "/lambda-url/x/a"), "/lambda-url/x/a");
    assert_eq!(strip_base("/p/f", "/p/f/callback"), "/callback");
    assert_eq!(strip_base("/p/f", "/p/f"), "/");
    assert_eq!(strip_base("/p/f", "/p/fx/callback"), "/p/fx/callback");
    assert_eq!(strip_base("/p/f", "/callback"), "/callback");
}

#[tokio::test]
async fn a_route_still_waiting_at_the_deadline_answers_the_unavailable_page() {
    let a = app();
    let t = ticket(&a, "acme-de", "DE", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    *a.profiles.hang.borrow_mut() = true;
    // A deadline already less than the answer margin away: the store never
    // answers, the route is dropped at once, a page answers.
    for (path, query, cookie) in [
        ("/authorize", format!("ticket={t}"), None),
        ("/callback", callback_query(&state, "A1"), Some(&cookie)),
        (
            "/login",
            login_query(
                "https://sellercentral-europe.amazon.com/apps/authorize/confirm",
                "A1",
            ),
            None,
        ),
    ] {
        let r = Request {
            method: "GET",
            path,
            query: &query,
        };
        let o = a.handle(r, cookie.cloned(), NOW, Instant::now()).await;
        assert_page(&o, Page::Unavailable);
        assert!(o.detail.unwrap().contains("deadline"));
    }
    assert_eq!(*a.profiles.writes.borrow(), 0);
    assert!(a.exchange.calls.borrow().is_empty());
}
