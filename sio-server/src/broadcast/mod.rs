//! Broadcasts and server-side operations, and the plug-in API they all go through.
//!
//! A [`BroadcastOperator`] selects sockets of a namespace (by rooms, and rooms to skip: a
//! [`Target`]) and emits to them, gathers their acks, fetches them ([`RemoteSocket`]) or makes
//! them join, leave or disconnect. Each of those goes through the server's [`ChannelLayer`],
//! which applies it to this process's sockets ([`LocalSockets`]) and, for a layer that spans
//! processes, tells the others. [`InMemoryLayer`], the default, serves one process; implement
//! [`ChannelLayer`] for another transport between processes, and [`SessionStore`] for one that
//! keeps connection state recovery for every process.

mod acks;
mod layer;
mod local_sockets;
mod operator;
mod remote_socket;
mod sessions;
mod target;

pub use acks::{AckEvent, BroadcastAck, BroadcastAcks};
pub use layer::{Broadcast, ChannelLayer, InMemoryLayer, LayerError, LayerStats, Operation};
#[cfg(feature = "admin")]
pub(crate) use local_sockets::describe;
pub use local_sockets::{LocalAcks, LocalSockets};
pub use operator::BroadcastOperator;
pub use remote_socket::RemoteSocket;
pub(crate) use sessions::live_ttl;
pub use sessions::{MissedEvents, ReadLimits, SavedSession, SessionStore};
pub use target::{Room, Target};

pub use crate::server_events::{ServerAckEvent, ServerSideEmit};
