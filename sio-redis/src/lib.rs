//! A Redis channel layer for the sio Socket.IO server framework: run several server processes
//! behind a load balancer, and every broadcast and server-side operation reaches the sockets of
//! all of them.
//!
//! It speaks the wire format of Node's `@socket.io/redis-adapter` (default options: MessagePack
//! broadcasts on `socket.io#<namespace>#[<room>#]`, requests and responses on
//! `socket.io-request#<namespace>#` and `socket.io-response#<namespace>#`), so sio processes,
//! Node socket.io processes and `@socket.io/redis-emitter` scripts can share one Redis.
//!
//! Use it through the `sio` crate's `redis` feature as `sio::redis::RedisLayer`; see
//! [`RedisLayer`].

mod channels;
mod incoming;
mod layer;
mod publisher;
mod requests;
mod responses;
mod server_events;
mod shared;
mod streams;
mod subscriber;
mod subscriptions;
mod wire;

pub use layer::RedisLayer;
pub use redis::RedisError;
pub use streams::RedisStreamsLayer;
