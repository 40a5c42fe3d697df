//! One MessagePack Socket.IO packet, as a client of a `Parser::MsgPack` server sends it:
//! decoding never panics; a packet that decodes re-encodes to one that decodes the same (a
//! CONNECT's payload to the same JSON value); every
//! argument reads as a JSON tree and as JSON text within the bounds the parser promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::{DecoderLimits, ExpansionBudget, Frame, PacketDecoder, Parser, SocketPacket};

fuzz_target!(|data: &[u8]| {
    let decoder = || PacketDecoder::for_parser(Parser::MsgPack, DecoderLimits::default());
    let Ok(Some(decoded)) = decoder().decode_binary(data.to_vec().into()) else {
        return;
    };
    assert!(
        decoded.attachments.is_empty(),
        "MessagePack has no attachments"
    );
    let Frame::Binary(encoded) = decoded.packet.encode_as(Parser::MsgPack) else {
        panic!("a MessagePack packet encodes to a binary message");
    };
    let again = decoder()
        .decode_binary(encoded)
        .expect("a re-encoded packet decodes")
        .expect("whole");
    match (&again.packet, &decoded.packet) {
        // A CONNECT's or CONNECT_ERROR's payload is held as JSON and re-encoded from a tree:
        // the same value, its keys perhaps in another order (and a float within serde_json's
        // parsing error of one unit in the last place).
        (
            SocketPacket::Connect { data: Some(a), .. },
            SocketPacket::Connect { data: Some(b), .. },
        )
        | (
            SocketPacket::ConnectError { data: a, .. },
            SocketPacket::ConnectError { data: b, .. },
        ) => {
            let tree = |json: &sio_core::RawJson| json.deserialize::<serde_json::Value>().unwrap();
            assert!(same(&tree(a), &tree(b)), "{a} != {b}");
            assert_eq!(again.packet.namespace(), decoded.packet.namespace());
        }
        (again, decoded) => assert_eq!(again, decoded),
    }

    let args = match &decoded.packet {
        SocketPacket::Event { event, .. } => event.args(),
        SocketPacket::Ack { args, .. } => args,
        _ => return,
    };
    // Binaries read as sequences are paid for: never more than the message's size in all.
    let budget = ExpansionBudget::new(data.len());
    for arg in args.iter() {
        let json = arg.to_json();
        // Text grows at most seven bytes per byte (`false` as a key, `"false":`).
        assert!(json.as_str().len() <= 7 * data.len() + 4);
        let _ = sio_core::decode_with_attachments::<serde_json::Value>(&arg, &[], &budget);
    }
});

/// The same JSON value, floats within a relative 1e-15.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
            }
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
