//! Redacting newtypes for the onboarding flow's secret values: the signing
//! key, links (tickets), OAuth `state`, authorization codes and the
//! browser-binding cookie. Like [`crate::secret`]: `Debug` and `Display`
//! print `[redacted]`; the value is reached only through `expose_secret()`.

use crate::secret::secret_newtype;

secret_newtype!(
    no_eq
    /// The HMAC-SHA256 key for links and `state` (`ONBOARDING_SIGNING_SECRET_ID`),
    /// at least 32 characters.
    SigningKey
);
secret_newtype!(
    no_eq
    /// A signed link (`/authorize?ticket=…`): whoever holds it may connect
    /// a seller account to its profile until it expires or is used.
    Ticket
);
secret_newtype!(
    no_eq
    /// The OAuth `state` sent to Amazon and checked on `/callback`.
    OAuthState
);
secret_newtype!(
    no_eq
    /// Amazon's `spapi_oauth_code` (single use, lives 5 minutes).
    AuthCode
);
secret_newtype!(
    no_eq
    /// The random value of the browser-binding cookie.
    BrowserCookie
);
secret_newtype!(
    no_eq
    /// Amazon's opaque `amazon_state` of the Login-URI step.
    AmazonState
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_newtype_redacts() {
        let shown = [
            format!(
                "{:?}{}",
                SigningKey::new("PLANTED"),
                SigningKey::new("PLANTED")
            ),
            format!("{:?}{}", Ticket::new("PLANTED"), Ticket::new("PLANTED")),
            format!(
                "{:?}{}",
                OAuthState::new("PLANTED"),
                OAuthState::new("PLANTED")
            ),
            format!("{:?}{}", AuthCode::new("PLANTED"), AuthCode::new("PLANTED")),
            format!(
                "{:?}{}",
                BrowserCookie::new("PLANTED"),
                BrowserCookie::new("PLANTED")
            ),
            format!(
                "{:?}{}",
                AmazonState::new("PLANTED"),
                AmazonState::new("PLANTED")
            ),
        ];
        for s in shown {
            assert!(!s.contains("PLANTED") && s.contains("[redacted]"), "{s}");
        }
        assert_eq!(AuthCode::new("x").expose_secret(), "x");
    }
}
