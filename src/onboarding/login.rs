//! `/login?amazon_callback_uri=…&amazon_state=…&selling_partner_id=…`: the
//! Login-URI step (Appstore authorizations and the yearly re-authorization).
//! A seller with a profile (found by tag), or any seller when
//! `ONBOARDING_OPEN`, is sent back to Amazon's `amazon_callback_uri` (only an
//! Amazon host: no open redirect) with `redirect_uri`, `amazon_state` and a
//! browser-bound `state`. Source: "Website authorization workflow" (Login URI).

use super::callback_uri;
use super::pages::{redirect, HttpResponse, Page};
use super::routes::new_profile_name;
use super::routes::{fail, store_detail, Io, Onboarding};
use super::secrets::{AmazonState, BrowserCookie};
use super::state::{self, Flow};
use crate::ports::code_exchange::CodeExchange;
use crate::ports::profile_store::ProfileStore;
use crate::ports::{TokenRead, TokenWrite};
use crate::query_string::{is_token_chars, Query};
use time::OffsetDateTime;

impl<P: ProfileStore, X: CodeExchange, S: TokenRead + TokenWrite> Onboarding<P, X, S> {
    pub(super) async fn login(
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
                if crate::profile::check_profile_name(&name).is_err() {
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
            // Parameters this step sets are set once: any the callback URI
            // already carries are dropped, so Amazon cannot read a second,
            // planted `redirect_uri`, `state` or `version`.
            const OURS: [&str; 4] = ["redirect_uri", "amazon_state", "state", "version"];
            let kept: Vec<(String, String)> = target
                .query_pairs()
                .filter(|(k, _)| !OURS.contains(&k.as_ref()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            target.set_query(None);
            let mut q = target.query_pairs_mut();
            q.extend_pairs(kept);
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
