//! A client's raw WebSocket bytes through the permessage-deflate `FrameInflater`, with a small
//! limit: nothing panics, no inflated message exceeds the limit, and the input fed in pieces
//! gives what it gives whole (the same output, or the same error).
#![no_main]

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use sio_core::permessage_deflate::{FrameInflater, InflateError};

const LIMIT: usize = 64 * 1024;

fn run(stream: &[u8], piece: usize, keep_context: bool) -> (Vec<u8>, Option<InflateError>) {
    let mut inflater = FrameInflater::new(LIMIT, keep_context);
    let mut input = BytesMut::new();
    let mut output = VecDeque::new();
    for chunk in stream.chunks(piece.max(1)) {
        input.extend_from_slice(chunk);
        if let Err(error) = inflater.transcode(&mut input, &mut output) {
            return (flatten(&output), Some(error));
        }
    }
    (flatten(&output), None)
}

fn flatten(output: &VecDeque<Bytes>) -> Vec<u8> {
    output.iter().flat_map(|chunk| chunk.iter().copied()).collect()
}

fuzz_target!(|data: &[u8]| {
    let [flags, piece, stream @ ..] = data else {
        return;
    };
    let keep_context = flags & 1 != 0;
    let (whole, whole_error) = run(stream, stream.len(), keep_context);
    let (pieces, pieces_error) = run(stream, usize::from(*piece), keep_context);
    assert_eq!(whole_error, pieces_error);
    if whole_error.is_none() {
        assert_eq!(whole, pieces);
    }
    assert!(whole.len() <= stream.len() + LIMIT + 14 || whole_error.is_none());
});
