//! The Engine.IO layer: one HTTP service that answers long-polling requests and WebSocket
//! upgrades on one path, keeps each session alive with heartbeats, and upgrades polling to
//! WebSocket.
//!
//! It stands on its own: files here name only `crate::engine`, `sio_core` and external crates
//! (`.ci/run` checks it), so the Socket.IO layer above is one [`EngineHandler`] among others.
//! The protocol rules live in `sio_core`'s sans-IO [`EngineSession`](sio_core::EngineSession);
//! this layer moves bytes and time to and from it.
//!
//! ```no_run
//! use sio_server::engine::{Connection, Engine, Message};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::io::Result<()> {
//!     let engine = Engine::builder().build(|connection: &Connection, message: Message| {
//!         let _ = connection.send(message); // an Engine.IO echo server
//!     });
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     sio_server::engine::serve(listener, engine).await
//! }
//! ```
//!
//! # Tasks and memory
//!
//! One task serves the deadlines of every session; a WebSocket has one task that reads and writes
//! it; polling requests run on the HTTP connection's task. What waits for a client is bounded by
//! `max_queued_bytes`.
//!
//! # Mounting in axum
//!
//! The engine is a tower service; mount it on its path without stripping the prefix:
//! `Router::new().route_service("/engine.io/", engine)`. (`nest_service` strips the prefix, so
//! the engine would then need `path("/")`.) Plain hyper servers must enable upgrades
//! (`serve_connection(..).with_upgrades()`) for WebSocket to work.

mod builder;
mod compression;
mod connection;
mod cors;
mod filter;
mod handler;
mod handshake;
mod hooks;
mod http;
mod query;
mod registry;
mod serve;
mod service;
mod session;
mod shutdown;
#[cfg(feature = "admin")]
pub(crate) use http::{plain, typed};
pub(crate) use shutdown::deadline_after;
pub(crate) mod sync;
#[cfg(test)]
mod tests;
mod timers;
mod transport;

pub use builder::EngineBuilder;
pub use compression::HttpCompression;
pub use connection::{Connection, Message, SendError};
pub use cors::Cors;
pub use filter::Refusal;
pub use handler::EngineHandler;
pub use handshake::{Encrypted, HandshakeInfo, RemoteAddr};
pub use hooks::{ConnectionError, RequestHead, SameSite, SessionCookie};
pub use http::{BoxError, ResponseBody};
pub use registry::EngineStats;
pub use serve::{serve, serve_service, serve_service_with_shutdown};
pub use service::{Engine, WeakEngine};
pub use sio_core::{CloseReason, EngineVersion, Sid, Transport};
pub use transport::deflate::PerMessageDeflate;
