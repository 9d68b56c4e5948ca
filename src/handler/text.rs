//! Caller-supplied text as shown in messages: escaped and short, so an event
//! cannot make an error or a log line huge or multi-line.

use serde_json::Value;

/// The most characters of a caller's value shown.
const SHOWN: usize = 60;

/// A caller-supplied text as shown in a message: escaped, at most 60 bytes.
pub fn short_text(t: &str) -> String {
    short_json(&Value::String(t.to_owned()))
}

/// A JSON value as shown in a message: compact, at most 60 bytes then `…`.
pub fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > SHOWN {
        let mut end = SHOWN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        assert_eq!(short_json(&json!(5)), "5");
        assert_eq!(short_text("a\nb"), r#""a\nb""#);
        let long = short_text(&"é".repeat(100));
        assert!(
            long.ends_with('…') && long.len() <= SHOWN + '…'.len_utf8(),
            "{long}"
        );
        let exact = "x".repeat(SHOWN - 2);
        assert_eq!(short_text(&exact).len(), SHOWN);
        assert!(!short_text(&exact).ends_with('…'));
    }
}
