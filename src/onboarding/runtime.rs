//! Composition root of `seller-onboarding`: configuration parsed once, the
//! signing key read once (a missing, unreadable or short key stops the cold
//! start with `ConfigInvalid`), adapters built once, then the runtime loop.

use super::config::{check_signing_key, OnboardingConfig};
use super::exchange::LwaCodeExchange;
use super::handler::handle_onboarding;
use super::routes::{Onboarding, Settings};
use super::secrets::SigningKey;
use super::secrets_store::SecretsManagerProfiles;
use super::signing::Signer;
use crate::aws::{describe_sdk_error, LazySdkConfig, SecretsManagerSource, SsmTokenStore};
use crate::config::ConfigError;
use crate::handler::deadline_instant;
use crate::lwa::LwaClient;
use crate::ports::system_clock;
use crate::runtime::{fail_init, sequential_runtime};
use lambda_runtime::{service_fn, LambdaEvent};

async fn signing_key(sdk: &LazySdkConfig, secret_id: &str) -> Result<SigningKey, ConfigError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk.get().await);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| ConfigError {
            variable: "ONBOARDING_SIGNING_SECRET_ID",
            problem: format!(
                "secret `{secret_id}` could not be read ({}); the function needs secretsmanager:GetSecretValue on it",
                describe_sdk_error(&e).detail
            ),
        })?;
    let value = out.secret_string().unwrap_or_default();
    check_signing_key(value)?;
    Ok(SigningKey::new(value))
}

/// Runs `seller-onboarding` until the runtime stops it.
pub async fn run_onboarding() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let config = match OnboardingConfig::from_env() {
        Ok(c) => c,
        Err(e) => fail_init(&e).await,
    };
    let clock = system_clock();
    let sdk = LazySdkConfig::new();
    let key = match signing_key(&sdk, &config.signing_secret_id).await {
        Ok(k) => k,
        Err(e) => fail_init(&e).await,
    };
    let settings = Settings {
        application_id: config.application_id.clone(),
        draft: config.draft,
        redirect_uri: config.redirect_uri.to_string(),
        authorize_url: config.authorize_url(),
        parameter_prefix: config.parameter_prefix.clone(),
        open: config.open,
        consent_base: config.consent_base.clone(),
        secure_cookies: config.secure_cookies(),
    };
    // One attempt per exchange (a code is single use): max_attempts is 1.
    let lwa =
        LwaClient::new(config.token_url.clone(), config.lwa_timeout, 1).with_clock(clock.clone());
    let app = Onboarding::new(
        settings,
        Signer::new(&key),
        SecretsManagerProfiles::new(sdk.clone(), config.secret_prefix.clone()),
        LwaCodeExchange::new(
            lwa,
            config.app_secret_id.clone(),
            SecretsManagerSource::new(sdk.clone()),
        ),
        SsmTokenStore::new(sdk, config.kms_key_id.clone()),
    );
    drop(key);
    sequential_runtime();
    let (app, clock) = (&app, &clock);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<serde_json::value::RawValue>>| async move {
            let deadline = deadline_instant(event.context.deadline(), clock.as_ref());
            // Read here, not by the runtime: a payload nested too deep is
            // `InvalidEvent`, not the runtime's own deserialization error.
            let payload = crate::runtime::payload(&event)?;
            handle_onboarding(app, &payload, clock.now(), deadline).await
        },
    ))
    .await
}
