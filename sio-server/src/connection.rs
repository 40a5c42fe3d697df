//! The application's view of one Engine.IO session.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use bytestring::ByteString;
use http::{HeaderMap, Uri};
use sio_core::{EnginePacket, Frame, Sid, Transport};
use thiserror::Error;

use crate::session_shared::SessionShared;

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

/// The HTTP request that opened a session: what the client presented at the handshake.
#[derive(Debug, Clone)]
pub struct HandshakeInfo {
    /// The request URI, with its query string.
    pub uri: Uri,
    /// The request headers (cookies, user agent, origin...).
    pub headers: HeaderMap,
    /// The peer's address, when the server knows it (see [`RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
}

impl HandshakeInfo {
    /// The value of query parameter `name`, decoded.
    ///
    /// ```
    /// # use sio_server::HandshakeInfo;
    /// let info = HandshakeInfo {
    ///     uri: "/engine.io/?EIO=4&transport=polling&room=a%20b".parse().unwrap(),
    ///     headers: Default::default(),
    ///     remote_addr: None,
    /// };
    /// assert_eq!(info.query("room").as_deref(), Some("a b"));
    /// ```
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

/// The peer address of a request, as a request extension.
///
/// The standalone server inserts it; an application that mounts the engine in its own hyper or
/// axum server can insert it too, so that [`HandshakeInfo::remote_addr`] is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// One Engine.IO session, as the application sees it. Cheap to clone.
///
/// Sending never waits: messages are queued and written by the session's transport.
#[derive(Clone)]
pub struct Connection {
    pub(crate) shared: Arc<SessionShared>,
}

impl Connection {
    /// The session id.
    pub fn sid(&self) -> &Sid {
        &self.shared.sid
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

    /// Queues a message for the client.
    ///
    /// A client that stops reading is bounded: once `max_queued_bytes` of messages wait for it,
    /// `send` refuses with [`SendError::QueueFull`] and queues nothing more, and since such a
    /// client no longer receives pings either, it stops answering them and its session is closed
    /// within `ping_interval + ping_timeout`.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_frame(message.into().into_frame())
    }

    /// Queues an already encoded frame (a Socket.IO packet encoded once for many recipients).
    pub fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        self.shared.send(frame)
    }

    /// Closes the session; the client is told with a `close` packet.
    pub fn close(&self) {
        self.shared.process(|state| state.session.close());
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("sid", &self.shared.sid)
            .finish_non_exhaustive()
    }
}
