//! The server the end-to-end tests of the lifecycle drive with the official clients: the
//! handshake, the transport and its upgrade, `close_connection`, the engine's hooks and the
//! graceful shutdown. Not an example to learn from: each event exercises one rule.
//!
//! `--addr HOST:PORT` (port 0 picks one; the address is printed), `--name NAME` (what `whoami`
//! answers), `--journal PATH` (a file the server appends what the tests check after it exited:
//! a slow handler's end, `serve`'s return), `--axum` (mounted in axum, with `ConnectInfo`).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test server reports its address

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use sio::engine::SessionCookie;
use sio::{Ack, DisconnectReason, Server, Socket, consumer};

/// The command line.
#[derive(Debug, Default)]
struct Options {
    addr: Option<SocketAddr>,
    name: String,
    journal: Option<PathBuf>,
    axum: bool,
}

static OPTIONS: OnceLock<Options> = OnceLock::new();
/// The refused requests the engine reported, as JSON.
static CONNECTION_ERRORS: Mutex<Vec<Value>> = Mutex::new(Vec::new());
/// The `Cookie` header of every request for an open session (one with a sid), with its
/// transport: `["websocket", "io=.."]`.
static COOKIES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Where the code that awaits the shutdown stands: the process waits for it to have returned
/// (and noted so) before it exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    None,
    Waiting,
    Returned,
}

static CALLER: LazyLock<tokio::sync::watch::Sender<Caller>> =
    LazyLock::new(|| tokio::sync::watch::Sender::new(Caller::None));

fn options() -> &'static Options {
    OPTIONS.get().expect("options parsed")
}

/// Appends `line` to the journal, if there is one.
fn journal(line: &str) {
    if let Some(path) = &options().journal {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open the journal");
        // One write, so that lines from two tasks never mix.
        file.write_all(format!("{line}\n").as_bytes())
            .expect("write the journal");
    }
}

/// The main namespace.
#[derive(Default)]
struct Life {
    /// The transport when the socket connected.
    transport_at_connect: &'static str,
}

#[consumer(namespace = "/")]
impl Life {
    async fn connect(&mut self, socket: &Socket) {
        self.transport_at_connect = socket.transport().as_str();
        let upgraded = socket.upgraded();
        let watched = socket.clone();
        tokio::spawn(async move {
            if upgraded.await {
                let _ = watched.emit("upgraded", watched.transport().as_str());
            }
        });
    }

    #[event("handshake")]
    async fn handshake(&mut self, socket: &Socket, ack: Ack<Value>) -> sio::Result<()> {
        ack.send(json!({
            "details": socket.handshake_details(),
            "transportAtConnect": self.transport_at_connect,
        }))?;
        Ok(())
    }

    #[event("transport")]
    async fn transport(&mut self, socket: &Socket, ack: Ack<&'static str>) -> sio::Result<()> {
        ack.send(socket.transport().as_str())?;
        Ok(())
    }

    #[event("errors")]
    async fn errors(&mut self, _socket: &Socket, ack: Ack<Vec<Value>>) -> sio::Result<()> {
        ack.send(CONNECTION_ERRORS.lock().expect("errors").clone())?;
        Ok(())
    }

    #[event("cookies")]
    async fn cookies(
        &mut self,
        _socket: &Socket,
        ack: Ack<Vec<(String, String)>>,
    ) -> sio::Result<()> {
        ack.send(COOKIES.lock().expect("cookies").clone())?;
        Ok(())
    }

    #[event("whoami")]
    async fn whoami(&mut self, _socket: &Socket, ack: Ack<String>) -> sio::Result<()> {
        ack.send(options().name.clone())?;
        Ok(())
    }

    #[event("close_connection")]
    async fn close_connection(&mut self, socket: &Socket) {
        socket.close_connection();
    }

