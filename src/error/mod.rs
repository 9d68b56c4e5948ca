//! The contract's error types, and their mapping to the Lambda `errorType`
//! that alarms and callers key off.
//!
//! Every message says what happened and what to do, carries LWA's `error`,
//! `error_description` and HTTP status where there is one, and never a secret
//! value (client secret, refresh token, access token).

mod error_type;

pub use error_type::ErrorType;

use crate::credentials::CredentialsError;
use crate::lwa::{LwaError, LwaErrorCode};
use lambda_runtime::Diagnostic;

/// How every refresher error ends: nothing stored was touched.
pub(crate) const LEFT_AS_IT_WAS: &str = "The stored token was left as it was.";

/// `text` as a sentence, so another can follow it: a full stop added unless
/// it already ends with `.`, `!` or `?`.
pub(crate) fn sentence(text: &impl std::fmt::Display) -> String {
    let mut s = text.to_string();
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// Any failure of either function.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// The token endpoint refused or could not be reached.
    #[error("{}", lwa_message(.secret_id, .error, *.after_reread))]
    Lwa {
        /// The credentials secret used.
        secret_id: String,
        /// What LWA answered.
        error: LwaError,
        /// `true` when the secret was read again after an `invalid_client`.
        after_reread: bool,
    },
    /// The secret's contents are unusable (see [`CredentialsError`]).
    #[error("{} No token request was made. {LEFT_AS_IT_WAS}", sentence(.0))]
    CredentialsInvalid(CredentialsError),
    /// The secret cannot be read.
    #[error("could not read credentials secret `{secret_id}`: {detail}. {LEFT_AS_IT_WAS}")]
    CredentialsUnavailable {
        /// Secret name or ARN.
        secret_id: String,
        /// AWS error code and message, with the fix.
        detail: String,
    },
    /// The parameter cannot be written.
    #[error("could not write the token to parameter `{parameter}`: {detail}. The previous value, if any, is unchanged.")]
    StoreFailed {
        /// Parameter name.
        parameter: String,
        /// AWS error code and message, with the fix.
        detail: String,
    },
    /// LWA rotated the refresh token and the new one could not be saved.
    #[error(
        "LWA returned a new refresh token but it could not be saved to secret `{secret_id}` \
         (PutSecretValue: {detail}). {}; the old refresh token may stop working, so fix the secret's \
         permissions (secretsmanager:PutSecretValue) and force a refresh",
        match store_failure {
            None => format!("The new access token was stored in `{parameter}`"),
            Some(f) => format!("The new access token could not be stored in `{parameter}` either ({f})"),
        }
    )]
    RefreshTokenNotPersisted {
        /// Secret name or ARN.
        secret_id: String,
        /// Parameter the access token went to.
        parameter: String,
        /// AWS error code and message.
        detail: String,
        /// Set when the access token could not be written either.
        store_failure: Option<String>,
    },
    /// Reader: no stored token with enough time to live.
    #[error("{0}")]
    TokenUnavailable(String),
    /// Fleet mode: at least one profile failed (after all were tried).
    #[error("{0}")]
    ProfilesFailed(String),
    /// The event is not one the function accepts.
    #[error("{0}")]
    InvalidEvent(String),
    /// Refresher: the seller's authorization is lost (recorded in the stored
    /// token, see [`crate::authorization`]); the errorType stays LWA's.
    #[error("{message}")]
    SellerAuthorizationLost {
        /// `invalid_grant` or `unauthorized_client`.
        reason: crate::authorization::LostReason,
        /// Since when, the next attempt, and the fix.
        message: String,
    },
    /// Reader: the seller's authorization is lost and the last token has
    /// run out (errorType `AuthorizationLost`).
    #[error("{0}")]
    AuthorizationLost(String),
}

