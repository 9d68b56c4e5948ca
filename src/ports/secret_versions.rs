//! Secrets Manager versions and staging labels, as the client-secret rotator
//! sees them.
//!
//! Semantics the port promises (the real API's, from the Secrets Manager API
//! reference for `PutSecretValue`, `UpdateSecretVersionStage` and
//! `ListSecretVersionIds`):
//! - a staging label is on at most one version of a secret;
//! - putting a version staged `AWSCURRENT` moves `AWSCURRENT` to it and
//!   `AWSPREVIOUS` to the version that held `AWSCURRENT`;
//! - putting a version staged `AWSPENDING` moves only `AWSPENDING`;
//! - removing a label from a version leaves every other label where it is.

use secrecy::SecretString;
use time::OffsetDateTime;

/// A Secrets Manager staging label the rotator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// `AWSCURRENT`: what every reader gets by default.
    Current,
    /// `AWSPENDING`: a new client secret saved but not yet accepted by LWA.
    Pending,
    /// `AWSPREVIOUS`: the version `AWSCURRENT` was last moved away from.
    Previous,
}

impl Stage {
    /// The label as Secrets Manager spells it.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Current => "AWSCURRENT",
            Stage::Pending => "AWSPENDING",
            Stage::Previous => "AWSPREVIOUS",
        }
    }
}

/// One version's value (a `SecretString`; never printed).
pub struct VersionValue {
    /// `VersionId`.
    pub version_id: String,
    /// The `SecretString`.
    pub secret_string: SecretString,
}

/// One entry of `ListSecretVersionIds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// `VersionId`.
    pub version_id: String,
    /// Staging labels (`AWSCURRENT`, …); empty for a deprecated version.
    pub stages: Vec<String>,
    /// `CreatedDate`.
    pub created: Option<OffsetDateTime>,
}

/// Why a Secrets Manager call failed: one line with the AWS error code and
/// message and the fix. Never a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VersionsError(pub String);

/// Versions and labels of one secret.
#[allow(async_fn_in_trait)]
pub trait SecretVersions {
    /// The value of the version carrying `stage`, `Ok(None)` when no version
    /// carries it (`GetSecretValue` with `VersionStage`).
    async fn get_stage(
        &self,
        secret_id: &str,
        stage: Stage,
    ) -> Result<Option<VersionValue>, VersionsError>;
    /// The value of one version (`GetSecretValue` with `VersionId`).
    async fn get_version(
        &self,
        secret_id: &str,
        version_id: &str,
    ) -> Result<VersionValue, VersionsError>;
    /// Every retained version, deprecated ones included
    /// (`ListSecretVersionIds` with `IncludeDeprecated`).
    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, VersionsError>;
    /// Stores `document` as a new version carrying `stage`
    /// (`PutSecretValue` with `VersionStages`); returns its `VersionId`.
    async fn put_version(
        &self,
        secret_id: &str,
        document: &SecretString,
        stage: Stage,
    ) -> Result<String, VersionsError>;
    /// Removes `stage` from `version_id` (`UpdateSecretVersionStage` with
    /// `RemoveFromVersionId`).
    async fn remove_stage(
        &self,
        secret_id: &str,
        stage: Stage,
        version_id: &str,
    ) -> Result<(), VersionsError>;
}

impl<T: SecretVersions + ?Sized> SecretVersions for &T {
    async fn get_stage(
        &self,
        secret_id: &str,
        stage: Stage,
    ) -> Result<Option<VersionValue>, VersionsError> {
        (**self).get_stage(secret_id, stage).await
    }
    async fn get_version(
        &self,
        secret_id: &str,
        version_id: &str,
    ) -> Result<VersionValue, VersionsError> {
        (**self).get_version(secret_id, version_id).await
    }
    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, VersionsError> {
        (**self).list_versions(secret_id).await
    }
    async fn put_version(
        &self,
        secret_id: &str,
        document: &SecretString,
        stage: Stage,
    ) -> Result<String, VersionsError> {
        (**self).put_version(secret_id, document, stage).await
    }
    async fn remove_stage(
        &self,
        secret_id: &str,
        stage: Stage,
        version_id: &str,
    ) -> Result<(), VersionsError> {
        (**self).remove_stage(secret_id, stage, version_id).await
    }
}
