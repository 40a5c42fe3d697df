//! The adapter's wire forms: packets as MessagePack objects (binaries as `bin`), and their
//! conversion to and from the Socket.IO text-plus-attachments form sio's sockets send.

use bytes::Bytes;
use rmpv::Value;
use sio_core::{
    AckId, Args, EncodedPacket, Frame, Namespace, PacketDecoder, PacketEncoder, Parser, RawJson,
    SocketPacket,
};

/// A message the adapter's peers sent that this layer cannot use.
#[derive(Debug)]
pub(crate) struct WireError(pub(crate) String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn error(message: impl Into<String>) -> WireError {
    WireError(message.into())
}

/// The `socket.io-parser` EVENT type, the only packet type the adapter broadcasts.
const EVENT: u8 = 2;
/// BINARY_EVENT: not sent by the adapter (binaries travel as `bin`), accepted all the same.
const BINARY_EVENT: u8 = 5;

/// A message from the channels: JSON when it starts with `{`, MessagePack otherwise, as the
/// adapter reads it.
pub(crate) fn decode_message(bytes: &[u8]) -> Result<Value, WireError> {
    if bytes.first() == Some(&b'{') {
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|err| error(format!("invalid JSON: {err}")))?;
        Ok(from_json(json, &[]))
    } else {
        read_value(bytes)
    }
}

/// One MessagePack value, notepack's `ArrayBuffer`s read as `bin`: rmpv would write them back
/// as the fixext that notepack reads as `undefined` or a `Date` (1 or 8 bytes).
fn read_value(bytes: &[u8]) -> Result<Value, WireError> {
    let bytes = sio_core::notepack_buffers_as_bin(bytes)
        .map_err(|err| error(format!("invalid MessagePack: {err}")))?;
    rmpv::decode::read_value(&mut &bytes[..])
        .map_err(|err| error(format!("invalid MessagePack: {err}")))
}

/// MessagePack bytes of `value`.
pub(crate) fn encode_message(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(128);
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut bytes, value);
    bytes
}

/// The field `key` of a map.
pub(crate) fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_map()?
        .iter()
        .find(|(name, _)| name.as_str() == Some(key))
        .map(|(_, value)| value)
}

/// A map with string keys.
pub(crate) fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(key, value)| (Value::from(key), value))
            .collect(),
    )
}

/// A packet object as the adapter publishes it: `{type, data, nsp}`, `data` being the event
/// name then its arguments.
pub(crate) fn packet_object(namespace: &Namespace, data: Value) -> Value {
    object(vec![
        ("type", Value::from(EVENT)),
        ("data", data),
        ("nsp", Value::from(namespace.as_str())),
    ])
}

/// The `data` array of an encoded event (name first), its attachments back in place as `bin`.
pub(crate) fn event_data(packet: &EncodedPacket) -> Result<Value, WireError> {
    let text = match &packet.text {
        Frame::Text(text) => text,
        // A MessagePack packet: its `data` is already the array the adapter publishes, each
        // value (notepack's extensions included) carried as it is.
        Frame::Binary(bytes) => {
            let packet = read_value(bytes)?;
            return field(&packet, "data")
                .cloned()
                .ok_or_else(|| error("packet without data"));
        }
    };
    // The frame is an Engine.IO message: `4`, then the Socket.IO packet.
    let text = text
        .strip_prefix('4')
        .ok_or_else(|| error("not an Engine.IO message"))?;
    let mut decoder = PacketDecoder::new(packet.attachments.len());
    let mut decoded = decoder
        .decode_text(text.to_owned().into())
        .map_err(|err| error(err.to_string()))?;
    for attachment in &packet.attachments {
        decoded = decoder
            .decode_binary(attachment.clone())
            .map_err(|err| error(err.to_string()))?;
    }
    let decoded = decoded.ok_or_else(|| error("attachments missing"))?;
    let SocketPacket::Event { event, .. } = decoded.packet else {
        return Err(error("not an event"));
    };
    json_to_value(event.args().json().unwrap_or("[]"), &decoded.attachments)
}

