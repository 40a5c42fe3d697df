//! Checks every vector in `tests/vectors/` both ways: decoding the bytes gives the expected
//! structure, and encoding the structure gives the bytes (unless the vector is `decode_only`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use serde::Deserialize;
use serde_json::value::RawValue;
use sio_core::{
    AckId, EnginePacket, Frame, Namespace, PacketDecoder, SocketPacket, SocketPacketType,
    decode_payload, encode_payload,
};

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> Vec<T> {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
    let vectors: Vec<T> = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"));
    assert!(!vectors.is_empty(), "{path} holds no vectors");
    vectors
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FrameVector {
    Text(String),
    Binary(Vec<u8>),
}

impl FrameVector {
    fn frame(&self) -> Frame {
        match self {
            FrameVector::Text(text) => Frame::Text(text.as_str().into()),
            FrameVector::Binary(bytes) => Frame::Binary(Bytes::from(bytes.clone())),
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum EnginePacketVector {
    Open { data: String },
    Close,
    Ping { data: String },
    Pong { data: String },
    Message { data: String },
    Binary { data: Vec<u8> },
    Upgrade,
    Noop,
}

impl EnginePacketVector {
    fn packet(&self) -> EnginePacket {
        let text = |data: &String| ByteString::from(data.as_str());
        match self {
            EnginePacketVector::Open { data } => EnginePacket::Open(text(data)),
            EnginePacketVector::Close => EnginePacket::Close,
            EnginePacketVector::Ping { data } => EnginePacket::Ping(text(data)),
            EnginePacketVector::Pong { data } => EnginePacket::Pong(text(data)),
            EnginePacketVector::Message { data } => EnginePacket::Message(text(data)),
            EnginePacketVector::Binary { data } => EnginePacket::Binary(data.clone().into()),
            EnginePacketVector::Upgrade => EnginePacket::Upgrade,
            EnginePacketVector::Noop => EnginePacket::Noop,
        }
    }
}

#[derive(Deserialize)]
struct EnginePacketCase {
    name: String,
    frame: FrameVector,
    packet: EnginePacketVector,
    #[serde(default)]
    decode_only: bool,
}

#[test]
fn engine_packets() {
    let cases: Vec<EnginePacketCase> = load("engine_packets.json");
    for case in &cases {
        let expected = case.packet.packet();
        let decoded = EnginePacket::decode(case.frame.frame());
        assert_eq!(decoded.as_ref(), Ok(&expected), "decode {}", case.name);
        if !case.decode_only {
            assert_eq!(
                expected.encode(),
                case.frame.frame(),
                "encode {}",
                case.name
            );
        }
    }
}

#[derive(Deserialize)]
struct EnginePayloadCase {
    name: String,
    body: String,
    packets: Vec<EnginePacketVector>,
    #[serde(default)]
    decode_only: bool,
}

#[test]
fn engine_payloads() {
    let cases: Vec<EnginePayloadCase> = load("engine_payloads.json");
    for case in &cases {
        let expected: Vec<EnginePacket> = case.packets.iter().map(|p| p.packet()).collect();
        let decoded: Result<Vec<_>, _> =
            decode_payload(Bytes::from(case.body.clone())).and_then(|packets| packets.collect());
        assert_eq!(decoded.as_ref(), Ok(&expected), "decode {}", case.name);
        if !case.decode_only {
            let frames: Vec<Frame> = expected.iter().map(EnginePacket::encode).collect();
            let mut body = BytesMut::new();
            encode_payload(&frames, &mut body);
            assert_eq!(&body[..], case.body.as_bytes(), "encode {}", case.name);
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum SocketTypeVector {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    BinaryEvent,
    BinaryAck,
}

#[derive(Deserialize)]
struct SocketPacketVector {
    #[serde(rename = "type")]
    packet_type: SocketTypeVector,
    nsp: String,
    id: Option<u64>,
    attachments: Option<usize>,
    data: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct SocketPacketCase {
    name: String,
    text: String,
    packet: SocketPacketVector,
    #[serde(default)]
    buffers: Vec<Vec<u8>>,
    #[serde(default)]
    decode_only: bool,
}

/// The fields of a packet in a form both sides can produce, with JSON compared as values.
#[derive(Debug, PartialEq)]
struct Fields {
    packet_type: SocketPacketType,
    namespace: String,
    ack_id: Option<u64>,
    attachments: usize,
    data: Option<serde_json::Value>,
    /// For events: the name and each argument as decoded separately.
    event: Option<(String, Vec<serde_json::Value>)>,
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{text}: {err}"))
}

fn fields_of(packet: &SocketPacket) -> Fields {
    let (ack_id, data, event) = match packet {
        SocketPacket::Connect { data, .. } => (None, data.as_ref().map(|d| json(d.as_str())), None),
        SocketPacket::Disconnect { .. } => (None, None, None),
        SocketPacket::Event { ack_id, event, .. } => {
            let args = event
                .args()
                .iter()
                .map(|a| json(a.to_json().as_str()))
                .collect();
            (
                ack_id.map(|AckId(id)| id),
                Some(json(event.args().json().unwrap())),
                Some((event.name().to_owned(), args)),
            )
        }
        SocketPacket::Ack { ack_id, args, .. } => {
            let each: Vec<_> = args.iter().map(|a| json(a.to_json().as_str())).collect();
            assert_eq!(serde_json::Value::Array(each), json(args.json().unwrap()));
            (Some(ack_id.0), Some(json(args.json().unwrap())), None)
        }
        SocketPacket::ConnectError { data, .. } => (None, Some(json(data.as_str())), None),
    };
    Fields {
        packet_type: packet.packet_type(),
        namespace: packet.namespace().as_str().to_owned(),
        ack_id,
        attachments: packet.attachments(),
        data,
        event,
    }
}

fn expected_fields(vector: &SocketPacketVector) -> Fields {
    let packet_type = match vector.packet_type {
        SocketTypeVector::Connect => SocketPacketType::Connect,
        SocketTypeVector::Disconnect => SocketPacketType::Disconnect,
        SocketTypeVector::Event => SocketPacketType::Event,
        SocketTypeVector::Ack => SocketPacketType::Ack,
        SocketTypeVector::ConnectError => SocketPacketType::ConnectError,
        SocketTypeVector::BinaryEvent => SocketPacketType::BinaryEvent,
        SocketTypeVector::BinaryAck => SocketPacketType::BinaryAck,
    };
    let data = vector.data.as_ref().map(|raw| json(raw.get()));
    let event = match (&vector.packet_type, &data) {
        (
            SocketTypeVector::Event | SocketTypeVector::BinaryEvent,
            Some(serde_json::Value::Array(items)),
        ) => {
            let name = match &items[0] {
                serde_json::Value::String(name) => name.clone(),
                number => number.to_string(),
            };
            Some((name, items[1..].to_vec()))
        }
        _ => None,
    };
    Fields {
        packet_type,
        namespace: vector.nsp.clone(),
        ack_id: vector.id,
        attachments: vector.attachments.unwrap_or(0),
        data,
        event,
    }
}

/// Builds the packet from the vector through the public API, for the encoding direction.
fn build_packet(case: &SocketPacketCase) -> SocketPacket {
    // Building from the wire form keeps the raw JSON text exactly as the vector writes it.
    let v = &case.packet;
    let namespace = match v.nsp.as_str() {
        "/" => Namespace::root(),
        other => Namespace::new(other).expect("namespace"),
    };
    let data = v.data.as_ref().map(|raw| raw.get().to_owned());
    let digit = match v.packet_type {
        SocketTypeVector::Connect => '0',
        SocketTypeVector::Disconnect => '1',
        SocketTypeVector::Event => '2',
        SocketTypeVector::Ack => '3',
        SocketTypeVector::ConnectError => '4',
        SocketTypeVector::BinaryEvent => '5',
        SocketTypeVector::BinaryAck => '6',
    };
    // Assemble the canonical text by hand, independently of the encoder under test.
    let mut text = String::from(digit);
    if let Some(n) = v.attachments {
        text.push_str(&format!("{n}-"));
    }
    if !namespace.is_root() {
        text.push_str(namespace.as_str());
        text.push(',');
    }
    if let Some(id) = v.id {
        text.push_str(&id.to_string());
    }
    text.push_str(data.as_deref().unwrap_or(""));
    let decoded = PacketDecoder::default()
        .decode_text(text.as_str().into())
        .unwrap_or_else(|err| panic!("{}: canonical form does not decode: {err}", case.name));
    match decoded {
        Some(decoded) => decoded.packet,
        None => {
            let mut decoder = PacketDecoder::default();
            let mut result = decoder
                .decode_text(text.as_str().into())
                .expect("binary header");
            for buffer in &case.buffers {
                result = decoder
                    .decode_binary(Bytes::from(buffer.clone()))
                    .expect("attachment");
            }
            result.expect("complete packet").packet
        }
    }
}

#[test]
fn socket_packets() {
    let cases: Vec<SocketPacketCase> = load("socket_packets.json");
    for case in &cases {
        // Decode: the text, then each buffer, completes the packet exactly once.
        let mut decoder = PacketDecoder::default();
        let mut decoded = decoder
            .decode_text(case.text.as_str().into())
            .unwrap_or_else(|err| panic!("decode {}: {err}", case.name));
        for (index, buffer) in case.buffers.iter().enumerate() {
            assert!(
                decoded.is_none(),
                "{}: complete before attachment {index}",
                case.name
            );
            decoded = decoder
                .decode_binary(Bytes::from(buffer.clone()))
                .unwrap_or_else(|err| panic!("decode {}: {err}", case.name));
        }
        let decoded = decoded.unwrap_or_else(|| panic!("{}: incomplete", case.name));
        assert_eq!(
            fields_of(&decoded.packet),
            expected_fields(&case.packet),
            "decode {}",
            case.name
        );
        let buffers: Vec<Vec<u8>> = decoded.attachments.iter().map(|b| b.to_vec()).collect();
        assert_eq!(buffers, case.buffers, "attachments {}", case.name);

        // Encode: the packet re-encodes to the exact bytes, behind Engine.IO's `4`.
        if !case.decode_only {
            let wire = format!("4{}", case.text);
            assert_eq!(
                decoded.packet.encode(),
                Frame::Text(wire.as_str().into()),
                "re-encode {}",
                case.name
            );
            assert_eq!(
                build_packet(case).encode(),
                Frame::Text(wire.as_str().into()),
                "encode {}",
                case.name
            );
        }
    }
}

#[derive(Deserialize)]
struct ErrorCase {
    name: String,
    /// A Socket.IO packet text (without Engine.IO's `4`) ...
    socket: Option<String>,
    /// ... or an Engine.IO text frame ...
    engine: Option<String>,
    /// ... or a polling body.
    payload: Option<String>,
    /// Binary frames sent after `socket`.
    #[serde(default)]
    buffers: Vec<Vec<u8>>,
    /// A second text packet sent after `socket` (and its buffers).
    then: Option<String>,
    #[serde(default = "default_max_attachments")]
    max_attachments: usize,
    /// The error's `Debug` form.
    error: String,
}

fn default_max_attachments() -> usize {
    sio_core::DEFAULT_MAX_ATTACHMENTS
}

#[test]
fn malformed_inputs() {
    let cases: Vec<ErrorCase> = load("errors.json");
    for case in &cases {
        let error = if let Some(text) = &case.socket {
            let mut decoder = PacketDecoder::new(case.max_attachments);
            let mut outcome = decoder.decode_text(text.as_str().into()).map(drop);
            for buffer in &case.buffers {
                outcome =
                    outcome.and_then(|()| decoder.decode_binary(buffer.clone().into()).map(drop));
            }
            if let Some(then) = &case.then {
                outcome =
                    outcome.and_then(|()| decoder.decode_text(then.as_str().into()).map(drop));
            }
            outcome.map_err(|err| format!("{err:?}"))
        } else if let Some(text) = &case.engine {
            EnginePacket::decode(Frame::Text(text.as_str().into()))
                .map(drop)
                .map_err(|err| format!("{err:?}"))
        } else if let Some(body) = &case.payload {
            decode_payload(Bytes::from(body.clone()))
                .and_then(|packets| packets.collect::<Result<Vec<_>, _>>())
                .map(drop)
                .map_err(|err| format!("{err:?}"))
        } else {
            panic!("{}: no input", case.name);
        };
        assert_eq!(error, Err(case.error.clone()), "{}", case.name);
    }
}

#[test]
fn invalid_utf8_polling_body() {
    let body = Bytes::from_static(b"4\xff\xfe");
    assert_eq!(
        decode_payload(body).map(drop),
        Err(sio_core::EngineError::InvalidUtf8)
    );
}
