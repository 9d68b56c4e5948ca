//! Test support, public so integration tests (`tests/`) can use it too.
//! Nothing here is used by the functions themselves.
//!
//! - [`ManualClock`]: virtual time;
//! - [`Journal`]: one ordered record of the calls the fakes saw;
//! - [`FakeSecrets`], [`FakeStore`], [`FakeLwa`], [`FakeEvents`]: every port in memory;
//! - [`http::Server`]: a scripted HTTP server on loopback.

pub mod clock;
pub mod events;
pub mod fake_lwa;
pub mod fake_secrets;
pub mod fake_store;
pub mod http;
pub mod journal;

pub use clock::ManualClock;
pub use events::FakeEvents;
pub use fake_lwa::{rejection, token_answer, FakeLwa};
pub use fake_secrets::FakeSecrets;
pub use fake_store::FakeStore;
pub use journal::{Call, Journal};