/// Encodes a received packet object's event for this process's sockets, asking for ack
/// `ack_id` if given. Returns the namespace it names (`/` when absent) and the packet.
pub(crate) fn encode_event(
    packet: &Value,
    ack_id: Option<AckId>,
    parser: Parser,
) -> Result<(Namespace, EncodedPacket), WireError> {
    let namespace = match field(packet, "nsp").and_then(Value::as_str) {
        Some(name) => Namespace::new(name.to_owned()).map_err(|err| error(err.to_string()))?,
        None => Namespace::root(),
    };
    let encoded = encode_event_in(packet, &namespace, ack_id, parser)?;
    Ok((namespace, encoded))
}

/// Encodes a received packet object's event for this process's sockets of `namespace` (in
/// their `parser`'s format), asking for ack `ack_id` if given, whatever namespace the object
/// names (Node's cluster adapter publishes packets before it sets one).
pub(crate) fn encode_event_in(
    packet: &Value,
    namespace: &Namespace,
    ack_id: Option<AckId>,
    parser: Parser,
) -> Result<EncodedPacket, WireError> {
    let kind = field(packet, "type").and_then(Value::as_u64);
    if kind != Some(EVENT.into()) && kind != Some(BINARY_EVENT.into()) {
        return Err(error(format!("packet type {kind:?} is not an event")));
    }
    let data = field(packet, "data")
        .and_then(Value::as_array)
        .ok_or_else(|| error("packet without a data array"))?;
    let (name, args) = data
        .split_first()
        .ok_or_else(|| error("event without a name"))?;
    let name = name
        .as_str()
        .ok_or_else(|| error("event name is not a string"))?;
    if parser == Parser::MsgPack {
        // The arguments go as they came, MessagePack to MessagePack.
        let args = Args::from_msgpack(encode_message(&Value::Array(args.to_vec())).into())
            .map_err(|err| error(err.to_string()))?;
        let mut encoder = PacketEncoder::new_event(parser, namespace, ack_id, name);
        encoder
            .raw_args(&args.iter().collect::<Vec<_>>(), &[])
            .map_err(|err| error(err.to_string()))?;
        return Ok(encoder.finish());
    }
    let mut encoder = PacketEncoder::event(namespace, ack_id, name);
    let mut attachments = Vec::new();
    let mut raw = Vec::with_capacity(args.len());
    for arg in args {
        let mut json = String::new();
        write_json(arg, &mut json, &mut attachments);
        raw.push(
            RawJson::new(json)
                .map_err(|err| error(err.to_string()))?
                .into(),
        );
    }
    encoder
        .raw_args(&raw, &attachments)
        .map_err(|err| error(err.to_string()))?;
    Ok(encoder.finish())
}

/// The first argument of an answer (an ack, a server-side event's reply): what Node's adapters
/// relay to the process that asked.
pub(crate) fn first_argument(reply: &sio_server::AckResponse) -> Value {
    let Some(first) = reply.raw(0) else {
        return Value::Nil;
    };
    match (first.as_json(), first.as_msgpack()) {
        (Some(json), _) => json_to_value(json.as_str(), reply.attachments()).ok(),
        (None, Some(bytes)) => read_value(bytes).ok(),
        (None, None) => None,
    }
    .unwrap_or(Value::Nil)
}

/// A JSON value whose `{"_placeholder":true,"num":n}` objects stand for `attachments[n]`.
pub(crate) fn json_to_value(json: &str, attachments: &[Bytes]) -> Result<Value, WireError> {
    let json: serde_json::Value =
        serde_json::from_str(json).map_err(|err| error(format!("invalid JSON: {err}")))?;
    Ok(from_json(json, attachments))
}

