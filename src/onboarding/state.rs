//! The OAuth `state`: signed, lives 10 minutes, names the profile and
//! region, and binds the browser. Amazon's docs ask for a `state` that is
//! "short-lived and verifiably unique to your user" ("Website authorization
//! workflow", step 1).
//!
//! Browser binding: `/authorize` and `/login` set a random cookie value
//! ([`BrowserCookie`]) and put its SHA-256 into the `state`. `/callback`
//! accepts the `state` only from a browser that presents that cookie, so a
//! `state` (or a whole callback URL) replayed from another browser fails.

use super::marketplace::Region;
use super::secrets::{BrowserCookie, OAuthState};
use super::signing::{
    issued_in_future, random_token, same, sha256_b64, Purpose, SignatureError, Signer,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How long a `state` is accepted.
pub const STATE_LIFETIME: time::Duration = time::Duration::minutes(10);

/// How the seller arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Through an operator's link: the link is used up on success.
    Link {
        /// The link's id.
        link_id: String,
        /// The link's own expiry (kept with the used-link record).
        link_expires_at: OffsetDateTime,
    },
    /// Through the Login URI (Appstore, yearly re-authorization): only this
    /// seller may complete it.
    Login {
        /// The `selling_partner_id` Amazon named on `/login`.
        selling_partner_id: String,
    },
}

/// What a `state` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateClaims {
    /// Profile to write.
    pub profile: String,
    /// Region of the authorization.
    pub region: Region,
    /// Link or Login-URI flow.
    pub flow: Flow,
    /// When the `state` stops being accepted.
    pub expires_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    p: String,
    r: String,
    b: String,
    x: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lx: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
}

/// Why a `state` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// Not the shape of a `state` (400).
    Malformed,
    /// A bad signature (403).
    Forged,
    /// Older than 10 minutes (403).
    Expired,
    /// Issued later than now (beyond [`super::signing::MAX_CLOCK_SKEW`]):
    /// refused with the forged `state`'s page (403).
    FromTheFuture,
    /// This browser does not hold the cookie the `state` was bound to (403).
    OtherBrowser,
}

/// A fresh browser-binding cookie value (256 random bits).
pub fn new_cookie() -> BrowserCookie {
    BrowserCookie::new(random_token(32))
}

