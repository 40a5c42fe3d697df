//! A connection's stream of Socket.IO frames, text and binary, through one decoder with small
//! limits: binary packets wait for their attachments, which are bounded in count and bytes, and
//! complete packets have every placeholder checked. Nothing panics, and nothing completes
//! beyond the limits.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_core::{DecoderLimits, PacketDecoder};

const LIMITS: DecoderLimits = DecoderLimits {
    max_attachments: 8,
    max_packet_bytes: 4096,
    max_repeated_bytes: 1024,
};

fuzz_target!(|data: &[u8]| {
    let mut decoder = PacketDecoder::with_limits(LIMITS);
    // Records: a tag byte (odd: text, even: binary), a length byte, then that many bytes.
    let mut rest = data;
    while let [tag, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let decoded = if tag % 2 == 1 {
            let Ok(text) = std::str::from_utf8(frame) else {
                continue;
            };
            decoder.decode_text(text.into())
        } else {
            decoder.decode_binary(Bytes::copy_from_slice(frame))
        };
        match decoded {
            Ok(Some(packet)) => {
                assert_eq!(packet.attachments.len(), packet.packet.attachments());
                assert!(packet.attachments.len() <= LIMITS.max_attachments);
                let bytes: usize = packet.attachments.iter().map(Bytes::len).sum();
                assert!(bytes <= LIMITS.max_packet_bytes);
            }
            Ok(None) => assert!(decoder.is_waiting()),
            // A connection that breaks the rules is closed; the fuzz goes on with a new one.
            Err(_) => decoder = PacketDecoder::with_limits(LIMITS),
        }
    }
});
