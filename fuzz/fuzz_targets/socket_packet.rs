//! One Socket.IO text packet: decoding never panics, and a packet that decodes re-encodes to
//! text that decodes to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_core::{Frame, PacketDecoder};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Some(decoded)) = PacketDecoder::default().decode_text(text.into()) else {
        return;
    };
    let Frame::Text(encoded) = decoded.packet.encode() else {
        panic!("a Socket.IO packet encodes to text");
    };
    let inner = encoded.strip_prefix('4').expect("inside an Engine.IO message");
    let again = PacketDecoder::default()
        .decode_text(inner.into())
        .expect("a re-encoded packet decodes");
    match again {
        Some(again) => assert_eq!(again.packet, decoded.packet),
        // A binary packet announced with no attachments decodes at once; with some, it waits.
        None => assert!(decoded.packet.attachments() > 0),
    }
});
