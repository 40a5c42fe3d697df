//! Socket.IO v5 packets: `<type>[<attachments>-][<namespace>,][<ack id>][JSON]`.

use bytestring::ByteString;

use crate::raw_json::array_elements;
use crate::{AckId, Args, Event, Frame, Namespace, PacketError, Parser, RESERVED_EVENTS, RawJson};

/// The type digit of a Socket.IO packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketPacketType {
    /// `0`: connect to a namespace (client), or its acceptance (server).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event.
    Event,
    /// `3`: the answer to an event that asked for one.
    Ack,
    /// `4`: a refused connect.
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an ack with binary attachments.
    BinaryAck,
}

impl SocketPacketType {
    fn from_digit(byte: u8) -> Option<Self> {
        Some(match byte {
            b'0' => SocketPacketType::Connect,
            b'1' => SocketPacketType::Disconnect,
            b'2' => SocketPacketType::Event,
            b'3' => SocketPacketType::Ack,
            b'4' => SocketPacketType::ConnectError,
            b'5' => SocketPacketType::BinaryEvent,
            b'6' => SocketPacketType::BinaryAck,
            _ => return None,
        })
    }

    fn digit(self) -> char {
        match self {
            SocketPacketType::Connect => '0',
            SocketPacketType::Disconnect => '1',
            SocketPacketType::Event => '2',
            SocketPacketType::Ack => '3',
            SocketPacketType::ConnectError => '4',
            SocketPacketType::BinaryEvent => '5',
            SocketPacketType::BinaryAck => '6',
        }
    }
}

/// A Socket.IO packet.
///
/// `attachments` is `Some(n)` for the binary forms (BINARY_EVENT, BINARY_ACK), whose JSON holds
/// `n` placeholders for the binary frames that follow it.
///
/// ```
/// use sio_core::{Namespace, SocketPacket};
/// let packet = SocketPacket::Disconnect { namespace: Namespace::new("/admin").unwrap() };
/// assert_eq!(packet.encode().as_text(), Some("41/admin,"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SocketPacket {
    /// CONNECT, with the client's auth object or the server's `{"sid":..}`.
    Connect {
        /// The namespace.
        namespace: Namespace,
        /// The JSON object, if any.
        data: Option<RawJson>,
    },
    /// DISCONNECT.
    Disconnect {
        /// The namespace.
        namespace: Namespace,
    },
    /// EVENT or BINARY_EVENT.
    Event {
        /// The namespace.
        namespace: Namespace,
        /// Present when the sender waits for an ACK.
        ack_id: Option<AckId>,
        /// The name and arguments.
        event: Event,
        /// `Some` for BINARY_EVENT: how many binary frames follow.
        attachments: Option<usize>,
    },
    /// ACK or BINARY_ACK.
    Ack {
        /// The namespace.
        namespace: Namespace,
        /// The id of the event answered.
        ack_id: AckId,
        /// The answer's arguments.
        args: Args,
        /// `Some` for BINARY_ACK: how many binary frames follow.
        attachments: Option<usize>,
    },
    /// CONNECT_ERROR, with `{"message":..,"data":..}` (or a bare string from old peers).
    ConnectError {
        /// The namespace.
        namespace: Namespace,
        /// The JSON payload.
        data: RawJson,
    },
}

impl SocketPacket {
    /// The packet type as it goes on the wire.
    pub fn packet_type(&self) -> SocketPacketType {
        match self {
            SocketPacket::Connect { .. } => SocketPacketType::Connect,
            SocketPacket::Disconnect { .. } => SocketPacketType::Disconnect,
            SocketPacket::Event {
                attachments: None, ..
            } => SocketPacketType::Event,
            SocketPacket::Event { .. } => SocketPacketType::BinaryEvent,
            SocketPacket::Ack {
                attachments: None, ..
            } => SocketPacketType::Ack,
            SocketPacket::Ack { .. } => SocketPacketType::BinaryAck,
            SocketPacket::ConnectError { .. } => SocketPacketType::ConnectError,
        }
    }

    /// The namespace the packet belongs to.
    pub fn namespace(&self) -> &Namespace {
        match self {
            SocketPacket::Connect { namespace, .. }
            | SocketPacket::Disconnect { namespace }
            | SocketPacket::Event { namespace, .. }
            | SocketPacket::Ack { namespace, .. }
            | SocketPacket::ConnectError { namespace, .. } => namespace,
        }
    }

