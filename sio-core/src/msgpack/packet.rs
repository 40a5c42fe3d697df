//! Socket.IO packets as `socket.io-msgpack-parser` writes them: one MessagePack map per packet,
//! `{type, nsp, data, id}`, binaries inside as `bin`, no attachments.

use std::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;

use super::read::{Cursor, Item, MsgPackError, error};
use super::replay::Replay;
use super::ser::{write_array_len, write_map_len, write_str, write_uint, write_value};
use crate::{AckId, Args, Event, Namespace, PacketError, RESERVED_EVENTS, RawJson, SocketPacket};
use crate::{SocketPacketType, socket_packet::EVENT_SHAPE};

/// How many bytes of a packet besides its `data` its arguments may keep alive: the JavaScript
/// client's packets have fewer than 60 (`type`, `nsp`, `id`, `options`).
const PADDING_KEPT: usize = 256;

impl From<MsgPackError> for PacketError {
    fn from(err: MsgPackError) -> Self {
        PacketError::InvalidMsgPack(err.0)
    }
}

/// The fields of a packet map, as ranges of the frame.
#[derive(Default)]
struct Fields {
    packet_type: Option<Range<usize>>,
    namespace: Option<Range<usize>>,
    data: Option<Range<usize>>,
    id: Option<Range<usize>>,
}

/// Decodes one packet from a binary message. Every value in it is checked (lengths within the
/// message, strings UTF-8, nesting bounded) before any is used; unknown keys (the JavaScript
/// client's `options`) are checked and ignored, and a repeated key is read last, as JavaScript
/// builds the object.
pub(crate) fn decode_packet(frame: &Bytes) -> Result<SocketPacket, PacketError> {
    let mut cursor = Cursor::new(frame);
    let Item::Map(len) = cursor.next()? else {
        return Err(error("a packet is a map").into());
    };
    let mut fields = Fields::default();
    for _ in 0..len {
        let key = cursor.value_bytes()?;
        let start = cursor.position();
        cursor.skip_value()?;
        let value = Some(start..cursor.position());
        match Cursor::new(key).next()? {
            Item::Str("type") => fields.packet_type = value,
            Item::Str("nsp") => fields.namespace = value,
            Item::Str("data") => fields.data = value,
            Item::Str("id") => fields.id = value,
            _ => {}
        }
    }
    if cursor.remaining() > 0 {
        return Err(error(format!("{} bytes after the packet", cursor.remaining())).into());
    }
    let item = |range: &Range<usize>| Cursor::new(&frame[range.clone()]).next();

    let packet_type = match fields.packet_type.as_ref().map(item).transpose()? {
        Some(item) => match integer(item) {
            Some(0) => SocketPacketType::Connect,
            Some(1) => SocketPacketType::Disconnect,
            Some(2) => SocketPacketType::Event,
            Some(3) => SocketPacketType::Ack,
            Some(4) => SocketPacketType::ConnectError,
            _ => return Err(error("`type` is not a packet type (0 to 4)").into()),
        },
        None => return Err(error("no `type`").into()),
    };
    let namespace = match fields.namespace.as_ref().map(item).transpose()? {
        Some(Item::Str(name)) => {
            // What the text form can carry: a namespace never holds `,`, `?` or `#`.
            crate::validate_namespace(name).map_err(|err| error(format!("`nsp`: {err}")))?;
            let shared = frame.slice_ref(name.as_bytes());
            Namespace::from_wire(ByteString::try_from(shared).map_err(|_| error("`nsp`"))?)
        }
        _ => return Err(error("`nsp` is not a namespace (a string starting with `/`)").into()),
    };
    let ack_id = match fields.id.as_ref().map(item).transpose()? {
        None | Some(Item::Nil | Item::Undefined) => None,
        Some(item) => match integer(item).and_then(|id| u64::try_from(id).ok()) {
            Some(id) => Some(AckId(id)),
            None => return Err(error("`id` is not an ack id").into()),
        },
    };
    // The arguments are held while the event waits for its handler: a packet padded beyond
    // them (an unknown key, a repeated one) gives them a buffer of their own rather than keeping
    // the padding alive unaccounted for.
    let data = fields.data.map(|range| {
        if frame.len() - range.len() > PADDING_KEPT {
            Bytes::copy_from_slice(&frame[range])
        } else {
            frame.slice(range)
        }
    });
    let data_item = data
        .as_ref()
        .map(|data| Cursor::new(data).next())
        .transpose()?;
    let invalid = |expected| PacketError::InvalidPayload {
        packet_type,
        expected,
    };
    match packet_type {
        SocketPacketType::Connect => match (data_item, &data) {
            (None | Some(Item::Nil | Item::Undefined), _) => Ok(SocketPacket::Connect {
                namespace,
                data: None,
            }),
            (Some(Item::Map(_)), Some(data)) => Ok(SocketPacket::Connect {
                namespace,
                data: Some(to_json(data)?),
            }),
            _ => Err(invalid("an object or nothing")),
        },
        SocketPacketType::Disconnect => match data_item {
            None | Some(Item::Nil | Item::Undefined) => Ok(SocketPacket::Disconnect { namespace }),
            _ => Err(invalid("no payload")),
        },
        SocketPacketType::ConnectError => match (data_item, &data) {
            (Some(Item::Map(_) | Item::Str(_)), Some(data)) => Ok(SocketPacket::ConnectError {
                namespace,
                data: to_json(data)?,
            }),
            _ => Err(invalid("an object or a string")),
        },
        SocketPacketType::Event => {
            let data = data.ok_or(invalid(EVENT_SHAPE))?;
            let mut elements = elements(&data).ok_or(invalid(EVENT_SHAPE))?;
            if elements.is_empty() {
                return Err(invalid(EVENT_SHAPE));
            }
            let name_range = elements.remove(0);
            let name = match Cursor::new(&data[name_range]).next()? {
                Item::Str(name) => ByteString::try_from(data.slice_ref(name.as_bytes()))
                    .map_err(|_| invalid(EVENT_SHAPE))?,
                Item::Uint(number) => ByteString::from(number.to_string()),
                Item::Int(number) => ByteString::from(number.to_string()),
                _ => return Err(invalid(EVENT_SHAPE)),
            };
            if RESERVED_EVENTS.contains(&&*name) {
                return Err(PacketError::ReservedEventName(name.to_string()));
            }
            Ok(SocketPacket::Event {
                namespace,
                ack_id,
                event: Event::new(name, Args::msgpack(data, elements)),
                attachments: None,
            })
        }
        SocketPacketType::Ack => {
            let ack_id = ack_id.ok_or(invalid("an ack id before the arguments"))?;
            let data = data.ok_or(invalid("an array of arguments"))?;
            let elements = elements(&data).ok_or(invalid("an array of arguments"))?;
            Ok(SocketPacket::Ack {
                namespace,
                ack_id,
                args: Args::msgpack(data, elements),
                attachments: None,
            })
        }
        SocketPacketType::BinaryEvent | SocketPacketType::BinaryAck => {
            unreachable!("`type` is 0 to 4")
        }
    }
}

