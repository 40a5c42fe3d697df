//! The runtime of the `sio` framework on tokio, hyper and tungstenite.
//!
//! This layer speaks Engine.IO: an [`Engine`] is one hyper/tower service that answers HTTP
//! long-polling and WebSocket requests on one path, keeps every session alive with heartbeats,
//! upgrades polling sessions to WebSocket, and hands the application a [`Connection`] per
//! session that sends and receives text and binary messages. The protocol rules live in
//! `sio-core`'s sans-IO state machine; this crate moves bytes and time to and from it.
//!
//! ```no_run
//! use sio_server::{Connection, Engine, Message};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let engine = Engine::builder().build(|connection: &Connection, message: Message| {
//!         let _ = connection.send(message); // an echo server
//!     });
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     sio_server::serve(listener, engine).await
//! }
//! ```
//!
//! # Tasks and memory
//!
//! A session costs one timer task, plus a reader and a writer task while it has a WebSocket;
//! polling requests run on the HTTP connection's task. Handlers are called synchronously from the
//! reading task and never awaited. What waits for a client is bounded by `max_queued_bytes`.
//!
//! # Mounting in axum
//!
//! The engine is a tower service; mount it on its path without stripping the prefix:
//! `Router::new().route_service("/engine.io/", engine)`. (`nest_service` strips the prefix, so
//! the engine would then need `path("/")`.) Plain hyper servers must enable upgrades
//! (`serve_connection(..).with_upgrades()`) for WebSocket to work.

mod connection;
mod cors;
mod engine;
mod engine_builder;
mod handler;
mod polling;
mod registry;
mod responses;
mod serve;
mod session_shared;
mod websocket;

pub use connection::{Connection, HandshakeInfo, Message, RemoteAddr, SendError};
pub use cors::Cors;
pub use engine::{BoxError, Engine, ResponseBody};
pub use engine_builder::EngineBuilder;
pub use handler::EngineHandler;
pub use registry::EngineStats;
pub use serve::serve;
pub use sio_core::{CloseReason, Frame, Sid, Transport};
