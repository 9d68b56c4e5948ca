//! Test harness: real protocol peers on loopback (moto for Secrets Manager and
//! SSM, the LWA stand-in), started once per test binary and stopped by their
//! parent-pid watchdogs when it exits; a captured log of everything the
//! service logged; and a scan for secret values.
#![allow(dead_code)]

pub mod cold;
pub mod events;
pub mod invoke;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::config::{Credentials as AwsCredentials, SharedCredentialsProvider};
use lwa_token_service::aws::{LazySdkConfig, SecretsManagerSource, SsmTokenStore};
use lwa_token_service::lwa::LwaClient;
use lwa_token_service::profile::Profile;
use lwa_token_service::refresh::Refresher;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub const CLIENT_ID: &str = "amzn1.application-oa2-client.harness";

/// Addresses of the peers.
pub struct Peers {
    /// `http://127.0.0.1:<port>` of moto.
    pub moto: String,
    /// `http://127.0.0.1:<port>` of the LWA stand-in.
    pub lwa: String,
}

fn spawn_peer(python: &str, script: &str, extra: &[&str]) -> u16 {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut child = Command::new(python)
        .arg(format!("{dir}/tools/{script}"))
        .args(["--host", "127.0.0.1", "--port", "0", "--parent-pid"])
        .arg(std::process::id().to_string())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {script} with {python}: {e}"));
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    reader.read_line(&mut line).expect("peer stdout");
    let port = line
        .trim()
        .strip_prefix("LISTENING ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
    // The peers exit on their own when this process ends (--parent-pid).
    std::mem::forget(reader);
    std::mem::forget(child);
    port
}

/// Starts the peers once per test binary.
pub fn peers() -> &'static Peers {
    static PEERS: OnceLock<Peers> = OnceLock::new();
    PEERS.get_or_init(|| {
        let python = std::env::var("PEERS_PYTHON")
            .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
        assert!(
            std::path::Path::new(&python).exists(),
            "{python} not found: run `make test` (or `make venv`) so the pinned moto is installed"
        );
        let moto = spawn_peer(&python, "moto_peer.py", &[]);
        let lwa = spawn_peer(&python, "lwa_standin.py", &["--quiet"]);
        Peers {
            moto: format!("http://127.0.0.1:{moto}"),
            lwa: format!("http://127.0.0.1:{lwa}"),
        }
    })
}

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Writes to the process-wide buffer (scanned for leaks) and, when set, to
/// one test's own buffer.
#[derive(Clone, Default)]
struct LogWriter(Option<Arc<Mutex<Vec<u8>>>>);
impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        if let Some(own) = &self.0 {
            own.lock().unwrap().extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of the service, at TRACE (the most revealing
/// level), in JSON like Lambda's JSON log format.
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        lwa_token_service::telemetry::init_with_writer(
            LogWriter::default,
            tracing_subscriber::filter::LevelFilter::TRACE,
        );
    });
}

/// Everything logged so far by every test of this binary (for the leak
/// scan; use [`TestLogs`] to check what one test logged).
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// What one test logs: a subscriber for the current thread (a
/// `#[tokio::test]` runs its tasks there) writing to this test's own buffer
/// as well as the process-wide one, until dropped.
pub struct TestLogs {
    own: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl TestLogs {
    /// Starts capturing this thread's logs.
    pub fn start() -> Self {
        capture_logs();
        let own = Arc::new(Mutex::new(Vec::new()));
        let writer = LogWriter(Some(own.clone()));
        let subscriber = lwa_token_service::telemetry::subscriber(
            move || writer.clone(),
            tracing_subscriber::filter::LevelFilter::TRACE,
        );
        TestLogs {
            own,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    /// Everything this test logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.own.lock().unwrap()).into_owned()
    }
}

/// Secret values found in `text`: any LWA token (`Atza|x`, `Atzr|x`), client
/// secret (`amzn1.oa2-cs.v1.x`) or planted marker. Guidance text such as
/// `Atza|…` is not a value.
pub fn leaks(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for needle in [
        "Atza|",
        "Atzr|",
        "amzn1.oa2-cs.v1.",
        "PLANTED",
        "PLACEHOLDER",
    ] {
        let mut from = 0;
        while let Some(i) = text[from..].find(needle) {
            let at = from + i;
            let after = &text[at + needle.len()..];
            let is_value = needle == "PLANTED"
                || needle == "PLACEHOLDER"
                || after
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            if is_value {
                found.push(text[at..(at + 40).min(text.len())].to_owned());
            }
            from = at + needle.len();
        }
    }
    found
}

/// Fails when `texts` or the captured logs hold a secret value.
pub fn assert_no_leaks(texts: &[&str]) {
    for t in texts {
        let l = leaks(t);
        assert!(l.is_empty(), "secret value in output: {l:?}\n{t}");
    }
    let logs = logs();
    if std::env::var_os("DUMP_LOGS").is_some() {
        eprintln!("{logs}");
    }
    let l = leaks(&logs);
    assert!(l.is_empty(), "secret value in the logs: {l:?}");
}

/// SDK configuration for moto: static dummy credentials, us-east-1.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(AwsCredentials::new(
            "testing", "testing", None, None, "tests",
        )))
        .build()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One test's isolated world: its own LWA stand-in namespace, secret and
/// parameter, with planted secret values.
pub struct World {
    pub ns: String,
    pub secret_id: String,
    pub parameter: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub sdk: Arc<LazySdkConfig>,
    pub http: reqwest::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub ssm: aws_sdk_ssm::Client,
}

