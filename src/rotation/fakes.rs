//! In-memory fakes of the rotator's ports sharing ONE journal, so tests
//! assert the order of steps across Secrets Manager, LWA and SP-API.
//! The fake Secrets Manager follows the real API's staging-label rules (see
//! `ports::secret_versions`).

use crate::credentials::{Credentials, Grant};
use crate::lwa::{ExchangeStats, LwaError, LwaErrorCode, TokenResponse};
use crate::ports::application_management::{ApplicationManagement, RotateCallError};
use crate::ports::secret_versions::{
    SecretVersions, Stage, VersionInfo, VersionValue, VersionsError,
};
use crate::ports::TokenEndpoint;
use crate::secret::AccessToken;
use secrecy::{ExposeSecret, SecretString};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::time::Instant;

pub type Journal = Arc<Mutex<Vec<String>>>;

/// `PLANTED-OLD` for `amzn1.oa2-cs.v1.PLANTED-OLD`: short names for journals.
pub fn tag(secret: &str) -> String {
    secret.rsplit('.').next().unwrap_or(secret).to_owned()
}

fn secret_of(text: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    tag(v["client_secret"].as_str().unwrap_or("-"))
}

pub struct Version {
    pub id: String,
    pub text: String,
    pub stages: Vec<String>,
    pub created: OffsetDateTime,
}

pub struct FakeSecrets {
    pub journal: Journal,
    pub versions: Mutex<Vec<Version>>,
    /// `created` of the next version.
    pub now: Mutex<OffsetDateTime>,
    /// Puts with this stage fail.
    pub fail_put: Mutex<Option<Stage>>,
    /// Reads by stage never answer (a stalled connection).
    pub stall_reads: Mutex<bool>,
}

impl FakeSecrets {
    pub fn new(journal: Journal, initial: &str, created: OffsetDateTime) -> Arc<Self> {
        let s = Arc::new(Self {
            journal,
            versions: Mutex::new(Vec::new()),
            now: Mutex::new(created),
            fail_put: Mutex::new(None),
            stall_reads: Mutex::new(false),
        });
        s.write(initial, Stage::Current);
        s.journal.lock().unwrap().clear();
        s
    }

    /// A write by someone else (the refresher saving a rotated refresh token).
    pub fn write(&self, text: &str, stage: Stage) -> String {
        let mut versions = self.versions.lock().unwrap();
        let id = format!("v{}", versions.len() + 1);
        let label = stage.label().to_owned();
        if stage == Stage::Current {
            for v in versions.iter_mut() {
                v.stages.retain(|s| s != "AWSPREVIOUS");
            }
            for v in versions.iter_mut() {
                if v.stages.contains(&label) {
                    v.stages.retain(|s| *s != label);
                    v.stages.push("AWSPREVIOUS".into());
                }
            }
        } else {
            for v in versions.iter_mut() {
                v.stages.retain(|s| *s != label);
            }
        }
        versions.push(Version {
            id: id.clone(),
            text: text.to_owned(),
            stages: vec![label],
            created: *self.now.lock().unwrap(),
        });
        id
    }

    pub fn text(&self, stage: Stage) -> Option<String> {
        self.versions
            .lock()
            .unwrap()
            .iter()
            .find(|v| v.stages.iter().any(|s| s == stage.label()))
            .map(|v| v.text.clone())
    }

    pub fn current(&self) -> serde_json::Value {
        serde_json::from_str(&self.text(Stage::Current).unwrap()).unwrap()
    }

    pub fn count(&self) -> usize {
        self.versions.lock().unwrap().len()
    }

    fn log(&self, line: String) {
        self.journal.lock().unwrap().push(line);
    }
}

