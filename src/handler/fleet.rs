//! The fleet refresher's invocation: decode the event, run the fleet, print
//! the metrics line, log the summary.

use super::event::parse_refresher_event;
use crate::error::ServiceError;
use crate::fleet::{emf_line, Fleet, FleetSummary};
use crate::ports::{
    CredentialsRead, CredentialsWrite, SecretDiscovery, TokenEndpoint, TokenList, TokenRead,
    TokenWrite,
};
use serde_json::Value;
use std::time::Instant as StdInstant;
use tokio::time::Instant;

/// Handles one fleet-mode refresher invocation: the same events as the
/// single profile (`force` refreshes every profile). Prints the EMF metrics
/// line (dimension `function_name`, read once at cold start), logs the
/// summary (one line, every failure with its message), and fails with
/// `ProfilesFailed` when any profile failed.
pub async fn handle_fleet<D, E, S>(
    fleet: &Fleet<D, E, S>,
    function_name: &str,
    event: &Value,
    deadline: Instant,
) -> Result<FleetSummary, ServiceError>
where
    D: SecretDiscovery + CredentialsRead + CredentialsWrite,
    E: TokenEndpoint,
    S: TokenList + TokenRead + TokenWrite,
{
    let command = match parse_refresher_event(event) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error_type = %e.error_type(), error = %e, "invalid event");
            return Err(e);
        }
    };
    let started = StdInstant::now();
    let summary = match fleet.run(command.force, deadline).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error_type = %e.error_type(), error = %e, "fleet run failed before any profile");
            return Err(e);
        }
    };
    println!("{}", emf_line(&summary, function_name, fleet.clock().now()));
    let json = serde_json::to_string(&summary).expect("serializes");
    let duration_ms = started.elapsed().as_millis() as u64;
    match summary.error() {
        None => {
            tracing::info!(
                summary = %json,
                refreshed = summary.refreshed,
                skipped = summary.skipped,
                failed = summary.failed,
                deferred = summary.deferred,
                duration_ms,
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
                duration_ms,
                error_type = %e.error_type(),
                "fleet run finished"
            );
            Err(e)
        }
    }
}