impl World {
    /// A fresh world named after the test; the stand-in knows one client
    /// with one refresh token; no secret or parameter exists yet.
    pub async fn new(name: &str) -> World {
        capture_logs();
        let p = peers();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let ns = format!("{name}-{}-{n}", std::process::id());
        let config = sdk_config(&p.moto);
        let world = World {
            secret_id: format!("spapi/lwa/{ns}"),
            parameter: format!("/spapi/lwa/{ns}/access-token"),
            client_secret: format!("amzn1.oa2-cs.v1.PLANTED-CS-{ns}"),
            refresh_token: format!("Atzr|PLANTED-RT-{ns}"),
            sdk: LazySdkConfig::from_config(config.clone()),
            http: reqwest::Client::new(),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            ns,
        };
        world
            .control_put(json!({
                "clients": [{
                    "client_id": CLIENT_ID,
                    "client_secrets": [world.client_secret],
                    "refresh_tokens": [world.refresh_token],
                    "scopes": ["sellingpartnerapi::notifications"],
                }]
            }))
            .await;
        world
    }

    /// Replaces the stand-in namespace's state.
    pub async fn control_put(&self, state: Value) {
        let r = self
            .http
            .put(format!("{}/_control/{}", peers().lwa, self.ns))
            .header("content-type", "application/json")
            .body(state.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "stand-in control: {}", r.status());
    }

    /// Queues scripted answers.
    pub async fn script(&self, responses: Value) {
        let r = self
            .http
            .post(format!("{}/_control/{}/script", peers().lwa, self.ns))
            .header("content-type", "application/json")
            .body(json!({ "responses": responses }).to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// The token requests the stand-in received.
    pub async fn lwa_requests(&self) -> Vec<Value> {
        let body = self
            .http
            .get(format!("{}/_control/{}/requests", peers().lwa, self.ns))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        v["requests"].as_array().cloned().unwrap_or_default()
    }

    /// The token endpoint of this world's namespace.
    pub fn token_url(&self) -> reqwest::Url {
        format!("{}/ns/{}/auth/o2/token", peers().lwa, self.ns)
            .parse()
            .unwrap()
    }

    /// The canonical credentials document with the planted values.
    pub fn credentials_json(&self) -> String {
        json!({"client_id": CLIENT_ID, "client_secret": self.client_secret, "refresh_token": self.refresh_token})
            .to_string()
    }

    /// Creates the secret with `secret_string`.
    pub async fn create_secret(&self, secret_string: &str) {
        self.secrets
            .create_secret()
            .name(&self.secret_id)
            .secret_string(secret_string)
            .send()
            .await
            .expect("create secret in moto");
    }

    /// The secret's current SecretString.
    pub async fn secret_string(&self) -> String {
        self.secrets
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap()
            .to_owned()
    }

    /// The parameter's decrypted value and version, if it exists.
    pub async fn parameter_value(&self) -> Option<(String, i64)> {
        let out = self
            .ssm
            .get_parameter()
            .name(&self.parameter)
            .with_decryption(true)
            .send()
            .await
            .ok()?;
        let p = out.parameter()?;
        Some((p.value()?.to_owned(), p.version()))
    }

    /// Writes a stored token with `left` seconds to live.
    pub async fn seed_token(&self, access_token: &str, left: i64) {
        self.seed_token_at(access_token, left, time::OffsetDateTime::now_utc())
            .await
    }

    /// A token with `left` seconds to live as of `now` (a test clock's).
    #[allow(dead_code)]
    pub async fn seed_token_at(&self, access_token: &str, left: i64, now: time::OffsetDateTime) {
        let issued = now - time::Duration::seconds(3600 - left);
        let token = lwa_token_service::token::StoredToken::new(
            lwa_token_service::secret::AccessToken::new(access_token),
            "bearer",
            issued,
            3600,
        );
        self.ssm
            .put_parameter()
            .name(&self.parameter)
            .value(token.to_parameter_value())
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }

    /// The profile of this world.
    pub fn profile(&self) -> Profile {
        Profile {
            name: None,
            secret_id: self.secret_id.clone(),
            parameter_name: self.parameter.clone(),
        }
    }

    /// A refresher wired to the real adapters and peers.
    pub fn refresher(
        &self,
        timeout: Duration,
        attempts: u32,
        margin: Duration,
    ) -> Refresher<SecretsManagerSource, LwaClient, SsmTokenStore> {
        self.refresher_on(
            timeout,
            attempts,
            margin,
            lwa_token_service::ports::system_clock(),
        )
    }

    /// [`World::refresher`] on `clock`: the retry loop's waits (backoff,
    /// `Retry-After`) and deadlines are on it; HTTP timeouts stay real.
    pub fn refresher_on(
        &self,
        timeout: Duration,
        attempts: u32,
        margin: Duration,
        clock: lwa_token_service::ports::SharedClock,
    ) -> Refresher<SecretsManagerSource, LwaClient, SsmTokenStore> {
        Refresher::new(
            SecretsManagerSource::new(self.sdk.clone()),
            LwaClient::new(self.token_url(), timeout, attempts).with_clock(clock.clone()),
            SsmTokenStore::new(self.sdk.clone(), None),
            margin,
        )
        .with_clock(clock)
    }
}

/// Reads a case file copied from the field cases (`tests/cases/`).
pub fn cases(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/cases/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Reads an event file from `events/`.
pub fn event(file: &str) -> Value {
    let path = format!("{}/events/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
