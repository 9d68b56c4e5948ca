//! `token-refresher`'s settings: one profile or a fleet, the token
//! endpoint, the margin and the token request's timeout and attempts.

use super::env::{process_env, Env};
use super::names::{parameter_name, parameter_prefix};
use super::token_url::token_url;
use super::{config_err, ConfigError, DEFAULT_TOKEN_URL};
use crate::budget::TimeBudget;
use crate::fleet::FleetSettings;
use reqwest::Url;
use std::time::Duration;

/// Which profiles the refresher serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefresherTarget {
    /// `LWA_CREDENTIALS_SECRET_ID` + `TOKEN_PARAMETER_NAME`: one profile.
    Single {
        /// Secrets Manager secret name or ARN.
        secret_id: String,
        /// SSM parameter name.
        parameter_name: String,
    },
    /// `LWA_SECRET_PREFIX` + `TOKEN_PARAMETER_PREFIX`: every secret whose
    /// name starts with the prefix is a profile.
    Fleet(FleetSettings),
}

/// Settings of `token-refresher`.
#[derive(Debug, Clone)]
pub struct RefresherConfig {
    /// One profile or a fleet.
    pub target: RefresherTarget,
    /// `LWA_TOKEN_URL`: the LWA token endpoint.
    pub token_url: Url,
    /// `TOKEN_KMS_KEY_ID`: KMS key for the SecureString; `None` = `alias/aws/ssm`.
    pub kms_key_id: Option<String>,
    /// `REFRESH_MARGIN_SECONDS` (default 1800 s): refresh when the stored
    /// token has this long or less to live.
    pub refresh_margin: Duration,
    /// `LWA_TIMEOUT_MS` (default 10 000 ms): per-attempt timeout of a token request.
    pub lwa_timeout: Duration,
    /// `LWA_MAX_ATTEMPTS` (default 3): attempts for retryable failures.
    pub lwa_max_attempts: u32,
    /// Non-fatal remarks to log once at cold start (e.g. a risky margin).
    pub warnings: Vec<String>,
}

impl RefresherConfig {
    /// The time budget of one refresh: a token request attempt of
    /// `LWA_TIMEOUT_MS`, then the writes.
    pub fn budget(&self) -> TimeBudget {
        TimeBudget::new(self.lwa_timeout)
    }
}

impl RefresherConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        env.check_unicode()?;
        let single = env.get("LWA_CREDENTIALS_SECRET_ID").is_some()
            || env.get("TOKEN_PARAMETER_NAME").is_some();
        let fleet =
            env.get("LWA_SECRET_PREFIX").is_some() || env.get("TOKEN_PARAMETER_PREFIX").is_some();
        let target = if fleet && !single {
            RefresherTarget::Fleet(fleet_config(&env)?)
        } else {
            if fleet {
                let var = if env.get("LWA_SECRET_PREFIX").is_some() {
                    "LWA_SECRET_PREFIX"
                } else {
                    "TOKEN_PARAMETER_PREFIX"
                };
                return Err(config_err(
                    var,
                    "is set together with LWA_CREDENTIALS_SECRET_ID / TOKEN_PARAMETER_NAME; set either the single-profile \
                     pair or the fleet prefixes (LWA_SECRET_PREFIX and TOKEN_PARAMETER_PREFIX), not both",
                ));
            }
            let secret_id = env.required(
                "LWA_CREDENTIALS_SECRET_ID",
                "a Secrets Manager secret name or ARN holding the LWA credentials JSON \
                 (or, for fleet mode, LWA_SECRET_PREFIX and TOKEN_PARAMETER_PREFIX)",
            )?;
            RefresherTarget::Single {
                parameter_name: parameter_name(&env)?,
                secret_id,
            }
        };
        let token_url = token_url(
            env.get("LWA_TOKEN_URL")
                .as_deref()
                .unwrap_or(DEFAULT_TOKEN_URL),
        )?;
        let kms_key_id = env.get("TOKEN_KMS_KEY_ID");
        let margin = env.integer("REFRESH_MARGIN_SECONDS", 1800, 0, 3599, |v| {
            (v >= 3600).then(|| {
                format!(
                    "{v} is at or above the access token's lifetime (3600 s today), so every run would refresh; \
                     expected whole seconds below 3600, e.g. 1800"
                )
            })
        })?;
        let mut warnings = Vec::new();
        if margin < 900 {
            warnings.push(format!(
                "REFRESH_MARGIN_SECONDS={margin}: with a 10-minute schedule and consumers caching the \
                 token for up to 5 minutes, a margin under 900 s can let a token lapse; 1800 is the default"
            ));
        }
        if margin > 3000 {
            warnings.push(format!(
                "REFRESH_MARGIN_SECONDS={margin}: a 3600 s token has at most 3000 s left at the next run of a \
                 10-minute schedule, so every run will call LWA; 1800 is the default"
            ));
        }
        let timeout_ms = env.integer("LWA_TIMEOUT_MS", 10_000, 100, 60_000, |_| None)?;
        let attempts = env.integer("LWA_MAX_ATTEMPTS", 3, 1, 10, |_| None)?;
        Ok(Self {
            target,
            token_url,
            kms_key_id,
            refresh_margin: Duration::from_secs(margin),
            lwa_timeout: Duration::from_millis(timeout_ms),
            lwa_max_attempts: attempts as u32,
            warnings,
        })
    }
}

fn fleet_config<F: Fn(&str) -> Option<String>>(
    env: &Env<'_, F>,
) -> Result<FleetSettings, ConfigError> {
    let secret_prefix = env.required(
        "LWA_SECRET_PREFIX",
        "the secret-name prefix of the fleet's profiles, e.g. spapi/lwa/sellers/ (fleet mode needs it with TOKEN_PARAMETER_PREFIX)",
    )?;
    let parameter_prefix = parameter_prefix(env)?;
    Ok(FleetSettings {
        secret_prefix,
        parameter_prefix,
        app_secret_id: env.get("LWA_APP_SECRET_ID"),
        concurrency: env.integer("REFRESH_CONCURRENCY", 8, 1, 64, |_| None)? as usize,
        write_tps: env.integer("SSM_WRITE_TPS", 3, 0, 1000, |_| None)? as u32,
        spread: Duration::from_secs(env.integer("REFRESH_SPREAD_SECONDS", 600, 0, 3000, |_| None)?),
    })
}
