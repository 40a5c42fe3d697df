//! The frames a client sends, with its compressed messages inflated (RFC 7692, 7.2.2): what
//! comes out is a plain RFC 6455 frame stream, for a WebSocket implementation that knows
//! nothing of the extension to read and check.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};
use thiserror::Error;

use super::SYNC_TAIL;

/// Why a client's input cannot be inflated; the connection closes with
/// [`close_code`](InflateError::close_code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InflateError {
    /// A compressed message inflates (or arrives compressed) beyond the limit.
    #[error("a compressed message beyond {limit} bytes")]
    TooBig {
        /// The limit: the server's maximum payload.
        limit: usize,
    },
    /// A frame breaks the extension's rules.
    #[error("{0}")]
    Protocol(&'static str),
    /// The compressed data is not valid DEFLATE.
    #[error("compressed data that does not inflate")]
    BadData,
}

impl InflateError {
    /// The WebSocket close code for it (RFC 6455, 7.4.1): 1009 too big, 1002 against the
    /// protocol, 1007 data that does not inflate (as Node's `ws` closes).
    pub fn close_code(&self) -> u16 {
        match self {
            InflateError::TooBig { .. } => 1009,
            InflateError::Protocol(_) => 1002,
            InflateError::BadData => 1007,
        }
    }
}

/// Rewrites the frame stream of a client that negotiated permessage-deflate: a compressed
/// message (RSV1 on its first frame) becomes one final frame of the inflated message, masked
/// with a zero key; every other frame passes unchanged, byte for byte, for the WebSocket layer
/// above to check as it checks any frame. ([`for_client`](Self::for_client) reads a server's
/// frames alike, unmasked.)
///
/// Inflating stops at `limit` bytes ([`InflateError::TooBig`]), so a message that inflates
/// to gigabytes costs `limit`, no more; and [`transcode`](Self::transcode) stops after each
/// inflated message, so what it hands on at once is one message, not all that a read of
/// highly compressed input holds. The inflater exists only while a compressed message arrives,
/// unless the client takes its context over.
#[derive(Debug)]
pub struct FrameInflater {
    limit: usize,
    keep_context: bool,
    /// Whether the frames come from a client (masked) rather than a server (unmasked).
    from_client: bool,
    step: Step,
    message: Message,
    inflater: Option<Decompress>,
}

/// Where the input stands.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// At the start of a frame.
    Header,
    /// Within the payload of a frame passed on as it is: bytes left.
    Pass(u64),
    /// Within the payload of a compressed message's frame.
    Inflate {
        left: u64,
        mask: [u8; 4],
        /// Bytes of this frame's payload unmasked so far, modulo 4.
        at: usize,
        fin: bool,
    },
}

/// The data message under way, if it is fragmented or compressed.
#[derive(Debug)]
enum Message {
    None,
    /// A fragmented plain message: its continuations pass on.
    Plain,
    /// A compressed message: its opcode, what it inflated to so far, and the compressed bytes
    /// it took.
    Compressed {
        opcode: u8,
        inflated: Vec<u8>,
        compressed: u64,
        /// The DEFLATE stream ended (a final block): the rest is ignored.
        ended: bool,
    },
}

/// A frame header as the client sent it.
struct Header {
    len: usize,
    fin: bool,
    rsv1: bool,
    rsv23: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: u64,
}

/// What one call to the inflater writes at most, on the stack.
const CHUNK: usize = 8 * 1024;

impl FrameInflater {
    /// An inflater for messages of at most `limit` bytes, keeping its context between
    /// messages if `keep_context` (the client takes its context over).
    pub fn new(limit: usize, keep_context: bool) -> Self {
        FrameInflater {
            limit,
            keep_context,
            from_client: true,
            step: Step::Header,
            message: Message::None,
            inflater: None,
        }
    }

    /// The same for a client reading a server's frames, which are not masked (a load
    /// generator, a test): the frames it writes are not masked either.
    pub fn for_client(limit: usize, keep_context: bool) -> Self {
        FrameInflater {
            from_client: false,
            ..FrameInflater::new(limit, keep_context)
        }
    }

    /// Whether an inflater (tens of KiB) is held right now.
    pub fn holds_inflater(&self) -> bool {
        self.inflater.is_some()
    }

