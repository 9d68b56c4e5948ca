//! Composition roots of the two binaries: configuration parsed once, adapters
//! built once (their SDK and HTTP clients on first use), then the Lambda
//! runtime loop. A configuration error is reported to the Runtime API as an
//! init error (`/runtime/init/error`) and ends the process.

use crate::aws::{EventBridgePublisher, LazySdkConfig, SecretsManagerSource, SsmTokenStore};
use crate::config::{ConfigError, ReaderConfig, RefresherConfig, RefresherTarget};
use crate::error::ErrorType;
use crate::error::ServiceError;
use crate::fleet::Fleet;
use crate::handler::decode_event;
use crate::handler::{deadline_instant, handle_fleet, handle_reader_before, handle_refresher};
use crate::lwa::LwaClient;
use crate::ports::SystemClock;
use crate::profile::Profile;
use crate::reader::Reader;
use crate::refresh::Refresher;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;

/// Runs `token-refresher` until the runtime stops it.
pub async fn run_refresher() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let config = match RefresherConfig::from_env() {
        Ok(c) => c,
        Err(e) => fail_init(&e).await,
    };
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let sdk = LazySdkConfig::new();
    let secrets = SecretsManagerSource::new(sdk.clone());
    let endpoint = LwaClient::new(
        config.token_url.clone(),
        config.lwa_timeout,
        config.lwa_max_attempts,
    );
    let events: crate::ports::SharedEvents = std::sync::Arc::new(EventBridgePublisher::new(
        sdk.clone(),
        config.event_bus.clone(),
    ));
    let store = SsmTokenStore::new(sdk, config.kms_key_id.clone());
    sequential_runtime();
    match config.target.clone() {
        RefresherTarget::Single {
            secret_id,
            parameter_name,
        } => {
            let refresher = Refresher::new(secrets, endpoint, store, config.refresh_margin)
                .with_events(Some(events));
            let profile = Profile {
                name: None,
                secret_id,
                parameter_name,
            };
            let (refresher, profile) = (&refresher, &profile);
            lambda_runtime::run(service_fn(
                move |event: LambdaEvent<Box<RawValue>>| async move {
                    let deadline = deadline_instant(event.context.deadline(), &SystemClock);
                    let payload = payload(&event)?;
                    handle_refresher(refresher, profile, &payload, deadline).await
                },
            ))
            .await
        }
        RefresherTarget::Fleet(settings) => {
            let budget = config.budget();
            let fleet = Fleet::new(
                secrets,
                endpoint,
                store,
                settings,
                config.refresh_margin,
                budget,
            )
            .with_events(Some(events));
            // The metrics dimension, read once.
            let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .unwrap_or_else(|_| "token-refresher".into());
            let (fleet, function) = (&fleet, function.as_str());
            lambda_runtime::run(service_fn(
                move |event: LambdaEvent<Box<RawValue>>| async move {
                    let deadline = deadline_instant(event.context.deadline(), &SystemClock);
                    let payload = payload(&event)?;
                    handle_fleet(fleet, function, &payload, deadline).await
                },
            ))
            .await
        }
    }
}

/// Runs `token-reader` until the runtime stops it.
pub async fn run_reader() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let config = match ReaderConfig::from_env() {
        Ok(c) => c,
        Err(e) => fail_init(&e).await,
    };
    let reader = Reader::new(
        SsmTokenStore::new(LazySdkConfig::new(), None),
        config.cache_ttl,
        config.min_validity,
    );
    let (reader, target) = (&reader, &config.target);
    sequential_runtime();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let deadline = deadline_instant(event.context.deadline(), &SystemClock);
            let payload = payload(&event)?;
            // Boxed: the nested futures are otherwise too deep for the
            // compiler's layout query (recursion limit).
            Box::pin(handle_reader_before(reader, target, payload, deadline)).await
        },
    ))
    .await
}

/// The invocation's payload as JSON, or `InvalidEvent` (logged here, once:
/// the runtime's own error line is filtered out, see [`crate::telemetry`]).
pub(crate) fn payload(event: &LambdaEvent<Box<RawValue>>) -> Result<Value, ServiceError> {
    decode_event(&event.payload).inspect_err(|e| {
        tracing::error!(error_type = %e.error_type(), error = %e, "invalid event");
    })
}

/// Every function handles one invocation at a time per process, by design
/// (the refresher runs with reserved concurrency 1). Lambda may set
/// `AWS_LAMBDA_MAX_CONCURRENCY`, on which the runtime warns at every cold
/// start that its concurrent mode is not built in; the variable has no
/// other effect on a sequential runtime, so it is removed before the runtime
/// starts (no other thread is running yet: the runtime is single-threaded
/// and the SDK loads on first use).
pub(crate) fn sequential_runtime() {
    if let Ok(value) = std::env::var("AWS_LAMBDA_MAX_CONCURRENCY") {
        std::env::remove_var("AWS_LAMBDA_MAX_CONCURRENCY");
        tracing::debug!(
            max_concurrency = %value,
            "AWS_LAMBDA_MAX_CONCURRENCY is set; this function handles one invocation at a time per process"
        );
    }
}

/// Logs the one line, reports it to the Runtime API as an init error
/// (errorType `ConfigInvalid`) when running under one, and exits with status 1.
pub(crate) async fn fail_init(e: &ConfigError) -> ! {
    let line = format!("invalid configuration: {e}");
    tracing::error!(error_type = %ErrorType::ConfigInvalid, "{line}");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({"errorType": ErrorType::ConfigInvalid, "errorMessage": line});
        let url = format!("http://{api}/2018-06-01/runtime/init/error");
        let sent = reqwest::Client::new()
            .post(url)
            .header(
                "Lambda-Runtime-Function-Error-Type",
                ErrorType::ConfigInvalid.as_str(),
            )
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await;
        if let Err(err) = sent {
            tracing::error!("could not report the init error to the Runtime API: {err}");
        }
    }
    std::process::exit(1)
}
