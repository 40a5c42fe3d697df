//! The runtime of the `sio` framework on tokio, hyper and tungstenite.
//!
//! Transports, namespaces, rooms, acks and channel layers come with the server work; until then
//! this crate only reserves its place in the workspace and re-exports the protocol core it builds
//! on.

pub use sio_core as core;
