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

/// What a real binary answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `/invocation/{id}/response` with this body.
    Ok(Value),
    /// `/invocation/{id}/error`.
    Err {
        /// `errorType`.
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
}

impl Answer {
    /// The response body; panics on an error.
    pub fn ok(&self) -> &Value {
        match self {
            Answer::Ok(v) => v,
            Answer::Err {
                error_type,
                message,
            } => panic!("{error_type}: {message}"),
        }
    }
}

/// A run of a real binary under [`invoke_all`].
pub struct Invoked {
    /// One answer per event, in order.
    pub answers: Vec<Answer>,
    /// Everything the binary printed (stdout, then stderr).
    pub output: String,
}

#[derive(Default)]
struct RuntimeState {
    events: std::collections::VecDeque<Value>,
    answers: Vec<Answer>,
    next_id: u32,
}

/// Reads one HTTP/1.1 request: (method, path, body). `None` at EOF.
fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        if h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

/// The Lambda Runtime API (2018-06-01) for one process: hands out `events`
/// in turn, each with a deadline 30 s away, and records the answers.
fn runtime_api(
    events: Vec<Value>,
    done: mpsc::Sender<()>,
) -> (String, std::sync::Arc<std::sync::Mutex<RuntimeState>>) {
    use std::sync::{Arc, Mutex};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = Arc::new(Mutex::new(RuntimeState {
        events: events.into(),
        ..RuntimeState::default()
    }));
    let shared = state.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (state, done) = (shared.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                while let Some((method, path, body)) = read_request(&mut reader) {
                    let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
                        let mut s = state.lock().unwrap();
                        let Some(event) = s.events.pop_front() else {
                            let _ = done.send(());
                            return; // no more events: the test stops the process
                        };
                        s.next_id += 1;
                        let deadline = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_millis()
                            + 30_000;
                        let body = event.to_string();
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             lambda-runtime-aws-request-id: req-{}\r\n\
                             lambda-runtime-deadline-ms: {deadline}\r\n\
                             lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:test\r\n\
                             lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\n\
                             content-length: {}\r\n\r\n{body}",
                            s.next_id,
                            body.len()
                        )
                    } else {
                        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let answer = if path.ends_with("/response") {
                            Answer::Ok(value)
                        } else {
                            Answer::Err {
                                error_type: value["errorType"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                                message: value["errorMessage"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            }
                        };
                        state.lock().unwrap().answers.push(answer);
                        "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_owned()
                    };
                    if stream.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, state)
}

/// Runs the real `binary` with the Lambda variables and `env` (nothing else
/// from this process but PATH) under a Runtime API that hands it `events`
/// in turn; returns its answers and output once it asked for one more event
/// (or exited, or 120 s passed), and stops it.
pub fn invoke_all(binary: &str, env: &[(&str, &str)], events: Vec<Value>) -> Invoked {
    let n = events.len();
    let (done_tx, done_rx) = mpsc::channel();
    let (api, state) = runtime_api(events, done_tx);
    let dir = std::env::temp_dir().join(format!("lwa-invoke-{}-{api}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if done_rx.recv_timeout(Duration::from_millis(50)).is_ok()
            || child.try_wait().ok().flatten().is_some()
        {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let output = format!(
        "{}{}",
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&dir);
    let answers = std::mem::take(&mut state.lock().unwrap().answers);
    assert_eq!(
        answers.len(),
        n,
        "{binary} answered {} of {n} events:\n{output}",
        answers.len()
    );
    Invoked { answers, output }
}
