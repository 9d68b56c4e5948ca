//! Ports: the narrow traits the use cases see. Adapters (AWS SDK, reqwest)
//! implement them; unit tests implement them with in-memory fakes.

pub mod application_management;
pub mod secret_versions;