/// The MessagePack value of a JSON value, placeholders replaced by their attachments.
fn from_json(json: serde_json::Value, attachments: &[Bytes]) -> Value {
    use serde_json::Value as Json;
    match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(b),
        Json::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u),
            (_, Some(i), _) => Value::from(i),
            (_, _, f) => Value::F64(f.unwrap_or_default()),
        },
        Json::String(s) => Value::from(s),
        Json::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| from_json(item, attachments))
                .collect(),
        ),
        Json::Object(map) => {
            if map.get("_placeholder") == Some(&Json::Bool(true))
                && let Some(buffer) = map
                    .get("num")
                    .and_then(Json::as_u64)
                    .and_then(|num| attachments.get(usize::try_from(num).ok()?))
            {
                return Value::Binary(buffer.to_vec());
            }
            Value::Map(
                map.into_iter()
                    .map(|(key, item)| (Value::from(key), from_json(item, attachments)))
                    .collect(),
            )
        }
    }
}

/// Writes `value` as JSON; each `bin` becomes a placeholder and its bytes an attachment.
/// MessagePack has more than JSON: a non-string key is written as text, an extension (such as
/// notepack's `undefined` or `Date`) and a non-finite number as `null`.
pub(crate) fn write_json(value: &Value, out: &mut String, attachments: &mut Vec<Bytes>) {
    match value {
        Value::Nil | Value::Ext(..) => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(n) => out.push_str(&n.to_string()),
        Value::F32(n) => write_float(f64::from(*n), out),
        Value::F64(n) => write_float(*n, out),
        Value::String(s) => write_string(&String::from_utf8_lossy(s.as_bytes()), out),
        Value::Binary(bytes) => {
            out.push_str(&format!(
                r#"{{"_placeholder":true,"num":{}}}"#,
                attachments.len()
            ));
            attachments.push(Bytes::copy_from_slice(bytes));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out, attachments);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match key {
                    Value::String(s) => write_string(&String::from_utf8_lossy(s.as_bytes()), out),
                    other => {
                        let mut text = String::new();
                        write_json(other, &mut text, &mut Vec::new());
                        write_string(&text, out);
                    }
                }
                out.push(':');
                write_json(item, out, attachments);
            }
            out.push('}');
        }
    }
}

fn write_float(n: f64, out: &mut String) {
    match serde_json::Number::from_f64(n) {
        Some(number) => out.push_str(&number.to_string()),
        None => out.push_str("null"),
    }
}