    /// How many binary frames follow this packet.
    pub fn attachments(&self) -> usize {
        match self {
            SocketPacket::Event { attachments, .. } | SocketPacket::Ack { attachments, .. } => {
                attachments.unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Encodes the packet, inside its Engine.IO `message` frame (the leading `4`).
    ///
    /// JSON is written exactly as held, so a decoded packet re-encodes to the bytes it came from
    /// (except for the forms the decoder accepts but never writes, such as `1/admin` without its
    /// comma). Binary attachments, if any, are separate frames the caller sends after this one.
    pub fn encode(&self) -> Frame {
        let args_json = |args: &Args| match args.json() {
            Some(json) => json.to_owned(),
            // Arguments that came as MessagePack, sent to a JSON client.
            None => crate::msgpack::packet::to_json(args.msgpack_array().map_or(&[][..], |a| a))
                .map_or_else(|_| "[]".to_owned(), |json| json.as_str().to_owned()),
        };
        let (ack_id, json) = match self {
            SocketPacket::Connect { data, .. } => {
                (None, data.as_ref().map(|d| d.as_str().to_owned()))
            }
            SocketPacket::Disconnect { .. } => (None, None),
            SocketPacket::Event { ack_id, event, .. } => (*ack_id, Some(args_json(event.args()))),
            SocketPacket::Ack { ack_id, args, .. } => (Some(*ack_id), Some(args_json(args))),
            SocketPacket::ConnectError { data, .. } => (None, Some(data.as_str().to_owned())),
        };
        let json = json.as_deref().unwrap_or("");
        let namespace = self.namespace();
        let capacity = 24 + namespace.as_str().len() + json.len();
        let mut text = String::with_capacity(capacity);
        write_header(
            &mut text,
            self.packet_type(),
            self.attachments(),
            namespace,
            ack_id,
        );
        text.push_str(json);
        Frame::Text(ByteString::from(text))
    }
}

impl SocketPacket {
    /// Encodes the packet for `parser`'s clients: as [`encode`](Self::encode) does for the JSON
    /// parser, or as one binary MessagePack message.
    ///
    /// ```
    /// use sio_core::{Namespace, Parser, SocketPacket};
    /// let packet = SocketPacket::Disconnect { namespace: Namespace::root() };
    /// // {"type": 1, "nsp": "/"}
    /// let expected = [0x82, 0xa4, b't', b'y', b'p', b'e', 0x01, 0xa3, b'n', b's', b'p', 0xa1, b'/'];
    /// assert_eq!(packet.encode_as(Parser::MsgPack).as_binary().unwrap(), &expected[..]);
    /// ```
    pub fn encode_as(&self, parser: Parser) -> Frame {
        match parser {
            Parser::Json => self.encode(),
            Parser::MsgPack => Frame::Binary(crate::msgpack::packet::encode_packet(self)),
        }
    }
}

/// Writes `4<type>[<n>-][<nsp>,][<id>]`: everything of a packet before its JSON.
pub(crate) fn write_header(
    out: &mut String,
    packet_type: SocketPacketType,
    attachments: usize,
    namespace: &Namespace,
    ack_id: Option<AckId>,
) {
    out.push('4');
    out.push(packet_type.digit());
    if matches!(
        packet_type,
        SocketPacketType::BinaryEvent | SocketPacketType::BinaryAck
    ) {
        push_decimal(out, attachments as u64);
        out.push('-');
    }
    if !namespace.is_root() {
        out.push_str(namespace.as_str());
        out.push(',');
    }
    if let Some(AckId(id)) = ack_id {
        push_decimal(out, id);
    }
}

/// Appends `n` in decimal: every ack and binary packet's header has a number, and `write!`'s
/// formatting machinery costs more than the digits.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// Decodes one Socket.IO packet from an Engine.IO message's text (without the leading `4`).
///
/// Attachments are not collected here; [`PacketDecoder`](crate::PacketDecoder) does that.
pub(crate) fn decode_packet(text: &ByteString) -> Result<SocketPacket, PacketError> {
    let bytes = text.as_bytes();
    let first = *bytes.first().ok_or(PacketError::EmptyPacket)?;
    let packet_type = SocketPacketType::from_digit(first)
        .ok_or_else(|| PacketError::UnknownPacketType(text.chars().next().unwrap_or_default()))?;
    let mut cursor = 1;

    let attachments = match packet_type {
        SocketPacketType::BinaryEvent | SocketPacketType::BinaryAck => {
            let digits = count_digits(&bytes[cursor..]);
            if digits == 0 || bytes.get(cursor + digits) != Some(&b'-') {
                return Err(PacketError::InvalidAttachmentCount);
            }
            let count = text[cursor..cursor + digits]
                .parse::<usize>()
                .map_err(|_| PacketError::InvalidAttachmentCount)?;
            cursor += digits + 1;
            Some(count)
        }
        _ => None,
    };

    let namespace = if bytes.get(cursor) == Some(&b'/') {
        let end = bytes[cursor..]
            .iter()
            .position(|&b| b == b',')
            .map_or(bytes.len(), |offset| cursor + offset);
        let namespace = text.slice_ref(&text[cursor..end]);
        cursor = (end + 1).min(bytes.len());
        Namespace::from_wire(namespace)
    } else {
        Namespace::root()
    };

    let digits = count_digits(&bytes[cursor..]);
    let ack_id = if digits > 0 {
        let id = text[cursor..cursor + digits]
            .parse::<u64>()
            .map_err(|_| PacketError::AckIdOverflow)?;
        cursor += digits;
        Some(AckId(id))
    } else {
        None
    };

    let json = (cursor < bytes.len()).then(|| text.slice_ref(&text[cursor..]));
    build_packet(packet_type, namespace, attachments, ack_id, json)
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

pub(crate) const EVENT_SHAPE: &str =
    "a non-empty array starting with the event name (a string or a number)";
const ACK_SHAPE: &str = "an array of arguments";

fn build_packet(
    packet_type: SocketPacketType,
    namespace: Namespace,
    attachments: Option<usize>,
    ack_id: Option<AckId>,
    json: Option<ByteString>,
) -> Result<SocketPacket, PacketError> {
    let invalid = |expected| PacketError::InvalidPayload {
        packet_type,
        expected,
    };
    match packet_type {
        SocketPacketType::Connect => {
            let data = json.map(RawJson::new).transpose()?;
            if data.as_ref().is_some_and(|d| d.first_byte() != Some(b'{')) {
                return Err(invalid("an object or nothing"));
            }
            Ok(SocketPacket::Connect { namespace, data })
        }
        SocketPacketType::Disconnect => match json {
            None => Ok(SocketPacket::Disconnect { namespace }),
            Some(_) => Err(invalid("no payload")),
        },
        SocketPacketType::ConnectError => {
            let data = RawJson::new(json.ok_or(invalid("an object or a string"))?)?;
            if !matches!(data.first_byte(), Some(b'{' | b'"')) {
                return Err(invalid("an object or a string"));
            }
            Ok(SocketPacket::ConnectError { namespace, data })
        }
        SocketPacketType::Event | SocketPacketType::BinaryEvent => {
            let array = json.ok_or(invalid(EVENT_SHAPE))?;
            let mut elements = array_elements(&array)?.ok_or(invalid(EVENT_SHAPE))?;
            if elements.is_empty() {
                return Err(invalid(EVENT_SHAPE));
            }
            let name_range = elements.remove(0);
            let name = event_name(&array, &array[name_range]).ok_or(invalid(EVENT_SHAPE))?;
            if RESERVED_EVENTS.contains(&&*name) {
                return Err(PacketError::ReservedEventName(name.to_string()));
            }
            Ok(SocketPacket::Event {
                namespace,
                ack_id,
                event: Event::new(name, Args::new(array, elements)),
                attachments,
            })
        }
        SocketPacketType::Ack | SocketPacketType::BinaryAck => {
            let ack_id = ack_id.ok_or(invalid("an ack id before the arguments"))?;
            let array = json.ok_or(invalid(ACK_SHAPE))?;
            let elements = array_elements(&array)?.ok_or(invalid(ACK_SHAPE))?;
            Ok(SocketPacket::Ack {
                namespace,
                ack_id,
                args: Args::new(array, elements),
                attachments,
            })
        }
    }
}

/// The unescaped event name from its JSON string, sharing `array`'s bytes when it has no escapes.
/// A number is a name too, as the reference parser accepts it: its text.
fn event_name(array: &ByteString, json: &str) -> Option<ByteString> {
    if json.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Some(array.slice_ref(json));
    }
    if let Ok(borrowed) = serde_json::from_str::<&str>(json) {
        return Some(array.slice_ref(borrowed));
    }
    serde_json::from_str::<String>(json)
        .ok()
        .map(ByteString::from)
}

#[cfg(test)]
mod tests {
    use super::push_decimal;

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        for n in [0, 7, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut out = String::from("43");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("43{n}"));
        }
    }
}
