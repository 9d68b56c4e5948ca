//! The direct-event shapes both functions accept, and the refresher's
//! events (EventBridge / Scheduler, `{}`, `{"action":"refresh"}`,
//! `{"action":"refresh","force":true}`).

use super::text::{short_json, short_text};
use crate::credentials::json_kind;
use crate::error::ServiceError;
use serde_json::{Map, Value};

/// What a refresher event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshCommand {
    /// `true` for `{"action":"refresh","force":true}`.
    pub force: bool,
}

/// Decodes a refresher event: an EventBridge / Scheduler event, `{}`,
/// `{"action":"refresh"}` or `{"action":"refresh","force":true}`. Anything
/// else is `InvalidEvent`, naming what was wrong.
pub fn parse_refresher_event(event: &Value) -> Result<RefreshCommand, ServiceError> {
    const ACCEPTED: &str =
        "expected an EventBridge/Scheduler event, {}, {\"action\":\"refresh\"} or \
                            {\"action\":\"refresh\",\"force\":true}";
    // EventBridge (rule or Scheduler "Scheduled Event") envelopes carry
    // their own fields; an `action` or `force` among them is still checked.
    let envelope = event.get("detail-type").is_some() && event.get("source").is_some();
    let map = direct_event(
        event,
        &DirectEvent {
            allowed: &["action", "force"],
            envelope,
            action: "refresh",
            function: "token-refresher",
            accepted: ACCEPTED,
        },
    )?;
    let force = match map.get("force") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ServiceError::InvalidEvent(format!(
                "force must be true or false, not {}; {ACCEPTED}",
                short_json(other)
            )))
        }
    };
    Ok(RefreshCommand { force })
}

/// The shape a function accepts for a direct event.
pub struct DirectEvent<'a> {
    /// The only keys allowed (unless `envelope`).
    pub allowed: &'a [&'a str],
    /// Any keys allowed (an EventBridge envelope).
    pub envelope: bool,
    /// The one `action` the function performs.
    pub action: &'a str,
    /// The function's name, for messages.
    pub function: &'a str,
    /// What is accepted, for messages.
    pub accepted: &'a str,
}

/// Checks the shape both functions share for a direct event: a JSON object
/// with only the allowed keys, and an `action`, when present, equal to the
/// shape's. Returns the object; `InvalidEvent` otherwise.
pub fn direct_event<'a>(
    event: &'a Value,
    shape: &DirectEvent<'_>,
) -> Result<&'a Map<String, Value>, ServiceError> {
    let accepted = shape.accepted;
    let Value::Object(map) = event else {
        return Err(ServiceError::InvalidEvent(format!(
            "the event is {}, not a JSON object; {accepted}",
            json_kind(event)
        )));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !shape.envelope && !shape.allowed.contains(&k.as_str()))
    {
        return Err(ServiceError::InvalidEvent(format!(
            "unknown field `{}` in the event; {accepted}",
            short_text(key)
        )));
    }
    match map.get("action") {
        None => Ok(map),
        Some(Value::String(a)) if a == shape.action => Ok(map),
        Some(other) => Err(ServiceError::InvalidEvent(format!(
            "action {} is not one {} performs; {accepted}",
            short_json(other),
            shape.function
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn refresher_events() {
        assert_eq!(
            parse_refresher_event(&event("scheduled.json")).unwrap(),
            RefreshCommand { force: false }
        );
        assert_eq!(
            parse_refresher_event(&event("refresh.json")).unwrap(),
            RefreshCommand { force: false }
        );
        assert_eq!(
            parse_refresher_event(&event("force-refresh.json")).unwrap(),
            RefreshCommand { force: true }
        );
        assert_eq!(
            parse_refresher_event(&json!({})).unwrap(),
            RefreshCommand { force: false }
        );
        for bad in [
            json!({"action": "rotate"}),
            json!({"action": 1}),
            json!({"action": "refresh", "force": "yes"}),
            json!({"action": "refresh", "forced": true}),
            json!([1]),
            json!("refresh"),
            json!(null),
        ] {
            let e = parse_refresher_event(&bad).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
        }
        let e = parse_refresher_event(&json!({"action": "refresh", "forced": true})).unwrap_err();
        assert!(e.to_string().contains("forced"));
        // An envelope may carry other fields, but not another action.
        let mut e = event("scheduled.json");
        e["force"] = json!(true);
        assert!(parse_refresher_event(&e).unwrap().force);
        e["action"] = json!("delete");
        assert!(parse_refresher_event(&e).is_err());
    }
}