fn write_string(s: &str, out: &mut String) {
    // Serializing a str into a String cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Broadcast options as the adapter publishes them: `{rooms, except, flags}`.
pub(crate) fn broadcast_opts(
    target: &sio_server::broadcast::Target,
    flags: Vec<(&str, Value)>,
) -> Value {
    object(vec![
        ("rooms", room_array(&target.rooms)),
        ("except", room_array(&target.except)),
        ("flags", object(flags)),
    ])
}

/// Room names as an array of strings.
pub(crate) fn room_array(rooms: &[sio_server::Room]) -> Value {
    Value::Array(
        rooms
            .iter()
            .map(|room| Value::from(room.as_str()))
            .collect(),
    )
}

/// A room name as peers send it: a string, or a number for Node's numeric rooms.
pub(crate) fn room_names(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => s.as_str().map(str::to_owned),
                    Value::Integer(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_with_binary_round_trips_through_the_adapter_form() {
        let chat = Namespace::new("/chat").unwrap();
        let mut encoder = PacketEncoder::event(&chat, None, "file");
        encoder
            .arg(&serde_json::json!({"name": "a", "n": 1.5, "list": [1, -2, null]}))
            .unwrap()
            .arg(&Bytes::from_static(&[1, 2, 3]))
            .unwrap();
        let packet = encoder.finish();
        let data = event_data(&packet).unwrap();
        assert_eq!(data.as_array().unwrap()[2], Value::Binary(vec![1, 2, 3]));
        let object = packet_object(&chat, data);
        let bytes = encode_message(&object);
        let (namespace, again) =
            encode_event(&decode_message(&bytes).unwrap(), None, Parser::Json).unwrap();
        assert_eq!(namespace, chat);
        assert_eq!(again, packet);
    }

    #[test]
    fn a_msgpack_packet_crosses_with_its_values_as_they_are() {
        let chat = Namespace::new("/chat").unwrap();
        let mut encoder = PacketEncoder::new_event(Parser::MsgPack, &chat, None, "file");
        encoder
            .arg(&serde_json::json!({"name": "a", "n": 1.5}))
            .unwrap()
            .arg(&Bytes::from_static(&[1, 2, 3]))
            .unwrap();
        let packet = encoder.finish();
        let data = event_data(&packet).unwrap();
        assert_eq!(data.as_array().unwrap()[2], Value::Binary(vec![1, 2, 3]));
        // The packet a Node process with the msgpack parser would publish, and would send.
        let bytes = encode_message(&packet_object(&chat, data));
        let message = decode_message(&bytes).unwrap();
        let (_, again) = encode_event(&message, None, Parser::MsgPack).unwrap();
        assert_eq!(again, packet, "encoded once, carried unchanged");
        // A JSON process gets the same event as text and an attachment.
        let (_, text) = encode_event(&message, None, Parser::Json).unwrap();
        assert_eq!(
            text.text.as_text(),
            Some(r#"451-/chat,["file",{"n":1.5,"name":"a"},{"_placeholder":true,"num":0}]"#)
        );
        // notepack's `undefined` passes between MessagePack processes as it came.
        let undefined = object(vec![
            ("type", Value::from(2)),
            (
                "data",
                Value::Array(vec![Value::from("u"), Value::Ext(0, vec![0])]),
            ),
            ("nsp", Value::from("/")),
        ]);
        let (_, packet) = encode_event(&undefined, None, Parser::MsgPack).unwrap();
        assert!(packet.text.as_binary().unwrap().ends_with(&[0xd4, 0, 0]));
    }

    #[test]
    fn a_browsers_array_buffer_crosses_as_bytes_whatever_its_length() {
        // notepack writes an ArrayBuffer as an ext 8 of type 0; rmpv would write one of 8 bytes
        // back as the fixext 8 notepack reads as a Date (and one of 1 byte as `undefined`).
        for len in [1u8, 2, 8, 16, 20] {
            let mut data = vec![0x92, 0xa4, b'f', b'i', b'l', b'e', 0xc7, len, 0x00];
            data.extend(std::iter::repeat_n(7, usize::from(len)));
            let mut frame = vec![
                0x83, 0xa4, b't', b'y', b'p', b'e', 0x02, 0xa3, b'n', b's', b'p',
            ];
            frame.extend([0xa1, b'/', 0xa4, b'd', b'a', b't', b'a']);
            frame.extend(&data);
            let packet = EncodedPacket {
                text: Frame::Binary(frame.into()),
                attachments: Vec::new(),
            };
            // Published, read by another sio process, encoded for its MessagePack clients.
            let published = encode_message(&packet_object(
                &Namespace::root(),
                event_data(&packet).unwrap(),
            ));
            let (_, again) =
                encode_event(&decode_message(&published).unwrap(), None, Parser::MsgPack).unwrap();
            let mut decoder =
                PacketDecoder::for_parser(Parser::MsgPack, sio_core::DecoderLimits::default());
            let decoded = decoder.decode_binary(again.text.as_binary().unwrap().clone());
            let Ok(Some(decoded)) = decoded else {
                panic!("{decoded:?}")
            };
            let SocketPacket::Event { event, .. } = decoded.packet else {
                panic!("an event")
            };
            let bytes: Bytes = event.args().get(0).unwrap().deserialize().unwrap();
            assert_eq!(bytes, vec![7; usize::from(len)], "{len} bytes");
        }
    }

    #[test]
    fn json_messages_and_odd_msgpack_values_are_read() {
        let request = decode_message(br#"{"type":1,"requestId":"abc"}"#).unwrap();
        assert_eq!(field(&request, "type").and_then(Value::as_u64), Some(1));
        let mut out = String::new();
        let value = Value::Map(vec![
            (Value::from(7), Value::F64(f64::NAN)),
            (Value::from("u"), Value::Ext(0, vec![0])),
        ]);
        write_json(&value, &mut out, &mut Vec::new());
        assert_eq!(out, r#"{"7":null,"u":null}"#);
        assert!(encode_event(&object(vec![("type", Value::from(3))]), None, Parser::Json).is_err());
    }
}