impl ServiceError {
    /// The Lambda `errorType` of the contract.
    pub fn error_type(&self) -> ErrorType {
        match self {
            ServiceError::Lwa { error, .. } => match error {
                LwaError::Rejected { code, .. } => match code {
                    LwaErrorCode::InvalidGrant => ErrorType::LwaInvalidGrant,
                    LwaErrorCode::InvalidClient => ErrorType::LwaInvalidClient,
                    LwaErrorCode::UnauthorizedClient => ErrorType::LwaUnauthorizedClient,
                    LwaErrorCode::InvalidScope => ErrorType::LwaInvalidScope,
                    LwaErrorCode::InvalidRequest | LwaErrorCode::Other(_) => {
                        ErrorType::LwaInvalidRequest
                    }
                    LwaErrorCode::UnsupportedGrantType => ErrorType::LwaUnsupportedGrantType,
                    LwaErrorCode::AccessDenied => ErrorType::LwaAccessDenied,
                },
                LwaError::ClientRejectedEarlier => ErrorType::LwaInvalidClient,
                LwaError::Unavailable { .. } | LwaError::NotStarted { .. } => {
                    ErrorType::LwaUnavailable
                }
                LwaError::Malformed { .. } => ErrorType::LwaMalformedResponse,
            },
            ServiceError::CredentialsInvalid(_) => ErrorType::CredentialsInvalid,
            ServiceError::CredentialsUnavailable { .. } => ErrorType::CredentialsUnavailable,
            ServiceError::StoreFailed { .. } => ErrorType::StoreFailed,
            ServiceError::RefreshTokenNotPersisted { .. } => ErrorType::RefreshTokenNotPersisted,
            ServiceError::TokenUnavailable(_) => ErrorType::TokenUnavailable,
            ServiceError::ProfilesFailed(_) => ErrorType::ProfilesFailed,
            ServiceError::InvalidEvent(_) => ErrorType::InvalidEvent,
            ServiceError::SellerAuthorizationLost { reason, .. } => reason.error_type(),
            ServiceError::AuthorizationLost(_) => ErrorType::AuthorizationLost,
        }
    }
}

impl From<ServiceError> for Diagnostic {
    fn from(e: ServiceError) -> Self {
        Diagnostic {
            error_type: e.error_type().as_str().to_owned(),
            error_message: e.to_string(),
        }
    }
}

fn lwa_message(secret_id: &str, error: &LwaError, after_reread: bool) -> String {
    let (code, said) = match error {
        LwaError::Rejected {
            code,
            status,
            error,
            description,
        } => (
            code,
            format!(
                "HTTP {status} {error}: {}",
                description.as_deref().unwrap_or("no description")
            ),
        ),
        LwaError::ClientRejectedEarlier => (
            &LwaErrorCode::InvalidClient,
            "invalid_client earlier in this run, so the same client ID and client secret were not sent again"
                .to_owned(),
        ),
        LwaError::NotStarted { reason } => {
            return format!(
                "no token request was made: the Lambda deadline left no time for one ({reason}). Raise the \
                 function's timeout (the template sets 30 s) so a request of LWA_TIMEOUT_MS fits. {LEFT_AS_IT_WAS}"
            )
        }
        LwaError::Unavailable { attempts, last } => {
            return format!(
                "the LWA token endpoint did not give a token after {attempts} attempt(s); last: {last}. \
                 This is usually temporary and the next scheduled run tries again; if it persists, check the \
                 function's network path to the endpoint and https://status.aws.amazon.com. {LEFT_AS_IT_WAS}"
            )
        }
        LwaError::Malformed { status, problem } => {
            return format!(
                "LWA answered HTTP {status} without a usable token: {problem}. Nothing was stored; check that \
                 LWA_TOKEN_URL is the LWA token endpoint (https://api.amazon.com/auth/o2/token). {LEFT_AS_IT_WAS}"
            )
        }
    };
    format!(
        "{}. {LEFT_AS_IT_WAS}",
        advice(code, &said, secret_id, after_reread)
    )
}

