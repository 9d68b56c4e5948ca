//! The rotator's errors and their Lambda `errorType`s (CONTRACT.md, "Errors"
//! and "client-secret-rotator"). Messages say what happened and what to do,
//! and never hold a client secret, token or notification body.

use crate::credentials::CredentialsError;
use crate::error::{ErrorType, ServiceError};
use crate::lwa::LwaError;
use crate::ports::application_management::RotateCallError;
use lambda_runtime::Diagnostic;

const UNCHANGED: &str = "The client secret in the secret was left as it was.";

/// What the rotator was doing when LWA refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LwaPurpose {
    /// The grantless token for the rotate call, with the current secret.
    RotateToken,
    /// Checking that LWA accepts the new secret.
    Verify,
}

/// Any failure of `client-secret-rotator`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RotatorError {
    /// SP-API `400 InvalidInput` "not enrolled for rotation notification".
    #[error(
        "SP-API refused to rotate the client secret: the app is not enrolled for the rotation notification \
         ({sp_message}). Register the queue once in the developer console: Solution Provider Portal / Developer \
         Central > your app > Notification Preferences > subscribe \"Application Client Secret Expiry\" and \
         \"Application Client New Secret\" to the SQS queue {queue}; then run {{\"action\":\"rotate\"}} again. {UNCHANGED}",
        queue = queue_arn.as_deref().unwrap_or("that the stack created (output NotificationQueueArn; set NOTIFICATION_QUEUE_ARN to have it named here)")
    )]
    RotationNotEnrolled {
        /// Amazon's `message`.
        sp_message: String,
        /// `NOTIFICATION_QUEUE_ARN`.
        queue_arn: Option<String>,
    },
    /// Any other SP-API failure of the rotate call.
    #[error("the rotate call failed: {0}. {UNCHANGED}")]
    RotationFailed(RotateCallError),
    /// LWA refused or could not be reached.
    #[error("{}", lwa_message(.secret_id, .error, *.purpose))]
    Lwa {
        /// The app's secret.
        secret_id: String,
        /// LWA's answer.
        error: LwaError,
        /// Which request.
        purpose: LwaPurpose,
    },
    /// LWA does not accept the new secret yet (`invalid_client`): it stays
    /// `AWSPENDING` and the message is retried.
    #[error(
        "LWA does not accept the new client secret yet (saved as AWSPENDING in secret `{secret_id}`, version \
         {version_id}; Amazon can take minutes to activate it). The current secret stays in use; the message \
         is retried and the daily check tries again"
    )]
    NewSecretNotAccepted {
        /// The app's secret.
        secret_id: String,
        /// The `AWSPENDING` version.
        version_id: String,
    },
    /// A newer client secret waits as `AWSPENDING`: an older new-secret
    /// notification is retried, never installed over it nor dropped.
    #[error(
        "a newer client secret waits as AWSPENDING in secret `{secret_id}` (version {version_id}) until LWA \
         accepts it; this older new-secret notification is retried, not installed over it. Nothing was written"
    )]
    NewerSecretPending {
        /// The app's secret.
        secret_id: String,
        /// The `AWSPENDING` version.
        version_id: String,
    },
    /// A new secret whose expiry is more than 181 days away: not one Amazon
    /// issued (its secrets live 180 days). Never saved; retried, so it ends
    /// in the dead-letter queue.
    #[error(
        "the new-secret notification says its client secret expires at {expires_at}, already past or more \
         than 181 days from now; Amazon's client secrets live 180 days, so it was not saved. Nothing was written; the \
         message is retried and then kept in the dead-letter queue: check who sent it (the queue policy \
         names the senders)"
    )]
    NewSecretImplausible {
        /// `newClientSecretExpiryTime`, RFC 3339.
        expires_at: String,
    },
    /// An expiry notice whose date is more than 181 days away: not one
    /// Amazon sends (secrets live 180 days). Not recorded; retried, so it
    /// ends in the dead-letter queue.
    #[error(
        "the expiry notification says the client secret expires at {expires_at}, more than 181 days from \
         now; Amazon's client secrets live 180 days, so it was not recorded. Nothing was written; the message \
         is retried and then kept in the dead-letter queue: check who sent it (the queue policy names the \
         senders)"
    )]
    ExpiryImplausible {
        /// `clientSecretExpiryTime`, RFC 3339.
        expires_at: String,
    },
    /// A new secret expiring before the current secret's date, in a
    /// notification with no publish time: an old notification or a wrong
    /// hand-set date cannot be told apart. Never dropped, never installed.
    #[error(
        "a new-secret notification for this app (its secret expires at {expires_at}) has no eventTime or \
         publishTime, and expires before the current secret's client_secret_expires_at {recorded} in secret \
         `{secret_id}`: it may be an old notification delivered late, or that date is wrong. Nothing was \
         written; the message is retried and then kept in the dead-letter queue. If client_secret_expires_at \
         was set by hand, correct or remove it and redrive the message; if the notification is an old one, \
         delete it"
    )]
    NewSecretUnordered {
        /// The app's secret.
        secret_id: String,
        /// `newClientSecretExpiryTime`, RFC 3339.
        expires_at: String,
        /// The date it was compared with, RFC 3339.
        recorded: String,
    },
    /// The secret's contents are unusable.
    #[error("{} Nothing was written.", crate::error::sentence(.0))]
    CredentialsInvalid(CredentialsError),
    /// A Secrets Manager call failed.
    #[error("secret `{secret_id}`: {detail}")]
    CredentialsUnavailable {
        /// The app's secret.
        secret_id: String,
        /// What failed and how to fix it.
        detail: String,
    },
    /// The event is not one the rotator accepts.
    #[error("{0}")]
    InvalidEvent(String),
}

