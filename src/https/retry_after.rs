//! The `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an
//! HTTP-date.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::Duration;
use time::OffsetDateTime;

/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER_SECONDS: u64 = 3600;

/// `Retry-After` as seconds or an HTTP date (relative to `now`; a date in
/// the past is zero), at most [`MAX_RETRY_AFTER_SECONDS`]. `None` when
/// absent or unreadable.
pub fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(MAX_RETRY_AFTER_SECONDS)));
    }
    let when = OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (when - now)
        .whole_seconds()
        .clamp(0, MAX_RETRY_AFTER_SECONDS as i64);
    Some(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const T0: OffsetDateTime = time::macros::datetime!(2026-11-30 12:00:00 UTC);

    #[test]
    fn retry_after_seconds_and_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, T0), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999999"));
        assert_eq!(retry_after(&h, T0), Some(Duration::from_secs(3600)));
        // An HTTP date, exactly 30 s after the answer; one in the past is 0.
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Mon, 30 Nov 2026 12:00:30 GMT"),
        );
        assert_eq!(retry_after(&h, T0), Some(Duration::from_secs(30)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Mon, 30 Nov 2026 13:00:01 GMT"),
        );
        assert_eq!(retry_after(&h, T0), Some(Duration::from_secs(3600)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Mon, 30 Nov 2026 11:59:00 GMT"),
        );
        assert_eq!(retry_after(&h, T0), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, T0), None);
    }
}
