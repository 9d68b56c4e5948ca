//! The answer (and log) of a fleet run: counts, the least time to live, and
//! one entry per failure; and what each profile came to.

use crate::error::{ErrorType, ServiceError};
use crate::refresh::Outcome;
use serde::Serialize;

/// One failed profile in the summary (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileFailure {
    /// Profile name (the secret name without the prefix); for a shared app
    /// secret failure, `app:` + the app secret's ID; `discovery` when the
    /// listing failed.
    pub profile: String,
    /// The contract's errorType.
    pub error_type: ErrorType,
    /// What happened and what to do.
    pub message: String,
    /// For an app-wide failure: how many profiles it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles_affected: Option<usize>,
}

impl ProfileFailure {
    /// The failure of `profile` with `error`.
    pub fn of(profile: String, error: &ServiceError) -> Self {
        Self {
            profile,
            error_type: error.error_type(),
            message: error.to_string(),
            profiles_affected: None,
        }
    }
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
    /// seconds (0 for a profile without a usable token); `None` for no
    /// profiles. Profiles under `authorization_lost` do not count (their
    /// loss is signalled by its event, once).
    pub min_ttl_seconds: Option<i64>,
    /// Token requests sent to LWA.
    pub token_requests: u32,
    /// One entry per failure; an app-wide failure is one entry.
    pub failures: Vec<ProfileFailure>,
    /// Profiles whose seller's authorization is lost since an earlier run
    /// (the run the loss began counted them `failed`): not failures.
    pub authorization_lost: LostProfiles,
}

/// The profiles counted under `authorization_lost`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LostProfiles {
    /// How many.
    pub count: usize,
    /// Their names, sorted.
    pub profiles: Vec<String>,
}

/// What one discovered secret came to. `ttl` is the stored token's time to
/// live after the run, in seconds (`None`: no usable token).
#[derive(Debug)]
pub enum ProfileOutcome {
    /// The app secret itself, found under the prefix: not a profile.
    Ignored,
    /// Refreshed or skipped.
    Done {
        /// Which.
        outcome: Outcome,
        /// Seconds the stored token has left.
        ttl: i64,
    },
    /// Failed on its own.
    Failed {
        /// The entry for the summary.
        failure: ProfileFailure,
        /// The (old) stored token's time to live.
        ttl: Option<i64>,
    },
    /// Not tried, or failed, because the shared app secret was refused.
    AppStopped {
        /// The (old) stored token's time to live.
        ttl: Option<i64>,
    },
    /// Not reached before the deadline: the next run does it.
    Deferred {
        /// The (old) stored token's time to live.
        ttl: Option<i64>,
    },
    /// The seller's authorization is lost since an earlier run.
    AuthorizationLost {
        /// The profile name.
        profile: String,
        /// The (old) stored token's time to live.
        ttl: Option<i64>,
    },
}

impl FleetSummary {
    /// Counts the profiles' outcomes. Failures are sorted by profile name;
    /// `app_stopped` in the result tells how many profiles an app-wide
    /// failure stopped.
    pub fn tally(outcomes: Vec<ProfileOutcome>, token_requests: u32) -> (Self, usize) {
        let mut s = FleetSummary {
            outcome: "fleet",
            profiles: 0,
            refreshed: 0,
            skipped: 0,
            failed: 0,
            deferred: 0,
            min_ttl_seconds: None,
            token_requests,
            failures: Vec::new(),
            authorization_lost: LostProfiles::default(),
        };
        let mut app_stopped = 0;
        let mut min_ttl: Option<i64> = None;
        let mut ttl = |t: i64| min_ttl = Some(min_ttl.map_or(t, |m| m.min(t)));
        for o in outcomes {
            if !matches!(o, ProfileOutcome::Ignored) {
                s.profiles += 1;
            }
            match o {
                ProfileOutcome::Ignored => {}
                ProfileOutcome::Done {
                    outcome: Outcome::Refreshed,
                    ttl: left,
                } => {
                    s.refreshed += 1;
                    ttl(left);
                }
                ProfileOutcome::Done {
                    outcome: Outcome::Skipped,
                    ttl: left,
                } => {
                    s.skipped += 1;
                    ttl(left);
                }
                ProfileOutcome::Failed { failure, ttl: left } => {
                    s.failed += 1;
                    s.failures.push(failure);
                    ttl(left.unwrap_or(0));
                }
                ProfileOutcome::AppStopped { ttl: left } => {
                    s.failed += 1;
                    app_stopped += 1;
                    ttl(left.unwrap_or(0));
                }
                ProfileOutcome::Deferred { ttl: left } => {
                    s.deferred += 1;
                    ttl(left.unwrap_or(0));
                }
                // Signalled once by its Lost event and counted apart: a seller
                // who left must not hold the fleet's TTL alarm on for ever.
                ProfileOutcome::AuthorizationLost { profile, .. } => {
                    s.authorization_lost.count += 1;
                    s.authorization_lost.profiles.push(profile);
                }
            }
        }
        s.authorization_lost.profiles.sort();
        s.min_ttl_seconds = min_ttl;
        s.failures.sort_by(|a, b| a.profile.cmp(&b.profile));
        (s, app_stopped)
    }

