//! The shared AWS SDK configuration, loaded once, on first use (not at cold
//! start, which stays short). The SDK reads the standard variables:
//! `AWS_REGION`, the credentials chain, and `AWS_ENDPOINT_URL` (local
//! emulators such as moto).

use aws_config::{timeout::TimeoutConfig, BehaviorVersion, SdkConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

#[derive(Default)]
pub struct LazySdkConfig {
    config: OnceCell<SdkConfig>,
}

impl LazySdkConfig {
    /// A configuration that will load from the environment when first needed.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A configuration given up front (tests, or callers with their own).
    pub fn from_config(config: SdkConfig) -> Arc<Self> {
        Arc::new(Self {
            config: OnceCell::new_with(Some(config)),
        })
    }

    /// Loads (once) and returns the configuration. Timeouts: 3 s to connect,
    /// 5 s per attempt, 15 s per operation, so a stuck AWS call cannot eat the
    /// whole Lambda deadline.
    pub async fn get(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(pem) = crate::tls::ca_bundle() {
                    use aws_smithy_http_client::tls;
                    let trust = tls::TrustStore::empty()
                        .with_native_roots(false)
                        .with_pem_certificate(pem);
                    if let Ok(context) = tls::TlsContext::builder().with_trust_store(trust).build()
                    {
                        loader = loader.http_client(
                            aws_smithy_http_client::Builder::new()
                                .tls_provider(tls::Provider::Rustls(
                                    tls::rustls_provider::CryptoMode::AwsLc,
                                ))
                                .tls_context(context)
                                .build_https(),
                        );
                    }
                }
                loader
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(Duration::from_secs(3))
                            .operation_attempt_timeout(Duration::from_secs(5))
                            .operation_timeout(Duration::from_secs(15))
                            .build(),
                    )
                    .load()
                    .await
            })
            .await
    }
}
