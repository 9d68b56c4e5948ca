//! Fleet profiles as seller onboarding sees them: one secret per profile
//! (`{LWA_SECRET_PREFIX}{profile}`), tagged `spapi:selling-partner-id` and
//! `spapi:region` when onboarding wrote it. The adapter owns the prefix;
//! callers speak profile names. A second backend for very large fleets
//! can implement the same trait.

use crate::onboarding::marketplace::Region;
use secrecy::SecretString;

/// Tag key naming the seller of a profile.
pub const TAG_SELLING_PARTNER_ID: &str = "spapi:selling-partner-id";
/// Tag key naming the region of a profile.
pub const TAG_REGION: &str = "spapi:region";

/// Whose authorization a profile holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileTags {
    /// Amazon's `selling_partner_id`.
    pub selling_partner_id: String,
    /// SP-API region.
    pub region: Region,
}

/// One stored profile.
#[derive(Clone)]
pub struct StoredProfile {
    /// The secret's current `SecretString` (empty when it has none).
    pub document: SecretString,
    /// Both onboarding tags, when the secret carries them (`None`: a
    /// hand-made profile).
    pub tags: Option<ProfileTags>,
}

/// Why a profile operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileStoreError {
    /// `create` found the profile already there (a concurrent connection).
    AlreadyExists,
    /// AWS refused or failed; one line, with the fix when known.
    Unavailable(String),
}

/// The profile store port.
#[allow(async_fn_in_trait)]
pub trait ProfileStore {
    /// The profile tagged with this seller and region, if any (exact match
    /// on both tags; the first by name if several).
    async fn find_by_seller(
        &self,
        selling_partner_id: &str,
        region: Region,
    ) -> Result<Option<String>, ProfileStoreError>;
    /// The profile's secret, `None` when it does not exist.
    async fn read(&self, profile: &str) -> Result<Option<StoredProfile>, ProfileStoreError>;
    /// Creates the profile's secret with `document` and `tags`.
    async fn create(
        &self,
        profile: &str,
        document: &SecretString,
        tags: &ProfileTags,
    ) -> Result<(), ProfileStoreError>;
    /// Writes a new current version of an existing, tagged profile's
    /// secret (`tags` are those it carries).
    async fn update(
        &self,
        profile: &str,
        document: &SecretString,
        tags: &ProfileTags,
    ) -> Result<(), ProfileStoreError>;
}

impl<T: ProfileStore + ?Sized> ProfileStore for &T {
    async fn find_by_seller(
        &self,
        selling_partner_id: &str,
        region: Region,
    ) -> Result<Option<String>, ProfileStoreError> {
        (**self).find_by_seller(selling_partner_id, region).await
    }
    async fn read(&self, profile: &str) -> Result<Option<StoredProfile>, ProfileStoreError> {
        (**self).read(profile).await
    }
    async fn create(
        &self,
        profile: &str,
        document: &SecretString,
        tags: &ProfileTags,
    ) -> Result<(), ProfileStoreError> {
        (**self).create(profile, document, tags).await
    }
    async fn update(
        &self,
        profile: &str,
        document: &SecretString,
        tags: &ProfileTags,
    ) -> Result<(), ProfileStoreError> {
        (**self).update(profile, document, tags).await
    }
}
