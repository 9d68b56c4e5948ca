//! The profile store over Secrets Manager: profile `p` is the secret
//! `{LWA_SECRET_PREFIX}p`. `find_by_seller` uses `ListSecrets` with name
//! and tag-value filters (the service matches filter values as prefixes
//! and each filter on its own, so the exact tags are checked here);
//! `read` is `DescribeSecret` (tags) + `GetSecretValue`; `create` is
//! `CreateSecret` with the tags; `update` is `PutSecretValue` (the
//! use case updates only profiles that carry the tags; `CreateSecret` with
//! tags needs `TagResource`). IAM: see the template's onboarding policy.

use crate::aws::{describe_sdk_error, AwsFailure, LazySdkConfig};
use crate::onboarding::marketplace::Region;
use crate::ports::profile_store::{
    ProfileStore, ProfileStoreError, ProfileTags, StoredProfile, TAG_REGION, TAG_SELLING_PARTNER_ID,
};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Secrets Manager adapter of [`ProfileStore`].
pub struct SecretsManagerProfiles {
    sdk: Arc<LazySdkConfig>,
    client: OnceCell<aws_sdk_secretsmanager::Client>,
    prefix: String,
}

fn unavailable(op: &str, kind: AwsFailure, detail: String) -> ProfileStoreError {
    let fix = if kind == AwsFailure::AccessDenied {
        " (seller-onboarding needs secretsmanager:ListSecrets, and CreateSecret, GetSecretValue, PutSecretValue, \
         DescribeSecret, TagResource on the profile prefix)"
    } else {
        ""
    };
    ProfileStoreError::Unavailable(format!("{op}: {detail}{fix}"))
}

fn tags_of(tags: &[Tag]) -> Option<ProfileTags> {
    let get = |k: &str| {
        tags.iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    Some(ProfileTags {
        selling_partner_id: get(TAG_SELLING_PARTNER_ID)?.to_owned(),
        region: Region::parse(get(TAG_REGION)?)?,
    })
}

fn tag_list(tags: &ProfileTags) -> Vec<Tag> {
    vec![
        Tag::builder()
            .key(TAG_SELLING_PARTNER_ID)
            .value(&tags.selling_partner_id)
            .build(),
        Tag::builder()
            .key(TAG_REGION)
            .value(tags.region.as_str())
            .build(),
    ]
}

impl SecretsManagerProfiles {
    /// Profiles under `prefix`, sharing `sdk`.
    pub fn new(sdk: Arc<LazySdkConfig>, prefix: String) -> Self {
        Self {
            sdk,
            client: OnceCell::new(),
            prefix,
        }
    }

    async fn client(&self) -> &aws_sdk_secretsmanager::Client {
        self.client
            .get_or_init(|| async { aws_sdk_secretsmanager::Client::new(self.sdk.get().await) })
            .await
    }

    fn secret_name(&self, profile: &str) -> String {
        format!("{}{profile}", self.prefix)
    }
}

impl ProfileStore for SecretsManagerProfiles {
    async fn find_by_seller(
        &self,
        selling_partner_id: &str,
        region: Region,
    ) -> Result<Option<String>, ProfileStoreError> {
        let mut pages = self
            .client()
            .await
            .list_secrets()
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::Name)
                    .values(&self.prefix)
                    .build(),
            )
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::TagValue)
                    .values(selling_partner_id)
                    .build(),
            )
            .max_results(100)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let crate::aws::SdkFailure { kind, detail } = describe_sdk_error(&e);
                unavailable("ListSecrets", kind, detail)
            })?;
            for s in page.secret_list() {
                let Some(name) = s.name() else { continue };
                let Some(profile) = name.strip_prefix(self.prefix.as_str()) else {
                    continue;
                };
                if s.deleted_date().is_some() {
                    continue;
                }
                if tags_of(s.tags()).is_some_and(|t| {
                    t.selling_partner_id == selling_partner_id && t.region == region
                }) {
                    found.push(profile.to_owned());
                }
            }
        }
        found.sort();
        Ok(found.into_iter().next())
    }

    async fn read(&self, profile: &str) -> Result<Option<StoredProfile>, ProfileStoreError> {
        let name = self.secret_name(profile);
        let client = self.client().await;
        let described = match client.describe_secret().secret_id(&name).send().await {
            Ok(d) => d,
            Err(e) => {
                let crate::aws::SdkFailure { kind, detail } = describe_sdk_error(&e);
                if kind == AwsFailure::NotFound {
                    return Ok(None);
                }
                return Err(unavailable("DescribeSecret", kind, detail));
            }
        };
        if described.deleted_date().is_some() {
            return Err(ProfileStoreError::Unavailable(format!(
                "secret `{name}` is scheduled for deletion; restore it (aws secretsmanager restore-secret) or delete it \
                 for good before onboarding this profile"
            )));
        }
        let tags = tags_of(described.tags());
        let document = match client.get_secret_value().secret_id(&name).send().await {
            Ok(v) => v.secret_string().unwrap_or_default().to_owned(),
            Err(e) => {
                let crate::aws::SdkFailure { kind, detail } = describe_sdk_error(&e);
                if kind == AwsFailure::NotFound {
                    String::new() // no current value yet
                } else {
                    return Err(unavailable("GetSecretValue", kind, detail));
                }
            }
        };
        Ok(Some(StoredProfile {
            document: SecretString::from(document),
            tags,
        }))
    }

    async fn create(
        &self,
        profile: &str,
        document: &SecretString,
        tags: &ProfileTags,
    ) -> Result<(), ProfileStoreError> {
        self.client()
            .await
            .create_secret()
            .name(self.secret_name(profile))
            .description(
                "SP-API seller authorization (refresh token), written by seller-onboarding",
            )
            .secret_string(document.expose_secret())
            .set_tags(Some(tag_list(tags)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception())
                {
                    return ProfileStoreError::AlreadyExists;
                }
                let crate::aws::SdkFailure { kind, detail } = describe_sdk_error(&e);
                unavailable("CreateSecret", kind, detail)
            })
    }

    async fn update(
        &self,
        profile: &str,
        document: &SecretString,
        tags: &ProfileTags,
    ) -> Result<(), ProfileStoreError> {
        let _ = tags; // an updated profile already carries its tags (the use case checks)
        self.client()
            .await
            .put_secret_value()
            .secret_id(self.secret_name(profile))
            .secret_string(document.expose_secret())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let crate::aws::SdkFailure { kind, detail } = describe_sdk_error(&e);
                unavailable("PutSecretValue", kind, detail)
            })
    }
}
