//! The keys of a JSON object's top level, in order, repeats kept: a parsed
//! `serde_json::Value` keeps only the last of a repeated key, so a secret
//! holding `refresh_token` twice would silently use the second.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// Every key that appears more than once at the top level of the JSON
/// object `text`, in the order of their second appearance; empty when none
/// repeats or `text` is not an object.
pub fn repeated_keys(text: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut repeated = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) && !repeated.contains(&key) {
                    repeated.push(key);
                }
            }
            Ok(repeated)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Keys).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_repeated_top_level_key() {
        assert_eq!(
            repeated_keys(r#"{"a":1,"b":{"a":2},"c":3,"b":4,"c":5,"b":6}"#),
            ["b", "c"]
        );
        assert!(repeated_keys(r#"{"a":1,"b":{"a":2,"a":3}}"#).is_empty());
        assert!(repeated_keys("[1,1]").is_empty());
        assert!(repeated_keys("not json").is_empty());
    }
}
