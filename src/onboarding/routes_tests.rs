//! The routes over in-memory fakes: every rule and every page.

use super::*;
use crate::lwa::{LwaError, LwaErrorCode};
use crate::onboarding::marketplace::Account;
use crate::onboarding::marketplace::Marketplace;
use crate::onboarding::secrets::SigningKey;
use crate::onboarding::secrets::{AuthCode, OAuthState};
use crate::ports::code_exchange::CodeGrant;
use crate::ports::code_exchange::ExchangeError;
use crate::ports::profile_store::ProfileTags;
use crate::ports::profile_store::StoredProfile;
use crate::ports::TokenSaveError;
use crate::secret::{AccessToken, RefreshToken};
use crate::testing::FakeStore;
use secrecy::{ExposeSecret, SecretString};
use std::cell::RefCell;
use std::collections::HashMap;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);
const KEY: &str = "0123456789abcdef0123456789abcdef-test-key";
const REDIRECT: &str = "https://abc.lambda-url.eu-west-1.on.aws/callback";
const CODE: &str = "ANdNAVhyhqirUelHGEHA";

#[derive(Default)]
struct Profiles {
    map: RefCell<HashMap<String, (String, Option<ProfileTags>)>>,
    fail: RefCell<bool>,
    hang: RefCell<bool>,
    writes: RefCell<u32>,
}

impl ProfileStore for Profiles {
    async fn find_by_seller(
        &self,
        spid: &str,
        region: Region,
    ) -> Result<Option<String>, ProfileStoreError> {
        if *self.hang.borrow() {
            std::future::pending::<()>().await;
        }
        if *self.fail.borrow() {
            return Err(ProfileStoreError::Unavailable("AccessDenied".into()));
        }
        let mut names: Vec<String> = self
            .map
            .borrow()
            .iter()
            .filter(|(_, (_, t))| {
                t.as_ref()
                    .is_some_and(|t| t.selling_partner_id == spid && t.region == region)
            })
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        Ok(names.into_iter().next())
    }
    async fn read(&self, profile: &str) -> Result<Option<StoredProfile>, ProfileStoreError> {
        if *self.hang.borrow() {
            std::future::pending::<()>().await;
        }
        if *self.fail.borrow() {
            return Err(ProfileStoreError::Unavailable("AccessDenied".into()));
        }
        Ok(self.map.borrow().get(profile).map(|(d, t)| StoredProfile {
            document: SecretString::from(d.clone()),
            tags: t.clone(),
        }))
    }
    async fn create(
        &self,
        profile: &str,
        d: &SecretString,
        t: &ProfileTags,
    ) -> Result<(), ProfileStoreError> {
        let mut map = self.map.borrow_mut();
        if map.contains_key(profile) {
            return Err(ProfileStoreError::AlreadyExists);
        }
        *self.writes.borrow_mut() += 1;
        map.insert(
            profile.into(),
            (d.expose_secret().to_owned(), Some(t.clone())),
        );
        Ok(())
    }
    async fn update(
        &self,
        profile: &str,
        d: &SecretString,
        t: &ProfileTags,
    ) -> Result<(), ProfileStoreError> {
        *self.writes.borrow_mut() += 1;
        self.map.borrow_mut().insert(
            profile.into(),
            (d.expose_secret().to_owned(), Some(t.clone())),
        );
        Ok(())
    }
}

struct Exchange {
    answer: RefCell<Result<(), LwaError>>,
    calls: RefCell<Vec<(String, String)>>,
}

impl Default for Exchange {
    fn default() -> Self {
        Self {
            answer: RefCell::new(Ok(())),
            calls: RefCell::new(Vec::new()),
        }
    }
}

impl CodeExchange for Exchange {
    async fn exchange(
        &self,
        code: &AuthCode,
        redirect_uri: &str,
        _: Instant,
    ) -> Result<CodeGrant, ExchangeError> {
        let n = self.calls.borrow().len();
        self.calls
            .borrow_mut()
            .push((code.expose_secret().to_owned(), redirect_uri.to_owned()));
        self.answer.borrow().clone().map_err(ExchangeError::Lwa)?;
        Ok(CodeGrant {
            refresh_token: RefreshToken::new(format!("Atzr|PLANTED-RT-{n}")),
            access_token: AccessToken::new(format!("Atza|PLANTED-AT-{n}")),
            token_type: "bearer".into(),
            expires_in: 3600,
            requested_at: NOW,
        })
    }
}

type App = Onboarding<Profiles, Exchange, FakeStore>;

fn settings() -> Settings {
    Settings {
        application_id: "amzn1.sp.solution.app-1".into(),
        draft: false,
        redirect_uri: REDIRECT.into(),
        authorize_url: "https://abc.lambda-url.eu-west-1.on.aws/authorize".into(),
        parameter_prefix: "/spapi/lwa/sellers/".into(),
        open: false,
        consent_base: None,
        secure_cookies: true,
    }
}

fn app_with(s: Settings) -> App {
    Onboarding::new(
        s,
        Signer::new(&SigningKey::new(KEY)),
        Profiles::default(),
        Exchange::default(),
        FakeStore::default(),
    )
}

fn app() -> App {
    app_with(settings())
}

fn ticket(app: &App, profile: &str, mkt: &str, account: Account, now: OffsetDateTime) -> String {
    let (t, _) = crate::onboarding::ticket::mint(
        app.signer(),
        profile,
        Marketplace::find(mkt).unwrap(),
        account,
        168,
        now,
    );
    t.expose_secret().to_owned()
}

