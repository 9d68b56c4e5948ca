//! `/callback?spapi_oauth_code=…&state=…&selling_partner_id=…`: check the
//! `state` (signature, 10-minute expiry, this browser's cookie), refuse a
//! profile of another seller or a hand-made one (409) and a used link (410),
//! exchange the code at once, then store the refresh token (and use up the
//! link) in one write and the first access token. Source: "Website
//! authorization workflow", steps 4 and 5.

use super::pages::{page, HttpResponse, Page};
use super::profile_doc::{connected_document, facts, Connection};
use super::routes::{fail, store_detail, Io, Onboarding};
use super::secrets::{AuthCode, BrowserCookie, OAuthState};
use super::state::{self, Flow, StateError};
use crate::lwa::{LwaError, LwaErrorCode};
use crate::ports::code_exchange::CodeExchange;
use crate::ports::code_exchange::ExchangeError;
use crate::ports::profile_store::ProfileStore;
use crate::ports::profile_store::ProfileTags;
use crate::ports::{TokenRead, TokenWrite};
use crate::query_string::{is_token_chars, Query};
use crate::token::StoredToken;
use time::OffsetDateTime;
use tokio::time::Instant;

impl<P: ProfileStore, X: CodeExchange, S: TokenRead + TokenWrite> Onboarding<P, X, S> {
    pub(super) async fn callback(
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
            Err(StateError::FromTheFuture) => {
                return fail(
                    Page::StateForged,
                    "state issued in the future (beyond the clock skew allowed)",
                )
            }
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
        let parameter = format!("{}{profile}", self.settings.parameter_prefix);
        // A re-authorization after a lost authorization: the refresher's marker
        // stays with the new token, so its next run sees the new refresh token,
        // refreshes at once, clears the marker and publishes Restored.
        let marker = match io.time(self.tokens.load(&parameter)).await {
            Ok(Some(previous)) => previous.authorization_lost,
            Ok(None) | Err(_) => None,
        };
        let token = StoredToken::new(
            grant.access_token,
            &grant.token_type,
            grant.requested_at,
            grant.expires_in,
        )
        .with_marker(marker);
        let mut detail = format!("profile `{profile}` connected (region {})", claims.region);
        if let Err(e) = io.time(self.tokens.save(&parameter, &token)).await {
            detail.push_str(&format!(
                "; the first access token could not be stored in `{parameter}` ({}); the refresher's next run stores one",
                e.detail()
            ));
        }
        (page(Page::Connected), "connected", Some(detail))
    }
}
