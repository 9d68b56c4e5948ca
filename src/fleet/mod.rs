//! Fleet mode: one refresher for many profiles (sellers and grantless
//! scopes). Every secret whose name starts with `LWA_SECRET_PREFIX` is a
//! profile; its token goes to `TOKEN_PARAMETER_PREFIX` + the profile name.
//!
//! A run reads the shared app secret (`LWA_APP_SECRET_ID`, if any) and the
//! stored tokens (`GetParametersByPath`), then discovers the profiles
//! (`ListSecrets` with a name filter, values by `BatchGetSecretValue`) and
//! refreshes each due one as soon as it is found: at most
//! `REFRESH_CONCURRENCY` token requests in flight, writes paced at
//! `SSM_WRITE_TPS`. One failing profile never stops the others; an
//! `invalid_client` on the shared app secret stops that app's other profiles
//! for the run and is reported once. A profile with no room left before the
//! Lambda deadline is `deferred` to the next run. The run ends with a
//! summary (and CloudWatch Embedded Metric Format metrics); any failure
//! fails the invocation with errorType `ProfilesFailed` after every profile
//! was tried.
//!
//! - [`run`] — the run ([`Fleet`]) and what one profile comes to;
//! - [`settings`] — [`FleetSettings`];
//! - [`credentials`] — discovered documents completed by the app secret;
//! - [`gate`] — the bound, the deadline and the known-bad filter in front of LWA;
//! - [`pacing`] — paced and retried writes;
//! - [`spread`] — spreading refreshes across runs;
//! - [`summary`], [`metrics`]: the answer and the metrics line.

pub mod credentials;
pub mod gate;
pub mod metrics;
pub mod pacing;
pub mod run;
pub mod settings;
pub mod spread;
pub mod summary;

pub use metrics::emf_line;
pub use pacing::PacedStore;
pub use run::Fleet;
pub use settings::FleetSettings;
pub use spread::effective_margin;
pub use summary::{FleetSummary, ProfileFailure, ProfileOutcome};
