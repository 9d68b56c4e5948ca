//! `seller-onboarding`: lets a seller authorize the app in a browser and
//! stores the result as a fleet profile. See docs/onboarding.md and
//! `lwa_token_service::onboarding::runtime::run_onboarding`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lwa_token_service::onboarding::runtime::run_onboarding().await
}
