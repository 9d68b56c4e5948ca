//! Composition root of `client-secret-rotator`: configuration parsed once
//! (`ConfigInvalid` at cold start), adapters built once, then the Lambda
//! runtime loop. Every run prints the `ClientSecretDaysLeft` EMF line.

use crate::aws::LazySdkConfig;
use crate::aws::SecretsManagerVersions;
use crate::handler::deadline_instant;
use crate::lwa::LwaClient;
use crate::ports::SystemClock;
use crate::rotation::config::RotatorConfig;
use crate::rotation::error::RotatorError;
use crate::rotation::handler::handle;
use crate::rotation::rotator::{Rotator, RotatorSettings};
use crate::spapi::SpApiApplicationManagement;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

/// Builds the rotator from its configuration and the shared SDK config.
pub fn compose(
    config: &RotatorConfig,
    sdk: std::sync::Arc<LazySdkConfig>,
) -> Rotator<SecretsManagerVersions, LwaClient, SpApiApplicationManagement> {
    Rotator::new(
        SecretsManagerVersions::new(sdk),
        LwaClient::new(
            config.token_url.clone(),
            config.timeout,
            config.max_attempts,
        ),
        SpApiApplicationManagement::new(
            &config.spapi_endpoint,
            config.timeout,
            config.max_attempts,
        ),
        RotatorSettings {
            secret_id: config.secret_id.clone(),
            rotate_before_days: config.rotate_before_days,
            queue_arn: config.queue_arn.clone(),
        },
    )
}

/// Runs `client-secret-rotator` until the runtime stops it.
pub async fn run_rotator() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let config = match RotatorConfig::from_env() {
        Ok(c) => c,
        Err(e) => crate::runtime::fail_init(&e).await,
    };
    let rotator = compose(&config, LazySdkConfig::new());
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "client-secret-rotator".into());
    let (rotator, function) = (&rotator, function.as_str());
    crate::runtime::sequential_runtime();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
        let deadline = deadline_instant(event.context.deadline(), &SystemClock);
        let now = rotator.clock().now();
        // Read here, not by the runtime: a payload nested too deep is
        // `InvalidEvent`, not the runtime's own deserialization error.
        let payload = match crate::runtime::payload(&event) {
            Ok(payload) => payload,
            Err(e) => return Err(Diagnostic::from(RotatorError::InvalidEvent(e.to_string()))),
        };
        // Boxed: the nested futures are too deep for the layout query otherwise.
        let result = Box::pin(handle(rotator, &payload, deadline)).await;
        // The metric on every run (best effort: a failing read is already reported).
        // (Not when the deadline is near: the answer comes first.)
        let time_left = deadline.saturating_duration_since(rotator.clock().instant());
        let status = match &result {
            Ok(v) if v.get("days_left").is_some() => None,
            _ if time_left < std::time::Duration::from_secs(5) => None,
            _ => crate::bounded::within(
                &**rotator.clock(),
                crate::budget::TimeBudget::answer_by(deadline),
                Box::pin(rotator.status(now)),
            )
            .await
            .ok()
            .and_then(Result::ok),
        };
        let days = result
            .as_ref()
            .ok()
            .and_then(|v| v.get("days_left").and_then(Value::as_i64))
            .or(status.as_ref().map(|s| s.days_left));
        if let Some(days) = days {
            println!("{}", crate::rotation::status::emf_days_left(days, function, now));
        }
        if let Err(e) = &result {
            tracing::error!(error_type = e.error_type().as_str(), error = %e, "client-secret-rotator failed");
        }
        result.map_err(Diagnostic::from)
    }))
    .await
}
