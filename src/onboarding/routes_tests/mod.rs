//! The routes over in-memory fakes: every rule and every page. The fakes
//! and helpers are here; the tests, by subject, in the files next to this one.

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

/// `/callback` now, as the browser holding `cookie` comes back from consent.
async fn callback(app: &App, state: &OAuthState, cookie: &BrowserCookie, seller: &str) -> Outcome {
    get(
        app,
        "/callback",
        &callback_query(state, seller),
        Some(cookie),
        NOW,
    )
    .await
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

fn login_query(callback: &str, seller: &str) -> String {
    format!(
        "amazon_callback_uri={}&amazon_state=amz-STATE-1&selling_partner_id={seller}",
        enc(callback)
    )
}

mod authorize;
mod callback;
mod hostile;
mod link;
mod login;
mod ownership;
mod paths;
