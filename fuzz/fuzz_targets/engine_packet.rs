//! One Engine.IO packet, as a text or a binary WebSocket frame: decoding never panics, and what
//! decodes encodes to a frame that decodes to the same packet.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_core::{EnginePacket, Frame};

fuzz_target!(|data: &[u8]| {
    let frame = match std::str::from_utf8(data) {
        Ok(text) => Frame::Text(text.into()),
        Err(_) => Frame::Binary(Bytes::copy_from_slice(data)),
    };
    if let Ok(packet) = EnginePacket::decode(frame) {
        let again = EnginePacket::decode(packet.encode()).expect("an encoded packet decodes");
        assert_eq!(again, packet);
    }
});
