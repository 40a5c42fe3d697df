//! A polling body: `\x1e`-separated packets, binary ones in base64. Decoding never panics, and
//! the packets that decode encode back into a body that decodes to the same packets.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sio_core::{EnginePacket, Frame, decode_payload, encode_payload};

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = decode_payload(Bytes::copy_from_slice(data)) else {
        return;
    };
    let packets: Vec<EnginePacket> = packets.filter_map(Result::ok).collect();
    if packets.is_empty() {
        return;
    }
    let frames: Vec<Frame> = packets.iter().map(EnginePacket::encode).collect();
    let mut body = BytesMut::new();
    encode_payload(&frames, &mut body);
    let again: Vec<EnginePacket> = decode_payload(body.freeze())
        .expect("an encoded body decodes")
        .map(|packet| packet.expect("an encoded packet decodes"))
        .collect();
    assert_eq!(again, packets);
});
