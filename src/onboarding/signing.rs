//! Signed tokens: `base64url(JSON claims) "." base64url(HMAC-SHA256 tag)`.
//!
//! The tag covers a purpose label and the encoded claims, so a link can never
//! pass as a `state` or the other way round. Verification recomputes the tag
//! and compares it in constant time (`aws_lc_rs::hmac::verify`) before the
//! claims are even decoded. Expiry and every other rule are the caller's.

use super::secrets::SigningKey;
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The longest signed token accepted (a `state` is ~250 characters).
pub const MAX_TOKEN_LEN: usize = 1024;

/// How far in the future a link or `state` may claim to have been issued
/// and still be accepted: clocks of the Lambda hosts that mint and check
/// them may differ by this much (they are NTP-synchronised; 60 s is ample).
/// Anything issued later than `now` + this is refused like a forged one.
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::seconds(60);

/// `true` when a token issued at `issued_at` (Unix seconds) claims a time
/// later than `now` + [`MAX_CLOCK_SKEW`]: minted by a clock that runs
/// ahead, or crafted to outlive its lifetime. `now` is the clock seam's.
pub fn issued_in_future(issued_at: i64, now: time::OffsetDateTime) -> bool {
    issued_at > (now + MAX_CLOCK_SKEW).unix_timestamp()
}

/// What a token is for; part of the signed data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An onboarding link (`ticket`).
    Ticket,
    /// An OAuth `state`.
    State,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Ticket => b"spapi-onboarding-ticket-v1\n",
            Purpose::State => b"spapi-onboarding-state-v1\n",
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// Not the shape of a token (too long, wrong characters, not two parts,
    /// claims not decodable).
    Malformed,
    /// Well-formed but the tag does not match: forged, altered, or signed
    /// with another key.
    Forged,
}

/// An HMAC-SHA256 signer built once from the signing key.
pub struct Signer {
    key: hmac::Key,
}

impl Signer {
    /// A signer for `key` (its bytes, used as is).
    pub fn new(key: &SigningKey) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key.expose_secret().as_bytes()),
        }
    }

    fn tag(&self, purpose: Purpose, payload: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(purpose.label());
        ctx.update(payload.as_bytes());
        ctx.sign()
    }

    /// Signs `claims`.
    pub fn sign<T: Serialize>(&self, purpose: Purpose, claims: &T) -> String {
        let json = serde_json::to_vec(claims).expect("claims serialize");
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = self.tag(purpose, &payload);
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Checks `token`'s tag (constant time) and decodes its claims.
    pub fn verify<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        token: &str,
    ) -> Result<T, SignatureError> {
        if token.is_empty()
            || token.len() > MAX_TOKEN_LEN
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(SignatureError::Malformed);
        }
        let (payload, tag) = token.split_once('.').ok_or(SignatureError::Malformed)?;
        if payload.is_empty() || tag.contains('.') {
            return Err(SignatureError::Malformed);
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| SignatureError::Malformed)?;
        if tag.len() != 32 {
            return Err(SignatureError::Malformed);
        }
        let mut data = Vec::with_capacity(purpose.label().len() + payload.len());
        data.extend_from_slice(purpose.label());
        data.extend_from_slice(payload.as_bytes());
        hmac::verify(&self.key, &data, &tag).map_err(|_| SignatureError::Forged)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| SignatureError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| SignatureError::Malformed)
    }
}

