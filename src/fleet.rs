//! Fleet mode: one refresher for many profiles (sellers and grantless
//! scopes). Every secret whose name starts with `LWA_SECRET_PREFIX` is a
//! profile; its token goes to `TOKEN_PARAMETER_PREFIX` + the profile name.
//!
//! A run discovers the profiles (`BatchGetSecretValue` with a name-prefix
//! filter, paginated), reads the stored tokens (`GetParametersByPath`, 10 per
//! call), and refreshes the due ones with bounded concurrency
//! (`REFRESH_CONCURRENCY`), writes paced at `SSM_WRITE_TPS`. One failing
//! profile never stops the others; an `invalid_client` on the shared app
//! secret stops that app's other profiles for the run and is reported once.
//! New refreshes stop when the Lambda deadline is near: those profiles are
//! `deferred` to the next run. The run ends with a summary (and CloudWatch
//! Embedded Metric Format metrics); any failure fails the invocation with
//! errorType `ProfilesFailed` after every profile was tried.

use crate::aws::{CredentialsLoadError, CredentialsSource, SaveError, TokenStore};
use crate::credentials::{Credentials, RefreshTokenOrigin, SecretDocument};
use crate::error::ServiceError;
use crate::lwa::TokenEndpoint;
use crate::refresh::{Outcome, Profile, Refresher};
use crate::secret::RefreshToken;
use crate::token::StoredToken;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// Longest profile name accepted.
pub const MAX_PROFILE_NAME: usize = 128;