    /// Takes what it can of `input` (the client's raw bytes; an incomplete frame header stays)
    /// and appends the rewritten stream to `output`. Returns `true` when it stopped after an
    /// inflated message with input left: call it again once `output` is read (it may then find
    /// only an incomplete header, and produce nothing).
    pub fn transcode(
        &mut self,
        input: &mut BytesMut,
        output: &mut VecDeque<Bytes>,
    ) -> Result<bool, InflateError> {
        loop {
            match self.step {
                Step::Header => {
                    let Some(header) = parse_header(input) else {
                        return Ok(false);
                    };
                    self.start_frame(header, input, output)?;
                }
                Step::Pass(left) => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    let n = usize::try_from(left).map_or(input.len(), |left| left.min(input.len()));
                    output.push_back(input.split_to(n).freeze());
                    let left = left - n as u64;
                    self.step = if left == 0 {
                        Step::Header
                    } else {
                        Step::Pass(left)
                    };
                }
                Step::Inflate {
                    left,
                    mask,
                    at,
                    fin,
                } => {
                    if left > 0 && input.is_empty() {
                        return Ok(false);
                    }
                    let n = usize::try_from(left).map_or(input.len(), |left| left.min(input.len()));
                    let mut chunk = input.split_to(n);
                    if mask != [0; 4] {
                        for (i, byte) in chunk.iter_mut().enumerate() {
                            *byte ^= mask[(at + i) % 4];
                        }
                    }
                    self.inflate(&chunk, FlushDecompress::None)?;
                    let left = left - n as u64;
                    if left > 0 {
                        self.step = Step::Inflate {
                            left,
                            mask,
                            at: (at + n) % 4,
                            fin,
                        };
                        continue;
                    }
                    self.step = Step::Header;
                    if fin {
                        self.finish_message(output)?;
                        if !input.is_empty() {
                            return Ok(true);
                        }
                    }
                }
            }
        }
    }

    /// Decides what to do with the frame whose header is at the front of `input`.
    fn start_frame(
        &mut self,
        header: Header,
        input: &mut BytesMut,
        output: &mut VecDeque<Bytes>,
    ) -> Result<(), InflateError> {
        if header.rsv23 {
            return Err(InflateError::Protocol(
                "RSV2 or RSV3 set: no extension defines them",
            ));
        }
        let compressed = match (header.opcode, &self.message) {
            (0x8..=0xf, _) if header.rsv1 => {
                return Err(InflateError::Protocol("RSV1 set on a control frame"));
            }
            (0x0, _) if header.rsv1 => {
                return Err(InflateError::Protocol("RSV1 set on a continuation frame"));
            }
            (0x0, Message::Compressed { .. }) => true,
            (0x0, Message::Plain) => {
                if header.fin {
                    self.message = Message::None;
                }
                false
            }
            (0x1 | 0x2, Message::Plain | Message::Compressed { .. }) => {
                return Err(InflateError::Protocol(
                    "a new message before the fragmented one ended",
                ));
            }
            (0x1 | 0x2, Message::None) if header.rsv1 => {
                self.message = Message::Compressed {
                    opcode: header.opcode,
                    inflated: Vec::new(),
                    compressed: 0,
                    ended: false,
                };
                true
            }
            (0x1 | 0x2, Message::None) => {
                if !header.fin {
                    self.message = Message::Plain;
                }
                false
            }
            // Control frames, a continuation of nothing, reserved opcodes: the layer above
            // checks them.
            _ => false,
        };
        if !compressed {
            output.push_back(input.split_to(header.len).freeze());
            self.step = if header.payload == 0 {
                Step::Header
            } else {
                Step::Pass(header.payload)
            };
            return Ok(());
        }
        let mask = match (header.mask, self.from_client) {
            (Some(mask), true) => mask,
            (None, false) => [0; 4],
            (None, true) => {
                return Err(InflateError::Protocol("an unmasked frame from the client"));
            }
            (Some(_), false) => {
                return Err(InflateError::Protocol("a masked frame from the server"));
            }
        };
        if let Message::Compressed { compressed, .. } = &mut self.message {
            *compressed = compressed.saturating_add(header.payload);
            if *compressed > self.limit as u64 {
                return Err(InflateError::TooBig { limit: self.limit });
            }
        }
        input.advance(header.len);
        self.step = Step::Inflate {
            left: header.payload,
            mask,
            at: 0,
            fin: header.fin,
        };
        Ok(())
    }

    /// Inflates `data` (unmasked) into the message under way, within the limit.
    fn inflate(&mut self, mut data: &[u8], flush: FlushDecompress) -> Result<(), InflateError> {
        let Message::Compressed {
            inflated, ended, ..
        } = &mut self.message
        else {
            return Ok(());
        };
        if *ended {
            return Ok(());
        }
        let inflater = self.inflater.get_or_insert_with(|| Decompress::new(false));
        let mut buffer = [0u8; CHUNK];
        loop {
            let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
            let status = inflater
                .decompress(data, &mut buffer, flush)
                .map_err(|_| InflateError::BadData)?;
            let consumed = (inflater.total_in() - before_in) as usize;
            let produced = (inflater.total_out() - before_out) as usize;
            let needed = inflated.len() + produced;
            if needed > self.limit {
                return Err(InflateError::TooBig { limit: self.limit });
            }
            // Doubling, but never past the limit: the message never holds more than `limit`.
            if needed > inflated.capacity() {
                let capacity = inflated
                    .capacity()
                    .saturating_mul(2)
                    .clamp(needed, self.limit);
                inflated.reserve_exact(capacity - inflated.len());
            }
            inflated.extend_from_slice(&buffer[..produced]);
            data = &data[consumed..];
            if status == Status::StreamEnd {
                *ended = true;
                return Ok(());
            }
            // Done once the input is in and the output did not fill the buffer (else more
            // may wait inside the inflater).
            if data.is_empty() && produced < CHUNK {
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                return Err(InflateError::BadData);
            }
        }
    }

    /// The compressed message is complete: it goes out as one plain frame.
    fn finish_message(&mut self, output: &mut VecDeque<Bytes>) -> Result<(), InflateError> {
        self.inflate(&SYNC_TAIL, FlushDecompress::Sync)?;
        let Message::Compressed {
            opcode,
            inflated,
            ended,
            ..
        } = std::mem::replace(&mut self.message, Message::None)
        else {
            return Ok(());
        };
        // A stream that ended cannot go on; without context takeover nothing is kept.
        if ended || !self.keep_context {
            self.inflater = None;
        }
        output.push_back(plain_header(opcode, inflated.len(), self.from_client));
        if !inflated.is_empty() {
            output.push_back(Bytes::from(inflated));
        }
        Ok(())
    }
}

