//! permessage-deflate on the WebSocket transport: the setting, the compression of what the
//! server sends (once per broadcast), and the inflating read under tungstenite, which knows
//! nothing of the extension.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, header};
use sio_core::Frame;
use sio_core::permessage_deflate::{
    DeflateAgreement, FrameInflater, InflateError, deflate_message,
};
use tokio::io::{AsyncRead, ReadBuf};

use crate::engine::sync::Mutex;

/// permessage-deflate (RFC 7692) for WebSocket messages, Node's `perMessageDeflate`: off unless
/// set on the builder, as in Node. A client that offers it (browsers and Node's client do)
/// gets messages of at least `threshold` bytes (1 KiB, Node's default) compressed, and may
/// compress its own.
///
/// Each server message is compressed on its own (`server_no_context_takeover`), so a broadcast
/// is compressed once for all its recipients and no connection keeps a compressor. Unless
/// [`client_context_takeover`](Self::client_context_takeover) is set, clients are asked to do
/// the same (`client_no_context_takeover`), and the server then keeps no inflater for a
/// connection between its messages: an idle connection costs nothing more. A compressed
/// message that inflates beyond `max_payload` closes its connection with 1009.
///
/// ```
/// use sio_server::Server;
/// use sio_server::engine::PerMessageDeflate;
///
/// let server = Server::builder()
///     .per_message_deflate(PerMessageDeflate::default().threshold(4096).level(1))
///     .build();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
pub struct PerMessageDeflate {
    threshold: usize,
    level: u32,
    client_context_takeover: bool,
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        PerMessageDeflate {
            threshold: 1024,
            level: 6,
            client_context_takeover: false,
        }
    }
}

impl PerMessageDeflate {
    /// Messages shorter than this many bytes go uncompressed (default 1,024, as Node).
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The compression level, 0 (stored) to 9 (smallest); default 6, zlib's and Node's.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Lets clients compress each message with what they sent before (default: no). Their
    /// messages get smaller, and the server keeps an inflater of about 43 KiB for each such
    /// connection from its first compressed message on.
    pub fn client_context_takeover(mut self, keep: bool) -> Self {
        self.client_context_takeover = keep;
        self
    }
}

/// The engine's compression of WebSocket messages, shared by its sockets.
#[derive(Debug)]
pub(crate) struct Deflater {
    options: PerMessageDeflate,
    /// The last messages compressed, so that the recipients of a broadcast share one
    /// compression (the same bytes reach each of them).
    recent: Mutex<VecDeque<Compressed>>,
}

/// A message and what it compressed to (`None`: compressing it did not make it smaller).
#[derive(Debug)]
struct Compressed {
    text: bool,
    message: Bytes,
    deflated: Option<Bytes>,
}

/// How many compressed messages are remembered.
const RECENT: usize = 4;

/// What the remembered messages other than the last may hold in all: the last one is kept,
/// whatever its size, until another is compressed (a broadcast of any size is compressed once),
/// the others only within this.
const RECENT_BYTES: usize = 4 << 20;

impl Deflater {
    pub(crate) fn new(options: PerMessageDeflate) -> Arc<Self> {
        Arc::new(Deflater {
            options,
            recent: Mutex::new(VecDeque::with_capacity(RECENT)),
        })
    }

    /// The agreement with a client whose handshake has these headers, if it offers the
    /// extension in a form the server honours.
    pub(crate) fn agree(&self, headers: &HeaderMap) -> Option<DeflateAgreement> {
        let offers = headers
            .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|value| value.to_str().ok());
        DeflateAgreement::negotiate(offers, self.options.client_context_takeover)
    }

    /// The inflating read of a socket that agreed to `agreement`, bounded by `max_payload`.
    pub(crate) fn inflating(agreement: &DeflateAgreement, max_payload: usize) -> Box<Inflating> {
        Box::new(Inflating {
            inflater: FrameInflater::new(max_payload, agreement.client_context_takeover()),
            input: BytesMut::new(),
            output: VecDeque::new(),
            untaken: false,
            failed: None,
        })
    }

    /// The payload of a compressed frame for `frame`, if it is long enough to compress and
    /// compressing makes it smaller.
    pub(crate) fn compress(&self, frame: &Frame) -> Option<Bytes> {
        let (text, message) = match frame {
            Frame::Text(text) => (true, text.as_bytes()),
            Frame::Binary(bytes) => (false, bytes),
        };
        if message.len() < self.options.threshold {
            return None;
        }
        // The same bytes (one allocation, which the entry keeps alive) are the same message.
        let same = |entry: &Compressed| {
            entry.text == text
                && entry.message.as_ptr() == message.as_ptr()
                && entry.message.len() == message.len()
        };
        if let Some(entry) = self.recent.lock().iter().find(|entry| same(entry)) {
            return entry.deflated.clone();
        }
        let deflated = deflate_message(message, self.options.level);
        let deflated = (deflated.len() < message.len()).then_some(deflated);
        let mut recent = self.recent.lock();
        recent.push_front(Compressed {
            text,
            message: message.clone(),
            deflated: deflated.clone(),
        });
        let mut held: usize = recent.iter().map(|entry| entry.message.len()).sum();
        while recent.len() > RECENT || (recent.len() > 1 && held > RECENT_BYTES) {
            if let Some(oldest) = recent.pop_back() {
                held -= oldest.message.len();
            }
        }
        deflated
    }
}