/// Checks a profile name: 1 to 128 of `A-Z a-z 0-9 _ . -`, starting with a
/// letter or digit, without `..`. Nothing that could reach another parameter
/// path (`/`, `..`, control characters) passes.
pub fn check_profile_name(name: &str) -> Result<(), String> {
    let expected =
        "expected 1 to 128 letters, digits, `_`, `.` or `-`, starting with a letter or digit";
    if name.is_empty() || name.len() > MAX_PROFILE_NAME {
        return Err(format!(
            "profile name has {} characters; {expected}",
            name.chars().count()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "profile name `{}` contains {c:?}; {expected}",
            name.escape_default()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || name.contains("..") {
        return Err(format!("profile name `{name}` is not allowed; {expected}"));
    }
    Ok(())
}

/// A stable hash of a profile name (FNV-1a, 64 bits).
fn name_hash(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The margin a profile is refreshed with in the run at `now` (Unix
/// seconds), spreading a fleet across runs.
///
/// A token refreshed when it has `margin` left is refreshed again every
/// (3600 − margin) / `interval` runs (3 with the defaults). A fleet refreshed
/// together would stay together: every profile due in the same run, forever.
/// So the fleet is split into that many phases by a stable hash of the
/// name; in the runs of its own phase (wall-clock slot
/// `now / interval mod phases`) a profile may refresh early, with up to
/// (phases − 1) × `interval` more than the margin left. After one cycle each
/// phase refreshes in its own runs, about 1/phases of the fleet per run. A
/// token is never refreshed later than `margin` before expiry.
pub fn effective_margin(name: &str, now: i64, margin: Duration, interval: Duration) -> Duration {
    let interval_s = interval.as_secs();
    if interval_s == 0 {
        return margin;
    }
    let phases = (3600u64.saturating_sub(margin.as_secs()) / interval_s).max(1);
    if phases == 1 {
        return margin;
    }
    let slot = (now.max(0) as u64 / interval_s) % phases;
    if name_hash(name) % phases == slot {
        margin + interval * (phases as u32 - 1)
    } else {
        margin
    }
}

/// The fleet run's settings.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// Secret-name prefix.
    pub secret_prefix: String,
    /// Parameter-name prefix.
    pub parameter_prefix: String,
    /// The shared app secret, if any.
    pub app_secret_id: Option<String>,
    /// Profiles refreshed at once.
    pub concurrency: usize,
    /// PutParameter calls per second; 0 = unpaced.
    pub write_tps: u32,
    /// The schedule interval the fleet is spread over (see [`effective_margin`]); 0 = no spreading.
    pub spread: Duration,
    /// `REFRESH_MARGIN_SECONDS`.
    pub margin: Duration,
    /// The time one profile's refresh may need (token request and writes):
    /// no refresh starts with less than this left before the deadline.
    pub per_profile_budget: Duration,
}

/// One failed profile in the summary (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileFailure {
    /// Profile name (the secret name without the prefix); for a shared app
    /// secret failure, `app:` + the app secret's ID.
    pub profile: String,
    /// The contract's errorType.
    pub error_type: String,
    /// What happened and what to do.
    pub message: String,
    /// For an app-wide failure: how many profiles it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles_affected: Option<usize>,
}

/// The answer (and log) of a fleet run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetSummary {
    /// Always `fleet`.
    pub outcome: &'static str,
    /// Profiles found.
    pub profiles: usize,
    /// New tokens stored.
    pub refreshed: usize,
    /// Tokens with enough time left.
    pub skipped: usize,
    /// Profiles that failed (including those stopped by an app-wide failure).
    pub failed: usize,
    /// Profiles not reached before the deadline: the next run does them.
    pub deferred: usize,
    /// The least time to live among the stored tokens after the run, in
    /// seconds (0 for a profile without a usable token); `None` for no profiles.
    pub min_ttl_seconds: Option<i64>,
    /// Token requests sent to LWA.
    pub token_requests: u32,
    /// One entry per failure; an app-wide failure is one entry.
    pub failures: Vec<ProfileFailure>,
}

impl FleetSummary {
    /// The invocation's error when any profile failed: errorType
    /// `ProfilesFailed`, listing each failed profile with its errorType.
    pub fn error(&self) -> Option<ServiceError> {
        if self.failures.is_empty() {
            return None;
        }
        const SHOWN: usize = 50;
        let mut list: Vec<String> = self
            .failures
            .iter()
            .take(SHOWN)
            .map(|f| match f.profiles_affected {
                Some(n) => format!("{} ({}, stopped {n} profiles)", f.profile, f.error_type),
                None => format!("{} ({})", f.profile, f.error_type),
            })
            .collect();
        if self.failures.len() > SHOWN {
            list.push(format!("and {} more", self.failures.len() - SHOWN));
        }
        Some(ServiceError::ProfilesFailed(format!(
            "{} of {} profiles failed: {}. Refreshed {}, skipped {}, deferred {}. Each failure's message and fix \
             is in the `fleet run finished` log line.",
            self.failed,
            self.profiles,
            list.join(", "),
            self.refreshed,
            self.skipped,
            self.deferred
        )))
    }
}

/// Paces writes: one `save` start per `1/tps` seconds; throttled writes are
/// retried (with the same token: LWA is not asked again).
pub struct PacedStore<S> {
    inner: S,
    interval: Option<Duration>,
    next: Cell<Instant>,
}

impl<S> PacedStore<S> {
    /// `tps` writes per second; 0 = unpaced.
    pub fn new(inner: S, tps: u32) -> Self {
        Self {
            inner,
            interval: (tps > 0).then(|| Duration::from_secs(1) / tps),
            next: Cell::new(Instant::now()),
        }
    }

    async fn slot(&self) {
        if let Some(interval) = self.interval {
            let now = Instant::now();
            let slot = self.next.get().max(now);
            self.next.set(slot + interval);
            tokio::time::sleep_until(slot).await;
        }
    }
}

/// Attempts of a throttled write.
const WRITE_ATTEMPTS: u32 = 4;

impl<S: TokenStore> TokenStore for PacedStore<S> {
    async fn load(
        &self,
        parameter: &str,
    ) -> Result<Option<StoredToken>, crate::aws::TokenLoadError> {
        self.inner.load(parameter).await
    }

    async fn load_prefix(&self, prefix: &str) -> Result<crate::aws::StoredTokens, String> {
        self.inner.load_prefix(prefix).await
    }

    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), SaveError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.slot().await;
            match self.inner.save(parameter, token).await {
                Err(e) if e.throttled && attempt < WRITE_ATTEMPTS => {
                    let wait = Duration::from_millis(500) * attempt + crate::lwa::backoff(attempt);
                    tracing::warn!(
                        parameter,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "PutParameter throttled; retrying the write"
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

/// Credentials for the fleet: the documents found by discovery, completed by
/// the shared app secret. A second load of the same profile (after an
/// `invalid_client`) reads its secret, and the app secret, again.
pub struct FleetCredentials<'a> {
    secrets: &'a crate::aws::SecretsManagerSource,
    prefetched: RefCell<HashMap<String, SecretDocument>>,
    app_secret_id: Option<String>,
    app: RefCell<Option<SecretDocument>>,
}

impl FleetCredentials<'_> {
    fn app_document(&self) -> Option<SecretDocument> {
        self.app.borrow().clone()
    }
}

impl CredentialsSource for FleetCredentials<'_> {
    async fn load(&self, secret_id: &str) -> Result<Credentials, CredentialsLoadError> {
        let prefetched = self.prefetched.borrow_mut().remove(secret_id);
        let fresh = prefetched.is_none();
        let doc = match prefetched {
            Some(doc) => doc,
            None => self.secrets.load_document(secret_id).await?,
        };
        if !doc.has_client() {
            if let (true, Some(app_id)) = (fresh, &self.app_secret_id) {
                // Re-read the shared app secret: its client secret may have been rotated.
                let app = self.secrets.load_document(app_id).await?;
                *self.app.borrow_mut() = Some(app);
            }
        }
        let app = self.app_document();
        doc.into_credentials(app.as_ref())
            .map_err(CredentialsLoadError::Invalid)
    }

    async fn save_refresh_token(
        &self,
        origin: &RefreshTokenOrigin,
        new: &RefreshToken,
    ) -> Result<(), String> {
        self.secrets.save_refresh_token(origin, new).await
    }
}

/// The fleet's gate in front of LWA:
/// - at most `permits` token requests in flight (the concurrency bound is on
///   LWA; reads and writes of other profiles go on beside it);
/// - a request that could not finish before the deadline is not started
///   (its profile is deferred);
/// - a client ID and client secret pair that LWA answered `invalid_client`
///   is not sent again in this run (no hammering with known-bad
///   credentials); a re-read secret with a new client secret is a new pair.
struct GatedEndpoint<'a, E> {
    inner: &'a E,
    permits: tokio::sync::Semaphore,
    min_left: Duration,
    rejected: RefCell<std::collections::HashSet<String>>,
}

/// `attempts: 0` with this text marks a request not started for lack of time.
const NOT_STARTED: &str = "not started: too close to the Lambda deadline";

fn client_key(credentials: &Credentials) -> String {
    crate::secret::fingerprint(&format!(
        "{}\u{0}{}",
        credentials.client_id,
        credentials.client_secret.expose_secret()
    ))
}

impl<E: TokenEndpoint> TokenEndpoint for GatedEndpoint<'_, E> {
    async fn request_token(
        &self,
        credentials: &Credentials,
        deadline: Instant,
        stats: &mut crate::lwa::ExchangeStats,
    ) -> Result<crate::lwa::TokenResponse, crate::lwa::LwaError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let key = client_key(credentials);
        if self.rejected.borrow().contains(&key) {
            return Err(crate::lwa::LwaError::Rejected {
                code: crate::lwa::LwaErrorCode::InvalidClient,
                error: "invalid_client".into(),
                description: Some(
                    "not sent again: LWA rejected this client ID and client secret earlier in this run".into(),
                ),
                status: 401,
            });
        }
        if deadline.saturating_duration_since(Instant::now()) < self.min_left {
            return Err(crate::lwa::LwaError::Unavailable {
                attempts: 0,
                last: NOT_STARTED.into(),
            });
        }
        let answer = self.inner.request_token(credentials, deadline, stats).await;
        if let Err(crate::lwa::LwaError::Rejected {
            code: crate::lwa::LwaErrorCode::InvalidClient,
            ..
        }) = &answer
        {
            self.rejected.borrow_mut().insert(key);
        }
        answer
    }
}

