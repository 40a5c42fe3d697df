//! One process of the cluster the Redis tests build: a Socket.IO server on the Redis channel
//! layer whose events ask it for each cross-process operation, so a test client can trigger
//! any of them from any process. `tests/clients/js/node_cluster_server.mjs` is its Node twin.
//! Namespaces `/` and `/chat` answer the same events, each within its own namespace.
//!
//! `--addr HOST:PORT --redis URL --name NAME [--streams] [--recovery-ms N] [--msgpack]`: on the
//! Redis Streams layer with `--streams`, with connection state recovery (that maximum
//! disconnection duration) with `--recovery-ms`, speaking the MessagePack parser with
//! `--msgpack`, and serving the Admin UI's namespace (no password, development mode, named after
//! the process) with `--admin`. A client's auth may carry
//! `rooms` to join; it is welcomed with `welcome` `{id, server}`. Events, each acked:
//! `broadcast {to, except, exceptSelf, event, data, binary}`, `fetch {to}` (ids and rooms, or
//! `{error}` when the layer cannot answer),
//! `rooms`, `join {to, room}`, `leave {to, room}`, `disconnect_sockets {to}`, and `ask {to, timeout}`
//! (emits `question` with an ack to the selection and acks `{names, unanswered, unnamed}`: the
//! answers, the ids of the sockets that did not answer, how many of Node's did not, and how many
//! processes did not say where the event went: `unreported`). With
//! `local: true`,
//! each acts on this process's sockets only.
//!
//! Server-side events, in `/`: `server_ask {timeout}` sends `whoami` `"I am "` to the other
//! processes and acks `{answers, complete}` (each answers `"I am <name>"`); `server_tell` sends
//! `note` `"from <name>"` with the bytes 1, 2, 3; `server_heard` acks the notes this process
//! heard (`"<text>:<bytes>"`, sorted).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test server reports its address

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use serde::Deserialize;
use sio::ConnectionStateRecovery;
use sio::redis::{RedisLayer, RedisStreamsLayer};
use sio::socket::{
    Ack, BroadcastOperator, ConnectError, Consumer, HandlerError, IncomingEvent, RawJson, Server,
    Socket,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Selection {
    to: Vec<String>,
    except: Vec<String>,
    #[serde(rename = "exceptSelf")]
    except_self: bool,
    event: String,
    data: serde_json::Value,
    room: String,
    timeout: u64,
    /// Broadcast `{kind: "binary", from: data.from, bytes: <1, 2, 3>}` instead of `data`.
    binary: bool,
    /// This process only (the `local` flag).
    local: bool,
}

/// A payload with a binary attachment.
#[derive(serde::Serialize)]
struct Binary {
    kind: &'static str,
    from: serde_json::Value,
    bytes: bytes::Bytes,
}

impl Selection {
    fn operator(&self, socket: &Socket) -> BroadcastOperator {
        let mut operator = if self.except_self {
            socket.broadcast()
        } else {
            socket.server().of(socket.namespace().as_str())
        };
        for room in &self.to {
            operator = operator.to(room);
        }
        for room in &self.except {
            operator = operator.except(room);
        }
        if self.local {
            operator = operator.local();
        }
        operator
    }
}

/// The notes this process heard from the others' `note` events.
type Heard = Arc<Mutex<Vec<String>>>;

/// This process's handler of the server-side events of `/`.
struct ClusterEvents {
    name: String,
    heard: Heard,
}

#[sio::server_events]
impl ClusterEvents {
    #[event("whoami")]
    async fn whoami(&self, _server: &Server, prefix: String, ack: Ack<String>) -> sio::Result<()> {
        ack.send(format!("{prefix}{}", self.name))
    }

    #[event("note")]
    async fn note(&mut self, _server: &Server, text: String, bytes: Option<bytes::Bytes>) {
        let note = match bytes {
            Some(bytes) => {
                let listed: Vec<String> = bytes.iter().map(u8::to_string).collect();
                format!("{text}:{}", listed.join(","))
            }
            None => text,
        };
        self.heard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(note);
    }
}

/// The consumer of `/`, and with `CHAT` of `/chat`: the same events in both namespaces.
struct Node<const CHAT: bool> {
    name: String,
    heard: Heard,
}

impl<const CHAT: bool> Consumer for Node<CHAT> {
    const NAMESPACE: &'static str = if CHAT { "/chat" } else { "/" };

    async fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        #[derive(Default, Deserialize)]
        #[serde(default)]
        struct Auth {
            rooms: Vec<String>,
        }
        let auth: Auth = auth
            .and_then(|raw| raw.deserialize().ok())
            .unwrap_or_default();
        for room in auth.rooms {
            socket.join(room).await;
        }
        // What every process, Node's included, sees of this socket.
        socket
            .set_data(&serde_json::json!({ "server": self.name }))
            .map_err(|err| ConnectError::new(err.to_string()))?;
        socket
            .emit(
                "welcome",
                serde_json::json!({ "id": socket.id().as_str(), "server": self.name }),
            )
            .map_err(|err| ConnectError::new(err.to_string()))
    }

    async fn on_event(
        &mut self,
        socket: &Socket,
        mut event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        let selection: Selection = event.arg(0).unwrap_or_default();
        let operator = selection.operator(socket);
        let reply = match event.name() {
            "broadcast" if selection.binary => {
                let binary = Binary {
                    kind: "binary",
                    from: selection.data["from"].clone(),
                    bytes: bytes::Bytes::from_static(&[1, 2, 3]),
                };
                operator.emit(&selection.event, &binary)?;
                serde_json::json!("ok")
            }
            "broadcast" => {
                operator.emit(&selection.event, &selection.data)?;
                serde_json::json!("ok")
            }
            "fetch" => {
                let fetched = match operator.fetch_sockets().await {
                    Ok(fetched) => fetched,
                    Err(err) => {
                        return event
                            .ack()
                            .send(serde_json::json!({ "error": err.to_string() }));
                    }
                };
                let mut sockets: Vec<serde_json::Value> = fetched
                    .iter()
                    .map(|s| {
                        let rooms: Vec<&str> = s.rooms().iter().map(|r| r.as_str()).collect();
                        serde_json::json!({ "id": s.id().as_str(), "rooms": rooms, "data": s.data() })
                    })
                    .collect();
                sockets.sort_by_key(|s| s["id"].to_string());
                serde_json::json!(sockets)
            }
            "rooms" => {
                let rooms: Vec<String> = operator
                    .rooms()
                    .await?
                    .iter()
                    .map(|r| r.to_string())
                    .collect();
                serde_json::json!(rooms)
            }
            "join" => {
                operator.sockets_join(selection.room.as_str());
                serde_json::json!("ok")
            }
            "leave" => {
                operator.sockets_leave(selection.room.as_str());
                serde_json::json!("ok")
            }
            "disconnect_sockets" => {
                operator.disconnect_sockets(false);
                serde_json::json!("ok")
            }
            "ask" => {
                let timeout = Duration::from_millis(selection.timeout);
                let acks = operator
                    .emit_with_ack("question", "who are you?", timeout)
                    .await?;
                let mut names: Vec<serde_json::Value> = acks
                    .answers()
                    .iter()
                    .filter_map(|ack| ack.response().get(0).ok())
                    .collect();
                names.sort_by_key(|name: &serde_json::Value| name.to_string());
                let unanswered: Vec<&str> =
                    acks.unanswered().iter().map(|id| id.as_str()).collect();
                serde_json::json!({
                    "names": names,
                    "unanswered": unanswered,
                    "unnamed": acks.unanswered_unnamed(),
                    "unreported": acks.unreported_processes(),
                })
            }
            "server_ask" => {
                let timeout = Duration::from_millis(selection.timeout);
                let acks = socket
                    .server()
                    .server_side_emit_with_ack("whoami", "I am ", timeout)
                    .await?;
                let mut answers: Vec<String> = acks.decode()?;
                answers.sort();
                serde_json::json!({ "answers": answers, "complete": acks.is_complete() })
            }
            "server_tell" => {
                let bytes = bytes::Bytes::from_static(&[1, 2, 3]);
                let note = sio::Args((format!("from {}", self.name), bytes));
                socket.server().server_side_emit("note", note)?;
                serde_json::json!("ok")
            }
            "server_heard" => {
                let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner()).clone();
                heard.sort();
                serde_json::json!(heard)
            }
            other => serde_json::json!(format!("unknown event {other}")),
        };
        event.ack::<serde_json::Value>().send(reply)
    }
}

