//! How broadcasts and server-side operations reach sockets: every one goes through a channel
//! layer, which applies it to this process's sockets and, for a layer that spans processes, to
//! the others'.

use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use sio_core::{AckId, EncodedPacket, Namespace};
use thiserror::Error;

use crate::broadcast::acks::AckEvent;
use crate::broadcast::local_sockets::LocalSockets;
use crate::broadcast::remote_socket::RemoteSocket;
use crate::broadcast::sessions::SessionStore;
use crate::broadcast::target::{Room, Target};
use crate::server_events::{ServerAckEvent, ServerSideEmit};

/// One broadcast: which sockets, and the packet encoded once for all of them.
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The namespace.
    pub namespace: Namespace,
    /// The rooms it goes to and the rooms it skips (a sender left out is the room of its id).
    pub target: Target,
    /// The packet as the wire carries it; every recipient gets these same bytes.
    pub packet: EncodedPacket,
    /// Whether a recipient whose transport does not take it at once skips it (Node's
    /// `volatile` flag; see [`Socket::is_writable`](crate::Socket::is_writable)).
    pub volatile: bool,
}

/// A server-side operation on a selection of sockets, from
/// [`BroadcastOperator`](crate::broadcast::BroadcastOperator).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// The sockets join these rooms.
    Join(Vec<Room>),
    /// The sockets leave these rooms.
    Leave(Vec<Room>),
    /// The sockets are disconnected from the namespace; with `close`, their whole connections
    /// are closed.
    Disconnect {
        /// Whether to close the underlying connection too.
        close: bool,
    },
}

/// How a channel layer is doing (see [`ChannelLayer::stats`]), exported with the server's
/// metrics as `socketio_layer_*`.
///
/// ```
/// let stats = sio_server::broadcast::LayerStats {
///     queued_bytes: 0,
///     dropped_total: 0,
///     reconnects_total: 1,
///     lag: None,
/// };
/// assert_eq!(stats.reconnects_total, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerStats {
    /// Bytes waiting to go to the other processes now.
    pub queued_bytes: usize,
    /// Messages to the other processes given up since the start (their medium unreachable, or
    /// the queue full).
    pub dropped_total: u64,
    /// Connections to the other processes' medium made again after one was lost.
    pub reconnects_total: u64,
    /// How far behind the reading of what the other processes sent is, where it can be told
    /// (a log such as a Redis stream: the age of the last entry read).
    pub lag: Option<Duration>,
}

/// Why a channel layer could not answer for every process.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LayerError {
    /// Some processes did not answer in time.
    #[error("{answered} of {expected} processes answered within the timeout")]
    Timeout {
        /// The processes that answered, this one included.
        answered: usize,
        /// The processes subscribed when the request went out.
        expected: usize,
    },
    /// The layer cannot reach the other processes now.
    #[error("the channel layer is unavailable: {0}")]
    Unavailable(String),
}

