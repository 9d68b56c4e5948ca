//! SP-API adapters: the Application Management API
//! ([`crate::ports::application_management::ApplicationManagement`]), used by
//! the client-secret rotator.

pub mod application_management;

pub use application_management::SpApiApplicationManagement;