struct Options {
    addr: String,
    redis: String,
    name: String,
    /// On the Redis Streams layer rather than the pub/sub one.
    streams: bool,
    /// Connection state recovery on, with this maximum disconnection duration.
    recovery_ms: Option<u64>,
    msgpack: bool,
    admin: bool,
}

fn options() -> Option<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    Some(Options {
        addr: value("--addr")?,
        redis: value("--redis")?,
        name: value("--name").unwrap_or_else(|| "sio".to_owned()),
        streams: args.iter().any(|arg| arg == "--streams"),
        recovery_ms: value("--recovery-ms").and_then(|ms| ms.parse().ok()),
        msgpack: args.iter().any(|arg| arg == "--msgpack"),
        admin: args.iter().any(|arg| arg == "--admin"),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(options) = options() else {
        eprintln!("usage: cluster_node --addr HOST:PORT --redis URL [--name NAME]");
        std::process::exit(2);
    };
    let invalid = |err: sio::redis::RedisError| -> ! {
        eprintln!("error: invalid Redis URL: {err}");
        std::process::exit(2);
    };
    let name = options.name.clone();
    let heard = Heard::default();
    let events = ClusterEvents {
        name: name.clone(),
        heard: Arc::clone(&heard),
    };
    let builder = Server::builder()
        .consumer_with({
            let (name, heard) = (name.clone(), Arc::clone(&heard));
            move || Node::<false> {
                name: name.clone(),
                heard: Arc::clone(&heard),
            }
        })
        .consumer_with(move || Node::<true> {
            name: name.clone(),
            heard: Arc::clone(&heard),
        })
        .server_events(events)
        .parser(if options.msgpack {
            sio::Parser::MsgPack
        } else {
            sio::Parser::Json
        });
    let builder = if options.streams {
        builder.channel_layer(RedisStreamsLayer::new(&options.redis).unwrap_or_else(|e| invalid(e)))
    } else {
        builder.channel_layer(RedisLayer::new(&options.redis).unwrap_or_else(|e| invalid(e)))
    };
    let builder = match options.recovery_ms {
        Some(ms) => builder.connection_state_recovery(
            ConnectionStateRecovery::default()
                .max_disconnection_duration(Duration::from_millis(ms)),
        ),
        None => builder,
    };
    #[cfg(feature = "admin")]
    let builder = if options.admin {
        let ui = sio::admin::AdminUi::new(sio::admin::AdminAuth::None);
        builder.admin_ui(ui.server_id(options.name.clone()))
    } else {
        builder
    };
    let server = builder.build();
    let app = Router::new().route_service("/socket.io/", server.service());
    let listener = tokio::net::TcpListener::bind(&options.addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
