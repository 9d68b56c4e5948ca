//! The use case: the public routes (`/authorize`, `/callback`, `/login`)
//! over the ports. No AWS or HTTP client types here; time comes in as
//! `now` (and a monotonic `deadline` for the code exchange).
//!
//! Rules, each with its page: a link is checked (signature, expiry, not
//! used) before the browser is sent to Amazon; the `state` is checked
//! (signature, 10-minute expiry, this browser's cookie) before the code is
//! exchanged; a profile holding another seller, or a secret this function
//! did not create, is never written (409); the link is used up only by the
//! write that stores the refresh token (see [`super::profile_doc`]). The
//! routes themselves live in `authorize.rs`, `callback.rs` and `login.rs`.

use super::cookie::{binding_cookie, set_cookie};
use super::marketplace::Region;
use super::pages::{page, HttpResponse, Page};
use super::secrets::BrowserCookie;
use super::signing::Signer;
use super::state;
use crate::budget::{TimeBudget, ANSWER_MARGIN};
use crate::ports::code_exchange::CodeExchange;
use crate::ports::profile_store::{ProfileStore, ProfileStoreError};
use crate::ports::{TokenRead, TokenWrite};
use reqwest::Url;
use std::time::{Duration, Instant as StdInstant};
use time::OffsetDateTime;
use tokio::time::Instant;

/// What the routes need to know of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `SPAPI_APPLICATION_ID`.
    pub application_id: String,
    /// `SPAPI_APP_DRAFT`.
    pub draft: bool,
    /// `ONBOARDING_REDIRECT_URI`, exactly as registered.
    pub redirect_uri: String,
    /// Where links point (`…/authorize`).
    pub authorize_url: String,
    /// `TOKEN_PARAMETER_PREFIX`.
    pub parameter_prefix: String,
    /// `ONBOARDING_OPEN`.
    pub open: bool,
    /// `CONSENT_BASE_URL` (local runs).
    pub consent_base: Option<Url>,
    /// `Secure` cookies (https).
    pub secure_cookies: bool,
}

/// One function URL request, as the routes see it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path (`rawPath`). In AWS the function URL's path as requested;
    /// under `cargo lambda watch` the same, since it removes its
    /// `/lambda-url/<function>` before building the event. A redirect
    /// URI's path prefix still present is removed by [`Settings::route`].
    pub path: &'a str,
    /// Raw query string, without `?`.
    pub query: &'a str,
}

/// What a request led to, for the response and the log line.
pub struct Outcome {
    /// The answer.
    pub response: HttpResponse,
    /// Short outcome name (`redirect`, `connected`, a page name).
    pub outcome: &'static str,
    /// Why, for the log (never a secret or an input value).
    pub detail: Option<String>,
    /// Time spent waiting on ports (AWS, LWA).
    pub io: Duration,
}

/// The seller-onboarding use case.
pub struct Onboarding<P, X, S> {
    pub(super) settings: Settings,
    pub(super) signer: Signer,
    pub(super) profiles: P,
    pub(super) exchange: X,
    pub(super) tokens: S,
}

pub(super) struct Io(pub(super) Duration);
impl Io {
    pub(super) async fn time<T>(&mut self, f: impl std::future::Future<Output = T>) -> T {
        let started = StdInstant::now();
        let out = f.await;
        self.0 += started.elapsed();
        out
    }
}

pub(super) fn fail(
    p: Page,
    detail: impl Into<String>,
) -> (HttpResponse, &'static str, Option<String>) {
    (page(p), p.name(), Some(detail.into()))
}