/// A whole number, as JavaScript's `Number.isInteger` sees one.
fn integer(item: Item<'_>) -> Option<i64> {
    match item {
        Item::Uint(value) => i64::try_from(value).ok(),
        Item::Int(value) => Some(value),
        Item::F64(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Some(value as i64),
        Item::F32(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Some(value as i64),
        _ => None,
    }
}

/// Where each element of the array `data` stands, or `None` if it is not an array. `data` was
/// checked, or written by this crate: its depth is not bounded again.
pub(crate) fn elements(data: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut cursor = Cursor::new(data);
    let Ok(Item::Array(len)) = cursor.next() else {
        return None;
    };
    // Exactly: `len` is within the bytes that arrived.
    let mut elements = Vec::with_capacity(len);
    for _ in 0..len {
        let start = cursor.position();
        cursor.skip_within(usize::MAX).ok()?;
        elements.push(start..cursor.position());
    }
    Some(elements)
}

/// A checked MessagePack value as JSON: binaries become arrays of numbers.
pub(crate) fn to_json(value: &[u8]) -> Result<RawJson, MsgPackError> {
    let mut out = Vec::with_capacity(value.len() * 2);
    Replay::serialize_value(value, &mut serde_json::Serializer::new(&mut out))
        .map_err(|err| error(err.to_string()))?;
    let text = String::from_utf8(out).map_err(|_| error("JSON that is not UTF-8"))?;
    Ok(RawJson::trusted(ByteString::from(text)))
}

/// The `type` a packet map carries: the text parser's digit, binary forms folded in.
fn type_number(packet_type: SocketPacketType) -> u64 {
    match packet_type {
        SocketPacketType::Connect => 0,
        SocketPacketType::Disconnect => 1,
        SocketPacketType::Event | SocketPacketType::BinaryEvent => 2,
        SocketPacketType::Ack | SocketPacketType::BinaryAck => 3,
        SocketPacketType::ConnectError => 4,
    }
}

/// Writes the start of a packet map of `entries` entries: `type`, `nsp` and `id` if any, then
/// the key `data` when `with_data` (its value is the caller's to write).
pub(crate) fn write_head(
    out: &mut Vec<u8>,
    packet_type: SocketPacketType,
    namespace: &Namespace,
    ack_id: Option<AckId>,
    with_data: bool,
) {
    write_map_len(
        out,
        2 + usize::from(ack_id.is_some()) + usize::from(with_data),
    );
    write_str(out, "type");
    write_uint(out, type_number(packet_type));
    write_str(out, "nsp");
    write_str(out, namespace.as_str());
    if let Some(AckId(id)) = ack_id {
        write_str(out, "id");
        write_uint(out, id);
    }
    if with_data {
        write_str(out, "data");
    }
}

/// Encodes `packet` as one MessagePack map. Arguments decoded from MessagePack are copied as
/// they came; JSON ones are re-encoded (their placeholders, if any, stay objects: a packet with
/// attachments is encoded through [`PacketEncoder`](crate::PacketEncoder)).
pub(crate) fn encode_packet(packet: &SocketPacket) -> Bytes {
    let mut out = Vec::with_capacity(64);
    let (ack_id, data): (Option<AckId>, Option<Data<'_>>) = match packet {
        SocketPacket::Connect { data, .. } => (None, data.as_ref().map(Data::Json)),
        SocketPacket::Disconnect { .. } => (None, None),
        SocketPacket::Event { ack_id, event, .. } => (*ack_id, Some(Data::Args(event.args()))),
        SocketPacket::Ack { ack_id, args, .. } => (Some(*ack_id), Some(Data::Args(args))),
        SocketPacket::ConnectError { data, .. } => (None, Some(Data::Json(data))),
    };
    write_head(
        &mut out,
        packet.packet_type(),
        packet.namespace(),
        ack_id,
        data.is_some(),
    );
    match data {
        None => {}
        Some(Data::Args(args)) => match args.msgpack_array() {
            Some(bytes) => out.extend_from_slice(bytes),
            None => write_json(&mut out, args.json().unwrap_or("[]")),
        },
        Some(Data::Json(json)) => write_json(&mut out, json.as_str()),
    }
    Bytes::from(out)
}

enum Data<'a> {
    Args(&'a Args),
    Json(&'a RawJson),
}

fn write_json(out: &mut Vec<u8>, json: &str) {
    // JSON the decoder checked or serde wrote always re-encodes.
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let _ = write_value(out, &value);
}

/// The packet `frame` with its namespace replaced and, if given, `last_arg` (one encoded
/// value) appended to its `data` array; every other entry is copied as it is. `None` if
/// `frame` is not a packet map.
pub(crate) fn rewrite(
    frame: &[u8],
    namespace: Option<&Namespace>,
    last_arg: Option<&[u8]>,
) -> Option<Vec<u8>> {
    let mut cursor = Cursor::new(frame);
    let Ok(Item::Map(len)) = cursor.next() else {
        return None;
    };
    let mut out = Vec::with_capacity(frame.len() + 32);
    write_map_len(&mut out, len);
    for _ in 0..len {
        // The server's own packet: as deep as its values go.
        let key = cursor.trusted_value_bytes().ok()?;
        let value = cursor.trusted_value_bytes().ok()?;
        out.extend_from_slice(key);
        match (Cursor::new(key).next().ok()?, namespace, last_arg) {
            (Item::Str("nsp"), Some(namespace), _) => write_str(&mut out, namespace.as_str()),
            (Item::Str("data"), _, Some(arg)) => {
                let mut data = Cursor::new(value);
                let Ok(Item::Array(count)) = data.next() else {
                    return None;
                };
                write_array_len(&mut out, count + 1);
                out.extend_from_slice(&value[data.position()..]);
                out.extend_from_slice(arg);
            }
            _ => out.extend_from_slice(value),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of `{"type":2,"nsp":"/","data":["hi",bin[1,2]],"options":{"compress":true},"id":7}`
    /// as socket.io-client with socket.io-msgpack-parser sends them (notepack.io 2.2).
    fn client_event() -> Bytes {
        let mut b = vec![0x85, 0xa4];
        b.extend_from_slice(b"type");
        b.extend_from_slice(&[0x02, 0xa4]);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&[0x92, 0xa2, b'h', b'i', 0xc4, 0x02, 1, 2, 0xa7]);
        b.extend_from_slice(b"options");
        b.extend_from_slice(&[0x81, 0xa8]);
        b.extend_from_slice(b"compress");
        b.extend_from_slice(&[0xc3, 0xa2, b'i', b'd', 0x07, 0xa3]);
        b.extend_from_slice(b"nsp");
        b.extend_from_slice(&[0xa1, b'/']);
        Bytes::from(b)
    }

    #[test]
    fn a_client_event_decodes_with_its_name_ack_and_binary() {
        let SocketPacket::Event {
            namespace,
            ack_id,
            event,
            ..
        } = decode_packet(&client_event()).unwrap()
        else {
            panic!("an event")
        };
        assert!(namespace.is_root());
        assert_eq!(ack_id, Some(AckId(7)));
        assert_eq!(event.name(), "hi");
        assert_eq!(event.args().len(), 1);
    }

    #[test]
    fn what_the_javascript_parser_refuses_is_refused() {
        let packet = |fields: &[(&str, &[u8])]| {
            let mut b = Vec::new();
            write_map_len(&mut b, fields.len());
            for (key, value) in fields {
                write_str(&mut b, key);
                b.extend_from_slice(value);
            }
            decode_packet(&Bytes::from(b))
        };
        let root: &[u8] = &[0xa1, b'/'];
        assert!(
            packet(&[("type", &[0x05]), ("nsp", root)]).is_err(),
            "type 5"
        );
        assert!(packet(&[("type", &[0x01])]).is_err(), "no nsp");
        assert!(packet(&[("type", &[0x02]), ("nsp", root), ("data", &[0x90])]).is_err());
        assert!(packet(&[("type", &[0x02]), ("nsp", root), ("data", &[0xc0])]).is_err());
        assert!(packet(&[("type", &[0x03]), ("nsp", root), ("data", &[0x90])]).is_err());
        assert!(packet(&[("type", &[0x00]), ("nsp", root), ("data", &[0x90])]).is_err());
        assert!(packet(&[("type", &[0x01]), ("nsp", &[0xa1, b'x'])]).is_err());
        let reserved = [0x91, 0xa7, b'c', b'o', b'n', b'n', b'e', b'c', b't'];
        assert!(matches!(
            packet(&[("type", &[0x02]), ("nsp", root), ("data", &reserved)]),
            Err(PacketError::ReservedEventName(_))
        ));
        // python-socketio writes an absent payload as nil.
        assert!(packet(&[("type", &[0x00]), ("nsp", root), ("data", &[0xc0])]).is_ok());
        // A float type that is whole is an integer to JavaScript.
        let two = [0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0];
        assert!(packet(&[("type", &two), ("nsp", root), ("data", &[0x91, 0x01])]).is_ok());
    }

    #[test]
    fn arguments_keep_the_packet_alive_only_when_it_is_mostly_them() {
        let event = |padding: usize| {
            let mut b = Vec::new();
            write_map_len(&mut b, 4);
            write_str(&mut b, "type");
            write_uint(&mut b, 2);
            write_str(&mut b, "nsp");
            write_str(&mut b, "/");
            write_str(&mut b, "options");
            write_str(&mut b, &"x".repeat(padding));
            write_str(&mut b, "data");
            b.extend_from_slice(&[0x91, 0xa2, b'h', b'i']);
            Bytes::from(b)
        };
        let shares = |frame: &Bytes| {
            let SocketPacket::Event { event, .. } = decode_packet(frame).unwrap() else {
                panic!("an event")
            };
            let args = event.args().msgpack_array().unwrap().as_ptr() as usize;
            let start = frame.as_ptr() as usize;
            (start..start + frame.len()).contains(&args)
        };
        assert!(shares(&event(10)), "a client's packet is not copied");
        assert!(
            !shares(&event(10_000)),
            "padding is not kept alive by the arguments"
        );
    }

    #[test]
    fn connect_auth_becomes_json() {
        // {"type":0,"nsp":"/chat","data":{"token":"t"}}
        let mut b = Vec::new();
        write_map_len(&mut b, 3);
        write_str(&mut b, "type");
        write_uint(&mut b, 0);
        write_str(&mut b, "nsp");
        write_str(&mut b, "/chat");
        write_str(&mut b, "data");
        write_map_len(&mut b, 1);
        write_str(&mut b, "token");
        write_str(&mut b, "t");
        let SocketPacket::Connect { namespace, data } = decode_packet(&Bytes::from(b)).unwrap()
        else {
            panic!("a connect")
        };
        assert_eq!(namespace.as_str(), "/chat");
        assert_eq!(data.unwrap().as_str(), r#"{"token":"t"}"#);
    }

    #[test]
    fn packets_round_trip_and_rewrite() {
        let decoded = decode_packet(&client_event()).unwrap();
        let encoded = encode_packet(&decoded);
        assert_eq!(decode_packet(&encoded).unwrap(), decoded);
        let chat = Namespace::new("/chat").unwrap();
        let mut offset = Vec::new();
        write_str(&mut offset, "o1");
        let moved = Bytes::from(rewrite(&encoded, Some(&chat), Some(&offset)).unwrap());
        let SocketPacket::Event {
            namespace, event, ..
        } = decode_packet(&moved).unwrap()
        else {
            panic!("an event")
        };
        assert_eq!(namespace, chat);
        assert_eq!(event.args().len(), 2);
        assert_eq!(event.args().get(1).unwrap().to_json().as_str(), r#""o1""#);
    }
}
