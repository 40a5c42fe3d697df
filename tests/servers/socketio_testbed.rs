//! The Socket.IO server the end-to-end tests drive with the official clients (npm and PyPI).
//! Not an example to learn from: each event exercises one rule of the framework.
//!
//! `--addr HOST:PORT` (port 0 picks one; the address is printed); `--eio3` serves Socket.IO
//! v2 clients too; `--msgpack` speaks the MessagePack parser. HTTP side doors for the
//! tests: `GET /stats`, `POST /announce?room=R[&text=T][&volatile]` (a server broadcast to a
//! room),
//! `GET /ask?room=R&timeout=MS` (a server `emit_with_ack` to a room, answering the replies), and
//! `POST /shutdown`.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test server reports its address

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::{get, post};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sio::socket::{
    Args, ConnectError, Consumer, DisconnectReason, HandlerError, IncomingEvent, Parser, RawJson,
    Server, Socket,
};

#[derive(Debug, Serialize, Deserialize)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Debug, Deserialize)]
struct Auth {
    token: Option<String>,
    room: Option<String>,
}

#[derive(Serialize)]
struct Blob {
    name: &'static str,
    data: Bytes,
}

/// The main namespace: one event per rule under test.
#[derive(Default)]
struct Main;

impl Consumer for Main {
    const NAMESPACE: &'static str = "/";

