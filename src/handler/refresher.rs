//! The single-profile refresher's invocation: decode the event, refresh,
//! log one summary line.

use super::event::parse_refresher_event;
use crate::error::ServiceError;
use crate::ports::{CredentialsRead, CredentialsWrite, TokenEndpoint, TokenRead, TokenWrite};
use crate::profile::Profile;
use crate::refresh::{Reason, RefreshReport, RefreshRun, Refresher};
use serde_json::Value;
use std::time::{Duration, Instant as StdInstant};
use tokio::time::Instant;

/// Milliseconds with one decimal, for log fields.
pub(crate) fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The log's words for why a refresh was needed.
fn reason_text(reason: &Reason) -> String {
    match reason {
        Reason::Forced => "forced".to_owned(),
        Reason::Missing => "no stored token".to_owned(),
        Reason::Due(left) => format!("{left} s left"),
        Reason::Unreadable(why) => format!("stored token unreadable: {why}"),
    }
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
    C: CredentialsRead + CredentialsWrite,
    E: TokenEndpoint,
    S: TokenRead + TokenWrite,
{
    let command = match parse_refresher_event(event) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error_type = %e.error_type(), error = %e, "invalid event");
            return Err(e);
        }
    };
    // Handler time for the log is real time, not the use case's clock.
    let started = StdInstant::now();
    let RefreshRun {
        result,
        stats,
        reason,
    } = refresher.refresh(profile, command.force, deadline).await;
    let handler_us = started.elapsed().as_micros() as u64;
    let aws_ms = round_ms(stats.aws_latency);
    let reason = reason.as_ref().map(reason_text);
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
            error_type = %e.error_type(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_fields() {
        assert_eq!(round_ms(Duration::from_micros(25_403)), 25.4);
        assert_eq!(round_ms(Duration::from_micros(25_450)), 25.5);
        assert_eq!(reason_text(&Reason::Due(42)), "42 s left");
        assert_eq!(reason_text(&Reason::Missing), "no stored token");
    }
}
