//! The chat of the Python original, written with `#[consumer]`: open http://127.0.0.1:8000 in
//! two browser windows.
//!
//! ```text
//! cargo run --example chat                       # 127.0.0.1:8000
//! cargo run --example chat -- --addr 127.0.0.1:0 # any free port; the address is printed
//! cargo run --example chat --features redis -- --addr 127.0.0.1:8001 --redis redis://127.0.0.1:6379/
//! cargo run --example chat --features redis -- --addr 127.0.0.1:8002 --redis-streams redis://127.0.0.1:6379/
//! cargo run --example chat -- --deflate           # WebSocket messages from 1 KiB compressed
//! cargo run --example chat -- --eio3              # Socket.IO v2 clients welcome too
//! cargo run --example chat -- --parser msgpack     # clients with socket.io-msgpack-parser
//! cargo run --example chat --features metrics      # Prometheus metrics at /metrics
//! cargo run --example chat --features admin -- --admin admin:changeit [--admin-dev]
//!     [--admin-read-only] [--admin-ui DIR]
//!                                                  # the Admin UI's namespace (and its files at /admin-ui/)
//! ```
//!
//! With `--redis`, several chat processes share their lobby through Redis pub/sub; with
//! `--redis-streams`, through a Redis stream, and a client whose process died recovers on
//! another (see the README's "Deployment and scaling").
//!
//! Namespace `/chat`: a client joins room `lobby` and is greeted with `system_message`;
//! `chat_message` goes to everyone in the lobby (sender included) and is acked
//! `{"status":"ok"}`; `share_file` (a name and the file's bytes) goes to the lobby as
//! `file_shared`, acked the same; `set_name` (`{"name": ..}`) keeps the name as the socket's
//! data, acked the same. Connection state recovery is on (two minutes): a client whose connection
//! drops comes back in the lobby with the messages it missed. The page at `/` loads the official
//! Socket.IO browser client from its CDN.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program reports

use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sio::{Ack, ConnectError, ConnectionStateRecovery, Server, Socket, consumer};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChatMessage {
    text: String,
}

/// What a client says its name is: kept as the socket's data, which other processes (and the
/// Admin UI) see.
#[derive(Debug, Serialize, Deserialize)]
struct Name {
    name: String,
}

/// A file shared with the lobby: its bytes travel as binary (an attachment, or a MessagePack
/// `bin`), never as text.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SharedFile {
    name: String,
    data: bytes::Bytes,
}

#[derive(Debug, Serialize)]
struct Status {
    status: &'static str,
}

impl Status {
    fn ok() -> Self {
        Status { status: "ok" }
    }
}

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    async fn connect(&mut self, socket: &Socket) -> Result<(), ConnectError> {
        // A client back from a dropped connection is in the lobby still, and has what it missed.
        if socket.recovered() {
            return Ok(());
        }
        socket.join("lobby").await;
        socket.emit(
            "system_message",
            &ChatMessage {
                text: "Welcome!".into(),
            },
        )?;
        Ok(())
    }

    #[event("chat_message")]
    async fn chat_message(
        &mut self,
        socket: &Socket,
        msg: ChatMessage,
        ack: Ack<Status>,
    ) -> sio::Result<()> {
        socket
            .server()
            .of("/chat")
            .to("lobby")
            .emit("chat_message", &msg)?;
        ack.send(Status::ok())
    }

    #[event("set_name")]
    async fn set_name(&mut self, socket: &Socket, name: Name, ack: Ack<Status>) -> sio::Result<()> {
        socket.set_data(&name)?;
        ack.send(Status::ok())
    }

    #[event("share_file")]
    async fn share_file(
        &mut self,
        socket: &Socket,
        file: SharedFile,
        ack: Ack<Status>,
    ) -> sio::Result<()> {
        socket
            .server()
            .of("/chat")
            .to("lobby")
            .emit("file_shared", &file)?;
        ack.send(Status::ok())
    }
}

/// The channel layer between processes, if any.
enum Layer {
    Redis(String),
    RedisStreams(String),
}

struct Options {
    addr: SocketAddr,
    layer: Option<Layer>,
    deflate: bool,
    eio3: bool,
    parser: sio::Parser,
    /// `USER:PASSWORD` of the Admin UI, if on.
    admin: Option<String>,
    /// The Admin UI in development mode rather than production.
    admin_dev: bool,
    /// The Admin UI without its actions.
    admin_read_only: bool,
    /// A folder of the Admin UI's files (its npm package's `ui/dist`) to serve at `/admin-ui/`.
    admin_ui: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
        layer: None,
        deflate: false,
        eio3: false,
        parser: sio::Parser::Json,
        admin: None,
        admin_dev: false,
        admin_read_only: false,
        admin_ui: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--deflate" {
            options.deflate = true;
            continue;
        }
        if flag == "--eio3" {
            options.eio3 = true;
            continue;
        }
        if flag == "--admin-dev" {
            options.admin_dev = true;
            continue;
        }
        if flag == "--admin-read-only" {
            options.admin_read_only = true;
            continue;
        }
        let value = args.next();
        match (flag.as_str(), value) {
            ("--addr", Some(addr)) => {
                options.addr = addr
                    .parse()
                    .map_err(|err| format!("invalid address `{addr}`: {err}"))?;
            }
            ("--redis", Some(url)) => options.layer = Some(Layer::Redis(url)),
            ("--redis-streams", Some(url)) => options.layer = Some(Layer::RedisStreams(url)),
            ("--parser", Some(parser)) if parser == "msgpack" => {
                options.parser = sio::Parser::MsgPack;
            }
            ("--parser", Some(parser)) if parser == "json" => options.parser = sio::Parser::Json,
            ("--admin", Some(credentials)) => options.admin = Some(credentials),
            ("--admin-ui", Some(folder)) => options.admin_ui = Some(folder),
            _ => {
                return Err(
                    "usage: chat [--addr HOST:PORT] [--redis URL | --redis-streams URL] [--deflate] [--eio3] [--parser json|msgpack] [--admin USER:PASSWORD [--admin-dev] [--admin-read-only] [--admin-ui DIR]]"
                        .to_owned(),
                );
            }
        }
    }
    Ok(options)
}

