//! Event decoding and response mapping for both functions: scheduled and
//! direct events for the refresher; direct invokes and function URL requests
//! (payload format 2.0) for the reader. Logs one line per invocation, never
//! the event, the request or the token.

use crate::aws::{CredentialsSource, TokenStore};
use crate::config::ReaderTarget;
use crate::credentials::json_kind;
use crate::error::ServiceError;
use crate::fleet::check_profile_name;
use crate::lwa::TokenEndpoint;
use crate::reader::{ReadError, Reader};
use crate::refresh::{Profile, Reason, RefreshReport, Refresher};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlResponse;
use serde_json::{json, Value};
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use tokio::time::Instant;

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
        &["action", "force"],
        envelope,
        "refresh",
        "token-refresher",
        ACCEPTED,
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

/// Checks the shape both functions share for a direct event: a JSON object
/// with only `allowed` keys (any keys when `envelope`), and an `action`, when
/// present, equal to `action`. Returns the object; `InvalidEvent` otherwise.
fn direct_event<'a>(
    event: &'a Value,
    allowed: &[&str],
    envelope: bool,
    action: &str,
    function: &str,
    accepted: &str,
) -> Result<&'a serde_json::Map<String, Value>, ServiceError> {
    let Value::Object(map) = event else {
        return Err(ServiceError::InvalidEvent(format!(
            "the event is {}, not a JSON object; {accepted}",
            json_kind(event)
        )));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !envelope && !allowed.contains(&k.as_str()))
    {
        return Err(ServiceError::InvalidEvent(format!(
            "unknown field `{}` in the event; {accepted}",
            short_text(key)
        )));
    }
    match map.get("action") {
        None => Ok(map),
        Some(Value::String(a)) if a == action => Ok(map),
        Some(other) => Err(ServiceError::InvalidEvent(format!(
            "action {} is not one {function} performs; {accepted}",
            short_json(other)
        ))),
    }
}

/// Converts the Lambda deadline (`Lambda-Runtime-Deadline-Ms`, Unix epoch
/// milliseconds) to a monotonic instant. A value within a day of the epoch is
/// taken as the time left instead: `cargo lambda watch` sends a fixed
/// allowance (600 000 ms) rather than a timestamp.
pub fn deadline_instant(deadline: SystemTime) -> Instant {
    let since_epoch = deadline.duration_since(UNIX_EPOCH).unwrap_or_default();
    let left = if since_epoch < Duration::from_secs(86_400) {
        since_epoch
    } else {
        deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    };
    Instant::now() + left
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Handles one refresher invocation and logs its one summary line: outcome,
/// `expires_at`, token fingerprint, token requests and LWA latency (ms).
pub async fn handle_refresher<C, E, S>(
    refresher: &Refresher<C, E, S>,
    profile: &Profile,
    event: &Value,
    deadline: Instant,
) -> Result<RefreshReport, ServiceError>
where
    C: CredentialsSource,
    E: TokenEndpoint,
    S: TokenStore,
{
    let command = match parse_refresher_event(event) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error_type = e.error_type(), error = %e, "invalid event");
            return Err(e);
        }
    };
    let started = StdInstant::now();
    let (result, stats, reason) = refresher.refresh(profile, command.force, deadline).await;
    let handler_us = started.elapsed().as_micros() as u64;
    let aws_ms = round_ms(stats.aws_latency);
    let reason = reason.map(|r| match r {
        Reason::Forced => "forced".to_owned(),
        Reason::Missing => "no stored token".to_owned(),
        Reason::Due(left) => format!("{left} s left"),
        Reason::Unreadable(why) => format!("stored token unreadable: {why}"),
    });
    let latency_ms = round_ms(stats.latency);
    match &result {
        Ok(report) => tracing::info!(
            outcome = ?report.outcome,
            parameter = %report.parameter,
            expires_at = %report.expires_at,
            token_fingerprint = %report.token_fingerprint,
            token_requests = stats.requests,
            lwa_latency_ms = latency_ms,
            aws_latency_ms = aws_ms,
            handler_us,
            reason = reason.as_deref().unwrap_or("fresh"),
            "token refresh finished"
        ),
        Err(e) => tracing::error!(
            outcome = "failed",
            error_type = e.error_type(),
            error = %e,
            parameter = %profile.parameter_name,
            token_requests = stats.requests,
            lwa_latency_ms = latency_ms,
            aws_latency_ms = aws_ms,
            handler_us,
            reason = reason.as_deref().unwrap_or(""),
            "token refresh failed"
        ),
    }
    result
}

