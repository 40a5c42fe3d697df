//! Encoding events and acks from typed arguments, writing the JSON once.

use std::cell::RefCell;

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;

use crate::binary_split::serialize_splitting;
use crate::msgpack::packet as msgpack_packet;
use crate::msgpack::ser::{write_array_len, write_str, write_value};
use crate::raw_json::array_elements;
use crate::socket_packet::write_header;
use crate::{
    AckId, Args, EncodeError, Frame, Namespace, Parser, RawArg, RawJson, SocketPacketType,
};

/// A packet ready to send: its first frame (text for the JSON parser, with one binary frame
/// per attachment after it; one binary frame for MessagePack).
///
/// Cloning shares the bytes, so one encoding serves every recipient of a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// The Engine.IO message frame holding the Socket.IO packet: text for the JSON parser,
    /// binary for MessagePack.
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
        let text = match &self.text {
            Frame::Text(text) => text,
            Frame::Binary(packet) => {
                let mut value = Vec::new();
                let rewritten = write_value(&mut value, arg)
                    .ok()
                    .and_then(|()| msgpack_packet::rewrite(packet, None, Some(&value)));
                return match rewritten {
                    Some(bytes) => EncodedPacket {
                        text: Frame::Binary(Bytes::from(bytes)),
                        attachments: Vec::new(),
                    },
                    None => self.clone(),
                };
            }
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
        let text = match &self.text {
            Frame::Text(text) => text,
            Frame::Binary(packet) => {
                return match msgpack_packet::rewrite(packet, Some(namespace), None) {
                    Some(bytes) => EncodedPacket {
                        text: Frame::Binary(Bytes::from(bytes)),
                        attachments: Vec::new(),
                    },
                    None => self.clone(),
                };
            }
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
/// array of numbers, as serde makes it. For [`Parser::MsgPack`] (see
/// [`new_event`](Self::new_event)) they are serialized straight into one MessagePack packet,
/// byte buffers as `bin` inside it.
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
    /// For MessagePack, `header_len` is where the `data` array's header stands, and this how
    /// many elements it has so far.
    parser: Parser,
    elements: usize,
}

impl PacketEncoder {
    /// Starts an EVENT named `name`; with `ack_id`, the receiver is asked to answer.
    pub fn event(namespace: &Namespace, ack_id: Option<AckId>, name: &str) -> Self {
        Self::new_event(Parser::Json, namespace, ack_id, name)
    }

    /// Starts an ACK answering the event `ack_id`.
    pub fn ack(namespace: &Namespace, ack_id: AckId) -> Self {
        Self::new_ack(Parser::Json, namespace, ack_id)
    }

    /// Starts an EVENT for `parser`'s clients.
    ///
    /// ```
    /// use sio_core::{Frame, Namespace, PacketEncoder, Parser};
    ///
    /// let mut event = PacketEncoder::new_event(Parser::MsgPack, &Namespace::root(), None, "n");
    /// event.arg(&bytes::Bytes::from_static(&[7])).unwrap();
    /// let packet = event.finish();
    /// // {"type":2,"nsp":"/","data":["n",bin[7]]}
    /// let mut expected = vec![0x83, 0xa4, b't', b'y', b'p', b'e', 0x02, 0xa3, b'n', b's', b'p'];
    /// expected.extend([0xa1, b'/', 0xa4, b'd', b'a', b't', b'a', 0x92, 0xa1, b'n', 0xc4, 1, 7]);
    /// assert_eq!(packet.text, Frame::Binary(expected.into()));
    /// assert!(packet.attachments.is_empty());
    /// ```
    pub fn new_event(
        parser: Parser,
        namespace: &Namespace,
        ack_id: Option<AckId>,
        name: &str,
    ) -> Self {
        if parser == Parser::MsgPack {
            let mut encoder =
                Self::start_msgpack(SocketPacketType::Event, namespace, ack_id, name.len());
            write_str(&mut encoder.buf, name);
            encoder.elements = 1;
            return encoder;
        }
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

    /// Starts an ACK for `parser`'s clients.
    ///
    /// ```
    /// use sio_core::{AckId, Namespace, PacketEncoder, Parser};
    ///
    /// let mut ack = PacketEncoder::new_ack(Parser::Json, &Namespace::root(), AckId(3));
    /// ack.arg("ok").unwrap();
    /// assert_eq!(ack.finish().text.as_text(), Some(r#"433["ok"]"#));
    /// ```
    pub fn new_ack(parser: Parser, namespace: &Namespace, ack_id: AckId) -> Self {
        if parser == Parser::MsgPack {
            return Self::start_msgpack(SocketPacketType::Ack, namespace, Some(ack_id), 0);
        }
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
            parser: Parser::Json,
            elements: 0,
        }
    }

    /// The packet map up to its `data` array, whose header is written when its length is known.
    fn start_msgpack(
        packet_type: SocketPacketType,
        namespace: &Namespace,
        ack_id: Option<AckId>,
        hint: usize,
    ) -> Self {
        let mut buf = Vec::with_capacity(64 + namespace.as_str().len() + hint);
        msgpack_packet::write_head(&mut buf, packet_type, namespace, ack_id, true);
        let header_len = buf.len();
        // A fixarray header, rewritten by `finish` in its longer form for over 15 elements.
        buf.push(0x90);
        PacketEncoder {
            buf,
            header_len,
            binary_type: packet_type,
            namespace: namespace.clone(),
            ack_id,
            has_elements: false,
            attachments: RefCell::new(Vec::new()),
            parser: Parser::MsgPack,
            elements: 0,
        }
    }

    /// Appends one argument.
    ///
    /// On error the packet is left as it was before the call.
    pub fn arg<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<&mut Self, EncodeError> {
        let rollback = self.buf.len();
        if self.parser == Parser::MsgPack {
            if let Err(err) = write_value(&mut self.buf, value) {
                self.buf.truncate(rollback);
                return Err(EncodeError(err.to_string()));
            }
            self.elements += 1;
            return Ok(self);
        }
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

    /// Appends arguments as they were received, such as an event passed on: a JSON argument's
    /// placeholders name `attachments` (by position), which are sent after the packet. In the
    /// parser's own format the arguments are copied byte for byte; otherwise re-encoded (a
    /// MessagePack binary becomes an attachment, an attachment a `bin`).
    ///
    /// ```
    /// use sio_core::{Frame, Namespace, PacketEncoder, RawArg, RawJson};
    ///
    /// let arg = RawArg::from(RawJson::new(r#"{"a": 1}"#).unwrap());
    /// let mut event = PacketEncoder::event(&Namespace::root(), None, "again");
    /// event.raw_args(&[arg], &[]).unwrap();
    /// assert_eq!(event.finish().text, Frame::Text(r#"42["again",{"a": 1}]"#.into()));
    /// ```
    pub fn raw_args(
        &mut self,
        args: &[RawArg],
        attachments: &[Bytes],
    ) -> Result<&mut Self, EncodeError> {
        for arg in args {
            match (self.parser, arg.as_json(), arg.as_msgpack()) {
                (Parser::Json, Some(json), _) => {
                    self.separate();
                    self.buf.extend_from_slice(json.as_str().as_bytes());
                }
                (Parser::MsgPack, _, Some(bytes)) => {
                    self.buf.extend_from_slice(bytes);
                    self.elements += 1;
                }
                (Parser::MsgPack, Some(json), _) if !attachments.is_empty() => {
                    let tree: serde_json::Value = json
                        .deserialize()
                        .map_err(|err| EncodeError(err.to_string()))?;
                    self.arg(&WithAttachments {
                        value: &tree,
                        attachments,
                    })?;
                }
                _ => {
                    self.arg(arg)?;
                }
            }
        }
        if self.parser == Parser::Json {
            self.attachments
                .get_mut()
                .extend(attachments.iter().cloned());
        }
        Ok(self)
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
    /// assert_eq!(args.json().unwrap(), r#"["pong",{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(args.len(), 2);
    /// assert_eq!(attachments, [Bytes::from_static(&[7])]);
    /// ```
    pub fn finish_args(self) -> (Args, Vec<Bytes>) {
        if self.parser == Parser::MsgPack {
            let header_len = self.header_len;
            let array = self.finish_msgpack().slice(header_len..);
            let elements = msgpack_packet::elements(&array).unwrap_or_default();
            return (Args::msgpack(array, elements), Vec::new());
        }
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
        if self.parser == Parser::MsgPack {
            return EncodedPacket {
                text: Frame::Binary(self.finish_msgpack()),
                attachments: Vec::new(),
            };
        }
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

impl PacketEncoder {
    /// The MessagePack packet, its `data` header written now that its length is known.
    fn finish_msgpack(self) -> Bytes {
        let mut buf = self.buf;
        if self.elements <= 15 {
            buf[self.header_len] = 0x90 | self.elements as u8;
        } else {
            let mut header = Vec::with_capacity(5);
            write_array_len(&mut header, self.elements);
            buf.splice(self.header_len..=self.header_len, header);
        }
        Bytes::from(buf)
    }
}

/// A JSON value written with its placeholders replaced by the attachments they name: how a
/// JSON argument with attachments is passed on in MessagePack.
struct WithAttachments<'a> {
    value: &'a serde_json::Value,
    attachments: &'a [Bytes],
}

impl Serialize for WithAttachments<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        let nested = |value| WithAttachments {
            value,
            attachments: self.attachments,
        };
        match self.value {
            serde_json::Value::Object(map) => {
                let named = (map.get("_placeholder") == Some(&serde_json::Value::Bool(true)))
                    .then(|| {
                        map.get("num")
                            .and_then(crate::attachments_de::attachment_index)
                    })
                    .flatten()
                    .and_then(|num| self.attachments.get(num));
                if let Some(buffer) = named {
                    return serializer.serialize_bytes(buffer);
                }
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (key, value) in map {
                    out.serialize_entry(key, &nested(value))?;
                }
                out.end()
            }
            serde_json::Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&nested(item))?;
                }
                out.end()
            }
            scalar => scalar.serialize(serializer),
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
