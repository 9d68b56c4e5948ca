//! The real `client-secret-rotator` binary at cold start: a bad setting stops
//! it with one line naming the variable, reported to the Runtime API as
//! `ConfigInvalid`; a good one polls for events.

mod common;

use common::cold::{cold_start_full, started};

const ROTATOR: &str = env!("CARGO_BIN_EXE_client-secret-rotator");

#[test]
fn bad_settings_fail_the_cold_start_naming_the_variable() {
    for (env, variable) in [
        (
            vec![("LWA_CREDENTIALS_SECRET_ID", None)],
            "LWA_CREDENTIALS_SECRET_ID",
        ),
        (
            vec![("LWA_APP_SECRET_ID", Some("app"))],
            "LWA_APP_SECRET_ID",
        ),
        (
            vec![("ROTATE_BEFORE_DAYS", Some("0"))],
            "ROTATE_BEFORE_DAYS",
        ),
        (
            vec![(
                "SPAPI_ENDPOINT",
                Some("http://sellingpartnerapi-na.amazon.com"),
            )],
            "SPAPI_ENDPOINT",
        ),
        (
            vec![("NOTIFICATION_QUEUE_ARN", Some("my-queue"))],
            "NOTIFICATION_QUEUE_ARN",
        ),
        (
            vec![(
                "LWA_TOKEN_URL",
                Some("https://sellingpartnerapi-na.amazon.com/auth/o2/token"),
            )],
            "LWA_TOKEN_URL",
        ),
    ] {
        let (ok, output, report) = cold_start_full(ROTATOR, &env);
        assert!(!ok, "{variable}: the cold start must fail\n{output}");
        let lines: Vec<&str> = output
            .lines()
            .filter(|l| l.contains("invalid configuration"))
            .collect();
        assert_eq!(lines.len(), 1, "{variable}: one line\n{output}");
        assert!(lines[0].contains(variable), "{variable}: {}", lines[0]);
        let (path, body) = report.unwrap_or_else(|| panic!("{variable}: no init error reported"));
        assert_eq!(path, "/2018-06-01/runtime/init/error");
        assert_eq!(body["errorType"], "ConfigInvalid");
        assert!(
            body["errorMessage"].as_str().unwrap().contains(variable),
            "{body}"
        );
    }
}

#[test]
fn a_valid_configuration_polls_the_runtime_api() {
    // The shared harness sets TOKEN_PARAMETER_NAME too: the rotator ignores it.
    let (_, output, report) = cold_start_full(ROTATOR, &[("ROTATE_BEFORE_DAYS", Some("45"))]);
    assert!(started(&report), "{output}");
}

/// Lambda may set `AWS_LAMBDA_MAX_CONCURRENCY`; the rotator, like the
/// refresher and the reader, handles one invocation at a time per process and
/// removes it before the runtime starts, so the cold start logs no warning.
#[test]
fn the_concurrency_variable_is_not_warned_about() {
    let env = [
        ("LWA_CREDENTIALS_SECRET_ID", "spapi/app"),
        ("AWS_LAMBDA_MAX_CONCURRENCY", "4"),
    ];
    // A deadline under 5 s: no status read for the metric after the error.
    let inv = common::invoke::invoke_once(ROTATOR, &env, r#"{"action":"nope"}"#, 3_000);
    assert_eq!(inv.body["errorType"], "InvalidEvent", "{}", inv.output);
    assert!(
        !inv.output.contains("AWS_LAMBDA_MAX_CONCURRENCY"),
        "{}",
        inv.output
    );
}

/// A payload nested deeper than serde_json's limit is the rotator's
/// `InvalidEvent` with a short message, not the runtime's deserialization
/// error (a Rust type name as errorType, a path as long as the nesting).
#[test]
fn a_deeply_nested_event_is_invalid_event_with_a_short_message() {
    let env = [("LWA_CREDENTIALS_SECRET_ID", "spapi/app")];
    let deep = format!(
        r#"{{"action":"status","x":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    // A deadline under 5 s: no status read for the metric after the error.
    let inv = common::invoke::invoke_once(ROTATOR, &env, &deep, 3_000);
    assert_eq!(inv.body["errorType"], "InvalidEvent", "{}", inv.body);
    let message = inv.body["errorMessage"].as_str().unwrap();
    assert_eq!(
        message,
        "the event is nested deeper than 128 levels; expected a small JSON object such as {}"
    );
}
