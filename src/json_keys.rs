//! The keys of a JSON object's top level, in order, repeats kept: a parsed
//! `serde_json::Value` keeps only the last of a repeated key, so a secret
//! holding `refresh_token` twice would silently use the second.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// The first key that appears more than once at the top level of the JSON
/// object `text`; `None` when none repeats or `text` is not an object.
pub fn first_repeated_key(text: &str) -> Option<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut repeated = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) && repeated.is_none() {
                    repeated = Some(key);
                }
            }
            Ok(repeated)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Keys).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_repeated_top_level_key() {
        assert_eq!(
            first_repeated_key(r#"{"a":1,"b":{"a":2},"c":3,"b":4,"c":5}"#),
            Some("b".to_owned())
        );
        assert_eq!(first_repeated_key(r#"{"a":1,"b":{"a":2,"a":3}}"#), None);
        assert_eq!(first_repeated_key("[1,1]"), None);
        assert_eq!(first_repeated_key("not json"), None);
    }
}
