//! The per-connection Socket.IO decoder: text packets, and the binary attachments that complete
//! BINARY_EVENT and BINARY_ACK packets.

use bytes::Bytes;
use bytestring::ByteString;

use crate::socket_packet::decode_packet;
use crate::{PacketError, SocketPacket};

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

/// Decodes the Socket.IO packets of one connection, in order.
///
/// A binary packet is held until its attachments have arrived; the number it may announce is
/// capped, so a peer cannot make the decoder wait for (and buffer) an unbounded number of frames.
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
    max_attachments: usize,
    pending: Option<DecodedPacket>,
}

impl Default for PacketDecoder {
    fn default() -> Self {
        PacketDecoder::new(DEFAULT_MAX_ATTACHMENTS)
    }
}

impl PacketDecoder {
    /// A decoder that refuses packets announcing more than `max_attachments` attachments.
    pub fn new(max_attachments: usize) -> Self {
        PacketDecoder {
            max_attachments,
            pending: None,
        }
    }

    /// Decodes a text message (the Engine.IO message data, without its leading `4`).
    ///
    /// Returns `Ok(None)` for a binary packet that now waits for its attachments.
    pub fn decode_text(&mut self, text: ByteString) -> Result<Option<DecodedPacket>, PacketError> {
        if let Some(pending) = &self.pending {
            let missing = pending.packet.attachments() - pending.attachments.len();
            return Err(PacketError::MissingAttachments { missing });
        }
        let packet = decode_packet(&text)?;
        let count = packet.attachments();
        if count > self.max_attachments {
            return Err(PacketError::TooManyAttachments {
                count,
                limit: self.max_attachments,
            });
        }
        let decoded = DecodedPacket {
            packet,
            attachments: Vec::with_capacity(count),
        };
        if count == 0 {
            return Ok(Some(decoded));
        }
        self.pending = Some(decoded);
        Ok(None)
    }

    /// Takes a binary message, the next attachment of the waiting packet.
    ///
    /// Returns the packet once its last attachment has arrived.
    pub fn decode_binary(&mut self, data: Bytes) -> Result<Option<DecodedPacket>, PacketError> {
        let pending = self
            .pending
            .as_mut()
            .ok_or(PacketError::UnexpectedAttachment)?;
        pending.attachments.push(data);
        if pending.attachments.len() < pending.packet.attachments() {
            return Ok(None);
        }
        Ok(self.pending.take())
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }
}
