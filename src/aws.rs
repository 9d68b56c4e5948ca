//! AWS adapters: the Secrets Manager credentials source and the SSM token
//! store, with the SDK configuration loaded once, on first use (not at cold
//! start, which stays short), and every SDK error described in ONE place.
//!
//! The SDK reads the standard variables: `AWS_REGION`, the credentials chain,
//! and `AWS_ENDPOINT_URL` (local emulators such as moto).

use crate::credentials::{binary_secret_error, Credentials, RefreshTokenOrigin, SecretDocument};
use crate::secret::RefreshToken;
use crate::token::StoredToken;
use aws_config::{timeout::TimeoutConfig, BehaviorVersion, SdkConfig};
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The shared SDK configuration, loaded on first use.
#[derive(Default)]
pub struct LazySdkConfig {
    config: OnceCell<SdkConfig>,
}

impl LazySdkConfig {
    /// A configuration that will load from the environment when first needed.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A configuration given up front (tests, or callers with their own).
    pub fn from_config(config: SdkConfig) -> Arc<Self> {
        Arc::new(Self {
            config: OnceCell::new_with(Some(config)),
        })
    }

    /// Loads (once) and returns the configuration. Timeouts: 3 s to connect,
    /// 5 s per attempt, 15 s per operation, so a stuck AWS call cannot eat the
    /// whole Lambda deadline.
    pub async fn get(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(pem) = crate::tls::ca_bundle() {
                    use aws_smithy_http_client::tls;
                    let trust = tls::TrustStore::empty()
                        .with_native_roots(false)
                        .with_pem_certificate(pem);
                    if let Ok(context) = tls::TlsContext::builder().with_trust_store(trust).build()
                    {
                        loader = loader.http_client(
                            aws_smithy_http_client::Builder::new()
                                .tls_provider(tls::Provider::Rustls(
                                    tls::rustls_provider::CryptoMode::AwsLc,
                                ))
                                .tls_context(context)
                                .build_https(),
                        );
                    }
                }
                loader
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(Duration::from_secs(3))
                            .operation_attempt_timeout(Duration::from_secs(5))
                            .operation_timeout(Duration::from_secs(15))
                            .build(),
                    )
                    .load()
                    .await
            })
            .await
    }
}

/// What went wrong in an AWS call, classified once for every adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsFailure {
    /// The resource does not exist.
    NotFound,
    /// IAM or KMS refused.
    AccessDenied,
    /// Throttled past the SDK's retries.
    Throttled,
    /// Anything else (timeouts, connection errors, service errors).
    Other,
}

/// Classifies an SDK error and describes it in one line: the AWS error code
/// and message, or the transport problem. Never contains request data.
pub fn describe_sdk_error<E, R>(e: &SdkError<E, R>) -> (AwsFailure, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(_) => {
            let code = e.code().unwrap_or("UnknownError");
            let message = e.message().unwrap_or("no message");
            let kind = match code {
                "ResourceNotFoundException" | "ParameterNotFound" => AwsFailure::NotFound,
                c if c.contains("AccessDenied")
                    || c == "UnrecognizedClientException"
                    || c.starts_with("KMS")
                    || c == "InvalidKeyId"
                    || c == "DecryptionFailure" =>
                {
                    AwsFailure::AccessDenied
                }
                "ThrottlingException" | "TooManyUpdates" | "Throttling" | "RequestLimitExceeded" => {
                    AwsFailure::Throttled
                }
                _ => AwsFailure::Other,
            };
            (kind, format!("{code}: {message}"))
        }
        SdkError::TimeoutError(_) => (AwsFailure::Other, "the AWS call timed out".to_owned()),
        SdkError::DispatchFailure(_) => (
            AwsFailure::Other,
            format!(
                "could not reach the AWS endpoint (check the network path, VPC endpoints and AWS_REGION): {}",
                DisplayErrorContext(e)
            ),
        ),
        _ => (AwsFailure::Other, DisplayErrorContext(e).to_string()),
    }
}

