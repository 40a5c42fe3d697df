//! The server the connection state recovery tests drive with the official socket.io-client.
//!
//! `--addr HOST:PORT [--max-disconnection-ms N] [--msgpack]` (recovery on, two minutes unless
//! given; the MessagePack parser with `--msgpack`). A
//! client's auth may carry `room` to join; it is welcomed with `welcome`
//! `{id, recovered, middlewareRuns, bursts}` (how many times the connect middleware ran, in all,
//! and how many bursts this client asked for: state of the consumer's, kept in the socket's data
//! and rebuilt by `recover`).
//! Events: `burst {room, count, delayMs}` (acked at once, then `seq` n to the client and
//! `room_seq` n to the room, n from 0, every `delayMs`, whether the client is connected or not),
//! `rooms` (acks the socket's rooms) and `emitted_while_away` (acks how many `seq` events of the
//! last burst went to a socket whose client was away). It runs on a multi-threaded runtime, so
//! emits race.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test server reports its address

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Deserialize;
use sio::{Ack, ConnectError, ConnectionStateRecovery, Server, Socket, consumer};

/// How many times the connect middleware ran.
static MIDDLEWARE_RUNS: AtomicUsize = AtomicUsize::new(0);

/// How many `seq` events were emitted while their client was away (kept for its recovery).
static EMITTED_WHILE_AWAY: AtomicUsize = AtomicUsize::new(0);

#[derive(Default, Deserialize)]
struct Auth {
    room: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Burst {
    room: String,
    count: u32,
    delay_ms: u64,
}

/// The consumer's state, kept in the socket's data for a recovery.
#[derive(Default, Deserialize, serde::Serialize)]
struct Main {
    bursts: u32,
}

#[consumer(namespace = "/")]
impl Main {
    #[middleware]
    async fn counted(&mut self, _socket: &Socket) {
        MIDDLEWARE_RUNS.fetch_add(1, Ordering::Relaxed);
    }

    async fn recover(&mut self, _socket: &Socket, kept: Main) {
        *self = kept;
    }

    async fn connect(&mut self, socket: &Socket, auth: Option<Auth>) -> Result<(), ConnectError> {
        if let Some(room) = auth.and_then(|auth| auth.room) {
            socket.join(room).await;
        }
        let welcome = serde_json::json!({
            "id": socket.id().as_str(),
            "recovered": socket.recovered(),
            "middlewareRuns": MIDDLEWARE_RUNS.load(Ordering::Relaxed),
            "bursts": self.bursts,
        });
        socket.emit("welcome", welcome)?;
        Ok(())
    }

    #[event("burst")]
    async fn burst(&mut self, socket: &Socket, burst: Burst, ack: Ack<()>) -> sio::Result<()> {
        self.bursts += 1;
        socket.set_data(self)?;
        EMITTED_WHILE_AWAY.store(0, Ordering::Relaxed);
        ack.send(())?;
        let socket = socket.clone();
        tokio::spawn(async move {
            for n in 0..burst.count {
                // Sent, or kept for the client's recovery while it is away.
                if socket.emit("seq", n) == Err(sio::EmitError::Disconnected) {
                    EMITTED_WHILE_AWAY.fetch_add(1, Ordering::Relaxed);
                }
                let _ = socket
                    .server()
                    .of("/")
                    .to(burst.room.as_str())
                    .emit("room_seq", n);
                tokio::time::sleep(Duration::from_millis(burst.delay_ms)).await;
            }
        });
        Ok(())
    }

    #[event("rooms")]
    async fn rooms(&self, socket: &Socket, ack: Ack<Vec<String>>) -> sio::Result<()> {
        ack.send(socket.rooms().iter().map(ToString::to_string).collect())
    }

    #[event("emitted_while_away")]
    async fn emitted_while_away(&self, _socket: &Socket, ack: Ack<usize>) -> sio::Result<()> {
        ack.send(EMITTED_WHILE_AWAY.load(Ordering::Relaxed))
    }
}

#[tokio::main(worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let addr = value("--addr").unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let max = value("--max-disconnection-ms")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(120_000);
    let builder = Server::builder()
        .connection_state_recovery(
            ConnectionStateRecovery::default()
                .max_disconnection_duration(Duration::from_millis(max)),
        )
        .parser(if args.iter().any(|arg| arg == "--msgpack") {
            sio::Parser::MsgPack
        } else {
            sio::Parser::Json
        })
        .consumer::<Main>();
    // With `--redis-streams URL`, the stream keeps the events and Redis the sessions.
    #[cfg(feature = "redis")]
    let builder = match value("--redis-streams") {
        Some(url) => builder
            .channel_layer(sio::redis::RedisStreamsLayer::new(&url).expect("a valid Redis URL")),
        None => builder,
    };
    let server = builder.build();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    server.serve(listener).await
}
