//! Engine.IO packets and the frames that carry them.
//!
//! A [`Frame`] is one packet as it travels in one WebSocket frame: text starting with the packet
//! type digit, or raw binary (a binary message, which has no type byte in v4). The runtime queues
//! frames, so a packet encoded once can be written to any number of connections, and a polling
//! payload is those same frames joined (see [`encode_payload`](crate::encode_payload)).

use bytes::Bytes;
use bytestring::ByteString;

use crate::EngineError;

/// The Engine.IO protocol revision a session speaks (the `EIO` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EngineVersion {
    /// Engine.IO v3, used by Socket.IO v2 clients (`EIO=3`): the client pings, polling
    /// payloads count UTF-16 code units, binary messages carry their type.
    V3,
    /// Engine.IO v4, used by Socket.IO v3 and later (`EIO=4`).
    V4,
}

impl EngineVersion {
    /// Reads the `EIO` query parameter; `None` for a version this crate does not speak.
    ///
    /// ```
    /// use sio_core::EngineVersion;
    /// assert_eq!(EngineVersion::from_query("4"), Some(EngineVersion::V4));
    /// assert_eq!(EngineVersion::from_query("3"), Some(EngineVersion::V3));
    /// assert_eq!(EngineVersion::from_query("2"), None);
    /// ```
    pub fn from_query(value: &str) -> Option<Self> {
        match value {
            "4" => Some(EngineVersion::V4),
            "3" => Some(EngineVersion::V3),
            _ => None,
        }
    }
}

/// The two transports of Engine.IO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// HTTP long-polling: GET to receive, POST to send.
    Polling,
    /// One WebSocket connection.
    WebSocket,
}

impl Transport {
    /// Reads the `transport` query parameter.
    ///
    /// ```
    /// use sio_core::Transport;
    /// assert_eq!(Transport::from_query("websocket"), Some(Transport::WebSocket));
    /// assert_eq!(Transport::from_query("flashsocket"), None);
    /// ```
    pub fn from_query(value: &str) -> Option<Self> {
        match value {
            "polling" => Some(Transport::Polling),
            "websocket" => Some(Transport::WebSocket),
            _ => None,
        }
    }

    /// The name used in query strings and in the handshake's `upgrades` list.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
        }
    }
}

/// One encoded Engine.IO packet, exactly as a WebSocket frame carries it.
///
/// ```
/// use sio_core::{EnginePacket, Frame};
/// let frame = EnginePacket::Message("hello".into()).encode();
/// assert_eq!(frame, Frame::Text("4hello".into()));
/// assert_eq!(EnginePacket::decode(frame), Ok(EnginePacket::Message("hello".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    /// A text packet: the type digit followed by its data.
    Text(ByteString),
    /// A binary message, raw bytes.
    Binary(Bytes),
}

impl Frame {
    /// Bytes this frame occupies on the WebSocket (and about as much in a polling payload).
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the frame carries no bytes at all (never true for a frame made by this crate).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text of a text frame.
    ///
    /// ```
    /// use sio_core::Frame;
    /// assert_eq!(Frame::Text("4hi".into()).as_text(), Some("4hi"));
    /// assert_eq!(Frame::Binary(vec![1].into()).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Frame::Text(text) => Some(text),
            Frame::Binary(_) => None,
        }
    }

    /// The bytes of a binary frame.
    ///
    /// ```
    /// use sio_core::Frame;
    /// assert_eq!(Frame::Binary(vec![1].into()).as_binary().map(|b| &b[..]), Some(&[1u8][..]));
    /// assert_eq!(Frame::Text("4hi".into()).as_binary(), None);
    /// ```
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Frame::Text(_) => None,
            Frame::Binary(bytes) => Some(bytes),
        }
    }
}

/// The type digit of an Engine.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnginePacketType {
    /// `0`, the handshake.
    Open,
    /// `1`, the transport is closing.
    Close,
    /// `2`, heartbeat request (sent by the server in v4), or `2probe` during an upgrade.
    Ping,
    /// `3`, heartbeat answer.
    Pong,
    /// `4`, application data.
    Message,
    /// `5`, the client switches to the probed transport.
    Upgrade,
    /// `6`, nothing; closes a pending poll during an upgrade.
    Noop,
}