impl RotatorError {
    /// The Lambda `errorType` of the contract.
    pub fn error_type(&self) -> ErrorType {
        match self {
            RotatorError::RotationNotEnrolled { .. } => ErrorType::RotationNotEnrolled,
            RotatorError::RotationFailed(_) => ErrorType::RotationFailed,
            RotatorError::Lwa {
                secret_id, error, ..
            } => ServiceError::Lwa {
                secret_id: secret_id.clone(),
                error: error.clone(),
                after_reread: false,
            }
            .error_type(),
            RotatorError::NewSecretNotAccepted { .. } => ErrorType::LwaInvalidClient,
            RotatorError::NewerSecretPending { .. } => ErrorType::LwaInvalidClient,
            RotatorError::CredentialsInvalid(_) => ErrorType::CredentialsInvalid,
            RotatorError::CredentialsUnavailable { .. } => ErrorType::CredentialsUnavailable,
            RotatorError::InvalidEvent(_)
            | RotatorError::NewSecretImplausible { .. }
            | RotatorError::ExpiryImplausible { .. }
            | RotatorError::NewSecretUnordered { .. } => ErrorType::InvalidEvent,
        }
    }

    /// Whether an SQS record that failed with this error is worth delivering
    /// again: not when SP-API refused the rotate call for good (retrying
    /// cannot enrol the app; the daily check reports it).
    pub fn retry_message(&self) -> bool {
        !matches!(
            self,
            RotatorError::RotationNotEnrolled { .. }
                | RotatorError::RotationFailed(RotateCallError::Rejected { .. })
        )
    }
}

impl From<RotatorError> for Diagnostic {
    fn from(e: RotatorError) -> Self {
        Diagnostic {
            error_type: e.error_type().as_str().to_owned(),
            error_message: e.to_string(),
        }
    }
}

fn lwa_message(secret_id: &str, error: &LwaError, purpose: LwaPurpose) -> String {
    let what = match purpose {
        LwaPurpose::RotateToken => format!(
            "the grantless token for the rotate call (client_credentials, scope \
             sellingpartnerapi::client_credential:rotation) with the current client secret in secret `{secret_id}`"
        ),
        LwaPurpose::Verify => format!(
            "checking the new client secret (client_credentials, scope \
             sellingpartnerapi::client_credential:rotation) for secret `{secret_id}`"
        ),
    };
    let fix = match error {
        LwaError::Rejected {
            code: crate::lwa::LwaErrorCode::InvalidClient,
            ..
        } => " The current client secret is wrong or expired: copy it from the Solution Provider Portal / \
              Developer Central (Edit App > LWA credentials) into the secret, then rotate.",
        LwaError::Rejected {
            code: crate::lwa::LwaErrorCode::InvalidScope | crate::lwa::LwaErrorCode::UnauthorizedClient,
            ..
        } => " The app may not use the rotation scope: check that it is a production SP-API app (the sandbox \
              cannot rotate) with the client ID in the secret.",
        LwaError::Unavailable { .. } => " This is usually temporary; the message is retried.",
        _ => "",
    };
    format!("LWA refused {what}: {error}.{fix} {UNCHANGED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_messages() {
        let e = RotatorError::RotationNotEnrolled {
            sp_message: "Application is not enrolled for rotation notification".into(),
            queue_arn: Some("arn:aws:sqs:us-east-1:1:q".into()),
        };
        assert_eq!(e.error_type(), "RotationNotEnrolled");
        let m = e.to_string();
        assert!(
            m.contains("Notification Preferences") && m.contains("arn:aws:sqs:us-east-1:1:q"),
            "{m}"
        );
        assert!(!e.retry_message());
        let f = RotatorError::RotationFailed(RotateCallError::Rejected {
            status: 403,
            code: "Unauthorized".into(),
            message: "Access to requested resource is denied.".into(),
        });
        assert_eq!(f.error_type(), "RotationFailed");
        assert!(f.to_string().contains("403 Unauthorized"), "{f}");
        assert!(!f.retry_message());
        let u = RotatorError::RotationFailed(RotateCallError::Unavailable {
            attempts: 3,
            last: "HTTP 503".into(),
        });
        assert!(u.retry_message());
        let l = RotatorError::Lwa {
            secret_id: "app".into(),
            error: LwaError::Rejected {
                code: crate::lwa::LwaErrorCode::InvalidClient,
                error: "invalid_client".into(),
                description: None,
                status: 401,
            },
            purpose: LwaPurpose::RotateToken,
        };
        assert_eq!(l.error_type(), "LwaInvalidClient");
        let d: Diagnostic = l.into();
        assert!(d.error_message.contains("rotation"), "{}", d.error_message);
    }
}
