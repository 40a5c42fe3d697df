//! The application side of a namespace: what `#[consumer]` generates, or what a hand-written
//! implementation provides.

mod connect_error;
pub(crate) mod middleware;
mod runner;
mod tasks;

use std::future::Future;

use sio_core::RawJson;

use crate::disconnect_reason::DisconnectReason;
use crate::event::IncomingEvent;
use crate::socket::{OutgoingHook, Socket};

pub use connect_error::ConnectError;
pub(crate) use runner::{ErasedConsumer, MailboxFull, MailboxLimits, Runner, panic_message};
pub(crate) use tasks::HookTasks;

/// What a handler may fail with; it is logged and the connection stays up.
pub type HandlerError = crate::error::Error;

/// One namespace of the application. An instance is made for every client that connects to the
/// namespace and lives as long as that connection: its fields are per-client state.
///
/// Its events are handled in arrival order, one at a time. A handler runs where its event was
/// read and, if it is still pending after its first poll, goes on on a task of its own, while
/// reading, heartbeats and every other connection go on; the events that arrive meanwhile wait
/// for it. A handler still running when the socket disconnects runs to the end (what it emits
/// then is dropped); events still queued are dropped, and then
/// [`disconnect`](Consumer::disconnect) runs.
///
/// ```
/// use sio_server::{Args, Consumer, HandlerError, IncomingEvent, Socket};
///
/// #[derive(Default)]
/// struct Echo;
///
/// impl Consumer for Echo {
///     const NAMESPACE: &'static str = "/echo";
///
///     async fn on_event(&mut self, socket: &Socket, mut event: IncomingEvent) -> Result<(), HandlerError> {
///         match event.name() {
///             "say" => {
///                 let text: String = event.arg(0)?;
///                 socket.emit("said", &text)?;
///                 event.ack::<Args<()>>().send(Args(()))?;
///             }
///             _ => {} // the fallback: unknown events are ignored here
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Consumer: Send + 'static {
    /// The namespace, such as `/chat`.
    const NAMESPACE: &'static str;

    /// A client asks to join; `auth` is the payload of its CONNECT, if any. Returning an error
    /// refuses it with `CONNECT_ERROR`. What this emits is sent after the acceptance, and rooms it
    /// joins take effect only if it accepts.
    fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> impl Future<Output = Result<(), ConnectError>> + Send {
        let _ = (socket, auth);
        async { Ok(()) }
    }

    /// The socket is a client's earlier one, restored by connection state recovery
    /// ([`Socket::recovered`]): called before `connect` (and its middleware) with the data the
    /// socket kept ([`Socket::set_data`]), so a consumer whose fields are per-client state can
    /// rebuild them from what it saved there. An error is logged, and `connect` still runs.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use sio_server::{Consumer, HandlerError, IncomingEvent, RawJson, Socket};
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// struct Game {
    ///     score: u32,
    /// }
    ///
    /// impl Consumer for Game {
    ///     const NAMESPACE: &'static str = "/game";
    ///
    ///     async fn recover(&mut self, _socket: &Socket, data: RawJson) -> Result<(), HandlerError> {
    ///         *self = data.deserialize()?; // the score it had before its connection dropped
    ///         Ok(())
    ///     }
    ///
    ///     async fn on_event(&mut self, socket: &Socket, _: IncomingEvent) -> Result<(), HandlerError> {
    ///         self.score += 1;
    ///         socket.set_data(self)?; // kept with the session for a recovery
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn recover(
        &mut self,
        socket: &Socket,
        data: RawJson,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = (socket, data);
        async { Ok(()) }
    }

    /// One event from the client.
    fn on_event(
        &mut self,
        socket: &Socket,
        event: IncomingEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// A hook that sees every event sent to this namespace's sockets (Node's `onAnyOutgoing`),
    /// direct emits and broadcasts alike, acks excepted, on whichever task sends it; none by
    /// default, which costs nothing.
    ///
    /// ```
    /// use sio_server::{Consumer, HandlerError, IncomingEvent, OutgoingEvent, OutgoingHook, Socket};
    ///
    /// struct Audited;
    ///
    /// impl Consumer for Audited {
    ///     const NAMESPACE: &'static str = "/";
    ///     # async fn on_event(&mut self, _: &Socket, _: IncomingEvent) -> Result<(), HandlerError> { Ok(()) }
    ///
    ///     fn outgoing_hook() -> Option<OutgoingHook> {
    ///         Some(|socket, event| tracing::info!(socket = %socket.id(), event = event.name(), "out"))
    ///     }
    /// }
    /// ```
    fn outgoing_hook() -> Option<OutgoingHook> {
        None
    }

    /// The socket is leaving the namespace: called once, after the last handler finished and
    /// before [`disconnect`](Consumer::disconnect), while [`Socket::rooms`] still names the
    /// rooms it was in (Node's `disconnecting`). It no longer receives broadcasts.
    fn disconnecting(
        &mut self,
        socket: &Socket,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (socket, reason);
        async {}
    }

    /// The socket left the namespace; called once, after the last handler finished.
    fn disconnect(
        &mut self,
        socket: &Socket,
        reason: DisconnectReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (socket, reason);
        async {}
    }
}