impl EnginePacketType {
    fn from_digit(byte: u8) -> Option<Self> {
        Some(match byte {
            b'0' => EnginePacketType::Open,
            b'1' => EnginePacketType::Close,
            b'2' => EnginePacketType::Ping,
            b'3' => EnginePacketType::Pong,
            b'4' => EnginePacketType::Message,
            b'5' => EnginePacketType::Upgrade,
            b'6' => EnginePacketType::Noop,
            _ => return None,
        })
    }

    fn digit(self) -> u8 {
        match self {
            EnginePacketType::Open => b'0',
            EnginePacketType::Close => b'1',
            EnginePacketType::Ping => b'2',
            EnginePacketType::Pong => b'3',
            EnginePacketType::Message => b'4',
            EnginePacketType::Upgrade => b'5',
            EnginePacketType::Noop => b'6',
        }
    }
}

/// A decoded Engine.IO packet.
///
/// Data that v4 gives no meaning to (after `1`, `5` or `6`) is accepted and dropped on decode, as
/// the reference server does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EnginePacket {
    /// The handshake, its JSON as text (see [`Handshake`](crate::Handshake)).
    Open(ByteString),
    /// The other side closes the session.
    Close,
    /// Heartbeat request, with optional data (`probe` during an upgrade).
    Ping(ByteString),
    /// Heartbeat answer, echoing the ping's data.
    Pong(ByteString),
    /// A text message.
    Message(ByteString),
    /// A binary message.
    Binary(Bytes),
    /// The upgrade to the probed transport is complete.
    Upgrade,
    /// Does nothing.
    Noop,
}

impl EnginePacket {
    /// The packet's type digit.
    pub fn packet_type(&self) -> EnginePacketType {
        match self {
            EnginePacket::Open(_) => EnginePacketType::Open,
            EnginePacket::Close => EnginePacketType::Close,
            EnginePacket::Ping(_) => EnginePacketType::Ping,
            EnginePacket::Pong(_) => EnginePacketType::Pong,
            EnginePacket::Message(_) | EnginePacket::Binary(_) => EnginePacketType::Message,
            EnginePacket::Upgrade => EnginePacketType::Upgrade,
            EnginePacket::Noop => EnginePacketType::Noop,
        }
    }

    /// Decodes one packet from a WebSocket frame.
    ///
    /// ```
    /// use sio_core::{EngineError, EnginePacket, Frame};
    /// assert_eq!(EnginePacket::decode(Frame::Text("2probe".into())), Ok(EnginePacket::Ping("probe".into())));
    /// assert_eq!(EnginePacket::decode(Frame::Text("9".into())), Err(EngineError::UnknownPacketType('9')));
    /// ```
    pub fn decode(frame: Frame) -> Result<EnginePacket, EngineError> {
        match frame {
            Frame::Text(text) => Self::decode_text(&text),
            Frame::Binary(bytes) => Ok(EnginePacket::Binary(bytes)),
        }
    }

    /// Decodes one text packet; the data shares `text`'s bytes.
    pub fn decode_text(text: &ByteString) -> Result<EnginePacket, EngineError> {
        let first = *text.as_bytes().first().ok_or(EngineError::EmptyPacket)?;
        let Some(packet_type) = EnginePacketType::from_digit(first) else {
            let shown = text.chars().next().unwrap_or_default();
            return Err(EngineError::UnknownPacketType(shown));
        };
        // The type is one ASCII byte, so index 1 is a character boundary.
        let data = || text.slice_ref(&text[1..]);
        Ok(match packet_type {
            EnginePacketType::Open => EnginePacket::Open(data()),
            EnginePacketType::Close => EnginePacket::Close,
            EnginePacketType::Ping => EnginePacket::Ping(data()),
            EnginePacketType::Pong => EnginePacket::Pong(data()),
            EnginePacketType::Message => EnginePacket::Message(data()),
            EnginePacketType::Upgrade => EnginePacket::Upgrade,
            EnginePacketType::Noop => EnginePacket::Noop,
        })
    }

    /// Encodes the packet into the frame a WebSocket carries.
    pub fn encode(&self) -> Frame {
        let data: &str = match self {
            EnginePacket::Binary(bytes) => return Frame::Binary(bytes.clone()),
            EnginePacket::Open(data)
            | EnginePacket::Ping(data)
            | EnginePacket::Pong(data)
            | EnginePacket::Message(data) => data,
            EnginePacket::Close | EnginePacket::Upgrade | EnginePacket::Noop => "",
        };
        let mut text = String::with_capacity(1 + data.len());
        text.push(char::from(self.packet_type().digit()));
        text.push_str(data);
        Frame::Text(ByteString::from(text))
    }
}
