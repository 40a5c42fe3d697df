//! Encoding events and acks from typed arguments, writing the JSON once.

use std::cell::RefCell;

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use crate::binary_split::serialize_splitting;
use crate::raw_json::array_elements;
use crate::socket_packet::write_header;
use crate::{AckId, Args, EncodeError, Frame, Namespace, RawJson, SocketPacketType};

/// A packet ready to send: its text frame, then one binary frame per attachment.
///
/// Cloning shares the bytes, so one encoding serves every recipient of a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// The Engine.IO message frame holding the Socket.IO packet.
    pub text: Frame,
    /// Binary frames to send right after `text`, in placeholder order.
    pub attachments: Vec<Bytes>,
}

impl EncodedPacket {
    /// The bytes it holds: its frame and its attachments (what queueing it costs).
    ///
    /// ```
    /// use sio_core::{Namespace, PacketEncoder};
    ///
    /// let mut event = PacketEncoder::event(&Namespace::root(), None, "file");
    /// event.arg(&bytes::Bytes::from_static(&[1, 2, 3])).unwrap();
    /// let packet = event.finish();
    /// assert_eq!(packet.byte_len(), packet.text.len() + 3);
    /// ```
    pub fn byte_len(&self) -> usize {
        self.attachments
            .iter()
            .map(Bytes::len)
            .fold(self.text.len(), usize::saturating_add)
    }

    /// Every frame of the packet in sending order.
    pub fn frames(&self) -> impl Iterator<Item = Frame> + '_ {
        std::iter::once(self.text.clone())
            .chain(self.attachments.iter().cloned().map(Frame::Binary))
    }

    /// The same event with `arg` appended as its last argument, sharing the attachments: how a
    /// server with connection state recovery gives every event its offset, once for all
    /// recipients. A packet whose text does not end its arguments with `]` is returned as it is.
    ///
    /// ```
    /// use sio_core::{Frame, Namespace, PacketEncoder, RawJson};
    ///
    /// let mut event = PacketEncoder::event(&Namespace::root(), None, "news");
    /// event.arg(&1).unwrap();
    /// let offset = RawJson::from_value("a1-7").unwrap();
    /// let stored = event.finish().with_last_arg(&offset);
    /// assert_eq!(stored.text, Frame::Text(r#"42["news",1,"a1-7"]"#.into()));
    /// ```
    pub fn with_last_arg(&self, arg: &RawJson) -> EncodedPacket {
        let Frame::Text(text) = &self.text else {
            return self.clone();
        };
        let Some(head) = text.strip_suffix(']') else {
            return self.clone();
        };
        let mut appended = String::with_capacity(text.len() + arg.as_str().len() + 1);
        appended.push_str(head);
        // An event's array holds its name at least.
        appended.push(',');
        appended.push_str(arg.as_str());
        appended.push(']');
        EncodedPacket {
            text: Frame::Text(ByteString::from(appended)),
            attachments: self.attachments.clone(),
        }
    }

    /// The same packet addressed to `namespace`: a broadcast to every namespace made from a
    /// pattern is encoded once and re-addressed for each, sharing the attachments.
    ///
    /// ```
    /// use sio_core::{Frame, Namespace, PacketEncoder};
    ///
    /// let pattern = Namespace::new("/workspace/{id}").unwrap();
    /// let mut event = PacketEncoder::event(&pattern, None, "saved");
    /// event.arg(&1).unwrap();
    /// let child = event.finish().for_namespace(&Namespace::new("/workspace/7").unwrap());
    /// assert_eq!(child.text, Frame::Text(r#"42/workspace/7,["saved",1]"#.into()));
    /// ```
    pub fn for_namespace(&self, namespace: &Namespace) -> EncodedPacket {
        let Frame::Text(text) = &self.text else {
            return self.clone();
        };
        let bytes = text.as_bytes();
        // `4`, the packet type, and for the binary types the attachment count and `-`.
        let mut start = 2.min(bytes.len());
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if bytes.get(start + digits) == Some(&b'-') {
            start += digits + 1;
        }
        // The namespace runs to the first `,`; the main one is left out of the wire form.
        let end = match bytes.get(start) {
            Some(b'/') => text[start..]
                .find(',')
                .map_or(start, |comma| start + comma + 1),
            _ => start,
        };
        let mut out = String::with_capacity(text.len() + namespace.as_str().len());
        out.push_str(&text[..start]);
        if !namespace.is_root() {
            out.push_str(namespace.as_str());
            out.push(',');
        }
        out.push_str(&text[end..]);
        EncodedPacket {
            text: Frame::Text(ByteString::from(out)),
            attachments: self.attachments.clone(),
        }
    }
}

