//! Fleet discovery on Secrets Manager ([`SecretDiscovery`]): names from
//! `ListSecrets` with a name filter (100 per page), values from
//! `BatchGetSecretValue` (20 per call), each sent on as soon as it is read.
//!
//! `BatchGetSecretValue` can also take the name filter itself, but then
//! every page re-filters the whole account (moto: 0.44 s a page at 2,000
//! secrets), and `ListSecrets` is needed for the filter's IAM either way.

use super::sdk_error::{describe_sdk_error, AwsFailure};
use super::secrets_manager::{document_of, SecretsManagerSource};
use crate::ports::{CredentialsLoadError, DiscoveredSecret, DiscoveryError, SecretDiscovery};
use tokio::sync::mpsc::Sender;

/// Names per `ListSecrets` page.
const PAGE: i32 = 100;
/// Secret IDs per `BatchGetSecretValue` call (the API's maximum).
const BATCH: usize = 20;

fn denied(kind: AwsFailure) -> &'static str {
    if kind == AwsFailure::AccessDenied {
        " (the function needs secretsmanager:ListSecrets and secretsmanager:BatchGetSecretValue, \
         and secretsmanager:GetSecretValue on the prefix's secrets)"
    } else {
        ""
    }
}

impl SecretDiscovery for SecretsManagerSource {
    async fn discover_into(
        &self,
        prefix: &str,
        found: &Sender<DiscoveredSecret>,
    ) -> Result<(), DiscoveryError> {
        use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
        let filter = Filter::builder()
            .key(FilterNameStringType::Name)
            .values(prefix)
            .build();
        let client = self.client().await;
        let mut pages = client
            .list_secrets()
            .filters(filter)
            .max_results(PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let f = describe_sdk_error(&e);
                DiscoveryError {
                    detail: format!(
                        "ListSecrets with name prefix `{prefix}`: {}{}",
                        f.detail,
                        denied(f.kind)
                    ),
                }
            })?;
            let names: Vec<String> = page
                .secret_list()
                .iter()
                .filter_map(|s| s.name())
                // The service's name filter ignores case; the prefix does not.
                .filter(|n| n.starts_with(prefix))
                .map(str::to_owned)
                .collect();
            for chunk in names.chunks(BATCH) {
                let out = client
                    .batch_get_secret_value()
                    .set_secret_id_list(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| {
                        let f = describe_sdk_error(&e);
                        DiscoveryError {
                            detail: format!("BatchGetSecretValue: {}{}", f.detail, denied(f.kind)),
                        }
                    })?;
                let values = out.secret_values().iter().filter_map(|v| {
                    let name = v.name()?;
                    Some(DiscoveredSecret {
                        name: name.to_owned(),
                        document: document_of(name, v.secret_string(), v.secret_binary().is_some()),
                    })
                });
                // Per-secret errors (deleted meanwhile, KMS refused): that
                // profile fails, the others go on.
                let errors = out.errors().iter().map(|e| {
                    let id = e.secret_id().unwrap_or_default();
                    DiscoveredSecret {
                        name: id.rsplit(":secret:").next().unwrap_or(id).to_owned(),
                        document: Err(CredentialsLoadError::Unavailable(format!(
                            "{}: {}",
                            e.error_code().unwrap_or("UnknownError"),
                            e.message().unwrap_or("no message")
                        ))),
                    }
                });
                for item in values.chain(errors) {
                    if found.send(item).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Every secret under `prefix`, collected (for tools and tests; the fleet
/// consumes them as they come).
pub async fn discover_all<D: SecretDiscovery>(
    discovery: &D,
    prefix: &str,
) -> Result<Vec<DiscoveredSecret>, DiscoveryError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let listing = async {
        let r = discovery.discover_into(prefix, &tx).await;
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
