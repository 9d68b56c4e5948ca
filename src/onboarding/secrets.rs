//! Redacting newtypes for the onboarding flow's secret values: the signing
//! key, links (tickets), OAuth `state`, authorization codes and the
//! browser-binding cookie. Like [`crate::secret`]: `Debug` and `Display`
//! print `[redacted]`; the value is reached only through `expose_secret()`.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

macro_rules! onboarding_secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The raw value: only where it must leave the process (a
            /// `Location` header, a cookie, the LWA request) or be verified.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
}

onboarding_secret!(
    /// The HMAC-SHA256 key for links and `state` (`ONBOARDING_SIGNING_SECRET_ID`),
    /// at least 32 characters.
    SigningKey
);
onboarding_secret!(
    /// A signed link (`/authorize?ticket=…`): whoever holds it may connect
    /// a seller account to its profile until it expires or is used.
    Ticket
);
onboarding_secret!(
    /// The OAuth `state` sent to Amazon and checked on `/callback`.
    OAuthState
);
onboarding_secret!(
    /// Amazon's `spapi_oauth_code` (single use, lives 5 minutes).
    AuthCode
);
onboarding_secret!(
    /// The random value of the browser-binding cookie.
    BrowserCookie
);
onboarding_secret!(
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
