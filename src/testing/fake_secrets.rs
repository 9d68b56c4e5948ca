//! [`FakeSecrets`]: credentials secrets in memory ([`CredentialsRead`],
//! [`CredentialsWrite`], [`SecretDiscovery`]). Test-only.

use super::journal::{Call, Journal};
use crate::credentials::{RefreshTokenOrigin, SecretDocument};
use crate::ports::{
    CredentialsLoadError, CredentialsRead, CredentialsSaveError, CredentialsWrite,
    DiscoveredSecret, DiscoveryError, SecretDiscovery,
};
use crate::secret::RefreshToken;
use secrecy::ExposeSecret;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet, VecDeque};
use tokio::sync::mpsc::Sender;

/// Credentials secrets by name. A secret with several queued values hands
/// them out in turn (a rotation between two reads); the last one stays.
#[derive(Default)]
pub struct FakeSecrets {
    /// The journal the calls go to.
    pub journal: Journal,
    secrets: RefCell<BTreeMap<String, VecDeque<String>>>,
    unreadable: RefCell<HashSet<String>>,
    /// Every `save_refresh_token` fails with this AWS text.
    pub fail_saves: RefCell<Option<String>>,
    /// Discovery fails after sending this many secrets.
    pub discovery_fails_after: Cell<Option<usize>>,
    /// Reads never answer (a stalled connection).
    pub stall_reads: Cell<bool>,
    /// `save_refresh_token` never answers.
    pub stall_saves: Cell<bool>,
    /// Discovery never answers after sending what it found.
    pub stall_discovery: Cell<bool>,
    /// The `AWSPREVIOUS` value of each secret (the previous-secret fallback).
    pub previous: RefCell<BTreeMap<String, String>>,
}

impl FakeSecrets {
    /// No secrets, writing to `journal`.
    pub fn new(journal: &Journal) -> Self {
        Self {
            journal: journal.clone(),
            ..Self::default()
        }
    }

    /// Sets `name` to `values` (read in turn; the last one stays).
    pub fn put(&self, name: &str, values: &[&str]) {
        self.secrets.borrow_mut().insert(
            name.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
    }

    /// Reads and discovery of `name` fail (a per-secret error).
    pub fn make_unreadable(&self, name: &str) {
        self.unreadable.borrow_mut().insert(name.to_owned());
    }

    /// The value the next read of `name` gets.
    pub fn current(&self, name: &str) -> Option<String> {
        self.secrets.borrow().get(name)?.front().cloned()
    }

    fn read(&self, name: &str) -> Result<String, CredentialsLoadError> {
        if self.unreadable.borrow().contains(name) {
            return Err(CredentialsLoadError::Unavailable(
                "AccessDeniedException: KMS refused to decrypt (fake)".into(),
            ));
        }
        let mut secrets = self.secrets.borrow_mut();
        let values = secrets.get_mut(name).ok_or_else(|| {
            CredentialsLoadError::Unavailable(
                "ResourceNotFoundException: no such secret (fake)".into(),
            )
        })?;
        Ok(if values.len() > 1 {
            values.pop_front().expect("not empty")
        } else {
            values.front().cloned().unwrap_or_default()
        })
    }
}

impl CredentialsRead for FakeSecrets {
    async fn read_document(&self, secret_id: &str) -> Result<SecretDocument, CredentialsLoadError> {
        self.journal.push(Call::SecretRead(secret_id.to_owned()));
        if self.stall_reads.get() {
            std::future::pending::<()>().await;
        }
        let text = self.read(secret_id)?;
        SecretDocument::parse(secret_id, &text).map_err(CredentialsLoadError::Invalid)
    }

    async fn read_previous_client(
        &self,
        secret_id: &str,
    ) -> Result<Option<crate::previous_secret::PreviousClient>, CredentialsLoadError> {
        self.journal
            .push(Call::PreviousSecretRead(secret_id.to_owned()));
        Ok(self.previous.borrow().get(secret_id).and_then(|text| {
            crate::previous_secret::PreviousClient::parse(
                secret_id,
                &secrecy::SecretString::from(text.clone()),
            )
        }))
    }
}

impl CredentialsWrite for FakeSecrets {
    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), CredentialsSaveError> {
        self.journal
            .push(Call::RefreshTokenSaved(origin.secret_id.clone()));
        if self.stall_saves.get() {
            std::future::pending::<()>().await;
        }
        if let Some(detail) = self.fail_saves.borrow().clone() {
            return Err(CredentialsSaveError { detail });
        }
        // As the adapter: the current value, only the refresh token changed.
        let current = self.current(&origin.secret_id).unwrap_or_default();
        match crate::rotated_refresh_token::rewrite_current(origin, &current, new) {
            crate::rotated_refresh_token::RefreshTokenRewrite::Document(d) => {
                let document = d.expose_secret().to_owned();
                self.put(&origin.secret_id, &[&document]);
                Ok(())
            }
            crate::rotated_refresh_token::RefreshTokenRewrite::TokenChangedMeanwhile => Ok(()),
            crate::rotated_refresh_token::RefreshTokenRewrite::NotAnObject => {
                Err(CredentialsSaveError {
                    detail: "not a JSON object (fake)".into(),
                })
            }
        }
    }
}

impl SecretDiscovery for FakeSecrets {
    async fn discover_into(
        &self,
        prefix: &str,
        found: &Sender<DiscoveredSecret>,
    ) -> Result<(), DiscoveryError> {
        self.journal.push(Call::SecretsListed(prefix.to_owned()));
        let names: Vec<String> = self
            .secrets
            .borrow()
            .keys()
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect();
        for (i, name) in names.into_iter().enumerate() {
            if self.discovery_fails_after.get() == Some(i) {
                return Err(DiscoveryError {
                    detail: format!("ListSecrets with name prefix `{prefix}`: ThrottlingException: Rate exceeded (fake)"),
                });
            }
            let document = self.read(&name).and_then(|text| {
                SecretDocument::parse(&name, &text).map_err(CredentialsLoadError::Invalid)
            });
            if found
                .send(DiscoveredSecret { name, document })
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        if self.stall_discovery.get() {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}
