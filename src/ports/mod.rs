//! Ports: the narrow traits the use cases see, one capability per file.
//! Adapters (AWS, HTTP) implement them; unit tests use in-memory fakes.

pub mod code_exchange;
pub mod profile_store;
