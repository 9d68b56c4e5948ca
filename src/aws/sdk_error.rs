//! Every SDK error classified and described in ONE place, for every adapter.

use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// What went wrong in an AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFailure {
    /// The resource does not exist.
    NotFound,
    /// IAM or KMS refused.
    AccessDenied,
    /// Throttled past the SDK's retries.
    Throttled,
    /// Anything else (timeouts, connection errors, service errors).
    Other,
}

/// An SDK error, classified and described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkFailure {
    /// The class of failure (drives the fix shown and retries).
    pub kind: AwsFailure,
    /// One line: the AWS error code and message, or the transport problem.
    /// Never contains request data.
    pub detail: String,
}

/// Classifies an SDK error and describes it in one line.
pub fn describe_sdk_error<E, R>(e: &SdkError<E, R>) -> SdkFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (kind, detail) = match e {
        SdkError::ServiceError(_) => {
            let code = e.code().unwrap_or("UnknownError");
            let message = e.message().unwrap_or("no message");
            (classify_code(code), format!("{code}: {message}"))
        }
        SdkError::TimeoutError(_) => (AwsFailure::Other, "the AWS call timed out".to_owned()),
        SdkError::DispatchFailure(_) => (
            AwsFailure::Other,
            format!(
                "could not reach the AWS endpoint (check the network path, VPC endpoints and AWS_REGION): {}",
                DisplayErrorContext(e)
            ),
        ),
        _ => (AwsFailure::Other, DisplayErrorContext(e).to_string()),
    };
    SdkFailure { kind, detail }
}

/// The class of an AWS error code.
pub fn classify_code(code: &str) -> AwsFailure {
    match code {
        "ResourceNotFoundException" | "ParameterNotFound" => AwsFailure::NotFound,
        c if c.contains("AccessDenied")
            || c == "UnrecognizedClientException"
            || c.starts_with("KMS")
            || c == "InvalidKeyId"
            || c == "DecryptionFailure" =>
        {
            AwsFailure::AccessDenied
        }
        "ThrottlingException" | "TooManyUpdates" | "Throttling" | "RequestLimitExceeded" => {
            AwsFailure::Throttled
        }
        _ => AwsFailure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        for (code, kind) in [
            ("ResourceNotFoundException", AwsFailure::NotFound),
            ("ParameterNotFound", AwsFailure::NotFound),
            ("AccessDeniedException", AwsFailure::AccessDenied),
            ("UnrecognizedClientException", AwsFailure::AccessDenied),
            ("KMSAccessDeniedException", AwsFailure::AccessDenied),
            ("InvalidKeyId", AwsFailure::AccessDenied),
            ("DecryptionFailure", AwsFailure::AccessDenied),
            ("ThrottlingException", AwsFailure::Throttled),
            ("TooManyUpdates", AwsFailure::Throttled),
            ("Throttling", AwsFailure::Throttled),
            ("RequestLimitExceeded", AwsFailure::Throttled),
            ("InternalServerError", AwsFailure::Other),
        ] {
            assert_eq!(classify_code(code), kind, "{code}");
        }
    }
}
