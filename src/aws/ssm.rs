//! SSM Parameter Store adapter: the token parameter as a SecureString
//! ([`TokenRead`], [`TokenWrite`]), and the fleet's tokens by path
//! ([`TokenList`]).

use super::sdk::LazySdkConfig;
use super::sdk_error::{describe_sdk_error, AwsFailure};
use crate::ports::{
    StoredTokens, TokenList, TokenListError, TokenLoadError, TokenRead, TokenSaveError, TokenWrite,
};
use crate::token::StoredToken;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use std::sync::Arc;
use tokio::sync::OnceCell;

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

impl TokenRead for SsmTokenStore {
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
                let f = describe_sdk_error(&e);
                let fix = if f.kind == AwsFailure::AccessDenied {
                    " (the function needs ssm:GetParameter on the parameter, and kms:Decrypt with a customer key)"
                } else {
                    ""
                };
                return Err(TokenLoadError::Unavailable(format!("{}{fix}", f.detail)));
            }
        };
        let Some(value) = out.parameter().and_then(|p| p.value()) else {
            return Ok(None);
        };
        StoredToken::from_parameter_value(value)
            .map(Some)
            .map_err(TokenLoadError::Malformed)
    }
}

impl TokenWrite for SsmTokenStore {
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError> {
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
                let f = describe_sdk_error(&e);
                let code = e.code().unwrap_or_default();
                let fix = match (f.kind, code) {
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
                let message = format!("{}{fix}", f.detail);
                if f.kind == AwsFailure::Throttled {
                    TokenSaveError::Throttled(message)
                } else {
                    TokenSaveError::Failed(message)
                }
            })
    }
}

/// The hierarchy `GetParametersByPath` is asked for: the prefix up to its
/// last `/` (`/` for a top-level prefix).
fn path_of(prefix: &str) -> &str {
    match prefix.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &prefix[..i],
    }
}

impl TokenList for SsmTokenStore {
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, TokenListError> {
        // GetParametersByPath takes a hierarchy; keep the names under it that
        // start with the whole prefix.
        let path = path_of(prefix);
        let mut tokens = StoredTokens::new();
        let mut pages = self
            .client()
            .await
            .get_parameters_by_path()
            .path(path)
            .recursive(false)
            .with_decryption(true)
            .max_results(10)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let f = describe_sdk_error(&e);
                let fix = if f.kind == AwsFailure::AccessDenied {
                    " (the function needs ssm:GetParametersByPath on the prefix's path, and kms:Decrypt with a customer key)"
                } else {
                    ""
                };
                TokenListError {
                    detail: format!("GetParametersByPath {path}: {}{fix}", f.detail),
                }
            })?;
            for p in page.parameters() {
                let (Some(name), Some(value)) = (p.name(), p.value()) else {
                    continue;
                };
                if name.starts_with(prefix) {
                    tokens.insert(
                        name.to_owned(),
                        StoredToken::from_parameter_value(value).map_err(TokenLoadError::Malformed),
                    );
                }
            }
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_the_prefix_s_hierarchy() {
        assert_eq!(path_of("/spapi/fleet/"), "/spapi/fleet");
        assert_eq!(path_of("/spapi/fleet/seller-"), "/spapi/fleet");
        assert_eq!(path_of("/x"), "/");
        assert_eq!(path_of("x"), "/");
    }
}
