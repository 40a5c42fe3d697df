//! What can be wrong with the input, one small enum per layer.
//!
//! They are `Clone + PartialEq` so tests can compare them, and each variant's message says what the
//! peer sent and what was expected.

use thiserror::Error;

use crate::SocketPacketType;

/// A name that cannot serve as a namespace or an event name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// An event name must not be empty.
    #[error("event name is empty")]
    EmptyEvent,
    /// The name is one of [`RESERVED_EVENTS`](crate::RESERVED_EVENTS) (or, for a server-side
    /// event, of [`RESERVED_SERVER_EVENTS`](crate::RESERVED_SERVER_EVENTS)).
    #[error("`{0}` is a reserved event name; choose another name")]
    ReservedEvent(String),
    /// A namespace must start with `/`.
    #[error("namespace `{0}` must start with `/`")]
    NamespaceWithoutSlash(String),
    /// A namespace holds a character the wire format or URLs give a meaning to.
    #[error("namespace `{namespace}` must not contain {character:?}")]
    NamespaceCharacter {
        /// The namespace as given.
        namespace: String,
        /// The first offending character.
        character: char,
    },
}

/// An Engine.IO packet or polling payload that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// A text packet with no type character.
    #[error("empty Engine.IO packet")]
    EmptyPacket,
    /// The first character is not a packet type (`0`-`6`, or `b` for base64 in a polling payload).
    #[error("unknown Engine.IO packet type {0:?}")]
    UnknownPacketType(char),
    /// A polling body or text frame that is not UTF-8.
    #[error("Engine.IO text is not valid UTF-8")]
    InvalidUtf8,
    /// A `b`-prefixed packet in a polling payload whose base64 does not decode.
    #[error("invalid base64 in binary Engine.IO packet")]
    InvalidBase64,
    /// An Engine.IO v3 polling payload whose packet lengths do not match what follows them.
    #[error("invalid packet length in an Engine.IO v3 payload")]
    InvalidLength,
}

/// A Socket.IO packet that does not decode, or binary attachments out of order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// A message with no packet type.
    #[error("empty Socket.IO packet")]
    EmptyPacket,
    /// The first character is not a packet type (`0`-`6`).
    #[error("unknown Socket.IO packet type {0:?}")]
    UnknownPacketType(char),
    /// A binary packet whose attachment count is missing, not a number, or not ended by `-`.
    #[error("invalid attachment count in binary Socket.IO packet")]
    InvalidAttachmentCount,
    /// A binary packet announces more attachments than the configured limit.
    #[error(
        "binary Socket.IO packet announces {count} attachments, more than the limit of {limit}"
    )]
    TooManyAttachments {
        /// Attachments announced.
        count: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// An ack id larger than `u64::MAX`.
    #[error("Socket.IO ack id is too large")]
    AckIdOverflow,
    /// The payload is not JSON.
    #[error("Socket.IO payload is not valid JSON: {0}")]
    InvalidJson(String),
    /// The payload has the wrong shape for its packet type.
    #[error("invalid payload for {packet_type:?}: expected {expected}")]
    InvalidPayload {
        /// The packet type as decoded.
        packet_type: SocketPacketType,
        /// What the protocol requires there.
        expected: &'static str,
    },
    /// An EVENT named with one of [`RESERVED_EVENTS`](crate::RESERVED_EVENTS).
    #[error("event name `{0}` is reserved")]
    ReservedEventName(String),
    /// A binary frame arrived while no binary packet was waiting for attachments.
    #[error("binary attachment received while no binary packet was expecting one")]
    UnexpectedAttachment,
    /// A text packet arrived while a binary packet still waited for attachments.
    #[error("text packet received while {missing} binary attachments were still expected")]
    MissingAttachments {
        /// How many attachments had not arrived.
        missing: usize,
    },
    /// The attachments of one binary packet add up to more than the limit.
    #[error(
        "binary Socket.IO packet of {bytes} bytes of attachments or more, above the limit of {limit}"
    )]
    BinaryPacketTooLarge {
        /// Bytes of attachments received so far.
        bytes: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// A placeholder (`{"_placeholder":true,"num":N}`) that names no attachment.
    #[error("illegal attachments: a placeholder's {0}")]
    InvalidPlaceholder(String),

    /// A MessagePack packet that is not well formed, or not a packet map.
    #[error("invalid MessagePack Socket.IO packet: {0}")]
    InvalidMsgPack(String),

    /// A text message reached a server whose parser is MessagePack.
    #[error("a text message where the MessagePack parser takes binary ones only")]
    TextForMsgPack,
    /// Placeholders that name the same attachments again, for more bytes than the limit.
    #[error("placeholders repeat {bytes} bytes of attachments, more than the limit of {limit}")]
    RepeatedAttachments {
        /// Bytes of the references after each attachment's first.
        bytes: usize,
        /// The configured maximum.
        limit: usize,
    },
}

/// An argument that serde could not turn into JSON (a map with non-string keys, say).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot encode argument as JSON: {0}")]
pub struct EncodeError(pub String);
