//! Redis channel layers for the sio Socket.IO server framework: run several server processes
//! behind a load balancer, and every broadcast and server-side operation reaches the sockets of
//! all of them.
//!
//! [`RedisLayer`] speaks the wire format of Node's `@socket.io/redis-adapter` (default options: MessagePack
//! broadcasts on `socket.io#<namespace>#[<room>#]`, requests and responses on
//! `socket.io-request#<namespace>#` and `socket.io-response#<namespace>#`), so sio processes,
//! Node socket.io processes and `@socket.io/redis-emitter` scripts can share one Redis.
//!
//! [`RedisStreamsLayer`] speaks the wire format of Node's `@socket.io/redis-streams-adapter`
//! 0.3 (entries on the stream `socket.io`, requests and responses on `socket.io#<namespace>#`
//! channels, sessions under `sio:session:<pid>`), and keeps connection state recovery for every
//! process: a client recovers on any of them, even after its own died.
//!
//! Use them through the `sio` crate's `redis` feature as `sio::redis::RedisLayer` and
//! `sio::redis::RedisStreamsLayer`; see [`RedisLayer`] and [`RedisStreamsLayer`].

mod channels;
mod counts;
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