/// The read side of a socket with permessage-deflate: the client's raw bytes, rewritten into
/// plain frames for tungstenite. Its buffers are let go whenever they are empty.
#[derive(Debug)]
pub(crate) struct Inflating {
    inflater: FrameInflater,
    /// Raw bytes not yet taken (an incomplete frame header).
    input: BytesMut,
    /// Rewritten bytes tungstenite has yet to read.
    output: VecDeque<Bytes>,
    /// Whether `input` may hold frames not yet rewritten (the inflater stops after each
    /// inflated message, so that one read of compressed input is not inflated all at once).
    untaken: bool,
    /// What the inflater refused, reported once the frames before it are read.
    failed: Option<InflateError>,
}

/// What one read of raw bytes takes at most.
const RAW_READ: usize = 4096;

impl Inflating {
    /// Fills `buf` with the rewritten stream, reading `raw` as needed. A frame the inflater
    /// refuses fails the read with an [`InflateError`] inside the `io::Error`, after the frames
    /// that came before it.
    pub(crate) fn poll_read<R: AsyncRead + Unpin>(
        &mut self,
        raw: &mut R,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if let Some(front) = self.output.front_mut() {
                let n = front.len().min(buf.remaining());
                buf.put_slice(&front.split_to(n));
                if front.is_empty() {
                    self.output.pop_front();
                }
                return Poll::Ready(Ok(()));
            }
            if let Some(error) = self.failed.take() {
                return Poll::Ready(Err(io::Error::other(error)));
            }
            if self.untaken {
                match self.inflater.transcode(&mut self.input, &mut self.output) {
                    Ok(more) => self.untaken = more,
                    Err(error) => {
                        self.untaken = false;
                        self.failed = Some(error);
                    }
                }
                if self.input.is_empty() {
                    self.input = BytesMut::new();
                }
                continue;
            }
            let mut chunk = [0u8; RAW_READ];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut *raw).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                // The end of the input.
                return Poll::Ready(Ok(()));
            }
            self.input.extend_from_slice(read.filled());
            self.untaken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sio_core::Frame;

    use super::{Deflater, PerMessageDeflate};

    #[test]
    fn the_recipients_of_one_message_share_one_compression() {
        let deflater = Deflater::new(PerMessageDeflate::default());
        let message = Frame::Text("x".repeat(4096).into());
        // What each recipient of a broadcast is handed: a clone of one frame.
        let recipients = vec![message.clone(); 3];
        let first = deflater.compress(&recipients[0]).expect("compressed");
        for recipient in &recipients[1..] {
            let again = deflater.compress(recipient).expect("compressed");
            assert_eq!(first.as_ptr(), again.as_ptr(), "compressed once");
        }
        // Equal bytes in another allocation are another message: compressed again, alike.
        let copy = Frame::Text("x".repeat(4096).into());
        let other = deflater.compress(&copy).expect("compressed");
        assert_ne!(first.as_ptr(), other.as_ptr());
        assert_eq!(first, other);
        // Binary with the same bytes is not the text message.
        let Frame::Text(text) = &message else {
            unreachable!()
        };
        let binary = Frame::Binary(text.as_bytes().clone());
        assert_ne!(
            deflater.compress(&binary).expect("compressed").as_ptr(),
            first.as_ptr()
        );
    }

    #[test]
    fn short_or_incompressible_messages_go_plain() {
        let deflater = Deflater::new(PerMessageDeflate::default().threshold(100));
        assert_eq!(deflater.compress(&Frame::Text("y".repeat(99).into())), None);
        assert!(
            deflater
                .compress(&Frame::Text("y".repeat(100).into()))
                .is_some()
        );
        let mut x = 0x9e37_79b9_u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        assert_eq!(deflater.compress(&Frame::Binary(Bytes::from(noise))), None);
    }
}
