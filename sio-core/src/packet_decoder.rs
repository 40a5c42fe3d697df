//! The per-connection Socket.IO decoder: text packets, and the binary attachments that complete
//! BINARY_EVENT and BINARY_ACK packets.

use bytes::Bytes;
use bytestring::ByteString;

use crate::placeholder_scan::check_placeholders;
use crate::socket_packet::decode_packet;
use crate::{PacketError, Parser, SocketPacket};

/// The default cap on attachments per packet, far above what real applications send.
pub const DEFAULT_MAX_ATTACHMENTS: usize = 64;

/// A complete packet with its binary attachments, in placeholder order (`num` 0 first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPacket {
    /// The packet; binary arguments still appear as `{"_placeholder":true,"num":N}`.
    pub packet: SocketPacket,
    /// The buffers its placeholders refer to; empty for non-binary packets.
    pub attachments: Vec<Bytes>,
}

/// What one binary packet may cost: how many attachments it announces, how many bytes they add
/// up to, and how many bytes its placeholders may name again after each attachment's first
/// mention (what decoding its arguments could copy beyond the attachments themselves).
///
/// ```
/// use sio_core::{DecoderLimits, PacketDecoder};
/// let limits = DecoderLimits { max_attachments: 4, ..DecoderLimits::default() };
/// let decoder = PacketDecoder::with_limits(limits);
/// # drop(decoder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Attachments one packet may announce (default 64).
    pub max_attachments: usize,
    /// Bytes all the attachments of one packet may add up to (default 8,000,000: eight times
    /// the default `max_payload`, since each attachment is a message of its own).
    pub max_packet_bytes: usize,
    /// Bytes the placeholders of one packet may name more than once (default 1,000,000).
    pub max_repeated_bytes: usize,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        DecoderLimits {
            max_attachments: DEFAULT_MAX_ATTACHMENTS,
            max_packet_bytes: 8_000_000,
            max_repeated_bytes: 1_000_000,
        }
    }
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
struct Pending {
    decoded: DecodedPacket,
    bytes: usize,
}

/// Decodes the Socket.IO packets of one connection, in order.
///
/// A binary packet is held until its attachments have arrived, within [`DecoderLimits`]: the
/// number it may announce and the bytes they add up to are capped, so a peer cannot make the
/// decoder buffer without bound; once complete, every placeholder must name an attachment.
/// (How long the rest may take is the runtime's to bound, with a clock:
/// [`is_waiting`](Self::is_waiting) says when one is pending.)
///
/// ```
/// use sio_core::PacketDecoder;
/// let mut decoder = PacketDecoder::new(8);
/// assert!(decoder.decode_text(r#"51-["baz",{"_placeholder":true,"num":0}]"#.into()).unwrap().is_none());
/// let decoded = decoder.decode_binary(vec![1, 2, 3, 4].into()).unwrap().unwrap();
/// assert_eq!(decoded.attachments, [vec![1u8, 2, 3, 4]]);
/// ```
#[derive(Debug)]
pub struct PacketDecoder {
    limits: DecoderLimits,
    parser: Parser,
    /// Boxed: a packet waits for attachments rarely, and every connection holds a decoder.
    pending: Option<Box<Pending>>,
}

impl Default for PacketDecoder {
    fn default() -> Self {
        PacketDecoder::with_limits(DecoderLimits::default())
    }
}

impl PacketDecoder {
    /// A decoder that refuses packets announcing more than `max_attachments` attachments, with
    /// the other limits at their defaults.
    pub fn new(max_attachments: usize) -> Self {
        PacketDecoder::with_limits(DecoderLimits {
            max_attachments,
            ..DecoderLimits::default()
        })
    }

    /// A decoder with these limits.
    pub fn with_limits(limits: DecoderLimits) -> Self {
        PacketDecoder::for_parser(Parser::Json, limits)
    }

