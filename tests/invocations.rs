//! One invocation of the real binaries under a Runtime API: what the
//! runtime itself would otherwise decide (deserialization errors, its own
//! log lines) is the service's.

mod common;

use common::cold::{READER, REFRESHER};
use common::invoke::invoke_once;

const SINGLE: &[(&str, &str)] = &[
    ("LWA_CREDENTIALS_SECRET_ID", "spapi/lwa"),
    ("TOKEN_PARAMETER_NAME", "/spapi/lwa/access-token"),
];
const READER_ENV: &[(&str, &str)] = &[("TOKEN_PARAMETER_NAME", "/spapi/lwa/access-token")];

#[test]
fn a_deeply_nested_event_is_invalid_event_with_a_short_message() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for (binary, env) in [(REFRESHER, SINGLE), (READER, READER_ENV)] {
        let inv = invoke_once(binary, env, &deep, 10_000);
        assert_eq!(inv.kind, "error", "{binary}");
        assert_eq!(
            inv.body["errorType"], "InvalidEvent",
            "{binary}: {}",
            inv.body
        );
        let message = inv.body["errorMessage"].as_str().unwrap();
        assert!(message.len() < 200, "{binary}: {} bytes", message.len());
        assert!(
            inv.output.len() < 2_000,
            "{binary} logged {} bytes",
            inv.output.len()
        );
    }
}

#[test]
fn a_failure_is_logged_once_and_the_concurrency_variable_is_not_warned_about() {
    for (binary, env, event) in [
        (REFRESHER, SINGLE, r#"{"action":"nope"}"#),
        (READER, READER_ENV, r#"{"action":"nope"}"#),
    ] {
        let mut env = env.to_vec();
        env.push(("AWS_LAMBDA_MAX_CONCURRENCY", "4"));
        let inv = invoke_once(binary, &env, event, 10_000);
        assert_eq!(inv.body["errorType"], "InvalidEvent", "{binary}");
        assert_eq!(
            inv.error_lines().len(),
            1,
            "{binary}: one ERROR line per failure\n{}",
            inv.output
        );
        assert!(
            !inv.output.contains("AWS_LAMBDA_MAX_CONCURRENCY"),
            "{binary}: {}",
            inv.output
        );
    }
}
