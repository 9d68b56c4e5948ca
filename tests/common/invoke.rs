//! The real binaries for one invocation under a minimal Runtime API: the
//! event is handed out on the first poll, the answer (response or error) is
//! recorded, and the process is stopped.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// What one invocation came to.
pub struct Invocation {
    /// `response` or `error`.
    pub kind: String,
    /// The answer's JSON body.
    pub body: Value,
    /// Everything the process printed (stdout and stderr).
    pub output: String,
}

impl Invocation {
    /// Log lines at ERROR (JSON log format).
    pub fn error_lines(&self) -> Vec<&str> {
        self.output
            .lines()
            .filter(|l| l.contains(r#""level":"ERROR""#))
            .collect()
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    Some((path, body))
}

/// Runs `binary` with `env` (nothing else from this process's environment
/// but PATH), hands it `event` with `deadline_ms` left, and returns its
/// answer and output.
pub fn invoke_once(
    binary: &str,
    env: &[(&str, &str)],
    event: &str,
    deadline_ms: u64,
) -> Invocation {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    let event = event.to_owned();
    std::thread::spawn(move || {
        let mut handed_out = false;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream = stream;
            while let Some((path, body)) = read_request(&mut reader) {
                if path.ends_with("/invocation/next") {
                    if handed_out {
                        return; // the answer is in; leave this poll hanging
                    }
                    handed_out = true;
                    let deadline = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis() as u64
                        + deadline_ms;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\n\
                         Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                         Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:test\r\n\
                         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        event.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(event.as_bytes());
                } else {
                    let _ =
                        stream.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}");
                    let kind = path.rsplit('/').next().unwrap_or_default().to_owned();
                    let _ = tx.send((kind, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                }
            }
        }
    });
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // Drained as it comes, so a long log line never blocks the process.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = r.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let answer = rx.recv_timeout(Duration::from_secs(30));
    // Let the last log lines out, then stop the process.
    std::thread::sleep(Duration::from_millis(100));
    let _ = child.kill();
    let _ = child.wait();
    let output = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
    let (kind, body) = answer.unwrap_or_else(|_| panic!("no answer from {binary}:\n{output}"));
    Invocation { kind, body, output }
}
