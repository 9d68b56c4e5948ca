//! Secrets Manager adapter: reads a credentials secret
//! ([`CredentialsRead`]) and writes a rotated refresh token back
//! ([`CredentialsWrite`]). Discovery by prefix is in
//! [`super::secrets_discovery`].

use super::sdk::LazySdkConfig;
use super::sdk_error::{describe_sdk_error, AwsFailure};
use crate::credentials::{binary_secret_error, RefreshTokenOrigin, SecretDocument};
use crate::ports::{CredentialsLoadError, CredentialsRead, CredentialsSaveError, CredentialsWrite};
use crate::previous_secret::PreviousClient;
use crate::rotated_refresh_token::{rewrite_current, RefreshTokenRewrite};
use crate::secret::RefreshToken;
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Secrets Manager adapter.
pub struct SecretsManagerSource {
    sdk: Arc<LazySdkConfig>,
    client: OnceCell<aws_sdk_secretsmanager::Client>,
}

impl SecretsManagerSource {
    /// An adapter sharing `sdk`; the client is built on first use.
    pub fn new(sdk: Arc<LazySdkConfig>) -> Self {
        Self {
            sdk,
            client: OnceCell::new(),
        }
    }

    pub(super) async fn client(&self) -> &aws_sdk_secretsmanager::Client {
        self.client
            .get_or_init(|| async { aws_sdk_secretsmanager::Client::new(self.sdk.get().await) })
            .await
    }
}

/// A secret value as read: its `SecretString` parsed, `SecretBinary`
/// refused, no value explained.
pub(super) fn document_of(
    name: &str,
    string: Option<&str>,
    binary: bool,
) -> Result<SecretDocument, CredentialsLoadError> {
    match (string, binary) {
        (Some(s), _) => SecretDocument::parse(name, s).map_err(CredentialsLoadError::Invalid),
        (None, true) => Err(CredentialsLoadError::Invalid(binary_secret_error(name))),
        (None, false) => Err(CredentialsLoadError::Unavailable(
            "the secret has no current value (AWSCURRENT); put the credentials JSON in it"
                .to_owned(),
        )),
    }
}

impl CredentialsRead for SecretsManagerSource {
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError> {
        let out = self
            .client()
            .await
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                let failure = describe_sdk_error(&e);
                let fix = match failure.kind {
                    AwsFailure::NotFound => " (check LWA_CREDENTIALS_SECRET_ID and the region)",
                    AwsFailure::AccessDenied => {
                        " (give the function secretsmanager:GetSecretValue on the secret, and kms:Decrypt if it uses a customer key)"
                    }
                    _ => "",
                };
                CredentialsLoadError::Unavailable(format!("{}{fix}", failure.detail))
            })?;
        document_of(
            secret_id,
            out.secret_string(),
            out.secret_binary().is_some(),
        )
    }

    /// `GetSecretValue` with `VersionStage=AWSPREVIOUS`; no such version
    /// (ResourceNotFoundException) is `Ok(None)`.
    async fn read_previous_client(
        &self,
        secret_id: &str,
    ) -> Result<Option<PreviousClient>, CredentialsLoadError> {
        let out = self
            .client()
            .await
            .get_secret_value()
            .secret_id(secret_id)
            .version_stage("AWSPREVIOUS")
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.secret_string().and_then(|s| {
                PreviousClient::parse(secret_id, &secrecy::SecretString::from(s.to_owned()))
            })),
            Err(e) => {
                let failure = describe_sdk_error(&e);
                match failure.kind {
                    AwsFailure::NotFound => Ok(None),
                    _ => Err(CredentialsLoadError::Unavailable(failure.detail)),
                }
            }
        }
    }
}

impl CredentialsWrite for SecretsManagerSource {
    /// Reads the secret again just before writing and changes only the
    /// refresh token in its current value (see
    /// [`crate::rotated_refresh_token`]): an edit made since the run read it
    /// is kept.
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), CredentialsSaveError> {
        let client = self.client().await;
        let current = client
            .get_secret_value()
            .secret_id(&origin.secret_id)
            .send()
            .await
            .map_err(|e| CredentialsSaveError {
                detail: format!(
                    "GetSecretValue (read again before writing): {}",
                    describe_sdk_error(&e).detail
                ),
            })?;
        let not_written = |why: &str| CredentialsSaveError {
            detail: format!("{why}; the new refresh token was not written"),
        };
        let Some(text) = current.secret_string() else {
            return Err(not_written("the secret has no string value now"));
        };
        let document = match rewrite_current(origin, text, new) {
            RefreshTokenRewrite::Document(document) => document,
            RefreshTokenRewrite::NotAnObject => {
                return Err(not_written("the secret's value is no longer a JSON object"))
            }
            RefreshTokenRewrite::TokenChangedMeanwhile => {
                tracing::warn!(
                    secret_id = %origin.secret_id,
                    "the secret's refresh token was replaced since this run read it (a re-authorization?); \
                     kept it, the rotated one LWA returned was not written"
                );
                return Ok(());
            }
        };
        client
            .put_secret_value()
            .secret_id(&origin.secret_id)
            .secret_string(document.expose_secret())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CredentialsSaveError {
                detail: describe_sdk_error(&e).detail,
            })
    }
}
