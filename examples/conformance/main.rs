//! The server the official conformance suites and the end-to-end tests run against.
//!
//! ```text
//! cargo run --example conformance                     # 127.0.0.1:3000
//! cargo run --example conformance -- --addr 127.0.0.1:0 --ping-interval 1000 --ping-timeout 500
//! cargo run --example conformance -- --deflate        # permessage-deflate on both servers
//! cargo run --example conformance -- --eio3           # Engine.IO v3 clients on /engine.io/
//! ```
//!
//! `/engine.io/` is an Engine.IO echo server configured as the "Test suite" section of the
//! Engine.IO protocol README describes: ping every 300 ms, 200 ms for the pong, 1,000,000-byte
//! payloads, CORS for any origin. `/socket.io/` is the Socket.IO test server of the Socket.IO
//! protocol README: namespaces `/` and `/custom` emit `auth` with the client's auth payload on
//! connect; on `/`, `message` comes back as `message-back` and `message-with-ack` is acked with
//! its arguments; a connection that joins no namespace within a second is closed.
//! `GET /stats` answers the session counts as JSON.
//! The engine is mounted in an axum router, as an application would mount it. The program
//! prints the address it bound, so port 0 works.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program reports

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use sio::engine::{
    CloseReason, Connection, Cors, Engine, EngineHandler, HandshakeInfo, Message, PerMessageDeflate,
};
use sio::socket::{ConnectError, Consumer, HandlerError, IncomingEvent, RawJson, Server, Socket};

struct Options {
    addr: SocketAddr,
    ping_interval: Duration,
    ping_timeout: Duration,
    upgrade_timeout: Duration,
    deflate: bool,
    eio3: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        upgrade_timeout: Duration::from_millis(10_000),
        deflate: false,
        eio3: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let millis = |text: String| {
            text.parse()
                .map(Duration::from_millis)
                .map_err(|err| format!("{arg}: {err}"))
        };
        match arg.as_str() {
            "--addr" => {
                let text = value()?;
                options.addr = text
                    .parse()
                    .map_err(|err| format!("invalid address `{text}`: {err}"))?;
            }
            "--ping-interval" => options.ping_interval = millis(value()?)?,
            "--ping-timeout" => options.ping_timeout = millis(value()?)?,
            "--upgrade-timeout" => options.upgrade_timeout = millis(value()?)?,
            "--deflate" => options.deflate = true,
            "--eio3" => options.eio3 = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// Echoes every message, and counts close callbacks so tests can check each runs once.
struct Echo {
    closes: Arc<AtomicU64>,
}

impl EngineHandler for Echo {
    type Data = ();

    fn connection_data(&self, _handshake: &HandshakeInfo) {}

    fn on_message(&self, connection: &Connection, message: Message) {
        let _ = connection.send(message);
    }

    fn on_close(&self, _connection: &Connection, _reason: CloseReason) {
        self.closes.fetch_add(1, Ordering::Relaxed);
    }
}

/// Emits `auth` with the client's auth payload (`{}` when it sent none).
fn emit_auth(socket: &Socket, auth: Option<RawJson>) -> Result<(), ConnectError> {
    let auth = auth.unwrap_or_else(|| RawJson::new("{}").unwrap_or_else(|_| RawJson::null()));
    socket
        .emit("auth", &auth)
        .map_err(|err| ConnectError::new(err.to_string()))
}

/// The main namespace of the Socket.IO test server.
#[derive(Default)]
struct Main;

impl Consumer for Main {
    const NAMESPACE: &'static str = "/";

    async fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        emit_auth(socket, auth)
    }

    async fn on_event(
        &mut self,
        socket: &Socket,
        mut event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        match event.name() {
            "message" => socket.emit("message-back", event.received())?,
            "message-with-ack" => {
                let received = event.received();
                event.ack().send(received)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The custom namespace of the Socket.IO test server.
#[derive(Default)]
struct Custom;

impl Consumer for Custom {
    const NAMESPACE: &'static str = "/custom";

    async fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        emit_auth(socket, auth)
    }

    async fn on_event(
        &mut self,
        _socket: &Socket,
        _event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let options = parse_options().unwrap_or_else(|err| {
        eprintln!(
            "error: {err}\nusage: conformance [--addr HOST:PORT] [--ping-interval MS] [--ping-timeout MS] [--upgrade-timeout MS] [--deflate] [--eio3]"
        );
        std::process::exit(2);
    });

    let closes = Arc::new(AtomicU64::new(0));
    let deflate = options.deflate.then(PerMessageDeflate::default);
    let mut engine = Engine::builder();
    let mut server = Server::builder();
    if let Some(deflate) = deflate {
        engine = engine.per_message_deflate(deflate.clone());
        server = server.per_message_deflate(deflate);
    }
    let engine = engine
        .allow_eio3(options.eio3)
        .path("/engine.io/")
        .ping_interval(options.ping_interval)
        .ping_timeout(options.ping_timeout)
        .upgrade_timeout(options.upgrade_timeout)
        .max_payload(1_000_000)
        .cors(Cors::any())
        .build(Echo {
            closes: Arc::clone(&closes),
        });

    let server = server
        .ping_interval(options.ping_interval)
        .ping_timeout(options.ping_timeout)
        .max_payload(1_000_000)
        .connect_timeout(Duration::from_millis(1000))
        .cors(Cors::any())
        .consumer::<Main>()
        .consumer::<Custom>()
        .build();

    let stats_engine = engine.clone();
    let stats_server = server.clone();
    let stats = move || {
        let stats = stats_engine.stats();
        let sio = stats_server.stats();
        let closes = closes.load(Ordering::Relaxed);
        async move {
            serde_json::json!({
                "open": stats.open,
                "polling": stats.polling,
                "websocket": stats.websocket,
                "opened": stats.opened_total,
                "closed": stats.closed_total,
                "closeCallbacks": closes,
                "socketio": {
                    "open": sio.engine.open,
                    "sockets": sio.sockets,
                    "packetsEncoded": sio.packets_encoded,
                },
            })
            .to_string()
        }
    };
    let app = Router::new()
        .route_service("/engine.io/", engine)
        .route_service("/socket.io/", server.service())
        .route("/stats", get(stats));

    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