    /// Adds a failure that is not one profile's (discovery, the app
    /// secret), keeping the list sorted by profile.
    pub fn add_failure(&mut self, failure: ProfileFailure) {
        self.failures.push(failure);
        self.failures.sort_by(|a, b| a.profile.cmp(&b.profile));
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(profile: &str, error_type: ErrorType, affected: Option<usize>) -> ProfileFailure {
        ProfileFailure {
            profile: profile.into(),
            error_type,
            message: "m".into(),
            profiles_affected: affected,
        }
    }

    #[test]
    fn summary_error_lists_failures() {
        let (mut s, _) = FleetSummary::tally(
            vec![
                ProfileOutcome::Done {
                    outcome: Outcome::Refreshed,
                    ttl: 3600,
                },
                ProfileOutcome::Failed {
                    failure: failure("b", ErrorType::LwaInvalidGrant, None),
                    ttl: None,
                },
            ],
            3,
        );
        s.add_failure(failure("app:x", ErrorType::LwaInvalidClient, Some(4)));
        let e = s.error().unwrap();
        assert_eq!(e.error_type(), ErrorType::ProfilesFailed);
        let m = e.to_string();
        assert!(
            m.contains("b (LwaInvalidGrant)")
                && m.contains("app:x (LwaInvalidClient, stopped 4 profiles)")
                && m.starts_with("1 of 2 profiles failed"),
            "{m}"
        );
        assert_eq!(s.failures[0].profile, "app:x", "sorted");
        s.failures.clear();
        assert!(s.error().is_none());
    }

    #[test]
    fn tally_counts_every_outcome_and_the_least_ttl() {
        let (s, app_stopped) = FleetSummary::tally(
            vec![
                ProfileOutcome::Ignored,
                ProfileOutcome::Done {
                    outcome: Outcome::Refreshed,
                    ttl: 3600,
                },
                ProfileOutcome::Done {
                    outcome: Outcome::Skipped,
                    ttl: 2000,
                },
                ProfileOutcome::AppStopped { ttl: Some(900) },
                ProfileOutcome::AppStopped { ttl: Some(800) },
                ProfileOutcome::Deferred { ttl: Some(700) },
            ],
            1,
        );
        assert_eq!(
            (s.profiles, s.refreshed, s.skipped, s.failed, s.deferred),
            (5, 1, 1, 2, 1)
        );
        assert_eq!(
            (app_stopped, s.min_ttl_seconds, s.token_requests),
            (2, Some(700), 1)
        );
        let (s, _) = FleetSummary::tally(vec![ProfileOutcome::Deferred { ttl: None }], 0);
        assert_eq!(s.min_ttl_seconds, Some(0), "no usable token counts as 0");
        let (s, _) = FleetSummary::tally(vec![], 0);
        assert_eq!((s.profiles, s.min_ttl_seconds), (0, None));
    }

    #[test]
    fn more_than_fifty_failures_are_summed_up() {
        let message = |n: usize| {
            let outcomes = (0..n)
                .map(|i| ProfileOutcome::Failed {
                    failure: failure(&format!("p{i:02}"), ErrorType::StoreFailed, None),
                    ttl: None,
                })
                .collect();
            let (s, _) = FleetSummary::tally(outcomes, 0);
            s.error().unwrap().to_string()
        };
        let m = message(53);
        assert!(m.contains("p49 (StoreFailed), and 3 more"), "{m}");
        assert!(!m.contains("p50"), "{m}");
        // Exactly fifty: all listed, nothing summed up.
        let m = message(50);
        assert!(m.contains("p49 (StoreFailed). Refreshed"), "{m}");
    }

    #[test]
    fn a_lasting_authorization_loss_is_counted_apart_and_fails_nothing() {
        let (s, _) = FleetSummary::tally(
            vec![
                ProfileOutcome::AuthorizationLost {
                    profile: "zeta".into(),
                    ttl: None,
                },
                ProfileOutcome::AuthorizationLost {
                    profile: "acme".into(),
                    ttl: Some(120),
                },
                ProfileOutcome::Done {
                    outcome: Outcome::Skipped,
                    ttl: 3000,
                },
            ],
            0,
        );
        assert_eq!((s.profiles, s.failed, s.skipped), (3, 0, 1));
        assert_eq!(
            s.authorization_lost,
            LostProfiles {
                count: 2,
                profiles: vec!["acme".into(), "zeta".into()]
            }
        );
        // A lasting loss does not hold the fleet's TTL alarm on.
        assert_eq!(s.min_ttl_seconds, Some(3000));
        assert!(s.error().is_none(), "not a failed run");
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["authorization_lost"],
            serde_json::json!({"count": 2, "profiles": ["acme", "zeta"]})
        );
    }
}