/// Handles one fleet-mode refresher invocation: the same events as the
/// single profile (`force` refreshes every profile). Logs the summary (one
/// line, every failure with its message), prints the EMF metrics line, and
/// fails with `ProfilesFailed` when any profile failed.
pub async fn handle_fleet<E: TokenEndpoint, S: TokenStore>(
    secrets: &crate::aws::SecretsManagerSource,
    endpoint: &E,
    store: &S,
    settings: &crate::fleet::FleetSettings,
    event: &Value,
    deadline: Instant,
) -> Result<crate::fleet::FleetSummary, ServiceError> {
    let command = match parse_refresher_event(event) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error_type = e.error_type(), error = %e, "invalid event");
            return Err(e);
        }
    };
    let started = StdInstant::now();
    let paced = crate::fleet::PacedStore::new(store, settings.write_tps);
    let summary = match crate::fleet::run_fleet(
        secrets,
        endpoint,
        &paced,
        settings,
        command.force,
        deadline,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error_type = e.error_type(), error = %e, "fleet run failed before any profile");
            return Err(e);
        }
    };
    let function =
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "token-refresher".into());
    println!(
        "{}",
        crate::fleet::emf_line(&summary, &function, OffsetDateTime::now_utc())
    );
    let json = serde_json::to_string(&summary).expect("serializes");
    match summary.error() {
        None => {
            tracing::info!(
                summary = %json,
                refreshed = summary.refreshed,
                skipped = summary.skipped,
                failed = summary.failed,
                deferred = summary.deferred,
                duration_ms = started.elapsed().as_millis() as u64,
                "fleet run finished"
            );
            Ok(summary)
        }
        Some(e) => {
            tracing::error!(
                summary = %json,
                refreshed = summary.refreshed,
                skipped = summary.skipped,
                failed = summary.failed,
                deferred = summary.deferred,
                duration_ms = started.elapsed().as_millis() as u64,
                error_type = e.error_type(),
                "fleet run finished"
            );
            Err(e)
        }
    }
}

/// Handles one reader invocation: a function URL request (answered as HTTP)
/// or a direct invoke (answered with the token object or an error). In
/// fleet mode the profile comes from `?profile=` or `"profile"`.
pub async fn handle_reader<S: TokenStore>(
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
        Ok((fingerprint, cached, expires_in, _)) => tracing::info!(
            kind = "direct",
            token_fingerprint = %fingerprint,
            expires_in,
            from_memory = cached,
            handler_us = started.elapsed().as_micros() as u64,
            "token request served"
        ),
        Err(e) => tracing::error!(
            kind = "direct",
            error_type = e.error_type(),
            error = %e,
            "token request failed"
        ),
    }
    result.map(|(_, _, _, v)| v)
}

fn is_function_url_event(event: &Value) -> bool {
    event
        .get("requestContext")
        .and_then(|c| c.get("http"))
        .is_some_and(Value::is_object)
}