impl<P: ProfileStore, X: CodeExchange, S: TokenRead + TokenWrite> Onboarding<P, X, S> {
    /// The use case over its ports.
    pub fn new(settings: Settings, signer: Signer, profiles: P, exchange: X, tokens: S) -> Self {
        Self {
            settings,
            signer,
            profiles,
            exchange,
            tokens,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The signer (links are minted with it).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Answers one request. `cookie` is this browser's binding cookie, if
    /// it sent one of the right shape.
    pub async fn handle(
        &self,
        request: Request<'_>,
        cookie: Option<BrowserCookie>,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Outcome {
        let mut io = Io(Duration::ZERO);
        let path = self.settings.route(request.path);
        let (response, outcome, detail) = if !request.method.eq_ignore_ascii_case("GET") {
            fail(Page::MethodNotAllowed, "not GET")
        } else {
            let routed = async {
                match path {
                    "/authorize" => self.authorize(request.query, cookie, now, &mut io).await,
                    "/callback" => {
                        self.callback(request.query, cookie, now, deadline, &mut io)
                            .await
                    }
                    "/login" => self.login(request.query, cookie, now, &mut io).await,
                    _ => fail(Page::NotFound, "unknown path"),
                }
            };
            // Every request answers before the Lambda deadline: a route
            // still waiting on AWS or LWA by then is dropped (each of its
            // writes is one atomic call: made or not, never half) and the
            // seller gets the "try again" page.
            match tokio::time::timeout_at(TimeBudget::answer_by(deadline), routed).await {
                Ok(answer) => answer,
                Err(_) => fail(
                    Page::Unavailable,
                    format!(
                        "not finished {} ms before the invocation's deadline (AWS or LWA too slow); nothing more was written",
                        ANSWER_MARGIN.as_millis()
                    ),
                ),
            }
        };
        Outcome {
            response,
            outcome,
            detail,
            io: io.0,
        }
    }

    pub(super) fn cookie_for(
        &self,
        existing: Option<BrowserCookie>,
    ) -> (BrowserCookie, Vec<String>) {
        let cookie = existing.unwrap_or_else(state::new_cookie);
        let header = set_cookie(&cookie, self.settings.secure_cookies);
        (cookie, vec![header])
    }
}

/// The name `ONBOARDING_OPEN` gives a new seller: `<selling_partner_id>-<region>`.
pub fn new_profile_name(selling_partner_id: &str, region: Region) -> String {
    format!("{selling_partner_id}-{region}")
}

pub(super) fn store_detail(e: &ProfileStoreError) -> String {
    match e {
        ProfileStoreError::AlreadyExists => {
            "the profile was created meanwhile (another connection at the same time)".to_owned()
        }
        ProfileStoreError::Unavailable(d) => d.clone(),
    }
}

impl Settings {
    /// The path prefix the function is served under: the redirect URI's
    /// path without its final `/callback` (`""` for a function URL in AWS,
    /// `/lambda-url/<function>` under `cargo lambda watch`).
    pub fn base_path(&self) -> &str {
        let uri = self.redirect_uri.as_str();
        let after_scheme = uri.find("://").map_or(0, |i| i + 3);
        let path = uri[after_scheme..]
            .find('/')
            .map_or("", |i| &uri[after_scheme + i..]);
        path.strip_suffix("/callback").unwrap_or(path)
    }

    /// The route of a request path: the path with [`Self::base_path`]
    /// removed (`/lambda-url/seller-onboarding/authorize` → `/authorize`
    /// locally). Only that prefix is removed: in AWS,
    /// `/lambda-url/x/authorize` stays as it is (404). A path not under
    /// the prefix is routed as it is, as in AWS: the pinned
    /// `cargo lambda watch` already removed `/lambda-url/<function>`, so
    /// the demo's requests arrive as `/authorize`, `/callback`, `/login`
    /// (and a bare `/authorize` sent to its port never reaches the
    /// function: cargo lambda answers that 404 itself). No rule depends on
    /// the path: the cookie is `Path=/`, links and `redirect_uri` come from
    /// the configuration.
    pub fn route<'a>(&self, path: &'a str) -> &'a str {
        strip_base(self.base_path(), path)
    }
}

/// `path` without the prefix `base` (`""` or `/a/b`, no trailing slash);
/// `base` itself is `/`; any other path is returned unchanged.
pub fn strip_base<'a>(base: &str, path: &'a str) -> &'a str {
    if base.is_empty() {
        return path;
    }
    match path.strip_prefix(base) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// The binding cookie of a request, from its cookie pairs (`name=value`).
pub fn find_cookie<'a>(
    pairs: impl IntoIterator<Item = &'a str>,
    secure: bool,
) -> Option<BrowserCookie> {
    binding_cookie(pairs, secure)
}

#[cfg(test)]
#[path = "routes_tests/mod.rs"]
mod tests;
