//! The contract's `errorType` values: what alarms, callers and the fleet
//! summary key off.

use serde::{Serialize, Serializer};
use std::fmt;

/// The Lambda `errorType` of a failure (`CONTRACT.md`, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// LWA `invalid_grant`: the seller's authorization is gone.
    LwaInvalidGrant,
    /// LWA `invalid_client`: wrong or expired client secret.
    LwaInvalidClient,
    /// LWA `unauthorized_client`.
    LwaUnauthorizedClient,
    /// LWA `invalid_scope`.
    LwaInvalidScope,
    /// LWA `invalid_request` or an unknown code.
    LwaInvalidRequest,
    /// LWA `unsupported_grant_type`.
    LwaUnsupportedGrantType,
    /// LWA `access_denied`.
    LwaAccessDenied,
    /// The token endpoint gave no token in the attempts and time there were.
    LwaUnavailable,
    /// HTTP 200 without a usable token.
    LwaMalformedResponse,
    /// The credentials secret's contents are unusable.
    CredentialsInvalid,
    /// The credentials secret cannot be read.
    CredentialsUnavailable,
    /// The token parameter cannot be written.
    StoreFailed,
    /// A rotated refresh token could not be saved.
    RefreshTokenNotPersisted,
    /// Reader: no token with enough time to live.
    TokenUnavailable,
    /// Fleet mode: at least one profile failed.
    ProfilesFailed,
    /// The event is not one the function accepts.
    InvalidEvent,
    /// A configuration value is missing or invalid (cold start).
    ConfigInvalid,
    /// Reader: the seller's authorization is gone and the last token has
    /// run out.
    AuthorizationLost,
    /// Client-secret rotator: SP-API `400 InvalidInput` "not enrolled for
    /// rotation notification" (register the queue in the console).
    RotationNotEnrolled,
    /// Client-secret rotator: any other SP-API failure of the rotate call.
    RotationFailed,
}

impl ErrorType {
    /// The contract's spelling, e.g. `LwaInvalidGrant`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::LwaInvalidGrant => "LwaInvalidGrant",
            ErrorType::LwaInvalidClient => "LwaInvalidClient",
            ErrorType::LwaUnauthorizedClient => "LwaUnauthorizedClient",
            ErrorType::LwaInvalidScope => "LwaInvalidScope",
            ErrorType::LwaInvalidRequest => "LwaInvalidRequest",
            ErrorType::LwaUnsupportedGrantType => "LwaUnsupportedGrantType",
            ErrorType::LwaAccessDenied => "LwaAccessDenied",
            ErrorType::LwaUnavailable => "LwaUnavailable",
            ErrorType::LwaMalformedResponse => "LwaMalformedResponse",
            ErrorType::CredentialsInvalid => "CredentialsInvalid",
            ErrorType::CredentialsUnavailable => "CredentialsUnavailable",
            ErrorType::StoreFailed => "StoreFailed",
            ErrorType::RefreshTokenNotPersisted => "RefreshTokenNotPersisted",
            ErrorType::TokenUnavailable => "TokenUnavailable",
            ErrorType::ProfilesFailed => "ProfilesFailed",
            ErrorType::InvalidEvent => "InvalidEvent",
            ErrorType::ConfigInvalid => "ConfigInvalid",
            ErrorType::AuthorizationLost => "AuthorizationLost",
            ErrorType::RotationNotEnrolled => "RotationNotEnrolled",
            ErrorType::RotationFailed => "RotationFailed",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_as_the_contract_and_serialized_as_text() {
        assert_eq!(ErrorType::LwaInvalidClient.to_string(), "LwaInvalidClient");
        assert_eq!(ErrorType::ConfigInvalid, "ConfigInvalid");
        assert_eq!(
            serde_json::to_value(ErrorType::ProfilesFailed).unwrap(),
            "ProfilesFailed"
        );
    }
}
