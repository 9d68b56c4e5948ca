//! The LWA `authorization_code` grant over reqwest: one form POST to
//! `LWA_TOKEN_URL` with `grant_type=authorization_code`, `code`,
//! `redirect_uri`, `client_id`, `client_secret` ("Website authorization
//! workflow", step 5). Redirects are not followed; the answer is read up
//! to 64 KiB; LWA's text is scrubbed of the values sent.
//!
//! Never retried: a code is single use, so after a timeout a second try
//! could only fail (`invalid_grant`) while the first may have succeeded.
//! The app's client ID and secret are read from `LWA_APP_SECRET_ID` on every
//! exchange (connections are rare; a rotated client secret is picked up at once).

use crate::aws::{CredentialsLoadError, SecretsManagerSource};
use crate::credentials::SecretDocument;
use crate::lwa::{LwaError, LwaErrorCode, USER_AGENT};
use crate::onboarding::secrets::AuthCode;
use crate::ports::code_exchange::{CodeExchange, CodeGrant, ExchangeError};
use crate::secret::{redact, AccessToken, RefreshToken};
use reqwest::Url;
use std::sync::OnceLock;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

const MAX_BODY: usize = 64 * 1024;

/// The exchange adapter.
pub struct LwaCodeExchange {
    url: Url,
    timeout: Duration,
    app_secret_id: String,
    secrets: SecretsManagerSource,
    http: OnceLock<reqwest::Client>,
}

impl LwaCodeExchange {
    /// An adapter posting to `url` with a `timeout`, reading the app's
    /// credentials from `app_secret_id` through `secrets`.
    pub fn new(
        url: Url,
        timeout: Duration,
        app_secret_id: String,
        secrets: SecretsManagerSource,
    ) -> Self {
        Self {
            url,
            timeout,
            app_secret_id,
            secrets,
            http: OnceLock::new(),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            let mut builder = reqwest::Client::builder();
            if let Some(certs) = crate::tls::ca_bundle()
                .and_then(|pem| reqwest::Certificate::from_pem_bundle(pem).ok())
                .filter(|c| !c.is_empty())
            {
                builder = builder.tls_certs_only(certs);
            }
            builder
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(3).min(self.timeout))
                .timeout(self.timeout)
                .user_agent(USER_AGENT)
                .build()
                .expect("a rustls client with default settings builds")
        })
    }
}

impl CodeExchange for LwaCodeExchange {
    async fn exchange(
        &self,
        code: &AuthCode,
        redirect_uri: &str,
        deadline: Instant,
    ) -> Result<CodeGrant, ExchangeError> {
        let app = self
            .secrets
            .load_document(&self.app_secret_id)
            .await
            .map_err(|e| match e {
                CredentialsLoadError::Invalid(e) => ExchangeError::AppCredentials(e.to_string()),
                CredentialsLoadError::Unavailable(d) => ExchangeError::AppCredentials(format!(
                    "could not read LWA_APP_SECRET_ID `{}`: {d}",
                    self.app_secret_id
                )),
            })?;
        // The app secret holds client_id and client_secret only; borrow the
        // credentials' validation by pairing it with a placeholder grant.
        let creds = SecretDocument::parse("-", r#"{"scope":"-"}"#)
            .and_then(|d| d.into_credentials(Some(&app)))
            .map_err(|_| {
                ExchangeError::AppCredentials(format!(
                    "LWA_APP_SECRET_ID `{}` must hold the app's client_id and client_secret",
                    self.app_secret_id
                ))
            })?;
        let budget = self
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        if budget < Duration::from_millis(250) {
            return Err(ExchangeError::Lwa(LwaError::Unavailable {
                attempts: 0,
                last: "the Lambda deadline left no time for the code exchange".into(),
            }));
        }
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.expose_secret()),
            ("redirect_uri", redirect_uri),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose_secret()),
        ];
        let known = [code.expose_secret(), creds.client_secret.expose_secret()];
        let requested_at = OffsetDateTime::now_utc();
        let sent = async {
            let mut response = self
                .http()
                .post(self.url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
                .send()
                .await?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_BODY {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((status, body))
        };
        let unavailable = |last: String| {
            ExchangeError::Lwa(LwaError::Unavailable {
                attempts: 1,
                last: redact(&last, &known),
            })
        };
        match tokio::time::timeout(budget, sent).await {
            Err(_) => Err(unavailable(format!(
                "no answer within {} ms",
                budget.as_millis()
            ))),
            Ok(Err(e)) => Err(unavailable(if e.is_connect() {
                "could not connect".to_owned()
            } else {
                "the connection failed".to_owned()
            })),
            Ok(Ok((status, body))) => {
                parse_answer(status, &body, requested_at, &known).map_err(ExchangeError::Lwa)
            }
        }
    }
}