/// The parameter a request is for: the single one, or the fleet prefix +
/// a checked profile name. `Err` says what is wrong with the profile.
fn resolve_parameter(target: &ReaderTarget, profile: Option<&str>) -> Result<String, String> {
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

async fn handle_direct<S: TokenStore>(
    reader: &Reader<S>,
    target: &ReaderTarget,
    event: &Value,
) -> Result<(String, bool, i64, Value), ServiceError> {
    const ACCEPTED: &str = "expected {}, {\"action\":\"get\"} or, in fleet mode, {\"action\":\"get\",\"profile\":\"…\"}";
    let map = direct_event(
        event,
        &["action", "profile"],
        false,
        "get",
        "token-reader",
        ACCEPTED,
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
    match reader.get(&parameter, OffsetDateTime::now_utc()).await {
        Ok((answer, cached)) => {
            let fingerprint = crate::secret::fingerprint(&answer.access_token);
            let expires_in = answer.expires_in;
            Ok((
                fingerprint,
                cached,
                expires_in,
                serde_json::to_value(answer).expect("serializes"),
            ))
        }
        Err(ReadError::Unavailable(m)) => Err(ServiceError::TokenUnavailable(m)),
        Err(ReadError::Upstream(detail)) => {
            tracing::error!(parameter = %parameter, detail = %detail, "could not read the token parameter");
            Err(ServiceError::TokenUnavailable(format!(
                "could not read parameter `{parameter}` from SSM; the token-reader's log has the AWS error"
            )))
        }
    }
}

/// The `profile` query parameter of a function URL request.
fn query_profile(event: &Value) -> Option<String> {
    if let Some(p) = event
        .pointer("/queryStringParameters/profile")
        .and_then(Value::as_str)
    {
        return Some(p.to_owned());
    }
    let raw = event.get("rawQueryString").and_then(Value::as_str)?;
    raw.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == "profile").then(|| v.to_owned())
    })
}

async fn handle_url_request<S: TokenStore>(
    reader: &Reader<S>,
    target: &ReaderTarget,
    event: &Value,
) -> LambdaFunctionUrlResponse {
    let method = event
        .pointer("/requestContext/http/method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !method.eq_ignore_ascii_case("GET") {
        let mut response = http_response(
            405,
            &json!({"error": "method_not_allowed", "message": "use GET"}),
        );
        response
            .headers
            .insert("allow", HeaderValue::from_static("GET"));
        return response;
    }
    let parameter = match resolve_parameter(target, query_profile(event).as_deref()) {
        Ok(p) => p,
        Err(message) => {
            return http_response(
                400,
                &json!({"error": "invalid_profile", "message": message}),
            )
        }
    };
    match reader.get(&parameter, OffsetDateTime::now_utc()).await {
        Ok((answer, _)) => http_response(200, &serde_json::to_value(answer).expect("serializes")),
        Err(ReadError::Unavailable(message)) => {
            tracing::error!(error_type = "TokenUnavailable", error = %message, "no usable token");
            http_response(
                503,
                &json!({"error": "token_unavailable", "message": message}),
            )
        }
        Err(ReadError::Upstream(detail)) => {
            tracing::error!(parameter = %parameter, detail = %detail, "could not read the token parameter");
            http_response(502, &json!({"error": "upstream_unavailable"}))
        }
    }
}

fn http_response(status: i64, body: &Value) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(body.to_string());
    response
}

/// A caller-supplied text as shown in a message: escaped, at most 60 characters.
fn short_text(t: &str) -> String {
    short_json(&Value::String(t.to_owned()))
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        let mut end = 60;
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
    }

    #[test]
    fn deadlines_absolute_and_cargo_lambda_relative() {
        let now = Instant::now();
        let lambda = SystemTime::now() + Duration::from_secs(30);
        let d = deadline_instant(lambda) - now;
        assert!(
            d > Duration::from_secs(29) && d <= Duration::from_secs(31),
            "{d:?}"
        );
        let watch = UNIX_EPOCH + Duration::from_millis(600_000);
        let d = deadline_instant(watch) - now;
        assert!(
            d >= Duration::from_secs(599) && d <= Duration::from_secs(601),
            "{d:?}"
        );
        let past = SystemTime::now() - Duration::from_secs(5);
        assert!(deadline_instant(past) <= Instant::now());
        assert_eq!(round_ms(Duration::from_micros(25_403)), 25.4);
    }

    #[test]
    fn reader_event_shapes() {
        assert!(is_function_url_event(&event("reader-url-get.json")));
        assert!(is_function_url_event(&event("reader-url-post.json")));
        assert!(!is_function_url_event(&event("reader-get.json")));
        assert!(!is_function_url_event(&json!({})));
    }
}
