//! permessage-deflate both ways: any message the server compresses inflates back to itself
//! through the `FrameInflater`, in one frame or split into fragments; and any
//! `Sec-WebSocket-Extensions` value negotiates without panicking, to an answer that is itself
//! an offer the server accepts alike.
#![no_main]

use std::collections::VecDeque;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sio_core::permessage_deflate::{DeflateAgreement, FrameInflater, deflate_message};

fn masked(first: u8, payload: &[u8], out: &mut Vec<u8>) {
    let mask = [0xa5, 0x5a, 0x0f, 0xf0];
    out.push(first);
    match payload.len() {
        len @ 0..126 => out.push(0x80 | len as u8),
        len @ 126..65_536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
}

fuzz_target!(|data: &[u8]| {
    let [level, split, message @ ..] = data else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(agreement) = DeflateAgreement::negotiate([text], level & 1 == 0) {
            let again = DeflateAgreement::negotiate([agreement.response().as_str()], true)
                .expect("the answer is an acceptable offer");
            assert_eq!(again.response(), agreement.response());
        }
    }
    let compressed = deflate_message(message, u32::from(level % 10));
    let split = usize::from(*split).min(compressed.len());
    let mut stream = Vec::new();
    if split == 0 {
        masked(0xc2, &compressed, &mut stream);
    } else {
        masked(0x42, &compressed[..split], &mut stream);
        masked(0x80, &compressed[split..], &mut stream);
    }
    let mut input = BytesMut::from(&stream[..]);
    let mut output = VecDeque::new();
    let more = FrameInflater::new(1 << 20, false)
        .transcode(&mut input, &mut output)
        .expect("what the server compresses inflates");
    assert!(!more && input.is_empty());
    let plain: Vec<u8> = output.iter().flat_map(|chunk| chunk.iter().copied()).collect();
    assert!(plain.ends_with(message));
    assert_eq!(plain[0], 0x82);
});
