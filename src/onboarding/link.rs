//! The operators' direct invoke: `{"action":"link","profile":"acme-de",
//! "marketplace":"DE"}` (optional `"account":"vendor"`, `"valid_hours"`
//! 1–720, default 168) → `{"url","expires_at","profile","region",…}`.
//! Anything else is `InvalidEvent`, naming what is wrong.

use super::marketplace::{Account, Marketplace};
use super::signing::Signer;
use super::ticket::{self, DEFAULT_VALID_HOURS, MAX_VALID_HOURS};
use crate::error::ServiceError;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const ACCEPTED: &str =
    "expected {\"action\":\"link\",\"profile\":\"acme-de\",\"marketplace\":\"DE\"} \
    (optional \"account\":\"seller\"|\"vendor\", \"valid_hours\":1..720)";

fn invalid(what: String) -> ServiceError {
    ServiceError::InvalidEvent(format!("{what}; {ACCEPTED}"))
}

fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Mints a link for the event at `now`; `authorize_url` is where links point.
pub fn link(
    signer: &Signer,
    authorize_url: &str,
    event: &Value,
    now: OffsetDateTime,
) -> Result<Value, ServiceError> {
    let Value::Object(map) = event else {
        return Err(invalid("the event is not a JSON object".into()));
    };
    if let Some(k) = map.keys().find(|k| {
        !["action", "profile", "marketplace", "account", "valid_hours"].contains(&k.as_str())
    }) {
        return Err(invalid(format!(
            "unknown field {}",
            shown(&Value::String(k.clone()))
        )));
    }
    match map.get("action") {
        Some(Value::String(a)) if a == "link" => {}
        Some(other) => {
            return Err(invalid(format!(
                "action {} is not one seller-onboarding performs",
                shown(other)
            )))
        }
        None => return Err(invalid("`action` is missing".into())),
    }
    let profile = match map.get("profile") {
        Some(Value::String(p)) => p.as_str(),
        Some(other) => {
            return Err(invalid(format!(
                "profile must be a string, not {}",
                shown(other)
            )))
        }
        None => return Err(invalid("`profile` is missing".into())),
    };
    crate::profile::check_profile_name(profile).map_err(invalid)?;
    let marketplace = match map.get("marketplace") {
        Some(Value::String(m)) => Marketplace::find(m).ok_or_else(|| {
            invalid(format!(
                "marketplace {} is not a marketplace code; use one of {}",
                shown(&Value::String(m.clone())),
                Marketplace::codes()
            ))
        })?,
        Some(other) => {
            return Err(invalid(format!(
                "marketplace must be a string, not {}",
                shown(other)
            )))
        }
        None => return Err(invalid("`marketplace` is missing".into())),
    };
    let account = match map.get("account") {
        None | Some(Value::Null) => Account::Seller,
        Some(Value::String(a)) => Account::parse(a).ok_or_else(|| {
            invalid(format!(
                "account {} is not seller or vendor",
                shown(&Value::String(a.clone()))
            ))
        })?,
        Some(other) => {
            return Err(invalid(format!(
                "account must be \"seller\" or \"vendor\", not {}",
                shown(other)
            )))
        }
    };
    let valid_hours = match map.get("valid_hours") {
        None | Some(Value::Null) => DEFAULT_VALID_HOURS,
        Some(v) => v
            .as_u64()
            .filter(|h| (1..=u64::from(MAX_VALID_HOURS)).contains(h))
            .map(|h| h as u32)
            .ok_or_else(|| {
                invalid(format!(
                    "valid_hours {} is not a whole number from 1 to {MAX_VALID_HOURS}",
                    shown(v)
                ))
            })?,
    };
    let (ticket, claims) = ticket::mint(signer, profile, marketplace, account, valid_hours, now);
    let mut url = reqwest::Url::parse(authorize_url)
        .map_err(|_| invalid("bad ONBOARDING_REDIRECT_URI".into()))?;
    url.query_pairs_mut()
        .append_pair("ticket", ticket.expose_secret());
    Ok(json!({
        "url": url.as_str(),
        "expires_at": claims.expires_at.format(&Rfc3339).expect("formats"),
        "profile": profile,
        "region": marketplace.region.as_str(),
        "marketplace": marketplace.code,
        "account": account.as_str(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::secrets::{SigningKey, Ticket};
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);
    const BASE: &str = "https://x.lambda-url.eu-west-1.on.aws/authorize";

    fn signer() -> Signer {
        Signer::new(&SigningKey::new("0123456789abcdef0123456789abcdef"))
    }

    #[test]
    fn mints_a_link() {
        let v = link(
            &signer(),
            BASE,
            &json!({"action":"link","profile":"acme-de","marketplace":"gb"}),
            NOW,
        )
        .unwrap();
        assert_eq!(v["profile"], "acme-de");
        assert_eq!(v["region"], "eu");
        assert_eq!(v["marketplace"], "UK");
        assert_eq!(v["account"], "seller");
        assert_eq!(v["expires_at"], "2026-12-08T10:00:00Z");
        let url = reqwest::Url::parse(v["url"].as_str().unwrap()).unwrap();
        assert!(url.as_str().starts_with(BASE));
        let t = url
            .query_pairs()
            .find(|(k, _)| k == "ticket")
            .unwrap()
            .1
            .into_owned();
        let c = ticket::verify(&signer(), &Ticket::new(t), NOW).unwrap();
        assert_eq!(c.profile, "acme-de");
        let v = link(&signer(), BASE, &json!({"action":"link","profile":"a","marketplace":"JP","account":"vendor","valid_hours":720}), NOW).unwrap();
        assert_eq!(v["expires_at"], "2026-12-31T10:00:00Z");
        assert_eq!(v["region"], "fe");
    }

    #[test]
    fn invalid_events() {
        for (bad, says) in [
            (json!([]), "not a JSON object"),
            (
                json!({"action":"get","profile":"a","marketplace":"DE"}),
                "action",
            ),
            (json!({"profile":"a","marketplace":"DE"}), "action"),
            (json!({"action":"link","marketplace":"DE"}), "profile"),
            (
                json!({"action":"link","profile":"../a","marketplace":"DE"}),
                "profile name",
            ),
            (
                json!({"action":"link","profile":"a","marketplace":"XX"}),
                "not a marketplace code",
            ),
            (json!({"action":"link","profile":"a"}), "marketplace"),
            (
                json!({"action":"link","profile":"a","marketplace":"DE","account":"buyer"}),
                "seller or vendor",
            ),
            (
                json!({"action":"link","profile":"a","marketplace":"DE","valid_hours":0}),
                "valid_hours",
            ),
            (
                json!({"action":"link","profile":"a","marketplace":"DE","valid_hours":721}),
                "valid_hours",
            ),
            (
                json!({"action":"link","profile":"a","marketplace":"DE","valid_hours":1.5}),
                "valid_hours",
            ),
            (
                json!({"action":"link","profile":"a","marketplace":"DE","valid_hours":"24"}),
                "valid_hours",
            ),
            (
                json!({"action":"link","profile":"a","marketplace":"DE","extra":1}),
                "unknown field",
            ),
        ] {
            let e = link(&signer(), BASE, &bad, NOW).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent");
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
    }
}
