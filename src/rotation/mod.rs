//! `client-secret-rotator`: keeps the app's LWA client secret alive. It
//! rotates the secret before it expires (SP-API Application Management,
//! `POST /applications/2023-11-30/clientSecret`) and installs the new one
//! Amazon sends by notification, saved before verified before promoted.
//! See CONTRACT.md "client-secret-rotator" and docs/rotation.md.

pub mod config;
pub mod document;
pub mod error;
pub mod handler;
mod install;
pub mod notification;
pub mod rotator;
pub mod rules;
pub mod runtime;
mod schedule;
pub mod sqs;
pub mod status;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod test_world;
#[cfg(test)]
mod tests_cases;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_install;
#[cfg(test)]
mod tests_ordering;
#[cfg(test)]
mod tests_schedule;
