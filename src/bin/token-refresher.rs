//! `token-refresher`: keeps a valid LWA access token in SSM Parameter Store.
//! See the README and `lwa_token_service::runtime::run_refresher`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lwa_token_service::runtime::run_refresher().await
}
