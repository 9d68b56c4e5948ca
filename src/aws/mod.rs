//! AWS adapters: the Secrets Manager credentials source and fleet discovery,
//! and the SSM token store, sharing one lazily loaded SDK configuration and
//! one description of SDK errors.
//!
//! - [`sdk`] — the SDK configuration, loaded on first use, with timeouts;
//! - [`sdk_error`] — every SDK error classified and described once;
//! - [`secrets_manager`] — [`crate::ports::CredentialsRead`] and [`crate::ports::CredentialsWrite`];
//! - [`secrets_discovery`] — [`crate::ports::SecretDiscovery`];
//! - [`eventbridge`] — [`crate::ports::EventPublish`];
//! - [`secret_versions`] — [`crate::ports::secret_versions::SecretVersions`] (the rotator's version stages);
//! - [`ssm`] — [`crate::ports::TokenRead`], [`crate::ports::TokenWrite`], [`crate::ports::TokenList`].

pub mod eventbridge;
pub mod sdk;
pub mod sdk_error;
pub mod secret_versions;
pub mod secrets_discovery;
pub mod secrets_manager;
pub mod ssm;

pub use eventbridge::EventBridgePublisher;
pub use sdk::LazySdkConfig;
pub use sdk_error::{describe_sdk_error, AwsFailure, SdkFailure};
pub use secret_versions::SecretsManagerVersions;
pub use secrets_discovery::discover_all;
pub use secrets_manager::SecretsManagerSource;
pub use ssm::SsmTokenStore;