/// A channel layer: the path of every broadcast and server-side operation.
///
/// A namespace given to its methods may be a pattern a consumer was declared for
/// (`/workspace/{id}`, see [`LocalSockets::patterns`]): it stands for every namespace made from
/// it, and [`LocalSockets`] applies it to each.
///
/// The default, [`InMemoryLayer`], serves one process: every method has a default that acts on
/// [`LocalSockets`] only. A layer that spans processes (such as `sio::redis::RedisLayer`)
/// overrides them to act locally and tell the other processes; [`start`](Self::start) hands it
/// the local sockets to apply what the others send.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use sio_server::Server;
/// use sio_server::broadcast::{Broadcast, ChannelLayer, LocalSockets};
///
/// /// One process, counting its broadcasts.
/// #[derive(Default)]
/// struct Counting(AtomicU64);
///
/// impl ChannelLayer for Counting {
///     fn broadcast(&self, broadcast: &Broadcast, local: &LocalSockets) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///         local.deliver(broadcast);
///     }
/// }
///
/// let server = Server::builder().channel_layer(Counting::default()).build();
/// server.of("/").emit("hello", "world").unwrap();
/// ```
pub trait ChannelLayer: Send + Sync + 'static {
    /// Called once, when the server is built (inside the tokio runtime, if it has one), with the
    /// sockets of this process. A layer that hears from other processes keeps `local`.
    fn start(&self, local: &LocalSockets) {
        let _ = local;
    }

    /// Delivers `broadcast` to every matching socket.
    fn broadcast(&self, broadcast: &Broadcast, local: &LocalSockets) {
        local.deliver(broadcast);
    }

    /// Delivers `broadcast`, whose packet asks for ack `ack_id`, to every matching socket; the
    /// stream says where it went and yields the answers, and ends when every recipient
    /// answered or `timeout` passed.
    fn broadcast_with_ack(
        &self,
        broadcast: &Broadcast,
        ack_id: AckId,
        timeout: Duration,
        local: &LocalSockets,
    ) -> BoxStream<'static, AckEvent> {
        local.deliver_with_ack(broadcast, ack_id, timeout).events()
    }

    /// Applies `operation` to the sockets of `namespace` that `target` selects.
    fn apply(
        &self,
        namespace: &Namespace,
        target: &Target,
        operation: &Operation,
        local: &LocalSockets,
    ) {
        local.apply(namespace, target, operation);
    }

    /// The sockets of `namespace` that `target` selects.
    fn fetch_sockets(
        &self,
        namespace: &Namespace,
        target: &Target,
        local: &LocalSockets,
    ) -> BoxFuture<'static, Result<Vec<RemoteSocket>, LayerError>> {
        std::future::ready(Ok(local.fetch_sockets(namespace, target))).boxed()
    }

    /// Every room of `namespace` with at least one socket.
    fn rooms(
        &self,
        namespace: &Namespace,
        local: &LocalSockets,
    ) -> BoxFuture<'static, Result<Vec<Room>, LayerError>> {
        std::future::ready(Ok(local.rooms(namespace))).boxed()
    }

    /// Sends a server-side event to the [`ServerEvents`](crate::ServerEvents) handlers of its
    /// namespace in the other processes (never this one's), which hand it to
    /// [`LocalSockets::server_side_event`]. The default, for one process, reaches nobody.
    fn server_side_emit(&self, event: &ServerSideEmit, local: &LocalSockets) {
        let _ = (event, local);
    }

    /// Sends a server-side event as [`server_side_emit`](Self::server_side_emit) does, asking
    /// each process for an answer; the stream says how many processes were asked, then yields
    /// their answers, and ends when each answered or `timeout` passed. The default, for one
    /// process, asks nobody.
    fn server_side_emit_with_ack(
        &self,
        event: &ServerSideEmit,
        timeout: Duration,
        local: &LocalSockets,
    ) -> BoxStream<'static, ServerAckEvent> {
        let _ = (event, timeout, local);
        futures_util::stream::iter([ServerAckEvent::Asked(0)]).boxed()
    }

    /// Called when a namespace is made from a pattern, at the first CONNECT to its name (for a
    /// pattern with a predicate, once the predicate admitted it; one it refused is never
    /// announced) and before any socket joins it: a layer that spans processes starts hearing
    /// of it. Called under the lock that orders the creations and removals of namespaces, so it
    /// must not wait nor call back into the server.
    fn namespace_created(&self, namespace: &Namespace) {
        let _ = namespace;
    }

    /// Called when a namespace made from a pattern, announced with
    /// [`namespace_created`](Self::namespace_created), is removed (see
    /// [`ServerBuilder::cleanup_empty_child_namespaces`](crate::ServerBuilder::cleanup_empty_child_namespaces)),
    /// under the same lock as [`namespace_created`](Self::namespace_created).
    fn namespace_removed(&self, namespace: &Namespace) {
        let _ = namespace;
    }

    /// Called by [`Server::shutdown`](crate::Server::shutdown): stop talking to other processes.
    fn shutdown(&self) {}

    /// How the layer is doing, for the server's metrics: `None` (the default) for a layer with
    /// nothing to tell, such as the in-memory one.
    fn stats(&self) -> Option<LayerStats> {
        None
    }

    /// The store of a layer that keeps connection state recovery (its log's entry ids as the
    /// offsets, the sessions where every process finds them) in place of the server's memory;
    /// see [`SessionStore`]. The default, `None`, leaves it to the server, for this process only.
    fn session_store(&self) -> Option<&dyn SessionStore> {
        None
    }
}

/// The channel layer of a single process: everything reaches this process's sockets only.
#[derive(Debug, Default, Clone, Copy)]
pub struct InMemoryLayer;

impl ChannelLayer for InMemoryLayer {}