enum ProfileResult {
    Ignored,
    Done(Outcome, i64),
    Failed(ProfileFailure, Option<i64>),
    AppStopped(Option<i64>),
    Deferred(Option<i64>),
}

/// Runs one fleet refresh: discover, read the stored tokens, refresh the due
/// profiles with bounded concurrency, summarize. `Err` only when the fleet
/// cannot even be listed (secrets or parameters); per-profile failures are in
/// the summary.
pub async fn run_fleet<E: TokenEndpoint, S: TokenStore>(
    secrets: &crate::aws::SecretsManagerSource,
    endpoint: &E,
    store: &S,
    settings: &FleetSettings,
    force: bool,
    deadline: Instant,
) -> Result<FleetSummary, ServiceError> {
    let listing_failed = |detail: String, secret_id: &str| ServiceError::CredentialsUnavailable {
        secret_id: secret_id.to_owned(),
        detail,
    };
    let app = match &settings.app_secret_id {
        Some(id) => match secrets.load_document(id).await {
            Ok(doc) => Some(doc),
            Err(CredentialsLoadError::Invalid(e)) => {
                return Err(ServiceError::CredentialsInvalid(e))
            }
            Err(CredentialsLoadError::Unavailable(d)) => return Err(listing_failed(d, id)),
        },
        None => None,
    };
    let stored = store
        .load_prefix(&settings.parameter_prefix)
        .await
        .map_err(|detail| ServiceError::StoreFailed {
            parameter: format!("{}*", settings.parameter_prefix),
            detail,
        })?;

    let credentials = FleetCredentials {
        secrets,
        prefetched: RefCell::new(HashMap::new()),
        app_secret_id: settings.app_secret_id.clone(),
        app: RefCell::new(app),
    };
    let limited = GatedEndpoint {
        inner: endpoint,
        permits: tokio::sync::Semaphore::new(settings.concurrency.max(1)),
        min_left: settings
            .per_profile_budget
            .saturating_sub(crate::refresh::WRITE_RESERVE),
        rejected: RefCell::new(std::collections::HashSet::new()),
    };
    let refresher = Refresher::new(&credentials, &limited, store, settings.margin);
    let app_rejected: RefCell<Option<ServiceError>> = RefCell::new(None);
    let requests = Cell::new(0u32);
    let stored = &stored;

    // Discovery feeds the refreshes as it reads: the first profiles refresh
    // while later pages are still being listed.
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let listing = async {
        let r = secrets.discover_into(&settings.secret_prefix, &tx).await;
        drop(tx);
        r
    };
    let found = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let refreshing = found
        .map(|found| {
            let (refresher, credentials) = (&refresher, &credentials);
            let (app_rejected, requests) = (&app_rejected, &requests);
            async move {
                let is_app = settings
                    .app_secret_id
                    .as_deref()
                    .is_some_and(|a| a == found.name || a.contains(&format!(":secret:{}-", found.name)));
                if is_app {
                    return ProfileResult::Ignored; // the app secret itself may live under the prefix
                }
                let name = found.name[settings.secret_prefix.len()..].to_owned();
                if let Err(why) = check_profile_name(&name) {
                    return ProfileResult::Failed(
                        ProfileFailure {
                            profile: name.escape_default().to_string(),
                            error_type: "CredentialsInvalid".into(),
                            message: format!(
                                "secret `{}`: {why}; rename the secret (the profile name becomes part of the parameter name)",
                                found.name.escape_default()
                            ),
                            profiles_affected: None,
                        },
                        None,
                    );
                }
                let parameter = format!("{}{name}", settings.parameter_prefix);
                let doc = match found.document {
                    Ok(doc) => doc,
                    Err(e) => {
                        let error = match e {
                            CredentialsLoadError::Invalid(e) => ServiceError::CredentialsInvalid(e),
                            CredentialsLoadError::Unavailable(detail) => ServiceError::CredentialsUnavailable {
                                secret_id: found.name.clone(),
                                detail,
                            },
                        };
                        return ProfileResult::Failed(
                            ProfileFailure {
                                profile: name,
                                error_type: error.error_type().into(),
                                message: error.to_string(),
                                profiles_affected: None,
                            },
                            None,
                        );
                    }
                };
                let uses_app = !doc.has_client();
                credentials.prefetched.borrow_mut().insert(found.name.clone(), doc);
                let now = OffsetDateTime::now_utc();
                let loaded = match stored.get(&parameter) {
                    None => Ok(None),
                    Some(Ok(t)) => Ok(Some(t.clone())),
                    Some(Err(why)) => Err(crate::aws::TokenLoadError::Malformed(why.clone())),
                };
                let old_ttl = loaded
                    .as_ref()
                    .ok()
                    .and_then(|t| t.as_ref())
                    .map(|t| t.seconds_left(now).max(0));
                if uses_app && app_rejected.borrow().is_some() {
                    return ProfileResult::AppStopped(old_ttl);
                }
                if deadline.saturating_duration_since(Instant::now()) < settings.per_profile_budget {
                    return ProfileResult::Deferred(old_ttl);
                }
                let profile = Profile {
                    name: Some(name.clone()),
                    secret_id: found.name,
                    parameter_name: parameter,
                };
                let margin = effective_margin(&name, now.unix_timestamp(), settings.margin, settings.spread);
                let mut stats = crate::lwa::ExchangeStats::default();
                let (result, _) = refresher
                    .refresh_with(&profile, loaded, force, margin, deadline, &mut stats)
                    .await;
                requests.set(requests.get() + stats.requests);
                match result {
                    Ok(report) => ProfileResult::Done(report.outcome, report.expires_in),
                    Err(ServiceError::Lwa {
                        error: crate::lwa::LwaError::Unavailable { attempts: 0, last },
                        ..
                    }) if last == NOT_STARTED => ProfileResult::Deferred(old_ttl),
                    Err(e) => {
                        if uses_app && e.error_type() == "LwaInvalidClient" {
                            // Reported once, for the app; profiles in flight count as stopped.
                            let mut flag = app_rejected.borrow_mut();
                            if flag.is_none() {
                                *flag = Some(e);
                            }
                            return ProfileResult::AppStopped(old_ttl);
                        }
                        tracing::warn!(profile = %name, error_type = e.error_type(), error = %e, "profile refresh failed");
                        ProfileResult::Failed(
                            ProfileFailure {
                                profile: name,
                                error_type: e.error_type().into(),
                                message: e.to_string(),
                                profiles_affected: None,
                            },
                            old_ttl,
                        )
                    }
                }
            }
        })
        // Eight times the token-request bound: while some profiles wait on
        // LWA, others are read, written or paced, so a slow store does not
        // idle the LWA slots. Each waiting profile costs a few hundred bytes.
        .buffer_unordered(settings.concurrency.max(1) * 8)
        .collect::<Vec<ProfileResult>>();
    let (listed, results) = futures_util::future::join(listing, refreshing).await;

    let mut summary = FleetSummary {
        outcome: "fleet",
        profiles: 0,
        refreshed: 0,
        skipped: 0,
        failed: 0,
        deferred: 0,
        min_ttl_seconds: None,
        token_requests: requests.get(),
        failures: Vec::new(),
    };
    if let Err(detail) = listed {
        let e = listing_failed(detail, &format!("{}*", settings.secret_prefix));
        summary.failed += 1;
        summary.failures.push(ProfileFailure {
            profile: "discovery".into(),
            error_type: e.error_type().into(),
            message: format!("{e} Profiles after the failure were not listed in this run."),
            profiles_affected: None,
        });
    }
    let mut app_stopped = 0;
    let mut min_ttl: Option<i64> = None;
    let mut ttl = |t: i64| min_ttl = Some(min_ttl.map_or(t, |m| m.min(t)));
    for r in results {
        if !matches!(r, ProfileResult::Ignored) {
            summary.profiles += 1;
        }
        match r {
            ProfileResult::Ignored => {}
            ProfileResult::Done(Outcome::Refreshed, left) => {
                summary.refreshed += 1;
                ttl(left);
            }
            ProfileResult::Done(Outcome::Skipped, left) => {
                summary.skipped += 1;
                ttl(left);
            }
            ProfileResult::Failed(f, left) => {
                summary.failed += 1;
                summary.failures.push(f);
                ttl(left.unwrap_or(0));
            }
            ProfileResult::AppStopped(left) => {
                summary.failed += 1;
                app_stopped += 1;
                ttl(left.unwrap_or(0));
            }
            ProfileResult::Deferred(left) => {
                summary.deferred += 1;
                ttl(left.unwrap_or(0));
            }
        }
    }
    if let Some(e) = app_rejected.into_inner() {
        summary.failures.push(ProfileFailure {
            profile: format!(
                "app:{}",
                settings.app_secret_id.as_deref().unwrap_or_default()
            ),
            error_type: e.error_type().into(),
            message: format!(
                "{e} Profiles that use the app secret were not refreshed in this run."
            ),
            profiles_affected: Some(app_stopped),
        });
    }
    summary.failures.sort_by(|a, b| a.profile.cmp(&b.profile));
    summary.min_ttl_seconds = min_ttl;
    Ok(summary)
}