/// `true` when `value` has the shape of a cookie value we set.
pub fn is_cookie_shape(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Mints a `state` bound to `cookie`, valid for [`STATE_LIFETIME`] from `now`.
pub fn mint(
    signer: &Signer,
    profile: &str,
    region: Region,
    flow: Flow,
    cookie: &BrowserCookie,
    now: OffsetDateTime,
) -> OAuthState {
    let (l, lx, s) = match flow {
        Flow::Link {
            link_id,
            link_expires_at,
        } => (Some(link_id), Some(link_expires_at.unix_timestamp()), None),
        Flow::Login { selling_partner_id } => (None, None, Some(selling_partner_id)),
    };
    let wire = Wire {
        p: profile.to_owned(),
        r: region.as_str().to_owned(),
        b: sha256_b64(cookie.expose_secret()),
        x: (now + STATE_LIFETIME).unix_timestamp(),
        l,
        lx,
        s,
    };
    OAuthState::new(signer.sign(Purpose::State, &wire))
}

/// Checks a `state`: signature, then its issue time (its expiry minus
/// [`STATE_LIFETIME`]) not later than `now` + the clock skew, then expiry
/// at `now`, then the browser's cookie (`None` when the request carried
/// none).
pub fn verify(
    signer: &Signer,
    state: &OAuthState,
    cookie: Option<&BrowserCookie>,
    now: OffsetDateTime,
) -> Result<StateClaims, StateError> {
    let wire: Wire = signer
        .verify(Purpose::State, state.expose_secret())
        .map_err(|e| match e {
            SignatureError::Malformed => StateError::Malformed,
            SignatureError::Forged => StateError::Forged,
        })?;
    let region = Region::parse(&wire.r).ok_or(StateError::Malformed)?;
    // Minted from a checked link, so a bad name means a leaked key: refuse
    // it all the same (it becomes a secret and a parameter name).
    crate::profile::check_profile_name(&wire.p).map_err(|_| StateError::Malformed)?;
    let expires_at =
        OffsetDateTime::from_unix_timestamp(wire.x).map_err(|_| StateError::Malformed)?;
    let flow = match (wire.l, wire.lx, wire.s) {
        (Some(link_id), Some(lx), None) => Flow::Link {
            link_id,
            link_expires_at: OffsetDateTime::from_unix_timestamp(lx)
                .map_err(|_| StateError::Malformed)?,
        },
        (None, None, Some(selling_partner_id)) => Flow::Login { selling_partner_id },
        _ => return Err(StateError::Malformed),
    };
    if issued_in_future(wire.x.saturating_sub(STATE_LIFETIME.whole_seconds()), now) {
        return Err(StateError::FromTheFuture);
    }
    if now >= expires_at {
        return Err(StateError::Expired);
    }
    let bound = cookie.is_some_and(|c| same(&sha256_b64(c.expose_secret()), &wire.b));
    if !bound {
        return Err(StateError::OtherBrowser);
    }
    Ok(StateClaims {
        profile: wire.p,
        region,
        flow,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::super::secrets::SigningKey;
    use super::*;
    use time::macros::datetime;

    fn signer() -> Signer {
        Signer::new(&SigningKey::new("0123456789abcdef0123456789abcdef"))
    }
    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);

    fn link_flow() -> Flow {
        Flow::Link {
            link_id: "L1".into(),
            link_expires_at: datetime!(2026-12-08 10:00:00 UTC),
        }
    }

    #[test]
    fn round_trip_both_flows() {
        let c = new_cookie();
        assert!(is_cookie_shape(c.expose_secret()));
        for flow in [
            link_flow(),
            Flow::Login {
                selling_partner_id: "A1".into(),
            },
        ] {
            let s = mint(&signer(), "acme-de", Region::Eu, flow.clone(), &c, NOW);
            let back = verify(&signer(), &s, Some(&c), NOW).unwrap();
            assert_eq!(back.profile, "acme-de");
            assert_eq!(back.region, Region::Eu);
            assert_eq!(back.flow, flow);
            assert_eq!(back.expires_at, NOW + STATE_LIFETIME);
        }
    }

    #[test]
    fn a_cookie_is_43_url_safe_base64_characters() {
        assert!(is_cookie_shape(&format!("{}-_", "a".repeat(41))));
        assert!(!is_cookie_shape(&"a".repeat(42)));
        assert!(!is_cookie_shape(&"a".repeat(44)));
        for odd in ['!', '.', '=', '+', '/', ' ', 'é'] {
            let value = format!("{}{odd}", "a".repeat(43 - odd.len_utf8()));
            assert!(!is_cookie_shape(&value), "{value:?}");
        }
    }

    #[test]
    fn a_signed_state_with_a_bad_profile_name_is_refused() {
        let c = new_cookie();
        for bad in ["../../evil", "a/b", ""] {
            let s = mint(&signer(), bad, Region::Eu, link_flow(), &c, NOW);
            assert_eq!(
                verify(&signer(), &s, Some(&c), NOW),
                Err(StateError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ten_minutes_then_expired() {
        let c = new_cookie();
        let s = mint(&signer(), "p", Region::Na, link_flow(), &c, NOW);
        let edge = NOW + time::Duration::seconds(599);
        assert!(verify(&signer(), &s, Some(&c), edge).is_ok());
        assert_eq!(
            verify(&signer(), &s, Some(&c), NOW + STATE_LIFETIME),
            Err(StateError::Expired)
        );
    }

    #[test]
    fn issued_in_the_future_is_refused_beyond_the_clock_skew() {
        let c = new_cookie();
        let skew = super::super::signing::MAX_CLOCK_SKEW;
        // Minted by a clock exactly 60 s ahead: accepted.
        let s = mint(&signer(), "p", Region::Eu, link_flow(), &c, NOW + skew);
        assert!(verify(&signer(), &s, Some(&c), NOW).is_ok());
        // One second more: refused, even though it is far from expired.
        let one_more = NOW + skew + time::Duration::seconds(1);
        let s = mint(&signer(), "p", Region::Eu, link_flow(), &c, one_more);
        assert_eq!(
            verify(&signer(), &s, Some(&c), NOW),
            Err(StateError::FromTheFuture)
        );
        assert!(verify(&signer(), &s, Some(&c), NOW + time::Duration::seconds(1)).is_ok());
        // A day ahead (a state that would outlive its 10 minutes).
        let s = mint(
            &signer(),
            "p",
            Region::Eu,
            link_flow(),
            &c,
            NOW + time::Duration::days(1),
        );
        assert_eq!(
            verify(&signer(), &s, Some(&c), NOW),
            Err(StateError::FromTheFuture)
        );
    }

    #[test]
    fn other_browser_and_forgery() {
        let c = new_cookie();
        let s = mint(&signer(), "p", Region::Fe, link_flow(), &c, NOW);
        assert_eq!(
            verify(&signer(), &s, None, NOW),
            Err(StateError::OtherBrowser)
        );
        assert_eq!(
            verify(&signer(), &s, Some(&new_cookie()), NOW),
            Err(StateError::OtherBrowser)
        );
        let other = Signer::new(&SigningKey::new("another key of at least 32 chars!"));
        assert_eq!(verify(&other, &s, Some(&c), NOW), Err(StateError::Forged));
        assert_eq!(
            verify(&signer(), &OAuthState::new("%00"), Some(&c), NOW),
            Err(StateError::Malformed)
        );
        // A link signed with the same key is not a state.
        let m = super::super::marketplace::Marketplace::find("DE").unwrap();
        let (t, _) = super::super::ticket::mint(
            &signer(),
            "p",
            m,
            super::super::marketplace::Account::Seller,
            1,
            NOW,
        );
        let as_state = OAuthState::new(t.expose_secret());
        assert_eq!(
            verify(&signer(), &as_state, Some(&c), NOW),
            Err(StateError::Forged)
        );
    }

    #[test]
    fn state_is_short_enough_for_a_url() {
        let c = new_cookie();
        let s = mint(
            &signer(),
            &"p".repeat(128),
            Region::Eu,
            link_flow(),
            &c,
            NOW,
        );
        assert!(s.expose_secret().len() < 512, "{}", s.expose_secret().len());
    }
}
