//! What is said about a lost authorization: the events' `detail` and the
//! refresher's and reader's messages. Never a secret: names, the errorType,
//! times, the refresh token's fingerprint, and LWA's answer as the
//! contract's errors already word it (redacted there).

use super::marker::AuthorizationLost;
use crate::credentials::SecretDocument;
use crate::ports::{AuthorizationEvent, AuthorizationEventDetail, AuthorizationEventKind};
use crate::profile::Profile;
use crate::token::{rfc3339, StoredToken};
use time::OffsetDateTime;

/// How to fix a lost authorization, for every message.
pub const FIX: &str = "Fix: have the seller re-authorize the app (send them a fresh onboarding link: invoke \
    seller-onboarding with {\"action\":\"link\",\"profile\":…,\"marketplace\":…}; or Seller Central > Manage Your \
    Apps), which stores the new refresh token in the profile's secret; the next refresher run uses it at once";

/// The `Seller Authorization Lost` event of `marker`; `message` says what
/// LWA answered.
pub fn lost_event(
    profile: &Profile,
    doc: Option<&SecretDocument>,
    marker: &AuthorizationLost,
    message: String,
) -> AuthorizationEvent {
    AuthorizationEvent {
        kind: AuthorizationEventKind::Lost,
        detail: detail(profile, doc, marker, message, None),
    }
}

/// The `Seller Authorization Restored` event ending `marker`'s loss `at`.
pub fn restored_event(
    profile: &Profile,
    doc: Option<&SecretDocument>,
    marker: &AuthorizationLost,
    at: OffsetDateTime,
) -> AuthorizationEvent {
    let outage = marker.outage_seconds(at);
    AuthorizationEvent {
        kind: AuthorizationEventKind::Restored,
        detail: detail(
            profile,
            doc,
            marker,
            format!(
                "a token was stored again for parameter `{}` at {}, {outage} s after the authorization was lost",
                profile.parameter_name,
                rfc3339(at)
            ),
            Some(outage),
        ),
    }
}

fn detail(
    profile: &Profile,
    doc: Option<&SecretDocument>,
    marker: &AuthorizationLost,
    message: String,
    outage_seconds: Option<i64>,
) -> AuthorizationEventDetail {
    AuthorizationEventDetail {
        profile: profile.name.clone(),
        parameter: profile.parameter_name.clone(),
        selling_partner_id: doc.and_then(|d| d.label("selling_partner_id")),
        region: doc.and_then(|d| d.label("region")),
        error_type: marker.error_type.error_type(),
        message,
        since: rfc3339(marker.since),
        outage_seconds,
    }
}

/// The refresher's message while the loss lasts: LWA's answer of this run
/// (`None` when no request was made), the marker, the stored token, the
/// event, and the fix.
pub fn refresher_message(
    profile: &Profile,
    lwa: Option<&str>,
    marker: &AuthorizationLost,
    stored: Option<&StoredToken>,
    event: &str,
) -> String {
    let has_token = stored.is_some_and(|t| t.has_token());
    let asked = match lwa {
        // With no token stored, "left as it was" would contradict what follows.
        Some(said) if !has_token => format!(
            "{} ",
            said.trim_end()
                .strip_suffix(crate::error::LEFT_AS_IT_WAS)
                .unwrap_or(said)
                .trim_end()
        ),
        Some(said) => format!("{said} "),
        None => format!(
            "No token request was made for secret `{}` in this run. ",
            profile.secret_id
        ),
    };
    let token = match stored.filter(|t| t.has_token()) {
        Some(t) => format!(
            "The last token in `{}` expires at {}.",
            profile.parameter_name,
            rfc3339(t.expires_at)
        ),
        None => format!("No token is stored in `{}`.", profile.parameter_name),
    };
    format!(
        "{asked}Recorded in `{}`: {}. {token} {event} {FIX}.",
        profile.parameter_name,
        marker.describe()
    )
}

/// The reader's message: the loss, the last token, the fix.
pub fn reader_message(parameter: &str, marker: &AuthorizationLost, token: &StoredToken) -> String {
    let last = if token.has_token() {
        format!("its last token expired at {}", rfc3339(token.expires_at))
    } else {
        "no token was ever stored".to_owned()
    };
    format!(
        "the seller's authorization for parameter `{parameter}` is lost since {} ({}) and {last} (or has less \
         than MIN_VALIDITY_SECONDS left). {FIX}.",
        rfc3339(marker.since),
        marker.error_type.error_type(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorization::LostReason;
    use time::macros::datetime;

    fn profile(name: Option<&str>) -> Profile {
        Profile {
            name: name.map(Into::into),
            secret_id: "spapi/sellers/acme".into(),
            parameter_name: "/spapi/sellers/acme".into(),
        }
    }

    #[test]
    fn event_details_carry_the_contract_s_fields() {
        let marker = AuthorizationLost::new(
            LostReason::LwaInvalidGrant,
            datetime!(2026-12-01 10:00:00 UTC),
            "3f2a9c1d".into(),
        );
        let doc = SecretDocument::parse(
            "s",
            r#"{"refresh_token":"Atzr|PLANTED","selling_partner_id":"A1SELLER","region":"eu"}"#,
        )
        .unwrap();
        let lost = lost_event(&profile(Some("acme")), Some(&doc), &marker, "m".into());
        assert_eq!(
            serde_json::to_value(&lost.detail).unwrap(),
            serde_json::json!({"profile":"acme","parameter":"/spapi/sellers/acme","selling_partner_id":"A1SELLER",
                               "region":"eu","error_type":"LwaInvalidGrant","message":"m","since":"2026-12-01T10:00:00Z"})
        );
        let restored = restored_event(
            &profile(None),
            None,
            &marker,
            datetime!(2026-12-01 12:00:30 UTC),
        );
        assert_eq!(restored.kind.detail_type(), "Seller Authorization Restored");
        let v = serde_json::to_value(&restored.detail).unwrap();
        assert_eq!(v["outage_seconds"], 7230);
        assert!(
            v.get("profile").is_none() && v.get("selling_partner_id").is_none(),
            "{v}"
        );
        assert!(!v.to_string().contains("PLANTED"));
    }
}