fn enc(s: &str) -> String {
    let mut u = Url::parse("https://x/").unwrap();
    u.query_pairs_mut().append_pair("v", s);
    u.query().unwrap()[2..].to_owned()
}

async fn get(
    app: &App,
    path: &str,
    query: &str,
    cookie: Option<&BrowserCookie>,
    now: OffsetDateTime,
) -> Outcome {
    let r = Request {
        method: "GET",
        path,
        query,
    };
    app.handle(
        r,
        cookie.cloned(),
        now,
        Instant::now() + Duration::from_secs(30),
    )
    .await
}

/// `/authorize` with a fresh link: the state and cookie it hands out.
async fn authorize(app: &App, t: &str) -> (OAuthState, BrowserCookie, Url) {
    let o = get(app, "/authorize", &format!("ticket={t}"), None, NOW).await;
    assert_eq!(o.response.status, 302, "{:?}", o.detail);
    let location = Url::parse(o.response.header("location").unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let set = &o.response.cookies[0];
    let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
    (OAuthState::new(state), BrowserCookie::new(value), location)
}

fn callback_query(state: &OAuthState, seller: &str) -> String {
    format!(
        "spapi_oauth_code={CODE}&state={}&selling_partner_id={seller}",
        enc(state.expose_secret())
    )
}

fn assert_page(o: &Outcome, p: Page) {
    assert_eq!(o.response.status, p.status(), "{:?}", o.detail);
    assert_eq!(o.outcome, p.name(), "{:?}", o.detail);
    assert!(o.response.header("location").is_none());
    assert_eq!(o.response.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(o.response.header("cache-control"), Some("no-store"));
}

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
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1SELLER"),
        Some(&cookie),
        NOW,
    )
    .await;
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
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
    assert_page(&o, Page::CodeRefused);
    assert!(o.response.body.contains("5 minutes") && o.response.body.contains("again"));
    assert!(a.profiles.map.borrow().is_empty() && a.tokens.is_empty());
    *a.exchange.answer.borrow_mut() = Err(LwaError::Unavailable {
        attempts: 1,
        last: "x".into(),
    });
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
    assert_page(&o, Page::Unavailable);
    *a.exchange.answer.borrow_mut() = Ok(());
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
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
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A2"),
        Some(&cookie),
        NOW,
    )
    .await;
    assert_page(&o, Page::OtherSeller);
    assert!(o.response.body.contains("another seller account"));
    assert_eq!(a.profiles.map.borrow()["acme-de"].0, original);
    assert!(a.exchange.calls.borrow().is_empty());
    // A region other than the profile's: refused too.
    let t = ticket(&a, "acme-de", "US", Account::Seller, NOW);
    let (state, cookie, _) = authorize(&a, &t).await;
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
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
    let o = get(
        &b,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
    assert_page(&o, Page::NameTaken);
    assert_eq!(b.profiles.map.borrow()["acme-de"].0, original);
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
        &get(
            &a,
            "/callback",
            &callback_query(&state, "A1"),
            Some(&cookie),
            NOW,
        )
        .await,
        Page::Unavailable,
    );
    *a.profiles.fail.borrow_mut() = false;
    a.tokens
        .fail_next_saves([TokenSaveError::Failed("AccessDeniedException".into())]);
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
    assert_eq!(o.outcome, "connected");
    assert!(o.detail.unwrap().contains("refresher's next run"));
}

fn login_query(callback: &str, seller: &str) -> String {
    format!(
        "amazon_callback_uri={}&amazon_state=amz-STATE-1&selling_partner_id={seller}",
        enc(callback)
    )
}

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
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A2"),
        Some(&cookie),
        NOW,
    )
    .await;
    assert_page(&o, Page::OtherSeller);
    let o = get(
        &a,
        "/callback",
        &callback_query(&state, "A1"),
        Some(&cookie),
        NOW,
    )
    .await;
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
    // function's path prefix, and requests arrive under it.
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

#[test]
fn strip_base_removes_only_that_prefix() {
    assert_eq!(strip_base("", "/lambda-url/x/a"), "/lambda-url/x/a");
    assert_eq!(strip_base("/p/f", "/p/f/callback"), "/callback");
    assert_eq!(strip_base("/p/f", "/p/f"), "/");
    assert_eq!(strip_base("/p/f", "/p/fx/callback"), "/p/fx/callback");
    assert_eq!(strip_base("/p/f", "/callback"), "/callback");
}

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
        get(
            &a,
            "/callback",
            &callback_query(&state, "A1"),
            Some(&cookie),
            NOW,
        )
        .await,
        get(
            &a,
            "/callback",
            &callback_query(&state, "A1"),
            Some(&cookie),
            NOW,
        )
        .await,
        get(&a, "/authorize", &format!("ticket={t}"), Some(&cookie), NOW).await,
    ];
    *a.exchange.answer.borrow_mut() = Err(LwaError::Unavailable {
        attempts: 1,
        last: "x".into(),
    });
    outcomes.push(
        get(
            &a,
            "/callback",
            &callback_query(&state, "A1"),
            Some(&cookie),
            NOW,
        )
        .await,
    );
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
        let o = get(
            &a,
            "/callback",
            &callback_query(&state, "A2"),
            Some(&cookie),
            NOW,
        )
        .await;
        assert_page(&o, Page::OtherSeller);
        assert_eq!(a.profiles.map.borrow()["acme-de"].0, doc);
        assert!(a.exchange.calls.borrow().is_empty());
    }
}