/// The Admin UI for `USER:PASSWORD`, whose password is hashed here (only its hash is kept).
#[cfg(feature = "admin")]
fn admin_ui(credentials: &str, development: bool) -> Result<sio::admin::AdminUi, String> {
    let (user, password) = credentials
        .split_once(':')
        .ok_or("--admin takes USER:PASSWORD")?;
    let hash = sio::admin::AdminAuth::hash_password(password).map_err(|err| err.to_string())?;
    let auth = sio::admin::AdminAuth::basic(user, hash).map_err(|err| err.to_string())?;
    let ui = sio::admin::AdminUi::new(auth);
    Ok(if development { ui } else { ui.production() })
}

#[cfg(feature = "redis")]
fn with_layer(
    builder: sio::socket::ServerBuilder,
    layer: &Layer,
) -> Result<sio::socket::ServerBuilder, String> {
    let invalid = |err: sio::redis::RedisError| format!("invalid Redis URL: {err}");
    Ok(match layer {
        Layer::Redis(url) => {
            builder.channel_layer(sio::redis::RedisLayer::new(url).map_err(invalid)?)
        }
        Layer::RedisStreams(url) => {
            builder.channel_layer(sio::redis::RedisStreamsLayer::new(url).map_err(invalid)?)
        }
    })
}

#[cfg(not(feature = "redis"))]
fn with_layer(
    _: sio::socket::ServerBuilder,
    layer: &Layer,
) -> Result<sio::socket::ServerBuilder, String> {
    let (flag, url) = match layer {
        Layer::Redis(url) => ("--redis", url),
        Layer::RedisStreams(url) => ("--redis-streams", url),
    };
    Err(format!(
        "{flag} needs the `redis` feature: cargo run --example chat --features redis -- {flag} {url}"
    ))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let fail = |err: String| -> ! {
        eprintln!("error: {err}");
        std::process::exit(2);
    };
    let options = parse_options().unwrap_or_else(|err| fail(err));
    // A client whose connection drops for up to two minutes comes back with what it missed.
    let mut builder = Server::builder()
        .connection_state_recovery(ConnectionStateRecovery::default())
        .consumer::<Chat>();
    if let Some(layer) = &options.layer {
        builder = with_layer(builder, layer).unwrap_or_else(|err| fail(err));
    }
    if options.eio3 {
        builder = builder.allow_eio3(true);
    }
    if options.deflate {
        builder = builder.per_message_deflate(sio::engine::PerMessageDeflate::default());
    }
    builder = builder.parser(options.parser);
    // With the `metrics` feature, what the server does is counted and served at `/metrics`.
    #[cfg(feature = "metrics")]
    let metrics = sio::metrics::Metrics::new();
    #[cfg(feature = "metrics")]
    {
        builder = builder.metrics(&metrics);
    }
    #[cfg(feature = "admin")]
    if let Some(credentials) = &options.admin {
        let ui = admin_ui(credentials, options.admin_dev).unwrap_or_else(|err| fail(err));
        builder = builder.admin_ui(ui.read_only(options.admin_read_only));
    }
    #[cfg(not(feature = "admin"))]
    if options.admin.is_some() {
        fail(
            "--admin needs the `admin` feature: cargo run --example chat --features admin -- .."
                .into(),
        );
    }
    let server = builder.build();
    // The page loads the client's bundle for the server's parser.
    let page = match options.parser {
        sio::Parser::MsgPack => {
            include_str!("index.html").replace("socket.io.min.js", "socket.io.msgpack.min.js")
        }
        _ => include_str!("index.html").to_owned(),
    };
    let app = Router::new()
        .route(
            "/",
            get(move || {
                let page = page.clone();
                async move { Html(page) }
            }),
        )
        .route_service("/socket.io/", server.service());
    #[cfg(feature = "metrics")]
    let app = app.route_service("/metrics", metrics.service());
    #[cfg(feature = "admin")]
    let app = match &options.admin_ui {
        Some(folder) => app.nest_service("/admin-ui", sio::admin::UiFiles::new(folder)),
        None => app,
    };

    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    println!("listening on {}", listener.local_addr()?);
    println!(
        "open http://{} in two browser windows",
        listener.local_addr()?
    );
    // Ctrl-C shuts down gracefully: browsers reconnect to the next server that listens here.
    tokio::spawn({
        let server = server.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                server.shutdown(std::time::Duration::from_secs(5)).await;
            }
        }
    });
    // Not `axum::serve`: this one closes connections whose headers dribble in (slowloris).
    let signal = server.shutdown_signal();
    let timeout = std::time::Duration::from_secs(30);
    sio::engine::serve_service_with_shutdown(listener, app, timeout, signal).await?;
    server.shutdown_finished().await;
    Ok(())
}
