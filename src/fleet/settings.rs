//! Fleet mode's settings, as parsed from the environment
//! ([`crate::config::RefresherConfig`]) and used by the run.

use std::time::Duration;

/// Fleet-mode settings of `token-refresher`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// `LWA_SECRET_PREFIX`: secret-name prefix; the rest of a name is the
    /// profile name.
    pub secret_prefix: String,
    /// `TOKEN_PARAMETER_PREFIX`: a profile's token lives at this prefix + its
    /// name.
    pub parameter_prefix: String,
    /// `LWA_APP_SECRET_ID`: the app's `client_id` and `client_secret`, for
    /// profiles whose secret holds only a refresh token or a scope.
    pub app_secret_id: Option<String>,
    /// `REFRESH_CONCURRENCY` (default 8): token requests in flight at once.
    pub concurrency: usize,
    /// `SSM_WRITE_TPS` (default 3, PutParameter's default quota): the pace of
    /// writes, per second; 0 = unpaced.
    pub write_tps: u32,
    /// `REFRESH_SPREAD_SECONDS` (default 600: the schedule interval; 0 = off):
    /// the fleet is split into (3600 − margin) / this phases that refresh in
    /// different runs (see [`super::effective_margin`]), so a fleet refreshed
    /// together does not come due together again.
    pub spread: Duration,
}

impl FleetSettings {
    /// `true` when `secret_name` is the shared app secret (given by name or
    /// by ARN, whose name part ends in `-` and six random characters).
    pub fn is_app_secret(&self, secret_name: &str) -> bool {
        self.app_secret_id
            .as_deref()
            .is_some_and(|a| a == secret_name || a.contains(&format!(":secret:{secret_name}-")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_secret_is_known_by_name_or_arn() {
        let mut s = FleetSettings {
            secret_prefix: "p/".into(),
            parameter_prefix: "/p/".into(),
            app_secret_id: Some("p/app".into()),
            concurrency: 1,
            write_tps: 0,
            spread: Duration::ZERO,
        };
        assert!(s.is_app_secret("p/app"));
        assert!(!s.is_app_secret("p/app2"));
        s.app_secret_id =
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:p/app-AbCdEf".into());
        assert!(s.is_app_secret("p/app"));
        assert!(!s.is_app_secret("p/ap"));
        s.app_secret_id = None;
        assert!(!s.is_app_secret("p/app"));
    }
}
