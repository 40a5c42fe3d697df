#![doc = include_str!("../README.md")]

/// The protocol core, sans-IO: Engine.IO v4 and Socket.IO v5 codecs and the session state machine.
pub use sio_core as protocol;

/// The Engine.IO server: one service for polling and WebSocket, sessions, heartbeats, upgrades.
/// It stands alone: a handler of your own can serve Engine.IO without Socket.IO.
pub use sio_server::engine;

/// Broadcasts and server-side operations on selections of sockets, and the channel-layer plug-in
/// API they all go through (implement `ChannelLayer` to carry them between processes).
pub use sio_server::broadcast;

/// The Socket.IO server: namespaces served by consumers, sockets, rooms, acks and broadcasts.
pub mod socket {
    pub use sio_server::{
        Ack, AckError, AckResponse, ArgError, Args, BroadcastAck, BroadcastAcks, BroadcastOperator,
        ConnectError, Consumer, DisconnectReason, EmitArgs, EmitError, Error, HandlerError,
        Handshake, IncomingEvent, OutgoingEvent, OutgoingHook, Parser, RawArg, RawJson, Received,
        RemoteSocket, Result, Room, Server, ServerAcks, ServerBuilder, ServerEvent, ServerEvents,
        ServerService, ServerStats, Socket, SocketId, Volatile, WeakServer,
    };
}

pub use sio_macros::{
    consumer, event, event_middleware, fallback, middleware, on_any, on_any_outgoing, server_events,
};
pub use sio_server::{
    Ack, Args, ConnectError, ConnectionStateRecovery, Cors, DisconnectReason, EmitError, Error,
    Handshake, IncomingEvent, OutgoingEvent, Parser, RawArg, RawJson, Result, Room, Server,
    ServerEvent, Socket, Transport,
};

/// The server side of the Socket.IO Admin UI (feature `admin`): its namespace, authentication,
/// statistics and, in development mode, every socket's events as they happen; and the UI's files
/// served from a folder. See [`AdminUi`](admin::AdminUi).
#[cfg(feature = "admin")]
pub mod admin {
    pub use sio_server::admin::{AdminAuth, AdminUi, InvalidHash, UiFiles};
}

/// Prometheus metrics of a server (feature `metrics`): connections, sockets and rooms, events
/// and bytes both ways, broadcasts, upgrades, disconnects by reason, ack round trips. See
/// [`Metrics`](metrics::Metrics).
#[cfg(feature = "metrics")]
pub mod metrics {
    pub use sio_server::metrics::{Metrics, MetricsService};
}

/// The Redis channel layers (feature `redis`): broadcasts and server-side operations across
/// processes, wire-compatible with Node's `@socket.io/redis-adapter` and
/// `@socket.io/redis-emitter` ([`RedisLayer`](redis::RedisLayer), on pub/sub) or with
/// `@socket.io/redis-streams-adapter` ([`RedisStreamsLayer`](redis::RedisStreamsLayer), on a
/// stream, which also keeps connection state recovery for every process). See the README's
/// "Deployment and scaling".
#[cfg(feature = "redis")]
pub mod redis {
    pub use sio_redis::{RedisError, RedisLayer, RedisStreamsLayer};
}

/// What `#[consumer]` and `#[server_events]` expansions name. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use sio_server::macro_support::*;
}
