//! The SP-API Application Management API, as the client-secret rotator sees it:
//! `POST /applications/2023-11-30/clientSecret` ("Rotate your application's
//! client secret",
//! <https://developer-docs.amazon.com/sp-api/docs/application-management-api-v2023-11-30-use-case-guide>).

use crate::secret::AccessToken;
use tokio::time::Instant;

/// Why the rotate call failed. Texts are Amazon's, scrubbed of secret values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotateCallError {
    /// `400 InvalidInput` "not enrolled for rotation notification": the
    /// operator has not registered the new-secret notification yet.
    #[error("SP-API answered HTTP 400 InvalidInput: {message}")]
    NotEnrolled {
        /// Amazon's `message`.
        message: String,
    },
    /// Any other answer that retrying cannot fix (4xx).
    #[error("SP-API answered HTTP {status} {code}: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// `errors[0].code`, or `unknown`.
        code: String,
        /// `errors[0].message`, or a description of the body.
        message: String,
    },
    /// The call was sent and no answer came (a timeout, or the connection
    /// broke after sending). It may have gone through, so it is not repeated,
    /// and the rotator records it as requested (no second call for 24 h: a
    /// second rotation would replace the secret just issued).
    #[error(
        "SP-API sent no answer to the rotate call ({detail}). It was not repeated, because it may have \
         gone through: if it did, the new-secret notification reaches the queue within minutes and is \
         installed; the request is recorded as client_secret_rotation_requested_at, so the daily check \
         calls again only after 24 h if no new secret came"
    )]
    NoAnswer {
        /// Requests sent (the last one unanswered).
        attempts: u32,
        /// What happened, e.g. `no answer within 10000 ms`.
        detail: String,
    },
    /// 429, 5xx or connection errors until attempts or time ran out.
    #[error("SP-API did not accept the rotate call after {attempts} attempt(s); last: {last}")]
    Unavailable {
        /// Requests sent.
        attempts: u32,
        /// The last failure, e.g. `HTTP 503 ServiceUnavailable: …`.
        last: String,
    },
}

/// The rotate call.
#[allow(async_fn_in_trait)]
pub trait ApplicationManagement {
    /// `POST {SPAPI_ENDPOINT}/applications/2023-11-30/clientSecret` with
    /// `x-amz-access-token: token` (a `client_credentials` token with scope
    /// `sellingpartnerapi::client_credential:rotation`), no body; `Ok` on
    /// `204`. Retries 429 and 5xx, finishing before `deadline`.
    async fn rotate_client_secret(
        &self,
        token: &AccessToken,
        deadline: Instant,
    ) -> Result<(), RotateCallError>;
}

impl<T: ApplicationManagement + ?Sized> ApplicationManagement for &T {
    async fn rotate_client_secret(
        &self,
        token: &AccessToken,
        deadline: Instant,
    ) -> Result<(), RotateCallError> {
        (**self).rotate_client_secret(token, deadline).await
    }
}
