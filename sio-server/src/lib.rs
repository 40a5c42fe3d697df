//! The runtime of the `sio` framework on tokio, hyper and tungstenite.
//!
//! Two layers. The Socket.IO layer is what applications program against: a [`Server`] of
//! namespaces, each served by a [`Consumer`] with one instance per connected client, [`Socket`]s
//! that emit, join rooms and await acks, and broadcasts through a [`ChannelLayer`]. Below it,
//! the Engine.IO layer: an [`Engine`] is one hyper/tower service that answers HTTP long-polling
//! and WebSocket requests on one path, keeps sessions alive with heartbeats and upgrades polling
//! to WebSocket; it can also be used on its own, with a [`Connection`] per session. The protocol
//! rules live in `sio-core`'s sans-IO state machine; this crate moves bytes and time to and
//! from it.
//!
//! ```no_run
//! use sio_server::{Connection, Engine, Message};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let engine = Engine::builder().build(|connection: &Connection, message: Message| {
//!         let _ = connection.send(message); // an Engine.IO echo server
//!     });
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     sio_server::serve(listener, engine).await
//! }
//! ```
//!
//! # Tasks and memory
//!
//! A session costs one timer task, plus a reader and a writer task while it has a WebSocket;
//! polling requests run on the HTTP connection's task. Engine callbacks are synchronous and never
//! awaited: the Socket.IO layer decodes packets there and hands events to each socket's bounded
//! mailbox, which its consumer task drains one event at a time. What waits for a client is
//! bounded by `max_queued_bytes`, what waits for a handler by the mailbox capacity.
//!
//! # Mounting in axum
//!
//! The engine is a tower service; mount it on its path without stripping the prefix:
//! `Router::new().route_service("/socket.io/", server.service())`. (`nest_service` strips the
//! prefix, so the engine would then need `path("/")`.) Plain hyper servers must enable upgrades
//! (`serve_connection(..).with_upgrades()`) for WebSocket to work.

mod ack;
mod channel_layer;
mod connection;
mod consumer;
mod consumer_task;
mod cors;
mod disconnect_reason;
mod emit_args;
mod engine;
mod engine_builder;
mod error;
mod handler;
mod incoming;
mod local_sockets;
#[doc(hidden)]
pub mod macro_support;
mod namespace;
mod operator;
mod polling;
mod registry;
mod remote_socket;
mod responses;
mod serve;
mod server;
mod server_builder;
mod session_shared;
mod sio_connection;
mod socket;
mod websocket;

pub use ack::{Ack, AckError, AckResponse};
pub use channel_layer::{Broadcast, ChannelLayer, InMemoryLayer, LayerError, Operation};
pub use connection::{Connection, HandshakeInfo, Message, RemoteAddr, SendError};
pub use consumer::{ConnectError, Consumer, HandlerError};
pub use cors::Cors;
pub use disconnect_reason::DisconnectReason;
pub use emit_args::{Args, EmitArgs};
pub use engine::{BoxError, Engine, ResponseBody};
pub use engine_builder::EngineBuilder;
pub use error::{Error, Result};
pub use handler::EngineHandler;
pub use incoming::{ArgError, IncomingEvent, Received};
pub use local_sockets::LocalSockets;
pub use namespace::{Room, Target};
pub use operator::BroadcastOperator;
pub use registry::EngineStats;
pub use remote_socket::RemoteSocket;
pub use serve::serve;
pub use server::{Server, ServerStats};
pub use server_builder::ServerBuilder;
pub use sio_core::{CloseReason, Frame, RawJson, Sid, Transport};
pub use socket::{EmitError, Socket, SocketId};
