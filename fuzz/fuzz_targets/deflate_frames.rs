//! A client's raw WebSocket bytes through the permessage-deflate `FrameInflater`, with a small
//! limit: nothing panics, what it holds at once stays within the limit (and the run's malloc
//! limit), and the input fed in pieces gives what it gives whole: the same output, or the same
//! error (too big and corrupt data count as one: the inflater decodes ahead, so which it meets
//! first may depend on where the input was cut).
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
    let mut all = Vec::new();
    for chunk in stream.chunks(piece.max(1)) {
        input.extend_from_slice(chunk);
        loop {
            let more = inflater.transcode(&mut input, &mut output);
            let held: usize = output.iter().map(Bytes::len).sum();
            // One inflated message and its header, and the plain frames of what was fed since
            // (the piece, and an incomplete header left from before).
            assert!(held <= LIMIT + 14 + piece.max(1) + 14 || more.is_err());
            all.extend(flatten(&output));
            output.clear();
            match more {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => return (all, Some(error)),
            }
        }
    }
    (all, None)
}

/// Errors as the comparison sees them.
fn class(error: &Option<InflateError>) -> Option<Result<(), &'static str>> {
    error.as_ref().map(|error| match error {
        InflateError::Protocol(what) => Err(*what),
        InflateError::TooBig { .. } | InflateError::BadData => Ok(()),
    })
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
    assert_eq!(class(&whole_error), class(&pieces_error));
    if whole_error.is_none() {
        assert_eq!(whole, pieces);
    }
});
