//! Does text from outside (LWA's `error`/`error_description`, a body) quote
//! a value that was sent to it? Pattern-based redaction misses a lower-case
//! `%7c`, bare fragments and paths that echo a value, so any piece of
//! [`MIN_PIECE`] or more characters of a sent value, raw or percent-encoded
//! (once or twice), in any case, counts as a quote, and the caller drops the
//! whole text instead of patching it.

use std::collections::HashSet;

/// The shortest piece of a sent value that counts as a quote. Shorter values
/// are checked whole.
pub const MIN_PIECE: usize = 12;

/// Public prefixes of LWA values: a piece lying wholly inside one is not a quote.
const PUBLIC_PREFIXES: &[&[u8]] = &[
    b"amzn1.oa2-cs.v1.",
    b"amzn1.application-oa2-client.",
    b"atzr|",
    b"atza|",
];

/// What replaces a text that quoted a sent value.
pub const WITHHELD: &str =
    "[withheld: LWA's text quoted a value that was sent to it (a secret); not shown]";

/// `true` when `text` contains a piece of [`MIN_PIECE`] or more bytes of any
/// `sent` value (the whole value when it is shorter but at least 4 bytes;
/// pieces wholly inside a public prefix such as `amzn1.oa2-cs.v1.` excepted),
/// compared in ASCII lower case, as is and percent-decoded once and twice.
pub fn quotes_sent_value(text: &str, sent: &[&str]) -> bool {
    let mut pieces: HashSet<Vec<u8>> = HashSet::new();
    let mut short: Vec<Vec<u8>> = Vec::new();
    for value in sent {
        let v = value.as_bytes().to_ascii_lowercase();
        if v.len() >= MIN_PIECE {
            let public = PUBLIC_PREFIXES
                .iter()
                .find(|p| v.starts_with(p))
                .map_or(0, |p| p.len());
            pieces.extend(
                v.windows(MIN_PIECE)
                    .enumerate()
                    .filter(|(i, _)| i + MIN_PIECE > public)
                    .map(|(_, w)| w.to_vec()),
            );
        } else if v.len() >= 4 {
            short.push(v);
        }
    }
    if pieces.is_empty() && short.is_empty() {
        return false;
    }
    let plain = text.as_bytes().to_ascii_lowercase();
    let once = percent_decode(&plain);
    let twice = percent_decode(&once);
    [plain, once, twice].iter().any(|t| {
        t.windows(MIN_PIECE).any(|w| pieces.contains(w))
            || short
                .iter()
                .any(|s| t.windows(s.len()).any(|w| w == s.as_slice()))
    })
}

/// `text` ready for a log line or an error: [`WITHHELD`] when it quotes a
/// `sent` value (see [`quotes_sent_value`]), else with known values and
/// LWA secret patterns redacted ([`crate::secret::redact`]).
pub fn scrub(text: &str, sent: &[&str]) -> String {
    if quotes_sent_value(text, sent) {
        WITHHELD.to_owned()
    } else {
        crate::secret::redact(text, sent)
    }
}

/// `%XX` sequences decoded (invalid ones kept as they are), then lower-cased.
fn percent_decode(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' && i + 2 < text.len() {
            if let (Some(h), Some(l)) = (hex(text[i + 1]), hex(text[i + 2])) {
                out.push((h << 4 | l).to_ascii_lowercase());
                i += 3;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RT: &str = "Atzr|IwEBIPc3Xz9kLm2NoPq4RsTu5VwXy6Za7Bc8De9Fg0Hi";
    const CS: &str = "amzn1.oa2-cs.v1.3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d";

    #[test]
    fn whole_values_pieces_encodings_and_case() {
        let sent = [RT, CS];
        for text in [
            format!("bad token {RT}"),
            "refresh_token Atzr%7ciwebipc3xz9klm2nopq4".to_owned(),
            "refresh_token=Atzr%257CIwEBIPc3Xz9kLm".to_owned(),
            "fragment ...Xz9kLm2NoPq4Rs... of it".to_owned(),
            "path /tokens/c7d8e9f0a1b2c3d/x".to_owned(),
            "CS 3F9A0C1D2E3F4A5B".to_owned(),
            "straddling cs.v1.3f9a0c1 it".to_owned(),
        ] {
            assert!(quotes_sent_value(&text, &sent), "{text}");
        }
    }

    #[test]
    fn ordinary_text_and_short_overlaps_pass() {
        let sent = [RT, CS];
        for text in [
            "The request has an invalid grant parameter : refresh_token",
            "Client authentication failed",
            "amzn1.oa2-cs.v1. is the prefix; Atzr| too",
            "IwEBIPc3Xz9", // 11 characters of the token
            "%zz%4 trailing percent %",
        ] {
            assert!(!quotes_sent_value(text, &sent), "{text}");
        }
        assert!(!quotes_sent_value("anything", &[]));
    }

    #[test]
    fn scrub_withholds_quotes_and_redacts_patterns() {
        assert_eq!(scrub("bad Atzr%7ciwebipc3xz9klm2", &[RT]), WITHHELD);
        assert_eq!(
            scrub("other token Atza|zzz9 here", &[RT]),
            "other token [redacted] here"
        );
        assert_eq!(
            scrub("Client authentication failed", &[RT, CS]),
            "Client authentication failed"
        );
    }

    #[test]
    fn short_values_are_checked_whole() {
        assert!(quotes_sent_value("x S3CRET! y", &["s3cret!"]));
        assert!(!quotes_sent_value("x s3c y", &["s3cret!"]));
        assert!(!quotes_sent_value("abc", &["ab"]));
    }
}
