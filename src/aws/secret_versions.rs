//! [`SecretVersions`] over Secrets Manager: `GetSecretValue` by stage or
//! version, `ListSecretVersionIds` (deprecated versions included),
//! `PutSecretValue` with `VersionStages`, `UpdateSecretVersionStage` with
//! `RemoveFromVersionId`. Errors are described by the one classifier in
//! [`crate::aws::describe_sdk_error`], with the IAM fix.

use crate::aws::{describe_sdk_error, AwsFailure, LazySdkConfig};
use crate::ports::secret_versions::{
    SecretVersions, Stage, VersionInfo, VersionValue, VersionsError,
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

/// The Secrets Manager adapter.
pub struct SecretsManagerVersions {
    sdk: Arc<LazySdkConfig>,
    client: OnceCell<aws_sdk_secretsmanager::Client>,
}

impl SecretsManagerVersions {
    /// An adapter sharing `sdk`; the client is built on first use.
    pub fn new(sdk: Arc<LazySdkConfig>) -> Self {
        Self {
            sdk,
            client: OnceCell::new(),
        }
    }

    async fn client(&self) -> &aws_sdk_secretsmanager::Client {
        self.client
            .get_or_init(|| async { aws_sdk_secretsmanager::Client::new(self.sdk.get().await) })
            .await
    }
}

fn failed<E, R>(action: &str, e: &aws_sdk_secretsmanager::error::SdkError<E, R>) -> VersionsError
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let failure = describe_sdk_error(e);
    let detail = failure.detail;
    let fix = match failure.kind {
        AwsFailure::NotFound => " (check the secret name and the region)".to_owned(),
        AwsFailure::AccessDenied => format!(
            " (give the function secretsmanager:{action} on the secret, and kms:Decrypt/kms:GenerateDataKey if it uses a customer key)"
        ),
        _ => String::new(),
    };
    VersionsError(format!("{action}: {detail}{fix}"))
}

fn value(version_id: Option<&str>, s: Option<&str>) -> Result<VersionValue, VersionsError> {
    match s {
        Some(s) => Ok(VersionValue {
            version_id: version_id.unwrap_or_default().to_owned(),
            secret_string: SecretString::from(s.to_owned()),
        }),
        None => Err(VersionsError(
            "the version holds SecretBinary; the credentials must be a SecretString".into(),
        )),
    }
}

impl SecretVersions for SecretsManagerVersions {
    async fn get_stage(
        &self,
        secret_id: &str,
        stage: Stage,
    ) -> Result<Option<VersionValue>, VersionsError> {
        let out = self
            .client()
            .await
            .get_secret_value()
            .secret_id(secret_id)
            .version_stage(stage.label())
            .send()
            .await;
        match out {
            Ok(o) => value(o.version_id(), o.secret_string()).map(Some),
            // A label on no version answers ResourceNotFoundException.
            Err(e)
                if stage != Stage::Current
                    && describe_sdk_error(&e).kind == AwsFailure::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(failed("GetSecretValue", &e)),
        }
    }

    async fn get_version(
        &self,
        secret_id: &str,
        version_id: &str,
    ) -> Result<VersionValue, VersionsError> {
        let o = self
            .client()
            .await
            .get_secret_value()
            .secret_id(secret_id)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| failed("GetSecretValue", &e))?;
        value(o.version_id(), o.secret_string())
    }

    async fn list_versions(&self, secret_id: &str) -> Result<Vec<VersionInfo>, VersionsError> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .client()
                .await
                .list_secret_version_ids()
                .secret_id(secret_id)
                .include_deprecated(true)
                .max_results(100)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| failed("ListSecretVersionIds", &e))?;
            for v in page.versions() {
                out.push(VersionInfo {
                    version_id: v.version_id().unwrap_or_default().to_owned(),
                    stages: v.version_stages().to_vec(),
                    created: v
                        .created_date()
                        // Milliseconds kept: notifications are ordered against it.
                        .and_then(|d| OffsetDateTime::from_unix_timestamp_nanos(d.as_nanos()).ok()),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() && out.len() < 1000 => next = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn put_version(
        &self,
        secret_id: &str,
        document: &SecretString,
        stage: Stage,
    ) -> Result<String, VersionsError> {
        let o = self
            .client()
            .await
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(document.expose_secret())
            .version_stages(stage.label())
            .send()
            .await
            .map_err(|e| failed("PutSecretValue", &e))?;
        Ok(o.version_id().unwrap_or_default().to_owned())
    }

    async fn remove_stage(
        &self,
        secret_id: &str,
        stage: Stage,
        version_id: &str,
    ) -> Result<(), VersionsError> {
        self.client()
            .await
            .update_secret_version_stage()
            .secret_id(secret_id)
            .version_stage(stage.label())
            .remove_from_version_id(version_id)
            .send()
            .await
            .map_err(|e| failed("UpdateSecretVersionStage", &e))?;
        Ok(())
    }
}
