use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, FlushCompress};

use super::{FrameInflater, InflateError};
use crate::permessage_deflate::deflate_message;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A client frame: `first` (FIN, RSV and opcode bits), then `payload`, masked.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    frame(first, MASK, payload)
}

/// What the layer above reads of a plain final frame, masked with the zero key.
fn plain(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(0x80 | opcode, [0; 4], payload)
}

fn frame(first: u8, mask: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first];
    match payload.len() {
        len @ 0..126 => frame.push(0x80 | len as u8),
        len @ 126..65_536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

fn run(inflater: &mut FrameInflater, stream: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut input = BytesMut::from(stream);
    let mut output = VecDeque::new();
    while inflater.transcode(&mut input, &mut output)? {}
    assert!(input.is_empty(), "every complete frame is taken");
    Ok(output
        .iter()
        .flat_map(|chunk: &Bytes| chunk.to_vec())
        .collect())
}

/// The same stream fed one byte at a time.
fn run_bytewise(inflater: &mut FrameInflater, stream: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut input = BytesMut::new();
    let mut output = VecDeque::new();
    for &byte in stream {
        input.extend_from_slice(&[byte]);
        while inflater.transcode(&mut input, &mut output)? {}
    }
    assert!(input.is_empty());
    Ok(output
        .iter()
        .flat_map(|chunk: &Bytes| chunk.to_vec())
        .collect())
}

#[test]
fn the_rfc_examples_inflate() {
    // RFC 7692, 7.2.3.1: one compressed frame; 7.2.3.2: a compressed message in two
    // fragments; 7.2.3.3: a stored (uncompressed) block.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let one = masked(0xc1, &hello);
    let fragmented = [masked(0x41, &hello[..3]), masked(0x80, &hello[3..])].concat();
    let stored = masked(
        0xc1,
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, b'H', b'e', b'l', b'l', b'o', 0x00,
        ],
    );
    for stream in [one, fragmented, stored] {
        let expected = plain(0x1, b"Hello");
        assert_eq!(
            run(&mut FrameInflater::new(1024, false), &stream),
            Ok(expected.clone())
        );
        assert_eq!(
            run_bytewise(&mut FrameInflater::new(1024, false), &stream),
            Ok(expected)
        );
    }
}

#[test]
fn plain_frames_pass_unchanged_and_control_frames_may_interleave() {
    let text = masked(0x81, b"plain");
    let ping = masked(0x89, b"p");
    let first_part = masked(0x01, b"frag");
    let last_part = masked(0x80, b"ment");
    let stream = [text.clone(), first_part, ping.clone(), last_part].concat();
    assert_eq!(
        run(&mut FrameInflater::new(1024, false), &stream),
        Ok(stream.clone())
    );

    let compressed = deflate_message(b"binary binary binary", 6);
    let stream = [
        masked(0x42, &compressed[..4]),
        ping.clone(),
        masked(0x80, &compressed[4..]),
        text.clone(),
    ]
    .concat();
    let expected = [ping, plain(0x2, b"binary binary binary"), text].concat();
    assert_eq!(
        run(&mut FrameInflater::new(1024, false), &stream),
        Ok(expected.clone())
    );
    assert_eq!(
        run_bytewise(&mut FrameInflater::new(1024, false), &stream),
        Ok(expected)
    );
}

#[test]
fn large_messages_get_the_long_length_forms() {
    for len in [126, 65_535, 65_536, 300_000] {
        let message: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let stream = masked(0xc2, &deflate_message(&message, 1));
        assert_eq!(
            run(&mut FrameInflater::new(1 << 20, false), &stream),
            Ok(plain(0x2, &message)),
            "{len} bytes"
        );
    }
}

#[test]
fn a_client_taking_its_context_over_is_followed_and_otherwise_nothing_is_kept() {
    // Two messages from one compressor: the second refers back to the first.
    let mut compressor = Compress::new(Compression::default(), false);
    let mut messages = Vec::new();
    for text in [
        "a message that repeats itself",
        "a message that repeats itself",
    ] {
        let mut out = Vec::with_capacity(256);
        compressor
            .compress_vec(text.as_bytes(), &mut out, FlushCompress::Sync)
            .unwrap();
        out.truncate(out.len() - 4);
        messages.push(masked(0xc1, &out));
    }
    assert!(
        messages[1].len() < messages[0].len(),
        "the second one is a back-reference"
    );
    let mut inflater = FrameInflater::new(1024, true);
    for message in &messages {
        assert_eq!(
            run(&mut inflater, message),
            Ok(plain(0x1, b"a message that repeats itself"))
        );
        assert!(inflater.holds_inflater(), "kept for the next message");
    }

    let mut inflater = FrameInflater::new(1024, false);
    assert!(!inflater.holds_inflater(), "none before the first message");
    run(
        &mut inflater,
        &masked(0xc1, &deflate_message(b"on its own", 6)),
    )
    .unwrap();
    assert!(!inflater.holds_inflater(), "none after it");
}