/// The header at the front of `input`, once all of it has arrived (RFC 6455, 5.2).
fn parse_header(input: &[u8]) -> Option<Header> {
    let [first, second, ..] = *input else {
        return None;
    };
    let masked = second & 0x80 != 0;
    let (payload, mut len) = match second & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(input.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(input.get(2..10)?.try_into().ok()?), 10),
        short => (u64::from(short), 2),
    };
    let mask = if masked {
        let mask = input.get(len..len + 4)?.try_into().ok()?;
        len += 4;
        Some(mask)
    } else {
        None
    };
    Some(Header {
        len,
        fin: first & 0x80 != 0,
        rsv1: first & 0x40 != 0,
        rsv23: first & 0x30 != 0,
        opcode: first & 0x0f,
        mask,
        payload,
    })
}

/// The header of a final, plain frame of `len` bytes; a client's is masked with a zero key
/// (the layer above wants client frames masked; a zero key leaves the payload as it is).
fn plain_header(opcode: u8, len: usize, masked: bool) -> Bytes {
    let mask_bit = if masked { 0x80 } else { 0 };
    let mut header = Vec::with_capacity(14);
    header.push(0x80 | opcode);
    if len < 126 {
        header.push(mask_bit | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        header.push(mask_bit | 126);
        header.extend_from_slice(&len.to_be_bytes());
    } else {
        header.push(mask_bit | 127);
        header.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if masked {
        header.extend_from_slice(&[0; 4]);
    }
    Bytes::from(header)
}

#[cfg(test)]
mod tests;