/// Why a credentials load failed.
#[derive(Debug, Clone)]
pub enum CredentialsLoadError {
    /// The contents are unusable.
    Invalid(crate::credentials::CredentialsError),
    /// The secret cannot be read; the text says why and what to do.
    Unavailable(String),
}

/// Where the refresher gets LWA credentials, and where it saves a rotated
/// refresh token.
#[allow(async_fn_in_trait)]
pub trait CredentialsSource {
    /// Reads and validates the secret.
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError>;
    /// Writes the secret back with the new refresh token (`PutSecretValue`),
    /// every other field and key name kept. `Err` is a one-line reason.
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), String>;
}

/// Why a stored token could not be loaded.
#[derive(Debug, Clone)]
pub enum TokenLoadError {
    /// The parameter holds something that is not the token JSON.
    Malformed(String),
    /// AWS refused or failed; the text says why.
    Unavailable(String),
}

/// Why a token could not be written: a one-line reason with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveError {
    /// AWS error code and message, with the fix.
    pub message: String,
    /// Throttled past the SDK's retries: worth another try later.
    pub throttled: bool,
}

impl From<&str> for SaveError {
    fn from(message: &str) -> Self {
        Self {
            message: message.to_owned(),
            throttled: false,
        }
    }
}

/// Stored tokens under a parameter prefix: parameter name -> token, or why
/// the value is unreadable.
pub type StoredTokens = std::collections::HashMap<String, Result<StoredToken, String>>;

/// The SSM parameter holding the token.
#[allow(async_fn_in_trait)]
pub trait TokenStore {
    /// `Ok(None)` when the parameter does not exist.
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError>;
    /// Writes the token as a SecureString with `Overwrite`.
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), SaveError>;
    /// Every stored token whose parameter name starts with `prefix` (fleet
    /// mode). `Err` is a one-line reason.
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, String>;
}

impl<T: TokenStore + ?Sized> TokenStore for &T {
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
        (**self).load(parameter).await
    }
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), SaveError> {
        (**self).save(parameter, token).await
    }
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, String> {
        (**self).load_prefix(prefix).await
    }
}

impl<T: CredentialsSource + ?Sized> CredentialsSource for &T {
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        (**self).load(secret_id).await
    }
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), String> {
        (**self).save_refresh_token(origin, new).await
    }
}

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

    async fn client(&self) -> &aws_sdk_secretsmanager::Client {
        self.client
            .get_or_init(|| async { aws_sdk_secretsmanager::Client::new(self.sdk.get().await) })
            .await
    }

    /// Reads one secret's document (fields may be partial: fleet profiles).
    pub async fn load_document(
        &self,
        secret_id: &str,
    ) -> Result<SecretDocument, CredentialsLoadError> {
        let out = self
            .client()
            .await
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                let (kind, detail) = describe_sdk_error(&e);
                let fix = match kind {
                    AwsFailure::NotFound => " (check LWA_CREDENTIALS_SECRET_ID and the region)",
                    AwsFailure::AccessDenied => {
                        " (give the function secretsmanager:GetSecretValue on the secret, and kms:Decrypt if it uses a customer key)"
                    }
                    _ => "",
                };
                CredentialsLoadError::Unavailable(format!("{detail}{fix}"))
            })?;
        match (out.secret_string(), out.secret_binary()) {
            (Some(s), _) => {
                SecretDocument::parse(secret_id, s).map_err(CredentialsLoadError::Invalid)
            }
            (None, Some(_)) => Err(CredentialsLoadError::Invalid(binary_secret_error(
                secret_id,
            ))),
            (None, None) => Err(CredentialsLoadError::Unavailable(
                "the secret has no current value (AWSCURRENT); put the credentials JSON in it"
                    .to_owned(),
            )),
        }
    }
}

/// One secret found by prefix: its name, and its document or why it is unusable.
pub struct DiscoveredSecret {
    /// The secret's name.
    pub name: String,
    /// The parsed document, or why it cannot be used.
    pub document: Result<SecretDocument, CredentialsLoadError>,
}