    async fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        let auth: Option<Auth> = auth.and_then(|raw| raw.deserialize().ok());
        if let Some(Auth {
            token: Some(token), ..
        }) = &auth
            && token == "bad"
        {
            return Err(ConnectError::new("not authorized")
                .with_data(serde_json::json!({ "reason": "bad token" })));
        }
        if let Some(room) = auth.as_ref().and_then(|a| a.room.clone()) {
            socket.join(room).await;
        }
        socket
            .emit("welcome", serde_json::json!({ "id": socket.id().as_str() }))
            .map_err(|err| ConnectError::new(err.to_string()))
    }

    async fn on_event(
        &mut self,
        socket: &Socket,
        mut event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        let server = socket.server();
        match event.name() {
            "echo" => socket.emit("echo", event.received())?,
            "ack" => {
                let received = event.received();
                event.ack().send(received)?;
            }
            "typed" => {
                let point: Point = event.arg(0)?;
                event.ack().send(Point {
                    x: point.x + 1,
                    y: point.y + 1,
                })?;
            }
            "array" => {
                // One argument that is an array stays one argument.
                let items: Vec<i64> = event.arg(0)?;
                event.ack().send(Args((items.len(), items)))?;
            }
            "binary" => {
                let blob = Blob {
                    name: "three bytes",
                    data: Bytes::from_static(&[1, 2, 3]),
                };
                socket.emit("binary", Args((&blob, Bytes::from_static(&[4, 5]))))?;
                let received: Bytes = event.arg(0)?;
                event.ack().send(received.len())?;
            }
            "join" => {
                let room: String = event.arg(0)?;
                socket.join(room).await;
                let rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
                event.ack().send(rooms)?;
            }
            "leave" => {
                let room: String = event.arg(0)?;
                socket.leave(room).await;
                event.ack().send(Args(()))?;
            }
            "to_room" => {
                let room: String = event.arg(0)?;
                socket.to(room).emit("room_message", event.raw(1))?;
                event.ack().send(Args(()))?;
            }
            "to_room_except" => {
                let room: String = event.arg(0)?;
                let except: String = event.arg(1)?;
                server
                    .of("/")
                    .to(room)
                    .except(except)
                    .emit("room_message", event.raw(2))?;
                event.ack().send(Args(()))?;
            }
            "to_room_all" => {
                let room: String = event.arg(0)?;
                server.of("/").to(room).emit("room_message", event.raw(1))?;
                event.ack().send(Args(()))?;
            }
            "to_room_binary" => {
                // A broadcast with a binary attachment, to every socket of the room.
                let room: String = event.arg(0)?;
                let data: Bytes = event.arg(1)?;
                server
                    .of("/")
                    .to(room)
                    .emit("room_binary", Args(("bytes", data)))?;
                event.ack().send(Args(()))?;
            }
            "broadcast" => {
                socket.broadcast().emit("broadcast_message", event.raw(0))?;
                event.ack().send(Args(()))?;
            }
            "ask_me" => {
                // Awaits the client's ack from inside a handler of the same socket.
                let timeout = Duration::from_millis(event.arg::<Option<u64>>(0)?.unwrap_or(2000));
                let answer = socket
                    .emit_with_ack::<serde_json::Value>("question", "what is your name?", timeout)
                    .await;
                let reply = match answer {
                    Ok(value) => serde_json::json!({ "answer": value }),
                    Err(error) => serde_json::json!({ "error": error.to_string() }),
                };
                event.ack().send(reply)?;
            }
            "ask_then_report" => {
                // The outcome goes to everyone: the asker may be gone by then.
                let answer = socket
                    .emit_with_ack::<serde_json::Value>(
                        "question",
                        "still there?",
                        Duration::from_secs(5),
                    )
                    .await;
                let outcome = match answer {
                    Ok(value) => serde_json::json!({ "answer": value }),
                    Err(error) => serde_json::json!({ "error": error.to_string() }),
                };
                server.of("/").emit("ask_outcome", outcome)?;
            }
            "fill_buffers" => {
                // 1 MiB events to socket `id` until its transport stops taking them at once,
                // and keeps not taking them for 200 ms: the kernel's buffers may still grow
                // for a while after the first write that does not fit, and what is left of a
                // large event takes it long to absorb.
                let id: String = event.arg(0)?;
                let Some(target) = server.socket(&id) else {
                    return event.ack().send("no such socket");
                };
                let filler = "x".repeat(1 << 20);
                let (mut sent, mut stuck) = (0_usize, 0);
                while stuck < 4 && sent < 64 {
                    while target.is_writable() && sent < 64 {
                        target.emit("filler", &filler)?;
                        sent += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    stuck = if target.is_writable() { 0 } else { stuck + 1 };
                }
                // Then `news` 1 to everyone and 2 to that socket, both volatile.
                let writable = target.is_writable();
                server.of("/").volatile().emit("news", 1)?;
                target.volatile().emit("news", 2)?;
                event
                    .ack()
                    .send(serde_json::json!({ "sent": sent, "writable": writable }))?;
            }
            "volatile_news" => {
                let n: u64 = event.arg(0)?;
                server.of("/").volatile().emit("news", n)?;
                event.ack().send(Args(()))?;
            }
            "slow" => tokio::time::sleep(Duration::from_millis(100)).await,
            "disconnect_me" => socket.disconnect(),
            "panic" => panic!("this handler panics on purpose"),
            "fail" => return Err(sio::socket::Error::msg("this handler fails on purpose")),
            _ => {}
        }
        Ok(())
    }

    async fn disconnect(&mut self, socket: &Socket, reason: DisconnectReason) {
        let _ = socket
            .server()
            .of("/")
            .emit("left", Args((socket.id().as_str(), reason.as_str())));
    }
}

/// A namespace that shows what a client's CONNECT carried: `whoami` tells its auth and its id;
/// a `token` of `bad` is refused with a message alone.
#[derive(Default)]
struct Whoami;

impl Consumer for Whoami {
    const NAMESPACE: &'static str = "/whoami";

    async fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        let auth: serde_json::Value = auth
            .and_then(|raw| raw.deserialize().ok())
            .unwrap_or(serde_json::Value::Null);
        if auth["token"] == "bad" {
            return Err(ConnectError::new("not authorized"));
        }
        socket
            .emit(
                "whoami",
                serde_json::json!({ "auth": auth, "id": socket.id().as_str() }),
            )
            .map_err(|err| ConnectError::new(err.to_string()))
    }

    async fn on_event(&mut self, _: &Socket, _: IncomingEvent) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// The chat of the Python original.
#[derive(Default)]
struct Chat;

impl Consumer for Chat {
    const NAMESPACE: &'static str = "/chat";