impl SecretVersions for Arc<FakeSecrets> {
    async fn get_stage(
        &self,
        _: &str,
        stage: Stage,
    ) -> Result<Option<VersionValue>, VersionsError> {
        self.log(format!("sm.get {}", stage.label()));
        if *self.stall_reads.lock().unwrap() {
            std::future::pending::<()>().await;
        }
        let versions = self.versions.lock().unwrap();
        Ok(versions
            .iter()
            .find(|v| v.stages.iter().any(|s| s == stage.label()))
            .map(|v| VersionValue {
                version_id: v.id.clone(),
                secret_string: SecretString::from(v.text.clone()),
            }))
    }
    async fn get_version(&self, _: &str, id: &str) -> Result<VersionValue, VersionsError> {
        let versions = self.versions.lock().unwrap();
        let v = versions
            .iter()
            .find(|v| v.id == id)
            .ok_or_else(|| VersionsError("no such version".into()))?;
        Ok(VersionValue {
            version_id: v.id.clone(),
            secret_string: SecretString::from(v.text.clone()),
        })
    }
    async fn list_versions(&self, _: &str) -> Result<Vec<VersionInfo>, VersionsError> {
        // A read: `effects` leaves it out (it drops every `sm.get` line).
        self.log("sm.get-list".into());
        Ok(self
            .versions
            .lock()
            .unwrap()
            .iter()
            .map(|v| VersionInfo {
                version_id: v.id.clone(),
                stages: v.stages.clone(),
                created: Some(v.created),
            })
            .collect())
    }
    async fn put_version(
        &self,
        _: &str,
        document: &SecretString,
        stage: Stage,
    ) -> Result<String, VersionsError> {
        if *self.fail_put.lock().unwrap() == Some(stage) {
            self.log(format!("sm.put {} failed", stage.label()));
            return Err(VersionsError(
                "PutSecretValue: AccessDeniedException: not allowed".into(),
            ));
        }
        let id = self.write(document.expose_secret(), stage);
        self.log(format!(
            "sm.put {} {id} secret={}",
            stage.label(),
            secret_of(document.expose_secret())
        ));
        Ok(id)
    }
    async fn remove_stage(&self, _: &str, stage: Stage, id: &str) -> Result<(), VersionsError> {
        let mut versions = self.versions.lock().unwrap();
        let v = versions
            .iter_mut()
            .find(|v| v.id == id)
            .ok_or_else(|| VersionsError("no such version".into()))?;
        if !v.stages.iter().any(|s| s == stage.label()) {
            return Err(VersionsError(
                "InvalidParameterException: label not on that version".into(),
            ));
        }
        v.stages.retain(|s| s != stage.label());
        drop(versions);
        self.log(format!("sm.remove {} {id}", stage.label()));
        Ok(())
    }
}

type Hook = Box<dyn FnOnce() + Send>;

pub struct FakeLwa {
    pub journal: Journal,
    /// Client secrets LWA accepts.
    pub accepted: Mutex<HashSet<String>>,
    /// Errors answered first, in order.
    pub script: Mutex<VecDeque<LwaError>>,
    /// Run once after the next successful answer.
    pub after_success: Mutex<Option<Hook>>,
}

impl FakeLwa {
    pub fn new(journal: Journal, accepted: &[&str]) -> Arc<Self> {
        Arc::new(Self {
            journal,
            accepted: Mutex::new(accepted.iter().map(|s| s.to_string()).collect()),
            script: Mutex::new(VecDeque::new()),
            after_success: Mutex::new(None),
        })
    }
}

pub fn invalid_client() -> LwaError {
    LwaError::Rejected {
        code: LwaErrorCode::InvalidClient,
        error: "invalid_client".into(),
        description: Some("Client authentication failed".into()),
        status: 401,
    }
}

impl TokenEndpoint for Arc<FakeLwa> {
    async fn request_token(
        &self,
        c: &Credentials,
        _: Instant,
        _: &mut ExchangeStats,
    ) -> Result<TokenResponse, LwaError> {
        let scope = match &c.grant {
            Grant::ClientCredentials { scope } => scope.clone(),
            Grant::RefreshToken(_) => "refresh_token".into(),
        };
        let secret = c.client_secret.expose_secret().to_owned();
        let scripted = self.script.lock().unwrap().pop_front();
        let ok = scripted.is_none() && self.accepted.lock().unwrap().contains(&secret);
        self.journal.lock().unwrap().push(format!(
            "lwa {} secret={} -> {}",
            scope,
            tag(&secret),
            if ok { "ok" } else { "refused" }
        ));
        if let Some(e) = scripted {
            return Err(e);
        }
        if !ok {
            return Err(invalid_client());
        }
        if let Some(hook) = self.after_success.lock().unwrap().take() {
            hook();
        }
        Ok(TokenResponse {
            access_token: AccessToken::new("Atza|PLANTED-GRANTLESS"),
            token_type: "bearer".into(),
            expires_in: 3600,
            refresh_token: None,
            requested_at: OffsetDateTime::now_utc(),
        })
    }
}

pub struct FakeApp {
    pub journal: Journal,
    pub script: Mutex<VecDeque<RotateCallError>>,
}

impl FakeApp {
    pub fn new(journal: Journal) -> Arc<Self> {
        Arc::new(Self {
            journal,
            script: Mutex::new(VecDeque::new()),
        })
    }
}

impl ApplicationManagement for Arc<FakeApp> {
    async fn rotate_client_secret(
        &self,
        token: &AccessToken,
        _: Instant,
    ) -> Result<(), RotateCallError> {
        let answer = self.script.lock().unwrap().pop_front();
        self.journal.lock().unwrap().push(format!(
            "spapi.rotate token={} -> {}",
            if token.expose_secret() == "Atza|PLANTED-GRANTLESS" {
                "grantless"
            } else {
                "other"
            },
            if answer.is_some() { "error" } else { "204" }
        ));
        answer.map_or(Ok(()), Err)
    }
}