/// Builds an EVENT or ACK from typed arguments.
///
/// Arguments are serialized with serde straight into the packet's text; any byte buffer among
/// them (`bytes::Bytes`, or a field with `#[serde(with = "serde_bytes")]`) becomes a binary
/// attachment and the packet becomes BINARY_EVENT or BINARY_ACK. A `Vec<u8>` serializes as an
/// array of numbers, as serde makes it.
///
/// ```
/// use bytes::Bytes;
/// use sio_core::{AckId, Frame, Namespace, PacketEncoder};
///
/// let chat = Namespace::new("/chat").unwrap();
/// let mut event = PacketEncoder::event(&chat, Some(AckId(17)), "chat_message");
/// event.arg(&serde_json::json!({"text": "hello"})).unwrap();
/// let packet = event.finish();
/// assert_eq!(packet.text, Frame::Text(r#"42/chat,17["chat_message",{"text":"hello"}]"#.into()));
///
/// let mut event = PacketEncoder::event(&Namespace::root(), None, "file");
/// event.arg(&Bytes::from_static(&[1, 2])).unwrap();
/// let packet = event.finish();
/// assert_eq!(packet.text, Frame::Text(r#"451-["file",{"_placeholder":true,"num":0}]"#.into()));
/// assert_eq!(packet.attachments, [Bytes::from_static(&[1, 2])]);
/// ```
#[derive(Debug)]
pub struct PacketEncoder {
    /// The header as for a non-binary packet, then `[` and the arguments so far.
    buf: Vec<u8>,
    header_len: usize,
    binary_type: SocketPacketType,
    namespace: Namespace,
    ack_id: Option<AckId>,
    /// Whether an element was written after `[`.
    has_elements: bool,
    attachments: RefCell<Vec<Bytes>>,
}

impl PacketEncoder {
    /// Starts an EVENT named `name`; with `ack_id`, the receiver is asked to answer.
    pub fn event(namespace: &Namespace, ack_id: Option<AckId>, name: &str) -> Self {
        let mut encoder = Self::start(
            SocketPacketType::Event,
            SocketPacketType::BinaryEvent,
            namespace,
            ack_id,
            name.len(),
        );
        // A `str` always serializes.
        let _ = serde_json::to_writer(&mut encoder.buf, name);
        encoder.has_elements = true;
        encoder
    }

    /// Starts an ACK answering the event `ack_id`.
    pub fn ack(namespace: &Namespace, ack_id: AckId) -> Self {
        Self::start(
            SocketPacketType::Ack,
            SocketPacketType::BinaryAck,
            namespace,
            Some(ack_id),
            0,
        )
    }

    fn start(
        text_type: SocketPacketType,
        binary_type: SocketPacketType,
        namespace: &Namespace,
        ack_id: Option<AckId>,
        hint: usize,
    ) -> Self {
        let mut header = String::with_capacity(64 + namespace.as_str().len() + hint);
        write_header(&mut header, text_type, 0, namespace, ack_id);
        let header_len = header.len();
        let mut buf = header.into_bytes();
        buf.push(b'[');
        PacketEncoder {
            buf,
            header_len,
            binary_type,
            namespace: namespace.clone(),
            ack_id,
            has_elements: false,
            attachments: RefCell::new(Vec::new()),
        }
    }

    /// Appends one argument.
    ///
    /// On error the packet is left as it was before the call.
    pub fn arg<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<&mut Self, EncodeError> {
        let rollback = self.buf.len();
        let attachments_before = self.attachments.borrow().len();
        self.separate();
        let mut serializer = serde_json::Serializer::new(&mut self.buf);
        if let Err(err) = serialize_splitting(value, &mut serializer, &self.attachments) {
            self.buf.truncate(rollback);
            self.attachments.borrow_mut().truncate(attachments_before);
            self.has_elements = rollback > self.header_len + 1;
            return Err(EncodeError(err.to_string()));
        }
        Ok(self)
    }

