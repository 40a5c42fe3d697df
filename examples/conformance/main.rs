//! The server the official conformance suites run against.
//!
//! ```text
//! cargo run --example conformance                     # 127.0.0.1:3000
//! cargo run --example conformance -- --addr 127.0.0.1:0
//! ```
//!
//! `/engine.io/` is an Engine.IO echo server configured as the "Test suite" section of the
//! Engine.IO protocol README describes: ping every 300 ms, 200 ms for the pong, 1,000,000-byte
//! payloads, CORS for any origin. It prints the address it bound, so port 0 works.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program reports

use std::net::SocketAddr;
use std::time::Duration;

use sio::engine::{Connection, Cors, Engine, Message};

fn parse_addr() -> Result<SocketAddr, String> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:3000".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    addr.parse()
        .map_err(|err| format!("invalid address `{addr}`: {err}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let addr = parse_addr().unwrap_or_else(|err| {
        eprintln!("error: {err}\nusage: conformance [--addr HOST:PORT]");
        std::process::exit(2);
    });

    let engine = Engine::builder()
        .path("/engine.io/")
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000)
        .cors(Cors::any())
        .build(|connection: &Connection, message: Message| {
            let _ = connection.send(message);
        });

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    sio::engine::serve(listener, engine).await
}
