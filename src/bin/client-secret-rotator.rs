//! `client-secret-rotator`: keeps the app's LWA client secret alive (rotates
//! it before it expires, installs the new one Amazon sends).
//! See docs/rotation.md and `lwa_token_service::rotation::runtime::run_rotator`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lwa_token_service::rotation::runtime::run_rotator().await
}
