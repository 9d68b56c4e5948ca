//! Onboarding links: a signed, expiring ticket naming one profile,
//! marketplace and account type. `/authorize?ticket=…` turns it into a
//! consent redirect. A link is used up only by a successful connection
//! (see [`super::profile_doc`] for where that is recorded).

use super::marketplace::{Account, Marketplace};
use super::secrets::Ticket;
use super::signing::{issued_in_future, random_token, Purpose, SignatureError, Signer};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Default lifetime of a link, hours.
pub const DEFAULT_VALID_HOURS: u32 = 168;
/// Longest lifetime of a link, hours (30 days).
pub const MAX_VALID_HOURS: u32 = 720;

/// What a link grants. `link_id` is random (128 bits) and is what marks the
/// link used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    /// Profile name (checked with the fleet's rules).
    pub profile: String,
    /// Marketplace of the consent page.
    pub marketplace: &'static Marketplace,
    /// Seller or Vendor Central.
    pub account: Account,
    /// When the link stops working (whole seconds).
    pub expires_at: OffsetDateTime,
    /// Random id of this link (not secret: it is stored once used).
    pub link_id: String,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    p: String,
    m: String,
    a: String,
    x: i64,
    i: String,
    /// Issued at (Unix seconds). Links minted before this field existed
    /// are refused (ask for a new link).
    n: i64,
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not a link of ours (malformed, or a bad signature).
    Invalid,
    /// Past its expiry.
    Expired,
    /// Issued later than now (beyond [`super::signing::MAX_CLOCK_SKEW`]):
    /// refused with the invalid link's page.
    FromTheFuture,
}

/// Mints a link valid for `valid_hours` from `now`.
pub fn mint(
    signer: &Signer,
    profile: &str,
    marketplace: &'static Marketplace,
    account: Account,
    valid_hours: u32,
    now: OffsetDateTime,
) -> (Ticket, LinkClaims) {
    let issued_at = now.replace_nanosecond(0).unwrap_or(now);
    let expires_at = issued_at + time::Duration::hours(i64::from(valid_hours));
    let claims = LinkClaims {
        profile: profile.to_owned(),
        marketplace,
        account,
        expires_at,
        link_id: random_token(16),
    };
    let wire = Wire {
        p: claims.profile.clone(),
        m: marketplace.code.to_owned(),
        a: account.as_str().to_owned(),
        x: expires_at.unix_timestamp(),
        i: claims.link_id.clone(),
        n: issued_at.unix_timestamp(),
    };
    (Ticket::new(signer.sign(Purpose::Ticket, &wire)), claims)
}

