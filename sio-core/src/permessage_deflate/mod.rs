//! permessage-deflate (RFC 7692), sans-IO: the negotiation of the extension from a client's
//! offers, the compression of a server message, and the rewriting of a client's frames with
//! their compressed messages inflated.
//!
//! The server always compresses without context takeover (`server_no_context_takeover`): each
//! message stands alone, so a broadcast is compressed once for all its recipients and no
//! connection keeps a compressor. Whether the client keeps its context is the server's choice
//! ([`DeflateAgreement::negotiate`]); when it does not, no connection keeps an inflater between
//! messages either.
//!
//! ```
//! use sio_core::permessage_deflate::{DeflateAgreement, FrameInflater, deflate_message};
//! use std::collections::VecDeque;
//!
//! let agreement =
//!     DeflateAgreement::negotiate(["permessage-deflate; client_max_window_bits"], false).unwrap();
//! assert_eq!(
//!     agreement.response(),
//!     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
//! );
//!
//! // A client's compressed text frame (RSV1 set), masked as clients mask.
//! let compressed = deflate_message(b"hello hello hello", 6);
//! let mask = [1, 2, 3, 4];
//! let mut frame = vec![0xc1, 0x80 | compressed.len() as u8];
//! frame.extend_from_slice(&mask);
//! frame.extend(compressed.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
//!
//! let mut inflater = FrameInflater::new(1 << 20, agreement.client_context_takeover());
//! let mut input = bytes::BytesMut::from(&frame[..]);
//! let mut output = VecDeque::new();
//! let more = inflater.transcode(&mut input, &mut output).unwrap();
//! assert!(!more, "all the input is taken");
//! let plain: Vec<u8> = output.iter().flat_map(|chunk| chunk.iter().copied()).collect();
//! // A plain final text frame, masked with a zero key, of the inflated message.
//! assert_eq!(&plain[..6], [0x81, 0x80 | 17, 0, 0, 0, 0]);
//! assert_eq!(&plain[6..], b"hello hello hello");
//! ```

mod compress;
mod inflate;
mod offer;

pub use compress::deflate_message;
pub use inflate::{FrameInflater, InflateError};
pub use offer::DeflateAgreement;

/// The four bytes a sync flush ends with, which the sender strips from each message and the
/// receiver appends again (RFC 7692, 7.2.1 and 7.2.2).
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
