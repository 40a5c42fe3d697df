//! What the application is told about connections.

use sio_core::CloseReason;

use crate::engine::connection::{Connection, Message};
use crate::engine::handshake::HandshakeInfo;

/// Receives the events of every Engine.IO connection, and keeps typed data of its own with each
/// one ([`Data`](Self::Data), reached as [`Connection::data`]).
///
/// Callbacks are synchronous and run on whichever task changed the session (the one that read
/// the input, its timer, or an application task that closed it); they must not block. To do slow
/// work, hand it to a task of your own. Callbacks of one session never run at the same time, and
/// a callback may act on its own connection (send, close) without deadlock.
///
/// A plain closure `Fn(&Connection, Message)` is a handler that only takes messages and keeps no
/// data.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use sio_server::engine::{CloseReason, Connection, EngineHandler, HandshakeInfo, Message};
///
/// struct Echo;
///
/// impl EngineHandler for Echo {
///     /// How many messages each connection sent.
///     type Data = AtomicU64;
///
///     fn connection_data(&self, _handshake: &HandshakeInfo) -> AtomicU64 {
///         AtomicU64::new(0)
///     }
///
///     fn on_message(&self, connection: &Connection<AtomicU64>, message: Message) {
///         connection.data().fetch_add(1, Ordering::Relaxed);
///         let _ = connection.send(message);
///     }
///
///     fn on_close(&self, connection: &Connection<AtomicU64>, reason: CloseReason) {
///         let messages = connection.data().load(Ordering::Relaxed);
///         tracing::info!(sid = %connection.sid(), reason = reason.as_str(), messages, "closed");
///     }
/// }
/// ```
pub trait EngineHandler: Send + Sync + 'static {
    /// What the handler keeps with each connection.
    type Data: Send + Sync + 'static;

    /// The data of a connection being opened, made before [`on_open`](Self::on_open).
    fn connection_data(&self, handshake: &HandshakeInfo) -> Self::Data;

    /// A session opened; the handshake answer is already queued.
    fn on_open(&self, connection: &Connection<Self::Data>) {
        let _ = connection;
    }

    /// A message arrived, in order.
    fn on_message(&self, connection: &Connection<Self::Data>, message: Message);

    /// The session moved from polling to WebSocket; called at most once per session.
    fn on_upgrade(&self, connection: &Connection<Self::Data>) {
        let _ = connection;
    }

    /// The session closed; called exactly once per session.
    fn on_close(&self, connection: &Connection<Self::Data>, reason: CloseReason) {
        let _ = (connection, reason);
    }
}

impl<F> EngineHandler for F
where
    F: Fn(&Connection, Message) + Send + Sync + 'static,
{
    type Data = ();

    fn connection_data(&self, _handshake: &HandshakeInfo) {}

    fn on_message(&self, connection: &Connection, message: Message) {
        self(connection, message);
    }
}
