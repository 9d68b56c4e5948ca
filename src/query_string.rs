//! A strict parser for function URL query strings (the onboarding pages and
//! the reader's `?profile=`). Every byte
//! may be hostile: the whole query is bounded, percent-escapes must be
//! valid and decode to UTF-8 without control characters, and a parameter
//! the route reads may appear only once. Any violation is a [`QueryError`]
//! (a `400` page); nothing here panics or echoes the input.

/// The longest query string accepted, bytes.
pub const MAX_QUERY: usize = 8192;
/// The longest decoded value accepted, bytes.
pub const MAX_VALUE: usize = 2048;
/// The most parameters accepted.
pub const MAX_PARAMS: usize = 32;

/// What is wrong with a query (never quotes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// Over [`MAX_QUERY`] bytes, [`MAX_PARAMS`] parameters, or a value over [`MAX_VALUE`].
    TooLong,
    /// A bad percent-escape, invalid UTF-8 or a control character.
    Undecodable,
    /// A parameter the route reads appears more than once.
    Repeated(&'static str),
    /// A required parameter is missing or empty.
    Missing(&'static str),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::TooLong => f.write_str("the query string is too long"),
            QueryError::Undecodable => f.write_str("the query string is not validly encoded"),
            QueryError::Repeated(n) => write!(f, "parameter `{n}` appears more than once"),
            QueryError::Missing(n) => write!(f, "parameter `{n}` is missing"),
        }
    }
}

/// A decoded query string.
#[derive(Debug)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
pub fn decode(raw: &str) -> Result<String, QueryError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let (Some(h), Some(l)) = (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(QueryError::Undecodable);
                };
                out.push(h * 16 + l);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8(out).map_err(|_| QueryError::Undecodable)?;
    if text.chars().any(char::is_control) {
        return Err(QueryError::Undecodable);
    }
    if text.len() > MAX_VALUE {
        return Err(QueryError::TooLong);
    }
    Ok(text)
}

impl Query {
    /// Parses a raw query string (without the `?`).
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        if raw.len() > MAX_QUERY {
            return Err(QueryError::TooLong);
        }
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() == MAX_PARAMS {
                return Err(QueryError::TooLong);
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Self { pairs })
    }

    /// The value of `name` if present once; `Repeated` if more than once.
    pub fn optional(&self, name: &'static str) -> Result<Option<&str>, QueryError> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name {
                if found.is_some() {
                    return Err(QueryError::Repeated(name));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// The non-empty value of `name`, present exactly once.
    pub fn required(&self, name: &'static str) -> Result<&str, QueryError> {
        self.optional(name)?
            .filter(|v| !v.is_empty())
            .ok_or(QueryError::Missing(name))
    }
}

/// `true` when `value` is 1 to `max` characters of `[A-Za-z0-9._-]`.
pub fn is_token_chars(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_encoded_values() {
        let q = Query::parse("a=1&b=x%2By+z&c=&utm=%E2%82%AC").unwrap();
        assert_eq!(q.required("a").unwrap(), "1");
        assert_eq!(q.required("b").unwrap(), "x+y z");
        assert_eq!(q.optional("c").unwrap(), Some(""));
        assert_eq!(q.required("c"), Err(QueryError::Missing("c")));
        assert_eq!(q.optional("utm").unwrap(), Some("€"));
        assert_eq!(q.optional("zzz").unwrap(), None);
        assert_eq!(q.required("zzz"), Err(QueryError::Missing("zzz")));
    }

    #[test]
    fn hostile_queries() {
        for (raw, want) in [
            ("state=a&state=b", Some(QueryError::Repeated("state"))),
            ("state=%00", Some(QueryError::Undecodable)),
            ("state=%0d%0aSet-Cookie:x", Some(QueryError::Undecodable)),
            ("state=%", Some(QueryError::Undecodable)),
            ("state=%zz", Some(QueryError::Undecodable)),
            ("state=%C3%28", Some(QueryError::Undecodable)),
            ("state=%7F", Some(QueryError::Undecodable)),
            ("state=%E2%80%8B%C2%85", Some(QueryError::Undecodable)),
        ] {
            let got = Query::parse(raw).and_then(|q| q.required("state").map(|_| ()));
            assert_eq!(got.err(), want, "{raw}");
        }
        let huge = format!("state={}", "A".repeat(100_000));
        assert_eq!(Query::parse(&huge).err(), Some(QueryError::TooLong));
        let long_value = format!("state={}", "%41".repeat(MAX_VALUE + 1));
        assert!(long_value.len() <= MAX_QUERY);
        assert_eq!(Query::parse(&long_value).err(), Some(QueryError::TooLong));
        // Within the per-value and parameter limits, over the whole-query bound.
        let wide = format!("x={}&", "v".repeat(500)).repeat(20);
        assert!(wide.len() > MAX_QUERY);
        assert_eq!(Query::parse(&wide).err(), Some(QueryError::TooLong));
        let many = "a=1&".repeat(MAX_PARAMS + 1);
        assert_eq!(Query::parse(&many).err(), Some(QueryError::TooLong));
        // Double encoding decodes once: the value keeps its `%`.
        let q = Query::parse("state=%2500").unwrap();
        assert_eq!(q.required("state").unwrap(), "%00");
    }

    #[test]
    fn the_limits_themselves_are_accepted() {
        // Exactly MAX_VALUE decoded bytes: accepted (one more is TooLong above).
        let at_value_limit = format!("state={}", "%41".repeat(MAX_VALUE));
        assert!(at_value_limit.len() <= MAX_QUERY);
        let q = Query::parse(&at_value_limit).unwrap();
        assert_eq!(q.required("state").unwrap().len(), MAX_VALUE);
        // Exactly MAX_QUERY bytes (five values within their limit): accepted.
        let mut at_query_limit = format!("x={}&", "v".repeat(1637)).repeat(5);
        at_query_limit.truncate(MAX_QUERY);
        assert_eq!(at_query_limit.len(), MAX_QUERY);
        assert!(Query::parse(&at_query_limit).is_ok());
        at_query_limit.push('v');
        assert_eq!(
            Query::parse(&at_query_limit).err(),
            Some(QueryError::TooLong)
        );
    }

    #[test]
    fn hex_digits_of_either_case_decode() {
        let q = Query::parse("u=%2f%2F%e2%82%ac%E2%82%AC%7a%0a").unwrap_err();
        assert_eq!(q, QueryError::Undecodable, "%0a is a line break");
        let q = Query::parse("u=%2f%2F%e2%82%ac%E2%82%AC%7a").unwrap();
        assert_eq!(q.required("u").unwrap(), "//€€z");
    }

    #[test]
    fn errors_name_the_parameter() {
        assert_eq!(
            QueryError::TooLong.to_string(),
            "the query string is too long"
        );
        assert_eq!(
            QueryError::Undecodable.to_string(),
            "the query string is not validly encoded"
        );
        assert_eq!(
            QueryError::Repeated("state").to_string(),
            "parameter `state` appears more than once"
        );
        assert_eq!(
            QueryError::Missing("code").to_string(),
            "parameter `code` is missing"
        );
    }

    #[test]
    fn token_chars() {
        assert!(is_token_chars("A1B2.c_d-e", 64));
        assert!(!is_token_chars("", 64));
        assert!(!is_token_chars("a b", 64));
        assert!(!is_token_chars("a<b", 64));
        assert!(!is_token_chars(&"a".repeat(65), 64));
    }
}