/// Checks a link's signature, its issue time (not later than `now` + the
/// clock skew; a lifetime of at most [`MAX_VALID_HOURS`]) and its expiry at
/// `now`.
pub fn verify(
    signer: &Signer,
    ticket: &Ticket,
    now: OffsetDateTime,
) -> Result<LinkClaims, LinkError> {
    let wire: Wire = signer
        .verify(Purpose::Ticket, ticket.expose_secret())
        .map_err(|_: SignatureError| LinkError::Invalid)?;
    let marketplace = Marketplace::find(&wire.m).ok_or(LinkError::Invalid)?;
    let account = Account::parse(&wire.a).ok_or(LinkError::Invalid)?;
    crate::profile::check_profile_name(&wire.p).map_err(|_| LinkError::Invalid)?;
    let expires_at = OffsetDateTime::from_unix_timestamp(wire.x).map_err(|_| LinkError::Invalid)?;
    let lifetime = wire.x.checked_sub(wire.n).ok_or(LinkError::Invalid)?;
    if !(0..=i64::from(MAX_VALID_HOURS) * 3600).contains(&lifetime) {
        return Err(LinkError::Invalid);
    }
    if issued_in_future(wire.n, now) {
        return Err(LinkError::FromTheFuture);
    }
    if now >= expires_at {
        return Err(LinkError::Expired);
    }
    Ok(LinkClaims {
        profile: wire.p,
        marketplace,
        account,
        expires_at,
        link_id: wire.i,
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

    #[test]
    fn valid_until_expiry_then_expired() {
        let now = datetime!(2026-12-01 10:00:00.5 UTC);
        let de = Marketplace::find("DE").unwrap();
        let (t, c) = mint(&signer(), "acme-de", de, Account::Seller, 168, now);
        assert_eq!(c.expires_at, datetime!(2026-12-08 10:00:00 UTC));
        let back = verify(&signer(), &t, now).unwrap();
        assert_eq!(back, c);
        let last = datetime!(2026-12-08 09:59:59 UTC);
        assert!(verify(&signer(), &t, last).is_ok());
        assert_eq!(verify(&signer(), &t, c.expires_at), Err(LinkError::Expired));
    }

    #[test]
    fn issued_in_the_future_is_refused_beyond_the_clock_skew() {
        let now = datetime!(2026-12-01 10:00:00 UTC);
        let de = Marketplace::find("DE").unwrap();
        let skew = super::super::signing::MAX_CLOCK_SKEW;
        let (t, _) = mint(&signer(), "acme-de", de, Account::Seller, 1, now + skew);
        assert!(verify(&signer(), &t, now).is_ok());
        let one_more = now + skew + time::Duration::seconds(1);
        let (t, _) = mint(&signer(), "acme-de", de, Account::Seller, 1, one_more);
        assert_eq!(verify(&signer(), &t, now), Err(LinkError::FromTheFuture));
        assert!(verify(&signer(), &t, now + time::Duration::seconds(1)).is_ok());
        let (t, _) = mint(
            &signer(),
            "acme-de",
            de,
            Account::Seller,
            720,
            now + time::Duration::days(400),
        );
        assert_eq!(verify(&signer(), &t, now), Err(LinkError::FromTheFuture));
    }

    #[test]
    fn a_lifetime_beyond_720_hours_or_negative_is_invalid() {
        let now = datetime!(2026-12-01 10:00:00 UTC);
        let n = now.unix_timestamp();
        for (x, ok) in [
            (n + 720 * 3600, true),
            (n + 720 * 3600 + 1, false),
            (n, false), // lifetime 0: valid claims, but expired now
            (n - 1, false),
        ] {
            let wire = Wire {
                p: "acme".into(),
                m: "DE".into(),
                a: "seller".into(),
                x,
                i: "i".into(),
                n,
            };
            let t = Ticket::new(signer().sign(Purpose::Ticket, &wire));
            let got = verify(&signer(), &t, now);
            match (x - n, ok) {
                (0, _) => assert_eq!(got, Err(LinkError::Expired)),
                (_, true) => assert!(got.is_ok(), "{x}"),
                (_, false) => assert_eq!(got, Err(LinkError::Invalid), "{x}"),
            }
        }
    }

    #[test]
    fn ids_are_unique_and_other_keys_refused() {
        let now = datetime!(2026-12-01 10:00:00 UTC);
        let us = Marketplace::find("us").unwrap();
        let (t1, c1) = mint(&signer(), "a", us, Account::Vendor, 1, now);
        let (_, c2) = mint(&signer(), "a", us, Account::Vendor, 1, now);
        assert_ne!(c1.link_id, c2.link_id);
        let other = Signer::new(&SigningKey::new("another key of at least 32 chars!"));
        assert_eq!(verify(&other, &t1, now), Err(LinkError::Invalid));
        assert_eq!(
            verify(&signer(), &Ticket::new("x.y"), now),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn signed_but_unusable_claims_are_invalid() {
        let now = datetime!(2026-12-01 10:00:00 UTC);
        for wire in [
            Wire {
                p: "../x".into(),
                m: "DE".into(),
                a: "seller".into(),
                x: i64::MAX,
                i: "i".into(),
                n: 0,
            },
            Wire {
                p: "acme".into(),
                m: "XX".into(),
                a: "seller".into(),
                x: i64::MAX,
                i: "i".into(),
                n: 0,
            },
            Wire {
                p: "acme".into(),
                m: "DE".into(),
                a: "buyer".into(),
                x: i64::MAX,
                i: "i".into(),
                n: 0,
            },
            Wire {
                p: "acme".into(),
                m: "DE".into(),
                a: "seller".into(),
                x: i64::MAX,
                i: "i".into(),
                n: 0,
            },
        ] {
            let t = Ticket::new(signer().sign(Purpose::Ticket, &wire));
            assert_eq!(verify(&signer(), &t, now), Err(LinkError::Invalid));
        }
    }
}
