//! `token-reader`'s settings: one parameter or a fleet prefix, the memory
//! cache's age and the validity floor.

use super::env::{process_env, Env};
use super::names::{parameter_name, parameter_prefix};
use super::{config_err, ConfigError};
use std::time::Duration;

/// Which tokens the reader serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderTarget {
    /// `TOKEN_PARAMETER_NAME`: one parameter.
    Single(String),
    /// `TOKEN_PARAMETER_PREFIX`: prefix + the caller's `profile`.
    Fleet(String),
}

/// Settings of `token-reader`.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// One parameter or a fleet prefix.
    pub target: ReaderTarget,
    /// `TOKEN_CACHE_SECONDS` (default 60 s): how long a warm reader serves
    /// the token from memory before reading SSM again.
    pub cache_ttl: Duration,
    /// `MIN_VALIDITY_SECONDS` (default 300 s): never return a token with
    /// less than this to live.
    pub min_validity: Duration,
}

impl ReaderConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        env.check_unicode()?;
        let target = match (env.get("TOKEN_PARAMETER_NAME"), env.get("TOKEN_PARAMETER_PREFIX")) {
            (Some(_), Some(_)) => {
                return Err(config_err(
                    "TOKEN_PARAMETER_PREFIX",
                    "is set together with TOKEN_PARAMETER_NAME; set TOKEN_PARAMETER_NAME for one token or \
                     TOKEN_PARAMETER_PREFIX for a fleet, not both",
                ))
            }
            (None, Some(_)) => ReaderTarget::Fleet(parameter_prefix(&env)?),
            _ => ReaderTarget::Single(parameter_name(&env)?),
        };
        let cache = env.integer("TOKEN_CACHE_SECONDS", 60, 0, 3600, |_| None)?;
        let floor = env.integer("MIN_VALIDITY_SECONDS", 300, 0, 3000, |_| None)?;
        Ok(Self {
            target,
            cache_ttl: Duration::from_secs(cache),
            min_validity: Duration::from_secs(floor),
        })
    }
}
