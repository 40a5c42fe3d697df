//! What the application is told about connections.

use sio_core::CloseReason;

use crate::{Connection, Message};

/// Receives the events of every Engine.IO connection.
///
/// Callbacks are synchronous and run on the task that read the input: they must not block. To do
/// slow work, hand it to a task of your own. A plain closure `Fn(&Connection, Message)` is a
/// handler that only takes messages.
///
/// ```
/// use sio_server::{CloseReason, Connection, EngineHandler, Message};
///
/// struct Echo;
///
/// impl EngineHandler for Echo {
///     fn on_message(&self, connection: &Connection, message: Message) {
///         let _ = connection.send(message);
///     }
///
///     fn on_close(&self, connection: &Connection, reason: CloseReason) {
///         tracing::info!(sid = %connection.sid(), reason = reason.as_str(), "closed");
///     }
/// }
/// ```
pub trait EngineHandler: Send + Sync + 'static {
    /// A session opened; the handshake answer is already queued.
    fn on_open(&self, connection: &Connection) {
        let _ = connection;
    }

    /// A message arrived, in order.
    fn on_message(&self, connection: &Connection, message: Message);

    /// The session closed; called exactly once per session.
    fn on_close(&self, connection: &Connection, reason: CloseReason) {
        let _ = (connection, reason);
    }
}

impl<F> EngineHandler for F
where
    F: Fn(&Connection, Message) + Send + Sync + 'static,
{
    fn on_message(&self, connection: &Connection, message: Message) {
        self(connection, message);
    }
}