impl SecretsManagerSource {
    /// Every secret whose name starts with `prefix` (case-sensitive), sent to
    /// `found` as it is read: names from `ListSecrets` with a name filter
    /// (100 per page), values from `BatchGetSecretValue` (20 per call). The
    /// fleet starts refreshing while later pages are still being read.
    /// `Err` is a one-line reason (the listing itself failed).
    ///
    /// `BatchGetSecretValue` can also take the name filter itself, but then
    /// every page re-filters the whole account (moto: 0.44 s a page at 2,000
    /// secrets), and `ListSecrets` is needed for the filter's IAM either way.
    pub async fn discover_into(
        &self,
        prefix: &str,
        found: &tokio::sync::mpsc::Sender<DiscoveredSecret>,
    ) -> Result<(), String> {
        use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
        let denied = |kind: &AwsFailure| {
            if *kind == AwsFailure::AccessDenied {
                " (the function needs secretsmanager:ListSecrets and secretsmanager:BatchGetSecretValue, \
                 and secretsmanager:GetSecretValue on the prefix's secrets)"
            } else {
                ""
            }
        };
        let filter = Filter::builder()
            .key(FilterNameStringType::Name)
            .values(prefix)
            .build();
        let client = self.client().await;
        let mut pages = client
            .list_secrets()
            .filters(filter)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let (kind, detail) = describe_sdk_error(&e);
                format!(
                    "ListSecrets with name prefix `{prefix}`: {detail}{}",
                    denied(&kind)
                )
            })?;
            let names: Vec<String> = page
                .secret_list()
                .iter()
                .filter_map(|s| s.name())
                // The service's name filter ignores case; the prefix does not.
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned)
                .collect();
            for chunk in names.chunks(20) {
                let out = client
                    .batch_get_secret_value()
                    .set_secret_id_list(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| {
                        let (kind, detail) = describe_sdk_error(&e);
                        format!("BatchGetSecretValue: {detail}{}", denied(&kind))
                    })?;
                for v in out.secret_values() {
                    let Some(name) = v.name() else { continue };
                    let document = match (v.secret_string(), v.secret_binary()) {
                        (Some(s), _) => {
                            SecretDocument::parse(name, s).map_err(CredentialsLoadError::Invalid)
                        }
                        (None, Some(_)) => {
                            Err(CredentialsLoadError::Invalid(binary_secret_error(name)))
                        }
                        (None, None) => Err(CredentialsLoadError::Unavailable(
                            "the secret has no current value (AWSCURRENT)".to_owned(),
                        )),
                    };
                    let item = DiscoveredSecret {
                        name: name.to_owned(),
                        document,
                    };
                    if found.send(item).await.is_err() {
                        return Ok(());
                    }
                }
                for e in out.errors() {
                    let id = e.secret_id().unwrap_or_default();
                    let name = id.rsplit(":secret:").next().unwrap_or(id);
                    let item = DiscoveredSecret {
                        name: name.to_owned(),
                        document: Err(CredentialsLoadError::Unavailable(format!(
                            "{}: {}",
                            e.error_code().unwrap_or("UnknownError"),
                            e.message().unwrap_or("no message")
                        ))),
                    };
                    if found.send(item).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// [`SecretsManagerSource::discover_into`], collected.
    pub async fn discover(&self, prefix: &str) -> Result<Vec<DiscoveredSecret>, String> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let listing = async {
            let r = self.discover_into(prefix, &tx).await;
            drop(tx);
            r
        };
        let collect = async {
            let mut all = Vec::new();
            while let Some(item) = rx.recv().await {
                all.push(item);
            }
            all
        };
        let (r, all) = futures_util::future::join(listing, collect).await;
        r.map(|()| all)
    }
}

impl CredentialsSource for SecretsManagerSource {
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        self.load_document(secret_id)
            .await?
            .into_credentials(None)
            .map_err(CredentialsLoadError::Invalid)
    }

    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), String> {
        let document = origin.rotated_document(new);
        self.client()
            .await
            .put_secret_value()
            .secret_id(&origin.secret_id)
            .secret_string(document.expose_secret())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe_sdk_error(&e).1)
    }
}