    /// A decoder for `parser`'s packets, with these limits. A MessagePack decoder takes each
    /// binary message as a whole packet and refuses text ones.
    ///
    /// ```
    /// use sio_core::{DecoderLimits, PacketDecoder, Parser, SocketPacket};
    /// let mut decoder = PacketDecoder::for_parser(Parser::MsgPack, DecoderLimits::default());
    /// // {"type": 1, "nsp": "/"}
    /// let bytes = vec![0x82, 0xa4, b't', b'y', b'p', b'e', 0x01, 0xa3, b'n', b's', b'p', 0xa1, b'/'];
    /// let decoded = decoder.decode_binary(bytes.into()).unwrap().unwrap();
    /// assert!(matches!(decoded.packet, SocketPacket::Disconnect { .. }));
    /// assert!(decoder.decode_text("1".into()).is_err());
    /// ```
    pub fn for_parser(parser: Parser, limits: DecoderLimits) -> Self {
        PacketDecoder {
            limits,
            parser,
            pending: None,
        }
    }

    /// Decodes a text message (the Engine.IO message data, without its leading `4`).
    ///
    /// Returns `Ok(None)` for a binary packet that now waits for its attachments.
    pub fn decode_text(&mut self, text: ByteString) -> Result<Option<DecodedPacket>, PacketError> {
        if self.parser == Parser::MsgPack {
            return Err(PacketError::TextForMsgPack);
        }
        if let Some(pending) = &self.pending {
            let missing = pending.decoded.packet.attachments() - pending.decoded.attachments.len();
            return Err(PacketError::MissingAttachments { missing });
        }
        let packet = decode_packet(&text)?;
        let count = packet.attachments();
        if count > self.limits.max_attachments {
            return Err(PacketError::TooManyAttachments {
                count,
                limit: self.limits.max_attachments,
            });
        }
        let decoded = DecodedPacket {
            packet,
            attachments: Vec::with_capacity(count),
        };
        if count == 0 {
            return self.complete(decoded).map(Some);
        }
        self.pending = Some(Box::new(Pending { decoded, bytes: 0 }));
        Ok(None)
    }

    /// Takes a binary message: for the JSON parser, the next attachment of the waiting packet
    /// (the packet is returned once its last attachment has arrived); for MessagePack, a whole
    /// packet.
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<DecodedPacket>, PacketError> {
        if self.parser == Parser::MsgPack {
            let packet = crate::msgpack::packet::decode_packet(&data)?;
            return Ok(Some(DecodedPacket {
                packet,
                attachments: Vec::new(),
            }));
        }
        let pending = self
            .pending
            .as_mut()
            .ok_or(PacketError::UnexpectedAttachment)?;
        pending.bytes = pending.bytes.saturating_add(data.len());
        if pending.bytes > self.limits.max_packet_bytes {
            let bytes = pending.bytes;
            self.pending = None;
            return Err(PacketError::BinaryPacketTooLarge {
                bytes,
                limit: self.limits.max_packet_bytes,
            });
        }
        pending.decoded.attachments.push(data);
        if pending.decoded.attachments.len() < pending.decoded.packet.attachments() {
            return Ok(None);
        }
        match self.pending.take() {
            Some(pending) => self.complete(pending.decoded).map(Some),
            None => Ok(None),
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// A packet with all its attachments: a binary one has its placeholders checked, as the
    /// reference parser checks them when it puts the buffers back.
    fn complete(&self, decoded: DecodedPacket) -> Result<DecodedPacket, PacketError> {
        // As in the reference parser, a binary packet announcing no attachment is taken as it
        // is: its placeholder-looking objects stay objects.
        let args = match &decoded.packet {
            SocketPacket::Event {
                attachments: Some(1..),
                event,
                ..
            } => Some(event.args()),
            SocketPacket::Ack {
                attachments: Some(1..),
                args,
                ..
            } => Some(args),
            _ => None,
        };
        if let Some(args) = args {
            check_placeholders(
                args.json().unwrap_or("[]"),
                &decoded.attachments,
                self.limits.max_repeated_bytes,
            )?;
        }
        Ok(decoded)
    }
}
