//! What the end-to-end tests share: starting a server from its built binary, raw HTTP, and the
//! official clients under `tests/clients/`.
#![allow(dead_code, unreachable_pub)] // each test file uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod cluster;
pub mod proxy;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A built example, next to the test binary (`scripts/test.sh` builds them before the tests).
pub fn example(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("test binary path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is not built; run the tests with scripts/test.sh (or `cargo build --examples` first)",
        path.display()
    );
    path
}

/// A server process started from an example binary on a free port; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `example` with `--addr 127.0.0.1:0` and `args`, and waits for the address it bound.
    pub fn start(example_name: &str, args: &[&str]) -> Server {
        Self::spawn(Command::new(example(example_name)), args)
    }

    /// Starts `example` as [`start`](Self::start) does, with its warnings and errors written
    /// to `log` (`RUST_LOG=warn`) for the test to read.
    pub fn start_logging(example_name: &str, args: &[&str], log: &std::path::Path) -> Server {
        let file = std::fs::File::create(log).expect("create the server log");
        let mut command = Command::new(example(example_name));
        command.env("RUST_LOG", "warn").env("NO_COLOR", "1");
        Self::spawn_with(command, args, Stdio::from(file))
    }

    /// Starts a Node server script of `tests/clients/js` the same way.
    pub fn start_node(script: &str, args: &[&str]) -> Server {
        let mut command = Command::new("node");
        command.arg(script).current_dir(js_clients());
        Self::spawn(command, args)
    }

    fn spawn(command: Command, args: &[&str]) -> Server {
        Self::spawn_with(command, args, Stdio::inherit())
    }

    fn spawn_with(mut command: Command, args: &[&str], stderr: Stdio) -> Server {
        let mut child = command
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("read the server's address");
        // Keep reading what the server prints after, so it never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"));
        Server { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The engine's counters, from `GET /stats`.
    pub fn stats(&self) -> serde_json::Value {
        let response = http(self.addr, "GET", "/stats", &[], b"");
        assert_eq!(response.status, 200, "GET /stats");
        serde_json::from_slice(&response.body).expect("stats JSON")
    }

    /// Waits until `GET /stats` satisfies `done`, for at most `limit`.
    pub fn wait_for_stats(
        &self,
        limit: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let stats = self.stats();
            if done(&stats) || start.elapsed() > limit {
                return stats;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process at once (SIGKILL), as a crash would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM), as a deployment replacing it would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to exit by itself, and returns how it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response as raw tests see it.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Sends one HTTP/1.1 request on a fresh connection and reads the whole response.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = send_request(addr, method, path, headers, body);
    read_response(&mut stream)
}

/// An Engine.IO v3 handshake at `path` gets Node's refusal: 400 and its JSON, word for word.
pub fn assert_v3_refused(addr: SocketAddr, path: &str) {
    let refused = http(
        addr,
        "GET",
        &format!("{path}?EIO=3&transport=polling"),
        &[],
        b"",
    );
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.header("content-type"),
        Some("application/json"),
        "{}",
        refused.text()
    );
    assert_eq!(
        refused.text(),
        r#"{"code":5,"message":"Unsupported protocol version"}"#
    );
}

/// Sends a request and returns the connection, for tests that read the answer later.
pub fn send_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    stream
}

/// Reads a response written with `Connection: close`.
pub fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Opens an Engine.IO polling session and returns its sid.
pub fn open_polling(addr: SocketAddr) -> String {
    let response = http(addr, "GET", "/engine.io/?EIO=4&transport=polling", &[], b"");
    assert_eq!(response.status, 200);
    let text = response.text();
    let handshake: serde_json::Value =
        serde_json::from_str(text.strip_prefix('0').expect("open packet")).expect("handshake");
    handshake["sid"].as_str().expect("sid").to_owned()
}

/// The folder of the npm clients, checked to be installed.
pub fn js_clients() -> PathBuf {
    let dir = root().join("tests/clients/js");
    assert!(
        dir.join("node_modules").exists(),
        "the npm clients are not installed; run scripts/test.sh"
    );
    dir
}

/// Runs a client script to completion and parses the JSON line it prints last.
pub fn node(script: &str, args: &[&str]) -> serde_json::Value {
    node_with_env(script, args, &[])
}

/// Runs a Node client script as [`node`] does, with `env` set.
pub fn node_with_env(script: &str, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(js_clients())
        .stderr(Stdio::inherit())
        .output()
        .expect("run node (is nodejs installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|err| panic!("{script} {args:?} printed {stdout:?}: {err}"))
}

/// Starts a client script and returns the process and its first JSON line.
pub fn spawn_node(script: &str, args: &[&str]) -> (Child, serde_json::Value) {
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(js_clients())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run node");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the client's first line");
    let value = serde_json::from_str(line.trim())
        .unwrap_or_else(|err| panic!("{script} printed {line:?}: {err}"));
    (child, value)
}

