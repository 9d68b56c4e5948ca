//! The reader's invocation: a function URL request (answered as HTTP) or a
//! direct invoke (answered with the token object or an error). In fleet
//! mode the profile comes from `?profile=` or `"profile"`.

use super::event::{direct_event, DirectEvent};
use super::function_url::{handle_url_request, is_function_url_event};
use super::text::short_json;
use crate::config::ReaderTarget;
use crate::error::ServiceError;
use crate::ports::TokenRead;
use crate::profile::check_profile_name;
use crate::reader::{ReadError, Reader, Served};
use serde_json::Value;
use std::time::Instant as StdInstant;

/// A direct invoke's answer, with what the log line says about it.
struct DirectAnswer {
    fingerprint: String,
    from_memory: bool,
    expires_in: i64,
    body: Value,
}

/// Handles one reader invocation and logs one line (never the token).
pub async fn handle_reader<S: TokenRead>(
    reader: &Reader<S>,
    target: &ReaderTarget,
    event: Value,
) -> Result<Value, ServiceError> {
    let started = StdInstant::now();
    if is_function_url_event(&event) {
        let response = handle_url_request(reader, target, &event).await;
        tracing::info!(
            kind = "function_url",
            status = response.status_code,
            handler_us = started.elapsed().as_micros() as u64,
            "token request served"
        );
        return Ok(serde_json::to_value(response).expect("a response serializes"));
    }
    let result = handle_direct(reader, target, &event).await;
    match &result {
        Ok(a) => tracing::info!(
            kind = "direct",
            token_fingerprint = %a.fingerprint,
            expires_in = a.expires_in,
            from_memory = a.from_memory,
            handler_us = started.elapsed().as_micros() as u64,
            "token request served"
        ),
        Err(e) => tracing::error!(
            kind = "direct",
            error_type = %e.error_type(),
            error = %e,
            "token request failed"
        ),
    }
    result.map(|a| a.body)
}

/// The parameter a request is for: the single one, or the fleet prefix +
/// a checked profile name. `Err` says what is wrong with the profile.
pub(crate) fn resolve_parameter(
    target: &ReaderTarget,
    profile: Option<&str>,
) -> Result<String, String> {
    match (target, profile) {
        (ReaderTarget::Single(parameter), None) => Ok(parameter.clone()),
        (ReaderTarget::Single(_), Some(_)) => Err(
            "this token-reader serves one token (TOKEN_PARAMETER_NAME); remove `profile`".to_owned(),
        ),
        (ReaderTarget::Fleet(_), None) => Err(
            "this token-reader serves a fleet: name the profile (`profile` in the event, or ?profile= in the URL)"
                .to_owned(),
        ),
        (ReaderTarget::Fleet(prefix), Some(name)) => {
            check_profile_name(name)?;
            Ok(format!("{prefix}{name}"))
        }
    }
}

async fn handle_direct<S: TokenRead>(
    reader: &Reader<S>,
    target: &ReaderTarget,
    event: &Value,
) -> Result<DirectAnswer, ServiceError> {
    let map = direct_event(
        event,
        &DirectEvent {
            allowed: &["action", "profile"],
            envelope: false,
            action: "get",
            function: "token-reader",
            accepted: "expected {}, {\"action\":\"get\"} or, in fleet mode, {\"action\":\"get\",\"profile\":\"…\"}",
        },
    )?;
    let profile = match map.get("profile") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.as_str()),
        Some(other) => {
            return Err(ServiceError::InvalidEvent(format!(
                "profile must be a string, not {}",
                short_json(other)
            )))
        }
    };
    let parameter = resolve_parameter(target, profile).map_err(ServiceError::InvalidEvent)?;
    match reader.get(&parameter).await {
        Ok(Served {
            answer,
            from_memory,
        }) => Ok(DirectAnswer {
            fingerprint: crate::secret::fingerprint(&answer.access_token),
            from_memory,
            expires_in: answer.expires_in,
            body: serde_json::to_value(answer).expect("serializes"),
        }),
        Err(ReadError::Unavailable(m)) => Err(ServiceError::TokenUnavailable(m)),
        Err(ReadError::Upstream(detail)) => {
            tracing::error!(parameter = %parameter, detail = %detail, "could not read the token parameter");
            Err(ServiceError::TokenUnavailable(format!(
                "could not read parameter `{parameter}` from SSM; the token-reader's log has the AWS error"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_by_target() {
        let single = ReaderTarget::Single("/p".into());
        let fleet = ReaderTarget::Fleet("/f/".into());
        assert_eq!(resolve_parameter(&single, None).unwrap(), "/p");
        assert!(resolve_parameter(&single, Some("a"))
            .unwrap_err()
            .contains("remove `profile`"));
        assert!(resolve_parameter(&fleet, None)
            .unwrap_err()
            .contains("name the profile"));
        assert_eq!(resolve_parameter(&fleet, Some("acme")).unwrap(), "/f/acme");
        assert!(resolve_parameter(&fleet, Some("../x")).is_err());
    }
}
