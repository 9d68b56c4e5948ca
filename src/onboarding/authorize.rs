//! `/authorize?ticket=…`: a valid, unexpired, unused link sends the browser
//! to the Seller or Vendor Central consent page (`{host}/apps/authorize/consent
//! ?application_id=…&state=…&redirect_uri=…[&version=beta]`), binding the
//! browser with a cookie. Source: "Website authorization workflow", step 1.

use super::pages::{redirect, HttpResponse, Page};
use super::profile_doc::facts;
use super::routes::{fail, store_detail, Io, Onboarding};
use super::secrets::{BrowserCookie, Ticket};
use super::state::{self, Flow};
use super::ticket::{self, LinkError};
use crate::ports::code_exchange::CodeExchange;
use crate::ports::profile_store::ProfileStore;
use crate::ports::{TokenRead, TokenWrite};
use crate::query_string::Query;
use reqwest::Url;
use time::OffsetDateTime;

impl<P: ProfileStore, X: CodeExchange, S: TokenRead + TokenWrite> Onboarding<P, X, S> {
    pub(super) async fn authorize(
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
            Err(LinkError::FromTheFuture) => {
                return fail(
                    Page::LinkInvalid,
                    "link issued in the future (beyond the clock skew allowed)",
                )
            }
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
}
