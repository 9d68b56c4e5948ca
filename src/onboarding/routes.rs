//! The use case: the public routes (`/authorize`, `/callback`, `/login`)
//! over the ports. No AWS or HTTP client types here; time comes in as
//! `now` (and a monotonic `deadline` for the code exchange).
//!
//! Rules, each with its page: a link is checked (signature, expiry, not
//! used) before the browser is sent to Amazon; the `state` is checked
//! (signature, 10-minute expiry, this browser's cookie) before the code is
//! exchanged; a profile holding another seller, or a secret this function
//! did not create, is never written (409); the link is used up only by the
//! write that stores the refresh token (see [`super::profile_doc`]).

use super::callback_uri;
use super::cookie::{binding_cookie, set_cookie};
use super::marketplace::Region;
use super::pages::{page, redirect, HttpResponse, Page};
use super::profile_doc::{connected_document, facts, Connection};
use super::query::{is_token_chars, Query};
use super::secrets::{AmazonState, AuthCode, BrowserCookie, OAuthState, Ticket};
use super::signing::Signer;
use super::state::{self, Flow, StateError};
use super::ticket::{self, LinkError};
use crate::aws::TokenStore;
use crate::lwa::{LwaError, LwaErrorCode};
use crate::ports::code_exchange::{CodeExchange, ExchangeError};
use crate::ports::profile_store::{ProfileStore, ProfileStoreError, ProfileTags};
use crate::token::StoredToken;
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
    /// Path (a local `/lambda-url/<function>` prefix is ignored).
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
    settings: Settings,
    signer: Signer,
    profiles: P,
    exchange: X,
    tokens: S,
}

struct Io(Duration);
impl Io {
    async fn time<T>(&mut self, f: impl std::future::Future<Output = T>) -> T {
        let started = StdInstant::now();
        let out = f.await;
        self.0 += started.elapsed();
        out
    }
}

fn fail(p: Page, detail: impl Into<String>) -> (HttpResponse, &'static str, Option<String>) {
    (page(p), p.name(), Some(detail.into()))
}

impl<P: ProfileStore, X: CodeExchange, S: TokenStore> Onboarding<P, X, S> {
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
        let path = strip_local_prefix(request.path);
        let (response, outcome, detail) = if !request.method.eq_ignore_ascii_case("GET") {
            fail(Page::MethodNotAllowed, "not GET")
        } else {
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
        Outcome {
            response,
            outcome,
            detail,
            io: io.0,
        }
    }

    fn cookie_for(&self, existing: Option<BrowserCookie>) -> (BrowserCookie, Vec<String>) {
        let cookie = existing.unwrap_or_else(state::new_cookie);
        let header = set_cookie(&cookie, self.settings.secure_cookies);
        (cookie, vec![header])
    }