/// Turns LWA's answer into a grant or an [`LwaError`].
pub fn parse_answer(
    status: u16,
    body: &[u8],
    requested_at: OffsetDateTime,
    known: &[&str],
) -> Result<CodeGrant, LwaError> {
    let json: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(body).ok();
    let text = |k: &str| {
        json.as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(|s| redact(s.trim(), known))
    };
    if status != 200 {
        return match text("error") {
            Some(error) if (400..500).contains(&status) && status != 429 => {
                Err(LwaError::Rejected {
                    code: LwaErrorCode::parse(&error),
                    error,
                    description: text("error_description").map(|d| d.chars().take(300).collect()),
                    status,
                })
            }
            _ => Err(LwaError::Unavailable {
                attempts: 1,
                last: format!("HTTP {status} without an OAuth error body"),
            }),
        };
    }
    let malformed = |problem: &str| LwaError::Malformed {
        status,
        problem: problem.to_owned(),
    };
    let usable =
        |s: &str| !s.is_empty() && s.len() <= 2048 && s.bytes().all(|b| b.is_ascii_graphic());
    let raw_token = |k: &str| {
        json.as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| usable(s))
            .map(str::to_owned)
    };
    let access = raw_token("access_token")
        .ok_or_else(|| malformed("access_token is missing or unusable"))?;
    let refresh = raw_token("refresh_token")
        .ok_or_else(|| malformed("refresh_token is missing or unusable"))?;
    let expires_in = json
        .as_ref()
        .and_then(|m| m.get("expires_in"))
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .filter(|n| (1..=86_400).contains(n))
        .ok_or_else(|| malformed("expires_in is not a whole number of seconds from 1 to 86400"))?;
    Ok(CodeGrant {
        refresh_token: RefreshToken::new(refresh),
        access_token: AccessToken::new(access),
        token_type: "bearer".to_owned(),
        expires_in,
        requested_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: u16, body: &str) -> Result<CodeGrant, LwaError> {
        parse_answer(
            status,
            body.as_bytes(),
            OffsetDateTime::UNIX_EPOCH,
            &["CODE123"],
        )
    }

    #[test]
    fn grant_and_errors() {
        let g = run(200, r#"{"access_token":"Atza|A","refresh_token":"Atzr|R","token_type":"bearer","expires_in":3600}"#).unwrap();
        assert_eq!(g.refresh_token.expose_secret(), "Atzr|R");
        assert_eq!(g.access_token.expose_secret(), "Atza|A");
        assert_eq!(g.expires_in, 3600);
        match run(
            400,
            r#"{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : code CODE123"}"#,
        ) {
            Err(LwaError::Rejected {
                code,
                description,
                status,
                ..
            }) => {
                assert_eq!(code, LwaErrorCode::InvalidGrant);
                assert_eq!(status, 400);
                assert!(!description.unwrap().contains("CODE123"));
            }
            _ => panic!("expected a rejection"),
        }
        assert!(matches!(
            run(401, r#"{"error":"invalid_client"}"#),
            Err(LwaError::Rejected {
                code: LwaErrorCode::InvalidClient,
                ..
            })
        ));
        for (s, b) in [
            (500, "oops"),
            (429, r#"{"error":"slow_down"}"#),
            (400, "<html>"),
        ] {
            assert!(
                matches!(run(s, b), Err(LwaError::Unavailable { .. })),
                "{s} {b}"
            );
        }
        for b in [
            r#"{"access_token":"Atza|A","expires_in":3600}"#,
            r#"{"refresh_token":"Atzr|R","expires_in":3600}"#,
            r#"{"access_token":"Atza|A","refresh_token":"Atzr|R"}"#,
            r#"{"access_token":"Atza|A B","refresh_token":"Atzr|R","expires_in":3600}"#,
            "[]",
        ] {
            assert!(
                matches!(run(200, b), Err(LwaError::Malformed { .. })),
                "{b}"
            );
        }
    }
}