/// A CloudWatch Embedded Metric Format line for a fleet run: Refreshed,
/// Skipped, Failed, Deferred (Count) and MinTokenTtl (Seconds), namespace
/// `SpApiLwaTokenService`, dimension `FunctionName`
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
pub fn emf_line(summary: &FleetSummary, function_name: &str, now: OffsetDateTime) -> String {
    let mut metrics = vec![
        serde_json::json!({"Name": "Refreshed", "Unit": "Count"}),
        serde_json::json!({"Name": "Skipped", "Unit": "Count"}),
        serde_json::json!({"Name": "Failed", "Unit": "Count"}),
        serde_json::json!({"Name": "Deferred", "Unit": "Count"}),
    ];
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": "SpApiLwaTokenService",
                "Dimensions": [["FunctionName"]],
                "Metrics": [],
            }],
        },
        "FunctionName": function_name,
        "Refreshed": summary.refreshed,
        "Skipped": summary.skipped,
        "Failed": summary.failed,
        "Deferred": summary.deferred,
    });
    if let Some(ttl) = summary.min_ttl_seconds {
        metrics.push(serde_json::json!({"Name": "MinTokenTtl", "Unit": "Seconds"}));
        line["MinTokenTtl"] = serde_json::json!(ttl);
    }
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"] = serde_json::Value::Array(metrics);
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names() {
        for ok in ["seller-1", "ACME_eu.2", "a", &"x".repeat(128)] {
            check_profile_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "..",
            "a/../b",
            "a/b",
            "a//b",
            ".hidden",
            "-x",
            "a..b",
            "a\nb",
            "a b",
            "é",
            &"x".repeat(129),
        ] {
            assert!(check_profile_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_fleet_refreshed_together_spreads_across_runs() {
        // A 10-minute schedule for 12 hours; every token first issued in the
        // same run (a little after it, as a large fleet's are).
        let (margin, interval) = (Duration::from_secs(1800), Duration::from_secs(600));
        let names: Vec<String> = (0..600).map(|i| format!("seller-{i}")).collect();
        let mut expires: Vec<i64> = (0..600).map(|i| 3600 + (i as i64 % 120)).collect();
        let mut per_run = Vec::new();
        for run in 1..72 {
            let now = run * 600;
            let mut refreshed = 0;
            for (n, e) in names.iter().zip(expires.iter_mut()) {
                assert!(*e - now > 600, "a token came within one run of lapsing");
                if *e - now <= effective_margin(n, now, margin, interval).as_secs() as i64 {
                    *e = now + 3600 + 5;
                    refreshed += 1;
                }
            }
            per_run.push(refreshed);
        }
        // After the first cycle, each run refreshes about a third of the fleet.
        for n in &per_run[6..] {
            assert!((150..=250).contains(n), "{per_run:?}");
        }
        // Stable, never later than the margin, and off without an interval.
        assert_eq!(
            effective_margin("a", 1234, margin, interval),
            effective_margin("a", 1234, margin, interval)
        );
        for now in (0..3600).step_by(600) {
            assert!(effective_margin("a", now, margin, interval) >= margin);
        }
        assert_eq!(effective_margin("a", 0, margin, Duration::ZERO), margin);
        assert_eq!(
            effective_margin("a", 0, Duration::from_secs(3300), interval),
            Duration::from_secs(3300)
        );
    }

    #[test]
    fn summary_error_lists_failures() {
        let mut s = FleetSummary {
            outcome: "fleet",
            profiles: 3,
            refreshed: 1,
            skipped: 0,
            failed: 2,
            deferred: 0,
            min_ttl_seconds: Some(0),
            token_requests: 3,
            failures: vec![
                ProfileFailure {
                    profile: "b".into(),
                    error_type: "LwaInvalidGrant".into(),
                    message: "m".into(),
                    profiles_affected: None,
                },
                ProfileFailure {
                    profile: "app:x".into(),
                    error_type: "LwaInvalidClient".into(),
                    message: "m".into(),
                    profiles_affected: Some(4),
                },
            ],
        };
        let e = s.error().unwrap();
        assert_eq!(e.error_type(), "ProfilesFailed");
        let m = e.to_string();
        assert!(
            m.contains("b (LwaInvalidGrant)")
                && m.contains("app:x (LwaInvalidClient, stopped 4 profiles)"),
            "{m}"
        );
        s.failures.clear();
        assert!(s.error().is_none());
    }

    #[test]
    fn emf_shape() {
        let s = FleetSummary {
            outcome: "fleet",
            profiles: 2,
            refreshed: 1,
            skipped: 1,
            failed: 0,
            deferred: 0,
            min_ttl_seconds: Some(1234),
            token_requests: 1,
            failures: vec![],
        };
        let v: serde_json::Value =
            serde_json::from_str(&emf_line(&s, "fn", OffsetDateTime::now_utc())).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(v["MinTokenTtl"], 1234);
        assert_eq!(v["Refreshed"], 1);
        assert_eq!(v["FunctionName"], "fn");
    }

    #[tokio::test]
    async fn writes_are_paced() {
        struct Count(RefCell<Vec<Instant>>);
        impl TokenStore for Count {
            async fn load_prefix(&self, _: &str) -> Result<crate::aws::StoredTokens, String> {
                Ok(Default::default())
            }
            async fn load(
                &self,
                _: &str,
            ) -> Result<Option<StoredToken>, crate::aws::TokenLoadError> {
                Ok(None)
            }
            async fn save(&self, _: &str, _: &StoredToken) -> Result<(), SaveError> {
                self.0.borrow_mut().push(Instant::now());
                Ok(())
            }
        }
        let store = PacedStore::new(Count(RefCell::new(vec![])), 20);
        let token = StoredToken::new(
            crate::secret::AccessToken::new("Atza|x"),
            "bearer",
            OffsetDateTime::now_utc(),
            3600,
        );
        let start = Instant::now();
        for _ in 0..5 {
            store.save("/p", &token).await.unwrap();
        }
        let times = store.inner.0.borrow();
        let took = times[4] - start;
        assert!(
            took >= Duration::from_millis(195) && took < Duration::from_millis(400),
            "5 writes at 20 TPS: {took:?}"
        );
    }

    #[tokio::test]
    async fn throttled_writes_are_retried_without_a_new_token() {
        struct Throttled(Cell<u32>);
        impl TokenStore for Throttled {
            async fn load_prefix(&self, _: &str) -> Result<crate::aws::StoredTokens, String> {
                Ok(Default::default())
            }
            async fn load(
                &self,
                _: &str,
            ) -> Result<Option<StoredToken>, crate::aws::TokenLoadError> {
                Ok(None)
            }
            async fn save(&self, _: &str, _: &StoredToken) -> Result<(), SaveError> {
                self.0.set(self.0.get() + 1);
                if self.0.get() < 3 {
                    Err(SaveError {
                        message: "ThrottlingException: Rate exceeded".into(),
                        throttled: true,
                    })
                } else {
                    Ok(())
                }
            }
        }
        let store = PacedStore::new(Throttled(Cell::new(0)), 0);
        let token = StoredToken::new(
            crate::secret::AccessToken::new("Atza|x"),
            "bearer",
            OffsetDateTime::now_utc(),
            3600,
        );
        store.save("/p", &token).await.unwrap();
        assert_eq!(store.inner.0.get(), 3);
    }
}