    async fn authorize(
        &self,
        query: &str,
        cookie: Option<BrowserCookie>,
        now: OffsetDateTime,
        io: &mut Io,
    ) -> (HttpResponse, &'static str, Option<String>) {
        let ticket = match Query::parse(query).and_then(|q| q.required("ticket").map(Ticket::new)) {
            Ok(t) => t,
            Err(e) => return fail(Page::LinkInvalid, e.to_string()),
        };
        let link = match ticket::verify(&self.signer, &ticket, now) {
            Ok(l) => l,
            Err(LinkError::Invalid) => {
                return fail(Page::LinkInvalid, "link signature or content invalid")
            }
            Err(LinkError::Expired) => return fail(Page::LinkExpired, "link expired"),
        };
        match io.time(self.profiles.read(&link.profile)).await {
            Err(e) => {
                return fail(
                    Page::Unavailable,
                    format!("reading profile `{}`: {}", link.profile, store_detail(&e)),
                )
            }
            Ok(Some(p)) if p.tags.is_none() => {
                return fail(
                    Page::NameTaken,
                    format!(
                        "profile `{}` exists without onboarding tags (made by hand); not reused",
                        link.profile
                    ),
                )
            }
            Ok(Some(p)) if facts(&p.document).used_links.contains_key(&link.link_id) => {
                return fail(
                    Page::LinkUsed,
                    format!("link for profile `{}` already used", link.profile),
                )
            }
            Ok(_) => {}
        }
        let (cookie, cookies) = self.cookie_for(cookie);
        let state = state::mint(
            &self.signer,
            &link.profile,
            link.marketplace.region,
            Flow::Link {
                link_id: link.link_id.clone(),
                link_expires_at: link.expires_at,
            },
            &cookie,
            now,
        );
        let host = link.marketplace.host(link.account);
        let base = match &self.settings.consent_base {
            Some(b) => format!("{}{host}", b.as_str()),
            None => format!("https://{host}"),
        };
        let mut url = Url::parse(&format!("{base}/apps/authorize/consent"))
            .expect("a host from the table parses");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("application_id", &self.settings.application_id);
            q.append_pair("state", state.expose_secret());
            q.append_pair("redirect_uri", &self.settings.redirect_uri);
            if self.settings.draft {
                q.append_pair("version", "beta");
            }
        }
        (
            redirect(url.into(), cookies),
            "redirect",
            Some(format!("profile `{}` to {host}", link.profile)),
        )
    }

    async fn callback(
        &self,
        query: &str,
        cookie: Option<BrowserCookie>,
        now: OffsetDateTime,
        deadline: Instant,
        io: &mut Io,
    ) -> (HttpResponse, &'static str, Option<String>) {
        let parsed = Query::parse(query).and_then(|q| {
            Ok((
                OAuthState::new(q.required("state")?),
                AuthCode::new(q.required("spapi_oauth_code")?),
                q.required("selling_partner_id")?.to_owned(),
            ))
        });
        let (state, code, seller) = match parsed {
            Ok(p) => p,
            Err(e) => return fail(Page::BadRequest, e.to_string()),
        };
        if !is_token_chars(&seller, 64) {
            return fail(
                Page::BadRequest,
                "selling_partner_id has characters outside [A-Za-z0-9._-] or is too long",
            );
        }
        if !is_token_chars(code.expose_secret(), 512) {
            return fail(
                Page::BadRequest,
                "spapi_oauth_code has characters outside [A-Za-z0-9._-] or is too long",
            );
        }
        let claims = match state::verify(&self.signer, &state, cookie.as_ref(), now) {
            Ok(c) => c,
            Err(StateError::Malformed) => return fail(Page::BadRequest, "state malformed"),
            Err(StateError::Forged) => return fail(Page::StateForged, "state signature invalid"),
            Err(StateError::Expired) => {
                return fail(Page::StateExpired, "state older than 10 minutes")
            }
            Err(StateError::OtherBrowser) => {
                return fail(
                    Page::OtherBrowser,
                    "state bound to another browser (cookie missing or different)",
                )
            }
        };
        let profile = claims.profile.clone();
        if let Flow::Login { selling_partner_id } = &claims.flow {
            if *selling_partner_id != seller {
                return fail(
                    Page::OtherSeller,
                    format!("profile `{profile}`: login started for another selling_partner_id"),
                );
            }
        }
        let existing = match io.time(self.profiles.read(&profile)).await {
            Ok(e) => e,
            Err(e) => {
                return fail(
                    Page::Unavailable,
                    format!("reading profile `{profile}`: {}", store_detail(&e)),
                )
            }
        };
        if let Some(p) = &existing {
            let f = facts(&p.document);
            match &p.tags {
                None => {
                    return fail(
                        Page::NameTaken,
                        format!("profile `{profile}` exists without onboarding tags (made by hand); not reused"),
                    )
                }
                Some(t) if t.selling_partner_id != seller || f.selling_partner_id.as_deref().is_some_and(|s| s != seller) => {
                    return fail(Page::OtherSeller, format!("profile `{profile}` holds another selling_partner_id; left unchanged"))
                }
                Some(t) if t.region != claims.region => {
                    return fail(Page::NameTaken, format!("profile `{profile}` is tagged for region {}, not {}", t.region, claims.region))
                }
                Some(_) => {}
            }
            if let Flow::Link { link_id, .. } = &claims.flow {
                if f.used_links.contains_key(link_id) {
                    return fail(
                        Page::LinkUsed,
                        format!("link for profile `{profile}` already used"),
                    );
                }
            }
        }
        let grant = match io
            .time(
                self.exchange
                    .exchange(&code, &self.settings.redirect_uri, deadline),
            )
            .await
        {
            Ok(g) => g,
            Err(ExchangeError::Lwa(
                e @ LwaError::Rejected {
                    code: LwaErrorCode::InvalidGrant,
                    ..
                },
            )) => {
                return fail(
                    Page::CodeRefused,
                    format!("profile `{profile}`: LWA refused the code: {e}"),
                )
            }
            Err(ExchangeError::Lwa(e)) => {
                return fail(
                    Page::Unavailable,
                    format!("profile `{profile}`: code exchange failed: {e}"),
                )
            }
            Err(ExchangeError::AppCredentials(d)) => {
                return fail(Page::Unavailable, format!("profile `{profile}`: {d}"))
            }
        };
        let used_link = match &claims.flow {
            Flow::Link {
                link_id,
                link_expires_at,
            } => Some((link_id.as_str(), *link_expires_at)),
            Flow::Login { .. } => None,
        };
        let document = connected_document(
            existing.as_ref().map(|p| &p.document),
            &Connection {
                refresh_token: &grant.refresh_token,
                selling_partner_id: &seller,
                region: claims.region,
                authorized_at: now,
                used_link,
            },
        );
        let tags = ProfileTags {
            selling_partner_id: seller.clone(),
            region: claims.region,
        };
        let written = if existing.is_some() {
            io.time(self.profiles.update(&profile, &document, &tags))
                .await
        } else {
            io.time(self.profiles.create(&profile, &document, &tags))
                .await
        };
        if let Err(e) = written {
            return fail(
                Page::Unavailable,
                format!(
                    "profile `{profile}`: the refresh token could not be saved: {}",
                    store_detail(&e)
                ),
            );
        }
        let token = StoredToken::new(
            grant.access_token,
            &grant.token_type,
            grant.requested_at,
            grant.expires_in,
        );
        let parameter = format!("{}{profile}", self.settings.parameter_prefix);
        let mut detail = format!("profile `{profile}` connected (region {})", claims.region);
        if let Err(e) = io.time(self.tokens.save(&parameter, &token)).await {
            detail.push_str(&format!(
                "; the first access token could not be stored in `{parameter}` ({}); the refresher's next run stores one",
                e.message
            ));
        }
        (page(Page::Connected), "connected", Some(detail))
    }

    async fn login(
        &self,
        query: &str,
        cookie: Option<BrowserCookie>,
        now: OffsetDateTime,
        io: &mut Io,
    ) -> (HttpResponse, &'static str, Option<String>) {
        let parsed = Query::parse(query).and_then(|q| {
            Ok((
                q.required("amazon_callback_uri")?.to_owned(),
                AmazonState::new(q.required("amazon_state")?),
                q.required("selling_partner_id")?.to_owned(),
            ))
        });
        let (callback, amazon_state, seller) = match parsed {
            Ok(p) => p,
            Err(e) => return fail(Page::BadRequest, e.to_string()),
        };
        let (mut target, region) =
            match callback_uri::check(&callback, self.settings.consent_base.as_ref()) {
                Ok(t) => t,
                Err(why) => {
                    return fail(
                        Page::NotFromAmazon,
                        format!("amazon_callback_uri refused: {why}"),
                    )
                }
            };
        if !is_token_chars(&seller, 64) {
            return fail(
                Page::BadRequest,
                "selling_partner_id has characters outside [A-Za-z0-9._-] or is too long",
            );
        }
        let amazon_state_ok = amazon_state.expose_secret().len() <= 2048
            && amazon_state
                .expose_secret()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._~+/=|-".contains(&b));
        if !amazon_state_ok {
            return fail(
                Page::BadRequest,
                "amazon_state is too long or has characters outside [A-Za-z0-9._~+/=|-]",
            );
        }
        let profile = match io.time(self.profiles.find_by_seller(&seller, region)).await {
            Err(e) => {
                return fail(
                    Page::Unavailable,
                    format!("finding the seller's profile: {}", store_detail(&e)),
                )
            }
            Ok(Some(p)) => p,
            Ok(None) if self.settings.open => {
                let name = new_profile_name(&seller, region);
                if crate::fleet::check_profile_name(&name).is_err() {
                    return fail(
                        Page::BadRequest,
                        "selling_partner_id does not make a valid profile name",
                    );
                }
                name
            }
            Ok(None) => {
                return fail(
                    Page::NotInvited,
                    "no profile for this seller and region; ONBOARDING_OPEN is false",
                )
            }
        };
        let (cookie, cookies) = self.cookie_for(cookie);
        let state = state::mint(
            &self.signer,
            &profile,
            region,
            Flow::Login {
                selling_partner_id: seller.clone(),
            },
            &cookie,
            now,
        );
        {
            let mut q = target.query_pairs_mut();
            q.append_pair("redirect_uri", &self.settings.redirect_uri);
            q.append_pair("amazon_state", amazon_state.expose_secret());
            q.append_pair("state", state.expose_secret());
            if self.settings.draft {
                q.append_pair("version", "beta");
            }
        }
        (
            redirect(target.into(), cookies),
            "redirect",
            Some(format!("login for profile `{profile}` (region {region})")),
        )
    }
}

/// The name `ONBOARDING_OPEN` gives a new seller: `<selling_partner_id>-<region>`.
pub fn new_profile_name(selling_partner_id: &str, region: Region) -> String {
    format!("{selling_partner_id}-{region}")
}

fn store_detail(e: &ProfileStoreError) -> String {
    match e {
        ProfileStoreError::AlreadyExists => {
            "the profile was created meanwhile (another connection at the same time)".to_owned()
        }
        ProfileStoreError::Unavailable(d) => d.clone(),
    }
}

/// `/lambda-url/<function>/x` → `/x` (cargo lambda watch's function URL path).
pub fn strip_local_prefix(path: &str) -> &str {
    match path.strip_prefix("/lambda-url/") {
        Some(rest) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => path,
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
#[path = "routes_tests.rs"]
mod tests;