    async fn connect(
        &mut self,
        socket: &Socket,
        _auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        socket.join("lobby").await;
        socket
            .emit("system_message", serde_json::json!({ "text": "Welcome!" }))
            .map_err(|err| ConnectError::new(err.to_string()))
    }

    async fn on_event(
        &mut self,
        socket: &Socket,
        mut event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        if event.name() == "chat_message" {
            let message: serde_json::Value = event.arg(0)?;
            socket
                .server()
                .of("/chat")
                .to("lobby")
                .emit("chat_message", &message)?;
            event.ack().send(serde_json::json!({ "status": "ok" }))?;
        }
        Ok(())
    }
}

/// The address to bind, whether Socket.IO v2 clients are served, and the parser.
fn parse_args() -> (SocketAddr, bool, Parser) {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let eio3 = args.iter().any(|arg| arg == "--eio3");
    let parser = if args.iter().any(|arg| arg == "--msgpack") {
        Parser::MsgPack
    } else {
        Parser::Json
    };
    args.retain(|arg| arg != "--eio3" && arg != "--msgpack");
    let addr = match args.as_slice() {
        [flag, addr] if flag == "--addr" => addr.parse().unwrap_or_else(|err| {
            eprintln!("invalid address `{addr}`: {err}");
            std::process::exit(2);
        }),
        [] => SocketAddr::from(([127, 0, 0, 1], 3001)),
        _ => {
            eprintln!("usage: socketio_testbed [--addr HOST:PORT] [--eio3] [--msgpack]");
            std::process::exit(2);
        }
    };
    (addr, eio3, parser)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let (addr, eio3, parser) = parse_args();
    let server = Server::builder()
        .allow_eio3(eio3)
        .parser(parser)
        .ping_interval(Duration::from_millis(2000))
        .ping_timeout(Duration::from_millis(5000))
        .mailbox_capacity(16)
        .consumer::<Main>()
        .consumer::<Chat>()
        .consumer::<Whoami>()
        .build();

    let stats_server = server.clone();
    let stats = move || {
        let stats = stats_server.stats();
        async move {
            serde_json::json!({
                "sessions": stats.engine.open,
                "sockets": stats.sockets,
                "packetsEncoded": stats.packets_encoded,
            })
            .to_string()
        }
    };
    let announce_server = server.clone();
    let announce = move |Query(query): Query<HashMap<String, String>>| {
        let room = query.get("room").cloned().unwrap_or_default();
        let mut operator = announce_server.of("/").to(room);
        if query.contains_key("volatile") {
            operator = operator.volatile();
        }
        let text = query.get("text").map_or("hello room", String::as_str);
        let result = operator.emit("announcement", text);
        async move { format!("{}", result.is_ok()) }
    };
    let ask_server = server.clone();
    let ask = move |Query(query): Query<HashMap<String, String>>| {
        let server = ask_server.clone();
        async move {
            let room = query.get("room").cloned().unwrap_or_default();
            let timeout = query
                .get("timeout")
                .and_then(|t| t.parse().ok())
                .unwrap_or(1000);
            let replies = server
                .of("/")
                .to(room)
                .emit_with_ack(
                    "question",
                    "what is your name?",
                    Duration::from_millis(timeout),
                )
                .await
                .unwrap_or_default();
            let answers: Vec<serde_json::Value> = replies
                .answers()
                .iter()
                .filter_map(|ack| ack.response().get(0).ok())
                .collect();
            serde_json::json!({ "answers": answers }).to_string()
        }
    };
    let shutdown_server = server.clone();
    let shutdown = move || {
        // Answered before the shutdown is over: it closes the transports.
        let server = shutdown_server.clone();
        tokio::spawn(async move { server.shutdown(Duration::from_secs(5)).await });
        async { "true" }
    };
    let app = Router::new()
        .route_service("/socket.io/", server.service())
        .route("/shutdown", post(shutdown))
        .route("/stats", get(stats))
        .route("/announce", post(announce))
        .route("/ask", get(ask));

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
