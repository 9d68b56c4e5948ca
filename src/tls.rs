//! One trust store for both HTTP stacks (the AWS SDK's and reqwest's): the
//! system CA bundle, read once from a single file.
//!
//! Left to themselves both stacks call `rustls-native-certs`, which on Linux
//! reads the bundle *and* walks the hashed certificate directory, and each
//! parses the result: four parses of ~140 certificates in the first
//! invocation. Reading one bundle file once halves that CPU work (see
//! docs/performance.md). When no bundle file is found, both stacks
//! keep their own defaults.

use std::sync::OnceLock;

/// Where distributions keep the PEM bundle: `SSL_CERT_FILE` first, then
/// Amazon Linux 2023 / RHEL (the Lambda `provided.al2023` runtime), Debian
/// and Ubuntu, Alpine and others.
const BUNDLES: &[&str] = &[
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
];

/// The system CA bundle (PEM), read on first use; `None` when there is none.
pub fn ca_bundle() -> Option<&'static [u8]> {
    static BUNDLE: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    BUNDLE
        .get_or_init(|| {
            let from_env = std::env::var("SSL_CERT_FILE").ok();
            from_env
                .iter()
                .map(String::as_str)
                .chain(BUNDLES.iter().copied())
                .find_map(|path| std::fs::read(path).ok().filter(|b| !b.is_empty()))
        })
        .as_deref()
}
