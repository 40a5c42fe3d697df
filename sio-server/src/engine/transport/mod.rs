//! The two transports of Engine.IO: HTTP long-polling, and WebSocket with the upgrade from
//! polling.

pub(crate) mod deflate;
pub(crate) mod polling;
pub(crate) mod shared_stream;
pub(crate) mod websocket;
