//! The reqwest client every outbound call uses, and one request sent with
//! its answer read, never more than [`MAX_BODY`] bytes of it.

use reqwest::header::HeaderMap;
use std::time::Duration;

/// `User-Agent` of every request, in the form the SP-API docs ask for
/// (`AppName/Version (Language=…)`,
/// <https://developer-docs.amazon.com/sp-api/docs/include-a-user-agent-header-in-all-requests>).
pub const USER_AGENT: &str = concat!(
    "spapi-lwa-token-service/",
    env!("CARGO_PKG_VERSION"),
    " (Language=Rust)"
);

/// The longest a TCP + TLS connect may take (capped by the request timeout).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The most of an answer's body that is read: LWA's and SP-API's answers
/// are a few hundred bytes; never buffer more of whatever else answers.
pub const MAX_BODY: usize = 64 * 1024;

/// A client with the crate's one TLS stack (rustls; the CA bundle of
/// [`crate::tls`] when one is configured), no redirects followed, the
/// [`USER_AGENT`], and `timeout` per request.
pub fn build_client(timeout: Duration) -> reqwest::Client {
    let mut builder = reqwest::Client::builder();
    if let Some(certs) = crate::tls::ca_bundle()
        .and_then(|pem| reqwest::Certificate::from_pem_bundle(pem).ok())
        .filter(|c| !c.is_empty())
    {
        builder = builder.tls_certs_only(certs);
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .build()
        .expect("a rustls client with default settings builds")
}

/// An answer: its status, headers and body (at most [`MAX_BODY`] bytes).
pub struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body read, whole unless `truncated`.
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY`]: reading stopped there.
    pub truncated: bool,
}

/// What sending one request came to.
pub enum Sent {
    /// An answer arrived (any status).
    Answered(Answer),
    /// Nothing (or not all of the body) within the budget.
    TimedOut,
    /// The connection failed (the error may name the URL, never a body).
    Failed(reqwest::Error),
}

/// Sends `request` and reads its answer, all within `budget`.
pub async fn send(request: reqwest::RequestBuilder, budget: Duration) -> Sent {
    let exchange = async {
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY {
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>(Answer {
            status,
            headers,
            body,
            truncated,
        })
    };
    match tokio::time::timeout(budget, exchange).await {
        Err(_) => Sent::TimedOut,
        Ok(Err(e)) => Sent::Failed(e),
        Ok(Ok(answer)) => Sent::Answered(answer),
    }
}