/// `n` random bytes from the crypto provider, base64url.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of `value`, base64url (43 characters).
pub fn sha256_b64(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Constant-time equality of two strings (length may leak, not content).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct C {
        p: String,
        e: i64,
    }

    fn signer(k: &str) -> Signer {
        Signer::new(&SigningKey::new(k))
    }

    #[test]
    fn round_trip_and_purpose_separation() {
        let s = signer("k".repeat(32).as_str());
        let c = C {
            p: "acme-de".into(),
            e: 5,
        };
        let t = s.sign(Purpose::Ticket, &c);
        assert_eq!(s.verify::<C>(Purpose::Ticket, &t).unwrap(), c);
        assert_eq!(
            s.verify::<C>(Purpose::State, &t),
            Err(SignatureError::Forged)
        );
        let other = signer("x".repeat(32).as_str());
        assert_eq!(
            other.verify::<C>(Purpose::Ticket, &t),
            Err(SignatureError::Forged)
        );
    }

    #[test]
    fn every_altered_character_is_refused() {
        let s = signer("k".repeat(40).as_str());
        let t = s.sign(
            Purpose::State,
            &C {
                p: "x".into(),
                e: 1,
            },
        );
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(b).unwrap();
            if altered == t {
                continue;
            }
            assert!(s.verify::<C>(Purpose::State, &altered).is_err(), "{i}");
        }
    }

    #[test]
    fn malformed_shapes() {
        let s = signer("k".repeat(32).as_str());
        let good = s.sign(
            Purpose::State,
            &C {
                p: "x".into(),
                e: 1,
            },
        );
        let (payload, _) = good.split_once('.').unwrap();
        for bad in [
            String::new(),
            "abc".into(),
            "a.b.c".into(),
            ".AAAA".into(),
            format!("{payload}."),
            format!("{payload}.AAAA"),
            format!("{good}%00"),
            format!("{good}\n"),
            "A".repeat(MAX_TOKEN_LEN + 1),
            format!("{payload}.{}", "A".repeat(43)).replace('A', "é"),
        ] {
            assert_eq!(
                s.verify::<C>(Purpose::State, &bad),
                Err(SignatureError::Malformed),
                "{bad:?}"
            );
        }
        // A tag of the right length that does not match: forged.
        let forged = format!("{payload}.{}", "A".repeat(43));
        assert_eq!(
            s.verify::<C>(Purpose::State, &forged),
            Err(SignatureError::Forged)
        );
        // Correctly signed claims of another shape: malformed.
        let other = s.sign(Purpose::State, &serde_json::json!({"z": 1}));
        assert_eq!(
            s.verify::<C>(Purpose::State, &other),
            Err(SignatureError::Malformed)
        );
    }

    /// The first correctly signed token of exactly `len` characters (the
    /// claims padded to fit).
    fn signed_of_len(s: &Signer, len: usize) -> String {
        (0..len)
            .map(|n| {
                let p = "x".repeat(n);
                s.sign(Purpose::State, &C { p, e: 1 })
            })
            .find(|t| t.len() == len)
            .expect("some padding gives that length")
    }

    #[test]
    fn the_length_limit_holds_even_for_correctly_signed_tokens() {
        let s = signer("k".repeat(32).as_str());
        let at_limit = signed_of_len(&s, MAX_TOKEN_LEN);
        assert!(s.verify::<C>(Purpose::State, &at_limit).is_ok());
        // Longer (base64 never has 1025) and correctly signed: refused
        // before the HMAC is computed.
        let over = signed_of_len(&s, MAX_TOKEN_LEN + 2);
        assert_eq!(
            s.verify::<C>(Purpose::State, &over),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn tokens_with_dashes_and_underscores_verify() {
        // base64url's two non-alphanumeric characters are part of the shape.
        let s = signer("k".repeat(32).as_str());
        let t = (0..)
            .map(|e| s.sign(Purpose::State, &C { p: "x".into(), e }))
            .find(|t| t.contains('-') && t.contains('_'))
            .unwrap();
        assert!(s.verify::<C>(Purpose::State, &t).is_ok(), "{t}");
    }

    #[test]
    fn an_empty_payload_is_malformed_whatever_the_tag() {
        let s = signer("k".repeat(32).as_str());
        let forged_shape = format!(".{}", "A".repeat(43));
        assert_eq!(
            s.verify::<C>(Purpose::State, &forged_shape),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(random_token(32).len(), 43);
        assert_ne!(random_token(16), random_token(16));
        // printf abc | sha256sum | xxd -r -p | base64 | tr '+/' '-_' | tr -d =
        assert_eq!(
            sha256_b64("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
