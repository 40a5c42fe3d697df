//! The runtime of the `sio` framework on tokio, hyper and tungstenite.
//!
//! Three layers, each in its own place:
//!
//! - **The Socket.IO layer**, at the root, is what applications program against: a [`Server`]
//!   of namespaces, each served by a [`Consumer`] with one instance per connected client,
//!   [`Socket`]s that emit, join rooms and await [acks](Ack), and [broadcasts](BroadcastOperator).
//! - **[`broadcast`]**, beside it, is the plug-in API every broadcast and server-side operation
//!   goes through: a [`ChannelLayer`](broadcast::ChannelLayer) reaches this process's sockets,
//!   or every process's (such as `sio::redis::RedisLayer`).
//! - **[`engine`]**, below both, is the Engine.IO server: one hyper/tower service that answers
//!   HTTP long-polling and WebSocket requests on one path, keeps sessions alive with heartbeats
//!   and upgrades polling to WebSocket. It never names the layers above and can be used alone.
//!
//! ```no_run
//! use sio_server::{Consumer, HandlerError, IncomingEvent, Server, Socket};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Consumer for Echo {
//!     const NAMESPACE: &'static str = "/";
//!     async fn on_event(&mut self, socket: &Socket, event: IncomingEvent) -> Result<(), HandlerError> {
//!         socket.emit(event.name(), event.received())?;
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let server = Server::builder().consumer::<Echo>().build();
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     server.serve(listener).await
//! }
//! ```
//!
//! # Tasks and memory
//!
//! One task serves the heartbeat deadlines of every session; a WebSocket has one task that reads
//! and writes it; polling requests run on the HTTP connection's task. Engine
//! callbacks are synchronous and never awaited: the Socket.IO layer decodes packets there and
//! runs each handler right there, polled once; a handler still pending goes on on a task of its
//! own, with the socket's next events queued behind it in a bounded mailbox. `disconnect`
//! always runs on a task of its own, never inside the code that ended the socket. What waits for a
//! client is bounded by `max_queued_bytes`, what waits for a handler by the mailbox's bounds.

mod ack;
#[cfg(feature = "admin")]
pub mod admin;
mod args;
pub mod broadcast;
mod client;
mod consumer;
mod disconnect_reason;
pub mod engine;
mod error;
mod event;
mod legacy;
#[doc(hidden)]
pub mod macro_support;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(not(feature = "metrics"))]
pub(crate) mod metrics;
mod namespace;
mod recovery;
mod server;
mod server_events;
mod socket;

pub use ack::{Ack, AckError, AckResponse};
pub use args::{Args, EmitArgs, Received};
pub use broadcast::{BroadcastAck, BroadcastAcks, BroadcastOperator, RemoteSocket, Room};
pub use consumer::{ConnectError, Consumer, HandlerError};
pub use disconnect_reason::DisconnectReason;
pub use engine::Cors;
pub use error::{Error, Result};
pub use event::{ArgError, IncomingEvent};
pub use recovery::ConnectionStateRecovery;
pub use server::{Server, ServerBuilder, ServerService, ServerStats, WeakServer};
pub use server_events::{ServerAcks, ServerEvent, ServerEvents};
pub use sio_core::{Parser, RawArg, RawJson, Transport};
pub use socket::{EmitError, Handshake, OutgoingEvent, OutgoingHook, Socket, SocketId, Volatile};
