//! `token-reader`: hands the stored LWA access token to other Lambdas (direct
//! invoke) and over an IAM-authenticated function URL.
//! See the README and `lwa_token_service::runtime::run_reader`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lwa_token_service::runtime::run_reader().await
}
