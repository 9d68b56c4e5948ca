//! Logging set-up that follows Lambda's log-format controls:
//! `AWS_LAMBDA_LOG_FORMAT=JSON` gives one JSON object per line, and the level
//! comes from `AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`, then `INFO`
//! (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html>).
//!
//! Other crates are capped at DEBUG even when TRACE is asked for: at TRACE
//! the Lambda runtime and HTTP stacks dump raw payloads, and the reader's
//! response payload is an access token.

use std::str::FromStr;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// Installs the global subscriber writing to stdout, at the level the
/// environment asks for.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(l.trim()).ok())
        .unwrap_or(LevelFilter::INFO);
    init_with_writer(std::io::stdout, level);
}

/// Installs the global subscriber writing to `writer` at `level` (tests
/// capture logs this way). Does nothing if one is already installed.
pub fn init_with_writer<W>(writer: W, level: LevelFilter)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let _ = tracing::subscriber::set_global_default(subscriber(writer, level));
}

/// The subscriber [`init_with_writer`] installs: `writer` at `level`, other
/// crates capped at DEBUG, JSON lines under `AWS_LAMBDA_LOG_FORMAT=JSON`.
/// Tests install one per test with `tracing::subscriber::set_default`.
pub fn subscriber<W>(writer: W, level: LevelFilter) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let others = level.min(LevelFilter::DEBUG);
    let targets = Targets::new()
        .with_default(others)
        .with_target("lwa_token_service", level)
        .with_target("token_refresher", level)
        .with_target("token_reader", level);
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(targets);
    if json {
        Box::new(registry.with(layer.json().flatten_event(true)))
    } else {
        Box::new(registry.with(layer))
    }
}