/// Runs the Python client in the venv the test command builds, and parses its JSON line.
pub fn python(args: &[&str]) -> serde_json::Value {
    python_with_env(args, &[])
}

/// Runs the Python client as [`python`] does, with `env` set.
pub fn python_with_env(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    run_python("tests/clients/py", "client.py", args, env)
}

/// Runs `script` of the Python clients in `folder` (relative to the repository), in the venv
/// the test command builds there, and parses its JSON line.
pub fn python_in(folder: &str, script: &str, args: &[&str]) -> serde_json::Value {
    run_python(folder, script, args, &[])
}

fn run_python(
    folder: &str,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> serde_json::Value {
    let dir = root().join(folder);
    let interpreter = dir.join(".venv/bin/python");
    assert!(
        interpreter.exists(),
        "the Python clients are not installed; run scripts/test.sh"
    );
    let output = Command::new(interpreter)
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(&dir)
        .stderr(Stdio::inherit())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|err| panic!("{script} {args:?} printed {stdout:?}: {err}"))
}

/// A client process that reports ready, waits for a line on its stdin, then reports again.
pub struct Waiting {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    /// The first JSON line it printed.
    pub ready: serde_json::Value,
}

impl Waiting {
    pub fn start(script: &str, args: &[&str]) -> Waiting {
        Self::start_with_env(script, args, &[])
    }

    /// Starts a Node client as [`start`](Self::start) does, with `env` set.
    pub fn start_with_env(script: &str, args: &[&str], env: &[(&str, &str)]) -> Waiting {
        let mut command = Command::new("node");
        command
            .arg(script)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(js_clients());
        Self::start_command(command, script)
    }

    /// The Python client of `tests/clients/py`, run as [`python`] runs it.
    pub fn start_python(args: &[&str]) -> Waiting {
        let dir = root().join("tests/clients/py");
        let mut command = Command::new(dir.join(".venv/bin/python"));
        command.arg("client.py").args(args).current_dir(&dir);
        Self::start_command(command, "client.py")
    }

    fn start_command(mut command: Command, script: &str) -> Waiting {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run node");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read ready line");
        let ready = serde_json::from_str(line.trim())
            .unwrap_or_else(|err| panic!("{script} printed {line:?}: {err}"));
        Waiting {
            child,
            stdout,
            ready,
        }
    }

    /// Lets it finish and returns its last JSON line.
    pub fn finish(mut self) -> serde_json::Value {
        if let Some(stdin) = self.child.stdin.as_mut() {
            let _ = stdin.write_all(b"go\n");
        }
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read result line");
        let _ = self.child.wait();
        serde_json::from_str(line.trim()).unwrap_or_else(|err| panic!("printed {line:?}: {err}"))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` of the test's own on a free loopback port, with nothing saved to disk;
/// killed when dropped.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
}

impl Redis {
    pub fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Redis { child: None, port };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts it (again, on the same port) and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("run redis-server (scripts/test.sh checks it is installed)");
        self.child = Some(child);
        let start = Instant::now();
        while self.command(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it abruptly, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends one command and returns the first line of the reply, or `None` if Redis is down.
    fn command(&self, args: &[&str]) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).ok()?;
        let mut reply = Vec::new();
        let mut buf = [0; 512];
        // PING answers one line; PUBSUB NUMSUB ends with the count line `:N`.
        loop {
            let n = stream.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&reply);
            if text.starts_with('+')
                || text.starts_with('-')
                || text.lines().any(|l| l.starts_with(':'))
            {
                break;
            }
        }
        let text = String::from_utf8_lossy(&reply).into_owned();
        match args[0] {
            "PING" => text.lines().next().map(str::to_owned),
            _ => text.lines().find(|l| l.starts_with(':')).map(str::to_owned),
        }
    }

    /// Waits until `count` processes are subscribed to `channel` (as Node's adapter counts them).
    pub fn wait_for_subscribers(&self, channel: &str, count: usize) {
        let start = Instant::now();
        let expected = format!(":{count}");
        loop {
            let answer = self.command(&["PUBSUB", "NUMSUB", channel]);
            if answer.as_deref() == Some(expected.as_str()) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{count} subscribers to {channel} expected; Redis says {answer:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A raw WebSocket client.
pub type Ws = tungstenite::WebSocket<TcpStream>;

/// A raw WebSocket to the Engine.IO server at `addr`, past its `open` packet; reads wait up to
/// 5 s.
pub fn open_websocket(addr: SocketAddr) -> Ws {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut socket, _) = tungstenite::client(url.as_str(), stream).expect("handshake");
    match socket.read() {
        Ok(tungstenite::Message::Text(open)) => assert!(open.starts_with("0{"), "{open}"),
        other => panic!("no open packet: {other:?}"),
    }
    socket
}
