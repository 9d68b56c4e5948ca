//! Test support, public so integration tests (`tests/`) can use it too.
//! Nothing here is used by the functions themselves.

pub mod clock;

pub use clock::ManualClock;
