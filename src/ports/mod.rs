//! Ports: the narrow traits the use cases ([`crate::refresh`],
//! [`crate::reader`], [`crate::fleet`], [`crate::onboarding`]) see, one file per capability. The
//! adapters ([`crate::aws`], [`crate::lwa`]) implement them; tests use the
//! in-memory fakes of [`crate::testing`].
//!
//! Every trait is also implemented for `&T`, so a use case can borrow its
//! adapters.

pub mod application_management;
pub mod clock;
pub mod code_exchange;
pub mod credentials_read;
pub mod credentials_write;
pub mod events;
pub mod profile_store;
pub mod secret_discovery;
pub mod secret_versions;
pub mod token_endpoint;
pub mod token_list;
pub mod token_read;
pub mod token_write;

pub use clock::{system_clock, Clock, SharedClock, SystemClock};
pub use credentials_read::{CredentialsLoadError, CredentialsRead};
pub use credentials_write::{CredentialsSaveError, CredentialsWrite};
pub use events::{
    AuthorizationEvent, AuthorizationEventDetail, AuthorizationEventKind, EventPublish,
    PublishError, SharedEvents, EVENT_SOURCE,
};
pub use secret_discovery::{DiscoveredSecret, DiscoveryError, SecretDiscovery};
pub use token_endpoint::TokenEndpoint;
pub use token_list::{StoredTokens, TokenList, TokenListError};
pub use token_read::{TokenLoadError, TokenRead};
pub use token_write::{TokenSaveError, TokenWrite};
