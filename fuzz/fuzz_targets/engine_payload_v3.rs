//! An Engine.IO v3 polling body, in the text form or the binary form (the first byte says
//! which): decoding never panics, and what decodes to messages encodes, in either form, to a
//! body that decodes to the same messages.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_core::{EnginePacket, Frame, decode_payload_v3, encode_payload_v3};

fuzz_target!(|data: &[u8]| {
    let [form, body @ ..] = data else {
        return;
    };
    let binary = form & 1 == 1;
    let Ok(packets) = decode_payload_v3(Bytes::copy_from_slice(body), binary) else {
        return;
    };
    let frames: Vec<Frame> = packets.iter().map(EnginePacket::encode).collect();
    for supports_binary in [false, true] {
        let payload = encode_payload_v3(&frames, supports_binary);
        let again = decode_payload_v3(payload.body, payload.binary).expect("an encoded payload decodes");
        assert_eq!(again, packets);
    }
});
