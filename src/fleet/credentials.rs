//! Credentials for the fleet: the documents found by discovery, completed by
//! the shared app secret (`LWA_APP_SECRET_ID`).

use crate::credentials::{Credentials, RefreshTokenOrigin, SecretDocument};
use crate::ports::{CredentialsLoadError, CredentialsRead, CredentialsSaveError, CredentialsWrite};
use crate::previous_secret::PreviousClient;
use crate::secret::RefreshToken;
use std::cell::RefCell;
use std::collections::HashMap;

/// The documents discovery read, handed out once each; a second load of the
/// same profile (after an `invalid_client`) reads its secret, and the app
/// secret, again: either may have been rotated meanwhile.
pub struct FleetCredentials<R> {
    secrets: R,
    prefetched: RefCell<HashMap<String, SecretDocument>>,
    app_secret_id: Option<String>,
    app: RefCell<Option<SecretDocument>>,
}

impl<R> FleetCredentials<R> {
    /// Credentials over `secrets`, with the app secret `app` as read at the
    /// start of the run.
    pub fn new(secrets: R, app_secret_id: Option<String>, app: Option<SecretDocument>) -> Self {
        Self {
            secrets,
            prefetched: RefCell::new(HashMap::new()),
            app_secret_id,
            app: RefCell::new(app),
        }
    }

    /// Keeps a document discovery read, for the profile's first load.
    pub fn prefetch(&self, secret_id: String, document: SecretDocument) {
        self.prefetched.borrow_mut().insert(secret_id, document);
    }
}

impl<R: CredentialsRead> CredentialsRead for FleetCredentials<R> {
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError> {
        self.secrets.read_document(secret_id).await
    }

    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        let prefetched = self.prefetched.borrow_mut().remove(secret_id);
        let fresh = prefetched.is_none();
        let doc = match prefetched {
            Some(doc) => doc,
            None => self.secrets.read_document(secret_id).await?,
        };
        if !doc.has_client() {
            if let (true, Some(app_id)) = (fresh, &self.app_secret_id) {
                // Re-read the shared app secret: its client secret may have been rotated.
                let app = self.secrets.read_document(app_id).await?;
                *self.app.borrow_mut() = Some(app);
            }
        }
        let app = self.app.borrow().clone();
        doc.into_credentials(app.as_ref())
            .map_err(CredentialsLoadError::Invalid)
    }

    /// The profile secret's `AWSPREVIOUS` client, else the app secret's (the
    /// previous-secret fallback, [`crate::previous_secret`]).
    async fn read_previous_client(
        &self,
        secret_id: &str,
    ) -> Result<Option<PreviousClient>, CredentialsLoadError> {
        if let Some(previous) = self.secrets.read_previous_client(secret_id).await? {
            return Ok(Some(previous));
        }
        match &self.app_secret_id {
            Some(app_id) => self.secrets.read_previous_client(app_id).await,
            None => Ok(None),
        }
    }
}

impl<R: CredentialsWrite> CredentialsWrite for FleetCredentials<R> {
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), CredentialsSaveError> {
        self.secrets.save_refresh_token(origin, new).await
    }
}
