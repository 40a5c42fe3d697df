//! The application side of a namespace: what `#[consumer]` generates, or what a hand-written
//! implementation provides.

use std::future::Future;

use serde::Serialize;
use sio_core::RawJson;

use crate::{DisconnectReason, IncomingEvent, Socket};

/// What a handler may fail with; it is logged and the connection stays up.
pub type HandlerError = crate::Error;

/// A refused connection: the client receives `CONNECT_ERROR` with this message and data.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// What the client sees as `err.message`.
    pub message: String,
    /// What the client sees as `err.data`, if anything.
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data for the client (`err.data`).
    pub fn with_data(mut self, data: impl Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    pub(crate) fn payload(&self) -> RawJson {
        #[derive(Serialize)]
        struct Payload<'a> {
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a serde_json::Value>,
        }
        RawJson::from_value(&Payload {
            message: &self.message,
            data: self.data.as_ref(),
        })
        .unwrap_or_else(|_| RawJson::null())
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

/// `?` on an emit inside `connect` refuses the client with the emit's error.
impl From<crate::EmitError> for ConnectError {
    fn from(error: crate::EmitError) -> Self {
        ConnectError::new(error.to_string())
    }
}

/// One namespace of the application. An instance is made for every client that connects to the
/// namespace and lives as long as that connection: its fields are per-client state.
///
/// Its events are handled in arrival order, one at a time, on a task of its own; heartbeats and
/// every other connection go on meanwhile. A handler still running when the socket disconnects
/// runs to the end (what it emits then is dropped); events still queued are dropped, and then
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

    /// One event from the client.
    fn on_event(
        &mut self,
        socket: &Socket,
        event: IncomingEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

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
