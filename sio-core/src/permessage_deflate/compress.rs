//! Compressing one server message (RFC 7692, 7.2.1), with no context taken over.

use std::cell::RefCell;

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};

use super::SYNC_TAIL;

thread_local! {
    /// One compressor per thread, at the level it was made for, reset before each message:
    /// its tables (some hundreds of KiB) are never allocated per connection or per message.
    static COMPRESSOR: RefCell<Option<(u32, Compress)>> = const { RefCell::new(None) };
}

/// The payload of a compressed frame (RSV1 set) carrying `message`, compressed on its own at
/// `level` (0 to 9; 6 is zlib's default, which Node uses).
///
/// ```
/// use sio_core::permessage_deflate::deflate_message;
/// // RFC 7692, 7.2.3.1: "Hello" in one compressed frame.
/// assert_eq!(&deflate_message(b"Hello", 6)[..], [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
/// ```
pub fn deflate_message(message: &[u8], level: u32) -> Bytes {
    let level = level.min(9);
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match &mut *cell {
            Some((made_for, compressor)) if *made_for == level => {
                compressor.reset();
                compressor
            }
            other => {
                let (_, compressor) =
                    other.insert((level, Compress::new(Compression::new(level), false)));
                compressor
            }
        };
        compress(compressor, message)
    })
}

fn compress(compressor: &mut Compress, message: &[u8]) -> Bytes {
    let mut output = Vec::with_capacity(message.len() / 2 + 64);
    let mut rest = message;
    loop {
        let before = compressor.total_in();
        // Memory-only compression fails only on misuse of the stream, which this is not; the
        // output then ends as it is and the message fails to inflate at the client.
        if compressor
            .compress_vec(rest, &mut output, FlushCompress::Sync)
            .is_err()
        {
            break;
        }
        let consumed = (compressor.total_in() - before) as usize;
        rest = &rest[consumed..];
        // The sync flush is complete once everything is in and room is left over.
        if rest.is_empty() && output.len() < output.capacity() {
            break;
        }
        output.reserve(output.capacity().max(64));
    }
    if output.ends_with(&SYNC_TAIL) {
        output.truncate(output.len() - SYNC_TAIL.len());
    }
    Bytes::from(output)
}

#[cfg(test)]
mod tests {
    use flate2::{Decompress, FlushDecompress};

    use super::{SYNC_TAIL, deflate_message};

    fn inflate(compressed: &[u8]) -> Vec<u8> {
        let mut input = compressed.to_vec();
        input.extend_from_slice(&SYNC_TAIL);
        let mut output = Vec::with_capacity(1 << 22);
        Decompress::new(false)
            .decompress_vec(&input, &mut output, FlushDecompress::Sync)
            .unwrap();
        output
    }

    #[test]
    fn each_message_inflates_on_its_own() {
        let first = deflate_message(&[b'a'; 5000], 6);
        let second = deflate_message(&[b'a'; 5000], 6);
        assert_eq!(first, second, "no context carried from one to the next");
        assert!(first.len() < 100, "{} bytes", first.len());
        assert_eq!(inflate(&first), [b'a'; 5000]);
    }

    #[test]
    fn incompressible_and_large_messages_round_trip_at_every_level() {
        let mut noise = Vec::with_capacity(300_000);
        let mut x = 0x2545_f491_u32;
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            noise.push(x as u8);
        }
        for level in [0, 1, 6, 9] {
            assert_eq!(
                inflate(&deflate_message(&noise, level)),
                noise,
                "level {level}"
            );
        }
        assert_eq!(&deflate_message(b"", 6)[..], [0x00]);
    }
}
