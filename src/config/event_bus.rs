//! `EVENT_BUS_NAME`: the EventBridge bus the refresher publishes `Seller
//! Authorization Lost` / `Restored` to (default `default`). A bus name is 1
//! to 256 of `A-Z a-z 0-9 . - _ /`; an ARN (`arn:aws:events:…:event-bus/…`)
//! is accepted as well
//! (<https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html>).

use super::config_err;
use super::env::{shown, Env};
use super::ConfigError;

/// The bus when `EVENT_BUS_NAME` is unset.
pub const DEFAULT_EVENT_BUS: &str = "default";

/// Reads and checks `EVENT_BUS_NAME`.
pub(super) fn event_bus<F: Fn(&str) -> Option<String>>(
    env: &Env<'_, F>,
) -> Result<String, ConfigError> {
    let Some(bus) = env.get("EVENT_BUS_NAME") else {
        return Ok(DEFAULT_EVENT_BUS.to_owned());
    };
    let name_ok = |n: &str| {
        (1..=256).contains(&n.len())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
    };
    let ok = match bus.strip_prefix("arn:") {
        Some(rest) => {
            rest.len() <= 1600
                && rest
                    .split_once(":event-bus/")
                    .is_some_and(|(head, name)| head.split(':').count() == 4 && name_ok(name))
        }
        None => name_ok(&bus),
    };
    if ok {
        Ok(bus)
    } else {
        Err(config_err(
            "EVENT_BUS_NAME",
            format!(
                "`{}` is not an EventBridge bus name or ARN; expected 1 to 256 of A-Z a-z 0-9 . - _ / \
                 (e.g. `default`), or arn:aws:events:<region>:<account>:event-bus/<name>",
                shown(&bus)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: Option<&str>) -> Result<String, ConfigError> {
        let get = move |n: &str| {
            (n == "EVENT_BUS_NAME")
                .then(|| v.map(str::to_owned))
                .flatten()
        };
        event_bus(&Env(&get))
    }

    #[test]
    fn bus_names_and_arns() {
        assert_eq!(read(None).unwrap(), "default");
        assert_eq!(read(Some("  ")).unwrap(), "default");
        assert_eq!(read(Some("sellers")).unwrap(), "sellers");
        let arn = "arn:aws:events:eu-west-1:123456789012:event-bus/sellers";
        assert_eq!(read(Some(arn)).unwrap(), arn);
        for bad in [
            "a b",
            "bus?",
            "arn:aws:events:x:event-bus/y",
            &"x".repeat(257),
        ] {
            let e = read(Some(bad)).unwrap_err();
            assert_eq!(e.variable, "EVENT_BUS_NAME", "{bad}");
        }
    }
}
