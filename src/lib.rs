//! **sio** is a Socket.IO server framework: applications are written in Socket.IO terms
//! (namespaces, rooms, events, acks) while the framework takes care of transports, Engine.IO
//! heartbeats, the polling-to-WebSocket upgrade, packet framing and broadcasts.
//!
//! This crate is the facade users depend on; it only re-exports. Today it offers the protocol
//! core, [`protocol`]; the server runtime and the `#[consumer]` macro come next.

pub use sio_core as protocol;