/// What to do about an OAuth rejection; `said` is what LWA answered.
fn advice(code: &LwaErrorCode, said: &str, secret_id: &str, after_reread: bool) -> String {
    match code {
        LwaErrorCode::InvalidGrant => format!(
            "LWA rejected the refresh token in secret `{secret_id}` ({said}). The seller revoked the app's \
             authorization or never granted it: have the seller re-authorize the app (Seller Central > \
             Manage Your Apps, or your website authorization workflow) and store the new refresh token in the secret"
        ),
        LwaErrorCode::InvalidClient => format!(
            "LWA rejected the client ID and client secret in secret `{secret_id}` ({said}){}. The client secret \
             is wrong or expired (LWA client secrets expire every 180 days; after a rotation the old one works \
             7 more days): copy the current client secret from the Solution Provider Portal / Developer Central \
             (Edit App > LWA credentials) into the secret",
            if after_reread { ", also after reading the secret again" } else { "" }
        ),
        LwaErrorCode::UnauthorizedClient => format!(
            "LWA refused this client for the requested grant ({said}). Check that the client ID in secret \
             `{secret_id}` is the LWA client ID of an SP-API app (amzn1.application-oa2-client.…) and that the \
             refresh token was issued to that same app"
        ),
        LwaErrorCode::InvalidScope => format!(
            "LWA rejected the scope in secret `{secret_id}` ({said}). Use a grantless scope the app may request, \
             e.g. sellingpartnerapi::notifications or sellingpartnerapi::client_credential:rotation"
        ),
        LwaErrorCode::UnsupportedGrantType => format!(
            "LWA did not accept the grant type ({said}). The request must be form-urlencoded to the LWA token \
             endpoint; check that LWA_TOKEN_URL is https://api.amazon.com/auth/o2/token"
        ),
        LwaErrorCode::AccessDenied => format!(
            "LWA denied the request ({said}). Check the app's status and the seller's authorization for the \
             credentials in secret `{secret_id}`"
        ),
        LwaErrorCode::InvalidRequest | LwaErrorCode::Other(_) => format!(
            "LWA rejected the request ({said}). Check the values in secret `{secret_id}` for stray characters \
             or a value pasted into the wrong field"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(status: u16, error: &str) -> ServiceError {
        ServiceError::Lwa {
            secret_id: "spapi/lwa".into(),
            error: LwaError::Rejected {
                code: crate::lwa::LwaErrorCode::parse(error),
                error: error.into(),
                description: Some("desc".into()),
                status,
            },
            after_reread: true,
        }
    }

    #[test]
    fn a_credentials_problem_ends_as_a_sentence_before_the_next() {
        let e = |problem: &str| {
            ServiceError::CredentialsInvalid(CredentialsError {
                secret_id: "spapi/lwa".into(),
                problem: problem.into(),
            })
            .to_string()
        };
        assert_eq!(
            e("fields `a` and `b` differ; keep one"),
            "credentials secret `spapi/lwa`: fields `a` and `b` differ; keep one. No token request was made. \
             The stored token was left as it was."
        );
        assert!(e("field `x` is empty.").contains("empty. No token"));
        assert!(e("is it JSON?").contains("JSON? No token"));
    }

    #[test]
    fn error_types_and_messages() {
        let e = rejected(400, "invalid_grant");
        assert_eq!(e.error_type(), "LwaInvalidGrant");
        let m = e.to_string();
        assert!(
            m.contains("invalid_grant")
                && m.contains("re-authoriz")
                && m.contains("HTTP 400")
                && m.contains("desc"),
            "{m}"
        );
        let e = rejected(401, "invalid_client");
        assert_eq!(e.error_type(), "LwaInvalidClient");
        assert!(e.to_string().contains("client secret"));
        assert_eq!(
            rejected(400, "unauthorized_client").error_type(),
            "LwaUnauthorizedClient"
        );
        assert_eq!(
            rejected(400, "invalid_scope").error_type(),
            "LwaInvalidScope"
        );
        assert_eq!(
            rejected(400, "invalid_request").error_type(),
            "LwaInvalidRequest"
        );
        assert_eq!(rejected(400, "brand_new").error_type(), "LwaInvalidRequest");
        assert_eq!(
            rejected(400, "unsupported_grant_type").error_type(),
            "LwaUnsupportedGrantType"
        );
        assert_eq!(
            rejected(403, "access_denied").error_type(),
            "LwaAccessDenied"
        );
        let d: Diagnostic = rejected(400, "invalid_grant").into();
        assert_eq!(d.error_type, "LwaInvalidGrant");
    }
}