    /// Shuts the server down, with `ms` milliseconds for the handlers still running; awaited
    /// here if `wait`, else on a task of its own (so this socket's `disconnect` runs within it).
    #[event("shutdown")]
    async fn shutdown(&mut self, socket: &Socket, ms: u64, wait: bool) {
        let server = socket.server();
        let shutdown = async move {
            server.shutdown(Duration::from_millis(ms)).await;
            journal("shutdown returned");
        };
        CALLER.send_replace(Caller::Waiting);
        let shutdown = async move {
            shutdown.await;
            CALLER.send_replace(Caller::Returned);
        };
        if wait {
            shutdown.await;
        } else {
            tokio::spawn(shutdown);
        }
    }

    async fn disconnect(&mut self, _socket: &Socket, reason: DisconnectReason) {
        journal(&format!("disconnect {}", reason.as_str()));
    }
}

/// A second namespace, to share a connection with the main one; its handler can be busy while
/// the main one asks for the shutdown.
#[derive(Default)]
struct Other;

#[consumer(namespace = "/other")]
impl Other {
    /// Takes `ms` milliseconds, then notes that it finished (or, if it is dropped before, that
    /// it was aborted); answers when it starts.
    #[event("slow")]
    async fn slow(&mut self, _socket: &Socket, ms: u64, ack: Ack<bool>) -> sio::Result<()> {
        /// Notes an end that came before the handler's.
        struct Unfinished(bool);
        impl Drop for Unfinished {
            fn drop(&mut self) {
                if self.0 {
                    journal("slow aborted");
                }
            }
        }
        let mut unfinished = Unfinished(true);
        journal("slow started");
        ack.send(true)?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        unfinished.0 = false;
        journal("slow finished");
        Ok(())
    }
}

fn parse_options() -> Options {
    let mut options = Options {
        name: "server".to_owned(),
        ..Options::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("{flag} needs a value");
                std::process::exit(2);
            })
        };
        match flag.as_str() {
            "--addr" => {
                let addr = value();
                options.addr = Some(addr.parse().unwrap_or_else(|err| {
                    eprintln!("invalid address `{addr}`: {err}");
                    std::process::exit(2);
                }));
            }
            "--name" => options.name = value(),
            "--journal" => options.journal = Some(PathBuf::from(value())),
            "--axum" => options.axum = true,
            _ => {
                eprintln!(
                    "usage: lifecycle_testbed --addr HOST:PORT [--name NAME] [--journal PATH] [--axum]"
                );
                std::process::exit(2);
            }
        }
    }
    options
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let options = OPTIONS.get_or_init(parse_options);
    let server = Server::builder()
        .consumer::<Life>()
        .consumer::<Other>()
        .engine(|engine| {
            engine
                .cookie(SessionCookie::new("io"))
                .initial_headers(|headers, _request| {
                    headers.insert("x-initial", "yes".parse().expect("header"));
                })
                .headers(|headers, request| {
                    headers.insert("x-every", "yes".parse().expect("header"));
                    let query = request.uri().query().unwrap_or_default();
                    if let (true, Some(cookie)) =
                        (query.contains("sid="), request.headers().get("cookie"))
                    {
                        let transport = if query.contains("transport=websocket") {
                            "websocket"
                        } else {
                            "polling"
                        };
                        let cookie = String::from_utf8_lossy(cookie.as_bytes()).into_owned();
                        COOKIES
                            .lock()
                            .expect("cookies")
                            .push((transport.to_owned(), cookie));
                    }
                })
                .on_connection_error(|error| {
                    CONNECTION_ERRORS.lock().expect("errors").push(json!({
                        "code": error.code(),
                        "message": error.message(),
                        "context": error.context(),
                        "method": error.request().method().as_str(),
                    }));
                })
        })
        .build();
    let addr = options.addr.unwrap_or_else(|| {
        eprintln!("usage: lifecycle_testbed --addr HOST:PORT");
        std::process::exit(2);
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    if options.axum {
        let app = axum::Router::new().route_service("/socket.io/", server.service());
        let signal = server.shutdown_signal();
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await?;
        server.shutdown_finished().await;
    } else {
        server.serve(listener).await?;
    }
    journal("serve returned");
    let mut caller = CALLER.subscribe();
    let returned = caller.wait_for(|caller| *caller != Caller::Waiting);
    let _ = tokio::time::timeout(Duration::from_secs(5), returned).await;
    Ok(())
}
