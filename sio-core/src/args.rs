//! Event and ack arguments, kept as slices of the packet (JSON text or MessagePack).

use std::fmt;
use std::ops::Range;

use bytestring::ByteString;

use bytes::Bytes;

use crate::raw_json::array_elements;
use crate::{PacketError, Parser, RawArg, RawJson};

/// The arguments of an EVENT or ACK, each one a [`RawArg`] slice of the packet: JSON text for
/// the default parser, MessagePack for [`Parser::MsgPack`](crate::Parser::MsgPack).
///
/// Nothing is parsed into a tree: the runtime deserializes each argument straight into the type a
/// handler declares.
///
/// ```
/// use sio_core::{SocketPacket, PacketDecoder};
/// let mut decoder = PacketDecoder::default();
/// let packet = decoder.decode_text(r#"3/admin,13["bar",{"n":1}]"#.into()).unwrap().unwrap();
/// let SocketPacket::Ack { args, .. } = packet.packet else { unreachable!() };
/// assert_eq!(args.len(), 2);
/// assert_eq!(args.get(1).unwrap().to_json().as_str(), r#"{"n":1}"#);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Args {
    /// The whole array as sent; for an event, the name included.
    array: Array,
    /// Where each argument stands in `array`.
    elements: Vec<Range<usize>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Array {
    Json(ByteString),
    MsgPack(Bytes),
}

impl Args {
    pub(crate) fn new(array: ByteString, elements: Vec<Range<usize>>) -> Self {
        Args {
            array: Array::Json(array),
            elements,
        }
    }

    /// Arguments of a checked MessagePack array.
    pub(crate) fn msgpack(array: Bytes, elements: Vec<Range<usize>>) -> Self {
        Args {
            array: Array::MsgPack(array),
            elements,
        }
    }

    /// Arguments from a JSON array, such as an ack relayed by another process.
    ///
    /// ```
    /// let args = sio_core::Args::from_array(r#"["ok",{"n":1}]"#).unwrap();
    /// assert_eq!(args.get(1).unwrap().to_json().as_str(), r#"{"n":1}"#);
    /// assert!(sio_core::Args::from_array("{}").is_err());
    /// ```
    pub fn from_array(array: impl Into<ByteString>) -> Result<Self, PacketError> {
        let array = array.into();
        match array_elements(&array)? {
            Some(elements) => Ok(Args::new(array, elements)),
            None => Err(PacketError::InvalidJson("expected a JSON array".into())),
        }
    }

    /// Arguments from a MessagePack array, checked whole (as the decoder checks a packet).
    ///
    /// ```
    /// // ["ok", 1]
    /// let args = sio_core::Args::from_msgpack(vec![0x92, 0xa2, b'o', b'k', 0x01].into()).unwrap();
    /// assert_eq!(args.get(1).unwrap().to_json().as_str(), "1");
    /// assert!(sio_core::Args::from_msgpack(vec![0x92, 0x01].into()).is_err());
    /// ```
    pub fn from_msgpack(array: Bytes) -> Result<Self, PacketError> {
        crate::msgpack::read::check_value(&array)?;
        let elements = crate::msgpack::packet::elements(&array)
            .ok_or_else(|| PacketError::InvalidMsgPack("expected an array".into()))?;
        Ok(Args::msgpack(array, elements))
    }

    /// How many arguments there are.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Argument `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<RawArg> {
        let range = self.elements.get(index)?.clone();
        Some(self.slice(range))
    }

    /// Every argument in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RawArg> + '_ {
        self.elements.iter().map(|range| self.slice(range.clone()))
    }

    /// The parser they came from.
    ///
    /// ```
    /// use sio_core::{Args, Parser};
    /// let json = Args::from_array("[1]").unwrap();
    /// let msgpack = Args::from_msgpack(vec![0x91, 0x01].into()).unwrap();
    /// assert_eq!((json.parser(), msgpack.parser()), (Parser::Json, Parser::MsgPack));
    /// assert_eq!((json.json(), json.msgpack_array()), (Some("[1]"), None));
    /// assert_eq!(msgpack.msgpack_array().map(|a| &a[..]), Some(&[0x91, 0x01][..]));
    /// assert_eq!((json.byte_len(), msgpack.byte_len()), (3, 2));
    /// ```
    pub fn parser(&self) -> Parser {
        match self.array {
            Array::Json(_) => Parser::Json,
            Array::MsgPack(_) => Parser::MsgPack,
        }
    }

    /// The JSON array exactly as it came (for an event, with the name as first element), for
    /// arguments of the JSON parser.
    pub fn json(&self) -> Option<&str> {
        match &self.array {
            Array::Json(text) => Some(text),
            Array::MsgPack(_) => None,
        }
    }

    /// The MessagePack array exactly as it came (for an event, with the name as first
    /// element), for arguments of the MessagePack parser.
    pub fn msgpack_array(&self) -> Option<&Bytes> {
        match &self.array {
            Array::Json(_) => None,
            Array::MsgPack(bytes) => Some(bytes),
        }
    }

    /// The size of the array as it came, in bytes.
    pub fn byte_len(&self) -> usize {
        match &self.array {
            Array::Json(text) => text.len(),
            Array::MsgPack(bytes) => bytes.len(),
        }
    }

    /// The memory they hold: the array, and where each argument stands in it (which, for many
    /// small arguments, is more than the array).
    ///
    /// ```
    /// let args = sio_core::Args::from_array("[1,2,3]").unwrap();
    /// assert!(args.held_bytes() >= args.byte_len() + 3 * 2 * size_of::<usize>());
    /// ```
    pub fn held_bytes(&self) -> usize {
        self.byte_len()
            .saturating_add(self.elements.capacity() * size_of::<Range<usize>>())
    }

    fn slice(&self, range: Range<usize>) -> RawArg {
        match &self.array {
            Array::Json(text) => RawJson::trusted(text.slice_ref(&text[range])).into(),
            Array::MsgPack(bytes) => RawArg::msgpack(bytes.slice(range)),
        }
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An event as decoded: its name and its arguments.
///
/// ```
/// use sio_core::{SocketPacket, PacketDecoder};
/// let packet = PacketDecoder::default()
///     .decode_text(r#"2/chat,17["chat_message",{"text":"hello"}]"#.into())
///     .unwrap()
///     .unwrap();
/// let SocketPacket::Event { event, .. } = packet.packet else { unreachable!() };
/// assert_eq!(event.name(), "chat_message");
/// assert_eq!(event.args().get(0).unwrap().to_json().as_str(), r#"{"text":"hello"}"#);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Event {
    name: ByteString,
    args: Args,
}

impl Event {
    pub(crate) fn new(name: ByteString, args: Args) -> Self {
        Event { name, args }
    }

    /// The event name, unescaped.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event name as shared text: a slice of the packet where it needed no unescaping, so
    /// holding it copies nothing.
    pub fn shared_name(&self) -> ByteString {
        self.name.clone()
    }

    /// The arguments after the name.
    pub fn args(&self) -> &Args {
        &self.args
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("args", &self.args)
            .finish()
    }
}
