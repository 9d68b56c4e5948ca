//! The real binaries at cold start under a fake Runtime API that records the
//! first request (an init error, or the poll for the next event).
#![allow(dead_code)]

use serde_json::Value;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

pub const REFRESHER: &str = env!("CARGO_BIN_EXE_token-refresher");
pub const READER: &str = env!("CARGO_BIN_EXE_token-reader");

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

/// Runs `binary` with a single-profile environment changed by `env` (`None`
/// removes a variable) and returns (exit success, stdout + stderr, the first
/// Runtime API request's path and body).
pub fn cold_start_full<K: AsRef<OsStr>, V: AsRef<OsStr>>(
    binary: &str,
    env: &[(K, Option<V>)],
) -> (bool, String, Option<(String, Value)>) {
    let (api, rx) = fake_runtime_api();
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("LWA_CREDENTIALS_SECRET_ID", "spapi/lwa")
        .env("TOKEN_PARAMETER_NAME", "/spapi/lwa/access-token")
        .env("AWS_REGION", "us-east-1");
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

/// `true` when the binary polled for an event (its cold start succeeded).
pub fn started(report: &Option<(String, Value)>) -> bool {
    report
        .as_ref()
        .is_some_and(|(p, _)| p == "/2018-06-01/runtime/invocation/next")
}

/// [`cold_start_full`] without the exit status.
pub fn cold_start<K: AsRef<OsStr>, V: AsRef<OsStr>>(
    binary: &str,
    env: &[(K, Option<V>)],
) -> (String, Option<(String, Value)>) {
    let (_, output, report) = cold_start_full(binary, env);
    (output, report)
}
