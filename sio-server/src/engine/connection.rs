//! The application's view of one Engine.IO session.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use bytestring::ByteString;
use sio_core::{EnginePacket, Frame, Sid, Transport};
use thiserror::Error;

use crate::engine::handshake::HandshakeInfo;
use crate::engine::session::SessionShared;

/// The WebSocket close code of a policy violation (RFC 6455).
pub(crate) const CLOSE_POLICY: u16 = 1008;

/// A message of the Engine.IO layer: text or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(ByteString),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    pub(crate) fn into_frame(self) -> Frame {
        match self {
            Message::Text(text) => EnginePacket::Message(text).encode(),
            Message::Binary(bytes) => Frame::Binary(bytes),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SendError {
    /// The session is closed.
    #[error("the connection is closed")]
    Closed,
    /// The client has `max_queued_bytes` of messages waiting: it is not reading.
    #[error("the client is not reading: its outgoing queue is full")]
    QueueFull,
}

/// One Engine.IO session, as the application sees it, with the data `D` its
/// [`EngineHandler`](crate::engine::EngineHandler) keeps for it. Cheap to clone.
///
/// Sending never waits: messages are queued and written by the session's transport.
pub struct Connection<D = ()> {
    pub(crate) shared: Arc<SessionShared<D>>,
}

impl<D> Clone for Connection<D> {
    fn clone(&self) -> Self {
        Connection {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<D: Send + Sync + 'static> Connection<D> {
    /// The session id.
    pub fn sid(&self) -> &Sid {
        &self.shared.sid
    }

    /// What the handler keeps for this connection
    /// ([`EngineHandler::Data`](crate::engine::EngineHandler::Data)).
    pub fn data(&self) -> &D {
        &self.shared.data
    }

    /// The transport in use now.
    pub fn transport(&self) -> Transport {
        self.shared.lock().session.transport()
    }

    /// The request that opened the session.
    pub fn handshake(&self) -> &HandshakeInfo {
        &self.shared.handshake
    }

    /// Whether the session has closed.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().session.close_reason().is_some()
    }

    /// Whether the transport takes a message now with nothing waiting before it (Node's
    /// `transport.writable`): a WebSocket with nothing in flight, or a polling GET waiting,
    /// with nothing queued. A client that does not read keeps it `false`; volatile messages go
    /// out only while it is `true`.
    pub fn is_writable(&self) -> bool {
        self.shared.is_writable()
    }

    /// Queues a message for the client.
    ///
    /// A client that stops reading is bounded: once `max_queued_bytes` of messages wait for it,
    /// `send` refuses with [`SendError::QueueFull`] and queues nothing more, and since such a
    /// client no longer receives pings either, it stops answering them and its session is closed
    /// within `ping_interval + ping_timeout`.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_frame(message.into().into_frame())
    }

    /// Queues an already encoded message frame (a Socket.IO packet encoded once for many
    /// recipients). Not public: a frame could be an Engine.IO control packet.
    pub(crate) fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        self.shared.send(std::slice::from_ref(&frame))
    }

    /// Queues frames that belong together (a binary packet and its attachments): all of them,
    /// or none if they do not fit.
    pub(crate) fn send_frames(&self, frames: &[Frame]) -> Result<(), SendError> {
        self.shared.send(frames)
    }

    /// Closes the session; the client is told with a `close` packet.
    pub fn close(&self) {
        self.shared.process(|state| state.session.close());
    }

    /// Closes the session because the client broke the rules above the transport (a packet
    /// that does not decode, a queue it does not read): a WebSocket ends with code 1008.
    pub(crate) fn close_for_violation(&self) {
        self.shared.process(|state| {
            if let Some(socket) = state.websocket {
                state.close_code.get_or_insert((socket, CLOSE_POLICY));
            }
            state.session.close();
        });
    }
}

impl<D> fmt::Debug for Connection<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("sid", &self.shared.sid)
            .finish_non_exhaustive()
    }
}