    /// Appends one argument that is already JSON, such as an argument received from a client.
    pub fn raw_arg(&mut self, json: &RawJson) -> &mut Self {
        self.separate();
        self.buf.extend_from_slice(json.as_str().as_bytes());
        self
    }

    /// Adds a binary attachment for a placeholder already written with [`raw_arg`](Self::raw_arg),
    /// such as when passing a received binary event on: its `num` is the attachment's position.
    pub fn attach(&mut self, buffer: Bytes) -> &mut Self {
        self.attachments.get_mut().push(buffer);
        self
    }

    fn separate(&mut self) {
        if self.has_elements {
            self.buf.push(b',');
        }
        self.has_elements = true;
    }

    /// Closes the arguments without making a packet of them: the JSON array (for an event, the
    /// name first) and the attachments its placeholders stand for, as they cross to another
    /// process rather than to a client.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sio_core::{AckId, Namespace, PacketEncoder};
    ///
    /// let mut reply = PacketEncoder::ack(&Namespace::root(), AckId(0));
    /// reply.arg("pong").unwrap().arg(&Bytes::from_static(&[7])).unwrap();
    /// let (args, attachments) = reply.finish_args();
    /// assert_eq!(args.array(), r#"["pong",{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(args.len(), 2);
    /// assert_eq!(attachments, [Bytes::from_static(&[7])]);
    /// ```
    pub fn finish_args(self) -> (Args, Vec<Bytes>) {
        let mut buf = self.buf;
        buf.push(b']');
        // The header goes; the arguments are kept in place, not copied.
        buf.drain(..self.header_len);
        let array = ByteString::from(
            String::from_utf8(buf)
                .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()),
        );
        // serde_json wrote the array, so it parses; a bug would show as no arguments.
        let elements = array_elements(&array).ok().flatten().unwrap_or_default();
        (Args::new(array, elements), self.attachments.into_inner())
    }

    /// Closes the packet.
    pub fn finish(self) -> EncodedPacket {
        let mut buf = self.buf;
        buf.push(b']');
        let attachments = self.attachments.into_inner();
        if !attachments.is_empty() {
            // Rare: rewrite the header for the binary form, now that the count is known.
            let mut header = String::with_capacity(self.header_len + 8);
            write_header(
                &mut header,
                self.binary_type,
                attachments.len(),
                &self.namespace,
                self.ack_id,
            );
            let mut binary = header.into_bytes();
            binary.extend_from_slice(&buf[self.header_len..]);
            buf = binary;
        }
        // The header is ASCII and serde_json writes UTF-8; a failure here is a bug, reported as
        // replacement characters rather than a panic.
        let text = String::from_utf8(buf)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
        EncodedPacket {
            text: Frame::Text(ByteString::from(text)),
            attachments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(packet: &EncodedPacket) -> &str {
        match &packet.text {
            Frame::Text(text) => text,
            Frame::Binary(_) => panic!("a text frame"),
        }
    }

    #[test]
    fn a_packet_is_re_addressed_with_its_ack_and_attachments() {
        let from = Namespace::new("/workspace/{id}").unwrap();
        let to = Namespace::new("/workspace/42").unwrap();
        let mut event = PacketEncoder::event(&from, Some(AckId(12)), "file");
        event.arg(&Bytes::from_static(b"\x01")).unwrap();
        let packet = event.finish();
        let moved = packet.for_namespace(&to);
        assert_eq!(
            text(&moved),
            r#"451-/workspace/42,12["file",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(moved.attachments, packet.attachments);
    }

    #[test]
    fn the_main_namespace_is_left_out_both_ways() {
        let root = Namespace::root();
        let chat = Namespace::new("/chat").unwrap();
        let mut event = PacketEncoder::event(&root, Some(AckId(3)), "hi");
        event.arg(&"x").unwrap();
        let packet = event.finish();
        assert_eq!(text(&packet), r#"423["hi","x"]"#);
        let moved = packet.for_namespace(&chat);
        assert_eq!(text(&moved), r#"42/chat,3["hi","x"]"#);
        assert_eq!(text(&moved.for_namespace(&root)), r#"423["hi","x"]"#);
    }
}
