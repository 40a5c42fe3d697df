#![doc = include_str!("../README.md")]

/// The protocol core, sans-IO: Engine.IO v4 and Socket.IO v5 codecs and the session state machine.
pub use sio_core as protocol;

/// The Engine.IO server: one service for polling and WebSocket, sessions, heartbeats, upgrades.
pub mod engine {
    pub use sio_server::{
        BoxError, CloseReason, Connection, Cors, Engine, EngineBuilder, EngineHandler, EngineStats,
        Frame, HandshakeInfo, Message, RemoteAddr, ResponseBody, SendError, Sid, Transport, serve,
    };
}

/// The Socket.IO server: namespaces served by consumers, sockets, rooms, acks and broadcasts.
pub mod socket {
    pub use sio_server::{
        Ack, AckError, AckResponse, ArgError, Args, Broadcast, BroadcastOperator, ChannelLayer,
        ConnectError, Consumer, DisconnectReason, EmitArgs, EmitError, Error, HandlerError,
        InMemoryLayer, IncomingEvent, LayerError, LocalSockets, Operation, RawJson, Received,
        RemoteSocket, Room, Server, ServerBuilder, ServerStats, Socket, SocketId, Target,
    };
}

pub use sio_macros::{consumer, event, fallback};
pub use sio_server::{
    Ack, Args, ConnectError, Cors, DisconnectReason, EmitError, Error, IncomingEvent, RawJson,
    Result, Room, Server, Socket,
};

/// What `#[consumer]` expansions name. Not a public API.
/// The Redis channel layer (feature `redis`): broadcasts and server-side operations across
/// processes, wire-compatible with Node's `@socket.io/redis-adapter` and
/// `@socket.io/redis-emitter`. See the README's "Deployment and scaling".
#[cfg(feature = "redis")]
pub mod redis {
    pub use sio_redis::{RedisError, RedisLayer};
}

#[doc(hidden)]
pub mod __private {
    pub use sio_server::macro_support::*;
}
