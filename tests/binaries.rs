//! The real binaries at cold start: every case of `tests/cases/config.json`
//! stops the cold start with one line naming the variable, reported to the
//! Runtime API as an init error.

use serde_json::Value;

mod common;

use common::cold::{cold_start_full, READER, REFRESHER};

fn cold_start(
    binary: &str,
    env: &[(&str, Option<&str>)],
) -> (bool, String, Option<(String, Value)>) {
    cold_start_full(binary, env)
}

#[test]
fn config_cases_fail_the_cold_start_with_one_clear_line() {
    let path = format!("{}/tests/cases/config.json", env!("CARGO_MANIFEST_DIR"));
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let given: Vec<(String, Option<String>)> = case["given"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
            .collect();
        let env: Vec<(&str, Option<&str>)> = given
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        let (ok, output, report) = cold_start(REFRESHER, &env);
        assert!(!ok, "{id}: the cold start must fail\n{output}");
        let variable = given[0].0.as_str();
        let lines: Vec<&str> = output
            .lines()
            .filter(|l| l.contains("invalid configuration"))
            .collect();
        assert_eq!(lines.len(), 1, "{id}: one line\n{output}");
        assert!(
            lines[0].contains(variable),
            "{id}: names {variable}: {}",
            lines[0]
        );
        for m in case["expect"]["message_mentions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(
                lines[0].contains(m.as_str().unwrap()),
                "{id}: mentions {m}: {}",
                lines[0]
            );
        }
        let (path, body) = report.unwrap_or_else(|| panic!("{id}: no init error reported"));
        assert_eq!(path, "/2018-06-01/runtime/init/error", "{id}");
        assert_eq!(body["errorType"], "ConfigInvalid", "{id}");
        assert!(
            body["errorMessage"].as_str().unwrap().contains(variable),
            "{id}: {body}"
        );
    }
}

#[test]
fn reader_without_parameter_name_fails_the_cold_start() {
    let (ok, output, report) = cold_start(READER, &[("TOKEN_PARAMETER_NAME", None)]);
    assert!(!ok);
    assert!(
        output.contains("TOKEN_PARAMETER_NAME: is not set"),
        "{output}"
    );
    assert!(report.unwrap().1["errorMessage"]
        .as_str()
        .unwrap()
        .contains("TOKEN_PARAMETER_NAME"));
    let (ok, output, _) = cold_start(READER, &[("MIN_VALIDITY_SECONDS", Some("five minutes"))]);
    assert!(!ok);
    assert!(output.contains("MIN_VALIDITY_SECONDS"), "{output}");
}

#[test]
fn a_valid_configuration_polls_the_runtime_api() {
    // No init error: the first request is the poll for the next event.
    let (ok, _output, report) = cold_start(REFRESHER, &[]);
    let (path, _) = report.expect("the runtime polled");
    assert_eq!(path, "/2018-06-01/runtime/invocation/next");
    // The fake answered the poll with nonsense, so the runtime stops.
    let _ = ok;
}
