//! The real binaries at cold start: every case of `tests/cases/config.json`
//! stops the cold start with one line naming the variable, reported to the
//! Runtime API as an init error.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

const REFRESHER: &str = env!("CARGO_BIN_EXE_token-refresher");
const READER: &str = env!("CARGO_BIN_EXE_token-reader");

fn base_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("LWA_CREDENTIALS_SECRET_ID", "spapi/lwa"),
        ("TOKEN_PARAMETER_NAME", "/spapi/lwa/access-token"),
        ("AWS_REGION", "us-east-1"),
    ]
}

/// A fake Runtime API that records the first request it gets.
fn fake_runtime_api() -> (String, mpsc::Receiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        let _ = stream.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}");
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let _ = tx.send((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    });
    (addr, rx)
}

/// Runs `binary` with `env` (after `base_env`, `None` removes) and returns
/// (exit success, output, init error report).
fn cold_start(
    binary: &str,
    env: &[(&str, Option<&str>)],
) -> (bool, String, Option<(String, Value)>) {
    let (api, rx) = fake_runtime_api();
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    for (k, v) in base_env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success(),
        text,
        rx.recv_timeout(Duration::from_secs(5)).ok(),
    )
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