/// SSM Parameter Store adapter.
pub struct SsmTokenStore {
    sdk: Arc<LazySdkConfig>,
    client: OnceCell<aws_sdk_ssm::Client>,
    kms_key_id: Option<String>,
}

impl SsmTokenStore {
    /// An adapter sharing `sdk`; writes use `kms_key_id` when set (otherwise
    /// SSM's `alias/aws/ssm`).
    pub fn new(sdk: Arc<LazySdkConfig>, kms_key_id: Option<String>) -> Self {
        Self {
            sdk,
            client: OnceCell::new(),
            kms_key_id,
        }
    }

    async fn client(&self) -> &aws_sdk_ssm::Client {
        self.client
            .get_or_init(|| async { aws_sdk_ssm::Client::new(self.sdk.get().await) })
            .await
    }
}

impl TokenStore for SsmTokenStore {
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
        let result = self
            .client()
            .await
            .get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                return Ok(None)
            }
            Err(e) => {
                let (kind, detail) = describe_sdk_error(&e);
                let fix = if kind == AwsFailure::AccessDenied {
                    " (the function needs ssm:GetParameter on the parameter, and kms:Decrypt with a customer key)"
                } else {
                    ""
                };
                return Err(TokenLoadError::Unavailable(format!("{detail}{fix}")));
            }
        };
        let Some(value) = out.parameter().and_then(|p| p.value()) else {
            return Ok(None);
        };
        StoredToken::from_parameter_value(value)
            .map(Some)
            .map_err(TokenLoadError::Malformed)
    }

    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), SaveError> {
        self.client()
            .await
            .put_parameter()
            .name(parameter)
            .description("LWA access token for the Selling Partner API, written by token-refresher")
            .value(token.to_parameter_value())
            .r#type(ParameterType::SecureString)
            .tier(ParameterTier::Standard)
            .overwrite(true)
            .set_key_id(self.kms_key_id.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let (kind, detail) = describe_sdk_error(&e);
                let code = e.code().unwrap_or_default();
                let fix = match (&kind, code) {
                    (_, "ParameterMaxVersionLimitExceeded") => {
                        " (the parameter has 100 versions and the oldest carries a label, which blocks every write; \
                         remove the labels with `aws ssm unlabel-parameter-version`: this service never labels)"
                    }
                    (AwsFailure::AccessDenied, _) => {
                        " (the function needs ssm:PutParameter on the parameter, and kms:Encrypt with TOKEN_KMS_KEY_ID)"
                    }
                    (AwsFailure::Throttled, _) => {
                        " (PutParameter is throttled at a few TPS per account; lower SSM_WRITE_TPS or raise the \
                         account's Parameter Store throughput; the next run retries)"
                    }
                    _ => "",
                };
                SaveError {
                    message: format!("{detail}{fix}"),
                    throttled: kind == AwsFailure::Throttled,
                }
            })
    }

    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, String> {
        // GetParametersByPath takes a hierarchy; keep the names under it that
        // start with the whole prefix.
        let path = match prefix.rfind('/') {
            Some(0) | None => "/".to_owned(),
            Some(i) => prefix[..i].to_owned(),
        };
        let mut tokens = StoredTokens::new();
        let mut pages = self
            .client()
            .await
            .get_parameters_by_path()
            .path(&path)
            .recursive(false)
            .with_decryption(true)
            .max_results(10)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let (kind, detail) = describe_sdk_error(&e);
                let fix = if kind == AwsFailure::AccessDenied {
                    " (the function needs ssm:GetParametersByPath on the prefix's path, and kms:Decrypt with a customer key)"
                } else {
                    ""
                };
                format!("GetParametersByPath {path}: {detail}{fix}")
            })?;
            for p in page.parameters() {
                let (Some(name), Some(value)) = (p.name(), p.value()) else {
                    continue;
                };
                if name.starts_with(prefix) {
                    tokens.insert(name.to_owned(), StoredToken::from_parameter_value(value));
                }
            }
        }
        Ok(tokens)
    }
}
