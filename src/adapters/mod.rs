//! Adapters of the rotation ports: Secrets Manager versions and staging
//! labels, and the SP-API Application Management client.

pub mod application_management;
pub mod secret_versions;
