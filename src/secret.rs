//! Newtypes for the values that must never reach a log line, an error or a
//! response: client secrets, refresh tokens and access tokens.
//!
//! Each wraps a [`secrecy::SecretString`] (zeroized on drop) and prints
//! `[redacted]` through both `Debug` and `Display`, so `{:?}` or `{}` on a
//! struct that holds one cannot leak it. The value is reached only through
//! `expose_secret()`, whose call sites are few and deliberate: building the
//! LWA request body, writing the stored token, and the reader's token response.

macro_rules! secret_newtype {
    (no_eq $(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(::secrecy::SecretString);

        impl $name {
            /// Wraps a value; the caller hands over ownership of the only copy.
            pub fn new(value: impl Into<String>) -> Self {
                Self(::secrecy::SecretString::from(value.into()))
            }

            /// The raw value. Call only where the value must leave the process
            /// (the LWA request, the SSM write, the reader's response, a
            /// `Location` header or cookie) or be verified.
            pub fn expose_secret(&self) -> &str {
                ::secrecy::ExposeSecret::expose_secret(&self.0)
            }

            /// `true` when the value is the empty string.
            pub fn is_empty(&self) -> bool {
                ::secrecy::ExposeSecret::expose_secret(&self.0).is_empty()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
    ($(#[$doc:meta])* $name:ident) => {
        secret_newtype!(no_eq $(#[$doc])* $name);

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.expose_secret() == other.expose_secret()
            }
        }
    };
}

/// For the other secret newtypes of the crate (onboarding's links, `state`,
/// codes, cookie and signing key): `secret_newtype!(no_eq …)` leaves out
/// `PartialEq`, so such values are compared only in constant time.
pub(crate) use secret_newtype;

secret_newtype!(
    /// An LWA client secret (`amzn1.oa2-cs.v1.…`). Client secrets expire every
    /// 180 days; see "Rotate your LWA credentials" in the SP-API docs.
    ClientSecret
);
secret_newtype!(
    /// An LWA refresh token (`Atzr|…`): the seller's long-lived authorization.
    RefreshToken
);
secret_newtype!(
    /// An LWA access token (`Atza|…`, up to 2048 bytes), valid for `expires_in`
    /// seconds (3600 today) after it was issued.
    AccessToken
);

impl AccessToken {
    /// First 8 hex digits of the SHA-256 of the token: lets operators correlate
    /// a token across logs and responses without seeing it.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.expose_secret())
    }
}

/// First 8 hex digits of SHA-256 of `value`.
pub fn fingerprint(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Prefixes of LWA secret values: access tokens, refresh tokens (also
/// percent-encoded, as in a form body) and client secrets.
const SECRET_PREFIXES: &[&str] = &["Atza|", "Atzr|", "Atza%7C", "Atzr%7C", "amzn1.oa2-cs.v1."];

/// `text` with every `known` value and every LWA token or client secret
/// pattern replaced by `[redacted]`. For text that comes from outside (LWA's
/// `error_description`, transport errors) before it reaches a log or an error.
pub fn redact(text: &str, known: &[&str]) -> String {
    let mut out = text.to_owned();
    for value in known.iter().filter(|v| v.len() >= 4) {
        if out.contains(value) {
            out = out.replace(value, "[redacted]");
        }
    }
    for prefix in SECRET_PREFIXES {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            let run = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || "-_+/=.|%~".contains(c)))
                .unwrap_or(after.len());
            result.push_str(&rest[..i]);
            if run == 0 {
                result.push_str(prefix);
            } else {
                result.push_str("[redacted]");
            }
            rest = &after[run..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_known_values_and_patterns() {
        let text = "bad: client_secret=amzn1.oa2-cs.v1.abc123 refresh_token=Atzr|xyz-9 t=Atza%7Cq1 s3cr3t! keep Atza|…";
        let r = redact(text, &["s3cr3t!"]);
        assert_eq!(r, "bad: client_secret=[redacted] refresh_token=[redacted] t=[redacted] [redacted] keep Atza|…");
    }

    #[test]
    fn debug_and_display_redact() {
        let s = ClientSecret::new("amzn1.oa2-cs.v1.SECRET");
        let r = RefreshToken::new("Atzr|SECRET");
        let a = AccessToken::new("Atza|SECRET");
        for shown in [
            format!("{s:?}"),
            format!("{s}"),
            format!("{r:?}"),
            format!("{r}"),
            format!("{a:?}"),
            format!("{a}"),
            format!("{:?}", Some(&a)),
        ] {
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
        assert_eq!(a.expose_secret(), "Atza|SECRET");
    }

    #[test]
    fn fingerprint_is_sha256_prefix() {
        // printf 'abc' | sha256sum -> ba7816bf8f01cfea...
        assert_eq!(fingerprint("abc"), "ba7816bf");
        assert_eq!(AccessToken::new("abc").fingerprint(), "ba7816bf");
    }
}