#[test]
fn a_message_ending_its_deflate_stream_does_not_break_the_next() {
    let mut compressor = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(256);
    compressor
        .compress_vec(b"finished", &mut out, FlushCompress::Finish)
        .unwrap();
    let stream = [
        masked(0xc1, &out),
        masked(0xc1, &deflate_message(b"next", 6)),
    ]
    .concat();
    let expected = [plain(0x1, b"finished"), plain(0x1, b"next")].concat();
    assert_eq!(
        run(&mut FrameInflater::new(1024, true), &stream),
        Ok(expected)
    );
}

#[test]
fn a_bomb_stops_at_the_limit() {
    let bomb = deflate_message(&vec![0; 100 << 20], 9);
    assert!(bomb.len() < 200 << 10, "{} bytes", bomb.len());
    let mut inflater = FrameInflater::new(1 << 20, false);
    assert_eq!(
        run(&mut inflater, &masked(0xc2, &bomb)),
        Err(InflateError::TooBig { limit: 1 << 20 })
    );
    // Compressed bytes count too, before any arrive.
    let mut header = masked(0xc2, &[]);
    header[1] = 0x80 | 127;
    header.splice(2..2, (2u64 << 20).to_be_bytes());
    let mut input = BytesMut::from(&header[..]);
    assert_eq!(
        FrameInflater::new(1 << 20, false).transcode(&mut input, &mut VecDeque::new()),
        Err(InflateError::TooBig { limit: 1 << 20 })
    );
}

#[test]
fn what_breaks_the_extension_is_refused_with_its_code() {
    let compressed = deflate_message(b"x", 6);
    let cases: [(Vec<u8>, u16); 7] = [
        (masked(0xc9, b""), 1002),
        (
            [masked(0x41, &compressed), masked(0xc0, b"")].concat(),
            1002,
        ),
        ([masked(0x01, b"a"), masked(0xc0, b"")].concat(), 1002),
        (
            [masked(0x41, &compressed), masked(0x81, b"b")].concat(),
            1002,
        ),
        (masked(0xa1, b"a"), 1002),
        ([0xc1, 0x01, 0x00].to_vec(), 1002),
        (masked(0xc1, &[0xff; 16]), 1007),
    ];
    for (stream, code) in cases {
        let error = run(&mut FrameInflater::new(1024, false), &stream).unwrap_err();
        assert_eq!(error.close_code(), code, "{stream:x?}: {error}");
    }
}

#[test]
fn a_client_reads_a_servers_unmasked_frames_alike() {
    let compressed = deflate_message(b"from the server", 6);
    let mut stream = vec![0xc1, compressed.len() as u8];
    stream.extend_from_slice(&compressed);
    let mut expected = vec![0x81, 15];
    expected.extend_from_slice(b"from the server");
    assert_eq!(
        run(&mut FrameInflater::for_client(1024, false), &stream),
        Ok(expected)
    );
    // A masked compressed frame is a client's, not a server's.
    let error = run(
        &mut FrameInflater::for_client(1024, false),
        &masked(0xc1, &compressed),
    );
    assert_eq!(error.map_err(|e| e.close_code()), Err(1002));
}

#[test]
fn each_call_hands_on_one_inflated_message_at_most() {
    let one = masked(0xc1, &deflate_message(&[b'z'; 50_000], 9));
    let stream = [one.clone(), one.clone(), one].concat();
    let mut inflater = FrameInflater::new(1 << 20, false);
    let mut input = BytesMut::from(&stream[..]);
    let mut output = VecDeque::new();
    let mut calls = 0;
    loop {
        calls += 1;
        let more = inflater.transcode(&mut input, &mut output).unwrap();
        let held: usize = output.iter().map(Bytes::len).sum();
        assert!(held <= 50_000 + 14, "{held} bytes held at once");
        output.clear();
        if !more {
            break;
        }
    }
    assert_eq!(calls, 3);
    assert!(input.is_empty());
}

#[test]
fn a_message_under_way_holds_no_more_than_the_limit() {
    let limit = 700_000;
    let message: Vec<u8> = (0..650_000u32).map(|i| (i % 7) as u8).collect();
    // Not final: the message is still under way after this frame.
    let stream = masked(0x42, &deflate_message(&message, 6));
    let mut inflater = FrameInflater::new(limit, false);
    run(&mut inflater, &stream).unwrap();
    let super::Message::Compressed { inflated, .. } = &inflater.message else {
        panic!("a message under way");
    };
    assert_eq!(inflated.len(), 650_000);
    assert!(
        inflated.capacity() <= limit,
        "capacity {}",
        inflated.capacity()
    );
}
