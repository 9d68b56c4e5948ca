//! A scripted HTTP/1.1 server on loopback, for unit tests of the HTTP
//! adapters: each request gets the next scripted reply (the last one
//! marked `repeat` answers every request after it). Test-only.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    hang: bool,
    repeat: bool,
}

impl Reply {
    /// `status` with a `text/plain` `body`.
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.to_owned(),
            hang: false,
            repeat: false,
        }
    }

    /// `status` with an `application/json` `body`.
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            headers: vec![("content-type".into(), "application/json".into())],
            ..Self::status(status, body)
        }
    }

    /// Reads the request and never answers (the connection stays open
    /// until the server is dropped).
    pub fn hang() -> Self {
        Self {
            hang: true,
            ..Self::status(200, "")
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers every later request too.
    pub fn repeat(mut self) -> Self {
        self.repeat = true;
        self
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    heads: Vec<String>,
    bodies: Vec<String>,
    held: Vec<TcpStream>,
}

/// The server; it stops accepting when dropped (its thread ends with the
/// test process).
pub struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Listens on a free loopback port and answers with `script`.
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { port, state }
    }

    /// `http://127.0.0.1:<port>/auth/o2/token`.
    pub fn url(&self) -> reqwest::Url {
        format!("http://127.0.0.1:{}/auth/o2/token", self.port)
            .parse()
            .expect("a URL")
    }

    /// The bodies of the requests received, in order.
    pub fn bodies(&self) -> Vec<String> {
        self.state.lock().expect("lock").bodies.clone()
    }

    /// The request line and headers of each request received, in order
    /// (header names lowercased).
    pub fn heads(&self) -> Vec<String> {
        self.state.lock().expect("lock").heads.clone()
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.bodies().len()
    }
}

/// Answers the requests of one connection (keep-alive).
fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut stream = stream;
    loop {
        let mut length = 0;
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut head = line.clone();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((&header, ""));
            head.push_str(&format!("{}:{value}", name.to_ascii_lowercase()));
            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = {
            let mut s = state.lock().expect("lock");
            s.heads.push(head);
            s.bodies.push(String::from_utf8_lossy(&body).into_owned());
            let reply = match s.script.front() {
                Some(r) if r.repeat => r.clone(),
                Some(_) => s.script.pop_front().expect("not empty"),
                None => Reply::status(500, "script exhausted"),
            };
            if reply.hang {
                s.held.push(stream.try_clone().expect("clone"));
            }
            reply
        };
        if reply.hang {
            return;
        }
        let mut head = format!(
            "HTTP/1.1 {} X\r\ncontent-length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).is_err()
            || stream.write_all(reply.body.as_bytes()).is_err()
        {
            return;
        }
    }
}
