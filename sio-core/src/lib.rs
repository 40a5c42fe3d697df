//! The Socket.IO protocol, sans-IO: Engine.IO v4 and Socket.IO v5 codecs, binary attachments and
//! the Engine.IO session state machine.
//!
//! Nothing here touches a socket, a clock or an async runtime; `sio-server` drives it. Users of
//! the `sio` framework never need this crate directly.
//!
//! # The two layers
//!
//! **Engine.IO** moves packets between a client and the server over HTTP long-polling or a
//! WebSocket, keeps the session alive with heartbeats and upgrades polling to WebSocket.
//! [`EnginePacket`] decodes and encodes one packet; a [`Frame`] is one encoded packet as a
//! WebSocket frame carries it, and [`encode_payload`] / [`decode_payload`] join frames into polling
//! bodies. [`EngineSession`] is the state machine of one session: the runtime feeds it requests,
//! frames and the current time through `handle_*` calls and asks it what to send through `poll_*`
//! calls.
//!
//! **Socket.IO** runs inside Engine.IO `message` packets: namespaces, events and acks.
//! [`PacketDecoder`] decodes a connection's packets, reassembling binary ones from their
//! attachments; an event's arguments stay raw JSON slices ([`Args`]) until the runtime
//! deserializes each straight into a handler's type. [`PacketEncoder`] writes an event or ack from
//! typed arguments in one pass, turning byte buffers into binary attachments.
//!
//! Both speak the MessagePack parser too ([`Parser::MsgPack`], `socket.io-msgpack-parser`):
//! a packet is then one binary message, its arguments MessagePack slices ([`RawArg`]) read
//! straight into handlers' types.
//!
//! ```
//! use sio_core::{AckId, EnginePacket, Namespace, PacketDecoder, PacketEncoder, SocketPacket};
//!
//! // A client's event arrives in an Engine.IO message...
//! let frame = sio_core::Frame::Text(r#"42/chat,17["chat_message",{"text":"hello"}]"#.into());
//! let EnginePacket::Message(text) = EnginePacket::decode(frame).unwrap() else { unreachable!() };
//! let decoded = PacketDecoder::default().decode_text(text).unwrap().unwrap();
//! let SocketPacket::Event { namespace, ack_id, event, .. } = decoded.packet else { unreachable!() };
//! assert_eq!((namespace.as_str(), ack_id, event.name()), ("/chat", Some(AckId(17)), "chat_message"));
//!
//! // ...and the server answers its ack.
//! let mut ack = PacketEncoder::ack(&namespace, AckId(17));
//! ack.arg(&serde_json::json!({"status": "ok"})).unwrap();
//! assert_eq!(ack.finish().text.as_text(), Some(r#"43/chat,17[{"status":"ok"}]"#));
//! ```

mod args;
mod attachments_de;
mod binary_split;
mod engine_packet;
mod engine_payload;
mod engine_session;
mod engine_v3;
mod error;
mod handshake;
mod js_date;
mod msgpack;
mod names;
mod namespace_pattern;
mod packet_decoder;
mod packet_encoder;
mod parser;
pub mod permessage_deflate;
mod placeholder_scan;
mod raw_arg;
mod raw_json;
mod session_config;
mod socket_packet;

pub use args::{Args, Event};
pub use attachments_de::{ArgDecodeError, ExpansionBudget, decode_with_attachments};
pub use engine_packet::{EnginePacket, EnginePacketType, EngineVersion, Frame, Transport};
pub use engine_payload::{
    PayloadPackets, RECORD_SEPARATOR, decode_payload, encode_payload, payload_len,
};
pub use engine_session::{
    CloseReason, EngineSession, PollingError, QueueFull, SessionEvent, UpgradeError,
};
pub use engine_v3::{
    PayloadV3, decode_binary_v3, decode_payload_v3, decode_text_v3, encode_payload_v3, frame_v3,
};
pub use error::{EncodeError, EngineError, NameError, PacketError};
pub use handshake::{Handshake, Sid};
pub use js_date::{civil_date, iso_date};
pub use msgpack::{MsgPackError, notepack_buffers_as_bin};
pub use names::{
    AckId, Namespace, RESERVED_EVENTS, RESERVED_SERVER_EVENTS, validate_event_name,
    validate_namespace, validate_server_event_name,
};
pub use namespace_pattern::{MAX_DYNAMIC_NAMESPACE_LEN, NamespacePattern, PatternError};
pub use packet_decoder::{DEFAULT_MAX_ATTACHMENTS, DecodedPacket, DecoderLimits, PacketDecoder};
pub use packet_encoder::{EncodedPacket, PacketEncoder};
pub use parser::Parser;
pub use raw_arg::RawArg;
pub use raw_json::RawJson;
pub use session_config::SessionConfig;
pub use socket_packet::{SocketPacket, SocketPacketType};
